/* Link options against the running kernel (features.h).  A ranged link
 * (`link h[1..1000]:eth0 lan delay 10ms`) is one statement: it gets one
 * diagnostic at its position, without "in expansion i=..." and without a
 * thousand copies. */
#include <stdlib.h>
#include <string.h>

#include "topo/features.h"

struct seen {
	VEC(struct topo_pos) v;
};

/* First time at this line:col for this option? */
static bool first_at(struct seen *s, struct topo_pos pos)
{
	for (size_t i = 0; i < s->v.n; i++)
		if (s->v.v[i].line == pos.line && s->v.v[i].col == pos.col)
			return false;
	struct topo_pos *p = VEC_PUSH(s->v);
	if (p)
		*p = pos;
	return true;
}

static size_t report(struct diags *d, bool as_error, struct seen *s, struct topo_pos pos, const char *what,
		     const char *config, const char *instead)
{
	pos.range = 0; /* the statement as written, not one expansion of it */
	pos.iter = 0;
	if (!first_at(s, pos))
		return 0;
	diag_add(d, as_error ? DIAG_ERROR : DIAG_WARNING, pos,
		 "link %s need%s the kernel's %s, which the running kernel lacks (%s)%s%s", what,
		 strstr(what, " and ") ? "" : "s",
		 strcmp(config, "CONFIG_NET_SCH_NETEM") == 0 ? "netem queueing discipline" : "traffic control support",
		 config, instead ? "; " : "", instead ? instead : "");
	return 1;
}

size_t topo_check_kernel(const struct topology *t, const struct topo_kernel *k, bool as_error, struct diags *d)
{
	struct seen s = { 0 };
	size_t n = 0;

	if (!k->known)
		return 0;
	for (size_t i = 0; i < t->links.n; i++) {
		const struct topo_link *l = &t->links.v[i];
		/* jitter needs a delay on the same link: one diagnostic for
		 * both, at the delay. */
		if (l->delay_us && !k->netem)
			n += report(d, as_error, &s, l->delay_pos, l->jitter_us ? "'delay' and 'jitter'" : "'delay'",
				    "CONFIG_NET_SCH_NETEM", "'rate' and 'loss' work without it");
		if (l->rate_bps && !k->tbf)
			n += report(d, as_error, &s, l->rate_pos, "'rate'", "CONFIG_NET_SCH_TBF", NULL);
		/* With netem, loss goes with the delay into netem; alone it is
		 * a cls_bpf program (net/bpf.c), which needs no netem. */
		if (l->loss_ppm && !k->bpf_loss && !(k->netem && l->delay_us))
			n += report(d, as_error, &s, l->loss_pos, "'loss'",
				    "CONFIG_NET_SCH_INGRESS, CONFIG_NET_CLS_BPF and CONFIG_BPF_SYSCALL", NULL);
	}
	free(s.v.v);
	return n;
}
