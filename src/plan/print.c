/* `netlab up --dry-run`: the plan as text (grouped by where each
 * operation happens) and as JSON. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"
#include "topo/addr.h"
#include "util/schema.h"

static const char *where_name(const struct plan *p, int ns)
{
	if (ns == PLAN_NS_LAB)
		return "lab";
	if (ns == PLAN_NS_HOST)
		return "host";
	return p->t->nodes.v[ns].name;
}

static void end_text(const struct plan *p, const struct plan_end *e, char *buf, size_t len)
{
	if (e->ns == PLAN_NS_LAB)
		snprintf(buf, len, "(lab) %s#%d", e->name, e->ifindex);
	else if (e->ns == PLAN_NS_HOST)
		snprintf(buf, len, "host:%s", e->name);
	else
		snprintf(buf, len, "%s:%s#%d", p->t->nodes.v[e->ns].name, e->name, e->ifindex);
}

static void node_text(const struct topology *t, const struct topo_node *n, char *buf, size_t len)
{
	bool userns = topo_node_userns(t, n);
	int k = snprintf(buf, len, "namespaces %snet uts mnt pid ipc cgroup%s; %s",
			 userns ? "user (own 65536-ID slot) + " : "",
			 n->has_boottime || n->has_monotonic ? " time" : "",
			 n->rootfs ? "root: " : "root: the host's tree with private /tmp /run /proc /sys");
	if (k < 0 || (size_t)k >= len)
		return;
	if (n->rootfs)
		k += snprintf(buf + k, len - (size_t)k, "%s (pivot_root)", n->rootfs);
	if (!userns && (size_t)k < len)
		k += snprintf(buf + k, len - (size_t)k, "; userns off: node root is host root");
	if (n->ipv6_off && (size_t)k < len)
		k += snprintf(buf + k, len - (size_t)k, "; ipv6 off");
	if (n->hostname && (size_t)k < len)
		k += snprintf(buf + k, len - (size_t)k, "; hostname %s", n->hostname);
	if (n->has_user && (size_t)k < len)
		k += snprintf(buf + k, len - (size_t)k, "; commands run as %s%s%s", n->user, n->group ? ":" : "",
			      n->group ? n->group : "");
	if (n->cpu_millis && (size_t)k < len)
		k += snprintf(buf + k, len - (size_t)k, "; cpu %u.%03u", n->cpu_millis / 1000, n->cpu_millis % 1000);
	if (n->memory_bytes && (size_t)k < len)
		k += snprintf(buf + k, len - (size_t)k, "; memory %llu bytes", (unsigned long long)n->memory_bytes);
	if (n->pids_max == TOPO_PIDS_UNLIMITED && (size_t)k < len)
		k += snprintf(buf + k, len - (size_t)k, "; pids max");
	else if (n->pids_max && (size_t)k < len)
		k += snprintf(buf + k, len - (size_t)k, "; pids %u", n->pids_max);
	if (n->has_boottime && (size_t)k < len)
		k += snprintf(buf + k, len - (size_t)k, "; boottime %llds", (long long)n->boottime_s);
	if (n->has_monotonic && (size_t)k < len)
		snprintf(buf + k, len - (size_t)k, "; monotonic %llds", (long long)n->monotonic_s);
}

static void route_text(const struct plan_op *op, char *buf, size_t len)
{
	const struct topo_route *rt = op->iface.route;
	char dst[64] = "default", via[INET6_ADDRSTRLEN] = "";

	if (!rt->is_default)
		cidr_format(&rt->dst, dst, sizeof(dst));
	if (rt->has_via)
		addr_format(rt->dst.family, rt->via, via, sizeof(via));
	snprintf(buf, len, "route %s%s%s%s%s%s", rt->is_default && rt->dst.family == AF_INET6 ? "-6 " : "", dst,
		 rt->has_via ? " via " : "", via, rt->dev[0] ? " dev " : "", rt->dev);
}

/* "tbf rate 20mbit burst 25000 limit 150000 + bpf loss 1%": the kinds
 * of kernel objects, as `tc` would list them. */
static void shape_text(const struct plan_op *op, char *buf, size_t len)
{
	const struct nlab_shape *sh = &op->shape.shape;
	char v[96];
	size_t o = 0;
	int n;

	buf[0] = '\0';
	if (sh->rate_bps) {
		struct nlab_shape r = { .rate_bps = sh->rate_bps };
		nlab_shape_format(&r, v, sizeof(v));
		n = snprintf(buf, len, "tbf %s burst %u limit %u", v, nlab_shape_burst(sh), nlab_shape_limit(sh));
		o = n > 0 && (size_t)n < len ? (size_t)n : 0;
	}
	if (nlab_shape_netem(sh)) {
		struct nlab_shape r = { .delay_us = sh->delay_us, .jitter_us = sh->jitter_us, .loss_ppm = sh->loss_ppm };
		nlab_shape_format(&r, v, sizeof(v));
		n = snprintf(buf + o, len - o, "%snetem %s (needs sch_netem)", o ? " + " : "", v);
		o += n > 0 && (size_t)n < len - o ? (size_t)n : 0;
	}
	if (nlab_shape_bpf_loss(sh)) {
		struct nlab_shape r = { .loss_ppm = sh->loss_ppm };
		nlab_shape_format(&r, v, sizeof(v));
		snprintf(buf + o, len - o, "%sclsact + bpf %s", o ? " + " : "", v);
	}
}

/* "m2 (10.77.0.2)": a machine and its underlay address when known. */
static void machine_text(const struct topology *t, int m, char *buf, size_t len)
{
	const struct topo_underlay *u = t->span ? &t->span->underlay[m] : NULL;
	char a[64];

	if (m < 0 || (size_t)m >= t->machines.n) {
		snprintf(buf, len, "?");
		return;
	}
	if (u && u->family) {
		addr_format(u->family, u->addr, a, sizeof(a));
		snprintf(buf, len, "%s (%s)", t->machines.v[m].name, a);
	} else {
		snprintf(buf, len, "%s", t->machines.v[m].name);
	}
}

static void vxlan_text(const struct plan *p, const struct plan_op *op, char *buf, size_t len)
{
	const struct topology *t = p->t;
	char a[96], m[96];
	unsigned port = t->span && t->span->port ? t->span->port : 4789;

	machine_text(t, op->vxlan.remote, m, sizeof(m));
	end_text(p, &op->vxlan.end, a, sizeof(a));
	if (op->kind == OP_FLOOD) {
		snprintf(buf, len, "%s (switch %s) also floods to %s", a, t->switches.v[op->vxlan.sw].name, m);
	} else if (op->vxlan.link == SIZE_MAX) {
		snprintf(buf, len, "vxlan %s, port of switch %s: VNI %u to %s, udp %u, mtu %d, up", a,
			 t->switches.v[op->vxlan.sw].name, op->vxlan.vni, m, port, op->vxlan.mtu);
	} else {
		const struct topo_link *l = &t->links.v[op->vxlan.link];
		const struct topo_end *far = op->vxlan.end.ns == l->a.index && !strcmp(op->vxlan.end.name, l->a.ifname)
						     ? &l->b
						     : &l->a;
		snprintf(buf, len, "vxlan %s to %s:%s on %s: VNI %u, udp %u, mtu %d", a, far->name, far->ifname, m,
			 op->vxlan.vni, port, op->vxlan.mtu);
	}
}

/* One operation as a line of text (also the "text" of its JSON). */
static void op_text(const struct plan *p, const struct plan_op *op, char *buf, size_t len)
{
	const struct topology *t = p->t;
	char a[96], b[96];

	switch (op->kind) {
	case OP_NODE:
		node_text(t, op->node, buf, len);
		break;
	case OP_MOUNT:
		if (op->mount->tmpfs && op->mount->size)
			snprintf(buf, len, "tmpfs %s size %llu", op->mount->dst, (unsigned long long)op->mount->size);
		else if (op->mount->tmpfs)
			snprintf(buf, len, "tmpfs %s", op->mount->dst);
		else
			snprintf(buf, len, "bind %s on %s%s", op->mount->src, op->mount->dst, op->mount->ro ? " ro" : "");
		break;
	case OP_BRIDGE:
		snprintf(buf, len, "bridge %s#%d for switch %s, %s", op->bridge.name, op->bridge.ifindex,
			 t->switches.v[op->bridge.sw].name,
			 op->bridge.snoop ? "IGMP/MLD snooping" : "multicast flooded");
		break;
	case OP_QUERIER:
		snprintf(buf, len, "IGMP/MLD querier on %s (switch %s)", op->bridge.name,
			 t->switches.v[op->bridge.sw].name);
		break;
	case OP_VETH:
		end_text(p, &op->veth.a, a, sizeof(a));
		end_text(p, &op->veth.b, b, sizeof(b));
		if (op->veth.mtu)
			snprintf(buf, len, "veth %s <-> %s, mtu %d%s", a, b, op->veth.mtu, op->veth.up ? ", up" : "");
		else
			snprintf(buf, len, "veth %s <-> %s%s", a, b, op->veth.up ? ", up" : "");
		break;
	case OP_LINK_UP:
		if (op->iface.ifindex)
			snprintf(buf, len, "link %s#%d up", op->iface.ifname, op->iface.ifindex);
		else
			snprintf(buf, len, "link %s up", op->iface.ifname);
		break;
	case OP_ADDR:
		cidr_format(&op->iface.addr->cidr, a, sizeof(a));
		snprintf(buf, len, "ip %s %s", op->iface.ifname, a);
		break;
	case OP_ROUTE:
		route_text(op, buf, len);
		break;
	case OP_SYSCTL:
		snprintf(buf, len, "sysctl %s=%s%s", op->sysctl.key, op->sysctl.value,
			 op->optional ? " (where the kernel has it)" : "");
		break;
	case OP_FW_RULE:
		fw_rule_format(&p->fw.rules[op->fw], buf, len);
		break;
	case OP_FW_POLICY: {
		const struct fw_policy *pol = &p->fw.policies[op->fw];
		snprintf(buf, len, "%s -P %s %s", pol->family == AF_INET6 ? "ip6tables" : "iptables", pol->chain,
			 pol->accept ? "ACCEPT" : "DROP");
		break;
	}
	case OP_EXEC:
	case OP_RUN:
		snprintf(buf, len, "%s %s", op->kind == OP_EXEC ? "exec" : "run", op->cmd->text);
		break;
	case OP_WAIT:
		switch (op->cmd->wait) {
		case TOPO_WAIT_TCP:
		case TOPO_WAIT_UDP:
			snprintf(buf, len, "wait until %s port %d is bound (at most %u s)",
				 op->cmd->wait == TOPO_WAIT_TCP ? "tcp" : "udp", op->cmd->port, op->cmd->timeout_s);
			break;
		case TOPO_WAIT_FILE:
			snprintf(buf, len, "wait until %s exists (at most %u s)", op->cmd->text, op->cmd->timeout_s);
			break;
		case TOPO_WAIT_EXEC:
		default:
			snprintf(buf, len, "wait until `%s` succeeds (at most %u s)", op->cmd->text, op->cmd->timeout_s);
			break;
		}
		break;
	case OP_DHCP:
		snprintf(buf, len, "dhcp client on %s, then wait for a lease (at most %u s)", op->cmd->ifname,
			 op->cmd->timeout_s);
		break;
	case OP_AFTER:
		snprintf(buf, len, "start the lines below once node %s is ready",
			 op->after >= 0 ? t->nodes.v[op->after].name : "?");
		break;
	case OP_FILES:
		snprintf(buf, len, "files %s laid over the node's root", op->files->dir);
		break;
	case OP_HOST_MOVE:
		end_text(p, &op->hostif.to, a, sizeof(a));
		snprintf(buf, len, "move host interface %s into the node as %s (given back with its addresses at down)",
			 op->hostif.host, a);
		break;
	case OP_HOST_ATTACH:
		end_text(p, &op->hostif.to, a, sizeof(a));
		snprintf(buf, len, "move host interface %s into the lab as %s, a port of switch %s (given back at down)",
			 op->hostif.host, a, t->switches.v[t->links.v[op->hostif.link].a.kind == TOPO_END_SWITCH
							    ? t->links.v[op->hostif.link].a.index
							    : t->links.v[op->hostif.link].b.index].name);
		break;
	case OP_HOST_MACVLAN:
		end_text(p, &op->hostif.to, a, sizeof(a));
		snprintf(buf, len, "macvlan child of host interface %s as %s", op->hostif.host, a);
		break;
	case OP_QDISC: {
		char sh[256];
		shape_text(op, sh, sizeof(sh));
		if (op->shape.ifindex)
			snprintf(buf, len, "shape %s#%d egress: %s", op->shape.ifname, op->shape.ifindex, sh);
		else
			snprintf(buf, len, "shape %s egress: %s", op->shape.ifname, sh);
		break;
	}
	case OP_VXLAN:
	case OP_FLOOD:
		vxlan_text(p, op, buf, len);
		break;
	case OP_CAPTURE:
		snprintf(buf, len, "capture %s#%d into %s/%s (pcap, while the lab runs)", op->shape.ifname,
			 op->shape.ifindex, p->capture_dir ? p->capture_dir : ".", op->shape.file);
		break;
	default:
		snprintf(buf, len, "?");
		break;
	}
}

static const char *base_name(const char *file)
{
	const char *b = file ? strrchr(file, '/') : NULL;

	return b ? b + 1 : file ? file : "?";
}

static void print_op(const struct plan *p, const struct plan_op *op, FILE *out)
{
	char text[1200];

	op_text(p, op, text, sizeof(text));
	if (op->line)
		fprintf(out, "  %-64s %s:%d\n", text, base_name(p->t->file), op->line);
	else
		fprintf(out, "  %s\n", text);
}

void plan_print(const struct plan *p, FILE *out)
{
	const struct topology *t = p->t;
	/* Operations by where they happen, kept in plan order: one pass to
	 * count, one to place (labs have thousands of nodes). */
	size_t ngroups = t->nodes.n + 2, *count = calloc(ngroups + 1, sizeof(size_t));
	size_t *order = calloc(p->nops + 1, sizeof(size_t));

	/* The nodes this plan makes (a machine's part makes some). */
	size_t nn = 0;
	for (size_t i = p->sec[PLAN_SEC_NODES]; i < p->sec[PLAN_SEC_NODES + 1]; i++)
		nn += p->ops[i].kind == OP_NODE;
	fprintf(out, "lab %s (%s): %zu node%s, %zu switch%s, %zu link%s; %zu operations\n", p->lab, t->file, nn,
		nn == 1 ? "" : "s", p->nbridges, p->nbridges == 1 ? "" : "es",
		p->nveths, p->nveths == 1 ? "" : "s", p->nops);
	if (!count || !order) {
		free(count);
		free(order);
		return;
	}
#define GROUP(ns) (((ns) == PLAN_NS_LAB ? 0 : (ns) == PLAN_NS_HOST ? ngroups - 1 : (size_t)(ns) + 1))
	for (size_t i = 0; i < p->nops; i++)
		count[GROUP(p->ops[i].ns) + 1]++;
	for (size_t g = 1; g <= ngroups; g++)
		count[g] += count[g - 1];
	for (size_t i = 0; i < p->nops; i++)
		order[count[GROUP(p->ops[i].ns)]++] = i;
	/* count[g] is now the end of group g. */
	for (size_t g = 0, at = 0; g < ngroups; at = count[g++]) {
		if (at == count[g])
			continue;
		if (g == 0)
			fprintf(out, "\nlab namespace (switches; private to the lab)\n");
		else if (g == ngroups - 1)
			fprintf(out, "\nhost (the namespace netlab runs in: each change is journaled in state.json and "
				     "undone by down%s)\n",
				p->ntunnels ? "; tunnels are only made from here, for their UDP socket, and go with the lab" : "");
		else
			fprintf(out, "\nnode %-59s %s:%d\n", t->nodes.v[g - 1].name, base_name(t->file),
				t->nodes.v[g - 1].pos.line);
		for (size_t k = at; k < count[g]; k++)
			print_op(p, &p->ops[order[k]], out);
	}
#undef GROUP
	free(count);
	free(order);
}

static const char *section_of(const struct plan *p, size_t i)
{
	for (int s = 0; s < PLAN_NSECTIONS; s++)
		if (i < p->sec[s + 1])
			return plan_section_name((enum plan_section)s);
	return "?";
}

json_object *plan_json(const struct plan *p)
{
	json_object *o = json_object_new_object(), *ops = json_object_new_array();
	char text[1200];

	json_object_object_add(o, "schema", json_object_new_string(NETLAB_JSON_SCHEMA));
	json_object_object_add(o, "kind", json_object_new_string("plan"));
	json_object_object_add(o, "lab", json_object_new_string(p->lab));
	json_object_object_add(o, "topology", json_object_new_string(p->t->file));
	json_object_object_add(o, "nodes", json_object_new_int64((int64_t)topo_count_nodes(p->t)));
	json_object_object_add(o, "switches", json_object_new_int64((int64_t)p->nbridges));
	json_object_object_add(o, "links", json_object_new_int64((int64_t)p->nveths));
	for (size_t i = 0; i < p->nops; i++) {
		const struct plan_op *op = &p->ops[i];
		json_object *j = json_object_new_object();
		json_object_object_add(j, "section", json_object_new_string(section_of(p, i)));
		json_object_object_add(j, "op", json_object_new_string(plan_op_name(op->kind)));
		json_object_object_add(j, "where", json_object_new_string(where_name(p, op->ns)));
		if (op->line)
			json_object_object_add(j, "line", json_object_new_int(op->line));
		op_text(p, op, text, sizeof(text));
		json_object_object_add(j, "text", json_object_new_string(text));
		json_object_array_add(ops, j);
	}
	json_object_object_add(o, "operations", ops);
	return o;
}
