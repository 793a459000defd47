/* Root's view of every user's labs (`status --all-users`, `down
 * --all-users`, lab/rootless.h).  A user's state root is found where its
 * running supervisors say it is (their environment's NETLAB_RUN_DIR, set
 * by `up` in the lab user namespace) and where state roots are by default
 * (/run/user/UID/netlab, HOME/.local/state/netlab, /tmp/netlab-UID), so
 * that crashed labs are found too.  Root then acts on each as its owner:
 * a child process that became that user, exactly as if the user had run
 * the verb, so no user-controlled path is followed with root's rights. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab/rootless.h"
#include "util/cleanup.h"

static int add_root(struct rootless_root **v, size_t *n, const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid == 0)
		return 0;
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i].dev == st.st_dev && (*v)[i].ino == st.st_ino)
			return 0;
	struct rootless_root *nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return -1;
	*v = nv;
	nv[*n] = (struct rootless_root){ .uid = st.st_uid, .gid = st.st_gid, .dev = st.st_dev, .ino = st.st_ino };
	snprintf(nv[*n].path, sizeof(nv[*n].path), "%s", path);
	(*n)++;
	return 0;
}

/* NETLAB_RUN_DIR of a process in a lab user namespace. */
static void from_environ(const char *pid, struct rootless_root **v, size_t *n)
{
	char path[300], buf[16384];

	snprintf(path, sizeof(path), "/proc/%s/environ", pid);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t len = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (len <= 0)
		return;
	buf[len] = '\0';
	const char *dir = NULL;
	bool inside = false;
	for (char *p = buf; p < buf + len; p += strlen(p) + 1) {
		if (!strncmp(p, "NETLAB_RUN_DIR=", 15))
			dir = p + 15;
		else if (!strcmp(p, "NETLAB_LAB_USERNS=1"))
			inside = true;
	}
	if (inside && dir && dir[0] == '/')
		add_root(v, n, dir);
}

int rootless_user_roots(struct rootless_root **v, size_t *n)
{
	char path[4200];

	*v = NULL;
	*n = 0;
	DIR *d = opendir("/proc");
	for (struct dirent *e; d && (e = readdir(d));)
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9') {
			/* Only supervisors: their comm is netlab's. */
			char comm[64] = "";
			snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
			cleanup_fclose FILE *f = fopen(path, "re");
			if (f && fgets(comm, sizeof(comm), f) && !strncmp(comm, "netlab", 6))
				from_environ(e->d_name, v, n);
		}
	if (d)
		closedir(d);
	d = opendir("/run/user");
	for (struct dirent *e; d && (e = readdir(d));)
		if (e->d_name[0] >= '0' && e->d_name[0] <= '9') {
			snprintf(path, sizeof(path), "/run/user/%s/netlab", e->d_name);
			if (add_root(v, n, path) < 0)
				goto nomem;
		}
	if (d)
		closedir(d);
	d = NULL;
	setpwent();
	for (struct passwd *pw; (pw = getpwent());) {
		if (pw->pw_uid == 0 || !pw->pw_dir || pw->pw_dir[0] != '/')
			continue;
		if (rootless_state_root(path, sizeof(path), pw->pw_uid, NULL, pw->pw_dir) == 0 &&
		    add_root(v, n, path) < 0)
			goto nomem;
		snprintf(path, sizeof(path), "/tmp/netlab-%u", (unsigned)pw->pw_uid);
		if (add_root(v, n, path) < 0)
			goto nomem;
	}
	endpwent();
	return 0;
nomem:
	if (d)
		closedir(d);
	endpwent();
	errno = ENOMEM;
	return -1;
}

int rootless_as_owner(const struct rootless_root *r, int (*fn)(void *), void *arg)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setresgid(r->gid, r->gid, r->gid) < 0 ||
		    setresuid(r->uid, r->uid, r->uid) < 0) {
			fprintf(stderr, "netlab: become uid %u for %s: %s\n", (unsigned)r->uid, r->path,
				strerror(errno));
			_exit(1);
		}
		setenv("NETLAB_RUN_DIR", r->path, 1);
		int rc = fn(arg);
		fflush(NULL);
		_exit(rc);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
