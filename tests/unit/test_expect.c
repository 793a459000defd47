/* `expect` statements: the model they fill, their ranges, and what the
 * parser and the validator refuse; the lab-wide checks of validate_lab.c
 * and the link options burst/limit/capture. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "topo/addr.h"
#include "topo_test.h"

#define LAB                                                                                                \
	"switch lan\nnode c1\n ip eth0 10.0.0.1/24\n ip eth0 fd00::1/64\nnode srv\n ip eth0 10.0.0.2/24\n" \
	" ip eth0 fd00::2/64\nlink c1:eth0 lan\nlink srv:eth0 lan\n"

static void test_reach_forms(void **state)
{
	(void)state;
	struct checked c;

	check_valid(LAB "expect c1 reach srv\n"
			"expect c1 noreach srv:eth0 tcp 22 v6 within 2.5\n"
			"expect c1 reach 10.0.0.2 within 500ms\n",
		    &c);
	assert_int_equal(c.t->expects.n, 3);
	const struct topo_expect *e = c.t->expects.v;
	assert_int_equal(e[0].kind, TOPO_EXPECT_REACH);
	assert_string_equal(e[0].node, "c1");
	assert_int_equal(e[0].dst_kind, TOPO_DST_NODE);
	assert_string_equal(e[0].dst, "srv");
	assert_int_equal(e[0].port, 0);
	assert_int_equal(e[0].family, 0);
	assert_int_equal(e[0].within_ms, 0);
	assert_string_equal(e[0].text, "c1 reach srv");
	assert_int_equal(e[0].pos.line, 10);

	assert_int_equal(e[1].kind, TOPO_EXPECT_NOREACH);
	assert_int_equal(e[1].dst_kind, TOPO_DST_IFACE);
	assert_string_equal(e[1].dst, "srv");
	assert_string_equal(e[1].dst_if, "eth0");
	assert_int_equal(e[1].port, 22);
	assert_int_equal(e[1].family, AF_INET6);
	assert_int_equal(e[1].within_ms, 2500);
	assert_string_equal(e[1].text, "c1 noreach srv:eth0 tcp 22 v6 within 2.5");

	assert_int_equal(e[2].dst_kind, TOPO_DST_ADDR);
	assert_int_equal(e[2].addr.family, AF_INET);
	assert_int_equal(e[2].within_ms, 500);
	checked_free(&c);
}

static void test_exec_and_route(void **state)
{
	(void)state;
	struct checked c;

	check_valid(LAB "expect srv exec test -f \"/tmp/a b\" && echo {x}\n"
			"expect srv exec within 3 true\n"
			"expect c1 route 10.0.0.0/24\n"
			"expect c1 route default via fd00::2 within 1\n"
			"expect c1 route default\n",
		    &c);
	const struct topo_expect *e = c.t->expects.v;
	assert_int_equal(c.t->expects.n, 5);
	assert_int_equal(e[0].kind, TOPO_EXPECT_EXEC);
	/* The command as written, quotes and braces kept, as for `exec`. */
	assert_string_equal(e[0].cmd, "test -f \"/tmp/a b\" && echo {x}");
	assert_string_equal(e[0].text, "srv exec test -f \"/tmp/a b\" && echo {x}");
	assert_int_equal(e[1].within_ms, 3000);
	assert_string_equal(e[1].cmd, "true");
	assert_int_equal(e[2].kind, TOPO_EXPECT_ROUTE);
	assert_int_equal(e[2].prefix.prefixlen, 24);
	assert_false(e[2].has_via);
	assert_int_equal(e[3].prefix.family, AF_INET6);
	assert_int_equal(e[3].prefix.prefixlen, 0);
	assert_true(e[3].has_via);
	assert_int_equal(e[4].prefix.family, AF_INET);
	checked_free(&c);
}

static void test_ranges(void **state)
{
	(void)state;
	struct checked c;

	check_valid("switch lan\nnode h[1..3]\n ip eth0 10.0.0.{i}/24\nlink h[1..3]:eth0 lan\n"
		    "expect h[1..3] reach h{i%3+1}\n"
		    "expect h[1..2] reach h[2..3]:eth0\n"
		    "expect h1 noreach 10.0.1.[1..2]\n",
		    &c);
	const struct topo_expect *e = c.t->expects.v;
	assert_int_equal(c.t->expects.n, 7);
	assert_string_equal(e[0].text, "h1 reach h2");
	assert_string_equal(e[2].text, "h3 reach h1");
	assert_string_equal(e[3].text, "h1 reach h2:eth0");
	assert_string_equal(e[4].text, "h2 reach h3:eth0");
	char buf[64];
	addr_format(AF_INET, e[6].addr.addr, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.1.2");
	/* Every expansion points at the statement as written. */
	assert_int_equal(e[4].pos.line, 6);
	checked_free(&c);
}

static void test_link_options(void **state)
{
	(void)state;
	struct checked c;

	check_valid("switch s\nnode a\nnode b\n"
		    "link a:eth0 s rate 20mbit burst 64k limit 1M capture\n"
		    "link a:eth1 b:eth1 capture delay 10ms limit 100k loss 1%\n",
		    &c);
	const struct topo_link *l = c.t->links.v;
	assert_int_equal(l[0].rate_bps, 20000000);
	assert_int_equal(l[0].burst_bytes, 65536);
	assert_int_equal(l[0].limit_bytes, 1048576);
	assert_true(l[0].capture);
	assert_true(l[1].capture);
	assert_int_equal(l[1].delay_us, 10000);
	assert_int_equal(l[1].limit_bytes, 102400);
	assert_int_equal(l[1].loss_ppm, 10000);
	checked_free(&c);
}

/* Warnings: the file is valid, and exactly this warning is given. */
static void assert_one_warning_at(const char *src, int line, int col, const char *substr)
{
	struct checked c;

	check_text(src, &c);
	const struct diag *w = first_of_level(&c.d, DIAG_WARNING);
	bool ok = c.d.nerrors == 0 && c.d.nwarnings == 1 && w && w->pos.line == line && w->pos.col == col &&
		  strstr(w->msg, substr);
	if (!ok)
		report_mismatch(&c, src, substr);
	checked_free(&c);
	assert_true(ok);
}

static void test_lab_warnings(void **state)
{
	(void)state;
	assert_one_warning_at(LAB "node x\n ip eth0 10.0.0.9/24\n route default via 10.0.0.254\nlink x:eth0 lan\n", 12,
			      20, "gateway 10.0.0.254 is no address of any node in the lab");
	/* One warning for thirty routes through the same router. */
	assert_one_warning_at("switch a\nswitch b\nnode r\n ip eth0 10.0.0.1/24\n ip eth1 10.1.0.1/24\n"
			      "node h[1..30]\n ip eth0 10.0.0.{i+1}/24\n route default via 10.0.0.1\n"
			      "link r:eth0 a\nlink r:eth1 b\nlink h[1..30]:eth0 a\n",
			      8, 20, "gateway 10.0.0.1 is node 'r', which does not forward");
	/* A host route to the gateway's own loopback needs no forwarding. */
	assert_valid("switch a\nswitch b\nnode r\n ip eth0 10.0.0.1/24\n ip eth1 10.1.0.1/24\n ip lo 10.9.9.9/32\n"
		     "node h\n ip eth0 10.0.0.2/24\n route 10.9.9.9/32 via 10.0.0.1\nlink r:eth0 a\nlink r:eth1 b\n"
		     "link h:eth0 a\n");
	assert_one_warning_at("node fw\n ip eth0 10.0.0.1/24\n firewall policy forward drop\nnode b\nlink fw:eth0 b:eth0\n",
			      3, 2, "node 'fw' has 'firewall forward' rules but does not forward");
	assert_one_warning_at("node a\n ip eth0 fd00::1/64\n route default dev eth0\nnode b\nlink a:eth0 b:eth0\n", 3,
			      2, "'route default dev eth0' is the IPv4 default route");
}

static const struct diag_case error_cases[] = {
	{ "expectation without destination", LAB "expect c1 reach\n", 10, 17, "'reach' needs a destination" },
	{ "destination with a prefix", LAB "expect c1 reach 10.0.0.0/24\n", 10, 17, "write an address without prefix" },
	{ "tcp without port", LAB "expect c1 reach srv tcp\n", 10, 25, "'tcp' needs a value" },
	{ "port 0", LAB "expect c1 reach srv tcp 0\n", 10, 25, "port" },
	{ "v4 and v6", LAB "expect c1 reach srv v4 v6\n", 10, 24, "given twice (or both v4 and v6)" },
	{ "within 0", LAB "expect c1 reach srv within 0\n", 10, 28, "bad time '0' after 'within'" },
	{ "within over an hour", LAB "expect c1 reach srv within 3601\n", 10, 28, "bad time" },
	{ "undefined source, nearest", LAB "expect c2 reach srv\n", 10, 8, "undefined node 'c2'; did you mean 'c1'?" },
	{ "host as source", LAB "link c1:eth1 host:h0\nexpect host reach srv\n", 11, 8,
	  "'host' cannot run expectations" },
	{ "route gateway of the other family", LAB "expect c1 route 10.0.0.0/8 via fd00::2\n", 10, 32,
	  "gateway fd00::2 is IPv6 but the prefix is IPv4" },
	{ "route with unknown option", LAB "expect c1 route 10.0.0.0/8 dev eth0\n", 10, 28,
	  "unknown expect route option 'dev'" },
	{ "range lengths differ", LAB "node h[1..2]\nexpect h[1..2] reach c[1..3]\n", 11, 23,
	  "ranges on one statement must have the same length" },
	{ "interface without address",
	  "switch lan\nnode a\n ip eth0 10.0.0.1/24\nnode b\n ip eth0 10.0.0.2/24\n"
	  "link a:eth0 lan\nlink b:eth0 lan\nlink b:eth1 a:eth1\nexpect a reach b:eth1\n",
	  9, 16, "interface b:eth1 has no address in the topology to try" },
	{ "limit without rate or delay", "switch s\nnode a\nlink a:eth0 s loss 1% limit 64k\n", 3, 29,
	  "'limit' sizes the queue of a 'rate' or 'delay'" },
};

static void test_errors(void **state)
{
	(void)state;
	assert_int_equal(run_diag_table("expect errors", error_cases, N_ELEMS(error_cases)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reach_forms),  cmocka_unit_test(test_exec_and_route),
		cmocka_unit_test(test_ranges),	     cmocka_unit_test(test_link_options),
		cmocka_unit_test(test_lab_warnings), cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
