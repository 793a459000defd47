/* The plan: where every interface of a lab goes, with its name and the
 * ifindex netlab asks the kernel for.  Built from a validated topology
 * without touching the kernel; `up --dry-run` prints it, the supervisor
 * applies it.  Requesting ifindexes lets addresses and routes reference
 * interfaces in one batch, with no lookup round-trips. */
#ifndef NETLAB_RUNTIME_PLAN_H
#define NETLAB_RUNTIME_PLAN_H

#include <stdio.h>

#include "topo/model.h"

#define PLAN_NS_LAB (-1)        /* the lab's private namespace (switches) */
#define PLAN_NS_HOST (-2)       /* the namespace netlab was started from */

struct plan_end {
	int ns;                 /* node index, PLAN_NS_LAB or PLAN_NS_HOST */
	char name[NLAB_IFNAMSIZ];
	int ifindex;            /* 0: the kernel picks (host ends) */
	int master;             /* bridge ifindex in the lab namespace, 0 = none */
};

struct plan_link {
	size_t link;            /* index in topology.links */
	struct plan_end a, b;   /* a is created as the main device, b as the peer */
	int mtu;
};

struct plan_bridge {
	char name[NLAB_IFNAMSIZ];
	int ifindex;
};

struct lab_plan {
	struct plan_bridge *bridges;    /* one per switch, same order */
	size_t nbridges;
	struct plan_link *links;
	size_t nlinks;
};

int plan_build(const struct topology *t, struct lab_plan *p);
void plan_free(struct lab_plan *p);
/* The ifindex a node's interface gets: lo is 1, then links in order. */
int plan_node_ifindex(const struct topo_node *n, const char *ifname);
/* Whether link `link` (index in topology.links) is created with both ends
 * up.  Raising both ends in the creating exchange needs one end in the lab
 * namespace, i.e. a switch end; the node and host ends of other links are
 * raised by their own namespace's batch. */
bool plan_link_created_up(const struct topology *t, size_t link);
void plan_print(const struct topology *t, const struct lab_plan *p, FILE *out);

#endif
