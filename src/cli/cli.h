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
int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_shell(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_capture(int argc, char **argv);
int cmd_link(int argc, char **argv);

/* Verbs that change or enter labs need root; say so in one line. */
int cli_require_root(const char *verb);
/* "[LAB] NODE ...": the first word is the lab if a lab of that name is up,
 * else a node of the only lab that is up.  Advances *i past what it used;
 * returns 0 and fills lab (caller frees), or prints why and returns -1. */
int cli_resolve_lab_node(const char *verb, int argc, char **argv, int *i, char **lab, const char **node);
/* "LAB" or nothing (the only lab up). */
int cli_resolve_lab(const char *verb, const char *arg, char **lab);

/* Load and validate FILE, printing diagnostics to stderr.  Returns the
 * topology, or NULL (diagnostics already printed). quiet: no warnings. */
struct topology *cli_load_topology(const char *file, bool quiet);
/* The same, and *src (set to NULL first) receives the file's lines for a
 * verb that quotes statements; free it with topo_source_free(). */
struct topology *cli_load_topology_source(const char *file, bool quiet, struct topo_source **src);
void cli_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Link options the running kernel cannot apply (topo/features.h), as
 * errors (`up`) or warnings (`check`), printed with the source when
 * print; the number of them.  Probes the kernel only when a link has
 * rate, delay or loss. */
size_t cli_check_kernel(const struct topology *t, const struct topo_source *src, bool as_error, bool print);
/* `--untrusted` (topo/untrusted.h): prints what is refused; -1 if any. */
int cli_check_untrusted(const struct topology *t, const struct topo_source *src);

#endif
