/* What the controlling machine knows of a lab it spread over machines
 * (issue 18): $NETLAB_RUN_DIR/.machines/LAB.json (/run/netlab by
 * default), written by `up` before any machine is asked for anything and
 * kept until every machine has taken its part down; the lock beside it
 * (.machines/.LAB.lock) is held while `up` or `down` runs.  Each machine
 * keeps its own part as an ordinary lab of the same name under its own
 * /run/netlab (remote/part.c).  The directory's leading dot keeps it out
 * of the machine's list of labs (state_list()).
 *
 *   { "lab", "topology", "dir", "created", "state": "starting"|"up",
 *     "remote_netlab": the command machines run netlab with,
 *     "vxlan": { "port", "vni", "mtu" },
 *     "machines": [ { "name", "user", "host", "underlay", "holds",
 *                     "nodes": [ NAME... ] } ],
 *     "text": the topology as the machines were given it } */
#ifndef NETLAB_REMOTE_RECORD_H
#define NETLAB_REMOTE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "topo/model.h"
#include "util/error.h"

struct mh_machine {
	struct topo_machine m;  /* name, user, host (for ssh) */
	char underlay[64];      /* the address its tunnels start from, "" unknown */
	char **nodes;           /* the nodes it runs */
	size_t nnodes;
	bool holds;             /* it may still hold its part (down has not confirmed it gone) */
};

struct mh_record {
	char *lab, *topology, *dir, *remote_netlab, *text;
	bool up;                /* false: `up` was still starting it */
	int64_t created;
	int port, mtu;
	uint32_t vni;
	struct mh_machine *machines;
	size_t nmachines;
};

/* 0 and *r; -1 with errnum ENOENT when this machine controls no lab LAB. */
int mh_record_read(const char *lab, struct mh_record *r, nlab_error **err);
int mh_record_write(const struct mh_record *r, nlab_error **err);
int mh_record_remove(const char *lab, nlab_error **err);
void mh_record_clear(struct mh_record *r);
bool mh_record_exists(const char *lab);

/* The lab's controller lock (util/lock.h); released with mh_unlock(),
 * which removes the lock file when the lab is gone. */
int mh_lock(const char *lab, nlab_error **err);
void mh_unlock(int fd, const char *lab, bool gone);

/* Labs this machine controls, sorted; free each and the array. */
int mh_list(char ***labs, size_t *n, nlab_error **err);

/* The machine that runs node, or NULL. */
const struct mh_machine *mh_record_node(const struct mh_record *r, const char *node);
const struct mh_machine *mh_record_machine(const struct mh_record *r, const char *name);

#endif
