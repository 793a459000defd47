#include "net/sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "util/cleanup.h"
#include "util/fsutil.h"

#define SYSCTL_READ_MAX 4096

static int sysctl_path(const char *proc, const char *key, char *path, size_t len, nlab_error **err)
{
	size_t klen, plen;
	int n;

	if (!key || strncmp(key, "net.", 4) != 0)
		return nlab_error_set(err, EINVAL, "sysctl %s: only net.* keys",
				      key ? key : "(null)");
	klen = strlen(key);
	if (strstr(key, "..") || strchr(key, '/') || key[klen - 1] == '.')
		return nlab_error_set(err, EINVAL, "sysctl %s: malformed key", key);
	n = snprintf(path, len, "%s/sys/", proc);
	if (n < 0 || (size_t)n >= len)
		return nlab_error_set(err, ENAMETOOLONG, "sysctl %s", key);
	plen = (size_t)n;
	n = snprintf(path + plen, len - plen, "%s", key);
	if (n < 0 || (size_t)n >= len - plen)
		return nlab_error_set(err, ENAMETOOLONG, "sysctl %s", key);
	for (char *p = path + plen; *p; p++)
		if (*p == '.')
			*p = '/';
	return 0;
}

/* A bind mount or a FUSE file over /proc/sys would silently take our
 * writes (runc CVE-2019-16884); insist on the real procfs. */
static int sysctl_open(int rootfd, const char *proc, const char *key, int flags, nlab_error **err)
{
	char path[PATH_MAX];
	cleanup_close int fd = -1;
	struct statfs st;

	if (sysctl_path(proc, key, path, sizeof(path), err) < 0)
		return -1;
	if (rootfd >= 0) {
		fd = open_in_root(rootfd, path, flags | O_NOFOLLOW | O_NOCTTY, 0, err);
		if (fd < 0)
			return nlab_error_wrap(err, "sysctl %s", key);
	} else {
		fd = TEMP_FAILURE_RETRY(open(path, flags | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
	}
	if (fd < 0)
		return nlab_error_set(err, errno, "sysctl %s: open %s", key, path);
	if (TEMP_FAILURE_RETRY(fstatfs(fd, &st)) < 0)
		return nlab_error_set(err, errno, "sysctl %s: fstatfs %s", key, path);
	if (st.f_type != PROC_SUPER_MAGIC)
		return nlab_error_set(err, EXDEV, "sysctl %s: %s is not on procfs", key, path);
	return steal_fd(&fd);
}

int nlab_sysctl_write(const char *key, const char *value, nlab_error **err)
{
	return nlab_sysctl_write_in("/proc", key, value, err);
}

static int sysctl_write(int rootfd, const char *proc, const char *key, const char *value, nlab_error **err)
{
	cleanup_close int fd = -1;
	size_t len;
	ssize_t n;

	if (!value)
		return nlab_error_set(err, EINVAL, "sysctl %s: no value", key ? key : "(null)");
	fd = sysctl_open(rootfd, proc, key, O_WRONLY, err);
	if (fd < 0)
		return -1;
	len = strlen(value);
	/* proc_sys_write() parses each write() on its own: the value must go
	 * in one piece, a short write is a failure. */
	n = TEMP_FAILURE_RETRY(write(fd, value, len));
	if (n < 0)
		return nlab_error_set(err, errno, "sysctl %s = %s", key, value);
	if ((size_t)n != len)
		return nlab_error_set(err, EIO, "sysctl %s = %s: short write", key, value);
	return 0;
}

int nlab_sysctl_write_in(const char *proc, const char *key, const char *value, nlab_error **err)
{
	return sysctl_write(-1, proc, key, value, err);
}

int nlab_sysctl_write_at(int rootfd, const char *key, const char *value, nlab_error **err)
{
	return sysctl_write(rootfd, "/proc", key, value, err);
}

int nlab_sysctl_write_proc(int procfd, const char *key, const char *value, nlab_error **err)
{
	return sysctl_write(procfd, "", key, value, err);
}

int nlab_sysctl_read(const char *key, char *buf, size_t len, nlab_error **err)
{
	cleanup_close int fd = -1;
	char page[SYSCTL_READ_MAX];
	ssize_t n;

	if (!buf || len == 0)
		return nlab_error_set(err, EINVAL, "sysctl %s: no buffer", key ? key : "(null)");
	fd = sysctl_open(-1, "/proc", key, O_RDONLY, err);
	if (fd < 0)
		return -1;
	/* One read() from offset 0: the proc_do*vec() handlers format the
	 * value for the count asked and answer any later offset with EOF, so
	 * a short first read is silent truncation, not a partial value. */
	n = TEMP_FAILURE_RETRY(read(fd, page, sizeof(page)));
	if (n < 0)
		return nlab_error_set(err, errno, "sysctl %s: read", key);
	if ((size_t)n == sizeof(page))
		return nlab_error_set(err, EFBIG, "sysctl %s: value longer than %zu bytes",
				      key, sizeof(page) - 1);
	if (n > 0 && page[n - 1] == '\n')
		n--;
	if ((size_t)n >= len)
		return nlab_error_set(err, ENOBUFS, "sysctl %s: value of %zd bytes, "
				      "buffer of %zu", key, n, len);
	memcpy(buf, page, (size_t)n);
	buf[n] = '\0';
	return 0;
}
