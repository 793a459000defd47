/* Lab-level operations shared by the verbs: is a lab up, take it down
 * (idempotently, also after a crash), join a node's namespaces. */
#ifndef NETLAB_RUNTIME_LAB_H
#define NETLAB_RUNTIME_LAB_H

#include <stdbool.h>

#include "lab/state.h"
#include "util/error.h"

/* 1 when the lab's supervisor is alive, 0 when not (stale or absent). */
int lab_is_up(const char *lab);
/* Stop the supervisor (SIGTERM, then SIGKILL), make sure every init is
 * gone, remove what the lab left in the host namespace, restore host
 * sysctls, delete the state directory.  Succeeds when already gone.
 * Call with the lab lock held. */
int lab_down(const char *lab, nlab_error **err);
/* Enter the node's cgroup and every namespace of the node (setns with a
 * pidfd, all at once, user namespace included), as the node's root, not
 * dumpable.  The caller must fork afterwards to be inside the PID
 * namespace, and switch to the node's `user` (creds_become) there. */
int lab_join_node(const struct state_node *node, nlab_error **err);

#endif
