/* Diagnostics for topology files: collected (all of them), sorted, and
 * printed gcc-style with the source line and a caret. */
#ifndef NETLAB_TOPO_DIAG_H
#define NETLAB_TOPO_DIAG_H

#include <stdio.h>

#include "topo/model.h"

enum diag_level { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE };

struct diag {
	enum diag_level level;
	struct topo_pos pos;    /* line 0 = about the whole file */
	char *msg;
	struct topo_pos key;    /* sort position (a note takes its head's) */
	size_t seq;             /* insertion order, keeps sort stable */
};

struct diags {
	struct diag *v;
	size_t n, cap;
	size_t nerrors, nwarnings;
};

void diag_add(struct diags *d, enum diag_level level, struct topo_pos pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#define diag_error(d, pos, ...) diag_add(d, DIAG_ERROR, pos, __VA_ARGS__)
#define diag_warn(d, pos, ...) diag_add(d, DIAG_WARNING, pos, __VA_ARGS__)
#define diag_note(d, pos, ...) diag_add(d, DIAG_NOTE, pos, __VA_ARGS__)

void diag_sort(struct diags *d);
/* Print every diagnostic; lines (may be NULL) supply the source excerpt. */
void diag_print(FILE *out, const struct diags *d, const char *file, char *const *lines, size_t nlines);
void diag_free(struct diags *d);

#endif
