#include "util/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"

int lock_file(const char *path, nlab_error **err)
{
	for (;;) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		struct stat a, b;

		if (fd < 0)
			return nlab_error_set(err, errno, "open %s", path);
		if (TEMP_FAILURE_RETRY(flock(fd, LOCK_EX)) < 0) {
			int e = errno;
			close(fd);
			return nlab_error_set(err, e, "lock %s", path);
		}
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			return fd;
		/* Unlinked (or replaced) by the previous holder while we
		 * waited: this inode guards nothing any more. */
		close(fd);
	}
}

void lock_release(int fd, const char *unlink_path)
{
	if (fd < 0)
		return;
	if (unlink_path)
		unlink(unlink_path);
	close(fd);
}
