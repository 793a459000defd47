/* What failed to parse, handed from the parser to the validator so that
 * each mistake is reported once: a name whose declaration was rejected is
 * not "undefined" later, a link that was rejected is not checked again,
 * and a node such a link names is not told it lacks the interface.
 *
 * Kept beside the topology rather than in it: the model the runtime reads
 * only ever describes a valid lab. */
#ifndef NETLAB_TOPO_BROKEN_H
#define NETLAB_TOPO_BROKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "util/vec.h"

struct topo_broken {
	VEC(char *) names; /* names, or "h[]" patterns of rejected ranges */
	VEC(bool) links;   /* by index in topology.links */
	/* By index in topology.nodes: a rejected range of links named it. */
	VEC(bool) nodes;
};

/* NULL when out of memory; every function below accepts a NULL table
 * (nothing is broken, nothing can be recorded). */
struct topo_broken *topo_broken_new(void);
void topo_broken_free(struct topo_broken *b);

void topo_broken_add_name(struct topo_broken *b, const char *name);
/* Was name (or a range pattern covering it) declared by a rejected line? */
bool topo_broken_name(const struct topo_broken *b, const char *name);
void topo_broken_mark_link(struct topo_broken *b, size_t link);
bool topo_broken_link(const struct topo_broken *b, size_t link);
void topo_broken_mark_node(struct topo_broken *b, size_t node);
bool topo_broken_node(const struct topo_broken *b, size_t node);

#endif
