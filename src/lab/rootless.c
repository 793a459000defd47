#include "lab/rootless.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab/state.h"
#include "util/cleanup.h"
#include "util/fsutil.h"

#define INSIDE_ENV "NETLAB_LAB_USERNS"

static int inside = -1; /* rootless_inside(), once known; 1 after rootless_join() */

bool rootless_inside(void)
{
	if (inside < 0) {
		const char *e = getenv(INSIDE_ENV);
		struct rootless_info ri;
		rootless_info_read(&ri);
		inside = e && !strcmp(e, "1") && ri.nested;
	}
	return inside;
}

bool rootless(void)
{
	return geteuid() != 0 || rootless_inside();
}

int rootless_state_root(char *buf, size_t len, uid_t uid, const char *xdg, const char *home)
{
	int n;

	/* The runtime directory is the user's own (pam_systemd: 0700, gone
	 * at logout or reboot, as a lab's namespaces are); a home is the
	 * fallback for sessions without one (su, ssh without systemd). */
	if (xdg && xdg[0] == '/')
		n = snprintf(buf, len, "%s/netlab", xdg);
	else if (home && home[0] == '/' && strcmp(home, "/") != 0)
		n = snprintf(buf, len, "%s/.local/state/netlab", home);
	else
		n = snprintf(buf, len, "/tmp/netlab-%u", (unsigned)uid);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int rootless_subid(const char *path, const char *name, uint32_t id, struct rootless_range *out)
{
	cleanup_fclose FILE *f = fopen(path, "re");
	char line[512], num[16];

	if (!f)
		return -1;
	snprintf(num, sizeof(num), "%u", id);
	while (fgets(line, sizeof(line), f)) {
		char who[256];
		unsigned long long start, count;
		if (line[0] == '#' || sscanf(line, "%255[^:]:%llu:%llu", who, &start, &count) != 3)
			continue;
		if ((!name || strcmp(who, name) != 0) && strcmp(who, num) != 0)
			continue;
		if (count == 0 || start == 0 || start + count > 0xFFFFFFFFull)
			continue;
		out->start = (uint32_t)start;
		out->count = (uint32_t)count;
		return 0;
	}
	return -1;
}

static int write_file(const char *path, const char *text, nlab_error **err)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write_all(fd, text, strlen(text)) < 0)
		return nlab_error_set(err, errno, "write '%s' to %s", text, path);
	return 0;
}

/* newuidmap/newgidmap PID 0 ID 1 1 START COUNT: setuid helpers that
 * check the ranges against /etc/subuid (/etc/subgid) themselves. */
static int run_helper(const char *helper, pid_t pid, uint32_t id, const struct rootless_range *r, nlab_error **err)
{
	char p[16], i[16], s[16], c[16];
	snprintf(p, sizeof(p), "%d", (int)pid);
	snprintf(i, sizeof(i), "%u", id);
	snprintf(s, sizeof(s), "%u", r->start);
	snprintf(c, sizeof(c), "%u", r->count);
	char *argv[] = { (char *)helper, p, "0", i, "1", "1", s, c, NULL };
	pid_t h = fork();
	if (h < 0)
		return nlab_error_set(err, errno, "fork %s", helper);
	if (h == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null >= 0)
			dup2(null, 0);
		execv(helper, argv);
		_exit(127);
	}
	int st;
	if (TEMP_FAILURE_RETRY(waitpid(h, &st, 0)) < 0)
		return nlab_error_set(err, errno, "wait for %s", helper);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return nlab_error_set(err, 0, "%s %s 0 %s 1 1 %s %s failed (status %d): check /etc/%s", helper, p, i, s,
				      c, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
				      strstr(helper, "gid") ? "subgid" : "subuid");
	return 0;
}

static const char *helper_path(const char *name)
{
	static const char *dirs[] = { "/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/" };
	static char buf[64];
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(buf, sizeof(buf), "%s%s", dirs[i], name);
		if (access(buf, X_OK) == 0)
			return buf;
	}
	return NULL;
}

static int lab_maps(pid_t child, nlab_error **err)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	struct passwd *pw = getpwuid(uid);
	struct group *gr = getgrgid(gid);
	struct rootless_range ru, rg;
	bool has_u = rootless_subid("/etc/subuid", pw ? pw->pw_name : NULL, uid, &ru) == 0;
	bool has_g = rootless_subid("/etc/subgid", pw ? pw->pw_name : NULL, uid, &rg) == 0;
	char path[64], map[64];
	(void)gr;

	/* Both ranges, or neither: a lab with IDs for uids but not gids
	 * would fail later in a node's chown or setgid. */
	if (has_u && has_g) {
		char hu[64], hg[64];
		const char *a = helper_path("newuidmap"), *b;
		if (a)
			snprintf(hu, sizeof(hu), "%s", a);
		b = helper_path("newgidmap");
		if (b)
			snprintf(hg, sizeof(hg), "%s", b);
		if (a && b) {
			if (run_helper(hu, child, uid, &ru, err) < 0 || run_helper(hg, child, gid, &rg, err) < 0)
				return nlab_error_wrap(err, "ID maps of the lab's user namespace");
			return 0;
		}
	}
	/* Only the user's own IDs: a process may map its own uid and gid
	 * into a namespace it owns, once setgroups is denied there. */
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)child);
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
	if (write_file(path, map, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)child);
	if (write_file(path, "deny", err) < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)child);
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
	return write_file(path, map, err);
}

/* IDs besides 0 a map gives, and whether it is the initial namespace's. */
static uint32_t mapped(const char *path, bool *initial)
{
	cleanup_fclose FILE *f = fopen(path, "re");
	unsigned long long in, out, count, total = 0;

	*initial = false;
	if (!f)
		return 0;
	while (fscanf(f, "%llu %llu %llu", &in, &out, &count) == 3) {
		if (in == 0 && out == 0 && count == 4294967295ull)
			*initial = true;
		total += count;
	}
	return total > 0 ? (uint32_t)(total - 1 > 0xFFFFFFFFull ? 0xFFFFFFFFull : total - 1) : 0;
}

int rootless_info_read(struct rootless_info *ri)
{
	bool iu, ig;
	char buf[16] = "";

	memset(ri, 0, sizeof(*ri));
	ri->uids = mapped("/proc/self/uid_map", &iu);
	ri->gids = mapped("/proc/self/gid_map", &ig);
	ri->nested = !iu;
	cleanup_close int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	ri->setgroups = n > 0 && !strncmp(buf, "allow", 5);
	return 0;
}

void rootless_slot(uint32_t ids, size_t n, size_t k, uint32_t *base, uint32_t *size)
{
	uint64_t s = n ? 1 + (uint64_t)ids / n : 1;

	if (s > 65536)
		s = 65536;
	*size = (uint32_t)s;
	*base = s > 1 ? (uint32_t)(1 + (uint64_t)k * (s - 1)) : 0;
}

/* The arguments this process was started with. */
static char **self_argv(void)
{
	cleanup_close int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	static char buf[65536];
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	size_t argc = 0;
	for (ssize_t i = 0; i < n; i++)
		argc += buf[i] == '\0';
	char **argv = calloc(argc + 1, sizeof(*argv));
	if (!argv)
		return NULL;
	size_t k = 0;
	for (char *p = buf; p < buf + n && k < argc; p += strlen(p) + 1)
		argv[k++] = p;
	return argv;
}

static volatile pid_t child_pid;

static void forward(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

/* Fork a child that makes a user namespace, waits while this process
 * writes the lab's maps into it (lab_maps()), and becomes its root.
 * Here: the child's pid, or -1 with *err (`fail` says what).  In the
 * child: 0; a child that cannot get there exits 1, saying why on stderr
 * when `verb` is given. */
static pid_t fork_mapped(const char *verb, const char *fail, nlab_error **err)
{
	int tell[2], go[2];
	char c = 0;

	if (pipe2(tell, O_CLOEXEC) < 0)
		return nlab_error_set(err, errno, "pipe");
	if (pipe2(go, O_CLOEXEC) < 0) {
		close(tell[0]);
		close(tell[1]);
		return nlab_error_set(err, errno, "pipe");
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(tell[0]), close(tell[1]), close(go[0]), close(go[1]);
		return nlab_error_set(err, e, "fork");
	}
	if (pid == 0) {
		close(tell[0]);
		close(go[1]);
		c = unshare(CLONE_NEWUSER) < 0;
		if (c && verb)
			dprintf(2,
				"%s: make the lab's user namespace: %s (are unprivileged user namespaces allowed? "
				"user.max_user_namespaces, kernel.apparmor_restrict_unprivileged_userns)\n",
				verb, strerror(errno));
		if (write_all(tell[1], &c, 1) < 0 || c || TEMP_FAILURE_RETRY(read(go[0], &c, 1)) != 1 || c != 0)
			_exit(1); /* the parent says why */
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
			if (verb)
				dprintf(2, "%s: become root of the lab's user namespace: %s\n", verb, strerror(errno));
			_exit(1);
		}
		close(tell[1]);
		close(go[0]);
		return 0;
	}
	close(tell[1]);
	close(go[0]);
	int r = 0;
	if (TEMP_FAILURE_RETRY(read(tell[0], &c, 1)) != 1 || c != 0)
		r = nlab_error_set(err, 0, "%s", fail);
	else
		r = lab_maps(pid, err);
	c = r < 0;
	write_all(go[1], &c, 1);
	close(tell[0]);
	close(go[1]);
	if (r < 0) {
		TEMP_FAILURE_RETRY(waitpid(pid, NULL, 0));
		return -1;
	}
	return pid;
}

int rootless_reexec(const char *root, nlab_error **err)
{
	cleanup_free char **argv = self_argv();
	if (!argv)
		return nlab_error_set(err, errno ? errno : ENOMEM, "read /proc/self/cmdline");
	pid_t pid = fork_mapped("netlab up", "the lab's user namespace could not be made", err);
	if (pid < 0)
		return -1;
	if (pid == 0) {
		setenv("NETLAB_RUN_DIR", root, 1);
		setenv(INSIDE_ENV, "1", 1);
		execv("/proc/self/exe", argv);
		dprintf(2, "netlab up: execute /proc/self/exe: %s\n", strerror(errno));
		_exit(1);
	}
	/* ^C reaches the child from the terminal itself (same process group);
	 * a SIGTERM for this process is passed on. */
	child_pid = pid;
	struct sigaction sa = { .sa_handler = forward };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return nlab_error_set(err, errno, "wait for netlab up");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int rootless_mapped(int (*fn)(void *), void *arg, nlab_error **err)
{
	pid_t pid = fork_mapped(NULL, "a user namespace with the lab's IDs could not be made", err);
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn(arg) < 0 ? 1 : 0);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return nlab_error_set(err, errno, "wait");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int rootless_join(const char *lab, nlab_error **err)
{
	struct lab_state st;

	if (!rootless() || geteuid() == 0)
		return 0;
	/* The state root stays the user's once uid 0 of the namespace. */
	setenv("NETLAB_RUN_DIR", state_root(), 1);
	if (state_read(lab, &st, err) < 0)
		return -1;
	cleanup_close int fd = proc_id_pidfd(&st.supervisor);
	state_clear(&st);
	if (fd < 0)
		return nlab_error_set(err, errno, "lab '%s' is not up (its supervisor is gone)", lab);
	/* Its network namespace too (the lab's): code that enters a node's
	 * and comes back must come back to one this namespace owns. */
	if (setns(fd, CLONE_NEWUSER | CLONE_NEWNET) < 0)
		return nlab_error_set(err, errno, "enter the lab's user namespace");
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		return nlab_error_set(err, errno, "become root of the lab's user namespace");
	inside = 1;
	return 0;
}
