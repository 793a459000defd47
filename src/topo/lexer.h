/* Lexical layer of the topology language: byte-level checks (size, NUL,
 * UTF-8, line length), comments, quotes and line continuations. */
#ifndef NETLAB_TOPO_LEXER_H
#define NETLAB_TOPO_LEXER_H

#include <stdbool.h>
#include <stddef.h>

#include "topo/diag.h"
#include "topo/pos.h"
#include "topo/source.h"
#include "util/vec.h"

#define TOPO_MAX_FILE (4u << 20)
#define TOPO_MAX_LINE 4096u

struct tok {
	char *text;             /* unquoted, unescaped */
	struct topo_pos pos;
	size_t start, end;      /* byte span in the logical line, quotes included */
	bool quoted;
	bool subst;             /* a range expansion changed its text */
};

struct logical_line {
	char *buf;              /* physical lines joined, continuations removed */
	size_t len, cap;
	struct tok *toks;
	size_t ntoks, tokcap;
};

struct lexer {
	struct topo_source *src;        /* the physical lines, as displayed */
	VEC(bool) bad;                  /* lines whose bytes were rejected: parsed as empty */
	size_t next;                    /* next physical line index */
	struct diags *d;
};

/* Split data into physical lines, stored in src (empty, owned by the
 * caller: diagnostics quote it after the lexer is gone), and check their
 * bytes; diagnostics go to d.  -1 when out of memory. */
int lexer_init(struct lexer *lx, struct topo_source *src, const char *data, size_t len, struct diags *d);
/* Next logical line with at least one token: 1, or 0 at end of input. */
int lexer_next(struct lexer *lx, struct logical_line *ll);
/* Position of byte off of t's unquoted text (t is a word of ll), counting
 * the quotes and escapes written around it; t's own position when a range
 * expansion changed the word (its columns no longer map to the source). */
struct topo_pos tok_text_pos(const struct logical_line *ll, const struct tok *t, size_t off);
/* Just after the last word of written, in its expansion ll (the same words,
 * perhaps with other text): where a missing argument belongs. */
struct topo_pos logical_line_end_pos(const struct logical_line *written, const struct logical_line *ll);
/* Raw text of tokens [from, ntoks) as written, quotes kept. */
char *logical_line_rest(const struct logical_line *ll, size_t from);
void logical_line_free(struct logical_line *ll);
/* Free what lexer_init() allocated; the source stays with its owner. */
void lexer_free(struct lexer *lx);

#endif
