/* Keeping node code away from the caller's terminal (`netlab exec`,
 * `netlab shell`).
 *
 * A process that holds a terminal as its controlling terminal can push
 * bytes into its input with TIOCSTI, and the caller's shell then runs
 * them as the caller (bubblewrap CVE-2017-5226; `dev.tty.legacy_tiocsti`
 * is still 1 on many kernels).  So node code never gets an fd of the
 * caller's terminal, nor that terminal as its controlling one:
 *   - it always runs in a session of its own (setsid());
 *   - when any of the caller's stdin, stdout, stderr is a terminal, netlab
 *     allocates a pseudo-terminal outside the node (the host's devpts),
 *     gives the command its slave (as controlling terminal, in place of
 *     each fd that was a terminal; the others are passed as they are) and
 *     relays between the master and the caller's terminal, as ssh -t,
 *     `machinectl shell` and `docker exec -t` do.  With stdin a terminal
 *     the caller's terminal is put in raw mode for the relay's lifetime, so
 *     ^C, ^Z and line editing act in the node; its window size is passed on
 *     at start and on every SIGWINCH.
 * The command's exit status comes back as it is (128+N for signal N);
 * SIGTERM and SIGHUP to netlab are passed on to the command, SIGINT and
 * SIGQUIT (from a terminal not in raw mode) as the terminal's own
 * interrupt and quit characters, so they reach the command's whole
 * foreground job. */
#ifndef NETLAB_LAB_PTY_H
#define NETLAB_LAB_PTY_H

#include <stdbool.h>
#include <sys/types.h>
#include <termios.h>

#include "util/error.h"

struct pty_relay {
	int master, slave;    /* -1 when none of the caller's stdio is a terminal */
	bool tty[3];	      /* which of the caller's fds 0, 1, 2 are terminals */
	int term;	      /* one of them, for attributes and window size */
	bool raw;	      /* stdin is a terminal: relayed in raw mode */
	struct termios saved; /* the caller's terminal as it was */
};

/* Look at the caller's fds 0-2 and, if one is a terminal, open a pty
 * whose slave starts with that terminal's attributes and size.  0 with
 * p->master == -1 when there is no terminal. */
int pty_open(struct pty_relay *p, nlab_error **err);

/* In the child that becomes the command (after fork or vfork, before
 * execve): a new session; with a pty (p->slave open), the slave as its
 * controlling terminal and on every fd that was a terminal.  System calls only.
 * 0, or -1 with errno. */
int pty_child(const struct pty_relay *p);

/* In netlab: relay between the caller's terminal and the master until
 * `child` exits (and the master has nothing more to say), then restore
 * the terminal.  Returns child's wait status, or -1 with *err. */
int pty_relay_run(struct pty_relay *p, pid_t child, nlab_error **err);

void pty_close(struct pty_relay *p);

#endif
