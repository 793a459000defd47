/* Host settings that labs share: a sysctl of the namespace netlab runs
 * in (net.ipv4.ip_forward, IPv6 and per-interface forwarding, any
 * `sysctl` of `node host`) and a cgroup v2 controller netlab enables on
 * the root cgroup.  Two labs may need the same one: the first saves the
 * original value and sets it, the others only join, and the last one to
 * leave restores the original.  Kept in one place, <root>/.host.json,
 * written (atomically) before every change, under the host lock: a flock
 * on the state root itself, which leaves nothing behind even when its
 * holder is killed.  A lab's share survives a crash of its supervisor and
 * is released by its `down` (by name: nothing in the lab's own, maybe
 * damaged, state is needed).  A share of a lab that has neither a state
 * directory nor a supervisor any more is released by whoever takes the
 * lock next.
 *
 *   {"settings": [{"kind": "sysctl", "key": "net.ipv4.ip_forward",
 *                  "original": "0", "value": "1", "labs": ["a", "b"]}]}
 *
 * The same lock guards the choice of user namespace ID slots
 * (node/userns.c). */
#ifndef NETLAB_LAB_HOSTSHARE_H
#define NETLAB_LAB_HOSTSHARE_H

#include <stdbool.h>

#include "util/error.h"

struct lock_wait;

/* The host lock (w NULL: wait at most 30 s, telling the notice set
 * below, if any, after a second). */
int hostshare_lock(const struct lock_wait *w, nlab_error **err);
void hostshare_unlock(int fd);
/* Who hears, by default, what a wait for the host lock is about (the
 * supervisor passes it on to `netlab up`). */
void hostshare_set_notice(void (*notice)(const char *msg, void *arg), void *arg);

/* Set sysctl KEY (of the calling thread's network namespace) to VALUE
 * for lab LAB: journal first, then write.  Refused (EBUSY) when another
 * lab holds it at a different value. */
int hostshare_sysctl(const char *lab, const char *key, const char *value, const struct lock_wait *w, nlab_error **err);

/* Record, before enabling it, that lab LAB needs controller CTRL
 * ("cpu") enabled in the root cgroup's subtree_control of the cgroup v2
 * mount MNT; *enable tells whether the caller must enable it (it was
 * not yet).  Call with the host lock held (lockfd). */
int hostshare_cgroup_controller(int lockfd, const char *lab, const char *mnt, const char *ctrl, bool was_enabled,
				nlab_error **err);

/* Leave every share of LAB; restore what no lab holds any more. */
int hostshare_release(const char *lab, const struct lock_wait *w, nlab_error **err);

/* What LAB still holds, as "key, key" (NULL when nothing; caller frees). */
char *hostshare_held(const char *lab);

#endif
