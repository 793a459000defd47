/* A default node's root in a rootless lab (nodefs.h, docs/rootless.md),
 * built by the node's init from the trees the supervisor sent (the
 * host's /, recursively: its submounts are locked; the mask; the `files`
 * copies) and the list of the host's top-level entries. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "node/nodefs.h"
#include "proto/proto.h"
#include "util/cleanup.h"

#define FDP(buf, fd) (snprintf((buf), sizeof(buf), "/proc/self/fd/%d", (fd)), (buf))

static bool has_dir(int dirfd, const char *name)
{
	struct stat st;
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* An overlay of NAME: lowers the `files` copies (the last on top), the
 * mask's, the host's (each when it has one); upper and work in the
 * node's layer; attached at root/NAME. */
static int overlay_one(const struct proto_msg *m, const struct nodefs_top *t, int layer, int root, nlab_error **err)
{
	char up[300], wk[300], b1[64], b2[64], lb[PROTO_FDS_MAX][64];
	const char *kv[2 * (PROTO_FDS_MAX + 3) + 2];
	int fds[PROTO_FDS_MAX], nfds = 0, k = 0, r = -1;

	snprintf(up, sizeof(up), "u/%s", t->name);
	snprintf(wk, sizeof(wk), "w/%s", t->name);
	if (mkdirat(layer, up, 0755) < 0 || mkdirat(layer, wk, 0700) < 0 || mkdirat(root, t->name, 0755) < 0)
		return nlab_error_set(err, errno, "directories for /%s", t->name);
	cleanup_close int u = openat(layer, up, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cleanup_close int w = openat(layer, wk, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (u < 0 || w < 0)
		return nlab_error_set(err, errno, "open the layer of /%s", t->name);
	for (int i = m->nfds - 1; i >= 2; i--)
		if (has_dir(m->fds[i], t->name))
			fds[nfds++] = openat(m->fds[i], t->name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (t->in_mask)
		fds[nfds++] = openat(m->fds[1], t->name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (t->kind == NODEFS_TOP_OVERLAY)
		fds[nfds++] = openat(m->fds[0], t->name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (int i = 0; i < nfds; i++) {
		if (fds[i] < 0) {
			nlab_error_set(err, errno, "open a layer of /%s", t->name);
			goto out;
		}
		kv[k++] = "lowerdir+";
		kv[k++] = FDP(lb[i], fds[i]);
	}
	/* The overlay's root directory is its upper one: the mode of the
	 * top lower (/tmp stays 1777). */
	struct stat st;
	char ud[300];
	snprintf(ud, sizeof(ud), "u/%s", t->name);
	if (nfds && fstat(fds[0], &st) == 0 && fchmodat(layer, ud, st.st_mode & 07777, 0) < 0) {
		nlab_error_set(err, errno, "chmod the layer of /%s", t->name);
		goto out;
	}
	kv[k++] = "upperdir";
	kv[k++] = FDP(b1, u);
	kv[k++] = "workdir";
	kv[k++] = FDP(b2, w);
	kv[k++] = "userxattr";
	kv[k++] = NULL;
	kv[k++] = NULL;
	int ovl = nodefs_fs_mount("overlay", kv, 0, err);
	if (ovl < 0 || nodefs_attach(ovl, root, t->name, err) < 0) {
		nlab_error_wrap(err, "/%s", t->name);
		goto out;
	}
	r = 0;
out:
	for (int i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return r;
}

/* The mask's small trees under its empty directories (run/shm, the link
 * at the topology's host path under tmp), copied into the root: a
 * directory of the root's own is cheaper than an overlay of one. */
static int copy_small(int from, int to, int depth, nlab_error **err)
{
	DIR *d = depth < 8 ? fdopendir(dup(from)) : NULL;
	int r = 0;

	for (struct dirent *e; r == 0 && d && (e = readdir(d));) {
		struct stat st;
		char link[4096];
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    fstatat(from, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlinkat(from, e->d_name, link, sizeof(link) - 1);
			if (n < 0)
				continue;
			link[n] = '\0';
			if (symlinkat(link, to, e->d_name) < 0)
				r = nlab_error_set(err, errno, "symlink %s", e->d_name);
		} else if (S_ISDIR(st.st_mode)) {
			if (mkdirat(to, e->d_name, st.st_mode & 07777) < 0 ||
			    fchmodat(to, e->d_name, st.st_mode & 07777, 0) < 0) {
				r = nlab_error_set(err, errno, "mkdir %s", e->d_name);
				break;
			}
			int a = openat(from, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			int b = openat(to, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (a >= 0 && b >= 0)
				r = copy_small(a, b, depth + 1, err);
			if (a >= 0)
				close(a);
			if (b >= 0)
				close(b);
		}
	}
	if (d)
		closedir(d);
	return r;
}

/* An empty directory of the mask (tmp, run, root...): the node's own,
 * in its root; an overlay only when `files` put something there. */
static int mask_dir(const struct proto_msg *m, const struct nodefs_top *t, int layer, int root, nlab_error **err)
{
	struct stat st;

	for (int i = 2; i < m->nfds; i++)
		if (has_dir(m->fds[i], t->name))
			return overlay_one(m, t, layer, root, err);
	cleanup_close int from = openat(m->fds[1], t->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (from < 0 || fstat(from, &st) < 0)
		return nlab_error_set(err, errno, "the mask's /%s", t->name);
	if (mkdirat(root, t->name, st.st_mode & 07777) < 0 || fchmodat(root, t->name, st.st_mode & 07777, 0) < 0)
		return nlab_error_set(err, errno, "mkdir /%s", t->name);
	cleanup_close int to = openat(root, t->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (to < 0)
		return nlab_error_set(err, errno, "open /%s", t->name);
	return copy_small(from, to, 0, err);
}

/* A detached recursive clone of dirfd/path, read-only throughout. */
static int clone_ro(int dirfd, const char *path, bool rec, nlab_error **err)
{
	int fd = (int)syscall(SYS_open_tree, dirfd, path,
			      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (rec ? AT_RECURSIVE : 0));
	if (fd < 0)
		return nlab_error_set(err, errno, "clone %s", path);
	struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY, .propagation = MS_PRIVATE };
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0), &a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		return nlab_error_set(err, e, "make %s read-only", path);
	}
	return fd;
}

/* Mounts inside the host's NAME: its tree bound read-only; the mask's
 * own files in it (the lab's /etc/hosts, resolv.conf, the legacy
 * iptables links) bound over theirs. */
static int bind_one(const struct proto_msg *m, const struct nodefs_top *t, int root, nlab_error **err)
{
	static const char *mask_files[] = { "hosts", "resolv.conf", "alternatives" };

	if (mkdirat(root, t->name, 0755) < 0)
		return nlab_error_set(err, errno, "mkdir /%s", t->name);
	int fd = clone_ro(m->fds[0], t->name, true, err);
	if (fd < 0 || nodefs_attach(fd, root, t->name, err) < 0)
		return nlab_error_wrap(err, "/%s", t->name);
	if (strcmp(t->name, "etc") != 0 || !t->in_mask)
		return 0;
	for (size_t i = 0; i < sizeof(mask_files) / sizeof(mask_files[0]); i++) {
		char rel[64];
		struct stat st;
		snprintf(rel, sizeof(rel), "etc/%s", mask_files[i]);
		if (fstatat(m->fds[1], rel, &st, AT_SYMLINK_NOFOLLOW) < 0 || fstatat(root, rel, &st, 0) < 0)
			continue;
		fd = clone_ro(m->fds[1], rel, false, err);
		if (fd < 0 || nodefs_attach(fd, root, rel, err) < 0)
			return nlab_error_wrap(err, "/%s", rel);
	}
	return 0;
}

int nodefs_rootless_root(const struct node_spec *s, int proc, struct proto_msg *m, nlab_error **err)
{
	char stage[4200], size[32];
	int r = -1;

	if (nodefs_attach_trees(s, m, err) < 0) {
		close(proc);
		return -1;
	}
	/* The node's layer: what it writes, bounded as a default node's. */
	nodefs_tmpfs_size(s->node, 1, size, sizeof(size));
	const char *lkv[] = { "size", size, "mode", "0755", NULL, NULL };
	/* The root holds /tmp, /run, /root...: bounded as the layer is. */
	const char *rkv[] = { "size", size, "mode", "0755", NULL, NULL };
	cleanup_close int layer = nodefs_fs_mount("tmpfs", lkv, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, err);
	cleanup_close int root =
		layer < 0 ? -1 : nodefs_fs_mount("tmpfs", rkv, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, err);
	if (root < 0)
		goto out;
	if (mkdirat(layer, "u", 0755) < 0 || mkdirat(layer, "w", 0700) < 0) {
		nlab_error_set(err, errno, "the layer's directories");
		goto out;
	}
	for (size_t i = 0; i < s->ntops; i++) {
		const struct nodefs_top *t = &s->tops[i];
		int k = 0;
		switch (t->kind) {
		case NODEFS_TOP_LINK:
			k = symlinkat(t->link, root, t->name) < 0 ? nlab_error_set(err, errno, "symlink /%s", t->name)
								  : 0;
			break;
		case NODEFS_TOP_BIND:
			k = bind_one(m, t, root, err);
			break;
		case NODEFS_TOP_MASK:
			k = mask_dir(m, t, layer, root, err);
			break;
		case NODEFS_TOP_OVERLAY:
		default:
			k = overlay_one(m, t, layer, root, err);
			break;
		}
		if (k < 0)
			goto out;
	}
	snprintf(stage, sizeof(stage), "%s/mnt0", s->lab_dir);
	int fd = root;
	root = -1;
	if (nodefs_attach(fd, AT_FDCWD, stage, err) < 0)
		goto out;
	int rootfd = open(stage, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		nlab_error_set(err, errno, "open the node's root");
		goto out;
	}
	r = nodefs_finish_root(s, rootfd, proc, err);
	close(rootfd);
	return r;
out:
	close(proc);
	return -1;
}
