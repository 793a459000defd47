/* What plan/build.c and plan/build_node.c share: the builder and its
 * emitters (internal to src/plan). */
#ifndef NETLAB_PLAN_BUILD_INT_H
#define NETLAB_PLAN_BUILD_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "plan/plan.h"

struct builder {
	struct plan *p;
	nlab_error **err;
	int next_lab_ifindex;   /* lab namespace: lo is 1 */
	int *bridge_ifindex;    /* per switch */
	char (*bridge_names)[NLAB_IFNAMSIZ];
	bool *queried;          /* per switch: its OP_QUERIER is emitted */
};

struct plan_op *emit(struct builder *b, enum plan_op_kind kind, int ns, int line);
int emit_sysctl(struct builder *b, int ns, int line, const char *key, const char *value, bool optional);
/* OP_QDISC for end `which` of link li, which lives in namespace ns. */
int emit_shape(struct builder *b, int ns, size_t li, int which, const struct plan_end *pe);
/* Whether link's OP_VETH raises both ends (one of them a switch port). */
bool link_created_up(const struct topology *t, size_t link);

/* The sections made node by node (build_node.c). */
int build_configure(struct builder *b);
int build_host(struct builder *b);
int build_commands(struct builder *b);

#endif
