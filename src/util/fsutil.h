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

#endif
