/* `netlab link`: faults and shaping on a running lab's links, done from
 * the netlab process by entering the namespace of each end (a node's
 * through its init's pidfd; a switch port, which lives in the lab
 * namespace, through the supervisor's).  No daemon: the kernel holds the
 * state, and `status` reads it back from there.
 *
 * down/up/flap act on the link (a cable pulled and plugged back): the
 * switch port goes down when the link has one, so the node keeps its
 * addresses and routes and only loses carrier; a link between two nodes
 * takes the named end down, its addresses and routes saved first
 * (net/ifconf.h, LAB/linkdown/) and put back by `up`.
 * set/clear act on one end's egress (or the peer's, or both). */
#ifndef NETLAB_LAB_LINKCTL_H
#define NETLAB_LAB_LINKCTL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "lab/state.h"
#include "net/qdisc.h"
#include "util/error.h"

enum link_action { LINK_SHOW, LINK_DOWN, LINK_UP, LINK_FLAP, LINK_SET, LINK_CLEAR };

/* Which end(s) set/clear act on. */
enum link_ends { LINK_THIS = 1, LINK_PEER = 2, LINK_BOTH = 3 };

/* What `set` gives (a value of 0 removes that part). */
#define LINK_SET_RATE (1u << 0)
#define LINK_SET_DELAY (1u << 1)
#define LINK_SET_JITTER (1u << 2)
#define LINK_SET_LOSS (1u << 3)
#define LINK_SET_BURST (1u << 4)
#define LINK_SET_LIMIT (1u << 5)

struct link_request {
	const char *node, *ifname; /* the end the user named */
	enum link_action action;
	enum link_ends ends;
	uint32_t flap_ms;
	struct nlab_shape set;
	unsigned set_mask;
};

struct link_end_status {
	char label[64]; /* "web1:eth0", "lan (port v0b)" */
	bool read;	/* false: could not be read (why in error) */
	char error[160];
	bool up, carrier;
	struct nlab_shape_state shape;
};

struct link_status {
	int line;
	struct link_end_status ends[2]; /* in the topology's order */
	bool saved;			/* an end's configuration is saved by `down` */
};

/* Perform r on lab's link, then read both ends back into *out. */
int lab_link_change(const char *lab, const struct link_request *r, struct link_status *out, nlab_error **err);

/* For `status`: every link with both ends' state and shaping, read from
 * the kernel: [{"line", "state", "ends": [{"end", "state", "egress"}]}]. */
json_object *lab_links_json(const char *lab, const struct lab_state *st);

#endif
