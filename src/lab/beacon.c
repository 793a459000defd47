#include "lab/beacon.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "lab/state.h"
#include "topo/model.h"
#include "util/cleanup.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 /* Linux 6.5 */
#endif

/* "\0netlab/DEV:INO/LAB": the state root by identity, not by path (a
 * path could be longer than sun_path, and two spellings of one root must
 * meet). */
static int beacon_addr(const char *lab, struct sockaddr_un *a, socklen_t *len, nlab_error **err)
{
	struct stat st;

	if (state_check_lab_name(lab, err) < 0)
		return -1;
	cleanup_close int root = state_root_open(false, err);
	if (root < 0)
		return -1;
	if (fstat(root, &st) < 0)
		return nlab_error_set(err, errno, "stat %s", state_root());
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	int n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "netlab/%llx:%llx/%s", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino, lab);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
	return 0;
}

int beacon_bind(const char *lab, nlab_error **err)
{
	struct sockaddr_un a;
	socklen_t len;

	if (beacon_addr(lab, &a, &len, err) < 0)
		return -1;
	/* Messages (proto/proto.h) for `netlab restart`: one per packet. */
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return nlab_error_set(err, errno, "the lab's beacon socket");
	if (bind(fd, (struct sockaddr *)&a, len) < 0 || listen(fd, 64) < 0) {
		int e = errno;
		close(fd);
		if (e == EADDRINUSE) {
			pid_t pid = 0;
			int other = beacon_find(lab, &pid);
			if (other >= 0)
				close(other);
			return nlab_error_set(err, EADDRINUSE, "lab '%s' already has a supervisor (pid %d)", lab,
					      (int)pid);
		}
		return nlab_error_set(err, e, "bind the lab's beacon socket");
	}
	return fd;
}

int beacon_accept(int fd)
{
	for (;;) {
		struct ucred cred;
		socklen_t clen = sizeof(cred);
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (c < 0 && errno == EINTR)
			continue;
		if (c < 0)
			return -1;
		/* Anyone may connect to an abstract name: only a process of
		 * our own euid may ask anything. */
		if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0 && cred.uid == geteuid())
			return c;
		close(c);
	}
}

/* Connected to the lab's supervisor, checked to be a process of our euid
 * (anyone may bind an abstract name); -1 with errno ESRCH when there is
 * none. */
static int connect_checked(const char *lab, struct ucred *cred)
{
	struct sockaddr_un a;
	socklen_t len;
	socklen_t clen = sizeof(*cred);

	if (beacon_addr(lab, &a, &len, NULL) < 0) {
		errno = ESRCH;
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int r = connect(fd, (struct sockaddr *)&a, len);
	if (r < 0 && (errno == ECONNREFUSED || errno == EPROTOTYPE)) {
		/* Refused, perhaps for the type: the supervisor of a netlab
		 * before 0.10 (a stream beacon), still running after an
		 * upgrade, is found all the same. */
		close(fd);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		r = connect(fd, (struct sockaddr *)&a, len);
	}
	if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &clen) < 0) {
		int e = errno == ECONNREFUSED || errno == ENOENT ? ESRCH : errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (cred->uid != geteuid()) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	return fd;
}

int beacon_connect(const char *lab, nlab_error **err)
{
	struct ucred cred;
	int fd = connect_checked(lab, &cred);

	if (fd < 0)
		return nlab_error_set(err, errno, errno == ESRCH ? "lab '%s' has no supervisor" : "connect to the supervisor of lab '%s'",
				      lab);
	return fd;
}

int beacon_find(const char *lab, pid_t *pid)
{
	struct ucred cred;
	int pidfd = -1;
	socklen_t plen = sizeof(pidfd);

	*pid = 0;
	cleanup_close int fd = connect_checked(lab, &cred);
	if (fd < 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &plen) < 0 || pidfd < 0) {
		/* Before Linux 6.5: the pid, which cannot be reused while the
		 * connection stands (the listener is alive). */
		pidfd = (int)syscall(SYS_pidfd_open, cred.pid, 0);
		if (pidfd < 0)
			return -1;
	}
	fcntl(pidfd, F_SETFD, FD_CLOEXEC);
	*pid = cred.pid;
	return pidfd;
}

int beacon_list(char ***labs, size_t *n)
{
	struct sockaddr_un a;
	socklen_t len;
	char prefix[108], line[512];
	char **v = NULL;
	size_t cnt = 0;

	*labs = NULL;
	*n = 0;
	/* The prefix of every beacon name of this state root: "@netlab/DEV:INO/". */
	if (beacon_addr("x", &a, &len, NULL) < 0)
		return -1;
	snprintf(prefix, sizeof(prefix), "@%s", a.sun_path + 1);
	prefix[strlen(prefix) - 1] = '\0';
	cleanup_fclose FILE *f = fopen("/proc/net/unix", "re");
	if (!f)
		return -1;
	/* "Num RefCount Protocol Flags Type St Inode Path": a listening
	 * socket's path is the last field. */
	while (fgets(line, sizeof(line), f)) {
		char *path = strrchr(line, ' ');
		if (!path)
			continue;
		path++;
		path[strcspn(path, "\n")] = '\0';
		if (strncmp(path, prefix, strlen(prefix)) != 0)
			continue;
		const char *lab = path + strlen(prefix);
		bool dup = false;
		for (size_t i = 0; i < cnt; i++)
			dup |= strcmp(v[i], lab) == 0;
		if (dup || !topo_lab_name_valid(lab))
			continue;
		char **nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (!nv)
			break;
		v = nv;
		if ((v[cnt] = strdup(lab)))
			cnt++;
	}
	*labs = v;
	*n = cnt;
	return 0;
}
