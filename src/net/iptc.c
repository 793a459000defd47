#include "net/iptc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libiptc/libip6tc.h>
#include <libiptc/libiptc.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <linux/netfilter_ipv4/ipt_REJECT.h>
#include <linux/netfilter_ipv6/ip6t_REJECT.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "util/fsutil.h"

struct nlab_ipt_table {
	int family;
	char name[XT_TABLE_MAXNAMELEN];
	struct xtc_handle *h;
};

/* ---- building one entry --------------------------------------------- */

struct builder {
	uint8_t *buf;
	size_t cap, off;
	bool overflow;
};

static void *reserve(struct builder *b, size_t len)
{
	if (b->overflow || b->off + len > b->cap) {
		b->overflow = true;
		return NULL;
	}
	void *p = b->buf + b->off;
	memset(p, 0, len);
	b->off += len;
	return p;
}

static void add_match(struct builder *b, const char *name, uint8_t rev, const void *data, size_t len)
{
	size_t sz = XT_ALIGN(sizeof(struct xt_entry_match) + len);
	struct xt_entry_match *m = reserve(b, sz);

	if (!m)
		return;
	m->u.user.match_size = (uint16_t)sz;
	snprintf(m->u.user.name, sizeof(m->u.user.name), "%s", name);
	m->u.user.revision = rev;
	memcpy(m->data, data, len);
}

static void add_target(struct builder *b, const char *name, uint8_t rev, const void *data, size_t len)
{
	size_t sz = XT_ALIGN(sizeof(struct xt_entry_target) + len);
	struct xt_entry_target *t = reserve(b, sz);

	if (!t)
		return;
	t->u.user.target_size = (uint16_t)sz;
	snprintf(t->u.user.name, sizeof(t->u.user.name), "%s", name);
	t->u.user.revision = rev;
	memcpy(t->data, data, len);
}

static void prefix_mask(int family, int len, uint8_t *mask)
{
	int bytes = family == AF_INET ? 4 : 16;

	memset(mask, 0, (size_t)bytes);
	for (int i = 0; i < bytes && len > 0; i++, len -= 8)
		mask[i] = len >= 8 ? 0xff : (uint8_t)(0xff << (8 - len));
}

static void iface_and_mask(const char *name, char *iface, unsigned char *mask)
{
	size_t n = strlen(name);

	memcpy(iface, name, n + 1);
	memset(mask, 0xff, n + 1);
}

/* The conntrack match's state bits (XT_CONNTRACK_STATE_BIT). */
static uint16_t ct_bits(unsigned s)
{
	uint16_t m = 0;

	if (s & NLAB_CT_INVALID)
		m |= XT_CONNTRACK_STATE_INVALID;
	if (s & NLAB_CT_ESTABLISHED)
		m |= XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED);
	if (s & NLAB_CT_RELATED)
		m |= XT_CONNTRACK_STATE_BIT(IP_CT_RELATED);
	if (s & NLAB_CT_NEW)
		m |= XT_CONNTRACK_STATE_BIT(IP_CT_NEW);
	return m;
}

long nlab_ipt_build(const struct nlab_ipt_rule *r, void *buf, size_t cap, nlab_error **err)
{
	struct builder b = { .buf = buf, .cap = cap };
	bool v4 = r->family == AF_INET;

	if (r->family != AF_INET && r->family != AF_INET6)
		return nlab_error_set(err, EAFNOSUPPORT, "rule of unknown address family %d", r->family);
	if ((r->sport_lo || r->dport_lo) && r->proto != IPPROTO_TCP && r->proto != IPPROTO_UDP)
		return nlab_error_set(err, EINVAL, "a port match needs protocol tcp or udp");
	if (r->target == NLAB_IPT_DNAT && r->proto != IPPROTO_TCP && r->proto != IPPROTO_UDP)
		return nlab_error_set(err, EINVAL, "DNAT needs protocol tcp or udp");

	if (v4) {
		struct ipt_entry *e = reserve(&b, sizeof(*e));
		if (!e)
			goto small;
		if (r->has_src) {
			memcpy(&e->ip.src, r->src, 4);
			prefix_mask(AF_INET, r->src_len, (uint8_t *)&e->ip.smsk);
		}
		if (r->has_dst) {
			memcpy(&e->ip.dst, r->dst, 4);
			prefix_mask(AF_INET, r->dst_len, (uint8_t *)&e->ip.dmsk);
		}
		if (r->in[0])
			iface_and_mask(r->in, e->ip.iniface, e->ip.iniface_mask);
		if (r->out[0])
			iface_and_mask(r->out, e->ip.outiface, e->ip.outiface_mask);
		e->ip.proto = (uint16_t)r->proto;
	} else {
		struct ip6t_entry *e = reserve(&b, sizeof(*e));
		if (!e)
			goto small;
		if (r->has_src) {
			memcpy(&e->ipv6.src, r->src, 16);
			prefix_mask(AF_INET6, r->src_len, (uint8_t *)&e->ipv6.smsk);
		}
		if (r->has_dst) {
			memcpy(&e->ipv6.dst, r->dst, 16);
			prefix_mask(AF_INET6, r->dst_len, (uint8_t *)&e->ipv6.dmsk);
		}
		if (r->in[0])
			iface_and_mask(r->in, e->ipv6.iniface, e->ipv6.iniface_mask);
		if (r->out[0])
			iface_and_mask(r->out, e->ipv6.outiface, e->ipv6.outiface_mask);
		if (r->proto) {
			e->ipv6.proto = (uint16_t)r->proto;
			e->ipv6.flags |= IP6T_F_PROTO;
		}
	}

	/* Matches, in the order iptables would print them. */
	if (r->proto == IPPROTO_TCP && (r->sport_lo || r->dport_lo)) {
		struct xt_tcp m = { .spts = { 0, 0xffff }, .dpts = { 0, 0xffff } };
		if (r->sport_lo) {
			m.spts[0] = (uint16_t)r->sport_lo;
			m.spts[1] = (uint16_t)(r->sport_hi ? r->sport_hi : r->sport_lo);
		}
		if (r->dport_lo) {
			m.dpts[0] = (uint16_t)r->dport_lo;
			m.dpts[1] = (uint16_t)(r->dport_hi ? r->dport_hi : r->dport_lo);
		}
		add_match(&b, "tcp", 0, &m, sizeof(m));
	} else if (r->proto == IPPROTO_UDP && (r->sport_lo || r->dport_lo)) {
		struct xt_udp m = { .spts = { 0, 0xffff }, .dpts = { 0, 0xffff } };
		if (r->sport_lo) {
			m.spts[0] = (uint16_t)r->sport_lo;
			m.spts[1] = (uint16_t)(r->sport_hi ? r->sport_hi : r->sport_lo);
		}
		if (r->dport_lo) {
			m.dpts[0] = (uint16_t)r->dport_lo;
			m.dpts[1] = (uint16_t)(r->dport_hi ? r->dport_hi : r->dport_lo);
		}
		add_match(&b, "udp", 0, &m, sizeof(m));
	}
	if (r->ct_state) {
		struct xt_conntrack_mtinfo3 m = { .match_flags = XT_CONNTRACK_STATE, .state_mask = ct_bits(r->ct_state) };
		add_match(&b, "conntrack", 3, &m, sizeof(m));
	}
	if (r->comment) {
		struct xt_comment_info m;
		memset(&m, 0, sizeof(m));
		if (strlen(r->comment) >= sizeof(m.comment))
			return nlab_error_set(err, ENAMETOOLONG, "rule comment longer than %zu bytes",
					      sizeof(m.comment) - 1);
		snprintf(m.comment, sizeof(m.comment), "%s", r->comment);
		add_match(&b, "comment", 0, &m, sizeof(m));
	}
	size_t target_off = b.off;

	switch (r->target) {
	case NLAB_IPT_ACCEPT:
	case NLAB_IPT_DROP: {
		/* libiptc maps the standard verdicts by name. */
		int verdict = 0;
		add_target(&b, r->target == NLAB_IPT_ACCEPT ? IPTC_LABEL_ACCEPT : IPTC_LABEL_DROP, 0, &verdict,
			   sizeof(verdict));
		break;
	}
	case NLAB_IPT_REJECT:
		if (v4) {
			struct ipt_reject_info t = { .with = r->reject_tcp_reset ? IPT_TCP_RESET
										 : IPT_ICMP_PORT_UNREACHABLE };
			add_target(&b, "REJECT", 0, &t, sizeof(t));
		} else {
			struct ip6t_reject_info t = { .with = r->reject_tcp_reset ? IP6T_TCP_RESET
										  : IP6T_ICMP6_PORT_UNREACH };
			add_target(&b, "REJECT", 0, &t, sizeof(t));
		}
		if (r->reject_tcp_reset && r->proto != IPPROTO_TCP)
			return nlab_error_set(err, EINVAL, "a TCP reset needs protocol tcp");
		break;
	case NLAB_IPT_MASQUERADE:
	case NLAB_IPT_SNAT:
	case NLAB_IPT_DNAT: {
		const char *name = r->target == NLAB_IPT_MASQUERADE ? "MASQUERADE"
				   : r->target == NLAB_IPT_SNAT       ? "SNAT"
								      : "DNAT";
		unsigned flags = 0;
		if (r->target != NLAB_IPT_MASQUERADE)
			flags |= NF_NAT_RANGE_MAP_IPS;
		if (r->target == NLAB_IPT_DNAT && r->to_port)
			flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
		/* The revisions iptables 1.8 itself writes, so that `iptables -S`
		 * in the node prints these rules: IPv4 MASQUERADE and SNAT 0
		 * (the compat range), IPv6 MASQUERADE 0 and SNAT 1
		 * (nf_nat_range), DNAT 2 (nf_nat_range2). */
		if (v4 && r->target != NLAB_IPT_DNAT) {
			struct nf_nat_ipv4_multi_range_compat t;
			memset(&t, 0, sizeof(t));
			t.rangesize = 1;
			t.range[0].flags = flags;
			if (r->target == NLAB_IPT_SNAT) {
				memcpy(&t.range[0].min_ip, r->to_addr, 4);
				memcpy(&t.range[0].max_ip, r->to_addr, 4);
			}
			add_target(&b, name, 0, &t, sizeof(t));
		} else {
			struct nf_nat_range2 t;
			memset(&t, 0, sizeof(t));
			t.flags = flags;
			if (r->target != NLAB_IPT_MASQUERADE) {
				memcpy(&t.min_addr, r->to_addr, v4 ? 4 : 16);
				memcpy(&t.max_addr, r->to_addr, v4 ? 4 : 16);
			}
			t.min_proto.all = t.max_proto.all = htons((uint16_t)r->to_port);
			if (r->target == NLAB_IPT_DNAT)
				add_target(&b, name, 2, &t, sizeof(t));
			else /* nf_nat_range is a prefix of nf_nat_range2 */
				add_target(&b, name, r->target == NLAB_IPT_SNAT ? 1 : 0, &t,
					   sizeof(struct nf_nat_range));
		}
		break;
	}
	default:
		return nlab_error_set(err, EINVAL, "unknown rule target %d", (int)r->target);
	}
	if (b.overflow)
		goto small;
	if (v4) {
		struct ipt_entry *e = (struct ipt_entry *)b.buf;
		e->target_offset = (uint16_t)target_off;
		e->next_offset = (uint16_t)b.off;
	} else {
		struct ip6t_entry *e = (struct ip6t_entry *)b.buf;
		e->target_offset = (uint16_t)target_off;
		e->next_offset = (uint16_t)b.off;
	}
	return (long)b.off;
small:
	return nlab_error_set(err, ENOBUFS, "rule does not fit in %zu bytes", cap);
}

/* Walk the matches between the header and the target. */
static const struct xt_entry_match *next_match(const uint8_t *base, size_t *off, size_t end)
{
	if (*off + sizeof(struct xt_entry_match) > end)
		return NULL;
	const struct xt_entry_match *m = (const void *)(base + *off);
	if (m->u.match_size < sizeof(*m) || *off + m->u.match_size > end)
		return NULL;
	*off += m->u.match_size;
	return m;
}

const char *nlab_ipt_entry_comment(int family, const void *entry)
{
	const uint8_t *base = entry;
	size_t off, end;

	if (family == AF_INET) {
		const struct ipt_entry *e = entry;
		off = sizeof(*e);
		end = e->target_offset;
	} else {
		const struct ip6t_entry *e = entry;
		off = sizeof(*e);
		end = e->target_offset;
	}
	const struct xt_entry_match *m;
	while ((m = next_match(base, &off, end)))
		if (strcmp(m->u.user.name, "comment") == 0) {
			const struct xt_comment_info *c = (const void *)m->data;
			if (memchr(c->comment, '\0', sizeof(c->comment)))
				return c->comment;
		}
	return NULL;
}

/* ---- tables ----------------------------------------------------------- */

static const char *tc_strerror(int family)
{
	return family == AF_INET ? iptc_strerror(errno) : ip6tc_strerror(errno);
}

static const char *tool(int family)
{
	return family == AF_INET ? "iptables" : "ip6tables";
}

int nlab_ipt_open(struct nlab_ipt_table **out, int family, const char *table, nlab_error **err)
{
	struct nlab_ipt_table *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (!t)
		return nlab_error_set(err, ENOMEM, "%s table %s", tool(family), table);
	t->family = family;
	snprintf(t->name, sizeof(t->name), "%s", table);
	t->h = family == AF_INET ? iptc_init(table) : ip6tc_init(table);
	if (!t->h) {
		int e = errno;
		const char *why = tc_strerror(family);
		free(t);
		if (e == ENOENT || e == EINVAL || e == ENOPROTOOPT)
			return nlab_error_set(err, 0,
					      "%s table %s: %s (does the kernel have CONFIG_IP%s_NF_IPTABLES and "
					      "CONFIG_IP%s_NF_%s?)",
					      tool(family), table, why, family == AF_INET ? "" : "6",
					      family == AF_INET ? "" : "6", strcmp(table, "nat") == 0 ? "NAT" : "FILTER");
		return nlab_error_set(err, 0, "%s table %s: %s", tool(family), table, why);
	}
	*out = t;
	return 0;
}

void nlab_ipt_close(struct nlab_ipt_table *t)
{
	if (!t)
		return;
	if (t->family == AF_INET)
		iptc_free(t->h);
	else
		ip6tc_free(t->h);
	free(t);
}

int nlab_ipt_append(struct nlab_ipt_table *t, const char *chain, const struct nlab_ipt_rule *r, nlab_error **err)
{
	_Alignas(8) uint8_t buf[1024];
	xt_chainlabel c;
	int ok;

	snprintf(c, sizeof(c), "%s", chain);

	if (r->family != t->family)
		return nlab_error_set(err, EINVAL, "rule family does not match table");
	if (nlab_ipt_build(r, buf, sizeof(buf), err) < 0)
		return -1;
	if (t->family == AF_INET)
		ok = iptc_append_entry(c, (const struct ipt_entry *)buf, t->h);
	else
		ok = ip6tc_append_entry(c, (const struct ip6t_entry *)buf, t->h);
	if (!ok)
		return nlab_error_set(err, 0, "%s -t %s -A %s: %s", tool(t->family), t->name, chain,
				      tc_strerror(t->family));
	return 0;
}

int nlab_ipt_set_policy(struct nlab_ipt_table *t, const char *chain, bool accept, nlab_error **err)
{
	xt_chainlabel c, v;
	snprintf(c, sizeof(c), "%s", chain);
	snprintf(v, sizeof(v), "%s", accept ? IPTC_LABEL_ACCEPT : IPTC_LABEL_DROP);
	int ok = t->family == AF_INET ? iptc_set_policy(c, v, NULL, t->h) : ip6tc_set_policy(c, v, NULL, t->h);

	if (!ok)
		return nlab_error_set(err, 0, "%s -t %s -P %s %s: %s", tool(t->family), t->name, chain, v,
				      tc_strerror(t->family));
	return 0;
}

static bool tag_matches(const char *comment, const char *tag)
{
	size_t n = strlen(tag);

	return comment && strncmp(comment, tag, n) == 0 && (comment[n] == '\0' || comment[n] == ' ');
}

int nlab_ipt_delete_tagged(struct nlab_ipt_table *t, const char *tag, unsigned *count, nlab_error **err)
{
	bool v4 = t->family == AF_INET;
	unsigned *del = NULL;
	size_t cap = 0;
	int r = 0;

	*count = 0;
	for (const char *cn = v4 ? iptc_first_chain(t->h) : ip6tc_first_chain(t->h); cn && r == 0;
	     cn = v4 ? iptc_next_chain(t->h) : ip6tc_next_chain(t->h)) {
		unsigned idx = 0;
		size_t ndel = 0;
		xt_chainlabel c;
		snprintf(c, sizeof(c), "%s", cn);
		/* Every tagged rule, however many: the numbers are collected
		 * first, since deleting moves the ones after. */
		for (const void *e = v4 ? (const void *)iptc_first_rule(c, t->h) : (const void *)ip6tc_first_rule(c, t->h);
		     e; e = v4 ? (const void *)iptc_next_rule(e, t->h) : (const void *)ip6tc_next_rule(e, t->h), idx++) {
			if (!tag_matches(nlab_ipt_entry_comment(t->family, e), tag))
				continue;
			if (ndel == cap) {
				size_t nc = cap ? cap * 2 : 64;
				unsigned *v = realloc(del, nc * sizeof(*v));
				if (!v) {
					free(del);
					return nlab_error_set(err, ENOMEM, "%s -t %s: tagged rules", tool(t->family),
							      t->name);
				}
				del = v;
				cap = nc;
			}
			del[ndel++] = idx;
		}
		/* Deleting from the end keeps the earlier numbers valid; the
		 * chain iterator is not disturbed by deleting rules. */
		while (ndel > 0) {
			unsigned n = del[--ndel];
			int ok = v4 ? iptc_delete_num_entry(c, n, t->h) : ip6tc_delete_num_entry(c, n, t->h);
			if (!ok) {
				r = nlab_error_set(err, 0, "%s -t %s -D %s %u: %s", tool(t->family), t->name, c, n + 1,
						   tc_strerror(t->family));
				break;
			}
			(*count)++;
		}
	}
	free(del);
	return r;
}

int nlab_ipt_commit(struct nlab_ipt_table *t, nlab_error **err)
{
	int ok = t->family == AF_INET ? iptc_commit(t->h) : ip6tc_commit(t->h);

	if (!ok)
		return nlab_error_set(err, 0, "commit %s table %s: %s", tool(t->family), t->name,
				      tc_strerror(t->family));
	return 0;
}

int nlab_ipt_foreach(struct nlab_ipt_table *t, void (*fn)(const struct nlab_ipt_seen *, void *), void *arg,
		     nlab_error **err)
{
	bool v4 = t->family == AF_INET;

	(void)err;
	for (const char *c = v4 ? iptc_first_chain(t->h) : ip6tc_first_chain(t->h); c;
	     c = v4 ? iptc_next_chain(t->h) : ip6tc_next_chain(t->h)) {
		struct nlab_ipt_seen s = { .chain = c };
		if (v4) {
			for (const struct ipt_entry *e = iptc_first_rule(c, t->h); e; e = iptc_next_rule(e, t->h)) {
				s.index++;
				s.comment = nlab_ipt_entry_comment(AF_INET, e);
				s.target = iptc_get_target(e, t->h);
				s.packets = e->counters.pcnt;
				s.bytes = e->counters.bcnt;
				fn(&s, arg);
			}
		} else {
			for (const struct ip6t_entry *e = ip6tc_first_rule(c, t->h); e; e = ip6tc_next_rule(e, t->h)) {
				s.index++;
				s.comment = nlab_ipt_entry_comment(AF_INET6, e);
				s.target = ip6tc_get_target(e, t->h);
				s.packets = e->counters.pcnt;
				s.bytes = e->counters.bcnt;
				fn(&s, arg);
			}
		}
	}
	return 0;
}

int nlab_ipt_get_policy(struct nlab_ipt_table *t, const char *chain, char *verdict, size_t len, uint64_t *packets,
			uint64_t *bytes, nlab_error **err)
{
	struct xt_counters c = { 0, 0 };
	const char *p = t->family == AF_INET ? iptc_get_policy(chain, &c, t->h) : ip6tc_get_policy(chain, &c, t->h);

	(void)err;
	snprintf(verdict, len, "%s", p ? p : "");
	*packets = c.pcnt;
	*bytes = c.bcnt;
	return 0;
}

bool nlab_ipt_table_exists(int family, const char *table)
{
	size_t len;
	char *names = read_file(family == AF_INET ? "/proc/net/ip_tables_names" : "/proc/net/ip6_tables_names", 4096,
				&len);
	bool found = false;

	for (char *save = NULL, *w = names ? strtok_r(names, "\n", &save) : NULL; w && !found;
	     w = strtok_r(NULL, "\n", &save))
		found = strcmp(w, table) == 0;
	free(names);
	return found;
}

static int lock_fd(int fd, const char *path, int timeout_ms, nlab_error **err)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		if (e != EWOULDBLOCK && e != EINTR) {
			close(fd);
			return nlab_error_set(err, e, "lock %s", path);
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		long ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (ms >= timeout_ms) {
			close(fd);
			return nlab_error_set(err, ETIMEDOUT,
					      "another iptables user holds %s for more than %d ms", path, timeout_ms);
		}
		usleep(20000);
	}
	return fd;
}

int nlab_ipt_lock(const char *path, int timeout_ms, nlab_error **err)
{
	int fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return nlab_error_set(err, errno, "open the xtables lock %s", path);
	return lock_fd(fd, path, timeout_ms, err);
}

int nlab_ipt_lock_at(int rootfd, const char *path, int timeout_ms, nlab_error **err)
{
	int fd = open_in_root(rootfd, path, O_CREAT | O_RDWR | O_NOFOLLOW, 0600, err);

	if (fd < 0)
		return nlab_error_wrap(err, "open the xtables lock");
	return lock_fd(fd, path, timeout_ms, err);
}
