/* Per-node cgroups under a per-lab parent: <hierarchy>/netlab/<lab>/<node>.
 * cgroup v2 when its unified hierarchy has the cpu, memory and pids
 * controllers, else the v1 hierarchies of those controllers (plus cpuacct,
 * for accounting).  A requested limit that no mounted controller can
 * enforce is an error, never silently dropped.
 *
 * Every node has a group in the pids hierarchy, limits or not: its
 * default pids limit lives there.  What it uses (its processes' memory,
 * the pages of its tmpfs layer and of its log) is charged to its own
 * memory group when it has a `memory` limit, else to the lab's (with
 * cgroup v1; v2 has one hierarchy: a group of every node), rather than
 * to whoever ran `netlab up`.  Not a memory group per node: the kernel
 * sizes each memory group's shrinker table by the number of file
 * systems on the machine, which every node adds to (proc, sysfs, its
 * root...), so that groups per node cost memory and time in the square
 * of the lab's size (measured: 1.6 MiB of kernel memory per node at
 * 10,000 nodes, 0.9 at 3,000).  The shared
 * parent <hierarchy>/netlab caps the tasks of all nodes of all labs
 * (cgroup_lab_create), so netlab itself and the machine keep room to
 * fork whatever the nodes do. */
#ifndef NETLAB_NODE_CGROUP_H
#define NETLAB_NODE_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

struct cgroup_limits {
	uint32_t cpu_millis;    /* thousandths of a CPU, 0 = none */
	uint64_t memory_bytes;  /* 0 = none (still accounted) */
	uint32_t pids_max;      /* 0 = none */
	bool pids_default;      /* pids_max is netlab's default, not asked for:
				 * applied where a pids controller exists */
};

struct cgroup_lab {
	bool v2;
	char **hier;            /* mount points used (one for v2) */
	unsigned *ctrls;        /* CG_* controllers available in each */
	size_t n;
	char **dirs;            /* <hier>/netlab/<lab>, created */
	size_t ndirs;
};

#define CG_CPU     (1u << 0)
#define CG_CPUACCT (1u << 1)
#define CG_MEMORY  (1u << 2)
#define CG_PIDS    (1u << 3)

/* Find the hierarchies (from /proc/self/mountinfo) and create the lab's
 * parent in each.  No cgroup support at all leaves lab->n == 0. */
int cgroup_lab_create(struct cgroup_lab *lab, const char *labname, nlab_error **err);
/* Create the node's cgroup(s) and apply its limits; *dirs gets the
 * directories (caller frees with cgroup_dirs_free). */
int cgroup_node_create(const struct cgroup_lab *lab, const char *node, const struct cgroup_limits *lim,
		       char ***dirs, size_t *ndirs, nlab_error **err);
/* The share of the machine's tasks all nodes together may use: half of
 * the smaller of kernel.pid_max and kernel.threads-max. */
uint64_t cgroup_nodes_tasks_max(void);
/* The lab's memory group (v1), which nodes without a memory group of
 * their own join; NULL when there is none or with v2. */
const char *cgroup_lab_memory(const struct cgroup_lab *lab);
/* How many processes of the group the kernel's OOM killer killed (its
 * memory.events or memory.oom_control), 0 when none or unknown. */
uint64_t cgroup_oom_kills(char *const *dirs, size_t n);
/* Joining a group the fast way.  cgroup.procs moves a whole thread
 * group, for which the kernel takes cgroup_threadgroup_rwsem for writing,
 * and that waits for an RCU grace period (percpu_down_write ->
 * rcu_sync_enter -> synchronize_rcu): 7-15 ms per write on these
 * machines.  v1's `tasks` file, written "0" by the process itself, moves
 * the writing thread alone without that lock (0.1 ms); a process of one
 * thread is then wholly moved.  The permission is checked against whoever
 * opened the file, so a process may be handed the descriptor.
 * cgroup_open_tasks: DIR/tasks for writing, or -1 (errno ENOENT: v2, no
 * such file).  cgroup_join_self: the calling process, of one thread, into
 * every directory of dirs: "0" to tasks, else its pid to cgroup.procs. */
int cgroup_open_tasks(const char *dir);
int cgroup_join_self(char *const *dirs, size_t n, nlab_error **err);
/* Move pid into every directory of dirs. */
int cgroup_attach(char *const *dirs, size_t n, pid_t pid, nlab_error **err);
/* Write val into DIR/FILE (a cgroup's control file). */
int cgroup_write(const char *dir, const char *file, const char *val, nlab_error **err);
/* rmdir, retrying while the last processes exit (up to ~2 s); the lab's
 * parents go after their nodes, and `netlab` above them when empty. */
void cgroup_remove(char *const *dirs, size_t n);
void cgroup_dirs_free(char **dirs, size_t n);
/* cgroup_remove(), skipping empty strings, and -1 with *err naming a
 * group that is still there (its processes would not go). */
int cgroup_remove_checked(char *const *dirs, size_t n, nlab_error **err);

/* Is path a node's cgroup of this lab, <a cgroup mount>/netlab/LAB/NODE
 * (NODE NULL: the lab's parent), with no symlink, "." or ".." on the way
 * and on a cgroup file system?  Paths read from state files are checked
 * with it before a process is moved there or a directory removed. */
bool cgroup_path_ok(const char *path, const char *lab, const char *node);

/* `down`, with or without (usable) state: every <cgroup mount>/netlab/LAB,
 * found from the mounts, and its nodes' groups removed (once their
 * processes are gone: nothing is killed on the strength of a path).  *found tells whether there was any.  -1 with *err when one
 * could not be removed. */
int cgroup_lab_sweep(const char *lab, bool *found, nlab_error **err);
void cgroup_lab_free(struct cgroup_lab *lab);

#endif
