/* Unit tests of the lab state files (src/lab/state.c): state.json and
 * its nodes.idx, in a temporary NETLAB_RUN_DIR. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lab/state.h"
#include "util/fsutil.h"

static char root[] = "/tmp/netlab-state-test-XXXXXX";

static int setup(void **state)
{
	(void)state;
	char dir[256];

	if (!mkdtemp(root))
		return -1;
	setenv("NETLAB_RUN_DIR", root, 1);
	snprintf(dir, sizeof(dir), "%s/t", root);
	return mkdir(dir, 0755);
}

static int teardown(void **state)
{
	(void)state;
	return rm_rf(root, NULL);
}

static char *cg_a[] = { "/sys/fs/cgroup/cpu/netlab/t/a", "/sys/fs/cgroup/memory/netlab/t/a" };

/* Three nodes: one with cgroups and a user namespace, one with `user`,
 * one with neither. */
static void fill(struct lab_state *s, char *cg0)
{
	static struct state_node nodes[3];

	memset(s, 0, sizeof(*s));
	memset(nodes, 0, sizeof(nodes));
	s->lab = "t";
	s->topology = "/x/t.topo";
	s->supervisor = (struct proc_id){ 4242, 99 };
	nodes[0] = (struct state_node){ .name = "a", .init = { 100, 1000 }, .userns = true,
					.uid_base = 1u << 30, .gid_base = (1u << 30) + 65536, .cgroups = cg_a,
					.ncgroups = 2 };
	nodes[1] = (struct state_node){ .name = "web-1", .init = { 101, 1001 }, .userns = true,
					.uid_base = 7, .gid_base = 8, .has_user = true, .uid = 33, .gid = 34 };
	nodes[2] = (struct state_node){ .name = "r", .init = { 102, 18446744073709551615ull } };
	if (cg0)
		cg_a[0] = cg0;
	s->nodes = nodes;
	s->nnodes = 3;
}

static void check_nodes(void)
{
	struct state_node n;
	struct proc_id sup;
	nlab_error *err = NULL;

	assert_int_equal(state_read_node("t", "a", &n, &sup, &err), 0);
	assert_int_equal(sup.pid, 4242);
	assert_int_equal(sup.starttime, 99);
	assert_string_equal(n.name, "a");
	assert_int_equal(n.init.pid, 100);
	assert_int_equal(n.init.starttime, 1000);
	assert_true(n.userns);
	assert_int_equal(n.uid_base, 1u << 30);
	assert_int_equal(n.gid_base, (1u << 30) + 65536);
	assert_false(n.has_user);
	assert_int_equal(n.ncgroups, 2);
	assert_string_equal(n.cgroups[0], cg_a[0]);
	assert_string_equal(n.cgroups[1], cg_a[1]);
	state_node_clear(&n);

	assert_int_equal(state_read_node("t", "web-1", &n, &sup, &err), 0);
	assert_true(n.has_user);
	assert_int_equal(n.uid, 33);
	assert_int_equal(n.gid, 34);
	assert_int_equal(n.ncgroups, 0);
	state_node_clear(&n);

	assert_int_equal(state_read_node("t", "r", &n, &sup, &err), 0);
	assert_false(n.userns);
	assert_int_equal(n.init.starttime, 18446744073709551615ull);
	state_node_clear(&n);

	/* a prefix of a name is not that name */
	assert_int_equal(state_read_node("t", "web", &n, &sup, &err), -1);
	assert_int_equal(err->errnum, ENOENT);
	nlab_error_free(&err);
}

static bool index_exists(void)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/t/nodes.idx", root);
	return stat(path, &st) == 0;
}

static void test_read_node_from_index(void **state)
{
	(void)state;
	struct lab_state s;
	nlab_error *err = NULL;

	fill(&s, NULL);
	assert_int_equal(state_write(&s, &err), 0);
	assert_true(index_exists());
	check_nodes();
	struct proc_id sup;
	assert_int_equal(state_read_supervisor("t", &sup), 0);
	assert_int_equal(sup.pid, 4242);
	assert_int_equal(sup.starttime, 99);
	/* and really from the index: without state.json, the same */
	char path[256];
	snprintf(path, sizeof(path), "%s/t/state.json", root);
	assert_int_equal(unlink(path), 0);
	check_nodes();
	sup.pid = 0;
	assert_int_equal(state_read_supervisor("t", &sup), 0);
	assert_int_equal(sup.pid, 4242);
}

/* Without the index (a state from an older netlab): the same answers. */
static void test_read_node_without_index(void **state)
{
	(void)state;
	struct lab_state s;
	nlab_error *err = NULL;
	char path[256];

	fill(&s, NULL);
	assert_int_equal(state_write(&s, &err), 0);
	snprintf(path, sizeof(path), "%s/t/nodes.idx", root);
	assert_int_equal(unlink(path), 0);
	check_nodes();
	struct proc_id sup;
	assert_int_equal(state_read_supervisor("t", &sup), 0);
	assert_int_equal(sup.starttime, 99);
}

/* A value the line format cannot hold leaves the index out. */
static void test_unindexable_value(void **state)
{
	(void)state;
	struct lab_state s;
	nlab_error *err = NULL;

	fill(&s, "/sys/fs/cgroup/odd\tname/a");
	assert_int_equal(state_write(&s, &err), 0);
	assert_false(index_exists());
	check_nodes();
	cg_a[0] = "/sys/fs/cgroup/cpu/netlab/t/a";
}

/* Many nodes, written in an order that is not the names' (the index
 * sorts them): each found by its binary search with state.json gone, and
 * names between, before and after them are not there. */
static void test_index_search(void **state)
{
	(void)state;
	enum { N = 1500 };
	static struct state_node nodes[N];
	static char names[N][16];
	struct lab_state s;
	struct state_node n;
	struct proc_id sup;
	nlab_error *err = NULL;
	char path[256], miss[40];

	fill(&s, NULL);
	for (size_t i = 0; i < N; i++) {
		/* h1499 .. h0 with gaps, and a few of other lengths */
		snprintf(names[i], sizeof(names[i]), i % 7 ? "h%zu" : "x%zu-y", (N - 1 - i) * 2);
		nodes[i] = (struct state_node){ .name = names[i], .init = { (pid_t)(1000 + i), i } };
	}
	s.nodes = nodes;
	s.nnodes = N;
	assert_int_equal(state_write(&s, &err), 0);
	snprintf(path, sizeof(path), "%s/t/state.json", root);
	assert_int_equal(unlink(path), 0);
	for (size_t i = 0; i < N; i++) {
		if (state_read_node("t", names[i], &n, &sup, &err) != 0)
			fail_msg("node %s not found: %s", names[i], err ? err->msg : "?");
		assert_int_equal(n.init.pid, 1000 + i);
		state_node_clear(&n);
		/* an odd number is nobody's; nor is a longer or shorter name */
		snprintf(miss, sizeof(miss), i % 7 ? "h%zu" : "x%zu-y", (N - 1 - i) * 2 + 1);
		assert_int_equal(state_read_node("t", miss, &n, &sup, &err), -1);
		assert_int_equal(err->errnum, ENOENT);
		nlab_error_free(&err);
		snprintf(miss, sizeof(miss), "%.15s-", names[i]);
		assert_int_equal(state_read_node("t", miss, &n, &sup, &err), -1);
		nlab_error_free(&err);
	}
	for (const char *const *m = (const char *const[]){ "a", "zzz", "h", "x", NULL }; *m; m++) {
		assert_int_equal(state_read_node("t", *m, &n, &sup, &err), -1);
		assert_int_equal(err->errnum, ENOENT);
		nlab_error_free(&err);
	}
}

/* status LAB NODE: the lab's fields, the one node, its netns name, the
 * lab's memory group split off its cgroups, what runtime.json says of
 * it; all from the index (state.json gone). */
static void test_read_one(void **state)
{
	(void)state;
	struct lab_state s, r;
	size_t count = 0;
	nlab_error *err = NULL;
	char *names[] = { "t-a", "t-web-1", "t-r" };
	char path[256];

	fill(&s, NULL);
	s.created = 1234567;
	s.memory_group = "/sys/fs/cgroup/memory/netlab/t";
	s.netns_names = names;
	s.nnetns_names = 2; /* r was not named (yet) */
	assert_int_equal(state_write(&s, &err), 0);
	s.nodes[1].restarts = 2;
	s.nodes[1].restart_error = "boom";
	assert_int_equal(state_write_runtime(&s, &err), 0);
	s.nodes[1].restarts = 0;
	s.nodes[1].restart_error = NULL;
	snprintf(path, sizeof(path), "%s/t/state.json", root);
	assert_int_equal(unlink(path), 0);

	assert_int_equal(state_read_one("t", "web-1", &r, &count, &err), 0);
	assert_int_equal(count, 3);
	assert_string_equal(r.lab, "t");
	assert_string_equal(r.topology, "/x/t.topo");
	assert_int_equal(r.created, 1234567);
	assert_int_equal(r.supervisor.pid, 4242);
	assert_int_equal(r.nnodes, 1);
	assert_string_equal(r.nodes[0].name, "web-1");
	assert_int_equal(r.nodes[0].uid, 33);
	assert_int_equal(r.nodes[0].restarts, 2);
	assert_string_equal(r.nodes[0].restart_error, "boom");
	assert_int_equal(r.nodes[0].ncgroups, 0);
	assert_string_equal(r.memory_group, s.memory_group);
	assert_int_equal(r.nnetns_names, 1);
	assert_string_equal(r.netns_names[0], "t-web-1");
	state_clear(&r);

	/* a's own memory group: the lab's is not added to it */
	assert_int_equal(state_read_one("t", "a", &r, &count, &err), 0);
	assert_int_equal(r.nodes[0].ncgroups, 2);
	assert_null(r.memory_group);
	state_clear(&r);
	assert_int_equal(state_read_one("t", "r", &r, &count, &err), 0);
	assert_int_equal(r.nnetns_names, 0);
	assert_int_equal(r.nodes[0].restarts, 0);
	state_clear(&r);
	/* exec's view of r: the lab's memory group is one of its groups */
	struct state_node n;
	struct proc_id sup;
	assert_int_equal(state_read_node("t", "r", &n, &sup, &err), 0);
	assert_int_equal(n.ncgroups, 1);
	assert_string_equal(n.cgroups[0], s.memory_group);
	state_node_clear(&n);
	assert_int_equal(state_read_one("t", "nope", &r, &count, &err), -1);
	assert_int_equal(err->errnum, ENOENT);
	nlab_error_free(&err);
}

/* An index of an older netlab (version 1: node order, no lab line) is
 * not read: the answers come from state.json. */
static void test_old_index_ignored(void **state)
{
	(void)state;
	struct lab_state s, r;
	struct state_node n;
	struct proc_id sup;
	size_t count = 0;
	nlab_error *err = NULL;
	char path[256];

	fill(&s, NULL);
	assert_int_equal(state_write(&s, &err), 0);
	snprintf(path, sizeof(path), "%s/t/nodes.idx", root);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("netlab-index 1\nS\t1\t1\nN\ta\t1\t1\t0\t0\t0\t0\t0\t0\t0\n", f);
	fclose(f);
	assert_int_equal(state_read_node("t", "a", &n, &sup, &err), 0);
	assert_int_equal(n.init.pid, 100);
	assert_int_equal(sup.pid, 4242);
	state_node_clear(&n);
	assert_int_equal(state_read_one("t", "a", &r, &count, &err), 0);
	assert_int_equal(count, 3);
	state_clear(&r);
	assert_int_equal(state_read_supervisor("t", &sup), 0);
	assert_int_equal(sup.pid, 4242);
}

/* A lab without state is not a lab without that node. */
static void test_no_state(void **state)
{
	(void)state;
	struct state_node n;
	struct proc_id sup;
	nlab_error *err = NULL;

	assert_int_equal(state_read_node("nolab", "a", &n, &sup, &err), -1);
	assert_non_null(strstr(err->msg, "has no state"));
	nlab_error_free(&err);
}

/* `up --netns-names` records its names: they come back from state.json
 * (down removes them after a crash), and a state without them has none;
 * "no state" is ENOENT, which `status` turns into exit status 3. */
static void test_netns_names_round_trip(void **state)
{
	(void)state;
	struct lab_state s, r;
	nlab_error *err = NULL;
	char *names[] = { "t-a", "t-web-1", "t-r" };

	fill(&s, NULL);
	assert_int_equal(state_write(&s, &err), 0);
	assert_int_equal(state_read("t", &r, &err), 0);
	assert_int_equal(r.nnetns_names, 0);
	state_clear(&r);

	s.netns_names = names;
	s.nnetns_names = 3;
	assert_int_equal(state_write(&s, &err), 0);
	assert_int_equal(state_read("t", &r, &err), 0);
	assert_int_equal(r.nnetns_names, 3);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(r.netns_names[i], names[i]);
	state_clear(&r);
	assert_int_equal(state_read("nolab", &r, &err), -1);
	assert_int_equal(err->errnum, ENOENT);
	nlab_error_free(&err);
}

/* What netlab did not write is refused by name, never half read. */
static void write_state_text(const char *text)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/t/state.json", root);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void expect_damaged(const char *text, const char *why)
{
	struct lab_state st;
	nlab_error *err = NULL;

	write_state_text(text);
	assert_int_equal(state_read("t", &st, &err), -1);
	assert_non_null(err);
	if (!strstr(err->msg, why))
		fail_msg("state '%s': want '%s' in '%s'", text, why, err->msg);
	assert_int_equal(err->errnum, EBADMSG);
	nlab_error_free(&err);
}

static void test_damaged_state(void **state)
{
	(void)state;
	expect_damaged("", "it is empty");
	expect_damaged("\x01\x02garbage", "state.json is damaged");
	expect_damaged("[1, 2]", "not a JSON object");
	expect_damaged("{}", "it names no lab");
	expect_damaged("{\"lab\": \"x\", \"supervisor\": {\"pid\": 1}}", "the state of another lab: 'x'");
	expect_damaged("{\"lab\": \"t\"}", "it names no supervisor");
	expect_damaged("{\"lab\": \"t\", \"supervisor\": {\"pid\": 1}, \"nodes\": [{\"name\": \"../../etc\"}]}",
		       "a node name that is not one: '../../etc'");
	expect_damaged("{\"lab\": \"t\", \"supervisor\": {\"pid\": 1}, \"host_rules\": [{\"family\": 4, "
		       "\"table\": \"mangle\", \"chain\": \"X\"}]}",
		       "a host rule in a table netlab does not use");
	expect_damaged("{\"lab\": \"t\", \"supervisor\": {\"pid\": 1}, \"host_sysctls\": [{\"key\": "
		       "\"kernel.core_pattern\"}]}",
		       "a host sysctl that netlab does not set");
}

/* Not a file netlab wrote: a symlink, someone else's, writable by others. */
static void test_foreign_state(void **state)
{
	(void)state;
	struct lab_state st;
	nlab_error *err = NULL;
	char path[256];

	snprintf(path, sizeof(path), "%s/t/state.json", root);
	write_state_text("{\"lab\": \"t\", \"supervisor\": {\"pid\": 1}}");
	assert_int_equal(state_read("t", &st, &err), 0);
	state_clear(&st);
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(state_read("t", &st, &err), -1);
	assert_non_null(strstr(err->msg, "not a file netlab wrote"));
	nlab_error_free(&err);
	unlink(path);
	assert_int_equal(symlink("/etc/hostname", path), 0);
	assert_int_equal(state_read("t", &st, &err), -1);
	assert_non_null(strstr(err->msg, "symlink"));
	nlab_error_free(&err);
	unlink(path);
}

/* Names are never paths, wherever they come from. */
static void test_names_are_not_paths(void **state)
{
	(void)state;
	struct state_node n;
	struct proc_id sup;
	nlab_error *err = NULL;
	char dir[256];

	assert_int_equal(state_read_node("../t", "a", &n, &sup, &err), -1);
	assert_int_equal(err->errnum, EINVAL);
	nlab_error_free(&err);
	assert_int_equal(state_read_node("t", "../../etc/passwd", &n, &sup, &err), -1);
	assert_int_equal(err->errnum, EINVAL);
	nlab_error_free(&err);
	assert_int_equal(state_open_log("t", "../state", false, &err), -1);
	assert_int_equal(err->errnum, EINVAL);
	nlab_error_free(&err);
	assert_int_equal(state_lab_dir("-x", dir, sizeof(dir), &err), -1);
	nlab_error_free(&err);
	/* A lab directory that is a symlink is not the lab's. */
	snprintf(dir, sizeof(dir), "%s/s", root);
	assert_int_equal(symlink("/tmp", dir), 0);
	assert_int_equal(state_dir_open("s", &err), -1);
	nlab_error_free(&err);
	unlink(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_netns_names_round_trip),
		cmocka_unit_test(test_read_node_from_index),
		cmocka_unit_test(test_read_node_without_index),
		cmocka_unit_test(test_unindexable_value),
		cmocka_unit_test(test_index_search),
		cmocka_unit_test(test_read_one),
		cmocka_unit_test(test_old_index_ignored),
		cmocka_unit_test(test_no_state),
		cmocka_unit_test(test_damaged_state),
		cmocka_unit_test(test_foreign_state),
		cmocka_unit_test(test_names_are_not_paths),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
