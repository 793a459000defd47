/* Integration tests of src/node/spawn.c: real nodes (user, net, UTS,
 * mount, PID, IPC, cgroup and time namespaces) made by the spawner.
 *
 * `make integration` runs this as root inside `unshare --net --mount`.
 * Every node made here is a child of the test; each test makes its nodes
 * exit (EOF on their channel) and reaps them before it returns. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <alloca.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "node/spawn.h"
#include "node/userns.h"
#include "util/cleanup.h"

#define NODES 64
#define UID_BASE (NLAB_IDS_DEFAULT_BASE + 7 * NLAB_IDS_PER_NODE)

struct node_arg {
	int magic;
};

/* The init: write to its log (fd 4), report what it sees on fd 3, then
 * wait for EOF on fd 3 and exit.  Besides 3 and 4 it must have only
 * SPAWN_SUPERVISOR_FD, a pidfd of its maker (this test), who is alive:
 * not readable yet ("maker=alive"). */
static void test_init(void *p)
{
	const struct node_arg *a = p;
	char msg[256], c;
	int extra = 0;

	for (int fd = 5; fd < 256; fd++)
		if (fd != SPAWN_SUPERVISOR_FD && fcntl(fd, F_GETFD) >= 0)
			extra++;
	struct pollfd maker = { .fd = SPAWN_SUPERVISOR_FD, .events = POLLIN };
	const char *state = poll(&maker, 1, 0) == 0 ? "alive" : maker.revents & POLLNVAL ? "missing" : "exited";
	close(SPAWN_SUPERVISOR_FD);
	int n = snprintf(msg, sizeof(msg), "%d pid=%d uid=%u gid=%u extra=%d maker=%s", a->magic, (int)getpid(),
			 (unsigned)getuid(), (unsigned)getgid(), extra, state);
	/* The log first: the test reads it once the message came. */
	if (write(4, "log line\n", 9) != 9 || write(3, msg, (size_t)n) != n)
		_exit(2);
	while (read(3, &c, 1) > 0)
		;
	_exit(0);
}

struct made {
	pid_t pid;
	int ctl;        /* our end of the node's channel */
	char log[64];
	bool userns;
};

static ino_t ns_inode(pid_t pid, const char *ns)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns);
	if (stat(path, &st) < 0)
		return 0;
	return st.st_ino;
}

static long minflt_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static const struct topo_node plain;

/* Make n nodes; runs below a fence like the supervisor's loop.  Returns
 * this process's minor faults while the nodes were being made. */
static __attribute__((noinline)) long make_below_fence(struct spawner *sp, struct made *m, struct node_arg *args,
						       size_t n)
{
	nlab_error *err = NULL;
	size_t next = 0, done = 0;
	long f0 = minflt_self();

	while (done < n) {
		if (next < n && !spawner_full(sp)) {
			struct made *x = &m[next];
			int pair[2];
			assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
			int log = open(x->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			assert_true(log >= 0);
			x->ctl = pair[0];
			struct spawn_node_args a = {
				.tn = &plain,
				.userns = x->userns,
				.uid_base = UID_BASE, .gid_base = UID_BASE,
				.ctl = pair[1], .log = log,
				.init = test_init, .init_arg = &args[next],
			};
			if (spawner_submit(sp, &a, x, &err) < 0)
				fail_msg("submit: %s", err->msg);
			close(pair[1]);
			close(log);
			next++;
			continue;
		}
		void *tag;
		pid_t pid;
		if (spawner_collect(sp, &tag, &pid, &err) < 0)
			fail_msg("collect: %s", err->msg);
		((struct made *)tag)->pid = pid;
		done++;
	}
	return minflt_self() - f0;
}

static long make_nodes(struct made *m, struct node_arg *args, size_t n)
{
	nlab_error *err = NULL;
	char *fence = alloca(2 * (size_t)sysconf(_SC_PAGESIZE));
	struct spawner *sp = spawner_begin((uintptr_t)fence, &err);

	if (!sp)
		fail_msg("spawner_begin: %s", err->msg);
	long faults = make_below_fence(sp, m, args, n);
	spawner_end(sp);
	return faults;
}

static void stop_nodes(struct made *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int st;
		close(m[i].ctl);
		assert_int_equal(waitpid(m[i].pid, &st, 0), m[i].pid);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
		unlink(m[i].log);
	}
}

/* Every init is PID 1 of its own namespaces, root of its user namespace
 * (mapped onto the slot given), our child, with its own arg, only fds 3
 * and 4, and a log that is the file we opened. */
static void test_nodes_are_isolated_children(void **state)
{
	(void)state;
	nlab_error *err = NULL;
	struct made *m = spawner_table_alloc(4 * sizeof(*m), &err);
	struct node_arg *args = calloc(4, sizeof(*args));
	char msg[256], want[128], path[64];
	static const char *const ns[] = { "net", "uts", "mnt", "pid_for_children", "ipc", "cgroup", "time_for_children", "user" };

	assert_non_null(m);
	assert_non_null(args);
	for (int i = 0; i < 4; i++) {
		args[i].magic = 1000 + i;
		m[i].userns = i != 3;   /* the last one as with `userns off` */
		snprintf(m[i].log, sizeof(m[i].log), "/tmp/netlab-spawn-test-%d-%d.log", (int)getpid(), i);
	}
	make_nodes(m, args, 4);
	for (int i = 0; i < 4; i++) {
		ssize_t len = recv(m[i].ctl, msg, sizeof(msg) - 1, 0);
		assert_true(len > 0);
		msg[len] = '\0';
		snprintf(want, sizeof(want), "%d pid=1 uid=0 gid=0 extra=0 maker=alive", 1000 + i);
		assert_string_equal(msg, want);
		for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
			bool own = strcmp(ns[k], "user") != 0 || m[i].userns;
			char self[32];
			snprintf(self, sizeof(self), "%s", ns[k]);
			if (own)
				assert_int_not_equal(ns_inode(m[i].pid, ns[k]), ns_inode(getpid(), self));
			else
				assert_int_equal(ns_inode(m[i].pid, ns[k]), ns_inode(getpid(), self));
			if (i > 0 && own && m[i - 1].userns)
				assert_int_not_equal(ns_inode(m[i].pid, ns[k]), ns_inode(m[i - 1].pid, ns[k]));
		}
		snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)m[i].pid);
		FILE *f = fopen(path, "re");
		unsigned in, out, count;
		assert_non_null(f);
		assert_int_equal(fscanf(f, "%u %u %u", &in, &out, &count), 3);
		fclose(f);
		assert_int_equal(in, 0);
		assert_int_equal(out, m[i].userns ? UID_BASE : 0);
		assert_int_equal(count, m[i].userns ? NLAB_IDS_PER_NODE : 4294967295u);
	}
	/* The log is what we opened (the node wrote by the time it replied). */
	char buf[32] = "";
	FILE *f = fopen(m[0].log, "re");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "log line\n");
	stop_nodes(m, 4);
	free(args);
}

/* The point of the memory arrangement: making nodes does not make this
 * process take a copy-on-write fault per node (it took about ten per node
 * before; now a few in all, for stack pages touched the first time). */
static void test_no_fault_per_node(void **state)
{
	(void)state;
	nlab_error *err = NULL;
	/* Written for every node while nodes are made: not inherited, as
	 * the supervisor's node table. */
	struct made *m = spawner_table_alloc(NODES * sizeof(*m), &err);
	struct node_arg *args = calloc(NODES, sizeof(*args));
	char msg[256];

	assert_non_null(m);
	assert_non_null(args);
	for (int i = 0; i < NODES; i++) {
		args[i].magic = i;
		m[i].userns = true;
		snprintf(m[i].log, sizeof(m[i].log), "/tmp/netlab-spawn-test-%d-%d.log", (int)getpid(), i);
	}
	long faults = make_nodes(m, args, NODES);
	print_message("minor faults while making %d nodes: %ld\n", NODES, faults);
	assert_true(faults < NODES / 2);
	for (int i = 0; i < NODES; i++)
		assert_true(recv(m[i].ctl, msg, sizeof(msg) - 1, 0) > 0);
	stop_nodes(m, NODES);
	free(args);
}

/* A stage 1 that cannot finish is reported, and the spawner stays usable. */
static void test_failure_is_reported(void **state)
{
	(void)state;
	nlab_error *err = NULL;
	char *fence = alloca(2 * (size_t)sysconf(_SC_PAGESIZE));
	struct spawner *sp = spawner_begin((uintptr_t)fence, &err);
	struct node_arg arg = { 1 };
	int pair[2];

	assert_non_null(sp);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
	/* A time offset makes stage 1 write timens_offsets; an absurd one
	 * is refused by the kernel (ERANGE/EINVAL) after the user
	 * namespace exists: the error comes back through collect. */
	struct topo_node tn = { .has_boottime = true, .boottime_s = INT64_MAX / 4 };
	struct spawn_node_args a = {
		.tn = &tn, .userns = true, .uid_base = UID_BASE, .gid_base = UID_BASE,
		.ctl = pair[1], .log = pair[1], .init = test_init, .init_arg = &arg,
	};
	assert_int_equal(spawner_submit(sp, &a, &arg, &err), 0);
	close(pair[1]);
	void *tag = NULL;
	pid_t pid;
	assert_int_equal(spawner_collect(sp, &tag, &pid, &err), -1);
	assert_ptr_equal(tag, &arg);
	assert_non_null(strstr(err->msg, "time namespace offsets"));
	nlab_error_free(&err);
	assert_int_equal(spawner_pending(sp), 0);
	spawner_end(sp);
	close(pair[0]);
	/* nothing of it is left: stage 1 was reaped, no init was made */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nodes_are_isolated_children),
		cmocka_unit_test(test_no_fault_per_node),
		cmocka_unit_test(test_failure_is_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
