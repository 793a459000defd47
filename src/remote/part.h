/* A machine's side of a lab across machines (issue 18): what `netlab
 * __remote` does when the controller starts it over ssh.  It speaks JSON
 * lines on its standard input and output (docs/multihost.md has the
 * exchange):
 *
 *   part:  -> {"hello": 1, "version", "underlay", "mtu"}
 *          <- {"part": {...}}          the topology text, the placement,
 *                                      this machine's index, VNIs, port
 *          -> {"up": {...}} | {"error": MESSAGE}
 *          <- {"commit": true}         -> {"committed": true}
 *          <- {"abort": true} or EOF   -> the part goes down: {"down": true}
 *   test:  <- {"file", "dir", "text"}  the topology as it reads now
 *          -> {"results": [...]} | {"pairs": [...]} | {"error": MESSAGE}
 *
 * The part is an ordinary lab of the same name on this machine (its own
 * `netlab status`, `exec`, `down` work on it), built from the whole
 * topology by plan_build() for this machine only (topo/span.h); its
 * LAB/part.topo and LAB/part.json keep what the controller sent. */
#ifndef NETLAB_REMOTE_PART_H
#define NETLAB_REMOTE_PART_H

#include <stdbool.h>

/* The protocol's version: the controller refuses a machine with another. */
#define RMT_PROTOCOL 1

/* `__remote part LAB [--underlay ADDRESS]`: the exit status.  version:
 * this netlab's, which the hello carries. */
int rmt_part(const char *lab, const char *underlay, const char *version);
/* `__remote test LAB [--all-pairs]`. */
int rmt_test(const char *lab, bool pairs);

#endif
