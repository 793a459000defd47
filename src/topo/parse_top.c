/* Top-level statements: what the lab is made of.
 *
 *   lab NAME [userns off] [ipv6 off]
 *   switch NAME [multicast snoop|flood]
 *   node NAME                       (opens a block of node statements)
 *   link END END [OPTION VALUE]...
 *
 * A new top-level statement (a `machine NAME ADDR`, say) goes here, and a
 * new link option in st_link()'s option list.  A name that fails its
 * checks is recorded in p->broken so that references to it are not
 * reported again; names with a range never reach this file
 * (parse_range.c expands them first). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "topo/parse_int.h"
#include "topo/parse_util.h"
#include "util/strutil.h"

void st_lab(struct parser *p)
{
	struct topology *t = p->t;
	const struct tok *n = TOK(1);

	/* Options after the name, each a word and on|off, once each, in
	 * any order. */
	for (int i = 2; i <= NARGS; i += 2) {
		const struct tok *o = TOK(i);
		bool *off, on;
		struct topo_pos *pos;

		if (strcmp(o->text, "userns") == 0) {
			off = &t->userns_off;
			pos = &t->userns_pos;
		} else if (strcmp(o->text, "ipv6") == 0) {
			off = &t->ipv6_off;
			pos = &t->ipv6_pos;
		} else {
			diag_error(p->d, o->pos, "too many arguments to 'lab': lab NAME [userns off] [ipv6 off]");
			return;
		}
		if (pos->line) {
			diag_error(p->d, o->pos, "'%s' given twice in 'lab'", o->text);
			diag_note(p->d, *pos, "first given here");
			return;
		}
		if (i == NARGS) {
			diag_error(p->d, pos_after_last(p), "'%s' needs 'on' or 'off': lab NAME %s off", o->text, o->text);
			return;
		}
		if (!parse_on_off(p->d, TOK(i + 1), &on))
			return;
		*off = !on;
		*pos = o->pos;
	}
	if (t->name_explicit) {
		diag_error(p->d, TOK(0)->pos, "duplicate 'lab' statement: the lab is already named '%s'", t->name);
		diag_note(p->d, t->name_pos, "first 'lab' statement is here");
		return;
	}
	if (!topo_lab_name_valid(n->text)) {
		diag_error(p->d, n->pos,
			   "invalid lab name '%s': lab names use lowercase letters, digits and '-', not first (1 to %d characters)",
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

void st_switch(struct parser *p)
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
		diag_error(p->d, pos_after_last(p),
			   "'multicast' needs 'snoop' or 'flood': switch NAME multicast flood");
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
		diag_error(p->d, n->pos,
			   "'host' is reserved for the namespace netlab runs in; choose another switch name");
		return;
	}
	if (name_taken(p, n))
		return;
	if (!parse_under_cap(p, p->t->switches.n, NLAB_MAX_SWITCHES, "switches", n))
		return;
	s = VEC_PUSH(p->t->switches);
	if (!s)
		return;
	s->name = strdup(n->text);
	s->pos = n->pos;
	s->mcast_flood = flood;
}

void st_node(struct parser *p)
{
	const struct tok *n = TOK(1);
	struct topo_node *node;

	p->node = NODE_BROKEN;
	if (!check_object_name(p, n, "node")) {
		topo_broken_add_name(p->broken, n->text);
		return;
	}
	if (name_taken(p, n) || !parse_under_cap(p, p->t->nodes.n, NLAB_MAX_NODES, "nodes", n))
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

/* A host end decides what the link is (docs/topology.md, "Host
 * interfaces"): a veth by default, `move` or `macvlan` with a node end,
 * and a switch end attaches the existing interface unless `veth`. */
static bool link_mode_check(struct parser *p, struct topo_link *l)
{
	const struct topo_end *host = l->a.kind == TOPO_END_HOST ? &l->a : l->b.kind == TOPO_END_HOST ? &l->b : NULL;
	const struct topo_end *other = host == &l->a ? &l->b : &l->a;

	if (!host) {
		if (l->mode_pos.line) {
			diag_error(p->d, l->mode_pos, "'%s' is about a host interface: one end must be host:IFACE",
				   l->mode == TOPO_LINK_MOVE ? "move" : l->mode == TOPO_LINK_MACVLAN ? "macvlan" : "veth");
			return false;
		}
		return true;
	}
	if (other->kind == TOPO_END_SWITCH) {
		if (l->mode == TOPO_LINK_MOVE || l->mode == TOPO_LINK_MACVLAN) {
			diag_error(p->d, l->mode_pos,
				   "'%s' needs a node end (host:IFACE NODE:IFACE); a switch end attaches the host interface itself",
				   l->mode == TOPO_LINK_MOVE ? "move" : "macvlan");
			return false;
		}
		if (!l->mode_pos.line)
			l->mode = TOPO_LINK_ATTACH;
	}
	if (l->mode != TOPO_LINK_VETH && l->mtu) {
		diag_error(p->d, l->pos, "mtu applies to veth links; a host interface keeps its own");
		return false;
	}
	/* Issue 14: shaping and capture are planned per veth end. */
	if (l->mode != TOPO_LINK_VETH && (l->rate_bps || l->delay_us || l->loss_ppm || l->capture)) {
		struct topo_pos at = l->rate_bps ? l->rate_pos : l->delay_us ? l->delay_pos
							  : l->loss_ppm ? l->loss_pos : l->capture_pos;
		diag_error(p->d, at,
			   "rate, delay, jitter, loss and capture apply to veth links, not to a host interface the lab "
			   "takes (write 'veth' for a veth pair to it)");
		return false;
	}
	return true;
}

void st_link(struct parser *p)
{
	if (!parse_under_cap(p, p->t->links.n, NLAB_MAX_LINKS, "links", TOK(0)))
		return;
	struct topo_link *l = VEC_PUSH(p->t->links);
	int i;

	if (!l)
		return;
	l->pos = TOK(0)->pos;
	bool ok = parse_end(p, TOK(1), &l->a);
	ok = parse_end(p, TOK(2), &l->b) && ok;
	for (i = 3; i < (int)p->ll->ntoks; i += 2) {
		const struct tok *opt = TOK(i), *val = i + 1 < (int)p->ll->ntoks ? TOK(i + 1) : NULL;
		/* Add options at the end: "did you mean" keeps the first of
		 * equally near ones. */
		static const char *const opts[] = { "mtu",  "rate", "delay", "jitter", "loss",	  "move",
						    "macvlan", "veth", "burst", "limit", "capture" };
		int which = parse_choice(p->d, opt->pos, "link option", "options", opt->text, opts,
					 sizeof(opts) / sizeof(opts[0]));

		if (which < 0) {
			ok = false;
			break;
		}
		if (which == 10) {
			/* `capture` is a flag: no value follows it. */
			l->capture = true;
			l->capture_pos = opt->pos;
			i--;
			continue;
		}
		if (which >= 5 && which <= 7) {
			/* What to do with a host interface: a word alone. */
			static const enum topo_link_mode modes[] = { TOPO_LINK_MOVE, TOPO_LINK_MACVLAN, TOPO_LINK_VETH };
			if (l->mode_pos.line) {
				diag_error(p->d, opt->pos, "link says what to do with the host interface twice");
				ok = false;
				break;
			}
			l->mode = modes[which - 5];
			l->mode_pos = opt->pos;
			i--;
			continue;
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
		case 8:
			/* The token bucket: at least one full-size frame, at
			 * most what a u32 of bytes holds (TCA_TBF_BURST). */
			if ((good = parse_size(p->d, val, "burst", 1600, UINT32_MAX, &l->burst_bytes)))
				l->burst_pos = val->pos;
			break;
		case 9:
			if ((good = parse_size(p->d, val, "limit", 1600, UINT32_MAX, &l->limit_bytes)))
				l->limit_pos = val->pos;
			break;
		default:
			break;
		}
		ok = ok && good;
	}
	ok = link_mode_check(p, l) && ok;
	if (l->jitter_us && !l->delay_us && ok) {
		diag_error(p->d, l->jitter_pos, "'jitter' needs a 'delay' on the same link");
		ok = false;
	}
	if (ok && !l->rate_bps && l->burst_bytes) {
		diag_error(p->d, l->burst_pos, "'burst' sizes the rate limiter's bucket: it needs a 'rate' on the same link");
		ok = false;
	}
	if (ok && !l->rate_bps && !l->delay_us && l->limit_bytes) {
		/* The queue that `limit` sizes is the rate limiter's, or
		 * netem's when the link has a delay. */
		diag_error(p->d, l->limit_pos, "'limit' sizes the queue of a 'rate' or 'delay': the link has neither");
		ok = false;
	}
	if (!ok)
		topo_broken_mark_link(p->broken, (size_t)(l - p->t->links.v));
}
