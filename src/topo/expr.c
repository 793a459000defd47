#include "topo/expr.h"

#include <stdio.h>

struct ev {
	const char *s;
	size_t len, pos;
	int64_t i;
	char *why;
	size_t whylen;
	size_t err_off;
	bool failed;
};

static bool is_expr_space(char c)
{
	return c == ' ' || c == '\t';
}

bool topo_expr_candidate(const char *s, size_t len)
{
	bool has_i = false;

	for (size_t k = 0; k < len; k++) {
		char c = s[k];
		if (c == 'i')
			has_i = true;
		else if (!(c >= '0' && c <= '9') && !is_expr_space(c) && c != '+' && c != '-' && c != '*' &&
			 c != '/' && c != '%' && c != '(' && c != ')')
			return false;
	}
	return has_i;
}

static void fail(struct ev *e, size_t at, const char *msg)
{
	if (e->failed)
		return;
	e->failed = true;
	e->err_off = at;
	snprintf(e->why, e->whylen, "%s", msg);
}

static void skip_space(struct ev *e)
{
	while (e->pos < e->len && is_expr_space(e->s[e->pos]))
		e->pos++;
}

static int64_t parse_sum(struct ev *e);

static int64_t parse_primary(struct ev *e)
{
	skip_space(e);
	if (e->pos >= e->len) {
		fail(e, e->pos, "expression ends where a number, 'i' or '(' was expected");
		return 0;
	}
	char c = e->s[e->pos];
	if (c == 'i') {
		e->pos++;
		return e->i;
	}
	if (c == '(') {
		size_t open = e->pos++;
		int64_t v = parse_sum(e);
		skip_space(e);
		if (e->failed)
			return 0;
		if (e->pos >= e->len || e->s[e->pos] != ')') {
			fail(e, open, "unbalanced '(' in expression");
			return 0;
		}
		e->pos++;
		return v;
	}
	if (c >= '0' && c <= '9') {
		int64_t v = 0;
		size_t start = e->pos;
		while (e->pos < e->len && e->s[e->pos] >= '0' && e->s[e->pos] <= '9') {
			if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, e->s[e->pos] - '0', &v)) {
				fail(e, start, "number too large in expression");
				return 0;
			}
			e->pos++;
		}
		return v;
	}
	if (c == '-' || c == '+') {
		size_t at = e->pos++;
		int64_t v = parse_primary(e);
		if (c == '-' && __builtin_sub_overflow((int64_t)0, v, &v))
			fail(e, at, "arithmetic overflow in expression");
		return v;
	}
	fail(e, e->pos, c == ')' ? "unbalanced ')' in expression" : "expected a number, 'i' or '(' in expression");
	return 0;
}

static int64_t parse_product(struct ev *e)
{
	int64_t v = parse_primary(e);

	for (;;) {
		skip_space(e);
		if (e->failed || e->pos >= e->len)
			return v;
		char op = e->s[e->pos];
		if (op != '*' && op != '/' && op != '%')
			return v;
		size_t at = e->pos++;
		int64_t r = parse_primary(e);
		if (e->failed)
			return 0;
		if (op == '*') {
			if (__builtin_mul_overflow(v, r, &v))
				fail(e, at, "arithmetic overflow in expression");
		} else if (r == 0) {
			fail(e, at, op == '/' ? "division by zero" : "modulo by zero");
		} else if (v == INT64_MIN && r == -1) {
			fail(e, at, "arithmetic overflow in expression");
		} else {
			v = op == '/' ? v / r : v % r;
		}
	}
}

static int64_t parse_sum(struct ev *e)
{
	int64_t v = parse_product(e);

	for (;;) {
		skip_space(e);
		if (e->failed || e->pos >= e->len)
			return v;
		char op = e->s[e->pos];
		if (op != '+' && op != '-')
			return v;
		size_t at = e->pos++;
		int64_t r = parse_product(e);
		if (e->failed)
			return 0;
		if (op == '+' ? __builtin_add_overflow(v, r, &v) : __builtin_sub_overflow(v, r, &v))
			fail(e, at, "arithmetic overflow in expression");
	}
}

int topo_expr_eval(const char *s, size_t len, int64_t i, int64_t *out, char *why, size_t whylen, size_t *err_off)
{
	struct ev e = { .s = s, .len = len, .i = i, .why = why, .whylen = whylen };
	int64_t v = parse_sum(&e);

	skip_space(&e);
	if (!e.failed && e.pos < e.len) {
		char c = s[e.pos];
		if (c == ')')
			fail(&e, e.pos, "unbalanced ')' in expression");
		else if (c == 'i' || (c >= '0' && c <= '9') || c == '(')
			fail(&e, e.pos, "missing operator in expression");
		else
			fail(&e, e.pos, "unexpected character in expression");
	}
	if (e.failed) {
		if (err_off)
			*err_off = e.err_off;
		return -1;
	}
	*out = v;
	return 0;
}
