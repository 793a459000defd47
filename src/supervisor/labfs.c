/* The file system pieces the supervisor makes for its nodes (node/nodefs.h
 * says how a node puts them together):
 *
 *   once per lab, in the lab's own mount namespace, under the state
 *   directory (gone with the supervisor's namespace; `down` removes the
 *   empty directories):
 *     mask/  the top layer of every default node's root: empty private
 *            /tmp /run /proc /sys /dev /root /home /var/tmp /var/log
 *            (opaque), /run/shm, whiteouts over the host's secrets, the
 *            legacy iptables links of /etc/alternatives, /lab, and at the
 *            topology directory's host path (when the mask hides it) a
 *            link to /lab
 *     files/ a copy of each `files` directory (an overlay cannot stack a
 *            directory of the host's tree over that tree itself), made
 *            as host root, owners and modes kept
 *     dev/   null, zero, full, random, urandom, tty made by host root
 *            (device nodes of a file system mounted in a user namespace
 *            cannot be opened), read-only; each node gets a clone
 *   per node, right after its user namespace is mapped (from the
 *   spawner, so only system calls): detached clones of the host's / and
 *   of mask/ and of each `files` directory, idmapped through the node's
 *   user namespace (host uid U is node uid U), sent to its init;
 *   per node, once its init is ready: the topology's directory for /lab,
 *   idmapped through a user namespace the init made (its owner <-> node
 *   root), nosuid and nodev. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "proto/proto.h"
#include "supervisor/sup.h"
#include "util/cleanup.h"
#include "util/copytree.h"
#include "util/fsutil.h"

/* What one `files` directory may hold (a copy of each is made per lab,
 * in memory: the lab's files tmpfs, of the same size, bounds them all). */
#define FILES_MAX_BYTES (512ull << 20)

/* Host files no node may read through its idmapped view of the host
 * (node root owns every host file it sees; docs/isolation.md). */
static const char *const secrets[] = {
	"etc/shadow", "etc/shadow-", "etc/gshadow", "etc/gshadow-",
	"etc/ssh/ssh_host_rsa_key", "etc/ssh/ssh_host_ecdsa_key", "etc/ssh/ssh_host_ed25519_key",
	"etc/ssh/ssh_host_dsa_key", "etc/ssl/private", "etc/sudoers", "etc/sudoers.d",
	"etc/NetworkManager/system-connections", "etc/wireguard", "etc/security/opasswd",
	"var/cache/debconf/passwords.dat", "var/lib/sudo", "var/spool/cron", "var/mail",
	"var/lib/postgresql", "var/lib/mysql", "var/lib/netlab",
};

/* Empty directories of the node's own: the host's are never seen. */
static const struct {
	const char *path;
	mode_t mode;
} opaque[] = {
	{ "tmp", 01777 }, { "run", 0755 }, { "proc", 0555 }, { "sys", 0555 }, { "dev", 0755 }, { "root", 0700 },
	{ "home", 0755 }, { "var/tmp", 01777 }, { "var/log", 0755 }, { "mnt", 0755 }, { "media", 0755 },
};

static int mkdirs_like_host(int dirfd, const char *rel, nlab_error **err)
{
	char path[512];
	struct stat st;

	/* Parents take the host's mode (they merge with the host's). */
	for (const char *p = strchr(rel, '/'); p; p = strchr(p + 1, '/')) {
		snprintf(path, sizeof(path), "%.*s", (int)(p - rel), rel);
		char host[520];
		snprintf(host, sizeof(host), "/%s", path);
		mode_t mode = stat(host, &st) == 0 && S_ISDIR(st.st_mode) ? (st.st_mode & 07777) : 0755;
		if (mkdirat(dirfd, path, mode) < 0 && errno != EEXIST)
			return nlab_error_set(err, errno, "mask: mkdir %s", path);
		if (fchmodat(dirfd, path, mode, 0) < 0)
			return nlab_error_set(err, errno, "mask: chmod %s", path);
	}
	return 0;
}

/* Where the topology's directory is on the host, a link to /lab, so that
 * scripts naming it by its host path keep working: needed where the
 * mask hides the host's path (under /tmp, /root, /home...); elsewhere
 * the host's tree shows it as it is. */
static int mask_link_lab(int m, const char *dir, nlab_error **err)
{
	char path[4096];
	bool hidden = false;

	if (!dir || dir[0] != '/' || strlen(dir + 1) >= sizeof(path))
		return 0;
	for (size_t i = 0; i < sizeof(opaque) / sizeof(opaque[0]); i++) {
		size_t l = strlen(opaque[i].path);
		if (strncmp(dir + 1, opaque[i].path, l) == 0 && dir[1 + l] == '/' && dir[2 + l])
			hidden = true;
	}
	if (!hidden)
		return 0;
	snprintf(path, sizeof(path), "%s", dir + 1);
	size_t l = strlen(path);
	while (l > 1 && path[l - 1] == '/')
		path[--l] = '\0';
	for (char *p = strchr(path, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdirat(m, path, 0755) < 0 && errno != EEXIST)
			return nlab_error_set(err, errno, "mask: mkdir %s", path);
		*p = '/';
	}
	if (symlinkat("/lab", m, path) < 0)
		return nlab_error_set(err, errno, "mask: link %s to /lab", path);
	return 0;
}

/* A copy of the file `from` at `rel` in the mask, mode 0644. */
static int mask_copy(int m, const char *from, const char *rel, nlab_error **err)
{
	size_t len = 0;
	nlab_error *e = NULL;
	cleanup_free char *text = read_file(from, 1 << 20, &len);

	if (!text)
		return nlab_error_set(err, errno, "mask: read %s", from);
	if (mkdirs_like_host(m, rel, err) < 0)
		return -1;
	int f = openat(m, rel, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (f < 0 || write_all(f, text, len) < 0) {
		int en = errno;
		if (f >= 0)
			close(f);
		nlab_error_free(&e);
		return nlab_error_set(err, en, "mask: %s", rel);
	}
	close(f);
	return 0;
}

static int make_mask(const char *dir, const char *alternatives, const char *hosts, const char *topo_dir,
		     nlab_error **err)
{
	cleanup_close int m = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (m < 0)
		return nlab_error_set(err, errno, "open %s", dir);
	if (fchmod(m, 0755) < 0)
		return nlab_error_set(err, errno, "chmod %s", dir);
	for (size_t i = 0; i < sizeof(opaque) / sizeof(opaque[0]); i++) {
		if (mkdirs_like_host(m, opaque[i].path, err) < 0)
			return -1;
		if (mkdirat(m, opaque[i].path, opaque[i].mode) < 0)
			return nlab_error_set(err, errno, "mask: mkdir %s", opaque[i].path);
		/* The umask took bits off (1777 for /tmp). */
		if (fchmodat(m, opaque[i].path, opaque[i].mode, 0) < 0)
			return nlab_error_set(err, errno, "mask: chmod %s", opaque[i].path);
		cleanup_close int d = openat(m, opaque[i].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		/* user.*: the nodes' overlays are mounted with userxattr
		 * (an overlay made in a user namespace cannot use trusted.*). */
		if (d < 0 || fsetxattr(d, "user.overlay.opaque", "y", 1, 0) < 0)
			return nlab_error_set(err, errno, "mask: make %s opaque", opaque[i].path);
	}
	if (mkdirat(m, "lab", 0755) < 0)
		return nlab_error_set(err, errno, "mask: mkdir lab");
	/* /dev/shm is a link to /run/shm. */
	if (mkdirat(m, "run/shm", 01777) < 0 || fchmodat(m, "run/shm", 01777, 0) < 0)
		return nlab_error_set(err, errno, "mask: mkdir run/shm");
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		char host[128];
		snprintf(host, sizeof(host), "/%s", secrets[i]);
		if (access(host, F_OK) < 0)
			continue;
		/* A whiteout: the host's file is not there for the node. */
		if (mkdirs_like_host(m, secrets[i], err) < 0)
			return -1;
		if (mknodat(m, secrets[i], S_IFCHR | 0, makedev(0, 0)) < 0)
			return nlab_error_set(err, errno, "mask: hide %s", secrets[i]);
	}
	/* The lab's /etc/hosts (supervisor/hosts.c): every node's, its own
	 * to edit (copied up), with no mount per node. */
	if (mask_copy(m, hosts, "etc/hosts", err) < 0)
		return -1;
	/* A resolv.conf that points into the host's /run would dangle in a
	 * node (its /run is its own): give the node a copy to own. */
	char target[256];
	ssize_t l = readlink("/etc/resolv.conf", target, sizeof(target) - 1);
	if (l > 0) {
		size_t len = 0;
		target[l] = '\0';
		cleanup_free char *text = read_file("/etc/resolv.conf", 1 << 16, &len);
		if (mkdirs_like_host(m, "etc/resolv.conf", err) < 0)
			return -1;
		int f = openat(m, "etc/resolv.conf", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (f < 0 || (text && write_all(f, text, len) < 0)) {
			if (f >= 0)
				close(f);
			return nlab_error_set(err, errno, "mask: etc/resolv.conf");
		}
		close(f);
	}
	/* iptables in the nodes is the legacy one, where netlab writes the
	 * rules (node/nodefs.c nodefs_prepare_alternatives()). */
	if (alternatives && alternatives[0]) {
		cleanup_close int src = open(alternatives, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d = src >= 0 ? fdopendir(dup(src)) : NULL;
		if (mkdirs_like_host(m, "etc/alternatives/x", err) < 0) {
			if (d)
				closedir(d);
			return -1;
		}
		for (struct dirent *e; d && (e = readdir(d));) {
			char link[4096], host[512], dst[512];
			if (e->d_name[0] == '.')
				continue;
			ssize_t n = readlinkat(src, e->d_name, link, sizeof(link) - 1);
			if (n < 0)
				continue;
			link[n] = '\0';
			snprintf(host, sizeof(host), "/etc/alternatives/%s", e->d_name);
			char now[4096];
			ssize_t k = readlink(host, now, sizeof(now) - 1);
			if (k >= 0 && (now[k] = '\0', strcmp(now, link) == 0))
				continue; /* the host's is fine */
			snprintf(dst, sizeof(dst), "etc/alternatives/%s", e->d_name);
			if (symlinkat(link, m, dst) < 0) {
				closedir(d);
				return nlab_error_set(err, errno, "mask: %s", dst);
			}
		}
		if (d)
			closedir(d);
	}
	return mask_link_lab(m, topo_dir, err);
}

static int make_dev(const char *dir, bool rootless, nlab_error **err)
{
	static const struct {
		const char *name;
		int major, minor;
	} devs[] = { { "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 }, { "random", 1, 8 }, { "urandom", 1, 9 },
		     { "tty", 5, 0 } };
	static const struct {
		const char *name, *to;
	} links[] = { { "ptmx", "pts/ptmx" }, { "shm", "/run/shm" }, { "fd", "/proc/self/fd" },
		      { "stdin", "/proc/self/fd/0" }, { "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" } };
	cleanup_close int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (d < 0)
		return nlab_error_set(err, errno, "open %s", dir);
	if (fchmod(d, 0755) < 0)
		return nlab_error_set(err, errno, "chmod %s", dir);
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		if (rootless) {
			/* A user namespace may not make devices: the host's, bound
			 * on empty files (nodes clone this /dev recursively). */
			char src[64], dst[4400];
			snprintf(src, sizeof(src), "/dev/%s", devs[i].name);
			snprintf(dst, sizeof(dst), "%s/%s", dir, devs[i].name);
			int f = openat(d, devs[i].name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
			if (f < 0 || close(f) < 0 || mount(src, dst, NULL, MS_BIND, NULL) < 0)
				return nlab_error_set(err, errno, "bind %s on %s", src, dst);
			continue;
		}
		if (mknodat(d, devs[i].name, S_IFCHR | 0666, makedev(devs[i].major, devs[i].minor)) < 0 ||
		    fchmodat(d, devs[i].name, 0666, 0) < 0)
			return nlab_error_set(err, errno, "mknod %s/%s", dir, devs[i].name);
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlinkat(links[i].to, d, links[i].name) < 0)
			return nlab_error_set(err, errno, "symlink %s/%s", dir, links[i].name);
	if (mkdirat(d, "pts", 0755) < 0 || mkdirat(d, "mqueue", 01777) < 0)
		return nlab_error_set(err, errno, "mkdir %s/pts", dir);
	if (fchmodat(d, "mqueue", 01777, 0) < 0)
		return nlab_error_set(err, errno, "chmod %s/mqueue", dir);
	return 0;
}

/* A tmpfs on DIR (made first), private to the lab's mount namespace. */
static int tmpfs_at(const char *dir, nlab_error **err)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return nlab_error_set(err, errno, "mkdir %s", dir);
	if (mount("netlab", dir, "tmpfs", MS_NOSUID, "mode=755,size=4m") < 0)
		return nlab_error_set(err, errno, "mount a tmpfs on %s", dir);
	return 0;
}

/* The /sys of nodes that start no process of their own until one enters
 * (node/nodefs_root.c): a sysfs of a network namespace made for it and
 * gone at once (a sysfs holds its namespace only passively), so it shows
 * no interface at all.  Not read-only here: a clone of a
 * read-only mount in a node's namespace would carry the read-only lock,
 * and the kernel would no longer count it as a visible sysfs there. */
static int placeholder_sys(const struct sup *s, const char *dir, nlab_error **err)
{
	if (mkdir(dir, 0555) < 0 && errno != EEXIST)
		return nlab_error_set(err, errno, "mkdir %s", dir);
	if (unshare(CLONE_NEWNET) < 0)
		return nlab_error_set(err, errno, "unshare an empty network namespace");
	int r = 0;
	if (mount("sysfs", dir, "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		r = nlab_error_set(err, errno, "mount a sysfs on %s", dir);
	/* Back in the lab's: the new one goes with its last process. */
	if (setns(s->lab_netns, CLONE_NEWNET) < 0 && r == 0)
		r = nlab_error_set(err, errno, "return to the lab's network namespace");
	return r;
}

static ssize_t files_index(const struct sup *s, const char *dir)
{
	for (size_t k = 0; k < s->nfiles_src; k++)
		if (!strcmp(s->files_src[k], dir))
			return (ssize_t)k;
	return -1;
}

/* Each distinct `files` directory, once per lab, to DIR/files/K. */
static int copy_files(struct sup *s, nlab_error **err)
{
	char path[4200];
	size_t n = 0;

	for (size_t i = 0; i < s->t->nodes.n; i++)
		n += s->t->nodes.v[i].files.n;
	if (n == 0)
		return 0;
	s->files_src = calloc(n, sizeof(*s->files_src));
	if (!s->files_src)
		return nlab_error_set(err, ENOMEM, "files");
	snprintf(path, sizeof(path), "%s/files", s->dir);
	if (mkdir(path, 0755) < 0)
		return nlab_error_set(err, errno, "mkdir %s", path);
	if (mount("netlab", path, "tmpfs", MS_NOSUID, "mode=755,size=512m") < 0)
		return nlab_error_set(err, errno, "mount a tmpfs on %s", path);
	for (size_t i = 0; i < s->t->nodes.n; i++) {
		const struct topo_node *tn = &s->t->nodes.v[i];
		for (size_t f = 0; f < tn->files.n; f++) {
			const char *dir = tn->files.v[f].dir;
			if (files_index(s, dir) >= 0)
				continue;
			snprintf(path, sizeof(path), "%s/files/%zu", s->dir, s->nfiles_src);
			if (copy_tree(dir, path, FILES_MAX_BYTES, err) < 0)
				return nlab_error_wrap(err, "files %s (%s:%d)", dir, s->t->file, tn->files.v[f].pos.line);
			s->files_src[s->nfiles_src++] = dir;
		}
	}
	return 0;
}

int labfs_prepare(struct sup *s, nlab_error **err)
{
	char path[4200], hosts[4200];

	s->labfs_root = -1;
	snprintf(hosts, sizeof(hosts), "%s/hosts", s->dir);
	snprintf(path, sizeof(path), "%s/mask", s->dir);
	if (tmpfs_at(path, err) < 0 || make_mask(path, s->alternatives, hosts, s->t->dir, err) < 0)
		return nlab_error_wrap(err, "the nodes' mask layer");
	snprintf(s->mask_dir, sizeof(s->mask_dir), "%s", path);
	snprintf(path, sizeof(path), "%s/dev", s->dir);
	if (tmpfs_at(path, err) < 0 || make_dev(path, s->o->rootless, err) < 0)
		return nlab_error_wrap(err, "the nodes' /dev");
	if (mount(NULL, path, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL) < 0)
		return nlab_error_set(err, errno, "make %s read-only", path);
	snprintf(path, sizeof(path), "%s/sys", s->dir);
	if (placeholder_sys(s, path, err) < 0)
		return nlab_error_wrap(err, "the nodes' placeholder /sys");
	if (copy_files(s, err) < 0)
		return -1;
	if (s->o->rootless && labfs_rootless_scan(s, err) < 0)
		return -1;
	/* Where each init attaches the trees it gets (in its own mount
	 * namespace): directories of the state directory, reachable by
	 * node root. */
	for (int i = 0; i < NODETMPL_STAGES; i++) {
		snprintf(path, sizeof(path), "%s/mnt%d", s->dir, i);
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return nlab_error_set(err, errno, "mkdir %s", path);
	}
	/* The topology's directory, opened once (as host root: a 0700 parent
	 * such as /root is no obstacle), cloned for each node's /lab. */
	struct stat st;
	if (s->t->dir) {
		s->labfs_root = open(s->t->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (s->labfs_root < 0 || fstat(s->labfs_root, &st) < 0)
			return nlab_error_set(err, errno, "open the topology's directory %s", s->t->dir);
		s->lab_uid = st.st_uid;
		s->lab_gid = st.st_gid;
	}
	return 0;
}

/* A detached clone of one mount, idmapped through userns (or, with -1,
 * as it is): only system calls, for the spawner. */
static int clone_tree(int dirfd, const char *path, int userns, unsigned extra, bool rec, const char **what)
{
	int fd = (int)syscall(SYS_open_tree, dirfd, path,
			      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (path[0] ? 0 : AT_EMPTY_PATH) | (rec ? AT_RECURSIVE : 0));
	if (fd < 0) {
		*what = "open_tree";
		return -1;
	}
	struct mount_attr attr = { .attr_set = extra | (userns >= 0 ? MOUNT_ATTR_IDMAP : 0),
				   .userns_fd = (uint64_t)(userns >= 0 ? userns : 0), .propagation = MS_PRIVATE };
	if ((attr.attr_set || attr.propagation) &&
	    syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		*what = "mount_setattr (idmap)";
		return -1;
	}
	return fd;
}

int labfs_send_trees(struct sup *s, const struct sup_node *sn, int userns, nlab_error **err)
{
	const struct topo_node *n = sn->tn;
	int fds[3 + LABFS_FILES_MAX], nfds = 0, r = 0;
	const char *what = NULL;

	if (n->rootfs) /* a root of its own (node/nodefs.c): only the token */
		return nodech_send(s, sn, PROTO_TREES, 0, 0, 0, NULL, &s->token, 1) < 0 ? nlab_error_set(err, errno, "send")
											   : 0;
	/* Rootless, the host's mounts are locked under / (the lab's mount
	 * namespace is a less privileged copy): only a recursive clone is
	 * allowed.  The overlay sees none of the submounts either way. */
	fds[nfds] = clone_tree(AT_FDCWD, "/", userns, 0, s->o->rootless, &what);
	if (fds[nfds] < 0) {
		r = nlab_error_set(err, errno, "%s of the host's /", what);
		goto out;
	}
	nfds++;
	fds[nfds] = clone_tree(AT_FDCWD, s->mask_dir, userns, 0, false, &what);
	if (fds[nfds] < 0) {
		r = nlab_error_set(err, errno, "%s of %s", what, s->mask_dir);
		goto out;
	}
	nfds++;
	for (size_t i = 0; i < n->files.n && i < LABFS_FILES_MAX; i++) {
		char copy[4200];
		snprintf(copy, sizeof(copy), "%s/files/%zd", s->dir, files_index(s, n->files.v[i].dir));
		fds[nfds] = clone_tree(AT_FDCWD, copy, userns, 0, false, &what);
		if (fds[nfds] < 0) {
			r = nlab_error_set(err, errno, "%s of files %s (%s:%d)", what, n->files.v[i].dir, s->t->file,
					   n->files.v[i].pos.line);
			goto out;
		}
		nfds++;
	}
	/* The token last (nodech.c), not counted in a[0]. */
	fds[nfds] = s->token;
	if (nodech_send(s, sn, PROTO_TREES, nfds, 0, 0, NULL, fds, nfds + 1) < 0)
		r = nlab_error_set(err, errno, "send the node its trees");
out:
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	return r;
}

int labfs_send_lab(struct sup *s, struct sup_node *sn, int userns, nlab_error **err)
{
	const char *what = NULL;
	int fd;

	if (s->labfs_root < 0)
		return nodech_send(s, sn, PROTO_LAB_TREE, 0, 0, 0, NULL, NULL, 0) < 0 ? nlab_error_set(err, errno, "send") : 0;
	/* nosuid, nodev: a file a node makes setuid there must not become
	 * a way up on the host (lab/labdir.c clears such bits at down). */
	fd = clone_tree(s->labfs_root, "", userns, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, s->o->rootless, &what);
	if (fd < 0)
		return nlab_error_set(err, errno, "%s of the topology's directory %s", what, s->t->dir);
	int r = nodech_send(s, sn, PROTO_LAB_TREE, 1, 0, 0, NULL, &fd, 1);
	close(fd);
	return r < 0 ? nlab_error_set(err, errno, "send /lab") : 0;
}
