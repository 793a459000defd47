/* Graphviz DOT rendering of a topology, for `netlab graph` and the docs. */
#ifndef NETLAB_TOPO_DOT_H
#define NETLAB_TOPO_DOT_H

#include <stdio.h>

#include "topo/model.h"

/* Write t (already validated: link ends resolved) as an undirected DOT
 * graph named after the lab.  Output depends only on t, so the same file
 * always gives byte-identical text.  Returns 0, or -1 with errno set when
 * writing to out failed. */
int topo_write_dot(const struct topology *t, FILE *out);

#endif
