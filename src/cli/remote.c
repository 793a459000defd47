/* netlab __remote: what the controller of a lab across machines runs on
 * each machine over ssh (docs/multihost.md).  Not for people; hidden.
 *
 *   __remote part LAB [--underlay ADDRESS]   build this machine's part
 *                                             (remote/part.h)
 *   __remote test LAB [--all-pairs]           this machine's expectations
 *   __remote local VERB ARG...                VERB on this machine's own
 *                                             lab, never forwarded again */
#include <string.h>

#include "cli/cli.h"
#include "remote/control.h"
#include "remote/part.h"

int cmd_remote(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";

	if (!strcmp(what, "local") && argc > 2) {
		const struct cli_verb *v = cli_verb_find(argv[2]);
		if (!v || (v->flags & CLI_HIDDEN)) {
			nlab_report("__remote", "unknown verb '%s'", argv[2]);
			return EXIT_USAGE;
		}
		mh_local_only = true;
		return v->fn(argc - 2, argv + 2);
	}
	if (!strcmp(what, "part") && (argc == 3 || (argc == 5 && !strcmp(argv[3], "--underlay"))))
		return rmt_part(argv[2], argc == 5 ? argv[4] : NULL, cli_version());
	if (!strcmp(what, "test") && (argc == 3 || (argc == 4 && !strcmp(argv[3], "--all-pairs"))))
		return rmt_test(argv[2], argc == 4);
	nlab_report("__remote", "usage: netlab __remote part LAB [--underlay ADDRESS] | test LAB [--all-pairs] | local "
				"VERB ARG... (the controller of a lab across machines runs this over ssh)");
	return EXIT_USAGE;
}
