#include "topo/broken.h"

#include <stdlib.h>
#include <string.h>

#include "topo/range.h"

struct topo_broken *topo_broken_new(void)
{
	return calloc(1, sizeof(struct topo_broken));
}

void topo_broken_free(struct topo_broken *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->names.n; i++)
		free(b->names.v[i]);
	free(b->names.v);
	free(b->links.v);
	free(b->nodes.v);
	free(b);
}

void topo_broken_add_name(struct topo_broken *b, const char *name)
{
	char **slot = b ? VEC_PUSH(b->names) : NULL;

	if (slot)
		*slot = strdup(name);
}

bool topo_broken_name(const struct topo_broken *b, const char *name)
{
	/* A linear scan: only names that no declaration defines are looked
	 * up here. */
	for (size_t i = 0; b && i < b->names.n; i++)
		if (b->names.v[i] &&
		    (strcmp(b->names.v[i], name) == 0 || topo_range_pattern_match(b->names.v[i], name)))
			return true;
	return false;
}

void topo_broken_mark_link(struct topo_broken *b, size_t link)
{
	bool *f = b ? VEC_AT(b->links, link) : NULL;

	if (f)
		*f = true;
}

bool topo_broken_link(const struct topo_broken *b, size_t link)
{
	return b && link < b->links.n && b->links.v[link];
}

void topo_broken_mark_node(struct topo_broken *b, size_t node)
{
	bool *f = b ? VEC_AT(b->nodes, node) : NULL;

	if (f)
		*f = true;
}

bool topo_broken_node(const struct topo_broken *b, size_t node)
{
	return b && node < b->nodes.n && b->nodes.v[node];
}
