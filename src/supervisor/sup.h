/* The supervisor's own state, shared by its files (private to
 * src/supervisor/):
 *   supervisor.c  main: the setup sequence, the wait loop, teardown
 *   nodes.c       making nodes and talking to their inits
 *   nodech.c      the one socket the supervisor talks to its inits on
 *   apply.c       performing the plan's links/configure/host sections
 *   host.c        what is done in the starting namespace, journaled first
 *   hosts.c       the lab's /etc/hosts
 *   restart.c     `netlab restart`: requests over the beacon, one node's lines again
 *   capture.c     the process that records `capture` links */
#ifndef NETLAB_SUPERVISOR_SUP_H
#define NETLAB_SUPERVISOR_SUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lab/rootless.h"
#include "lab/state.h"
#include "net/nlsock.h"
#include "node/cgroup.h"
#include "plan/plan.h"
#include "proto/proto.h"
#include "supervisor/supervisor.h"

struct proto_msg;

struct sup_node {
	struct sup *sup;
	const struct topo_node *tn;
	size_t index;           /* in topology.nodes */
	pid_t pid;              /* its init: our child, so the pid is its own until
				 * we reap it (no pidfd, no namespace fds are held:
				 * what a node costs in fds must not grow the lab's) */
	bool exited, replied;
	bool lab_nsid;          /* its netns has its id in the lab's (apply.c) */
	bool fw;                /* the plan writes x_tables rules in it (its init makes the lock) */
	/* A message that came before its phase (a ROOT_READY while the
	 * supervisor still collects READYs: one socket for all the inits
	 * interleaves them), kept for the next collect; NULL: none. */
	struct proto_msg *early;
	uint32_t uid_base, gid_base;    /* user namespace slot */
	struct proc_id init_id;
	char **cgroups;                 /* its cgroup directories */
	size_t ncgroups;
	bool ready;             /* its lines are done (from `up` on; not while restarting) */
	/* `netlab restart` (supervisor/restart.c): its lines' processes being
	 * stopped, waiting for the nodes it is `after`, or its lines running. */
	enum { RESTART_NONE, RESTART_STOPPING, RESTART_WAITING, RESTART_RUNNING } restart;
	int client;             /* the `netlab restart` told the result, or -1 */
	int64_t restart_t0;
	int64_t stopped, killed;        /* processes stopped (of them killed by SIGKILL) */
};

#define SUP_CLIENTS_MAX 16      /* beacon connections waiting for their request */

struct nodefs_top;

struct sup {
	const struct topology *t;
	const struct sup_options *o;
	char dir[4096];
	char alternatives[4200];        /* the lab's /etc/alternatives copy, or "" */
	struct plan plan;
	int host_netns;
	int lab_netns;                  /* ours, after unshare */
	int host_mntns, lab_mntns;      /* for pins (supervisor/hostif.c) */
	int tmpl_mntns;                 /* nodetmpl.c: default nodes' namespaces are copies of it, or -1 */
	struct nlab_nl *host_nl, *lab_nl;
	size_t nsids;                   /* apply.c: node netns given their id in the lab's so far */
	struct sup_node *nodes;
	size_t nnodes;
	struct sup_node **by_index;     /* topology node index -> node, NULL for host */
	struct lab_state st;
	struct cgroup_lab cg;
	char phases[512];               /* "name=ms ..." for `up --timing` */
	size_t phases_len;
	int64_t phase_t0;
	pid_t spawner_pid;              /* nodespawn.c: the lab's spawner while nodes are made, or 0 */
	int spawner_fd;                 /* its channel, or -1 */
	pid_t stage1_pid;               /* the last stage 1 reported, to reap, or 0 */
	int capture_pidfd;              /* the `capture` links' process, or -1 */
	char mask_dir[4200];            /* supervisor/labfs.c */
	int labfs_root;                 /* the topology's directory (O_PATH), or -1 */
	const char **files_src;         /* `files` directories copied to DIR/files/K (K their index) */
	size_t nfiles_src;
	uint32_t lab_uid, lab_gid;      /* its owner */
	int beacon;                     /* lab/beacon.h: listening while the supervisor lives */
	int clients[SUP_CLIENTS_MAX];   /* connected through it, request not read yet */
	int64_t client_deadline[SUP_CLIENTS_MAX];
	size_t nclients;
	int ctl_dir, ctl;               /* nodech.c: LAB/ctl and the socket every init talks to */
	int token;                      /* nodech.c: the FIFO whose one byte lets one init build its root */
	int chld_fd;                    /* signalfd of SIGCHLD: an init that dies */
	struct sup_node **by_pid;       /* the nodes sorted by their init's pid */
	int sigfd;                      /* SIGTERM, SIGINT, SIGHUP during setup */
	int abort_fd;                   /* epoll: readable on a signal or when `up` goes away */
	int stop_signal;                /* the signal that stopped setup, or 0 */
	bool up_gone;                   /* `netlab up` closed its end of the status channel */
	bool running;                   /* every node is ready: an init that dies leaves its node dead */
	struct rootless_info rl;        /* with o->rootless: the lab user namespace's maps */
	uint32_t id_size;               /* rootless: IDs per node (lab/rootless.h) */
	struct nodefs_top *tops;        /* rootless: the host's top-level entries (labfs_rootless.c) */
	size_t ntops;
};

#define LABFS_FILES_MAX TOPO_FILES_MAX  /* `files` statements per node */
#define NODETMPL_STAGES (2 + LABFS_FILES_MAX)   /* LAB/mntN for the trees of a node outside the template: host, mask, files */

/* initview.c: a node's view (node/view.h) for the spawner, with the
 * cgroups it joins; NULL with *err. */
struct node_view;
struct node_view *initview_pack(const struct sup *s, const struct sup_node *sn, char *const *groups, size_t ngroups,
				size_t *size, nlab_error **err);

/* nodespawn.c: the lab's spawner (spawner/spawner.h), started for
 * nodes_start() and ended by it.  Submit a node's view with the init's
 * control socket and log; collect one report: the node's index (-1 when
 * the spawner could not say) and its init's pid, or -1 with *err.  At
 * the end every stage 1 has been reaped (nodes_sweep()). */
int nodespawn_start(struct sup *s, nlab_error **err);
int nodespawn_submit(struct sup *s, size_t index, const struct node_view *v, size_t size, int ctl, int log,
		     nlab_error **err);
int nodespawn_collect(struct sup *s, int64_t *index, pid_t *pid, nlab_error **err);
void nodespawn_end(struct sup *s);

/* nodetmpl.c: the mount namespace default nodes are copies of (made
 * after labfs_prepare(): it holds LAB/sys and LAB/dev), and whether a
 * node can be one. */
int nodetmpl_make(struct sup *s, nlab_error **err);
bool nodetmpl_fits(const struct sup *s, const struct topo_node *tn, size_t index);

/* supervisor.c */
void sup_progress(struct sup *s, const char *phase, size_t done, size_t total);
/* 0 while setup is to go on; -1 with *err once a signal asked it to stop
 * or `netlab up` went away.  Cheap (no blocking): call it between steps,
 * and when s->abort_fd polls readable. */
int sup_check_abort(struct sup *s, nlab_error **err);
void sup_phase_done(struct sup *s, const char *name);

/* labfs_rootless.c */
int labfs_rootless_scan(struct sup *s, nlab_error **err);

/* ids.c */
int nodes_prepare(struct sup *s, nlab_error **err);    /* ID slots, cgroups */

/* nodes.c */
int nodes_start(struct sup *s, nlab_error **err);      /* PLAN_SEC_NODES */
int nodes_wait_ready(struct sup *s, nlab_error **err);
/* Every init's root built (ROOT_READY), answered with its /lab. */
int nodes_wait_root(struct sup *s, nlab_error **err);
int nodes_run_lines(struct sup *s, nlab_error **err);  /* PLAN_SEC_COMMANDS */

/* LINE_FAILED as the user reads it: the node, FILE:LINE, the line, why,
 * the end of its output; always -1 with *err. */
int nodes_line_failed(struct sup *s, struct sup_node *sn, const struct proto_msg *m, nlab_error **err);
/* A message from an init after `up` (LINE_EXITED): 1 handled, 0 none was
 * there, -1 with *err. */
int nodes_message(struct sup *s, nlab_error **err);
void nodes_stop(struct sup *s);
/* Reap what died (SIGCHLD): nodes are marked exited. */
void nodes_reap(struct sup *s);
/* The same without taking the pending SIGCHLD, which wait_nodes() then
 * still sees: for the stage 1s and a spawner that failed. */
void nodes_sweep(struct sup *s);
/* The node whose init is pid, or NULL. */
struct sup_node *nodes_by_pid(struct sup *s, pid_t pid);
/* The node's network namespace, opened now (/proc/PID/ns/net; the caller
 * closes it), or -1 with *err. */
int nodes_netns(const struct sup *s, const struct sup_node *sn, nlab_error **err);

/* nodech.c */
int nodech_open(struct sup *s, nlab_error **err);
/* The socket node sn's init is to get, bound and connected. */
int nodech_node_socket(struct sup *s, const struct sup_node *sn, nlab_error **err);
int nodech_send(struct sup *s, const struct sup_node *sn, enum proto_type type, int64_t a0, int64_t a1, int64_t a2,
		const char *text, const int *fds, int nfds);
/* One message, and from which node (*sn): 1; 0 when none is waiting (the
 * socket does not block); -1 with *err. */
int nodech_recv(struct sup *s, struct sup_node **sn, struct proto_msg *m, nlab_error **err);

/* restart.c: `netlab restart` over the beacon (lab/beacon.h) */
void restart_accept(struct sup *s);             /* the beacon is readable */
void restart_client_input(struct sup *s, size_t i);     /* clients[i] is readable */
int restart_timeout(struct sup *s);             /* ms until a client's deadline (closes late ones), -1 */
/* A message of a node being restarted (LINES_STOPPED, NODE_READY,
 * LINE_FAILED): 1 handled, -1 with *err. */
int restart_message(struct sup *s, struct sup_node *sn, const struct proto_msg *m, nlab_error **err);
void restart_node_died(struct sup *s, struct sup_node *sn);
void restart_abort_all(struct sup *s, const char *why);    /* the lab goes down */

/* apply.c: ops[sec[from]] .. ops[sec[to]] */
int apply_section(struct sup *s, enum plan_section sec, nlab_error **err);

/* labfs.c: the nodes' mask, /dev, idmapped trees and /lab */
int labfs_prepare(struct sup *s, nlab_error **err);
int labfs_send_trees(struct sup *s, const struct sup_node *sn, int userns, nlab_error **err);
int labfs_send_lab(struct sup *s, struct sup_node *sn, int userns, nlab_error **err);

/* hostif.c: the host's interfaces a link takes (journaled, pinned) */
int hostif_take(struct sup *s, const struct plan_op *op, nlab_error **err);
void hostif_give_back_all(struct sup *s);
/* capture.c: the process that records `capture` links (after the links
 * section); stopped first at teardown. */
int capture_start(struct sup *s, nlab_error **err);
void capture_stop(struct sup *s);

/* host.c: journal first, then do (called by apply.c for PLAN_NS_HOST;
 * host_verify before anything, host_links_mark after the links section) */
int host_verify(struct sup *s, nlab_error **err);
int host_links_mark(struct sup *s, nlab_error **err);
int host_link_up(struct sup *s, const struct plan_op *op, nlab_error **err);
int host_sysctl(struct sup *s, const struct plan_op *op, nlab_error **err);
int host_rules(struct sup *s, const struct plan_op *ops, size_t n, nlab_error **err);
int host_resolve_ifindex(struct sup *s, const char *ifname, nlab_error **err);

#endif
