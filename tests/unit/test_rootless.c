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
	size_t n = topo_check_rootless(c.t, &d);
	diag_sort(&d);
	/* lab userns off, node userns off, cpu, memory, pids 50, node host,
	 * the host link; not `pids max` (no limit), not the ranged links. */
	assert_int_equal(n, 7);
	assert_int_equal(d.nerrors, 7);
	assert_int_equal(d.v[0].pos.line, 1);
	assert_non_null(strstr(d.v[0].msg, "'userns off' needs root"));
	assert_int_equal(d.v[1].pos.line, 3);
	assert_int_equal(d.v[2].pos.line, 4);
	assert_non_null(strstr(d.v[2].msg, "'cpu' needs root"));
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
	assert_int_equal(topo_check_rootless(c.t, &d2), 0);
	diag_free(&d2);
	checked_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_root),
		cmocka_unit_test(test_subid),
		cmocka_unit_test(test_slots),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests_name("rootless", tests, NULL, NULL);
}
