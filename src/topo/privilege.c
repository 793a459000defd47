/* Statements a rootless lab cannot have (privilege.h).  A ranged
 * statement gets one error at its position, not one per expansion.
 * Limits are refused only when the user's cgroup does not delegate their
 * controller (node/cgroup_user.h finds what it does). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo/privilege.h"
#include "util/strutil.h"

struct seen {
	VEC(struct topo_pos) v;
};

static bool seen(struct seen *s, struct topo_pos pos)
{
	for (size_t i = 0; i < s->v.n; i++)
		if (s->v.v[i].line == pos.line && s->v.v[i].col == pos.col)
			return true;
	struct topo_pos *p = VEC_PUSH(s->v);
	if (p)
		*p = pos;
	return false;
}

static size_t refuse(struct diags *d, struct seen *s, struct topo_pos pos, const char *what, const char *why)
{
	pos.range = 0;
	pos.iter = 0;
	if (seen(s, pos))
		return 0;
	diag_add(d, DIAG_ERROR, pos,
		 "%s needs root: %s (an unprivileged user's lab lives in a user namespace of its own; docs/rootless.md)",
		 what, why);
	return 1;
}


/* "'cpu 0.500'" -> "'cpu 0.5'", "'cpu 2.000'" -> "'cpu 2'". */
static void trim_zeros(char *st)
{
	char *dot = strrchr(st, '.'), *end = st + strlen(st) - 1; /* at the closing quote */

	if (!dot)
		return;
	char *q = end - 1;
	while (q > dot && *q == '0')
		q--;
	if (q == dot)
		q--;
	memmove(q + 1, end, 2);
}

/* As written, in the largest unit that divides it. */
static void size_text(char *buf, size_t len, uint64_t b)
{
	static const char units[] = "KMGT";
	int u = -1;

	while (u < 3 && b >= 1024 && b % 1024 == 0) {
		b /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "'memory %llu'", (unsigned long long)b);
	else
		snprintf(buf, len, "'memory %llu%c'", (unsigned long long)b, units[u]);
}

/* A limit needs its controller in the user's delegated cgroup. */
static size_t limit(struct diags *d, struct seen *s, const struct topo_deleg *dg, struct topo_pos pos, const char *what,
		    const char *ctrl)
{
	pos.range = 0;
	pos.iter = 0;
	if (dg && dg->delegated && str_has_word(dg->controllers, ctrl))
		return 0;
	if (seen(s, pos))
		return 0;
	if (!dg || !dg->delegated) {
		diag_add(d, DIAG_ERROR, pos,
			 "%s needs a cgroup of yours, and no delegated cgroup v2 subtree was found: %s (systemd "
			 "delegates one with `systemd-run --user --scope -p Delegate=yes netlab up FILE`; "
			 "docs/rootless.md)",
			 what, dg && dg->why ? dg->why : "not looked for");
		return 1;
	}
	char hint[300] = "";
	if (!str_has_word(dg->mount_controllers, ctrl))
		snprintf(hint, sizeof(hint), "; the cgroup v2 hierarchy at %s offers no %s controller at all (%s)",
			 dg->mount ? dg->mount : "?", ctrl,
			 str_has_word(dg->v1, ctrl) ? "it is bound to cgroup v1 on this machine" : "the kernel has none");
	diag_add(d, DIAG_ERROR, pos,
		 "%s needs the %s controller, which your cgroup %s does not delegate (it has: %s)%s; docs/rootless.md",
		 what, ctrl, dg->cgroup ? dg->cgroup : "?",
		 dg->controllers && dg->controllers[0] ? dg->controllers : "none", hint);
	return 1;
}

size_t topo_check_rootless(const struct topology *t, const struct topo_deleg *deleg, struct diags *d)
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
		char st[64];
		if (nd->cpu_millis) {
			snprintf(st, sizeof(st), "'cpu %u.%03u'", nd->cpu_millis / 1000, nd->cpu_millis % 1000);
			trim_zeros(st);
			n += limit(d, &s, deleg, nd->cpu_pos, st, "cpu");
		}
		if (nd->memory_bytes) {
			size_text(st, sizeof(st), nd->memory_bytes);
			n += limit(d, &s, deleg, nd->memory_pos, st, "memory");
		}
		if (nd->pids_max && nd->pids_max != TOPO_PIDS_UNLIMITED) {
			snprintf(st, sizeof(st), "'pids %u'", nd->pids_max);
			n += limit(d, &s, deleg, nd->pids_pos, st, "pids");
		}
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
