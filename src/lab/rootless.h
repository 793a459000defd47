/* Rootless labs (docs/rootless.md): an unprivileged user's lab lives in a
 * user namespace that user owns, the "lab user namespace".
 *
 * `netlab up` run by a uid other than 0, once the topology passed its
 * checks, forks a child that unshares a user namespace and waits while
 * the parent writes its maps: with the user's /etc/subuid and /etc/subgid
 * ranges, through newuidmap/newgidmap (0 -> the user, 1..N -> the
 * ranges); without them, by itself (0 -> the user only, setgroups
 * denied).  The child becomes root there and executes netlab again with
 * the same arguments (so that its memory belongs to that namespace: the
 * supervisor forked from it can then read its non-dumpable inits' /proc
 * files, which node root cannot); the parent waits and exits with its
 * status.  `up` and the supervisor then do what they do for root; the
 * user, its namespace's owner, has every capability in it and in the
 * node namespaces nested under it, so `exec`, `test`, `capture`, `link`
 * join nodes as for root.  What needs the initial user namespace (host
 * links, `userns off`, cgroup limits without a delegated cgroup) is
 * refused by the validator (topo_validate with rootless set). */
#ifndef NETLAB_LAB_ROOTLESS_H
#define NETLAB_LAB_ROOTLESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

/* True when this process is not root (euid != 0), or runs in a lab user
 * namespace (rootless_inside()): the lab is an unprivileged user's. */
bool rootless(void);
/* `netlab up` executed again in its lab user namespace (the environment
 * says so and the uid map is not the initial namespace's). */
bool rootless_inside(void);

/* The state root of an unprivileged user, without NETLAB_RUN_DIR:
 * $XDG_RUNTIME_DIR/netlab when XDG_RUNTIME_DIR is an absolute path, else
 * $HOME/.local/state/netlab, else /tmp/netlab-UID (made 0700 and checked
 * to be the user's like any state root).  Pure: the caller passes the
 * environment.  -1 with ENAMETOOLONG when it does not fit. */
int rootless_state_root(char *buf, size_t len, uid_t uid, const char *xdg_runtime_dir, const char *home);

/* The first subordinate range of the user (by name or number) in a
 * subuid/subgid file: 0 and *out filled, or -1 (none, no file). */
struct rootless_range {
	uint32_t start, count;
};
int rootless_subid(const char *path, const char *name, uint32_t id, struct rootless_range *out);

/* Run `netlab up` again (/proc/self/exe, /proc/self/cmdline) in a new
 * lab user namespace, the state root `state_root` passed on in
 * NETLAB_RUN_DIR; wait for it; return its exit status (or -1 with *err
 * when the namespace could not be made). */
int rootless_reexec(const char *state_root, nlab_error **err);

/* fn(arg) in a child process that is uid 0 of a new user namespace with
 * the maps a lab of this user gets (rootless_reexec): the lab's IDs
 * again, after its own namespace is gone (`down` gives back files its
 * nodes' users left, lab/labdir.h).  The child's exit status: 0 when fn
 * returned 0. */
int rootless_mapped(int (*fn)(void *), void *arg, nlab_error **err);

/* A user's `status`, `capture`, `link`: join the lab's user namespace
 * (the supervisor's), as its root, to reach the lab's and the nodes'
 * network namespaces (setns into a network namespace needs
 * CAP_SYS_ADMIN in the caller's own user namespace too).  Nothing for
 * root.  One way: the process stays there. */
int rootless_join(const char *lab, nlab_error **err);

/* allusers.c: root's view of the users' labs.  Every user's state root
 * (not root's own) that exists: where running supervisors in lab user
 * namespaces keep theirs, /run/user/UID/netlab, HOME/.local/state/netlab
 * and /tmp/netlab-UID of every passwd entry. */
struct rootless_root {
	char path[4096];
	uid_t uid; /* its owner */
	gid_t gid;
	dev_t dev;
	ino_t ino;
};
int rootless_user_roots(struct rootless_root **v, size_t *n);
/* fn(arg) in a child process that became the root's owner (no
 * supplementary groups, NETLAB_RUN_DIR set): its exit status. */
int rootless_as_owner(const struct rootless_root *r, int (*fn)(void *), void *arg);

/* Inside the lab user namespace: how many IDs besides 0 its maps give
 * (0 without subordinate ranges), and whether setgroups() is allowed
 * there.  Read from /proc/self/uid_map, gid_map, setgroups. */
struct rootless_info {
	bool nested;	     /* this process is in a lab user namespace */
	uint32_t uids, gids; /* IDs 1..uids (gids) are mapped */
	bool setgroups;
};
int rootless_info_read(struct rootless_info *ri);

/* Node slot k of n in a lab user namespace: node IDs 0..*size-1, node
 * root is the lab's root (the user), IDs 1.. come from [*base, *base +
 * *size - 1).  *size is 1 when there are no subordinate IDs. */
void rootless_slot(uint32_t mapped, size_t n, size_t k, uint32_t *base, uint32_t *size);

#endif
