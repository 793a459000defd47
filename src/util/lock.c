#include "util/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/time.h"

pid_t lock_holder(int fd)
{
	struct stat st;
	char line[256];

	if (fstat(fd, &st) < 0)
		return 0;
	cleanup_fclose FILE *f = fopen("/proc/locks", "re");
	if (!f)
		return 0;
	/* "1: FLOCK  ADVISORY  WRITE 4242 00:1a:1234 0 EOF"; waiters are
	 * listed as "1: -> FLOCK ..." and are not holders. */
	while (fgets(line, sizeof(line), f)) {
		char type[16];
		int pid;
		unsigned maj, min;
		unsigned long long ino;
		if (strstr(line, "->") ||
		    sscanf(line, "%*d: %15s %*s %*s %d %x:%x:%llu", type, &pid, &maj, &min, &ino) != 5)
			continue;
		if (strcmp(type, "FLOCK") == 0 && ino == (unsigned long long)st.st_ino && maj == major(st.st_dev) &&
		    min == minor(st.st_dev))
			return (pid_t)pid;
	}
	return 0;
}

void lock_describe_pid(pid_t pid, char *buf, size_t len)
{
	char path[64], cmd[200];
	size_t n = 0;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	cleanup_free char *c = read_file(path, sizeof(cmd) - 1, &n);
	if (!c || n == 0) {
		snprintf(buf, len, "pid %d%s", (int)pid, c ? "" : ", which has exited: a process it started holds it");
		return;
	}
	/* The base name of argv[0] and argv[1] ("netlab up") say enough. */
	const char *arg0 = c, *slash = strrchr(arg0, '/');
	const char *arg1 = strlen(arg0) + 1 < n ? arg0 + strlen(arg0) + 1 : "";
	snprintf(cmd, sizeof(cmd), "%s%s%.40s", slash ? slash + 1 : arg0, *arg1 ? " " : "", arg1);
	snprintf(buf, len, "pid %d (%s)", (int)pid, cmd);
}

/* Take the flock on fd, waiting as w says.  0, or -1 with *err. */
static int take(int fd, const struct lock_wait *w, nlab_error **err)
{
	int64_t start = 0;
	bool told = false;
	int nap = 5;

	for (;;) {
		if (flock(fd, LOCK_EX | (w ? LOCK_NB : 0)) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return nlab_error_set(err, errno, "flock %s", w && w->what ? w->what : "");
		int64_t now = now_ms();
		if (!start)
			start = now;
		char who[256];
		if ((w->notice && !told && now - start >= w->notice_ms) || now - start >= w->timeout_ms) {
			pid_t pid = lock_holder(fd);
			if (pid > 0)
				lock_describe_pid(pid, who, sizeof(who));
			else
				snprintf(who, sizeof(who), "another process");
			if (now - start >= w->timeout_ms)
				return nlab_error_set(err, ETIMEDOUT, "%s is held by %s for more than %d s; giving up",
						      w->what, who, (w->timeout_ms + 999) / 1000);
			char msg[400];
			snprintf(msg, sizeof(msg), "waiting for %s, held by %s (at most %d s)", w->what, who,
				 (w->timeout_ms + 999) / 1000);
			w->notice(msg, w->arg);
			told = true;
		}
		nanosleep(&(struct timespec){ .tv_nsec = (long)nap * 1000000 }, NULL);
		if (nap < 100)
			nap *= 2;
	}
}

int lock_at(int dirfd, const char *name, const struct lock_wait *w, nlab_error **err)
{
	for (;;) {
		int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		struct stat a, b;

		if (fd < 0)
			return nlab_error_set(err, errno, "open %s", name);
		if (take(fd, w, err) < 0) {
			close(fd);
			return -1;
		}
		if (fstat(fd, &a) == 0 && fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev)
			return fd;
		/* Unlinked (or replaced) by the previous holder while we
		 * waited: this inode guards nothing any more. */
		close(fd);
	}
}

int lock_dir(int dirfd, const struct lock_wait *w, nlab_error **err)
{
	/* flock belongs to the open file description: a fresh one, so that
	 * closing it releases the lock and nothing else. */
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return nlab_error_set(err, errno, "open a directory to lock");
	if (take(fd, w, err) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

void lock_release_at(int fd, int dirfd, const char *name, bool unlink)
{
	if (fd < 0)
		return;
	if (unlink && name)
		unlinkat(dirfd, name, 0);
	close(fd);
}
