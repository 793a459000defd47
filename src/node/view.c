/* Packing a node's view and placing it (node/view.h).  The two halves
 * name the same fields: a pointer packed here and not placed there would
 * be an offset used as an address. */
#include "node/view.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/nodefs.h"

#define VIEW_MAGIC 0x6e6c6162766965ULL /* "nlabvie" */

/* ---- packing (the supervisor) ----------------------------------------- */

struct packer {
	char *p;
	size_t len, cap;
	bool full;
};

/* len bytes of src (zeros for NULL) at the next 16-byte boundary: their
 * offset, or 0 once the block is full. */
static size_t put(struct packer *k, const void *src, size_t len)
{
	size_t off = (k->len + 15) & ~(size_t)15;

	if (k->full || off + len > k->cap) {
		k->full = true;
		return 0;
	}
	if (off + len > k->len)
		memset(k->p + k->len, 0, off + len - k->len);
	if (src && len)
		memcpy(k->p + off, src, len);
	k->len = off + len;
	return off;
}

static void *as_ptr(size_t off)
{
	return (void *)(uintptr_t)off;
}

static char *put_str(struct packer *k, const char *s)
{
	return s ? as_ptr(put(k, s, strlen(s) + 1)) : NULL;
}

static void *put_at(struct packer *k, size_t off)
{
	return k->full ? NULL : k->p + off;
}

static void pack_node(struct packer *k, struct topo_node *dst, const struct topo_node *n)
{
	*dst = (struct topo_node){
		.name = put_str(k, n->name),
		.pos = n->pos,
		.is_host = n->is_host,
		.hostname = put_str(k, n->hostname),
		.forward = n->forward,
		.userns_off = n->userns_off,
		.ipv6_set = n->ipv6_set,
		.ipv6_off = n->ipv6_off,
		.has_user = n->has_user,
		.user = put_str(k, n->user),
		.group = put_str(k, n->group),
		.rootfs = put_str(k, n->rootfs),
		.has_boottime = n->has_boottime,
		.has_monotonic = n->has_monotonic,
		.boottime_s = n->boottime_s,
		.monotonic_s = n->monotonic_s,
		.cpu_millis = n->cpu_millis,
		.memory_bytes = n->memory_bytes,
		.pids_max = n->pids_max,
	};
	size_t envs = put(k, NULL, n->envs.n * sizeof(*n->envs.v));
	struct topo_kv *kv = put_at(k, envs);
	for (size_t i = 0; kv && i < n->envs.n; i++) {
		kv[i] = (struct topo_kv){ .pos = n->envs.v[i].pos };
		kv[i].key = put_str(k, n->envs.v[i].key);
		kv[i].value = put_str(k, n->envs.v[i].value);
	}
	dst->envs.v = as_ptr(envs);
	dst->envs.n = dst->envs.cap = n->envs.n;
}

/* One of the node's operations, with what it points to. */
static int pack_op(struct packer *k, struct plan_op *dst, const struct plan_op *op, nlab_error **err)
{
	*dst = *op;
	switch (op->kind) {
	case OP_MOUNT: {
		size_t off = put(k, op->mount, sizeof(*op->mount));
		struct topo_mount *m = put_at(k, off);
		if (m) {
			m->src = put_str(k, op->mount->src);
			m->dst = put_str(k, op->mount->dst);
		}
		dst->mount = as_ptr(off);
		return 0;
	}
	case OP_FILES: {
		size_t off = put(k, op->files, sizeof(*op->files));
		struct topo_files *f = put_at(k, off);
		if (f)
			f->dir = put_str(k, op->files->dir);
		dst->files = as_ptr(off);
		return 0;
	}
	case OP_EXEC:
	case OP_RUN:
	case OP_WAIT:
	case OP_DHCP: {
		size_t off = put(k, op->cmd, sizeof(*op->cmd));
		struct topo_cmd *c = put_at(k, off);
		if (c)
			c->text = put_str(k, op->cmd->text);
		dst->cmd = as_ptr(off);
		return 0;
	}
	default:
		return nlab_error_set(err, EINVAL, "a node's view cannot hold a %s operation", plan_op_name(op->kind));
	}
}

struct node_view *node_view_pack(const struct node_spec *spec, const struct node_view_make *make, size_t *size,
				 nlab_error **err)
{
	const struct plan_node_ops *no = &spec->plan->nodes[spec->index];
	struct packer k = { .cap = NODE_VIEW_MAX };

	/* Reserved, not touched: only what the view fills costs memory. */
	k.p = malloc(NODE_VIEW_MAX);
	if (!k.p) {
		nlab_error_set(err, ENOMEM, "a node's view");
		return NULL;
	}
	put(&k, NULL, sizeof(struct node_view));
	struct node_view *v = (struct node_view *)k.p;
	v->magic = VIEW_MAGIC;
	v->make = (struct node_view_make){ .userns = make->userns, .setgroups_deny = make->setgroups_deny,
					   .tmpl = make->tmpl, .uid_base = make->uid_base, .gid_base = make->gid_base,
					   .id_size = make->id_size, .ncgroups = make->ncgroups };
	for (size_t i = 0; i < make->ncgroups && i < SPAWN_MAX_CGROUPS; i++)
		v->make.cgroups[i] = put_str(&k, make->cgroups[i]);

	v->t = (struct topology){ .file = put_str(&k, spec->t->file), .dir = put_str(&k, spec->t->dir),
				  .userns_off = spec->t->userns_off };
	pack_node(&k, &v->node, spec->node);

	size_t nops = no->nmounts + no->ncmds;
	size_t ops = put(&k, NULL, nops * sizeof(struct plan_op));
	struct plan_op *op = put_at(&k, ops);
	for (size_t i = 0; op && i < nops; i++) {
		size_t from = i < no->nmounts ? no->mounts + i : no->cmds + (i - no->nmounts);
		if (pack_op(&k, &op[i], &spec->plan->ops[from], err) < 0) {
			free(k.p);
			return NULL;
		}
	}
	v->no = (struct plan_node_ops){ .mounts = 0, .nmounts = no->nmounts, .cmds = no->nmounts, .ncmds = no->ncmds };
	v->plan = (struct plan){ .t = as_ptr(offsetof(struct node_view, t)),
				 .lab = put_str(&k, spec->plan->lab),
				 .ops = as_ptr(ops),
				 .nops = nops,
				 .nodes = as_ptr(offsetof(struct node_view, no)) };

	size_t tops = put(&k, spec->tops, spec->ntops * sizeof(*spec->tops));
	v->spec = *spec;
	v->spec.t = as_ptr(offsetof(struct node_view, t));
	v->spec.plan = as_ptr(offsetof(struct node_view, plan));
	v->spec.node = as_ptr(offsetof(struct node_view, node));
	v->spec.index = 0;
	v->spec.lab = put_str(&k, spec->lab);
	v->spec.lab_dir = put_str(&k, spec->lab_dir);
	v->spec.tops = spec->tops ? as_ptr(tops) : NULL;
	v->spec.hosts_path = put_str(&k, spec->hosts_path);
	v->spec.alternatives_path = put_str(&k, spec->alternatives_path);
	v->spec.ctl_fd = 3;
	v->spec.log_fd = 4;
	if (k.full) {
		free(k.p);
		nlab_error_set(err, E2BIG, "node %s: its view is larger than %u MiB", spec->node->name, NODE_VIEW_MAX >> 20);
		return NULL;
	}
	v->size = k.len;
	*size = k.len;
	/* Give back what it did not use. */
	char *p = realloc(k.p, k.len);
	return (struct node_view *)(p ? p : k.p);
}

/* ---- placing (the spawner) ------------------------------------------- */

struct placer {
	char *base;
	size_t size;
	bool bad;
};

/* The address of an offset to n items of `each` bytes inside the block
 * (NULL stays NULL); a reference outside it marks the block bad. */
static void *at(struct placer *pl, const void *p, size_t n, size_t each)
{
	uintptr_t off = (uintptr_t)p;

	if (!off)
		return NULL;
	if (off > pl->size || (each && n > (pl->size - off) / each)) {
		pl->bad = true;
		return NULL;
	}
	return pl->base + off;
}

static char *str_at(struct placer *pl, const char *p)
{
	char *s = at(pl, p, 1, 1);

	if (s && !memchr(s, 0, pl->size - (size_t)(s - pl->base)))
		pl->bad = true;
	return s;
}

#define PLACE(pl, field, n) ((field) = at((pl), (field), (n), sizeof(*(field))))
#define PLACE_STR(pl, field) ((field) = str_at((pl), (field)))

static void place_node(struct placer *pl, struct topo_node *n)
{
	PLACE_STR(pl, n->name);
	PLACE_STR(pl, n->hostname);
	PLACE_STR(pl, n->user);
	PLACE_STR(pl, n->group);
	PLACE_STR(pl, n->rootfs);
	PLACE(pl, n->envs.v, n->envs.n);
	for (size_t i = 0; n->envs.v && i < n->envs.n; i++) {
		PLACE_STR(pl, n->envs.v[i].key);
		PLACE_STR(pl, n->envs.v[i].value);
	}
}

static void place_op(struct placer *pl, struct plan_op *op)
{
	switch (op->kind) {
	case OP_MOUNT:
		if (PLACE(pl, op->mount, 1)) {
			struct topo_mount *m = (struct topo_mount *)op->mount;
			PLACE_STR(pl, m->src);
			PLACE_STR(pl, m->dst);
		}
		break;
	case OP_FILES:
		if (PLACE(pl, op->files, 1))
			PLACE_STR(pl, ((struct topo_files *)op->files)->dir);
		break;
	case OP_EXEC:
	case OP_RUN:
	case OP_WAIT:
	case OP_DHCP:
		if (PLACE(pl, op->cmd, 1))
			PLACE_STR(pl, ((struct topo_cmd *)op->cmd)->text);
		break;
	default:
		pl->bad = true;
	}
}

int node_view_place(struct node_view *v, size_t size)
{
	struct placer pl = { .base = (char *)v, .size = size };

	if (size < sizeof(*v) || v->magic != VIEW_MAGIC || v->size != size || v->make.ncgroups > SPAWN_MAX_CGROUPS)
		return -1;
	for (size_t i = 0; i < v->make.ncgroups; i++)
		PLACE_STR(&pl, v->make.cgroups[i]);
	PLACE_STR(&pl, v->t.file);
	PLACE_STR(&pl, v->t.dir);
	place_node(&pl, &v->node);
	PLACE(&pl, v->plan.t, 1);
	PLACE_STR(&pl, v->plan.lab);
	PLACE(&pl, v->plan.ops, v->plan.nops);
	PLACE(&pl, v->plan.nodes, 1);
	for (size_t i = 0; v->plan.ops && i < v->plan.nops && !pl.bad; i++)
		place_op(&pl, &v->plan.ops[i]);
	struct node_spec *s = &v->spec;
	PLACE(&pl, s->t, 1);
	PLACE(&pl, s->plan, 1);
	PLACE(&pl, s->node, 1);
	PLACE_STR(&pl, s->lab);
	PLACE_STR(&pl, s->lab_dir);
	PLACE(&pl, s->tops, s->ntops);
	PLACE_STR(&pl, s->hosts_path);
	PLACE_STR(&pl, s->alternatives_path);
	if (v->no.nmounts + v->no.ncmds != v->plan.nops || s->index != 0)
		pl.bad = true;
	return pl.bad ? -1 : 0;
}
