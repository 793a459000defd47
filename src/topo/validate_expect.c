/* What `expect` statements name: the node they run in and, for
 * reach/noreach, a destination that has addresses to try.  Each mistake
 * is reported once, at the word that is wrong, with "did you mean" for a
 * misspelt name; a name whose own declaration failed is not reported
 * again. */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "topo/validate_int.h"

static const char *family_name(int family)
{
	return family == AF_INET ? "IPv4 " : family == AF_INET6 ? "IPv6 " : "";
}

/* The node called name, or NULL after reporting why there is none (or
 * silently, when its declaration failed). */
static const struct topo_node *find_node(const struct topology *t, const struct topo_broken *broken, struct diags *d,
					 const char *name, struct topo_pos pos, bool is_src)
{
	const struct topo_node *n = topo_find_node(t, name);

	if (n && n->is_host) {
		diag_error(d, pos, "'host' %s: name a node of the lab",
			   is_src ? "cannot run expectations (they run inside a node)"
				  : "has no addresses netlab knows");
		return NULL;
	}
	if (n || topo_broken_name(broken, name))
		return n;
	if (topo_find_switch(t, name)) {
		diag_error(d, pos, "'%s' is a switch: %s", name,
			   is_src ? "an expectation runs in a node"
				  : "it has no address (name a node, NODE:IFACE or an address)");
		return NULL;
	}
	const char *near = topo_nearest_name(t, name, true, false);
	if (near)
		diag_error(d, pos, "expectation names undefined node '%s'; did you mean '%s'?", name, near);
	else
		diag_error(d, pos, "expectation names undefined node '%s'", name);
	return NULL;
}

static bool has_addr(const struct topo_node *n, const char *ifname, int family)
{
	for (size_t i = 0; i < n->addrs.n; i++) {
		const struct topo_ipaddr *a = &n->addrs.v[i];
		if ((!ifname || strcmp(a->ifname, ifname) == 0) && (!family || a->cidr.family == family))
			return true;
	}
	return false;
}

static void check_dst(const struct topology *t, const struct topo_broken *broken, const struct topo_expect *e,
		      const struct topo_node *src, struct diags *d)
{
	const struct topo_node *n;
	/* A node with IPv6 off tries only the destination's IPv4 addresses. */
	int family = topo_expect_family(t, e);

	if (src->ipv6_off && (e->family == AF_INET6 || (e->dst_kind == TOPO_DST_ADDR && e->addr.family == AF_INET6))) {
		diag_error(d, e->family == AF_INET6 ? e->family_pos : e->dst_pos,
			   "node '%s' has IPv6 turned off: it cannot try an IPv6 address", src->name);
		diag_note(d, topo_node_ipv6_pos(t, src), "IPv6 turned off here");
		return;
	}
	if (e->dst_kind == TOPO_DST_ADDR)
		return;
	n = find_node(t, broken, d, e->dst, e->dst_pos, false);
	if (!n || topo_broken_node(broken, (size_t)(n - t->nodes.v)))
		return;
	if (e->dst_kind == TOPO_DST_IFACE) {
		if (strcmp(e->dst_if, "lo") != 0 && !topo_node_iface(n, e->dst_if)) {
			diag_error(d, e->dst_pos, "node '%s' has no interface '%s' (no link creates it)", n->name,
				   e->dst_if);
			return;
		}
		if (!has_addr(n, e->dst_if, family))
			diag_error(d, e->dst_pos,
				   "interface %s:%s has no %saddress in the topology to try: give it one, or name an address",
				   n->name, e->dst_if, family_name(family));
		return;
	}
	if (!has_addr(n, NULL, family))
		diag_error(d, e->dst_pos,
			   "node '%s' has no %saddress in the topology to try: give it one, or name an address",
			   n->name, family_name(family));
}

void validate_expects(const struct topology *t, const struct topo_broken *broken, struct diags *d)
{
	for (size_t i = 0; i < t->expects.n; i++) {
		const struct topo_expect *e = &t->expects.v[i];
		const struct topo_node *src = find_node(t, broken, d, e->node, e->node_pos, true);

		if (src && (e->kind == TOPO_EXPECT_REACH || e->kind == TOPO_EXPECT_NOREACH))
			check_dst(t, broken, e, src, d);
	}
}
