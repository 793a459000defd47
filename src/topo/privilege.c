/* Statements a rootless lab cannot have (privilege.h).  A ranged
 * statement gets one error at its position, not one per expansion. */
#include <stdlib.h>

#include "topo/privilege.h"

struct seen {
	VEC(struct topo_pos) v;
};

static size_t refuse(struct diags *d, struct seen *s, struct topo_pos pos, const char *what, const char *why)
{
	pos.range = 0;
	pos.iter = 0;
	for (size_t i = 0; i < s->v.n; i++)
		if (s->v.v[i].line == pos.line && s->v.v[i].col == pos.col)
			return 0;
	struct topo_pos *p = VEC_PUSH(s->v);
	if (p)
		*p = pos;
	diag_add(d, DIAG_ERROR, pos,
		 "%s needs root: %s (an unprivileged user's lab lives in a user namespace of its own; docs/rootless.md)",
		 what, why);
	return 1;
}

size_t topo_check_rootless(const struct topology *t, struct diags *d)
{
	struct seen s = { 0 };
	size_t n = 0;

	if (t->userns_off)
		n += refuse(d, &s, t->userns_pos, "'userns off'", "node root would be the host's root");
	for (size_t i = 0; i < t->nodes.n; i++) {
		const struct topo_node *nd = &t->nodes.v[i];
		if (nd->is_host) {
			n += refuse(d, &s, nd->pos, "'node host'", "it changes the machine's own network namespace");
			continue;
		}
		if (nd->userns_off)
			n += refuse(d, &s, nd->userns_pos, "'userns off'", "node root would be the host's root");
		if (nd->cpu_millis)
			n += refuse(d, &s, nd->cpu_pos, "'cpu'",
				    "a rootless lab has no cgroups of its own (no delegated cgroup v2 subtree is used)");
		if (nd->memory_bytes)
			n += refuse(d, &s, nd->memory_pos, "'memory'",
				    "a rootless lab has no cgroups of its own (no delegated cgroup v2 subtree is used)");
		if (nd->pids_max && nd->pids_max != TOPO_PIDS_UNLIMITED)
			n += refuse(d, &s, nd->pids_pos, "'pids'",
				    "a rootless lab has no cgroups of its own (no delegated cgroup v2 subtree is used)");
	}
	for (size_t i = 0; i < t->links.n; i++) {
		const struct topo_link *l = &t->links.v[i];
		const struct topo_end *h = l->a.kind == TOPO_END_HOST	? &l->a
					   : l->b.kind == TOPO_END_HOST ? &l->b
									: NULL;
		if (h)
			n += refuse(d, &s, h->pos, "a link to the host",
				    "its end lives in the machine's own network namespace");
	}
	free(s.v.v);
	return n;
}
