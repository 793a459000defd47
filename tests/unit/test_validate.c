/* Validator: checks across the whole topology (references, duplicates,
 * reachability of gateways), the warnings, and topo_load()'s file checks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "topo/lexer.h"
#include "topo_test.h"

/* A node statement at the start of a line: columns are offsets in it. */
static const struct diag_case link_cases[] = {
	{ "interface used by two links", "switch s\nnode a\nnode b\nlink a:eth0 s\nlink a:eth0 b:eth0\n", 5, 6,
	  "interface a:eth0 is already used by another link" },
	{ "interface used by two links, second end", "switch s\nnode a\nnode b\nlink b:eth0 a:eth0\nlink s b:eth0\n", 5,
	  8, "interface b:eth0 is already used by another link" },
	{ "host interface used by two links", "node a\nnode b\nlink host:lab0 a:eth0\nlink b:eth0 host:lab0\n", 4, 13,
	  "interface host:lab0 is already used by another link" },
	{ "link to undefined node", "switch s\nnode a\nlink a:eth0 s\nlink zz:eth0 s\n", 4, 6, "link to undefined node 'zz'" },
	{ "link to undefined switch", "node a\nlink a:eth0 nosuch\n", 2, 13,
	  "link to undefined switch 'nosuch' (declare it with 'switch nosuch'" },
	{ "node written as a switch end", "node a\nnode b\nlink a:eth0 b\n", 3, 13,
	  "'b' is a node: name the interface too, e.g. b:eth0" },
	{ "switch written with an interface", "switch s\nnode a\nlink a:eth0 s:eth0\n", 3, 13,
	  "'s' is a switch: a switch end is written without ':IFACE'" },
	{ "node linked to itself on one interface", "node a\nlink a:eth0 a:eth0\n", 2, 13, "link connects a:eth0 to itself" },
	{ "switch linked to itself", "switch s\nnode a\nlink a:eth0 s\nlink s s\n", 4, 8, "link connects switch 's' to itself" },
	{ "link creating lo", "switch s\nnode a\nlink a:eth0 s\nlink a:lo s\n", 4, 6, "'lo' is the loopback interface" },
	{ "link with both ends in the host", "node a\nlink a:eth0 host:h0\nlink host:x host:y\n", 3, 1,
	  "link has both ends in the host" },
};

static const struct diag_case address_cases[] = {
	/* The message is about the interface, so the caret goes under it. */
	{ "ip on an interface no link creates", "switch s\nnode a\nip eth1 10.0.0.1/24\nlink a:eth0 s\n", 3, 4,
	  "no link creates interface a:eth1" },
	{ "ip on a host interface no link creates", "node a\nlink a:eth0 host:h0\nnode host\nip eth0 10.0.0.1/24\n", 4, 4,
	  "no link creates interface host:eth0" },
	{ "duplicate address on two nodes",
	  "switch s\nnode a\nip eth0 10.0.0.1/24\nnode b\nip eth0 10.0.0.1/24\nlink a:eth0 s\nlink b:eth0 s\n", 5, 9,
	  "duplicate address 10.0.0.1: already assigned to a:eth0" },
	{ "duplicate address with another prefix length",
	  "switch s\nnode a\nip eth0 10.0.0.1/24\nip eth1 10.0.0.1/16\nlink a:eth0 s\nlink a:eth1 s\n", 4, 9,
	  "duplicate address 10.0.0.1" },
	{ "duplicate IPv6 address spelt differently",
	  "switch s\nnode a\nip eth0 fd00::1/64\nnode b\nip eth0 fd00:0:0::0001/64\nlink a:eth0 s\nlink b:eth0 s\n", 5, 9,
	  "duplicate address fd00::1: already assigned to a:eth0" },
	{ "duplicate loopback address", "switch s\nnode a\nip lo 10.255.0.1/32\nnode b\nip lo 10.255.0.1/32\nlink a:eth0 s\n"
	  "link b:eth0 s\n", 5, 7, "duplicate address 10.255.0.1" },
	{ "interface address with prefix /0", "switch s\nnode a\nip eth0 10.0.0.1/0\nlink a:eth0 s\n", 3, 9, "prefix /0" },
};

static const struct diag_case reference_cases[] = {
	{ "gateway outside every subnet", "switch s\nnode a\nip eth0 10.0.0.1/24\nroute default via 10.1.0.1\nlink a:eth0 s\n", 4,
	  19, "gateway 10.1.0.1 is not inside any subnet of node 'a'" },
	{ "gateway outside the subnets of the dev interface",
	  "switch s\nnode a\nip eth0 10.0.0.1/24\nip eth1 10.1.0.1/24\nroute 10.9.0.0/16 via 10.1.0.254 dev eth0\n"
	  "link a:eth0 s\nlink a:eth1 s\n",
	  5, 23, "gateway 10.1.0.254 is not inside any subnet of interface eth0" },
	{ "IPv6 gateway outside every subnet", "switch s\nnode a\nip eth0 fd00::1/64\nroute default via fd00:9::1\nlink a:eth0 s\n",
	  4, 19, "gateway fd00:9::1 is not inside any subnet" },
	{ "IPv6 link-local gateway without dev", "switch s\nnode a\nip eth0 fd00::1/64\nroute fd00:9::/64 via fe80::1\n"
	  "link a:eth0 s\n", 4, 23, "gateway fe80::1 is link-local: every interface has fe80::/64, so name the one it is on with 'dev IFACE'" },
	{ "gateway on a node without addresses", "switch s\nnode a\nroute default via 10.0.0.254\nlink a:eth0 s\n", 3, 19,
	  "is not inside any subnet" },
	{ "gateway is the node's own address", "switch s\nnode a\nip eth0 10.0.0.1/24\nroute default via 10.0.0.1\nlink a:eth0 s\n",
	  4, 19, "gateway 10.0.0.1 is an address of node 'a' itself" },
	{ "route dev unknown", "switch s\nnode a\nip eth0 10.0.0.1/24\nroute 10.9.0.0/16 dev eth9\nlink a:eth0 s\n", 4, 23,
	  "route dev names interface 'eth9', which node 'a' does not have (it has: eth0)" },
	{ "route via with unknown dev", "switch s\nnode a\nip eth0 10.0.0.1/24\nroute 10.9.0.0/16 via 10.0.0.2 dev eth1\n"
	  "link a:eth0 s\n", 4, 36, "route dev names interface 'eth1'" },
	{ "nat masquerade unknown interface", "switch s\nnode a\nnat masquerade eth7\nlink a:eth0 s\n", 3, 16,
	  "nat names interface 'eth7', which node 'a' does not have" },
	{ "nat snat unknown interface", "switch s\nnode a\nnat snat 10.0.0.0/24 eth7 1.2.3.4\nlink a:eth0 s\n", 3, 22,
	  "nat names interface 'eth7'" },
	{ "nat dnat unknown interface", "switch s\nnode a\nnat dnat eth7 tcp 80 10.0.0.2\nlink a:eth0 s\n", 3, 10,
	  "nat names interface 'eth7'" },
	{ "firewall in unknown interface", "switch s\nnode a\nfirewall forward accept in eth3\nlink a:eth0 s\n", 3, 28,
	  "firewall 'in' names interface 'eth3', which node 'a' does not have (it has: eth0)" },
	{ "firewall out unknown interface", "switch s\nnode a\nfirewall output drop out eth4\nlink a:eth0 s\n", 3, 26,
	  "firewall 'out' names interface 'eth4'" },
	{ "unknown interface on a node without links", "switch s\nnode a\nnode b\nfirewall input drop in eth0\nlink a:eth0 s\n",
	  4, 24, "firewall 'in' names interface 'eth0', which node 'b' does not have" },
	{ "dnat to an address on no connected subnet",
	  "switch s\nnode a\nip eth0 10.0.0.1/24\nnat dnat eth0 tcp 80 10.1.0.5:8080\nlink a:eth0 s\n", 4, 22,
	  "nat dnat: 10.1.0.5 is on no subnet connected to node 'a'" },
	{ "IPv6 dnat to an address on no connected subnet",
	  "switch s\nnode a\nip eth0 10.0.0.1/24\nip eth0 fd00::1/64\nnat dnat eth0 udp 53 [fd01::5]:53\nlink a:eth0 s\n", 5,
	  22, "nat dnat: fd01::5 is on no subnet" },
	{ "dnat to the loopback subnet only", "switch s\nnode a\nip lo 10.255.0.1/24\nip eth0 10.0.0.1/24\n"
	  "nat dnat eth0 tcp 80 10.255.0.9\nlink a:eth0 s\n", 5, 22, "is on no subnet connected" },
	{ "masquerade on an interface without IPv4", "switch s\nnode a\nip eth0 fd00::1/64\nnat masquerade eth0\n"
	  "link a:eth0 s\n", 4, 16, "nat masquerade: interface eth0 of node 'a' has no IPv4 address" },
	{ "snat on an interface without an address of its version",
	  "switch s\nnode a\nip eth0 10.0.0.1/24\nnat snat 10.0.0.0/24 eth0 10.0.0.1\nnat snat fd00::/64 eth0 fd00::1\n"
	  "link a:eth0 s\n", 5, 20, "nat snat: interface eth0 of node 'a' has no IPv6 address" },
	{ "duplicate route", "switch s\nnode a\nip eth0 10.0.0.1/24\nroute 10.9.0.0/16 via 10.0.0.2\n"
	  "route 10.9.0.0/16 via 10.0.0.3\nlink a:eth0 s\n", 5, 1, "duplicate route" },
	{ "duplicate default route", "switch s\nnode a\nip eth0 10.0.0.1/24\nroute default via 10.0.0.2\n"
	  "route default via 10.0.0.3\nlink a:eth0 s\n", 5, 1, "duplicate route" },
};

/* Legal: lo everywhere an interface is named, link-local gateways with dev,
 * links declared before the nodes and switches they name. */
static void test_legal_references(void **state)
{
	(void)state;
	assert_valid("link a:eth0 s\n"
		     "link a:eth1 b:eth0\n"
		     "switch s\n"
		     "node a\n"
		     "  ip lo 10.255.0.1/32\n"
		     "  ip lo fd00:ff::1/128\n"
		     "  ip eth0 10.0.0.1/24\n"
		     "  ip eth0 fd00::1/64\n"
		     "  ip eth1 10.1.0.1/30\n"
		     "  route 10.9.0.0/16 via 10.1.0.2\n"
		     "  route 10.8.0.0/16 via 10.1.0.2 dev eth1\n"
		     "  route fd00:9::/64 via fe80::1 dev eth0\n"
		     "  route default via fe80::2 dev eth1\n"
		     "  route 10.7.0.0/16 dev lo\n"
		     "  nat masquerade eth1\n"
		     "  firewall input accept in lo\n"
		     "  firewall output accept out lo\n"
		     "  firewall forward accept in eth0 out eth1\n"
		     "node b\n"
		     "  ip eth0 10.1.0.2/30\n"
		     "  route default via 10.1.0.1\n");
}

static void test_links_resolved(void **state)
{
	(void)state;
	struct checked c;

	check_valid("switch lan\nnode a\nnode b\nlink a:eth0 lan\nlink b:eth0 lan\nlink a:eth1 b:eth1\nlink host:lab0 b:eth2\n",
		    &c);
	struct topology *t = c.t;
	struct topo_node *a = topo_find_node(t, "a"), *b = topo_find_node(t, "b");
	assert_int_equal(t->switches.v[0].nports, 2);
	assert_int_equal(a->ifaces.n, 2);
	assert_int_equal(b->ifaces.n, 3);
	const struct topo_iface *i = topo_node_iface(b, "eth1");
	assert_non_null(i);
	assert_int_equal(i->link, 2);
	assert_int_equal(i->end, 1);
	assert_int_equal(t->links.v[0].a.index, (int)(a - t->nodes.v));
	assert_int_equal(t->links.v[0].b.index, 0);
	/* A host: link creates the host block when the file has none. */
	struct topo_node *h = topo_host_node(t);
	assert_non_null(h);
	assert_true(h->is_host);
	assert_non_null(topo_node_iface(h, "lab0"));
	assert_int_equal(topo_count_nodes(t), 2);
	assert_int_equal(c.d.nwarnings, 0);
	checked_free(&c);
}

/* docs/topology.md, `node host`: route dev and nat may name an interface
 * that already exists in the host (its uplink); check cannot see it. */
static void test_host_block_may_name_host_interfaces(void **state)
{
	(void)state;
	assert_valid("node gw\n"
		     "    ip eth0 192.168.99.2/24\n"
		     "    route default via 192.168.99.1\n"
		     "\n"
		     "link host:lab0 gw:eth0\n"
		     "\n"
		     "node host\n"
		     "    ip lab0 192.168.99.1/24\n"
		     "    forward\n"
		     "    nat masquerade eth0                 # the host's uplink\n"
		     "    route 10.99.0.0/16 dev eth0\n");
}

/* A broken statement is reported once; what depends on it stays quiet. */
static void test_no_cascade_after_broken_link(void **state)
{
	(void)state;
	static const char src[] = "switch s\n"
				  "node a\n"
				  "  ip eth0 10.0.0.1/24\n"
				  "  route 10.9.0.0/16 dev eth0\n"
				  "  forward\n"
				  "  firewall forward accept in eth0\n"
				  "link a:eth0 s mtu 5\n";
	struct checked c;

	check_text(src, &c);
	if (c.d.nerrors != 1 || c.d.nwarnings != 0)
		report_mismatch(&c, src, "want exactly 1 error (the MTU) and no warning");
	size_t e = c.d.nerrors, w = c.d.nwarnings;
	int line = first_of_level(&c.d, DIAG_ERROR) ? first_of_level(&c.d, DIAG_ERROR)->pos.line : 0;
	checked_free(&c);
	assert_int_equal(e, 1);
	assert_int_equal(line, 7);
	/* No "node 'a' has no links" / "switch 's' has no links": the file
	 * does link them, the link line just has a mistake. */
	assert_int_equal(w, 0);
}

static void test_isolated_node_warns(void **state)
{
	(void)state;
	struct checked c;

	check_text("switch s\nnode a\nlink a:eth0 s\nnode lonely\n  forward\n", &c);
	assert_int_equal(c.parse_rc, 0);
	assert_int_equal(c.validate_rc, 0);
	assert_int_equal(c.d.nerrors, 0);
	assert_int_equal(c.d.nwarnings, 1);
	const struct diag *w = first_of_level(&c.d, DIAG_WARNING);
	assert_non_null(w);
	assert_int_equal(w->pos.line, 4);
	assert_int_equal(w->pos.col, 6);
	assert_non_null(strstr(w->msg, "node 'lonely' has no links: it is isolated"));
	checked_free(&c);
}

static void test_other_warnings(void **state)
{
	(void)state;
	static const struct {
		const char *src;
		const char *msg;
	} cases[] = {
		{ "switch s\nswitch t\nnode a\nlink a:eth0 s\n", "switch 't' has no links" },
		{ "switch s\nnode a\n  forward\nlink a:eth0 s\n", "node 'a' forwards but has only one interface" },
		{ "switch s\nnode a\nip eth0 10.0.0.1/24\nfirewall policy input drop\nfirewall input reject proto udp\n"
		  "run python3 -m http.server\nlink a:eth0 s\n",
		  "node 'a' drops all input and accepts nothing on input, but runs a server" },
	};
	struct checked c;

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		check_text(cases[i].src, &c);
		bool ok = c.d.nerrors == 0 && c.d.nwarnings == 1 && strstr(first_of_level(&c.d, DIAG_WARNING)->msg, cases[i].msg);
		if (!ok)
			report_mismatch(&c, cases[i].src, cases[i].msg);
		checked_free(&c);
		assert_true(ok);
	}
	/* No lockout warning: an accept rule, no server, or a later accept policy. */
	static const char *const quiet[] = {
		"switch s\nnode a\nfirewall policy input drop\nfirewall input accept proto tcp dport 80\nrun sleep 1\n"
		"link a:eth0 s\n",
		"switch s\nnode a\nfirewall policy input drop\nlink a:eth0 s\n",
		"switch s\nnode a\nfirewall policy input drop\nfirewall policy input accept\nrun sleep 1\nlink a:eth0 s\n",
		"switch s\nnode a\nfirewall policy output drop\nrun sleep 1\nlink a:eth0 s\n",
	};
	for (size_t i = 0; i < N_ELEMS(quiet); i++) {
		check_text(quiet[i], &c);
		bool ok = c.d.nerrors == 0 && c.d.nwarnings == 0;
		if (!ok)
			report_mismatch(&c, quiet[i], "expected no warning");
		checked_free(&c);
		assert_true(ok);
	}
	/* `node host` is neither isolated nor warned about. */
	check_text("node a\nlink a:eth0 host:h0\nnode host\n  ip h0 10.0.0.1/24\n", &c);
	assert_int_equal(c.d.nerrors, 0);
	assert_int_equal(c.d.nwarnings, 0);
	checked_free(&c);
}

/* "prints all errors": three distinct mistakes give three errors, sorted. */
static void test_all_errors_reported(void **state)
{
	(void)state;
	static const char src[] = "switch s\n"
				  "node a\n"
				  "  ip eth0 10.0.0.1/24\n"
				  "  ip eth5 10.0.5.1/24\n"              /* no link creates eth5 */
				  "  route default via 10.9.9.9\n"       /* gateway outside */
				  "node b\n"
				  "  ip eth0 10.0.0.1/24\n"              /* duplicate address */
				  "link a:eth0 s\n"
				  "link b:eth0 s\n";
	struct checked c;

	check_text(src, &c);
	assert_int_equal(c.parse_rc, 0);
	assert_int_equal(c.validate_rc, -1);
	assert_int_equal(c.d.nerrors, 3);
	int lines[3], k = 0;
	for (size_t i = 0; i < c.d.n && k < 3; i++)
		if (c.d.v[i].level == DIAG_ERROR)
			lines[k++] = c.d.v[i].pos.line;
	checked_free(&c);
	assert_int_equal(lines[0], 4);
	assert_int_equal(lines[1], 5);
	assert_int_equal(lines[2], 7);
}

/* Parse errors do not stop validation: both kinds in one report. */
static void test_parse_and_validate_errors_together(void **state)
{
	(void)state;
	struct checked c;

	check_text("switch s\nnode a\n  rotue x\nlink a:eth0 s\nlink zz:eth0 s\n", &c);
	assert_int_equal(c.parse_rc, -1);
	assert_int_equal(c.validate_rc, -1);
	assert_int_equal(c.d.nerrors, 2);
	checked_free(&c);
}

/* The `node host` block is not a node: a file with nothing else has no
 * node (docs: "empty (or without any node)" is an error). */
static void test_host_block_alone_is_no_topology(void **state)
{
	(void)state;
	assert_first_error("switch s\nnode host\n  ip lab0 10.0.0.1/24\nlink host:lab0 s\n", 0, 0, "no nodes");
}

/* ------------------------------------------------------------------ */
/* topo_load(): the file itself                                        */

static char tmpdir[64];

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/netlab-test-validate-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	(void)state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *write_tmp(const char *name, const char *data, size_t len)
{
	char *path = NULL;

	assert_true(asprintf(&path, "%s/%s", tmpdir, name) > 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* topo_load() and the first error: line 0 for whole-file errors. */
static void assert_load_error(const char *path, int line, const char *substr)
{
	struct diags d = { 0 };
	struct topology *t = NULL;
	int r = topo_load(path, &t, NULL, &d);
	const struct diag *e = first_of_level(&d, DIAG_ERROR);
	bool ok = r < 0 && e && e->pos.line == line && strstr(e->msg, substr);

	if (!ok)
		print_error("%s: want error (line %d) \"%s\", got r=%d, %zu errors, first: %s\n", path, line, substr, r,
			    d.nerrors, e ? e->msg : "-");
	topo_free(t);
	diag_free(&d);
	if (!ok)
		fail();
}

static void test_load_missing_and_directory(void **state)
{
	(void)state;
	char *p = NULL;

	assert_true(asprintf(&p, "%s/does-not-exist.topo", tmpdir) > 0);
	assert_load_error(p, 0, "cannot read topology: No such file or directory");
	free(p);
	assert_load_error(tmpdir, 0, "not a regular file");
}

static void test_load_empty_and_no_nodes(void **state)
{
	(void)state;
	char *p = write_tmp("empty.topo", "", 0);
	assert_load_error(p, 0, "file is empty");
	free(p);
	p = write_tmp("comments.topo", "# just a comment\n", 17);
	assert_load_error(p, 0, "no nodes defined");
	free(p);
}

/* Build a file of exactly size bytes: a valid lab padded with comments. */
static char *sized_topology(size_t size)
{
	static const char head[] = "node a\nlink a:eth0 host:h0\n";
	char *buf = malloc(size);

	assert_non_null(buf);
	memcpy(buf, head, sizeof(head) - 1);
	size_t off = sizeof(head) - 1;
	while (off < size) {
		size_t n = size - off > 1000 ? 1000 : size - off;
		memset(buf + off, ' ', n);
		buf[off] = '#';
		buf[off + n - 1] = '\n';
		off += n;
	}
	return buf;
}

static void test_load_size_limit(void **state)
{
	(void)state;
	struct diags d = { 0 };
	struct topology *t = NULL;
	char *buf = sized_topology(TOPO_MAX_FILE);
	char *p = write_tmp("exactly-4mib.topo", buf, TOPO_MAX_FILE);

	assert_int_equal(topo_load(p, &t, NULL, &d), 0);
	assert_int_equal(d.nerrors, 0);
	topo_free(t);
	diag_free(&d);
	free(p);
	free(buf);

	buf = sized_topology(TOPO_MAX_FILE + 1);
	p = write_tmp("too-big.topo", buf, TOPO_MAX_FILE + 1);
	assert_load_error(p, 0, "limited to 4 MiB");
	free(p);
	free(buf);
}

static void test_load_valid_file(void **state)
{
	(void)state;
	static const char src[] = "node a\nnode b\nlink a:eth0 b:eth0\n";
	struct diags d = { 0 };
	struct topology *t = NULL;
	struct topo_source *lines = NULL;
	char *p = write_tmp("My Lab.topo", src, sizeof(src) - 1);

	assert_int_equal(topo_load(p, &t, &lines, &d), 0);
	assert_non_null(t);
	assert_int_equal(d.n, 0);
	assert_string_equal(t->name, "my-lab");
	assert_string_equal(t->file, p);
	assert_non_null(t->dir);
	assert_int_equal(t->dir[0], '/');
	assert_non_null(strstr(t->dir, "netlab-test-validate-"));
	assert_non_null(lines);
	assert_int_equal(lines->lines.n, 3);
	topo_free(t);
	topo_source_free(lines);
	diag_free(&d);
	free(p);
}

/* topo_load_buffer() (check -): the same checks, under the name given,
 * with relative paths from the directory given. */
static void test_load_buffer(void **state)
{
	(void)state;
	static const char src[] = "node a\nnode b\nlink a:eth0 b:eth0\n";
	static const char bad[] = "node a\nrotue x\n";
	struct diags d = { 0 };
	struct topology *t = NULL;
	struct topo_source *lines = NULL;

	assert_int_equal(topo_load_buffer("<stdin>", src, sizeof(src) - 1, "/srv", &t, &lines, &d), 0);
	assert_int_equal(d.n, 0);
	assert_string_equal(t->name, "stdin");
	assert_string_equal(t->file, "<stdin>");
	assert_string_equal(t->dir, "/srv");
	assert_string_equal(lines->file, "<stdin>");
	assert_int_equal(lines->lines.n, 3);
	topo_free(t);
	topo_source_free(lines);

	assert_int_equal(topo_load_buffer("<stdin>", bad, sizeof(bad) - 1, NULL, &t, NULL, &d), -1);
	const struct diag *e = first_of_level(&d, DIAG_ERROR);
	assert_non_null(e);
	assert_int_equal(e->pos.line, 2);
	assert_int_equal(e->pos.col, 1);
	assert_null(t ? t->dir : NULL);
	topo_free(t);
	diag_free(&d);

	char *big = sized_topology(TOPO_MAX_FILE + 1);
	assert_int_equal(topo_load_buffer("<stdin>", big, TOPO_MAX_FILE + 1, NULL, &t, NULL, &d), -1);
	e = first_of_level(&d, DIAG_ERROR);
	assert_non_null(e);
	assert_non_null(strstr(e->msg, "limited to 4 MiB"));
	topo_free(t);
	diag_free(&d);
	free(big);
}

/* topo_load() reports validation errors too, sorted by position. */
static void test_load_sorts_all_errors(void **state)
{
	(void)state;
	static const char src[] = "node a\nlink a:eth0 nosuch\nnode b\nip eth0 10.0.0.1/40\nnode a\n";
	struct diags d = { 0 };
	struct topology *t = NULL;
	char *p = write_tmp("errors.topo", src, sizeof(src) - 1);

	assert_int_equal(topo_load(p, &t, NULL, &d), -1);
	assert_int_equal(d.nerrors, 3);
	int last = 0;
	for (size_t i = 0; i < d.n; i++) {
		if (d.v[i].level == DIAG_NOTE)
			continue;
		assert_true(d.v[i].pos.line >= last);
		last = d.v[i].pos.line;
	}
	topo_free(t);
	diag_free(&d);
	free(p);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_legal_references),
		cmocka_unit_test(test_links_resolved),
		cmocka_unit_test(test_host_block_may_name_host_interfaces),
		cmocka_unit_test(test_no_cascade_after_broken_link),
		cmocka_unit_test(test_isolated_node_warns),
		cmocka_unit_test(test_other_warnings),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_parse_and_validate_errors_together),
		cmocka_unit_test(test_host_block_alone_is_no_topology),
	};
	static const struct CMUnitTest load_tests[] = {
		cmocka_unit_test(test_load_missing_and_directory),
		cmocka_unit_test(test_load_empty_and_no_nodes),
		cmocka_unit_test(test_load_size_limit),
		cmocka_unit_test(test_load_valid_file),
		cmocka_unit_test(test_load_sorts_all_errors),
		cmocka_unit_test(test_load_buffer),
	};
	int failed = cmocka_run_group_tests_name("validate", tests, NULL, NULL);

	failed += run_diag_table("validate_links", link_cases, N_ELEMS(link_cases));
	failed += run_diag_table("validate_addresses", address_cases, N_ELEMS(address_cases));
	failed += run_diag_table("validate_references", reference_cases, N_ELEMS(reference_cases));
	failed += cmocka_run_group_tests_name("topo_load", load_tests, make_tmpdir, remove_tmpdir);
	return failed ? 1 : 0;
}
