#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "node/creds.h"
#include "lab/lab.h"
#include "lab/state.h"
#include "util/fsutil.h"

/* execve() of argv, a file without a shebang through /bin/sh. */
static void exec_file(const char *file, char **argv)
{
	char *sh[256];
	size_t n = 0;

	execve(file, argv, environ);
	if (errno != ENOEXEC)
		return;
	while (n < 253 && argv[n])
		n++;
	if (argv[n])
		return;
	sh[0] = "/bin/sh";
	sh[1] = (char *)file;
	for (size_t i = 1; i <= n; i++)
		sh[i + 1] = argv[i];
	execve("/bin/sh", sh, environ);
	errno = ENOEXEC;
}

/* execvp(), except that a directory of PATH that node root may not search
 * does not turn "not found" into "permission denied": root's PATH often
 * has one (/root/.cargo/bin, say), and a node's root is not the host's.
 * EACCES is kept for a file that exists and cannot be run.  Only system
 * calls and this frame: it runs in a vfork child.  Returns the errno to
 * report. */
static int exec_search(char **argv)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];
	int result = ENOENT;
	size_t len = strlen(argv[0]);

	if (strchr(argv[0], '/')) {
		exec_file(argv[0], argv);
		return errno;
	}
	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (const char *p = path;; p++) {
		const char *end = strchrnul(p, ':');
		size_t dl = (size_t)(end - p);
		if (dl + len + 2 <= sizeof(buf)) {
			/* An empty element is the current directory. */
			memcpy(buf, dl ? p : ".", dl ? dl : 1);
			size_t o = dl ? dl : 1;
			buf[o++] = '/';
			memcpy(buf + o, argv[0], len + 1);
			exec_file(buf, argv);
			struct stat st;
			if (errno == EACCES && stat(buf, &st) == 0)
				result = EACCES;
			else if (errno != EACCES && errno != ENOENT && errno != ENOTDIR && errno != ELOOP &&
				 errno != ENAMETOOLONG && result == ENOENT)
				result = errno;
		}
		if (!*end)
			break;
		p = end;
	}
	return result;
}

/* Join the node and run argv there with the caller's terminal; returns the
 * command's exit status the way a shell reports it. */
static int run_in_node(const char *verb, const char *lab, const char *node_name, char **cmd, const char *prompt)
{
	struct state_node node;
	struct proc_id sup;
	nlab_error *err = NULL;
	char cwd[PATH_MAX];

	/* The fast way (nodes.idx); the whole state only to explain why not. */
	if (state_read_node(lab, node_name, &node, &sup, &err) < 0) {
		struct lab_state st;
		nlab_error_free(&err);
		if (state_read(lab, &st, &err) < 0 || !proc_id_alive(&st.supervisor)) {
			nlab_error_free(&err);
			fprintf(stderr, "netlab %s: lab '%s' is not up\n", verb, lab);
		} else {
			fprintf(stderr, "netlab %s: lab '%s' has no node '%s' (nodes:", verb, lab, node_name);
			for (size_t i = 0; i < st.nnodes; i++)
				fprintf(stderr, " %s", st.nodes[i].name);
			fprintf(stderr, ")\n");
		}
		state_clear(&st);
		return EXIT_RUNTIME;
	}
	if (!proc_id_alive(&sup)) {
		fprintf(stderr, "netlab %s: lab '%s' is not up\n", verb, lab);
		state_node_clear(&node);
		return EXIT_RUNTIME;
	}
	if (!getcwd(cwd, sizeof(cwd)))
		strcpy(cwd, "/");
	if (lab_join_node(&node, &err) < 0) {
		nlab_error_wrap(&err, "%s: %s/%s", verb, lab, node_name);
		nlab_error_print(&err);
		state_node_clear(&node);
		return EXIT_RUNTIME;
	}
	bool has_user = node.has_user;
	uint32_t uid = node.uid, gid = node.gid;
	state_node_clear(&node);
	/* Same directory as the caller when the node has it; the
	 * environment is set here, for the child to inherit. */
	if (chdir(cwd) < 0 && chdir("/") < 0)
		return EXIT_RUNTIME;
	setenv("NETLAB_LAB", lab, 1);
	setenv("NETLAB_NODE", node_name, 1);
	if (prompt)
		setenv("PS1", prompt, 1);
	fflush(NULL);
	/* vfork: no copy of this process's memory only to exec over it
	 * (part of what `netlab exec NODE true` costs).  The child only
	 * makes system calls until it execs, as vfork children must. */
	pid_t pid = vfork();
	if (pid < 0) {
		perror("netlab: vfork");
		return EXIT_RUNTIME;
	}
	if (pid == 0) {
		/* Only the terminal's stdio goes in: no state, cgroup or
		 * namespace fd (runc CVE-2024-21626). */
		close_range(3, ~0U, 0);
		char m[600];
		if ((has_user && creds_become(uid, gid, NULL) < 0) || creds_clear_inheritable(NULL) < 0) {
			int l = snprintf(m, sizeof(m), "netlab %s: %s/%s: cannot take the node's user or drop capabilities: %s\n",
					 verb, lab, node_name, strerror(errno));
			write_all(STDERR_FILENO, m, (size_t)l < sizeof(m) ? (size_t)l : sizeof(m) - 1);
			_exit(EXIT_RUNTIME);
		}
		int e = exec_search(cmd);
		int l = snprintf(m, sizeof(m), "netlab %s: %s: %s\n", verb, cmd[0],
				 e == ENOENT ? "command not found" : strerror(e));
		write_all(STDERR_FILENO, m, (size_t)l < sizeof(m) ? (size_t)l : sizeof(m) - 1);
		_exit(e == ENOENT ? 127 : 126);
	}
	/* The terminal's ^C belongs to the command; netlab only waits. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return EXIT_RUNTIME;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int cmd_exec(int argc, char **argv)
{
	char *lab = NULL;
	const char *node;
	int i = 1;

	if (argc < 3) {
		cli_usage_error("exec", "usage: netlab exec [LAB] NODE [--] CMD...");
		return EXIT_USAGE;
	}
	if (cli_require_root("exec") < 0)
		return EXIT_RUNTIME;
	if (cli_resolve_lab_node("exec", argc, argv, &i, &lab, &node) < 0)
		return EXIT_USAGE;
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (i >= argc) {
		cli_usage_error("exec", "no command given (usage: netlab exec [LAB] NODE [--] CMD...)");
		free(lab);
		return EXIT_USAGE;
	}
	int rc = run_in_node("exec", lab, node, argv + i, NULL);
	free(lab);
	return rc;
}

int cmd_shell(int argc, char **argv)
{
	char *lab = NULL;
	const char *node;
	int i = 1;
	char prompt[128];

	if (argc < 2) {
		cli_usage_error("shell", "usage: netlab shell [LAB] NODE");
		return EXIT_USAGE;
	}
	if (cli_require_root("shell") < 0)
		return EXIT_RUNTIME;
	if (cli_resolve_lab_node("shell", argc, argv, &i, &lab, &node) < 0)
		return EXIT_USAGE;
	snprintf(prompt, sizeof(prompt), "[%s:%s] \\w \\$ ", lab, node);
	char *bash[] = { "bash", "--norc", "--noprofile", "-i", NULL };
	char *sh[] = { "sh", "-i", NULL };
	int rc = run_in_node("shell", lab, node, access("/bin/bash", X_OK) == 0 ? bash : sh, prompt);
	free(lab);
	return rc;
}
