/* The controlling machine's side of a lab across machines (issue 18,
 * docs/multihost.md): bring every machine's part up, all or none; take
 * them down, retrying machines that do not answer; and the verbs that
 * act on a node wherever it runs (remote/forward.c).  Each machine is
 * reached with ssh (remote/ssh.h) and runs its part as an ordinary lab
 * of the same name (remote/part.h); what the controller knows is its
 * record (remote/record.h). */
#ifndef NETLAB_REMOTE_CONTROL_H
#define NETLAB_REMOTE_CONTROL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lab/test.h"
#include "remote/record.h"
#include "topo/model.h"
#include "util/error.h"

/* Set by `netlab __remote local VERB ...` (what the controller runs on a
 * machine): the verb acts on this machine's own lab even if this machine
 * also controls a lab of that name, so nothing is forwarded twice. */
extern bool mh_local_only;

/* Whether the verbs should send lab's work to its machines. */
bool mh_controls(const char *lab);

/* A message for the user while it works (a machine that does not answer
 * and is tried again); the CLI prints it. */
typedef void (*mh_note_fn)(const char *msg, void *arg);

struct mh_up_options {
	const char *lab;
	const char *remote_netlab;      /* NULL: this netlab's own path */
	const char *version;            /* this netlab's; machines must run the same */
	int grace_ms, line_timeout_s;
	mh_note_fn note;
	void *note_arg;
};

struct mh_up_result {
	size_t nodes, machines;
	char per_machine[1024];         /* "m1 334, m2 333, m3 333" */
	char phases[2048];              /* "m1: files=1 ...; m2: ..." (`up --timing`) */
	bool rolled_back;               /* after a failure: every machine's part is gone */
};

/* Bring t (with its span, VNIs and port set) up on its machines: each
 * machine's part is built and held until all are, then kept; if one
 * fails, every part that was built goes down again.  The error names the
 * machine and its reason. */
int mh_up(struct topology *t, const struct mh_up_options *o, struct mh_up_result *res, nlab_error **err);

/* Take every machine's part down, retrying the machines that do not
 * answer until retry_s seconds have passed; then the record goes.  0
 * with *existed; -1 with the machines that still hold their part. */
int mh_down(const char *lab, int retry_s, mh_note_fn note, void *note_arg, bool *existed, nlab_error **err);

/* ---- forward.c ---- */

/* `status LAB [--ns]` across machines: the kind `lab` object with each
 * node's machine and each machine's state (docs/json.md). */
json_object *mh_status(const char *lab, bool ns, nlab_error **err);
/* `status LAB --firewall [NODE] --json`: kind `firewall`, merged. */
json_object *mh_firewall(const char *lab, const char *node, nlab_error **err);
/* One entry of kind `labs` for a lab controlled from here. */
json_object *mh_list_entry(const char *lab);

/* Run `__remote local VERB args...` on the machine of node (NULL: of
 * `machine`), replacing this process (exec, shell, logs, capture, link):
 * returns only when it cannot, ENOENT for no such node. */
int mh_forward(const char *lab, const char *node, const char *machine, char *const *args, size_t nargs, bool tty,
	       nlab_error **err);
/* The same, waiting for it: its exit status (link, one end of several). */
int mh_forward_wait(const char *lab, const char *node, char *const *args, size_t nargs, nlab_error **err);
/* The machines where switch sw of lab has a bridge, in order (the
 * topology as the record keeps it): a malloc'd array of names. */
int mh_switch_machines(const char *lab, const char *sw, char ***names, size_t *n, nlab_error **err);
/* The other end of the link at node:ifname when it is a node on another
 * machine (a tunnel): *peer_node (malloc'd) and peer_if; *peer_node NULL
 * for any other link.  ENOENT: no link there. */
int mh_link_peer(const char *lab, const char *node, const char *ifname, char **peer_node, char *peer_if,
		 nlab_error **err);

/* `test` across machines: each machine runs the expectations of its own
 * nodes; res as lab_test() fills it. */
int mh_test(const char *lab, const struct topology *t, struct lab_test_result *res, nlab_error **err);
int mh_all_pairs(const char *lab, const struct topology *t, struct lab_pairs *out, nlab_error **err);

#endif
