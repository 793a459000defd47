/* Whole-topology checks: references between statements, duplicates across
 * nodes, and the legal-but-suspicious.  Runs before any kernel change. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo/addr.h"
#include "topo/broken.h"
#include "topo/topo.h"
#include "topo/span.h"
#include "topo/validate_int.h"

/* Nodes whose interface list is incomplete because a link naming them
 * failed to parse: a missing interface on them is not reported, the
 * parse error was.  The parser marks nodes of rejected ranges
 * (topo_broken_node), check_links() those of rejected links. */
struct quiet_nodes {
	const struct topo_broken *broken;
	VEC(bool) nodes; /* by node index, added by check_links() */
};

static bool quiet_node(const struct quiet_nodes *qn, const struct topology *t, const struct topo_node *n)
{
	size_t i = (size_t)(n - t->nodes.v);

	return topo_broken_node(qn->broken, i) || (i < qn->nodes.n && qn->nodes.v[i]);
}

static const char *end_label(const struct topo_end *e, char *buf, size_t len)
{
	if (e->kind == TOPO_END_SWITCH)
		snprintf(buf, len, "%s", e->name);
	else
		snprintf(buf, len, "%s:%s", e->name, e->ifname);
	return buf;
}

static struct topo_node *ensure_host(struct topology *t, struct topo_pos pos)
{
	struct topo_node *h = topo_host_node(t);

	if (h)
		return h;
	h = VEC_PUSH(t->nodes);
	if (!h)
		return NULL;
	h->name = strdup("host");
	h->is_host = true;
	h->pos = pos;
	return h;
}

/* Resolve one link end and record the interface it creates on its node. */
static bool resolve_end(struct topology *t, struct quiet_nodes *qn, struct diags *d, size_t li, int which)
{
	const struct topo_broken *broken = qn->broken;
	struct topo_link *l = &t->links.v[li];
	struct topo_end *e = which ? &l->b : &l->a;
	struct topo_node *n = NULL;
	char lbl[80];

	switch (e->kind) {
	case TOPO_END_SWITCH: {
		struct topo_switch *s = topo_find_switch(t, e->name);
		if (s) {
			e->index = (int)(s - t->switches.v);
			s->nports++;
			return true;
		}
		if (topo_broken_name(broken, e->name))
			return false;
		const char *near = topo_nearest_name(t, e->name, false, true);
		if (topo_find_node(t, e->name))
			diag_error(d, e->pos, "'%s' is a node: name the interface too, e.g. %s:eth0", e->name, e->name);
		else if (near) {
			diag_error(d, e->pos, "link to undefined switch '%s'; did you mean '%s'?", e->name, near);
			/* Probably meant: not "no links" on top of this. */
			topo_find_switch(t, near)->nports++;
		}
		else
			diag_error(d, e->pos, "link to undefined switch '%s' (declare it with 'switch %s', or write NODE:IFACE for a node)",
				   e->name, e->name);
		return false;
	}
	case TOPO_END_HOST:
		n = ensure_host(t, e->pos);
		l = &t->links.v[li]; /* the push above may not move links, but be explicit */
		e = which ? &l->b : &l->a;
		break;
	case TOPO_END_NODE:
		n = topo_find_node(t, e->name);
		if (!n) {
			if (topo_broken_name(broken, e->name))
				return false;
			const char *near = topo_nearest_name(t, e->name, true, false);
			if (topo_find_switch(t, e->name))
				diag_error(d, e->pos, "'%s' is a switch: a switch end is written without ':IFACE'", e->name);
			else if (near) {
				diag_error(d, e->pos, "link to undefined node '%s'; did you mean '%s'?", e->name, near);
				bool *f = VEC_AT(qn->nodes, (size_t)(topo_find_node(t, near) - t->nodes.v));
				if (f)
					*f = true; /* probably meant: its interfaces are not missing */
			}
			else
				diag_error(d, e->pos, "link to undefined node '%s' (declare it with 'node %s')", e->name,
					   e->name);
			return false;
		}
		break;
	default:
		return false;
	}
	if (!n)
		return false;
	e->index = (int)(n - t->nodes.v);
	if (strcmp(e->ifname, "lo") == 0) {
		diag_error(d, e->pos, "'lo' is the loopback interface every node already has; pick another name");
		return false;
	}
	const struct topo_iface *old = topo_node_iface(n, e->ifname);
	if (old) {
		const struct topo_link *ol = &t->links.v[old->link];
		diag_error(d, e->pos, "interface %s is already used by another link", end_label(e, lbl, sizeof(lbl)));
		diag_note(d, ol->pos, "%s is first linked here", lbl);
		return false;
	}
	struct topo_iface *ifc = VEC_PUSH(n->ifaces);
	if (!ifc)
		return false;
	memcpy(ifc->ifname, e->ifname, sizeof(ifc->ifname));
	ifc->link = li;
	ifc->end = which;
	return true;
}

/* A link whose error was reported: the nodes and switches it names are
 * not told they miss an interface or are isolated (one mistake, one
 * diagnostic). */
static void quiet_link(struct topology *t, struct quiet_nodes *qn, const struct topo_link *l)
{
	for (int w = 0; w < 2; w++) {
		const struct topo_end *e = w ? &l->b : &l->a;
		struct topo_node *n = e->name ? topo_find_node(t, e->name) : NULL;
		struct topo_switch *sw = e->name ? topo_find_switch(t, e->name) : NULL;
		bool *f = n ? VEC_AT(qn->nodes, (size_t)(n - t->nodes.v)) : NULL;
		if (f)
			*f = true;
		if (sw && e->index < 0)
			sw->nports++; /* not counted by resolve_end() */
	}
}

static void check_links(struct topology *t, struct quiet_nodes *qn, struct diags *d)
{
	for (size_t i = 0; i < t->links.n; i++) {
		struct topo_link *l = &t->links.v[i];
		char lbl[80];

		if (topo_broken_link(qn->broken, i)) {
			/* The parse error was reported; still keep the
			 * interfaces it names from being called missing. */
			quiet_link(t, qn, l);
			continue;
		}
		if (l->a.kind == l->b.kind && strcmp(l->a.name, l->b.name) == 0 &&
		    strcmp(l->a.ifname, l->b.ifname) == 0) {
			if (l->a.kind == TOPO_END_SWITCH)
				diag_error(d, l->b.pos, "link connects switch '%s' to itself", l->a.name);
			else
				diag_error(d, l->b.pos, "link connects %s to itself", end_label(&l->a, lbl, sizeof(lbl)));
			continue;
		}
		if (l->a.kind == TOPO_END_HOST && l->b.kind == TOPO_END_HOST) {
			diag_error(d, l->pos, "link has both ends in the host; at least one end must be a node or switch");
			continue;
		}
		if (resolve_end(t, qn, d, i, 0) + resolve_end(t, qn, d, i, 1) < 2)
			quiet_link(t, qn, &t->links.v[i]);
	}
}

struct addr_owner {
	const struct topo_node *node;
	const struct topo_ipaddr *a;
	size_t seq;                     /* file order: the first one owns it */
};

static int owner_cmp(const void *x, const void *y)
{
	const struct addr_owner *p = x, *q = y;
	int c = p->a->cidr.family - q->a->cidr.family;

	if (!c)
		c = memcmp(p->a->cidr.addr, q->a->cidr.addr, p->a->cidr.family == AF_INET ? 4 : 16);
	if (!c)
		c = (p->seq > q->seq) - (p->seq < q->seq);
	return c;
}

/* Duplicate addresses across the lab: sorted, so a 10000-node range is
 * checked in N log N, and each duplicate names the first owner in file
 * order as a scan would. */
static void check_addresses(struct topology *t, const struct quiet_nodes *qn, struct diags *d)
{
	size_t total = 0, k = 0;

	for (size_t i = 0; i < t->nodes.n; i++)
		total += t->nodes.v[i].addrs.n;
	struct addr_owner *seen = calloc(total ? total : 1, sizeof(*seen));
	if (!seen)
		return;
	for (size_t i = 0; i < t->nodes.n; i++) {
		const struct topo_node *n = &t->nodes.v[i];
		for (size_t j = 0; j < n->addrs.n; j++) {
			const struct topo_ipaddr *a = &n->addrs.v[j];

			if (strcmp(a->ifname, "lo") != 0 && !topo_node_iface(n, a->ifname)) {
				if (quiet_node(qn, t, n))
					continue;
				diag_error(d, a->if_pos, "no link creates interface %s:%s (add 'link %s:%s SWITCH_OR_NODE:IFACE')",
					   n->name, a->ifname, n->name, a->ifname);
				continue;
			}
			if (a->cidr.prefixlen == 0) {
				diag_error(d, a->pos, "prefix /0 on an interface address makes every address local");
				continue;
			}
			seen[k] = (struct addr_owner){ n, a, k };
			k++;
		}
	}
	qsort(seen, k, sizeof(*seen), owner_cmp);
	/* Report in file order, as the user reads the file. */
	const struct addr_owner **first_of = calloc(k ? k : 1, sizeof(*first_of));
	const struct topo_ipaddr **by_seq = calloc(k ? k : 1, sizeof(*by_seq));
	const struct topo_node **node_of = calloc(k ? k : 1, sizeof(*node_of));
	if (!first_of || !by_seq || !node_of)
		goto out;
	for (size_t m = 0, first = 0; m < k; m++) {
		const struct topo_ipaddr *a = seen[m].a, *f = seen[first].a;
		if (a->cidr.family != f->cidr.family || !addr_equal(a->cidr.family, a->cidr.addr, f->cidr.addr))
			first = m;
		by_seq[seen[m].seq] = a;
		node_of[seen[m].seq] = seen[m].node;
		if (first != m)
			first_of[seen[m].seq] = &seen[first];
	}
	for (size_t q = 0; q < k; q++) {
		const struct addr_owner *f = first_of[q];
		char buf[64];

		if (!f)
			continue;
		addr_format(by_seq[q]->cidr.family, by_seq[q]->cidr.addr, buf, sizeof(buf));
		diag_error(d, by_seq[q]->pos, "duplicate address %s: already assigned to %s:%s", buf, f->node->name,
			   f->a->ifname);
		diag_note(d, f->a->pos, "first assigned here");
	}
out:
	free(first_of);
	free(by_seq);
	free(node_of);
	free(seen);
}

static bool node_has_iface(const struct topo_node *n, bool quiet, const char *ifname)
{
	/* The host's own interfaces (its uplink, say) are not in the file;
	 * `up` checks those against the running system. */
	return strcmp(ifname, "lo") == 0 || topo_node_iface(n, ifname) != NULL || quiet || n->is_host;
}

static void unknown_iface(struct diags *d, struct topo_pos pos, const struct topo_node *n, const char *ifname,
			  const char *what)
{
	char list[256] = "";
	size_t o = 0;

	for (size_t i = 0; i < n->ifaces.n && o < sizeof(list) - 20; i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", n->ifaces.v[i].ifname);
	diag_error(d, pos, "%s names interface '%s', which node '%s' does not have%s%s%s", what, ifname, n->name,
		   o ? " (it has: " : "", list, o ? ")" : "");
}

/* A node's subnets, sorted by (family, prefix length, network), so that
 * "is this gateway on one of them" is a binary search per prefix length
 * in use instead of a walk over every address: a router with tens of
 * thousands of routes must not make `check` quadratic. */
struct subnet {
	int family, prefixlen;
	uint8_t net[16];
	const char *ifname;
};

static int subnet_cmp(const void *a, const void *b)
{
	const struct subnet *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if (x->prefixlen != y->prefixlen)
		return x->prefixlen < y->prefixlen ? -1 : 1;
	return memcmp(x->net, y->net, 16);
}

struct route_index {
	struct subnet *nets;    /* every address's subnet */
	size_t nnets;
	struct subnet *addrs;   /* every address as a /128 (/32), for "own" */
	size_t naddrs;
	struct {
		int family, prefixlen;
	} lens[2 * 129];        /* the distinct (family, prefix length) in nets */
	size_t nlens;
};

static void masked(int family, const uint8_t *addr, int prefixlen, uint8_t out[16])
{
	struct topo_cidr c = { .family = family, .prefixlen = prefixlen };

	memcpy(c.addr, addr, addr_len(family));
	cidr_has_host_bits(&c, &c);
	memset(out, 0, 16);
	memcpy(out, c.addr, addr_len(family));
}

static bool route_index_build(const struct topo_node *n, struct route_index *ix)
{
	memset(ix, 0, sizeof(*ix));
	ix->nets = calloc(n->addrs.n + 1, sizeof(*ix->nets));
	ix->addrs = calloc(n->addrs.n + 1, sizeof(*ix->addrs));
	if (!ix->nets || !ix->addrs)
		return false;
	for (size_t i = 0; i < n->addrs.n; i++) {
		const struct topo_ipaddr *a = &n->addrs.v[i];
		struct subnet *sn = &ix->nets[ix->nnets++], *ad = &ix->addrs[ix->naddrs++];
		sn->family = ad->family = a->cidr.family;
		sn->prefixlen = a->cidr.prefixlen;
		ad->prefixlen = 0;
		masked(a->cidr.family, a->cidr.addr, a->cidr.prefixlen, sn->net);
		memset(ad->net, 0, 16);
		memcpy(ad->net, a->cidr.addr, addr_len(a->cidr.family));
		sn->ifname = ad->ifname = a->ifname;
	}
	if (ix->nnets)
		qsort(ix->nets, ix->nnets, sizeof(*ix->nets), subnet_cmp);
	if (ix->naddrs)
		qsort(ix->addrs, ix->naddrs, sizeof(*ix->addrs), subnet_cmp);
	for (size_t i = 0; i < ix->nnets; i++)
		if (i == 0 || subnet_cmp(&(struct subnet){ .family = ix->nets[i].family, .prefixlen = ix->nets[i].prefixlen },
					 &(struct subnet){ .family = ix->nets[i - 1].family,
							   .prefixlen = ix->nets[i - 1].prefixlen }) != 0) {
			ix->lens[ix->nlens].family = ix->nets[i].family;
			ix->lens[ix->nlens++].prefixlen = ix->nets[i].prefixlen;
		}
	return true;
}

static void route_index_free(struct route_index *ix)
{
	free(ix->nets);
	free(ix->addrs);
}

/* The first entry of v[0..n) equal to key in (family, prefixlen, net),
 * or NULL. */
static const struct subnet *subnet_find(const struct subnet *v, size_t n, const struct subnet *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (subnet_cmp(&v[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && subnet_cmp(&v[lo], key) == 0 ? &v[lo] : NULL;
}

static bool is_own_address(const struct route_index *ix, int family, const uint8_t *via)
{
	struct subnet key = { .family = family };

	memcpy(key.net, via, addr_len(family));
	return subnet_find(ix->addrs, ix->naddrs, &key) != NULL;
}

static bool gateway_reachable(const struct route_index *ix, const struct topo_route *r)
{
	for (size_t k = 0; k < ix->nlens; k++) {
		if (ix->lens[k].family != r->dst.family)
			continue;
		struct subnet key = { .family = r->dst.family, .prefixlen = ix->lens[k].prefixlen };
		masked(r->dst.family, r->via, key.prefixlen, key.net);
		const struct subnet *f = subnet_find(ix->nets, ix->nnets, &key);
		for (; f && f < ix->nets + ix->nnets && subnet_cmp(f, &key) == 0; f++)
			if (!r->dev[0] || !strcmp(r->dev, f->ifname))
				return true;
	}
	return false;
}

/* Routes in order of destination, to find duplicates by sorting. */
struct route_ref {
	const struct topo_route *r;
	size_t index;
};

static int route_key_cmp(const struct topo_route *x, const struct topo_route *y)
{
	if (x->dst.family != y->dst.family)
		return x->dst.family < y->dst.family ? -1 : 1;
	if (x->is_default != y->is_default)
		return x->is_default ? -1 : 1;
	if (x->is_default)
		return 0;
	if (x->dst.prefixlen != y->dst.prefixlen)
		return x->dst.prefixlen < y->dst.prefixlen ? -1 : 1;
	return memcmp(x->dst.addr, y->dst.addr, addr_len(x->dst.family));
}

static int route_ref_cmp(const void *a, const void *b)
{
	const struct route_ref *x = a, *y = b;
	int c = route_key_cmp(x->r, y->r);

	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

static void check_routes(const struct topo_node *n, bool quiet, struct diags *d)
{
	struct route_index ix;
	bool *dup_check = calloc(n->routes.n + 1, sizeof(*dup_check));
	struct route_ref *refs = calloc(n->routes.n + 1, sizeof(*refs));

	if (!dup_check || !refs || !route_index_build(n, &ix)) {
		free(dup_check);
		free(refs);
		route_index_free(&ix);
		return;
	}
	for (size_t i = 0; i < n->routes.n; i++) {
		const struct topo_route *r = &n->routes.v[i];
		char gw[64];

		refs[i] = (struct route_ref){ r, i };
		if (r->dev[0] && !node_has_iface(n, quiet, r->dev)) {
			unknown_iface(d, r->dev_pos, n, r->dev, "route dev");
			continue;
		}
		if (r->has_via) {
			addr_format(r->dst.family, r->via, gw, sizeof(gw));
			if (is_own_address(&ix, r->dst.family, r->via)) {
				diag_error(d, r->via_pos, "gateway %s is an address of node '%s' itself", gw, n->name);
				continue;
			}
			/* An IPv6 link-local gateway is on-link by definition
			 * once the interface is named, and meaningless before:
			 * every interface has fe80::/64. */
			if (r->dst.family == AF_INET6 && addr_is_v6_linklocal(r->via)) {
				if (!r->dev[0])
					diag_error(d, r->via_pos,
						   "gateway %s is link-local: every interface has fe80::/64, so name the one "
						   "it is on with 'dev IFACE' (route ... via %s dev eth0)",
						   gw, gw);
				continue;
			}
			if (!gateway_reachable(&ix, r) && !topo_node_dhcp(n, r->dev[0] ? r->dev : NULL)) {
				diag_error(d, r->via_pos, "gateway %s is not inside any subnet of %s%s%s", gw,
					   r->dev[0] ? "interface " : "node '", r->dev[0] ? r->dev : n->name,
					   r->dev[0] ? "" : "'");
				continue;
			}
		}
		dup_check[i] = true;
	}
	/* A duplicate is reported against the first route to the same
	 * destination, whatever that one's own faults. */
	if (n->routes.n)
		qsort(refs, n->routes.n, sizeof(*refs), route_ref_cmp);
	for (size_t k = 1, first = 0; k < n->routes.n; k++) {
		if (route_key_cmp(refs[k - 1].r, refs[k].r) != 0)
			first = k;
		if (first == k || !dup_check[refs[k].index])
			continue;
		diag_error(d, refs[k].r->pos, "duplicate route: node '%s' already has a route to this destination",
			   n->name);
		diag_note(d, refs[first].r->pos, "first route is here");
	}
	free(dup_check);
	free(refs);
	route_index_free(&ix);
}

static bool iface_has_family(const struct topo_node *n, const char *ifname, int family)
{
	for (size_t i = 0; i < n->addrs.n; i++)
		if (n->addrs.v[i].cidr.family == family && !strcmp(n->addrs.v[i].ifname, ifname))
			return true;
	return false;
}

static bool iface_has_any(const struct topo_node *n, const char *ifname)
{
	for (size_t i = 0; i < n->addrs.n; i++)
		if (!strcmp(n->addrs.v[i].ifname, ifname))
			return true;
	return false;
}

static bool node_has_family(const struct topo_node *n, int family)
{
	for (size_t i = 0; i < n->addrs.n; i++)
		if (n->addrs.v[i].cidr.family == family)
			return true;
	return false;
}

static bool on_connected_subnet(const struct topo_node *n, const struct topo_cidr *a)
{
	for (size_t i = 0; i < n->addrs.n; i++)
		if (strcmp(n->addrs.v[i].ifname, "lo") != 0 && cidr_contains(&n->addrs.v[i].cidr, a->family, a->addr))
			return true;
	return false;
}

static void check_nat_fw(const struct topo_node *n, bool quiet, struct diags *d)
{
	for (size_t i = 0; i < n->nats.n; i++) {
		const struct topo_nat *x = &n->nats.v[i];
		char buf[64];
		if (!node_has_iface(n, quiet, x->ifname)) {
			unknown_iface(d, x->if_pos, n, x->ifname, "nat");
			continue;
		}
		/* The host's interfaces are not all in the file; `up` sees them.
		 * An interface (or node) without any address in the file may
		 * get them from an `exec` line: only what the file declares is
		 * held against it. */
		if (n->is_host || quiet)
			continue;
		addr_format(x->to.family, x->to.addr, buf, sizeof(buf));
		switch (x->kind) {
		case TOPO_NAT_MASQUERADE:
			if (iface_has_any(n, x->ifname) && !iface_has_family(n, x->ifname, AF_INET))
				diag_error(d, x->if_pos,
					   "nat masquerade: interface %s of node '%s' has no IPv4 address to rewrite to",
					   x->ifname, n->name);
			break;
		case TOPO_NAT_SNAT:
			if (iface_has_any(n, x->ifname) && !iface_has_family(n, x->ifname, x->to.family))
				diag_error(d, x->if_pos,
					   "nat snat: interface %s of node '%s' has no %s address: replies to %s could not "
					   "come back through it",
					   x->ifname, n->name, x->to.family == AF_INET ? "IPv4" : "IPv6", buf);
			break;
		case TOPO_NAT_DNAT:
		default:
			if (node_has_family(n, x->to.family) && !on_connected_subnet(n, &x->to))
				diag_error(d, x->to_pos,
					   "nat dnat: %s is on no subnet connected to node '%s': the node could not "
					   "deliver the forwarded packets",
					   buf, n->name);
			break;
		}
	}
	for (size_t i = 0; i < n->fw.n; i++) {
		const struct topo_fw_rule *r = &n->fw.v[i];
		if (r->in[0] && !node_has_iface(n, quiet, r->in))
			unknown_iface(d, r->in_pos, n, r->in, "firewall 'in'");
		if (r->out[0] && !node_has_iface(n, quiet, r->out))
			unknown_iface(d, r->out_pos, n, r->out, "firewall 'out'");
	}
}

/* A node that drops all input, accepts nothing on input and runs a
 * server: nobody can reach the server (and not even replies get in). */
static void check_fw_lockout(const struct topo_node *n, struct diags *d)
{
	const struct topo_fw_rule *drop = NULL;
	bool accept = false, run = false;

	for (size_t i = 0; i < n->fw.n; i++) {
		const struct topo_fw_rule *r = &n->fw.v[i];
		if (r->chain != TOPO_CHAIN_INPUT)
			continue;
		if (r->is_policy)
			drop = r->action == TOPO_ACT_DROP ? r : NULL;
		else if (r->action == TOPO_ACT_ACCEPT)
			accept = true;
	}
	for (size_t i = 0; i < n->cmds.n; i++)
		run |= n->cmds.v[i].kind == TOPO_CMD_RUN;
	if (drop && !accept && run)
		diag_warn(d, drop->pos,
			  "node '%s' drops all input and accepts nothing on input, but runs a server: nothing can "
			  "reach it (add e.g. 'firewall input accept state established,related' and an accept "
			  "rule for its port)",
			  n->name);
}

/* Checks that need the lab-wide `userns` setting or several statements. */
static void check_isolation(const struct topology *t, const struct topo_node *n, struct diags *d)
{
	bool userns = topo_node_userns(t, n);

	/* Only IDs 0..65535 exist inside a node's user namespace. */
	if (n->has_user && userns) {
		const char *w[2] = { n->user, n->group };
		for (int i = 0; i < 2; i++)
			if (w[i] && w[i][0] >= '0' && w[i][0] <= '9' && strtoull(w[i], NULL, 10) > 65535)
				diag_error(d, n->user_pos,
					   "%s %s does not exist in the node's user namespace (IDs 0 to 65535); use a smaller ID or 'userns off'",
					   i ? "GID" : "UID", w[i]);
	}
	for (size_t i = 0; i < n->mounts.n; i++) {
		const struct topo_mount *m = &n->mounts.v[i];
		for (size_t j = 0; j < i; j++)
			if (strcmp(n->mounts.v[j].dst, m->dst) == 0) {
				diag_error(d, m->dst_pos, "'%s' is already a mount target of node '%s'", m->dst, n->name);
				diag_note(d, n->mounts.v[j].dst_pos, "first mounted here");
				break;
			}
	}
}

/* A node with `ipv6 off` (its own or the lab's) has no IPv6 on any
 * interface: an IPv6 address, route or firewall match of its own could
 * never work. */
static void ipv6_off_error(const struct topology *t, const struct topo_node *n, struct diags *d, struct topo_pos pos,
			   const char *what)
{
	diag_error(d, pos, "node '%s' has IPv6 turned off, but this %s is IPv6 (%s)", n->name, what,
		   n->ipv6_set ? "drop the node's 'ipv6 off' to keep IPv6" : "say 'ipv6 on' in the node to keep IPv6");
	diag_note(d, topo_node_ipv6_pos(t, n), "IPv6 turned off here");
}

static void check_ipv6_off(const struct topology *t, const struct topo_node *n, struct diags *d)
{
	if (!n->ipv6_off)
		return;
	for (size_t i = 0; i < n->addrs.n; i++)
		if (n->addrs.v[i].cidr.family == AF_INET6)
			ipv6_off_error(t, n, d, n->addrs.v[i].pos, "address");
	for (size_t i = 0; i < n->routes.n; i++)
		if (n->routes.v[i].dst.family == AF_INET6)
			ipv6_off_error(t, n, d, n->routes.v[i].pos, "route");
	for (size_t i = 0; i < n->nats.n; i++)
		if (n->nats.v[i].kind != TOPO_NAT_MASQUERADE && n->nats.v[i].to.family == AF_INET6)
			ipv6_off_error(t, n, d, n->nats.v[i].to_pos, "NAT address");
	for (size_t i = 0; i < n->fw.n; i++) {
		const struct topo_fw_rule *r = &n->fw.v[i];
		if ((r->has_src && r->src.family == AF_INET6) || (r->has_dst && r->dst.family == AF_INET6) ||
		    r->proto == IPPROTO_ICMPV6)
			ipv6_off_error(t, n, d, r->pos, "firewall rule");
	}
}

static void check_suspicious(const struct topology *t, const struct quiet_nodes *qn, struct diags *d)
{
	for (size_t i = 0; i < t->nodes.n; i++) {
		const struct topo_node *n = &t->nodes.v[i];
		if (n->is_host)
			continue;
		check_fw_lockout(n, d);
		if (n->ifaces.n == 0 && !quiet_node(qn, t, n))
			diag_warn(d, n->pos, "node '%s' has no links: it is isolated", n->name);
		else if (n->forward && n->ifaces.n < 2 && !quiet_node(qn, t, n))
			diag_warn(d, n->pos, "node '%s' forwards but has only one interface", n->name);
		bool has_v4 = topo_node_dhcp(n, NULL);
		for (size_t j = 0; j < n->addrs.n; j++)
			has_v4 |= n->addrs.v[j].cidr.family == AF_INET;
		for (size_t j = 0; j < n->routes.n; j++)
			if (n->routes.v[j].dst.family == AF_INET && !has_v4 && !n->routes.v[j].dev[0])
				diag_warn(d, n->routes.v[j].pos, "node '%s' has an IPv4 route but no IPv4 address", n->name);
	}
	for (size_t i = 0; i < t->switches.n; i++) {
		const struct topo_switch *s = &t->switches.v[i];
		if (s->nports == 0)
			diag_warn(d, s->pos, "switch '%s' has no links", s->name);
	}
}

int topo_validate(struct topology *t, const struct topo_broken *broken, struct diags *d)
{
	struct quiet_nodes qn = { .broken = broken };
	size_t before = d->nerrors;

	for (size_t i = 0; i < t->nodes.n; i++)
		if (!t->nodes.v[i].ipv6_set && !t->nodes.v[i].is_host)
			t->nodes.v[i].ipv6_off = t->ipv6_off;
	check_links(t, &qn, d);
	check_addresses(t, &qn, d);
	for (size_t i = 0; i < t->nodes.n; i++) {
		bool quiet = quiet_node(&qn, t, &t->nodes.v[i]);
		check_routes(&t->nodes.v[i], quiet, d);
		check_nat_fw(&t->nodes.v[i], quiet, d);
		check_isolation(t, &t->nodes.v[i], d);
		check_ipv6_off(t, &t->nodes.v[i], d);
	}
	topo_validate_lines(t, d);
	check_suspicious(t, &qn, d);
	validate_lab(t, d);
	validate_expects(t, broken, d);
	validate_places(t, broken, d);
	/* A file that names its machines is placed now, so that `check`
	 * reports what its `place` lines get wrong (`up --machines` places
	 * it again). */
	if (t->machines.n && d->nerrors == before)
		topo_span_build(t, d);
	free(qn.nodes.v);
	return d->nerrors > before ? -1 : 0;
}
