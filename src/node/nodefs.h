/* A node's file system view, set up by its init inside its own mount
 * namespace (owned by its user namespace) and entered with pivot_root
 * (the old root detached): a default node's root is an overlay of its own
 * over the idmapped host (nodefs_root.c), a `rootfs DIR` node's is DIR;
 * each gets /proc and /sys of its own namespaces, its own /tmp and /run,
 * a minimal /dev, the lab's /etc/hosts, then `mount` and `tmpfs`
 * statements.  Every target inside the node's root is resolved with
 * openat2(RESOLVE_IN_ROOT), so a symlink cannot send a mount outside it. */
#ifndef NETLAB_NODE_NODEFS_H
#define NETLAB_NODE_NODEFS_H

#include <stdbool.h>
#include <sys/types.h>

#include "node/init.h"
#include "util/error.h"

/* The node's procfs, made detached first thing (the node's own sysctls
 * are written through it before its root exists), then attached by
 * nodefs_setup(), which takes it over, with the trees the supervisor
 * sent (nodefs_receive_trees(); their fds closed here). */
struct proto_msg;
int nodefs_proc_mount(nlab_error **err);
int nodefs_setup(const struct node_spec *s, int proc, struct proto_msg *trees, nlab_error **err);

/* The size of the tmpfs the node writes into: a default node's layer
 * (share 1), each of a rootfs node's /tmp, /run and /dev/shm (share 3).
 * 512 MiB, and with a `memory` limit at most half of it in all: a node
 * that fills its files gets ENOSPC, not an OOM killer that has nothing
 * left to kill but its init (tmpfs pages cannot be reclaimed without
 * swap).  The pages are charged to the node's memory cgroup as it writes
 * them (docs/isolation.md).  Into buf as a tmpfs size= value. */
void nodefs_tmpfs_size(const struct topo_node *n, unsigned share, char *buf, size_t len);

/* nodefs_root.c: a default node's root (an overlay over the idmapped
 * host; the file's top comment says how), and what every root gets. */
int nodefs_overlay_root(const struct node_spec *s, int proc, struct proto_msg *trees, nlab_error **err);
/* Shared with nodefs_rootless.c. */
int nodefs_fs_mount(const char *type, const char *const *kv, unsigned attrs, nlab_error **err);
int nodefs_attach(int fd, int dirfd, const char *path, nlab_error **err);
struct proto_msg;
int nodefs_attach_trees(const struct node_spec *s, struct proto_msg *m, nlab_error **err);

/* nodefs_rootless.c: a default node's root in a rootless lab.  The
 * host's / cannot be an overlay layer there (its submounts are locked:
 * the kernel refuses a layer with locked mounts under it), so the root
 * is a small tmpfs with, per top-level entry of the host's / (found
 * once per lab by the supervisor, supervisor/labfs_rootless.c): */
enum nodefs_top_kind {
	NODEFS_TOP_OVERLAY,     /* no mounts under it: an overlay of [files], [mask], the host's */
	NODEFS_TOP_MASK,        /* an empty directory of the mask (tmp, run...): a directory of the root's */
	NODEFS_TOP_BIND,        /* not /etc /var /usr /opt /srv, or mounts under it: the host's, read-only */
	NODEFS_TOP_LINK,        /* a symbolic link (/bin -> usr/bin) */
};
struct nodefs_top {
	char name[256];
	enum nodefs_top_kind kind;
	bool in_mask;           /* the mask has a directory of that name */
	char link[256];
};
int nodefs_rootless_root(const struct node_spec *s, int proc, struct proto_msg *m, nlab_error **err);
int nodefs_finish_root(const struct node_spec *s, int rootfd, int proc, nlab_error **err);
/* A node that starts no process of its own has the lab's placeholder
 * sysfs (LAB/sys) on /sys, with these attributes, and the lab's /dev
 * without a devpts or mqueue of its own, until the first process that
 * enters it calls nodefs_mount_lazy() (nodefs_root.c says why). */
#define NODEFS_SYS_PLACEHOLDER_ATTRS (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSYMFOLLOW)
#define NODEFS_DEVPTS_OPTS "newinstance,ptmxmode=0666,mode=620"
/* In the node's namespaces as node root: its own sysfs over the
 * placeholder, if that is still there, and its own /dev/pts and
 * /dev/mqueue if they are not.  0, or -1 with *err. */
int nodefs_mount_lazy(nlab_error **err);
/* The supervisor's TREES, the first message it sends a node's init (as
 * soon as the init exists): at least min fds.  The init takes them at
 * once, even though it builds its root later: fds in flight in a socket
 * count against the sender's RLIMIT_NOFILE (ETOOMANYREFS), fds an init
 * holds against its own.  The last fd is the token (*token) that lets
 * one init of the lab at a time build its root (supervisor/nodech.c). */
int nodefs_receive_trees(int ctl, struct proto_msg *m, int *token, nlab_error **err);
/* Attach the detached mount fd (consumed) on DST inside rootfd. */
int nodefs_attach_at(int rootfd, const char *dst, int fd, nlab_error **err);
/* /lab: the user namespace its idmapping goes through (a child of the
 * node's: the topology directory's owner <-> node root, the slot's IDs
 * <-> the node's), made by the init; -1 when there is none to make (no
 * user namespace, no /lab), -2 with *err on failure.  Then the tree the
 * supervisor sends (PROTO_LAB_TREE) attached on /lab, the working
 * directory of the node's lines. */
int nodefs_lab_userns(const struct node_spec *s, nlab_error **err);
struct proto_msg;
int nodefs_attach_lab(struct proto_msg *m, nlab_error **err);

/* Shared by both kinds of root. */
int nodefs_mount_at(int rootfd, const char *dst, const char *src, const char *type, unsigned long flags,
		    const char *data, nlab_error **err);
/* mkdir -p of PATH inside rootfd (each component resolved inside it). */
int nodefs_mkdir_in_root(int rootfd, const char *path, mode_t mode, nlab_error **err);
/* `mount`/`tmpfs` statements; create: make missing targets. */
int nodefs_user_mounts(const struct node_spec *s, int rootfd, bool create, nlab_error **err);
/* pivot_root into rootfd, the old root detached; cwd /. */
int nodefs_pivot(int rootfd, nlab_error **err);

/* Write into the new directory DST a copy of /etc/alternatives whose
 * iptables links point at the legacy tools, for the nodes to bind-mount.
 * *made is false (and nothing written) when no link needs changing. */
int nodefs_prepare_alternatives(const char *dst, bool *made, nlab_error **err);

/* Open PATH (absolute, as seen from inside the root) below rootfd with
 * O_PATH, every symlink and ".." kept inside rootfd. */
int nodefs_open_in_root(int rootfd, const char *path, nlab_error **err);

#endif
