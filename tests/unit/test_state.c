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
		cmocka_unit_test(test_no_state),
		cmocka_unit_test(test_damaged_state),
		cmocka_unit_test(test_foreign_state),
		cmocka_unit_test(test_names_are_not_paths),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
