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

/* Read into buf (NUL-terminated, trailing newline removed).  ENOBUFS if the
 * value does not fit. */
int nlab_sysctl_read(const char *key, char *buf, size_t len, nlab_error **err);

#endif
