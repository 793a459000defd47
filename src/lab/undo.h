/* Undoing what a lab did outside its own namespaces, from the journal in
 * its state.json (written by src/supervisor/host.c before each change):
 * host interfaces, host rules, host sysctls.  Run by the supervisor when
 * the lab goes down, and again by `netlab down` (after a crash of the
 * supervisor that is the only run).  Idempotent: each step touches only
 * what is still as the lab left it.  The calling thread must be in the
 * host's network namespace. */
#ifndef NETLAB_LAB_UNDO_H
#define NETLAB_LAB_UNDO_H

#include "lab/state.h"

/* Delete the host ends of veths that still have the recorded ifindex
 * (they vanish with their peer's namespace, but only when the kernel gets
 * round to it; an immediate `up` of the same file needs the names). */
int undo_host_links(const struct lab_state *st, nlab_error **err);
/* Remove every rule tagged with the lab's name from the recorded tables. */
int undo_host_rules(const struct lab_state *st, nlab_error **err);
/* Give back each sysctl's old value, latest change first. */
int undo_host_sysctls(const struct lab_state *st, nlab_error **err);

#endif
