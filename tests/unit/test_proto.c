/* Unit tests of the messages between netlab's processes (src/proto/) and
 * of the one file lock (src/util/lock.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto/proto.h"
#include "util/lock.h"

static void pair(int fds[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
}

static void test_round_trip(void **state)
{
	(void)state;
	int fds[2];
	struct proto_msg m;

	pair(fds);
	assert_int_equal(proto_send(fds[0], PROTO_LINE_FAILED, 42, 3 << 8, -7, NULL), 0);
	assert_int_equal(proto_send(fds[0], PROTO_FAILED, 0, 0, 0, "node a (x.topo:4): exec 'false'\nline two"), 0);
	assert_int_equal(proto_recv(fds[1], &m, NULL), 1);
	assert_int_equal(m.type, PROTO_LINE_FAILED);
	assert_int_equal(m.a[0], 42);
	assert_int_equal(m.a[1], 3 << 8);
	assert_int_equal(m.a[2], -7);
	assert_string_equal(m.text, "");
	assert_int_equal(proto_recv(fds[1], &m, NULL), 1);
	assert_int_equal(m.type, PROTO_FAILED);
	/* Newlines survive: one message is one packet, not one line. */
	assert_string_equal(m.text, "node a (x.topo:4): exec 'false'\nline two");
	close(fds[0]);
	/* The peer's end closed: 0, not an error. */
	assert_int_equal(proto_recv(fds[1], &m, NULL), 0);
	close(fds[1]);
}

static void test_long_text_is_cut(void **state)
{
	(void)state;
	int fds[2];
	struct proto_msg *m = malloc(sizeof(*m));
	char *big = malloc(PROTO_TEXT_MAX + 100);

	assert_non_null(m);
	assert_non_null(big);
	memset(big, 'x', PROTO_TEXT_MAX + 99);
	big[PROTO_TEXT_MAX + 99] = '\0';
	pair(fds);
	assert_int_equal(proto_send(fds[0], PROTO_SETUP_FAILED, 0, 0, 0, big), 0);
	assert_int_equal(proto_recv(fds[1], m, NULL), 1);
	assert_int_equal(strlen(m->text), PROTO_TEXT_MAX);
	close(fds[0]);
	close(fds[1]);
	free(big);
	free(m);
}

/* Whatever is not a well-formed message is refused, with a reason. */
static void test_malformed(void **state)
{
	(void)state;
	int fds[2];
	struct proto_msg m;
	nlab_error *err = NULL;
	char junk[64];

	pair(fds);
	memset(junk, 0, sizeof(junk));
	assert_int_equal(send(fds[0], "I", 1, 0), 1);                 /* short */
	assert_int_equal(send(fds[0], junk, sizeof(junk), 0), 64);    /* type 0, wrong length */
	assert_int_equal(proto_recv(fds[1], &m, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->errnum, EPROTO);
	nlab_error_free(&err);
	assert_int_equal(proto_recv(fds[1], &m, &err), -1);
	assert_int_equal(err->errnum, EPROTO);
	nlab_error_free(&err);
	close(fds[0]);
	close(fds[1]);
}

static void test_names(void **state)
{
	(void)state;
	for (int t = 1; t < PROTO_TYPE_MAX; t++)
		assert_string_not_equal(proto_type_name((enum proto_type)t), "?");
	assert_string_equal(proto_type_name(PROTO_TYPE_MAX), "?");
}

/* A waiter that gets the lock after its holder unlinked the file must
 * not keep that orphaned inode: it locks the file now at the path. */
static void test_lock_after_unlink(void **state)
{
	(void)state;
	char dir[] = "/tmp/netlab-lock-test.XXXXXX", path[64];
	int go[2];
	nlab_error *err = NULL;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/x.lock", dir);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	int fd = lock_at(dfd, "x.lock", NULL, &err);
	assert_true(fd >= 0);
	assert_int_equal(pipe(go), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* The parent's lock is shared by a copy of its fd: drop it. */
		close(fd);
		/* Blocks in flock() on the inode the parent holds. */
		int mine = lock_at(dfd, "x.lock", NULL, NULL);
		struct stat a, b;
		char c = (mine >= 0 && fstat(mine, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino) ? 'y' : 'n';
		/* And it really holds the lock of that file. */
		int probe = open(path, O_RDWR | O_CLOEXEC);
		if (probe < 0 || flock(probe, LOCK_EX | LOCK_NB) == 0 || errno != EWOULDBLOCK)
			c = 'n';
		if (write(go[1], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	close(go[1]);
	usleep(100 * 1000);
	struct stat held;
	assert_int_equal(fstat(fd, &held), 0);
	lock_release_at(fd, dfd, "x.lock", true);
	char c = 0;
	assert_int_equal(read(go[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The child's lock file is a new inode, not the one unlinked. */
	struct stat now;
	assert_int_equal(stat(path, &now), 0);
	close(go[0]);
	close(dfd);
	unlink(path);
	rmdir(dir);
}

struct heard {
	char msg[512];
	int times;
};

static void hear(const char *msg, void *arg)
{
	struct heard *h = arg;
	snprintf(h->msg, sizeof(h->msg), "%s", msg);
	h->times++;
}

/* A held lock: the waiter is told once who holds it, and gives up after
 * its timeout with that holder named. */
static void test_lock_wait_is_bounded_and_told(void **state)
{
	(void)state;
	char dir[] = "/tmp/netlab-lock-test.XXXXXX", buf[64];
	int go[2];

	assert_non_null(mkdtemp(dir));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	assert_int_equal(pipe(go), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int mine = lock_at(dfd, "z.lock", NULL, NULL);
		char c = mine >= 0 ? 'y' : 'n';
		if (write(go[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	char c = 0;
	assert_int_equal(read(go[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	struct heard h = { .times = 0 };
	struct lock_wait w = { .what = "the test lock", .timeout_ms = 400, .notice_ms = 100, .notice = hear, .arg = &h };
	nlab_error *err = NULL;
	assert_int_equal(lock_at(dfd, "z.lock", &w, &err), -1);
	assert_int_equal(err->errnum, ETIMEDOUT);
	snprintf(buf, sizeof(buf), "pid %d", (int)pid);
	assert_non_null(strstr(err->msg, buf));
	assert_non_null(strstr(err->msg, "the test lock"));
	nlab_error_free(&err);
	assert_int_equal(h.times, 1);
	assert_non_null(strstr(h.msg, buf));
	/* A directory lock is the same, and leaves no file. */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	int a = lock_dir(dfd, &w, NULL);
	assert_true(a >= 0);
	assert_int_equal(lock_dir(dfd, &(struct lock_wait){ .what = "d", .timeout_ms = 0 }, &err), -1);
	assert_int_equal(err->errnum, ETIMEDOUT);
	nlab_error_free(&err);
	close(a);
	int b = lock_dir(dfd, &(struct lock_wait){ .what = "d", .timeout_ms = 0 }, NULL);
	assert_true(b >= 0);
	close(b);
	unlinkat(dfd, "z.lock", 0);
	close(dfd);
	close(go[0]);
	close(go[1]);
	assert_int_equal(rmdir(dir), 0);
}

static void test_lock_excludes(void **state)
{
	(void)state;
	char dir[] = "/tmp/netlab-lock-test.XXXXXX", path[64];

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/y.lock", dir);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	int fd = lock_at(dfd, "y.lock", NULL, NULL);
	assert_true(fd >= 0);
	int other = open(path, O_RDWR | O_CLOEXEC);
	assert_true(other >= 0);
	assert_int_equal(flock(other, LOCK_EX | LOCK_NB), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	lock_release_at(fd, dfd, "y.lock", false);
	assert_int_equal(flock(other, LOCK_EX | LOCK_NB), 0);
	close(other);
	/* A symlink is never followed (O_NOFOLLOW). */
	unlink(path);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	nlab_error *err = NULL;
	assert_int_equal(lock_at(dfd, "y.lock", NULL, &err), -1);
	assert_int_equal(err->errnum, ELOOP);
	nlab_error_free(&err);
	close(dfd);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip), cmocka_unit_test(test_long_text_is_cut),
		cmocka_unit_test(test_malformed),  cmocka_unit_test(test_names),
		cmocka_unit_test(test_lock_after_unlink), cmocka_unit_test(test_lock_excludes),
		cmocka_unit_test(test_lock_wait_is_bounded_and_told),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
