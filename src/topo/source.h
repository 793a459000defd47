/* The text a topology was read from: its file name and its physical lines,
 * as diagnostics quote them under a message and `netlab status --firewall`
 * quotes a rule's statement.  The lexer fills it; the model never holds
 * source text, so a running lab does not carry its file around. */
#ifndef NETLAB_TOPO_SOURCE_H
#define NETLAB_TOPO_SOURCE_H

#include <stddef.h>

#include "util/vec.h"

struct topo_source {
	char *file;	   /* as given: the FILE of FILE:LINE:COL */
	VEC(char *) lines; /* physical lines without their end of line */
};

/* An empty source named file, or NULL when out of memory. */
struct topo_source *topo_source_new(const char *file);
/* Append a copy of text[0..len) as the next line; -1 when out of memory. */
int topo_source_add_line(struct topo_source *src, const char *text, size_t len);
/* Line n (1-based) as displayed, or NULL when src has no such line. */
const char *topo_source_line(const struct topo_source *src, int n);
void topo_source_free(struct topo_source *src);

#endif
