#include "topo/model.h"

#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strutil.h"

/* Open addressing over (kind, index) of every node and switch, filled
 * lazily: the vectors only ever grow, so entries are added for the names
 * pushed since the last lookup.  Keeps `check` linear in the lab size
 * (name_taken per declaration, two lookups per link). */
struct name_slot {
	uint32_t hash;
	uint32_t ref;           /* 0 = empty, else (index << 1 | is_switch) + 1 */
};

struct topo_name_index {
	struct name_slot *slots;
	size_t cap, used;       /* cap is a power of two */
	size_t nnodes, nswitches;
};

static void kv_free(struct topo_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

static void node_free(struct topo_node *n)
{
	free(n->name);
	free(n->hostname);
	free(n->addrs.v);
	free(n->routes.v);
	kv_free(n->sysctls.v, n->sysctls.n);
	kv_free(n->envs.v, n->envs.n);
	for (size_t i = 0; i < n->cmds.n; i++)
		free(n->cmds.v[i].text);
	free(n->cmds.v);
	for (size_t i = 0; i < n->afters.n; i++)
		free(n->afters.v[i].name);
	free(n->afters.v);
	for (size_t i = 0; i < n->files.n; i++)
		free(n->files.v[i].dir);
	free(n->files.v);
	free(n->nats.v);
	free(n->fw.v);
	free(n->ifaces.v);
	free(n->user);
	free(n->group);
	free(n->rootfs);
	for (size_t i = 0; i < n->mounts.n; i++) {
		free(n->mounts.v[i].src);
		free(n->mounts.v[i].dst);
	}
	free(n->mounts.v);
}

void topo_free(struct topology *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nodes.n; i++)
		node_free(&t->nodes.v[i]);
	free(t->nodes.v);
	for (size_t i = 0; i < t->switches.n; i++)
		free(t->switches.v[i].name);
	free(t->switches.v);
	for (size_t i = 0; i < t->links.n; i++) {
		free(t->links.v[i].a.name);
		free(t->links.v[i].b.name);
	}
	free(t->links.v);
	for (size_t i = 0; i < t->expects.n; i++) {
		struct topo_expect *e = &t->expects.v[i];
		free(e->node);
		free(e->text);
		free(e->dst);
		free(e->cmd);
	}
	free(t->expects.v);
	topo_machines_clear(t);
	for (size_t i = 0; i < t->places.n; i++) {
		free(t->places.v[i].node);
		free(t->places.v[i].machine);
	}
	free(t->places.v);
	topo_span_free(t);
	if (t->index)
		free(t->index->slots);
	free(t->index);
	free(t->file);
	free(t->dir);
	free(t->name);
	free(t);
}

void topo_machines_clear(struct topology *t)
{
	for (size_t i = 0; i < t->machines.n; i++) {
		free(t->machines.v[i].name);
		free(t->machines.v[i].user);
		free(t->machines.v[i].host);
	}
	free(t->machines.v);
	memset(&t->machines, 0, sizeof(t->machines));
}

void topo_span_free(struct topology *t)
{
	struct topo_span *s = t->span;

	if (!s)
		return;
	free(s->node_machine);
	free(s->link_machine);
	free(s->switch_on);
	free(s->link_vni);
	free(s->switch_vni);
	free(s->machine_nodes);
	free(s->underlay);
	free(s);
	t->span = NULL;
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void index_put(struct name_slot *slots, size_t cap, uint32_t hash, uint32_t ref)
{
	size_t k = hash & (cap - 1);

	while (slots[k].ref)
		k = (k + 1) & (cap - 1);
	slots[k] = (struct name_slot){ .hash = hash, .ref = ref };
}

static bool index_add(struct topo_name_index *x, const char *name, size_t idx, bool is_switch)
{
	if (!name)
		return true;
	if ((x->used + 1) * 2 > x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 64;
		struct name_slot *ns = calloc(cap, sizeof(*ns));
		if (!ns)
			return false;
		for (size_t k = 0; k < x->cap; k++)
			if (x->slots[k].ref)
				index_put(ns, cap, x->slots[k].hash, x->slots[k].ref);
		free(x->slots);
		x->slots = ns;
		x->cap = cap;
	}
	index_put(x->slots, x->cap, name_hash(name), (uint32_t)((idx << 1 | is_switch) + 1));
	x->used++;
	return true;
}

/* The index up to date with t, or NULL (out of memory: callers scan). */
static struct topo_name_index *name_index(const struct topology *t)
{
	/* Logically const: the index is a cache of t's own names. */
	struct topology *mt = (struct topology *)t;
	struct topo_name_index *x = mt->index;

	if (!x) {
		x = mt->index = calloc(1, sizeof(*x));
		if (!x)
			return NULL;
	}
	if (x->nnodes > t->nodes.n || x->nswitches > t->switches.n) {
		/* Shrunk behind our back: start over. */
		free(x->slots);
		memset(x, 0, sizeof(*x));
	}
	for (; x->nnodes < t->nodes.n; x->nnodes++)
		if (!index_add(x, t->nodes.v[x->nnodes].name, x->nnodes, false))
			return NULL;
	for (; x->nswitches < t->switches.n; x->nswitches++)
		if (!index_add(x, t->switches.v[x->nswitches].name, x->nswitches, true))
			return NULL;
	return x;
}

static void *index_find(const struct topology *t, const char *name, bool is_switch)
{
	struct topo_name_index *x = name_index(t);

	if (!x) {
		if (is_switch) {
			for (size_t i = 0; i < t->switches.n; i++)
				if (t->switches.v[i].name && strcmp(t->switches.v[i].name, name) == 0)
					return &t->switches.v[i];
		} else {
			for (size_t i = 0; i < t->nodes.n; i++)
				if (t->nodes.v[i].name && strcmp(t->nodes.v[i].name, name) == 0)
					return &t->nodes.v[i];
		}
		return NULL;
	}
	if (!x->cap)
		return NULL;
	uint32_t h = name_hash(name);
	for (size_t k = h & (x->cap - 1); x->slots[k].ref; k = (k + 1) & (x->cap - 1)) {
		uint32_t ref = x->slots[k].ref - 1;
		if (x->slots[k].hash != h || (bool)(ref & 1) != is_switch)
			continue;
		size_t idx = ref >> 1;
		const char *n = is_switch ? t->switches.v[idx].name : t->nodes.v[idx].name;
		if (n && strcmp(n, name) == 0)
			return is_switch ? (void *)&t->switches.v[idx] : (void *)&t->nodes.v[idx];
	}
	return NULL;
}

struct topo_node *topo_find_node(const struct topology *t, const char *name)
{
	return index_find(t, name, false);
}

struct topo_switch *topo_find_switch(const struct topology *t, const char *name)
{
	return index_find(t, name, true);
}

const char *topo_nearest_name(const struct topology *t, const char *name, bool nodes, bool switches)
{
	size_t n = (nodes ? t->nodes.n : 0) + (switches ? t->switches.n : 0), k = 0;
	/* The budget is the topology's own bookkeeping, not its content. */
	size_t *work = &((struct topology *)t)->suggest_work;

	if (*work + n > TOPO_SUGGEST_WORK)
		return NULL;
	*work += n;
	const char **names = calloc(n + 1, sizeof(*names));
	const char *near;

	if (!names)
		return NULL;
	for (size_t i = 0; nodes && i < t->nodes.n; i++)
		if (t->nodes.v[i].name && !t->nodes.v[i].is_host)
			names[k++] = t->nodes.v[i].name;
	for (size_t i = 0; switches && i < t->switches.n; i++)
		if (t->switches.v[i].name)
			names[k++] = t->switches.v[i].name;
	near = str_nearest(name, names, k);
	free(names);
	return near;
}

struct topo_node *topo_host_node(const struct topology *t)
{
	for (size_t i = 0; i < t->nodes.n; i++)
		if (t->nodes.v[i].is_host)
			return &t->nodes.v[i];
	return NULL;
}

const struct topo_iface *topo_node_iface(const struct topo_node *n, const char *ifname)
{
	for (size_t i = 0; i < n->ifaces.n; i++)
		if (strcmp(n->ifaces.v[i].ifname, ifname) == 0)
			return &n->ifaces.v[i];
	return NULL;
}

size_t topo_count_nodes(const struct topology *t)
{
	size_t c = 0;

	for (size_t i = 0; i < t->nodes.n; i++)
		if (!t->nodes.v[i].is_host)
			c++;
	return c;
}

const char *topo_chain_name(enum topo_chain c)
{
	switch (c) {
	case TOPO_CHAIN_INPUT:
		return "input";
	case TOPO_CHAIN_OUTPUT:
		return "output";
	case TOPO_CHAIN_FORWARD:
		return "forward";
	default:
		return "?";
	}
}

bool topo_node_userns(const struct topology *t, const struct topo_node *n)
{
	return !t->userns_off && !n->userns_off;
}

struct topo_pos topo_node_ipv6_pos(const struct topology *t, const struct topo_node *n)
{
	return n->ipv6_set ? n->ipv6_pos : t->ipv6_pos;
}

int topo_expect_family(const struct topology *t, const struct topo_expect *e)
{
	const struct topo_node *src = topo_find_node(t, e->node);

	return e->family ? e->family : src && src->ipv6_off ? AF_INET : 0;
}

int topo_lab_name_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	/* A leading '-' would read as an option on every command line. */
	if (len == 0 || len > NLAB_NAME_MAX || name[0] == '-')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) || name[i] == '-'))
			return 0;
	return 1;
}

bool topo_object_name_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len > NLAB_NAME_MAX || !isalpha((unsigned char)name[0]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '_')
			return false;
	return true;
}

void topo_default_lab_name(const char *path, char *buf, size_t len)
{
	const char *base = strrchr(path, '/');
	size_t o = 0;

	base = base ? base + 1 : path;
	for (const char *s = base; *s && o + 1 < len && o < NLAB_NAME_MAX; s++) {
		if (strcmp(s, ".topo") == 0)
			break;
		unsigned char c = (unsigned char)*s;
		if ((c & 0xC0) == 0x80)
			continue; /* rest of a multibyte character: one '-' for it */
		if (o == 0 && !(isalnum(c) && c < 0x80))
			continue; /* no leading '-' (topo_lab_name_valid) */
		buf[o++] = isalnum(c) && c < 0x80 ? (char)tolower(c) : '-';
	}
	/* No '-' at either end: "<stdin>" gives "stdin", and a lab name
	 * never reads as an option ("netlab down -x"). */
	while (o > 0 && buf[o - 1] == '-')
		o--;
	size_t skip = 0;
	while (skip < o && buf[skip] == '-')
		skip++;
	memmove(buf, buf + skip, o - skip);
	o -= skip;
	if (o == 0 && len > 3)
		o = (size_t)snprintf(buf, len, "lab");
	buf[o] = '\0';
}

bool topo_node_dhcp(const struct topo_node *n, const char *ifname)
{
	for (size_t i = 0; i < n->cmds.n; i++)
		if (n->cmds.v[i].kind == TOPO_CMD_DHCP && (!ifname || !strcmp(n->cmds.v[i].ifname, ifname)))
			return true;
	return false;
}
