/* `expect` statements: what a running lab must do, checked by `netlab
 * test` (docs/testing.md).
 *
 *   expect SRC reach|noreach DST [tcp PORT] [v4|v6] [within SECONDS]
 *   expect NODE exec [within SECONDS] COMMAND...
 *   expect NODE route PREFIX|default [via GATEWAY] [within SECONDS]
 *
 * Top level, in file order; SRC and DST may carry a range (parse_range.c
 * expands them).  Names are resolved in validate_expect.c, once the whole
 * file is known. */
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo/addr.h"
#include "topo/parse_int.h"
#include "topo/parse_util.h"
#include "util/strutil.h"

/* The longest `within`: a grader's patience, not a protocol's. */
#define WITHIN_MAX_MS (3600u * 1000u)

/* "5", "0.5", "2s", "500ms" -> milliseconds, 1 ms .. an hour. */
static bool parse_within(struct parser *p, const struct tok *t, uint32_t *ms)
{
	char *end;
	double v = strtod(t->text, &end);

	if (isdigit((unsigned char)t->text[0]) && end != t->text) {
		double mult = 1000;
		if (strcmp(end, "ms") == 0)
			mult = 1;
		else if (*end && strcmp(end, "s") != 0)
			mult = -1;
		if (mult > 0 && v * mult >= 1 && v * mult <= WITHIN_MAX_MS) {
			*ms = (uint32_t)(v * mult + 0.5);
			return true;
		}
	}
	diag_error(p->d, t->pos, "bad time '%s' after 'within': write seconds (1 ms to 3600 s), e.g. 5, 0.5 or 500ms",
		   t->text);
	return false;
}

/* The words after `expect`, as a report shows the expectation. */
static char *expect_text(struct parser *p, size_t upto)
{
	struct topo_sbuf b = { 0 };

	for (size_t k = 1; k < upto && k < p->ll->ntoks; k++)
		if ((k > 1 && topo_sbuf_add(&b, " ", 1) < 0) ||
		    topo_sbuf_add(&b, TOK(k)->text, strlen(TOK(k)->text)) < 0) {
			topo_sbuf_free(&b);
			return NULL;
		}
	if (!b.s)
		return strdup("");
	return b.s;
}

/* DST: an address, NODE:IFACE or NODE. */
static bool parse_dst(struct parser *p, const struct tok *t, struct topo_expect *e)
{
	const char *colon = strchr(t->text, ':');
	int fam;

	e->dst_pos = t->pos;
	if (addr_parse(t->text, &fam, e->addr.addr) == 0) {
		e->dst_kind = TOPO_DST_ADDR;
		e->addr.family = fam;
		e->addr.prefixlen = fam == AF_INET ? 32 : 128;
		return true;
	}
	if (strchr(t->text, '/')) {
		diag_error(p->d, t->pos, "bad destination '%s': write an address without prefix, NODE or NODE:IFACE",
			   t->text);
		return false;
	}
	if (colon) {
		if (colon == t->text || strchr(colon + 1, ':')) {
			diag_error(p->d, t->pos, "bad destination '%s': write an address, NODE or NODE:IFACE", t->text);
			return false;
		}
		if (!parse_ifname(p->d, text_pos(p, t, (size_t)(colon - t->text) + 1), colon + 1, e->dst_if))
			return false;
		e->dst_kind = TOPO_DST_IFACE;
		e->dst = strndup(t->text, (size_t)(colon - t->text));
	} else {
		e->dst_kind = TOPO_DST_NODE;
		e->dst = strdup(t->text);
	}
	return e->dst != NULL;
}

/* [tcp PORT] [v4|v6] [within SECONDS], in any order, each once. */
static bool parse_reach_options(struct parser *p, struct topo_expect *e, int first)
{
	static const char *const opts[] = { "tcp", "v4", "v6", "within" };
	bool seen[4] = { false };

	for (int i = first; i < (int)p->ll->ntoks; i++) {
		const struct tok *o = TOK(i);
		int w = parse_choice(p->d, o->pos, "expect option", "options", o->text, opts, 4);
		if (w < 0)
			return false;
		if (seen[w] || (w >= 1 && w <= 2 && (seen[1] || seen[2]))) {
			diag_error(p->d, o->pos, "'%s' given twice (or both v4 and v6) in one expectation", o->text);
			return false;
		}
		seen[w] = true;
		if (w == 1 || w == 2) {
			e->family = w == 1 ? AF_INET : AF_INET6;
			e->family_pos = o->pos;
			continue;
		}
		if (i + 1 >= (int)p->ll->ntoks) {
			diag_error(p->d, pos_after_last(p), "'%s' needs a value: %s", o->text,
				   w == 0 ? "tcp PORT" : "within SECONDS");
			return false;
		}
		const struct tok *v = TOK(++i);
		uint64_t port;
		if (w == 0) {
			if (!parse_number(p->d, v, "port", 1, 65535, &port))
				return false;
			e->port = (int)port;
		} else if (!parse_within(p, v, &e->within_ms)) {
			return false;
		}
	}
	if (e->family && e->dst_kind == TOPO_DST_ADDR && e->family != e->addr.family) {
		diag_error(p->d, e->family_pos, "'%s' does not fit destination %s, an %s address",
			   e->family == AF_INET ? "v4" : "v6", TOK(3)->text,
			   e->addr.family == AF_INET ? "IPv4" : "IPv6");
		return false;
	}
	return true;
}

static bool parse_route(struct parser *p, struct topo_expect *e)
{
	const struct tok *d = TOK(3);
	char why[160];
	int i;

	e->prefix_pos = d->pos;
	if (strcmp(d->text, "default") == 0) {
		e->prefix.family = 0; /* decided by `via`, IPv4 without it (as `route default dev`) */
		e->prefix.prefixlen = 0;
	} else if (cidr_parse(d->text, false, &e->prefix, why, sizeof(why)) < 0) {
		diag_error(p->d, d->pos, "bad route prefix: %s (write 'default' or a prefix like 10.1.0.0/16)", why);
		return false;
	} else {
		struct topo_cidr net;
		char buf[64];
		if (cidr_has_host_bits(&e->prefix, &net)) {
			cidr_format(&net, buf, sizeof(buf));
			diag_error(p->d, d->pos, "route prefix '%s' has host bits set; did you mean %s?", d->text, buf);
			return false;
		}
	}
	for (i = 4; i < (int)p->ll->ntoks; i += 2) {
		const struct tok *o = TOK(i);
		static const char *const opts[] = { "via", "within" };
		int w = parse_choice(p->d, o->pos, "expect route option", "options", o->text, opts, 2);
		if (w < 0)
			return false;
		if (i + 1 >= (int)p->ll->ntoks) {
			diag_error(p->d, pos_after_last(p), "'%s' needs a value", o->text);
			return false;
		}
		const struct tok *v = TOK(i + 1);
		if (w == 1) {
			if (!parse_within(p, v, &e->within_ms))
				return false;
			continue;
		}
		int fam;
		if (addr_parse(v->text, &fam, e->via) < 0) {
			diag_error(p->d, v->pos, "bad gateway '%s': expected an IPv4 or IPv6 address without prefix",
				   v->text);
			return false;
		}
		if (e->prefix.family && fam != e->prefix.family) {
			diag_error(p->d, v->pos, "gateway %s is %s but the prefix is %s", v->text,
				   fam == AF_INET ? "IPv4" : "IPv6", e->prefix.family == AF_INET ? "IPv4" : "IPv6");
			return false;
		}
		e->prefix.family = fam;
		e->has_via = true;
		e->via_pos = v->pos;
	}
	if (!e->prefix.family)
		e->prefix.family = AF_INET;
	return true;
}

void st_expect(struct parser *p)
{
	static const char *const verbs[] = { "reach", "noreach", "exec", "route" };
	struct topo_expect e = { .pos = TOK(0)->pos, .node_pos = TOK(1)->pos };
	size_t text_upto = p->ll->ntoks;
	bool ok;

	int v = parse_choice(p->d, TOK(2)->pos, "expectation", "expectations", TOK(2)->text, verbs, 4);
	if (v < 0)
		return;
	e.kind = (enum topo_expect_kind)v;
	switch (e.kind) {
	case TOPO_EXPECT_REACH:
	case TOPO_EXPECT_NOREACH:
		if (NARGS < 3) {
			diag_error(p->d, pos_after_last(p),
				   "'%s' needs a destination: expect SRC %s DST [tcp PORT] [v4|v6] [within SECONDS]",
				   TOK(2)->text, TOK(2)->text);
			return;
		}
		ok = parse_dst(p, TOK(3), &e) && parse_reach_options(p, &e, 4);
		break;
	case TOPO_EXPECT_EXEC: {
		size_t c = 3;
		if (NARGS >= 3 && strcmp(TOK(3)->text, "within") == 0) {
			if (NARGS < 4 || !parse_within(p, TOK(4), &e.within_ms)) {
				if (NARGS < 4)
					diag_error(p->d, pos_after_last(p),
						   "'within' needs a value: expect NODE exec within SECONDS COMMAND...");
				return;
			}
			c = 5;
		}
		if (c >= p->ll->ntoks) {
			diag_error(p->d, pos_after_last(p),
				   "'exec' needs a command: expect NODE exec [within SECONDS] COMMAND...");
			return;
		}
		e.cmd = logical_line_rest(p->ll, c);
		ok = e.cmd != NULL;
		text_upto = c;
		break;
	}
	case TOPO_EXPECT_ROUTE:
	default:
		if (NARGS < 3) {
			diag_error(p->d, pos_after_last(p),
				   "'route' needs a prefix: expect NODE route PREFIX [via GATEWAY] [within SECONDS]");
			return;
		}
		ok = parse_route(p, &e);
		break;
	}
	e.node = strdup(TOK(1)->text);
	e.text = expect_text(p, text_upto);
	if (ok && e.kind == TOPO_EXPECT_EXEC && e.text) {
		char *full = NULL;
		if (asprintf(&full, "%s %s", e.text, e.cmd) >= 0) {
			free(e.text);
			e.text = full;
		}
	}
	struct topo_expect *slot = ok && e.node && e.text ? VEC_PUSH(p->t->expects) : NULL;
	if (!slot) {
		free(e.node);
		free(e.text);
		free(e.dst);
		free(e.cmd);
		return;
	}
	*slot = e;
}
