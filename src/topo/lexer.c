#include "topo/lexer.h"

#include <stdlib.h>
#include <string.h>

#include "util/strutil.h"

static struct topo_pos pos_at(const char *line, size_t byte, int lineno)
{
	return (struct topo_pos){ .line = lineno, .col = (int)utf8_width(line, byte) + 1 };
}

/* Check one physical line's bytes; returns false if the line is unusable. */
static bool check_line(const char *p, size_t len, int lineno, struct diags *d)
{
	if (len > TOPO_MAX_LINE) {
		diag_error(d, ((struct topo_pos){ .line = lineno, .col = 1 }),
			   "line is %zu bytes long; lines are limited to %u bytes", len, TOPO_MAX_LINE);
		return false;
	}
	for (size_t i = 0; i < len;) {
		if (p[i] == '\0') {
			diag_error(d, pos_at(p, i, lineno), "NUL byte in topology file (is this a binary file?)");
			return false;
		}
		size_t n = utf8_seq_len((const unsigned char *)p + i, len - i);
		if (n == 0) {
			diag_error(d, pos_at(p, i, lineno), "invalid UTF-8 byte 0x%02x",
				   (unsigned)(unsigned char)p[i]);
			return false;
		}
		i += n;
	}
	return true;
}

int lexer_init(struct lexer *lx, struct topo_source *src, const char *data, size_t len, struct diags *d)
{
	memset(lx, 0, sizeof(*lx));
	lx->src = src;
	lx->d = d;
	for (size_t off = 0; off < len;) {
		const char *nl = memchr(data + off, '\n', len - off);
		size_t l = nl ? (size_t)(nl - (data + off)) : len - off;
		int lineno = (int)lx->bad.n + 1;

		if (l > 0 && data[off + l - 1] == '\r')
			l--; /* tolerate CRLF files written on other systems */
		bool *bad = VEC_PUSH(lx->bad);
		if (!bad)
			return -1;
		*bad = !check_line(data + off, l, lineno, d);
		/* Keep a display copy even of a bad line (cut at 4096 bytes
		 * and at any NUL) so the caret can point into it. */
		if (topo_source_add_line(src, data + off, l > TOPO_MAX_LINE ? TOPO_MAX_LINE : l) < 0)
			return -1;
		off += (nl ? (size_t)(nl - (data + off)) + 1 : len - off);
	}
	return 0;
}

static int ll_append(struct logical_line *ll, const char *s, size_t n)
{
	if (ll->len + n + 1 > ll->cap) {
		size_t cap = (ll->len + n + 1) * 2;
		char *b = realloc(ll->buf, cap);
		if (!b)
			return -1;
		ll->buf = b;
		ll->cap = cap;
	}
	memcpy(ll->buf + ll->len, s, n);
	ll->len += n;
	ll->buf[ll->len] = '\0';
	return 0;
}

static struct tok *ll_push_tok(struct logical_line *ll)
{
	return vec_push((void **)&ll->toks, &ll->ntoks, &ll->tokcap, sizeof(*ll->toks));
}

static void ll_reset(struct logical_line *ll)
{
	for (size_t i = 0; i < ll->ntoks; i++)
		free(ll->toks[i].text);
	ll->ntoks = 0;
	ll->len = 0;
	if (ll->buf)
		ll->buf[0] = '\0';
}

void logical_line_free(struct logical_line *ll)
{
	ll_reset(ll);
	free(ll->toks);
	free(ll->buf);
	memset(ll, 0, sizeof(*ll));
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

int lexer_next(struct lexer *lx, struct logical_line *ll)
{
	ll_reset(ll);
	while (lx->next < lx->bad.n) {
		int lineno = (int)lx->next + 1;
		bool bad = lx->bad.v[lx->next];
		const char *line = lx->src->lines.v[lx->next++];
		size_t len = bad ? 0 : strlen(line);
		size_t base = ll->len;
		bool comment = false, open_quote = false;
		size_t i = 0;

		if (ll_append(ll, line, len) < 0 || ll_append(ll, " ", 1) < 0)
			return -1;
		while (i < len) {
			if (is_space(line[i])) {
				i++;
				continue;
			}
			if (line[i] == '#') {
				comment = true;
				break;
			}
			struct tok *t = ll_push_tok(ll);
			if (!t)
				return -1;
			t->pos = pos_at(line, i, lineno);
			t->start = base + i;
			char *word = malloc(len - i + 1);
			size_t wlen = 0;
			if (!word)
				return -1;
			/* A word may mix quoted and bare parts: a"b c"d is one word. */
			while (i < len && !is_space(line[i])) {
				if (line[i] == '"') {
					size_t open = i++;
					t->quoted = true;
					while (i < len && line[i] != '"') {
						if (line[i] == '\\' && i + 1 < len && (line[i + 1] == '"' || line[i + 1] == '\\'))
							i++;
						word[wlen++] = line[i++];
					}
					if (i >= len) {
						diag_error(lx->d, pos_at(line, open, lineno),
							   "unterminated string: missing closing '\"'");
						open_quote = true;
						break;
					}
					i++;
				} else {
					word[wlen++] = line[i++];
				}
			}
			word[wlen] = '\0';
			t->text = word;
			t->end = base + i;
		}
		/* A bare backslash ending the line (not in a comment or a
		 * string) joins the next line: drop it from the last word. */
		bool cont = !comment && !open_quote && len > 0 && line[len - 1] == '\\' && ll->ntoks > 0 &&
			    ll->toks[ll->ntoks - 1].end == base + len;
		if (cont) {
			struct tok *last = &ll->toks[ll->ntoks - 1];
			ll->buf[base + len - 1] = ' ';
			size_t tl = strlen(last->text);
			last->end--;
			if (tl > 0)
				last->text[tl - 1] = '\0';
			if (last->end == last->start) {
				free(last->text);
				ll->ntoks--;
			}
		}
		if (!cont && ll->ntoks > 0)
			return 1;
		if (!cont)
			ll_reset(ll);
	}
	return ll->ntoks > 0 ? 1 : 0;
}

struct topo_pos tok_text_pos(const struct logical_line *ll, const struct tok *t, size_t off)
{
	const char *raw = ll->buf + t->start, *end = ll->buf + t->end;
	struct topo_pos pos = t->pos;
	bool inq = false;
	size_t done = 0;

	/* Columns inside a substituted word do not map back to the source. */
	if (t->subst)
		return pos;

	/* Step over quotes before the wanted byte, and over an opening quote
	 * at it unless the quoted part is empty. */
	while (raw < end && (done < off || (*raw == '"' && raw + 1 < end && raw[1] != '"'))) {
		if (*raw == '"') {
			inq = !inq;
		} else {
			if (inq && *raw == '\\' && raw + 1 < end && (raw[1] == '"' || raw[1] == '\\')) {
				raw++;
				pos.col++;
			}
			done++;
		}
		if (((unsigned char)*raw & 0xC0) != 0x80)
			pos.col++;
		raw++;
	}
	return pos;
}

struct topo_pos logical_line_end_pos(const struct logical_line *written, const struct logical_line *ll)
{
	/* Measured on the words as written, not as expanded. */
	const struct tok *t = &written->toks[written->ntoks - 1];
	struct topo_pos pos = ll->toks[ll->ntoks - 1].pos;

	pos.col = t->pos.col + (int)utf8_width(written->buf + t->start, t->end - t->start) + 1;
	return pos;
}

char *logical_line_rest(const struct logical_line *ll, size_t from)
{
	if (from >= ll->ntoks)
		return strdup("");
	size_t s = ll->toks[from].start, e = ll->toks[ll->ntoks - 1].end;
	return strndup(ll->buf + s, e - s);
}

void lexer_free(struct lexer *lx)
{
	free(lx->bad.v);
	memset(&lx->bad, 0, sizeof(lx->bad));
	lx->src = NULL;
}
