/* Unit tests of the plan (src/plan/): the ordered list of operations
 * `up` performs, `up --dry-run`'s text and JSON, and the rules' iptables
 * rendering.  No kernel access. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <string.h>

#include "plan/plan.h"
#include "topo_test.h"

static const char *const lab_src =
	"lab p\n"                                       /* 1 */
	"switch lan\n"                                  /* 2 */
	"switch hub multicast flood\n"                  /* 3 */
	"node r\n"                                      /* 4 */
	"    forward\n"                                 /* 5 */
	"    ip eth0 10.0.0.1/24\n"                     /* 6 */
	"    ip eth1 10.1.0.1/24\n"                     /* 7 */
	"    sysctl net.ipv4.conf.all.rp_filter 0\n"    /* 8 */
	"    firewall forward drop proto tcp dport 22\n" /* 9 */
	"    nat masquerade eth1\n"                     /* 10 */
	"node h\n"                                      /* 11 */
	"    ip eth0 10.0.0.2/24\n"                     /* 12 */
	"    route default via 10.0.0.1\n"              /* 13 */
	"    tmpfs /mnt 1M\n"                           /* 14 */
	"    exec echo first\n"                         /* 15 */
	"    run sleep 100\n"                           /* 16 */
	"    exec echo second\n"                        /* 17 */
	"node x\n"                                      /* 18 */
	"    ip eth0 10.9.0.1/30\n"                     /* 19 */
	"link r:eth0 lan\n"                             /* 20 */
	"link h:eth0 lan\n"                             /* 21 */
	"link r:eth1 hub\n"                             /* 22 */
	"link x:eth0 r:eth2\n";                         /* 23 */

struct fixture {
	struct checked c;
	struct plan p;
};

static struct fixture *setup_plan(const char *src)
{
	struct fixture *f = calloc(1, sizeof(*f));
	nlab_error *err = NULL;

	assert_non_null(f);
	check_valid(src, &f->c);
	assert_int_equal(plan_build(f->c.t, "p", &f->p, &err), 0);
	assert_null(err);
	return f;
}

static void teardown_plan(struct fixture *f)
{
	plan_free(&f->p);
	checked_free(&f->c);
	free(f);
}

static int node_index(const struct topology *t, const char *name)
{
	return (int)(topo_find_node(t, name) - t->nodes.v);
}

/* Sections come in apply order, each holding only its own kinds. */
static void test_sections(void **state)
{
	(void)state;
	struct fixture *f = setup_plan(lab_src);
	const struct plan *p = &f->p;

	for (int s = 0; s < PLAN_NSECTIONS; s++)
		assert_true(p->sec[s] <= p->sec[s + 1]);
	assert_int_equal(p->sec[PLAN_NSECTIONS], p->nops);
	for (size_t i = 0; i < p->nops; i++) {
		enum plan_op_kind k = p->ops[i].kind;
		if (i < p->sec[PLAN_SEC_NODES + 1])
			assert_true(k == OP_NODE || k == OP_MOUNT);
		else if (i < p->sec[PLAN_SEC_LINKS + 1])
			assert_true(k == OP_SYSCTL || k == OP_LINK_UP || k == OP_BRIDGE || k == OP_VETH ||
				    k == OP_QUERIER || k == OP_QDISC || k == OP_CAPTURE);
		else if (i >= p->sec[PLAN_SEC_COMMANDS])
			assert_true(k == OP_EXEC || k == OP_RUN);
		else
			assert_true(k != OP_NODE && k != OP_BRIDGE && k != OP_VETH && k != OP_EXEC && k != OP_RUN);
	}
	/* Three nodes, no host section. */
	size_t nodes = 0;
	for (size_t i = p->sec[PLAN_SEC_NODES]; i < p->sec[PLAN_SEC_NODES + 1]; i++)
		nodes += p->ops[i].kind == OP_NODE;
	assert_int_equal(nodes, 3);
	assert_int_equal(p->sec[PLAN_SEC_HOST], p->sec[PLAN_SEC_HOST + 1]);
	assert_int_equal(p->nbridges, 2);
	assert_int_equal(p->nveths, 4);
	teardown_plan(f);
}

/* Bridges get ifindexes first, then the lab ends of veths; node ends get
 * lo + 1 + their link order; only snooping switches get a querier. */
static void test_links(void **state)
{
	(void)state;
	struct fixture *f = setup_plan(lab_src);
	const struct plan *p = &f->p;
	int bridges = 0, queriers = 0, veths = 0;

	for (size_t i = p->sec[PLAN_SEC_LINKS]; i < p->sec[PLAN_SEC_LINKS + 1]; i++) {
		const struct plan_op *op = &p->ops[i];
		if (op->kind == OP_BRIDGE) {
			assert_int_equal(op->bridge.ifindex, 2 + bridges);
			assert_int_equal(op->bridge.snoop, bridges == 0);
			assert_int_equal(op->line, 2 + bridges);
			bridges++;
		} else if (op->kind == OP_QUERIER) {
			assert_string_equal(op->bridge.name, "br0");
			queriers++;
		} else if (op->kind == OP_VETH) {
			assert_int_equal(op->line, 20 + veths);
			if (veths < 3) {
				/* A switch end is the main device: it can be
				 * enslaved in the creating request. */
				assert_int_equal(op->veth.a.ns, PLAN_NS_LAB);
				assert_int_equal(op->veth.a.ifindex, 4 + veths);
				assert_int_not_equal(op->veth.a.master, 0);
				assert_true(op->veth.up);
			} else {
				/* x:eth0 <-> r:eth2: r's third interface. */
				assert_false(op->veth.up);
				assert_int_equal(op->veth.b.ns, node_index(f->c.t, "r"));
				assert_string_equal(op->veth.b.name, "eth2");
				assert_int_equal(op->veth.b.ifindex, 4);
			}
			veths++;
		}
	}
	assert_int_equal(bridges, 2);
	assert_int_equal(queriers, 1);
	assert_int_equal(veths, 4);
	teardown_plan(f);
}

/* A node's configure group: lo, interfaces not raised by their veth,
 * addresses, routes, forwarding, sysctls, then its rules. */
static void test_configure(void **state)
{
	(void)state;
	struct fixture *f = setup_plan(lab_src);
	const struct plan *p = &f->p;
	int r = node_index(f->c.t, "r");
	enum plan_op_kind want[] = { OP_LINK_UP, OP_LINK_UP, OP_ADDR, OP_ADDR, OP_SYSCTL, OP_SYSCTL, OP_SYSCTL,
				     OP_FW_RULE, OP_FW_RULE, OP_FW_RULE };
	size_t k = 0;

	for (size_t i = p->sec[PLAN_SEC_CONFIGURE]; i < p->sec[PLAN_SEC_CONFIGURE + 1]; i++) {
		const struct plan_op *op = &p->ops[i];
		if (op->ns != r)
			continue;
		assert_true(k < sizeof(want) / sizeof(want[0]));
		assert_int_equal(op->kind, want[k]);
		if (k == 1) /* eth2 (to x) is raised here; eth0/eth1 by their veths */
			assert_string_equal(op->iface.ifname, "eth2");
		if (k == 6) {
			assert_string_equal(op->sysctl.key, "net.ipv4.conf.all.rp_filter");
			assert_int_equal(op->line, 8);
		}
		if (op->kind == OP_FW_RULE)
			assert_int_equal(op->line, k == 9 ? 10 : 9);
		k++;
	}
	assert_int_equal(k, sizeof(want) / sizeof(want[0]));
	teardown_plan(f);
}

/* The init's view: its mounts and its commands, in file order. */
static void test_node_ops(void **state)
{
	(void)state;
	struct fixture *f = setup_plan(lab_src);
	const struct plan *p = &f->p;
	const struct plan_node_ops *no = &p->nodes[node_index(f->c.t, "h")];

	assert_int_equal(no->nmounts, 1);
	assert_int_equal(p->ops[no->mounts].kind, OP_MOUNT);
	assert_string_equal(p->ops[no->mounts].mount->dst, "/mnt");
	assert_int_equal(no->ncmds, 3);
	assert_int_equal(p->ops[no->cmds].kind, OP_EXEC);
	assert_int_equal(p->ops[no->cmds + 1].kind, OP_RUN);
	assert_int_equal(p->ops[no->cmds + 2].kind, OP_EXEC);
	assert_int_equal(p->ops[no->cmds + 2].line, 17);
	assert_string_equal(p->ops[no->cmds + 2].cmd->text, "echo second");
	teardown_plan(f);
}

/* `node host`: its links raised by name (ifindex 0: looked up), its
 * forwarding and forward rules in the host section. */
static void test_host(void **state)
{
	(void)state;
	struct fixture *f = setup_plan("switch s\n"
				       "node host\n"
				       "    forward\n"
				       "    ip hn0 10.5.0.1/24\n"
				       "    nat masquerade eth9\n"
				       "node a\n"
				       "    ip eth0 10.5.0.2/24\n"
				       "link host:hn0 a:eth0\n");
	const struct plan *p = &f->p;
	size_t ups = 0, addrs = 0, sysctls = 0, rules = 0;

	for (size_t i = p->sec[PLAN_SEC_HOST]; i < p->sec[PLAN_SEC_HOST + 1]; i++) {
		const struct plan_op *op = &p->ops[i];
		assert_int_equal(op->ns, PLAN_NS_HOST);
		ups += op->kind == OP_LINK_UP;
		addrs += op->kind == OP_ADDR;
		sysctls += op->kind == OP_SYSCTL;
		rules += op->kind == OP_FW_RULE;
		if (op->kind == OP_LINK_UP || op->kind == OP_ADDR)
			assert_int_equal(op->iface.ifindex, 0);
	}
	assert_int_equal(ups, 1);
	assert_int_equal(addrs, 1);
	assert_int_equal(sysctls, 2);
	/* Two forward rules for hn0 (in, established back) and the
	 * masquerade. */
	assert_int_equal(rules, 3);
	teardown_plan(f);
}

/* The dry run's text into *buf (the caller's: a stream writing into a
 * local of this function would leave the caller a dangling pointer in
 * the compiler's eyes). */
static void printed(const struct plan *p, char **buf)
{
	size_t len = 0;
	FILE *out = open_memstream(buf, &len);

	assert_non_null(out);
	plan_print(p, out);
	fclose(out);
}

/* The dry run shows every kind of operation with its FILE:LINE. */
static void test_print(void **state)
{
	(void)state;
	struct fixture *f = setup_plan(lab_src);
	char *text = NULL;
	printed(&f->p, &text);
	static const char *const want[] = {
		"lab p (test.topo): 3 nodes, 2 switches, 4 links;",
		"\nnode r ",
		"ip eth0 10.0.0.1/24",
		"test.topo:6\n",
		"sysctl net.ipv4.ip_forward=1",
		"sysctl net.ipv4.conf.all.rp_filter=0",
		"iptables -A FORWARD -p tcp --dport 22 -j DROP",
		"iptables -t nat -A POSTROUTING -o eth1 -j MASQUERADE",
		"route default via 10.0.0.1",
		"tmpfs /mnt size 1048576",
		"exec echo first",
		"run sleep 100",
		"bridge br1#3 for switch hub, multicast flooded",
		"veth x:eth0#2 <-> r:eth2#4",
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(text, want[i]))
			fail_msg("dry run lacks '%s':\n%s", want[i], text);
	/* Grouped: r's address comes after "node r" and before "node h". */
	const char *r = strstr(text, "\nnode r "), *h = strstr(text, "\nnode h "), *a = strstr(text, "ip eth0 10.0.0.1/24");
	assert_true(r && h && a);
	size_t ro = (size_t)(r - text), ho = (size_t)(h - text), ao = (size_t)(a - text);
	assert_true(ro < ao && ao < ho);
	/* Every operation is printed, once: one indented line each. */
	size_t lines = 0;
	for (const char *l = text; l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		lines += !strncmp(l, "  ", 2);
	assert_int_equal(lines, f->p.nops);
	free(text);
	teardown_plan(f);
}

static void test_json(void **state)
{
	(void)state;
	struct fixture *f = setup_plan(lab_src);
	json_object *o = plan_json(&f->p), *v, *ops;

	assert_true(json_object_object_get_ex(o, "schema", &v));
	assert_string_equal(json_object_get_string(v), "netlab/1");
	assert_true(json_object_object_get_ex(o, "operations", &ops));
	assert_int_equal(json_object_array_length(ops), f->p.nops);
	bool seen_route = false;
	for (size_t i = 0; i < f->p.nops; i++) {
		json_object *op = json_object_array_get_idx(ops, i), *kind, *where, *line;
		assert_true(json_object_object_get_ex(op, "op", &kind));
		assert_true(json_object_object_get_ex(op, "where", &where));
		if (!strcmp(json_object_get_string(kind), "route")) {
			seen_route = true;
			assert_string_equal(json_object_get_string(where), "h");
			assert_true(json_object_object_get_ex(op, "line", &line));
			assert_int_equal(json_object_get_int(line), 13);
		}
	}
	assert_true(seen_route);
	/* What is printed parses back. */
	json_object *back = json_tokener_parse(json_object_to_json_string(o));
	assert_non_null(back);
	json_object_put(back);
	json_object_put(o);
	teardown_plan(f);
}

/* Impairments: one OP_QDISC per end, in the batch of the end's own
 * namespace (switch ports in the links section, node ends in their node's
 * configure group, host ends in the host section); capture links. */
static void test_shaping(void **state)
{
	(void)state;
	struct fixture *f = setup_plan("switch lan\n"
				       "node a\n"
				       "node b\n"
				       "link a:eth0 lan rate 20mbit loss 1% capture\n" /* 4 */
				       "link a:eth1 b:eth1 delay 10ms\n"              /* 5 */
				       "link b:eth0 host:h0 rate 1mbit burst 8k\n"    /* 6 */
				       "link b:eth2 lan\n");                           /* 7 */
	const struct plan *p = &f->p;
	int lab = 0, node = 0, host = 0, captures = 0;
	int a = node_index(f->c.t, "a"), b = node_index(f->c.t, "b");

	for (size_t i = 0; i < p->nops; i++) {
		const struct plan_op *op = &p->ops[i];
		if (op->kind == OP_CAPTURE) {
			captures++;
			assert_int_equal(op->ns, PLAN_NS_LAB);
			assert_string_equal(op->shape.file, "a.eth0--lan.pcap");
			assert_true(i < p->sec[PLAN_SEC_LINKS + 1]);
			continue;
		}
		if (op->kind != OP_QDISC)
			continue;
		assert_int_not_equal(op->line, 7); /* an unshaped link has none */
		if (op->ns == PLAN_NS_LAB) {
			lab++;
			assert_true(i < p->sec[PLAN_SEC_LINKS + 1]);
			assert_string_equal(op->shape.ifname, "v0b");
			assert_int_equal(op->shape.shape.rate_bps, 20000000);
			assert_int_equal(op->shape.shape.loss_ppm, 10000);
		} else if (op->ns == PLAN_NS_HOST) {
			host++;
			assert_true(i >= p->sec[PLAN_SEC_HOST] && i < p->sec[PLAN_SEC_HOST + 1]);
			assert_string_equal(op->shape.ifname, "h0");
			assert_int_equal(op->shape.ifindex, 0); /* looked up when applied */
			assert_int_equal(op->shape.shape.burst, 8192);
		} else {
			node++;
			assert_true(i >= p->sec[PLAN_SEC_CONFIGURE] && i < p->sec[PLAN_SEC_CONFIGURE + 1]);
			assert_true(op->ns == a || op->ns == b);
			if (op->line == 5)
				assert_int_equal(op->shape.shape.delay_us, 10000);
		}
	}
	/* a:eth0, a:eth1, b:eth1, b:eth0 */
	assert_int_equal(lab, 1);
	assert_int_equal(node, 4);
	assert_int_equal(host, 1);
	assert_int_equal(captures, 1);
	assert_non_null(p->capture_dir);
	assert_non_null(strstr(p->capture_dir, "/p-captures"));

	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	plan_print(p, out);
	fclose(out);
	assert_non_null(strstr(text, "shape v0b#3 egress: tbf rate 20mbit burst 25000 limit 150000 + clsact + bpf loss 1%"));
	assert_non_null(strstr(text, "shape eth1#3 egress: netem delay 10ms (needs sch_netem)"));
	assert_non_null(strstr(text, "shape h0 egress: tbf rate 1mbit burst 8192"));
	assert_non_null(strstr(text, "capture v0b#3 into "));
	free(text);
	teardown_plan(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sections), cmocka_unit_test(test_links), cmocka_unit_test(test_configure),
		cmocka_unit_test(test_node_ops), cmocka_unit_test(test_host),  cmocka_unit_test(test_print),
		cmocka_unit_test(test_json),	 cmocka_unit_test(test_shaping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
