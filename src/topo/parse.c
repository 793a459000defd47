/* Statements of the topology language -> struct topology: the keyword
 * table, the checks every statement gets (scope, argument count, `node
 * host`), and the loop over the file's lines.  Each statement is checked
 * for form in the file of its family (see the keyword table); checks that
 * need the whole file (references, duplicates across nodes) live in
 * validate.c. */
#include <stdlib.h>
#include <string.h>

#include "topo/parse_int.h"
#include "topo/range.h"
#include "topo/topo.h"
#include "util/strutil.h"

/* The statements of the language.  A new statement is one row here and
 * one st_*() function in the file of its family, declared in parse_int.h:
 *   parse_top.c        lab, switch, node, link: what the lab is made of
 *   parse_net.c        a node's addresses, routes, sysctls, commands, NAT
 *                      and firewall
 *   parse_isolation.c  a node's namespaces, root, mounts and limits
 *   parse_expect.c     expectations of a running lab (`netlab test`)
 *   parse_machine.c    machines a lab spans, and where nodes go
 * A family that fits none of these gets a parse_FAMILY.c of its own.  A
 * statement whose names may carry a range also needs parse_range.c; one
 * that refers to other nodes or interfaces, a check in validate.c.  A
 * reserved word (SCOPE_RESERVED) becomes a statement by changing its row.
 * "Did you mean" tries the rows in order and keeps the first of equally
 * near ones: add rows, do not reorder them. */
static const struct keyword keywords[] = {
	{ "lab", SCOPE_TOP, 1, 5, "lab NAME [userns off] [ipv6 off]", st_lab, false },
	{ "switch", SCOPE_TOP, 1, 3, "switch NAME [multicast snoop|flood]", st_switch, false },
	{ "node", SCOPE_TOP, 1, 1, "node NAME", st_node, false },
	{ "link", SCOPE_TOP, 2, -1,
	  "link END END [mtu N] [rate R] [delay D] [jitter J] [loss P%] [burst SIZE] [limit SIZE] [capture] "
	  "[move|macvlan|veth]",
	  st_link, false },
	{ "expect", SCOPE_TOP, 2, -1,
	  "expect SRC reach|noreach DST [tcp PORT] [v4|v6] [within SECONDS] | expect NODE exec [within SECONDS] COMMAND... "
	  "| expect NODE route PREFIX [via GATEWAY] [within SECONDS]",
	  st_expect, false },
	{ "ip", SCOPE_NODE, 2, 2, "ip IFACE CIDR|dhcp", st_ip, true },
	{ "route", SCOPE_NODE, 3, 5, "route default|CIDR via GATEWAY [dev IFACE] | route default|CIDR dev IFACE",
	  st_route, true },
	{ "forward", SCOPE_NODE, 0, 0, "forward", st_forward, true },
	{ "sysctl", SCOPE_NODE, 1, 2, "sysctl net.KEY=VALUE", st_sysctl, false },
	{ "hostname", SCOPE_NODE, 1, 1, "hostname NAME", st_hostname, false },
	{ "env", SCOPE_NODE, 1, 1, "env NAME=VALUE", st_env, false },
	{ "exec", SCOPE_NODE, 1, -1, "exec COMMAND...", st_cmd, false },
	{ "run", SCOPE_NODE, 1, -1, "run COMMAND...", st_cmd, false },
	{ "nat", SCOPE_NODE, 2, 5,
	  "nat masquerade IFACE | nat snat CIDR IFACE ADDRESS | nat dnat IFACE tcp|udp PORT ADDRESS[:PORT]", st_nat,
	  true },
	{ "firewall", SCOPE_NODE, 2, -1,
	  "firewall policy CHAIN accept|drop | firewall CHAIN accept|drop|reject [MATCH...]", st_firewall, false },
	{ "userns", SCOPE_NODE, 1, 1, "userns on|off", st_userns, false },
	{ "user", SCOPE_NODE, 1, 1, "user NAME|UID[:GROUP|GID]", st_user, false },
	{ "rootfs", SCOPE_NODE, 1, 1, "rootfs DIR", st_rootfs, false },
	{ "mount", SCOPE_NODE, 2, 3, "mount SRC DST [ro]", st_mount, false },
	{ "tmpfs", SCOPE_NODE, 1, 2, "tmpfs DST [SIZE]", st_tmpfs, false },
	{ "boottime", SCOPE_NODE, 1, 1, "boottime SECONDS", st_clock, false },
	{ "monotonic", SCOPE_NODE, 1, 1, "monotonic SECONDS", st_clock, false },
	{ "cpu", SCOPE_NODE, 1, 1, "cpu FRACTION (of one CPU, e.g. 0.5)", st_limit, false },
	{ "memory", SCOPE_NODE, 1, 1, "memory SIZE (e.g. 64M)", st_limit, false },
	{ "pids", SCOPE_NODE, 1, 1, "pids N|max", st_limit, false },
	{ "wait", SCOPE_NODE, 2, -1,
	  "wait tcp|udp PORT [timeout SECONDS] | wait file PATH [timeout SECONDS] | wait [timeout SECONDS] exec COMMAND...",
	  st_wait, false },
	{ "after", SCOPE_NODE, 1, -1, "after NODE...", st_after, false },
	{ "files", SCOPE_NODE, 1, 1, "files DIR", st_files, false },
	{ "machine", SCOPE_TOP, 2, 4, "machine NAME [USER@]HOST [underlay ADDRESS]", st_machine, false },
	{ "place", SCOPE_TOP, 2, -1, "place NODE... on MACHINE", st_place, false },
	{ "ipv6", SCOPE_NODE, 1, 1, "ipv6 on|off", st_ipv6, false },
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

static bool is_command(const struct keyword *kw)
{
	return kw->fn == st_cmd || kw->fn == st_wait;
}

/* `{i}` outside any range: an error in names, addresses and options;
 * commands keep their braces as written (they may be the shell's). */
static bool stray_expression(struct parser *p, const struct keyword *kw)
{
	if (is_command(kw))
		return false;
	/* `expect NODE exec ...`: the command is shell text, as in `exec`. */
	size_t upto = p->src->ntoks;
	if (kw->fn == st_expect && upto > 2 && strcmp(p->src->toks[2].text, "exec") == 0)
		upto = 3;
	for (size_t k = 1; k < upto; k++) {
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
	if (kw->scope == SCOPE_TOP && range_top_level(p, kw))
		return;
	if (kw->scope == SCOPE_NODE && p->node == RANGE_BLOCK) {
		range_in_block(p, kw);
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
	range_parser_free(&p);
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
