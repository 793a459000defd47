#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int cmd_check(int argc, char **argv)
{
	const char *file = NULL;
	bool quiet = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
			quiet = true;
		else if (argv[i][0] == '-' && argv[i][1]) {
			cli_usage_error("check", "unknown option '%s'", argv[i]);
			return EXIT_USAGE;
		} else if (file) {
			cli_usage_error("check", "one topology file at a time");
			return EXIT_USAGE;
		} else
			file = argv[i];
	}
	if (!file) {
		cli_usage_error("check", "usage: netlab check FILE");
		return EXIT_USAGE;
	}
	struct topo_source *src = NULL;
	struct topology *t = cli_load_topology_source(file, quiet, &src);
	if (!t)
		return EXIT_USAGE;
	/* The language is fine; whether this kernel can apply it is a
	 * warning here, an error in `up`. */
	size_t k = cli_check_kernel(t, src, false, !quiet);
	if (!quiet)
		printf("%s: ok: lab '%s', %zu node%s, %zu switch%s, %zu link%s%s\n", file, t->name, topo_count_nodes(t),
		       topo_count_nodes(t) == 1 ? "" : "s", t->switches.n, t->switches.n == 1 ? "" : "es", t->links.n,
		       t->links.n == 1 ? "" : "s",
		       k ? "; but `up` on the running kernel would refuse what the warnings above say" : "");
	topo_free(t);
	topo_source_free(src);
	return EXIT_OK;
}
