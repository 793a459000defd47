#include "util/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

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

static int rm_rf_at(int parent, const char *name, nlab_error **err)
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
