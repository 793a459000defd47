/* The one way netlab locks a file: flock(2) on a lock file that may be
 * removed while held.  A lock file is unlinked by its holder when what it
 * guards is gone (nothing of a lab stays behind); a waiter that then gets
 * the lock holds an orphaned inode, so after locking it re-checks that the
 * path still names the inode it locked, and starts again if not.  Without
 * that check two processes could each hold "the" lock of one lab. */
#ifndef NETLAB_UTIL_LOCK_H
#define NETLAB_UTIL_LOCK_H

#include "util/error.h"

/* Open (O_CREAT, O_NOFOLLOW, mode 0600) and lock PATH exclusively.
 * Returns the fd holding the lock (O_CLOEXEC), or -1 with *err. */
int lock_file(const char *path, nlab_error **err);

/* Release a lock taken by lock_file(); with unlink_path set, remove the
 * file first (while still held, so no one can lock it unseen). */
void lock_release(int fd, const char *unlink_path);

#endif
