#include "plan/plan.h"

#include <stdlib.h>
#include <string.h>

bool plan_link_created_up(const struct topology *t, size_t link)
{
	const struct topo_link *l = &t->links.v[link];

	return l->a.kind == TOPO_END_SWITCH || l->b.kind == TOPO_END_SWITCH;
}

int plan_node_ifindex(const struct topo_node *n, const char *ifname)
{
	if (strcmp(ifname, "lo") == 0)
		return 1;
	for (size_t i = 0; i < n->ifaces.n; i++)
		if (strcmp(n->ifaces.v[i].ifname, ifname) == 0)
			return n->is_host ? 0 : (int)i + 2;
	return 0;
}

static void end_of(const struct topology *t, const struct lab_plan *p, const struct topo_end *e, size_t li,
		   char side, int *next_lab_ifindex, struct plan_end *out)
{
	memset(out, 0, sizeof(*out));
	switch (e->kind) {
	case TOPO_END_SWITCH:
		/* Lab-side names only need to be unique inside the lab's own
		 * namespace; short and derived from the link number. */
		out->ns = PLAN_NS_LAB;
		snprintf(out->name, sizeof(out->name), "v%u%c", (unsigned)(li % 10000000), side);
		out->ifindex = (*next_lab_ifindex)++;
		out->master = p->bridges[e->index].ifindex;
		break;
	case TOPO_END_HOST:
		out->ns = PLAN_NS_HOST;
		memcpy(out->name, e->ifname, sizeof(out->name));
		break;
	case TOPO_END_NODE:
	default:
		out->ns = e->index;
		memcpy(out->name, e->ifname, sizeof(out->name));
		out->ifindex = plan_node_ifindex(&t->nodes.v[e->index], e->ifname);
		break;
	}
}

int plan_build(const struct topology *t, struct lab_plan *p)
{
	int next = 2; /* lab namespace: lo is 1 */

	memset(p, 0, sizeof(*p));
	p->bridges = calloc(t->switches.n + 1, sizeof(*p->bridges));
	p->links = calloc(t->links.n + 1, sizeof(*p->links));
	if (!p->bridges || !p->links) {
		plan_free(p);
		return -1;
	}
	for (size_t i = 0; i < t->switches.n; i++) {
		snprintf(p->bridges[i].name, sizeof(p->bridges[i].name), "br%u", (unsigned)(i % 10000000));
		p->bridges[i].ifindex = next++;
	}
	p->nbridges = t->switches.n;
	for (size_t i = 0; i < t->links.n; i++) {
		const struct topo_link *l = &t->links.v[i];
		struct plan_link *pl = &p->links[p->nlinks++];
		struct plan_end a, b;

		end_of(t, p, &l->a, i, 'a', &next, &a);
		end_of(t, p, &l->b, i, 'b', &next, &b);
		/* The main device is created where the socket is (or moved by
		 * IFLA_NET_NS_FD); only it can be enslaved in the same
		 * request, and the kernel honours a peer ifindex only when the
		 * main one is requested too: put the end that needs those
		 * first. */
		bool swap = (b.master && !a.master) || (a.ifindex == 0 && b.ifindex != 0);
		pl->link = i;
		pl->a = swap ? b : a;
		pl->b = swap ? a : b;
		pl->mtu = l->mtu;
	}
	return 0;
}

void plan_free(struct lab_plan *p)
{
	free(p->bridges);
	free(p->links);
	memset(p, 0, sizeof(*p));
}

static const char *ns_name(const struct topology *t, int ns)
{
	if (ns == PLAN_NS_LAB)
		return "(lab)";
	if (ns == PLAN_NS_HOST)
		return "(host)";
	return t->nodes.v[ns].name;
}

void plan_print(const struct topology *t, const struct lab_plan *p, FILE *out)
{
	fprintf(out, "lab %s: %zu nodes, %zu bridges, %zu veth pairs\n", t->name, topo_count_nodes(t), p->nbridges,
		p->nlinks);
	for (size_t i = 0; i < p->nbridges; i++)
		fprintf(out, "  bridge %-15s ifindex %-4d switch %s\n", p->bridges[i].name, p->bridges[i].ifindex,
			t->switches.v[i].name);
	for (size_t i = 0; i < p->nlinks; i++) {
		const struct plan_link *l = &p->links[i];
		fprintf(out, "  veth   %s:%s#%d <-> %s:%s#%d", ns_name(t, l->a.ns), l->a.name, l->a.ifindex,
			ns_name(t, l->b.ns), l->b.name, l->b.ifindex);
		if (l->mtu)
			fprintf(out, " mtu %d", l->mtu);
		fprintf(out, "  (line %d)\n", t->links.v[l->link].pos.line);
	}
}
