#include "util/strutil.h"

#include <stdlib.h>
#include <string.h>

size_t str_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t small[64], *row = lb < 64 ? small : malloc((lb + 1) * sizeof(*row));
	size_t result;

	if (!row)
		return strcmp(a, b) == 0 ? 0 : cap + 1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	result = lb;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0], best;
		row[0] = i;
		best = row[0];
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t v = diag + (a[i - 1] == b[j - 1] ? 0 : 1);
			if (row[j] + 1 < v)
				v = row[j] + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			row[j] = v;
			diag = up;
			if (v < best)
				best = v;
		}
		if (best > cap) {
			result = cap + 1;
			goto out;
		}
		result = row[lb];
	}
out:
	if (row != small)
		free(row);
	return result;
}

const char *str_nearest(const char *word, const char *const *candidates, size_t n)
{
	size_t len = strlen(word);
	/* One typo per three letters, at most two, is what people recognise
	 * as "you meant ..."; beyond that a suggestion is noise. */
	size_t cap = len <= 3 ? 1 : 2;
	const char *best = NULL;
	size_t best_d = cap + 1;

	for (size_t i = 0; i < n; i++) {
		size_t d = str_distance(word, candidates[i], cap);
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best;
}

int str_copy(char *dst, size_t size, const char *src)
{
	size_t len = strlen(src);

	if (len >= size)
		return -1;
	memcpy(dst, src, len + 1);
	return 0;
}

bool str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

size_t utf8_width(const char *s, size_t len)
{
	size_t w = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			w++;
	return w;
}

size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
	unsigned c = s[0];
	size_t need;
	unsigned min;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 2;
		min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	if (avail < need)
		return 0;
	unsigned cp = c & (0x7F >> need);
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return need;
}

bool str_has_word(const char *text, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = text; p && *p;) {
		p += strspn(p, " \n");
		size_t len = strcspn(p, " \n");
		if (len == n && strncmp(p, word, n) == 0)
			return true;
		p += len;
	}
	return false;
}
