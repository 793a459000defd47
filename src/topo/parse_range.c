/* Ranges: a statement with NAME[A..B] (node, switch, link ends) or one
 * inside a `node NAME[A..B]` block is parsed once per i in A..B, on a copy
 * of its words where the range becomes i and every `{EXPR}` its value.
 * The statement functions (parse_top.c, parse_net.c, parse_isolation.c)
 * never see a range; the expression language itself is range.c/expr.c.
 *
 * A new top-level statement whose names may carry a range (`place
 * NODE... on MACHINE`, say) is taught here, in range_top_level(), as
 * `expect` was. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo/parse_int.h"
#include "util/strutil.h"

struct name_range {
	size_t tok;		     /* token index in the statement */
	struct topo_range raw, text; /* span in the word as written / unquoted */
	char *label;		     /* "h[1..10]" */
	char *pattern;		     /* "h[]": names it makes, for p->broken */
};

static void name_range_free(struct name_range *nr)
{
	free(nr->label);
	free(nr->pattern);
	nr->label = nr->pattern = NULL;
}

/* Length of a link end's name part (before ':'), or of the whole word. */
static size_t name_part(const char *s, size_t len, bool link_end)
{
	const char *colon = link_end ? memchr(s, ':', len) : NULL;

	return colon ? (size_t)(colon - s) : len;
}

/* Find the range in word tk of the statement as written: 0 none, 1 found,
 * -1 after reporting a bad one (nr->pattern still set when possible). */
static int find_name_range(struct parser *p, size_t tk, bool link_end, struct name_range *nr)
{
	const struct tok *t = &p->src->toks[tk];
	const char *raw = p->src->buf + t->start;
	size_t rawlen = name_part(raw, t->end - t->start, link_end);
	size_t textlen = name_part(t->text, strlen(t->text), link_end);
	char why[200];
	size_t off = 0;

	memset(nr, 0, sizeof(*nr));
	nr->tok = tk;
	int r = topo_range_find(raw, rawlen, &nr->raw, why, sizeof(why), &off);
	if (r == 0)
		return 0;
	/* Names they would make: PREFIX[]SUFFIX, cut at the '['. */
	const char *open = memchr(t->text, '[', textlen),
		   *close = open ? memchr(open, ']', textlen - (size_t)(open - t->text)) : NULL;
	if (open && asprintf(&nr->pattern, "%.*s[]%.*s", (int)(open - t->text), t->text,
			     close ? (int)(textlen - (size_t)(close + 1 - t->text)) : 0, close ? close + 1 : "") < 0)
		nr->pattern = NULL;
	if (r > 0) {
		size_t toff;
		char twhy[200];
		if (topo_range_find(t->text, textlen, &nr->text, twhy, sizeof(twhy), &toff) != 1) {
			r = -1;
			off = nr->raw.start;
			snprintf(why, sizeof(why), "a range cannot be split by quotes");
		}
	}
	if (r < 0) {
		struct topo_pos pos = t->pos;
		pos.col += (int)utf8_width(raw, off);
		diag_error(p->d, pos, "bad range in '%.*s': %s", (int)textlen, t->text, why);
		return -1;
	}
	if (asprintf(&nr->label, "%.*s", (int)textlen, t->text) < 0) {
		nr->label = NULL;
		return -1;
	}
	return 1;
}

static bool expansion_budget(struct parser *p)
{
	if (p->over_budget)
		return false;
	if (++p->expanded <= TOPO_EXPANSION_MAX)
		return true;
	p->over_budget = true;
	diag_error(p->d, p->src->toks[0].pos,
		   "ranges in this file expand to more than %d statements; split the lab or use smaller ranges",
		   TOPO_EXPANSION_MAX);
	return false;
}

bool parse_under_cap(struct parser *p, size_t have, size_t max, const char *what, const struct tok *at)
{
	if (have < max)
		return true;
	if (!p->over_budget)
		diag_error(p->d, at->pos,
			   "more than %zu %s: netlab labs have at most %zu (a range too large?); split the lab", max,
			   what, max);
	/* Once is enough, and what is left of the ranges is not worth
	 * expanding. */
	p->over_budget = true;
	return false;
}

static void x_reset(struct parser *p)
{
	for (size_t k = 0; k < p->x.ntoks; k++)
		free(p->x.toks[k].text);
	p->x.ntoks = 0;
	p->xb.len = 0;
}

/* Build p->x: p->src with ranges nr[0..nnr) replaced by values[] and
 * `{EXPR}` by their value for i.  Positions keep the source's line:col and
 * carry (range, i) so every diagnostic names the expansion.  False after
 * reporting an expression error. */
static bool expand_line(struct parser *p, const struct name_range *nr, const int64_t *values, size_t nnr, int64_t i,
			int range)
{
	const struct logical_line *src = p->src;
	size_t prev_end = src->ntoks ? src->toks[0].start : 0;
	struct topo_sbuf text = { 0 };
	char why[160];

	x_reset(p);
	if (p->x.tokcap < src->ntoks) {
		struct tok *nt = realloc(p->x.toks, src->ntoks * sizeof(*nt));
		if (!nt)
			return false;
		p->x.toks = nt;
		p->x.tokcap = src->ntoks;
	}
	for (size_t k = 0; k < src->ntoks; k++) {
		const struct tok *st = &src->toks[k];
		const struct topo_range *rr = NULL, *rt = NULL;
		int64_t v = 0;
		size_t off = 0;

		for (size_t m = 0; m < nnr; m++)
			if (nr[m].tok == k) {
				rr = &nr[m].raw;
				rt = &nr[m].text;
				v = values[m];
			}
		if (topo_sbuf_add(&p->xb, src->buf + prev_end, st->start - prev_end) < 0)
			goto oom;
		size_t start = p->xb.len;
		const char *raw = src->buf + st->start;
		if (topo_subst(raw, st->end - st->start, rr, v, i, &p->xb, why, sizeof(why), &off) < 0) {
			if (!why[0])
				goto oom;
			struct topo_pos pos = st->pos;
			pos.col += (int)utf8_width(raw, off);
			pos.range = range;
			pos.iter = (int)i;
			diag_error(p->d, pos, "%s", why);
			topo_sbuf_free(&text);
			return false;
		}
		text.len = 0;
		if (topo_subst(st->text, strlen(st->text), rt, v, i, &text, why, sizeof(why), &off) < 0 && !why[0])
			goto oom;
		struct tok *xt = &p->x.toks[p->x.ntoks];
		*xt = *st;
		xt->text = strdup(text.s ? text.s : "");
		if (!xt->text)
			goto oom;
		p->x.ntoks++;
		xt->start = start;
		xt->end = p->xb.len;
		xt->subst = xt->end - xt->start != st->end - st->start ||
			    memcmp(p->xb.s + start, raw, st->end - st->start) != 0;
		xt->pos.range = range;
		xt->pos.iter = (int)i;
		prev_end = st->end;
	}
	if (topo_sbuf_add(&p->xb, " ", 1) < 0)
		goto oom;
	/* Offsets above are from the first word: keep buf aligned with src. */
	p->x.buf = p->xb.s;
	p->x.len = p->xb.len;
	topo_sbuf_free(&text);
	return true;
oom:
	topo_sbuf_free(&text);
	diag_error(p->d, (struct topo_pos){ .line = 0 }, "out of memory");
	return false;
}

/* Run kw on expansion i: p->ll points at the expanded words meanwhile. */
static bool run_expansion(struct parser *p, const struct keyword *kw, const struct name_range *nr,
			  const int64_t *values, size_t nnr, int64_t i, int range)
{
	if (!expansion_budget(p) || !expand_line(p, nr, values, nnr, i, range))
		return false;
	p->ll = &p->x;
	kw->fn(p);
	p->ll = p->src;
	return true;
}

static void close_block(struct parser *p)
{
	free(p->block_nodes);
	p->block_nodes = NULL;
	p->block_n = 0;
}

/* Names a rejected range would have made stay "known but broken", and
 * nodes it would have linked are not reported for missing interfaces. */
static void range_broken(struct parser *p, const struct name_range *nr, bool link)
{
	if (!nr->pattern)
		return;
	if (!link) {
		topo_broken_add_name(p->broken, nr->pattern);
		return;
	}
	for (size_t k = 0; k < p->t->nodes.n; k++)
		if (topo_range_pattern_match(nr->pattern, p->t->nodes.v[k].name))
			topo_broken_mark_node(p->broken, k);
	topo_broken_add_name(p->broken, nr->pattern);
}

static void expand_node_or_switch(struct parser *p, const struct keyword *kw, struct name_range *nr)
{
	bool is_node = kw->fn == st_node;
	int64_t n = topo_range_len(&nr->raw);
	int id = diag_range_add(p->d, nr->label);

	if (is_node) {
		close_block(p);
		p->block_nodes = calloc((size_t)n, sizeof(*p->block_nodes));
		if (!p->block_nodes) {
			p->node = NODE_BROKEN;
			return;
		}
		p->block_n = (size_t)n;
		p->block_lo = nr->raw.lo;
		p->block_range = id;
	}
	for (int64_t k = 0; k < n; k++) {
		int64_t i = nr->raw.lo + k;
		bool ok = run_expansion(p, kw, nr, &i, 1, i, id);
		if (is_node)
			p->block_nodes[k] = ok ? p->node : NODE_BROKEN;
		if (p->over_budget)
			break;
	}
	p->node = is_node ? RANGE_BLOCK : -1;
}

static void expand_link(struct parser *p, const struct keyword *kw, struct name_range *nr, size_t nnr)
{
	int64_t n = topo_range_len(&nr[0].raw);
	const char *what = kw->fn == st_link ? "link" : "statement";

	if (nnr == 2 && topo_range_len(&nr[1].raw) != n) {
		const struct tok *t = &p->src->toks[nr[1].tok];
		struct topo_pos pos = t->pos;
		pos.col += (int)utf8_width(p->src->buf + t->start, nr[1].raw.start);
		diag_error(p->d, pos,
			   "ranges on one %s must have the same length: %s has %lld element%s, %s has %lld", what,
			   nr[0].label, (long long)n, n == 1 ? "" : "s", nr[1].label,
			   (long long)topo_range_len(&nr[1].raw));
		range_broken(p, &nr[0], true);
		range_broken(p, &nr[1], true);
		return;
	}
	int id = diag_range_add(p->d, nr[0].label);
	for (int64_t k = 0; k < n; k++) {
		int64_t values[2] = { nr[0].raw.lo + k, nnr == 2 ? nr[1].raw.lo + k : 0 };
		if (!run_expansion(p, kw, nr, values, nnr, values[0], id) && p->over_budget)
			break;
	}
}

/* Top-level statements that may carry a range.  True when the statement
 * was handled (expanded or rejected) here. */
bool range_top_level(struct parser *p, const struct keyword *kw)
{
	struct name_range nr[2];
	size_t nnr = 0;
	bool bad = false;

	if (kw->fn == st_node || kw->fn == st_switch) {
		int r = find_name_range(p, 1, false, &nr[0]);
		if (r == 0)
			return false;
		if (r < 0) {
			if (kw->fn == st_node)
				p->node = NODE_BROKEN;
			range_broken(p, &nr[0], false);
			name_range_free(&nr[0]);
			return true;
		}
		expand_node_or_switch(p, kw, &nr[0]);
		name_range_free(&nr[0]);
		return true;
	}
	/* Names that may carry a range: both ends of a link; an
	 * expectation's SRC and, for reach/noreach, its DST. */
	size_t toks[2] = { 1, 2 };
	if (kw->fn == st_expect) {
		bool reach = p->src->ntoks > 3 && (strcmp(p->src->toks[2].text, "reach") == 0 ||
						   strcmp(p->src->toks[2].text, "noreach") == 0);
		toks[1] = reach ? 3 : 0;
	} else if (kw->fn != st_link) {
		return false;
	}
	for (size_t k = 0; k < 2; k++) {
		size_t tk = toks[k];
		if (!tk)
			continue;
		int r = find_name_range(p, tk, true, &nr[nnr]);
		if (r < 0) {
			range_broken(p, &nr[nnr], true);
			name_range_free(&nr[nnr]);
			bad = true;
		} else if (r > 0) {
			nnr++;
		}
	}
	if (!bad && nnr > 0)
		expand_link(p, kw, nr, nnr);
	else if (bad)
		for (size_t m = 0; m < nnr; m++)
			range_broken(p, &nr[m], true);
	for (size_t m = 0; m < nnr; m++)
		name_range_free(&nr[m]);
	return bad || nnr > 0;
}

void range_in_block(struct parser *p, const struct keyword *kw)
{
	for (size_t k = 0; k < p->block_n && !p->over_budget; k++) {
		if (p->block_nodes[k] < 0)
			continue;
		int64_t i = p->block_lo + (int64_t)k;
		p->node = p->block_nodes[k];
		run_expansion(p, kw, NULL, NULL, 0, i, p->block_range);
	}
	p->node = RANGE_BLOCK;
}

void range_parser_free(struct parser *p)
{
	x_reset(p);
	free(p->x.toks);
	p->x.toks = NULL;
	p->x.tokcap = 0;
	topo_sbuf_free(&p->xb);
	close_block(p);
}
