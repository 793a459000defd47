/* One supervisor per lab (like conmon for a container): it holds the lab's
 * private network and mount namespace, is the parent of every node's init,
 * applies the plan, then waits.  If it dies by any means the kernel
 * removes the whole lab: the inits die with it (PR_SET_PDEATHSIG) and the
 * namespaces go with their last process. */
#ifndef NETLAB_SUPERVISOR_SUPERVISOR_H
#define NETLAB_SUPERVISOR_SUPERVISOR_H

#include <stdbool.h>

#include "topo/model.h"

struct sup_options {
	const char *lab;
	int grace_ms;
	int line_timeout_s;     /* the bound of each exec line */
	int status_fd;          /* to `netlab up` (proto/proto.h): PROGRESS, then UP or FAILED */
	bool progress;          /* send PROGRESS messages */
	int lock_fd;            /* the lab lock, shared with `netlab up`: closed once setup is over */
	bool rootless;          /* in a lab user namespace of an unprivileged user (lab/rootless.h) */
};

/* Runs in the forked supervisor process; returns its exit code.
 *
 * SIGTERM, SIGINT or SIGHUP during setup stop it: setup rolls back as
 * after a failure, and FAILED says so.  If `netlab up` goes away before
 * it was told UP (its end of the status channel closes), setup rolls
 * back too and the supervisor also removes the lab's state directory:
 * no one is left to do it.  So a lab is up only if `up` was told. */
int supervisor_main(const struct topology *t, const struct sup_options *o);

#endif
