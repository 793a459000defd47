/* What an unprivileged user's lab cannot have (lab/rootless.h,
 * docs/rootless.md): everything that needs the initial user namespace.
 * One error per statement, at its position, before anything is made:
 * `check` and `up` run by a user other than root report them. */
#ifndef NETLAB_TOPO_PRIVILEGE_H
#define NETLAB_TOPO_PRIVILEGE_H

#include <stddef.h>

#include "topo/diag.h"
#include "topo/model.h"

/* `node host` (and so its addresses, routes, NAT, forwarding), links
 * with a host end, `userns off` (of a node or the lab), cgroup limits
 * (`cpu`, `memory`, `pids`).  Returns the number of errors added. */
size_t topo_check_rootless(const struct topology *t, struct diags *d);

#endif
