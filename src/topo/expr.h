/* Integer expressions of ranges: `{i}`, `{i/250}`, `{(i-1)*4+1}`.  The
 * only variable is i; operators are + - * / % with C precedence, unary
 * minus and parentheses; arithmetic is 64-bit and checked. */
#ifndef NETLAB_TOPO_EXPR_H
#define NETLAB_TOPO_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Does s[0..len) look like an expression over i (and nothing else)?
 * Only such `{...}` are substituted, which keeps shell braces such as
 * `${HOME}`, `{a,b}`, `{1..3}` or awk's `{print $1}` as written. */
bool topo_expr_candidate(const char *s, size_t len);

/* Evaluate s[0..len) with the given i.  On error returns -1, writes a
 * reason to why and the byte offset of the fault to *err_off. */
int topo_expr_eval(const char *s, size_t len, int64_t i, int64_t *out, char *why, size_t whylen, size_t *err_off);

#endif
