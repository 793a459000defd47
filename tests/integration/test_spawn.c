/* Integration tests of src/node/spawn.c: real nodes (user, net, UTS,
 * mount, PID, IPC, cgroup and time namespaces) made by the spawner.
 *
 * `make integration` runs this as root inside `unshare --net --mount`.
 * As in a lab, the spawner runs in a process of its own (here a fork of
 * the test, as the lab's spawner is the supervisor's child), and the
 * stage 1s and inits it makes are its parent's children (CLONE_PARENT):
 * the test's, which reaps them.  Each test makes its nodes exit (EOF on
 * their channel) and reaps them before it returns. */
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
	int child_ctl;  /* the node's end, until the spawner has it */
	int log_fd;
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

/* What the spawner process tells the test. */
struct outcome {
	pid_t pid[NODES], stage1[NODES];
	long faults;
	int failed;             /* nodes whose collect failed */
	bool tag_ok;            /* every collect named a node submitted */
	char err[256];          /* the first failure */
	size_t pending;         /* after the last collect */
};

/* Make n nodes; runs below a fence like the spawner's loop.  Counts this
 * process's minor faults while the nodes were being made. */
static __attribute__((noinline)) void make_below_fence(struct spawner *sp, struct made *m, struct node_arg *args,
							const struct topo_node *tn, size_t n, struct outcome *o)
{
	nlab_error *err = NULL;
	size_t next = 0, done = 0;
	long f0 = minflt_self();

	o->tag_ok = true;
	while (done < n) {
		if (next < n && !spawner_full(sp)) {
			struct made *x = &m[next];
			struct spawn_node_args a = {
				.tn = tn,
				.userns = x->userns,
				.uid_base = UID_BASE, .gid_base = UID_BASE,
				.ctl = x->child_ctl, .log = x->log_fd,
				.init = test_init, .init_arg = &args[next],
			};
			if (spawner_submit(sp, &a, x, &err) < 0) {
				snprintf(o->err, sizeof(o->err), "submit: %s", err->msg);
				_exit(3);
			}
			next++;
			continue;
		}
		void *tag = NULL;
		pid_t pid = 0, stage1 = 0;
		int r = spawner_collect(sp, &tag, &pid, &stage1, &err);
		size_t i = (size_t)((struct made *)tag - m);
		if (!tag || i >= n) {
			o->tag_ok = false;
			break;
		}
		o->stage1[i] = stage1;
		if (r < 0) {
			if (!o->failed++)
				snprintf(o->err, sizeof(o->err), "%s", err->msg);
			nlab_error_free(&err);
		} else {
			o->pid[i] = pid;
		}
		done++;
	}
	o->pending = spawner_pending(sp);
	o->faults = minflt_self() - f0;
}

/* The spawner's process: make the nodes, tell the test, exit. */
static __attribute__((noreturn)) void spawner_process(struct made *m, struct node_arg *args, const struct topo_node *tn,
						       size_t n, int out)
{
	nlab_error *err = NULL;
	char *fence = alloca(2 * (size_t)sysconf(_SC_PAGESIZE));
	/* Written for every node: not inherited, as the spawner's table. */
	struct outcome *o = spawner_table_alloc(sizeof(*o), &err);
	struct spawner *sp = o ? spawner_begin((uintptr_t)fence, &err) : NULL;

	if (!sp)
		_exit(2);
	make_below_fence(sp, m, args, tn, n, o);
	spawner_end(sp);
	_exit(write(out, o, sizeof(*o)) == (ssize_t)sizeof(*o) ? 0 : 4);
}

/* Make n nodes through a spawner process; the test keeps each node's end
 * of its channel.  Every stage 1 is reaped here. */
static void make_nodes_with(struct made *m, struct node_arg *args, const struct topo_node *tn, size_t n,
			    struct outcome *o)
{
	int pipe_fd[2], st;

	for (size_t i = 0; i < n; i++) {
		int pair[2];
		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
		m[i].ctl = pair[0];
		m[i].child_ctl = pair[1];
		m[i].log_fd = open(m[i].log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		assert_true(m[i].log_fd >= 0);
	}
	assert_int_equal(pipe2(pipe_fd, O_CLOEXEC), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0)
		spawner_process(m, args, tn, n, pipe_fd[1]);
	close(pipe_fd[1]);
	for (size_t i = 0; i < n; i++) {
		close(m[i].child_ctl);
		close(m[i].log_fd);
	}
	memset(o, 0, sizeof(*o));
	assert_int_equal(read(pipe_fd[0], o, sizeof(*o)), (ssize_t)sizeof(*o));
	close(pipe_fd[0]);
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_true(o->tag_ok);
	for (size_t i = 0; i < n; i++) {
		assert_true(o->stage1[i] > 0);
		assert_int_equal(waitpid(o->stage1[i], &st, __WALL), o->stage1[i]);
		m[i].pid = o->pid[i];
	}
}

static long make_nodes(struct made *m, struct node_arg *args, size_t n)
{
	static const struct topo_node plain;
	struct outcome o;

	make_nodes_with(m, args, &plain, n, &o);
	if (o.failed)
		fail_msg("%d nodes failed: %s", o.failed, o.err);
	return o.faults;
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
	struct made *m = calloc(4, sizeof(*m));
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
	free(m);
}

/* The point of the memory arrangement: making nodes does not make this
 * process take a copy-on-write fault per node (it took about ten per node
 * before; now a few in all, for stack pages touched the first time). */
static void test_no_fault_per_node(void **state)
{
	(void)state;
	struct made *m = calloc(NODES, sizeof(*m));
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
	free(m);
}

/* A stage 1 that cannot finish is reported, and nothing of it is left. */
static void test_failure_is_reported(void **state)
{
	(void)state;
	struct made m = { .userns = true };
	struct node_arg arg = { 1 };
	struct outcome o;

	snprintf(m.log, sizeof(m.log), "/tmp/netlab-spawn-test-%d-f.log", (int)getpid());
	/* A time offset makes stage 1 write timens_offsets; an absurd one
	 * is refused by the kernel (ERANGE/EINVAL) after the user
	 * namespace exists: the error comes back through collect. */
	struct topo_node tn = { .has_boottime = true, .boottime_s = INT64_MAX / 4 };
	make_nodes_with(&m, &arg, &tn, 1, &o);
	assert_int_equal(o.failed, 1);
	assert_int_equal(o.pid[0], 0);
	assert_non_null(strstr(o.err, "time namespace offsets"));
	assert_int_equal(o.pending, 0);
	close(m.ctl);
	unlink(m.log);
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
