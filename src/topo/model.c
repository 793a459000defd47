#include "topo/model.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "topo/lexer.h"

void *topo_vec_push(void **v, size_t *n, size_t *cap, size_t elem)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 4;
		void *nv = realloc(*v, nc * elem);
		if (!nv)
			return NULL;
		*v = nv;
		*cap = nc;
	}
	void *p = (char *)*v + (*n)++ * elem;
	memset(p, 0, elem);
	return p;
}

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
	for (size_t i = 0; i < t->broken_names.n; i++)
		free(t->broken_names.v[i]);
	free(t->broken_names.v);
	lexer_free_lines(t->lines, t->nlines);
	free(t->file);
	free(t->dir);
	free(t->name);
	free(t);
}

struct topo_node *topo_find_node(const struct topology *t, const char *name)
{
	for (size_t i = 0; i < t->nodes.n; i++)
		if (strcmp(t->nodes.v[i].name, name) == 0)
			return &t->nodes.v[i];
	return NULL;
}

struct topo_switch *topo_find_switch(const struct topology *t, const char *name)
{
	for (size_t i = 0; i < t->switches.n; i++)
		if (strcmp(t->switches.v[i].name, name) == 0)
			return &t->switches.v[i];
	return NULL;
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

bool topo_name_broken(const struct topology *t, const char *name)
{
	for (size_t i = 0; i < t->broken_names.n; i++)
		if (strcmp(t->broken_names.v[i], name) == 0)
			return true;
	return false;
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

const char *topo_action_name(enum topo_action a)
{
	switch (a) {
	case TOPO_ACT_ACCEPT:
		return "accept";
	case TOPO_ACT_DROP:
		return "drop";
	case TOPO_ACT_REJECT:
		return "reject";
	default:
		return "?";
	}
}

const char *topo_proto_name(int proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	default:
		return "any";
	}
}

bool topo_node_userns(const struct topology *t, const struct topo_node *n)
{
	return !t->userns_off && !n->userns_off;
}
