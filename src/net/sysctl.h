/* net.* sysctls through /proc/sys, never sysctl(8).
 *
 * /proc/sys/net shows the netns of the thread that opens the file, not the
 * netns of whoever mounted /proc: to set a node's sysctl, nlab_netns_enter()
 * its netns, call these, and leave again. */
#ifndef NETLAB_NET_SYSCTL_H
#define NETLAB_NET_SYSCTL_H

#include <stddef.h>

#include "util/error.h"

/* key is dotted ("net.ipv4.ip_forward") and must start with "net."; keys
 * with "/" or ".." or empty components are refused (EINVAL), so interface
 * names containing dots cannot be addressed. */
int nlab_sysctl_write(const char *key, const char *value, nlab_error **err);

/* The same through another mount of procfs, e.g. "/proc/PID/root/proc",
 * a node's own.  Still the caller's netns; but the kernel keeps one dentry
 * per netns for each /proc/sys/net file in each procfs mount, all on one
 * hash chain, so with a thousand nodes every lookup through the same
 * mount walks a thousand of them.  A node's own procfs has one. */
int nlab_sysctl_write_in(const char *proc, const char *key, const char *value, nlab_error **err);

/* The same through the procfs mounted at /proc inside the root directory
 * rootfd (a node's /proc/PID/root, opened O_PATH): the path is resolved
 * inside that root (openat2 RESOLVE_IN_ROOT), so a rootfs whose /proc is
 * a symlink cannot send the write anywhere else; and what is opened
 * must still be procfs. */
int nlab_sysctl_write_at(int rootfd, const char *key, const char *value, nlab_error **err);
/* The same through a procfs mount's root (a detached one, say). */
int nlab_sysctl_write_proc(int procfd, const char *key, const char *value, nlab_error **err);

/* Read into buf (NUL-terminated, trailing newline removed).  ENOBUFS if the
 * value does not fit. */
int nlab_sysctl_read(const char *key, char *buf, size_t len, nlab_error **err);

#endif
