/* Firewall rules without the kernel: which x_tables rules a topology's
 * statements become (families, reject split, NAT chains, comments) and
 * the layout of the entries handed to libiptc. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <libiptc/libip6tc.h>
#include <libiptc/libiptc.h>
#include <netinet/in.h>
#include <string.h>

#include "net/iptc.h"
#include "plan/firewall.h"
#include "topo_test.h"

static const char *const src =
	"lab fwtest\n"
	"switch s\n"
	"node r\n"
	"    ip eth0 10.0.0.1/24\n"
	"    ip eth0 fd00::1/64\n"
	"    ip eth1 203.0.113.1/24\n"
	"    firewall policy input drop\n"
	"    firewall input accept state established,related\n"
	"    firewall input accept proto tcp dport 8080 src 10.0.0.2\n"
	"    firewall input reject\n"
	"    firewall forward accept proto icmpv6\n"
	"    nat masquerade eth1\n"
	"    nat dnat eth1 tcp 8080 10.0.0.2:80\n"
	"link r:eth0 s\n"
	"link r:eth1 s\n";

static void test_ruleset(void **state)
{
	(void)state;
	struct checked c;
	struct fw_ruleset rs;

	check_valid(src, &c);
	assert_int_equal(fw_ruleset_build(c.t, topo_find_node(c.t, "r"), "fwtest", &rs, NULL), 0);
	/* established: v4+v6; tcp from a v4 source: v4; reject: tcp+other for
	 * v4 and v6; icmpv6: v6; masquerade; dnat. */
	static const struct {
		int family;
		const char *table, *chain;
		int line, proto;
		enum nlab_ipt_target target;
	} want[] = {
		{ AF_INET, "filter", "INPUT", 8, 0, NLAB_IPT_ACCEPT },
		{ AF_INET6, "filter", "INPUT", 8, 0, NLAB_IPT_ACCEPT },
		{ AF_INET, "filter", "INPUT", 9, IPPROTO_TCP, NLAB_IPT_ACCEPT },
		{ AF_INET, "filter", "INPUT", 10, IPPROTO_TCP, NLAB_IPT_REJECT },
		{ AF_INET, "filter", "INPUT", 10, 0, NLAB_IPT_REJECT },
		{ AF_INET6, "filter", "INPUT", 10, IPPROTO_TCP, NLAB_IPT_REJECT },
		{ AF_INET6, "filter", "INPUT", 10, 0, NLAB_IPT_REJECT },
		{ AF_INET6, "filter", "FORWARD", 11, IPPROTO_ICMPV6, NLAB_IPT_ACCEPT },
		{ AF_INET, "nat", "POSTROUTING", 12, 0, NLAB_IPT_MASQUERADE },
		{ AF_INET, "nat", "PREROUTING", 13, IPPROTO_TCP, NLAB_IPT_DNAT },
	};
	assert_int_equal(rs.n, N_ELEMS(want));
	for (size_t i = 0; i < rs.n; i++) {
		const struct fw_rule *r = &rs.rules[i];
		assert_int_equal(r->r.family, want[i].family);
		assert_string_equal(r->table, want[i].table);
		assert_string_equal(r->chain, want[i].chain);
		assert_int_equal(r->line, want[i].line);
		assert_int_equal(r->r.proto, want[i].proto);
		assert_int_equal(r->r.target, want[i].target);
		assert_ptr_equal(r->r.comment, r->comment);
		assert_int_equal(fw_comment_line(r->comment), want[i].line);
		assert_true(strncmp(r->comment, "netlab:fwtest ", 14) == 0);
	}
	/* The reset only where the protocol is TCP. */
	assert_true(rs.rules[3].r.reject_tcp_reset);
	assert_false(rs.rules[4].r.reject_tcp_reset);
	assert_int_equal(rs.rules[9].r.dport_lo, 8080);
	assert_int_equal(rs.rules[9].r.to_port, 80);
	assert_string_equal(rs.rules[9].r.in, "eth1");
	assert_string_equal(rs.rules[8].r.out, "eth1");
	assert_int_equal(rs.npolicies, 2);
	assert_string_equal(rs.policies[0].chain, "INPUT");
	assert_false(rs.policies[0].accept);
	fw_ruleset_free(&rs);
	checked_free(&c);
}

static void test_entry_layout(void **state)
{
	(void)state;
	_Alignas(8) uint8_t buf[1024];
	struct nlab_ipt_rule r = { .family = AF_INET, .proto = IPPROTO_TCP, .dport_lo = 80, .has_src = true,
				   .src = { 10, 0, 0, 0 }, .src_len = 24, .in = "eth0", .ct_state = NLAB_CT_NEW,
				   .comment = "netlab:x a.topo:7", .target = NLAB_IPT_REJECT, .reject_tcp_reset = true };
	long n = nlab_ipt_build(&r, buf, sizeof(buf), NULL);

	assert_true(n > 0);
	const struct ipt_entry *e = (const void *)buf;
	assert_int_equal(e->next_offset, n);
	assert_true(e->target_offset > sizeof(*e));
	assert_int_equal(e->ip.proto, IPPROTO_TCP);
	assert_int_equal(((const uint8_t *)&e->ip.smsk)[2], 0xff);
	assert_int_equal(((const uint8_t *)&e->ip.smsk)[3], 0);
	assert_string_equal(e->ip.iniface, "eth0");
	assert_int_equal(e->ip.iniface_mask[4], 0xff);
	assert_int_equal(e->ip.iniface_mask[5], 0);
	const struct xt_entry_target *t = (const void *)(buf + e->target_offset);
	assert_string_equal(t->u.user.name, "REJECT");
	assert_int_equal(e->target_offset + t->u.user.target_size, n);
	assert_string_equal(nlab_ipt_entry_comment(AF_INET, buf), "netlab:x a.topo:7");

	/* IPv6: the protocol counts only with IP6T_F_PROTO. */
	struct nlab_ipt_rule r6 = { .family = AF_INET6, .proto = IPPROTO_UDP, .sport_lo = 53, .target = NLAB_IPT_DROP };
	n = nlab_ipt_build(&r6, buf, sizeof(buf), NULL);
	assert_true(n > 0);
	const struct ip6t_entry *e6 = (const void *)buf;
	assert_true(e6->ipv6.flags & IP6T_F_PROTO);
	assert_int_equal(e6->next_offset, n);
	assert_null(nlab_ipt_entry_comment(AF_INET6, buf));

	/* Refused: ports without tcp/udp, a reset for UDP, a tiny buffer. */
	nlab_error *err = NULL;
	struct nlab_ipt_rule bad = { .family = AF_INET, .dport_lo = 80, .target = NLAB_IPT_DROP };
	assert_int_equal(nlab_ipt_build(&bad, buf, sizeof(buf), &err), -1);
	assert_non_null(strstr(err->msg, "needs protocol tcp or udp"));
	nlab_error_free(&err);
	struct nlab_ipt_rule rst = { .family = AF_INET, .proto = IPPROTO_UDP, .target = NLAB_IPT_REJECT,
				     .reject_tcp_reset = true };
	assert_int_equal(nlab_ipt_build(&rst, buf, sizeof(buf), NULL), -1);
	assert_int_equal(nlab_ipt_build(&r, buf, 64, &err), -1);
	assert_int_equal(err->errnum, ENOBUFS);
	nlab_error_free(&err);
}

static void test_comment_line(void **state)
{
	(void)state;
	assert_int_equal(fw_comment_line("netlab:lab a.topo:12"), 12);
	assert_int_equal(fw_comment_line("netlab:lab a:b.topo:3"), 3);
	assert_int_equal(fw_comment_line("netlab:lab"), 0);
	assert_int_equal(fw_comment_line("hand-written: x"), 0);
	assert_int_equal(fw_comment_line(NULL), 0);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ruleset),
		cmocka_unit_test(test_entry_layout),
		cmocka_unit_test(test_comment_line),
	};
	return cmocka_run_group_tests_name("firewall", tests, NULL, NULL);
}
