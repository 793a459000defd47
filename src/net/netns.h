/* Moving the calling thread between network namespaces.
 *
 * setns(CLONE_NEWNET) switches only the calling thread, which is all a
 * netlink socket or a /proc/sys/net open needs: both bind to the thread's
 * netns at creation time and keep it afterwards. */
#ifndef NETLAB_NET_NETNS_H
#define NETLAB_NET_NETNS_H

#include <sys/types.h>

#include "util/error.h"

/* Save the thread's netns into *saved_fd (O_CLOEXEC) and join netns_fd.
 * On failure the thread has not moved and *saved_fd is untouched. */
int nlab_netns_enter(int netns_fd, int *saved_fd, nlab_error **err);

/* Return to *saved_fd and close it (also when setns fails, which only
 * happens if the thread lost CAP_SYS_ADMIN); *saved_fd becomes -1.
 * A no-op when *saved_fd is already -1. */
int nlab_netns_leave(int *saved_fd, nlab_error **err);

/* Open /proc/PID/ns/net, O_CLOEXEC. */
int nlab_netns_open_pid(pid_t pid, nlab_error **err);

#endif
