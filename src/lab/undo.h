/* Undoing what a lab did outside its own namespaces: host interfaces,
 * host rules, shared host settings.  Run by the supervisor when the lab
 * goes down, and again by `netlab down` (after a crash of the supervisor
 * that is the only run).  Everything is found again from the kernel and
 * the lab's name, so that a damaged or missing state.json never keeps
 * `down` from removing what is still there:
 *   - host interfaces by their alias "netlab:LAB" (set right after they
 *     are made, supervisor/host.c), and by the journal when there is one;
 *   - host rules by the tag "netlab:LAB" of their comment, in every
 *     table of both families;
 *   - host sysctls and cgroup controllers through the shared record of
 *     lab/hostshare.h, by the lab's name.
 * Idempotent: each step touches only what is still as the lab left it.
 * The calling thread must be in the host's network namespace. */
#ifndef NETLAB_LAB_UNDO_H
#define NETLAB_LAB_UNDO_H

#include <stdbool.h>

#include "lab/state.h"

/* "netlab:LAB", the mark of a lab's host interfaces, into buf. */
void undo_link_mark(const char *lab, char *buf, size_t len);

/* Delete the lab's host interfaces (st: its journal, or NULL).  They
 * would vanish with their peer's namespace, but only when the kernel
 * gets round to it; an immediate `up` of the same file needs the names.
 * *found (may be NULL) tells whether there were any. */
int undo_host_links(const char *lab, const struct lab_state *st, bool *found, nlab_error **err);
/* Remove every rule tagged with the lab's name from every table. */
int undo_host_rules(const char *lab, bool *found, nlab_error **err);
/* Leave the lab's shares of host settings (lab/hostshare.h). */
int undo_host_shares(const char *lab, nlab_error **err);

#endif
