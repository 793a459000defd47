/* A lab's beacon: an abstract UNIX socket its supervisor listens on for
 * as long as it lives, named after the lab (and the state root, so that
 * two state roots never share a name).  The kernel holds it, not a file:
 * `down` finds a lab's supervisor through it even when state.json is
 * empty, garbage or gone, and learns exactly which process it is
 * (SO_PEERPIDFD: a pidfd, no pid reuse race).  Binding it is also what
 * makes a second supervisor of one lab impossible.
 *
 * Abstract sockets belong to a network namespace: the beacon is bound
 * in the namespace netlab was started from, before the supervisor moves
 * into the lab's own. */
#ifndef NETLAB_LAB_BEACON_H
#define NETLAB_LAB_BEACON_H

#include <sys/types.h>

#include "util/error.h"

/* Bind and listen (supervisor).  Returns the listening fd (O_CLOEXEC,
 * non-blocking), or -1 with *err; errnum EADDRINUSE when the lab already
 * has a supervisor. */
int beacon_bind(const char *lab, nlab_error **err);

/* Accept and close whatever connected (the supervisor's wait loop):
 * a finder only needs the connection to be made. */
void beacon_drain(int fd);

/* The lab's supervisor, if one is alive: its pidfd (O_CLOEXEC) and pid,
 * or -1 when there is none (errno ESRCH) or it cannot be asked.  Only a
 * process of this euid counts: anyone may bind an abstract name. */
int beacon_find(const char *lab, pid_t *pid);

/* Names of the labs of this state root whose supervisor has a beacon
 * (from /proc/net/unix: the kernel's list, whatever the state files
 * say); caller frees each and the array. */
int beacon_list(char ***labs, size_t *n);

#endif
