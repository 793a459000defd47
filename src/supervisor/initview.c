/* What a node's init inherits of the topology and the plan.
 *
 * An init is a copy of the supervisor's memory (node/spawn.h): every page
 * the supervisor has is mapped into every init, copied at each clone
 * (copy_page_range) and then shared by thousands of processes, whose
 * reverse-map walks grow with them.  At 10,000 nodes the topology's node
 * and link arrays and the plan's operations are most of that memory, and
 * an init reads one entry of them.  So while the nodes are made those
 * arrays are kept from the inits (spawner_hide()), and each init gets a
 * view instead: a copy of its node, of its own operations (its `mount`s
 * and `files`, then its lines) and a plan that names only them.
 *
 * A view is fresh memory, mapped for its node before the node's stage 1
 * starts and unmapped once the init exists (the init's copy is its own):
 * pages no init shares yet, so filling them costs no copy-on-write fault
 * (a page an init shares costs one on every write), and an init inherits
 * at most the SPAWN_DEPTH views then in the making. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "node/spawn.h"
#include "supervisor/sup.h"

static size_t node_nops(const struct plan *p, size_t index)
{
	return p->nodes[index].nmounts + p->nodes[index].ncmds;
}

int initview_prepare(struct sup *s, nlab_error **err)
{
	size_t most = 1, page = (size_t)sysconf(_SC_PAGESIZE);

	for (size_t i = 0; i < s->nnodes; i++)
		if (node_nops(&s->plan, s->nodes[i].index) > most)
			most = node_nops(&s->plan, s->nodes[i].index);
	s->view_ops = most;
	s->view_size = (sizeof(struct init_view) + most * sizeof(struct plan_op) + page - 1) & ~(page - 1);
	/* Written for every node: in memory the inits do not inherit. */
	s->views = spawner_table_alloc(SPAWN_DEPTH * sizeof(*s->views), err);
	return s->views ? 0 : -1;
}

void initview_hide(struct sup *s, struct spawner *sp)
{
	const struct topology *t = s->t;

	spawner_hide(sp, t->nodes.v, t->nodes.n * sizeof(*t->nodes.v));
	spawner_hide(sp, t->links.v, t->links.n * sizeof(*t->links.v));
	spawner_hide(sp, t->switches.v, t->switches.n * sizeof(*t->switches.v));
	spawner_hide(sp, t->expects.v, t->expects.n * sizeof(*t->expects.v));
	spawner_hide(sp, s->plan.ops, s->plan.nops * sizeof(*s->plan.ops));
	spawner_hide(sp, s->plan.nodes, t->nodes.n * sizeof(*s->plan.nodes));
	spawner_hide(sp, s->plan.fw.rules, s->plan.fw.n * sizeof(*s->plan.fw.rules));
	spawner_hide(sp, s->by_index, t->nodes.n * sizeof(*s->by_index));
	spawner_hide(sp, s->st.nodes, s->nnodes * sizeof(*s->st.nodes));
}

struct init_view *initview_fill(struct sup *s, const struct sup_node *sn, nlab_error **err)
{
	size_t slot = SPAWN_DEPTH;

	/* spawner_full() keeps at most SPAWN_DEPTH nodes in the making. */
	for (size_t i = 0; i < SPAWN_DEPTH && slot == SPAWN_DEPTH; i++)
		if (!s->views[i])
			slot = i;
	if (slot == SPAWN_DEPTH) {
		nlab_error_set(err, EBUSY, "no free view for an init");
		return NULL;
	}
	struct init_view *v = mmap(NULL, s->view_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (v == MAP_FAILED) {
		nlab_error_set(err, errno, "map a view for an init");
		return NULL;
	}
	const struct plan_node_ops *no = &s->plan.nodes[sn->index];
	v->owner = sn;
	v->node = *sn->tn;
	memcpy(v->ops, &s->plan.ops[no->mounts], no->nmounts * sizeof(*v->ops));
	memcpy(v->ops + no->nmounts, &s->plan.ops[no->cmds], no->ncmds * sizeof(*v->ops));
	v->no = (struct plan_node_ops){ .mounts = 0, .nmounts = no->nmounts, .cmds = no->nmounts, .ncmds = no->ncmds };
	v->plan = s->plan;
	v->plan.ops = v->ops;
	v->plan.nops = no->nmounts + no->ncmds;
	v->plan.nodes = &v->no;
	v->arg = (struct init_arg){ .s = s,
				    .tn = &v->node,
				    .index = 0,
				    .uid_base = sn->uid_base,
				    .gid_base = sn->gid_base,
				    .tmpl = nodetmpl_fits(s, sn->tn, sn->index) };
	s->views[slot] = v;
	return v;
}

void initview_release(struct sup *s, const struct sup_node *sn)
{
	for (size_t i = 0; sn && i < SPAWN_DEPTH; i++)
		if (s->views[i] && s->views[i]->owner == sn) {
			munmap(s->views[i], s->view_size);
			s->views[i] = NULL;
		}
}

void initview_free(struct sup *s)
{
	for (size_t i = 0; s->views && i < SPAWN_DEPTH; i++)
		if (s->views[i]) {
			munmap(s->views[i], s->view_size);
			s->views[i] = NULL;
		}
}
