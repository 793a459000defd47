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
	size_t exec_next;       /* index into node->cmds of the next exec */
	pid_t exec_pid;
	size_t exec_idx;
	off_t exec_off;
	uint32_t uid, gid;      /* `user`, resolved in the node */
};

static void send_msg(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void send_msg(int fd, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	TEMP_FAILURE_RETRY(send(fd, buf, (size_t)n, MSG_NOSIGNAL));
}

__attribute__((noreturn, format(printf, 2, 3))) static void init_fail(int ctl, const char *fmt, ...)
{
	char buf[900];
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	send_msg(ctl, "F %s: %s", buf, strerror(e));
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
	/* A plain command line runs as itself, not under a shell that waits
	 * for it: `ps` in the node then shows the server, and signals reach
	 * it directly.  Anything with shell syntax goes through /bin/sh. */
	if (!strpbrk(c->text, "|&;<>()$`\\\"'*?[]#~=%{}\n\t")) {
		char *copy = strdup(c->text), *argv[64], *save = NULL;
		int argc = 0;
		for (char *w = copy ? strtok_r(copy, " ", &save) : NULL; w && argc < 63; w = strtok_r(NULL, " ", &save))
			argv[argc++] = w;
		argv[argc] = NULL;
		if (argc > 0 && argc < 63) {
			execvp(argv[0], argv);
			dprintf(2, "netlab: node %s: %s: %s\n", s->node->name, argv[0], strerror(errno));
			_exit(errno == ENOENT ? 127 : 126);
		}
	}
	execl("/bin/sh", "sh", "-c", c->text, (char *)NULL);
	dprintf(2, "netlab: node %s: cannot run /bin/sh: %s\n", s->node->name, strerror(errno));
	_exit(127);
}

/* Start the next exec line, or report that all succeeded. */
static void exec_next(struct init_state *st)
{
	const struct topo_node *n = st->spec->node;

	while (st->exec_next < n->cmds.n && n->cmds.v[st->exec_next].kind != TOPO_CMD_EXEC)
		st->exec_next++;
	if (st->exec_next >= n->cmds.n) {
		st->in_exec = false;
		send_msg(st->spec->ctl_fd, "e");
		return;
	}
	st->exec_idx = st->exec_next++;
	st->exec_off = lseek(st->spec->log_fd, 0, SEEK_END);
	st->exec_pid = spawn(st, &n->cmds.v[st->exec_idx]);
	if (st->exec_pid < 0) {
		st->in_exec = false;
		send_msg(st->spec->ctl_fd, "x %zu %d %lld", st->exec_idx, 127 << 8, (long long)st->exec_off);
	}
}

static void start_runs(struct init_state *st)
{
	const struct topo_node *n = st->spec->node;

	for (size_t i = 0; i < n->cmds.n; i++) {
		if (n->cmds.v[i].kind != TOPO_CMD_RUN)
			continue;
		if (spawn(st, &n->cmds.v[i]) < 0) {
			send_msg(st->spec->ctl_fd, "f %zu %d", i, errno);
			return;
		}
	}
	send_msg(st->spec->ctl_fd, "r");
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
				send_msg(st->spec->ctl_fd, "x %zu %d %lld", st->exec_idx, status,
					 (long long)st->exec_off);
			}
		}
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
	prctl(PR_SET_PDEATHSIG, SIGKILL);
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
		send_msg(s->ctl_fd, "F %s", err->msg);
		_exit(1);
	}
	/* IPv6 addresses must be usable the moment `up` returns: no
	 * duplicate address detection on interfaces created from now on
	 * (they are created after "I").  Through the node's own /proc, just
	 * mounted: see nlab_sysctl_write_in() for why that matters. */
	if (nlab_sysctl_write("net.ipv6.conf.default.accept_dad", "0", &err) < 0 ||
	    nlab_sysctl_write("net.ipv6.conf.all.accept_dad", "0", &err) < 0) {
		send_msg(s->ctl_fd, "F %s", err->msg);
		_exit(1);
	}
	/* The node's own passwd: with a rootfs, the rootfs's. */
	if (s->node->has_user) {
		if (creds_resolve(s->node->user, s->node->group, &st.uid, &st.gid, &err) < 0) {
			send_msg(s->ctl_fd, "F %s", err->msg);
			_exit(1);
		}
		send_msg(s->ctl_fd, "I %u %u", st.uid, st.gid);
	} else {
		send_msg(s->ctl_fd, "I");
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
			char cmd[16];
			ssize_t n = TEMP_FAILURE_RETRY(recv(s->ctl_fd, cmd, sizeof(cmd), 0));
			if (n <= 0 || cmd[0] == 'S')
				stop_node(&st);
			if (cmd[0] == 'E' && !st.in_exec) {
				st.in_exec = true;
				st.exec_next = 0;
				exec_next(&st);
			} else if (cmd[0] == 'R') {
				start_runs(&st);
			}
		}
	}
}
