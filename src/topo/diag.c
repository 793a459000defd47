#include "topo/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "topo/model.h"

void diag_add(struct diags *d, enum diag_level level, struct topo_pos pos, const char *fmt, ...)
{
	struct diag *g;
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	g = topo_vec_push((void **)&d->v, &d->n, &d->cap, sizeof(*d->v));
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
	if (level == DIAG_ERROR)
		d->nerrors++;
	else if (level == DIAG_WARNING)
		d->nwarnings++;
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

void diag_print(FILE *out, const struct diags *d, const char *file, char *const *lines, size_t nlines)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];

		if (g->pos.line <= 0) {
			fprintf(out, "%s: %s: %s\n", file, level_name(g->level), g->msg);
			continue;
		}
		fprintf(out, "%s:%d:%d: %s: %s\n", file, g->pos.line, g->pos.col, level_name(g->level), g->msg);
		if (!lines || (size_t)g->pos.line > nlines || !lines[g->pos.line - 1])
			continue;
		const char *src = lines[g->pos.line - 1];
		fprintf(out, " %5d | %s\n       | ", g->pos.line, src);
		/* Reproduce tabs so the caret lines up whatever the tab width. */
		int col = 1;
		for (const char *p = src; *p && col < g->pos.col; p++) {
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
	memset(d, 0, sizeof(*d));
}
