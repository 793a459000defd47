/* Rootless labs' pure logic (lab/rootless.h, topo/privilege.h): the
 * state root an unprivileged user gets, the user's subordinate range,
 * the node slots carved from the lab user namespace's IDs, and what the
 * validator refuses such a lab, each at its statement. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab/rootless.h"
#include "node/cgroup_user.h"
#include "topo/privilege.h"
#include "topo_test.h"

static void test_state_root(void **state)
{
	char b[128];

	(void)state;
	assert_int_equal(rootless_state_root(b, sizeof(b), 1000, "/run/user/1000", "/home/ann"), 0);
	assert_string_equal(b, "/run/user/1000/netlab");
	/* No runtime directory (su, ssh without systemd): the home. */
	assert_int_equal(rootless_state_root(b, sizeof(b), 1000, NULL, "/home/ann"), 0);
	assert_string_equal(b, "/home/ann/.local/state/netlab");
	/* A relative XDG_RUNTIME_DIR is not one (the XDG spec: ignore it). */
	assert_int_equal(rootless_state_root(b, sizeof(b), 1000, "run/user", "/home/ann"), 0);
	assert_string_equal(b, "/home/ann/.local/state/netlab");
	/* Neither (nobody's home is /nonexistent, some have "/"). */
	assert_int_equal(rootless_state_root(b, sizeof(b), 65534, "", "/"), 0);
	assert_string_equal(b, "/tmp/netlab-65534");
	assert_int_equal(rootless_state_root(b, sizeof(b), 65534, NULL, NULL), 0);
	assert_string_equal(b, "/tmp/netlab-65534");
	char small[16];
	assert_int_equal(rootless_state_root(small, sizeof(small), 1, "/run/user/1000", NULL), -1);
	assert_int_equal(errno, ENAMETOOLONG);
}

static void test_subid(void **state)
{
	char path[] = "/tmp/netlab-subid-XXXXXX";
	int fd = mkstemp(path);
	struct rootless_range r;

	(void)state;
	assert_true(fd >= 0);
	const char *text = "# comment\nroot:100000:65536\nbob:0:65536\nbob:200000:0\nann:300000:65536\n"
			   "2001:400000:131072\nann:500000:65536\nbad line\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	/* By name, the first usable range. */
	assert_int_equal(rootless_subid(path, "ann", 2000, &r), 0);
	assert_int_equal(r.start, 300000);
	assert_int_equal(r.count, 65536);
	/* By number. */
	assert_int_equal(rootless_subid(path, NULL, 2001, &r), 0);
	assert_int_equal(r.start, 400000);
	assert_int_equal(r.count, 131072);
	/* Starting at 0 (the host's root) or empty: not usable. */
	assert_int_equal(rootless_subid(path, "bob", 1001, &r), -1);
	assert_int_equal(rootless_subid(path, "carol", 1002, &r), -1);
	unlink(path);
	assert_int_equal(rootless_subid("/nonexistent/subuid", "ann", 2000, &r), -1);
}

static void test_slots(void **state)
{
	uint32_t base, size;

	(void)state;
	/* Without subordinate IDs: node root only. */
	rootless_slot(0, 3, 2, &base, &size);
	assert_int_equal(size, 1);
	/* 65536 IDs for two nodes: halves, after the user's 0. */
	rootless_slot(65536, 2, 0, &base, &size);
	assert_int_equal(base, 1);
	assert_int_equal(size, 32769);
	rootless_slot(65536, 2, 1, &base, &size);
	assert_int_equal(base, 32769);
	/* 200 nodes: 327 IDs each besides root, none shared. */
	rootless_slot(65536, 200, 199, &base, &size);
	assert_int_equal(size, 328);
	assert_int_equal(base, 1 + 199 * 327);
	assert_true(base + size - 1 <= 65537);
	/* Plenty: a full slot of 65536 at most. */
	rootless_slot(10u * 65536, 2, 1, &base, &size);
	assert_int_equal(size, 65536);
	assert_int_equal(base, 65536);
}

static void test_refused(void **state)
{
	struct checked c;
	static const char text[] = "lab r userns off\n"
				   "node a\n"
				   "    userns off\n"
				   "    cpu 0.5\n"
				   "    memory 64M\n"
				   "    pids 50\n"
				   "node b\n"
				   "    pids max\n"
				   "node h[1..3]\n"
				   "node host\n"
				   "    ip h0 10.0.1.1/24\n"
				   "link a:eth0 host:h0\n"
				   "switch s\n"
				   "link h[1..3]:eth0 s\n"
				   "link b:eth0 s\n";

	(void)state;
	check_text(text, &c);
	if (c.d.nerrors)
		report_mismatch(&c, text, "no errors");
	assert_int_equal(c.d.nerrors, 0);
	struct diags d = { 0 };
	size_t n = topo_check_rootless(c.t, NULL, &d);
	diag_sort(&d);
	/* lab userns off, node userns off, cpu, memory, pids 50, node host,
	 * the host link; not `pids max` (no limit), not the ranged links. */
	assert_int_equal(n, 7);
	assert_int_equal(d.nerrors, 7);
	assert_int_equal(d.v[0].pos.line, 1);
	assert_non_null(strstr(d.v[0].msg, "'userns off' needs root"));
	assert_int_equal(d.v[1].pos.line, 3);
	assert_int_equal(d.v[2].pos.line, 4);
	assert_non_null(
		strstr(d.v[2].msg, "'cpu 0.5' needs a cgroup of yours, and no delegated cgroup v2 subtree was found"));
	assert_non_null(strstr(d.v[3].msg, "'memory 64M' needs a cgroup of yours"));
	assert_non_null(strstr(d.v[4].msg, "'pids 50' needs a cgroup of yours"));
	assert_int_equal(d.v[3].pos.line, 5);
	assert_int_equal(d.v[4].pos.line, 6);
	assert_int_equal(d.v[5].pos.line, 10);
	assert_non_null(strstr(d.v[5].msg, "'node host' needs root"));
	assert_int_equal(d.v[6].pos.line, 12);
	assert_non_null(strstr(d.v[6].msg, "link to the host"));
	diag_free(&d);
	checked_free(&c);

	/* The classic lab has nothing to refuse. */
	check_text("switch lan\nnode a\n    ip eth0 10.0.0.1/24\nlink a:eth0 lan\n", &c);
	struct diags d2 = { 0 };
	assert_int_equal(topo_check_rootless(c.t, NULL, &d2), 0);
	diag_free(&d2);
	checked_free(&c);
}

/* Limits against what the user's cgroup delegates. */
static void test_refused_limits(void **state)
{
	struct checked c;
	const char *text = "node a\n"
			   "    cpu 1.25\n"
			   "    memory 1536M\n"
			   "    pids 100\n"
			   "node b\n"
			   "    memory 5000000\n";
	struct topo_deleg dg = {
		.delegated = true,
		.cgroup = "/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope",
		.controllers = "memory pids",
		.mount = "/sys/fs/cgroup",
		.mount_controllers = "cpu memory pids",
		.v1 = "",
	};

	(void)state;
	check_text(text, &c);
	assert_int_equal(c.d.nerrors, 0);
	struct diags d = { 0 };
	/* memory and pids are delegated: only cpu is refused, naming it. */
	assert_int_equal(topo_check_rootless(c.t, &dg, &d), 1);
	assert_int_equal(d.v[0].pos.line, 2);
	assert_int_equal(d.v[0].pos.col, 9);
	assert_non_null(strstr(d.v[0].msg, "'cpu 1.25' needs the cpu controller, which your cgroup "
					   "/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope does not "
					   "delegate (it has: memory pids)"));
	assert_null(strstr(d.v[0].msg, "offers no"));
	diag_free(&d);

	/* This machine's kind: v2 has hugetlb only, the rest is v1's. */
	struct topo_deleg h = { .delegated = true,
				.cgroup = "/t",
				.controllers = "",
				.mount = "/sys/fs/cgroup/unified",
				.mount_controllers = "hugetlb",
				.v1 = "cpu memory pids" };
	struct diags d2 = { 0 };
	assert_int_equal(topo_check_rootless(c.t, &h, &d2), 4);
	diag_sort(&d2);
	assert_non_null(strstr(d2.v[1].msg, "'memory 1536M' needs the memory controller, which your cgroup /t does "
					    "not delegate (it has: none); the cgroup v2 hierarchy at "
					    "/sys/fs/cgroup/unified offers no memory controller at all (it is bound to "
					    "cgroup v1 on this machine)"));
	assert_non_null(strstr(d2.v[2].msg, "'pids 100' needs the pids controller"));
	assert_non_null(strstr(d2.v[3].msg, "'memory 5000000' needs"));
	diag_free(&d2);

	/* Not delegated: why, from the detection. */
	struct topo_deleg n = { .why = "your cgroup / is the machine's" };
	struct diags d3 = { 0 };
	assert_int_equal(topo_check_rootless(c.t, &n, &d3), 4);
	assert_non_null(
		strstr(d3.v[0].msg, "no delegated cgroup v2 subtree was found: your cgroup / is the machine's"));
	diag_free(&d3);
	checked_free(&c);
}

/* node/cgroup_user.h's parsing: mountinfo lines, /proc/PID/cgroup, the
 * controllers list. */
static void test_cgroup_parse(void **state)
{
	char m[64];
	unsigned v1 = 0;

	(void)state;
	assert_int_equal(cgroup_mountinfo_line("41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n",
					       m, sizeof(m), &v1),
			 2);
	assert_string_equal(m, "/sys/fs/cgroup/unified");
	assert_int_equal(cgroup_mountinfo_line("30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - "
					       "cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n",
					       m, sizeof(m), &v1),
			 2);
	assert_string_equal(m, "/sys/fs/cgroup");
	assert_int_equal(cgroup_mountinfo_line("32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup "
					       "rw,cpu,cpuacct\n",
					       m, sizeof(m), &v1),
			 1);
	assert_int_equal(v1, CG_CPU | CG_CPUACCT);
	/* The v1 mount point too: `down` sweeps <it>/netlab/LAB. */
	assert_string_equal(m, "/sys/fs/cgroup/cpu,cpuacct");
	assert_int_equal(cgroup_mountinfo_line("39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n", m,
					       sizeof(m), &v1),
			 1);
	assert_int_equal(v1, CG_PIDS);
	assert_string_equal(m, "/sys/fs/cgroup/pids");
	/* A bind of a subtree, or another file system: not a hierarchy. */
	assert_int_equal(cgroup_mountinfo_line("50 40 0:38 /lab /mnt/cg rw - cgroup2 cgroup2 rw\n", m, sizeof(m), &v1),
			 0);
	assert_int_equal(cgroup_mountinfo_line("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n", m, sizeof(m), &v1), 0);
	assert_int_equal(cgroup_mountinfo_line("garbage\n", m, sizeof(m), &v1), 0);

	char p[128];
	assert_int_equal(cgroup_proc_path("9:name=systemd:/\n4:memory:/x\n0::/user.slice/u@1.service/app.slice/a.scope\n",
					  p, sizeof(p)),
			 0);
	assert_string_equal(p, "/user.slice/u@1.service/app.slice/a.scope");
	assert_int_equal(cgroup_proc_path("0::/\n", p, sizeof(p)), 0);
	assert_string_equal(p, "/");
	/* netlab's leaf: the user's cgroup is the one above. */
	assert_int_equal(cgroup_proc_path("0::/t/" CGROUP_USER_LEAF "\n", p, sizeof(p)), 0);
	assert_string_equal(p, "/t");
	assert_int_equal(cgroup_proc_path("0::/" CGROUP_USER_LEAF "\n", p, sizeof(p)), 0);
	assert_string_equal(p, "/");
	assert_int_equal(cgroup_proc_path("0::/t/x" CGROUP_USER_LEAF "\n", p, sizeof(p)), 0);
	assert_string_equal(p, "/t/x" CGROUP_USER_LEAF);
	/* cgroup v1 only: no 0:: line. */
	assert_int_equal(cgroup_proc_path("4:memory:/\n1:cpu:/\n", p, sizeof(p)), -1);
	char small[4];
	assert_int_equal(cgroup_proc_path("0::/longer\n", small, sizeof(small)), -1);

	assert_int_equal(cgroup_controllers_parse("cpuset cpu io memory hugetlb pids rdma\n"),
			 CG_CPU | CG_CPUACCT | CG_MEMORY | CG_PIDS);
	assert_int_equal(cgroup_controllers_parse("hugetlb\n"), 0);
	assert_int_equal(cgroup_controllers_parse(""), 0);
	assert_int_equal(cgroup_controllers_parse("cpuset memory"), CG_MEMORY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_root),     cmocka_unit_test(test_subid),
		cmocka_unit_test(test_slots),	       cmocka_unit_test(test_refused),
		cmocka_unit_test(test_refused_limits), cmocka_unit_test(test_cgroup_parse),
	};
	return cmocka_run_group_tests_name("rootless", tests, NULL, NULL);
}
