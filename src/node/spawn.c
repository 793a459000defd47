/* Making a node's processes (see spawn.h for the memory arrangement), in
 * the lab's spawner (spawner/spawner.h), whose parent is the supervisor.
 *
 * The user namespace must come first and alone, with its maps written
 * from outside, and only then the other namespaces, owned by it; a PID
 * (and time) namespace only takes effect for children.  So:
 *
 *   spawner --clone(CLONE_VM | CLONE_PARENT | CLONE_NEWUSER)--> stage 1
 *            (the supervisor's child; waits)
 *   spawner: uid_map, setgroups allow, gid_map, cgroups; GO
 *   stage 1: becomes root of its namespace, makes the time namespace,
 *            clone(net, uts, mount, pid, ipc, cgroup, CLONE_PARENT) on
 *            the init stack --> the init (PID 1, the supervisor's child);
 *            reports the init's pid and exits.
 *
 * Stage 1 shares the spawner's memory (CLONE_VM) and runs on a stack of
 * its own: it costs no copy of the address space and nothing to tear down
 * when it exits.  Most of a node's time is stage 1 waiting for the
 * kernel to make namespaces and to schedule it, so SPAWN_DEPTH stage 1s
 * run at once, each on its own stack, while the spawner starts the next.
 * The supervisor reaps them; the spawner knows one is off its stack by
 * its pidfd.
 *
 * That sharing is safe because of what the spawner does meanwhile:
 * between spawner_begin() and spawner_end() it writes only memory no
 * child inherits (its stack below the fence, the spawner, its table) or
 * the views of the nodes in the making, and calls nothing that allocates
 * or uses stdio, so the copy of memory an init takes at any moment is as
 * consistent as at the start.  Stage 1 itself writes only its own stack
 * (errno on failure). */
#include "node/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "node/cgroup.h"
#include "node/userns.h"
#include "proto/proto.h"
#include "util/cleanup.h"
#include "util/fsutil.h"

#define STAGE1_STACK (256 << 10)
#define INIT_STACK (2 << 20)    /* virtual: each init touches what it uses */

#define NODE_NS_FLAGS \
	(CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWCGROUP)

/* ---- memory ---------------------------------------------------------- */

/* The kernel writes this process's rseq area (in the thread's TLS page)
 * on every return to user space after a context switch, and the loop
 * switches to stage 1 and back for every node: with the page shared with
 * the last init, each write was a copy-on-write fault.  Nothing in netlab
 * uses rseq (glibc only for sched_getcpu, which falls back to the system
 * call), so the spawner drops it. */
static void rseq_stop(void)
{
#ifdef RSEQ_SIG
	if (__rseq_size == 0)
		return;
	void *area = (char *)__builtin_thread_pointer() + __rseq_offset;
	/* The length must be the one glibc registered with. */
	if (syscall(SYS_rseq, area, (uint32_t)sizeof(struct rseq), RSEQ_FLAG_UNREGISTER, RSEQ_SIG) < 0)
		syscall(SYS_rseq, area, (uint32_t)__rseq_size, RSEQ_FLAG_UNREGISTER, RSEQ_SIG);
#endif
}

/* Start of the [stack] mapping, or 0. */
static uintptr_t stack_vma_start(void)
{
	cleanup_fclose FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	uintptr_t lo = 0, hi;

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "[stack]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			return lo;
	return 0;
}

static uintptr_t page_size(void)
{
	return (uintptr_t)sysconf(_SC_PAGESIZE);
}

/* Private anonymous memory, with `advice` (0 for none). */
static char *map_anon(size_t len, int flags, int advice, nlab_error **err, const char *what)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);

	if (p == MAP_FAILED) {
		nlab_error_set(err, errno, "map %s", what);
		return NULL;
	}
	if (advice && madvise(p, len, advice) < 0) {
		nlab_error_set(err, errno, "madvise %s", what);
		munmap(p, len);
		return NULL;
	}
	return p;
}

/* `n` stacks of `len` bytes, each with a guard page under it: an overflow
 * faults instead of writing below. */
static char *map_stacks(size_t n, size_t len, int advice, nlab_error **err, const char *what)
{
	char *p = map_anon(n * len, MAP_NORESERVE, advice, err, what);

	for (size_t i = 0; p && i < n; i++)
		mprotect(p + i * len, page_size(), PROT_NONE);
	return p;
}

void *spawner_table_alloc(size_t size, nlab_error **err)
{
	return map_anon((size + page_size() - 1) & ~(size_t)(page_size() - 1), 0, MADV_DONTFORK, err, "the node table");
}

/* ---- the init -------------------------------------------------------- */

/* First code of the init, on the init stack: only fds 3, 4 and
 * SPAWN_SUPERVISOR_FD stay. */
__attribute__((noreturn)) static void init_enter(spawn_init_fn fn, void *arg)
{
	close(5);
	fn(arg);
	_exit(127);
}

/* clone(2) onto `stack_top` without writing to that stack from this side:
 * glibc's clone() stores its function and argument there first, and any
 * write to a page the last init shares is a copy-on-write fault.  Here
 * they travel in callee-saved registers, which the child gets copies of. */
#if defined(__x86_64__)
/* Nothing writes the init stack in this process's memory, so every init
 * can have its copy of the same one: fewer mappings for each to inherit. */
#define INIT_STACKS 1

static pid_t clone_on_stack(unsigned long flags, void *stack_top, spawn_init_fn fn, void *arg)
{
	register long r10 __asm__("r10") = 0;   /* child_tid */
	register long r8 __asm__("r8") = 0;     /* tls */
	register spawn_init_fn r12 __asm__("r12") = fn;
	register void *r13 __asm__("r13") = arg;
	register void (*r14)(spawn_init_fn, void *) __asm__("r14") = init_enter;
	long ret;

	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 /* The child, on the new stack (16-byte aligned). */
			 "xor %%ebp, %%ebp\n\t"
			 "mov %%r12, %%rdi\n\t"
			 "mov %%r13, %%rsi\n\t"
			 "call *%%r14\n\t"
			 "ud2\n"
			 "1:"
			 : "=a"(ret)
			 : "0"((long)SYS_clone), "D"(flags), "S"(stack_top), "d"(0L), "r"(r10), "r"(r8), "r"(r12),
			   "r"(r13), "r"(r14)
			 : "rcx", "r11", "memory");
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return (pid_t)ret;
}
#else
#define INIT_STACKS SPAWN_DEPTH

struct init_call {
	spawn_init_fn fn;
	void *arg;
};

static int init_call_enter(void *p)
{
	const struct init_call *c = p;
	init_enter(c->fn, c->arg);
}

/* Elsewhere: glibc's clone(), with the call at the top of the init stack
 * (a copy-on-write fault per node, nothing worse). */
static pid_t clone_on_stack(unsigned long flags, void *stack_top, spawn_init_fn fn, void *arg)
{
	struct init_call *c = (struct init_call *)stack_top - 1;

	c->fn = fn;
	c->arg = arg;
	return clone(init_call_enter, (char *)c - 64, (int)flags, c);
}
#endif

/* ---- stage 1 --------------------------------------------------------- */

/* In a freshly cloned child: move fds[i] to fd 3 + i and close everything
 * else, whatever numbers they had. */
static int keep_fds(const int *fds, int n)
{
	int hi = 3 + n, tmp[8];

	if (n > 8)
		return -1;
	for (int i = 0; i < n; i++)
		if (fds[i] >= hi)
			hi = fds[i] + 1;
	for (int i = 0; i < n; i++)
		if ((tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, hi)) < 0)
			return -1;
	for (int i = 0; i < n; i++)
		if (dup3(tmp[i], 3 + i, O_CLOEXEC) < 0)
			return -1;
	return (int)syscall(SYS_close_range, 3 + n, ~0U, 0);
}

/* Returns 0, or -errno with *what naming the step. */
static int set_time_offsets(const struct topo_node *n, const char **what)
{
	char buf[128];
	size_t o = 0;
	struct timespec ts;

	if (n->has_monotonic) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "monotonic %lld 0\n",
				      (long long)(n->monotonic_s - (int64_t)ts.tv_sec));
	}
	if (n->has_boottime) {
		clock_gettime(CLOCK_BOOTTIME, &ts);
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "boottime %lld 0\n",
				      (long long)(n->boottime_s - (int64_t)ts.tv_sec));
	}
	if (!o)
		return 0;
	*what = "open /proc/self/timens_offsets (kernel option CONFIG_TIME_NS)";
	int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*what = "write the time namespace offsets";
	ssize_t w = write(fd, buf, o);
	int e = errno;
	close(fd);
	return w < 0 ? -e : 0;
}

struct stage1_arg {
	const struct spawn_node_args *a;
	void *init_stack_top;
	int sync;       /* stage 1's end */
	int *cred_lock; /* the spawner's, shared by every stage 1 */
	int tasks[SPAWN_MAX_CGROUPS]; /* v1 groups' tasks files, for stage 1 to join */
	size_t ntasks;
};

/* Dumpability belongs to the memory (mm->flags), and stage 1s share the
 * caller's: one stage 1 becoming root of its user namespace resets it
 * (commit_creds -> suid_dumpable) under another that has just set it to
 * open its own /proc/self/timens_offsets, which then belongs to host root
 * and the open fails with EACCES.  So stage 1s change credentials and
 * write their offsets one at a time, under a lock in the memory they
 * share (a spin with sched_yield: the section is a few system calls). */
static void cred_lock(int *lock)
{
	while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE))
		sched_yield();
}

static void cred_unlock(int *lock)
{
	__atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

/* Stage 1 runs alongside the caller and other stage 1s in one memory, so
 * it allocates nothing: no stdio, no error objects.  It reports SPAWNED
 * with the init's pid, or SPAWN_FAILED "what: reason" for the caller to
 * turn into an error (proto/proto.h). */
static int stage1_report(const char *what, int e, pid_t pid)
{
	char msg[512];

	if (what) {
		const char *why = strerrordesc_np(e);
		snprintf(msg, sizeof(msg), "%s: %s", what, why ? why : "unknown error");
		proto_send(5, PROTO_SPAWN_FAILED, 0, 0, 0, msg);
		return 1;
	}
	proto_send(5, PROTO_SPAWNED, pid, 0, 0, NULL);
	return 0;
}

static int stage1_main(void *p)
{
	const struct stage1_arg *s1 = p;
	const struct spawn_node_args *a = s1->a;
	const char *what = NULL;
	struct proto_msg go;

	/* Into the node's v1 groups, through the files the caller opened
	 * (cgroup_open_tasks()): a process of one thread writing "0" to tasks
	 * skips the kernel's grace-period wait that moving it from outside
	 * costs.  The init, cloned below, starts there. */
	int e = 0;
	for (size_t i = 0; i < s1->ntasks && !e; i++)
		if (TEMP_FAILURE_RETRY(write(s1->tasks[i], "0", 1)) < 0) {
			e = errno;
			what = "join the node's cgroup";
		}
	/* The init's channel and log become 3 and 4, ours 5; nothing else. */
	int keep[3] = { a->ctl, a->log, s1->sync };
	if (keep_fds(keep, 3) < 0)
		return 1;
	if (proto_recv(5, &go, NULL) != 1 || go.type != PROTO_GO)
		return 1;
	if (e)
		return stage1_report(what, e, 0);
	cred_lock(s1->cred_lock);
	if (a->userns && (syscall(SYS_setresgid, 0, 0, 0) < 0 || syscall(SYS_setresuid, 0, 0, 0) < 0)) {
		e = errno;
		what = "become root of the node's user namespace";
	} else {
		/* The uid change made us non-dumpable, which hands
		 * /proc/self to host root; timens_offsets must be writable
		 * by the new root. */
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
		if (unshare(CLONE_NEWTIME) < 0) {
			e = errno;
			what = "unshare the time namespace (kernel option CONFIG_TIME_NS)";
		} else {
			e = -set_time_offsets(a->tn, &what);
		}
	}
	cred_unlock(s1->cred_lock);
	if (e)
		return stage1_report(what, e, 0);
	/* The init's parent, by CLONE_PARENT, is ours: a pidfd of it for
	 * the init to check (SPAWN_SUPERVISOR_FD; fds above 5 are closed). */
	int sup = (int)syscall(SYS_pidfd_open, getppid(), 0);
	if (sup >= 0 && sup != SPAWN_SUPERVISOR_FD) {
		dup3(sup, SPAWN_SUPERVISOR_FD, O_CLOEXEC);
		close(sup);
	}
	pid_t pid = clone_on_stack(NODE_NS_FLAGS | CLONE_PARENT, s1->init_stack_top, a->init, a->init_arg);
	close(SPAWN_SUPERVISOR_FD);
	if (pid < 0)
		return stage1_report("clone (new net, uts, mount, pid, ipc, cgroup namespaces)", errno, 0);
	return stage1_report(NULL, 0, pid);
}

/* ---- the spawner ----------------------------------------------------- */

struct slot {
	bool busy;              /* stage 1 started, its report not read yet */
	pid_t p1;               /* stage 1, until it has exited */
	int p1fd;               /* a pidfd of it (it is our parent's child) */
	int sync;               /* our end of stage 1's socket */
	void *tag;
	char *stack;            /* STAGE1_STACK bytes */
	char *init_stack;       /* INIT_STACK bytes, touched only by inits (and,
				 * off x86_64, by clone_on_stack()) */
	struct spawn_node_args a;
	struct stage1_arg s1;
};

struct spawner {
	uintptr_t fence_lo, fence_hi;   /* stack range not inherited, or 0 */
	int home_mntns, home_cwd;       /* where this process goes back after a->mntns */
	int cred_lock;                  /* see cred_lock() */
	size_t pending;
	struct slot slot[SPAWN_DEPTH];
};

struct spawner *spawner_begin(uintptr_t fence, nlab_error **err)
{
	struct spawner *sp = spawner_table_alloc(sizeof(*sp), err);
	if (!sp)
		return NULL;
	char *stacks = map_stacks(SPAWN_DEPTH, STAGE1_STACK, MADV_DONTFORK, err, "stage 1 stacks");
	char *init_stacks = map_stacks(INIT_STACKS, INIT_STACK, 0, err, "init stacks");
	if (!stacks || !init_stacks)
		return NULL;
	for (int i = 0; i < SPAWN_DEPTH; i++) {
		sp->slot[i].stack = stacks + (size_t)i * STAGE1_STACK;
		sp->slot[i].init_stack = init_stacks + (size_t)(i % INIT_STACKS) * INIT_STACK;
		sp->slot[i].sync = -1;
		sp->slot[i].p1fd = -1;
	}
	sp->home_mntns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	sp->home_cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (sp->home_mntns < 0 || sp->home_cwd < 0) {
		nlab_error_set(err, errno, "open this process's mount namespace and directory");
		return NULL;
	}
	rseq_stop();
	/* Everything below the fence is frames of the node loop: the inits
	 * run on their own stack and never look there.  An error here only
	 * costs speed. */
	uintptr_t lo = stack_vma_start(), hi = (fence + page_size() - 1) & ~(page_size() - 1);
	if (lo && lo < hi && madvise((void *)lo, hi - lo, MADV_DONTFORK) == 0) {
		sp->fence_lo = lo;
		sp->fence_hi = hi;
	}
	return sp;
}

bool spawner_full(const struct spawner *sp)
{
	return sp->pending == SPAWN_DEPTH;
}

size_t spawner_pending(const struct spawner *sp)
{
	return sp->pending;
}

size_t spawner_pollfds(const struct spawner *sp, struct pollfd *p)
{
	size_t n = 0;

	for (int i = 0; i < SPAWN_DEPTH; i++)
		if (sp->slot[i].busy)
			p[n++] = (struct pollfd){ .fd = sp->slot[i].sync, .events = POLLIN };
	return n;
}

/* Our copies only: stage 1 reads s1 from the memory we share, so its
 * count stays until the slot is used again. */
static void close_tasks(const struct stage1_arg *s1)
{
	for (size_t i = 0; i < s1->ntasks; i++)
		close(s1->tasks[i]);
}

/* Stage 1 is our parent's child (CLONE_PARENT, like the init it makes),
 * for the caller's parent to reap; here its pidfd tells when it is off
 * its stack. */
static void slot_reap(struct slot *sl)
{
	if (sl->sync >= 0)
		close(sl->sync);
	sl->sync = -1;
	if (sl->p1fd >= 0) {
		struct pollfd p = { .fd = sl->p1fd, .events = POLLIN };
		while (poll(&p, 1, -1) < 0 && errno == EINTR)
			;
		close(sl->p1fd);
	}
	sl->p1fd = -1;
	sl->p1 = 0;
	sl->busy = false;
}

int spawner_submit(struct spawner *sp, const struct spawn_node_args *a, void *tag, nlab_error **err)
{
	struct slot *sl = NULL;
	int sync[2], e;

	for (int i = 0; i < SPAWN_DEPTH && !sl; i++)
		if (!sp->slot[i].busy)
			sl = &sp->slot[i];
	if (!sl)
		return nlab_error_set(err, EBUSY, "too many nodes in the making");
	/* Its last stage 1 has reported; it is off this stack by now. */
	slot_reap(sl);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) < 0)
		return nlab_error_set(err, errno, "socketpair");
	sl->a = *a;
	sl->tag = tag;
	sl->sync = sync[0];
	sl->s1 = (struct stage1_arg){ .a = &sl->a, .init_stack_top = sl->init_stack + INIT_STACK, .sync = sync[1],
				      .cred_lock = &sp->cred_lock };
	/* v1 groups stage 1 joins itself; the rest (v2) get its pid below. */
	char *v2[SPAWN_MAX_CGROUPS];
	size_t nv2 = 0;
	if (a->ncgroups > SPAWN_MAX_CGROUPS) {
		close(sync[1]);
		slot_reap(sl);
		return nlab_error_set(err, E2BIG, "a node in %zu cgroups (at most %d)", a->ncgroups,
				      SPAWN_MAX_CGROUPS);
	}
	for (size_t i = 0; i < a->ncgroups; i++) {
		int fd = cgroup_open_tasks(a->cgroups[i]);
		if (fd >= 0) {
			sl->s1.tasks[sl->s1.ntasks++] = fd;
		} else if (errno == ENOENT) {
			v2[nv2++] = a->cgroups[i];
		} else {
			e = errno;
			close(sync[1]);
			close_tasks(&sl->s1);
			slot_reap(sl);
			return nlab_error_set(err, e, "open %s/tasks", a->cgroups[i]);
		}
	}
	/* Stage 1 (and so the init's copy) in a->mntns: this process goes
	 * there for the clone alone, and back (setns(2) also moves its root
	 * and working directory to the namespace's). */
	if (a->mntns > 2 && setns(a->mntns, CLONE_NEWNS) < 0) {
		e = errno;
		close(sync[1]);
		slot_reap(sl);
		return nlab_error_set(err, e, "enter the node template's mount namespace");
	}
	int p1fd = -1;
	pid_t p1 = clone(stage1_main, sl->stack + STAGE1_STACK,
			 CLONE_VM | CLONE_PARENT | CLONE_PIDFD | (a->userns ? CLONE_NEWUSER : 0) | SIGCHLD, &sl->s1,
			 &p1fd);
	e = errno;
	close_tasks(&sl->s1);
	if (a->mntns > 2 && (setns(sp->home_mntns, CLONE_NEWNS) < 0 || fchdir(sp->home_cwd) < 0)) {
		/* Nothing of this process's would be where it looks. */
		abort();
	}
	close(sync[1]);
	if (p1 < 0) {
		slot_reap(sl);
		return nlab_error_set(err, e, "clone (new user namespace%s)",
				      e == ENOSPC || e == EPERM ? "; see user.max_user_namespaces" : "");
	}
	sl->p1 = p1;
	sl->p1fd = p1fd;
	if ((a->userns &&
	     (a->id_size ? userns_write_nested_maps(p1, a->uid_base, a->gid_base, a->id_size, !a->setgroups_deny, err)
			 : userns_write_maps(p1, a->uid_base, a->gid_base, err)) < 0 &&
	     nlab_error_wrap(err, "user namespace of stage 1 (pid %d)", (int)p1) < 0) ||
	    (nv2 && cgroup_attach(v2, nv2, p1, err) < 0)) {
		kill(p1, SIGKILL);
		slot_reap(sl);
		return -1;
	}
	if (proto_send(sl->sync, PROTO_GO, 0, 0, 0, NULL) < 0) {
		e = errno;
		kill(p1, SIGKILL);
		slot_reap(sl);
		return nlab_error_set(err, e, "start stage 1");
	}
	sl->busy = true;
	sp->pending++;
	return 0;
}

int spawner_collect(struct spawner *sp, void **tag, pid_t *pid, pid_t *stage1, nlab_error **err)
{
	struct pollfd p[SPAWN_DEPTH];
	struct slot *sl = NULL;
	int n = 0, map[SPAWN_DEPTH];
	struct proto_msg msg;

	*tag = NULL;
	for (int i = 0; i < SPAWN_DEPTH; i++)
		if (sp->slot[i].busy) {
			p[n] = (struct pollfd){ .fd = sp->slot[i].sync, .events = POLLIN };
			map[n++] = i;
		}
	if (!n)
		return nlab_error_set(err, 0, "no node in the making");
	while (!sl) {
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return nlab_error_set(err, errno, "poll");
		}
		for (int j = 0; j < n && !sl; j++)
			if (p[j].revents)
				sl = &sp->slot[map[j]];
	}
	*tag = sl->tag;
	*stage1 = sl->p1;
	int r = proto_recv(sl->sync, &msg, NULL);
	sl->busy = false;
	sp->pending--;
	close(sl->sync);
	sl->sync = -1;
	/* Stage 1 is reaped when its stack is next needed: waiting for its
	 * exit here would put that on every node's path. */
	if (r <= 0 || (msg.type != PROTO_SPAWNED && msg.type != PROTO_SPAWN_FAILED)) {
		slot_reap(sl);
		return nlab_error_set(err, 0, "stage 1 exited without creating the node");
	}
	if (msg.type == PROTO_SPAWN_FAILED)
		return nlab_error_set(err, 0, "%s", msg.text);
	*pid = (pid_t)msg.a[0];
	return 0;
}

void spawner_end(struct spawner *sp)
{
	if (!sp)
		return;
	for (int i = 0; i < SPAWN_DEPTH; i++) {
		struct slot *sl = &sp->slot[i];
		if (sl->busy && sl->p1 > 0)
			kill(sl->p1, SIGKILL);
		if (sl->busy)
			sp->pending--;
		slot_reap(sl);
	}
	if (sp->home_mntns >= 0)
		close(sp->home_mntns);
	if (sp->home_cwd >= 0)
		close(sp->home_cwd);
	sp->home_mntns = sp->home_cwd = -1;
	if (!sp->fence_hi)
		return;
	/* The stack may have grown since: from its start as it is now. */
	uintptr_t lo = stack_vma_start();
	if (!lo || lo > sp->fence_lo)
		lo = sp->fence_lo;
	madvise((void *)lo, sp->fence_hi - lo, MADV_DOFORK);
	sp->fence_lo = sp->fence_hi = 0;
}
