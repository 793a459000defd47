/* Mistakes that only show across nodes: a student's lab that `check`
 * used to pass and that then silently drops packets.
 *
 *   - a route's gateway that is no address of any node in the lab;
 *   - a gateway node with two links or more (a router), or a node with
 *     `firewall forward` rules, without `forward`;
 *   - `route default dev IFACE` (IPv4) on a node that has only IPv6.
 *
 * Warnings, not errors: an `exec` line may add the address or turn on
 * forwarding, and netlab cannot see that.  (A link-local gateway without
 * `dev` is an error, in validate.c's route checks.) */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo/addr.h"
#include "topo/validate_int.h"

struct owner {
	int family;
	const uint8_t *addr;
	const struct topo_node *node;
};

static int owner_cmp(const void *x, const void *y)
{
	const struct owner *a = x, *b = y;

	if (a->family != b->family)
		return a->family - b->family;
	return memcmp(a->addr, b->addr, addr_len(a->family));
}

/* Every address of the lab, sorted: a 1000-host range asks for its
 * gateway 1000 times. */
static struct owner *owners_of(const struct topology *t, size_t *n)
{
	size_t total = 0, k = 0;

	for (size_t i = 0; i < t->nodes.n; i++)
		total += t->nodes.v[i].addrs.n;
	struct owner *o = calloc(total + 1, sizeof(*o));
	if (!o)
		return NULL;
	for (size_t i = 0; i < t->nodes.n; i++)
		for (size_t j = 0; j < t->nodes.v[i].addrs.n; j++) {
			const struct topo_ipaddr *a = &t->nodes.v[i].addrs.v[j];
			o[k++] = (struct owner){ a->cidr.family, a->cidr.addr, &t->nodes.v[i] };
		}
	qsort(o, k, sizeof(*o), owner_cmp);
	*n = k;
	return o;
}

static const struct topo_node *owner_find(const struct owner *o, size_t n, int family, const uint8_t *addr)
{
	struct owner key = { family, addr, NULL };
	const struct owner *hit = bsearch(&key, o, n, sizeof(*o), owner_cmp);

	return hit ? hit->node : NULL;
}

/* A host route to an address of the gateway itself needs no forwarding:
 * the packets end there. */
static bool ends_at(const struct topo_route *r, const struct topo_node *gw)
{
	if (r->is_default || r->dst.prefixlen != (int)addr_len(r->dst.family) * 8)
		return false;
	for (size_t i = 0; i < gw->addrs.n; i++)
		if (gw->addrs.v[i].cidr.family == r->dst.family &&
		    addr_equal(r->dst.family, gw->addrs.v[i].cidr.addr, r->dst.addr))
			return true;
	return false;
}

/* Only routes whose gateway passed validate.c's subnet check: one that
 * did not was reported there. */
static bool on_subnet(const struct topo_node *n, const struct topo_route *r)
{
	for (size_t i = 0; i < n->addrs.n; i++) {
		const struct topo_ipaddr *a = &n->addrs.v[i];
		if ((!r->dev[0] || strcmp(r->dev, a->ifname) == 0) && cidr_contains(&a->cidr, r->dst.family, r->via))
			return true;
	}
	return false;
}

static void check_gateways(const struct topology *t, struct diags *d)
{
	size_t n = 0;
	struct owner *o = owners_of(t, &n);
	/* One warning per gateway node that does not forward, at the first
	 * route through it: thirty hosts with the same default route are
	 * one mistake. */
	bool *warned = calloc(t->nodes.n + 1, sizeof(*warned));

	if (!o || !warned)
		goto out;
	for (size_t i = 0; i < t->nodes.n; i++) {
		const struct topo_node *src = &t->nodes.v[i];
		/* The host's gateways are usually on the machine's own
		 * network, which the file does not describe. */
		if (src->is_host)
			continue;
		for (size_t j = 0; j < src->routes.n; j++) {
			const struct topo_route *r = &src->routes.v[j];
			char gw[64];

			if (!r->has_via || (r->dst.family == AF_INET6 && addr_is_v6_linklocal(r->via)) ||
			    !on_subnet(src, r))
				continue;
			addr_format(r->dst.family, r->via, gw, sizeof(gw));
			const struct topo_node *g = owner_find(o, n, r->dst.family, r->via);
			if (!g) {
				diag_warn(d, r->via_pos,
					  "gateway %s is no address of any node in the lab: nothing will answer for it "
					  "(give the router an 'ip IFACE %s/LEN', or correct the gateway)",
					  gw, gw);
				continue;
			}
			size_t gi = (size_t)(g - t->nodes.v);
			/* A router is a gateway with two links or more; a host
			 * at the end of a chain may well be some router's
			 * default gateway without forwarding anything. */
			if (g == src || g->forward || g->is_host || g->ifaces.n < 2 || warned[gi] || ends_at(r, g))
				continue;
			warned[gi] = true;
			diag_warn(d, r->via_pos,
				  "gateway %s is node '%s', which does not forward: it drops what it should route "
				  "(add 'forward' to node '%s')",
				  gw, g->name, g->name);
			diag_note(d, g->pos, "node '%s' is defined here", g->name);
		}
	}
out:
	free(o);
	free(warned);
}

static void check_node(const struct topo_node *n, struct diags *d)
{
	bool v4 = false, v6 = false;

	if (n->is_host)
		return;
	if (!n->forward)
		for (size_t i = 0; i < n->fw.n; i++)
			if (n->fw.v[i].chain == TOPO_CHAIN_FORWARD) {
				diag_warn(d, n->fw.v[i].pos,
					  "node '%s' has 'firewall forward' rules but does not forward: no packet ever "
					  "reaches its forward chain (add 'forward')",
					  n->name);
				break;
			}
	for (size_t i = 0; i < n->addrs.n; i++) {
		v4 |= n->addrs.v[i].cidr.family == AF_INET;
		v6 |= n->addrs.v[i].cidr.family == AF_INET6;
	}
	if (v4 || !v6)
		return;
	for (size_t i = 0; i < n->routes.n; i++) {
		const struct topo_route *r = &n->routes.v[i];
		if (r->is_default && r->dst.family == AF_INET && !r->has_via && r->dev[0])
			diag_warn(d, r->pos,
				  "'route default dev %s' is the IPv4 default route, but node '%s' has only IPv6 "
				  "addresses: for IPv6 write 'route ::/0 dev %s'",
				  r->dev, n->name, r->dev);
	}
}

void validate_lab(const struct topology *t, struct diags *d)
{
	check_gateways(t, d);
	for (size_t i = 0; i < t->nodes.n; i++)
		check_node(&t->nodes.v[i], d);
}
