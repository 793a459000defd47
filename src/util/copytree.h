#ifndef NETLAB_UTIL_COPYTREE_H
#define NETLAB_UTIL_COPYTREE_H

#include <stdint.h>

#include "util/error.h"

/* Copy the tree under `from` to the new directory `to`: directories,
 * regular files and symlinks (never followed) with owner, mode and
 * times; devices, fifos and sockets are left out.  Fails with EFBIG past
 * max_bytes of file data. */
int copy_tree(const char *from, const char *to, uint64_t max_bytes, nlab_error **err);

#endif
