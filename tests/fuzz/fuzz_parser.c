/* libFuzzer target for the topology language: lexer, parser (ranges
 * expanded), validator, the DOT writer, and the expanded model's plan:
 * every operation `up` would perform, printed as text and JSON (`up
 * --dry-run`), and each firewall rule built into the x_tables entry the
 * kernel would get.  Build and run with `make fuzz`; `make test` replays
 * tests/fuzz/regress/ (inputs that once found a bug, and a corpus that
 * covers the language) and fuzzes for a bounded time.  A crash found
 * goes to tests/fuzz/regress/ once fixed.
 *
 * Beyond the parser it drives what `netlab check`, `netlab graph` and
 * `netlab up --dry-run` do with a file: validation (also after parse
 * errors, as topo_load does), the sorted diagnostics with their source
 * excerpt, DOT output, and the plan.
 *
 * The input is handed over as-is, not NUL-terminated: topo_parse_buffer
 * takes a length, and reading past it is exactly the kind of bug this is
 * here to find. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "net/iptc.h"
#include "plan/plan.h"
#include "topo/dot.h"
#include "topo/topo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The plan of a valid model, as `up --dry-run` shows it, and its rules as
 * the kernel would get them. */
static void plan_it(const struct topology *t, FILE *out)
{
	struct plan p;

	if (plan_build(t, t->name ? t->name : "fuzz", &p, NULL) < 0)
		return;
	if (out)
		plan_print(&p, out);
	json_object_put(plan_json(&p));
	for (size_t i = 0; i < p.fw.n; i++) {
		_Alignas(8) unsigned char buf[1024];
		nlab_ipt_build(&p.fw.rules[i].r, buf, sizeof(buf), NULL);
	}
	plan_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Opened once: an fopen per input would dominate the run time.  It
	 * stays open until exit, which LeakSanitizer does not count. */
	static FILE *devnull;
	struct diags d = { 0 };
	struct topology *t = NULL;
	struct topo_source *src = topo_source_new("fuzz.topo");
	struct topo_broken *broken = NULL;

	if (!devnull)
		devnull = fopen("/dev/null", "we");
	int r = topo_parse_buffer(src, (const char *)data, size, &t, &broken, &d);
	if (t) {
		/* As topo_load does: validate even after parse errors (the
		 * user sees every mistake at once), so the validator's paths
		 * for half-parsed statements get fuzzed too. */
		if (topo_validate(t, broken, &d) < 0)
			r = -1;
		if (r == 0 && devnull)
			topo_write_dot(t, devnull);
		if (r == 0)
			plan_it(t, devnull);
	}
	/* What `netlab check` prints: sorting and the caret under a column
	 * computed from the fuzzed line. */
	diag_sort(&d);
	if (devnull) {
		diag_print(devnull, &d, src);
		clearerr(devnull);
	}
	topo_free(t);
	topo_broken_free(broken);
	topo_source_free(src);
	diag_free(&d);
	return 0;
}
