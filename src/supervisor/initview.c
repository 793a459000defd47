/* What a node's init gets of the lab, the topology and the plan: its
 * view (node/view.h), packed here for the lab's spawner, which makes the
 * init as a copy of its own few pages and of that view rather than of
 * the supervisor (spawner/spawner.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "node/view.h"
#include "supervisor/sup.h"

/* Whether the init turns off duplicate address detection and router
 * solicitations (node/init.c says why).  In a node with `ipv6 off` they
 * do nothing, unless a sysctl statement turns IPv6 back on: four writes
 * per node saved, unless the node has an IPv6 sysctl statement. */
static bool ipv6_quiet(const struct topo_node *n)
{
	if (!n->ipv6_off)
		return true;
	for (size_t i = 0; i < n->sysctls.n; i++)
		if (strstr(n->sysctls.v[i].key, "ipv6"))
			return true;
	return false;
}

struct node_view *initview_pack(const struct sup *s, const struct sup_node *sn, char *const *groups, size_t ngroups,
				size_t *size, nlab_error **err)
{
	char hosts[4200];

	snprintf(hosts, sizeof(hosts), "%s/hosts", s->dir);
	struct node_spec spec = {
		.t = s->t, .plan = &s->plan, .node = sn->tn, .index = sn->index, .lab = s->o->lab, .lab_dir = s->dir,
		.uid_base = sn->uid_base, .gid_base = sn->gid_base, .lab_uid = s->lab_uid, .lab_gid = s->lab_gid,
		.rootless = s->o->rootless,
		.tmpl = nodetmpl_fits(s, sn->tn, sn->index),
		.xtables_lock = sn->fw,
		.ipv6_quiet = ipv6_quiet(sn->tn),
		.tops = s->tops,
		.ntops = s->ntops,
		.hosts_path = hosts, .grace_ms = s->o->grace_ms,
		.line_timeout_ms = (int64_t)s->o->line_timeout_s * 1000,
		.alternatives_path = s->alternatives[0] ? s->alternatives : NULL,
	};
	struct node_view_make make = {
		.userns = topo_node_userns(s->t, sn->tn),
		.setgroups_deny = s->o->rootless && !s->rl.setgroups,
		.tmpl = spec.tmpl,
		.uid_base = sn->uid_base,
		.gid_base = sn->gid_base,
		.id_size = s->o->rootless ? s->id_size : 0,
		.ncgroups = ngroups,
	};
	if (ngroups > SPAWN_MAX_CGROUPS) {
		nlab_error_set(err, E2BIG, "a node in %zu cgroups (at most %d)", ngroups, SPAWN_MAX_CGROUPS);
		return NULL;
	}
	for (size_t i = 0; i < ngroups; i++)
		make.cgroups[i] = groups[i];
	return node_view_pack(&spec, &make, size, err);
}
