#include "node/nodefs.h"
#include "proto/proto.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/strutil.h"

#define FDPATH(buf, fd) (snprintf((buf), sizeof(buf), "/proc/self/fd/%d", (fd)), (buf))

#define TMPFS_SIZE_MAX (512ULL << 20)

void nodefs_tmpfs_size(const struct topo_node *n, unsigned share, char *buf, size_t len)
{
	unsigned long long size = TMPFS_SIZE_MAX;

	if (n->memory_bytes && n->memory_bytes / 2 / share < size)
		size = n->memory_bytes / 2 / share;
	snprintf(buf, len, "%llu", size);
}

int nodefs_open_in_root(int rootfd, const char *path, nlab_error **err)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		/* Magic links (/proc/self/root...) would step out too. */
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	const char *rel = path;

	while (*rel == '/')
		rel++;
	int fd = (int)syscall(SYS_openat2, rootfd, *rel ? rel : ".", &how, sizeof(how));
	if (fd < 0)
		return nlab_error_set(err, errno, "%s (resolved inside the node's root)", path);
	return fd;
}

/* mount(2) onto what fd refers to: the /proc/self/fd magic link names the
 * resolved object itself, not a path that could be swapped underneath. */
int nodefs_mount_at(int rootfd, const char *dst, const char *src, const char *type, unsigned long flags,
		    const char *data, nlab_error **err)
{
	char b[64];
	cleanup_close int fd = nodefs_open_in_root(rootfd, dst, err);

	if (fd < 0)
		return nlab_error_wrap(err, "mount target");
	if (mount(src, FDPATH(b, fd), type, flags, data) < 0)
		return nlab_error_set(err, errno, "mount %s on %s", type ? type : src, dst);
	return 0;
}

/* A minimal /dev: a fresh tmpfs with the harmless character devices bound
 * from the host (mknod is not allowed in a user namespace), a private
 * devpts, shm and mqueue. */
static int setup_dev(int rootfd, const char *opts, nlab_error **err)
{
	static const char *const devs[] = { "null", "zero", "full", "random", "urandom", "tty" };
	char b[64];

	if (nodefs_mount_at(rootfd, "/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755", err) < 0)
		return -1;
	cleanup_close int dev = nodefs_open_in_root(rootfd, "/dev", err);
	if (dev < 0)
		return -1;
	cleanup_close int devdir = open(FDPATH(b, dev), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (devdir < 0)
		return nlab_error_set(err, errno, "open the node's /dev");
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		char host[32], dst[32];
		snprintf(host, sizeof(host), "/dev/%s", devs[i]);
		snprintf(dst, sizeof(dst), "/dev/%s", devs[i]);
		int f = openat(devdir, devs[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (f < 0)
			return nlab_error_set(err, errno, "create %s", dst);
		close(f);
		if (nodefs_mount_at(rootfd, dst, host, NULL, MS_BIND, NULL, err) < 0)
			return -1;
	}
	if (mkdirat(devdir, "pts", 0755) < 0 || mkdirat(devdir, "shm", 01777) < 0 || mkdirat(devdir, "mqueue", 0755) < 0)
		return nlab_error_set(err, errno, "mkdir in the node's /dev");
	if (nodefs_mount_at(rootfd, "/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC, NODEFS_DEVPTS_OPTS,
		     err) < 0 ||
	    nodefs_mount_at(rootfd, "/dev/shm", "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV, opts, err) < 0 ||
	    nodefs_mount_at(rootfd, "/dev/mqueue", "mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err) < 0)
		return -1;
	if (symlinkat("pts/ptmx", devdir, "ptmx") < 0 || symlinkat("/proc/self/fd", devdir, "fd") < 0 ||
	    symlinkat("/proc/self/fd/0", devdir, "stdin") < 0 || symlinkat("/proc/self/fd/1", devdir, "stdout") < 0 ||
	    symlinkat("/proc/self/fd/2", devdir, "stderr") < 0)
		return nlab_error_set(err, errno, "symlinks in the node's /dev");
	return 0;
}

int nodefs_mkdir_in_root(int rootfd, const char *path, mode_t mode, nlab_error **err)
{
	char part[4096];
	size_t len = strlen(path);

	if (len >= sizeof(part))
		return nlab_error_set(err, ENAMETOOLONG, "%s", path);
	/* Component by component, each resolved inside the root: a symlink
	 * on the way cannot lead the mkdir out of it. */
	for (size_t i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		memcpy(part, path, i);
		part[i] = '\0';
		cleanup_close int fd = nodefs_open_in_root(rootfd, part, NULL);
		if (fd >= 0)
			continue;
		const char *slash = strrchr(part, '/');
		char parent[4096];
		snprintf(parent, sizeof(parent), "%.*s", (int)(slash - part), part);
		cleanup_close int dir = nodefs_open_in_root(rootfd, parent[0] ? parent : "/", err);
		if (dir < 0)
			return -1;
		char b[64];
		cleanup_close int real = open(FDPATH(b, dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (real < 0 || (mkdirat(real, slash + 1, i == len ? mode : 0755) < 0 && errno != EEXIST))
			return nlab_error_set(err, errno, "create %s in the node", part);
		/* mkdir's mode went through the umask. */
		if (i == len && fchmodat(real, slash + 1, mode, 0) < 0)
			return nlab_error_set(err, errno, "chmod %s in the node", part);
	}
	return 0;
}

static int one_mount(int rootfd, const struct topo_mount *m, bool create, nlab_error **err)
{
	char b[64], opts[64];

	/* In the node's own layer a missing target is made (`tmpfs
	 * /run/frr`); a rootfs is the host's directory, left as it is. */
	if (create && nodefs_mkdir_in_root(rootfd, m->dst, 0755, err) < 0)
		return -1;
	if (m->tmpfs) {
		if (m->size)
			snprintf(opts, sizeof(opts), "mode=755,size=%llu", (unsigned long long)m->size);
		else
			snprintf(opts, sizeof(opts), "mode=755");
		return nodefs_mount_at(rootfd, m->dst, "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV, opts, err);
	}
	/* The source is a host path, named by the topology's author
	 * (relative ones resolved against the topology's directory). */
	cleanup_close int src = open(m->src, O_PATH | O_CLOEXEC);
	if (src < 0)
		return nlab_error_set(err, errno, "mount source %s", m->src);
	if (nodefs_mount_at(rootfd, m->dst, FDPATH(b, src), NULL, MS_BIND | MS_REC, NULL, err) < 0)
		return -1;
	if (!m->ro)
		return 0;
	/* mount_setattr changes only the read-only bit: a plain remount
	 * would have to repeat the flags the kernel locked on mounts a user
	 * namespace inherited. */
	cleanup_close int top = nodefs_open_in_root(rootfd, m->dst, err);
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
	if (top < 0)
		return -1;
	if (mount_setattr(top, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		return nlab_error_set(err, errno, "make %s read-only", m->dst);
	return 0;
}

/* `mount` and `tmpfs` statements: the node's OP_MOUNTs, in file order. */
int nodefs_user_mounts(const struct node_spec *s, int rootfd, bool create, nlab_error **err)
{
	const struct plan_node_ops *no = &s->plan->nodes[s->index];

	for (size_t i = no->mounts; i < no->mounts + no->nmounts; i++) {
		const struct plan_op *op = &s->plan->ops[i];
		if (op->kind == OP_MOUNT && one_mount(rootfd, op->mount, create, err) < 0)
			return nlab_error_wrap(err, "%s:%d", s->t->file, op->line);
	}
	return 0;
}

#ifndef ST_NOSYMFOLLOW
#define ST_NOSYMFOLLOW 0x2000 /* statfs(2)'s f_flags, Linux 5.10 */
#endif

#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC 0x19800202 /* ipc/mqueue.c */
#endif

/* The lab's placeholder is still on /sys.  A /sys that node root
 * remounted read-only is its own business. */
static bool sys_placeholder(void)
{
	struct statfs fs;

	return statfs("/sys", &fs) == 0 && fs.f_type == SYSFS_MAGIC &&
	       (fs.f_flags & (ST_RDONLY | ST_NOSYMFOLLOW)) == (ST_RDONLY | ST_NOSYMFOLLOW);
}

/* dir exists and has no file system of that kind on it. */
static bool lacks(const char *dir, long magic)
{
	struct statfs fs;

	return statfs(dir, &fs) == 0 && fs.f_type != magic;
}

int nodefs_mount_lazy(nlab_error **err)
{
	if (!sys_placeholder() && !lacks("/dev/pts", DEVPTS_SUPER_MAGIC) && !lacks("/dev/mqueue", MQUEUE_MAGIC))
		return 0;
	/* Processes entering at once: the first mounts, under a lock on the
	 * node's root; the others then find its mounts.  Without it, the
	 * kernel refuses a second sysfs of the same namespace on the first
	 * (EBUSY), and a pty opened on a lower devpts would lose its
	 * /dev/pts/N.  A process of the node could hold a lock on its root
	 * too: after 3 s without it, on we go (a sysfs refused with EBUSY is
	 * then the one already there). */
	cleanup_close int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (int i = 0; root >= 0 && i < 300 && flock(root, LOCK_EX | LOCK_NB) < 0; i++)
		usleep(10000);
	if (sys_placeholder() && mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 &&
	    errno != EBUSY)
		return nlab_error_set(err, errno, "mount the node's /sys");
	if (lacks("/dev/pts", DEVPTS_SUPER_MAGIC) &&
	    mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, NODEFS_DEVPTS_OPTS) < 0)
		return nlab_error_set(err, errno, "mount the node's /dev/pts");
	if (lacks("/dev/mqueue", MQUEUE_MAGIC) &&
	    mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return nlab_error_set(err, errno, "mount the node's /dev/mqueue");
	return 0;
}

/* netlab writes the node's rules with libiptc, into the legacy x_tables.
 * Where the default `iptables` is the nf_tables variant (Debian 12), a user
 * typing `iptables -L` in the node would see an empty ruleset.  So the
 * supervisor writes, once per lab, a copy of /etc/alternatives with the
 * iptables links pointing at the legacy tools, and every node bind-mounts
 * it over /etc/alternatives in its own mount namespace.  The host's
 * alternatives are never changed. */
static bool nft_to_legacy(const char *name, const char *target, char *out, size_t len)
{
	static const char *const names[] = { "iptables", "iptables-restore", "iptables-save",
					      "ip6tables", "ip6tables-restore", "ip6tables-save" };
	bool ours = false;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ours |= strcmp(name, names[i]) == 0;
	const char *nft = ours ? strstr(target, "-nft") : NULL;
	if (!nft)
		return false;
	if ((size_t)snprintf(out, len, "%.*s-legacy%s", (int)(nft - target), target, nft + 4) >= len)
		return false;
	return access(out, X_OK) == 0;
}

int nodefs_prepare_alternatives(const char *dst, bool *made, nlab_error **err)
{
	DIR *d = opendir("/etc/alternatives");
	bool change = false;
	int r = 0;

	*made = false;
	if (!d)
		return 0;
	/* A first pass only looks: most machines need no copy at all. */
	for (struct dirent *e; !change && (e = readdir(d));) {
		char path[4400], target[4096], legacy[4096];
		snprintf(path, sizeof(path), "/etc/alternatives/%s", e->d_name);
		ssize_t l = e->d_name[0] == '.' ? -1 : readlink(path, target, sizeof(target) - 1);
		if (l < 0)
			continue;
		target[l] = '\0';
		change = nft_to_legacy(e->d_name, target, legacy, sizeof(legacy));
	}
	if (!change) {
		closedir(d);
		return 0;
	}
	if (mkdir(dst, 0755) < 0 && errno != EEXIST) {
		closedir(d);
		return nlab_error_set(err, errno, "mkdir %s", dst);
	}
	rewinddir(d);
	for (struct dirent *e; r == 0 && (e = readdir(d));) {
		char path[4400], target[4096], legacy[4096];
		snprintf(path, sizeof(path), "/etc/alternatives/%s", e->d_name);
		ssize_t l = e->d_name[0] == '.' ? -1 : readlink(path, target, sizeof(target) - 1);
		if (l < 0)
			continue; /* not a link: alternatives holds only links */
		target[l] = '\0';
		const char *to = nft_to_legacy(e->d_name, target, legacy, sizeof(legacy)) ? legacy : target;
		snprintf(path, sizeof(path), "%s/%s", dst, e->d_name);
		if (symlink(to, path) < 0)
			r = nlab_error_set(err, errno, "symlink %s", path);
	}
	closedir(d);
	*made = r == 0;
	return r;
}

static int setup_rootfs(const struct node_spec *s, int proc, nlab_error **err)
{
	const char *dir = s->node->rootfs;
	static const char *const need[] = { "/proc", "/sys", "/dev", "/tmp", "/run" };
	char size[32], tmp_opts[64], run_opts[64], shm_opts[64];

	/* Bounded, not half the machine's memory each (tmpfs's default). */
	nodefs_tmpfs_size(s->node, 3, size, sizeof(size));
	snprintf(tmp_opts, sizeof(tmp_opts), "mode=1777,size=%s", size);
	snprintf(run_opts, sizeof(run_opts), "mode=755,size=%s", size);
	snprintf(shm_opts, sizeof(shm_opts), "mode=1777,size=%s", size);

	/* pivot_root wants the new root to be a mount point. */
	if (mount(dir, dir, NULL, MS_BIND | MS_REC, NULL) < 0) {
		close(proc);
		return nlab_error_set(err, errno, "bind rootfs %s", dir);
	}
	cleanup_close int rootfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		close(proc);
		return nlab_error_set(err, errno, "open rootfs %s", dir);
	}
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		cleanup_close int fd = nodefs_open_in_root(rootfd, need[i], NULL);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
			close(proc);
			return nlab_error_set(err, ENOENT, "rootfs %s has no directory %s (scripts/make-busybox-rootfs.sh creates them)",
					      dir, need[i]);
		}
	}
	if (nodefs_attach_at(rootfd, "/proc", proc, err) < 0 ||
	    nodefs_mount_at(rootfd, "/sys", "sysfs", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err) < 0 ||
	    setup_dev(rootfd, shm_opts, err) < 0 ||
	    nodefs_mount_at(rootfd, "/tmp", "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV, tmp_opts, err) < 0 ||
	    nodefs_mount_at(rootfd, "/run", "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV, run_opts, err) < 0)
		return -1;
	cleanup_close int hosts = nodefs_open_in_root(rootfd, "/etc/hosts", NULL);
	if (hosts >= 0 && s->hosts_path && nodefs_mount_at(rootfd, "/etc/hosts", s->hosts_path, NULL, MS_BIND, NULL, err) < 0)
		return -1;
	if (nodefs_user_mounts(s, rootfd, false, err) < 0)
		return -1;
	return nodefs_pivot(rootfd, err);
}

int nodefs_pivot(int rootfd, nlab_error **err)
{
	/* crun's do_pivot: with "." as both new and old root the old root
	 * ends up stacked under the new one, detached right after, so no
	 * path leads back to the host's tree. */
	if (fchdir(rootfd) < 0)
		return nlab_error_set(err, errno, "chdir into the node's root");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return nlab_error_set(err, errno, "pivot_root");
	/* The old root is private already (nodefs_setup() made the whole
	 * tree so before anything else): its detaching reaches no other
	 * namespace. */
	if (umount2(".", MNT_DETACH) < 0)
		return nlab_error_set(err, errno, "detach the old root");
	if (chdir("/") < 0)
		return nlab_error_set(err, errno, "chdir /");
	return 0;
}

/* The xtables lock netlab takes while it writes the node's rules, where the
 * node's own iptables looks for it.  Made by the node's root: a file that
 * netlab (host root) created on this tmpfs would belong to a uid the node's
 * user namespace cannot map, which the kernel refuses (EOVERFLOW).  Only
 * in a node netlab writes rules in: making it copies /run up into the
 * node's layer, and the node's own iptables makes it when it needs it. */
static int make_xtables_lock(const struct node_spec *s, nlab_error **err)
{
	if (!s->xtables_lock)
		return 0;
	int fd = open("/run/xtables.lock", O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return nlab_error_set(err, errno, "create /run/xtables.lock");
	close(fd);
	return 0;
}

int nodefs_setup(const struct node_spec *s, int proc, struct proto_msg *trees, nlab_error **err)
{
	/* Before anything is attached: without this a mount below would
	 * propagate back to the host's namespace (a new /proc there would
	 * hide the host's own). */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		proto_close_fds(trees);
		close(proc);
		return nlab_error_set(err, errno, "make / private");
	}
	if (s->node->rootfs) {
		/* Its TREES were empty. */
		proto_close_fds(trees);
		if (setup_rootfs(s, proc, err) < 0)
			return -1;
	} else if (nodefs_overlay_root(s, proc, trees, err) < 0)
		return -1;
	return make_xtables_lock(s, err);
}
