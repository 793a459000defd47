/* A node's log, relayed and bounded by its init (node/log.h). */
#include "node/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

int node_log_open(struct node_log *lg, int fd)
{
	int p[2];
	struct stat st;

	*lg = (struct node_log){ .fd = fd, .old_fd = -1, .pipe_r = -1, .pipe_w = -1 };
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	/* Only the init's end: a command writing to a full pipe waits. */
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		errno = e;
		return -1;
	}
	lg->pipe_r = p[0];
	lg->pipe_w = p[1];
	lg->size = fstat(fd, &st) == 0 ? st.st_size : 0;
	return 0;
}

void node_log_set_old(struct node_log *lg, int fd)
{
	if (lg->old_fd >= 0)
		close(lg->old_fd);
	lg->old_fd = fd;
}

/* Room for n more bytes, keeping the reserve free. */
static bool room_for(const struct node_log *lg, size_t n)
{
	struct statfs fs;

	if (fstatfs(lg->fd, &fs) < 0)
		return true;
	unsigned long long total = (unsigned long long)fs.f_blocks * (unsigned long long)fs.f_bsize;
	unsigned long long avail = (unsigned long long)fs.f_bavail * (unsigned long long)fs.f_bsize;
	unsigned long long reserve = total / 4 < NODE_LOG_RESERVE ? total / 4 : NODE_LOG_RESERVE;

	/* A file system that does not count (f_blocks 0) has room. */
	return !fs.f_blocks || avail >= reserve + n;
}

/* NODE.log's contents into NODE.log.1, then NODE.log empty (logrotate's
 * copytruncate: the files' names are not the init's to change, and
 * `netlab logs -f` follows the move by the size going down).  The copy
 * takes the log's size again until NODE.log is emptied, so it is made
 * only when that keeps the reserve free; otherwise the older output
 * goes, as when room is short. */
static void rotate(struct node_log *lg)
{
	if (lg->old_fd >= 0 && ftruncate(lg->old_fd, 0) == 0 && room_for(lg, (size_t)lg->size)) {
		off_t in = 0, out = 0;
		while (in < lg->size) {
			ssize_t k = copy_file_range(lg->fd, &in, lg->old_fd, &out, (size_t)(lg->size - in), 0);
			if (k > 0)
				continue;
			/* A file system without it: by hand. */
			char buf[16384];
			k = pread(lg->fd, buf, sizeof(buf), in);
			if (k <= 0 || pwrite(lg->old_fd, buf, (size_t)k, out) != k)
				break;
			in += k;
			out += k;
		}
	}
	if (ftruncate(lg->fd, 0) == 0)
		lg->size = 0;
}

static bool append(struct node_log *lg, const char *buf, size_t n)
{
	if (lg->size > 0 && (uint64_t)lg->size + n > NODE_LOG_MAX)
		rotate(lg);
	/* Short of room: the recent output is what counts, so older goes
	 * first (a rotation early, then the previous log), and only when
	 * that is not enough is this dropped. */
	if (!room_for(lg, n) && lg->size > 0)
		rotate(lg);
	if (!room_for(lg, n) && lg->old_fd >= 0)
		(void)!ftruncate(lg->old_fd, 0);
	if (!room_for(lg, n))
		return false;
	while (n > 0) {
		ssize_t k = write(lg->fd, buf, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		lg->size += k;
		buf += k;
		n -= (size_t)k;
	}
	return true;
}

void node_log_write(struct node_log *lg, const char *buf, size_t n)
{
	if (lg->dropped) {
		char note[200];
		int k = snprintf(note, sizeof(note),
				 "netlab: %llu bytes of the node's output were dropped here: the file system of the "
				 "logs had less than %llu MiB free\n",
				 (unsigned long long)lg->dropped, NODE_LOG_RESERVE >> 20);
		if (k > 0 && append(lg, note, (size_t)k))
			lg->dropped = 0;
	}
	lg->written += n;
	if (lg->dropped || !append(lg, buf, n))
		lg->dropped += n;
}

void node_log_printf(struct node_log *lg, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	int k = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (k > 0)
		node_log_write(lg, buf, (size_t)k < sizeof(buf) ? (size_t)k : sizeof(buf) - 1);
}

bool node_log_relay(struct node_log *lg, size_t budget)
{
	static char buf[65536];
	size_t done = 0;

	while (!budget || done < budget) {
		ssize_t k = read(lg->pipe_r, buf, sizeof(buf));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		node_log_write(lg, buf, (size_t)k);
		done += (size_t)k;
	}
	return true;
}
