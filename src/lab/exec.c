/* `netlab exec` and `netlab shell`: join a node from the CLI process and
 * run a command there with the node's command runner (node/command.h). */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab/lab.h"
#include "lab/pty.h"
#include "node/cgroup.h"
#include "node/command.h"
#include "node/creds.h"
#include "node/nodefs.h"
#include "util/cleanup.h"
#include "util/sig.h"
#include "util/strutil.h"
#include "util/fsutil.h"

int lab_join_node(const char *lab, const struct state_node *sn, nlab_error **err)
{
	/* While it holds host resources (state, cgroup fds, the host's
	 * credentials) this process must not be ptrace-able or its /proc
	 * readable by anything in the node. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return nlab_error_set(err, errno, "prctl(PR_SET_DUMPABLE)");
	cleanup_close int fd = proc_id_pidfd(&sn->init);
	if (fd < 0)
		return nlab_error_set(err, errno, "node init (pid %d) is gone", (int)sn->init.pid);
	/* Into its cgroup first, while the host's cgroup tree is still the
	 * one we see: no way into a node escapes its limits.  The paths come
	 * from a state file: only a cgroup of this very node (or the lab's
	 * memory group it shares: node/cgroup.h) is written to. */
	for (size_t i = 0; i < sn->ncgroups; i++)
		if (!cgroup_path_ok(sn->cgroups[i], lab, sn->name) && !cgroup_path_ok(sn->cgroups[i], lab, NULL))
			return nlab_error_set(err, EPERM, "the state names %s as a cgroup of node %s, which it is not",
					      sn->cgroups[i], sn->name);
	/* A user's (rootless) lab: its groups are below the user's
	 * delegated cgroup, and the kernel lets a process move only within a
	 * subtree whose cgroup.procs it may write.  Run from outside it (a
	 * login session's scope, root's), the command stays where it is:
	 * limits the user set and may lift at will are not worth refusing
	 * the user's own node for (docs/rootless.md). */
	if (sn->ncgroups && cgroup_join_self(sn->cgroups, sn->ncgroups, err) < 0) {
		if (geteuid() == 0 || !err || !*err ||
		    ((*err)->errnum != EACCES && (*err)->errnum != EPERM && (*err)->errnum != ENOENT))
			return -1;
		nlab_error_free(err);
	}
	/* Host groups would still count for host files inside the node:
	 * drop them now, as the supervisor did before making the node. */
	bool user = geteuid() != 0;
	if (!user && setgroups(0, NULL) < 0)
		return nlab_error_set(err, errno, "drop supplementary groups");
	/* One setns() with a pidfd enters them all atomically (Linux 5.8);
	 * the kernel switches the user namespace first, so the others are
	 * checked against the capabilities we get there. */
	int flags = CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWCGROUP |
		    CLONE_NEWTIME;
	if (sn->userns)
		flags |= CLONE_NEWUSER;
	if (setns(fd, flags) < 0)
		return nlab_error_set(err, errno, "enter the node's namespaces");
	/* Still host uid 0, which the node's namespace does not map (and
	 * which owns the host's files): become the node's root. */
	if (sn->userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		return nlab_error_set(err, errno, "become root of the node's user namespace");
	/* A user (rootless, lab/rootless.h) drops its groups here, where it
	 * can: the node's namespace allows setgroups when the lab has
	 * subordinate IDs; without them the groups stay, unmapped (nogroup),
	 * as in the node's own processes. */
	if (user && setgroups(0, NULL) < 0 && errno != EPERM)
		return nlab_error_set(err, errno, "drop supplementary groups");
	/* Its /sys, ptys and message queues, if nothing has entered the node
	 * yet (node/nodefs.h). */
	if (nodefs_mount_lazy(err) < 0)
		return nlab_error_wrap(err, "node %s", sn->name);
	/* A uid change resets dumpability to fs.suid_dumpable: set it again. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return nlab_error_set(err, errno, "prctl(PR_SET_DUMPABLE)");
	return 0;
}

int lab_node_not_found(const char *lab, const char *node_name, nlab_error **err)
{
	struct lab_state st;
	nlab_error *e = NULL;

	if (state_read(lab, &st, &e) < 0 || !proc_id_alive(&st.supervisor)) {
		nlab_error_free(&e);
		state_clear(&st);
		nlab_error_set(err, 0, "lab '%s' is not up", lab);
		if (err && *err)
			(*err)->errnum = ENOENT;
		return -1;
	}
	/* The first names only: a lab of 10,000 nodes would print them all. */
	enum { SHOWN = 20 };
	char *list = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&list, &len);
	for (size_t i = 0; f && i < st.nnodes && i < SHOWN; i++)
		fprintf(f, " %s", st.nodes[i].name);
	if (f && st.nnodes > SHOWN)
		fprintf(f, " ... and %zu more: netlab status %s", st.nnodes - SHOWN, lab);
	if (f)
		fclose(f);
	const char **names = calloc(st.nnodes ? st.nnodes : 1, sizeof(*names));
	for (size_t i = 0; names && i < st.nnodes; i++)
		names[i] = st.nodes[i].name;
	const char *near = names ? str_nearest(node_name, names, st.nnodes) : NULL;
	char hint[96] = "";
	if (near)
		snprintf(hint, sizeof(hint), "; did you mean '%s'?", near);
	nlab_error_set(err, 0, "lab '%s' has no node '%s' (nodes:%s)%s", lab, node_name, list ? list : "", hint);
	free(names);
	if (err && *err)
		(*err)->errnum = ENOENT;
	free(list);
	state_clear(&st);
	return -1;
}

/* What the command's process does between fork and execve: system calls
 * only (it may be a vfork child). */
struct child_args {
	const struct lab_exec_options *o;
	const char *lab, *node;
	char **cmd;
	const struct pty_relay *pty;
	bool has_user;
	uint32_t uid, gid;
	const sigset_t *mask;
};

static __attribute__((noreturn)) void run_child(const struct child_args *a)
{
	char m[600];
	int l;

	/* A session of its own, never the caller's terminal (lab/pty.h). */
	if (pty_child(a->pty) < 0) {
		l = snprintf(m, sizeof(m), "netlab %s: %s/%s: cannot give the command a terminal of its own: %s\n",
			     a->o->verb, a->lab, a->node, strerror(errno));
		write_all(STDERR_FILENO, m, (size_t)l < sizeof(m) ? (size_t)l : sizeof(m) - 1);
		_exit(1);
	}
	/* Only the terminal's stdio goes in: no state, cgroup or namespace
	 * fd (runc CVE-2024-21626). */
	close_range(3, ~0U, 0);
	if ((a->has_user && creds_become(a->uid, a->gid, NULL) < 0) || creds_clear_inheritable(NULL) < 0) {
		l = snprintf(m, sizeof(m), "netlab %s: %s/%s: cannot take the node's user or drop capabilities: %s\n",
			     a->o->verb, a->lab, a->node, strerror(errno));
		write_all(STDERR_FILENO, m, (size_t)l < sizeof(m) ? (size_t)l : sizeof(m) - 1);
		_exit(1);
	}
	sigprocmask(SIG_SETMASK, a->mask, NULL);
	int e;
	const char *shown = a->o->shell ? "sh" : a->cmd[0];
	if (a->o->shell) {
		/* The node's shell, looked up inside the node: the caller's
		 * $SHELL if the node has it, then bash, then sh (a busybox
		 * rootfs has only sh). */
		char *user[] = { a->o->shell, "-i", NULL };
		char *bash[] = { "bash", "--norc", "--noprofile", "-i", NULL };
		char *sh[] = { "sh", "-i", NULL };
		e = a->o->shell[0] == '/' && access(a->o->shell, X_OK) == 0 ? command_exec_argv(user) : ENOENT;
		if (e == ENOENT)
			e = command_exec_argv(bash);
		if (e == ENOENT)
			e = command_exec_argv(sh);
	} else {
		e = command_exec_argv(a->cmd);
	}
	l = snprintf(m, sizeof(m), "netlab %s: %s: %s\n", a->o->verb, shown,
		     e == ENOENT ? "command not found" : strerror(e));
	write_all(STDERR_FILENO, m, (size_t)l < sizeof(m) ? (size_t)l : sizeof(m) - 1);
	_exit(command_exit_status(e));
}

static int shell_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/* Join the node and run the command in a child there; wait for it,
 * passing on SIGINT, SIGQUIT, SIGTERM and SIGHUP (it has a session of
 * its own, so a terminal's ^C no longer reaches it by itself).  Returns
 * its status as a shell reports it, or -1 with *err. */
static int join_and_run(struct child_args *a, const struct state_node *node, nlab_error **err)
{
	char cwd[PATH_MAX];
	sigset_t set, old;

	if (!getcwd(cwd, sizeof(cwd)))
		strcpy(cwd, "/");
	if (lab_join_node(a->lab, node, err) < 0)
		return nlab_error_wrap(err, "%s/%s", a->lab, a->node);
	/* Same directory as the caller when the node has it, else the
	 * lab's (/lab); the environment is set here, for the child to
	 * inherit. */
	if (chdir(cwd) < 0 && chdir("/lab") < 0 && chdir("/") < 0)
		return nlab_error_set(err, errno, "chdir /");
	setenv("NETLAB_LAB", a->lab, 1);
	setenv("NETLAB_NODE", a->node, 1);
	unsetenv("NETLAB_RUN_DIR");
	unsetenv("NETLAB_LAB_USERNS");
	if (a->o->prompt)
		setenv("PS1", a->o->prompt, 1);
	/* A SIGCHLD ignored by whoever started us would reap the child
	 * behind our back. */
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&set);
	sig_add_unless_ignored(&set, SIGINT);
	sig_add_unless_ignored(&set, SIGQUIT);
	sig_add_unless_ignored(&set, SIGTERM);
	sig_add_unless_ignored(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	a->mask = &old;
	fflush(NULL);
	/* vfork: no copy of this process's memory only to exec over it
	 * (part of what `netlab exec NODE true` costs).  The child only
	 * makes system calls until it execs, as vfork children must. */
	pid_t pid = vfork();
	if (pid < 0) {
		int e = errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		return nlab_error_set(err, e, "vfork");
	}
	if (pid == 0)
		run_child(a);
	int status = 0;
	for (;;) {
		siginfo_t si;
		if (sigwaitinfo(&set, &si) < 0)
			continue;
		if (si.si_signo != SIGCHLD) {
			kill(pid, si.si_signo);
			continue;
		}
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			sigprocmask(SIG_SETMASK, &old, NULL);
			return nlab_error_set(err, errno, "waitpid");
		}
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return shell_status(status);
}

int lab_exec(const char *lab, const char *node_name, char **cmd, const struct lab_exec_options *o, nlab_error **err)
{
	struct state_node node;
	struct proc_id sup;
	struct pty_relay pty;

	/* Names are never paths (a lab "../../tmp/x" would be a directory
	 * anyone may have written). */
	if (state_check_lab_name(lab, err) < 0 || state_check_node_name(node_name, err) < 0)
		return -1;
	/* The fast way (nodes.idx); the whole state only to explain why not. */
	if (state_read_node(lab, node_name, &node, &sup, err) < 0) {
		if (err && *err && (*err)->errnum != ENOENT && (*err)->errnum != EBADMSG)
			return nlab_error_wrap(err, "lab %s", lab);
		nlab_error_free(err);
		return lab_node_not_found(lab, node_name, err);
	}
	if (!proc_id_alive(&sup)) {
		state_node_clear(&node);
		return lab_node_not_found(lab, node_name, err);
	}
	/* Like the node's own commands, the OOM killer's choice before the
	 * node's init (node/command.h): raised here, as host root, since the
	 * command's process may not write its own once in the node (it is
	 * not dumpable there, and its /proc entries stay the host's). */
	command_raise_oom_score();
	struct child_args a = { .o = o,
				.lab = lab,
				.node = node_name,
				.cmd = cmd,
				.pty = &pty,
				.has_user = node.has_user,
				.uid = node.uid,
				.gid = node.gid };
	if (pty_open(&pty, err) < 0) {
		state_node_clear(&node);
		return nlab_error_wrap(err, "%s %s/%s", o->verb, lab, node_name);
	}
	if (pty.master < 0) {
		int r = join_and_run(&a, &node, err);
		state_node_clear(&node);
		return r;
	}
	/* With a terminal: the relay stays here, in the host, with the
	 * caller's terminal; a child joins the node and runs the command on
	 * the pty's slave. */
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		state_node_clear(&node);
		pty_close(&pty);
		return nlab_error_set(err, e, "fork");
	}
	if (pid == 0) {
		nlab_error *e = NULL;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(pty.master);
		/* Nothing of the caller's terminal goes into the node, not
		 * even into this process: the slave takes its fds' places. */
		for (int fd = 0; fd < 3; fd++)
			if (pty.tty[fd])
				dup2(pty.slave, fd);
		pty.master = -1;
		int r = join_and_run(&a, &node, &e);
		if (r < 0) {
			nlab_error_print(o->verb, &e);
			_exit(1);
		}
		_exit(r);
	}
	state_node_clear(&node);
	int status = pty_relay_run(&pty, pid, err);
	pty_close(&pty);
	if (status < 0)
		return -1;
	return shell_status(status);
}
