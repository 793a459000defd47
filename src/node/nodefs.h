/* A node's file system view, set up by its init inside its own mount
 * namespace (owned by its user namespace): /proc and /sys of its own
 * namespaces, fresh /tmp and /run, the lab's /etc/hosts, and either the
 * host's tree or `rootfs DIR` entered with pivot_root (old root detached),
 * with a minimal /dev; then `mount` and `tmpfs` statements.  Every target
 * inside the node's root is resolved with openat2(RESOLVE_IN_ROOT), so a
 * symlink in a rootfs cannot send a mount outside it. */
#ifndef NETLAB_NODE_NODEFS_H
#define NETLAB_NODE_NODEFS_H

#include <stdbool.h>

#include "node/init.h"
#include "util/error.h"

int nodefs_setup(const struct node_spec *s, nlab_error **err);

/* Write into the new directory DST a copy of /etc/alternatives whose
 * iptables links point at the legacy tools, for the nodes to bind-mount.
 * *made is false (and nothing written) when no link needs changing. */
int nodefs_prepare_alternatives(const char *dst, bool *made, nlab_error **err);

/* Open PATH (absolute, as seen from inside the root) below rootfd with
 * O_PATH, every symlink and ".." kept inside rootfd. */
int nodefs_open_in_root(int rootfd, const char *path, nlab_error **err);

#endif
