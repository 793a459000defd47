/* The sections of the plan made node by node (plan.h): each node's
 * interfaces up, shaping, addresses, routes, sysctls and rules
 * (configure), the host's (host) and each node's lines (commands). */
#include <stdio.h>
#include <string.h>

#include "plan/build_int.h"
#include "plan/firewall.h"
#include "topo/span.h"

static int emit_rules(struct builder *b, int ns, const struct topo_node *n)
{
	struct fw_ruleset *rs = &b->p->fw;
	size_t r0 = rs->n, p0 = rs->npolicies;

	if (!n->fw.n && !n->nats.n && !(n->is_host && n->forward))
		return 0;
	if (fw_ruleset_add(rs, b->p->t, n, b->p->lab, b->err) < 0)
		return -1;
	for (size_t i = r0; i < rs->n; i++) {
		struct plan_op *op = emit(b, OP_FW_RULE, ns, rs->rules[i].line);
		if (!op)
			return -1;
		op->fw = i;
	}
	for (size_t i = p0; i < rs->npolicies; i++) {
		struct plan_op *op = emit(b, OP_FW_POLICY, ns, rs->policies[i].line);
		if (!op)
			return -1;
		op->fw = i;
	}
	return 0;
}

/* Addresses and routes of node n (or of the host, whose interfaces are
 * found by name when applied). */
static int emit_addresses_routes(struct builder *b, int ns, const struct topo_node *n)
{
	struct plan_op *op;

	for (size_t i = 0; i < n->addrs.n; i++) {
		const struct topo_ipaddr *a = &n->addrs.v[i];
		if (!(op = emit(b, OP_ADDR, ns, a->pos.line)))
			return -1;
		memcpy(op->iface.ifname, a->ifname, sizeof(op->iface.ifname));
		op->iface.ifindex = plan_node_ifindex(n, a->ifname);
		op->iface.addr = a;
	}
	for (size_t i = 0; i < n->routes.n; i++) {
		const struct topo_route *rt = &n->routes.v[i];
		if (!(op = emit(b, OP_ROUTE, ns, rt->pos.line)))
			return -1;
		memcpy(op->iface.ifname, rt->dev, sizeof(op->iface.ifname));
		op->iface.ifindex = rt->dev[0] ? plan_node_ifindex(n, rt->dev) : 0;
		op->iface.route = rt;
	}
	return 0;
}

/* Whether node n has an interface its OP_VETH did not raise. */
static bool raised_later(const struct topology *t, const struct topo_node *n)
{
	for (size_t k = 0; k < n->ifaces.n; k++)
		if (!link_created_up(t, n->ifaces.v[k].link))
			return true;
	return false;
}

/* lo and the interfaces of node ns that their OP_VETH did not raise. */
static int emit_link_ups(struct builder *b, int ns, const struct topo_node *n)
{
	const struct topology *t = b->p->t;
	struct plan_op *op;

	if (!(op = emit(b, OP_LINK_UP, ns, 0)))
		return -1;
	op->iface.ifindex = 1;
	snprintf(op->iface.ifname, sizeof(op->iface.ifname), "lo");
	for (size_t k = 0; k < n->ifaces.n; k++) {
		if (link_created_up(t, n->ifaces.v[k].link))
			continue;       /* raised by its OP_VETH */
		if (!(op = emit(b, OP_LINK_UP, ns, t->links.v[n->ifaces.v[k].link].pos.line)))
			return -1;
		memcpy(op->iface.ifname, n->ifaces.v[k].ifname, sizeof(op->iface.ifname));
		op->iface.ifindex = plan_node_ifindex(n, n->ifaces.v[k].ifname);
	}
	return 0;
}

/* `forward`: both families' forwarding sysctls, at its line. */
static int emit_forward(struct builder *b, int ns, const struct topo_node *n)
{
	if (!n->forward)
		return 0;
	if (emit_sysctl(b, ns, n->forward_pos.line, "net.ipv4.ip_forward", "1", false) < 0 ||
	    emit_sysctl(b, ns, n->forward_pos.line, "net.ipv6.conf.all.forwarding", "1", false) < 0)
		return -1;
	return 0;
}

int build_configure(struct builder *b)
{
	const struct topology *t = b->p->t;

	/* First every node-to-node link up, all nodes in a row, then the
	 * rest node by node.  A veth end made down sits in the kernel's
	 * link-watch list until it runs, and every carrier change makes the
	 * kernel walk that whole list (__linkwatch_run_queue(), interrupts
	 * off): raised between other nodes' addresses and routes, a
	 * 10,000-router chain's ends made that walk 10,000 times over a list
	 * of up to 20,000 (docs/scale.md). */
	for (size_t i = 0; i < t->nodes.n; i++) {
		const struct topo_node *n = &t->nodes.v[i];
		if (!n->is_host && topo_span_node_here(t, i) && raised_later(t, n) && emit_link_ups(b, (int)i, n) < 0)
			return -1;
	}
	for (size_t i = 0; i < t->nodes.n; i++) {
		const struct topo_node *n = &t->nodes.v[i];
		int ns = (int)i;
		if (n->is_host || !topo_span_node_here(t, i))
			continue;
		if (!raised_later(t, n) && emit_link_ups(b, ns, n) < 0)
			return -1;
		for (size_t k = 0; k < n->ifaces.n; k++) {
			struct plan_end pe = { .ns = ns };
			memcpy(pe.name, n->ifaces.v[k].ifname, sizeof(pe.name));
			pe.ifindex = plan_node_ifindex(n, pe.name);
			if (emit_shape(b, ns, n->ifaces.v[k].link, n->ifaces.v[k].end, &pe) < 0)
				return -1;
		}
		if (emit_addresses_routes(b, ns, n) < 0)
			return -1;
		if (emit_forward(b, ns, n) < 0)
			return -1;
		for (size_t k = 0; k < n->sysctls.n; k++)
			if (emit_sysctl(b, ns, n->sysctls.v[k].pos.line, n->sysctls.v[k].key, n->sysctls.v[k].value,
					false) < 0)
				return -1;
		/* Firewall and NAT after forwarding and before any command. */
		if (emit_rules(b, ns, n) < 0)
			return -1;
	}
	return 0;
}

int build_host(struct builder *b)
{
	const struct topology *t = b->p->t;
	const struct topo_node *h = topo_host_node(t);
	struct plan_op *op;

	int here_end;
	if (!h || !topo_span_node_here(t, (size_t)(h - t->nodes.v)))
		return 0;
	for (size_t i = 0; i < t->links.n; i++) {
		const struct topo_link *l = &t->links.v[i];
		if (topo_span_link_here(t, i, &here_end) != 1)
			continue;
		for (int w = 0; w < 2; w++) {
			const struct topo_end *e = w ? &l->b : &l->a;
			if (e->kind != TOPO_END_HOST || l->mode != TOPO_LINK_VETH)
				continue;
			if (!(op = emit(b, OP_LINK_UP, PLAN_NS_HOST, l->pos.line)))
				return -1;
			memcpy(op->iface.ifname, e->ifname, sizeof(op->iface.ifname));
			struct plan_end pe = { .ns = PLAN_NS_HOST };
			memcpy(pe.name, e->ifname, sizeof(pe.name));
			if (emit_shape(b, PLAN_NS_HOST, i, w, &pe) < 0)
				return -1;
		}
	}
	if (emit_addresses_routes(b, PLAN_NS_HOST, h) < 0)
		return -1;
	if (emit_forward(b, PLAN_NS_HOST, h) < 0)
		return -1;
	if ((h->forward || h->nats.n) && emit_rules(b, PLAN_NS_HOST, h) < 0)
		return -1;
	return 0;
}

static enum plan_op_kind line_kind(enum topo_cmd_kind k)
{
	switch (k) {
	case TOPO_CMD_RUN:
		return OP_RUN;
	case TOPO_CMD_WAIT:
		return OP_WAIT;
	case TOPO_CMD_DHCP:
		return OP_DHCP;
	case TOPO_CMD_EXEC:
	default:
		return OP_EXEC;
	}
}

int build_commands(struct builder *b)
{
	const struct topology *t = b->p->t;

	for (size_t i = 0; i < t->nodes.n; i++) {
		const struct topo_node *n = &t->nodes.v[i];
		struct plan_node_ops *no = &b->p->nodes[i];
		if (n->is_host || !topo_span_node_here(t, i))
			continue;
		no->afters = b->p->nops;
		for (size_t k = 0; k < n->afters.n; k++) {
			struct plan_op *op = emit(b, OP_AFTER, (int)i, n->afters.v[k].pos.line);
			if (!op)
				return -1;
			op->after = n->afters.v[k].index;
		}
		no->nafters = n->afters.n;
		no->cmds = b->p->nops;
		for (size_t k = 0; k < n->cmds.n; k++) {
			const struct topo_cmd *c = &n->cmds.v[k];
			struct plan_op *op = emit(b, line_kind(c->kind), (int)i, c->pos.line);
			if (!op)
				return -1;
			op->cmd = c;
		}
		no->ncmds = n->cmds.n;
	}
	return 0;
}
