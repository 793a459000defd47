/* Ranges of the topology language: the `{i}` expression evaluator, range
 * syntax, substitution, and whole-file expansion into the same model as
 * the written-out file, with diagnostics that name the expansion. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo/addr.h"
#include "topo/expr.h"
#include "topo/range.h"
#include "topo_test.h"

/* ------------------------------------------------------------------ */
/* Expressions                                                          */

static int64_t eval_ok(const char *s, int64_t i)
{
	int64_t v = -12345;
	char why[128] = "";
	size_t off = 99;

	if (topo_expr_eval(s, strlen(s), i, &v, why, sizeof(why), &off) < 0)
		fail_msg("'%s' with i=%lld failed: %s (at %zu)", s, (long long)i, why, off);
	return v;
}

static void eval_bad(const char *s, int64_t i, const char *want, size_t want_off)
{
	int64_t v = 0;
	char why[128] = "";
	size_t off = 99;

	if (topo_expr_eval(s, strlen(s), i, &v, why, sizeof(why), &off) == 0)
		fail_msg("'%s' with i=%lld evaluated to %lld, expected an error", s, (long long)i, (long long)v);
	if (!strstr(why, want))
		fail_msg("'%s': error '%s' lacks '%s'", s, why, want);
	assert_int_equal(off, want_off);
}

static void test_expr_values(void **state)
{
	(void)state;
	assert_int_equal(eval_ok("i", 7), 7);
	assert_int_equal(eval_ok("i+1", 7), 8);
	assert_int_equal(eval_ok("i-1", 7), 6);
	assert_int_equal(eval_ok("i*2", 7), 14);
	assert_int_equal(eval_ok("i/250", 251), 1);
	assert_int_equal(eval_ok("i/250", 249), 0);
	assert_int_equal(eval_ok("i%250+1", 250), 1);
	assert_int_equal(eval_ok("i%250+1", 251), 2);
	/* Precedence: * / % before + -, left to right. */
	assert_int_equal(eval_ok("1+i*2", 5), 11);
	assert_int_equal(eval_ok("(1+i)*2", 5), 12);
	assert_int_equal(eval_ok("i-2-1", 10), 7);
	assert_int_equal(eval_ok("i/2/2", 17), 4);
	assert_int_equal(eval_ok("i%7*2", 10), 6);
	assert_int_equal(eval_ok(" ( ( i ) ) ", 3), 3);
	assert_int_equal(eval_ok("-i+10", 3), 7);
	assert_int_equal(eval_ok("-(i-5)", 3), 2);
	assert_int_equal(eval_ok("(i-1)/64%256", 1000), 15);
	assert_int_equal(eval_ok("i-10", 3), -7);
}

static void test_expr_errors(void **state)
{
	(void)state;
	eval_bad("i/0", 3, "division by zero", 1);
	eval_bad("i%(i-3)", 3, "modulo by zero", 1);
	eval_bad("i+", 3, "expression ends", 2);
	eval_bad("(i+1", 3, "unbalanced '('", 0);
	eval_bad("i+1)", 3, "unbalanced ')'", 3);
	eval_bad("i i", 3, "missing operator", 2);
	eval_bad("ii", 3, "missing operator", 1);
	eval_bad("", 3, "expression ends", 0);
	eval_bad("99999999999999999999", 3, "too large", 0);
	eval_bad("i*4611686018427387904", 3, "overflow", 1);
}

static void test_expr_candidate(void **state)
{
	(void)state;
	assert_true(topo_expr_candidate("i", 1));
	assert_true(topo_expr_candidate("i%250 + 1", 9));
	assert_true(topo_expr_candidate("i/0", 3)); /* an expression, with an error */
	assert_false(topo_expr_candidate("HOME", 4));
	assert_false(topo_expr_candidate("a,b", 3));
	assert_false(topo_expr_candidate("1..3", 4));
	assert_false(topo_expr_candidate("print $1", 8));
	assert_false(topo_expr_candidate("2", 1)); /* regex a{2}: no i, not ours */
	assert_false(topo_expr_candidate("", 0));
}

/* ------------------------------------------------------------------ */
/* Range syntax and substitution                                       */

static void test_range_find(void **state)
{
	struct topo_range r;
	char why[200];
	size_t off = 0;

	(void)state;
	assert_int_equal(topo_range_find("h1", 2, &r, why, sizeof(why), &off), 0);
	assert_int_equal(topo_range_find("h[1..1000]", 10, &r, why, sizeof(why), &off), 1);
	assert_int_equal(r.lo, 1);
	assert_int_equal(r.hi, 1000);
	assert_int_equal(r.start, 1);
	assert_int_equal(r.end, 10);
	assert_int_equal(topo_range_len(&r), 1000);
	assert_int_equal(topo_range_find("sw[0..0]-x", 10, &r, why, sizeof(why), &off), 1);
	assert_int_equal(topo_range_len(&r), 1);
	assert_int_equal(r.end, 8);

	assert_int_equal(topo_range_find("h[5..1]", 7, &r, why, sizeof(why), &off), -1);
	assert_non_null(strstr(why, "empty"));
	assert_int_equal(off, 1);
	assert_int_equal(topo_range_find("h[1..100001]", 12, &r, why, sizeof(why), &off), -1);
	assert_non_null(strstr(why, "100001 elements; a range has at most 100000"));
	assert_int_equal(topo_range_find("h[1..100000]", 12, &r, why, sizeof(why), &off), 1);
	assert_int_equal(topo_range_find("h[1..]", 6, &r, why, sizeof(why), &off), -1);
	assert_non_null(strstr(why, "malformed range"));
	assert_int_equal(topo_range_find("h[a..b]", 7, &r, why, sizeof(why), &off), -1);
	assert_int_equal(topo_range_find("h[1-4]", 6, &r, why, sizeof(why), &off), -1);
	assert_int_equal(topo_range_find("h[1..4", 6, &r, why, sizeof(why), &off), -1);
	assert_int_equal(topo_range_find("h[1..2][3..4]", 13, &r, why, sizeof(why), &off), -1);
	assert_non_null(strstr(why, "only one range"));
	assert_int_equal(off, 7);
	assert_int_equal(topo_range_find("h1]", 3, &r, why, sizeof(why), &off), -1);
	assert_int_equal(off, 2);
	assert_int_equal(topo_range_find("h[1234567890..1234567891]", 25, &r, why, sizeof(why), &off), -1);
}

static char *subst(const char *s, const struct topo_range *r, int64_t value, int64_t i)
{
	struct topo_sbuf b = { 0 };
	char why[128];
	size_t off;

	if (topo_subst(s, strlen(s), r, value, i, &b, why, sizeof(why), &off) < 0) {
		topo_sbuf_free(&b);
		return NULL;
	}
	return b.s;
}

static void test_subst(void **state)
{
	struct topo_range r = { .start = 1, .end = 7, .lo = 1, .hi = 9 };
	char *s;

	(void)state;
	s = subst("r[1..9]:eth{i%2}", &r, 5, 5);
	assert_string_equal(s, "r5:eth1");
	free(s);
	/* The range becomes its own value (the second range of a link pairs
	 * with the first, so its value differs from i). */
	s = subst("r[1..9]", &r, 6, 5);
	assert_string_equal(s, "r6");
	free(s);
	s = subst("10.0.{i/250}.{i%250+1}/16", NULL, 0, 251);
	assert_string_equal(s, "10.0.1.2/16");
	free(s);
	/* Shell braces stay as written. */
	s = subst("echo ${HOME} ${i} \\{i\\} {a,b} {1..3} {print $1} a{2} {i}", NULL, 0, 4);
	assert_string_equal(s, "echo ${HOME} ${i} \\{i\\} {a,b} {1..3} {print $1} a{2} 4");
	free(s);
	s = subst("{ i }{i*i}", NULL, 0, 3);
	assert_string_equal(s, "39");
	free(s);
	s = subst("unclosed {i", NULL, 0, 3);
	assert_string_equal(s, "unclosed {i");
	free(s);
	assert_null(subst("x{i/0}", NULL, 0, 3));

	assert_int_equal(topo_find_expr("a${i}b{i}", 9), 6);
	assert_int_equal(topo_find_expr("${HOME}", 7), -1);
	assert_true(topo_range_pattern_match("h[]", "h12"));
	assert_true(topo_range_pattern_match("h[]-x", "h-3-x"));
	assert_false(topo_range_pattern_match("h[]", "h"));
	assert_false(topo_range_pattern_match("h[]", "hx1"));
	assert_false(topo_range_pattern_match("h1", "h1"));
}

/* ------------------------------------------------------------------ */
/* Expansion: same model as the file written out                        */

static const char ranged[] =
	"switch lan\n"
	"node h[1..3]\n"
	"    ip eth0 10.0.{i/2}.{i%2+1}/16\n"
	"    route default via 10.0.255.254\n"
	"    env ID={i}\n"
	"    hostname host-{i*10}\n"
	"    run echo ${HOME} {a,b} \"n {i}\"   {i+1}\n"
	"link h[1..3]:eth0 lan mtu {1400+i}\n"
	"node r[1..4]\n"
	"    forward\n"
	"link r[1..3]:eth1 r[2..4]:eth0\n"
	"link r[1..2]:eth5 r{i+2}:eth6\n";

static const char written[] =
	"switch lan\n"
	"node h1\n    ip eth0 10.0.0.2/16\n    route default via 10.0.255.254\n    env ID=1\n    hostname host-10\n"
	"    run echo ${HOME} {a,b} \"n 1\"   2\n"
	"node h2\n    ip eth0 10.0.1.1/16\n    route default via 10.0.255.254\n    env ID=2\n    hostname host-20\n"
	"    run echo ${HOME} {a,b} \"n 2\"   3\n"
	"node h3\n    ip eth0 10.0.1.2/16\n    route default via 10.0.255.254\n    env ID=3\n    hostname host-30\n"
	"    run echo ${HOME} {a,b} \"n 3\"   4\n"
	"link h1:eth0 lan mtu 1401\nlink h2:eth0 lan mtu 1402\nlink h3:eth0 lan mtu 1403\n"
	"node r1\n    forward\nnode r2\n    forward\nnode r3\n    forward\nnode r4\n    forward\n"
	"link r1:eth1 r2:eth0\nlink r2:eth1 r3:eth0\nlink r3:eth1 r4:eth0\n"
	"link r1:eth5 r3:eth6\nlink r2:eth5 r4:eth6\n";

static void assert_same_model(const struct topology *a, const struct topology *b)
{
	assert_int_equal(a->nodes.n, b->nodes.n);
	assert_int_equal(a->switches.n, b->switches.n);
	assert_int_equal(a->links.n, b->links.n);
	for (size_t k = 0; k < a->nodes.n; k++) {
		const struct topo_node *x = &a->nodes.v[k], *y = &b->nodes.v[k];
		assert_string_equal(x->name, y->name);
		assert_int_equal(x->forward, y->forward);
		assert_int_equal(x->addrs.n, y->addrs.n);
		for (size_t j = 0; j < x->addrs.n; j++) {
			assert_string_equal(x->addrs.v[j].ifname, y->addrs.v[j].ifname);
			assert_memory_equal(&x->addrs.v[j].cidr, &y->addrs.v[j].cidr, sizeof(x->addrs.v[j].cidr));
		}
		assert_int_equal(x->routes.n, y->routes.n);
		for (size_t j = 0; j < x->routes.n; j++)
			assert_memory_equal(x->routes.v[j].via, y->routes.v[j].via, 16);
		assert_int_equal(x->envs.n, y->envs.n);
		for (size_t j = 0; j < x->envs.n; j++)
			assert_string_equal(x->envs.v[j].value, y->envs.v[j].value);
		assert_int_equal(!x->hostname, !y->hostname);
		if (x->hostname)
			assert_string_equal(x->hostname, y->hostname);
		assert_int_equal(x->cmds.n, y->cmds.n);
		for (size_t j = 0; j < x->cmds.n; j++)
			assert_string_equal(x->cmds.v[j].text, y->cmds.v[j].text);
		assert_int_equal(x->ifaces.n, y->ifaces.n);
	}
	for (size_t k = 0; k < a->links.n; k++) {
		const struct topo_link *x = &a->links.v[k], *y = &b->links.v[k];
		assert_string_equal(x->a.name, y->a.name);
		assert_string_equal(x->a.ifname, y->a.ifname);
		assert_string_equal(x->b.name, y->b.name);
		assert_string_equal(x->b.ifname, y->b.ifname);
		assert_int_equal(x->a.index, y->a.index);
		assert_int_equal(x->b.index, y->b.index);
		assert_int_equal(x->mtu, y->mtu);
	}
	assert_int_equal(a->switches.v[0].nports, b->switches.v[0].nports);
}

static void test_expands_like_written(void **state)
{
	struct checked r, w;

	(void)state;
	check_valid(ranged, &r);
	check_valid(written, &w);
	assert_same_model(r.t, w.t);
	assert_string_equal(r.t->nodes.v[0].cmds.v[0].text, "echo ${HOME} {a,b} \"n 1\"   2");
	/* Positions are the source's: every h's address points at line 3. */
	assert_int_equal(r.t->nodes.v[2].addrs.v[0].pos.line, 3);
	assert_int_equal(r.t->nodes.v[2].addrs.v[0].pos.col, 13);
	assert_int_equal(r.t->nodes.v[2].pos.line, 2);
	assert_int_equal(r.t->links.v[4].pos.line, 11);
	checked_free(&r);
	checked_free(&w);
}

static void test_commands_outside_ranges_keep_braces(void **state)
{
	struct checked c;

	(void)state;
	check_valid("node a\n    run echo {i} ${i} {i+1}\n    exec true\nlink a:eth0 host:h0\n", &c);
	assert_string_equal(c.t->nodes.v[0].cmds.v[0].text, "echo {i} ${i} {i+1}");
	checked_free(&c);
}

/* A large range is linear: 20000 nodes on a switch, names looked up by hash. */
static void test_large_range(void **state)
{
	struct checked c;

	(void)state;
	check_valid("switch lan\n"
		    "node h[1..20000]\n"
		    "    ip eth0 10.{i/62500}.{i/250%250}.{i%250+1}/8\n"
		    "link h[1..20000]:eth0 lan\n",
		    &c);
	assert_int_equal(topo_count_nodes(c.t), 20000);
	assert_int_equal(c.t->links.n, 20000);
	assert_int_equal(c.t->switches.v[0].nports, 20000);
	assert_string_equal(c.t->nodes.v[19999].name, "h20000");
	assert_ptr_equal(topo_find_node(c.t, "h12345"), &c.t->nodes.v[12344]);
	assert_null(topo_find_node(c.t, "h20001"));
	assert_null(topo_find_node(c.t, "lan"));
	assert_non_null(topo_find_switch(c.t, "lan"));
	checked_free(&c);
}

/* ------------------------------------------------------------------ */
/* Diagnostics                                                          */

static size_t count_level(const struct diags *d, enum diag_level l)
{
	size_t n = 0;

	for (size_t k = 0; k < d->n; k++)
		n += d->v[k].level == l;
	return n;
}

/* A mistake in every expansion of a 1000-range: three errors shown, the
 * rest counted and summed up in one note, and the exit status still an
 * error for all of them. */
static void test_bounded(void **state)
{
	struct checked c;

	(void)state;
	check_text("switch lan\n"
		   "node h[1..1000]\n"
		   "    ip eth0 10.0.0.{i%250}/16\n"
		   "link h[1..1000]:eth0 lan\n",
		   &c);
	assert_int_equal(c.d.nerrors, 750);
	assert_int_equal(count_level(&c.d, DIAG_ERROR), 3);
	const struct diag *e = first_of_level(&c.d, DIAG_ERROR);
	assert_non_null(e);
	assert_int_equal(e->pos.line, 3);
	assert_int_equal(e->pos.col, 13);
	assert_string_equal(e->msg,
			    "in expansion i=251 of h[1..1000]: duplicate address 10.0.0.1: already assigned to h1:eth0");
	bool summed = false;
	for (size_t k = 0; k < c.d.n; k++)
		if (c.d.v[k].level == DIAG_NOTE &&
		    strcmp(c.d.v[k].msg, "747 more like these in other expansions of h[1..1000] not shown") == 0) {
			summed = true;
			assert_true(k == c.d.n - 1); /* sorted after what it sums up */
		}
	assert_true(summed);
	/* Notes of the dropped errors are dropped with them. */
	assert_int_equal(count_level(&c.d, DIAG_NOTE), 4);
	checked_free(&c);
}

static const struct diag_case range_cases[] = {
	{ "reversed", "node h[5..1]\n", 1, 7, "bad range in 'h[5..1]': range [5..1] is empty" },
	{ "too_large", "node h[0..100000]\n", 1, 7, "100001 elements; a range has at most 100000" },
	{ "malformed", "node a\nlink a:eth0 host:h0\nswitch s[1...3]\n", 3, 9, "malformed range" },
	{ "two_ranges", "node h[1..2][1..2]\n", 1, 13, "only one range per name" },
	{ "unequal_link", "node r[1..10]\nlink r[1..9]:eth1 r[2..11]:eth0\n", 2, 20,
	  "ranges on one link must have the same length: r[1..9] has 9 elements, r[2..11] has 10" },
	{ "div_zero", "node h[0..3]\n    ip eth0 10.0.0.{10/i}/24\nlink h[0..3]:eth0 host:x{i}\n", 2, 23,
	  "in expansion i=0 of h[0..3]: division by zero" },
	{ "expr_syntax", "node h[0..3]\n    env X={i+}\n", 2, 14, "in expansion i=0 of h[0..3]: expression ends" },
	{ "stray_node_stmt", "node a\n    ip eth0 10.0.0.{i}/24\nlink a:eth0 host:h0\n", 2, 20,
	  "'{...}' is only substituted inside a range" },
	{ "stray_link", "node a\nlink a:eth{i} host:h0\n", 2, 11, "'{...}' is only substituted inside a range" },
	{ "expansion_address", "switch lan\nnode h[1..300]\n    ip eth0 10.0.{i/250}.{i%250}/16\nlink h[1..300]:eth0 lan\n"
	  "node x\n    ip eth0 10.0.1.0/16\nlink x:eth0 lan\n", 6, 13,
	  "duplicate address 10.0.1.0: already assigned to h250:eth0" },
	{ "expansion_name_taken", "node h3\nnode h[1..5]\n", 2, 6, "in expansion i=3 of h[1..5]: duplicate name 'h3'" },
	{ "expansion_bad_value", "node h[1..20]\n    ip eth0 10.0.0.{i*20}/24\nlink h[1..20]:eth0 host:x{i}\n", 2, 13,
	  "in expansion i=13 of h[1..20]: bad address" },
	{ "link_undefined_in_range", "switch lan\nnode h[1..3]\nlink h[1..4]:eth0 lan\n", 3, 6,
	  "in expansion i=4 of h[1..4]: link to undefined node 'h4'" },
	{ "block_after_bad_range_is_quiet", "node h[3..1]\n    ip eth0 10.0.0.1/24\nlink h[1..3]:eth0 host:x{i}\n", 1, 7,
	  "range [3..1] is empty" },
};

/* A rejected range leaves nothing else to report: its block is skipped and
 * the links naming its nodes are not "undefined". */
static void test_bad_range_no_cascade(void **state)
{
	struct checked c;

	(void)state;
	check_text("switch lan\nnode h[3..1]\n    ip eth0 10.0.0.1/24\nlink h[1..3]:eth0 lan\n"
		   "node g[1..3]\n    ip eth0 10.1.0.{i}/24\nlink g[1..3]:eth0 lan[1..4]\n",
		   &c);
	assert_int_equal(c.d.nerrors, 2);
	checked_free(&c);
}

static void test_expansion_budget(void **state)
{
	struct checked c;
	char *src = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&src, &len);

	(void)state;
	fputs("node h[1..50000]\n", f);
	for (int k = 0; k < 20; k++)
		fprintf(f, "    env V%d={i}\n", k);
	fclose(f);
	check_text(src, &c);
	const struct diag *e = first_of_level(&c.d, DIAG_ERROR);
	assert_non_null(e);
	assert_non_null(strstr(e->msg, "expand to more than 1000000 statements"));
	assert_int_equal(c.d.nerrors, 1);
	checked_free(&c);
	free(src);
}

/* A tiny file asking for two million nodes: one error, at the first
 * node over the cap, and the rest is not even expanded. */
static void test_node_cap(void **state)
{
	struct checked c;
	char *src = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&src, &len);

	(void)state;
	for (int k = 0; k < 20; k++)
		fprintf(f, "node %c[1..100000]\n", 'a' + k);
	fclose(f);
	assert_true(len < 512);
	check_text(src, &c);
	const struct diag *e = first_of_level(&c.d, DIAG_ERROR);
	assert_non_null(e);
	assert_non_null(strstr(e->msg, "more than 65536 nodes"));
	assert_int_equal(e->pos.line, 1);
	assert_int_equal(c.d.nerrors, 1);
	assert_int_equal(c.t->nodes.n, 65536);
	checked_free(&c);
	free(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expr_values),
		cmocka_unit_test(test_node_cap),
		cmocka_unit_test(test_expr_errors),
		cmocka_unit_test(test_expr_candidate),
		cmocka_unit_test(test_range_find),
		cmocka_unit_test(test_subst),
		cmocka_unit_test(test_expands_like_written),
		cmocka_unit_test(test_commands_outside_ranges_keep_braces),
		cmocka_unit_test(test_large_range),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_bad_range_no_cascade),
		cmocka_unit_test(test_expansion_budget),
	};
	int failed = cmocka_run_group_tests_name("range", tests, NULL, NULL);

	return failed + run_diag_table("range_diagnostics", range_cases, N_ELEMS(range_cases));
}
