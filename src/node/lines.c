/* A node's lines, run by its init (lines.h). */
#include "node/lines.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "node/command.h"
#include "node/creds.h"
#include "node/log.h"
#include "proto/proto.h"
#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/time.h"

#define WAIT_POLL_MS 100        /* how often a wait looks again */
#define WAIT_EXEC_PAUSE_MS 200  /* between two tries of `wait exec` */
#define STOP_POLL_MS 50         /* how often a stop looks for what is left */
#define STOP_KILL_WAIT_MS 5000  /* after SIGKILL: a process stuck in the kernel */

struct run_proc {
	pid_t pid;
	size_t op;              /* the line that started it */
};

struct lines {
	const struct node_spec *s;
	uint32_t uid, gid;
	size_t first, end;      /* the node's lines: plan ops [first, end) */
	size_t cur;             /* the line being run */
	bool started, ready, failed;
	pid_t cur_pid;          /* an exec line, or a try of `wait exec` */
	int cur_status;         /* the last try's wait status */
	int64_t deadline;       /* of the current line */
	int64_t next_try;       /* `wait exec`: when to try again */
	uint64_t cur_off;       /* the log's position when the current line began */
	struct run_proc *runs;  /* run and dhcp lines still running */
	size_t nruns, capruns;
	struct node_log *log;
	/* The sessions the lines started (each line's process calls
	 * setsid): what a stop looks for, with NETLAB_LINE. */
	pid_t *sessions;
	size_t nsessions, capsessions;
	/* STOP_LINES: SIGTERM, the grace period, SIGKILL (lines_stop()). */
	bool stopping, killing;
	int64_t stop_deadline;
	int64_t stopped, killed;
};

static const struct plan_op *op_at(const struct lines *l, size_t i)
{
	return &l->s->plan->ops[i];
}

struct lines *lines_new(const struct node_spec *s, struct node_log *log, uint32_t uid, uint32_t gid)
{
	struct lines *l = calloc(1, sizeof(*l));
	const struct plan_node_ops *no = &s->plan->nodes[s->index];

	if (!l)
		return NULL;
	l->s = s;
	l->log = log;
	l->uid = uid;
	l->gid = gid;
	l->first = l->cur = no->cmds;
	l->end = no->cmds + no->ncmds;
	return l;
}

/* ---- starting a process ---------------------------------------------- */

/* Child side: a normal process state, only stdio, the node's user, then
 * the command.  An exec failure goes back through `report` (O_CLOEXEC:
 * closed by a successful exec, so the parent reads EOF). */
static __attribute__((noreturn)) void child(struct lines *l, const struct plan_op *op, char **argv,
					    const char *text, int report)
{
	const struct node_spec *s = l->s;
	sigset_t none;
	char line[16];

	sigemptyset(&none);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null >= 0)
		dup2(null, 0);
	dup2(l->log->pipe_w, 1);
	dup2(l->log->pipe_w, 2);
	/* Only stdin, stdout and stderr (and the report pipe, close-on-exec)
	 * reach the command: no control socket, log or namespace fd. */
	if (report != 3 && dup3(report, 3, O_CLOEXEC) < 0)
		_exit(126);
	close_range(4, ~0U, 0);
	report = 3;
	/* The OOM killer's choice before the init (node/command.h).  A copy
	 * of the init, which is not dumpable, so that its /proc files are
	 * the host's, not node root's: dumpable again first (execve would
	 * make it so anyway, and only stdio and the report pipe are left). */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	command_raise_oom_score();
	nlab_error *err = NULL;
	int e = 0;
	if ((s->node->has_user && creds_become(l->uid, l->gid, &err) < 0) || creds_clear_inheritable(&err) < 0) {
		dprintf(2, "netlab: node %s: %s\n", s->node->name, err->msg);
		e = EPERM;
		if (write(report, &e, sizeof(e)) < 0)
			_exit(126);
		_exit(126);
	}
	setenv("NETLAB_LAB", s->lab, 1);
	setenv("NETLAB_NODE", s->node->name, 1);
	/* Where the lab's state is, and a rootless lab's marker
	 * (lab/rootless.h), are no business of node code. */
	unsetenv("NETLAB_RUN_DIR");
	unsetenv("NETLAB_LAB_USERNS");
	/* Which line started a process: `status` finds a daemon's
	 * processes under their line even after they forked away. */
	snprintf(line, sizeof(line), "%d", op->line);
	setenv("NETLAB_LINE", line, 1);
	/* The init's directory: /lab, where the topology is. */
	char cwd[256];
	if (getcwd(cwd, sizeof(cwd)))
		setenv("PWD", cwd, 1);
	for (size_t i = 0; i < s->node->envs.n; i++)
		setenv(s->node->envs.v[i].key, s->node->envs.v[i].value, 1);
	const char *what = argv ? argv[0] : NULL;
	e = argv ? command_exec_argv(argv) : command_exec_line(text, &what);
	dprintf(2, "netlab: node %s: %s: %s\n", s->node->name, what, e == ENOENT ? "command not found" : strerror(e));
	if (write(report, &e, sizeof(e)) < 0)
		_exit(command_exit_status(e));
	_exit(command_exit_status(e));
}

/* Start a line's process: the shell text, or argv.  Returns its pid, or
 * -1 with *errnum when it could not be run at all. */
static pid_t spawn(struct lines *l, const struct plan_op *op, char **argv, const char *text, int *errnum)
{
	int p[2];

	*errnum = 0;
	if (pipe2(p, O_CLOEXEC) < 0) {
		*errnum = errno;
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		*errnum = errno;
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		child(l, op, argv, text, p[1]);
	}
	close(p[1]);
	int e = 0;
	ssize_t n = TEMP_FAILURE_RETRY(read(p[0], &e, sizeof(e)));
	close(p[0]);
	if (n == (ssize_t)sizeof(e)) {
		/* The child is exiting; its status is collected by the
		 * init's reaper and ignored (the line already failed). */
		*errnum = e ? e : ENOEXEC;
		return -1;
	}
	return pid;
}

static int add_run(struct lines *l, pid_t pid, size_t op)
{
	if (l->nruns == l->capruns) {
		size_t cap = l->capruns ? 2 * l->capruns : 8;
		struct run_proc *v = realloc(l->runs, cap * sizeof(*v));
		if (!v)
			return -1;
		l->runs = v;
		l->capruns = cap;
	}
	l->runs[l->nruns++] = (struct run_proc){ pid, op };
	return 0;
}

/* A session a line started: a stop looks for its processes. */
static void add_session(struct lines *l, pid_t pid)
{
	if (l->nsessions == l->capsessions) {
		size_t cap = l->capsessions ? 2 * l->capsessions : 8;
		pid_t *v = realloc(l->sessions, cap * sizeof(*v));
		if (!v)
			return; /* NETLAB_LINE still finds them */
		l->sessions = v;
		l->capsessions = cap;
	}
	l->sessions[l->nsessions++] = pid;
}

/* ---- reporting -------------------------------------------------------- */

static void fail(struct lines *l, size_t op, int wstatus, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void fail(struct lines *l, size_t op, int wstatus, const char *fmt, ...)
{
	char why[512] = "";
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
	}
	l->failed = true;
	/* What the line wrote, all of it in the log before the supervisor
	 * reads its end. */
	node_log_relay(l->log, 0);
	proto_send(l->s->ctl_fd, PROTO_LINE_FAILED, (int64_t)(op - l->first), wstatus, (int64_t)(l->log->written - l->cur_off),
		   why);
}

static void how_it_ended(int wstatus, char *buf, size_t len)
{
	if (WIFEXITED(wstatus))
		snprintf(buf, len, "exit code %d", WEXITSTATUS(wstatus));
	else
		snprintf(buf, len, "signal %d (%s)", WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
}

/* ---- conditions ------------------------------------------------------- */

/* A socket bound to `port` in the node's network namespace, as its
 * /proc/net tables list it (for TCP: listening). */
static bool port_bound(bool tcp, int port)
{
	static const char *const files[2][2] = { { "/proc/net/udp", "/proc/net/udp6" },
						  { "/proc/net/tcp", "/proc/net/tcp6" } };

	for (int f = 0; f < 2; f++) {
		cleanup_free char *buf = read_file(files[tcp][f], 16 << 20, NULL);
		for (char *save = NULL, *line = buf ? strtok_r(buf, "\n", &save) : NULL; line;
		     line = strtok_r(NULL, "\n", &save)) {
			unsigned lport, st;
			char local[64];
			/* "  0: 0100007F:1F90 00000000:0000 0A ..." */
			if (sscanf(line, " %*u: %63[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", local, &lport, &st) != 3)
				continue;
			if ((int)lport == port && (!tcp || st == 0x0A))
				return true;
		}
	}
	return false;
}

static bool has_ipv4(const char *ifname)
{
	struct ifaddrs *ifa = NULL;
	bool found = false;

	if (getifaddrs(&ifa) < 0)
		return false;
	for (struct ifaddrs *p = ifa; p && !found; p = p->ifa_next)
		found = p->ifa_addr && p->ifa_addr->sa_family == AF_INET && !strcmp(p->ifa_name, ifname);
	freeifaddrs(ifa);
	return found;
}

static bool condition(const struct plan_op *op)
{
	const struct topo_cmd *c = op->cmd;

	if (op->kind == OP_DHCP)
		return has_ipv4(c->ifname);
	switch (c->wait) {
	case TOPO_WAIT_TCP:
		return port_bound(true, c->port);
	case TOPO_WAIT_UDP:
		return port_bound(false, c->port);
	case TOPO_WAIT_FILE:
		return access(c->text, F_OK) == 0;
	case TOPO_WAIT_EXEC:
	default:
		return false; /* decided by the command's exit */
	}
}

static void timed_out(struct lines *l, const struct plan_op *op)
{
	const struct topo_cmd *c = op->cmd;
	char how[64];

	if (op->kind == OP_DHCP) {
		fail(l, l->cur, -1, "no DHCP lease on %s within %u s", c->ifname, c->timeout_s);
		return;
	}
	switch (c->wait) {
	case TOPO_WAIT_TCP:
		fail(l, l->cur, -1, "timed out after %u s: nothing listens on tcp port %d", c->timeout_s, c->port);
		break;
	case TOPO_WAIT_UDP:
		fail(l, l->cur, -1, "timed out after %u s: nothing is bound to udp port %d", c->timeout_s, c->port);
		break;
	case TOPO_WAIT_FILE:
		fail(l, l->cur, -1, "timed out after %u s: %s does not exist", c->timeout_s, c->text);
		break;
	case TOPO_WAIT_EXEC:
	default:
		how_it_ended(l->cur_status, how, sizeof(how));
		fail(l, l->cur, -1, "timed out after %u s: the command never succeeded (its last try: %s)",
		     c->timeout_s, l->cur_status == -1 ? "none finished" : how);
		break;
	}
}

/* ---- the sequence ----------------------------------------------------- */

/* The DHCP client: dhclient (isc-dhcp-client) in the foreground, else
 * busybox's udhcpc; each with its packaged script, which writes the
 * address, the default route and /etc/resolv.conf of the node (its own
 * tree). */
static pid_t start_dhcp(struct lines *l, const struct plan_op *op, int *errnum)
{
	char ifname[NLAB_IFNAMSIZ];
	char *dhclient[] = { "dhclient", "-d", "-v", ifname, NULL };
	char *udhcpc[] = { "udhcpc", "-f", "-i", ifname, NULL };

	memcpy(ifname, op->cmd->ifname, sizeof(ifname));
	pid_t pid = spawn(l, op, dhclient, NULL, errnum);
	if (pid < 0 && *errnum == ENOENT)
		pid = spawn(l, op, udhcpc, NULL, errnum);
	return pid;
}

static void advance(struct lines *l)
{
	int e;

	while (!l->failed && l->cur < l->end) {
		const struct plan_op *op = op_at(l, l->cur);
		const struct topo_cmd *c = op->cmd;
		pid_t pid;

		node_log_relay(l->log, 0);
		l->cur_off = l->log->written;
		switch (op->kind) {
		case OP_EXEC:
			l->cur_pid = spawn(l, op, NULL, c->text, &e);
			if (l->cur_pid < 0) {
				fail(l, l->cur, -1, "cannot run it: %s", e == ENOENT ? "command not found" : strerror(e));
				return;
			}
			add_session(l, l->cur_pid);
			l->deadline = now_ms() + l->s->line_timeout_ms;
			return;
		case OP_RUN:
		case OP_DHCP:
			pid = op->kind == OP_RUN ? spawn(l, op, NULL, c->text, &e) : start_dhcp(l, op, &e);
			if (pid < 0) {
				fail(l, l->cur, -1, "cannot start it: %s",
				     e == ENOENT ? (op->kind == OP_DHCP ? "no DHCP client (dhclient or udhcpc) in the node"
									: "command not found")
						 : strerror(e));
				return;
			}
			add_session(l, pid);
			if (add_run(l, pid, l->cur) < 0) {
				fail(l, l->cur, -1, "out of memory");
				return;
			}
			if (op->kind == OP_DHCP && !condition(op)) {
				l->deadline = now_ms() + (int64_t)c->timeout_s * 1000;
				return; /* held until the lease (lines_tick) */
			}
			l->cur++;
			break;
		case OP_WAIT:
			l->deadline = now_ms() + (int64_t)c->timeout_s * 1000;
			l->cur_status = -1;
			if (c->wait == TOPO_WAIT_EXEC) {
				l->next_try = 0;
				return; /* tried by lines_tick */
			}
			if (!condition(op))
				return;
			l->cur++;
			break;
		default:
			fail(l, l->cur, -1, "not a command (%s)", plan_op_name(op->kind));
			return;
		}
	}
	if (!l->failed && l->cur >= l->end && !l->ready) {
		l->ready = true;
		/* What the lines wrote is in the log when `up` returns. */
		node_log_relay(l->log, 0);
		proto_send(l->s->ctl_fd, PROTO_NODE_READY, 0, 0, 0, NULL);
	}
}

/* ---- stopping the lines (STOP_LINES: `netlab restart`) ------------------ */

/* A process of the node's lines: in a session a line started, or with
 * NETLAB_LINE in its environment (what a daemon that made a session of
 * its own still carries); not a zombie.  Read from the node's own /proc. */
static bool of_lines(const struct lines *l, pid_t pid)
{
	char path[64], state;
	int ppid, pgrp, session;
	size_t len = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	cleanup_free char *stat = read_file(path, 4096, NULL);
	/* "PID (COMM) STATE PPID PGRP SESSION ...": COMM may hold anything. */
	const char *p = stat ? strrchr(stat, ')') : NULL;
	if (!p || sscanf(p + 1, " %c %d %d %d", &state, &ppid, &pgrp, &session) != 4 || state == 'Z' || state == 'X')
		return false;
	for (size_t i = 0; i < l->nsessions; i++)
		if (session == l->sessions[i])
			return true;
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	cleanup_free char *env = read_file(path, 1 << 20, &len);
	for (size_t i = 0; env && i < len; i += strlen(env + i) + 1)
		if (!strncmp(env + i, "NETLAB_LINE=", 12))
			return true;
	return false;
}

/* Signal every process of the lines (0: only count them); how many. */
static int64_t signal_lines(const struct lines *l, int sig)
{
	DIR *d = opendir("/proc");
	int64_t n = 0;

	if (!d)
		return 0;
	for (struct dirent *e; (e = readdir(d));) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || end == e->d_name || pid <= 1)
			continue; /* not a process, or the init itself */
		if (!sig) {
			n += of_lines(l, (pid_t)pid);
			continue;
		}
		/* The pidfd first, then the check: should the pid go to
		 * another process in between, the check reads that one, and
		 * the signal goes either to it, rightly, or nowhere. */
		int fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
		if (fd < 0)
			continue;
		if (of_lines(l, (pid_t)pid) && syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) == 0)
			n++;
		close(fd);
	}
	closedir(d);
	return n;
}

void lines_stop(struct lines *l)
{
	l->stopping = true;
	l->killing = false;
	l->killed = 0;
	l->stopped = signal_lines(l, SIGTERM);
	l->stop_deadline = now_ms() + l->s->grace_ms;
}

/* Every line's process is gone (or SIGKILL could not end the last ones):
 * say so, and be as before START, so that the next one runs every line
 * from the first. */
static void stop_done(struct lines *l, int64_t left)
{
	node_log_relay(l->log, 0);
	proto_send(l->s->ctl_fd, PROTO_LINES_STOPPED, l->stopped, l->killed, left, NULL);
	l->stopping = l->killing = false;
	l->started = l->ready = l->failed = false;
	l->cur = l->first;
	l->cur_pid = 0;
	l->nruns = 0;
	l->nsessions = 0;
}

static int stop_tick(struct lines *l)
{
	int64_t left = signal_lines(l, 0), now = now_ms();

	if (!left) {
		stop_done(l, 0);
		return -1;
	}
	if (now >= l->stop_deadline) {
		if (l->killing) {
			stop_done(l, left);
			return -1;
		}
		l->killed = signal_lines(l, SIGKILL);
		l->killing = true;
		l->stop_deadline = now + STOP_KILL_WAIT_MS;
	}
	int64_t until = l->stop_deadline - now;
	return (int)(until < STOP_POLL_MS ? until : STOP_POLL_MS);
}

void lines_start(struct lines *l)
{
	if (l->started)
		return;
	l->started = true;
	advance(l);
}

void lines_child_exited(struct lines *l, pid_t pid, int wstatus)
{
	char how[64];

	/* Being stopped: ends are expected, and not reported. */
	if (l->stopping) {
		if (pid == l->cur_pid)
			l->cur_pid = 0;
		for (size_t i = 0; i < l->nruns; i++)
			if (l->runs[i].pid == pid)
				l->runs[i--] = l->runs[--l->nruns];
		return;
	}

	if (pid == l->cur_pid && pid > 0) {
		const struct plan_op *op = op_at(l, l->cur);
		bool ok = WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
		l->cur_pid = 0;
		if (l->failed)
			return;
		if (op->kind == OP_EXEC) {
			if (!ok) {
				fail(l, l->cur, wstatus, NULL);
				return;
			}
			l->cur++;
			advance(l);
			return;
		}
		/* A try of `wait exec`. */
		l->cur_status = wstatus;
		if (ok) {
			l->cur++;
			advance(l);
		} else {
			l->next_try = now_ms() + WAIT_EXEC_PAUSE_MS;
		}
		return;
	}
	for (size_t i = 0; i < l->nruns; i++) {
		if (l->runs[i].pid != pid)
			continue;
		size_t op = l->runs[i].op;
		l->runs[i] = l->runs[--l->nruns];
		if (l->ready) {
			proto_send(l->s->ctl_fd, PROTO_LINE_EXITED, (int64_t)(op - l->first), wstatus, 0, NULL);
			return;
		}
		if (l->failed)
			return;
		/* Before the node is ready: exit 0 is a daemon that went to
		 * the background; anything else fails `up`, except a DHCP
		 * client whose lease is in place. */
		bool ok = WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
		if (op_at(l, op)->kind == OP_DHCP && op == l->cur && !condition(op_at(l, op))) {
			how_it_ended(wstatus, how, sizeof(how));
			fail(l, op, wstatus, "the DHCP client ended (%s) without a lease on %s", how,
			     op_at(l, op)->cmd->ifname);
		} else if (!ok) {
			how_it_ended(wstatus, how, sizeof(how));
			fail(l, op, wstatus, "exited with %s before the node was ready", how);
		}
		return;
	}
}

int lines_tick(struct lines *l)
{
	if (l->stopping)
		return stop_tick(l);
	if (!l->started || l->failed || l->ready || l->cur >= l->end)
		return -1;
	const struct plan_op *op = op_at(l, l->cur);
	int64_t now = now_ms();

	if (op->kind == OP_EXEC) {
		if (now < l->deadline)
			return (int)(l->deadline - now);
		/* Its whole session: a pipeline or a script's children too. */
		kill(-l->cur_pid, SIGKILL);
		fail(l, l->cur, -1, "did not finish in %lld s (the bound of every exec line: netlab up --timeout SECONDS)",
		     (long long)(l->s->line_timeout_ms / 1000));
		return -1;
	}
	if (op->kind == OP_WAIT && op->cmd->wait == TOPO_WAIT_EXEC) {
		if (now >= l->deadline) {
			if (l->cur_pid > 0)
				kill(-l->cur_pid, SIGKILL);
			timed_out(l, op);
			return -1;
		}
		if (l->cur_pid <= 0 && now >= l->next_try) {
			int e;
			l->cur_pid = spawn(l, op, NULL, op->cmd->text, &e);
			if (l->cur_pid < 0) {
				fail(l, l->cur, -1, "cannot run it: %s", e == ENOENT ? "command not found" : strerror(e));
				return -1;
			}
		}
		int64_t until = l->cur_pid > 0 ? l->deadline : l->next_try;
		return (int)(until - now > 0 ? until - now : 0);
	}
	/* tcp, udp, file, dhcp: look again. */
	if (condition(op)) {
		l->cur++;
		advance(l);
		return lines_tick(l);
	}
	if (now >= l->deadline) {
		timed_out(l, op);
		return -1;
	}
	return (int)(l->deadline - now < WAIT_POLL_MS ? l->deadline - now : WAIT_POLL_MS);
}
