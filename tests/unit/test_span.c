/* A lab across machines (issue 18): `machine` and `place` diagnostics,
 * --machines, the placement (chains cut once, stars balanced, places,
 * `after` and host groups), a machine's part of the plan (tunnel ends,
 * spanning switches, MTU), and the quoting of the remote command. */
#include "topo_test.h"

#include "plan/plan.h"
#include "remote/ssh.h"
#include "topo/span.h"

static const struct diag_case diag_cases[] = {
	{ "machine_option_address", "machine m1 -oProxyCommand=x\nnode a\n", 1, 12, "cannot start with '-'" },
	{ "machine_bad_user", "machine m1 a@b@c\nnode a\n", 1, 12, "a user name has" },
	{ "machine_duplicate", "machine m1 h1\nmachine m1 h2\nnode a\n", 2, 9, "duplicate machine 'm1'" },
	{ "machine_bad_name", "machine 1m h1\nnode a\n", 1, 9, "invalid machine name '1m'" },
	{ "machine_unknown_option", "machine m1 h1 via 10.0.0.1\nnode a\n", 1, 15, "unknown machine option 'via'" },
	{ "machine_bad_underlay", "machine m1 h1 underlay pc1\nnode a\n", 1, 24, "'underlay' takes the machine's own" },
	{ "machine_shell_chars", "machine m1 'h;rm'\nnode a\n", 1, 12, "a host is a name or an address" },
	{ "place_no_on", "machine m1 h1\nnode a\nplace a m1\n", 3, 9, "'place' needs 'on'" },
	{ "place_two_machines", "machine m1 h1\nnode a\nplace a on m1 m2\n", 3, 15, "one machine after 'on'" },
	{ "place_no_node_before_on", "machine m1 h1\nnode a\nplace on m1\n", 3, 7, "at least one node" },
	{ "place_unknown_node", "machine m1 h1\nnode alpha\nplace alpah on m1\n", 3, 7,
	  "no node 'alpah'; did you mean 'alpha'?" },
	{ "place_unknown_machine", "machine m1 h1\nnode a\nplace a on m2\n", 3, 12, "no machine 'm2' (the lab's machines: m1)" },
	{ "place_twice", "machine m1 h1\nmachine m2 h2\nnode a\nplace a on m1\nplace a on m2\n", 5, 7,
	  "node 'a' is placed on m1 and on m2" },
	{ "place_splits_after", "machine m1 h1\nmachine m2 h2\nnode a\nnode b\n    after a\nplace a on m1\nplace b on m2\n",
	  7, 7, "node 'b' cannot run on m2: it must share a machine with node 'a'" },
	{ "place_splits_host",
	  "machine m1 h1\nmachine m2 h2\nnode host\n    ip h0 10.0.0.1/24\nnode a\n    ip eth0 10.0.0.2/24\nlink "
	  "host:h0 a:eth0\nplace a on m2\nplace host on m1\n",
	  9, 7, "node 'host' cannot run on m1" },
	{ "place_range_missing", "machine m1 h1\nnode h1\nplace h[1..5] on m1\n", 3, 7,
	  "no node 'h2' (4 names of this range, up to 'h5', are not nodes)" },
};

static void test_diagnostics(void **state)
{
	(void)state;
	assert_int_equal(run_diag_table("span diagnostics", diag_cases, N_ELEMS(diag_cases)), 0);
}

static int machine_of(const struct topology *t, const char *node)
{
	const struct topo_node *n = topo_find_node(t, node);
	assert_non_null(n);
	return t->span->node_machine[n - t->nodes.v];
}

/* A chain of 9 over 3 machines: three segments of three, two tunnels. */
static void test_chain_cut_in_turn(void **state)
{
	struct checked c;
	(void)state;
	check_valid("machine m1 a\nmachine m2 b\nmachine m3 c\n"
		    "node r[1..9]\n    forward\n"
		    "link r[1..8]:eth1 r[2..9]:eth0\n",
		    &c);
	assert_non_null(c.t->span);
	for (int i = 1; i <= 9; i++) {
		char name[16];
		snprintf(name, sizeof(name), "r%d", i);
		assert_int_equal(machine_of(c.t, name), (i - 1) / 3);
	}
	assert_int_equal(c.t->span->ntunnels, 2);
	assert_int_equal(c.t->span->nspanning, 0);
	checked_free(&c);
}

/* A star of 10 over 3 machines: 4, 3, 3; the switch on all three. */
static void test_star_balanced(void **state)
{
	struct checked c;
	(void)state;
	check_valid("machine m1 a\nmachine m2 b\nmachine m3 c\nswitch lan\nnode h[1..10]\nlink h[1..10]:eth0 lan\n", &c);
	const struct topo_span *s = c.t->span;
	assert_int_equal(s->machine_nodes[0], 4);
	assert_int_equal(s->machine_nodes[1], 3);
	assert_int_equal(s->machine_nodes[2], 3);
	assert_true(topo_span_switch_spans(c.t, 0));
	assert_int_equal(s->nspanning, 1);
	assert_int_equal(s->ntunnels, 0);
	checked_free(&c);
}

/* Places first; a node's neighbours pull it; `after` keeps a group. */
static void test_places_and_groups(void **state)
{
	struct checked c;
	(void)state;
	check_valid("machine m1 a\nmachine m2 b\n"
		    "node x\nnode y\nnode z\n    after w\nnode w\n"
		    "link x:eth0 y:eth0\nlink y:eth1 z:eth0\nlink z:eth1 w:eth0\n"
		    "place y on m2\n",
		    &c);
	assert_int_equal(machine_of(c.t, "y"), 1);
	/* x's one neighbour is on m2, which has room for two. */
	assert_int_equal(machine_of(c.t, "x"), 1);
	assert_int_equal(machine_of(c.t, "z"), machine_of(c.t, "w"));
	assert_int_equal(machine_of(c.t, "z"), 0);
	checked_free(&c);
}

static void test_machines_spec(void **state)
{
	struct checked c;
	char why[200];
	(void)state;
	check_valid("node a\nnode b\nlink a:eth0 b:eth0\nplace b on m2\n", &c);
	assert_null(c.t->span);
	assert_int_equal(topo_machines_from_spec(c.t, "m1=root@10.0.0.1,m2=[fd00::2]", why, sizeof(why)), 0);
	assert_int_equal(c.t->machines.n, 2);
	assert_string_equal(c.t->machines.v[0].user, "root");
	assert_string_equal(c.t->machines.v[0].host, "10.0.0.1");
	assert_null(c.t->machines.v[1].user);
	assert_string_equal(c.t->machines.v[1].host, "fd00::2");
	struct diags d = { 0 };
	assert_int_equal(topo_span_build(c.t, &d), 0);
	assert_int_equal(machine_of(c.t, "b"), 1);
	assert_int_equal(c.t->span->ntunnels, 1);
	diag_free(&d);
	assert_int_equal(topo_machines_from_spec(c.t, "m1=-oProxyCommand=x", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "cannot start with '-'"));
	assert_int_equal(topo_machines_from_spec(c.t, "m1=a,m1=b", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "named twice"));
	assert_int_equal(topo_machines_from_spec(c.t, "m1", why, sizeof(why)), -1);
	checked_free(&c);
}

static size_t count_ops(const struct plan *p, enum plan_op_kind k)
{
	size_t n = 0;
	for (size_t i = 0; i < p->nops; i++)
		n += p->ops[i].kind == k;
	return n;
}

/* Each machine's part: its nodes, its bridge, its tunnel ends. */
static void test_parts(void **state)
{
	struct checked c;
	struct plan p;
	(void)state;
	check_valid("machine m1 a\nmachine m2 b\nmachine m3 c\nswitch lan\n"
		    "node a\nnode b\nnode c\nnode r\n"
		    "link a:eth0 lan\nlink b:eth0 lan\nlink c:eth0 lan\nlink a:eth1 r:eth0\n"
		    "place a on m1\nplace b r on m2\nplace c on m3\n",
		    &c);
	struct topo_span *s = c.t->span;
	s->vni_base = 5000;
	s->port = 4789;
	s->mtu = 1450;
	s->part = 0;
	assert_int_equal(plan_build(c.t, "span", &p, NULL), 0);
	assert_int_equal(count_ops(&p, OP_NODE), 1);
	assert_int_equal(count_ops(&p, OP_BRIDGE), 1);
	assert_int_equal(count_ops(&p, OP_VXLAN), 2); /* the switch's port, a:eth1 */
	assert_int_equal(count_ops(&p, OP_FLOOD), 1); /* m3, beside m2 */
	for (size_t i = 0; i < p.nops; i++) {
		const struct plan_op *op = &p.ops[i];
		if (op->kind == OP_VXLAN && op->vxlan.link != SIZE_MAX) {
			assert_int_equal(op->ns, PLAN_NS_HOST);
			assert_string_equal(op->vxlan.end.name, "eth1");
			assert_int_equal(op->vxlan.remote, 1);
			assert_int_equal(op->vxlan.vni, 5000);
			assert_int_equal(op->vxlan.mtu, 1450);
		} else if (op->kind == OP_VXLAN) {
			assert_int_equal(op->vxlan.end.ns, PLAN_NS_LAB);
			assert_int_equal(op->vxlan.vni, 5001);
			assert_true(op->vxlan.up);
			assert_int_not_equal(op->vxlan.end.master, 0);
		} else if (op->kind == OP_VETH) {
			/* a's port on the spanning switch fits its tunnel */
			assert_int_equal(op->veth.mtu, 1450);
		}
	}
	plan_free(&p);
	s->part = 2;
	assert_int_equal(plan_build(c.t, "span", &p, NULL), 0);
	assert_int_equal(count_ops(&p, OP_NODE), 1);
	assert_int_equal(count_ops(&p, OP_VXLAN), 1);
	assert_int_equal(count_ops(&p, OP_FLOOD), 1);
	plan_free(&p);
	checked_free(&c);
}

/* The placement a machine is sent is the controller's, whatever it would
 * compute itself. */
static void test_span_set(void **state)
{
	struct checked c;
	(void)state;
	check_valid("machine m1 a\nmachine m2 b\nnode x\nnode y\nlink x:eth0 y:eth0\n", &c);
	int where[] = { 1, 1 };
	assert_int_equal(topo_span_set(c.t, where), 0);
	assert_int_equal(c.t->span->ntunnels, 0);
	assert_int_equal(c.t->span->link_machine[0], 1);
	int bad[] = { 0, 7 };
	assert_int_equal(topo_span_set(c.t, bad), -1);
	checked_free(&c);
}

static void test_remote_quoting(void **state)
{
	char *args[] = { "exec", "lab", "n", "--", "sh", "-c", "echo 'x' $HOME; rm -rf /" };
	(void)state;
	char *cmd = rmt_command("/usr/bin/netlab", args, 7);
	assert_string_equal(cmd, "/usr/bin/netlab 'exec' 'lab' 'n' '--' 'sh' '-c' 'echo '\\''x'\\'' $HOME; rm -rf /'");
	free(cmd);
	struct topo_machine m = { .name = "m1", .user = "root", .host = "10.0.0.1" };
	unsetenv("NETLAB_SSH");
	char **v = rmt_ssh_argv(&m, "cmd", false);
	assert_string_equal(v[0], "ssh");
	bool batch = false;
	size_t n = 0;
	while (v[n]) {
		batch = batch || !strcmp(v[n], "BatchMode=yes");
		n++;
	}
	assert_true(batch);
	assert_string_equal(v[n - 2], "10.0.0.1");
	assert_string_equal(v[n - 1], "cmd");
	rmt_argv_free(v);
	setenv("NETLAB_SSH", "ssh -F my_config", 1);
	v = rmt_ssh_argv(&m, "cmd", true);
	assert_string_equal(v[0], "/bin/sh");
	assert_string_equal(v[2], "ssh -F my_config \"$@\"");
	rmt_argv_free(v);
	unsetenv("NETLAB_SSH");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diagnostics),    cmocka_unit_test(test_chain_cut_in_turn),
		cmocka_unit_test(test_star_balanced),  cmocka_unit_test(test_places_and_groups),
		cmocka_unit_test(test_machines_spec),  cmocka_unit_test(test_parts),
		cmocka_unit_test(test_span_set),       cmocka_unit_test(test_remote_quoting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
