/* netlab check FILE [--json] [-q]: the topology's diagnostics, as text
 * (gcc-style, with the line and a caret) or as JSON for editors. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "lab/rootless.h"
#include "topo/privilege.h"

static const char *severity(enum diag_level l)
{
	switch (l) {
	case DIAG_ERROR:
		return "error";
	case DIAG_WARNING:
		return "warning";
	case DIAG_NOTE:
		return "note";
	default:
		return "?";
	}
}

static json_object *count(size_t n)
{
	return json_object_new_int64((int64_t)n);
}

/* docs/json.md, "check". */
static json_object *check_json(const char *file, int r, const struct topology *t, const struct diags *d)
{
	json_object *o = json_object_new_object(), *arr = json_object_new_array();

	json_object_object_add(o, "file", json_object_new_string(strcmp(file, "-") ? file : "<stdin>"));
	json_object_object_add(o, "valid", json_object_new_boolean(r == 0));
	json_object_object_add(o, "errors", count(d->nerrors));
	json_object_object_add(o, "warnings", count(d->nwarnings));
	if (r == 0 && t) {
		json_object_object_add(o, "lab", json_object_new_string(t->name));
		json_object_object_add(o, "nodes", count(topo_count_nodes(t)));
		json_object_object_add(o, "switches", count(t->switches.n));
		json_object_object_add(o, "links", count(t->links.n));
	}
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];
		json_object *j = json_object_new_object();
		json_object_object_add(j, "file", json_object_new_string(strcmp(file, "-") ? file : "<stdin>"));
		json_object_object_add(j, "line", json_object_new_int(g->pos.line > 0 ? g->pos.line : 0));
		json_object_object_add(j, "column", json_object_new_int(g->pos.line > 0 ? g->pos.col : 0));
		json_object_object_add(j, "severity", json_object_new_string(severity(g->level)));
		json_object_object_add(j, "message", json_object_new_string(g->msg));
		json_object_array_add(arr, j);
	}
	json_object_object_add(o, "diagnostics", arr);
	return cli_json_envelope("check", o);
}

int cmd_check(int argc, char **argv)
{
	struct cli_args a;
	int r = cli_parse("check", argc, argv, &a);

	if (r != 0) {
		cli_args_free(&a);
		return r > 0 ? EXIT_OK : EXIT_USAGE;
	}
	const char *file = a.operands[0];
	bool quiet = cli_flag(&a, "quiet"), json = cli_flag(&a, "json");
	cli_args_free(&a);

	struct diags d = { 0 };
	struct topology *t = NULL;
	struct topo_source *src = NULL;
	r = cli_topo_load(file, &t, &src, &d);
	/* Run by a user, what `up` would refuse that user is an error there
	 * too (topo/privilege.h). */
	if (json && r == 0 && rootless() && cli_rootless_diags(t, &d)) {
		diag_sort(&d);
		r = -1;
	}
	if (json) {
		cli_json_print(check_json(file, r, t, &d));
	} else {
		if (r < 0 || (!quiet && d.nwarnings))
			diag_print(stderr, &d, src);
		if (r < 0)
			fprintf(stderr, "%zu error%s, %zu warning%s\n", d.nerrors, d.nerrors == 1 ? "" : "s",
				d.nwarnings, d.nwarnings == 1 ? "" : "s");
		else {
			/* The language is fine; whether this kernel can apply it
			 * is a warning here, an error in `up`. */
			size_t k = cli_check_kernel(t, src, false, !quiet);
			/* Run by a user: what `up` would refuse that user is an
			 * error (topo/privilege.h). */
			if (cli_check_rootless(t, src))
				r = -1;
			else if (!quiet)
				printf("%s: ok: lab '%s', %zu node%s, %zu switch%s, %zu link%s%s\n",
				       src ? src->file : file, t->name, topo_count_nodes(t),
				       topo_count_nodes(t) == 1 ? "" : "s", t->switches.n,
				       t->switches.n == 1 ? "" : "es", t->links.n, t->links.n == 1 ? "" : "s",
				       k ? "; but `up` on the running kernel would refuse what the warnings above say"
					 : "");
		}
	}
	diag_free(&d);
	topo_free(t);
	topo_source_free(src);
	return r < 0 ? EXIT_USAGE : EXIT_OK;
}
