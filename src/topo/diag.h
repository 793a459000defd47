/* Diagnostics for topology files: collected (all of them), sorted, and
 * printed gcc-style with the source line and a caret. */
#ifndef NETLAB_TOPO_DIAG_H
#define NETLAB_TOPO_DIAG_H

#include <stdbool.h>
#include <stdio.h>

#include "topo/pos.h"
#include "topo/source.h"

enum diag_level { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE };

struct diag {
	enum diag_level level;
	struct topo_pos pos;    /* line 0 = about the whole file */
	char *msg;
	struct topo_pos key;    /* sort position (a note takes its head's) */
	size_t seq;             /* insertion order, keeps sort stable */
};

/* Diagnostics from one source position in one range, e.g. every
 * expansion of `ip eth0 10.0.0.{i%250}/16` in h[1..1000]: only the first
 * DIAG_RANGE_SHOWN are kept, the rest counted and summed up in a note. */
#define DIAG_RANGE_SHOWN 3

struct diag_bucket {
	int range, line, col;
	size_t kept, dropped;
	bool summed;
};

struct diags {
	struct diag *v;
	size_t n, cap;
	size_t nerrors, nwarnings;
	char **ranges;          /* labels of ranges, e.g. "h[1..1000]" */
	size_t nranges, rangecap;
	struct diag_bucket *buckets;
	size_t nbuckets, bucketcap;
	bool drop_notes;        /* the last error or warning was dropped */
};

void diag_add(struct diags *d, enum diag_level level, struct topo_pos pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#define diag_error(d, pos, ...) diag_add(d, DIAG_ERROR, pos, __VA_ARGS__)
#define diag_warn(d, pos, ...) diag_add(d, DIAG_WARNING, pos, __VA_ARGS__)
#define diag_note(d, pos, ...) diag_add(d, DIAG_NOTE, pos, __VA_ARGS__)

/* Register a range label; positions carrying the returned id (> 0) in
 * topo_pos.range get "in expansion i=N of LABEL: " before their message. */
int diag_range_add(struct diags *d, const char *label);
/* Adds the "N more" notes of bounded ranges, then sorts by position. */
void diag_sort(struct diags *d);
/* Print every diagnostic as FILE:LINE:COL, then the line src holds for it
 * (when it has one) with a caret under the column. */
void diag_print(FILE *out, const struct diags *d, const struct topo_source *src);
void diag_free(struct diags *d);

#endif
