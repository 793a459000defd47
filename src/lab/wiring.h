/* LAB/wiring.json: how a running lab is wired, written by its supervisor
 * from the plan when the lab comes up, read by the verbs that act on
 * links and switches later (`link`, `capture`, `status`): each link's
 * two ends (the node and interface, or the switch port netlab named in
 * the lab namespace, or the host interface) and each switch's bridge.
 * The topology file may have changed since `up`; this file has not.
 *
 *   { "switches": [ { "name": "lan", "bridge": "br0" } ],
 *     "links": [ { "line": 12, "ends": [ { "node": "web1", "ifname": "eth0" },
 *                                        { "switch": "lan", "ifname": "v0b" } ] } ] } */
#ifndef NETLAB_LAB_WIRING_H
#define NETLAB_LAB_WIRING_H

#include <stddef.h>

#include "topo/model.h"
#include "util/error.h"

struct plan;

enum wiring_where { WIRING_NODE, WIRING_SWITCH, WIRING_HOST };

struct wiring_end {
	enum wiring_where where;
	char *name;		    /* node or switch name; NULL for the host */
	char ifname[NLAB_IFNAMSIZ]; /* in the node, the lab namespace or the host */
	char *machine;		    /* a lab across machines: the far end of a tunnel is a node of this
				     * other machine (NULL: here) */
};

struct wiring_link {
	int line;
	struct wiring_end ends[2];
};

struct wiring_switch {
	char *name;
	char bridge[NLAB_IFNAMSIZ]; /* in the lab namespace */
};

struct wiring {
	struct wiring_link *links;
	size_t nlinks;
	struct wiring_switch *switches;
	size_t nswitches;
};

/* Written by the supervisor into its state directory dir. */
int wiring_write(const char *dir, const struct plan *p, nlab_error **err);
/* errnum ENOENT: the lab has no wiring file (not up, or an older netlab). */
int wiring_read(const char *lab, struct wiring *w, nlab_error **err);
void wiring_clear(struct wiring *w);

/* The link with node's interface ifname at one of its ends: the link and
 * that end's index (0 or 1), or NULL. */
const struct wiring_link *wiring_find(const struct wiring *w, const char *node, const char *ifname, int *which);
const struct wiring_switch *wiring_switch(const struct wiring *w, const char *name);
/* "web1:eth0", "lan (port v0b)", "host:lab0" */
void wiring_end_label(const struct wiring_end *e, char *buf, size_t len);

#endif
