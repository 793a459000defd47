/* A rootless lab's cgroups (docs/rootless.md): the delegated cgroup v2
 * subtree of the user's session, when there is one.
 *
 * The user's cgroup is the one /proc/self/cgroup's "0::" line names, on
 * the first cgroup2 file system mounted at its root (/sys/fs/cgroup, or
 * /sys/fs/cgroup/unified next to cgroup v1 hierarchies).  It is
 * *delegated* when it is a directory the user owns, with cgroup.procs and
 * cgroup.subtree_control the user may write: what systemd's `Delegate=yes`
 * gives user@UID.service (and `systemd-run --user --scope -p
 * Delegate=yes`).  Its cgroup.controllers are what it can hand down.
 *
 * Layout below it (X, the user's cgroup):
 *
 *   X/netlab-leaf/       the processes that were in X (the user's shell,
 *                        netlab itself): only when a controller has to be
 *                        enabled in X's cgroup.subtree_control, which the
 *                        kernel refuses while X holds processes (cgroup
 *                        v2's "no internal processes" rule); as systemd
 *                        and container engines do with their own leaf
 *   X/netlab/LAB/NODE    the lab's groups, as root's are under the mount
 *
 * A process already in X/netlab-leaf counts as in X: the next lab goes
 * next to the first, not one level further down. */
#ifndef NETLAB_NODE_CGROUP_USER_H
#define NETLAB_NODE_CGROUP_USER_H

#include <stdbool.h>
#include <stddef.h>

#include "node/cgroup.h"
#include "topo/privilege.h"
#include "util/error.h"

#define CGROUP_USER_LEAF "netlab-leaf"

struct cgroup_user {
	bool delegated;
	char mount[1024];	     /* the cgroup2 mount point, "" if none */
	char path[1024];	     /* the user's cgroup, as /proc/self/cgroup names it */
	char dir[2100];		     /* mount + path */
	char controllers[256];	     /* its cgroup.controllers ("" when none) */
	char mount_controllers[256]; /* the mount root's cgroup.controllers */
	char v1[64];		     /* of cpu, memory, pids: those bound to cgroup v1 */
	unsigned ctrls;		     /* CG_* of controllers (cpu, memory, pids) */
	char why[2400];		     /* not delegated: why not */
};

/* One line of /proc/PID/mountinfo: 2 for a cgroup2 file system mounted
 * at its root, 1 for a cgroup v1 hierarchy mounted at its root (*v1 gets
 * its CG_* controllers), 0 for anything else; *mnt is the mount point
 * of either. */
int cgroup_mountinfo_line(const char *line, char *mnt, size_t len, unsigned *v1);
/* The cgroup v2 path in /proc/PID/cgroup text (its "0::" line), with a
 * trailing /netlab-leaf taken off: 0, or -1 when there is none. */
int cgroup_proc_path(const char *text, char *path, size_t len);
/* CG_* of a cgroup.controllers list ("cpu io memory pids"). */
unsigned cgroup_controllers_parse(const char *list);

/* Find the user's cgroup and whether it is delegated, changing nothing
 * (`check` runs it).  Ownership is checked against the effective uid:
 * the user, or uid 0 of the lab's user namespace, which maps to it. */
void cgroup_user_detect(struct cgroup_user *u);
/* What the validator needs of it (pointers into u). */
void cgroup_user_deleg(const struct cgroup_user *u, struct topo_deleg *d);

/* The supervisor of a rootless lab: the lab's parent X/netlab/LAB (and
 * X/netlab), with every delegated controller of cpu, memory and pids
 * enabled down to it, moving X's processes into X/netlab-leaf first
 * when X must enable one.  lab is then a v2 lab of one hierarchy, X. */
int cgroup_lab_create_user(struct cgroup_lab *lab, const struct cgroup_user *u, const char *labname, nlab_error **err);

#endif
