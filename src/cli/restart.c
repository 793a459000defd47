/* netlab restart [LAB] NODE: the node's lines again, nothing else touched
 * (lab/lab.h lab_restart; the supervisor does the work). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "lab/lab.h"

static void restart_notice(const char *msg, void *arg)
{
	nlab_report("restart", "%s: %s", (const char *)arg, msg);
}

int cmd_restart(int argc, char **argv)
{
	struct cli_args a;
	int r = cli_parse("restart", argc, argv, &a);

	if (r != 0) {
		cli_args_free(&a);
		return r > 0 ? EXIT_OK : EXIT_USAGE;
	}
	char *lab = NULL;
	const char *node = a.operands[a.n - 1];
	int rc = cli_resolve_lab("restart", a.n == 2 ? a.operands[0] : NULL, &lab);
	if (rc == 0 && !topo_lab_name_valid(lab)) {
		cli_usage_error("restart", "invalid lab name '%s'", lab);
		rc = EXIT_USAGE;
	}
	if (rc == 0 && !topo_object_name_valid(node)) {
		cli_usage_error("restart", "invalid node name '%s'", node);
		rc = EXIT_USAGE;
	}
	if (rc != 0) {
		free(lab);
		cli_args_free(&a);
		return rc;
	}
	struct lab_restart_result res;
	nlab_error *err = NULL;
	if (lab_restart(lab, node, &res, restart_notice, lab, &err) < 0) {
		rc = err && err->errnum == ENOENT ? EXIT_NOTFOUND : EXIT_RUNTIME;
		nlab_error_print("restart", &err);
	} else {
		printf("node %s of lab %s restarted in %.2f s: %lld process%s of its lines stopped", node, lab,
		       (double)res.ms / 1000, (long long)res.stopped, res.stopped == 1 ? "" : "es");
		if (res.killed)
			printf(" (%lld killed by SIGKILL after the grace period)", (long long)res.killed);
		printf(", its lines run again\n");
	}
	free(lab);
	cli_args_free(&a);
	return rc;
}
