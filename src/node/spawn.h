/* Making a node's processes: its user namespace first and alone, then its
 * init in new net, UTS, mount, PID, IPC, cgroup and time namespaces owned
 * by it (docs/isolation.md, docs/performance.md).  Used by the lab's
 * spawner (spawner/spawner.h); the stage 1s and inits it makes are its
 * parent's children (CLONE_PARENT).
 *
 * The init is a copy of the spawner's memory, and every page the spawner
 * writes after a copy was taken costs it a copy-on-write fault; on these
 * machines a fault costs 30-60 us, more than any system call of the
 * loop.  So while nodes are being made, the memory the spawner writes per
 * node is memory the inits do not inherit (MADV_DONTFORK): the stage-1
 * stack, the spawner's stack below a fence, and whatever table it keeps
 * in spawner_table_alloc() memory; the one exception is each node's view,
 * mapped fresh for it.  The init runs on a stack of its own that the
 * spawner never touches, so each init's copy starts empty. */
#ifndef NETLAB_NODE_SPAWN_H
#define NETLAB_NODE_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "topo/model.h"
#include "util/error.h"

/* Nodes in the making; lives in memory children do not inherit. */
struct spawner;

/* The init's entry point: runs on the init stack with fds 3 (ctl) and 4
 * (log) and, as SPAWN_SUPERVISOR_FD, a pidfd of the process that made it
 * (when pidfd_open() worked), nothing else open above stdio; must not
 * return.  It closes the pidfd once it has checked that the maker is
 * still there (a PR_SET_PDEATHSIG set after the maker died never
 * fires). */
#define SPAWN_SUPERVISOR_FD 6
typedef void (*spawn_init_fn)(void *arg);

struct spawn_node_args {
	const struct topo_node *tn;     /* its time namespace offsets */
	bool userns;
	uint32_t uid_base, gid_base;    /* with userns */
	uint32_t id_size;               /* 0: a slot of 65536; else rootless (node/userns.h) */
	bool setgroups_deny;            /* rootless without subordinate IDs */
	char *const *cgroups;           /* moved there before anything runs (at most
					 * SPAWN_MAX_CGROUPS) */
	size_t ncgroups;
	int ctl, log;                   /* become the init's fds 3 and 4 */
	int mntns;                      /* the mount namespace the init's is a copy of (a descriptor
					 * above 2), or 0 or -1: ours */
	spawn_init_fn init;
	void *init_arg;                 /* in memory the init inherits */
};

/* Map the stacks and stop the stack below `fence` from being inherited.
 * `fence` is the bottom of an unused alloca() of at least two pages in a
 * frame that stays live until spawner_end(): everything under it is
 * frames of the caller's callees, everything from it up stays. */
struct spawner *spawner_begin(uintptr_t fence, nlab_error **err);

/* Start making one node; `tag` comes back from spawner_collect().  `a`
 * is copied, but what it points to must stay as it is until then.  The
 * caller may close its copies of a->ctl and a->log on return.  Several
 * nodes are in the making at once (their stage 1s wait in the kernel's
 * namespace code while this process goes on): submit while
 * !spawner_full(), else collect. */
int spawner_submit(struct spawner *sp, const struct spawn_node_args *a, void *tag, nlab_error **err);
bool spawner_full(const struct spawner *sp);
size_t spawner_pending(const struct spawner *sp);
/* The descriptors spawner_collect() waits on, for a caller that waits on
 * others too: at most SPAWN_DEPTH entries of p. */
struct pollfd;
size_t spawner_pollfds(const struct spawner *sp, struct pollfd *p);

/* Wait for one submitted node: its tag, its init's pid and its stage 1's
 * (children of this process's parent, by CLONE_PARENT: the parent reaps
 * them).  On failure *tag still names the node when known. */
int spawner_collect(struct spawner *sp, void **tag, pid_t *pid, pid_t *stage1, nlab_error **err);

/* Kill what is still pending (inits already made are the caller's parent's
 * children and stay), wait until every stage 1 has exited, and let
 * children inherit the whole stack again. */
void spawner_end(struct spawner *sp);

#define SPAWN_MAX_CGROUPS 8

/* Nodes in the making at once (spawner_full()). */
#define SPAWN_DEPTH 4

/* Zeroed memory that children do not inherit; never freed. */
void *spawner_table_alloc(size_t size, nlab_error **err);

#endif
