#include "node/init.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net/sysctl.h"
#include "node/command.h"
#include "proto/proto.h"
#include "util/time.h"
#include "node/creds.h"
#include "node/nodefs.h"
#include "util/fsutil.h"
#include "util/strutil.h"
#include "util/cleanup.h"

struct init_state {
	const struct node_spec *spec;
	int sfd;
	/* exec phase */
	bool in_exec;
	size_t exec_next;       /* plan op index of the next exec to look at */
	pid_t exec_pid;
	size_t exec_idx;
	off_t exec_off;
	uint32_t uid, gid;      /* `user`, resolved in the node */
};

__attribute__((noreturn, format(printf, 2, 3))) static void init_fail(int ctl, const char *fmt, ...)
{
	char buf[900];
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	char msg[1024];
	snprintf(msg, sizeof(msg), "%s: %s", buf, strerror(e));
	proto_send(ctl, PROTO_SETUP_FAILED, 0, 0, 0, msg);
	_exit(1);
}

static pid_t spawn(struct init_state *st, const struct topo_cmd *c)
{
	const struct node_spec *s = st->spec;
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	/* Child: give the command a normal process state back. */
	sigset_t all;
	sigemptyset(&all);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigprocmask(SIG_SETMASK, &all, NULL);
	setsid();
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null >= 0)
		dup2(null, 0);
	dup2(s->log_fd, 1);
	dup2(s->log_fd, 2);
	/* Only stdin, stdout and stderr reach the command: no control
	 * socket, log or namespace fd, whatever forgot O_CLOEXEC. */
	close_range(3, ~0U, 0);
	nlab_error *err = NULL;
	if ((s->node->has_user && creds_become(st->uid, st->gid, &err) < 0) || creds_clear_inheritable(&err) < 0) {
		dprintf(2, "netlab: node %s: %s\n", s->node->name, err->msg);
		_exit(126);
	}
	setenv("NETLAB_LAB", s->lab, 1);
	setenv("NETLAB_NODE", s->node->name, 1);
	if (s->t->dir)
		setenv("PWD", s->t->dir, 1);
	for (size_t i = 0; i < s->node->envs.n; i++)
		setenv(s->node->envs.v[i].key, s->node->envs.v[i].value, 1);
	const char *what;
	int e = command_exec_line(c->text, &what);
	dprintf(2, "netlab: node %s: %s: %s\n", s->node->name, what, e == ENOENT ? "command not found" : strerror(e));
	_exit(command_exit_status(e));
}

/* The node's commands are its OP_EXEC/OP_RUN operations of the plan;
 * their indexes in the plan go back to the supervisor. */
static const struct plan_op *cmd_op(const struct init_state *st, size_t i)
{
	return &st->spec->plan->ops[i];
}

static size_t cmds_end(const struct init_state *st)
{
	const struct plan_node_ops *no = &st->spec->plan->nodes[st->spec->index];

	return no->cmds + no->ncmds;
}

/* Start the next exec line, or report that all succeeded. */
static void exec_next(struct init_state *st)
{
	int ctl = st->spec->ctl_fd;

	while (st->exec_next < cmds_end(st) && cmd_op(st, st->exec_next)->kind != OP_EXEC)
		st->exec_next++;
	if (st->exec_next >= cmds_end(st)) {
		st->in_exec = false;
		proto_send(ctl, PROTO_EXEC_DONE, 0, 0, 0, NULL);
		return;
	}
	st->exec_idx = st->exec_next++;
	st->exec_off = lseek(st->spec->log_fd, 0, SEEK_END);
	st->exec_pid = spawn(st, cmd_op(st, st->exec_idx)->cmd);
	if (st->exec_pid < 0) {
		st->in_exec = false;
		proto_send(ctl, PROTO_EXEC_FAILED, (int64_t)st->exec_idx, 127 << 8, st->exec_off, NULL);
	}
}

static void start_runs(struct init_state *st)
{
	const struct plan_node_ops *no = &st->spec->plan->nodes[st->spec->index];

	for (size_t i = no->cmds; i < cmds_end(st); i++) {
		if (cmd_op(st, i)->kind != OP_RUN)
			continue;
		if (spawn(st, cmd_op(st, i)->cmd) < 0) {
			proto_send(st->spec->ctl_fd, PROTO_RUN_FAILED, (int64_t)i, errno, 0, NULL);
			return;
		}
	}
	proto_send(st->spec->ctl_fd, PROTO_RUN_STARTED, 0, 0, 0, NULL);
}

static void reap(struct init_state *st)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (st->in_exec && pid == st->exec_pid) {
			st->exec_pid = 0;
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
				exec_next(st);
			} else {
				st->in_exec = false;
				proto_send(st->spec->ctl_fd, PROTO_EXEC_FAILED, (int64_t)st->exec_idx, status,
					   st->exec_off, NULL);
			}
		}
	}
}

/* SIGTERM to every process of the node, a grace period, then SIGKILL.
 * kill(-1) from a PID namespace's init reaches exactly that namespace. */
__attribute__((noreturn)) static void stop_node(struct init_state *st)
{
	int64_t deadline = now_ms() + st->spec->grace_ms;

	kill(-1, SIGTERM);
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid < 0 && errno == ECHILD)
			_exit(0);
		if (pid > 0)
			continue;
		int64_t left = deadline - now_ms();
		if (left <= 0)
			break;
		struct pollfd p = { .fd = st->sfd, .events = POLLIN };
		if (poll(&p, 1, (int)(left > 50 ? 50 : left)) > 0) {
			struct signalfd_siginfo si;
			TEMP_FAILURE_RETRY(read(st->sfd, &si, sizeof(si)));
		}
	}
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	_exit(0);
}

void node_init_main(const struct node_spec *s)
{
	struct init_state st = { .spec = s };
	const char *hostname = s->node->hostname ? s->node->hostname : s->node->name;
	sigset_t all;
	nlab_error *err = NULL;

	/* If the supervisor dies by any means, the node goes with it; the
	 * kernel then tears down its namespaces. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		init_fail(s->ctl_fd, "prctl(PR_SET_PDEATHSIG)");
	/* Unless it died before that (util-linux unshare re-checks getppid(),
	 * which is 0 here, in a PID namespace of our own): its end of the
	 * control socket is then closed. */
	struct pollfd pd = { .fd = s->ctl_fd, .events = POLLRDHUP };
	if (poll(&pd, 1, 0) > 0 && (pd.revents & (POLLRDHUP | POLLHUP | POLLERR)))
		_exit(1);
	/* Commands in the node run as the same (node root) user: they must
	 * not ptrace the init or reach its control socket through
	 * /proc/1/fd.  execve makes the commands themselves dumpable again. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	st.sfd = signalfd(-1, &all, SFD_CLOEXEC);
	if (st.sfd < 0)
		init_fail(s->ctl_fd, "signalfd");
	prctl(PR_SET_NAME, "netlab-init");
	if (sethostname(hostname, strlen(hostname)) < 0)
		init_fail(s->ctl_fd, "sethostname %s", hostname);
	/* Into the topology's directory before /tmp and /run are covered, so
	 * commands see its files even when it lives there. */
	if (s->t->dir && chdir(s->t->dir) < 0 && chdir("/") < 0)
		init_fail(s->ctl_fd, "chdir");
	if (nodefs_setup(s, &err) < 0) {
		proto_send(s->ctl_fd, PROTO_SETUP_FAILED, 0, 0, 0, err->msg);
		_exit(1);
	}
	/* IPv6 addresses must be usable the moment `up` returns: no
	 * duplicate address detection on interfaces created from now on
	 * (they are created after "I").  Through the node's own /proc, just
	 * mounted: see nlab_sysctl_write_in() for why that matters. */
	if (nlab_sysctl_write("net.ipv6.conf.default.accept_dad", "0", &err) < 0 ||
	    nlab_sysctl_write("net.ipv6.conf.all.accept_dad", "0", &err) < 0) {
		proto_send(s->ctl_fd, PROTO_SETUP_FAILED, 0, 0, 0, err->msg);
		_exit(1);
	}
	/* The node's own passwd: with a rootfs, the rootfs's. */
	if (s->node->has_user) {
		if (creds_resolve(s->node->user, s->node->group, &st.uid, &st.gid, &err) < 0) {
			proto_send(s->ctl_fd, PROTO_SETUP_FAILED, 0, 0, 0, err->msg);
			_exit(1);
		}
		proto_send(s->ctl_fd, PROTO_READY, 1, st.uid, st.gid, NULL);
	} else {
		proto_send(s->ctl_fd, PROTO_READY, 0, 0, 0, NULL);
	}

	for (;;) {
		struct pollfd p[2] = { { .fd = s->ctl_fd, .events = POLLIN }, { .fd = st.sfd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			stop_node(&st);
		}
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (TEMP_FAILURE_RETRY(read(st.sfd, &si, sizeof(si))) == sizeof(si)) {
				if (si.ssi_signo == SIGCHLD)
					reap(&st);
				else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT || si.ssi_signo == SIGHUP)
					kill(-1, (int)si.ssi_signo);
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			struct proto_msg m;
			if (proto_recv(s->ctl_fd, &m, NULL) <= 0 || m.type == PROTO_STOP)
				stop_node(&st);
			if (m.type == PROTO_DO_EXEC && !st.in_exec) {
				st.in_exec = true;
				st.exec_next = s->plan->nodes[s->index].cmds;
				exec_next(&st);
			} else if (m.type == PROTO_DO_RUN) {
				start_runs(&st);
			}
		}
	}
}
