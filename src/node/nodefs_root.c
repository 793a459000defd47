/* A default node's root (run by the node's init, inside its mount
 * namespace): an overlay whose lower layers are the `files` directories,
 * the lab's mask and the host's /, all idmapped through the node's user
 * namespace by the supervisor (supervisor/labfs.c), and whose upper layer
 * is a tmpfs of the node's own, entered with pivot_root:
 *
 *   - node root writes /etc, /var, /root, /usr...: it lands in its layer,
 *     the host's files never change, and the layer goes with the node's
 *     mount namespace (also after a crash: nothing is on disk);
 *   - host files look owned by their owners (frr:frr stays frr:frr), so
 *     daemons read, chown and chmod their configuration as usual;
 *   - /tmp, /run, /proc, /sys, /dev, /root, /home, /var/tmp, /var/log are
 *     the node's own, over empty directories of its own: unmounting one
 *     reveals nothing of the host, and the host's tree is detached;
 *   - the host's secrets (shadow, SSH host keys...) are whited out.
 *
 * Kernel rules this follows (docs/isolation.md): an overlay layer must be
 * a mount of a namespace its mounter is privileged over, so the detached
 * trees are attached here first; a detached mount dissolves with its last
 * fd, so the layer's fd stays open until the overlay exists; proc and
 * sysfs can only be mounted while the host's are fully visible, so
 * before the old root goes. */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "node/nodefs.h"
#include "proto/proto.h"
#include "util/cleanup.h"
#include "util/fsutil.h"

#define FDP(buf, fd) (snprintf((buf), sizeof(buf), "/proc/self/fd/%d", (fd)), (buf))

/* Where the init finds the lab's pieces (NAME: mntN, sys, dev) before it
 * enters its root: in the template its namespace is a copy of
 * (supervisor/nodetmpl.c), or in the lab's state directory. */
static const char *stage_path(const struct node_spec *s, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", s->tmpl ? "" : s->lab_dir, name);
	return buf;
}


int nodefs_fs_mount(const char *type, const char *const *kv, unsigned attrs, nlab_error **err)
{
	cleanup_close int fs = (int)syscall(SYS_fsopen, type, FSOPEN_CLOEXEC);

	if (fs < 0)
		return nlab_error_set(err, errno, "fsopen %s", type);
	for (; kv && kv[0]; kv += 2)
		if (syscall(SYS_fsconfig, fs, kv[1] ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, kv[0], kv[1], 0) < 0)
			return nlab_error_set(err, errno, "%s option %s%s%s", type, kv[0], kv[1] ? "=" : "",
					      kv[1] ? kv[1] : "");
	if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return nlab_error_set(err, errno, "make the %s", type);
	int m = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attrs);
	if (m < 0)
		return nlab_error_set(err, errno, "fsmount %s", type);
	return m;
}

int nodefs_proc_mount(nlab_error **err)
{
	/* Of the PID namespace the init is PID 1 of, for the netns it is in
	 * (its net sysctls); mountable here, where the host's procfs is
	 * still fully visible. */
	int fd = nodefs_fs_mount("proc", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, err);
	return fd < 0 ? nlab_error_wrap(err, "the node's /proc") : fd;
}

/* Attach the detached mount fd on `path` (relative to dirfd); fd is
 * consumed. */
int nodefs_attach(int fd, int dirfd, const char *path, nlab_error **err)
{
	int r = (int)syscall(SYS_move_mount, fd, "", dirfd, path,
			     MOVE_MOUNT_F_EMPTY_PATH | (path[0] ? 0 : MOVE_MOUNT_T_EMPTY_PATH));
	int e = errno;

	close(fd);
	return r < 0 ? nlab_error_set(err, e, "attach on %s", path) : 0;
}

/* The trees the supervisor sent: the first message on the control
 * socket (PROTO_TREES). */
int nodefs_receive_trees(int ctl, struct proto_msg *m, int *token, nlab_error **err)
{
	int r = proto_recv(ctl, m, err);

	if (r <= 0)
		return r < 0 ? -1 : nlab_error_set(err, 0, "the supervisor went away");
	if (m->type != PROTO_TREES || m->nfds != m->a[0] + 1) {
		proto_close_fds(m);
		return nlab_error_set(err, EPROTO, "expected the node's trees, got %s", proto_type_name(m->type));
	}
	*token = m->fds[--m->nfds];
	return 0;
}

/* The overlay (detached) over the attached trees: top to bottom the
 * `files` directories (the last on top), the mask, the host's /. */
static int make_overlay(const struct proto_msg *m, int layer, nlab_error **err)
{
	char b1[64], b2[64], lowers[PROTO_FDS_MAX][64];
	const char *kv[2 * (PROTO_FDS_MAX + 3) + 2];
	int k = 0;

	if (mkdirat(layer, "u", 0755) < 0 || mkdirat(layer, "w", 0700) < 0)
		return nlab_error_set(err, errno, "the layer's directories");
	cleanup_close int up = openat(layer, "u", O_PATH | O_DIRECTORY | O_CLOEXEC);
	cleanup_close int work = openat(layer, "w", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (up < 0 || work < 0)
		return nlab_error_set(err, errno, "open the layer's directories");
	for (int i = m->nfds - 1; i >= 2; i--) {
		kv[k++] = "lowerdir+";
		kv[k++] = FDP(lowers[i], m->fds[i]);
	}
	kv[k++] = "lowerdir+";
	kv[k++] = FDP(lowers[1], m->fds[1]);
	kv[k++] = "lowerdir+";
	kv[k++] = FDP(lowers[0], m->fds[0]);
	kv[k++] = "upperdir";
	kv[k++] = FDP(b1, up);
	kv[k++] = "workdir";
	kv[k++] = FDP(b2, work);
	/* trusted.* xattrs need CAP_SYS_ADMIN in the initial namespace. */
	kv[k++] = "userxattr";
	kv[k++] = NULL;
	kv[k++] = NULL;
	return nodefs_fs_mount("overlay", kv, 0, err);
}

/* Attach the trees on directories of the state directory (in this
 * namespace only: they leave with the old root); m->fds become O_PATH
 * fds of the attached trees. */
int nodefs_attach_trees(const struct node_spec *s, struct proto_msg *m, nlab_error **err)
{
	char stage[4200], name[16];

	for (int i = 0; i < m->nfds; i++) {
		snprintf(name, sizeof(name), "mnt%d", i);
		stage_path(s, name, stage, sizeof(stage));
		int fd = m->fds[i];
		m->fds[i] = -1;
		if (nodefs_attach(fd, AT_FDCWD, stage, err) < 0)
			return -1;
		m->fds[i] = open(stage, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (m->fds[i] < 0)
			return nlab_error_set(err, errno, "open %s", stage);
	}
	return 0;
}

int nodefs_attach_at(int rootfd, const char *dst, int fd, nlab_error **err)
{
	int dir = nodefs_open_in_root(rootfd, dst, err);

	if (dir < 0) {
		close(fd);
		return nlab_error_wrap(err, "mount target");
	}
	int r = nodefs_attach(fd, dir, "", err);
	close(dir);
	return r;
}

/* The detached mount *slot attached on st/name; *slot becomes an O_PATH
 * fd of it (-1 once consumed). */
static int stage_one(int st, const char *name, int *slot, nlab_error **err)
{
	int fd = *slot;

	*slot = -1;
	if (mkdirat(st, name, 0755) < 0) {
		close(fd);
		return nlab_error_set(err, errno, "mkdir /mnt0/%s", name);
	}
	if (nodefs_attach(fd, st, name, err) < 0)
		return -1;
	*slot = openat(st, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return *slot < 0 ? nlab_error_set(err, errno, "open /mnt0/%s", name) : 0;
}

/* In the template, the node's layer (a tmpfs) goes on /mnt0 and holds the
 * trees (at /mnt0/tK) beside its upper and work directories, so that
 * entering the root detaches them all with one umount (enter_root()).
 * Each umount that detaches something, and each last close of a detached
 * tree, makes the kernel wait for an expedited RCU grace period
 * (namespace_unlock()); with thousands of nodes in the making those
 * waits, one tree at a time, were most of what an init waited for.  The
 * layer is that staging file system too: one tmpfs less per node.
 *
 * *layer (a detached tmpfs) goes on /mnt0 and becomes an O_PATH fd of it. */
static int stage_trees(struct proto_msg *m, int *layer, nlab_error **err)
{
	char name[16];
	int fd = *layer;

	*layer = -1;
	if (nodefs_attach(fd, AT_FDCWD, "/mnt0", err) < 0)
		return nlab_error_wrap(err, "the node's layer");
	*layer = open("/mnt0", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*layer < 0)
		return nlab_error_set(err, errno, "open /mnt0");
	for (int i = 0; i < m->nfds; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		if (stage_one(*layer, name, &m->fds[i], err) < 0)
			return -1;
	}
	return 0;
}

static int overlay_root(const struct node_spec *s, int proc, struct proto_msg *m, nlab_error **err)
{
	char stage[4200];

	/* The template's /proc is of no process: the node's own over it
	 * (for /proc/self/fd) until the root is entered. */
	if (s->tmpl) {
		int pc = (int)syscall(SYS_open_tree, proc, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
		if (pc < 0 || nodefs_attach(pc, AT_FDCWD, "/proc", err) < 0) {
			if (pc < 0)
				nlab_error_set(err, errno, "clone the node's /proc");
			close(proc);
			return -1;
		}
	}
	/* The node's layer: its /tmp, /run and every file it writes,
	 * bounded (nodefs_tmpfs_size()) and charged to the node's memory. */
	char size[32];
	nodefs_tmpfs_size(s->node, 1, size, sizeof(size));
	const char *tkv[] = { "size", size, "mode", "0755", NULL, NULL };
	cleanup_close int layer = nodefs_fs_mount("tmpfs", tkv, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, err);
	if (layer < 0 || (s->tmpl ? stage_trees(m, &layer, err) : nodefs_attach_trees(s, m, err)) < 0) {
		close(proc);
		return -1;
	}
	/* Outside the template the layer stays detached, open until the
	 * overlay exists: a detached mount dissolves with its last fd. */
	int ovl = make_overlay(m, layer, err);
	/* In the template, beside the trees, which go before the root is
	 * entered (enter_root()). */
	stage_path(s, s->tmpl ? "root" : "mnt0", stage, sizeof(stage));
	if (ovl < 0 || nodefs_attach(ovl, AT_FDCWD, stage, err) < 0) {
		close(proc);
		return -1;
	}
	cleanup_close int root = open(stage, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		close(proc);
		return nlab_error_set(err, errno, "open the node's root");
	}
	return nodefs_finish_root(s, root, proc, err);
}

int nodefs_overlay_root(const struct node_spec *s, int proc, struct proto_msg *trees, nlab_error **err)
{
	if (trees->nfds < 2) {
		proto_close_fds(trees);
		close(proc);
		return nlab_error_set(err, EPROTO, "node's root: %d trees", trees->nfds);
	}
	int r = s->rootless ? nodefs_rootless_root(s, proc, trees, err) : overlay_root(s, proc, trees, err);
	proto_close_fds(trees);
	return r;
}

/* Whether the node's own sysfs, devpts and mqueue are mounted at up, or
 * by the first process that enters it (nodefs_mount_lazy()): the node
 * starts processes of its own. */
static bool mounts_at_up(const struct node_spec *s)
{
	return s->plan->nodes[s->index].ncmds > 0;
}

/* The node's /sys.  A sysfs of its own costs a walk over every sysfs on
 * the machine (the kernel looks for one of the same network namespace to
 * reuse: kernfs_test_super), O(N) per node, and only a process of the
 * node ever reads it.  So a node that starts no process of its own gets
 * the lab's placeholder (a sysfs of an empty network namespace, marked
 * read-only and nosymfollow), and the first process that enters the node
 * mounts its real one over it (nodefs_mount_lazy()).  The placeholder
 * is also what lets that mount happen there at all: the kernel mounts a
 * sysfs in a user namespace only where one is already fully visible. */
static int sys_mount(const struct node_spec *s, int root, nlab_error **err)
{
	char path[4200];

	if (mounts_at_up(s))
		return nodefs_mount_at(root, "/sys", "sysfs", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err);
	int fd = (int)syscall(SYS_open_tree, AT_FDCWD, stage_path(s, "sys", path, sizeof(path)),
			      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (fd < 0)
		return nlab_error_set(err, errno, "clone the lab's placeholder /sys");
	struct mount_attr attr = { .attr_set = NODEFS_SYS_PLACEHOLDER_ATTRS };
	if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
		int e = errno;
		close(fd);
		return nlab_error_set(err, e, "mark the placeholder /sys");
	}
	return nodefs_attach_at(root, "/sys", fd, err);
}

/* Into the root, in a copy of the template (supervisor/nodetmpl.c says
 * why not pivot_root): the layer on /mnt0 with the trees in it goes
 * first (the overlay holds its layers), and the node's /proc laid over the
 * template's (overlay_root()), so that nothing but the template's locked
 * pieces stays under the root, which is then moved over / and entered. */
static int enter_root(int root, nlab_error **err)
{
	/* Two umounts, two grace periods: the node's /proc, then the
	 * layer with every tree in it (stage_trees()). */
	if (umount2("/proc", MNT_DETACH) < 0)
		return nlab_error_set(err, errno, "detach /proc");
	if (umount2("/mnt0", MNT_DETACH) < 0)
		return nlab_error_set(err, errno, "detach /mnt0");
	if (fchdir(root) < 0)
		return nlab_error_set(err, errno, "chdir into the node's root");
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		return nlab_error_set(err, errno, "move the node's root over /");
	if (chroot(".") < 0)
		return nlab_error_set(err, errno, "chroot into the node's root");
	if (chdir("/") < 0)
		return nlab_error_set(err, errno, "chdir /");
	return 0;
}

/* What a default node's root gets besides its layers (proc, sysfs,
 * /dev, `mount` and `tmpfs` statements), then into it.  /run/shm and
 * the lab's /etc/hosts come with the mask. */
int nodefs_finish_root(const struct node_spec *s, int root, int proc, nlab_error **err)
{
	char path[4200];

	if (nodefs_attach_at(root, "/proc", proc, err) < 0 || sys_mount(s, root, err) < 0)
		return -1;
	/* The lab's /dev (device nodes made by host root) and the node's own
	 * ptys and message queues. */
	stage_path(s, "dev", path, sizeof(path));
	/* Recursive: rootless, the devices are the host's, bound on it. */
	int dev = (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (dev < 0)
		return nlab_error_set(err, errno, "clone the lab's /dev");
	cleanup_close int devdir = nodefs_open_in_root(root, "/dev", err);
	if (devdir < 0) {
		close(dev);
		return -1;
	}
	if (nodefs_attach(dev, devdir, "", err) < 0)
		return -1;
	/* Its ptys and message queues: a node that starts no process of its
	 * own gets them when the first process enters it (nodefs_mount_lazy()):
	 * each is a superblock of its own, and an mqueue's mount searches
	 * every mqueue superblock on the machine for its IPC namespace's
	 * (get_tree_keyed), O(N) per node. */
	if (mounts_at_up(s) &&
	    (nodefs_mount_at(root, "/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC, NODEFS_DEVPTS_OPTS, err) < 0 ||
	     nodefs_mount_at(root, "/dev/mqueue", "mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err) < 0))
		return -1;
	if (nodefs_user_mounts(s, root, true, err) < 0)
		return -1;
	return s->tmpl ? enter_root(root, err) : nodefs_pivot(root, err);
}

/* ---- /lab ------------------------------------------------------------- */

/* One line of a map: "inside outside count\n". */
static int write_map(pid_t pid, const char *file, const char *map, nlab_error **err)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return nlab_error_set(err, errno, "open %s", path);
	int r = write_all(fd, map, strlen(map));
	int e = errno;
	close(fd);
	return r < 0 ? nlab_error_set(err, e, "write %s", path) : 0;
}

/* "OWNER 0 1" and the slot's IDs 1..65535 as themselves (when the owner
 * is not one of them): written by node root for a child of its user
 * namespace, in that namespace's terms. */
static void lab_map(uint32_t owner, uint32_t base, char *buf, size_t len)
{
	if (owner > base && owner - base < 65536)
		snprintf(buf, len, "%u 0 1\n", owner);
	else
		snprintf(buf, len, "%u 0 1\n%u 1 65535\n", owner, base + 1);
}

/* The child that holds the /lab user namespace open while its maps are
 * written: it shares the init's memory (CLONE_VM), so making it copies
 * no page tables, and it only waits for the pipe to close (its own copy
 * of the fd table still has the write end: it closes that first). */
static int lab_child(void *arg)
{
	const int *go = arg;
	char c;

	close(go[1]);
	return read(go[0], &c, 1) < 0;
}

int nodefs_lab_userns(const struct node_spec *s, nlab_error **err)
{
	/* The child's stack: it makes two system calls. */
	static char stack[16384] __attribute__((aligned(16)));
	char map[96];
	int go[2];

	/* Rootless, node root is the user who owns the directory (and an
	 * idmapped mount of a host file system needs the host's root). */
	if (!topo_node_userns(s->t, s->node) || !s->t->dir || s->node->rootfs || s->rootless)
		return -1;
	if (pipe2(go, O_CLOEXEC) < 0) {
		nlab_error_set(err, errno, "pipe");
		return -2;
	}
	/* Its /proc files belong to node root only if it is dumpable, which
	 * it is with the init (the same memory), for a moment with nothing
	 * else running. */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	pid_t pid = clone(lab_child, stack + sizeof(stack), CLONE_VM | CLONE_NEWUSER | SIGCHLD, go);
	if (pid < 0) {
		int e = errno;
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		close(go[0]);
		close(go[1]);
		nlab_error_set(err, e, "clone a user namespace for /lab");
		return -2;
	}
	close(go[0]);
	char path[64];
	int fd = -1, r;
	lab_map(s->lab_uid, s->uid_base, map, sizeof(map));
	r = write_map(pid, "uid_map", map, err);
	if (r == 0) {
		lab_map(s->lab_gid, s->gid_base, map, sizeof(map));
		r = write_map(pid, "gid_map", map, err);
	}
	if (r == 0) {
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			r = nlab_error_set(err, errno, "open %s", path);
	}
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	close(go[1]);
	TEMP_FAILURE_RETRY(waitpid(pid, NULL, 0));
	return r < 0 ? -2 : fd;
}

int nodefs_attach_lab(struct proto_msg *m, nlab_error **err)
{
	if (m->nfds < 1)
		return 0; /* no topology directory (a file on stdin) */
	int fd = m->fds[0];
	m->fds[0] = -1;
	if (nodefs_attach(fd, AT_FDCWD, "/lab", err) < 0)
		return -1;
	if (chdir("/lab") < 0)
		return nlab_error_set(err, errno, "chdir /lab");
	return 0;
}
