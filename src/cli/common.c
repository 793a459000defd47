#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "runtime/lab.h"
#include "runtime/state.h"

struct topology *cli_load_topology_source(const char *file, bool quiet, struct topo_source **srcp)
{
	struct diags d = { 0 };
	struct topology *t = NULL;
	struct topo_source *src = NULL;
	int r = topo_load(file, &t, &src, &d);

	if (srcp)
		*srcp = NULL;
	if (r < 0 || (!quiet && d.nwarnings)) {
		diag_print(stderr, &d, src);
		if (r < 0)
			fprintf(stderr, "%zu error%s, %zu warning%s\n", d.nerrors, d.nerrors == 1 ? "" : "s",
				d.nwarnings, d.nwarnings == 1 ? "" : "s");
	}
	diag_free(&d);
	if (r < 0) {
		topo_free(t);
		t = NULL;
	}
	if (srcp && t)
		*srcp = src;
	else
		topo_source_free(src);
	return t;
}

struct topology *cli_load_topology(const char *file, bool quiet)
{
	return cli_load_topology_source(file, quiet, NULL);
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

int cli_require_root(const char *verb)
{
	if (geteuid() == 0)
		return 0;
	fprintf(stderr,
		"netlab %s: needs root: labs are built from namespaces and network interfaces "
		"(CAP_SYS_ADMIN, CAP_NET_ADMIN); run it as root, e.g. with sudo\n",
		verb);
	return -1;
}

static int labs_up(char ***up, size_t *nup)
{
	char **all;
	size_t n;

	*up = NULL;
	*nup = 0;
	if (state_list(&all, &n, NULL) < 0)
		return -1;
	*up = calloc(n + 1, sizeof(**up));
	for (size_t i = 0; i < n; i++) {
		if (*up && lab_is_up(all[i]))
			(*up)[(*nup)++] = all[i];
		else
			free(all[i]);
	}
	free(all);
	return 0;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int cli_resolve_lab(const char *verb, const char *arg, char **lab)
{
	char **up;
	size_t n;

	if (arg) {
		*lab = strdup(arg);
		return 0;
	}
	labs_up(&up, &n);
	if (n == 1) {
		*lab = strdup(up[0]);
		free_list(up, n);
		return 0;
	}
	if (n == 0)
		fprintf(stderr, "netlab %s: no lab is up\n", verb);
	else {
		fprintf(stderr, "netlab %s: %zu labs are up (", verb, n);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, "%s%s", i ? ", " : "", up[i]);
		fprintf(stderr, "); name one\n");
	}
	free_list(up, n);
	return -1;
}

int cli_resolve_lab_node(const char *verb, int argc, char **argv, int *i, char **lab, const char **node)
{
	if (*i >= argc) {
		fprintf(stderr, "netlab %s: name a node\n", verb);
		return -1;
	}
	if (*i + 1 < argc && strcmp(argv[*i + 1], "--") != 0 && lab_is_up(argv[*i])) {
		*lab = strdup(argv[(*i)++]);
		*node = argv[(*i)++];
		return 0;
	}
	if (cli_resolve_lab(verb, NULL, lab) < 0)
		return -1;
	*node = argv[(*i)++];
	return 0;
}
