/* `down`'s tidying of the host directories node code could write to.
 *
 * A default node sees the topology's directory as /lab, idmapped so that
 * node root writes as the directory's owner; its other users (a daemon's
 * own, such as tcpdump's) write as their slot's host IDs, and a writable
 * bind mount takes node IDs as their slot's host IDs.  Once the lab's
 * processes are gone, every file there owned by one of the lab's slot
 * IDs is given to the directory's owner (its group likewise), and a file
 * of the owner's changed during the lab loses setuid, setgid and file
 * capabilities: nothing node code made stays a way up on the host, and
 * a capture or a saved configuration belongs to whoever owns the lab's
 * folder.  Nothing is followed (symlinks, other file systems).
 *
 * A user's lab (docs/rootless.md): the slots are IDs of the lab's user
 * namespace, the user's subordinate IDs on the host, which the user may
 * chown only from a namespace that maps them: the supervisor tidies as it
 * stops (it is that namespace's root), `down` again in a namespace with
 * the same maps (lab/rootless.h rootless_mapped), for after a crash. */
#ifndef NETLAB_LAB_LABDIR_H
#define NETLAB_LAB_LABDIR_H

#include <stddef.h>

#include "lab/state.h"
#include "util/error.h"

/* Tidy st->write_dirs; *fixed: how many files were changed. */
int labdir_tidy(const struct lab_state *st, size_t *fixed, nlab_error **err);

#endif
