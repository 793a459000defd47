/* Lab state under /run/netlab/<lab>/: what `up` built, so that `status`,
 * `exec` and `down` can find it again even after the supervisor died.
 * Written atomically (temp file + rename) as JSON through json-c. */
#ifndef NETLAB_LAB_STATE_H
#define NETLAB_LAB_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "topo/model.h"
#include "util/error.h"

struct proc_id {
	pid_t pid;
	uint64_t starttime;     /* /proc/PID/stat field 22: tells pid reuse apart */
};

/* A `run` line whose process ended after its node was ready. */
struct state_exited {
	int line;               /* topology line */
	int wstatus;            /* as waitpid() gives it */
};

struct state_node {
	char *name;
	struct proc_id init;
	bool userns;            /* has its own user namespace */
	uint32_t uid_base, gid_base;    /* host IDs of its 0 (userns only) */
	bool has_user;          /* `user`: commands run as uid:gid */
	uint32_t uid, gid;
	char **cgroups;         /* the node's cgroup directories */
	size_t ncgroups;
	/* What happened after `up` (runtime.json, written by the
	 * supervisor): run lines that ended, restarts, the init's death. */
	struct state_exited *exited;
	size_t nexited;
	int restarts;           /* `netlab restart`s of the node */
	int64_t restarted;      /* when the last began (unix time), 0: never */
	bool restarting;        /* that one is under way */
	char *restart_error;    /* why it failed, NULL when it did not */
	bool died;              /* its init ended while the lab was up */
	int died_wstatus;       /* as waitpid() gave it */
	uint64_t oom_kills;     /* processes of the node the OOM killer killed */
	int64_t died_at;        /* unix time */
};

struct state_host_link {
	char name[NLAB_IFNAMSIZ];
	int ifindex;
};

/* A host interface the lab took (`move`, or attached to a switch): what
 * it was, so that it is given back as it was. */
struct state_host_iface {
	char name[NLAB_IFNAMSIZ];       /* its name in the host */
	int ifindex;                    /* and ifindex there */
	char where[NLAB_NAME_MAX + 1];  /* the node it went to; "" = the lab namespace */
	char inside[NLAB_IFNAMSIZ];     /* its name there */
	int inside_ifindex;
	bool up;
	int mtu;
	char **addrs;                   /* "ADDR/LEN", as they were */
	size_t naddrs;
	char *pin;                      /* a bind mount keeping that namespace alive */
};

/* A host sysctl the lab holds a share of (lab/hostshare.h keeps the
 * original value and the other holders). */
struct state_sysctl {
	char *key;
	char *value;
};

/* A rule netlab added to a table of the starting namespace: found again
 * by its comment (which starts with the lab's tag) when the lab goes down. */
struct state_host_rule {
	int family;             /* 4 or 6 */
	char table[16];
	char chain[32];
	char *comment;
};

struct lab_state {
	char *lab;
	char *topology;         /* absolute path of the .topo file */
	int64_t created;        /* unix time */
	int grace_ms;
	struct proc_id supervisor;
	struct state_node *nodes;
	size_t nnodes;
	struct state_host_link *host_links;
	size_t nhost_links;
	struct state_sysctl *host_sysctls;
	size_t nhost_sysctls;
	struct state_host_rule *host_rules;
	size_t nhost_rules;
	struct state_host_iface *host_ifaces;
	size_t nhost_ifaces;
	char **cgroups;         /* the lab's parent cgroup directories */
	size_t ncgroups;
	/* The lab's memory group (one of cgroups), which its nodes without
	 * a memory group of their own are in (node/cgroup.h); NULL: none.
	 * nodes.idx lists it with each such node's groups, for exec. */
	char *memory_group;
	/* `up --netns-names`: names under /run/netns (lab/netns_names.h),
	 * recorded before they are made; written by `netlab up` after UP. */
	char **netns_names;
	size_t nnetns_names;
	/* Host directories the nodes' roots can write to (the topology's
	 * directory as /lab, writable bind mounts): tidied by `down`
	 * (lab/labdir.h). */
	char **write_dirs;
	size_t nwrite_dirs;
};

/* Root of all lab state; NETLAB_RUN_DIR overrides /run/netlab (tests). */
const char *state_root(void);

/* Names are never paths: a lab or node name from a command line or a
 * state file is checked with these (topo_lab_name_valid(),
 * topo_object_name_valid()) before it is joined into any path.  0, or -1
 * with errnum EINVAL. */
int state_check_lab_name(const char *lab, nlab_error **err);
int state_check_node_name(const char *node, nlab_error **err);

/* The state root, opened O_NOFOLLOW and checked to be a directory of
 * this euid that no one else may write (create: made first if missing).
 * Every state file is opened relative to it. */
int state_root_open(bool create, nlab_error **err);
/* <root>/<lab>, opened and checked the same way; errnum ENOENT ("lab 'x'
 * has no state") when there is none. */
int state_dir_open(const char *lab, nlab_error **err);
bool state_dir_exists(const char *lab);
/* "<root>/<lab>" into buf, for the supervisor's own files; the name is
 * checked. */
int state_lab_dir(const char *lab, char *buf, size_t len, nlab_error **err);
/* The log of a node, opened for reading (no symlink followed); previous:
 * the one before it, NODE.log.1 (node/log.h), errnum ENOENT when there is
 * none. */
int state_open_log(const char *lab, const char *node, bool previous, nlab_error **err);

struct lock_wait;
/* Exclusive lock on <root>/.<lab>.lock, held while the fd stays open;
 * w says how long to wait and whom to tell (util/lock.h). */
int state_lock(const char *lab, const struct lock_wait *w, nlab_error **err);

/* Remove the lock file once the lab is gone (called with the lock held:
 * nothing of a lab may stay behind). */
void state_unlink_lock(const char *lab);

int state_write(const struct lab_state *s, nlab_error **err);
/* What the supervisor records after UP, into runtime.json: each node's
 * exited run lines, restarts and death (state_read() merges it; after UP
 * the supervisor never rewrites state.json, which `up` extends). */
int state_write_runtime(const struct lab_state *s, nlab_error **err);
/* 0 and *out filled; -1 with errnum ENOENT when the lab has no state,
 * EBADMSG when state.json is damaged (empty, not JSON, another lab's, a
 * name that is not one...), EPERM when it is not a file netlab wrote. */
int state_read(const char *lab, struct lab_state *out, nlab_error **err);
void state_clear(struct lab_state *s);
/* Remove the lab directory and everything in it. */
int state_remove(const char *lab, nlab_error **err);

/* Names of labs with a state directory, sorted; caller frees each and the
 * array. */
int state_list(char ***labs, size_t *n, nlab_error **err);

/* Identity of a live process (0), or -1 with errno (ESRCH: no such
 * process); and whether it is still that process. */
int proc_id_of(pid_t pid, struct proc_id *out);
bool proc_id_alive(const struct proc_id *id);
/* A pidfd of that process, or -1 (errno ESRCH when the pid is now someone
 * else's). */
int proc_id_pidfd(const struct proc_id *id);

struct state_node *state_find_node(const struct lab_state *s, const char *name);

/* One node and the supervisor's identity, quickly (from nodes.idx, which
 * state_write() keeps beside state.json, by binary search: lab/state_index.c;
 * from state.json if it is missing).  -1 with errnum ENOENT when there is no such node.  Free
 * with state_node_clear(). */
int state_read_node(const char *lab, const char *name, struct state_node *out, struct proc_id *sup,
		    nlab_error **err);
void state_node_clear(struct state_node *n);
/* What `status LAB NODE` shows, as quickly: *out with the lab's fields
 * (its name, topology, creation, supervisor, memory group), that node
 * alone (runtime.json merged) and its netns name if any; *nnodes the
 * lab's number of nodes.  Without a usable index, the whole state (the
 * caller picks the node).  -1 with errnum ENOENT when there is no such
 * node.  Free with state_clear(). */
int state_read_one(const char *lab, const char *name, struct lab_state *out, size_t *nnodes, nlab_error **err);
/* The supervisor's identity alone, as quickly. */
int state_read_supervisor(const char *lab, struct proc_id *sup);

#endif
