/* Address helpers of the topology language (src/topo/addr.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "topo/addr.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static void test_cidr_parse_accepts(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		bool require_prefix;
		int family, prefixlen;
		const char *formatted;
	} cases[] = {
		{ "192.168.0.1/24", true, AF_INET, 24, "192.168.0.1/24" },
		{ "10.0.0.0/0", true, AF_INET, 0, "10.0.0.0/0" },
		{ "10.0.0.1/32", true, AF_INET, 32, "10.0.0.1/32" },
		{ "fd00::1/64", true, AF_INET6, 64, "fd00::1/64" },
		{ "FD00:0:0::0001/64", true, AF_INET6, 64, "fd00::1/64" },
		{ "::/0", true, AF_INET6, 0, "::/0" },
		{ "fd00::1/128", true, AF_INET6, 128, "fd00::1/128" },
		/* a bare address is a host prefix when no prefix is required */
		{ "10.0.0.1", false, AF_INET, 32, "10.0.0.1/32" },
		{ "fd00::1", false, AF_INET6, 128, "fd00::1/128" },
		{ "fe80::1", false, AF_INET6, 128, "fe80::1/128" },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct topo_cidr c;
		char why[160] = "", buf[80];
		if (cidr_parse(cases[i].in, cases[i].require_prefix, &c, why, sizeof(why)) != 0)
			fail_msg("cidr_parse(\"%s\") failed: %s", cases[i].in, why);
		assert_int_equal(c.family, cases[i].family);
		assert_int_equal(c.prefixlen, cases[i].prefixlen);
		cidr_format(&c, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].formatted);
	}
}

static void test_cidr_parse_rejects(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		bool require_prefix;
		const char *why;
	} cases[] = {
		{ "10.0.0.1/33", true, "prefix length /33 is out of range for IPv4 (0..32)" },
		{ "fd00::1/129", true, "prefix length /129 is out of range for IPv6 (0..128)" },
		{ "10.0.0.1/33", false, "/33 is out of range" },
		{ "junk", true, "'junk' is not an IPv4 or IPv6 address" },
		{ "junk/24", false, "'junk' is not an IPv4 or IPv6 address" },
		{ "", false, "is not an IPv4 or IPv6 address" },
		{ "10.1/16", true, "not an IPv4 or IPv6 address" },
		{ "10.0.0.256/24", true, "not an IPv4 or IPv6 address" },
		{ "fd00:::1/64", true, "not an IPv4 or IPv6 address" },
		{ "10.0.0.1", true, "'10.0.0.1' needs a prefix length, e.g. 10.0.0.1/24" },
		{ "fd00::1", true, "needs a prefix length, e.g. fd00::1/64" },
		{ "10.0.0.1/", true, "no valid prefix length" },
		{ "10.0.0.1/x", true, "no valid prefix length" },
		{ "10.0.0.1/24x", true, "no valid prefix length" },
		{ "10.0.0.1/24/8", true, "no valid prefix length" },
		{ "10.0.0.1/-0", true, "no valid prefix length" },
		{ "10.0.0.1/+24", true, "no valid prefix length" },
		{ "10.0.0.1/99999999999999999999", true, "" },
		{ "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd/64", true,
		  "is too long to be an address" },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct topo_cidr c;
		char why[160] = "";
		if (cidr_parse(cases[i].in, cases[i].require_prefix, &c, why, sizeof(why)) == 0)
			fail_msg("cidr_parse(\"%s\") accepted it (prefix /%d)", cases[i].in, c.prefixlen);
		if (!strstr(why, cases[i].why) || !why[0])
			fail_msg("cidr_parse(\"%s\"): reason \"%s\" lacks \"%s\"", cases[i].in, why, cases[i].why);
	}
}

/* strtol() skips leading blanks, but a prefix of " 24" is junk like "x24":
 * `ip eth0 "10.0.0.1/ 24"` must not be accepted as /24. */
static void test_cidr_prefix_with_blank(void **state)
{
	(void)state;
	static const char *const cases[] = { "10.0.0.1/ 24", "10.0.0.1/\t24", "fd00::1/ 64" };

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct topo_cidr c;
		char why[160] = "";
		if (cidr_parse(cases[i], true, &c, why, sizeof(why)) == 0)
			fail_msg("cidr_parse(\"%s\") accepted it as /%d", cases[i], c.prefixlen);
		assert_non_null(strstr(why, "no valid prefix length"));
	}
}

static struct topo_cidr cidr(const char *s)
{
	struct topo_cidr c;
	char why[160];

	if (cidr_parse(s, false, &c, why, sizeof(why)) != 0)
		fail_msg("bad test CIDR %s: %s", s, why);
	return c;
}

static void test_cidr_contains(void **state)
{
	(void)state;
	static const struct {
		const char *net, *addr;
		bool in;
	} cases[] = {
		{ "10.0.0.0/24", "10.0.0.255", true },
		{ "10.0.0.0/24", "10.0.1.0", false },
		{ "10.0.0.1/24", "10.0.0.77", true }, /* host bits of the net do not matter */
		{ "10.0.0.0/25", "10.0.0.127", true },
		{ "10.0.0.0/25", "10.0.0.128", false },
		{ "10.0.0.0/31", "10.0.0.1", true },
		{ "10.0.0.1/32", "10.0.0.1", true },
		{ "10.0.0.1/32", "10.0.0.2", false },
		{ "0.0.0.0/0", "203.0.113.9", true },
		{ "10.0.0.0/8", "11.0.0.0", false },
		{ "fd00::/64", "fd00::ffff", true },
		{ "fd00::/64", "fd00:0:0:1::", false },
		{ "fe80::/10", "febf::1", true },
		{ "fe80::/10", "fec0::1", false },
		{ "::/0", "2001:db8::1", true },
		{ "fd00::1/128", "fd00::1", true },
		{ "fd00::1/128", "fd00::2", false },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct topo_cidr n = cidr(cases[i].net);
		struct topo_cidr a = cidr(cases[i].addr);
		if (cidr_contains(&n, a.family, a.addr) != cases[i].in)
			fail_msg("cidr_contains(%s, %s) should be %s", cases[i].net, cases[i].addr,
				 cases[i].in ? "true" : "false");
	}
	/* Never across IP versions, even for /0. */
	struct topo_cidr any4 = cidr("0.0.0.0/0"), any6 = cidr("::/0"), v4 = cidr("10.0.0.1"), v6 = cidr("::a00:1");
	assert_false(cidr_contains(&any4, AF_INET6, v6.addr));
	assert_false(cidr_contains(&any6, AF_INET, v4.addr));
}

static void test_cidr_has_host_bits(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		bool host_bits;
		const char *net;
	} cases[] = {
		{ "10.0.0.0/24", false, "10.0.0.0/24" },
		{ "10.0.0.1/24", true, "10.0.0.0/24" },
		{ "10.2.0.1/16", true, "10.2.0.0/16" },
		{ "10.0.0.128/25", false, "10.0.0.128/25" },
		{ "10.0.0.129/25", true, "10.0.0.128/25" },
		{ "10.0.0.1/32", false, "10.0.0.1/32" },
		{ "0.0.0.0/0", false, "0.0.0.0/0" },
		{ "1.2.3.4/0", true, "0.0.0.0/0" },
		{ "fd00::1/64", true, "fd00::/64" },
		{ "fd00::/64", false, "fd00::/64" },
		{ "fd00:2::1/127", true, "fd00:2::/127" },
		{ "fd00:2::1/128", false, "fd00:2::1/128" },
		{ "fd00:ab:cd::/36", true, "fd00:ab::/36" },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct topo_cidr c = cidr(cases[i].in), net;
		char buf[80];
		memset(&net, 0xAA, sizeof(net));
		if (cidr_has_host_bits(&c, &net) != cases[i].host_bits)
			fail_msg("cidr_has_host_bits(%s) should be %s", cases[i].in, cases[i].host_bits ? "true" : "false");
		cidr_format(&net, buf, sizeof(buf));
		if (strcmp(buf, cases[i].net) != 0)
			fail_msg("network of %s: want %s, got %s", cases[i].in, cases[i].net, buf);
		/* net may be NULL */
		assert_int_equal(cidr_has_host_bits(&c, NULL), cases[i].host_bits);
	}
}

static void test_addr_parse_and_format(void **state)
{
	(void)state;
	uint8_t a[16];
	int fam = 0;
	char buf[64];

	assert_int_equal(addr_parse("10.0.0.1", &fam, a), 0);
	assert_int_equal(fam, AF_INET);
	addr_format(fam, a, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.1");
	assert_int_equal(addr_parse("FD00:0::0:1", &fam, a), 0);
	assert_int_equal(fam, AF_INET6);
	addr_format(fam, a, buf, sizeof(buf));
	assert_string_equal(buf, "fd00::1");
	assert_int_equal(addr_parse("10.0.0.1/24", &fam, a), -1);
	assert_int_equal(addr_parse("", &fam, a), -1);
	assert_int_equal(addr_parse("web1", &fam, a), -1);
	assert_int_equal(addr_parse("[fd00::1]", &fam, a), -1);

	assert_int_equal(addr_len(AF_INET), 4);
	assert_int_equal(addr_len(AF_INET6), 16);
}

static void test_addr_equal(void **state)
{
	(void)state;
	struct topo_cidr a = cidr("10.0.0.1"), b = cidr("10.0.0.1"), c = cidr("10.0.0.2");
	struct topo_cidr x = cidr("fd00::1"), y = cidr("fd00:0:0:0:0:0:0:1"), z = cidr("fd00::1:0");

	assert_true(addr_equal(AF_INET, a.addr, b.addr));
	assert_false(addr_equal(AF_INET, a.addr, c.addr));
	assert_true(addr_equal(AF_INET6, x.addr, y.addr));
	assert_false(addr_equal(AF_INET6, x.addr, z.addr));
}

static void test_v6_linklocal(void **state)
{
	(void)state;
	static const struct {
		const char *addr;
		bool ll;
	} cases[] = {
		{ "fe80::1", true }, { "fe80::", true },  { "febf:ffff::1", true }, { "fec0::1", false },
		{ "fe7f::1", false }, { "fd00::1", false }, { "::1", false },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct topo_cidr c = cidr(cases[i].addr);
		if (addr_is_v6_linklocal(c.addr) != cases[i].ll)
			fail_msg("addr_is_v6_linklocal(%s) should be %s", cases[i].addr, cases[i].ll ? "true" : "false");
	}
}

static void test_format_truncates_safely(void **state)
{
	(void)state;
	struct topo_cidr c = cidr("fd00:1234:5678::1/64");
	char buf[8];

	memset(buf, 'X', sizeof(buf));
	cidr_format(&c, buf, sizeof(buf));
	assert_int_equal(buf[sizeof(buf) - 1], '\0');
	assert_true(strlen(buf) < sizeof(buf));
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_parse_accepts),
		cmocka_unit_test(test_cidr_parse_rejects),
		cmocka_unit_test(test_cidr_prefix_with_blank),
		cmocka_unit_test(test_cidr_contains),
		cmocka_unit_test(test_cidr_has_host_bits),
		cmocka_unit_test(test_addr_parse_and_format),
		cmocka_unit_test(test_addr_equal),
		cmocka_unit_test(test_v6_linklocal),
		cmocka_unit_test(test_format_truncates_safely),
	};
	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
