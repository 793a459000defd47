#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lab/lab.h"
#include "lab/state.h"

static void down_notice(const char *msg, void *arg)
{
	nlab_report("down", "%s: %s", (const char *)arg, msg);
}

static int down_one(const char *lab)
{
	nlab_error *err = NULL;
	struct lab_down_result res;
	struct lab_lock_options lo = { .notice = down_notice, .arg = (void *)lab, .interrupt_setup = true };
	int r = lab_take_down(lab, &lo, &res, &err);

	if (res.state_damaged)
		nlab_report("down", "%s; what the lab left was found from the kernel", res.state_problem);
	if (r < 0) {
		nlab_error_wrap(&err, "lab %s", lab);
		nlab_error_print("down", &err);
		return EXIT_RUNTIME;
	}
	printf(res.existed ? "lab %s is down\n" : "lab %s is not up; nothing to do\n", lab);
	return EXIT_OK;
}

/* A .topo file stands for the lab it would create. */
static char *lab_of_arg(const char *arg)
{
	struct stat st;

	if (stat(arg, &st) == 0 && S_ISREG(st.st_mode)) {
		struct topology *t = cli_load_topology(arg, true);
		char *name;
		if (t) {
			name = strdup(t->name);
			topo_free(t);
			return name;
		}
		char buf[NLAB_NAME_MAX + 1];
		topo_default_lab_name(arg, buf, sizeof(buf));
		return strdup(buf);
	}
	return strdup(arg);
}

int cmd_down(int argc, char **argv)
{
	const char *arg = NULL;
	bool all = false, opts = true;

	for (int i = 1; i < argc; i++) {
		if (opts && !strcmp(argv[i], "--"))
			opts = false;
		else if (opts && !strcmp(argv[i], "--all"))
			all = true;
		else if (opts && argv[i][0] == '-') {
			cli_usage_error("down", "unknown option '%s' (usage: netlab down [LAB|FILE] [--all])", argv[i]);
			return EXIT_USAGE;
		} else if (arg) {
			cli_usage_error("down", "one lab at a time (or --all)");
			return EXIT_USAGE;
		} else
			arg = argv[i];
	}
	if (cli_require_root("down") < 0)
		return EXIT_RUNTIME;
	if (all) {
		char **labs;
		size_t n;
		int rc = EXIT_OK;
		nlab_error *err = NULL;
		if (lab_list_all(&labs, &n, &err) < 0) {
			nlab_error_print("down", &err);
			return EXIT_RUNTIME;
		}
		if (n == 0)
			printf("no labs\n");
		for (size_t i = 0; i < n; i++) {
			if (down_one(labs[i]) != EXIT_OK)
				rc = EXIT_RUNTIME;
			free(labs[i]);
		}
		free(labs);
		return rc;
	}
	char *lab = NULL;
	if (arg)
		lab = lab_of_arg(arg);
	else if (cli_resolve_lab("down", NULL, &lab) < 0)
		return EXIT_USAGE;
	if (!topo_lab_name_valid(lab)) {
		cli_usage_error("down", "'%s' is neither a lab name nor a topology file", lab);
		free(lab);
		return EXIT_USAGE;
	}
	int rc = down_one(lab);
	free(lab);
	return rc;
}
