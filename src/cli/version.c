/* `netlab version`, `netlab --version`: the version of the source (the
 * Makefile's VERSION, the top entry of NEWS) and the `git describe` of
 * the checkout it was built from, generated into build/version.h. */
#include <stdio.h>

#include "cli/cli.h"
#include "version.h"

const char *cli_version(void)
{
	return NETLAB_VERSION;
}

const char *cli_git_describe(void)
{
	return NETLAB_GIT;
}

int cmd_version(int argc, char **argv)
{
	struct cli_args a;
	int r = cli_parse("version", argc, argv, &a);

	if (r != 0) {
		cli_args_free(&a);
		return r > 0 ? EXIT_OK : EXIT_USAGE;
	}
	if (cli_flag(&a, "json")) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "version", json_object_new_string(cli_version()));
		json_object_object_add(o, "git",
				       *cli_git_describe() ? json_object_new_string(cli_git_describe()) : NULL);
		cli_json_print(cli_json_envelope("version", o));
	} else if (*cli_git_describe()) {
		printf("netlab %s (git %s)\n", cli_version(), cli_git_describe());
	} else {
		printf("netlab %s\n", cli_version());
	}
	cli_args_free(&a);
	return EXIT_OK;
}
