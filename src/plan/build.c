/* Topology -> the ordered list of operations (plan.h).  Pure: no kernel
 * access, so `up --dry-run` shows exactly what `up` will do. */
#include "plan/plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/build_int.h"
#include "topo/span.h"

static const char *const section_names[PLAN_NSECTIONS] = {
	[PLAN_SEC_NODES] = "nodes",
	[PLAN_SEC_LINKS] = "links",
	[PLAN_SEC_CONFIGURE] = "configure",
	[PLAN_SEC_HOST] = "host",
	[PLAN_SEC_COMMANDS] = "commands",
};

const char *plan_section_name(enum plan_section s)
{
	return s < PLAN_NSECTIONS ? section_names[s] : "?";
}

const char *plan_op_name(enum plan_op_kind k)
{
	switch (k) {
	case OP_NODE:
		return "node";
	case OP_MOUNT:
		return "mount";
	case OP_BRIDGE:
		return "bridge";
	case OP_VETH:
		return "veth";
	case OP_QUERIER:
		return "querier";
	case OP_LINK_UP:
		return "link-up";
	case OP_ADDR:
		return "address";
	case OP_ROUTE:
		return "route";
	case OP_SYSCTL:
		return "sysctl";
	case OP_FW_RULE:
		return "rule";
	case OP_FW_POLICY:
		return "policy";
	case OP_EXEC:
		return "exec";
	case OP_RUN:
		return "run";
	case OP_WAIT:
		return "wait";
	case OP_DHCP:
		return "dhcp";
	case OP_AFTER:
		return "after";
	case OP_FILES:
		return "files";
	case OP_HOST_MOVE:
		return "host-move";
	case OP_HOST_ATTACH:
		return "host-attach";
	case OP_HOST_MACVLAN:
		return "host-macvlan";
	case OP_QDISC:
		return "shape";
	case OP_CAPTURE:
		return "capture";
	case OP_VXLAN:
		return "vxlan";
	case OP_FLOOD:
		return "flood";
	default:
		return "?";
	}
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

/* Raising both ends in the creating exchange needs one end in the lab
 * namespace, i.e. a switch end (net/link_veth.h); the node and host ends
 * of other links are raised by their own namespace's batch. */
bool link_created_up(const struct topology *t, size_t link)
{
	const struct topo_link *l = &t->links.v[link];

	return l->a.kind == TOPO_END_SWITCH || l->b.kind == TOPO_END_SWITCH;
}


struct plan_op *emit(struct builder *b, enum plan_op_kind kind, int ns, int line)
{
	struct plan *p = b->p;

	if (p->nops == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct plan_op *v = realloc(p->ops, cap * sizeof(*v));
		if (!v) {
			nlab_error_set(b->err, ENOMEM, "plan");
			return NULL;
		}
		p->ops = v;
		p->cap = cap;
	}
	struct plan_op *op = &p->ops[p->nops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->ns = ns;
	op->line = line;
	return op;
}

int emit_sysctl(struct builder *b, int ns, int line, const char *key, const char *value, bool optional)
{
	struct plan_op *op = emit(b, OP_SYSCTL, ns, line);

	if (!op)
		return -1;
	op->sysctl.key = key;
	op->sysctl.value = value;
	op->optional = optional;
	return 0;
}

static const char *keep_string(struct builder *b, char *s)
{
	char **v = s ? realloc(b->p->strings, (b->p->nstrings + 1) * sizeof(*v)) : NULL;

	if (!v) {
		free(s);
		nlab_error_set(b->err, ENOMEM, "plan");
		return NULL;
	}
	b->p->strings = v;
	v[b->p->nstrings++] = s;
	return s;
}

void plan_link_shape(const struct topo_link *l, struct nlab_shape *out)
{
	*out = (struct nlab_shape){
		.rate_bps = l->rate_bps, .burst = (uint32_t)l->burst_bytes, .limit = (uint32_t)l->limit_bytes,
		.delay_us = l->delay_us, .jitter_us = l->jitter_us, .loss_ppm = l->loss_ppm, .mtu = l->mtu,
	};
}

/* OP_QDISC for end `which` of link li, which lives in namespace ns. */
int emit_shape(struct builder *b, int ns, size_t li, int which, const struct plan_end *pe)
{
	const struct topo_link *l = &b->p->t->links.v[li];
	struct nlab_shape sh;

	plan_link_shape(l, &sh);
	/* A host interface moved or attached has no veth ends to shape
	 * (the validator refuses impairments on such links). */
	if (nlab_shape_empty(&sh) || l->mode != TOPO_LINK_VETH)
		return 0;
	struct plan_op *op = emit(b, OP_QDISC, ns, l->pos.line);
	if (!op)
		return -1;
	memcpy(op->shape.ifname, pe->name, sizeof(op->shape.ifname));
	op->shape.ifindex = pe->ifindex;
	op->shape.link = li;
	op->shape.end = which;
	op->shape.shape = sh;
	return 0;
}

/* A link that takes a host interface instead of making a veth: the op
 * that does it (the other end's plan_end in `to`). */
static int host_interface_op(struct builder *b, size_t li, const struct plan_end *host, const struct plan_end *other)
{
	const struct topo_link *l = &b->p->t->links.v[li];
	enum plan_op_kind kind = l->mode == TOPO_LINK_MOVE ? OP_HOST_MOVE
				 : l->mode == TOPO_LINK_MACVLAN ? OP_HOST_MACVLAN
								: OP_HOST_ATTACH;
	struct plan_op *op = emit(b, kind, PLAN_NS_HOST, l->pos.line);

	if (!op)
		return -1;
	memcpy(op->hostif.host, host->name, sizeof(op->hostif.host));
	op->hostif.to = *other;
	op->hostif.link = li;
	return 0;
}

/* ---- nodes ---------------------------------------------------------- */

static int build_nodes(struct builder *b)
{
	const struct topology *t = b->p->t;

	for (size_t i = 0; i < t->nodes.n; i++) {
		const struct topo_node *n = &t->nodes.v[i];
		if (n->is_host || !topo_span_node_here(t, i))
			continue;
		struct plan_op *op = emit(b, OP_NODE, (int)i, n->pos.line);
		if (!op)
			return -1;
		op->node = n;
		/* `files` first: a `mount` may cover what they lay down. */
		b->p->nodes[i].mounts = b->p->nops;
		for (size_t k = 0; k < n->files.n; k++) {
			if (!(op = emit(b, OP_FILES, (int)i, n->files.v[k].pos.line)))
				return -1;
			op->files = &n->files.v[k];
		}
		for (size_t k = 0; k < n->mounts.n; k++) {
			if (!(op = emit(b, OP_MOUNT, (int)i, n->mounts.v[k].pos.line)))
				return -1;
			op->mount = &n->mounts.v[k];
		}
		b->p->nodes[i].nmounts = n->files.n + n->mounts.n;
	}
	return 0;
}

/* ---- the lab namespace ---------------------------------------------- */

static void end_of(struct builder *b, const struct topo_end *e, size_t li, char side, struct plan_end *out)
{
	const struct topology *t = b->p->t;

	memset(out, 0, sizeof(*out));
	switch (e->kind) {
	case TOPO_END_SWITCH:
		/* Lab-side names only need to be unique inside the lab's own
		 * namespace; short and derived from the link number. */
		out->ns = PLAN_NS_LAB;
		snprintf(out->name, sizeof(out->name), "v%u%c", (unsigned)(li % 10000000), side);
		out->ifindex = b->next_lab_ifindex++;
		out->master = b->bridge_ifindex[e->index];
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

/* The lab namespace holds only switches and the lab ends of veths: plain
 * layer 2.  Without IPv6 there, its thousand bridge ports do not each
 * send their own router solicitations and MLD reports (flooded to every
 * node: measured, a fifth of the CPU of bringing up a 1000-node star),
 * and with br_netfilter loaded on the machine, frames crossing a switch
 * do not go through this namespace's iptables.  The nodes' own IPv6 is
 * untouched.  Optional: a kernel without IPv6 or br_netfilter has nothing
 * to turn off. */
static int lab_settings(struct builder *b)
{
	static const char *const keys[] = {
		"net.ipv6.conf.default.disable_ipv6",
		"net.ipv6.conf.all.disable_ipv6",
		"net.bridge.bridge-nf-call-iptables",
		"net.bridge.bridge-nf-call-ip6tables",
		"net.bridge.bridge-nf-call-arptables",
	};
	static const char *const values[] = { "1", "1", "0", "0", "0" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (emit_sysctl(b, PLAN_NS_LAB, 0, keys[i], values[i], true) < 0)
			return -1;
	return 0;
}

/* "r1.eth1--lan": a capture file's name, from the link's ends. */
static void end_word(const struct topo_end *e, char *buf, size_t len)
{
	if (e->kind == TOPO_END_SWITCH)
		snprintf(buf, len, "%s", e->name);
	else
		snprintf(buf, len, "%s.%s", e->kind == TOPO_END_HOST ? "host" : e->name, e->ifname);
}

/* The OP_VETH of link li (build_links() emitted them in link order). */
static const struct plan_op *veth_of(const struct plan *p, size_t li)
{
	for (size_t k = p->sec[PLAN_SEC_LINKS]; k < p->nops; k++) {
		const struct plan_op *op = &p->ops[k];
		if (op->kind == OP_VETH && op->veth.link == li)
			return op;
		/* A tunnel is captured at its first end only (its machine's
		 * pcap; the other machine's would be the same packets). */
		if (op->kind == OP_VXLAN && op->vxlan.link == li) {
			const struct topo_link *l = &p->t->links.v[li];
			return op->vxlan.end.ns == l->a.index && !strcmp(op->vxlan.end.name, l->a.ifname) ? op : NULL;
		}
	}
	return NULL;
}

/* The plan_end a capture records: a veth's, or a tunnel's node end. */
static const struct plan_end *capture_end(const struct plan_op *v)
{
	if (v->kind == OP_VXLAN)
		return &v->vxlan.end;
	return v->veth.a.ns == PLAN_NS_LAB ? &v->veth.a
	       : v->veth.b.ns == PLAN_NS_LAB ? &v->veth.b
	       : v->veth.a.ns >= 0	     ? &v->veth.a
					     : &v->veth.b;
}

static bool capture_name_taken(const struct plan *p, const char *name)
{
	for (size_t k = p->sec[PLAN_SEC_LINKS]; k < p->nops; k++)
		if (p->ops[k].kind == OP_CAPTURE && p->ops[k].shape.file && strcmp(p->ops[k].shape.file, name) == 0)
			return true;
	return false;
}

/* `capture` links: one OP_CAPTURE each, on the end that sees both
 * directions from the namespace easiest to reach: a switch port in the
 * lab namespace, else a node's end.  Files are named after the link's
 * ends ("r1.eth1--lan.pcap"), in DIR/LAB-captures beside the topology. */
static int build_captures(struct builder *b)
{
	const struct topology *t = b->p->t;

	for (size_t i = 0; i < t->links.n; i++) {
		const struct topo_link *l = &t->links.v[i];
		const struct plan_op *v;
		char wa[64], wb[64], *f = NULL;
		if (!l->capture || !(v = veth_of(b->p, i)))
			continue;
		/* A tunnel's veth_of() is its OP_VXLAN here: the end in a node. */
		if (!b->p->capture_dir) {
			char *d = NULL;
			if (asprintf(&d, "%s/%s-captures", t->dir ? t->dir : ".", b->p->lab) < 0)
				d = NULL;
			if (!(b->p->capture_dir = keep_string(b, d)))
				return -1;
		}
		const struct plan_end *pe = capture_end(v);
		struct plan_op *op = emit(b, OP_CAPTURE, pe->ns, l->pos.line);
		if (!op)
			return -1;
		memcpy(op->shape.ifname, pe->name, sizeof(op->shape.ifname));
		op->shape.ifindex = pe->ifindex;
		op->shape.link = i;
		op->shape.end = -1;
		end_word(&l->a, wa, sizeof(wa));
		end_word(&l->b, wb, sizeof(wb));
		if (asprintf(&f, "%s--%s.pcap", wa, wb) < 0)
			f = NULL;
		/* Two links between the same switches: number the second. */
		for (int n = 2; f && capture_name_taken(b->p, f); n++) {
			free(f);
			if (asprintf(&f, "%s--%s-%d.pcap", wa, wb, n) < 0)
				f = NULL;
		}
		if (!(op->shape.file = keep_string(b, f)))
			return -1;
	}
	return 0;
}

/* The first machine after `part` (in turn) that has switch sw; -1. */
static int next_machine_with(const struct topology *t, size_t sw, int after)
{
	const struct topo_span *s = t->span;

	for (int m = after + 1; m < (int)s->nmachines; m++)
		if (m != s->part && s->switch_on[sw * s->nmachines + (size_t)m])
			return m;
	return -1;
}

/* Issue 18: this machine's ends of tunnels, in one batch of the host
 * namespace (where their sockets live): each spanning switch's port,
 * then each link to another machine's node; then, in the lab namespace,
 * the other machines each port also floods to. */
static int build_tunnels(struct builder *b)
{
	const struct topology *t = b->p->t;
	struct plan_op *op;
	int here_end;

	if (!t->span)
		return 0;
	for (size_t i = 0; i < t->switches.n; i++) {
		if (!topo_span_switch_here(t, i) || !topo_span_switch_spans(t, i))
			continue;
		if (!(op = emit(b, OP_VXLAN, PLAN_NS_HOST, t->switches.v[i].pos.line)))
			return -1;
		op->vxlan.end.ns = PLAN_NS_LAB;
		snprintf(op->vxlan.end.name, sizeof(op->vxlan.end.name), "vx%u", (unsigned)(i % 100000000));
		op->vxlan.end.ifindex = b->next_lab_ifindex++;
		op->vxlan.end.master = b->bridge_ifindex[i];
		op->vxlan.link = SIZE_MAX;
		op->vxlan.sw = i;
		op->vxlan.vni = topo_span_switch_vni(t, i);
		op->vxlan.remote = next_machine_with(t, i, -1);
		op->vxlan.mtu = topo_span_mtu(t);
		op->vxlan.up = true;
		b->p->ntunnels++;
	}
	for (size_t i = 0; i < t->links.n; i++) {
		const struct topo_link *l = &t->links.v[i];
		if (topo_span_link_here(t, i, &here_end) != 2)
			continue;
		const struct topo_end *e = here_end ? &l->b : &l->a, *other = here_end ? &l->a : &l->b;
		if (!(op = emit(b, OP_VXLAN, PLAN_NS_HOST, l->pos.line)))
			return -1;
		op->vxlan.end.ns = e->index;
		memcpy(op->vxlan.end.name, e->ifname, sizeof(op->vxlan.end.name));
		op->vxlan.end.ifindex = plan_node_ifindex(&t->nodes.v[e->index], e->ifname);
		op->vxlan.link = i;
		op->vxlan.vni = topo_span_link_vni(t, i);
		op->vxlan.remote = t->span->node_machine[other->index];
		op->vxlan.mtu = l->mtu ? l->mtu : topo_span_mtu(t);
		b->p->ntunnels++;
	}
	size_t end = b->p->nops;
	for (size_t k = b->p->sec[PLAN_SEC_LINKS]; k < end; k++) {
		const struct plan_op port = b->p->ops[k];
		if (port.kind != OP_VXLAN || port.vxlan.link != SIZE_MAX)
			continue;
		for (int m = next_machine_with(t, port.vxlan.sw, port.vxlan.remote); m >= 0;
		     m = next_machine_with(t, port.vxlan.sw, m)) {
			if (!(op = emit(b, OP_FLOOD, PLAN_NS_LAB, port.line)))
				return -1;
			op->vxlan = port.vxlan;
			op->vxlan.remote = m;
		}
	}
	return 0;
}


/* Switch i's querier, right after its first port: from then on the
 * nodes' membership reports reach multicast routers only instead of
 * every port (each node's few reports to every other node made a
 * 1000-node star keep both CPUs busy for seconds; at 3000 nodes, with
 * the querier only after the last port, they were a quarter of the CPU
 * of `up`; docs/topology.md).  Its first port gives the bridge carrier,
 * hence the IPv6 link-local address its queries come from. */
static int emit_querier(struct builder *b, size_t i)
{
	const struct topology *t = b->p->t;
	struct plan_op *op;

	if (b->queried[i] || t->switches.v[i].mcast_flood || !topo_span_switch_here(t, i))
		return 0;
	b->queried[i] = true;
	if (!(op = emit(b, OP_QUERIER, PLAN_NS_LAB, t->switches.v[i].pos.line)))
		return -1;
	memcpy(op->bridge.name, b->bridge_names[i], NLAB_IFNAMSIZ);
	op->bridge.ifindex = b->bridge_ifindex[i];
	op->bridge.snoop = true;
	op->bridge.sw = i;
	return 0;
}

static int build_links(struct builder *b)
{
	const struct topology *t = b->p->t;
	struct plan_op *op;

	if (lab_settings(b) < 0 || !(op = emit(b, OP_LINK_UP, PLAN_NS_LAB, 0)))
		return -1;
	op->iface.ifindex = 1;
	snprintf(op->iface.ifname, sizeof(op->iface.ifname), "lo");
	for (size_t i = 0; i < t->switches.n; i++) {
		if (!topo_span_switch_here(t, i))
			continue;
		if (!(op = emit(b, OP_BRIDGE, PLAN_NS_LAB, t->switches.v[i].pos.line)))
			return -1;
		snprintf(op->bridge.name, sizeof(op->bridge.name), "br%u", (unsigned)(i % 10000000));
		op->bridge.ifindex = b->next_lab_ifindex++;
		op->bridge.snoop = !t->switches.v[i].mcast_flood;
		op->bridge.sw = i;
		b->p->nbridges++;
		b->bridge_ifindex[i] = op->bridge.ifindex;
		memcpy(b->bridge_names[i], op->bridge.name, NLAB_IFNAMSIZ);
	}
	/* A snooping switch's querier needs an IPv6 link-local address on
	 * the bridge, made once its first port gives it carrier: IPv6 on,
	 * without duplicate address detection, before the ports. */
	for (size_t i = 0; i < t->switches.n; i++) {
		static const char *const keys[] = { "accept_dad", "disable_ipv6" };
		if (t->switches.v[i].mcast_flood || !topo_span_switch_here(t, i))
			continue;
		for (size_t k = 0; k < 2; k++) {
			char *key = NULL;
			if (asprintf(&key, "net.ipv6.conf.%s.%s", b->bridge_names[i], keys[k]) < 0)
				return nlab_error_set(b->err, ENOMEM, "plan");
			char **v = realloc(b->p->strings, (b->p->nstrings + 1) * sizeof(*v));
			if (!v) {
				free(key);
				return nlab_error_set(b->err, ENOMEM, "plan");
			}
			b->p->strings = v;
			v[b->p->nstrings++] = key;
			if (emit_sysctl(b, PLAN_NS_LAB, t->switches.v[i].pos.line, key, "0", true) < 0)
				return -1;
		}
	}
	if (build_tunnels(b) < 0)
		return -1;
	for (size_t i = 0; i < t->links.n; i++) {
		const struct topo_link *l = &t->links.v[i];
		struct plan_end a, e2;
		int here_end;

		if (topo_span_link_here(t, i, &here_end) != 1)
			continue; /* elsewhere, or a tunnel (build_tunnels) */
		end_of(b, &l->a, i, 'a', &a);
		end_of(b, &l->b, i, 'b', &e2);
		if (l->mode != TOPO_LINK_VETH) {
			bool a_host = l->a.kind == TOPO_END_HOST;
			if (host_interface_op(b, i, a_host ? &a : &e2, a_host ? &e2 : &a) < 0)
				return -1;
			continue;
		}
		if (!(op = emit(b, OP_VETH, PLAN_NS_LAB, l->pos.line)))
			return -1;
		/* The main device is created where the socket is (or moved by
		 * IFLA_NET_NS_FD); only it can be enslaved in the same
		 * request, and the kernel honours a peer ifindex only when the
		 * main one is requested too: put the end that needs those
		 * first. */
		bool swap = (e2.master && !a.master) || (a.ifindex == 0 && e2.ifindex != 0);
		op->veth.link = i;
		op->veth.a = swap ? e2 : a;
		op->veth.b = swap ? a : e2;
		op->veth.mtu = l->mtu;
		/* A port of a switch that spans machines: frames must fit its
		 * tunnel (topo_span_mtu()). */
		if (!l->mtu && ((l->a.kind == TOPO_END_SWITCH && topo_span_switch_spans(t, (size_t)l->a.index)) ||
				(l->b.kind == TOPO_END_SWITCH && topo_span_switch_spans(t, (size_t)l->b.index))))
			op->veth.mtu = topo_span_mtu(t);
		op->veth.up = link_created_up(t, i);
		b->p->nveths++;
		/* Switch ports are shaped in the lab namespace's batch, right
		 * after their creation; node and host ends with their own. */
		if ((a.ns == PLAN_NS_LAB && emit_shape(b, PLAN_NS_LAB, i, 0, &a) < 0) ||
		    (e2.ns == PLAN_NS_LAB && emit_shape(b, PLAN_NS_LAB, i, 1, &e2) < 0))
			return -1;
		if ((l->a.kind == TOPO_END_SWITCH && emit_querier(b, (size_t)l->a.index) < 0) ||
		    (l->b.kind == TOPO_END_SWITCH && emit_querier(b, (size_t)l->b.index) < 0))
			return -1;
	}
	/* The queriers of switches that got no veth port. */
	for (size_t i = 0; i < t->switches.n; i++)
		if (emit_querier(b, i) < 0)
			return -1;
	return build_captures(b);
}

/* ---- per node: interfaces, addresses, routes, sysctls, rules --------- */

int plan_build(const struct topology *t, const char *lab, struct plan *p, nlab_error **err)
{
	static int (*const sections[PLAN_NSECTIONS])(struct builder *) = {
		[PLAN_SEC_NODES] = build_nodes,
		[PLAN_SEC_LINKS] = build_links,
		[PLAN_SEC_CONFIGURE] = build_configure,
		[PLAN_SEC_HOST] = build_host,
		[PLAN_SEC_COMMANDS] = build_commands,
	};
	struct builder b = { .p = p, .err = err, .next_lab_ifindex = 2 };
	int r = 0;

	memset(p, 0, sizeof(*p));
	p->t = t;
	p->lab = lab;
	p->nodes = calloc(t->nodes.n + 1, sizeof(*p->nodes));
	b.bridge_ifindex = calloc(t->switches.n + 1, sizeof(*b.bridge_ifindex));
	b.bridge_names = calloc(t->switches.n + 1, sizeof(*b.bridge_names));
	b.queried = calloc(t->switches.n + 1, sizeof(*b.queried));
	if (!p->nodes || !b.bridge_ifindex || !b.bridge_names || !b.queried)
		r = nlab_error_set(err, ENOMEM, "plan");
	for (int s = 0; r == 0 && s < PLAN_NSECTIONS; s++) {
		p->sec[s] = p->nops;
		r = sections[s](&b);
	}
	p->sec[PLAN_NSECTIONS] = p->nops;
	free(b.bridge_ifindex);
	free(b.queried);
	free(b.bridge_names);
	if (r < 0)
		plan_free(p);
	return r;
}

void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->nstrings; i++)
		free(p->strings[i]);
	free(p->strings);
	free(p->ops);
	free(p->nodes);
	fw_ruleset_free(&p->fw);
	memset(p, 0, sizeof(*p));
}
