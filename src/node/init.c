#include "node/init.h"
#include "node/spawn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net/sysctl.h"
#include "node/lines.h"
#include "node/log.h"
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
	struct lines *lines;
	struct node_log log;    /* the commands' output (node/log.h) */
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

static void reap(struct init_state *st)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		if (st->lines)
			lines_child_exited(st->lines, pid, status);
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
		if (pid < 0 && errno == ECHILD) {
			node_log_relay(&st->log, 0);
			_exit(0);
		}
		if (pid > 0)
			continue;
		int64_t left = deadline - now_ms();
		if (left <= 0)
			break;
		/* Their last words still reach the log (and a writer
		 * blocked on a full pipe can end). */
		struct pollfd p[2] = { { .fd = st->sfd, .events = POLLIN }, { .fd = st->log.pipe_r, .events = POLLIN } };
		if (poll(p, 2, (int)(left > 50 ? 50 : left)) > 0 && (p[0].revents & POLLIN)) {
			struct signalfd_siginfo si;
			TEMP_FAILURE_RETRY(read(st->sfd, &si, sizeof(si)));
		}
		node_log_relay(&st->log, 1 << 20);
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
	/* Unless it died before that: this init is then another process's
	 * child, no signal comes, and it would wait for its TREES for ever
	 * (a datagram socket has no end of file).  getppid() cannot tell (0
	 * here, in a PID namespace of our own); stage 1 left a pidfd of the
	 * supervisor as fd SPAWN_SUPERVISOR_FD, readable once it has exited
	 * (node/spawn.h).  Alive now, it was alive at the prctl() above. */
	struct pollfd sup = { .fd = SPAWN_SUPERVISOR_FD, .events = POLLIN };
	if (poll(&sup, 1, 0) == 1 && (sup.revents & POLLIN))
		_exit(1);
	close(SPAWN_SUPERVISOR_FD);
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
	/* IPv6 addresses must be usable the moment `up` returns: no
	 * duplicate address detection on interfaces created from now on
	 * (they are created after READY).  Through the node's own procfs,
	 * made now and attached as its /proc below: see
	 * nlab_sysctl_write_in() for why that matters. */
	/* No router solicitations either: one sent to every node of a
	 * switch (nobody joins ff02::2 on a host, so a snooping switch
	 * floods it), by every node, three times in the first seconds of
	 * an interface, made a 10,000-node lab's CPUs busy for minutes.
	 * Router advertisements are still taken (radvd sends its first ones
	 * when it starts, after the links exist); a `sysctl` statement of
	 * the node sets it back (docs/topology.md). */
	/* `ipv6 off`: no IPv6 on any interface, lo included (docs/topology.md,
	 * `ipv6`); "default" for those the links make after READY. */
	/* Neither matters with IPv6 off, unless a sysctl statement of the
	 * node turns it on again (s->ipv6_quiet, supervisor/initview.c). */
	int proc = nodefs_proc_mount(&err);
	if (proc < 0 ||
	    (s->ipv6_quiet &&
	     (nlab_sysctl_write_proc(proc, "net.ipv6.conf.default.accept_dad", "0", &err) < 0 ||
	      nlab_sysctl_write_proc(proc, "net.ipv6.conf.all.accept_dad", "0", &err) < 0 ||
	      nlab_sysctl_write_proc(proc, "net.ipv6.conf.default.router_solicitations", "0", &err) < 0 ||
	      nlab_sysctl_write_proc(proc, "net.ipv6.conf.all.router_solicitations", "0", &err) < 0)) ||
	    (s->node->ipv6_off &&
	     (nlab_sysctl_write_proc(proc, "net.ipv6.conf.default.disable_ipv6", "1", &err) < 0 ||
	      nlab_sysctl_write_proc(proc, "net.ipv6.conf.all.disable_ipv6", "1", &err) < 0))) {
		proto_send(s->ctl_fd, PROTO_SETUP_FAILED, 0, 0, 0, err->msg);
		_exit(1);
	}
	/* The trees its root is made of, sent as soon as this init existed
	 * (taken now: see nodefs_receive_trees()). */
	struct proto_msg trees;
	int token = -1;
	if (nodefs_receive_trees(s->ctl_fd, &trees, &token, &err) < 0) {
		proto_send(s->ctl_fd, PROTO_SETUP_FAILED, 0, 0, 0, err->msg);
		_exit(1);
	}
	/* READY: the namespaces are there, the supervisor makes the links
	 * while this init builds the node's root (ROOT_READY). */
	if (proto_send(s->ctl_fd, PROTO_READY, 0, 0, 0, NULL) < 0)
		_exit(1);
	/* One node of the lab at a time builds its root: the kernel takes
	 * one lock for every mount change on the machine, and a thousand
	 * inits spinning on it waste more than they wait.  The token is
	 * given back whatever happens; an init that dies holding it fails
	 * the lab's setup anyway. */
	char tok;
	if (TEMP_FAILURE_RETRY(read(token, &tok, 1)) != 1)
		init_fail(s->ctl_fd, "take the token");
	int fsr = nodefs_setup(s, proc, &trees, &err);
	if (TEMP_FAILURE_RETRY(write(token, &tok, 1)) != 1)
		init_fail(s->ctl_fd, "give the token back");
	close(token);
	if (fsr < 0) {
		proto_send(s->ctl_fd, PROTO_SETUP_FAILED, 0, 0, 0, err->msg);
		_exit(1);
	}
	/* The node's own passwd: with a rootfs, the rootfs's. */
	if (s->node->has_user) {
		if (creds_resolve(s->node->user, s->node->group, &st.uid, &st.gid, &err) < 0) {
			proto_send(s->ctl_fd, PROTO_SETUP_FAILED, 0, 0, 0, err->msg);
			_exit(1);
		}
	}
	if (node_log_open(&st.log, s->log_fd) < 0)
		init_fail(s->ctl_fd, "the pipe of the node's log");
	/* ROOT_READY, with the user namespace /lab is to be idmapped
	 * through (node/nodefs_root.c); the supervisor answers with the
	 * tree. */
	int labns = nodefs_lab_userns(s, &err);
	if (labns == -2) {
		proto_send(s->ctl_fd, PROTO_SETUP_FAILED, 0, 0, 0, err->msg);
		_exit(1);
	}
	if (proto_send_fds(s->ctl_fd, PROTO_ROOT_READY, s->node->has_user, st.uid, st.gid, NULL, &labns, labns >= 0) < 0)
		_exit(1);
	if (labns >= 0)
		close(labns);

	st.lines = lines_new(s, &st.log, st.uid, st.gid);
	if (!st.lines) {
		proto_send(s->ctl_fd, PROTO_SETUP_FAILED, 0, 0, 0, "out of memory");
		_exit(1);
	}
	for (;;) {
		struct pollfd p[3] = { { .fd = s->ctl_fd, .events = POLLIN },
				       { .fd = st.sfd, .events = POLLIN },
				       { .fd = st.log.pipe_r, .events = POLLIN } };
		if (poll(p, 3, lines_tick(st.lines)) < 0) {
			if (errno == EINTR)
				continue;
			stop_node(&st);
		}
		/* A bounded share each turn: a node writing without end
		 * still gets its signals and messages handled. */
		if (p[2].revents)
			node_log_relay(&st.log, 1 << 20);
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
			if (m.type == PROTO_LAB_TREE && nodefs_attach_lab(&m, &err) < 0) {
				/* Without /lab the lines run in /: said in the log. */
				node_log_printf(&st.log, "netlab: node %s: /lab: %s\n", s->node->name, err->msg);
				nlab_error_free(&err);
			}
			if (m.type == PROTO_LOG_OLD && m.nfds > 0) {
				node_log_set_old(&st.log, m.fds[0]);
				m.fds[0] = -1;
			}
			proto_close_fds(&m);
			if (m.type == PROTO_START)
				lines_start(st.lines);
			else if (m.type == PROTO_STOP_LINES)
				lines_stop(st.lines);
		}
	}
}
