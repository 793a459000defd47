/* What an unprivileged user's lab cannot have (lab/rootless.h,
 * docs/rootless.md): everything that needs the initial user namespace.
 * One error per statement, at its position, before anything is made:
 * `check` and `up` run by a user other than root report them. */
#ifndef NETLAB_TOPO_PRIVILEGE_H
#define NETLAB_TOPO_PRIVILEGE_H

#include <stdbool.h>
#include <stddef.h>

#include "topo/diag.h"
#include "topo/model.h"

/* The user's cgroup, as far as limits go (node/cgroup_user.h finds it):
 * a limit needs a delegated cgroup v2 subtree that delegates its
 * controller. */
struct topo_deleg {
	bool delegated;
	const char *cgroup;            /* the user's cgroup ("/user.slice/..."), or NULL */
	const char *controllers;       /* what it delegates (its cgroup.controllers) */
	const char *why;               /* not delegated: why not */
	const char *mount;             /* the cgroup v2 mount point, or NULL */
	const char *mount_controllers; /* what the whole v2 hierarchy offers */
	const char *v1;                /* of cpu, memory, pids: those bound to cgroup v1 */
};

/* `node host` (and so its addresses, routes, NAT, forwarding), links
 * with a host end, `userns off` (of a node or the lab), and cgroup
 * limits (`cpu`, `memory`, `pids N`) whose controller the user's cgroup
 * does not delegate (deleg NULL: none is).  Returns the number of errors
 * added. */
size_t topo_check_rootless(const struct topology *t, const struct topo_deleg *deleg, struct diags *d);

#endif
