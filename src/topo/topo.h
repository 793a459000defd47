/* Public entry points of the topology language: read, parse, validate.
 *
 * Layers of src/topo/ (README has a line per file); each uses only the
 * ones before it, so there is no link-time cycle:
 *   util <- pos, source, diag <- lexer <- model, range, addr <- broken
 *   <- parse_util <- parse_top, parse_net, parse_isolation, parse_expect
 *   <- parse_range <- parse <- validate_lab, validate_expect <- validate
 *   <- load;  dot, untrusted and features need only model (and addr). */
#ifndef NETLAB_TOPO_H
#define NETLAB_TOPO_H

#include <stddef.h>

#include "topo/diag.h"
#include "topo/model.h"
#include "topo/source.h"

/* What failed to parse (topo/broken.h), from topo_parse_buffer() to
 * topo_validate(): keeps one mistake from being reported again. */
struct topo_broken;

/* Parse buf[0..len) into *out.  src is an empty source (topo_source_new),
 * whose name is the file's for messages and the default lab name; the
 * lexer stores the lines in it.  Diagnostics go to d.  *broken (when
 * broken is not NULL) receives what failed to parse, for topo_validate;
 * free it with topo_broken_free().  Returns 0 when d holds no new errors,
 * -1 otherwise; *out is set whenever memory allowed, even on errors. */
int topo_parse_buffer(struct topo_source *src, const char *buf, size_t len, struct topology **out,
		      struct topo_broken **broken, struct diags *d);
/* Semantic checks across the whole topology; resolves links to nodes.
 * broken (may be NULL) keeps what failed to parse from being reported
 * again. */
int topo_validate(struct topology *t, const struct topo_broken *broken, struct diags *d);
void topo_broken_free(struct topo_broken *b);
/* The part of topo_validate() about lines, `after`, `files` (validate_lines.c). */
void topo_validate_lines(struct topology *t, struct diags *d);
/* Read, parse and validate a file (size, readability checked here), with
 * the diagnostics sorted.  *src (when src is not NULL) receives the file's
 * source, for diag_print(), whenever memory allowed, even when the file
 * could not be read (it then names the file and has no lines).  The
 * caller frees *out with topo_free() and *src with topo_source_free(). */
int topo_load(const char *path, struct topology **out, struct topo_source **src, struct diags *d);
/* The same for a topology already in memory (`netlab check -` reads
 * standard input): name is what diagnostics call it ("<stdin>"), dir the
 * directory its relative paths and commands start from (NULL: none). */
int topo_load_buffer(const char *name, const char *buf, size_t len, const char *dir, struct topology **out,
		     struct topo_source **src, struct diags *d);

#endif
