#ifndef NETLAB_FSUTIL_H
#define NETLAB_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "util/error.h"

int mkdir_p(const char *path, mode_t mode, nlab_error **err);
/* Write data to tmp, fsync-free (tmpfs), then rename over path. */
int write_file_atomic(const char *path, const char *tmp, const void *data, size_t len, nlab_error **err);
int write_all(int fd, const void *buf, size_t len);
/* Remove a directory tree without following symlinks; ENOENT is success. */
int rm_rf(const char *path, nlab_error **err);
/* Read a whole small file into a NUL-terminated buffer. */
char *read_file(const char *path, size_t max, size_t *len);

/* ---- relative to a directory fd, never following a symlink ---- */

/* write_file_atomic() of NAME under dirfd, through TMP under dirfd. */
int write_file_atomic_at(int dirfd, const char *name, const char *tmp, const void *data, size_t len,
			 nlab_error **err);
/* rm_rf() of NAME under dirfd. */
int rm_rf_at(int dirfd, const char *name, nlab_error **err);
/* A regular file NAME under dirfd (O_NOFOLLOW), owned by this process's
 * euid, of at most max bytes, read whole; NULL with *err otherwise
 * (errnum ENOENT when it does not exist, EFBIG when too big). */
char *read_file_at(int dirfd, const char *name, size_t max, size_t *len, nlab_error **err);

/* openat() of a relative PATH that stays below dirfd and follows no
 * symlink at all (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS). */
int openat_beneath(int dirfd, const char *path, int flags, mode_t mode, nlab_error **err);

/* Open PATH, taken as seen from inside the root directory rootfd (a
 * node's /proc/PID/root, say), with every symlink and ".." kept inside it
 * (openat2 RESOLVE_IN_ROOT; magic links refused): a rootfs's symlink
 * `run -> /etc` then leads to the rootfs's /etc, never the host's. */
int open_in_root(int rootfd, const char *path, int flags, mode_t mode, nlab_error **err);

#endif
