/* The plan: every operation `netlab up` performs, in the order it
 * performs them, each with the topology line it comes from.  Built from a
 * validated topology without touching the kernel (bubblewrap's SetupOp
 * list is the model).  One list drives:
 *   - apply (src/supervisor/apply.c walks it, one netlink batch per
 *     namespace; src/node/init.c runs its node's mounts and commands),
 *   - `netlab up --dry-run` (plan_print(), plan_json()),
 *   - the undo journal of what is done outside the lab's namespaces
 *     (src/supervisor/host.c records each PLAN_NS_HOST operation in
 *     state.json before doing it).
 *
 * Interfaces get the ifindex netlab asks the kernel for, so addresses and
 * routes reference them in the same batch, with no lookup round-trips.
 *
 * Adding an operation: a kind below, its fields in the union, where
 * plan_build() emits it, how print.c shows it, and how apply.c (or the
 * init) performs it.  docs/architecture.md walks through an example. */
#ifndef NETLAB_PLAN_PLAN_H
#define NETLAB_PLAN_PLAN_H

#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

#include "net/qdisc.h"
#include "plan/firewall.h"
#include "topo/model.h"

#define PLAN_NS_LAB (-1)        /* the lab's private namespace (switches) */
#define PLAN_NS_HOST (-2)       /* the namespace netlab was started from */

/* Sections, in the order they are applied; each has a phase name in
 * `up --timing`. */
enum plan_section {
	PLAN_SEC_NODES,         /* make every node; its init mounts */
	PLAN_SEC_LINKS,         /* the lab namespace: bridges, veths, queriers */
	PLAN_SEC_CONFIGURE,     /* per node: interfaces, addresses, routes, sysctls, rules */
	PLAN_SEC_HOST,          /* the starting namespace (journaled) */
	PLAN_SEC_COMMANDS,      /* per node: `after`, then its lines, performed by each init */
	PLAN_NSECTIONS
};

enum plan_op_kind {
	OP_NODE,                /* namespaces, ID slot, cgroup limits, init */
	OP_MOUNT,               /* a `mount`/`tmpfs` statement (by the init) */
	OP_BRIDGE,              /* a switch */
	OP_VETH,                /* a link: both ends placed, numbered, enslaved */
	OP_QUERIER,             /* a snooping switch's IGMP/MLD querier */
	OP_LINK_UP,
	OP_ADDR,
	OP_ROUTE,
	OP_SYSCTL,
	OP_FW_RULE,             /* an x_tables rule (firewall, nat, host forward) */
	OP_FW_POLICY,
	OP_EXEC,                /* a command line (by the init) */
	OP_RUN,
	OP_WAIT,                /* `wait ...` (by the init) */
	OP_DHCP,                /* `ip IFACE dhcp` (by the init) */
	OP_AFTER,               /* `after NODE`: the node's lines wait for NODE (by the supervisor) */
	OP_FILES,               /* `files DIR` laid over the node's root (by the init) */
	OP_HOST_MOVE,           /* `link host:IF NODE:IF move`: journaled, pinned, moved */
	OP_HOST_ATTACH,         /* `link host:IF SWITCH`: moved into the lab namespace, a port */
	OP_HOST_MACVLAN,        /* `link host:IF NODE:IF macvlan`: a child made in the node */
	/* Issue 14 (impairments, link capture).  OP_QDISC shapes one link
	 * end's egress, in the batch of the namespace the end is in (the
	 * lab's for a switch port, the node's, the host's); OP_CAPTURE
	 * records a link into a pcap file, performed by the capture process
	 * the supervisor forks once the configure section is applied
	 * (supervisor/capture.c; apply.c passes over it). */
	OP_QDISC,
	OP_CAPTURE,
	/* Issue 18 (a lab across machines, topo/span.h): the end of a VXLAN
	 * tunnel to another machine, made from the host namespace (where its
	 * UDP socket must be) and placed into a node as its interface, or
	 * into the lab namespace as a spanning switch's port; OP_FLOOD adds
	 * a machine more such a port floods to. */
	OP_VXLAN,
	OP_FLOOD,
};

/* Where an interface end goes. */
struct plan_end {
	int ns;                 /* node index, PLAN_NS_LAB or PLAN_NS_HOST */
	char name[NLAB_IFNAMSIZ];
	int ifindex;            /* 0: the kernel picks (host ends) */
	int master;             /* bridge ifindex in the lab namespace, 0 = none */
};

struct plan_op {
	enum plan_op_kind kind;
	int ns;                 /* node index in topology.nodes, PLAN_NS_LAB or PLAN_NS_HOST */
	int line;               /* topology line, 0 when netlab adds it on its own */
	bool optional;          /* ENOENT (a feature the kernel lacks) is not an error */
	union {
		const struct topo_node *node;           /* OP_NODE */
		const struct topo_mount *mount;         /* OP_MOUNT */
		struct {                                /* OP_BRIDGE, OP_QUERIER */
			char name[NLAB_IFNAMSIZ];
			int ifindex;
			bool snoop;                     /* IGMP/MLD snooping */
			size_t sw;                      /* index in topology.switches */
		} bridge;
		struct {                                /* OP_VETH */
			size_t link;                    /* index in topology.links */
			struct plan_end a, b;           /* a is the main device, b the peer */
			int mtu;
			bool up;                        /* created with both ends up */
		} veth;
		struct {                                /* OP_LINK_UP, OP_ADDR, OP_ROUTE */
			char ifname[NLAB_IFNAMSIZ];     /* "" for a route without dev */
			int ifindex;                    /* 0: look up ifname (host) */
			const struct topo_ipaddr *addr; /* OP_ADDR */
			const struct topo_route *route; /* OP_ROUTE */
		} iface;
		struct {                                /* OP_SYSCTL */
			const char *key, *value;
		} sysctl;
		size_t fw;                              /* OP_FW_RULE, OP_FW_POLICY: index in rules/policies */
		const struct topo_cmd *cmd;             /* OP_EXEC, OP_RUN, OP_WAIT, OP_DHCP */
		int after;                              /* OP_AFTER: node index */
		struct {                                /* OP_HOST_MOVE, OP_HOST_ATTACH, OP_HOST_MACVLAN */
			char host[NLAB_IFNAMSIZ];       /* the host's interface */
			struct plan_end to;             /* where it (or its child) goes */
			size_t link;
		} hostif;
		const struct topo_files *files;         /* OP_FILES */
		struct {                                /* OP_QDISC, OP_CAPTURE */
			char ifname[NLAB_IFNAMSIZ];
			int ifindex;                    /* 0: look up ifname (host) */
			size_t link;                    /* index in topology.links */
			int end;                        /* which end of it: 0 = a, 1 = b */
			struct nlab_shape shape;        /* OP_QDISC */
			const char *file;               /* OP_CAPTURE: the pcap, under capture_dir */
		} shape;
		struct {                                /* OP_VXLAN, OP_FLOOD */
			struct plan_end end;            /* where it goes: a node, or the lab (a port: master) */
			size_t link;                    /* the link of a node's end; SIZE_MAX for a switch's port */
			size_t sw;                      /* the switch of a port */
			uint32_t vni;
			int remote;                     /* the machine at the other end (OP_FLOOD: one more) */
			int mtu;
			bool up;                        /* a switch's port is made up */
		} vxlan;
	};
};

/* Where a node's own operations are in the list. */
struct plan_node_ops {
	size_t mounts, nmounts;         /* first OP_FILES/OP_MOUNT, count */
	size_t afters, nafters;         /* first OP_AFTER, count */
	size_t cmds, ncmds;             /* first line (OP_EXEC/RUN/WAIT/DHCP), count */
};

struct plan {
	const struct topology *t;
	const char *lab;
	struct plan_op *ops;
	size_t nops, cap;
	size_t sec[PLAN_NSECTIONS + 1]; /* section k is ops[sec[k] .. sec[k+1]) */
	struct plan_node_ops *nodes;    /* per topology node */
	struct fw_ruleset fw;           /* the rules OP_FW_* point into */
	char **strings;                 /* owned: keys made up while planning */
	size_t nstrings;
	size_t nbridges, nveths;        /* counts, for the summary */
	size_t ntunnels;                /* OP_VXLAN operations */
	const char *capture_dir;        /* `capture` links: DIR/LAB-captures, or NULL */
};

/* Build the plan of t for lab `lab` (the name in firewall comments).
 * Pure: no kernel access.  -1 with *err only when out of memory. */
int plan_build(const struct topology *t, const char *lab, struct plan *p, nlab_error **err);
void plan_free(struct plan *p);

/* The shaping a link asks for on each end (Mininet's TCLink: both ends'
 * egress alike). */
void plan_link_shape(const struct topo_link *l, struct nlab_shape *out);

/* The ifindex a node's interface gets: lo is 1, then links in order. */
int plan_node_ifindex(const struct topo_node *n, const char *ifname);
const char *plan_section_name(enum plan_section s);
const char *plan_op_name(enum plan_op_kind k);

/* `up --dry-run`: every operation, grouped by where it happens (the lab
 * namespace, each node, the host), with FILE:LINE. */
void plan_print(const struct plan *p, FILE *out);
/* The same as JSON: {"schema": "netlab/1", "kind": "plan", ...}. */
json_object *plan_json(const struct plan *p);

/* A lab across machines (t->span, with its VNIs and port set): where
 * each node runs, the tunnels, then each machine's plan; the JSON has
 * every machine's operations, each with its "machine" (print_span.c). */
int plan_span_print(struct topology *t, const char *lab, FILE *out, nlab_error **err);
json_object *plan_span_json(struct topology *t, const char *lab, nlab_error **err);

#endif
