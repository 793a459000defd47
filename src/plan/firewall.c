#include "plan/firewall.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"

void fw_tag(const char *lab, char *buf, size_t len)
{
	snprintf(buf, len, "netlab:%s", lab);
}

int fw_comment_line(const char *comment)
{
	const char *colon = comment ? strrchr(comment, ':') : NULL;

	if (!colon || !colon[1])
		return 0;
	char *end;
	long v = strtol(colon + 1, &end, 10);
	return *end == '\0' && v > 0 && v < 1000000000 ? (int)v : 0;
}

static const char *chain_name(enum topo_chain c)
{
	switch (c) {
	case TOPO_CHAIN_INPUT:
		return "INPUT";
	case TOPO_CHAIN_OUTPUT:
		return "OUTPUT";
	case TOPO_CHAIN_FORWARD:
		return "FORWARD";
	default:
		return "?";
	}
}

static unsigned ct_state(unsigned topo_state)
{
	unsigned s = 0;

	if (topo_state & TOPO_STATE_NEW)
		s |= NLAB_CT_NEW;
	if (topo_state & TOPO_STATE_ESTABLISHED)
		s |= NLAB_CT_ESTABLISHED;
	if (topo_state & TOPO_STATE_RELATED)
		s |= NLAB_CT_RELATED;
	if (topo_state & TOPO_STATE_INVALID)
		s |= NLAB_CT_INVALID;
	return s;
}

static struct fw_rule *push_rule(struct fw_ruleset *rs, const struct topology *t, const char *lab, int line,
				 const char *table, const char *chain, int family)
{
	struct fw_rule *v = realloc(rs->rules, (rs->n + 1) * sizeof(*v));

	if (!v)
		return NULL;
	rs->rules = v;
	struct fw_rule *r = &v[rs->n++];
	memset(r, 0, sizeof(*r));
	r->table = table;
	r->chain = chain;
	r->line = line;
	r->r.family = family;
	const char *base = t->file ? strrchr(t->file, '/') : NULL;
	base = base ? base + 1 : t->file ? t->file : "topology";
	/* The file name is shortened if need be; the line is always whole. */
	snprintf(r->comment, sizeof(r->comment), "netlab:%s %.180s:%d", lab, base, line);
	return r;
}

/* Which IP versions a rule applies to: the version of its addresses, of
 * its ICMP flavour, or both. */
static void rule_families(const struct topo_fw_rule *f, bool *v4, bool *v6)
{
	int fam = f->has_src ? f->src.family : f->has_dst ? f->dst.family : 0;

	if (f->proto == IPPROTO_ICMP)
		fam = AF_INET;
	else if (f->proto == IPPROTO_ICMPV6)
		fam = AF_INET6;
	*v4 = fam == 0 || fam == AF_INET;
	*v6 = fam == 0 || fam == AF_INET6;
}

static int add_fw_rule(struct fw_ruleset *rs, const struct topology *t, const char *lab,
		       const struct topo_fw_rule *f, int family)
{
	/* A reject without protocol is two rules, as iptables users write
	 * it: a reset for TCP, port unreachable for everything else. */
	int variants = f->action == TOPO_ACT_REJECT && f->proto == 0 ? 2 : 1;

	for (int k = 0; k < variants; k++) {
		struct fw_rule *r = push_rule(rs, t, lab, f->pos.line, "filter", chain_name(f->chain), family);
		if (!r)
			return -1;
		struct nlab_ipt_rule *x = &r->r;
		x->proto = variants == 2 && k == 0 ? IPPROTO_TCP : f->proto;
		x->has_src = f->has_src;
		x->has_dst = f->has_dst;
		memcpy(x->src, f->src.addr, 16);
		memcpy(x->dst, f->dst.addr, 16);
		x->src_len = f->src.prefixlen;
		x->dst_len = f->dst.prefixlen;
		x->sport_lo = f->sport_lo;
		x->sport_hi = f->sport_hi;
		x->dport_lo = f->dport_lo;
		x->dport_hi = f->dport_hi;
		memcpy(x->in, f->in, sizeof(x->in));
		memcpy(x->out, f->out, sizeof(x->out));
		x->ct_state = ct_state(f->state);
		x->comment = r->comment;
		switch (f->action) {
		case TOPO_ACT_ACCEPT:
			x->target = NLAB_IPT_ACCEPT;
			break;
		case TOPO_ACT_DROP:
			x->target = NLAB_IPT_DROP;
			break;
		case TOPO_ACT_REJECT:
		default:
			x->target = NLAB_IPT_REJECT;
			x->reject_tcp_reset = x->proto == IPPROTO_TCP;
			break;
		}
	}
	return 0;
}

static int add_nat_rule(struct fw_ruleset *rs, const struct topology *t, const char *lab, const struct topo_nat *x)
{
	int family = x->kind == TOPO_NAT_MASQUERADE ? AF_INET : x->kind == TOPO_NAT_SNAT ? x->src.family : x->to.family;
	struct fw_rule *r = push_rule(rs, t, lab, x->pos.line, "nat",
				      x->kind == TOPO_NAT_DNAT ? "PREROUTING" : "POSTROUTING", family);

	if (!r)
		return -1;
	struct nlab_ipt_rule *q = &r->r;
	q->comment = r->comment;
	switch (x->kind) {
	case TOPO_NAT_MASQUERADE:
		memcpy(q->out, x->ifname, sizeof(q->out));
		q->target = NLAB_IPT_MASQUERADE;
		break;
	case TOPO_NAT_SNAT:
		memcpy(q->out, x->ifname, sizeof(q->out));
		q->has_src = true;
		memcpy(q->src, x->src.addr, 16);
		q->src_len = x->src.prefixlen;
		memcpy(q->to_addr, x->to.addr, 16);
		q->target = NLAB_IPT_SNAT;
		break;
	case TOPO_NAT_DNAT:
	default:
		memcpy(q->in, x->ifname, sizeof(q->in));
		q->proto = x->proto;
		q->dport_lo = x->port;
		memcpy(q->to_addr, x->to.addr, 16);
		q->to_port = x->to_port;
		q->target = NLAB_IPT_DNAT;
		break;
	}
	return 0;
}

/* `node host`: let forwarded traffic of the lab's host interfaces through
 * the FORWARD chain (new connections from the lab, replies back to it). */
static int add_host_forward(struct fw_ruleset *rs, const struct topology *t, const struct topo_node *h,
			    const char *lab)
{
	bool v6 = false;

	for (size_t i = 0; i < h->addrs.n; i++)
		v6 |= h->addrs.v[i].cidr.family == AF_INET6;
	for (size_t i = 0; i < t->links.n; i++) {
		const struct topo_link *l = &t->links.v[i];
		for (int w = 0; w < 2; w++) {
			const struct topo_end *e = w ? &l->b : &l->a;
			if (e->kind != TOPO_END_HOST)
				continue;
			for (int fam = 0; fam < (v6 ? 2 : 1); fam++) {
				int family = fam ? AF_INET6 : AF_INET;
				struct fw_rule *r = push_rule(rs, t, lab, h->forward_pos.line, "filter", "FORWARD", family);
				if (!r)
					return -1;
				snprintf(r->r.in, sizeof(r->r.in), "%s", e->ifname);
				r->r.target = NLAB_IPT_ACCEPT;
				r->r.comment = r->comment;
				r = push_rule(rs, t, lab, h->forward_pos.line, "filter", "FORWARD", family);
				if (!r)
					return -1;
				snprintf(r->r.out, sizeof(r->r.out), "%s", e->ifname);
				r->r.ct_state = NLAB_CT_ESTABLISHED | NLAB_CT_RELATED;
				r->r.target = NLAB_IPT_ACCEPT;
				r->r.comment = r->comment;
			}
		}
	}
	return 0;
}

int fw_ruleset_add(struct fw_ruleset *rs, const struct topology *t, const struct topo_node *n, const char *lab,
		   nlab_error **err)
{
	for (size_t i = 0; i < n->fw.n; i++) {
		const struct topo_fw_rule *f = &n->fw.v[i];
		bool v4, v6;
		rule_families(f, &v4, &v6);
		if (f->is_policy) {
			for (int fam = 0; fam < 2; fam++) {
				struct fw_policy *p = realloc(rs->policies, (rs->npolicies + 1) * sizeof(*p));
				if (!p)
					goto oom;
				rs->policies = p;
				p[rs->npolicies++] = (struct fw_policy){ fam ? AF_INET6 : AF_INET, chain_name(f->chain),
									 f->action == TOPO_ACT_ACCEPT, f->pos.line };
			}
			continue;
		}
		if ((v4 && add_fw_rule(rs, t, lab, f, AF_INET) < 0) || (v6 && add_fw_rule(rs, t, lab, f, AF_INET6) < 0))
			goto oom;
	}
	if (n->is_host && n->forward && add_host_forward(rs, t, n, lab) < 0)
		goto oom;
	for (size_t i = 0; i < n->nats.n; i++)
		if (add_nat_rule(rs, t, lab, &n->nats.v[i]) < 0)
			goto oom;
	/* The comment pointers move with realloc: point them home again. */
	for (size_t i = 0; i < rs->n; i++)
		rs->rules[i].r.comment = rs->rules[i].comment;
	return 0;
oom:
	for (size_t i = 0; i < rs->n; i++)
		rs->rules[i].r.comment = rs->rules[i].comment;
	return nlab_error_set(err, ENOMEM, "firewall rules of node %s", n->name);
}

int fw_ruleset_build(const struct topology *t, const struct topo_node *n, const char *lab, struct fw_ruleset *rs,
		     nlab_error **err)
{
	memset(rs, 0, sizeof(*rs));
	if (fw_ruleset_add(rs, t, n, lab, err) < 0) {
		fw_ruleset_free(rs);
		return -1;
	}
	return 0;
}

void fw_ruleset_free(struct fw_ruleset *rs)
{
	free(rs->rules);
	free(rs->policies);
	memset(rs, 0, sizeof(*rs));
}

static void put(char **p, char *end, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(char **p, char *end, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*p >= end)
		return;
	va_start(ap, fmt);
	n = vsnprintf(*p, (size_t)(end - *p), fmt, ap);
	va_end(ap);
	if (n > 0)
		*p += n < end - *p ? n : end - *p;
}

static const char *proto_name(int proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "ipv6-icmp";
	default:
		return NULL;
	}
}

static void put_ports(char **p, char *end, const char *opt, int lo, int hi)
{
	if (!lo)
		return;
	if (hi && hi != lo)
		put(p, end, " %s %d:%d", opt, lo, hi);
	else
		put(p, end, " %s %d", opt, lo);
}

void fw_rule_format(const struct fw_rule *r, char *buf, size_t len)
{
	const struct nlab_ipt_rule *x = &r->r;
	char *p = buf, *end = buf + len, a[INET6_ADDRSTRLEN];

	if (!len)
		return;
	buf[0] = '\0';
	put(&p, end, "%s", x->family == AF_INET6 ? "ip6tables" : "iptables");
	if (strcmp(r->table, "filter") != 0)
		put(&p, end, " -t %s", r->table);
	put(&p, end, " -A %s", r->chain);
	if (x->in[0])
		put(&p, end, " -i %s", x->in);
	if (x->out[0])
		put(&p, end, " -o %s", x->out);
	if (x->has_src)
		put(&p, end, " -s %s/%d", inet_ntop(x->family, x->src, a, sizeof(a)) ? a : "?", x->src_len);
	if (x->has_dst)
		put(&p, end, " -d %s/%d", inet_ntop(x->family, x->dst, a, sizeof(a)) ? a : "?", x->dst_len);
	const char *pn = proto_name(x->proto);
	if (pn)
		put(&p, end, " -p %s", pn);
	else if (x->proto)
		put(&p, end, " -p %d", x->proto);
	put_ports(&p, end, "--sport", x->sport_lo, x->sport_hi);
	put_ports(&p, end, "--dport", x->dport_lo, x->dport_hi);
	if (x->ct_state) {
		static const char *const names[] = { "NEW", "ESTABLISHED", "RELATED", "INVALID" };
		const char *sep = " -m conntrack --ctstate ";
		for (unsigned i = 0; i < 4; i++)
			if (x->ct_state & (1u << i)) {
				put(&p, end, "%s%s", sep, names[i]);
				sep = ",";
			}
	}
	switch (x->target) {
	case NLAB_IPT_ACCEPT:
		put(&p, end, " -j ACCEPT");
		break;
	case NLAB_IPT_DROP:
		put(&p, end, " -j DROP");
		break;
	case NLAB_IPT_REJECT:
		put(&p, end, " -j REJECT%s", x->reject_tcp_reset ? " --reject-with tcp-reset" : "");
		break;
	case NLAB_IPT_MASQUERADE:
		put(&p, end, " -j MASQUERADE");
		break;
	case NLAB_IPT_SNAT:
		put(&p, end, " -j SNAT --to-source %s", inet_ntop(x->family, x->to_addr, a, sizeof(a)) ? a : "?");
		break;
	case NLAB_IPT_DNAT:
	default:
		inet_ntop(x->family, x->to_addr, a, sizeof(a));
		if (x->to_port)
			put(&p, end, x->family == AF_INET6 ? " -j DNAT --to-destination [%s]:%d"
							    : " -j DNAT --to-destination %s:%d",
			    a, x->to_port);
		else
			put(&p, end, " -j DNAT --to-destination %s", a);
		break;
	}
}
