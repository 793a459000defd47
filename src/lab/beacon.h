/* A lab's beacon: an abstract UNIX socket its supervisor listens on for
 * as long as it lives, named after the lab (and the state root, so that
 * two state roots never share a name).  The kernel holds it, not a file:
 * `down` finds a lab's supervisor through it even when state.json is
 * empty, garbage or gone, and learns exactly which process it is
 * (SO_PEERPIDFD: a pidfd, no pid reuse race).  Binding it is also what
 * makes a second supervisor of one lab impossible.
 *
 * It is also how the CLI asks a running lab for something (`netlab
 * restart`): a SOCK_SEQPACKET socket, one proto/proto.h message per
 * packet, from a process of the supervisor's own euid only.
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

/* The next connection from a process of our own euid (the supervisor's
 * wait loop; others are closed at once), non-blocking; -1 when none is
 * waiting.  A finder connects and goes; `netlab restart` sends a
 * request (supervisor/restart.c). */
int beacon_accept(int fd);

/* A connection to the lab's supervisor (SOCK_SEQPACKET, proto/proto.h
 * messages), checked to be a process of our euid; -1 with *err (errnum
 * ESRCH: the lab has no supervisor). */
int beacon_connect(const char *lab, nlab_error **err);

/* The lab's supervisor, if one is alive: its pidfd (O_CLOEXEC) and pid,
 * or -1 when there is none (errno ESRCH) or it cannot be asked.  Only a
 * process of this euid counts: anyone may bind an abstract name. */
int beacon_find(const char *lab, pid_t *pid);

/* Names of the labs of this state root whose supervisor has a beacon
 * (from /proc/net/unix: the kernel's list, whatever the state files
 * say); caller frees each and the array. */
int beacon_list(char ***labs, size_t *n);

#endif
