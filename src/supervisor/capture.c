/* The `capture` link option: a pcap of each such link, recorded while the
 * lab runs into DIR/LAB-captures/ beside the topology (plan/build.c names
 * the files and picks the end: a switch port, else a node's interface).
 *
 * One process does it, forked by the supervisor once the links and
 * configure sections are applied (every interface is up: libpcap refuses
 * one that is not) and before any command runs, so nothing the commands
 * send is missed.  It opens every capture as root, in the lab namespace or
 * a node's; then becomes the owner of the topology's directory (no root
 * writes into a directory someone else controls, and the files belong to
 * the lab's author) and only then creates the folder and the files.  The
 * supervisor stops it first thing at teardown (SIGTERM: it writes what is
 * pending and exits); if the supervisor dies, PR_SET_PDEATHSIG does. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/capture.h"
#include "net/netns.h"
#include "proto/proto.h"
#include "supervisor/sup.h"
#include "util/cleanup.h"

struct link_capture {
	const struct plan_op *op;
	int netns_fd; /* the node's, or -1 for the lab namespace */
	struct nlab_capture *cap;
	FILE *out;
};

static void close_netns(struct link_capture *lc, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lc[i].netns_fd >= 0)
			close(lc[i].netns_fd);
}

static int open_all(struct sup *s, struct link_capture *lc, size_t n, nlab_error **err)
{
	for (size_t i = 0; i < n; i++) {
		const struct plan_op *op = lc[i].op;
		int saved = -1;
		if (lc[i].netns_fd >= 0 && nlab_netns_enter(lc[i].netns_fd, &saved, err) < 0)
			return -1;
		lc[i].cap = nlab_capture_open(op->shape.ifname, false, NULL, err);
		if (nlab_netns_leave(&saved, lc[i].cap ? err : NULL) < 0 || !lc[i].cap)
			return nlab_error_wrap(err, "capture link (%s:%d)", s->t->file, op->line);
	}
	return 0;
}

/* As the directory's owner: the folder, then one file per link. */
static int create_files(struct sup *s, struct link_capture *lc, size_t n, nlab_error **err)
{
	const char *dir = s->plan.capture_dir;
	struct stat st;

	if (!s->t->dir || stat(s->t->dir, &st) < 0)
		return nlab_error_set(err, errno, "capture: topology directory %s", s->t->dir ? s->t->dir : "?");
	if (st.st_uid != 0 && (setgroups(0, NULL) < 0 || setresgid(st.st_gid, st.st_gid, st.st_gid) < 0 ||
			       setresuid(st.st_uid, st.st_uid, st.st_uid) < 0))
		return nlab_error_set(err, errno, "capture: become uid %u, the owner of %s", (unsigned)st.st_uid,
				      s->t->dir);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return nlab_error_set(err, errno, "capture: mkdir %s", dir);
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return nlab_error_set(err, errno, "capture: open %s", dir);
	for (size_t i = 0; i < n; i++) {
		const char *f = lc[i].op->shape.file;
		int fd = openat(dfd, f, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 || !(lc[i].out = fdopen(fd, "w"))) {
			int e = errno;
			if (fd >= 0)
				close(fd);
			return nlab_error_set(err, e, "capture: create %s/%s", dir, f);
		}
		if (nlab_capture_dump_to(lc[i].cap, lc[i].out, err) < 0)
			return -1;
		fflush(lc[i].out);
	}
	return 0;
}

/* The supervisor's other fds (node control sockets, namespaces, pidfds)
 * are not the capture's business: close all but ours. */
static void close_others(const struct link_capture *lc, size_t n, int sfd, int report)
{
	int max = (int)sysconf(_SC_OPEN_MAX);

	for (int fd = 3; fd < max && fd < 65536; fd++) {
		bool keep = fd == sfd || fd == report;
		for (size_t i = 0; i < n && !keep; i++)
			keep = fd == nlab_capture_fd(lc[i].cap) || (lc[i].out && fd == fileno(lc[i].out));
		if (!keep)
			close(fd);
	}
}

static void drain(struct link_capture *lc, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		nlab_capture_dispatch(lc[i].cap, 0, NULL);
		nlab_capture_flush(lc[i].cap);
	}
}

static __attribute__((noreturn)) void capture_main(struct sup *s, struct link_capture *lc, size_t n, int report)
{
	nlab_error *err = NULL;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0 || open_all(s, lc, n, &err) < 0 || create_files(s, lc, n, &err) < 0) {
		if (!err)
			nlab_error_set(&err, errno, "capture: signalfd");
		proto_send(report, PROTO_FAILED, 0, 0, 0, err->msg);
		_exit(1);
	}
	close_others(lc, n, sfd, report);
	proto_send(report, PROTO_UP, (int64_t)n, 0, 0, "");
	close(report);
	struct pollfd *p = calloc(n + 1, sizeof(*p));
	if (!p)
		_exit(1);
	for (size_t i = 0; i < n; i++)
		p[i] = (struct pollfd){ .fd = nlab_capture_fd(lc[i].cap), .events = POLLIN };
	p[n] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	for (;;) {
		if (poll(p, n + 1, -1) < 0 && errno != EINTR)
			break;
		if (p[n].revents)
			break;
		for (size_t i = 0; i < n; i++)
			if (p[i].revents && nlab_capture_dispatch(lc[i].cap, 0, NULL) >= 0)
				nlab_capture_flush(lc[i].cap);
	}
	drain(lc, n);
	for (size_t i = 0; i < n; i++) {
		nlab_capture_close(lc[i].cap);
		fclose(lc[i].out);
	}
	_exit(0);
}

int capture_start(struct sup *s, nlab_error **err)
{
	struct link_capture *lc;
	size_t n = 0;
	int pair[2];

	s->capture_pidfd = -1;
	for (size_t i = s->plan.sec[PLAN_SEC_LINKS]; i < s->plan.sec[PLAN_SEC_LINKS + 1]; i++)
		n += s->plan.ops[i].kind == OP_CAPTURE;
	if (!n)
		return 0;
	lc = calloc(n, sizeof(*lc));
	if (!lc)
		return nlab_error_set(err, ENOMEM, "capture");
	n = 0;
	/* The node table is memory children do not inherit (node/spawn.h):
	 * open the namespaces from it now (closed again once forked). */
	for (size_t i = s->plan.sec[PLAN_SEC_LINKS]; i < s->plan.sec[PLAN_SEC_LINKS + 1]; i++)
		if (s->plan.ops[i].kind == OP_CAPTURE) {
			lc[n].op = &s->plan.ops[i];
			lc[n].netns_fd = -1;
			if (s->plan.ops[i].ns >= 0 &&
			    (lc[n].netns_fd = nodes_netns(s, s->by_index[s->plan.ops[i].ns], err)) < 0) {
				close_netns(lc, n);
				free(lc);
				return -1;
			}
			n++;
		}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
		close_netns(lc, n);
		free(lc);
		return nlab_error_set(err, errno, "capture: socketpair");
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(pair[0]);
		close(pair[1]);
		close_netns(lc, n);
		free(lc);
		return nlab_error_set(err, e, "capture: fork");
	}
	if (pid == 0) {
		close(pair[0]);
		capture_main(s, lc, n, pair[1]);
	}
	close(pair[1]);
	close_netns(lc, n);
	free(lc);
	s->capture_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct proto_msg m;
	int r = proto_recv(pair[0], &m, err);
	close(pair[0]);
	if (r <= 0 || m.type != PROTO_UP) {
		if (r > 0)
			nlab_error_set(err, 0, "%s", m.text);
		else if (r == 0)
			nlab_error_set(err, 0, "capture: the capture process died while starting");
		capture_stop(s);
		return -1;
	}
	return 0;
}

void capture_stop(struct sup *s)
{
	if (s->capture_pidfd < 0)
		return;
	/* It writes what is pending and exits; a pidfd never signals a
	 * recycled pid, even if the wait loop reaped it already. */
	syscall(SYS_pidfd_send_signal, s->capture_pidfd, SIGTERM, NULL, 0);
	struct pollfd p = { .fd = s->capture_pidfd, .events = POLLIN };
	if (poll(&p, 1, 5000) <= 0)
		syscall(SYS_pidfd_send_signal, s->capture_pidfd, SIGKILL, NULL, 0);
	siginfo_t si;
	waitid(P_PIDFD, (id_t)s->capture_pidfd, &si, WEXITED | WNOHANG);
	close(s->capture_pidfd);
	s->capture_pidfd = -1;
}
