/* Performing the plan's links, configure and host sections (plan.h).
 * Operations are taken in order; consecutive netlink operations of one
 * namespace go out as one batch (nlsock.h), so a node costs one
 * exchange for its interfaces, addresses and routes, and the lab
 * namespace one for its bridges, then one every LAB_FLUSH_EVERY
 * requests for the veths and queriers (the bridges' IPv6 settings in
 * between).  Sysctls and rules of a node are written
 * from inside its network namespace, through its own /proc. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lab/undo.h"
#include "net/address.h"
#include "net/bridge.h"
#include "net/firewall.h"
#include "net/link.h"
#include "net/link_veth.h"
#include "net/link_vxlan.h"
#include "net/bpf.h"
#include "net/netns.h"
#include "net/qdisc.h"
#include "net/route.h"
#include "net/sysctl.h"
#include "supervisor/sup.h"
#include "topo/addr.h"
#include "util/cleanup.h"

/* Where the walk is: the namespace of the current group of operations,
 * its netlink socket, and whether this thread is inside it. */
struct cursor {
	struct sup *s;
	int ns;
	bool active;
	struct nlab_nl *nl;
	bool own_nl;            /* a node's socket, closed with its group */
	int saved;              /* our own netns while inside a node's, else -1 */
	int rootfd;             /* the node's /proc/PID/root (O_PATH), or -1 */
	enum plan_section sec;
	size_t nodes_done;      /* for the progress bar of the configure phase */
	/* Loss programs (net/bpf.h) loaded for this section, one per loss
	 * value, open until its batches are flushed. */
	struct loss_prog {
		uint32_t ppm;
		int fd;
	} progs[8];
	size_t nprogs;
};

static const char *node_name(const struct sup *s, int ns)
{
	return s->t->nodes.v[ns].name;
}

static bool is_netlink(enum plan_op_kind k)
{
	return k == OP_BRIDGE || k == OP_VETH || k == OP_QUERIER || k == OP_LINK_UP || k == OP_ADDR || k == OP_ROUTE ||
	       k == OP_QDISC || k == OP_VXLAN || k == OP_FLOOD;
}

static int leave_netns(struct cursor *c, nlab_error **err)
{
	if (c->saved < 0)
		return 0;
	return nlab_netns_leave(&c->saved, err);
}

static int flush(struct cursor *c, nlab_error **err)
{
	return c->nl ? nlab_nl_flush(c->nl, err) : 0;
}

/* The end of a group: what is queued goes out, the node's socket and
 * namespace are left. */
static int group_end(struct cursor *c, nlab_error **err)
{
	int r = 0;

	if (!c->active)
		return 0;
	if (flush(c, err) < 0)
		r = -1;
	if (c->own_nl)
		nlab_nl_close(c->nl);
	c->nl = NULL;
	c->own_nl = false;
	if (leave_netns(c, r < 0 ? NULL : err) < 0)
		r = -1;
	if (c->rootfd >= 0)
		close(c->rootfd);
	c->rootfd = -1;
	c->active = false;
	if (r == 0 && c->sec == PLAN_SEC_CONFIGURE && c->ns >= 0)
		sup_progress(c->s, "configure", ++c->nodes_done, c->s->nnodes);
	return r;
}

static int socket_for(struct cursor *c, nlab_error **err)
{
	struct sup *s = c->s;

	if (c->nl)
		return 0;
	if (leave_netns(c, err) < 0)
		return -1;
	if (c->ns == PLAN_NS_LAB) {
		c->nl = s->lab_nl;
	} else if (c->ns == PLAN_NS_HOST) {
		c->nl = s->host_nl;
	} else {
		int ns = nodes_netns(s, s->by_index[c->ns], err);
		int r = ns < 0 ? -1 : nlab_nl_open_in(&c->nl, ns, err);
		if (ns >= 0)
			close(ns);
		if (r < 0)
			return nlab_error_wrap(err, "node %s", node_name(s, c->ns));
		c->own_nl = true;
	}
	return 0;
}

/* Sysctls and rules of a node are written from inside its netns, and
 * through its own root: every path below /proc/PID/root is resolved
 * inside it (RESOLVE_IN_ROOT), or a rootfs's symlink (`run -> /etc`,
 * `proc -> /`) would lead the supervisor, as host root, into the host's
 * files. */
static int enter_node(struct cursor *c, nlab_error **err)
{
	if (c->saved >= 0)
		return 0;
	if (flush(c, err) < 0)
		return -1;
	if (c->rootfd < 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/root", (int)c->s->by_index[c->ns]->pid);
		c->rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (c->rootfd < 0)
			return nlab_error_set(err, errno, "open %s", path);
	}
	int ns = nodes_netns(c->s, c->s->by_index[c->ns], err);
	if (ns < 0)
		return -1;
	int r = nlab_netns_enter(ns, &c->saved, err);
	close(ns);
	return r;
}

static void end_desc(const struct sup *s, const struct plan_end *e, char *buf, size_t len)
{
	if (e->ns == PLAN_NS_LAB)
		snprintf(buf, len, "switch");
	else if (e->ns == PLAN_NS_HOST)
		snprintf(buf, len, "host:%s", e->name);
	else
		snprintf(buf, len, "%s:%s", node_name(s, e->ns), e->name);
}

/* The namespace fd a veth end goes to, -1 for the lab's (the socket's)
 * or a node's, which goes by its init's pid (ns_pid_of): no fd per node. */
static int ns_fd_of(const struct sup *s, int ns)
{
	return ns == PLAN_NS_HOST ? s->host_netns : -1;
}

static pid_t ns_pid_of(const struct sup *s, int ns)
{
	return ns >= 0 ? s->by_index[ns]->pid : 0;
}

/* A host end is made in the lab namespace under a name and ifindex of its
 * own there ("t<link><side>", far above the plan's numbers), and moved to
 * the host by a follow-up request that renames it and marks it with the
 * alias "netlab:LAB" in the same system call.  So no host end ever exists
 * unmarked: if the supervisor dies before the move, it goes with the lab
 * namespace; after it, `down` finds it by its alias (lab/undo.h). */
#define HOST_END_TMP_IFINDEX 0x40000000

static void host_end_tmp(const struct plan_op *op, char side, char *name, size_t len, int *ifindex)
{
	snprintf(name, len, "t%zu%c", op->veth.link % 10000000, side);
	*ifindex = HOST_END_TMP_IFINDEX + (int)(op->veth.link * 2 + (side == 'b'));
}

static int queue_host_end_move(struct cursor *c, const struct plan_op *op, const struct plan_end *e, char side,
			       const char *ctx, nlab_error **err)
{
	char tmp[NLAB_IFNAMSIZ], mark[64];
	int idx;

	host_end_tmp(op, side, tmp, sizeof(tmp), &idx);
	undo_link_mark(c->s->o->lab, mark, sizeof(mark));
	return nlab_link_queue_move_marked(c->nl, idx, c->s->host_netns, e->name, mark, ctx, err);
}

/* A switch port's notifications (each change of it: made, enslaved,
 * promiscuous, up, carrier...) name its peer's netns by its id in the lab
 * netns, which the kernel finds by walking the lab's ids in ascending
 * order, one per node linked so far: O(N) per notification, most of what
 * making the links of 10,000 nodes cost (docs/scale.md).  So each node's
 * netns is given its id first, a smaller one than every node's before it:
 * the walk finds it first while its ports are made.  What is left is the
 * kernel's own check that the netns has no id yet, one walk per node. */
#define LAB_NSID_FIRST (1 << 30)
/* ...and the lab's requests go out every so many, so that what a port's
 * creation leaves for a second round (nlsock.h: the follow-ups) and the
 * carrier it gets then come while its node's id is still among the
 * first, not after every node's. */
#define LAB_FLUSH_EVERY 256

static int queue_lab_nsid(struct cursor *c, const struct plan_end *e, const struct plan_end *other, const char *ctx,
			  nlab_error **err)
{
	struct sup *s = c->s;

	if (e->ns < 0 || other->ns != PLAN_NS_LAB || s->by_index[e->ns]->lab_nsid)
		return 0;
	/* At most NLAB_MAX_NODES ids: far from 0. */
	if (nlab_netns_queue_id(c->nl, s->by_index[e->ns]->pid, LAB_NSID_FIRST - (int)s->nsids, ctx, err) < 0)
		return -1;
	s->nsids++;
	s->by_index[e->ns]->lab_nsid = true;
	return 0;
}

static int queue_veth(struct cursor *c, const struct plan_op *op, nlab_error **err)
{
	const struct sup *s = c->s;
	char ctx[160], da[48], db[48], ta[NLAB_IFNAMSIZ], tb[NLAB_IFNAMSIZ];
	bool ha = op->veth.a.ns == PLAN_NS_HOST, hb = op->veth.b.ns == PLAN_NS_HOST;
	int ia = op->veth.a.ifindex, ib = op->veth.b.ifindex;

	end_desc(s, &op->veth.a, da, sizeof(da));
	end_desc(s, &op->veth.b, db, sizeof(db));
	snprintf(ctx, sizeof(ctx), "link %s -> %s (%s:%d)", da, db, s->t->file, op->line);
	if (ha)
		host_end_tmp(op, 'a', ta, sizeof(ta), &ia);
	if (hb)
		host_end_tmp(op, 'b', tb, sizeof(tb), &ib);
	if (queue_lab_nsid(c, &op->veth.a, &op->veth.b, ctx, err) < 0 ||
	    queue_lab_nsid(c, &op->veth.b, &op->veth.a, ctx, err) < 0)
		return -1;
	struct nlab_veth_spec v = {
		.name = ha ? ta : op->veth.a.name, .ifindex = ia, .netns_fd = ha ? -1 : ns_fd_of(s, op->veth.a.ns),
		.netns_pid = ns_pid_of(s, op->veth.a.ns),
		.peer = hb ? tb : op->veth.b.name, .peer_ifindex = ib, .peer_netns_fd = hb ? -1 : ns_fd_of(s, op->veth.b.ns),
		.peer_netns_pid = ns_pid_of(s, op->veth.b.ns),
		.mtu = op->veth.mtu, .master_ifindex = op->veth.a.master, .peer_master_ifindex = op->veth.b.master,
		.up = op->veth.up,
	};
	if (nlab_veth_queue_add(c->nl, &v, ctx, err) < 0)
		return -1;
	if (ha && queue_host_end_move(c, op, &op->veth.a, 'a', ctx, err) < 0)
		return -1;
	if (hb && queue_host_end_move(c, op, &op->veth.b, 'b', ctx, err) < 0)
		return -1;
	return 0;
}

/* Issue 18: this machine's end of a tunnel to another, made from the
 * host namespace (its UDP socket stays there) straight into the node or
 * the lab namespace; or one more machine a switch's port floods to. */
static int queue_vxlan(struct cursor *c, const struct plan_op *op, nlab_error **err)
{
	const struct sup *s = c->s;
	const struct topo_span *sp = s->t->span;
	char ctx[240], end[64];

	end_desc(s, &op->vxlan.end, end, sizeof(end));
	if (op->vxlan.link == SIZE_MAX)
		snprintf(end, sizeof(end), "switch %s", s->t->switches.v[op->vxlan.sw].name);
	if (!sp || op->vxlan.remote < 0 || (size_t)op->vxlan.remote >= sp->nmachines)
		return nlab_error_set(err, EINVAL, "%s: a tunnel in a lab on one machine", end);
	const struct topo_underlay *here = &sp->underlay[sp->part], *far = &sp->underlay[op->vxlan.remote];
	snprintf(ctx, sizeof(ctx), "%s: tunnel to machine %s, VNI %u (%s:%d)", end,
		 s->t->machines.v[op->vxlan.remote].name, op->vxlan.vni, s->t->file, op->line);
	if (!here->family || far->family != here->family)
		return nlab_error_set(err, EINVAL, "%s: the machines' underlay addresses are unknown or of two families",
				      ctx);
	if (op->kind == OP_FLOOD)
		return nlab_vxlan_queue_flood(c->nl, op->vxlan.end.ifindex, far->family, far->addr, ctx, err);
	struct nlab_vxlan_spec v = {
		.name = op->vxlan.end.name, .ifindex = op->vxlan.end.ifindex,
		.netns_fd = op->vxlan.end.ns == PLAN_NS_LAB ? s->lab_netns : ns_fd_of(s, op->vxlan.end.ns),
		.netns_pid = ns_pid_of(s, op->vxlan.end.ns),
		.vni = op->vxlan.vni, .family = here->family, .local = here->addr, .remote = far->addr,
		.port = sp->port, .mtu = op->vxlan.mtu, .master_ifindex = op->vxlan.end.master, .up = op->vxlan.up,
	};
	return nlab_vxlan_queue_add(c->nl, &v, ctx, err);
}

/* "node r1: " / "host: " / "lab ": the prefix of a message. */
static void where(const struct cursor *c, char *buf, size_t len)
{
	if (c->ns == PLAN_NS_HOST)
		snprintf(buf, len, "host");
	else if (c->ns == PLAN_NS_LAB)
		snprintf(buf, len, "lab");
	else
		snprintf(buf, len, "node %s", node_name(c->s, c->ns));
}

/* The loss program for ppm, loaded once per section and value. */
static int loss_prog(struct cursor *c, uint32_t ppm, nlab_error **err)
{
	for (size_t i = 0; i < c->nprogs; i++)
		if (c->progs[i].ppm == ppm)
			return c->progs[i].fd;
	if (c->nprogs == sizeof(c->progs) / sizeof(c->progs[0])) {
		/* More loss values than slots: send what uses the old ones. */
		if (flush(c, err) < 0)
			return -1;
		while (c->nprogs)
			close(c->progs[--c->nprogs].fd);
	}
	int fd = nlab_bpf_loss_load(ppm, err);
	if (fd < 0)
		return -1;
	c->progs[c->nprogs++] = (struct loss_prog){ ppm, fd };
	return fd;
}

/* One end's egress shaping.  Delay and jitter need netem; the netlab
 * command checked the kernel has it (topo/features.h), but say what is
 * missing if it does not. */
static int queue_shape(struct cursor *c, const struct plan_op *op, const char *w, nlab_error **err)
{
	struct sup *s = c->s;
	const struct topo_link *l = &s->t->links.v[op->shape.link];
	const struct topo_end *other = op->shape.end ? &l->a : &l->b;
	char what[160];
	cleanup_free char *ctx = NULL;
	int ifindex = op->shape.ifindex, fd = -1;

	nlab_shape_format(&op->shape.shape, what, sizeof(what));
	if (asprintf(&ctx, "%s: %s egress towards %s%s%s: %s%s (%s:%d)", w, op->shape.ifname, other->name,
		     other->kind == TOPO_END_SWITCH ? "" : ":", other->ifname, what,
		     nlab_shape_netem(&op->shape.shape) ? " (netem: CONFIG_NET_SCH_NETEM)" : "", s->t->file, op->line) < 0)
		return nlab_error_set(err, ENOMEM, "%s: shaping", w);
	if (!ifindex && (ifindex = host_resolve_ifindex(s, op->shape.ifname, err)) < 0)
		return nlab_error_wrap(err, "%s", ctx);
	if (nlab_shape_bpf_loss(&op->shape.shape) && (fd = loss_prog(c, op->shape.shape.loss_ppm, err)) < 0)
		return nlab_error_wrap(err, "%s", ctx);
	return nlab_shape_queue(c->nl, ifindex, &op->shape.shape, fd, ctx, err);
}

static int queue_netlink(struct cursor *c, const struct plan_op *op, nlab_error **err)
{
	struct sup *s = c->s;
	const char *file = s->t->file;
	char ctx[200], w[64], cidr[64];
	int ifindex = op->iface.ifindex;

	if (socket_for(c, err) < 0)
		return -1;
	where(c, w, sizeof(w));
	switch (op->kind) {
	case OP_BRIDGE:
		snprintf(ctx, sizeof(ctx), "switch %s (%s:%d)", s->t->switches.v[op->bridge.sw].name, file, op->line);
		return nlab_bridge_queue_add(c->nl, op->bridge.name, op->bridge.ifindex, 1, op->bridge.snoop, ctx,
					     err);
	case OP_QUERIER:
		snprintf(ctx, sizeof(ctx), "switch %s (%s:%d): multicast querier",
			 s->t->switches.v[op->bridge.sw].name, file, op->line);
		return nlab_bridge_queue_querier(c->nl, op->bridge.ifindex, ctx, err);
	case OP_VETH:
		if (queue_veth(c, op, err) < 0)
			return -1;
		return nlab_nl_pending(c->nl) >= LAB_FLUSH_EVERY ? flush(c, err) : 0;
	case OP_QDISC:
		return queue_shape(c, op, w, err);
	case OP_VXLAN:
	case OP_FLOOD:
		return queue_vxlan(c, op, err);
	case OP_LINK_UP:
		if (c->ns == PLAN_NS_HOST)
			return host_link_up(s, op, err);
		if (c->ns == PLAN_NS_LAB)
			snprintf(ctx, sizeof(ctx), "lab %s up", op->iface.ifname);
		else
			snprintf(ctx, sizeof(ctx), "%s: %s up", w, op->iface.ifname);
		return nlab_link_queue_up(c->nl, ifindex, NULL, ctx, err);
	case OP_ADDR:
		cidr_format(&op->iface.addr->cidr, cidr, sizeof(cidr));
		snprintf(ctx, sizeof(ctx), "%s: ip %s %s (%s:%d)", w, op->iface.ifname, cidr, file, op->line);
		if (!ifindex && (ifindex = host_resolve_ifindex(s, op->iface.ifname, err)) < 0)
			return nlab_error_wrap(err, "%s: ip %s (%s:%d)", w, op->iface.ifname, file, op->line);
		return nlab_addr_queue_add(c->nl, ifindex, op->iface.addr->cidr.family, op->iface.addr->cidr.addr,
					   op->iface.addr->cidr.prefixlen, 1, ctx, err);
	case OP_ROUTE:
	default: {
		const struct topo_route *rt = op->iface.route;
		snprintf(ctx, sizeof(ctx), "%s: route (%s:%d)", w, file, op->line);
		if (op->iface.ifname[0] && !ifindex && (ifindex = host_resolve_ifindex(s, op->iface.ifname, err)) < 0)
			return nlab_error_wrap(err, "%s: route (%s:%d)", w, file, op->line);
		return nlab_route_queue_add(c->nl, rt->dst.family, rt->is_default ? NULL : rt->dst.addr,
					    rt->is_default ? 0 : rt->dst.prefixlen, rt->has_via ? rt->via : NULL, ifindex,
					    ctx, err);
	}
	}
}

static int do_sysctl(struct cursor *c, const struct plan_op *op, nlab_error **err)
{
	struct sup *s = c->s;
	int r;

	if (flush(c, err) < 0)
		return -1;
	if (c->ns == PLAN_NS_HOST)
		return host_sysctl(s, op, err);
	if (c->ns == PLAN_NS_LAB) {
		/* The supervisor lives in the lab namespace. */
		r = nlab_sysctl_write(op->sysctl.key, op->sysctl.value, err);
	} else {
		/* Through the node's own procfs: one shared /proc makes
		 * every lookup walk a dentry per node (net/sysctl.h). */
		if (enter_node(c, err) < 0)
			return -1;
		r = nlab_sysctl_write_at(c->rootfd, op->sysctl.key, op->sysctl.value, err);
	}
	if (r == 0)
		return 0;
	if (op->optional && (*err)->errnum == ENOENT) {
		nlab_error_free(err);
		return 0;
	}
	if (c->ns == PLAN_NS_LAB && !op->line)
		return nlab_error_wrap(err, "lab namespace");
	if (c->ns == PLAN_NS_LAB)
		return nlab_error_wrap(err, "switch (%s:%d)", s->t->file, op->line);
	return nlab_error_wrap(err, "node %s: sysctl (%s:%d)", node_name(s, c->ns), s->t->file, op->line);
}

/* A node's rules, one commit per table, under the node's own xtables
 * lock (where its iptables looks; a fresh node has nothing to remove). */
static int node_rules(struct cursor *c, const struct plan_op *ops, size_t n, nlab_error **err)
{
	struct sup *s = c->s;
	struct nlab_fw_tables ts = { 0 };
	int r = -1;

	if (enter_node(c, err) < 0)
		return -1;
	cleanup_close int lock = nlab_ipt_lock_at(c->rootfd, "/run/xtables.lock", 10000, err);
	if (lock < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct plan_op *op = &ops[i];
		struct nlab_ipt_table *tb;
		if (op->kind == OP_FW_RULE) {
			const struct fw_rule *fr = &s->plan.fw.rules[op->fw];
			tb = nlab_fw_table(&ts, fr->r.family, fr->table, err);
			if (!tb || nlab_ipt_append(tb, fr->chain, &fr->r, err) < 0) {
				nlab_error_wrap(err, "%s:%d", s->t->file, op->line);
				goto out;
			}
		} else {
			const struct fw_policy *p = &s->plan.fw.policies[op->fw];
			tb = nlab_fw_table(&ts, p->family, "filter", err);
			if (!tb || nlab_ipt_set_policy(tb, p->chain, p->accept, err) < 0) {
				nlab_error_wrap(err, "%s:%d", s->t->file, op->line);
				goto out;
			}
		}
	}
	r = nlab_fw_commit(&ts, err);
out:
	nlab_fw_close(&ts);
	return r < 0 ? nlab_error_wrap(err, "node %s: firewall", node_name(s, c->ns)) : 0;
}

static bool is_rule(enum plan_op_kind k)
{
	return k == OP_FW_RULE || k == OP_FW_POLICY;
}

int apply_section(struct sup *s, enum plan_section sec, nlab_error **err)
{
	struct cursor c = { .s = s, .saved = -1, .rootfd = -1, .sec = sec };
	const struct plan_op *ops = s->plan.ops;
	size_t end = s->plan.sec[sec + 1];
	int r = 0;

	for (size_t i = s->plan.sec[sec]; r == 0 && i < end;) {
		const struct plan_op *op = &ops[i];
		if (!c.active || op->ns != c.ns) {
			/* Between groups: a signal or `up` leaving stops setup. */
			if (group_end(&c, err) < 0 || sup_check_abort(s, err) < 0) {
				r = -1;
				break;
			}
			c.ns = op->ns;
			c.active = true;
		}
		if (is_netlink(op->kind)) {
			r = queue_netlink(&c, op, err);
			i++;
		} else if (op->kind == OP_SYSCTL) {
			r = do_sysctl(&c, op, err);
			i++;
		} else if (op->kind == OP_HOST_MOVE || op->kind == OP_HOST_ATTACH || op->kind == OP_HOST_MACVLAN) {
			r = flush(&c, err);
			if (r == 0)
				r = hostif_take(s, op, err);
			i++;
		} else if (op->kind == OP_CAPTURE) {
			i++; /* the capture process's (supervisor/capture.c) */
		} else if (is_rule(op->kind)) {
			size_t j = i;
			while (j < end && ops[j].ns == op->ns && is_rule(ops[j].kind))
				j++;
			r = flush(&c, err);
			if (r == 0)
				r = c.ns == PLAN_NS_HOST ? host_rules(s, ops + i, j - i, err) : node_rules(&c, ops + i, j - i, err);
			i = j;
		} else {
			r = nlab_error_set(err, EINVAL, "%s:%d: a %s operation in the %s section", s->t->file, op->line,
					   plan_op_name(op->kind), plan_section_name(sec));
		}
	}
	if (group_end(&c, r < 0 ? NULL : err) < 0)
		r = -1;
	while (c.nprogs)
		close(c.progs[--c.nprogs].fd);
	return r;
}
