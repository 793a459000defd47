#include "util/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <dirent.h>
#include <linux/openat2.h>

#include "util/cleanup.h"

int mkdir_p(const char *path, mode_t mode, nlab_error **err)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return nlab_error_set(err, ENAMETOOLONG, "mkdir %s", path);
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return nlab_error_set(err, errno, "mkdir %s", buf);
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return nlab_error_set(err, errno, "mkdir %s", buf);
	return 0;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = TEMP_FAILURE_RETRY(write(fd, p, len));
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int write_file_atomic_at(int dirfd, const char *name, const char *tmp, const void *data, size_t len,
			 nlab_error **err)
{
	cleanup_close int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);

	if (fd < 0)
		return nlab_error_set(err, errno, "create %s", tmp);
	if (write_all(fd, data, len) < 0) {
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		return nlab_error_set(err, e, "write %s", tmp);
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		return nlab_error_set(err, e, "rename %s to %s", tmp, name);
	}
	return 0;
}

char *read_file_at(int dirfd, const char *name, size_t max, size_t *len, nlab_error **err)
{
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;
	size_t off = 0;

	if (fd < 0) {
		nlab_error_set(err, errno == ELOOP ? EPERM : errno, "open %s%s", name,
			       errno == ELOOP ? " (a symlink)" : "");
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		nlab_error_set(err, errno, "stat %s", name);
		return NULL;
	}
	/* Written by netlab as root, so only a regular file of ours is
	 * trusted: anything else was put there by someone else. */
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0022)) {
		nlab_error_set(err, EPERM, "%s is not a file netlab wrote (not a regular file owned by uid %u and writable by it alone)",
			       name, (unsigned)geteuid());
		return NULL;
	}
	if ((size_t)st.st_size > max) {
		nlab_error_set(err, EFBIG, "%s is %lld bytes, more than %zu", name, (long long)st.st_size, max);
		return NULL;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		nlab_error_set(err, ENOMEM, "read %s", name);
		return NULL;
	}
	while (off < (size_t)st.st_size) {
		ssize_t n = TEMP_FAILURE_RETRY(read(fd, buf + off, (size_t)st.st_size - off));
		if (n < 0) {
			nlab_error_set(err, errno, "read %s", name);
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	buf[off] = '\0';
	if (len)
		*len = off;
	return buf;
}

static int openat2_retry(int dirfd, const char *path, struct open_how *how)
{
	int fd;

	/* EAGAIN: a rename or mount raced the lookup; it is safe to retry. */
	do
		fd = (int)syscall(SYS_openat2, dirfd, path, how, sizeof(*how));
	while (fd < 0 && (errno == EINTR || errno == EAGAIN));
	return fd;
}

int openat_beneath(int dirfd, const char *path, int flags, mode_t mode, nlab_error **err)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = openat2_retry(dirfd, path, &how);

	if (fd < 0)
		return nlab_error_set(err, errno, "open %s", path);
	return fd;
}

int open_in_root(int rootfd, const char *path, int flags, mode_t mode, nlab_error **err)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		/* Magic links (/proc/self/root...) would step out too. */
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	const char *rel = path;

	while (*rel == '/')
		rel++;
	int fd = openat2_retry(rootfd, *rel ? rel : ".", &how);
	if (fd < 0)
		return nlab_error_set(err, errno, "%s (resolved inside the node's root)", path);
	return fd;
}

int write_file_atomic(const char *path, const char *tmp, const void *data, size_t len, nlab_error **err)
{
	cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);

	if (fd < 0)
		return nlab_error_set(err, errno, "create %s", tmp);
	if (write_all(fd, data, len) < 0)
		return nlab_error_set(err, errno, "write %s", tmp);
	if (rename(tmp, path) < 0)
		return nlab_error_set(err, errno, "rename %s to %s", tmp, path);
	return 0;
}

int rm_rf_at(int parent, const char *name, nlab_error **err)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOTDIR || errno == ELOOP) {
			if (unlinkat(parent, name, 0) < 0 && errno != ENOENT)
				return nlab_error_set(err, errno, "unlink %s", name);
			return 0;
		}
		if (errno == ENOENT)
			return 0;
		return nlab_error_set(err, errno, "open %s", name);
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return nlab_error_set(err, errno, "opendir %s", name);
	}
	struct dirent *e;
	int r = 0;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (rm_rf_at(dirfd(d), e->d_name, err) < 0)
			r = -1;
	}
	closedir(d);
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return nlab_error_set(err, errno, "rmdir %s", name);
	return r;
}

int rm_rf(const char *path, nlab_error **err)
{
	return rm_rf_at(AT_FDCWD, path, err);
}

char *read_file(const char *path, size_t max, size_t *len)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf;
	size_t off = 0;

	if (fd < 0)
		return NULL;
	buf = malloc(max + 1);
	if (!buf)
		return NULL;
	while (off < max) {
		ssize_t n = TEMP_FAILURE_RETRY(read(fd, buf + off, max - off));
		if (n < 0) {
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	buf[off] = '\0';
	if (len)
		*len = off;
	return buf;
}
