#include "plan/firewall.h"

#include <errno.h>
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

const char *fw_host_lock_path(void)
{
	const char *p = getenv("XTABLES_LOCKFILE");

	return p && *p ? p : "/run/xtables.lock";
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
				struct fw_rule *r = push_rule(rs, t, lab, h->pos.line, "filter", "FORWARD", family);
				if (!r)
					return -1;
				snprintf(r->r.in, sizeof(r->r.in), "%s", e->ifname);
				r->r.target = NLAB_IPT_ACCEPT;
				r->r.comment = r->comment;
				r = push_rule(rs, t, lab, h->pos.line, "filter", "FORWARD", family);
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

int fw_ruleset_build(const struct topology *t, const struct topo_node *n, const char *lab, struct fw_ruleset *rs,
		     nlab_error **err)
{
	memset(rs, 0, sizeof(*rs));
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
	fw_ruleset_free(rs);
	return nlab_error_set(err, ENOMEM, "firewall rules of node %s", n->name);
}

void fw_ruleset_free(struct fw_ruleset *rs)
{
	free(rs->rules);
	free(rs->policies);
	memset(rs, 0, sizeof(*rs));
}

/* The four tables a ruleset may touch, opened on first use. */
struct tables {
	struct nlab_ipt_table *t[2][2]; /* [v6][nat] */
};

static struct nlab_ipt_table *table_of(struct tables *ts, int family, const char *name, nlab_error **err)
{
	int f = family == AF_INET6, k = strcmp(name, "nat") == 0;

	if (!ts->t[f][k] && nlab_ipt_open(&ts->t[f][k], family, name, err) < 0)
		return NULL;
	return ts->t[f][k];
}

static int commit_all(struct tables *ts, nlab_error **err)
{
	for (int f = 0; f < 2; f++)
		for (int k = 0; k < 2; k++)
			if (ts->t[f][k] && nlab_ipt_commit(ts->t[f][k], err) < 0)
				return -1;
	return 0;
}

static void close_all(struct tables *ts)
{
	for (int f = 0; f < 2; f++)
		for (int k = 0; k < 2; k++)
			nlab_ipt_close(ts->t[f][k]);
}

static int apply_rules(const struct topology *t, const struct fw_ruleset *rs, struct tables *ts, nlab_error **err)
{
	for (size_t i = 0; i < rs->n; i++) {
		const struct fw_rule *r = &rs->rules[i];
		struct nlab_ipt_table *tb = table_of(ts, r->r.family, r->table, err);
		if (!tb || nlab_ipt_append(tb, r->chain, &r->r, err) < 0)
			return nlab_error_wrap(err, "%s:%d", t->file, r->line);
	}
	for (size_t i = 0; i < rs->npolicies; i++) {
		const struct fw_policy *p = &rs->policies[i];
		struct nlab_ipt_table *tb = table_of(ts, p->family, "filter", err);
		if (!tb || nlab_ipt_set_policy(tb, p->chain, p->accept, err) < 0)
			return nlab_error_wrap(err, "%s:%d", t->file, p->line);
	}
	return 0;
}

int fw_apply_node(const struct topology *t, const struct topo_node *n, const char *lab, const char *lock_path,
		  nlab_error **err)
{
	struct fw_ruleset rs;
	struct tables ts = { 0 };
	cleanup_close int lock = -1;
	int r = -1;

	if (!n->fw.n && !n->nats.n)
		return 0;
	if (fw_ruleset_build(t, n, lab, &rs, err) < 0)
		return -1;
	lock = nlab_ipt_lock(lock_path, 10000, err);
	if (lock < 0)
		goto out;
	if (apply_rules(t, &rs, &ts, err) < 0 || commit_all(&ts, err) < 0)
		goto out;
	r = 0;
out:
	close_all(&ts);
	fw_ruleset_free(&rs);
	return r < 0 ? nlab_error_wrap(err, "node %s: firewall", n->name) : 0;
}

int fw_apply_host(const struct topology *t, const char *lab, struct lab_state *st, nlab_error **err)
{
	const struct topo_node *h = topo_host_node(t);
	struct fw_ruleset rs;
	struct tables ts = { 0 };
	char tag[64];
	cleanup_close int lock = -1;
	int r = -1;

	if (!h || (!h->forward && !h->nats.n))
		return 0;
	if (fw_ruleset_build(t, h, lab, &rs, err) < 0)
		return -1;
	if (rs.n == 0) {
		fw_ruleset_free(&rs);
		return 0;
	}
	/* Recorded before they exist: after a crash in between, `down`
	 * looks for rules that are not there, which is harmless. */
	struct state_host_rule *v = realloc(st->host_rules, (st->nhost_rules + rs.n) * sizeof(*v));
	if (!v) {
		fw_ruleset_free(&rs);
		return nlab_error_set(err, ENOMEM, "host rules");
	}
	st->host_rules = v;
	for (size_t i = 0; i < rs.n; i++) {
		struct state_host_rule *s = &st->host_rules[st->nhost_rules++];
		s->family = rs.rules[i].r.family == AF_INET ? 4 : 6;
		snprintf(s->table, sizeof(s->table), "%s", rs.rules[i].table);
		snprintf(s->chain, sizeof(s->chain), "%s", rs.rules[i].chain);
		s->comment = strdup(rs.rules[i].comment);
	}
	if (state_write(st, err) < 0)
		goto out;
	lock = nlab_ipt_lock(fw_host_lock_path(), 10000, err);
	if (lock < 0)
		goto out;
	/* Rules a crashed earlier run of this lab left behind go first. */
	fw_tag(lab, tag, sizeof(tag));
	for (size_t i = 0; i < rs.n; i++) {
		unsigned gone;
		struct nlab_ipt_table *tb = table_of(&ts, rs.rules[i].r.family, rs.rules[i].table, err);
		if (!tb)
			goto out;
		bool first = true;
		for (size_t j = 0; j < i; j++)
			if (rs.rules[j].r.family == rs.rules[i].r.family && !strcmp(rs.rules[j].table, rs.rules[i].table))
				first = false;
		if (first && nlab_ipt_delete_tagged(tb, tag, &gone, err) < 0)
			goto out;
	}
	if (apply_rules(t, &rs, &ts, err) < 0 || commit_all(&ts, err) < 0)
		goto out;
	r = 0;
out:
	close_all(&ts);
	fw_ruleset_free(&rs);
	return r < 0 ? nlab_error_wrap(err, "host: firewall") : 0;
}

int fw_remove_host(const struct lab_state *st, nlab_error **err)
{
	char tag[64];
	int r = 0;

	if (!st->nhost_rules)
		return 0;
	fw_tag(st->lab, tag, sizeof(tag));
	cleanup_close int lock = nlab_ipt_lock(fw_host_lock_path(), 10000, err);
	if (lock < 0)
		return -1;
	static const char *const tables[] = { "filter", "nat" };
	for (int f = 0; f < 2; f++)
		for (int k = 0; k < 2; k++) {
			int family = f ? AF_INET6 : AF_INET;
			bool used = false;
			for (size_t i = 0; i < st->nhost_rules; i++)
				used |= st->host_rules[i].family == (f ? 6 : 4) &&
					!strcmp(st->host_rules[i].table, tables[k]);
			if (!used || !nlab_ipt_table_exists(family, tables[k]))
				continue;
			struct nlab_ipt_table *tb;
			unsigned gone = 0;
			if (nlab_ipt_open(&tb, family, tables[k], err) < 0) {
				r = -1;
				continue;
			}
			if (nlab_ipt_delete_tagged(tb, tag, &gone, err) < 0 ||
			    (gone && nlab_ipt_commit(tb, err) < 0))
				r = -1;
			nlab_ipt_close(tb);
		}
	return r < 0 ? nlab_error_wrap(err, "remove the host rules of lab %s", st->lab) : 0;
}
