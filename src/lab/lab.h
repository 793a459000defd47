/* What the netlab command does to labs (runs in the CLI process; the
 * verbs in src/cli/ only parse arguments and print):
 *   lab.c      is a lab up, which labs are up, take one down
 *   launch.c   bring one up: fork its supervisor, follow its setup
 *   exec.c     run a command inside a node
 *   inspect.c  what `status` shows
 *   undo.c     undo what a lab did outside its namespaces (journal) */
#ifndef NETLAB_LAB_LAB_H
#define NETLAB_LAB_LAB_H

#include <stdbool.h>
#include <stddef.h>

#include "lab/state.h"
#include "topo/model.h"
#include "util/error.h"

/* 1 when the lab's supervisor is alive, 0 when not (stale or absent). */
int lab_is_up(const char *lab);
/* Names of the labs that are up, sorted; caller frees each and the array. */
int lab_list_up(char ***labs, size_t *n, nlab_error **err);
void lab_list_free(char **labs, size_t n);

/* Stop the supervisor (SIGTERM, then SIGKILL), make sure every init is
 * gone, remove what the lab left in the host namespace, restore host
 * sysctls, delete the state directory.  Succeeds when already gone.
 * Call with the lab lock held. */
int lab_down(const char *lab, nlab_error **err);

/* ---- launch.c ---- */

struct lab_up_options {
	const char *lab;                /* valid name (topo_lab_name_valid) */
	int grace_ms;
	int line_timeout_s;             /* the bound of each exec line */
	/* Called for each progress report of the supervisor (NULL: none
	 * are asked for). */
	void (*progress)(const char *phase, size_t done, size_t total, void *arg);
	void *progress_arg;
};

struct lab_up_result {
	size_t nodes, links;
	char phases[512];               /* " name=ms ..." phase times */
	bool cleaned_stale;             /* a crashed run's leftovers were removed first */
	bool rolled_back;               /* after a failure: nothing of the lab is left */
	nlab_error *rollback_err;       /* or why not (the caller prints and frees it) */
};

/* Bring the lab up: lock it, refuse if it is up, clear a crashed run's
 * leftovers, fork the supervisor and follow its setup.  On failure the
 * lab is taken down again (res->rolled_back tells whether that worked,
 * res->rollback_err why not). */
int lab_up(const struct topology *t, const struct lab_up_options *o, struct lab_up_result *res, nlab_error **err);

/* ---- exec.c ---- */

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
int lab_join_node(const struct state_node *node, nlab_error **err);

/* Run argv in the node, with the caller's stdio; returns the command's
 * exit status as a shell reports it, or -1 with *err when the node
 * cannot be entered (errnum ENOENT: no such lab or node). */
int lab_exec(const char *lab, const char *node, char **argv, const struct lab_exec_options *o, nlab_error **err);

#endif
