/* Integration tests of the shared host settings (src/lab/hostshare.c)
 * against the running kernel's sysctls.
 *
 * `make integration` runs this as root inside `unshare --net --mount`;
 * each test runs in a fresh network namespace of its own (the sysctls it
 * changes are that namespace's) with a state root of its own. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
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

#include "lab/hostshare.h"
#include "lab/state.h"
#include "net/sysctl.h"
#include "util/fsutil.h"

static char root[] = "/tmp/netlab-hostshare-test-XXXXXX";
static int saved_netns = -1;

static int setup(void **state)
{
	(void)state;
	strcpy(root, "/tmp/netlab-hostshare-test-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	setenv("NETLAB_RUN_DIR", root, 1);
	saved_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	return unshare(CLONE_NEWNET);
}

static int teardown(void **state)
{
	(void)state;
	setns(saved_netns, CLONE_NEWNET);
	close(saved_netns);
	return rm_rf(root, NULL);
}

static void sysctl_is(const char *key, const char *want)
{
	char v[64];
	nlab_error *err = NULL;

	if (nlab_sysctl_read(key, v, sizeof(v), &err) < 0)
		fail_msg("%s: %s", key, err->msg);
	if (strcmp(v, want) != 0)
		fail_msg("%s is %s, want %s", key, v, want);
}

static void set(const char *key, const char *value)
{
	nlab_error *err = NULL;

	if (nlab_sysctl_write(key, value, &err) < 0)
		fail_msg("%s: %s", key, err->msg);
}

/* A lab "exists" while it has a state directory. */
static void make_lab(const char *lab)
{
	char dir[512];

	snprintf(dir, sizeof(dir), "%s/%s", root, lab);
	assert_int_equal(mkdir(dir, 0755), 0);
}

static bool host_file_exists(void)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/.host.json", root);
	return access(path, F_OK) == 0;
}

/* The first saves, the last restores, whatever the order; each interface's
 * own forwarding comes back too. */
static void test_refcount(void **state)
{
	(void)state;
	nlab_error *err = NULL;

	set("net.ipv4.ip_forward", "0");
	set("net.ipv4.conf.lo.forwarding", "1");
	make_lab("a");
	make_lab("b");
	assert_int_equal(hostshare_sysctl("a", "net.ipv4.ip_forward", "1", NULL, &err), 0);
	sysctl_is("net.ipv4.ip_forward", "1");
	assert_int_equal(hostshare_sysctl("b", "net.ipv4.ip_forward", "1", NULL, &err), 0);
	char *held = hostshare_held("a");
	assert_non_null(held);
	assert_non_null(strstr(held, "net.ipv4.ip_forward"));
	free(held);
	assert_int_equal(hostshare_release("a", NULL, &err), 0);
	sysctl_is("net.ipv4.ip_forward", "1");
	assert_null(hostshare_held("a"));
	assert_int_equal(hostshare_release("b", NULL, &err), 0);
	sysctl_is("net.ipv4.ip_forward", "0");
	/* Writing ip_forward wrote lo's own forwarding; it is back. */
	sysctl_is("net.ipv4.conf.lo.forwarding", "1");
	assert_false(host_file_exists());
	/* Releasing again is harmless. */
	assert_int_equal(hostshare_release("b", NULL, &err), 0);
}

/* Labs must agree on a shared setting's value. */
static void test_conflict(void **state)
{
	(void)state;
	nlab_error *err = NULL;

	make_lab("a");
	make_lab("c");
	set("net.ipv4.conf.all.accept_redirects", "1");
	assert_int_equal(hostshare_sysctl("a", "net.ipv4.conf.all.accept_redirects", "0", NULL, &err), 0);
	assert_int_equal(hostshare_sysctl("c", "net.ipv4.conf.all.accept_redirects", "1", NULL, &err), -1);
	assert_int_equal(err->errnum, EBUSY);
	assert_non_null(strstr(err->msg, "lab a keeps it at 0, this lab wants 1"));
	nlab_error_free(&err);
	sysctl_is("net.ipv4.conf.all.accept_redirects", "0");
	assert_null(hostshare_held("c"));
	assert_int_equal(hostshare_release("a", NULL, &err), 0);
	sysctl_is("net.ipv4.conf.all.accept_redirects", "1");
}

/* A holder that left no trace at all (no state directory, no
 * supervisor) holds nothing: the next lab to take the lock restores. */
static void test_gone_holder(void **state)
{
	(void)state;
	nlab_error *err = NULL;
	char dir[512];

	set("net.ipv4.ip_forward", "0");
	make_lab("ghost");
	make_lab("d");
	assert_int_equal(hostshare_sysctl("ghost", "net.ipv4.ip_forward", "1", NULL, &err), 0);
	snprintf(dir, sizeof(dir), "%s/ghost", root);
	assert_int_equal(rmdir(dir), 0);
	/* d joins: ghost is dropped, d holds it alone. */
	assert_int_equal(hostshare_sysctl("d", "net.ipv4.ip_forward", "1", NULL, &err), 0);
	assert_null(hostshare_held("ghost"));
	assert_int_equal(hostshare_release("d", NULL, &err), 0);
	sysctl_is("net.ipv4.ip_forward", "0");
	assert_false(host_file_exists());
}

/* A damaged record is refused with a message, not silently reset (the
 * original values would be lost). */
static void test_damaged_record(void **state)
{
	(void)state;
	nlab_error *err = NULL;
	char path[512];

	make_lab("a");
	snprintf(path, sizeof(path), "%s/.host.json", root);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("{ not json", f);
	fclose(f);
	assert_int_equal(hostshare_sysctl("a", "net.ipv4.ip_forward", "1", NULL, &err), -1);
	assert_non_null(strstr(err->msg, "is damaged"));
	nlab_error_free(&err);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_refcount, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gone_holder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_record, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
