#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/cli.h"

struct topology *cli_load_topology(const char *file, bool quiet)
{
	struct diags d = { 0 };
	struct topology *t = NULL;
	int r = topo_load(file, &t, &d);

	if (r < 0 || (!quiet && d.nwarnings)) {
		struct diags shown = d;
		if (quiet || r == 0) {
			/* nothing to hide */
		}
		diag_print(stderr, &shown, file, t ? t->lines : NULL, t ? t->nlines : 0);
		if (r < 0)
			fprintf(stderr, "%zu error%s, %zu warning%s\n", d.nerrors, d.nerrors == 1 ? "" : "s",
				d.nwarnings, d.nwarnings == 1 ? "" : "s");
	}
	diag_free(&d);
	if (r < 0) {
		topo_free(t);
		return NULL;
	}
	return t;
}

void cli_usage_error(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "netlab %s: ", verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}
