/* A node's view: everything its init reads of the lab, the topology and
 * the plan (a struct node_spec and what it points to), with how its
 * processes are to be made, in one block of memory that names no address
 * outside itself.
 *
 * The supervisor packs it (node_view_pack()), sends it to the lab's
 * spawner (src/spawner/), which places it in memory of its own
 * (node_view_place()) and makes the node's init, a copy of the spawner:
 * the init starts with its view and the spawner's few pages, not with a
 * copy of the supervisor's memory, whose pages thousands of inits would
 * share (docs/scale.md).
 *
 * Inside a packed block every pointer is an offset from the block's
 * start (0 for NULL: the block starts with its header, which nothing
 * points to).  Only the fields an init reads are copied; the other
 * pointers of the topology's structs are NULL and their vectors empty. */
#ifndef NETLAB_NODE_VIEW_H
#define NETLAB_NODE_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/init.h"
#include "node/spawn.h"
#include "util/error.h"

/* How the spawner makes the node (node/spawn.h, struct spawn_node_args). */
struct node_view_make {
	bool userns;
	bool setgroups_deny;
	bool tmpl;                      /* in a copy of the lab's node template mount namespace */
	uint32_t uid_base, gid_base, id_size;
	size_t ncgroups;
	char *cgroups[SPAWN_MAX_CGROUPS];
};

struct node_view {
	uint64_t magic;
	size_t size;                    /* of the whole block */
	struct node_view_make make;
	struct node_spec spec;          /* ctl_fd 3, log_fd 4; index 0 in its plan */
	/* What spec points to; strings and arrays follow the struct. */
	struct topology t;              /* file, dir, userns_off */
	struct topo_node node;
	struct plan plan;               /* ops: the node's mounts, then its lines; nodes: &no */
	struct plan_node_ops no;
};

/* The largest view (a node with thousands of long lines). */
#define NODE_VIEW_MAX (64u << 20)

/* A packed copy of *spec (spec->index names the node in spec->plan), and
 * of *make, in fresh malloc'd memory of *size bytes; NULL with *err. */
struct node_view *node_view_pack(const struct node_spec *spec, const struct node_view_make *make, size_t *size,
				 nlab_error **err);

/* Turn the offsets of a packed block of `size` bytes (as received) into
 * addresses where it lies: -1 when the block is not a whole view. */
int node_view_place(struct node_view *v, size_t size);

#endif
