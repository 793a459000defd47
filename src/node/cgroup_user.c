/* The user's delegated cgroup v2 subtree (cgroup_user.h): found by
 * `check`, `up` and `down` of a user, used by a rootless lab's
 * supervisor (in the lab's user namespace, as its uid 0: the user). */
#include "node/cgroup_user.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "node/cgroup.h"
#include "util/cleanup.h"
#include "util/fsutil.h"

static unsigned ctrl_bit(const char *w, size_t len)
{
	if (len == 3 && !strncmp(w, "cpu", 3))
		return CG_CPU | CG_CPUACCT; /* v2's cpu.stat does the accounting */
	if (len == 6 && !strncmp(w, "memory", 6))
		return CG_MEMORY;
	if (len == 4 && !strncmp(w, "pids", 4))
		return CG_PIDS;
	return 0;
}

unsigned cgroup_controllers_parse(const char *list)
{
	unsigned c = 0;

	for (const char *p = list; p && *p;) {
		p += strspn(p, " \n");
		size_t len = strcspn(p, " \n");
		c |= ctrl_bit(p, len);
		p += len;
	}
	return c;
}

/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS] - FSTYPE SRC SUPEROPTS".
 * Only hierarchies mounted at their root count: a bind of a subtree (or
 * one mounted in a cgroup namespace) names groups by other paths. */
int cgroup_mountinfo_line(const char *line, char *mnt, size_t len, unsigned *v1)
{
	char root[1024], m[1024], fstype[64], super[1024];
	const char *dash = strstr(line, " - ");

	if (!dash || sscanf(line, "%*s %*s %*s %1023s %1023s", root, m) != 2 ||
	    sscanf(dash + 3, "%63s %*s %1023s", fstype, super) != 2 || strcmp(root, "/") != 0)
		return 0;
	if (strcmp(fstype, "cgroup2") != 0 && strcmp(fstype, "cgroup") != 0)
		return 0;
	if ((size_t)snprintf(mnt, len, "%s", m) >= len)
		return 0;
	if (!strcmp(fstype, "cgroup2"))
		return 2;
	*v1 = 0;
	for (const char *p = super; *p;) {
		size_t n = strcspn(p, ",");
		*v1 |= ctrl_bit(p, n);
		p += n + (p[n] == ',');
	}
	return 1;
}

int cgroup_proc_path(const char *text, char *path, size_t len)
{
	static const char leaf[] = "/" CGROUP_USER_LEAF;

	for (const char *p = text; p && *p;) {
		size_t n = strcspn(p, "\n");
		if (n >= 3 && !strncmp(p, "0::", 3) && p[3] == '/' && n - 3 < len) {
			memcpy(path, p + 3, n - 3);
			path[n - 3] = '\0';
			size_t k = strlen(path);
			/* netlab's own leaf below the user's cgroup: the user's
			 * cgroup is the one above (cgroup_user.h). */
			if (k >= sizeof(leaf) - 1 && !strcmp(path + k - (sizeof(leaf) - 1), leaf)) {
				path[k - (sizeof(leaf) - 1)] = '\0';
				if (!path[0])
					strcpy(path, "/");
			}
			return 0;
		}
		p += n + (p[n] == '\n');
	}
	return -1;
}

static void words_of(unsigned c, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", c & CG_CPU ? "cpu " : "", c & CG_MEMORY ? "memory " : "",
		 c & CG_PIDS ? "pids " : "");
	size_t n = strlen(buf);
	if (n)
		buf[n - 1] = '\0';
}

static void read_list(const char *dir, const char *file, char *buf, size_t len)
{
	char path[2400];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	cleanup_free char *s = read_file(path, 4096, NULL);
	snprintf(buf, len, "%s", s ? s : "");
	buf[strcspn(buf, "\n")] = '\0';
}

static bool writable(const char *dir, const char *file)
{
	char path[2400];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) == 0;
}

void cgroup_user_detect(struct cgroup_user *u)
{
	memset(u, 0, sizeof(*u));
	cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	unsigned v1 = 0;

	while (f && fgets(line, sizeof(line), f)) {
		char m[1024];
		unsigned c = 0;
		int k = cgroup_mountinfo_line(line, m, sizeof(m), &c);
		if (k == 2 && !u->mount[0])
			snprintf(u->mount, sizeof(u->mount), "%s", m);
		else if (k == 1)
			v1 |= c;
	}
	words_of(v1, u->v1, sizeof(u->v1));
	if (!u->mount[0]) {
		snprintf(u->why, sizeof(u->why), "no cgroup v2 file system is mounted");
		return;
	}
	read_list(u->mount, "cgroup.controllers", u->mount_controllers, sizeof(u->mount_controllers));
	cleanup_free char *pc = read_file("/proc/self/cgroup", 65536, NULL);
	if (!pc || cgroup_proc_path(pc, u->path, sizeof(u->path)) < 0) {
		snprintf(u->why, sizeof(u->why),
			 "this process is in no cgroup v2 group (no 0:: line in /proc/self/cgroup)");
		return;
	}
	snprintf(u->dir, sizeof(u->dir), "%s%s", u->mount, strcmp(u->path, "/") ? u->path : "");
	struct stat sb;
	if (!strcmp(u->path, "/")) {
		snprintf(u->why, sizeof(u->why),
			 "your cgroup is the root of the cgroup v2 hierarchy at %s, the machine's", u->mount);
		return;
	}
	if (stat(u->dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		snprintf(u->why, sizeof(u->why), "your cgroup %s is not found under %s", u->path, u->mount);
		return;
	}
	if (sb.st_uid != geteuid()) {
		snprintf(u->why, sizeof(u->why), "your cgroup %s (under %s) belongs to uid %u, not to you", u->path,
			 u->mount, (unsigned)sb.st_uid);
		return;
	}
	if (!writable(u->dir, ".") || !writable(u->dir, "cgroup.procs") ||
	    !writable(u->dir, "cgroup.subtree_control")) {
		snprintf(u->why, sizeof(u->why),
			 "your cgroup %s (under %s) is yours, but you may not write its cgroup.procs and "
			 "cgroup.subtree_control",
			 u->path, u->mount);
		return;
	}
	read_list(u->dir, "cgroup.controllers", u->controllers, sizeof(u->controllers));
	u->ctrls = cgroup_controllers_parse(u->controllers);
	u->delegated = true;
}

void cgroup_user_deleg(const struct cgroup_user *u, struct topo_deleg *d)
{
	*d = (struct topo_deleg){
		.delegated = u->delegated,
		.cgroup = u->path[0] ? u->path : NULL,
		.controllers = u->controllers,
		.why = u->why,
		.mount = u->mount[0] ? u->mount : NULL,
		.mount_controllers = u->mount_controllers,
		.v1 = u->v1,
	};
}

static int make_dir(const char *path, nlab_error **err)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return nlab_error_set(err, errno, "create cgroup %s", path);
	return 0;
}

/* Every process of X into X/netlab-leaf, until none is left (they fork
 * meanwhile): a few rounds.  One that exits meanwhile is no error. */
static int move_to_leaf(const char *x, nlab_error **err)
{
	char leaf[2400], procs[2400];

	snprintf(leaf, sizeof(leaf), "%s/%s", x, CGROUP_USER_LEAF);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", x);
	if (make_dir(leaf, err) < 0)
		return -1;
	for (int round = 0; round < 20; round++) {
		cleanup_free char *in = read_file(procs, 1 << 20, NULL);
		if (!in)
			return nlab_error_set(err, errno, "read %s", procs);
		if (!in[0])
			return 0;
		for (char *save = NULL, *w = strtok_r(in, "\n", &save); w; w = strtok_r(NULL, "\n", &save)) {
			nlab_error *e = NULL;
			if (cgroup_write(leaf, "cgroup.procs", w, &e) == 0)
				continue;
			if (e->errnum == ESRCH) { /* gone meanwhile */
				nlab_error_free(&e);
				continue;
			}
			if (err)
				*err = e;
			else
				nlab_error_free(&e);
			return nlab_error_wrap(err, "move the processes of your cgroup into its leaf");
		}
	}
	return nlab_error_set(err, EBUSY, "the processes of %s keep coming: could not move them into %s", x, leaf);
}

int cgroup_lab_create_user(struct cgroup_lab *lab, const struct cgroup_user *u, const char *labname, nlab_error **err)
{
	char path[2400], ctl[64] = "", now[256];
	unsigned c = u->ctrls & (CG_CPU | CG_MEMORY | CG_PIDS);

	memset(lab, 0, sizeof(*lab));
	lab->v2 = true;
	lab->hier = calloc(1, sizeof(*lab->hier));
	lab->ctrls = calloc(1, sizeof(*lab->ctrls));
	if (!lab->hier || !lab->ctrls || !(lab->hier[0] = strdup(u->dir)))
		return nlab_error_set(err, ENOMEM, "cgroups");
	lab->n = 1;
	lab->ctrls[0] = u->ctrls;
	snprintf(ctl, sizeof(ctl), "%s%s%s", c & CG_CPU ? "+cpu " : "", c & CG_MEMORY ? "+memory " : "",
		 c & CG_PIDS ? "+pids " : "");
	if (ctl[0])
		ctl[strlen(ctl) - 1] = '\0';
	/* The user's cgroup hands them down only once they are enabled in
	 * its subtree_control, which the kernel refuses (EBUSY) while it
	 * holds processes: those go into a leaf of their own first. */
	read_list(u->dir, "cgroup.subtree_control", now, sizeof(now));
	if (ctl[0] && (cgroup_controllers_parse(now) & c) != c) {
		nlab_error *e = NULL;
		if (cgroup_write(u->dir, "cgroup.subtree_control", ctl, &e) < 0) {
			bool busy = e->errnum == EBUSY;
			nlab_error_free(&e);
			if (!busy)
				return cgroup_write(u->dir, "cgroup.subtree_control", ctl, err);
			if (move_to_leaf(u->dir, err) < 0 || cgroup_write(u->dir, "cgroup.subtree_control", ctl, err) < 0)
				return -1;
		}
	}
	snprintf(path, sizeof(path), "%s/netlab", u->dir);
	if (make_dir(path, err) < 0 || (ctl[0] && cgroup_write(path, "cgroup.subtree_control", ctl, err) < 0))
		return -1;
	/* As under root's netlab/: whatever the nodes do, the user's own
	 * session keeps room to fork (node/cgroup.h). */
	if (c & CG_PIDS) {
		char val[32];
		snprintf(val, sizeof(val), "%llu", (unsigned long long)cgroup_nodes_tasks_max());
		if (cgroup_write(path, "pids.max", val, err) < 0)
			return -1;
	}
	snprintf(path, sizeof(path), "%s/netlab/%s", u->dir, labname);
	if (make_dir(path, err) < 0)
		return -1;
	/* Recorded at once: the caller removes what it holds on failure. */
	lab->dirs = calloc(1, sizeof(*lab->dirs));
	if (!lab->dirs || !(lab->dirs[0] = strdup(path)))
		return nlab_error_set(err, ENOMEM, "cgroups");
	lab->ndirs = 1;
	if (ctl[0] && cgroup_write(path, "cgroup.subtree_control", ctl, err) < 0)
		return -1;
	return 0;
}
