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
#include "node/cgroup.h"
#include "node/command.h"
#include "node/creds.h"
#include "util/cleanup.h"
#include "util/fsutil.h"

int lab_join_node(const struct state_node *sn, nlab_error **err)
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
	 * one we see: no way into a node escapes its limits. */
	if (sn->ncgroups && cgroup_attach(sn->cgroups, sn->ncgroups, getpid(), err) < 0)
		return -1;
	/* Host groups would still count for host files inside the node:
	 * drop them now, as the supervisor did before making the node. */
	if (setgroups(0, NULL) < 0)
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
	/* A uid change resets dumpability to fs.suid_dumpable: set it again. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return nlab_error_set(err, errno, "prctl(PR_SET_DUMPABLE)");
	return 0;
}

/* Why the node cannot be found: the lab is not up, or has no such node
 * (then the nodes it has).  errnum ENOENT either way. */
static int not_found(const char *lab, const char *node_name, nlab_error **err)
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
	char *list = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&list, &len);
	for (size_t i = 0; f && i < st.nnodes; i++)
		fprintf(f, " %s", st.nodes[i].name);
	if (f)
		fclose(f);
	nlab_error_set(err, 0, "lab '%s' has no node '%s' (nodes:%s)", lab, node_name, list ? list : "");
	if (err && *err)
		(*err)->errnum = ENOENT;
	free(list);
	state_clear(&st);
	return -1;
}

int lab_exec(const char *lab, const char *node_name, char **cmd, const struct lab_exec_options *o, nlab_error **err)
{
	struct state_node node;
	struct proc_id sup;
	char cwd[PATH_MAX];

	/* The fast way (nodes.idx); the whole state only to explain why not. */
	if (state_read_node(lab, node_name, &node, &sup, err) < 0) {
		nlab_error_free(err);
		return not_found(lab, node_name, err);
	}
	if (!proc_id_alive(&sup)) {
		state_node_clear(&node);
		return not_found(lab, node_name, err);
	}
	if (!getcwd(cwd, sizeof(cwd)))
		strcpy(cwd, "/");
	if (lab_join_node(&node, err) < 0) {
		state_node_clear(&node);
		return nlab_error_wrap(err, "%s/%s", lab, node_name);
	}
	bool has_user = node.has_user;
	uint32_t uid = node.uid, gid = node.gid;
	state_node_clear(&node);
	/* Same directory as the caller when the node has it; the
	 * environment is set here, for the child to inherit. */
	if (chdir(cwd) < 0 && chdir("/") < 0)
		return nlab_error_set(err, errno, "chdir /");
	setenv("NETLAB_LAB", lab, 1);
	setenv("NETLAB_NODE", node_name, 1);
	if (o->prompt)
		setenv("PS1", o->prompt, 1);
	fflush(NULL);
	/* vfork: no copy of this process's memory only to exec over it
	 * (part of what `netlab exec NODE true` costs).  The child only
	 * makes system calls until it execs, as vfork children must. */
	pid_t pid = vfork();
	if (pid < 0)
		return nlab_error_set(err, errno, "vfork");
	if (pid == 0) {
		/* Only the terminal's stdio goes in: no state, cgroup or
		 * namespace fd (runc CVE-2024-21626). */
		close_range(3, ~0U, 0);
		char m[600];
		if ((has_user && creds_become(uid, gid, NULL) < 0) || creds_clear_inheritable(NULL) < 0) {
			int l = snprintf(m, sizeof(m), "netlab %s: %s/%s: cannot take the node's user or drop capabilities: %s\n",
					 o->verb, lab, node_name, strerror(errno));
			write_all(STDERR_FILENO, m, (size_t)l < sizeof(m) ? (size_t)l : sizeof(m) - 1);
			_exit(1);
		}
		int e;
		const char *shown = o->shell ? "sh" : cmd[0];
		if (o->shell) {
			/* The node's shell, looked up inside the node: the
			 * caller's $SHELL if the node has it, then bash, then
			 * sh (a busybox rootfs has only sh). */
			char *user[] = { o->shell, "-i", NULL };
			char *bash[] = { "bash", "--norc", "--noprofile", "-i", NULL };
			char *sh[] = { "sh", "-i", NULL };
			e = o->shell[0] == '/' && access(o->shell, X_OK) == 0 ? command_exec_argv(user) : ENOENT;
			if (e == ENOENT)
				e = command_exec_argv(bash);
			if (e == ENOENT)
				e = command_exec_argv(sh);
		} else {
			e = command_exec_argv(cmd);
		}
		int l = snprintf(m, sizeof(m), "netlab %s: %s: %s\n", o->verb, shown,
				 e == ENOENT ? "command not found" : strerror(e));
		write_all(STDERR_FILENO, m, (size_t)l < sizeof(m) ? (size_t)l : sizeof(m) - 1);
		_exit(command_exit_status(e));
	}
	/* The terminal's ^C belongs to the command; netlab only waits. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return nlab_error_set(err, errno, "waitpid");
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}
