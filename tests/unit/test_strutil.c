/* String helpers (src/util/strutil.c): the edit distance behind "did you
 * mean", UTF-8 validation and column counting. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "util/strutil.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static void test_str_distance(void **state)
{
	(void)state;
	static const struct {
		const char *a, *b;
		size_t cap, want;
	} cases[] = {
		{ "", "", 0, 0 },
		{ "a", "a", 2, 0 },
		{ "node", "nod", 2, 1 },
		{ "nod", "node", 2, 1 },
		{ "node", "mode", 2, 1 },
		{ "rotue", "route", 2, 2 }, /* a transposition is two edits */
		{ "kitten", "sitting", 5, 3 },
		{ "flaw", "lawn", 5, 2 },
		{ "abc", "", 5, 3 },
		{ "", "abc", 5, 3 },
		{ "firewall", "firewall", 0, 0 },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		size_t d = str_distance(cases[i].a, cases[i].b, cases[i].cap);
		if (d != cases[i].want)
			fail_msg("str_distance(\"%s\", \"%s\", %zu) = %zu, want %zu", cases[i].a, cases[i].b, cases[i].cap,
				 d, cases[i].want);
	}
	/* Over the cap: any value above it. */
	assert_true(str_distance("kitten", "sitting", 2) > 2);
	assert_true(str_distance("abcdef", "uvwxyz", 1) > 1);
	assert_true(str_distance("abc", "", 2) > 2);
}

/* The cap bounds the work, not the answer: equal long words are 0 apart. */
static void test_str_distance_long_words(void **state)
{
	(void)state;
	char a[101], b[101];

	memset(a, 'x', 100);
	a[100] = '\0';
	memcpy(b, a, sizeof(b));
	assert_int_equal(str_distance(a, b, 2), 0);
	b[99] = 'y';
	assert_int_equal(str_distance(a, b, 2), 1);
}

static void test_str_nearest(void **state)
{
	(void)state;
	static const char *const kw[] = { "lab", "switch", "node", "link", "expect", "ip", "route", "forward",
					  "sysctl", "hostname", "env", "exec", "run", "nat", "firewall" };
	static const struct {
		const char *word;
		const char *want; /* NULL: no suggestion */
	} cases[] = {
		{ "nod", "node" },      { "Node", "node" },     { "rotue", "route" }, { "lnk", "link" },
		{ "swtich", "switch" }, { "firewal", "firewall" }, { "node", "node" },   { "hostnmae", "hostname" },
		{ "frobnicate", NULL }, { "xyz", NULL },        { "", NULL },         { "routing-table", NULL },
		/* up to three letters one typo is plausible, two is noise */
		{ "ipp", "ip" },        { "mtu", NULL },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		const char *got = str_nearest(cases[i].word, kw, N_ELEMS(kw));
		if ((got == NULL) != (cases[i].want == NULL) || (got && strcmp(got, cases[i].want) != 0))
			fail_msg("str_nearest(\"%s\") = %s, want %s", cases[i].word, got ? got : "NULL",
				 cases[i].want ? cases[i].want : "NULL");
	}
	/* Ties go to the first candidate. */
	static const char *const tie[] = { "nat", "cat" };
	assert_string_equal(str_nearest("xat", tie, 2), "nat");
	assert_null(str_nearest("node", tie, 0));
}

static void test_str_copy_and_prefix(void **state)
{
	(void)state;
	char buf[5];

	assert_int_equal(str_copy(buf, sizeof(buf), "eth0"), 0);
	assert_string_equal(buf, "eth0");
	assert_int_equal(str_copy(buf, sizeof(buf), "eth10"), -1);
	assert_string_equal(buf, "eth0"); /* untouched on failure */
	assert_int_equal(str_copy(buf, sizeof(buf), ""), 0);
	assert_string_equal(buf, "");

	assert_true(str_has_prefix("net.ipv4.ip_forward", "net."));
	assert_false(str_has_prefix("netfoo.x", "net."));
	assert_false(str_has_prefix("net", "net."));
	assert_true(str_has_prefix("x", ""));
}

static void test_utf8_width(void **state)
{
	(void)state;
	assert_int_equal(utf8_width("", 0), 0);
	assert_int_equal(utf8_width("node a", 6), 6);
	assert_int_equal(utf8_width("h\xc3\xa9llo", 6), 5);
	assert_int_equal(utf8_width("\xf0\x9f\x98\x80x", 5), 2);
	assert_int_equal(utf8_width("\xe2\x82\xac\xe2\x82\xac", 6), 2);
	/* only the first len bytes count */
	assert_int_equal(utf8_width("\xc3\xa9\xc3\xa9", 2), 1);
	assert_int_equal(utf8_width("abc", 1), 1);
}

static void test_utf8_seq_len(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		const char *bytes;
		size_t avail;
		size_t want;
	} cases[] = {
		{ "ASCII", "a", 1, 1 },
		{ "U+0080", "\xc2\x80", 2, 2 },
		{ "U+07FF", "\xdf\xbf", 2, 2 },
		{ "U+0800", "\xe0\xa0\x80", 3, 3 },
		{ "U+D7FF", "\xed\x9f\xbf", 3, 3 },
		{ "U+E000", "\xee\x80\x80", 3, 3 },
		{ "U+FFFF", "\xef\xbf\xbf", 3, 3 },
		{ "U+10000", "\xf0\x90\x80\x80", 4, 4 },
		{ "U+10FFFF", "\xf4\x8f\xbf\xbf", 4, 4 },
		{ "more bytes available than needed", "\xc3\xa9xyz", 5, 2 },
		{ "lone continuation byte 0x80", "\x80", 1, 0 },
		{ "lone continuation byte 0xbf", "\xbf", 1, 0 },
		{ "overlong NUL C0 80", "\xc0\x80", 2, 0 },
		{ "overlong C1 BF", "\xc1\xbf", 2, 0 },
		{ "overlong three-byte NUL", "\xe0\x80\x80", 3, 0 },
		{ "overlong U+07FF in three bytes", "\xe0\x9f\xbf", 3, 0 },
		{ "overlong four-byte NUL", "\xf0\x80\x80\x80", 4, 0 },
		{ "overlong U+FFFF in four bytes", "\xf0\x8f\xbf\xbf", 4, 0 },
		{ "surrogate U+D800", "\xed\xa0\x80", 3, 0 },
		{ "surrogate U+DFFF", "\xed\xbf\xbf", 3, 0 },
		{ "above U+10FFFF", "\xf4\x90\x80\x80", 4, 0 },
		{ "lead byte F5", "\xf5\x80\x80\x80", 4, 0 },
		{ "lead byte F8", "\xf8\x88\x80\x80\x80", 5, 0 },
		{ "lead byte FE", "\xfe", 1, 0 },
		{ "lead byte FF", "\xff", 1, 0 },
		{ "ASCII instead of continuation", "\xc2\x41", 2, 0 },
		{ "second continuation missing", "\xe2\x82\x41", 3, 0 },
		{ "truncated two-byte", "\xc2", 1, 0 },
		{ "truncated three-byte", "\xe2\x82", 2, 0 },
		{ "truncated four-byte", "\xf0\x90\x80", 3, 0 },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		size_t got = utf8_seq_len((const unsigned char *)cases[i].bytes, cases[i].avail);
		if (got != cases[i].want)
			fail_msg("utf8_seq_len(%s) = %zu, want %zu", cases[i].name, got, cases[i].want);
	}
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_str_distance),
		cmocka_unit_test(test_str_distance_long_words),
		cmocka_unit_test(test_str_nearest),
		cmocka_unit_test(test_str_copy_and_prefix),
		cmocka_unit_test(test_utf8_width),
		cmocka_unit_test(test_utf8_seq_len),
	};
	return cmocka_run_group_tests_name("strutil", tests, NULL, NULL);
}
