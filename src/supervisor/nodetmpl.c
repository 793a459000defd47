/* The lab's node template: a mount namespace whose root is a small
 * read-only tmpfs, made once per lab, that default nodes' mount
 * namespaces are copies of (docs/scale.md, docs/isolation.md).
 *
 * A node's root must replace the root of its mount namespace.  Made as a
 * copy of the lab's namespace, whose root is the host's tree, that takes
 * pivot_root(2), and pivot_root walks every thread on the machine to move
 * those whose root was the old one (chroot_fs_refs): O(N) per node, a
 * tenth of the CPU of bringing up 10,000 nodes.  A copy of this template
 * has nothing of the host's under its root, so the node's init moves its
 * root over / and enters it (MS_MOVE and chroot, what switch_root does)
 * with no walk at all.  What stays under the node's root is what is here:
 *
 *   /proc     a procfs of a PID namespace that is empty (its only process
 *             made it and exited), and
 *   /sys      the lab's placeholder sysfs (a network namespace that is
 *             gone): the kernel mounts a node's own proc and sysfs only
 *             where one of each is fully visible already;
 *   /dev      the lab's /dev, which each node clones;
 *   /mnt0     where an init mounts its layer (a tmpfs), holding the
 *             trees its overlay is made of beside its upper and work
 *             directories (one umount drops them all:
 *             node/nodefs_root.c, stage_trees()),
 *   /root     and the overlay, before it goes over /;
 *
 * nothing a node's root could use: the copy in a node's namespace is
 * locked (it comes from a more privileged user namespace), and every
 * mount the init attached there is detached before it enters its root.
 * The kernel counts a root moved over the namespace's root as no chroot
 * (current_chrooted() looks through mounts on the root), so node root can
 * still make user namespaces, and setns(2) into the node lands on the
 * node's root (it follows mounts on the namespace's root). */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/sup.h"
#include "util/cleanup.h"

#define TMPL_STACK (64 << 10)

/* What the child does, in the supervisor's memory (CLONE_VM): system calls
 * only, the failing step and errno back in `what` and `err`. */
struct tmpl_job {
	const char *dir;       /* LAB/template: where the tmpfs is made */
	const char *sys, *dev; /* LAB/sys, LAB/dev */
	int fd; /* the namespace, for the supervisor */
	const char *what;
	int err;
};

static int fail(struct tmpl_job *j, const char *what)
{
	j->what = what;
	j->err = errno;
	return 1;
}

static int attach(int fd, int dir, const char *name)
{
	int r = (int)syscall(SYS_move_mount, fd, "", dir, name, MOVE_MOUNT_F_EMPTY_PATH);
	int e = errno;

	close(fd);
	errno = e;
	return r;
}

/* PID 1 of a new PID namespace, in a copy of the lab's mount namespace. */
static int tmpl_child(void *p)
{
	struct tmpl_job *j = p;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return fail(j, "make / private");
	if (mount("netlab-node", j->dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755,size=64k") < 0)
		return fail(j, "mount a tmpfs");
	int r = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r < 0)
		return fail(j, "open the tmpfs");
	if (mkdirat(r, "proc", 0555) < 0 || mkdirat(r, "sys", 0555) < 0 || mkdirat(r, "dev", 0755) < 0 ||
	    mkdirat(r, "root", 0755) < 0 || mkdirat(r, "mnt0", 0755) < 0)
		return fail(j, "mkdir");
	/* Of this PID namespace: empty once this process is gone. */
	int fs = (int)syscall(SYS_fsopen, "proc", FSOPEN_CLOEXEC);
	if (fs < 0 || syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return fail(j, "make a procfs");
	int m = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
			     MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	close(fs);
	if (m < 0 || attach(m, r, "proc") < 0)
		return fail(j, "mount the procfs");
	m = (int)syscall(SYS_open_tree, AT_FDCWD, j->sys, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (m < 0 || attach(m, r, "sys") < 0)
		return fail(j, "bind the placeholder sysfs");
	m = (int)syscall(SYS_open_tree, AT_FDCWD, j->dev, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (m < 0 || attach(m, r, "dev") < 0)
		return fail(j, "bind the lab's /dev");
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
	if (mount_setattr(r, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0)
		return fail(j, "make the tmpfs read-only");
	/* Once, with a handful of threads on the machine. */
	if (fchdir(r) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return fail(j, "pivot_root");
	j->fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (j->fd < 0)
		return fail(j, "open the namespace");
	return 0;
}

int nodetmpl_make(struct sup *s, nlab_error **err)
{
	char dir[4200], sys[4200], dev[4200];
	struct tmpl_job j = { .dir = dir, .sys = sys, .dev = dev, .fd = -1 };

	s->tmpl_mntns = -1;
	/* Rootless nodes build their roots another way (node/nodefs_rootless.c). */
	if (s->o->rootless)
		return 0;
	snprintf(dir, sizeof(dir), "%s/template", s->dir);
	snprintf(sys, sizeof(sys), "%s/sys", s->dir);
	snprintf(dev, sizeof(dev), "%s/dev", s->dir);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return nlab_error_set(err, errno, "mkdir %s", dir);
	char *stack = mmap(NULL, TMPL_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return nlab_error_set(err, errno, "map a stack");
	/* Its fd table is ours (CLONE_FILES): the namespace's fd stays. */
	pid_t pid = clone(tmpl_child, stack + TMPL_STACK, CLONE_VM | CLONE_FILES | CLONE_NEWPID | CLONE_NEWNS | SIGCHLD,
			  &j);
	int e = errno, status = 0;
	if (pid > 0 && TEMP_FAILURE_RETRY(waitpid(pid, &status, 0)) < 0)
		e = errno;
	munmap(stack, TMPL_STACK);
	if (pid < 0)
		return nlab_error_set(err, e, "clone (the node template's mount and PID namespaces)");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || j.fd < 0) {
		if (j.fd >= 0)
			close(j.fd);
		return nlab_error_set(err, j.what ? j.err : 0, "node template: %s",
				      j.what ? j.what : "the process died");
	}
	s->tmpl_mntns = j.fd;
	return 0;
}

bool nodetmpl_fits(const struct sup *s, const struct topo_node *tn, size_t index)
{
	const struct plan_node_ops *no = &s->plan.nodes[index];

	/* A rootfs node's root is a host directory; a `mount` statement's
	 * source and a time namespace's offsets (/proc/self/timens_offsets,
	 * node/spawn.c) are host paths, which a copy of the template does not
	 * have; without a user namespace of its own the copy would not be
	 * locked. */
	if (s->tmpl_mntns < 0 || tn->rootfs || !topo_node_userns(s->t, tn) || tn->has_monotonic || tn->has_boottime)
		return false;
	for (size_t i = no->mounts; i < no->mounts + no->nmounts; i++) {
		const struct plan_op *op = &s->plan.ops[i];
		if (op->kind == OP_MOUNT && !op->mount->tmpfs)
			return false;
	}
	return true;
}
