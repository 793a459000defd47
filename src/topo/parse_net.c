/* Node statements about the network and the processes a node runs:
 *
 *   ip IFACE CIDR          route DST via GW [dev IFACE] | route DST dev IFACE
 *   forward                sysctl net.KEY=VALUE         hostname NAME
 *   ipv6 on|off
 *   env NAME=VALUE         exec COMMAND...              run COMMAND...
 *   nat masquerade|snat|dnat ...
 *   firewall policy CHAIN ACTION | firewall CHAIN ACTION [MATCH VALUE]...
 *
 * A new statement that configures a node's network or its commands
 * (`wait tcp PORT`, `after NODE...`, `files DIR`) goes here; each fills
 * its part of cur_node(p).  References to other nodes and interfaces are
 * checked later, in validate.c. */
#include <ctype.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "topo/addr.h"
#include "topo/parse_int.h"
#include "topo/parse_util.h"
#include "util/cleanup.h"
#include "util/strutil.h"

void st_ip(struct parser *p)
{
	struct topo_node *n = cur_node(p);
	struct topo_ipaddr a = { .pos = TOK(0)->pos };
	char why[160];

	if (!parse_ifname(p->d, text_pos(p, TOK(1), 0), TOK(1)->text, a.ifname))
		return;
	a.if_pos = TOK(1)->pos;
	if (strcmp(TOK(2)->text, "dhcp") == 0) {
		/* A line of the node's, in file order: the client runs and
		 * the node is held until it has a lease. */
		struct topo_cmd *c = VEC_PUSH(n->cmds);
		if (!c)
			return;
		c->kind = TOPO_CMD_DHCP;
		memcpy(c->ifname, a.ifname, sizeof(c->ifname));
		c->timeout_s = TOPO_WAIT_DEFAULT_S;
		c->pos = TOK(2)->pos;
		return;
	}
	if (cidr_parse(TOK(2)->text, true, &a.cidr, why, sizeof(why)) < 0) {
		diag_error(p->d, TOK(2)->pos, "bad address: %s (or 'dhcp' for a DHCP client)", why);
		return;
	}
	a.pos = TOK(2)->pos;
	struct topo_ipaddr *slot = VEC_PUSH(n->addrs);
	if (slot)
		*slot = a;
}

void st_route(struct parser *p)
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
		diag_error(p->d, dst->pos, "bad route destination: %s (write 'default' or a prefix like 10.1.0.0/16)",
			   why);
		return;
	} else {
		struct topo_cidr net;
		char buf[64];
		if (cidr_has_host_bits(&r.dst, &net)) {
			cidr_format(&net, buf, sizeof(buf));
			diag_error(p->d, dst->pos, "route destination '%s' has host bits set; did you mean %s?",
				   dst->text, buf);
			return;
		}
	}
	for (i = 2; i < (int)p->ll->ntoks; i += 2) {
		const struct tok *kw = TOK(i);
		const struct tok *val = i + 1 < (int)p->ll->ntoks ? TOK(i + 1) : NULL;
		bool is_via = strcmp(kw->text, "via") == 0, is_dev = strcmp(kw->text, "dev") == 0;

		if (!is_via && !is_dev) {
			diag_error(p->d, kw->pos, "expected 'via GATEWAY' or 'dev IFACE' in route, found '%s'",
				   kw->text);
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
				diag_error(p->d, val->pos,
					   "bad gateway '%s': expected an IPv4 or IPv6 address without prefix",
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

void st_forward(struct parser *p)
{
	struct topo_node *n = cur_node(p);

	n->forward = true;
	n->forward_pos = TOK(0)->pos;
}

/* `ipv6 off`: the node's interfaces get no IPv6 at all (no link-local
 * address, no neighbour discovery or MLD traffic); `ipv6 on` keeps it in
 * a lab that says `ipv6 off`. */
void st_ipv6(struct parser *p)
{
	struct topo_node *n = cur_node(p);
	bool on;

	if (n->ipv6_set) {
		diag_error(p->d, TOK(0)->pos, "ipv6 given twice for node '%s'", n->name);
		diag_note(p->d, n->ipv6_pos, "first given here");
		return;
	}
	if (parse_on_off(p->d, TOK(1), &on)) {
		n->ipv6_set = true;
		n->ipv6_off = !on;
		n->ipv6_pos = TOK(0)->pos;
	}
}

void st_sysctl(struct parser *p)
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

void st_hostname(struct parser *p)
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

void st_env(struct parser *p)
{
	struct topo_node *n = cur_node(p);
	const struct tok *t = TOK(1);
	const char *eq = strchr(t->text, '=');
	size_t klen = eq ? (size_t)(eq - t->text) : 0;
	bool ok = eq && klen > 0 && (isalpha((unsigned char)t->text[0]) || t->text[0] == '_');

	for (size_t i = 0; ok && i < klen; i++)
		ok = isalnum((unsigned char)t->text[i]) || t->text[i] == '_';
	if (!ok) {
		diag_error(p->d, t->pos,
			   "env needs NAME=VALUE with NAME made of letters, digits and '_', e.g. env GREETING=hello");
		return;
	}
	struct topo_kv *kv = VEC_PUSH(n->envs);
	if (!kv)
		return;
	kv->key = strndup(t->text, klen);
	kv->value = strdup(eq + 1);
	kv->pos = t->pos;
}

void st_cmd(struct parser *p)
{
	struct topo_node *n = cur_node(p);
	struct topo_cmd *c = VEC_PUSH(n->cmds);

	if (!c)
		return;
	c->kind = strcmp(TOK(0)->text, "run") == 0 ? TOPO_CMD_RUN : TOPO_CMD_EXEC;
	c->text = logical_line_rest(p->ll, 1);
	c->pos = TOK(1)->pos;
}

void st_nat(struct parser *p)
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
			diag_error(p->d, NARGS < 4 ? pos_after_last(p) : TOK(5)->pos,
				   "usage: nat snat CIDR IFACE ADDRESS");
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

void st_firewall(struct parser *p)
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
		diag_error(p->d, r.in_pos,
			   "'in' cannot be used on the output chain: outgoing packets have no input interface");
		return;
	}
	if (r.out[0] && r.chain == TOPO_CHAIN_INPUT) {
		diag_error(p->d, r.out_pos,
			   "'out' cannot be used on the input chain: incoming packets have no output interface");
		return;
	}
push:;
	struct topo_fw_rule *slot = VEC_PUSH(n->fw);
	if (slot)
		*slot = r;
}

/* `timeout SECONDS` at tokens k, k+1: 1..86400 s. */
static bool wait_timeout(struct parser *p, int k, uint32_t *s)
{
	uint64_t v;

	if (k + 1 > NARGS) {
		diag_error(p->d, pos_after_last(p), "'timeout' needs a number of seconds");
		return false;
	}
	if (!parse_number(p->d, TOK(k + 1), "timeout", 1, 86400, &v))
		return false;
	*s = (uint32_t)v;
	return true;
}

/* wait tcp|udp PORT [timeout S] | wait file PATH [timeout S] |
 * wait [timeout S] exec COMMAND...: the timeout of an exec form comes
 * first, since the command's own words could be anything. */
void st_wait(struct parser *p)
{
	struct topo_cmd c = { .kind = TOPO_CMD_WAIT, .timeout_s = TOPO_WAIT_DEFAULT_S, .pos = TOK(0)->pos };
	static const char *const kinds[] = { "tcp", "udp", "file", "exec" };
	int k = 1;
	uint64_t v;

	if (strcmp(TOK(1)->text, "timeout") == 0) {
		if (!wait_timeout(p, 1, &c.timeout_s))
			return;
		k = 3;
		if (k > NARGS) {
			diag_error(p->d, pos_after_last(p), "wait needs a condition: tcp PORT, udp PORT, file PATH or exec COMMAND");
			return;
		}
	}
	int w = parse_choice(p->d, TOK(k)->pos, "wait condition", "conditions", TOK(k)->text, kinds, 4);
	if (w < 0)
		return;
	c.wait = (enum topo_wait_kind)w;
	if (k + 1 > NARGS) {
		diag_error(p->d, pos_after_last(p), "'wait %s' needs %s", TOK(k)->text,
			   w == TOPO_WAIT_FILE ? "a path" : w == TOPO_WAIT_EXEC ? "a command" : "a port");
		return;
	}
	if (c.wait == TOPO_WAIT_EXEC) {
		c.text = logical_line_rest(p->ll, (size_t)k + 1);
	} else {
		if (c.wait == TOPO_WAIT_FILE) {
			if (TOK(k + 1)->text[0] != '/') {
				diag_error(p->d, TOK(k + 1)->pos, "wait file '%s' must be an absolute path (as seen inside the node)",
					   TOK(k + 1)->text);
				return;
			}
			c.text = strdup(TOK(k + 1)->text);
		} else {
			if (!parse_number(p->d, TOK(k + 1), "port", 1, 65535, &v))
				return;
			c.port = (int)v;
		}
		if (k + 2 <= NARGS) {
			if (strcmp(TOK(k + 2)->text, "timeout") != 0) {
				diag_error(p->d, TOK(k + 2)->pos, "unexpected '%s' (usage: wait %s %s [timeout SECONDS])",
					   TOK(k + 2)->text, TOK(k)->text, w == TOPO_WAIT_FILE ? "PATH" : "PORT");
				free(c.text);
				return;
			}
			if (!wait_timeout(p, k + 2, &c.timeout_s) || k + 3 < NARGS) {
				if (k + 3 < NARGS)
					diag_error(p->d, TOK(k + 4)->pos, "unexpected '%s' after the timeout", TOK(k + 4)->text);
				free(c.text);
				return;
			}
		}
	}
	struct topo_cmd *slot = VEC_PUSH(cur_node(p)->cmds);
	if (slot)
		*slot = c;
	else
		free(c.text);
}

/* after NODE...: resolved (and checked for cycles) in validate.c. */
void st_after(struct parser *p)
{
	struct topo_node *n = cur_node(p);

	for (int k = 1; k <= NARGS; k++) {
		struct topo_after *a = VEC_PUSH(n->afters);
		if (!a)
			return;
		a->name = strdup(TOK(k)->text);
		a->index = -1;
		a->pos = TOK(k)->pos;
	}
}
