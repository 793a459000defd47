/* netlab exec [LAB] NODE [--] CMD... and netlab shell [LAB] NODE. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lab/lab.h"
#include "remote/control.h"

/* A lab across machines: the same verb on the node's machine, over ssh
 * (remote/control.h); returns only when it cannot. */
static int forward(const char *verb, const char *lab, const char *node, char **cmd)
{
	size_t n = 0;
	while (cmd && cmd[n])
		n++;
	char **args = calloc(n + 5, sizeof(*args));
	nlab_error *err = NULL;

	if (!args) {
		nlab_report(verb, "out of memory");
		return EXIT_RUNTIME;
	}
	args[0] = (char *)verb;
	args[1] = (char *)lab;
	args[2] = (char *)node;
	if (cmd) {
		args[3] = "--";
		memcpy(args + 4, cmd, n * sizeof(*args));
	}
	mh_forward(lab, node, NULL, args, cmd ? n + 4 : 3, !cmd && isatty(STDIN_FILENO), &err);
	free(args);
	bool absent = err && err->errnum == ENOENT;
	nlab_error_print(verb, &err);
	return absent ? EXIT_NOTFOUND : EXIT_RUNTIME;
}

static int run(const char *verb, const char *lab, const char *node, char **cmd, const char *prompt, char *shell)
{
	struct lab_exec_options o = { .verb = verb, .prompt = prompt, .shell = shell };
	nlab_error *err = NULL;

	/* Across machines only ssh is needed here (root there). */
	if (mh_controls(lab))
		return forward(verb, lab, node, cmd);
	int rc = lab_exec(lab, node, cmd, &o, &err);

	if (rc < 0) {
		/* lab_exec: ENOENT is "no such lab or node". */
		bool absent = err && err->errnum == ENOENT;
		nlab_error_print(verb, &err);
		return absent ? EXIT_NOTFOUND : EXIT_RUNTIME;
	}
	return rc;
}

int cmd_exec(int argc, char **argv)
{
	struct cli_args a;
	char *lab = NULL;
	const char *node;
	int i = 0;
	int r = cli_parse("exec", argc, argv, &a);

	if (r != 0) {
		cli_args_free(&a);
		return r > 0 ? EXIT_OK : EXIT_USAGE;
	}
	int rc = cli_resolve_lab_node("exec", a.n, a.operands, &i, &lab, &node);
	if (rc != 0) {
		cli_args_free(&a);
		return rc;
	}
	if (!topo_lab_name_valid(lab)) {
		cli_usage_error("exec", "invalid lab name '%s'", lab);
		free(lab);
		cli_args_free(&a);
		return EXIT_USAGE;
	}
	if (i < a.n && !strcmp(a.operands[i], "--"))
		i++;
	if (i >= a.n) {
		cli_usage_error("exec", "missing COMMAND");
		free(lab);
		cli_args_free(&a);
		return EXIT_USAGE;
	}
	rc = run("exec", lab, node, a.operands + i, NULL, NULL);
	free(lab);
	cli_args_free(&a);
	return rc;
}

int cmd_shell(int argc, char **argv)
{
	struct cli_args a;
	char *lab = NULL;
	const char *node;
	int i = 0;
	char prompt[128];
	int r = cli_parse("shell", argc, argv, &a);

	if (r != 0) {
		cli_args_free(&a);
		return r > 0 ? EXIT_OK : EXIT_USAGE;
	}
	/* LAB NODE: no guessing, the lab is named (up or not). */
	int rc = 0;
	if (a.n == 2) {
		lab = strdup(a.operands[0]);
		node = a.operands[1];
	} else {
		rc = cli_resolve_lab_node("shell", a.n, a.operands, &i, &lab, &node);
	}
	if (rc == 0 && !topo_lab_name_valid(lab)) {
		cli_usage_error("shell", "invalid lab name '%s'", lab);
		rc = EXIT_USAGE;
	}
	if (rc != 0) {
		free(lab);
		cli_args_free(&a);
		return rc;
	}
	snprintf(prompt, sizeof(prompt), "[%s:%s] \\w \\$ ", lab, node);
	/* The shell is looked up inside the node (lab/exec.c). */
	char *shell = getenv("SHELL");
	rc = run("shell", lab, node, NULL, prompt, shell ? shell : "");
	free(lab);
	cli_args_free(&a);
	return rc;
}
