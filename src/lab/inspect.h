/* What `netlab status` shows, gathered from the state and from inside the
 * nodes (their interfaces, processes, namespaces, rules with counters).
 * The verb prints it (src/cli/status.c). */
#ifndef NETLAB_LAB_INSPECT_H
#define NETLAB_LAB_INSPECT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "lab/state.h"
#include "topo/model.h"
#include "util/error.h"

/* {"lab", "state": up|stale|broken, "topology", "created",
 *  "supervisor_pid", "node_count"[, "nodes": [...]]}: with detail, each
 * node's pid, isolation, namespaces, interfaces and commands; with ns,
 * also every namespace the way lsns(8) lists them (lab/nsinfo.h). */
/* node non-NULL: that node only (the kernel is asked about it alone, no
 * links): `status LAB NODE` of a 10,000-node lab stays fast. */
json_object *lab_inspect(const char *lab, bool detail, bool ns, const char *node);

/* One x_tables rule (or a policy the topology set) of a node, with its
 * counters and the topology line it comes from. */
struct lab_fw_row {
	int line;               /* topology line, 0 = not netlab's */
	size_t seq;             /* kernel order, for ties */
	int family;
	const char *table;
	char chain[32];
	char target[32];
	uint64_t packets, bytes;
	bool policy;
};

struct lab_fw_rows {
	struct lab_fw_row *v;
	size_t n;
	bool running;           /* false: the node is not running (no rows) */
};

/* The rules of a node, read in its network namespace, in topology order
 * (rules netlab did not add last).  t (may be NULL) gives the policies
 * the topology set. */
int lab_node_firewall(const char *lab, const struct state_node *sn, const struct topology *t,
		      struct lab_fw_rows *rows, nlab_error **err);
void lab_fw_rows_free(struct lab_fw_rows *rows);

#endif
