#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lab/lab.h"

static int run(const char *verb, const char *lab, const char *node, char **cmd, const char *prompt, char *shell)
{
	struct lab_exec_options o = { .verb = verb, .prompt = prompt, .shell = shell };
	nlab_error *err = NULL;
	int rc = lab_exec(lab, node, cmd, &o, &err);

	if (rc < 0) {
		nlab_error_print(verb, &err);
		return EXIT_RUNTIME;
	}
	return rc;
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
	int rc = run("exec", lab, node, argv + i, NULL, NULL);
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
	char *shell = getenv("SHELL");
	int rc = run("shell", lab, node, NULL, prompt, shell ? shell : "");
	free(lab);
	return rc;
}
