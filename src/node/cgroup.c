#include "node/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <time.h>
#include <unistd.h>

#include "node/cgroup_user.h"
#include "util/cleanup.h"
#include "util/strutil.h"
#include "lab/hostshare.h"
#include "util/fsutil.h"

/* Lab and node names are at most this long (topo/model.h NLAB_NAME_MAX). */
#define NLAB_NAME_MAX_CG 32

int cgroup_write(const char *dir, const char *file, const char *val, nlab_error **err)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return nlab_error_set(err, errno, "open %s", path);
	if (TEMP_FAILURE_RETRY(write(fd, val, strlen(val))) < 0)
		return nlab_error_set(err, errno, "write '%s' to %s", val, path);
	return 0;
}

static bool has_file(const char *dir, const char *file)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return access(path, F_OK) == 0;
}

static unsigned v1_ctrls(const char *opts)
{
	unsigned c = 0;
	cleanup_free char *copy = strdup(opts);

	for (char *save = NULL, *w = copy ? strtok_r(copy, ",", &save) : NULL; w; w = strtok_r(NULL, ",", &save)) {
		if (!strcmp(w, "cpu"))
			c |= CG_CPU;
		else if (!strcmp(w, "cpuacct"))
			c |= CG_CPUACCT;
		else if (!strcmp(w, "memory"))
			c |= CG_MEMORY;
		else if (!strcmp(w, "pids"))
			c |= CG_PIDS;
	}
	return c;
}

static unsigned v2_ctrls(const char *mnt)
{
	char path[4200];
	unsigned c = 0;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", mnt);
	cleanup_free char *s = read_file(path, 4096, NULL);
	for (char *save = NULL, *w = s ? strtok_r(s, " \n", &save) : NULL; w; w = strtok_r(NULL, " \n", &save)) {
		if (!strcmp(w, "cpu"))
			c |= CG_CPU | CG_CPUACCT; /* v2's cpu.stat does the accounting */
		else if (!strcmp(w, "memory"))
			c |= CG_MEMORY;
		else if (!strcmp(w, "pids"))
			c |= CG_PIDS;
	}
	return c;
}

static int add_hier(struct cgroup_lab *lab, const char *mnt, unsigned ctrls)
{
	char **h = realloc(lab->hier, (lab->n + 1) * sizeof(*h));
	unsigned *c = h ? realloc(lab->ctrls, (lab->n + 1) * sizeof(*c)) : NULL;

	if (h)
		lab->hier = h;
	if (!c)
		return -1;
	lab->ctrls = c;
	if (!(lab->hier[lab->n] = strdup(mnt)))
		return -1;
	lab->ctrls[lab->n++] = ctrls;
	return 0;
}

/* mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS] - FSTYPE SRC SUPEROPTS".
 * Only hierarchies mounted at their root are usable (a cgroup namespace
 * or a bind of a subtree would put our groups somewhere else). */
static int detect(struct cgroup_lab *lab, nlab_error **err)
{
	cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], v2[4096] = "";
	unsigned v2c = 0;

	if (!f)
		return nlab_error_set(err, errno, "open /proc/self/mountinfo");
	struct cgroup_lab v1 = { 0 };
	while (fgets(line, sizeof(line), f)) {
		char root[1024], mnt[1024], fstype[64], super[1024];
		char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*s %*s %*s %1023s %1023s", root, mnt) != 2 ||
		    sscanf(dash + 3, "%63s %*s %1023s", fstype, super) != 2 || strcmp(root, "/") != 0)
			continue;
		if (!strcmp(fstype, "cgroup2") && !v2[0]) {
			snprintf(v2, sizeof(v2), "%s", mnt);
			v2c = v2_ctrls(mnt);
		} else if (!strcmp(fstype, "cgroup")) {
			unsigned c = v1_ctrls(super);
			if (c && add_hier(&v1, mnt, c) < 0) {
				cgroup_lab_free(&v1);
				return nlab_error_set(err, ENOMEM, "cgroups");
			}
		}
	}
	/* Controllers bound to v1 do not show in v2's cgroup.controllers, so
	 * a v2 mount listing them is one that can really enforce them. */
	if (v2[0] && (v2c & (CG_CPU | CG_MEMORY | CG_PIDS)) == (CG_CPU | CG_MEMORY | CG_PIDS)) {
		cgroup_lab_free(&v1);
		lab->v2 = true;
		if (add_hier(lab, v2, v2c) < 0)
			return nlab_error_set(err, ENOMEM, "cgroups");
		return 0;
	}
	*lab = v1;
	return 0;
}

static int push_dir(char ***dirs, size_t *n, const char *path)
{
	char **v = realloc(*dirs, (*n + 1) * sizeof(*v));

	if (!v)
		return -1;
	*dirs = v;
	if (!(v[*n] = strdup(path)))
		return -1;
	(*n)++;
	return 0;
}

static int make_dir(const char *path, nlab_error **err)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return nlab_error_set(err, errno, "create cgroup %s", path);
	return 0;
}

/* The root cgroup is the machine's: a controller netlab enables there is
 * a shared host setting (lab/hostshare.h), recorded before it is enabled
 * and disabled again by the last lab that needed it. */

static int enable_root_controllers(const char *mnt, const char *labname, nlab_error **err)
{
	static const char *const ctrls[] = { "cpu", "memory", "pids" };
	char path[4200];
	int r = 0;

	int lock = hostshare_lock(NULL, err);
	if (lock < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", mnt);
	cleanup_free char *now = read_file(path, 4096, NULL);
	for (size_t k = 0; r == 0 && k < sizeof(ctrls) / sizeof(ctrls[0]); k++) {
		bool was = str_has_word(now, ctrls[k]);
		char val[16];
		if (hostshare_cgroup_controller(lock, labname, mnt, ctrls[k], was, err) < 0) {
			r = -1;
			break;
		}
		snprintf(val, sizeof(val), "+%s", ctrls[k]);
		if (!was && cgroup_write(mnt, "cgroup.subtree_control", val, err) < 0)
			r = -1;
	}
	hostshare_unlock(lock);
	return r;
}

uint64_t cgroup_nodes_tasks_max(void)
{
	cleanup_free char *pm = read_file("/proc/sys/kernel/pid_max", 64, NULL);
	cleanup_free char *tm = read_file("/proc/sys/kernel/threads-max", 64, NULL);
	uint64_t a = pm ? strtoull(pm, NULL, 10) : 0, b = tm ? strtoull(tm, NULL, 10) : 0;
	uint64_t m = a && b ? (a < b ? a : b) : a ? a : b;

	return m ? m / 2 : 16384;
}

int cgroup_lab_create(struct cgroup_lab *lab, const char *labname, nlab_error **err)
{
	memset(lab, 0, sizeof(*lab));
	if (detect(lab, err) < 0)
		return -1;
	for (size_t i = 0; i < lab->n; i++) {
		char path[4200];
		snprintf(path, sizeof(path), "%s/netlab", lab->hier[i]);
		if (make_dir(path, err) < 0)
			return -1;
		if (lab->v2) {
			/* Controllers must be enabled on every level above a
			 * group that uses them. */
			const char *ctl = "+cpu +memory +pids";
			if (enable_root_controllers(lab->hier[i], labname, err) < 0 ||
			    cgroup_write(path, "cgroup.subtree_control", ctl, err) < 0)
				return -1;
		}
		/* Hierarchical: whatever the nodes of every lab do (a fork
		 * bomb in a node with `pids max`), the rest of the machine,
		 * `netlab down` included, can still fork.  netlab's own
		 * directory, written with the same value by every lab. */
		if (lab->ctrls[i] & CG_PIDS) {
			char val[32];
			snprintf(val, sizeof(val), "%llu", (unsigned long long)cgroup_nodes_tasks_max());
			if (cgroup_write(path, "pids.max", val, err) < 0)
				return -1;
		}
		snprintf(path, sizeof(path), "%s/netlab/%s", lab->hier[i], labname);
		if (make_dir(path, err) < 0 || push_dir(&lab->dirs, &lab->ndirs, path) < 0)
			return err && *err ? -1 : nlab_error_set(err, ENOMEM, "cgroups");
		if (lab->v2 && cgroup_write(path, "cgroup.subtree_control", "+cpu +memory +pids", err) < 0)
			return -1;
	}
	return 0;
}

static int apply_limits(const struct cgroup_lab *lab, size_t i, const char *dir, const struct cgroup_limits *lim,
			nlab_error **err)
{
	char val[64];
	unsigned c = lab->ctrls[i];

	if (lim->cpu_millis && (c & CG_CPU)) {
		/* quota/period = the fraction of one CPU; 100 ms is the
		 * kernel's default period. */
		unsigned long quota = (unsigned long)lim->cpu_millis * 100;
		if (lab->v2) {
			snprintf(val, sizeof(val), "%lu 100000", quota);
			if (cgroup_write(dir, "cpu.max", val, err) < 0)
				return -1;
		} else {
			if (!has_file(dir, "cpu.cfs_quota_us"))
				return nlab_error_set(err, ENOTSUP,
						      "cpu limit: %s has no cpu.cfs_quota_us (kernel built without CONFIG_CFS_BANDWIDTH)",
						      dir);
			snprintf(val, sizeof(val), "%lu", quota);
			if (cgroup_write(dir, "cpu.cfs_period_us", "100000", err) < 0 ||
			    cgroup_write(dir, "cpu.cfs_quota_us", val, err) < 0)
				return -1;
		}
	}
	if (lim->memory_bytes && (c & CG_MEMORY)) {
		snprintf(val, sizeof(val), "%llu", (unsigned long long)lim->memory_bytes);
		if (lab->v2) {
			/* No escape into swap either. */
			if (cgroup_write(dir, "memory.max", val, err) < 0 ||
			    (has_file(dir, "memory.swap.max") && cgroup_write(dir, "memory.swap.max", "0", err) < 0))
				return -1;
		} else if (cgroup_write(dir, "memory.limit_in_bytes", val, err) < 0 ||
			   (has_file(dir, "memory.memsw.limit_in_bytes") &&
			    cgroup_write(dir, "memory.memsw.limit_in_bytes", val, err) < 0)) {
			return -1;
		}
	}
	if (lim->pids_max && (c & CG_PIDS)) {
		snprintf(val, sizeof(val), "%u", lim->pids_max);
		if (cgroup_write(dir, "pids.max", val, err) < 0)
			return -1;
	}
	return 0;
}

int cgroup_node_create(const struct cgroup_lab *lab, const char *node, const struct cgroup_limits *lim,
		       char ***dirs, size_t *ndirs, nlab_error **err)
{
	unsigned all = 0;

	*dirs = NULL;
	*ndirs = 0;
	for (size_t i = 0; i < lab->n; i++)
		all |= lab->ctrls[i];
	static const struct {
		unsigned ctrl;
		const char *what, *option;
	} need[] = {
		{ CG_CPU, "cpu", "CONFIG_CGROUP_SCHED and CONFIG_CFS_BANDWIDTH" },
		{ CG_MEMORY, "memory", "CONFIG_MEMCG" },
		{ CG_PIDS, "pids", "CONFIG_CGROUP_PIDS" },
	};
	bool want[3] = { lim->cpu_millis != 0, lim->memory_bytes != 0, lim->pids_max != 0 && !lim->pids_default };
	for (size_t k = 0; k < 3; k++)
		if (want[k] && !(all & need[k].ctrl))
			return nlab_error_set(err, ENOTSUP,
					      "%s limit: no cgroup '%s' controller is mounted (neither cgroup v2 nor v1; kernel option %s)",
					      need[k].what, need[k].what, need[k].option);
	/* Always the pids group (the default limit); memory only for a
	 * `memory` limit (cgroup.h says why), cpu and cpuacct only for a
	 * `cpu` limit: each hierarchy a process joins costs the kernel some
	 * work per node. */
	unsigned use = CG_PIDS | (lim->memory_bytes ? CG_MEMORY : 0) | (lim->cpu_millis ? CG_CPU | CG_CPUACCT : 0);
	for (size_t i = 0; i < lab->ndirs; i++) {
		char path[4200];
		/* v2 is one hierarchy: every node a group of its own there,
		 * even with no controller (a user's cgroup may delegate none),
		 * so that its cgroup namespace is rooted at it. */
		if (!lab->v2 && !(lab->ctrls[i] & use))
			continue;
		snprintf(path, sizeof(path), "%s/%s", lab->dirs[i], node);
		if (mkdir(path, 0755) < 0) {
			int e = errno;
			/* Left by a crash of an earlier lab of this name: reuse
			 * it only when no process is in it. */
			char procs[4300];
			snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
			cleanup_free char *in = e == EEXIST ? read_file(procs, 64, NULL) : NULL;
			if (e != EEXIST || !in || in[0]) {
				cgroup_remove(*dirs, *ndirs);
				cgroup_dirs_free(*dirs, *ndirs);
				*dirs = NULL;
				*ndirs = 0;
				return nlab_error_set(err, e == EEXIST ? EBUSY : e, "create cgroup %s", path);
			}
		}
		if (push_dir(dirs, ndirs, path) < 0)
			return nlab_error_set(err, ENOMEM, "cgroups");
		if (apply_limits(lab, i, path, lim, err) < 0)
			return -1;
	}
	return 0;
}

int cgroup_open_tasks(const char *dir)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/tasks", dir);
	return open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
}

int cgroup_join_self(char *const *dirs, size_t n, nlab_error **err)
{
	for (size_t i = 0; i < n; i++) {
		cleanup_close int fd = cgroup_open_tasks(dirs[i]);
		if (fd < 0 && errno != ENOENT)
			return nlab_error_set(err, errno, "open %s/tasks", dirs[i]);
		if (fd < 0) {
			char val[32];
			snprintf(val, sizeof(val), "%d", (int)getpid());
			if (cgroup_write(dirs[i], "cgroup.procs", val, err) < 0)
				return nlab_error_wrap(err, "join the node's cgroup");
		} else if (TEMP_FAILURE_RETRY(write(fd, "0", 1)) < 0) {
			return nlab_error_set(err, errno, "join the node's cgroup: write '0' to %s/tasks", dirs[i]);
		}
	}
	return 0;
}

int cgroup_attach(char *const *dirs, size_t n, pid_t pid, nlab_error **err)
{
	char val[32];

	snprintf(val, sizeof(val), "%d", (int)pid);
	for (size_t i = 0; i < n; i++)
		if (cgroup_write(dirs[i], "cgroup.procs", val, err) < 0)
			return nlab_error_wrap(err, "join the node's cgroup");
	return 0;
}

const char *cgroup_lab_memory(const struct cgroup_lab *lab)
{
	for (size_t i = 0; !lab->v2 && i < lab->ndirs; i++)
		if (lab->ctrls[i] & CG_MEMORY)
			return lab->dirs[i];
	return NULL;
}

uint64_t cgroup_oom_kills(char *const *dirs, size_t n)
{
	uint64_t kills = 0;

	for (size_t i = 0; i < n; i++) {
		/* v2 memory.events, v1 memory.oom_control: "oom_kill N"
		 * (Linux 4.13), counted in the victim's group whether its
		 * own limit or the whole machine ran out. */
		static const char *const files[] = { "memory.events", "memory.oom_control" };
		for (size_t f = 0; f < 2; f++) {
			char path[4200];
			snprintf(path, sizeof(path), "%s/%s", dirs[i], files[f]);
			cleanup_free char *text = read_file(path, 4096, NULL);
			const char *k = text ? strstr(text, "oom_kill ") : NULL;
			if (k && (k == text || k[-1] == '\n'))
				kills += strtoull(k + 9, NULL, 10);
		}
	}
	return kills;
}

void cgroup_remove(char *const *dirs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		/* A killed process leaves its cgroup only once fully exited;
		 * give the last ones a moment. */
		for (int tries = 0; tries < 200 && rmdir(dirs[i]) < 0 && errno == EBUSY; tries++)
			nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
		/* The shared "netlab" parent goes too when this was its last lab. */
		char parent[4200];
		snprintf(parent, sizeof(parent), "%s", dirs[i]);
		char *slash = strrchr(parent, '/');
		if (slash && slash > parent) {
			*slash = '\0';
			if (!strcmp(strrchr(parent, '/') ? strrchr(parent, '/') + 1 : parent, "netlab"))
				rmdir(parent);
		}
	}
}

int cgroup_remove_checked(char *const *dirs, size_t n, nlab_error **err)
{
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		if (!dirs[i][0])
			continue;
		cgroup_remove(&dirs[i], 1);
		if (access(dirs[i], F_OK) == 0 && r == 0)
			r = nlab_error_set(err, EBUSY, "cgroup %s still holds processes", dirs[i]);
	}
	return r;
}

void cgroup_dirs_free(char **dirs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(dirs[i]);
	free(dirs);
}

void cgroup_lab_free(struct cgroup_lab *lab)
{
	cgroup_dirs_free(lab->hier, lab->n);
	free(lab->ctrls);
	cgroup_dirs_free(lab->dirs, lab->ndirs);
	memset(lab, 0, sizeof(*lab));
}

bool cgroup_path_ok(const char *path, const char *lab, const char *node)
{
	char tail[2 * NLAB_NAME_MAX_CG + 16], real[PATH_MAX];
	struct statfs fs;
	size_t plen, tlen;

	if (!path || path[0] != '/' || strstr(path, "/./") || strstr(path, "/../") || strstr(path, "//"))
		return false;
	if (node)
		snprintf(tail, sizeof(tail), "/netlab/%s/%s", lab, node);
	else
		snprintf(tail, sizeof(tail), "/netlab/%s", lab);
	plen = strlen(path);
	tlen = strlen(tail);
	if (plen <= tlen || strcmp(path + plen - tlen, tail) != 0)
		return false;
	/* No symlink anywhere: the resolved path is the path itself. */
	if (!realpath(path, real) || strcmp(real, path) != 0)
		return false;
	return statfs(path, &fs) == 0 && (fs.f_type == CGROUP_SUPER_MAGIC || fs.f_type == CGROUP2_SUPER_MAGIC);
}

/* Remove one group, retrying as cgroup_remove() while its last
 * processes exit.  Nothing is killed on the strength of a path alone:
 * the lab's processes die with its supervisor and node inits. */
static int sweep_dir(const char *dir, nlab_error **err)
{
	char path[4200];

	for (int tries = 0; tries < 200 && rmdir(dir) < 0 && errno == EBUSY; tries++)
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	if (access(dir, F_OK) != 0)
		return 0;
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	cleanup_free char *procs = read_file(path, 200, NULL);
	for (char *p = procs; p && *p; p++)
		if (*p == '\n')
			*p = ' ';
	return nlab_error_set(err, EBUSY, "cgroup %s still holds processes%s%s", dir, procs && *procs ? ": " : "",
			      procs ? procs : "");
}

/* BASE/netlab/LAB and its nodes' groups, if there. */
static int sweep_base(const char *base, const char *lab, bool *found, nlab_error **err)
{
	char dir[2400], netlab[2300];
	int r = 0;

	snprintf(netlab, sizeof(netlab), "%s/netlab", base);
	snprintf(dir, sizeof(dir), "%s/%s", netlab, lab);
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	*found = true;
	struct dirent *e;
	while ((e = readdir(d))) {
		char sub[2700];
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		if (sweep_dir(sub, r < 0 ? NULL : err) < 0)
			r = -1;
	}
	closedir(d);
	if (sweep_dir(dir, r < 0 ? NULL : err) < 0)
		r = -1;
	/* The shared parent goes when this was its last lab. */
	rmdir(netlab);
	return r;
}

int cgroup_lab_sweep(const char *lab, bool *found, nlab_error **err)
{
	cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int r = 0;

	*found = false;
	if (!f)
		return nlab_error_set(err, errno, "open /proc/self/mountinfo");
	while (fgets(line, sizeof(line), f)) {
		char mnt[1024];
		unsigned v1;
		if (cgroup_mountinfo_line(line, mnt, sizeof(mnt), &v1) &&
		    sweep_base(mnt, lab, found, r < 0 ? NULL : err) < 0)
			r = -1;
	}
	/* A user's lab: below the user's delegated cgroup (cgroup_user.h). */
	if (geteuid() != 0) {
		struct cgroup_user u;
		cgroup_user_detect(&u);
		if (u.delegated && sweep_base(u.dir, lab, found, r < 0 ? NULL : err) < 0)
			r = -1;
	}
	return r;
}
