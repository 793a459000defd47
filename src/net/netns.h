/* Moving the calling thread between network namespaces.
 *
 * setns(CLONE_NEWNET) switches only the calling thread, which is all a
 * netlink socket or a /proc/sys/net open needs: both bind to the thread's
 * netns at creation time and keep it afterwards. */
#ifndef NETLAB_NET_NETNS_H
#define NETLAB_NET_NETNS_H

#include <sys/types.h>

#include "net/nlsock.h"
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

/* Queue an RTM_NEWNSID on nl: the netns of pid gets the id nsid in the
 * socket's netns.  Why a caller would choose it: every notification about
 * a device whose peer is in another netns names that netns by its id, and
 * the kernel finds the id by walking the socket netns's ids in ascending
 * order (__peernet2id()), so one given a smaller id than every netns
 * already known is found first (supervisor/apply.c, docs/scale.md).
 * Fails (EEXIST) if that netns already has an id there. */
int nlab_netns_queue_id(struct nlab_nl *nl, pid_t pid, int nsid, const char *ctx, nlab_error **err);

#endif
