/* Copy a directory tree, as root, keeping what a node's root would see:
 * directories, regular files and symbolic links with their owners, modes
 * and times.  Nothing is followed: every name is opened relative to its
 * directory's fd with O_NOFOLLOW, so a symlink in the tree is copied as a
 * symlink and never read through. */
#include "util/copytree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fsutil.h"

/* Deeper than any configuration folder; bounds the fds in use. */
#define COPY_DEPTH_MAX 64

struct copy {
	const char *top; /* for messages */
	uint64_t bytes, max_bytes;
	nlab_error **err;
};

static int keep_meta(int dst, const char *name, const struct stat *st, struct copy *c)
{
	const struct timespec times[2] = { st->st_atim, st->st_mtim };

	/* EINVAL: an owner the copier's user namespace does not map (a
	 * rootless lab, lab/rootless.h): the copy stays the copier's. */
	if (fchownat(dst, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EINVAL)
		return nlab_error_set(c->err, errno, "%s: chown %s", c->top, name);
	if (!S_ISLNK(st->st_mode) && fchmodat(dst, name, st->st_mode & 07777, 0) < 0)
		return nlab_error_set(c->err, errno, "%s: chmod %s", c->top, name);
	utimensat(dst, name, times, AT_SYMLINK_NOFOLLOW);
	return 0;
}

static int copy_file(int src, int dst, const char *name, const struct stat *st, struct copy *c)
{
	char buf[65536];
	cleanup_close int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	struct stat now;

	if (in < 0 || fstat(in, &now) < 0 || !S_ISREG(now.st_mode))
		return nlab_error_set(c->err, in < 0 ? errno : EINVAL, "%s: read %s", c->top, name);
	c->bytes += (uint64_t)now.st_size;
	if (c->bytes > c->max_bytes)
		return nlab_error_set(c->err, EFBIG, "%s holds more than %llu MiB: too much to copy into every lab", c->top,
				      (unsigned long long)(c->max_bytes >> 20));
	cleanup_close int out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return nlab_error_set(c->err, errno, "%s: create %s", c->top, name);
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return nlab_error_set(c->err, errno, "%s: read %s", c->top, name);
		if (n == 0)
			break;
		if (write_all(out, buf, (size_t)n) < 0)
			return nlab_error_set(c->err, errno, "%s: write %s", c->top, name);
	}
	return keep_meta(dst, name, st, c);
}

static int copy_dir(int src, int dst, int depth, struct copy *c)
{
	if (depth > COPY_DEPTH_MAX)
		return nlab_error_set(c->err, ELOOP, "%s: deeper than %d directories", c->top, COPY_DEPTH_MAX);
	int sfd = dup(src);
	DIR *d = sfd >= 0 ? fdopendir(sfd) : NULL;
	if (!d) {
		if (sfd >= 0)
			close(sfd);
		return nlab_error_set(c->err, errno, "%s: list a directory", c->top);
	}
	int r = 0;
	for (struct dirent *e; r == 0 && (errno = 0, e = readdir(d));) {
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(src, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = nlab_error_set(c->err, errno, "%s: stat %s", c->top, e->d_name);
		} else if (S_ISDIR(st.st_mode)) {
			if (mkdirat(dst, e->d_name, 0700) < 0) {
				r = nlab_error_set(c->err, errno, "%s: mkdir %s", c->top, e->d_name);
				continue;
			}
			cleanup_close int s2 = openat(src, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			cleanup_close int d2 = openat(dst, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (s2 < 0 || d2 < 0)
				r = nlab_error_set(c->err, errno, "%s: open %s", c->top, e->d_name);
			else if (copy_dir(s2, d2, depth + 1, c) == 0)
				r = keep_meta(dst, e->d_name, &st, c);
			else
				r = -1;
		} else if (S_ISREG(st.st_mode)) {
			r = copy_file(src, dst, e->d_name, &st, c);
		} else if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t n = readlinkat(src, e->d_name, target, sizeof(target) - 1);
			if (n < 0 || (target[n] = '\0', symlinkat(target, dst, e->d_name) < 0))
				r = nlab_error_set(c->err, errno, "%s: symlink %s", c->top, e->d_name);
			else
				r = keep_meta(dst, e->d_name, &st, c);
		}
		/* Devices, fifos and sockets are not configuration: left out. */
	}
	if (r == 0 && errno)
		r = nlab_error_set(c->err, errno, "%s: list a directory", c->top);
	closedir(d);
	return r;
}

int copy_tree(const char *from, const char *to, uint64_t max_bytes, nlab_error **err)
{
	struct copy c = { .top = from, .max_bytes = max_bytes, .err = err };
	struct stat st;
	cleanup_close int src = open(from, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (src < 0 || fstat(src, &st) < 0)
		return nlab_error_set(err, errno, "open %s", from);
	if (mkdir(to, 0700) < 0)
		return nlab_error_set(err, errno, "mkdir %s", to);
	cleanup_close int dst = open(to, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dst < 0)
		return nlab_error_set(err, errno, "open %s", to);
	if (copy_dir(src, dst, 0, &c) < 0)
		return -1;
	if ((fchown(dst, st.st_uid, st.st_gid) < 0 && errno != EINVAL) || fchmod(dst, st.st_mode & 07777) < 0)
		return nlab_error_set(err, errno, "%s: owner and mode", to);
	return 0;
}
