/* `netlab up`: fork the lab's supervisor and follow its setup over the
 * status channel (proto/proto.h); on failure, take the lab down again. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab/lab.h"
#include "lab/netns_names.h"
#include "lab/rootless.h"
#include "proto/proto.h"
#include "supervisor/supervisor.h"
#include "util/cleanup.h"
#include "util/sig.h"
#include "util/fsutil.h"
#include "util/time.h"

static __attribute__((noreturn)) void launch_supervisor(const struct topology *t, const struct lab_up_options *o,
							int lock_fd, int status_fd, int sigfd)
{
	int fd;

	/* Detached from the caller's terminal and session: the lab outlives
	 * `netlab up`, and the terminal's ^C is for `up` alone.  The lab
	 * lock stays held (lock_fd shares `up`'s open file description)
	 * until the setup is over: if `up` is killed meanwhile, nobody gets
	 * the lab before the supervisor has made it whole or removed it. */
	close(sigfd);
	setsid();
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		dup2(fd, 0);
	cleanup_close int dir = state_dir_open(o->lab, NULL);
	fd = dir >= 0 ? openat(dir, "supervisor.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600)
		      : -1;
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	struct sup_options so = {
		.lab = o->lab,
		.grace_ms = o->grace_ms,
		.line_timeout_s = o->line_timeout_s,
		.status_fd = status_fd,
		.progress = o->progress != NULL,
		.lock_fd = lock_fd,
		.rootless = rootless_inside(),
	};
	_exit(supervisor_main(t, &so));
}

/* Follow the supervisor until it reports UP or FAILED (or dies).  A
 * signal to `up` is passed on as SIGTERM (the supervisor then stops its
 * setup and rolls back), a second one as SIGKILL. */
static int follow(int fd, int sigfd, int supfd, const struct lab_up_options *o, struct lab_up_result *res,
		  nlab_error **err)
{
	struct proto_msg m;

	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = sigfd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return nlab_error_set(err, errno, "poll");
		}
		if (p[1].revents) {
			struct signalfd_siginfo si;
			if (TEMP_FAILURE_RETRY(read(sigfd, &si, sizeof(si))) == sizeof(si)) {
				int first = !res->interrupted;
				if (first)
					res->interrupted = (int)si.ssi_signo;
				syscall(SYS_pidfd_send_signal, supfd, first ? SIGTERM : SIGKILL, NULL, 0);
			}
		}
		if (!p[0].revents)
			continue;
		int r = proto_recv(fd, &m, err);
		if (r < 0)
			return nlab_error_wrap(err, "from the lab supervisor");
		if (r == 0)
			return res->interrupted
				       ? nlab_error_set(err, 0, "interrupted by SIG%s", sigabbrev_np(res->interrupted))
				       : nlab_error_set(err, 0, "the lab supervisor died while starting");
		switch (m.type) {
		case PROTO_PROGRESS:
			if (o->progress)
				o->progress(m.text, (size_t)m.a[0], (size_t)m.a[1], o->progress_arg);
			break;
		case PROTO_NOTICE:
			if (o->notice)
				o->notice(m.text, o->notice_arg);
			break;
		case PROTO_UP:
			/* Stopped as it finished: the supervisor got our SIGTERM
			 * and takes the lab down; so do we. */
			if (res->interrupted)
				return nlab_error_set(err, 0, "interrupted by SIG%s", sigabbrev_np(res->interrupted));
			res->nodes = (size_t)m.a[0];
			res->links = (size_t)m.a[1];
			snprintf(res->phases, sizeof(res->phases), "%.*s", (int)sizeof(res->phases) - 1, m.text);
			return 0;
		case PROTO_FAILED:
			if (res->interrupted)
				return nlab_error_set(err, 0, "interrupted by SIG%s", sigabbrev_np(res->interrupted));
			return nlab_error_set(err, 0, "%s", m.text);
		default:
			return nlab_error_set(err, EPROTO, "unexpected message %s from the lab supervisor",
					      proto_type_name(m.type));
		}
	}
}

/* The supervisor has reported; it exits once it has torn down what it
 * made (bounded by its nodes' grace period). */
static void reap(pid_t pid, int supfd, int grace_ms)
{
	struct pollfd p = { .fd = supfd, .events = POLLIN };

	if (TEMP_FAILURE_RETRY(poll(&p, 1, grace_ms + 30000)) == 0)
		syscall(SYS_pidfd_send_signal, supfd, SIGKILL, NULL, 0);
	TEMP_FAILURE_RETRY(waitpid(pid, NULL, 0));
}

static int start(const struct topology *t, const struct lab_up_options *o, int lock, struct lab_up_result *res,
		 nlab_error **err)
{
	int pair[2];
	struct lab_down_result down;

	if (lab_is_up(o->lab))
		return nlab_error_set(err, 0, "lab '%s' is already up; take it down first with: netlab down %s", o->lab,
				      o->lab);
	if (state_dir_exists(o->lab)) {
		/* Left by a lab whose supervisor was killed: clean it first. */
		if (lab_down(o->lab, &down, err) < 0)
			return nlab_error_wrap(err, "leftovers of an earlier lab %s", o->lab);
		res->cleaned_stale = down.existed;
	}
	cleanup_close int root = state_root_open(true, err);
	if (root < 0)
		return -1;
	/* Root's lab directory stays traversable: node roots (unprivileged
	 * host IDs) reach their mnt* directories there.  A user's is its own
	 * (its nodes' root is the user); logs are the owner's alone. */
	if (mkdirat(root, o->lab, rootless_inside() ? 0700 : 0755) < 0 && errno != EEXIST)
		return nlab_error_set(err, errno, "mkdir %s/%s", state_root(), o->lab);
	cleanup_close int dir = state_dir_open(o->lab, err);
	if (dir < 0 || mkdirat(dir, "logs", 0700) < 0) {
		if (dir >= 0)
			nlab_error_set(err, errno, "mkdir %s/%s/logs", state_root(), o->lab);
		state_remove(o->lab, NULL);
		return -1;
	}

	/* From here a signal to `up` is a request to stop (follow()). */
	sigset_t set, old;
	sigemptyset(&set);
	sig_add_unless_ignored(&set, SIGINT);
	sig_add_unless_ignored(&set, SIGTERM);
	sig_add_unless_ignored(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	cleanup_close int sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
		int e = errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		state_remove(o->lab, NULL);
		return nlab_error_set(err, e, sigfd < 0 ? "signalfd" : "socketpair");
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(pair[0]);
		close(pair[1]);
		sigprocmask(SIG_SETMASK, &old, NULL);
		state_remove(o->lab, NULL);
		return nlab_error_set(err, e, "fork the lab supervisor");
	}
	if (pid == 0) {
		close(pair[0]);
		launch_supervisor(t, o, lock, pair[1], sigfd);
	}
	close(pair[1]);
	/* Our child: its pid cannot be reused before we reap it. */
	cleanup_close int supfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int r = supfd < 0 ? nlab_error_set(err, errno, "pidfd_open") : follow(pair[0], sigfd, supfd, o, res, err);
	close(pair[0]);
	/* --netns-names: made here, in the host's mount namespace; if that
	 * fails the lab is up, so it is rolled back like a failed setup. */
	if (r == 0 && o->netns_names) {
		int64_t t0 = now_ms();
		r = netns_names_create(o->lab, err);
		if (r == 0) {
			size_t n = strlen(res->phases);
			snprintf(res->phases + n, sizeof(res->phases) - n, " netns-names=%lld",
				 (long long)(now_ms() - t0));
		} else if (supfd >= 0) {
			/* The supervisor is up: told to stop by lab_down(). */
			if (lab_down(o->lab, &down, &res->rollback_err) == 0)
				res->rolled_back = true;
			reap(pid, supfd, o->grace_ms);
			goto signals;
		}
	}
	if (r < 0) {
		if (supfd >= 0)
			reap(pid, supfd, o->grace_ms);
		else
			TEMP_FAILURE_RETRY(waitpid(pid, NULL, 0));
		if (lab_down(o->lab, &down, &res->rollback_err) == 0)
			res->rolled_back = true;
	}
signals:
	/* Signals that came while rolling back were for the same stop. */
	struct signalfd_siginfo si;
	while (read(sigfd, &si, sizeof(si)) == sizeof(si))
		if (!res->interrupted && r < 0)
			res->interrupted = (int)si.ssi_signo;
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

static void lock_notice(const char *msg, void *arg)
{
	const struct lab_up_options *o = arg;

	if (o->notice)
		o->notice(msg, o->notice_arg);
}

int lab_up(const struct topology *t, const struct lab_up_options *o, struct lab_up_result *res, nlab_error **err)
{
	memset(res, 0, sizeof(*res));
	struct lab_lock_options lo = { .notice = lock_notice, .arg = (void *)o };
	int lock = lab_lock(o->lab, &lo, err);
	if (lock < 0)
		return -1;
	int r = start(t, o, lock, res, err);
	/* Nothing of a lab that is not up stays, not even its lock file. */
	if (r < 0 && !state_dir_exists(o->lab))
		state_unlink_lock(o->lab);
	close(lock);
	return r;
}
