/* Host interfaces a lab took (`link host:IF NODE:IF move`, `link host:IF
 * SWITCH`): given back as they were, with name, MTU, up state and
 * addresses.  Taken by the supervisor (supervisor/hostif.c), which
 * journals each in state.json and pins the namespace it goes to (a bind
 * mount of that netns under the lab's state directory), so that after a
 * crash the interface is still there to give back: without the pin a
 * veth would die with the node's namespace, and a NIC would land in the
 * initial namespace without its addresses. */
#ifndef NETLAB_LAB_HOSTIF_H
#define NETLAB_LAB_HOSTIF_H

#include "lab/state.h"

/* Move h back into host_netns (the calling thread must be in it) from
 * where it is: the namespace netns_fd, or (-1) the one its pin holds;
 * then rename, size, raise and re-address it.  Succeeds when it is back
 * already (say a NIC the kernel returned). */
int hostif_give_back(const struct state_host_iface *h, int netns_fd, int host_netns, nlab_error **err);

/* Remove the pins (bind mounts of namespaces) of the lab: in the host's
 * mount namespace, i.e. from `netlab down`. */
void hostif_unpin(const struct lab_state *st);

#endif
