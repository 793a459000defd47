/* What the netlab command does to labs (runs in the CLI process; the
 * verbs in src/cli/ only parse arguments and print):
 *   lab.c      is a lab up, which labs are up, take one down
 *   launch.c   bring one up: fork its supervisor, follow its setup
 *   exec.c     run a command inside a node (pty.c: its own terminal)
 *   restart.c  run one node's lines again (`netlab restart`)
 *   inspect.c  what `status` shows
 *   undo.c     undo what a lab did outside its namespaces
 *   beacon.c   find a lab's supervisor from the kernel
 *   hostshare.c host settings labs share, reference counted */
#ifndef NETLAB_LAB_LAB_H
#define NETLAB_LAB_LAB_H

#include <stdbool.h>
#include <stddef.h>

#include "lab/state.h"
#include "topo/model.h"
#include "util/error.h"

/* 1 when the lab's supervisor is alive (by its state, or by its beacon
 * when the state is damaged), 0 when not (stale or absent). */
int lab_is_up(const char *lab);
/* Names of the labs that are up, sorted; caller frees each and the array. */
int lab_list_up(char ***labs, size_t *n, nlab_error **err);
void lab_list_free(char **labs, size_t n);
/* Every lab that has anything: a state directory or a supervisor (found
 * by its beacon even when its state directory is gone), sorted. */
int lab_list_all(char ***labs, size_t *n, nlab_error **err);

struct lab_down_result {
	bool existed;                   /* something of the lab was there */
	bool state_damaged;             /* its state.json was unusable: found from the kernel */
	char state_problem[400];        /* why */
};

/* Stop the supervisor (SIGTERM, then SIGKILL), make sure every init is
 * gone, remove what the lab left in the host namespace, leave its shares
 * of host settings, remove its cgroups and state directory.  Everything
 * is found from the kernel by the lab's name too (lab/undo.h,
 * lab/beacon.h), so a damaged state.json loses nothing; what cannot be
 * removed is named in *err and the state directory then stays.
 * Succeeds when already gone.  Call with the lab lock held. */
int lab_down(const char *lab, struct lab_down_result *res, nlab_error **err);

struct lab_lock_options {
	int timeout_ms;                 /* 0: 120 s */
	/* Told once, after a second, what the wait is for. */
	void (*notice)(const char *msg, void *arg);
	void *arg;
	/* `down`: a lab whose lock is held is being set up or taken down;
	 * tell its supervisor to stop (a setup then rolls back). */
	bool interrupt_setup;
};

/* The lab's lock (state_lock), waiting as o says. */
int lab_lock(const char *lab, const struct lab_lock_options *o, nlab_error **err);

/* `netlab down LAB`: lock, lab_down(), remove the lock file. */
int lab_take_down(const char *lab, const struct lab_lock_options *o, struct lab_down_result *res, nlab_error **err);

/* ---- launch.c ---- */

struct lab_up_options {
	const char *lab;                /* valid name (topo_lab_name_valid) */
	int grace_ms;
	int line_timeout_s;             /* the bound of each exec line */
	bool netns_names;               /* name the nodes' netns in /run/netns (lab/netns_names.h) */
	/* Called for each progress report of the supervisor (NULL: none
	 * are asked for). */
	void (*progress)(const char *phase, size_t done, size_t total, void *arg);
	void *progress_arg;
	/* Told what `up` waits for (a lock held by someone else), once per
	 * wait; NULL: not told. */
	void (*notice)(const char *msg, void *arg);
	void *notice_arg;
};

struct lab_up_result {
	size_t nodes, links;
	char phases[512];               /* " name=ms ..." phase times */
	bool cleaned_stale;             /* a crashed run's leftovers were removed first */
	bool rolled_back;               /* after a failure: nothing of the lab is left */
	nlab_error *rollback_err;       /* or why not (the caller prints and frees it) */
	int interrupted;                /* the signal (SIGINT, SIGTERM, SIGHUP) that stopped it, or 0 */
};

/* Bring the lab up: lock it, refuse if it is up, clear a crashed run's
 * leftovers, fork the supervisor and follow its setup.  On failure the
 * lab is taken down again (res->rolled_back tells whether that worked,
 * res->rollback_err why not).  SIGINT, SIGTERM and SIGHUP while the
 * supervisor sets up stop the setup, which then rolls back like a failed
 * one (res->interrupted); a second one kills the supervisor outright
 * before the roll back.  The supervisor holds the lab lock until its
 * setup is over, so if `up` itself is killed the lab is either up or,
 * once the supervisor notices, gone, before anyone else gets the lock. */
int lab_up(const struct topology *t, const struct lab_up_options *o, struct lab_up_result *res, nlab_error **err);

/* ---- exec.c ---- */

/* Why a node cannot be found: the lab is not up, or has no such node
 * (then the nodes it has).  Always -1, errnum ENOENT. */
int lab_node_not_found(const char *lab, const char *node, nlab_error **err);

struct lab_exec_options {
	const char *verb;               /* for messages: "exec", "shell" */
	const char *prompt;             /* PS1, or NULL */
	char *shell;                    /* run the node's shell instead of argv: the
					 * caller's $SHELL ("" for none), looked up inside */
};

/* Enter the node's cgroup and every namespace of the node (setns with a
 * pidfd, all at once, user namespace included), as the node's root, not
 * dumpable.  The caller must fork afterwards to be inside the PID
 * namespace, and switch to the node's `user` (creds_become) there. */
int lab_join_node(const char *lab, const struct state_node *node, nlab_error **err);

/* Run argv in the node; returns the command's exit status as a shell
 * reports it, or -1 with *err when the node cannot be entered (errnum
 * ENOENT: no such lab or node, EINVAL: not a lab or node name).  The
 * command never gets the caller's terminal (lab/pty.h): it runs in a
 * session of its own, and when one of the caller's stdin, stdout or
 * stderr is a terminal, on a pseudo-terminal netlab relays (stdin a
 * terminal: in raw mode, with window size changes passed on). */
int lab_exec(const char *lab, const char *node, char **argv, const struct lab_exec_options *o, nlab_error **err);

/* ---- restart.c ---- */

struct lab_restart_result {
	int64_t ms;                     /* from the request to the node ready */
	int64_t stopped, killed;        /* processes of its lines stopped; of them killed by SIGKILL */
};

/* `netlab restart`: the node's lines again (supervisor/restart.c), asked
 * over the lab's beacon once no `up` or `down` holds its lock; waits for
 * the result.  -1 with *err: errnum ENOENT when there is no such lab or
 * node (or the lab is not up); otherwise why, a failed line as `up`
 * reports it (the node, FILE:LINE, the end of its output).  notice: told
 * once what the wait for the lab lock is for (NULL: not told). */
int lab_restart(const char *lab, const char *node, struct lab_restart_result *res,
		void (*notice)(const char *msg, void *arg), void *arg, nlab_error **err);

#endif
