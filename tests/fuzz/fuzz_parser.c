/* libFuzzer target for the topology language: lexer, parser, validator and
 * the DOT writer (the one consumer that walks every validated string).
 * Build and run with `make fuzz`; crashes found go to tests/fuzz/regress/.
 *
 * Beyond the parser it drives what `netlab check` and `netlab graph` do
 * with a file: validation (also after parse errors, as topo_load does),
 * the sorted diagnostics with their source excerpt, and DOT output.
 *
 * The input is handed over as-is, not NUL-terminated: topo_parse_buffer
 * takes a length, and reading past it is exactly the kind of bug this is
 * here to find. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "topo/dot.h"
#include "topo/topo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
