/* A node's `firewall` and `nat` statements as x_tables rules, and the
 * rules the host's `forward`/`nat` need: pure data for the plan
 * (net/firewall.c applies them).  Every rule carries a comment "netlab:LAB FILE:LINE": the
 * line maps counters back to the topology (`status --firewall`), the
 * tag finds netlab's own rules among the host's. */
#ifndef NETLAB_PLAN_FIREWALL_H
#define NETLAB_PLAN_FIREWALL_H

#include <stdbool.h>

#include "net/iptc.h"
#include "topo/model.h"
#include "util/error.h"

/* One x_tables rule derived from a topology statement. */
struct fw_rule {
	const char *table;              /* "filter" or "nat" */
	const char *chain;              /* "INPUT", "POSTROUTING"... */
	struct nlab_ipt_rule r;
	char comment[256];
	int line;                       /* topology line */
};

struct fw_policy {
	int family;
	const char *chain;
	bool accept;
	int line;
};

struct fw_ruleset {
	struct fw_rule *rules;
	size_t n;
	struct fw_policy *policies;
	size_t npolicies;
};

/* "netlab:LAB" into buf. */
void fw_tag(const char *lab, char *buf, size_t len);

/* The rules of node n, in file order (a statement may give several: one
 * per IP version, two for a protocol-less reject).  For `node host`, the
 * rules its `forward` and `nat` need.  Pure: no kernel access. */
int fw_ruleset_build(const struct topology *t, const struct topo_node *n, const char *lab, struct fw_ruleset *out,
		     nlab_error **err);
void fw_ruleset_free(struct fw_ruleset *rs);

/* Append node n's rules and policies to rs (used by the plan, which
 * keeps every node's rules in one set). */
int fw_ruleset_add(struct fw_ruleset *rs, const struct topology *t, const struct topo_node *n, const char *lab,
		   nlab_error **err);

/* The rule as the iptables command that would add it, for `up --dry-run`:
 * "iptables -t nat -A POSTROUTING -o eth1 -j MASQUERADE". */
void fw_rule_format(const struct fw_rule *r, char *buf, size_t len);

/* The line recorded in a rule's comment, 0 when it has none. */
int fw_comment_line(const char *comment);

#endif
