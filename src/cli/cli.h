/* The verbs of the command line; each lives in src/cli/<verb>.c. */
#ifndef NETLAB_CLI_H
#define NETLAB_CLI_H

#include "topo/topo.h"

/* Exit codes, documented in README.md. */
#define EXIT_OK 0
#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

struct cli_verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
	const char *summary;
};

int cmd_check(int argc, char **argv);
int cmd_graph(int argc, char **argv);

/* Load and validate FILE, printing diagnostics to stderr.  Returns the
 * topology, or NULL (diagnostics already printed). quiet: no warnings. */
struct topology *cli_load_topology(const char *file, bool quiet);
void cli_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
