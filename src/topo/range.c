#include "topo/range.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo/expr.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Digits at s[*k..len) into *v; false if none or too many. */
static bool bound(const char *s, size_t len, size_t *k, int64_t *v)
{
	size_t start = *k;

	*v = 0;
	while (*k < len && is_digit(s[*k])) {
		if (*k - start >= TOPO_RANGE_DIGITS)
			return false;
		*v = *v * 10 + (s[*k] - '0');
		(*k)++;
	}
	return *k > start;
}

int topo_range_find(const char *s, size_t len, struct topo_range *r, char *why, size_t whylen, size_t *err_off)
{
	const char *open = memchr(s, '[', len);
	size_t k;

	if (!open) {
		const char *close = memchr(s, ']', len);
		if (!close)
			return 0;
		*err_off = (size_t)(close - s);
		snprintf(why, whylen, "']' without '[': a range is written NAME[FIRST..LAST], e.g. h[1..10]");
		return -1;
	}
	memset(r, 0, sizeof(*r));
	r->start = (size_t)(open - s);
	k = r->start + 1;
	*err_off = r->start;
	if (!bound(s, len, &k, &r->lo) || len - k < 2 || s[k] != '.' || s[k + 1] != '.' ||
	    (k += 2, !bound(s, len, &k, &r->hi)) || k >= len || s[k] != ']') {
		snprintf(why, whylen, "malformed range: write NAME[FIRST..LAST] with numbers of at most %d digits, e.g. h[1..10]",
			 TOPO_RANGE_DIGITS);
		return -1;
	}
	r->end = k + 1;
	if (memchr(s + r->end, '[', len - r->end) || memchr(s + r->end, ']', len - r->end)) {
		const char *again = memchr(s + r->end, '[', len - r->end);
		if (!again)
			again = memchr(s + r->end, ']', len - r->end);
		*err_off = (size_t)(again - s);
		snprintf(why, whylen, "only one range per name is allowed");
		return -1;
	}
	if (r->hi < r->lo) {
		snprintf(why, whylen, "range [%lld..%lld] is empty: the first number must not be larger than the last",
			 (long long)r->lo, (long long)r->hi);
		return -1;
	}
	if (topo_range_len(r) > TOPO_RANGE_MAX) {
		snprintf(why, whylen, "range [%lld..%lld] has %lld elements; a range has at most %d",
			 (long long)r->lo, (long long)r->hi, (long long)topo_range_len(r), TOPO_RANGE_MAX);
		return -1;
	}
	return 1;
}

int topo_sbuf_add(struct topo_sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *nb = realloc(b->s, cap);
		if (!nb)
			return -1;
		b->s = nb;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

void topo_sbuf_free(struct topo_sbuf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

/* Span [*open, *close] of the next substitutable `{EXPR}` at or after
 * from, or false. */
static bool next_expr(const char *s, size_t len, size_t from, size_t *open, size_t *close)
{
	for (size_t k = from; k < len; k++) {
		if (s[k] != '{' || (k > 0 && (s[k - 1] == '$' || s[k - 1] == '\\')))
			continue;
		const char *c = memchr(s + k + 1, '}', len - k - 1);
		if (!c)
			return false;
		size_t ck = (size_t)(c - s);
		if (topo_expr_candidate(s + k + 1, ck - k - 1)) {
			*open = k;
			*close = ck;
			return true;
		}
	}
	return false;
}

long topo_find_expr(const char *s, size_t len)
{
	size_t o, c;

	return next_expr(s, len, 0, &o, &c) ? (long)o : -1;
}

int topo_subst(const char *s, size_t len, const struct topo_range *r, int64_t value, int64_t i,
	       struct topo_sbuf *out, char *why, size_t whylen, size_t *err_off)
{
	size_t k = 0, o, c;
	char num[24];

	why[0] = '\0';
	while (k < len) {
		size_t stop = len;
		bool is_range = false, found = next_expr(s, len, k, &o, &c);

		if (found)
			stop = o;
		if (r && r->start >= k && r->start < stop) {
			stop = r->start;
			is_range = true;
		}
		if (topo_sbuf_add(out, s + k, stop - k) < 0)
			return -1;
		if (stop == len)
			break;
		int64_t v = value;
		if (is_range) {
			k = r->end;
		} else {
			size_t off = 0;
			if (topo_expr_eval(s + o + 1, c - o - 1, i, &v, why, whylen, &off) < 0) {
				*err_off = o + 1 + off;
				return -1;
			}
			k = c + 1;
		}
		int n = snprintf(num, sizeof(num), "%lld", (long long)v);
		if (topo_sbuf_add(out, num, (size_t)n) < 0)
			return -1;
	}
	if (!out->s && topo_sbuf_add(out, "", 0) < 0)
		return -1;
	return 0;
}

bool topo_range_pattern_match(const char *pat, const char *name)
{
	const char *br = strstr(pat, "[]");
	size_t pl, sl, nl = strlen(name);

	if (!br)
		return false;
	pl = (size_t)(br - pat);
	sl = strlen(br + 2);
	if (nl <= pl + sl || strncmp(name, pat, pl) != 0 || strcmp(name + nl - sl, br + 2) != 0)
		return false;
	for (size_t k = pl; k < nl - sl; k++)
		if (!is_digit(name[k]) && !(k == pl && name[k] == '-'))
			return false;
	return true;
}
