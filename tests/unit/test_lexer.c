/* Lexer of the topology language: words, quotes, comments, continuations,
 * positions, and the byte-level checks (NUL, UTF-8, line length).
 *
 * Most cases are a table: the input and the expected logical lines,
 * rendered one per line as "[text]@LINE:COL" for each token, so that a
 * failure shows both the words and where the lexer thinks they are. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo/lexer.h"
#include "topo_test.h"

/* Lex len bytes of src completely; returns the rendering (caller frees)
 * and leaves the diagnostics in d. */
static char *lex_render(const char *src, size_t len, struct diags *d)
{
	struct lexer lx;
	struct logical_line ll = { 0 };
	struct topo_source *lines = topo_source_new(TEST_FILE);
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	int r;

	assert_non_null(f);
	assert_non_null(lines);
	assert_int_equal(lexer_init(&lx, lines, src, len, d), 0);
	while ((r = lexer_next(&lx, &ll)) > 0) {
		for (size_t i = 0; i < ll.ntoks; i++)
			fprintf(f, "%s[%s]@%d:%d", i ? " " : "", ll.toks[i].text, ll.toks[i].pos.line,
				ll.toks[i].pos.col);
		fputc('\n', f);
	}
	fclose(f);
	logical_line_free(&ll);
	lexer_free(&lx);
	topo_source_free(lines);
	assert_int_equal(r, 0);
	return out;
}

struct lex_case {
	const char *name;
	const char *src;
	const char *want;
};

static const struct lex_case lex_cases[] = {
	{ "words split on spaces and tabs", "ip\teth0   10.0.0.1/24\n", "[ip]@1:1 [eth0]@1:4 [10.0.0.1/24]@1:11\n" },
	{ "vertical tab and form feed separate words", "a\vb\fc\n", "[a]@1:1 [b]@1:3 [c]@1:5\n" },
	{ "blank and comment-only lines are skipped", "\n   \n# c\n\t# c2\nnode a\n", "[node]@5:1 [a]@5:6\n" },
	{ "last line without newline", "a b", "[a]@1:1 [b]@1:3\n" },
	{ "indentation is cosmetic", "\t  node   a  \n", "[node]@1:4 [a]@1:11\n" },
	/* '#' starts a comment only at the start of a word, outside quotes. */
	{ "comment only at word start", "a#b \"#x\" c # tail\n", "[a#b]@1:1 [#x]@1:5 [c]@1:10\n" },
	{ "comment after a tab", "x\t#y z\n", "[x]@1:1\n" },
	{ "comment glued to a quote is a word", "a \"b\"#c\n", "[a]@1:1 [b#c]@1:3\n" },
	/* Quotes group words; a word may mix quoted and bare parts. */
	{ "quotes group words", "env X=\"hello world\" y\n", "[env]@1:1 [X=hello world]@1:5 [y]@1:21\n" },
	{ "quoted and bare parts form one word", "a\"b c\"d\n", "[ab cd]@1:1\n" },
	{ "empty quotes are an empty word", "x \"\" y\n", "[x]@1:1 []@1:3 [y]@1:6\n" },
	{ "escaped quote and backslash inside quotes", "\"a\\\"b\\\\c\\n\"\n", "[a\"b\\c\\n]@1:1\n" },
	{ "backslash is ordinary outside quotes", "a\\b c\\d\n", "[a\\b]@1:1 [c\\d]@1:5\n" },
	/* A trailing backslash joins the next physical line; later words
	 * keep their own physical line and column. */
	{ "continuation keeps physical positions", "exec echo \\\n    foo bar\nnext\n",
	  "[exec]@1:1 [echo]@1:6 [foo]@2:5 [bar]@2:9\n[next]@3:1\n" },
	{ "continuation acts as a space", "foo\\\nbar\n", "[foo]@1:1 [bar]@2:1\n" },
	{ "several continuation lines", "a \\\n b \\\n c\nd\n", "[a]@1:1 [b]@2:2 [c]@3:2\n[d]@4:1\n" },
	{ "continuation at end of file", "a \\\n", "[a]@1:1\n" },
	{ "continued line starting a statement", "\\\nnode a\n", "[node]@2:1 [a]@2:6\n" },
	{ "backslash ending a comment does not continue", "a # c \\\nb\n", "[a]@1:1\n[b]@2:1\n" },
	{ "comment-only line ending in backslash", "# c \\\nb\n", "[b]@2:1\n" },
	{ "quoted hash does not stop a continuation", "a \"x # y\" \\\nb\n", "[a]@1:1 [x # y]@1:3 [b]@2:1\n" },
	/* "x\\" closes the quote after an escaped backslash, so the '#' that
	 * follows starts a comment and the final '\' belongs to it. */
	{ "comment after escaped backslash in quotes", "a \"x\\\\\" # c \\\nb\n", "[a]@1:1 [x\\]@1:3\n[b]@2:1\n" },
	/* Outside quotes '\' is ordinary, so x\"y # z" holds a quoted
	 * "y # z": the '#' is not a comment and the line continues. */
	{ "backslash before a quote outside quotes", "a x\\\"y # z\" \\\nb\n", "[a]@1:1 [x\\y # z]@1:3 [b]@2:1\n" },
	/* CRLF files work: the CR is not part of the last word. */
	{ "CRLF line ends", "node a\r\n  ip eth0\r\n", "[node]@1:1 [a]@1:6\n[ip]@2:3 [eth0]@2:6\n" },
	{ "CRLF continuation", "a \\\r\nb\r\n", "[a]@1:1 [b]@2:1\n" },
	/* Columns count code points, not bytes. */
	{ "columns count UTF-8 characters", "\xc3\xa9\t\"\xc3\xbc\" x\n", "[\xc3\xa9]@1:1 [\xc3\xbc]@1:3 [x]@1:7\n" },
	{ "four-byte character is one column", "\xf0\x9f\x98\x80 x \xe2\x82\xac y\n",
	  "[\xf0\x9f\x98\x80]@1:1 [x]@1:3 [\xe2\x82\xac]@1:5 [y]@1:7\n" },
};

static void test_lex_case(void **state)
{
	const struct lex_case *lc = *state;
	struct diags d = { 0 };
	char *got = lex_render(lc->src, strlen(lc->src), &d);
	bool ok = strcmp(got, lc->want) == 0 && d.n == 0;

	if (!ok)
		print_error("input:    \"%s\"\nwant:\n%sgot:\n%sdiagnostics: %zu (first: %s)\n", lc->src, lc->want, got,
			    d.n, d.n ? d.v[0].msg : "-");
	free(got);
	diag_free(&d);
	if (!ok)
		fail();
}

/* Inputs the lexer must reject; lexing goes on after the bad line. */
struct lex_error_case {
	const char *name;
	const char *src;
	size_t len;             /* 0: strlen(src) */
	int line, col;          /* of the first diagnostic */
	const char *msg;
	const char *want;       /* what is still lexed */
};

static const struct lex_error_case lex_error_cases[] = {
	{ "unterminated quote", "x \"abc\nnode a\n", 0, 1, 3, "unterminated string", "[x]@1:1 [abc]@1:3\n[node]@2:1 [a]@2:6\n" },
	{ "quote must close on the same physical line", "x \"abc \\\ny\"\n", 0, 1, 3, "unterminated string", NULL },
	{ "NUL byte", "node a\0b\nnode c\n", 16, 1, 7, "NUL byte", "[node]@2:1 [c]@2:6\n" },
	{ "NUL byte after multibyte text", "\xc3\xa9\xc3\xa9 \0\n", 7, 1, 4, "NUL byte", "" },
	{ "invalid byte 0xff", "ok\nx \xff y\nz\n", 0, 2, 3, "invalid UTF-8 byte 0xff", "[ok]@1:1\n[z]@3:1\n" },
	{ "column of a bad byte counts characters", "\xc3\xa9\xc3\xa9 \xfe\n", 0, 1, 4, "0xfe", "" },
	{ "lone continuation byte", "a \x80\n", 0, 1, 3, "0x80", "" },
	{ "overlong two-byte sequence", "a \xc0\xaf\n", 0, 1, 3, "0xc0", "" },
	{ "overlong three-byte sequence", "a \xe0\x80\xaf\n", 0, 1, 3, "0xe0", "" },
	{ "overlong four-byte sequence", "a \xf0\x8f\xbf\xbf\n", 0, 1, 3, "0xf0", "" },
	{ "UTF-16 surrogate", "a \xed\xa0\x80\n", 0, 1, 3, "0xed", "" },
	{ "code point above U+10FFFF", "a \xf4\x90\x80\x80\n", 0, 1, 3, "0xf4", "" },
	{ "byte 0xf5", "a \xf5\x80\x80\x80\n", 0, 1, 3, "0xf5", "" },
	{ "sequence cut by the line end", "a \xe2\x82\nb\n", 0, 1, 3, "0xe2", "[b]@2:1\n" },
	{ "sequence cut by the file end", "a \xe2\x82", 0, 1, 3, "0xe2", "" },
	{ "bad continuation byte", "a \xe2\x28\xa1\n", 0, 1, 3, "0xe2", "" },
};

static void test_lex_error_case(void **state)
{
	const struct lex_error_case *lc = *state;
	struct diags d = { 0 };
	char *got = lex_render(lc->src, lc->len ? lc->len : strlen(lc->src), &d);
	bool ok = d.nerrors >= 1 && d.v[0].level == DIAG_ERROR && d.v[0].pos.line == lc->line &&
		  d.v[0].pos.col == lc->col && strstr(d.v[0].msg, lc->msg) && (!lc->want || strcmp(got, lc->want) == 0);

	if (!ok)
		print_error("want error %d:%d \"%s\" and tokens:\n%sgot %zu error(s), first %d:%d \"%s\", tokens:\n%s",
			    lc->line, lc->col, lc->msg, lc->want ? lc->want : "(any)\n", d.nerrors,
			    d.n ? d.v[0].pos.line : 0, d.n ? d.v[0].pos.col : 0, d.n ? d.v[0].msg : "-", got);
	free(got);
	diag_free(&d);
	if (!ok)
		fail();
}

static char *repeat(char c, size_t n, const char *tail)
{
	size_t tl = strlen(tail);
	char *s = malloc(n + tl + 1);

	assert_non_null(s);
	memset(s, c, n);
	memcpy(s + n, tail, tl + 1);
	return s;
}

static void test_line_length_limit(void **state)
{
	(void)state;
	struct diags d = { 0 };
	char *s, *got;

	/* 4096 bytes is the limit itself: accepted, with or without a CR. */
	s = repeat('a', TOPO_MAX_LINE, "\nb\n");
	got = lex_render(s, strlen(s), &d);
	assert_int_equal(d.n, 0);
	assert_int_equal(strlen(got), TOPO_MAX_LINE + strlen("[]@1:1\n[b]@2:1\n"));
	free(got);
	free(s);

	s = repeat('a', TOPO_MAX_LINE, "\r\nb\r\n");
	got = lex_render(s, strlen(s), &d);
	assert_int_equal(d.n, 0);
	free(got);
	free(s);

	/* One byte more is an error at column 1 naming the length; the
	 * line is dropped and the next one still lexed. */
	s = repeat('a', TOPO_MAX_LINE + 1, "\nb\n");
	got = lex_render(s, strlen(s), &d);
	assert_int_equal(d.nerrors, 1);
	assert_int_equal(d.v[0].pos.line, 1);
	assert_int_equal(d.v[0].pos.col, 1);
	assert_non_null(strstr(d.v[0].msg, "4097 bytes"));
	assert_non_null(strstr(d.v[0].msg, "4096"));
	assert_string_equal(got, "[b]@2:1\n");
	free(got);
	free(s);
	diag_free(&d);
}

static void test_every_bad_line_reported(void **state)
{
	(void)state;
	static const char src[] = "a\0\nok\nb \xff\n";
	struct diags d = { 0 };
	char *got = lex_render(src, sizeof(src) - 1, &d);

	assert_int_equal(d.nerrors, 2);
	assert_int_equal(d.v[0].pos.line, 1);
	assert_int_equal(d.v[1].pos.line, 3);
	assert_string_equal(got, "[ok]@2:1\n");
	free(got);
	diag_free(&d);
}

static void test_valid_utf8_accepted(void **state)
{
	(void)state;
	/* U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+FFFF, U+10000, U+10FFFF */
	static const char src[] = "# \xc2\x80 \xdf\xbf \xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80 \xef\xbf\xbf "
				  "\xf0\x90\x80\x80 \xf4\x8f\xbf\xbf\nnode caf\xc3\xa9\n";
	struct diags d = { 0 };
	char *got = lex_render(src, sizeof(src) - 1, &d);

	assert_int_equal(d.n, 0);
	assert_string_equal(got, "[node]@2:1 [caf\xc3\xa9]@2:6\n");
	free(got);
	diag_free(&d);
}

static void test_physical_lines_kept_for_display(void **state)
{
	(void)state;
	struct lexer lx;
	struct diags d = { 0 };
	struct topo_source *lines = topo_source_new(TEST_FILE);

	static const char src[] = "node a\r\n\n  ip x \\\n y";

	assert_non_null(lines);
	assert_int_equal(lexer_init(&lx, lines, src, sizeof(src) - 1, &d), 0);
	assert_int_equal(lines->lines.n, 4);
	assert_string_equal(topo_source_line(lines, 1), "node a");
	assert_string_equal(topo_source_line(lines, 2), "");
	assert_string_equal(topo_source_line(lines, 3), "  ip x \\");
	assert_string_equal(topo_source_line(lines, 4), " y");
	lexer_free(&lx);
	topo_source_free(lines);
	assert_int_equal(d.n, 0);
	diag_free(&d);
}

/* The source serves lines by 1-based number, and nothing outside them. */
static void test_source_lines(void **state)
{
	(void)state;
	struct topo_source *src = topo_source_new("lab.topo");

	assert_non_null(src);
	assert_string_equal(src->file, "lab.topo");
	assert_null(topo_source_line(src, 1));
	assert_int_equal(topo_source_add_line(src, "node a\0hidden", 13), 0);
	assert_int_equal(topo_source_add_line(src, "  ip eth0 10.0.0.1/24", 9), 0);
	assert_int_equal(src->lines.n, 2);
	assert_null(topo_source_line(src, 0));
	assert_null(topo_source_line(src, -1));
	assert_string_equal(topo_source_line(src, 1), "node a");
	assert_string_equal(topo_source_line(src, 2), "  ip eth0");
	assert_null(topo_source_line(src, 3));
	assert_null(topo_source_line(NULL, 1));
	topo_source_free(src);
	topo_source_free(NULL);
}

static void test_token_flags_and_spans(void **state)
{
	(void)state;
	static const char src[] = "env MOTD=\"a b\" plain\n";
	struct lexer lx;
	struct logical_line ll = { 0 };
	struct diags d = { 0 };
	struct topo_source *lines = topo_source_new(TEST_FILE);

	assert_non_null(lines);
	assert_int_equal(lexer_init(&lx, lines, src, sizeof(src) - 1, &d), 0);
	assert_int_equal(lexer_next(&lx, &ll), 1);
	assert_int_equal(ll.ntoks, 3);
	assert_false(ll.toks[0].quoted);
	assert_true(ll.toks[1].quoted);
	assert_false(ll.toks[2].quoted);
	/* The span keeps the quotes: it is the word as written. */
	assert_int_equal(ll.toks[1].end - ll.toks[1].start, strlen("MOTD=\"a b\""));
	assert_memory_equal(ll.buf + ll.toks[1].start, "MOTD=\"a b\"", strlen("MOTD=\"a b\""));
	assert_int_equal(lexer_next(&lx, &ll), 0);
	logical_line_free(&ll);
	lexer_free(&lx);
	topo_source_free(lines);
	diag_free(&d);
}

/* logical_line_rest() is what exec/run hand to /bin/sh: the words as
 * written, quotes kept, comment dropped, continuation joined. */
static char *rest_of_first_line(const char *src, size_t from)
{
	struct lexer lx;
	struct logical_line ll = { 0 };
	struct diags d = { 0 };
	struct topo_source *lines = topo_source_new(TEST_FILE);
	char *rest;

	assert_non_null(lines);
	assert_int_equal(lexer_init(&lx, lines, src, strlen(src), &d), 0);
	assert_int_equal(lexer_next(&lx, &ll), 1);
	rest = logical_line_rest(&ll, from);
	logical_line_free(&ll);
	lexer_free(&lx);
	topo_source_free(lines);
	assert_int_equal(d.n, 0);
	diag_free(&d);
	assert_non_null(rest);
	return rest;
}

static void test_logical_line_rest(void **state)
{
	(void)state;
	char *r;

	r = rest_of_first_line("exec echo \"a b\"  >/tmp/x # comment\n", 1);
	assert_string_equal(r, "echo \"a b\"  >/tmp/x");
	free(r);

	r = rest_of_first_line("exec printf '%s\\n' \"a#b\" \\\n     >/tmp/out   # c\n", 1);
	assert_true(strncmp(r, "printf '%s\\n' \"a#b\"", strlen("printf '%s\\n' \"a#b\"")) == 0);
	assert_true(strlen(r) > strlen(">/tmp/out"));
	assert_string_equal(r + strlen(r) - strlen(">/tmp/out"), ">/tmp/out");
	assert_null(strchr(r, '\n'));
	assert_null(strstr(r, "\\ "));
	assert_null(strstr(r, "# c"));
	free(r);

	r = rest_of_first_line("forward\n", 1);
	assert_string_equal(r, "");
	free(r);
}

/* A line rejected for its bytes is still shown in the diagnostic, with the
 * caret under the offending byte (lexer.c keeps a display copy for that). */
static void test_bad_line_shown_in_excerpt(void **state)
{
	(void)state;
	static const char nul[] = "switch s\nnode a\0b\nlink a:eth0 s\n";
	static const char utf[] = "switch s\nnode a\xff\nlink a:eth0 s\n";
	struct checked c;
	char *out;

	check_bytes(TEST_FILE, nul, sizeof(nul) - 1, &c);
	out = diags_text(&c);
	checked_free(&c);
	if (!strstr(out, "test.topo:2:7: error: NUL byte") || !strstr(out, "    2 | node a\n       |       ^\n"))
		print_error("excerpt of the NUL line:\n%s", out);
	bool ok = strstr(out, "    2 | node a\n       |       ^\n") != NULL;
	free(out);
	assert_true(ok);

	check_bytes(TEST_FILE, utf, sizeof(utf) - 1, &c);
	out = diags_text(&c);
	checked_free(&c);
	if (!strstr(out, "    2 | node a"))
		print_error("excerpt of the invalid UTF-8 line:\n%s", out);
	ok = strstr(out, "test.topo:2:7: error: invalid UTF-8 byte 0xff") && strstr(out, "    2 | node a") &&
	     strstr(out, "\n       |       ^\n");
	free(out);
	assert_true(ok);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_length_limit),
		cmocka_unit_test(test_every_bad_line_reported),
		cmocka_unit_test(test_valid_utf8_accepted),
		cmocka_unit_test(test_physical_lines_kept_for_display),
		cmocka_unit_test(test_source_lines),
		cmocka_unit_test(test_token_flags_and_spans),
		cmocka_unit_test(test_logical_line_rest),
		cmocka_unit_test(test_bad_line_shown_in_excerpt),
	};
	struct CMUnitTest *table;
	size_t n1 = N_ELEMS(lex_cases), n2 = N_ELEMS(lex_error_cases);
	int failed = 0;

	table = calloc(n1 + n2, sizeof(*table));
	assert_non_null(table);
	for (size_t i = 0; i < n1; i++)
		table[i] = (struct CMUnitTest){ .name = lex_cases[i].name,
						.test_func = test_lex_case,
						.initial_state = (void *)&lex_cases[i] };
	for (size_t i = 0; i < n2; i++)
		table[n1 + i] = (struct CMUnitTest){ .name = lex_error_cases[i].name,
						     .test_func = test_lex_error_case,
						     .initial_state = (void *)&lex_error_cases[i] };
	failed += _cmocka_run_group_tests("lexer_table", table, n1 + n2, NULL, NULL);
	free(table);
	failed += cmocka_run_group_tests_name("lexer", tests, NULL, NULL);
	return failed ? 1 : 0;
}
