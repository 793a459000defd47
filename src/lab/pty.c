#include "lab/pty.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/sig.h"
#include "util/fsutil.h"

int pty_open(struct pty_relay *p, nlab_error **err)
{
	struct winsize ws;
	char name[64];

	memset(p, 0, sizeof(*p));
	p->master = p->slave = p->term = -1;
	for (int fd = 0; fd < 3; fd++) {
		p->tty[fd] = isatty(fd);
		if (p->tty[fd] && p->term < 0)
			p->term = fd;
	}
	if (p->term < 0)
		return 0;
	p->raw = p->tty[0];
	/* The host's devpts: allocated here, outside the node, so the node
	 * holds nothing of ours but the slave end. */
	p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->master < 0)
		return nlab_error_set(err, errno, "open a pseudo-terminal (/dev/ptmx)");
	if (grantpt(p->master) < 0 || unlockpt(p->master) < 0 || ptsname_r(p->master, name, sizeof(name)) != 0) {
		int e = errno;
		pty_close(p);
		return nlab_error_set(err, e, "set up a pseudo-terminal");
	}
	p->slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->slave < 0) {
		int e = errno;
		pty_close(p);
		return nlab_error_set(err, e, "open %s", name);
	}
	/* The command sees a terminal like the caller's: same modes, size. */
	if (tcgetattr(p->term, &p->saved) == 0)
		tcsetattr(p->slave, TCSANOW, &p->saved);
	if (ioctl(p->term, TIOCGWINSZ, &ws) == 0)
		ioctl(p->slave, TIOCSWINSZ, &ws);
	return 0;
}

int pty_child(const struct pty_relay *p)
{
	if (setsid() < 0)
		return -1;
	if (p->slave < 0)
		return 0;
	if (ioctl(p->slave, TIOCSCTTY, 0) < 0)
		return -1;
	for (int fd = 0; fd < 3; fd++)
		if (p->tty[fd] && dup2(p->slave, fd) < 0)
			return -1;
	return 0;
}

void pty_close(struct pty_relay *p)
{
	if (p->master >= 0)
		close(p->master);
	if (p->slave >= 0)
		close(p->slave);
	p->master = p->slave = -1;
}

/* Bytes on their way from the caller's stdin to the master. */
struct relay_buf {
	char b[4096];
	size_t off, len;
};

static void pass_winsize(const struct pty_relay *p)
{
	struct winsize ws;

	/* The kernel sends SIGWINCH to the slave's foreground job. */
	if (ioctl(p->term, TIOCGWINSZ, &ws) == 0)
		ioctl(p->master, TIOCSWINSZ, &ws);
}

/* The terminal's own character for a signal, typed into the master: the
 * slave's line discipline then signals the command's foreground job. */
static void type_char(const struct pty_relay *p, int idx)
{
	struct termios t;
	char c;

	if (tcgetattr(p->master, &t) < 0 || !(t.c_lflag & ISIG) || t.c_cc[idx] == _POSIX_VDISABLE)
		return;
	c = (char)t.c_cc[idx];
	(void)!write(p->master, &c, 1);
}

int pty_relay_run(struct pty_relay *p, pid_t child, nlab_error **err)
{
	sigset_t set, old;
	struct relay_buf in = { .len = 0 };
	bool in_eof = !p->raw, master_done = false, exited = false;
	int out = p->tty[1] ? 1 : p->tty[2] ? 2 : 0, status = 0, r = 0;
	struct termios raw;

	cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, child, 0);
	if (pidfd < 0)
		return nlab_error_set(err, errno, "pidfd_open");
	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	sig_add_unless_ignored(&set, SIGINT);
	sig_add_unless_ignored(&set, SIGQUIT);
	sig_add_unless_ignored(&set, SIGTERM);
	sig_add_unless_ignored(&set, SIGHUP);
	sig_add_unless_ignored(&set, SIGTSTP);
	sigprocmask(SIG_BLOCK, &set, &old);
	cleanup_close int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		r = nlab_error_set(err, errno, "signalfd");
		goto out;
	}
	/* Only the child's copies of the slave may keep it open: the master
	 * then reads EIO once the command and all it started are gone. */
	close(p->slave);
	p->slave = -1;
	fcntl(p->master, F_SETFL, fcntl(p->master, F_GETFL) | O_NONBLOCK);
	if (p->raw) {
		raw = p->saved;
		cfmakeraw(&raw);
		tcsetattr(0, TCSADRAIN, &raw);
	}
	pass_winsize(p);
	/* After the command exits, at most this many more reads: something
	 * it left running in the background may write for ever. */
	int tail = 64;
	while ((!master_done || !exited) && tail > 0) {
		if (exited)
			tail--;
		struct pollfd pf[4] = {
			{ .fd = exited ? -1 : pidfd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = master_done ? -1 : p->master, .events = POLLIN | (in.len ? POLLOUT : 0) },
			{ .fd = in_eof || in.len ? -1 : 0, .events = POLLIN },
		};
		/* Once the command has exited, what it (or what it left
		 * running) already wrote is passed on, then we stop. */
		int k = poll(pf, 4, exited ? 0 : -1);
		if (k < 0 && errno != EINTR) {
			r = nlab_error_set(err, errno, "poll");
			break;
		}
		if (k == 0 && exited)
			break;
		if (pf[0].revents) {
			if (TEMP_FAILURE_RETRY(waitpid(child, &status, 0)) < 0) {
				r = nlab_error_set(err, errno, "waitpid");
				break;
			}
			exited = true;
		}
		if (pf[1].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGWINCH)
					pass_winsize(p);
				else if (si.ssi_signo == SIGINT)
					type_char(p, VINTR);
				else if (si.ssi_signo == SIGQUIT)
					type_char(p, VQUIT);
				else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGHUP)
					kill(child, (int)si.ssi_signo);
				/* SIGTSTP (^Z of a terminal not in raw mode): the
				 * relay does not stop under a running command. */
			}
		}
		if (pf[2].revents & (POLLIN | POLLHUP | POLLERR)) {
			char buf[16384];
			ssize_t n = read(p->master, buf, sizeof(buf));
			if (n > 0)
				write_all(out, buf, (size_t)n);
			else if (n == 0 || (errno != EAGAIN && errno != EINTR))
				master_done = true; /* EIO: no slave left */
		}
		if ((pf[2].revents & POLLOUT) && in.len) {
			ssize_t n = write(p->master, in.b + in.off, in.len);
			if (n > 0) {
				in.off += (size_t)n;
				in.len -= (size_t)n;
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				in.len = 0;
				in_eof = true;
			}
		}
		if (pf[3].revents) {
			ssize_t n = read(0, in.b, sizeof(in.b));
			if (n > 0) {
				in.off = 0;
				in.len = (size_t)n;
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				in_eof = true;
			}
		}
	}
	if (!exited && r == 0 && TEMP_FAILURE_RETRY(waitpid(child, &status, 0)) < 0)
		r = nlab_error_set(err, errno, "waitpid");
out:
	if (p->raw)
		tcsetattr(0, TCSADRAIN, &p->saved);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r < 0 ? -1 : status;
}
