/* `netlab up --netns-names`: /run/netns/LAB-NODE for every node, as
 * `ip netns add` makes them (lab/netns_names.c says how and why there). */
#ifndef NETLAB_LAB_NETNS_NAMES_H
#define NETLAB_LAB_NETNS_NAMES_H

#include "lab/state.h"
#include "util/error.h"

/* Name every node of the running lab: recorded in its state.json first,
 * then made.  Run by `netlab up` in the host's mount namespace, with the
 * lab's lock held.  On failure the names made are recorded (the caller
 * takes the lab down, which removes them); a name that exists already is
 * never replaced (EEXIST). */
int netns_names_create(const char *lab, nlab_error **err);

/* Remove the names st records (detaching each mount); a name that is
 * gone already is no error.  Run by lab_down(). */
int netns_names_remove(const struct lab_state *st, nlab_error **err);

#endif
