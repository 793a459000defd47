/* A node's `firewall` and `nat` statements as x_tables rules (through
 * net/iptc), and the host's `forward`/`nat` rules in the starting
 * namespace.  Every rule carries a comment "netlab:LAB FILE:LINE": the
 * line maps counters back to the topology (`status --firewall`), the
 * tag finds netlab's own rules among the host's. */
#ifndef NETLAB_RUNTIME_FIREWALL_H
#define NETLAB_RUNTIME_FIREWALL_H

#include <stdbool.h>

#include "net/iptc.h"
#include "lab/state.h"
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

/* Apply a node's rules in the calling thread's netns (a fresh node:
 * nothing to remove first), one commit per table, holding the xtables
 * lock at lock_path (the node's own /run/xtables.lock). */
int fw_apply_node(const struct topology *t, const struct topo_node *n, const char *lab, const char *lock_path,
		  nlab_error **err);

/* Add the host's rules in the calling thread's netns: record them in *st
 * and write the state first, then commit, under the host's xtables lock. */
int fw_apply_host(const struct topology *t, const char *lab, struct lab_state *st, nlab_error **err);

/* Remove every rule tagged with st's lab from the tables st recorded
 * (only tables that exist: reading a missing one would create it). */
int fw_remove_host(const struct lab_state *st, nlab_error **err);

/* The host's xtables lock: $XTABLES_LOCKFILE or /run/xtables.lock. */
const char *fw_host_lock_path(void);

/* The line recorded in a rule's comment, 0 when it has none. */
int fw_comment_line(const char *comment);

#endif
