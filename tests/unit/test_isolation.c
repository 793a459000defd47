/* Isolation statements of docs/isolation.md: userns, user, rootfs, mount,
 * tmpfs, boottime, monotonic, cpu, memory, pids — accepted forms land in
 * the model, mistakes are reported at the right place; plus the pure
 * helpers of the runtime (subuid parsing, passwd lookup). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/userns.h"
#include "topo_test.h"

static const char full[] =
	"lab iso userns off\n"
	"node a\n"
	"    userns on\n"
	"    user nobody:nogroup\n"
	"    rootfs /srv/rootfs\n"
	"    mount /srv/share /data ro\n"
	"    mount /srv/rw /rw\n"
	"    tmpfs /scratch 16M\n"
	"    tmpfs /t2\n"
	"    boottime 0\n"
	"    monotonic 3600\n"
	"    cpu 0.25\n"
	"    memory 64M\n"
	"    pids 100\n"
	"node b\n"
	"    userns off\n"
	"    user 1000:100\n"
	"    cpu 2\n"
	"    memory 1G\n"
	"link a:eth0 b:eth0\n";

static void test_all_statements(void **state)
{
	struct checked c;

	(void)state;
	check_valid(full, &c);
	struct topology *t = c.t;
	assert_true(t->userns_off);
	struct topo_node *a = topo_find_node(t, "a"), *b = topo_find_node(t, "b");
	assert_false(a->userns_off);
	assert_true(b->userns_off);
	/* The lab-wide `userns off` wins over a node's `userns on`. */
	assert_false(topo_node_userns(t, a));
	assert_true(a->has_user);
	assert_string_equal(a->user, "nobody");
	assert_string_equal(a->group, "nogroup");
	assert_string_equal(a->rootfs, "/srv/rootfs");
	assert_int_equal(a->mounts.n, 4);
	assert_string_equal(a->mounts.v[0].src, "/srv/share");
	assert_string_equal(a->mounts.v[0].dst, "/data");
	assert_true(a->mounts.v[0].ro);
	assert_false(a->mounts.v[1].ro);
	assert_true(a->mounts.v[2].tmpfs);
	assert_int_equal(a->mounts.v[2].size, 16ull << 20);
	assert_int_equal(a->mounts.v[3].size, 0);
	assert_true(a->has_boottime);
	assert_int_equal(a->boottime_s, 0);
	assert_int_equal(a->monotonic_s, 3600);
	assert_int_equal(a->cpu_millis, 250);
	assert_int_equal(a->memory_bytes, 64ull << 20);
	assert_int_equal(a->pids_max, 100);
	assert_string_equal(b->user, "1000");
	assert_string_equal(b->group, "100");
	assert_int_equal(b->cpu_millis, 2000);
	assert_int_equal(b->memory_bytes, 1ull << 30);
	checked_free(&c);
}

static void test_defaults(void **state)
{
	struct checked c;

	(void)state;
	check_valid("node a\n    ip lo 10.0.0.1/32\n", &c);
	struct topo_node *a = topo_find_node(c.t, "a");
	assert_true(topo_node_userns(c.t, a));
	assert_false(a->has_user);
	assert_null(a->rootfs);
	assert_int_equal(a->cpu_millis + a->memory_bytes + a->pids_max, 0);
	checked_free(&c);
}

/* `pids max`: no limit of the node's own (0 would be the default). */
static void test_pids_max(void **state)
{
	struct checked c;

	(void)state;
	check_valid("node a\n    pids max\nnode b\n    pids 4194304\n", &c);
	assert_int_equal(topo_find_node(c.t, "a")->pids_max, TOPO_PIDS_UNLIMITED);
	assert_int_equal(topo_find_node(c.t, "b")->pids_max, 4194304);
	checked_free(&c);
}

static void test_big_uid_ok_without_userns(void **state)
{
	(void)state;
	assert_valid("node a\n    userns off\n    user 100000\n");
	assert_valid("lab x userns off\nnode a\n    user 100000:200000\n");
}

/* `ipv6`: the lab's setting reaches the nodes without their own, in
 * either order of the lab's options. */
static void test_ipv6_off(void **state)
{
	struct checked c;

	(void)state;
	check_valid("lab x ipv6 off userns off\nnode a\nnode b\n    ipv6 on\nnode c\n    ipv6 off\n", &c);
	assert_true(c.t->userns_off);
	assert_true(topo_find_node(c.t, "a")->ipv6_off);
	assert_false(topo_find_node(c.t, "b")->ipv6_off);
	assert_true(topo_find_node(c.t, "c")->ipv6_off);
	checked_free(&c);
	check_valid("lab x userns on\nnode a\nnode b\n    ipv6 off\n", &c);
	assert_false(topo_find_node(c.t, "a")->ipv6_off);
	assert_true(topo_find_node(c.t, "b")->ipv6_off);
	checked_free(&c);
}

static const struct diag_case cases[] = {
	{ "userns value", "node a\n    userns maybe\n", 2, 12, "unknown value 'maybe'" },
	{ "lab userns missing value", "lab x userns\nnode a\n", 1, 14, "'userns' needs 'on' or 'off'" },
	{ "lab junk after name", "lab x foo off\nnode a\n", 1, 7,
	  "too many arguments to 'lab': lab NAME [userns off] [ipv6 off]" },
	{ "lab junk after option", "lab x ipv6 off foo\nnode a\n", 1, 16, "too many arguments to 'lab'" },
	{ "lab ipv6 missing value", "lab x userns off ipv6\nnode a\n", 1, 23, "'ipv6' needs 'on' or 'off'" },
	{ "lab userns twice", "lab x userns off userns on\nnode a\n", 1, 18, "'userns' given twice in 'lab'" },
	{ "ipv6 value", "node a\n    ipv6 maybe\n", 2, 10, "unknown value 'maybe'" },
	{ "ipv6 off with an IPv6 address", "node a\n    ipv6 off\n    ip eth0 fd00::1/64\nlink a:eth0 host:h0\n", 3, 13,
	  "node 'a' has IPv6 turned off, but this address is IPv6" },
	{ "user bad", "node a\n    user Root\n", 2, 10, "bad user 'Root'" },
	{ "user bad group", "node a\n    user nobody:\n", 2, 10, "bad user 'nobody:'" },
	{ "user twice", "node a\n    user nobody\n    user root\n", 3, 5, "user given twice" },
	{ "uid outside the userns", "node a\n    user 70000\n", 2, 10, "UID 70000 does not exist in the node's user namespace" },
	{ "gid outside the userns", "node a\n    user 1:65536\n", 2, 10, "GID 65536 does not exist" },
	{ "rootfs relative", "node a\n    rootfs srv/x\n", 2, 12, "must be an absolute path" },
	{ "rootfs dotdot", "node a\n    rootfs /srv/../etc\n", 2, 12, "must not contain '..'" },
	{ "rootfs slash", "node a\n    rootfs /\n", 2, 12, "the host's own root" },
	{ "rootfs twice", "node a\n    rootfs /a\n    rootfs /b\n", 3, 5, "rootfs given twice" },
	{ "mount relative target", "node a\n    mount /src dst\n", 2, 16, "mount target 'dst' must be an absolute path" },
	{ "mount option", "node a\n    mount /src /dst rx\n", 2, 21, "unknown mount option 'rx'; did you mean 'ro'?" },
	{ "mount missing target", "node a\n    mount /src\n", 2, 16, "'mount' needs at least 2 arguments" },
	{ "mount on root", "node a\n    mount /src /\n", 2, 16, "cannot mount over the node's '/'" },
	{ "mount twice on a target", "node a\n    mount /a /d\n    tmpfs /d\n", 3, 11, "'/d' is already a mount target" },
	{ "tmpfs size", "node a\n    tmpfs /d 12Q\n", 2, 14, "unknown unit 'Q'" },
	{ "boottime negative", "node a\n    boottime -5\n", 2, 14, "is not a number" },
	{ "boottime twice", "node a\n    boottime 0\n    boottime 1\n", 3, 5, "boottime given twice" },
	{ "cpu zero", "node a\n    cpu 0\n", 2, 9, "cpu 0 is out of range" },
	{ "cpu four decimals", "node a\n    cpu 0.1234\n", 2, 9, "bad cpu '0.1234'" },
	{ "cpu percent", "node a\n    cpu 50%\n", 2, 9, "bad cpu '50%'" },
	{ "memory too small", "node a\n    memory 1M\n", 2, 12, "memory 1M is out of range" },
	{ "memory junk", "node a\n    memory lots\n", 2, 12, "bad memory 'lots'" },
	{ "pids one", "node a\n    pids 1\n", 2, 10, "pids 1 is out of range" },
	{ "pids twice", "node a\n    pids 10\n    pids 20\n", 3, 5, "pids limit given twice" },
	{ "pids max twice", "node a\n    pids max\n    pids 20\n", 3, 5, "pids limit given twice" },
	{ "pids junk", "node a\n    pids lots\n", 2, 10, "lots" },
	{ "not in the host block", "node a\nnode host\n    memory 64M\nlink a:e0 host:h0\n", 3, 5, "'memory' is not allowed in 'node host'" },
	{ "outside a node", "cpu 0.5\nnode a\n", 1, 1, "'cpu' is outside a node block" },
};

static void test_subid_file(void **state)
{
	char path[] = "/tmp/netlab-subid-XXXXXX";
	int fd = mkstemp(path);
	struct id_range *r;
	size_t n;

	(void)state;
	assert_true(fd >= 0);
	const char *text = "alice:100000:65536\nroot:200000:131072\n# comment\n0:500000:65536\nroot:1:10\nbad\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(userns_read_subid(path, &r, &n), 0);
	unlink(path);
	/* alice is not root; a range smaller than one slot is useless. */
	assert_int_equal(n, 2);
	assert_int_equal(r[0].start, 200000);
	assert_int_equal(r[0].count, 131072);
	assert_int_equal(r[1].start, 500000);
	free(r);
	assert_int_equal(userns_read_subid("/nonexistent/subuid", &r, &n), 0);
	assert_int_equal(n, 0);
}

/* The kernel's chain of a host uid's user_struct (kernel/user.c). */
static unsigned uidhash(uint32_t uid)
{
	return ((uid >> 7) + uid) & 127;
}

static bool shares_an_id(uint32_t a, uint32_t b)
{
	return (uint64_t)a < (uint64_t)b + NLAB_IDS_PER_NODE && (uint64_t)b < (uint64_t)a + NLAB_IDS_PER_NODE;
}

/* Slots one ID apart: a node's root uid lands in a chain of its own for
 * 128 nodes in a row, not in the chain of every node (node/userns.h). */
static void test_slots_spread(void **state)
{
	struct id_range def = { NLAB_IDS_DEFAULT_BASE, NLAB_IDS_DEFAULT_COUNT };
	static uint32_t b[16384];
	bool seen[128] = { false };
	size_t chains = 0;

	(void)state;
	assert_int_equal(userns_pick(&def, 1, NULL, 0, 300, b), 300);
	for (size_t i = 0; i < 300; i++)
		assert_int_equal(b[i], NLAB_IDS_DEFAULT_BASE + i * NLAB_IDS_SLOT_STRIDE);
	for (size_t i = 0; i < 128; i++)
		if (!seen[uidhash(b[i])]) {
			seen[uidhash(b[i])] = true;
			chains++;
		}
	assert_int_equal(chains, 128);
	/* The default range holds 16383 slots spaced, all 16384 packed. */
	assert_int_equal(userns_pick(&def, 1, NULL, 0, 16383, b), 16383);
	assert_int_equal(b[16382], NLAB_IDS_DEFAULT_BASE + 16382u * NLAB_IDS_SLOT_STRIDE);
	assert_int_equal(userns_pick(&def, 1, NULL, 0, 16384, b), 16384);
	assert_int_equal(b[16383], NLAB_IDS_DEFAULT_BASE + 16383u * NLAB_IDS_PER_NODE);
}

/* Slots of other labs, whatever their spacing (before 0.11.5 they were
 * 65536 apart), are never shared, even in part. */
static void test_slots_avoid_used(void **state)
{
	struct id_range def = { NLAB_IDS_DEFAULT_BASE, NLAB_IDS_DEFAULT_COUNT };
	const uint32_t used[] = { NLAB_IDS_DEFAULT_BASE + NLAB_IDS_PER_NODE, NLAB_IDS_DEFAULT_BASE + 5 * NLAB_IDS_SLOT_STRIDE };
	uint32_t b[8];

	(void)state;
	assert_int_equal(userns_pick(&def, 1, used, 2, 8, b), 8);
	assert_int_equal(b[0], NLAB_IDS_DEFAULT_BASE);
	for (size_t i = 0; i < 8; i++)
		for (size_t j = 0; j < 2; j++)
			assert_false(shares_an_id(b[i], used[j]));
	for (size_t i = 1; i < 8; i++)
		assert_true(b[i] >= b[i - 1] + NLAB_IDS_PER_NODE);
	/* A used slot at ID 0 (no wrap below it), and a range that holds two
	 * more slots only packed. */
	const uint32_t zero[] = { 0 };
	struct id_range low = { 0, 3 * NLAB_IDS_PER_NODE };
	assert_int_equal(userns_pick(&low, 1, zero, 1, 2, b), 2);
	assert_int_equal(b[0], NLAB_IDS_PER_NODE);
	assert_int_equal(b[1], 2 * NLAB_IDS_PER_NODE);
}

/* /etc/subuid ranges that hold n slots only packed still give n, as
 * they did before the spacing (root:200000:131072 holds two). */
static void test_slots_packed_when_tight(void **state)
{
	struct id_range two = { 200000, 2 * NLAB_IDS_PER_NODE };
	struct id_range one = { 500000, NLAB_IDS_PER_NODE };
	uint32_t b[3];

	(void)state;
	assert_int_equal(userns_pick(&two, 1, NULL, 0, 2, b), 2);
	assert_int_equal(b[0], 200000);
	assert_int_equal(b[1], 200000 + NLAB_IDS_PER_NODE);
	assert_int_equal(userns_pick(&two, 1, NULL, 0, 3, b), 2);
	assert_int_equal(userns_pick(&one, 1, NULL, 0, 1, b), 1);
	assert_int_equal(b[0], 500000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_statements),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_pids_max),
		cmocka_unit_test(test_big_uid_ok_without_userns),
		cmocka_unit_test(test_ipv6_off),
		cmocka_unit_test(test_subid_file),
		cmocka_unit_test(test_slots_spread),
		cmocka_unit_test(test_slots_avoid_used),
		cmocka_unit_test(test_slots_packed_when_tight),
	};
	int failed = cmocka_run_group_tests_name("isolation", tests, NULL, NULL);
	return failed + run_diag_table("isolation diagnostics", cases, N_ELEMS(cases));
}
