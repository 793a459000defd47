/* netlab: a thin command line over the core library.  One verb per file in
 * src/cli/, one row per verb in src/cli/verbs.c; this file only
 * dispatches. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "spawner/spawner.h"
#include "util/error.h"
#include "util/strutil.h"

static int unknown_verb(const char *word)
{
	const char *names[64];
	size_t n = 0;

	for (size_t i = 0; i < cli_nverbs && n < 64; i++)
		if (!(cli_verbs[i].flags & CLI_HIDDEN))
			names[n++] = cli_verbs[i].name;
	const char *near = str_nearest(word, names, n);
	if (near)
		nlab_report(NULL, "unknown verb '%s'; did you mean '%s'?", word, near);
	else
		nlab_report(NULL, "unknown verb '%s'", word);
	fprintf(stderr, "Run 'netlab --help' for the list of verbs.\n");
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	/* Not a verb: the lab's spawner, started by its supervisor. */
	if (argc > 0 && !strcmp(argv[0], SPAWNER_ARGV0))
		return spawner_main(argc, argv);
	if (argc < 2) {
		cli_print_usage(stderr);
		return EXIT_USAGE;
	}
	const char *verb = argv[1];
	if (!strcmp(verb, "-h") || !strcmp(verb, "--help"))
		return cmd_help(argc - 1, argv + 1);
	if (!strcmp(verb, "-V") || !strcmp(verb, "--version"))
		return cmd_version(argc - 1, argv + 1);
	const struct cli_verb *v = cli_verb_find(verb);
	if (!v) {
		if (verb[0] == '-') {
			nlab_report(NULL, "unknown option '%s' (options go after the verb)", verb);
			fprintf(stderr, "Run 'netlab --help' for the list of verbs.\n");
			return EXIT_USAGE;
		}
		return unknown_verb(verb);
	}
	/* Here, so that every verb has it, whatever its own parsing. */
	if (!(v->flags & CLI_HIDDEN) && cli_wants_help(v, argc - 1, argv + 1)) {
		cli_print_help(stdout, v);
		return EXIT_OK;
	}
	return v->fn(argc - 1, argv + 1);
}
