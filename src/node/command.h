/* Running one command in a node: the same code for the topology's `exec`
 * and `run` lines (started by the node's init) and for `netlab exec`
 * (started by the CLI once it joined the node, lab/exec.c), so both find
 * programs, report "command not found" and run scripts alike. */
#ifndef NETLAB_NODE_COMMAND_H
#define NETLAB_NODE_COMMAND_H

/* execve() argv, searching PATH for a name without '/' the way a shell
 * does, except that a directory node root may not search does not turn
 * "not found" into "permission denied" (root's PATH often has one, such
 * as /root/.cargo/bin, and a node's root is not the host's).  A file
 * without a #! line runs through /bin/sh.  Returns only on failure, with
 * the errno to report: ENOENT (exit 127, "command not found"), EACCES
 * for a file that exists and cannot be run (exit 126), ...  Only system
 * calls and this frame: safe in a vfork child. */
int command_exec_argv(char **argv);

/* Run a topology command line: a plain line (no shell syntax) is split at
 * spaces and run as itself, so `ps` in the node shows the server and
 * signals reach it directly; anything else runs as /bin/sh -c TEXT.
 * Returns only on failure, with the errno to report, and the program it
 * tried in *what. */
int command_exec_line(const char *text, const char **what);

/* Every process of a node but its init is the OOM killer's choice before
 * the init, in the node's memory limit and on the whole machine: the
 * command raises its own oom_score_adj by this much before it runs
 * (docs/isolation.md).  Lowering the init's instead would need
 * CAP_SYS_RESOURCE, and would let node code lower its own as far. */
#define NODE_OOM_SCORE_ADJ 500

/* Raise the calling process's oom_score_adj to NODE_OOM_SCORE_ADJ (never
 * lower it); best effort.  Only system calls: safe in a vfork child. */
void command_raise_oom_score(void);

/* The exit status a shell gives a command that could not be run. */
int command_exit_status(int errnum);

#endif
