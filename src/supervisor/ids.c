/* The ids phase: every node's user namespace slot and cgroups, made and
 * recorded in the state before any node exists (supervisor/nodes.c then
 * makes the nodes). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/cgroup.h"
#include "node/cgroup_user.h"
#include "node/userns.h"
#include "lab/rootless.h"
#include "supervisor/sup.h"
#include "util/cleanup.h"

static char **dup_strv(char *const *v, size_t n)
{
	char **c = calloc(n + 1, sizeof(*c));

	for (size_t i = 0; c && i < n; i++)
		c[i] = strdup(v[i]);
	return c;
}

static bool node_has_limits(const struct topo_node *n)
{
	return n->cpu_millis || n->memory_bytes || (n->pids_max && n->pids_max != TOPO_PIDS_UNLIMITED);
}

/* What the node's cgroups enforce: its statements, and the default pids
 * limit when it has no `pids` (docs/isolation.md). */
static struct cgroup_limits node_limits(const struct topo_node *n)
{
	struct cgroup_limits lim = { .cpu_millis = n->cpu_millis, .memory_bytes = n->memory_bytes };

	if (n->pids_max == 0) {
		lim.pids_max = TOPO_PIDS_DEFAULT;
		lim.pids_default = true;
	} else if (n->pids_max != TOPO_PIDS_UNLIMITED) {
		lim.pids_max = n->pids_max;
	}
	return lim;
}

/* Rootless: slots carved from the lab user namespace's IDs, which no
 * other lab shares: no allocation lock. */
static int rootless_slots(struct sup *s, nlab_error **err)
{
	size_t nuser = 0, k = 0;
	uint32_t base, gbase, gsize;

	for (size_t i = 0; i < s->nnodes; i++)
		nuser += s->st.nodes[i].userns;
	uint32_t ids = s->rl.uids < s->rl.gids ? s->rl.uids : s->rl.gids;
	for (size_t i = 0; i < s->nnodes; i++) {
		if (!s->st.nodes[i].userns)
			continue;
		rootless_slot(ids, nuser, k, &base, &s->id_size);
		rootless_slot(ids, nuser, k++, &gbase, &gsize);
		s->nodes[i].uid_base = s->st.nodes[i].uid_base = base;
		s->nodes[i].gid_base = s->st.nodes[i].gid_base = gbase;
	}
	return state_write(&s->st, err);
}

/* The lab's parent cgroups: root's under every usable hierarchy; a
 * user's below the delegated cgroup v2 subtree of the user's session
 * (node/cgroup_user.h), none without one (the validator refused the
 * limits that needed it). */
static int lab_cgroups(struct sup *s, bool limits, nlab_error **err)
{
	int r;

	if (s->o->rootless) {
		struct cgroup_user u;
		cgroup_user_detect(&u);
		if (!u.delegated) {
			nlab_report(NULL,
				    "no cgroups of its own for lab %s (default limits not applied): no delegated cgroup v2 subtree: %s",
				    s->o->lab, u.why);
			return 0;
		}
		r = cgroup_lab_create_user(&s->cg, &u, s->o->lab, err);
		if (r == 0 && !(u.ctrls & CG_PIDS))
			nlab_report(NULL,
				    "lab %s: the default pids limit is not applied: your cgroup %s does not delegate the pids controller (it has: %s)",
				    s->o->lab, u.path, u.controllers[0] ? u.controllers : "none");
	} else {
		r = cgroup_lab_create(&s->cg, s->o->lab, err);
	}
	if (r < 0) {
		if (limits)
			return nlab_error_wrap(err, "cgroups of lab %s", s->o->lab);
		nlab_report(NULL, "no cgroups of its own for lab %s (default limits not applied): %s", s->o->lab,
			    (*err)->msg);
		nlab_error_free(err);
		cgroup_remove(s->cg.dirs, s->cg.ndirs);
		cgroup_lab_free(&s->cg);
	}
	return 0;
}

/* User namespace slots and cgroups of every node, recorded in the state
 * before any node exists: `down` after a crash finds them there, and the
 * slots are taken under the allocation lock (docs/isolation.md). */
int nodes_prepare(struct sup *s, nlab_error **err)
{
	size_t nuser = 0;

	/* Every node gets groups in the pids and memory hierarchies (its
	 * default pids limit, its memory charged to it: node/cgroup.h).  A
	 * machine that has no cgroups for netlab to make (none mounted, or
	 * not writable) keeps only the limits a topology asks for, which are
	 * then errors: nothing asked for is silently dropped. */
	bool limits = false;
	for (size_t i = 0; i < s->nnodes; i++)
		limits |= node_has_limits(s->nodes[i].tn);
	if (lab_cgroups(s, limits, err) < 0)
		return -1;
	s->st.cgroups = dup_strv(s->cg.dirs, s->cg.ndirs);
	s->st.ncgroups = s->st.cgroups ? s->cg.ndirs : 0;
	if (cgroup_lab_memory(&s->cg) && !(s->st.memory_group = strdup(cgroup_lab_memory(&s->cg))))
		return nlab_error_set(err, ENOMEM, "cgroups");
	for (size_t i = 0; i < s->nnodes; i++) {
		struct sup_node *sn = &s->nodes[i];
		const struct topo_node *n = sn->tn;
		nuser += s->st.nodes[i].userns;
		if (!s->cg.ndirs && !node_has_limits(n))
			continue;
		struct cgroup_limits lim = node_limits(n);
		if (cgroup_node_create(&s->cg, n->name, &lim, &sn->cgroups, &sn->ncgroups, err) < 0)
			return nlab_error_wrap(err, "node %s (%s:%d)", n->name, s->t->file, n->pos.line);
		s->st.nodes[i].cgroups = dup_strv(sn->cgroups, sn->ncgroups);
		s->st.nodes[i].ncgroups = s->st.nodes[i].cgroups ? sn->ncgroups : 0;
	}
	if (s->o->rootless)
		return rootless_slots(s, err);
	if (!nuser)
		return state_write(&s->st, err);
	cleanup_free uint32_t *ub = calloc(nuser, sizeof(*ub));
	cleanup_free uint32_t *gb = calloc(nuser, sizeof(*gb));
	if (!ub || !gb)
		return nlab_error_set(err, ENOMEM, "user namespace slots");
	int lock = userns_lock(err);
	if (lock < 0)
		return -1;
	int r = userns_allocate(s->o->lab, nuser, ub, gb, err);
	for (size_t i = 0, k = 0; r == 0 && i < s->nnodes; i++) {
		if (!s->st.nodes[i].userns)
			continue;
		s->nodes[i].uid_base = s->st.nodes[i].uid_base = ub[k];
		s->nodes[i].gid_base = s->st.nodes[i].gid_base = gb[k++];
	}
	/* Recorded before the lock goes: the next lab sees them taken. */
	if (r == 0)
		r = state_write(&s->st, err);
	userns_unlock(lock);
	return r;
}
