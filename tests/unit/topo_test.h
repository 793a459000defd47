/* Helpers shared by the topology unit tests: check an in-memory .topo text
 * the way `netlab check` does (parse, validate even after parse errors,
 * sort), and assert on the diagnostics.  Header-only, all static inline,
 * because the Makefile builds every tests/unit/test_*.c as its own program. */
#ifndef NETLAB_TESTS_TOPO_TEST_H
#define NETLAB_TESTS_TOPO_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo/topo.h"

/* File name given to the parser; also the source of the default lab name. */
#define TEST_FILE "test.topo"

struct checked {
	struct topology *t;
	struct topo_source *src;
	struct topo_broken *broken;
	struct diags d;
	int parse_rc;
	int validate_rc;
};

/* What topo_load() does once it has the bytes. */
static inline void check_bytes(const char *file, const char *src, size_t len, struct checked *c)
{
	memset(c, 0, sizeof(*c));
	c->src = topo_source_new(file);
	c->parse_rc = topo_parse_buffer(c->src, src, len, &c->t, &c->broken, &c->d);
	c->validate_rc = c->t ? topo_validate(c->t, c->broken, &c->d) : -1;
	diag_sort(&c->d);
}

static inline void check_text(const char *src, struct checked *c)
{
	check_bytes(TEST_FILE, src, strlen(src), c);
}

static inline void checked_free(struct checked *c)
{
	diag_free(&c->d);
	topo_free(c->t);
	c->t = NULL;
	topo_source_free(c->src);
	c->src = NULL;
	topo_broken_free(c->broken);
	c->broken = NULL;
}

static inline const struct diag *first_of_level(const struct diags *d, enum diag_level level)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].level == level)
			return &d->v[i];
	return NULL;
}

/* The diagnostics exactly as `netlab check` prints them (caller frees). */
static inline char *diags_text(const struct checked *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return strdup("(open_memstream failed)");
	diag_print(f, &c->d, c->src);
	fclose(f);
	return buf;
}

static inline void report_mismatch(const struct checked *c, const char *src, const char *what)
{
	char *all = diags_text(c);

	print_error("%s\n--- source ---\n%s\n--- diagnostics ---\n%s--------------\n", what, src, all ? all : "");
	free(all);
}

/* The first error (after sorting, as printed) is at line:col and its
 * message contains substr.  line 0 means a whole-file error. */
static inline void assert_first_error_at(const char *src, int line, int col, const char *substr,
					 const char *file, int fline)
{
	struct checked c;
	char what[512];

	check_text(src, &c);
	const struct diag *e = first_of_level(&c.d, DIAG_ERROR);
	bool ok = e && e->pos.line == line && (line == 0 || e->pos.col == col) && strstr(e->msg, substr) &&
		  c.parse_rc + c.validate_rc < 0;
	if (!ok) {
		snprintf(what, sizeof(what), "expected first error at %d:%d containing \"%s\"", line, col, substr);
		report_mismatch(&c, src, what);
	}
	checked_free(&c);
	if (!ok)
		_fail(file, fline);
}
#define assert_first_error(src, line, col, substr) assert_first_error_at((src), (line), (col), (substr), __FILE__, __LINE__)

/* No error at all (warnings allowed): `netlab check` would exit 0. */
static inline void assert_valid_at(const char *src, const char *file, int fline)
{
	struct checked c;

	check_text(src, &c);
	bool ok = c.d.nerrors == 0 && c.parse_rc == 0 && c.validate_rc == 0;
	if (!ok)
		report_mismatch(&c, src, "expected no errors");
	checked_free(&c);
	if (!ok)
		_fail(file, fline);
}
#define assert_valid(src) assert_valid_at((src), __FILE__, __LINE__)

/* Check src, which must be valid, and keep the result for inspection. */
static inline void check_valid_at(const char *src, struct checked *c, const char *file, int fline)
{
	check_text(src, c);
	if (c->d.nerrors == 0 && c->t)
		return;
	report_mismatch(c, src, "expected no errors");
	checked_free(c);
	_fail(file, fline);
}
#define check_valid(src, c) check_valid_at((src), (c), __FILE__, __LINE__)

/* Table-driven diagnostics: one cmocka test per row. */
struct diag_case {
	const char *name;
	const char *src;
	int line, col;
	const char *msg;
};

static inline void run_diag_case(void **state)
{
	const struct diag_case *dc = *state;

	assert_first_error_at(dc->src, dc->line, dc->col, dc->msg, __FILE__, __LINE__);
}

static inline int run_diag_table(const char *group, const struct diag_case *cases, size_t n)
{
	struct CMUnitTest *tests = calloc(n, sizeof(*tests));
	int failed;

	if (!tests)
		return 1;
	for (size_t i = 0; i < n; i++)
		tests[i] = (struct CMUnitTest){ .name = cases[i].name,
						.test_func = run_diag_case,
						.initial_state = (void *)&cases[i] };
	failed = _cmocka_run_group_tests(group, tests, n, NULL, NULL);
	free(tests);
	return failed;
}

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

#endif
