/* A process named by pid *and* start time (struct proc_id, lab/state.h):
 * a reused pid is never mistaken for a lab's process. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lab/state.h"
#include "util/cleanup.h"

int proc_id_of(pid_t pid, struct proc_id *out)
{
	char path[64], buf[1024];
	cleanup_close int fd = -1;
	ssize_t n;

	out->pid = pid;
	out->starttime = 0;
	if (pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			errno = ESRCH;
		return -1;
	}
	n = TEMP_FAILURE_RETRY(read(fd, buf, sizeof(buf) - 1));
	if (n <= 0) {
		/* A process that is being reaped reads as empty. */
		if (n == 0)
			errno = ESRCH;
		return -1;
	}
	buf[n] = '\0';
	/* comm may contain spaces and ')': fields resume after the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p) {
		errno = EIO;
		return -1;
	}
	p++;
	for (int field = 3; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	char *end;
	if (!p || (out->starttime = strtoull(p + 1, &end, 10), end == p + 1)) {
		errno = EIO;
		return -1;
	}
	return 0;
}

bool proc_id_alive(const struct proc_id *id)
{
	struct proc_id now;

	if (id->pid <= 0 || proc_id_of(id->pid, &now) < 0)
		return false;
	return now.starttime == id->starttime;
}

int proc_id_pidfd(const struct proc_id *id)
{
	int fd = (int)syscall(SYS_pidfd_open, id->pid, 0);

	if (fd < 0)
		return -1;
	/* The pid may have been reused between reading the state and here:
	 * check it is still the process we started. */
	if (!proc_id_alive(id)) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	return fd;
}
