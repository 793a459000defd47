#include "topo/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/vec.h"

int diag_range_add(struct diags *d, const char *label)
{
	char **slot = vec_push((void **)&d->ranges, &d->nranges, &d->rangecap, sizeof(*d->ranges));

	if (!slot)
		return 0;
	*slot = strdup(label);
	return (int)d->nranges;
}

static struct diag_bucket *bucket_for(struct diags *d, struct topo_pos pos)
{
	/* Few positions ever fail in a range: a linear scan from the most
	 * recent (the usual hit) is enough. */
	for (size_t k = d->nbuckets; k-- > 0;) {
		struct diag_bucket *b = &d->buckets[k];
		if (b->range == pos.range && b->line == pos.line && b->col == pos.col)
			return b;
	}
	struct diag_bucket *b = vec_push((void **)&d->buckets, &d->nbuckets, &d->bucketcap, sizeof(*d->buckets));
	if (b) {
		b->range = pos.range;
		b->line = pos.line;
		b->col = pos.col;
	}
	return b;
}

void diag_add(struct diags *d, enum diag_level level, struct topo_pos pos, const char *fmt, ...)
{
	struct diag *g;
	va_list ap;
	char *msg;

	if (level == DIAG_ERROR)
		d->nerrors++;
	else if (level == DIAG_WARNING)
		d->nwarnings++;
	if (level == DIAG_NOTE && d->drop_notes)
		return;
	d->drop_notes = false;
	if (level != DIAG_NOTE && pos.range > 0) {
		struct diag_bucket *b = bucket_for(d, pos);
		if (b && b->kept >= DIAG_RANGE_SHOWN) {
			b->dropped++;
			d->drop_notes = true;
			return;
		}
		if (b)
			b->kept++;
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg && pos.range > 0 && (size_t)pos.range <= d->nranges) {
		char *full;
		if (asprintf(&full, "in expansion i=%d of %s: %s", pos.iter, d->ranges[pos.range - 1], msg) < 0)
			full = NULL;
		free(msg);
		msg = full;
	}
	g = vec_push((void **)&d->v, &d->n, &d->cap, sizeof(*d->v));
	if (!g || !msg) {
		free(msg);
		return;
	}
	g->level = level;
	g->pos = pos;
	g->msg = msg;
	g->seq = d->n;
	/* A note sorts with the diagnostic it follows. */
	g->key = (level == DIAG_NOTE && d->n > 1) ? d->v[d->n - 2].key : pos;
}

static int diag_cmp(const void *a, const void *b)
{
	const struct diag *x = a, *y = b;

	if (x->key.line != y->key.line)
		return x->key.line - y->key.line;
	if (x->key.col != y->key.col)
		return x->key.col - y->key.col;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

void diag_sort(struct diags *d)
{
	for (size_t k = 0; k < d->nbuckets; k++) {
		struct diag_bucket *b = &d->buckets[k];
		if (!b->dropped || b->summed)
			continue;
		b->summed = true;
		struct topo_pos pos = { .line = b->line, .col = b->col };
		size_t before = d->n;
		d->drop_notes = false;
		diag_note(d, pos, "%zu more like %s in other expansions of %s not shown", b->dropped,
			  b->kept + b->dropped == 1 ? "this" : "these", d->ranges[b->range - 1]);
		if (d->n > before)
			d->v[d->n - 1].key = pos; /* after the shown ones: added last */
	}
	if (d->n > 1)
		qsort(d->v, d->n, sizeof(*d->v), diag_cmp);
}

static const char *level_name(enum diag_level l)
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

void diag_print(FILE *out, const struct diags *d, const struct topo_source *src)
{
	const char *file = src ? src->file : "?";

	for (size_t i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];

		if (g->pos.line <= 0) {
			fprintf(out, "%s: %s: %s\n", file, level_name(g->level), g->msg);
			continue;
		}
		fprintf(out, "%s:%d:%d: %s: %s\n", file, g->pos.line, g->pos.col, level_name(g->level), g->msg);
		const char *text = topo_source_line(src, g->pos.line);
		if (!text)
			continue;
		fprintf(out, " %5d | %s\n       | ", g->pos.line, text);
		/* Reproduce tabs so the caret lines up whatever the tab width. */
		int col = 1;
		for (const char *p = text; *p && col < g->pos.col; p++) {
			if (((unsigned char)*p & 0xC0) == 0x80)
				continue;
			fputc(*p == '\t' ? '\t' : ' ', out);
			col++;
		}
		fputs("^\n", out);
	}
}

void diag_free(struct diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].msg);
	free(d->v);
	for (size_t i = 0; i < d->nranges; i++)
		free(d->ranges[i]);
	free(d->ranges);
	free(d->buckets);
	memset(d, 0, sizeof(*d));
}
