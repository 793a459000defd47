/* The one way netlab locks: flock(2), with a bounded wait that says what
 * it waits for.
 *
 * A lock file may be removed while held (nothing of a lab stays behind):
 * its holder unlinks it when what it guards is gone, and a waiter that
 * then gets the lock holds an orphaned inode.  So after locking,
 * lock_at() re-checks that the name still refers to the inode it locked,
 * and starts again if not.  Without that check two processes could each
 * hold "the" lock of one lab.
 *
 * A directory can be locked too (lock_dir()): the state root is the host
 * lock, and a lock on a directory leaves no file behind, even when its
 * holder is killed. */
#ifndef NETLAB_UTIL_LOCK_H
#define NETLAB_UTIL_LOCK_H

#include <stdbool.h>
#include <sys/types.h>

#include "util/error.h"

/* How to wait when the lock is taken. */
struct lock_wait {
	const char *what; /* for messages: "the lock of lab web" */
	int timeout_ms;	  /* give up after this long (ETIMEDOUT); 0: do not wait at all */
	int notice_ms;	  /* call notice() once after waiting this long */
	/* Told once what is being waited for ("waiting for the lock of lab
	 * web, held by pid 42 (netlab up)"). */
	void (*notice)(const char *msg, void *arg);
	void *arg;
};

/* Open NAME under dirfd (O_CREAT, O_NOFOLLOW, mode 0600) and lock it
 * exclusively.  w NULL: wait for as long as it takes, silently.  Returns
 * the fd holding the lock (O_CLOEXEC), or -1 with *err (errnum
 * ETIMEDOUT when the wait was too long, naming the holder). */
int lock_at(int dirfd, const char *name, const struct lock_wait *w, nlab_error **err);

/* Lock the directory dirfd itself (through a new open file description
 * of it, so that the caller's fd is not the lock).  Same return. */
int lock_dir(int dirfd, const struct lock_wait *w, nlab_error **err);

/* Release a lock taken by lock_at(); with unlink set, remove NAME under
 * dirfd first (while still held, so no one can lock it unseen). */
void lock_release_at(int fd, int dirfd, const char *name, bool unlink);

/* The pid that took the flock on fd's inode, from /proc/locks; 0 when
 * unknown or not locked. */
pid_t lock_holder(int fd);

/* "pid 42 (netlab up)", or "pid 42" when its command line is unreadable,
 * into buf. */
void lock_describe_pid(pid_t pid, char *buf, size_t len);

#endif
