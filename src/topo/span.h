/* A lab across machines (issue 18, docs/multihost.md): which machine runs
 * each node, which switches have a bridge on which machines, which links
 * become VXLAN tunnels between two machines, and their VNIs.  Pure: the
 * same topology text and machine list give the same span on the
 * controller and on every machine, so a machine builds its own part from
 * the text alone (plan/build.c asks the questions below).
 *
 * Placement: `place` statements first; nodes that must share a machine
 * stay together (a node and every node it waits for with `after`, since
 * one supervisor orders those lines; `node host` and the nodes linked to
 * a host interface, which live in one machine's host namespace); the rest
 * go in breadth-first order over the links to the machine that holds most
 * of their neighbours among those with room, so that a chain is cut in
 * as few places as machines allow and the node count stays balanced
 * (nodes / machines each, the first ones one more for the remainder;
 * more only where `place` says so). */
#ifndef NETLAB_TOPO_SPAN_H
#define NETLAB_TOPO_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "topo/diag.h"
#include "topo/model.h"

#define TOPO_MACHINES_MAX 64
#define TOPO_VXLAN_PORT 4789            /* IANA's VXLAN port */
#define TOPO_VNI_MAX 16777215u          /* 24 bits */

/* "[USER@]HOST" (or "[USER@][ADDRESS]" for IPv6): a destination ssh may
 * be given as one argument, never an option.  0 with *user (NULL when
 * absent) and *host allocated; -1 with the reason in why. */
int topo_ssh_target_parse(const char *s, char **user, char **host, char *why, size_t whylen);

/* Machine names follow node names' alphabet (letters first). */
bool topo_machine_name_valid(const char *name);

/* `up --machines NAME=[USER@]HOST,...`: replaces the file's machines
 * (and drops a span computed from them).  -1 with the reason in why. */
int topo_machines_from_spec(struct topology *t, const char *spec, char *why, size_t whylen);

/* Compute t->span from t->machines (at least one) and t->places,
 * replacing any span before.  Diagnostics with the statements' positions:
 * a `place` naming no machine, places that split what must stay together.
 * Returns 0, or -1 when d got errors (t->span is then NULL). */
int topo_span_build(struct topology *t, struct diags *d);

/* The same from a placement made before (node_machine[] per node, from
 * the controller: remote/part.c), without placing again.  -1 when a
 * machine index is out of range or out of memory. */
int topo_span_set(struct topology *t, const int *node_machine);

/* validate.c: what `place` statements name (nodes; the same node on two
 * machines), whether or not the lab has machines. */
struct topo_broken;
void validate_places(const struct topology *t, const struct topo_broken *broken, struct diags *d);

/* The default first VNI of a lab: from its name, in steps of 4096, so that
 * labs sharing machines rarely share VNIs (`up --vni` sets it). */
uint32_t topo_span_default_vni(const char *lab);

/* ---- what machine span->part builds (plan/build.c) ---- */

static inline bool topo_span_node_here(const struct topology *t, size_t node)
{
	return !t->span || t->span->node_machine[node] == t->span->part;
}

static inline bool topo_span_switch_here(const struct topology *t, size_t sw)
{
	/* No part (-1: a plan of the whole span, as the fuzzer builds): no
	 * switch is here, as no node is (topo_span_node_here). */
	return !t->span ||
	       (t->span->part >= 0 && t->span->switch_on[sw * t->span->nmachines + (size_t)t->span->part]);
}

/* Whether machine m has anything to build: nodes, a switch, the host. */
bool topo_span_machine_used(const struct topology *t, size_t m);

/* Whether switch sw has a bridge on more than one machine. */
bool topo_span_switch_spans(const struct topology *t, size_t sw);

/* A link: 1 made entirely here, 0 not here at all, 2 a tunnel with one end
 * here (the end in *here_end: 0 = a, 1 = b). */
int topo_span_link_here(const struct topology *t, size_t link, int *here_end);

/* The VNI of link's tunnel or of spanning switch sw. */
uint32_t topo_span_link_vni(const struct topology *t, size_t link);
uint32_t topo_span_switch_vni(const struct topology *t, size_t sw);

/* The MTU of the lab side of tunnels (the underlay's less VXLAN's 50
 * bytes over IPv4, 70 over IPv6; 1450 when not known). */
int topo_span_mtu(const struct topology *t);

#endif
