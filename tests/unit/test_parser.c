/* Parser of the topology language: every statement form of
 * docs/topology.md is accepted and lands in the model; every form error is
 * reported at the right LINE:COL with a useful message.
 *
 * In the diagnostic tables node statements are written without
 * indentation (it is cosmetic), so a column is the 1-based offset of the
 * offending word in the statement as written. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "topo/addr.h"
#include "topo_test.h"

/* ------------------------------------------------------------------ */
/* Accepted forms                                                      */

/* The example of the language from issue 2, statement for statement. */
static const char issue_example[] =
	"lab two-webservers                 # optional; default: file name without .topo\n"
	"\n"
	"switch lan                         # a Linux bridge\n"
	"\n"
	"node web1                          # opens a node block until the next top-level keyword\n"
	"    ip eth0 192.168.0.1/24         # address on an interface; v4 or v6; repeatable\n"
	"    ip eth0 fd00::1/64\n"
	"    route default via 192.168.0.254\n"
	"    route 10.1.0.0/16 via 192.168.0.254\n"
	"    route 10.2.0.0/16 dev eth0\n"
	"    forward                        # IPv4 + IPv6 forwarding on\n"
	"    sysctl net.ipv4.icmp_echo_ignore_all=1   # only net.* keys\n"
	"    hostname www1                  # default: the node name\n"
	"    env GREETING=hello\n"
	"    exec ip link set eth0 mtu 1400 # setup command\n"
	"    run python3 -m http.server 8080  # long-running command\n"
	"    nat masquerade eth1                       # SNAT traffic leaving eth1\n"
	"    nat snat 10.0.0.0/24 eth1 203.0.113.1     # SNAT a source range to an address\n"
	"    nat dnat eth1 tcp 80 192.168.0.1:8080     # port-forward\n"
	"    firewall policy input drop\n"
	"    firewall input accept proto tcp dport 8080 src 192.168.0.2\n"
	"    firewall input accept state established,related\n"
	"    firewall output drop dst 192.168.0.9\n"
	"    firewall forward reject proto icmp in eth0 out eth1\n"
	"\n"
	"node web2\n"
	"    ip eth0 192.168.0.2/24\n"
	"\n"
	"link web1:eth0 lan                 # node interface to a switch\n"
	"link web2:eth0 lan mtu 1500\n"
	"link web1:eth1 web2:eth1           # veth pair between two nodes\n"
	"link host:lab0 web1:eth2           # one end in the namespace netlab was started from\n"
	"\n"
	"node host                          # reserved name: statements for the host end\n"
	"    ip lab0 192.168.99.1/24\n";

static void assert_addr(int family, const void *addr, const char *want)
{
	char buf[64];

	addr_format(family, addr, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void assert_cidr(const struct topo_cidr *c, const char *want)
{
	char buf[80];

	cidr_format(c, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_issue_example(void **state)
{
	(void)state;
	struct checked c;

	check_valid(issue_example, &c);
	struct topology *t = c.t;
	/* Both routes via 192.168.0.254, which no node of the example has
	 * (validate_lab.c); nothing else. */
	assert_int_equal(c.d.nwarnings, 2);
	for (size_t i = 0; i < c.d.n; i++)
		assert_true(c.d.v[i].level != DIAG_WARNING || strstr(c.d.v[i].msg, "gateway 192.168.0.254 is no address"));
	assert_string_equal(t->name, "two-webservers");
	assert_true(t->name_explicit);
	assert_int_equal(t->switches.n, 1);
	assert_string_equal(t->switches.v[0].name, "lan");
	assert_int_equal(t->switches.v[0].nports, 2);
	assert_int_equal(topo_count_nodes(t), 2);

	struct topo_node *w = topo_find_node(t, "web1");
	assert_non_null(w);
	assert_int_equal(w->pos.line, 5);
	assert_int_equal(w->pos.col, 6);
	assert_false(w->is_host);
	assert_int_equal(w->addrs.n, 2);
	assert_string_equal(w->addrs.v[0].ifname, "eth0");
	assert_cidr(&w->addrs.v[0].cidr, "192.168.0.1/24");
	assert_int_equal(w->addrs.v[1].cidr.family, AF_INET6);
	assert_cidr(&w->addrs.v[1].cidr, "fd00::1/64");

	assert_int_equal(w->routes.n, 3);
	assert_true(w->routes.v[0].is_default);
	assert_int_equal(w->routes.v[0].dst.family, AF_INET);
	assert_true(w->routes.v[0].has_via);
	assert_addr(AF_INET, w->routes.v[0].via, "192.168.0.254");
	assert_false(w->routes.v[1].is_default);
	assert_cidr(&w->routes.v[1].dst, "10.1.0.0/16");
	assert_false(w->routes.v[2].has_via);
	assert_string_equal(w->routes.v[2].dev, "eth0");

	assert_true(w->forward);
	assert_int_equal(w->sysctls.n, 1);
	assert_string_equal(w->sysctls.v[0].key, "net.ipv4.icmp_echo_ignore_all");
	assert_string_equal(w->sysctls.v[0].value, "1");
	assert_string_equal(w->hostname, "www1");
	assert_int_equal(w->envs.n, 1);
	assert_string_equal(w->envs.v[0].key, "GREETING");
	assert_string_equal(w->envs.v[0].value, "hello");

	assert_int_equal(w->cmds.n, 2);
	assert_int_equal(w->cmds.v[0].kind, TOPO_CMD_EXEC);
	assert_string_equal(w->cmds.v[0].text, "ip link set eth0 mtu 1400");
	assert_int_equal(w->cmds.v[1].kind, TOPO_CMD_RUN);
	assert_string_equal(w->cmds.v[1].text, "python3 -m http.server 8080");

	assert_int_equal(w->nats.n, 3);
	assert_int_equal(w->nats.v[0].kind, TOPO_NAT_MASQUERADE);
	assert_string_equal(w->nats.v[0].ifname, "eth1");
	assert_int_equal(w->nats.v[1].kind, TOPO_NAT_SNAT);
	assert_cidr(&w->nats.v[1].src, "10.0.0.0/24");
	assert_string_equal(w->nats.v[1].ifname, "eth1");
	assert_addr(AF_INET, w->nats.v[1].to.addr, "203.0.113.1");
	assert_int_equal(w->nats.v[2].kind, TOPO_NAT_DNAT);
	assert_string_equal(w->nats.v[2].ifname, "eth1");
	assert_int_equal(w->nats.v[2].proto, IPPROTO_TCP);
	assert_int_equal(w->nats.v[2].port, 80);
	assert_addr(AF_INET, w->nats.v[2].to.addr, "192.168.0.1");
	assert_int_equal(w->nats.v[2].to_port, 8080);

	assert_int_equal(w->fw.n, 5);
	const struct topo_fw_rule *r = w->fw.v;
	assert_true(r[0].is_policy);
	assert_int_equal(r[0].chain, TOPO_CHAIN_INPUT);
	assert_int_equal(r[0].action, TOPO_ACT_DROP);
	assert_false(r[1].is_policy);
	assert_int_equal(r[1].action, TOPO_ACT_ACCEPT);
	assert_int_equal(r[1].proto, IPPROTO_TCP);
	assert_int_equal(r[1].dport_lo, 8080);
	assert_int_equal(r[1].dport_hi, 8080);
	assert_int_equal(r[1].sport_lo, 0);
	assert_true(r[1].has_src);
	assert_cidr(&r[1].src, "192.168.0.2/32");
	assert_int_equal(r[2].state, TOPO_STATE_ESTABLISHED | TOPO_STATE_RELATED);
	assert_int_equal(r[3].chain, TOPO_CHAIN_OUTPUT);
	assert_true(r[3].has_dst);
	assert_cidr(&r[3].dst, "192.168.0.9/32");
	assert_int_equal(r[4].chain, TOPO_CHAIN_FORWARD);
	assert_int_equal(r[4].action, TOPO_ACT_REJECT);
	assert_int_equal(r[4].proto, IPPROTO_ICMP);
	assert_string_equal(r[4].in, "eth0");
	assert_string_equal(r[4].out, "eth1");

	assert_int_equal(t->links.n, 4);
	assert_int_equal(t->links.v[0].a.kind, TOPO_END_NODE);
	assert_string_equal(t->links.v[0].a.name, "web1");
	assert_string_equal(t->links.v[0].a.ifname, "eth0");
	assert_int_equal(t->links.v[0].b.kind, TOPO_END_SWITCH);
	assert_string_equal(t->links.v[0].b.ifname, "");
	assert_int_equal(t->links.v[0].mtu, 0);
	assert_int_equal(t->links.v[1].mtu, 1500);
	assert_int_equal(t->links.v[2].b.kind, TOPO_END_NODE);
	assert_int_equal(t->links.v[3].a.kind, TOPO_END_HOST);
	assert_string_equal(t->links.v[3].a.ifname, "lab0");

	/* Interfaces come from links: web1 got eth0, eth1, eth2. */
	assert_int_equal(w->ifaces.n, 3);
	assert_non_null(topo_node_iface(w, "eth2"));

	struct topo_node *h = topo_host_node(t);
	assert_non_null(h);
	assert_string_equal(h->name, "host");
	assert_true(h->is_host);
	assert_int_equal(h->addrs.n, 1);
	assert_string_equal(h->addrs.v[0].ifname, "lab0");
	assert_non_null(topo_node_iface(h, "lab0"));
	checked_free(&c);
}

/* The same file with unusual but legal spelling parses to the same model. */
static void test_lexical_variants_same_model(void **state)
{
	(void)state;
	static const char src[] =
		"\t\tlab    two-webservers\r\n"
		"switch \"lan\"\r\n"
		"node web1\r\n"
		"ip \\\r\n"
		"   eth0 \\\r\n"
		"   192.168.0.1/24   # continued over three lines\r\n"
		"env \"GREETING\"=\"hello world\"\r\n"
		"exec echo \"a#b\" a#b \\\r\n"
		"     done\r\n"
		"link web1:\"eth0\" lan\r\n";
	struct checked c;

	check_valid(src, &c);
	struct topo_node *w = topo_find_node(c.t, "web1");
	assert_non_null(w);
	assert_string_equal(c.t->name, "two-webservers");
	assert_int_equal(w->addrs.n, 1);
	assert_string_equal(w->addrs.v[0].ifname, "eth0");
	assert_cidr(&w->addrs.v[0].cidr, "192.168.0.1/24");
	assert_int_equal(w->addrs.v[0].pos.line, 6); /* the address is on the third physical line */
	assert_int_equal(w->addrs.v[0].pos.col, 4);
	assert_string_equal(w->envs.v[0].key, "GREETING");
	assert_string_equal(w->envs.v[0].value, "hello world");
	assert_int_equal(w->cmds.n, 1);
	assert_true(strncmp(w->cmds.v[0].text, "echo \"a#b\" a#b", 14) == 0);
	assert_string_equal(w->cmds.v[0].text + strlen(w->cmds.v[0].text) - 4, "done");
	assert_null(strchr(w->cmds.v[0].text, '\r'));
	assert_null(strchr(w->cmds.v[0].text, '\\'));
	assert_string_equal(c.t->links.v[0].a.ifname, "eth0");
	assert_string_equal(c.t->switches.v[0].name, "lan");
	checked_free(&c);
}

static void test_route_forms(void **state)
{
	(void)state;
	static const char src[] = "switch s\n"
				  "node a\n"
				  "  ip eth0 10.0.0.1/24\n"
				  "  ip eth0 fd00::1/64\n"
				  "  route default dev eth0\n"
				  "  route ::/0 dev eth0\n"
				  "  route default via fd00::fe\n"
				  "  route 10.9.9.9 via 10.0.0.2\n"
				  "  route fd00:9::/64 via fe80::1 dev eth0\n"
				  "  route 10.8.0.0/16 dev eth0 via 10.0.0.3\n"
				  "  route 0.0.0.0/0 dev lo\n"
				  "link a:eth0 s\n";
	struct checked c;

	check_valid(src, &c);
	const struct topo_route *r = topo_find_node(c.t, "a")->routes.v;
	assert_int_equal(topo_find_node(c.t, "a")->routes.n, 7);
	/* default without a gateway is IPv4 */
	assert_true(r[0].is_default);
	assert_int_equal(r[0].dst.family, AF_INET);
	assert_false(r[0].has_via);
	assert_string_equal(r[0].dev, "eth0");
	assert_int_equal(r[1].dst.family, AF_INET6);
	assert_int_equal(r[1].dst.prefixlen, 0);
	/* default via an IPv6 gateway is ::/0 */
	assert_true(r[2].is_default);
	assert_int_equal(r[2].dst.family, AF_INET6);
	assert_addr(AF_INET6, r[2].via, "fd00::fe");
	/* a bare address is a host route */
	assert_cidr(&r[3].dst, "10.9.9.9/32");
	/* link-local gateway pinned to an interface */
	assert_true(r[4].has_via);
	assert_string_equal(r[4].dev, "eth0");
	assert_addr(AF_INET6, r[4].via, "fe80::1");
	/* dev before via */
	assert_true(r[5].has_via);
	assert_string_equal(r[5].dev, "eth0");
	assert_int_equal(r[5].dev_pos.col, 25);
	assert_int_equal(r[5].via_pos.col, 34);
	checked_free(&c);
}

static void test_node_settings_forms(void **state)
{
	(void)state;
	static const char src[] = "node a\n"
				  "  sysctl net.ipv4.ip_forward=1\n"
				  "  sysctl net.ipv6.conf.all.forwarding 1\n"
				  "  sysctl net.core.somaxconn=\"1024\"\n"
				  "  hostname www1.example.test\n"
				  "  env EMPTY=\n"
				  "  env MOTD=\"welcome to the lab\"\n"
				  "  env _x1=a=b\n"
				  "  exec echo \"nameserver 10.0.0.1\" > /etc/resolv.conf\n"
				  "  run sh -c 'sleep 1000'\n"
				  "link a:eth0 host:h0\n";
	struct checked c;

	check_valid(src, &c);
	struct topo_node *n = topo_find_node(c.t, "a");
	assert_int_equal(n->sysctls.n, 3);
	assert_string_equal(n->sysctls.v[1].key, "net.ipv6.conf.all.forwarding");
	assert_string_equal(n->sysctls.v[1].value, "1");
	assert_string_equal(n->sysctls.v[2].value, "1024");
	assert_string_equal(n->hostname, "www1.example.test");
	assert_int_equal(n->envs.n, 3);
	assert_string_equal(n->envs.v[0].key, "EMPTY");
	assert_string_equal(n->envs.v[0].value, "");
	assert_string_equal(n->envs.v[1].value, "welcome to the lab");
	assert_string_equal(n->envs.v[2].key, "_x1");
	assert_string_equal(n->envs.v[2].value, "a=b");
	/* exec/run text is the rest of the line as written, quotes kept */
	assert_string_equal(n->cmds.v[0].text, "echo \"nameserver 10.0.0.1\" > /etc/resolv.conf");
	assert_int_equal(n->cmds.v[0].pos.col, 8);
	assert_int_equal(n->cmds.v[1].kind, TOPO_CMD_RUN);
	assert_string_equal(n->cmds.v[1].text, "sh -c 'sleep 1000'");
	checked_free(&c);
}

static void test_link_options(void **state)
{
	(void)state;
	static const char src[] = "switch s\n"
				  "node a\n"
				  "node b\n"
				  "link a:eth0 b:eth0 rate 10mbit delay 20ms jitter 5ms loss 0.5%\n"
				  "link a:eth1 s loss 1% mtu 9000 rate 500kbit delay 500us\n"
				  "link b:eth1 s mtu 68 delay 1s rate 1gbit loss 0%\n"
				  "link a:eth2 b:eth2 mtu 65535 loss 100%\n";
	struct checked c;

	check_valid(src, &c);
	const struct topo_link *l = c.t->links.v;
	assert_int_equal(c.t->links.n, 4);
	assert_int_equal(l[0].rate_bps, 10000000);
	assert_int_equal(l[0].delay_us, 20000);
	assert_int_equal(l[0].jitter_us, 5000);
	assert_int_equal(l[0].loss_ppm, 5000);
	assert_int_equal(l[0].mtu, 0);
	assert_int_equal(l[1].loss_ppm, 10000);
	assert_int_equal(l[1].mtu, 9000);
	assert_int_equal(l[1].rate_bps, 500000);
	assert_int_equal(l[1].delay_us, 500);
	assert_int_equal(l[2].mtu, 68);
	assert_int_equal(l[2].delay_us, 1000000);
	assert_int_equal(l[2].rate_bps, 1000000000);
	assert_int_equal(l[3].mtu, 65535);
	assert_int_equal(l[3].loss_ppm, 1000000);
	checked_free(&c);
}

/* Switches snoop multicast unless told to flood; ranges carry the option. */
static void test_switch_multicast(void **state)
{
	(void)state;
	static const char src[] = "switch a\n"
				  "switch b multicast snoop\n"
				  "switch c multicast flood\n"
				  "switch d[1..2] multicast flood\n"
				  "node n\n"
				  "link n:eth0 a\n";
	struct checked c;

	check_valid(src, &c);
	assert_int_equal(c.t->switches.n, 5);
	assert_false(c.t->switches.v[0].mcast_flood);
	assert_false(c.t->switches.v[1].mcast_flood);
	assert_true(c.t->switches.v[2].mcast_flood);
	assert_string_equal(c.t->switches.v[4].name, "d2");
	assert_true(c.t->switches.v[4].mcast_flood);
	checked_free(&c);
	assert_first_error("switch a multicast\n", 1, 20, "'multicast' needs 'snoop' or 'flood'");
	assert_first_error("switch a multicast flood extra\n", 1, 26, "too many arguments to 'switch'");
}

static void test_firewall_forms(void **state)
{
	(void)state;
	static const char src[] = "switch s\n"
				  "node a\n"
				  "  firewall policy output accept\n"
				  "  firewall policy forward drop\n"
				  "  firewall forward accept proto udp sport 53 dport 10000:20000 src 10.0.0.0/8 "
				  "dst 10.1.0.0/16 in eth0 out eth1 state new,established,related,invalid\n"
				  "  firewall input drop proto icmpv6 src fd00::/64\n"
				  "  firewall output reject proto tcp dport 1:65535 out lo\n"
				  "  firewall input accept\n"
				  "  firewall input accept in lo\n"
				  "link a:eth0 s\n"
				  "link a:eth1 s\n";
	struct checked c;

	check_valid(src, &c);
	const struct topo_node *n = topo_find_node(c.t, "a");
	const struct topo_fw_rule *r = n->fw.v;
	assert_int_equal(n->fw.n, 7);
	assert_true(r[0].is_policy);
	assert_int_equal(r[0].chain, TOPO_CHAIN_OUTPUT);
	assert_int_equal(r[0].action, TOPO_ACT_ACCEPT);
	assert_int_equal(r[1].chain, TOPO_CHAIN_FORWARD);
	assert_int_equal(r[2].proto, IPPROTO_UDP);
	assert_int_equal(r[2].sport_lo, 53);
	assert_int_equal(r[2].sport_hi, 53);
	assert_int_equal(r[2].dport_lo, 10000);
	assert_int_equal(r[2].dport_hi, 20000);
	assert_cidr(&r[2].src, "10.0.0.0/8");
	assert_cidr(&r[2].dst, "10.1.0.0/16");
	assert_string_equal(r[2].in, "eth0");
	assert_string_equal(r[2].out, "eth1");
	assert_int_equal(r[2].state, TOPO_STATE_NEW | TOPO_STATE_ESTABLISHED | TOPO_STATE_RELATED | TOPO_STATE_INVALID);
	assert_int_equal(r[3].proto, IPPROTO_ICMPV6);
	assert_int_equal(r[3].src.family, AF_INET6);
	assert_int_equal(r[4].dport_lo, 1);
	assert_int_equal(r[4].dport_hi, 65535);
	assert_int_equal(r[5].proto, 0);
	assert_false(r[5].has_src);
	assert_int_equal(r[5].state, 0);
	assert_string_equal(r[6].in, "lo");
	checked_free(&c);
}

/* nat dnat's ADDR[:PORT], including the bracketed IPv6 form. */
static void test_dnat_hostport(void **state)
{
	(void)state;
	static const struct {
		const char *target;
		int family;
		const char *addr;
		int port;
	} ok[] = {
		{ "10.0.0.11", AF_INET, "10.0.0.11", 0 },
		{ "10.0.0.11:8080", AF_INET, "10.0.0.11", 8080 },
		{ "10.0.0.11:65535", AF_INET, "10.0.0.11", 65535 },
		{ "[fd00::11]:8080", AF_INET6, "fd00::11", 8080 },
		{ "[fd00::11]", AF_INET6, "fd00::11", 0 },
		{ "fd00::11", AF_INET6, "fd00::11", 0 },
		/* without brackets every colon belongs to the address */
		{ "fd00::1:80", AF_INET6, "fd00::1:80", 0 },
	};
	char src[256];

	for (size_t i = 0; i < N_ELEMS(ok); i++) {
		struct checked c;
		snprintf(src, sizeof(src), "switch s\nnode a\nnat dnat eth0 udp 53 %s\nlink a:eth0 s\n", ok[i].target);
		check_valid(src, &c);
		const struct topo_nat *x = &topo_find_node(c.t, "a")->nats.v[0];
		assert_int_equal(x->kind, TOPO_NAT_DNAT);
		assert_int_equal(x->proto, IPPROTO_UDP);
		assert_int_equal(x->port, 53);
		assert_int_equal(x->to.family, ok[i].family);
		assert_addr(ok[i].family, x->to.addr, ok[i].addr);
		assert_int_equal(x->to_port, ok[i].port);
		assert_int_equal(x->to_pos.line, 3);
		assert_int_equal(x->to_pos.col, 22);
		checked_free(&c);
	}

	static const char *const bad[] = {
		"10.0.0.11:",  "10.0.0.11:x", "10.0.0.11/24", "[fd00::11", "[fd00::11]x",
		"[fd00::11]:", "web1:80",     "10.0.0.11:80:90", "",          "[]:80",
	};
	for (size_t i = 0; i < N_ELEMS(bad); i++) {
		snprintf(src, sizeof(src), "switch s\nnode a\nnat dnat eth0 tcp 80 \"%s\"\nlink a:eth0 s\n", bad[i]);
		assert_first_error(src, 3, 22, "bad destination");
	}
	assert_first_error("switch s\nnode a\nnat dnat eth0 tcp 80 10.0.0.1:0\nlink a:eth0 s\n", 3, 22,
			   "port 0 is out of range (1..65535)");
	assert_first_error("switch s\nnode a\nnat dnat eth0 tcp 80 [fd00::1]:65536\nlink a:eth0 s\n", 3, 22,
			   "port 65536 is out of range");
}

static void test_nat_snat_forms(void **state)
{
	(void)state;
	struct checked c;

	check_valid("switch s\nnode a\nnat snat 10.0.0.5 eth0 203.0.113.1\nnat snat fd00::/64 eth0 fd00:1::1\n"
		    "link a:eth0 s\n",
		    &c);
	const struct topo_node *n = topo_find_node(c.t, "a");
	assert_int_equal(n->nats.n, 2);
	assert_cidr(&n->nats.v[0].src, "10.0.0.5/32");
	assert_int_equal(n->nats.v[1].to.family, AF_INET6);
	assert_addr(AF_INET6, n->nats.v[1].to.addr, "fd00:1::1");
	checked_free(&c);
}

/* Names at their limits are accepted; links may come before the nodes. */
static void test_name_limits_accepted(void **state)
{
	(void)state;
	static const char src[] = "link abcdefghijabcdefghijabcdefghijab:abcdefghijklmno core_sw-2\n"
				  "switch core_sw-2\n"
				  "node abcdefghijabcdefghijabcdefghijab\n"
				  "node Web_1-x\n"
				  "link Web_1-x:e.0-x_y@z core_sw-2\n";
	struct checked c;

	check_valid(src, &c);
	assert_int_equal(c.d.nwarnings, 0);
	assert_int_equal(c.t->links.v[0].a.index, 0);
	assert_int_equal(c.t->links.v[0].b.index, 0);
	assert_string_equal(c.t->links.v[0].a.ifname, "abcdefghijklmno");
	assert_string_equal(c.t->links.v[1].a.ifname, "e.0-x_y@z");
	assert_int_equal(c.t->switches.v[0].nports, 2);
	assert_non_null(topo_find_node(c.t, "Web_1-x"));
	assert_null(topo_find_node(c.t, "web_1-x")); /* names are case-sensitive */
	checked_free(&c);
}

static void test_default_lab_name_from_file(void **state)
{
	(void)state;
	static const char src[] = "node a\nlink a:eth0 host:h0\n";
	struct checked c;

	check_bytes("dir.topo/My_Lab.topo", src, strlen(src), &c);
	assert_int_equal(c.d.nerrors, 0);
	assert_string_equal(c.t->name, "my-lab");
	assert_false(c.t->name_explicit);
	checked_free(&c);

	check_bytes("labs/x.topo", "lab explicit-1\nnode a\nlink a:eth0 host:h0\n",
		    strlen("lab explicit-1\nnode a\nlink a:eth0 host:h0\n"), &c);
	assert_int_equal(c.d.nerrors, 0);
	assert_string_equal(c.t->name, "explicit-1");
	assert_true(c.t->name_explicit);
	assert_int_equal(c.t->name_pos.line, 1);
	checked_free(&c);
}

static void test_lab_name_valid(void **state)
{
	(void)state;
	static const char *const good[] = { "a", "two-webservers", "lab-1", "1", "a-", "abcdefghijabcdefghijabcdefghijab" };
	/* A leading '-' would read as an option ("netlab down -x"). */
	static const char *const bad[] = { "",     "Two",   "a_b", "a.b", "a b", "caf\xc3\xa9", "-", "-x", "--all",
					   "a/b",  "..", "../../tmp/x", "abcdefghijabcdefghijabcdefghijabc" };

	for (size_t i = 0; i < N_ELEMS(good); i++)
		if (!topo_lab_name_valid(good[i]))
			fail_msg("lab name '%s' should be valid", good[i]);
	for (size_t i = 0; i < N_ELEMS(bad); i++)
		if (topo_lab_name_valid(bad[i]))
			fail_msg("lab name '%s' should be invalid", bad[i]);
}

static void test_default_lab_name(void **state)
{
	(void)state;
	static const struct {
		const char *path;
		const char *want;
	} cases[] = {
		{ "My_Lab.topo", "my-lab" },
		{ "topologies/two-webservers.topo", "two-webservers" },
		{ "/srv/labs/Net Lab 2.topo", "net-lab-2" },
		{ "x.topo/y.topo", "y" },
		{ "noext", "noext" },
		{ "a.topo.bak", "a-topo-bak" },
		{ "ROUTER.TOPO", "router-topo" },
		{ ".topo", "lab" },
		{ "dir/", "lab" },
		{ "abcdefghijabcdefghijabcdefghijabcdefghij.topo", "abcdefghijabcdefghijabcdefghijab" },
		/* one character, one '-': é is two bytes but one character */
		{ "caf\xc3\xa9-x.topo", "caf--x" },
		/* no '-' at either end: a lab name never reads as an option */
		{ "caf\xc3\xa9.topo", "caf" },
		{ "<stdin>", "stdin" },
		{ "--x_.topo", "x" },
		{ "-.topo", "lab" },
		/* no leading '-': the name must not read as an option */
		{ "-x.topo", "x" },
		{ "__init.topo", "init" },
		{ "---.topo", "lab" },
	};
	char buf[NLAB_NAME_MAX + 1];

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		memset(buf, 'X', sizeof(buf));
		topo_default_lab_name(cases[i].path, buf, sizeof(buf));
		if (strcmp(buf, cases[i].want) != 0)
			fail_msg("default lab name of '%s': want '%s', got '%s'", cases[i].path, cases[i].want, buf);
		if (!topo_lab_name_valid(buf))
			fail_msg("default lab name '%s' of '%s' is not a valid lab name", buf, cases[i].path);
	}
	/* A short buffer truncates and stays terminated. */
	char small[4];
	topo_default_lab_name("My_Lab.topo", small, sizeof(small));
	assert_string_equal(small, "my");
}

/* ------------------------------------------------------------------ */
/* Diagnostics                                                         */

#define N33 "abcdefghijabcdefghijabcdefghijabc"
#define H65 "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcde"

static const struct diag_case keyword_cases[] = {
	{ "unknown keyword suggests node", "nod web1\n", 1, 1, "unknown keyword 'nod'; did you mean 'node'?" },
	{ "unknown keyword suggests route", "node a\nrotue default via 10.0.0.1\n", 2, 1,
	  "unknown keyword 'rotue'; did you mean 'route'?" },
	{ "keywords are case-sensitive", "Node a\nnode b\n", 1, 1, "did you mean 'node'?" },
	{ "unknown keyword suggests firewall", "node a\nfirewal input drop\n", 2, 1, "did you mean 'firewall'?" },
	{ "unknown keyword far from all", "node a\nfrobnicate now\n", 2, 1, "unknown keyword 'frobnicate'" },
	{ "unknown keyword after indentation", "node a\n\t  sysclt net.x=1\n", 2, 4, "did you mean 'sysctl'?" },
	{ "unknown expectation", "node a\nexpect a ping b\n", 2, 10, "unknown expectation 'ping'" },
	{ "node statement before any node", "ip eth0 10.0.0.1/24\nnode a\n", 1, 1,
	  "'ip' is outside a node block: put it after 'node NAME'" },
	{ "node statement after switch", "node a\nswitch s\nforward\n", 3, 1, "'forward' is outside a node block" },
	{ "node statement after link", "node a\nlink a:eth0 host:h0\nroute default via 10.0.0.1\n", 3, 1,
	  "'route' is outside a node block" },
	{ "node statement after lab", "node a\nlab x\n  env A=1\n", 3, 3, "'env' is outside a node block" },
	{ "run in node host", "node host\nrun sleep 1\n", 2, 1, "'run' is not allowed in 'node host'" },
	{ "sysctl in node host", "node host\nsysctl net.ipv4.ip_forward=1\n", 2, 1,
	  "'sysctl' is not allowed in 'node host'" },
	{ "firewall in node host", "node host\nfirewall input drop\n", 2, 1, "'firewall' is not allowed in 'node host'" },
};

static const struct diag_case argcount_cases[] = {
	{ "node without name", "node\n", 1, 6, "'node' needs 1 argument: node NAME" },
	{ "node with two names", "node a b\n", 1, 8, "too many arguments to 'node'" },
	{ "switch without name", "switch\nnode a\n", 1, 8, "'switch' needs at least 1 argument" },
	{ "lab without name", "lab\nnode a\n", 1, 5, "'lab' needs at least 1 argument" },
	{ "lab with two names", "lab a b\nnode a\n", 1, 7, "too many arguments to 'lab'" },
	{ "link with one end", "node a\nlink a:eth0\n", 2, 13, "'link' needs at least 2 arguments" },
	{ "ip without address", "node a\nip eth0\n", 2, 9, "'ip' needs 2 arguments: ip IFACE CIDR" },
	{ "ip with extra word", "node a\nip eth0 10.0.0.1/24 x\n", 2, 21, "too many arguments to 'ip'" },
	{ "forward with argument", "node a\nforward now\n", 2, 9, "too many arguments to 'forward'" },
	{ "route without gateway", "node a\nroute default\n", 2, 15, "'route' needs at least 3 arguments" },
	{ "route with via but no value", "node a\nroute 10.0.0.0/8 via\n", 2, 22, "'route' needs at least 3 arguments" },
	{ "route with six words", "node a\nroute 10.0.0.0/8 via 10.0.0.1 dev eth0 x\n", 2, 40,
	  "too many arguments to 'route'" },
	{ "route dev without value", "node a\nroute 10.0.0.0/8 via 10.0.0.1 dev\n", 2, 35, "'dev' needs a value" },
	{ "route via twice", "node a\nroute 10.0.0.0/8 via 10.0.0.1 via 10.0.0.2\n", 2, 31, "'via' given twice" },
	{ "route dev twice", "node a\nroute 10.0.0.0/8 dev eth0 dev eth1\n", 2, 27, "'dev' given twice" },
	{ "route with unknown word", "node a\nroute 10.0.0.0/8 gw 10.0.0.1\n", 2, 18,
	  "expected 'via GATEWAY' or 'dev IFACE' in route, found 'gw'" },
	{ "hostname without name", "node a\nhostname\n", 2, 10, "'hostname' needs 1 argument" },
	{ "env with two words", "node a\nenv A=1 B=2\n", 2, 9, "too many arguments to 'env'" },
	{ "exec without command", "node a\nexec\n", 2, 6, "'exec' needs at least 1 argument" },
	{ "run without command", "node a\nrun   # nothing\n", 2, 5, "'run' needs at least 1 argument" },
	{ "sysctl without key", "node a\nsysctl\n", 2, 8, "'sysctl' needs at least 1 argument" },
	{ "sysctl with three words", "node a\nsysctl net.a 1 2\n", 2, 16, "too many arguments to 'sysctl'" },
	{ "nat without interface", "node a\nnat masquerade\n", 2, 16, "'nat' needs at least 2 arguments" },
	{ "nat masquerade with two interfaces", "node a\nnat masquerade eth0 eth1\n", 2, 21,
	  "usage: nat masquerade IFACE" },
	{ "nat snat without address", "node a\nnat snat 10.0.0.0/24 eth0\n", 2, 27, "usage: nat snat CIDR IFACE ADDRESS" },
	{ "nat dnat without target", "node a\nnat dnat eth0 tcp 80\n", 2, 22, "usage: nat dnat IFACE tcp|udp PORT" },
	{ "firewall with chain only", "node a\nfirewall input\n", 2, 16, "'firewall' needs at least 2 arguments" },
	{ "firewall policy without action", "node a\nfirewall policy input\n", 2, 23, "usage: firewall policy" },
	{ "firewall policy with extra word", "node a\nfirewall policy input drop now\n", 2, 28,
	  "usage: firewall policy" },
	{ "link option without value", "switch s\nnode a\nlink a:eth0 s mtu\n", 3, 19, "link option 'mtu' needs a value" },
	{ "firewall match without value", "node a\nfirewall input accept proto\n", 2, 29,
	  "firewall match 'proto' needs a value" },
};

static const struct diag_case name_cases[] = {
	{ "node name starting with a digit", "node 1web\n", 1, 6, "invalid node name '1web': names must start with a letter" },
	{ "node name starting with a dash", "node -a\n", 1, 6, "must start with a letter" },
	{ "node name with a dot", "node web.1\n", 1, 9,
	  "invalid node name 'web.1': character '.' is not allowed (use letters, digits, '-' and '_')" },
	{ "node name with non-ASCII letter", "node w\xc3\xa9" "b\n", 1, 7, "only ASCII letters, digits, '-' and '_'" },
	{ "quoted node name with a space", "node \"we b\"\n", 1, 9, "character ' ' is not allowed" },
	{ "switch name with '!'", "switch lan!\nnode a\n", 1, 11, "invalid switch name 'lan!'" },
	{ "empty node name", "node \"\"\n", 1, 6, "empty node name" },
	{ "node name of 33 characters", "node " N33 "\n", 1, 6, "is 33 characters long; the limit is 32" },
	{ "switch name of 33 characters", "switch " N33 "\nnode a\n", 1, 8, "is 33 characters long" },
	{ "switch called host", "switch host\nnode a\n", 1, 8, "'host' is reserved" },
	{ "duplicate node", "node a\nnode a\n", 2, 6, "duplicate name 'a': a node of that name is already defined" },
	{ "duplicate switch", "switch s\nswitch s\nnode a\n", 2, 8, "duplicate name 's': a switch of that name" },
	{ "node named like a switch", "switch a\nnode a\n", 2, 6, "duplicate name 'a': a switch of that name" },
	{ "switch named like a node", "node a\nswitch a\n", 2, 8, "duplicate name 'a': a node of that name" },
	{ "duplicate node host", "node host\nnode host\nnode a\n", 2, 6, "duplicate name 'host'" },
	{ "invalid lab name", "lab Two\nnode a\n", 1, 5, "invalid lab name 'Two': lab names use lowercase letters, digits and '-'" },
	{ "lab name with underscore", "lab a_b\nnode a\n", 1, 5, "invalid lab name 'a_b'" },
	{ "lab name of 33 characters", "lab " N33 "\nnode a\n", 1, 5, "invalid lab name" },
	{ "duplicate lab", "lab a\nlab b\nnode x\n", 2, 1, "duplicate 'lab' statement: the lab is already named 'a'" },
	{ "invalid hostname", "node a\nhostname -www\n", 2, 10, "invalid hostname '-www'" },
	{ "hostname with underscore", "node a\nhostname a_b\n", 2, 10, "invalid hostname 'a_b'" },
	{ "hostname of 65 characters", "node a\nhostname " H65 "\n", 2, 10, "at most 64 characters" },
	{ "hostname twice", "node a\nhostname a\nhostname b\n", 3, 1, "hostname given twice for node 'a'" },
	{ "env name starting with a digit", "node a\nenv 1X=2\n", 2, 5, "env needs NAME=VALUE" },
	{ "env without '='", "node a\nenv X\n", 2, 5, "env needs NAME=VALUE" },
	{ "env without name", "node a\nenv =x\n", 2, 5, "env needs NAME=VALUE" },
	{ "env name with '-'", "node a\nenv A-B=1\n", 2, 5, "env needs NAME=VALUE" },
};

/* Each class of interface name the kernel refuses (dev_valid_name()),
 * first as a link end (name at column 8), then in other statements. */
static const struct diag_case ifname_cases[] = {
	{ "interface name empty", "switch s\nnode a\nlink a: s\n", 3, 8, "empty interface name" },
	{ "interface name of 16 bytes", "switch s\nnode a\nlink a:abcdefghijklmnop s\n", 3, 8,
	  "interface name 'abcdefghijklmnop' is 16 bytes long; the kernel allows at most 15" },
	{ "interface name of 9 characters but 18 bytes",
	  "switch s\nnode a\nlink a:\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 s\n", 3, 8,
	  "is 18 bytes long" },
	{ "interface name with '/'", "switch s\nnode a\nlink a:e/0 s\n", 3, 9, "interface name 'e/0' contains '/'" },
	{ "interface name with ':'", "switch s\nnode a\nlink a:e:0 s\n", 3, 9, "interface name 'e:0' contains ':'" },
	{ "interface name with '%'", "switch s\nnode a\nlink a:e%d s\n", 3, 9, "interface name 'e%d' contains '%'" },
	{ "interface name '.'", "switch s\nnode a\nlink a:. s\n", 3, 8, "interface name '.' is refused by the kernel" },
	{ "interface name '..'", "switch s\nnode a\nlink a:.. s\n", 3, 8, "interface name '..' is refused by the kernel" },
	/* Whitespace needs quotes; the caret goes under the blank itself. */
	{ "interface name with a space", "switch s\nnode a\nlink a:\"e 0\" s\n", 3, 10, "contains white space" },
	{ "interface name with a tab in ip", "node a\nip \"e\t0\" 10.0.0.1/24\n", 2, 6, "contains white space" },
	{ "interface name of a host end empty", "switch s\nlink host: s\nnode a\n", 2, 11, "empty interface name" },
	{ "link end without node name", "switch s\nnode a\nlink :eth0 s\n", 3, 6, "link end ':eth0' has no node name" },
	{ "ip interface with '/'", "node a\nip e/0 10.0.0.1/24\n", 2, 5, "contains '/'" },
	{ "ip interface empty", "node a\nip \"\" 10.0.0.1/24\n", 2, 4, "empty interface name" },
	{ "route dev of 16 bytes", "node a\nroute 10.0.0.0/8 dev abcdefghijklmnop\n", 2, 22, "16 bytes long" },
	{ "nat interface with ':'", "node a\nnat masquerade e:1\n", 2, 17, "contains ':'" },
	{ "snat interface '.'", "node a\nnat snat 10.0.0.0/8 . 1.2.3.4\n", 2, 21, "'.' is refused" },
	{ "dnat interface with '%'", "node a\nnat dnat e%0 tcp 80 10.0.0.1\n", 2, 11, "contains '%'" },
	{ "firewall in '..'", "node a\nfirewall forward accept in ..\n", 2, 28, "'..' is refused" },
	{ "firewall out with '%'", "node a\nfirewall forward accept out e%0\n", 2, 30, "contains '%'" },
};

static const struct diag_case address_cases[] = {
	{ "IPv4 prefix /33", "node a\nip eth0 10.0.0.1/33\n", 2, 9,
	  "bad address: prefix length /33 is out of range for IPv4 (0..32)" },
	{ "IPv6 prefix /129", "node a\nip eth0 fd00::1/129\n", 2, 9, "prefix length /129 is out of range for IPv6 (0..128)" },
	{ "junk address", "node a\nip eth0 junk\n", 2, 9, "'junk' is not an IPv4 or IPv6 address" },
	{ "junk address with prefix", "node a\nip eth0 junk/24\n", 2, 9, "'junk' is not an IPv4 or IPv6 address" },
	{ "IPv4 octet 256", "node a\nip eth0 10.0.0.256/24\n", 2, 9, "not an IPv4 or IPv6 address" },
	{ "address without prefix", "node a\nip eth0 10.0.0.1\n", 2, 9, "needs a prefix length, e.g. 10.0.0.1/24" },
	{ "empty prefix", "node a\nip eth0 10.0.0.1/\n", 2, 9, "no valid prefix length" },
	{ "prefix not a number", "node a\nip eth0 10.0.0.1/x\n", 2, 9, "no valid prefix length" },
	{ "negative prefix", "node a\nip eth0 10.0.0.1/-1\n", 2, 9, "no valid prefix length" },
	{ "prefix with trailing junk", "node a\nip eth0 fd00::1/64x\n", 2, 9, "no valid prefix length" },
	{ "route destination /33", "node a\nroute 10.0.0.0/33 via 10.0.0.1\n", 2, 7, "bad route destination" },
	{ "route destination with host bits", "node a\nroute 10.2.0.1/24 via 10.0.0.1\n", 2, 7,
	  "route destination '10.2.0.1/24' has host bits set; did you mean 10.2.0.0/24?" },
	{ "IPv6 route destination with host bits", "node a\nroute fd00:2::1/64 dev eth0\n", 2, 7,
	  "did you mean fd00:2::/64?" },
	{ "gateway of the other IP version", "node a\nroute 10.0.0.0/8 via fd00::1\n", 2, 22,
	  "gateway fd00::1 is IPv6 but the destination is IPv4" },
	{ "IPv4 gateway for an IPv6 prefix", "node a\nroute fd00::/8 via 10.0.0.1\n", 2, 20,
	  "gateway 10.0.0.1 is IPv4 but the destination is IPv6" },
	{ "gateway with a prefix", "node a\nroute 10.0.0.0/8 via 10.0.0.1/32\n", 2, 22, "bad gateway '10.0.0.1/32'" },
	{ "firewall src /33", "node a\nfirewall input accept src 10.0.0.1/33\n", 2, 27, "bad src" },
	{ "firewall dst junk", "node a\nfirewall input accept dst nowhere\n", 2, 27, "bad dst" },
	{ "snat source /33", "node a\nnat snat 10.0.0.0/33 eth0 1.2.3.4\n", 2, 10, "bad source range" },
	{ "snat address with prefix", "node a\nnat snat 10.0.0.0/24 eth0 1.2.3.0/24\n", 2, 27,
	  "expected one address without prefix" },
	{ "snat address of the other IP version", "node a\nnat snat 10.0.0.0/24 eth0 fd00::1\n", 2, 27,
	  "different IP versions" },
};

static const struct diag_case number_cases[] = {
	{ "MTU 67", "switch s\nnode a\nlink a:eth0 s mtu 67\n", 3, 19, "MTU 67 is out of range (68..65535)" },
	{ "MTU 65536", "switch s\nnode a\nlink a:eth0 s mtu 65536\n", 3, 19, "MTU 65536 is out of range (68..65535)" },
	{ "MTU 0", "switch s\nnode a\nlink a:eth0 s mtu 0\n", 3, 19, "MTU 0 is out of range" },
	{ "MTU not a number", "switch s\nnode a\nlink a:eth0 s mtu 1500b\n", 3, 19, "MTU '1500b' is not a number" },
	{ "MTU negative", "switch s\nnode a\nlink a:eth0 s mtu -1\n", 3, 19, "MTU '-1' is not a number" },
	{ "MTU huge", "switch s\nnode a\nlink a:eth0 s mtu 99999999999999999999999\n", 3, 19, "MTU" },
	{ "unknown link option", "switch s\nnode a\nlink a:eth0 s jiter 5ms\n", 3, 15,
	  "unknown link option 'jiter'; did you mean 'jitter'?" },
	{ "bad rate", "switch s\nnode a\nlink a:eth0 s rate 10mbps\n", 3, 20, "bad rate '10mbps'" },
	{ "delay over 60 s", "switch s\nnode a\nlink a:eth0 s delay 61s\n", 3, 21, "bad delay '61s'" },
	{ "delay without unit", "switch s\nnode a\nlink a:eth0 s delay 20\n", 3, 21, "bad delay" },
	{ "jitter without delay", "switch s\nnode a\nlink a:eth0 s jitter 5ms\n", 3, 22, "'jitter' needs a 'delay'" },
	{ "loss over 100%", "switch s\nnode a\nlink a:eth0 s loss 101%\n", 3, 20, "bad loss '101%'" },
	{ "loss without '%'", "switch s\nnode a\nlink a:eth0 s loss 5\n", 3, 20, "bad loss '5'" },
	{ "dport 0", "node a\nfirewall input accept proto tcp dport 0\n", 2, 39, "port 0 is out of range (1..65535)" },
	{ "dport 65536", "node a\nfirewall input accept proto tcp dport 65536\n", 2, 39, "port 65536 is out of range" },
	{ "sport range reversed", "node a\nfirewall input accept proto udp sport 9000:8000\n", 2, 39,
	  "port range 9000:8000 is reversed; write 8000:9000" },
	{ "dport range end too big", "node a\nfirewall input accept proto tcp dport 80:70000\n", 2, 39, "out of range" },
	{ "dport range from 0", "node a\nfirewall input accept proto tcp dport 0:80\n", 2, 39, "out of range" },
	{ "dport not a number", "node a\nfirewall input accept proto tcp dport http\n", 2, 39,
	  "port 'http' is not a number or range N:M" },
	{ "dport open range", "node a\nfirewall input accept proto tcp dport 80:\n", 2, 39, "is not of the form N:M" },
	{ "dnat port 0", "node a\nnat dnat eth0 tcp 0 10.0.0.2\n", 2, 19, "port 0 is out of range (1..65535)" },
	{ "dnat port 65536", "node a\nnat dnat eth0 udp 65536 10.0.0.2\n", 2, 19, "port 65536 is out of range" },
	{ "dnat port not a number", "node a\nnat dnat eth0 tcp http 10.0.0.2\n", 2, 19, "port 'http' is not a number" },
	{ "dnat target port 0", "node a\nnat dnat eth0 tcp 80 10.0.0.2:0\n", 2, 22, "port 0 is out of range" },
	{ "dnat target port 65536", "node a\nnat dnat eth0 tcp 80 10.0.0.2:65536\n", 2, 22, "port 65536 is out of range" },
};

static const struct diag_case sysctl_cases[] = {
	{ "sysctl key outside net.", "node a\nsysctl kernel.hostname=x\n", 2, 8,
	  "sysctl key 'kernel.hostname' is not allowed: only per-network-namespace keys under 'net.'" },
	{ "sysctl key netfoo.", "node a\nsysctl netfoo.x=1\n", 2, 8, "sysctl key 'netfoo.x' is not allowed" },
	{ "sysctl key with '..'", "node a\nsysctl net..ipv4=1\n", 2, 8, "is not allowed" },
	{ "sysctl key with '/'", "node a\nsysctl net.ipv4/conf=1\n", 2, 8, "is not allowed" },
	{ "sysctl key 'net.'", "node a\nsysctl net.=1\n", 2, 8, "is not allowed" },
	{ "sysctl key outside net., two words", "node a\nsysctl vm.swappiness 10\n", 2, 8, "'vm.swappiness' is not allowed" },
	{ "sysctl empty value", "node a\nsysctl net.ipv4.ip_forward=\n", 2, 8, "sysctl 'net.ipv4.ip_forward' has an empty value" },
	{ "sysctl empty quoted value", "node a\nsysctl net.ipv4.ip_forward \"\"\n", 2, 8, "has an empty value" },
	{ "sysctl without value", "node a\nsysctl net.ipv4.ip_forward\n", 2, 8, "sysctl needs KEY=VALUE" },
};

static const struct diag_case firewall_nat_cases[] = {
	{ "reject as a policy", "node a\nfirewall policy input reject\n", 2, 23,
	  "a chain policy can only be 'accept' or 'drop'" },
	{ "unknown chain", "node a\nfirewall inptu accept\n", 2, 10, "unknown chain 'inptu'; did you mean 'input'?" },
	{ "unknown policy chain", "node a\nfirewall policy prerouting drop\n", 2, 17, "unknown chain 'prerouting'" },
	{ "unknown action", "node a\nfirewall input acept\n", 2, 16, "unknown action 'acept'; did you mean 'accept'?" },
	{ "unknown match", "node a\nfirewall input accept prot tcp\n", 2, 23,
	  "unknown firewall match 'prot'; did you mean 'proto'?" },
	{ "unknown protocol", "node a\nfirewall input accept proto sctp\n", 2, 29, "unknown protocol 'sctp'" },
	{ "dport without proto", "node a\nfirewall input accept dport 80\n", 2, 1,
	  "'sport'/'dport' need 'proto tcp' or 'proto udp'" },
	{ "sport with proto icmp", "node a\nfirewall input accept proto icmp sport 80\n", 2, 1, "need 'proto tcp' or 'proto udp'" },
	{ "in on the output chain", "node a\nfirewall output accept in eth0\n", 2, 27,
	  "'in' cannot be used on the output chain" },
	{ "out on the input chain", "node a\nfirewall input accept out eth0\n", 2, 27, "'out' cannot be used on the input chain" },
	{ "unknown state", "node a\nfirewall input accept state new,bogus\n", 2, 29, "unknown connection state 'bogus'" },
	{ "misspelt state", "node a\nfirewall input accept state establisehd\n", 2, 29, "did you mean 'established'?" },
	{ "empty state list", "node a\nfirewall input accept state ,\n", 2, 29, "empty state list" },
	{ "src and dst of different versions", "node a\nfirewall input accept src 10.0.0.1 dst fd00::1\n", 2, 40,
	  "'src' and 'dst' are of different IP versions" },
	{ "icmp with IPv6 addresses", "node a\nfirewall input accept proto icmp src fd00::1\n", 2, 38,
	  "protocol icmp does not match the IPv6 addresses" },
	{ "icmpv6 with IPv4 addresses", "node a\nfirewall input accept proto icmpv6 dst 10.0.0.1\n", 2, 40,
	  "protocol icmpv6 does not match the IPv4 addresses" },
	{ "match given twice", "node a\nfirewall input accept proto tcp proto udp\n", 2, 33,
	  "firewall match 'proto' given twice" },
	{ "unknown nat kind", "node a\nnat snatt 10.0.0.0/24 eth0 1.2.3.4\n", 2, 5, "unknown nat kind 'snatt'; did you mean 'snat'?" },
	{ "dnat protocol not tcp or udp", "node a\nnat dnat eth0 sctp 80 10.0.0.2\n", 2, 15,
	  "port forwarding protocol must be 'tcp' or 'udp', not 'sctp'" },
};

static const struct diag_case file_cases[] = {
	{ "empty file", "", 0, 0, "file is empty: a topology needs at least one 'node'" },
	{ "comments only", "# nothing here\n\n   # really\n", 0, 0, "no nodes defined: a topology needs at least one 'node'" },
	{ "switch but no node", "switch s\n", 0, 0, "no nodes defined" },
	{ "unterminated quote", "node a\nenv X=\"abc\n", 2, 7, "unterminated string: missing closing '\"'" },
};

/* One error per mistake: a rejected `node` line does not make each of its
 * statements an "outside a node block" error, nor its links "undefined". */
static void test_no_cascade_after_bad_node(void **state)
{
	(void)state;
	struct checked c;

	check_text("switch s\nnode 1a\n  ip eth0 10.0.0.1/24\n  forward\nlink 1a:eth0 s\n", &c);
	assert_int_equal(c.d.nerrors, 1);
	assert_int_equal(first_of_level(&c.d, DIAG_ERROR)->pos.line, 2);
	checked_free(&c);

	check_text("switch s\nnod a\n  ip eth0 10.0.0.1/24\n", &c);
	assert_int_equal(c.d.nerrors, 1);
	checked_free(&c);
}

/* The duplicate note points at the first definition and follows its error. */
static void test_duplicate_note(void **state)
{
	(void)state;
	struct checked c;

	check_text("node a\nlink a:eth0 host:h0\nnode b\nnode a\n", &c);
	assert_int_equal(c.d.nerrors, 1);
	size_t i;
	for (i = 0; i < c.d.n && c.d.v[i].level != DIAG_ERROR; i++)
		;
	assert_true(i + 1 < c.d.n);
	assert_int_equal(c.d.v[i].pos.line, 4);
	assert_int_equal(c.d.v[i + 1].level, DIAG_NOTE);
	assert_int_equal(c.d.v[i + 1].pos.line, 1);
	assert_int_equal(c.d.v[i + 1].pos.col, 6);
	assert_non_null(strstr(c.d.v[i + 1].msg, "first defined here"));
	checked_free(&c);
}

/* Every `lab` statement after the first is a duplicate, even when the
 * first one was rejected for its name (docs: at most one per file). */
static void test_second_lab_after_invalid_lab(void **state)
{
	(void)state;
	struct checked c;

	check_text("lab Bad\nlab good\nnode a\nlink a:eth0 host:h0\n", &c);
	if (c.d.nerrors != 2)
		report_mismatch(&c, "lab Bad\\nlab good\\n...", "want 2 errors (invalid name, duplicate lab)");
	size_t n = c.d.nerrors;
	checked_free(&c);
	assert_int_equal(n, 2);
}

/* "Print all errors": distinct mistakes on distinct lines each reported, sorted. */
static void test_all_parse_errors_reported(void **state)
{
	(void)state;
	static const char src[] = "switch s\n"
				  "node a\n"
				  "  ip eth0 10.0.0.1/33\n"
				  "  rotue default via 10.0.0.1\n"
				  "  sysctl kernel.x=1\n"
				  "  firewall input accept proto tcp dport 0\n"
				  "link a:eth0 s mtu 67\n";
	struct checked c;

	check_text(src, &c);
	assert_int_equal(c.parse_rc, -1);
	assert_int_equal(c.d.nerrors, 5);
	int lines[5], k = 0;
	for (size_t i = 0; i < c.d.n; i++)
		if (c.d.v[i].level == DIAG_ERROR)
			lines[k++] = c.d.v[i].pos.line;
	checked_free(&c);
	assert_int_equal(lines[0], 3);
	assert_int_equal(lines[1], 4);
	assert_int_equal(lines[2], 5);
	assert_int_equal(lines[3], 6);
	assert_int_equal(lines[4], 7);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issue_example),
		cmocka_unit_test(test_lexical_variants_same_model),
		cmocka_unit_test(test_route_forms),
		cmocka_unit_test(test_switch_multicast),
		cmocka_unit_test(test_node_settings_forms),
		cmocka_unit_test(test_link_options),
		cmocka_unit_test(test_firewall_forms),
		cmocka_unit_test(test_dnat_hostport),
		cmocka_unit_test(test_nat_snat_forms),
		cmocka_unit_test(test_name_limits_accepted),
		cmocka_unit_test(test_default_lab_name_from_file),
		cmocka_unit_test(test_lab_name_valid),
		cmocka_unit_test(test_default_lab_name),
		cmocka_unit_test(test_no_cascade_after_bad_node),
		cmocka_unit_test(test_duplicate_note),
		cmocka_unit_test(test_second_lab_after_invalid_lab),
		cmocka_unit_test(test_all_parse_errors_reported),
	};
	int failed = cmocka_run_group_tests_name("parser", tests, NULL, NULL);

	failed += run_diag_table("parser_keywords", keyword_cases, N_ELEMS(keyword_cases));
	failed += run_diag_table("parser_argument_counts", argcount_cases, N_ELEMS(argcount_cases));
	failed += run_diag_table("parser_names", name_cases, N_ELEMS(name_cases));
	failed += run_diag_table("parser_interface_names", ifname_cases, N_ELEMS(ifname_cases));
	failed += run_diag_table("parser_addresses", address_cases, N_ELEMS(address_cases));
	failed += run_diag_table("parser_numbers", number_cases, N_ELEMS(number_cases));
	failed += run_diag_table("parser_sysctl", sysctl_cases, N_ELEMS(sysctl_cases));
	failed += run_diag_table("parser_firewall_nat", firewall_nat_cases, N_ELEMS(firewall_nat_cases));
	failed += run_diag_table("parser_file", file_cases, N_ELEMS(file_cases));
	return failed ? 1 : 0;
}
