/* Ranges of the topology language: `node h[1..1000]`, `link h[1..1000]:eth0
 * lan`, and the `{i}` expressions substituted in each expansion.  The
 * parser expands them into ordinary statements (see parse_range.c), so the
 * model never knows a file used ranges. */
#ifndef NETLAB_TOPO_RANGE_H
#define NETLAB_TOPO_RANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest range, and most statements a whole file may expand to: a bound
 * so a typo (h[1..10000000]) is an error, not minutes of work, and a few
 * hundred bytes never cost more than ~100 MB to check (a statement costs
 * about 110 bytes).  The model's own caps are in topo/model.h. */
#define TOPO_RANGE_MAX 100000
#define TOPO_EXPANSION_MAX 1000000
/* Range bounds are written with at most this many digits. */
#define TOPO_RANGE_DIGITS 9

struct topo_range {
	size_t start, end;      /* byte span of "[FIRST..LAST]" in the word */
	int64_t lo, hi;
};

static inline int64_t topo_range_len(const struct topo_range *r)
{
	return r->hi - r->lo + 1;
}

/* Find the range in a name s[0..len).  Returns 0 when s has no '[', 1 with
 * *r filled, -1 for a malformed, reversed or too large range (reason in
 * why, byte offset of the fault in *err_off). */
int topo_range_find(const char *s, size_t len, struct topo_range *r, char *why, size_t whylen, size_t *err_off);

/* A growable string. */
struct topo_sbuf {
	char *s;
	size_t len, cap;
};
int topo_sbuf_add(struct topo_sbuf *b, const char *s, size_t n);
void topo_sbuf_free(struct topo_sbuf *b);

/* Append s[0..len) to out with the range span r (may be NULL) replaced by
 * value and every `{EXPR}` over i replaced by its value.  A brace after
 * '$' or '\' is never an expression (shell `${x}`, `\{`), and neither is a
 * brace whose contents are not made of i, digits, spaces, + - * / % ( ).
 * Returns 0, or -1 after an expression error (why, *err_off as above;
 * -1 with why[0] == '\0' is out of memory). */
int topo_subst(const char *s, size_t len, const struct topo_range *r, int64_t value, int64_t i,
	       struct topo_sbuf *out, char *why, size_t whylen, size_t *err_off);

/* Byte offset of the first `{EXPR}` in s, or -1: used to report an
 * expression written outside any range. */
long topo_find_expr(const char *s, size_t len);

/* Does name match "PREFIX[]SUFFIX" as PREFIX<integer>SUFFIX?  Such
 * patterns stand for the names of a range rejected by the parser. */
bool topo_range_pattern_match(const char *pattern, const char *name);

#endif
