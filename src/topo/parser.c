/* Statements of the topology language -> struct topology.  Each statement
 * is checked for form here (argument count and kind); checks that need the
 * whole file (references, duplicates across nodes) live in validate.c. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "topo/addr.h"
#include "topo/broken.h"
#include "topo/lexer.h"
#include "topo/parse_util.h"
#include "topo/range.h"
#include "topo/topo.h"
#include "util/cleanup.h"
#include "util/strutil.h"

struct parser {
	struct topology *t;
	struct diags *d;
	struct topo_broken *broken;     /* what failed, for the validator */
	ssize_t node;           /* index of the open node block, -1 if none,
				 * NODE_BROKEN inside a block whose header failed,
				 * RANGE_BLOCK inside a `node NAME[A..B]` block */
	struct logical_line *ll;        /* the statement being parsed */
	struct logical_line *src;       /* as written (ll is an expansion of it) */
	/* The open ranged node block: node index per expansion (NODE_BROKEN
	 * where the header failed), i of the first expansion, range id. */
	ssize_t *block_nodes;
	size_t block_n;
	int64_t block_lo;
	int block_range;
	struct logical_line x;          /* expansion scratch, see expand_line() */
	struct topo_sbuf xb;
	size_t expanded;                /* statements made by ranges so far */
	bool over_budget;
};

/* Statements inside a block whose `node` line was rejected are skipped:
 * reporting each as "outside a node block" would bury the real error. */
#define NODE_BROKEN (-2)
#define RANGE_BLOCK (-3)

typedef void (*stmt_fn)(struct parser *p);

enum scope { SCOPE_TOP, SCOPE_NODE, SCOPE_RESERVED };

struct keyword {
	const char *name;
	enum scope scope;
	int min, max;           /* argument counts; max -1 = unbounded */
	const char *usage;
	stmt_fn fn;
	bool host_ok;           /* allowed in `node host` */
};

static const struct keyword *find_keyword(const char *name);
static bool parse_on_off(struct parser *p, const struct tok *t, bool *on);

#define TOK(i) (&p->ll->toks[(i)])
#define NARGS ((int)p->ll->ntoks - 1)

static struct topo_node *cur_node(struct parser *p)
{
	return &p->t->nodes.v[p->node];
}

/* Column of byte `off` of a token's unquoted text, counting the quotes and
 * escapes that the source line has around it. */
static struct topo_pos text_pos(struct parser *p, const struct tok *t, size_t off)
{
	const char *raw = p->ll->buf + t->start, *end = p->ll->buf + t->end;
	struct topo_pos pos = t->pos;
	bool inq = false;
	size_t done = 0;

	/* Columns inside a substituted word do not map back to the source. */
	if (t->subst)
		return pos;

	/* Step over quotes before the wanted byte, and over an opening quote
	 * at it unless the quoted part is empty. */
	while (raw < end && (done < off || (*raw == '"' && raw + 1 < end && raw[1] != '"'))) {
		if (*raw == '"') {
			inq = !inq;
		} else {
			if (inq && *raw == '\\' && raw + 1 < end && (raw[1] == '"' || raw[1] == '\\')) {
				raw++;
				pos.col++;
			}
			done++;
		}
		if (((unsigned char)*raw & 0xC0) != 0x80)
			pos.col++;
		raw++;
	}
	return pos;
}

/* Position just after the last token: where a missing argument belongs. */
static struct topo_pos pos_after_last(struct parser *p)
{
	/* Measured on the words as written, not as expanded. */
	const struct tok *t = &p->src->toks[p->src->ntoks - 1];
	struct topo_pos pos = TOK(p->ll->ntoks - 1)->pos;

	pos.col = t->pos.col + (int)utf8_width(p->src->buf + t->start, t->end - t->start) + 1;
	return pos;
}

static void st_lab(struct parser *p)
{
	struct topology *t = p->t;
	const struct tok *n = TOK(1);

	if (NARGS >= 2 && strcmp(TOK(2)->text, "userns") != 0) {
		diag_error(p->d, TOK(2)->pos, "too many arguments to 'lab': lab NAME [userns off]");
		return;
	}
	if (NARGS == 2) {
		diag_error(p->d, pos_after_last(p), "'userns' needs 'on' or 'off': lab NAME userns off");
		return;
	}
	if (NARGS == 3) {
		bool on;
		if (!parse_on_off(p, TOK(3), &on))
			return;
		t->userns_off = !on;
	}
	if (t->name_explicit) {
		diag_error(p->d, TOK(0)->pos, "duplicate 'lab' statement: the lab is already named '%s'", t->name);
		diag_note(p->d, t->name_pos, "first 'lab' statement is here");
		return;
	}
	if (!topo_lab_name_valid(n->text)) {
		diag_error(p->d, n->pos,
			   "invalid lab name '%s': lab names use lowercase letters, digits and '-' (1 to %d characters)",
			   n->text, NLAB_NAME_MAX);
		t->name_explicit = true;
		t->name_pos = TOK(0)->pos;
		return;
	}
	free(t->name);
	t->name = strdup(n->text);
	t->name_explicit = true;
	t->name_pos = TOK(0)->pos;
}

/* Names of nodes and switches become hostnames, /etc/hosts entries and
 * parts of interface names, hence the conservative alphabet. */
static bool check_object_name(struct parser *p, const struct tok *tk, const char *what)
{
	const char *s = tk->text;
	size_t len = strlen(s);
	struct topo_pos pos = tk->pos;

	if (len == 0) {
		diag_error(p->d, pos, "empty %s name", what);
		return false;
	}
	if (!isalpha((unsigned char)s[0])) {
		diag_error(p->d, pos,
			   "invalid %s name '%s': names must start with a letter, then letters, digits, '-' or '_'",
			   what, s);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c != '-' && c != '_') {
			if (!tk->subst)
				pos.col = tk->pos.col + (int)utf8_width(s, i) + (tk->quoted ? 1 : 0);
			if (c >= 0x80)
				diag_error(p->d, pos,
					   "invalid %s name '%s': only ASCII letters, digits, '-' and '_' are allowed",
					   what, s);
			else
				diag_error(p->d, pos,
					   "invalid %s name '%s': character '%c' is not allowed (use letters, digits, '-' and '_')",
					   what, s, c);
			return false;
		}
	}
	if (len > NLAB_NAME_MAX) {
		diag_error(p->d, pos, "%s name '%s' is %zu characters long; the limit is %d", what, s, len,
			   NLAB_NAME_MAX);
		return false;
	}
	return true;
}

static bool name_taken(struct parser *p, const struct tok *tk)
{
	const char *name = tk->text;
	struct topo_node *n = topo_find_node(p->t, name);
	struct topo_switch *s = topo_find_switch(p->t, name);

	if (!n && !s)
		return false;
	diag_error(p->d, tk->pos, "duplicate name '%s': a %s of that name is already defined", name,
		   n ? "node" : "switch");
	diag_note(p->d, n ? n->pos : s->pos, "'%s' was first defined here", name);
	return true;
}

static void st_switch(struct parser *p)
{
	const struct tok *n = TOK(1);
	struct topo_switch *s;
	bool flood = false;

	if (NARGS >= 2 && strcmp(TOK(2)->text, "multicast") != 0) {
		diag_error(p->d, TOK(2)->pos, "unknown switch option '%s': switch NAME [multicast snoop|flood]",
			   TOK(2)->text);
		return;
	}
	if (NARGS == 2) {
		diag_error(p->d, pos_after_last(p), "'multicast' needs 'snoop' or 'flood': switch NAME multicast flood");
		return;
	}
	if (NARGS == 3) {
		if (strcmp(TOK(3)->text, "flood") == 0) {
			flood = true;
		} else if (strcmp(TOK(3)->text, "snoop") != 0) {
			diag_error(p->d, TOK(3)->pos, "'multicast' takes 'snoop' or 'flood', not '%s'", TOK(3)->text);
			return;
		}
	}
	if (!check_object_name(p, n, "switch")) {
		topo_broken_add_name(p->broken, n->text);
		return;
	}
	if (strcmp(n->text, "host") == 0) {
		diag_error(p->d, n->pos, "'host' is reserved for the namespace netlab runs in; choose another switch name");
		return;
	}
	if (name_taken(p, n))
		return;
	s = VEC_PUSH(p->t->switches);
	if (!s)
		return;
	s->name = strdup(n->text);
	s->pos = n->pos;
	s->mcast_flood = flood;
}

static void st_node(struct parser *p)
{
	const struct tok *n = TOK(1);
	struct topo_node *node;

	p->node = NODE_BROKEN;
	if (!check_object_name(p, n, "node")) {
		topo_broken_add_name(p->broken, n->text);
		return;
	}
	if (name_taken(p, n))
		return;
	node = VEC_PUSH(p->t->nodes);
	if (!node)
		return;
	node->name = strdup(n->text);
	node->pos = n->pos;
	node->is_host = strcmp(n->text, "host") == 0;
	p->node = (ssize_t)p->t->nodes.n - 1;
}

/* NODE:IFACE, host:IFACE or SWITCH. */
static bool parse_end(struct parser *p, const struct tok *tk, struct topo_end *e)
{
	const char *colon = strchr(tk->text, ':');

	e->pos = tk->pos;
	e->index = -1;
	if (!colon) {
		e->kind = TOPO_END_SWITCH;
		e->name = strdup(tk->text);
		return e->name != NULL;
	}
	e->name = strndup(tk->text, (size_t)(colon - tk->text));
	if (!e->name)
		return false;
	e->kind = strcmp(e->name, "host") == 0 ? TOPO_END_HOST : TOPO_END_NODE;
	struct topo_pos ip = text_pos(p, tk, (size_t)(colon - tk->text) + 1);
	if (e->name[0] == '\0') {
		diag_error(p->d, tk->pos, "link end '%s' has no node name before ':'", tk->text);
		return false;
	}
	return parse_ifname(p->d, ip, colon + 1, e->ifname);
}

static void st_link(struct parser *p)
{
	struct topo_link *l = VEC_PUSH(p->t->links);
	int i;

	if (!l)
		return;
	l->pos = TOK(0)->pos;
	bool ok = parse_end(p, TOK(1), &l->a);
	ok = parse_end(p, TOK(2), &l->b) && ok;
	for (i = 3; i < (int)p->ll->ntoks; i += 2) {
		const struct tok *opt = TOK(i), *val = i + 1 < (int)p->ll->ntoks ? TOK(i + 1) : NULL;
		static const char *const opts[] = { "mtu", "rate", "delay", "jitter", "loss" };
		int which = parse_choice(p->d, opt->pos, "link option", "options", opt->text, opts, 5);

		if (which < 0) {
			ok = false;
			break;
		}
		if (!val) {
			diag_error(p->d, pos_after_last(p), "link option '%s' needs a value", opt->text);
			ok = false;
			break;
		}
		uint64_t v;
		bool good = false;
		switch (which) {
		case 0:
			if ((good = parse_number(p->d, val, "MTU", 68, 65535, &v)))
				l->mtu = (int)v;
			break;
		case 1:
			if ((good = parse_rate(p->d, val, &l->rate_bps)))
				l->rate_pos = val->pos;
			break;
		case 2:
			if ((good = parse_duration(p->d, val, "delay", &l->delay_us)))
				l->delay_pos = val->pos;
			break;
		case 3:
			if ((good = parse_duration(p->d, val, "jitter", &l->jitter_us)))
				l->jitter_pos = val->pos;
			break;
		case 4:
			if ((good = parse_percent(p->d, val, &l->loss_ppm)))
				l->loss_pos = val->pos;
			break;
		default:
			break;
		}
		ok = ok && good;
	}
	if (l->jitter_us && !l->delay_us && ok) {
		diag_error(p->d, l->jitter_pos, "'jitter' needs a 'delay' on the same link");
		ok = false;
	}
	if (!ok)
		topo_broken_mark_link(p->broken, (size_t)(l - p->t->links.v));
}

static void st_ip(struct parser *p)
{
	struct topo_node *n = cur_node(p);
	struct topo_ipaddr a = { .pos = TOK(0)->pos };
	char why[160];

	if (!parse_ifname(p->d, text_pos(p, TOK(1), 0), TOK(1)->text, a.ifname))
		return;
	a.if_pos = TOK(1)->pos;
	if (cidr_parse(TOK(2)->text, true, &a.cidr, why, sizeof(why)) < 0) {
		diag_error(p->d, TOK(2)->pos, "bad address: %s", why);
		return;
	}
	a.pos = TOK(2)->pos;
	struct topo_ipaddr *slot = VEC_PUSH(n->addrs);
	if (slot)
		*slot = a;
}

static void st_route(struct parser *p)
{
	struct topo_node *n = cur_node(p);
	struct topo_route r = { .pos = TOK(0)->pos };
	const struct tok *dst = TOK(1);
	char why[160];
	int i;

	if (strcmp(dst->text, "default") == 0) {
		r.is_default = true;
		r.dst.family = 0; /* decided by the gateway, IPv4 without one */
	} else if (cidr_parse(dst->text, false, &r.dst, why, sizeof(why)) < 0) {
		diag_error(p->d, dst->pos, "bad route destination: %s (write 'default' or a prefix like 10.1.0.0/16)", why);
		return;
	} else {
		struct topo_cidr net;
		char buf[64];
		if (cidr_has_host_bits(&r.dst, &net)) {
			cidr_format(&net, buf, sizeof(buf));
			diag_error(p->d, dst->pos, "route destination '%s' has host bits set; did you mean %s?", dst->text,
				   buf);
			return;
		}
	}
	for (i = 2; i < (int)p->ll->ntoks; i += 2) {
		const struct tok *kw = TOK(i);
		const struct tok *val = i + 1 < (int)p->ll->ntoks ? TOK(i + 1) : NULL;
		bool is_via = strcmp(kw->text, "via") == 0, is_dev = strcmp(kw->text, "dev") == 0;

		if (!is_via && !is_dev) {
			diag_error(p->d, kw->pos, "expected 'via GATEWAY' or 'dev IFACE' in route, found '%s'", kw->text);
			return;
		}
		if (!val) {
			diag_error(p->d, pos_after_last(p), "'%s' needs a value", kw->text);
			return;
		}
		if ((is_via && r.has_via) || (is_dev && r.dev[0])) {
			diag_error(p->d, kw->pos, "'%s' given twice in one route", kw->text);
			return;
		}
		if (is_via) {
			int fam;
			if (addr_parse(val->text, &fam, r.via) < 0) {
				diag_error(p->d, val->pos, "bad gateway '%s': expected an IPv4 or IPv6 address without prefix",
					   val->text);
				return;
			}
			if (r.dst.family && fam != r.dst.family) {
				diag_error(p->d, val->pos, "gateway %s is %s but the destination is %s", val->text,
					   fam == AF_INET ? "IPv4" : "IPv6", r.dst.family == AF_INET ? "IPv4" : "IPv6");
				return;
			}
			r.dst.family = fam;
			r.has_via = true;
			r.via_pos = val->pos;
		} else {
			if (!parse_ifname(p->d, text_pos(p, val, 0), val->text, r.dev))
				return;
			r.dev_pos = val->pos;
		}
	}
	if (!r.has_via && !r.dev[0]) {
		diag_error(p->d, pos_after_last(p), "route needs 'via GATEWAY' or 'dev IFACE': route %s via 192.0.2.1",
			   dst->text);
		return;
	}
	if (!r.dst.family)
		r.dst.family = AF_INET;
	struct topo_route *slot = VEC_PUSH(n->routes);
	if (slot)
		*slot = r;
}

static void st_forward(struct parser *p)
{
	cur_node(p)->forward = true;
}

static void st_sysctl(struct parser *p)
{
	struct topo_node *n = cur_node(p);
	const struct tok *k = TOK(1);
	cleanup_free char *key = NULL;
	const char *value;

	if (NARGS == 1) {
		const char *eq = strchr(k->text, '=');
		if (!eq) {
			diag_error(p->d, k->pos, "sysctl needs KEY=VALUE, e.g. sysctl net.ipv4.ip_forward=1");
			return;
		}
		key = strndup(k->text, (size_t)(eq - k->text));
		value = eq + 1;
	} else {
		key = strdup(k->text);
		value = TOK(2)->text;
	}
	if (!key)
		return;
	if (!str_has_prefix(key, "net.") || strstr(key, "..") || strchr(key, '/') || key[strlen(key) - 1] == '.') {
		diag_error(p->d, k->pos,
			   "sysctl key '%s' is not allowed: only per-network-namespace keys under 'net.' can be set",
			   key);
		return;
	}
	if (*value == '\0') {
		diag_error(p->d, k->pos, "sysctl '%s' has an empty value", key);
		return;
	}
	struct topo_kv *kv = VEC_PUSH(n->sysctls);
	if (!kv)
		return;
	kv->key = steal_ptr(&key);
	kv->value = strdup(value);
	kv->pos = k->pos;
}

static void st_hostname(struct parser *p)
{
	struct topo_node *n = cur_node(p);
	const char *h = TOK(1)->text;
	size_t len = strlen(h);

	if (n->hostname) {
		diag_error(p->d, TOK(0)->pos, "hostname given twice for node '%s'", n->name);
		return;
	}
	/* RFC 1123 labels; the kernel takes up to 64 bytes. */
	bool ok = len > 0 && len <= 64 && h[0] != '-' && h[0] != '.';
	for (size_t i = 0; ok && i < len; i++)
		ok = isalnum((unsigned char)h[i]) || h[i] == '-' || h[i] == '.';
	if (!ok) {
		diag_error(p->d, TOK(1)->pos,
			   "invalid hostname '%s': use letters, digits, '-' and '.', at most 64 characters", h);
		return;
	}
	n->hostname = strdup(h);
}

static void st_env(struct parser *p)
{
	struct topo_node *n = cur_node(p);
	const struct tok *t = TOK(1);
	const char *eq = strchr(t->text, '=');
	size_t klen = eq ? (size_t)(eq - t->text) : 0;
	bool ok = eq && klen > 0 && (isalpha((unsigned char)t->text[0]) || t->text[0] == '_');

	for (size_t i = 0; ok && i < klen; i++)
		ok = isalnum((unsigned char)t->text[i]) || t->text[i] == '_';
	if (!ok) {
		diag_error(p->d, t->pos, "env needs NAME=VALUE with NAME made of letters, digits and '_', e.g. env GREETING=hello");
		return;
	}
	struct topo_kv *kv = VEC_PUSH(n->envs);
	if (!kv)
		return;
	kv->key = strndup(t->text, klen);
	kv->value = strdup(eq + 1);
	kv->pos = t->pos;
}

static void st_cmd(struct parser *p)
{
	struct topo_node *n = cur_node(p);
	struct topo_cmd *c = VEC_PUSH(n->cmds);

	if (!c)
		return;
	c->kind = strcmp(TOK(0)->text, "run") == 0 ? TOPO_CMD_RUN : TOPO_CMD_EXEC;
	c->text = logical_line_rest(p->ll, 1);
	c->pos = TOK(1)->pos;
}

static void st_nat(struct parser *p)
{
	struct topo_node *n = cur_node(p);
	struct topo_nat nat = { .pos = TOK(0)->pos };
	const char *kind = TOK(1)->text;
	char why[160];

	if (strcmp(kind, "masquerade") == 0) {
		nat.kind = TOPO_NAT_MASQUERADE;
		if (NARGS != 2) {
			diag_error(p->d, NARGS < 2 ? pos_after_last(p) : TOK(3)->pos, "usage: nat masquerade IFACE");
			return;
		}
		if (!parse_ifname(p->d, text_pos(p, TOK(2), 0), TOK(2)->text, nat.ifname))
			return;
		nat.if_pos = TOK(2)->pos;
	} else if (strcmp(kind, "snat") == 0) {
		nat.kind = TOPO_NAT_SNAT;
		if (NARGS != 4) {
			diag_error(p->d, NARGS < 4 ? pos_after_last(p) : TOK(5)->pos, "usage: nat snat CIDR IFACE ADDRESS");
			return;
		}
		if (cidr_parse(TOK(2)->text, false, &nat.src, why, sizeof(why)) < 0) {
			diag_error(p->d, TOK(2)->pos, "bad source range: %s", why);
			return;
		}
		if (!parse_ifname(p->d, text_pos(p, TOK(3), 0), TOK(3)->text, nat.ifname))
			return;
		nat.if_pos = TOK(3)->pos;
		if (cidr_parse(TOK(4)->text, false, &nat.to, why, sizeof(why)) < 0 ||
		    nat.to.prefixlen != (nat.to.family == AF_INET ? 32 : 128)) {
			diag_error(p->d, TOK(4)->pos, "bad SNAT address '%s': expected one address without prefix",
				   TOK(4)->text);
			return;
		}
		if (nat.to.family != nat.src.family) {
			diag_error(p->d, TOK(4)->pos, "SNAT address and source range are of different IP versions");
			return;
		}
		nat.to_pos = TOK(4)->pos;
	} else if (strcmp(kind, "dnat") == 0) {
		nat.kind = TOPO_NAT_DNAT;
		if (NARGS != 5) {
			diag_error(p->d, NARGS < 5 ? pos_after_last(p) : TOK(6)->pos,
				   "usage: nat dnat IFACE tcp|udp PORT ADDRESS[:PORT]");
			return;
		}
		if (!parse_ifname(p->d, text_pos(p, TOK(2), 0), TOK(2)->text, nat.ifname))
			return;
		nat.if_pos = TOK(2)->pos;
		if (strcmp(TOK(3)->text, "tcp") == 0)
			nat.proto = IPPROTO_TCP;
		else if (strcmp(TOK(3)->text, "udp") == 0)
			nat.proto = IPPROTO_UDP;
		else {
			diag_error(p->d, TOK(3)->pos, "port forwarding protocol must be 'tcp' or 'udp', not '%s'",
				   TOK(3)->text);
			return;
		}
		uint64_t v;
		if (!parse_number(p->d, TOK(4), "port", 1, 65535, &v))
			return;
		nat.port = (int)v;
		if (!parse_hostport(p->d, TOK(5), &nat.to, &nat.to_port))
			return;
		nat.to_pos = TOK(5)->pos;
	} else {
		static const char *const kinds[] = { "masquerade", "snat", "dnat" };
		parse_choice(p->d, TOK(1)->pos, "nat kind", "kinds", kind, kinds, 3);
		return;
	}
	struct topo_nat *slot = VEC_PUSH(n->nats);
	if (slot)
		*slot = nat;
}

static bool parse_chain(struct parser *p, const struct tok *t, enum topo_chain *c)
{
	static const char *const chains[] = { "input", "output", "forward" };
	int i = parse_choice(p->d, t->pos, "chain", "chains", t->text, chains, 3);

	if (i >= 0)
		*c = (enum topo_chain)i;
	return i >= 0;
}

static bool parse_action(struct parser *p, const struct tok *t, enum topo_action *a)
{
	static const char *const acts[] = { "accept", "drop", "reject" };
	int i = parse_choice(p->d, t->pos, "action", "actions", t->text, acts, 3);

	if (i >= 0)
		*a = (enum topo_action)i;
	return i >= 0;
}

static void st_firewall(struct parser *p)
{
	struct topo_node *n = cur_node(p);
	struct topo_fw_rule r = { .pos = TOK(0)->pos };
	int i;

	if (strcmp(TOK(1)->text, "policy") == 0) {
		r.is_policy = true;
		if (NARGS != 3) {
			diag_error(p->d, NARGS < 3 ? pos_after_last(p) : TOK(4)->pos,
				   "usage: firewall policy input|output|forward accept|drop");
			return;
		}
		if (!parse_chain(p, TOK(2), &r.chain) || !parse_action(p, TOK(3), &r.action))
			return;
		if (r.action == TOPO_ACT_REJECT) {
			diag_error(p->d, TOK(3)->pos,
				   "a chain policy can only be 'accept' or 'drop'; add a last rule 'firewall %s reject' instead",
				   TOK(2)->text);
			return;
		}
		goto push;
	}
	if (NARGS < 2) {
		diag_error(p->d, pos_after_last(p), "usage: firewall CHAIN accept|drop|reject [MATCH...]");
		return;
	}
	if (!parse_chain(p, TOK(1), &r.chain) || !parse_action(p, TOK(2), &r.action))
		return;
	for (i = 3; i < (int)p->ll->ntoks; i += 2) {
		if (!parse_fw_match(p->d, TOK(i), i + 1 < (int)p->ll->ntoks ? TOK(i + 1) : NULL, pos_after_last(p), &r))
			return;
	}
	if ((r.sport_lo || r.dport_lo) && r.proto != IPPROTO_TCP && r.proto != IPPROTO_UDP) {
		diag_error(p->d, r.pos, "'sport'/'dport' need 'proto tcp' or 'proto udp' in the same rule");
		return;
	}
	if (r.in[0] && r.chain == TOPO_CHAIN_OUTPUT) {
		diag_error(p->d, r.in_pos, "'in' cannot be used on the output chain: outgoing packets have no input interface");
		return;
	}
	if (r.out[0] && r.chain == TOPO_CHAIN_INPUT) {
		diag_error(p->d, r.out_pos, "'out' cannot be used on the input chain: incoming packets have no output interface");
		return;
	}
push:;
	struct topo_fw_rule *slot = VEC_PUSH(n->fw);
	if (slot)
		*slot = r;
}

/* ---- isolation statements (docs/isolation.md) ------------------------ */

static bool parse_on_off(struct parser *p, const struct tok *t, bool *on)
{
	static const char *const words[] = { "on", "off" };
	int i = parse_choice(p->d, t->pos, "value", "values", t->text, words, 2);

	if (i >= 0)
		*on = i == 0;
	return i >= 0;
}

static void st_userns(struct parser *p)
{
	struct topo_node *n = cur_node(p);
	bool on;

	if (parse_on_off(p, TOK(1), &on)) {
		n->userns_off = !on;
		n->userns_pos = TOK(0)->pos;
	}
}

/* A user or group as written: a name as useradd accepts it, or a number. */
static bool id_word_ok(const char *s, size_t len)
{
	bool digits = len > 0;

	for (size_t i = 0; i < len; i++)
		digits = digits && isdigit((unsigned char)s[i]);
	if (digits)
		return len <= 10 && strtoull(s, NULL, 10) < 4294967295ULL;
	if (len == 0 || len > 32 || !(islower((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_' || s[i] == '-' ||
		      (s[i] == '$' && i == len - 1)))
			return false;
	return true;
}

static void st_user(struct parser *p)
{
	struct topo_node *n = cur_node(p);
	const char *w = TOK(1)->text, *colon = strchr(w, ':');
	size_t ulen = colon ? (size_t)(colon - w) : strlen(w);

	if (n->has_user) {
		diag_error(p->d, TOK(0)->pos, "user given twice for node '%s'", n->name);
		return;
	}
	if (!id_word_ok(w, ulen) || (colon && !id_word_ok(colon + 1, strlen(colon + 1)))) {
		diag_error(p->d, TOK(1)->pos,
			   "bad user '%s': write a user name or UID, optionally ':' and a group name or GID, e.g. user nobody or user 1000:1000",
			   w);
		return;
	}
	n->has_user = true;
	n->user = strndup(w, ulen);
	n->group = colon ? strdup(colon + 1) : NULL;
	n->user_pos = TOK(1)->pos;
}

/* Absolute, normalised enough that what the user reads is what is used. */
static bool abs_path_ok(struct parser *p, const struct tok *t, const char *what)
{
	const char *s = t->text;

	if (s[0] != '/') {
		diag_error(p->d, t->pos, "%s '%s' must be an absolute path", what, s);
		return false;
	}
	for (const char *c = s; *c; c++)
		if (c[0] == '/' && c[1] == '.' && c[2] == '.' && (c[3] == '/' || c[3] == '\0')) {
			diag_error(p->d, t->pos, "%s '%s' must not contain '..'", what, s);
			return false;
		}
	if (strlen(s) >= 1024) {
		diag_error(p->d, t->pos, "%s is longer than 1023 bytes", what);
		return false;
	}
	return true;
}

static void st_rootfs(struct parser *p)
{
	struct topo_node *n = cur_node(p);

	if (n->rootfs) {
		diag_error(p->d, TOK(0)->pos, "rootfs given twice for node '%s'", n->name);
		return;
	}
	if (!abs_path_ok(p, TOK(1), "rootfs directory"))
		return;
	if (strcmp(TOK(1)->text, "/") == 0) {
		diag_error(p->d, TOK(1)->pos, "rootfs '/' is the host's own root; leave 'rootfs' out instead");
		return;
	}
	n->rootfs = strdup(TOK(1)->text);
	n->rootfs_pos = TOK(1)->pos;
}

static void st_mount(struct parser *p)
{
	struct topo_node *n = cur_node(p);
	struct topo_mount m = { .pos = TOK(0)->pos };

	if (!abs_path_ok(p, TOK(1), "mount source") || !abs_path_ok(p, TOK(2), "mount target"))
		return;
	if (NARGS == 3) {
		static const char *const opts[] = { "ro", "rw" };
		int i = parse_choice(p->d, TOK(3)->pos, "mount option", "options", TOK(3)->text, opts, 2);
		if (i < 0)
			return;
		m.ro = i == 0;
	}
	m.src = strdup(TOK(1)->text);
	m.dst = strdup(TOK(2)->text);
	m.dst_pos = TOK(2)->pos;
	struct topo_mount *slot = VEC_PUSH(n->mounts);
	if (slot)
		*slot = m;
	else {
		free(m.src);
		free(m.dst);
	}
}

static void st_tmpfs(struct parser *p)
{
	struct topo_node *n = cur_node(p);
	struct topo_mount m = { .pos = TOK(0)->pos, .tmpfs = true };

	if (!abs_path_ok(p, TOK(1), "tmpfs target"))
		return;
	if (NARGS == 2 && !parse_size(p->d, TOK(2), "tmpfs size", 4096, UINT64_MAX / 2, &m.size))
		return;
	m.dst = strdup(TOK(1)->text);
	m.dst_pos = TOK(1)->pos;
	struct topo_mount *slot = VEC_PUSH(n->mounts);
	if (slot)
		*slot = m;
	else
		free(m.dst);
}

/* The value the clock shows when the node starts: up to ~31 years. */
static void st_clock(struct parser *p)
{
	struct topo_node *n = cur_node(p);
	bool boot = strcmp(TOK(0)->text, "boottime") == 0;
	uint64_t v;

	if (boot ? n->has_boottime : n->has_monotonic) {
		diag_error(p->d, TOK(0)->pos, "%s given twice for node '%s'", TOK(0)->text, n->name);
		return;
	}
	if (!parse_number(p->d, TOK(1), "seconds", 0, 1000000000, &v))
		return;
	if (boot) {
		n->has_boottime = true;
		n->boottime_s = (int64_t)v;
		n->boottime_pos = TOK(1)->pos;
	} else {
		n->has_monotonic = true;
		n->monotonic_s = (int64_t)v;
		n->monotonic_pos = TOK(1)->pos;
	}
}

static void st_limit(struct parser *p)
{
	struct topo_node *n = cur_node(p);
	const char *kw = TOK(0)->text;
	uint64_t v;

	if ((!strcmp(kw, "cpu") && n->cpu_millis) || (!strcmp(kw, "memory") && n->memory_bytes) ||
	    (!strcmp(kw, "pids") && n->pids_max)) {
		diag_error(p->d, TOK(0)->pos, "%s limit given twice for node '%s'", kw, n->name);
		return;
	}
	if (!strcmp(kw, "cpu")) {
		/* The CFS quota cannot go below 1 ms per 100 ms period. */
		if (parse_fraction(p->d, TOK(1), "cpu", 10, 1024000, &n->cpu_millis))
			n->cpu_pos = TOK(1)->pos;
	} else if (!strcmp(kw, "memory")) {
		/* Below a few MiB the node's own init and first command die. */
		if (parse_size(p->d, TOK(1), "memory", 4ULL << 20, 1ULL << 50, &n->memory_bytes))
			n->memory_pos = TOK(1)->pos;
	} else if (parse_number(p->d, TOK(1), "pids", 2, 4194304, &v)) {
		/* The node's init is one of them. */
		n->pids_max = (uint32_t)v;
		n->pids_pos = TOK(1)->pos;
	}
}

static void st_reserved(struct parser *p)
{
	diag_error(p->d, TOK(0)->pos, "'%s' is reserved for a future netlab release", TOK(0)->text);
}

static const struct keyword keywords[] = {
	{ "lab", SCOPE_TOP, 1, 3, "lab NAME [userns off]", st_lab, false },
	{ "switch", SCOPE_TOP, 1, 3, "switch NAME [multicast snoop|flood]", st_switch, false },
	{ "node", SCOPE_TOP, 1, 1, "node NAME", st_node, false },
	{ "link", SCOPE_TOP, 2, -1, "link END END [mtu N] [rate R] [delay D] [jitter J] [loss P%]", st_link, false },
	{ "expect", SCOPE_RESERVED, 0, -1, "", st_reserved, false },
	{ "ip", SCOPE_NODE, 2, 2, "ip IFACE CIDR", st_ip, true },
	{ "route", SCOPE_NODE, 3, 5, "route default|CIDR via GATEWAY [dev IFACE] | route default|CIDR dev IFACE", st_route, true },
	{ "forward", SCOPE_NODE, 0, 0, "forward", st_forward, true },
	{ "sysctl", SCOPE_NODE, 1, 2, "sysctl net.KEY=VALUE", st_sysctl, false },
	{ "hostname", SCOPE_NODE, 1, 1, "hostname NAME", st_hostname, false },
	{ "env", SCOPE_NODE, 1, 1, "env NAME=VALUE", st_env, false },
	{ "exec", SCOPE_NODE, 1, -1, "exec COMMAND...", st_cmd, false },
	{ "run", SCOPE_NODE, 1, -1, "run COMMAND...", st_cmd, false },
	{ "nat", SCOPE_NODE, 2, 5, "nat masquerade IFACE | nat snat CIDR IFACE ADDRESS | nat dnat IFACE tcp|udp PORT ADDRESS[:PORT]", st_nat, true },
	{ "firewall", SCOPE_NODE, 2, -1, "firewall policy CHAIN accept|drop | firewall CHAIN accept|drop|reject [MATCH...]", st_firewall, false },
	{ "userns", SCOPE_NODE, 1, 1, "userns on|off", st_userns, false },
	{ "user", SCOPE_NODE, 1, 1, "user NAME|UID[:GROUP|GID]", st_user, false },
	{ "rootfs", SCOPE_NODE, 1, 1, "rootfs DIR", st_rootfs, false },
	{ "mount", SCOPE_NODE, 2, 3, "mount SRC DST [ro]", st_mount, false },
	{ "tmpfs", SCOPE_NODE, 1, 2, "tmpfs DST [SIZE]", st_tmpfs, false },
	{ "boottime", SCOPE_NODE, 1, 1, "boottime SECONDS", st_clock, false },
	{ "monotonic", SCOPE_NODE, 1, 1, "monotonic SECONDS", st_clock, false },
	{ "cpu", SCOPE_NODE, 1, 1, "cpu FRACTION (of one CPU, e.g. 0.5)", st_limit, false },
	{ "memory", SCOPE_NODE, 1, 1, "memory SIZE (e.g. 64M)", st_limit, false },
	{ "pids", SCOPE_NODE, 1, 1, "pids N", st_limit, false },
};

#define NKEYWORDS (sizeof(keywords) / sizeof(keywords[0]))

static const struct keyword *find_keyword(const char *name)
{
	for (size_t i = 0; i < NKEYWORDS; i++)
		if (strcmp(keywords[i].name, name) == 0)
			return &keywords[i];
	return NULL;
}

static void unknown_keyword(struct parser *p)
{
	const char *names[NKEYWORDS];
	const struct tok *t = TOK(0);

	for (size_t i = 0; i < NKEYWORDS; i++)
		names[i] = keywords[i].name;
	const char *near = str_nearest(t->text, names, NKEYWORDS);
	if (near && strcmp(near, "node") == 0)
		p->node = NODE_BROKEN;
	else if (near && find_keyword(near)->scope == SCOPE_TOP)
		p->node = -1;
	if (near)
		diag_error(p->d, t->pos, "unknown keyword '%s'; did you mean '%s'?", t->text, near);
	else
		diag_error(p->d, t->pos, "unknown keyword '%s' (see docs/topology.md for the statements)", t->text);
}

/* ------------------------------------------------------------------ */
/* Ranges: a statement with NAME[A..B] (node, switch, link ends) or one
 * inside a `node NAME[A..B]` block is parsed once per i in A..B, on a copy
 * of its words where the range becomes i and every `{EXPR}` its value.
 * The statement functions above never see a range. */

struct name_range {
	size_t tok;                     /* token index in the statement */
	struct topo_range raw, text;    /* span in the word as written / unquoted */
	char *label;                    /* "h[1..10]" */
	char *pattern;                  /* "h[]": names it makes, for p->broken */
};

static void name_range_free(struct name_range *nr)
{
	free(nr->label);
	free(nr->pattern);
	nr->label = nr->pattern = NULL;
}

/* Length of a link end's name part (before ':'), or of the whole word. */
static size_t name_part(const char *s, size_t len, bool link_end)
{
	const char *colon = link_end ? memchr(s, ':', len) : NULL;

	return colon ? (size_t)(colon - s) : len;
}

/* Find the range in word tk of the statement as written: 0 none, 1 found,
 * -1 after reporting a bad one (nr->pattern still set when possible). */
static int find_name_range(struct parser *p, size_t tk, bool link_end, struct name_range *nr)
{
	const struct tok *t = &p->src->toks[tk];
	const char *raw = p->src->buf + t->start;
	size_t rawlen = name_part(raw, t->end - t->start, link_end);
	size_t textlen = name_part(t->text, strlen(t->text), link_end);
	char why[200];
	size_t off = 0;

	memset(nr, 0, sizeof(*nr));
	nr->tok = tk;
	int r = topo_range_find(raw, rawlen, &nr->raw, why, sizeof(why), &off);
	if (r == 0)
		return 0;
	/* Names they would make: PREFIX[]SUFFIX, cut at the '['. */
	const char *open = memchr(t->text, '[', textlen), *close = open ? memchr(open, ']', textlen - (size_t)(open - t->text)) : NULL;
	if (open && asprintf(&nr->pattern, "%.*s[]%.*s", (int)(open - t->text), t->text,
			     close ? (int)(textlen - (size_t)(close + 1 - t->text)) : 0, close ? close + 1 : "") < 0)
		nr->pattern = NULL;
	if (r > 0) {
		size_t toff;
		char twhy[200];
		if (topo_range_find(t->text, textlen, &nr->text, twhy, sizeof(twhy), &toff) != 1) {
			r = -1;
			off = nr->raw.start;
			snprintf(why, sizeof(why), "a range cannot be split by quotes");
		}
	}
	if (r < 0) {
		struct topo_pos pos = t->pos;
		pos.col += (int)utf8_width(raw, off);
		diag_error(p->d, pos, "bad range in '%.*s': %s", (int)textlen, t->text, why);
		return -1;
	}
	if (asprintf(&nr->label, "%.*s", (int)textlen, t->text) < 0) {
		nr->label = NULL;
		return -1;
	}
	return 1;
}

static bool expansion_budget(struct parser *p)
{
	if (p->over_budget)
		return false;
	if (++p->expanded <= TOPO_EXPANSION_MAX)
		return true;
	p->over_budget = true;
	diag_error(p->d, p->src->toks[0].pos,
		   "ranges in this file expand to more than %d statements; split the lab or use smaller ranges",
		   TOPO_EXPANSION_MAX);
	return false;
}

static void x_reset(struct parser *p)
{
	for (size_t k = 0; k < p->x.ntoks; k++)
		free(p->x.toks[k].text);
	p->x.ntoks = 0;
	p->xb.len = 0;
}

/* Build p->x: p->src with ranges nr[0..nnr) replaced by values[] and
 * `{EXPR}` by their value for i.  Positions keep the source's line:col and
 * carry (range, i) so every diagnostic names the expansion.  False after
 * reporting an expression error. */
static bool expand_line(struct parser *p, const struct name_range *nr, const int64_t *values, size_t nnr, int64_t i,
			int range)
{
	const struct logical_line *src = p->src;
	size_t prev_end = src->ntoks ? src->toks[0].start : 0;
	struct topo_sbuf text = { 0 };
	char why[160];

	x_reset(p);
	if (p->x.tokcap < src->ntoks) {
		struct tok *nt = realloc(p->x.toks, src->ntoks * sizeof(*nt));
		if (!nt)
			return false;
		p->x.toks = nt;
		p->x.tokcap = src->ntoks;
	}
	for (size_t k = 0; k < src->ntoks; k++) {
		const struct tok *st = &src->toks[k];
		const struct topo_range *rr = NULL, *rt = NULL;
		int64_t v = 0;
		size_t off = 0;

		for (size_t m = 0; m < nnr; m++)
			if (nr[m].tok == k) {
				rr = &nr[m].raw;
				rt = &nr[m].text;
				v = values[m];
			}
		if (topo_sbuf_add(&p->xb, src->buf + prev_end, st->start - prev_end) < 0)
			goto oom;
		size_t start = p->xb.len;
		const char *raw = src->buf + st->start;
		if (topo_subst(raw, st->end - st->start, rr, v, i, &p->xb, why, sizeof(why), &off) < 0) {
			if (!why[0])
				goto oom;
			struct topo_pos pos = st->pos;
			pos.col += (int)utf8_width(raw, off);
			pos.range = range;
			pos.iter = (int)i;
			diag_error(p->d, pos, "%s", why);
			topo_sbuf_free(&text);
			return false;
		}
		text.len = 0;
		if (topo_subst(st->text, strlen(st->text), rt, v, i, &text, why, sizeof(why), &off) < 0 && !why[0])
			goto oom;
		struct tok *xt = &p->x.toks[p->x.ntoks];
		*xt = *st;
		xt->text = strdup(text.s ? text.s : "");
		if (!xt->text)
			goto oom;
		p->x.ntoks++;
		xt->start = start;
		xt->end = p->xb.len;
		xt->subst = xt->end - xt->start != st->end - st->start ||
			    memcmp(p->xb.s + start, raw, st->end - st->start) != 0;
		xt->pos.range = range;
		xt->pos.iter = (int)i;
		prev_end = st->end;
	}
	if (topo_sbuf_add(&p->xb, " ", 1) < 0)
		goto oom;
	/* Offsets above are from the first word: keep buf aligned with src. */
	p->x.buf = p->xb.s;
	p->x.len = p->xb.len;
	topo_sbuf_free(&text);
	return true;
oom:
	topo_sbuf_free(&text);
	diag_error(p->d, (struct topo_pos){ .line = 0 }, "out of memory");
	return false;
}

/* Run kw on expansion i: p->ll points at the expanded words meanwhile. */
static bool run_expansion(struct parser *p, const struct keyword *kw, const struct name_range *nr,
			  const int64_t *values, size_t nnr, int64_t i, int range)
{
	if (!expansion_budget(p) || !expand_line(p, nr, values, nnr, i, range))
		return false;
	p->ll = &p->x;
	kw->fn(p);
	p->ll = p->src;
	return true;
}

static void close_block(struct parser *p)
{
	free(p->block_nodes);
	p->block_nodes = NULL;
	p->block_n = 0;
}

/* Names a rejected range would have made stay "known but broken", and
 * nodes it would have linked are not reported for missing interfaces. */
static void range_broken(struct parser *p, const struct name_range *nr, bool link)
{
	if (!nr->pattern)
		return;
	if (!link) {
		topo_broken_add_name(p->broken, nr->pattern);
		return;
	}
	for (size_t k = 0; k < p->t->nodes.n; k++)
		if (topo_range_pattern_match(nr->pattern, p->t->nodes.v[k].name))
			topo_broken_mark_node(p->broken, k);
	topo_broken_add_name(p->broken, nr->pattern);
}

static void expand_node_or_switch(struct parser *p, const struct keyword *kw, struct name_range *nr)
{
	bool is_node = kw->fn == st_node;
	int64_t n = topo_range_len(&nr->raw);
	int id = diag_range_add(p->d, nr->label);

	if (is_node) {
		close_block(p);
		p->block_nodes = calloc((size_t)n, sizeof(*p->block_nodes));
		if (!p->block_nodes) {
			p->node = NODE_BROKEN;
			return;
		}
		p->block_n = (size_t)n;
		p->block_lo = nr->raw.lo;
		p->block_range = id;
	}
	for (int64_t k = 0; k < n; k++) {
		int64_t i = nr->raw.lo + k;
		bool ok = run_expansion(p, kw, nr, &i, 1, i, id);
		if (is_node)
			p->block_nodes[k] = ok ? p->node : NODE_BROKEN;
		if (p->over_budget)
			break;
	}
	p->node = is_node ? RANGE_BLOCK : -1;
}

static void expand_link(struct parser *p, const struct keyword *kw, struct name_range *nr, size_t nnr)
{
	int64_t n = topo_range_len(&nr[0].raw);

	if (nnr == 2 && topo_range_len(&nr[1].raw) != n) {
		const struct tok *t = &p->src->toks[nr[1].tok];
		struct topo_pos pos = t->pos;
		pos.col += (int)utf8_width(p->src->buf + t->start, nr[1].raw.start);
		diag_error(p->d, pos,
			   "ranges on one link must have the same length: %s has %lld element%s, %s has %lld",
			   nr[0].label, (long long)n, n == 1 ? "" : "s", nr[1].label,
			   (long long)topo_range_len(&nr[1].raw));
		range_broken(p, &nr[0], true);
		range_broken(p, &nr[1], true);
		return;
	}
	int id = diag_range_add(p->d, nr[0].label);
	for (int64_t k = 0; k < n; k++) {
		int64_t values[2] = { nr[0].raw.lo + k, nnr == 2 ? nr[1].raw.lo + k : 0 };
		if (!run_expansion(p, kw, nr, values, nnr, values[0], id) && p->over_budget)
			break;
	}
}

/* Top-level statements that may carry a range.  True when the statement
 * was handled (expanded or rejected) here. */
static bool top_level_range(struct parser *p, const struct keyword *kw)
{
	struct name_range nr[2];
	size_t nnr = 0;
	bool bad = false;

	if (kw->fn == st_node || kw->fn == st_switch) {
		int r = find_name_range(p, 1, false, &nr[0]);
		if (r == 0)
			return false;
		if (r < 0) {
			if (kw->fn == st_node)
				p->node = NODE_BROKEN;
			range_broken(p, &nr[0], false);
			name_range_free(&nr[0]);
			return true;
		}
		expand_node_or_switch(p, kw, &nr[0]);
		name_range_free(&nr[0]);
		return true;
	}
	if (kw->fn != st_link)
		return false;
	for (size_t tk = 1; tk <= 2; tk++) {
		int r = find_name_range(p, tk, true, &nr[nnr]);
		if (r < 0) {
			range_broken(p, &nr[nnr], true);
			name_range_free(&nr[nnr]);
			bad = true;
		} else if (r > 0) {
			nnr++;
		}
	}
	if (!bad && nnr > 0)
		expand_link(p, kw, nr, nnr);
	else if (bad)
		for (size_t m = 0; m < nnr; m++)
			range_broken(p, &nr[m], true);
	for (size_t m = 0; m < nnr; m++)
		name_range_free(&nr[m]);
	return bad || nnr > 0;
}

static bool is_command(const struct keyword *kw)
{
	return kw->fn == st_cmd;
}

/* `{i}` outside any range: an error in names, addresses and options;
 * commands keep their braces as written (they may be the shell's). */
static bool stray_expression(struct parser *p, const struct keyword *kw)
{
	if (is_command(kw))
		return false;
	for (size_t k = 1; k < p->src->ntoks; k++) {
		const struct tok *t = &p->src->toks[k];
		const char *raw = p->src->buf + t->start;
		long off = topo_find_expr(raw, t->end - t->start);
		if (off < 0)
			continue;
		struct topo_pos pos = t->pos;
		pos.col += (int)utf8_width(raw, (size_t)off);
		diag_error(p->d, pos,
			   "'{...}' is only substituted inside a range: use it in a 'node NAME[FIRST..LAST]' block or on a 'switch' or 'link' line with a range");
		return true;
	}
	return false;
}

static void run_statement(struct parser *p, const struct keyword *kw)
{
	if (kw->scope == SCOPE_TOP && top_level_range(p, kw))
		return;
	if (kw->scope == SCOPE_NODE && p->node == RANGE_BLOCK) {
		for (size_t k = 0; k < p->block_n && !p->over_budget; k++) {
			if (p->block_nodes[k] < 0)
				continue;
			int64_t i = p->block_lo + (int64_t)k;
			p->node = p->block_nodes[k];
			run_expansion(p, kw, NULL, NULL, 0, i, p->block_range);
		}
		p->node = RANGE_BLOCK;
		return;
	}
	if (stray_expression(p, kw)) {
		if (kw->fn == st_node) {
			p->node = NODE_BROKEN;
			topo_broken_add_name(p->broken, TOK(1)->text);
		} else if (kw->fn == st_switch) {
			topo_broken_add_name(p->broken, TOK(1)->text);
		} else if (kw->fn == st_link) {
			kw->fn(p); /* keeps the nodes it names from cascading */
			if (p->t->links.n)
				topo_broken_mark_link(p->broken, p->t->links.n - 1);
		}
		return;
	}
	kw->fn(p);
}

static void parse_statement(struct parser *p)
{
	const struct keyword *kw = find_keyword(TOK(0)->text);

	if (!kw) {
		unknown_keyword(p);
		return;
	}
	if (kw->scope == SCOPE_RESERVED) {
		kw->fn(p);
		return;
	}
	if (kw->scope == SCOPE_TOP) {
		p->node = -1;
	} else if (p->node == NODE_BROKEN) {
		return;
	} else if (p->node == -1) {
		diag_error(p->d, TOK(0)->pos, "'%s' is outside a node block: put it after 'node NAME'", kw->name);
		return;
	}
	if (NARGS < kw->min) {
		diag_error(p->d, pos_after_last(p), "'%s' needs %s%d argument%s: %s", kw->name,
			   kw->max == kw->min ? "" : "at least ", kw->min, kw->min == 1 ? "" : "s", kw->usage);
		if (kw->fn == st_node)
			p->node = NODE_BROKEN;
		return;
	}
	if (kw->max >= 0 && NARGS > kw->max) {
		diag_error(p->d, TOK(kw->max + 1)->pos, "too many arguments to '%s': %s", kw->name, kw->usage);
		if (kw->fn == st_node)
			p->node = NODE_BROKEN;
		return;
	}
	if (kw->scope == SCOPE_NODE && p->node >= 0 && cur_node(p)->is_host && !kw->host_ok) {
		diag_error(p->d, TOK(0)->pos,
			   "'%s' is not allowed in 'node host' (the host block takes: ip, route, forward, nat)",
			   kw->name);
		return;
	}
	run_statement(p, kw);
}

int topo_parse_buffer(struct topo_source *src, const char *buf, size_t len, struct topology **out,
		      struct topo_broken **broken, struct diags *d)
{
	struct topology *t;
	struct logical_line ll = { 0 };
	struct lexer lx;
	struct parser p = { .d = d, .node = -1, .ll = &ll, .src = &ll };
	char name[NLAB_NAME_MAX + 1];
	size_t errors_before = d->nerrors;
	int r;

	*out = NULL;
	if (broken)
		*broken = NULL;
	if (!src)
		return -1;
	t = p.t = *out = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	p.broken = topo_broken_new();
	t->file = strdup(src->file);
	topo_default_lab_name(src->file, name, sizeof(name));
	t->name = strdup(name);
	if (lexer_init(&lx, src, buf, len, d) < 0) {
		lexer_free(&lx);
		topo_broken_free(p.broken);
		diag_error(d, ((struct topo_pos){ .line = 0 }), "out of memory");
		return -1;
	}
	while ((r = lexer_next(&lx, &ll)) > 0)
		parse_statement(&p);
	logical_line_free(&ll);
	x_reset(&p);
	free(p.x.toks);
	topo_sbuf_free(&p.xb);
	close_block(&p);
	lexer_free(&lx);
	if (r < 0)
		diag_error(d, ((struct topo_pos){ .line = 0 }), "out of memory");
	if (topo_count_nodes(t) == 0 && d->nerrors == errors_before)
		diag_error(d, ((struct topo_pos){ .line = 0 }), "%s: a topology needs at least one 'node'",
			   len == 0 ? "file is empty" : "no nodes defined");
	if (broken)
		*broken = p.broken;
	else
		topo_broken_free(p.broken);
	return d->nerrors > errors_before ? -1 : 0;
}

static int load(const char *path, struct topo_source *src, struct topology **out, struct diags *d)
{
	cleanup_close int fd = -1;
	cleanup_free char *buf = NULL;
	struct topo_broken *broken = NULL;
	struct stat st;
	size_t off = 0;
	char dirbuf[PATH_MAX];

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		diag_error(d, ((struct topo_pos){ .line = 0 }), "cannot read topology: %s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		diag_error(d, ((struct topo_pos){ .line = 0 }), "cannot read topology: not a regular file");
		return -1;
	}
	if ((size_t)st.st_size > TOPO_MAX_FILE) {
		diag_error(d, ((struct topo_pos){ .line = 0 }),
			   "file is %lld bytes; topology files are limited to 4 MiB", (long long)st.st_size);
		return -1;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -1;
	while (off < (size_t)st.st_size) {
		ssize_t n = TEMP_FAILURE_RETRY(read(fd, buf + off, (size_t)st.st_size - off));
		if (n < 0) {
			diag_error(d, ((struct topo_pos){ .line = 0 }), "cannot read topology: %s", strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	int r = topo_parse_buffer(src, buf, off, out, &broken, d);
	if (!*out) {
		topo_broken_free(broken);
		return -1;
	}
	if (realpath(path, dirbuf)) {
		(*out)->dir = strdup(dirname(dirbuf));
	}
	/* Validate even after parse errors so the user sees every mistake
	 * at once; broken statements are skipped, not reported twice. */
	if (topo_validate(*out, broken, d) < 0)
		r = -1;
	topo_broken_free(broken);
	diag_sort(d);
	return r;
}

int topo_load(const char *path, struct topology **out, struct topo_source **srcp, struct diags *d)
{
	/* Made before the file is opened: even "cannot read" is printed as
	 * FILE: error: ..., and the name comes from the source. */
	struct topo_source *src = topo_source_new(path);
	int r;

	*out = NULL;
	if (srcp)
		*srcp = src;
	if (!src) {
		diag_error(d, ((struct topo_pos){ .line = 0 }), "out of memory");
		return -1;
	}
	r = load(path, src, out, d);
	if (!srcp)
		topo_source_free(src);
	return r;
}
