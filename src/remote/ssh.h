/* The controller's way to a machine (issue 18, docs/multihost.md): the
 * user's own OpenSSH, in batch mode, running the same netlab there.  No
 * daemon and no port of netlab's own: what a machine does is a `netlab`
 * command started over ssh, and a part's topology goes over that
 * command's standard input.
 *
 * `NETLAB_SSH` replaces the ssh command line as `GIT_SSH_COMMAND` does for
 * git: it is run by /bin/sh with netlab's arguments appended ("$@"), so it
 * may carry options (`ssh -F lab_ssh_config`).  netlab's own options
 * (BatchMode=yes, ServerAliveInterval) come after the user's, and ssh
 * keeps the first value of an option: the user's win. */
#ifndef NETLAB_REMOTE_SSH_H
#define NETLAB_REMOTE_SSH_H

#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "topo/model.h"
#include "util/error.h"

/* A word for the remote shell: single-quoted (' as '\''), appended to
 * *buf (a malloc'd string, NULL to start).  -1 when out of memory. */
int rmt_quote_append(char **buf, const char *word);

/* The command a machine runs: remote_netlab (a shell command prefix as
 * the user gave it, e.g. "sudo -n netlab"; NULL: this netlab's own path,
 * quoted) and each of args quoted.  NULL when out of memory. */
char *rmt_command(const char *remote_netlab, char *const *args, size_t nargs);

/* argv to exec for running command on machine m (tty: ask for a
 * terminal, `shell`).  Free with rmt_argv_free(). */
char **rmt_ssh_argv(const struct topo_machine *m, const char *command, bool tty);
void rmt_argv_free(char **argv);

/* "m2 (root@10.77.0.2)": how messages name a machine. */
void rmt_machine_label(const struct topo_machine *m, char *buf, size_t len);

/* Replace this process with ssh running command on m, with this
 * process's standard input, output and error (exec, shell, logs,
 * capture): the exit status is the remote command's, 255 for ssh's own
 * failures.  Returns only on failure. */
int rmt_exec(const struct topo_machine *m, const char *command, bool tty, nlab_error **err);

/* ---- sessions: a command on a machine, spoken to in JSON lines ---- */

/* Set by the caller's SIGINT/SIGTERM handler: waits return early so that
 * it can roll back in order. */
extern volatile sig_atomic_t rmt_interrupted;

struct rmt_session {
	const struct topo_machine *m;
	pid_t pid;              /* ssh; 0 once reaped */
	int in, out, errfd;     /* our ends of its stdin, stdout, stderr; -1 closed */
	char *buf;              /* stdout not yet a whole line */
	size_t len, cap;
	char tail[1024];        /* the end of its stderr, for messages */
	size_t tlen;
	bool eof;               /* its stdout is closed */
	int status;             /* its wait status, once reaped */
	json_object *line;      /* rmt_sessions_wait(): the line it sent, or NULL */
};

/* Start command on s->m (s->m set by the caller), pipes for its stdio. */
int rmt_session_start(struct rmt_session *s, const char *command, nlab_error **err);
/* One JSON line to its standard input (dropped quietly if it is gone). */
int rmt_session_send(struct rmt_session *s, json_object *msg);
/* No more input: the remote command sees end of file. */
void rmt_session_close_input(struct rmt_session *s);
/* Until each session i with want[i] has sent a line (s[i].line, which
 * lives until the next wait or the end) or ended (s[i].line NULL), or
 * timeout_ms (-1: none) passed.  Stderr is kept in each tail meanwhile. */
void rmt_sessions_wait(struct rmt_session *s, size_t n, const bool *want, int timeout_ms);
/* Until every session has closed its output, keeping all of it in buf
 * (a command that prints one pretty JSON object), or timeout_ms. */
void rmt_sessions_drain(struct rmt_session *s, size_t n, int timeout_ms);
/* Close everything, wait for ssh to exit (SIGTERM after grace_ms). */
void rmt_session_end(struct rmt_session *s, int grace_ms);
/* Why it ended or said nothing: "ssh exited with 255: <stderr's last
 * line>"; the remote's own message when it sent {"error": ...}. */
void rmt_session_why(const struct rmt_session *s, char *buf, size_t len);

#endif
