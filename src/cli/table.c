/* Text tables whose columns are as wide as their widest cell: names of 32
 * characters, long file names and big counters never push a column over
 * or get cut.  Widths count UTF-8 characters, not bytes. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/strutil.h"

struct row {
	char **cells; /* ncols cells; NULL for a text line */
	char *text;
	size_t text_col;
};

struct cli_table {
	size_t ncols;
	size_t *width;
	bool *right;
	struct row *rows;
	size_t nrows;
	bool oom;
};

static size_t width_of(const char *s)
{
	return s ? utf8_width(s, strlen(s)) : 0;
}

struct cli_table *cli_table_new(size_t ncols, const char *const *headings)
{
	struct cli_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ncols = ncols;
	t->width = calloc(ncols, sizeof(*t->width));
	t->right = calloc(ncols, sizeof(*t->right));
	if (!t->width || !t->right)
		t->oom = true;
	if (headings)
		cli_table_add(t, headings);
	return t;
}

void cli_table_right(struct cli_table *t, size_t col)
{
	if (t && !t->oom && col < t->ncols)
		t->right[col] = true;
}

static struct row *push(struct cli_table *t)
{
	struct row *v = t->oom ? NULL : realloc(t->rows, (t->nrows + 1) * sizeof(*v));

	if (!v) {
		t->oom = true;
		return NULL;
	}
	t->rows = v;
	memset(&v[t->nrows], 0, sizeof(*v));
	return &v[t->nrows++];
}

void cli_table_add(struct cli_table *t, const char *const *cells)
{
	struct row *r = t ? push(t) : NULL;

	if (!r)
		return;
	r->cells = calloc(t->ncols, sizeof(*r->cells));
	if (!r->cells) {
		t->oom = true;
		return;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		r->cells[i] = strdup(cells[i] ? cells[i] : "");
		if (!r->cells[i])
			t->oom = true;
		else if (width_of(r->cells[i]) > t->width[i])
			t->width[i] = width_of(r->cells[i]);
	}
}

void cli_table_add_text(struct cli_table *t, size_t col, const char *fmt, ...)
{
	struct row *r = t ? push(t) : NULL;
	va_list ap;

	if (!r)
		return;
	va_start(ap, fmt);
	if (vasprintf(&r->text, fmt, ap) < 0) {
		r->text = NULL;
		t->oom = true;
	}
	va_end(ap);
	r->text_col = col < t->ncols ? col : 0;
}

static void pad(FILE *out, size_t n)
{
	while (n--)
		fputc(' ', out);
}

void cli_table_print(struct cli_table *t, FILE *out, const char *indent)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows; i++) {
		const struct row *r = &t->rows[i];
		if (r->text) {
			fputs(indent, out);
			for (size_t c = 0; c < r->text_col; c++)
				pad(out, t->width[c] + 2);
			fprintf(out, "%s\n", r->text);
			continue;
		}
		if (!r->cells)
			continue;
		/* Trailing empty cells print nothing, not spaces. */
		size_t last = t->ncols;
		while (last > 0 && !(r->cells[last - 1] && *r->cells[last - 1]))
			last--;
		fputs(indent, out);
		for (size_t c = 0; c < last; c++) {
			const char *s = r->cells[c] ? r->cells[c] : "";
			size_t w = width_of(s);
			if (t->right[c])
				pad(out, t->width[c] - w);
			fputs(s, out);
			if (c + 1 < last)
				pad(out, (t->right[c] ? 0 : t->width[c] - w) + 2);
		}
		fputc('\n', out);
	}
	if (t->oom)
		fputs("(out of memory: rows are missing)\n", out);
	for (size_t i = 0; i < t->nrows; i++) {
		for (size_t c = 0; t->rows[i].cells && c < t->ncols; c++)
			free(t->rows[i].cells[c]);
		free(t->rows[i].cells);
		free(t->rows[i].text);
	}
	free(t->rows);
	free(t->width);
	free(t->right);
	free(t);
}
