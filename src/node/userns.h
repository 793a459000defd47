/* User namespace ID ranges of nodes (docs/isolation.md).
 *
 * Every node with a user namespace maps its IDs 0..65535 onto a slot of
 * 65536 host IDs.  Slots come from root's /etc/subuid and /etc/subgid
 * entries when there are any, else from a fixed range starting at
 * NLAB_IDS_DEFAULT_BASE; a slot is used by at most one node of all running
 * labs: allocation scans every lab's state.json under a lock in the state
 * root, and the caller records its slots in its own state.json before
 * releasing the lock. */
#ifndef NETLAB_NODE_USERNS_H
#define NETLAB_NODE_USERNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

#define NLAB_IDS_PER_NODE 65536u
#define NLAB_IDS_DEFAULT_BASE 0x40000000u   /* 1073741824 */
#define NLAB_IDS_DEFAULT_COUNT 0x40000000u  /* 16384 slots */

/* Slots start 65537 IDs apart, one unused ID between two.  The kernel
 * keeps a user_struct per host uid in use, in a table of 128 chains
 * chosen by ((uid >> 7) + uid) & 127 (kernel/user.c), and a node's root
 * is the first uid of its slot: slots 65536 apart all fall in one chain,
 * which setresuid() then walks with interrupts off, past every node made
 * before (O(N) per node).  65537 apart, 128 slots in a row take 128
 * chains.  Ranges too small for that many slots are packed 65536 apart,
 * as before. */
#define NLAB_IDS_SLOT_STRIDE (NLAB_IDS_PER_NODE + 1)

struct id_range {
	uint32_t start, count;
};

/* Root's ranges in a subuid/subgid file ("root:START:COUNT" or
 * "0:START:COUNT" lines); 0 ranges when the file is absent or has none. */
int userns_read_subid(const char *path, struct id_range **out, size_t *n);

/* Take the allocation lock (the host lock, lab/hostshare.h: a flock on
 * the state root, which leaves no file behind); userns_unlock() releases
 * it. */
int userns_lock(nlab_error **err);
void userns_unlock(int fd);

/* Fill bases[0..n) with slot starts from the ranges that share no ID
 * with a slot starting at used[0..nused) (sorted): NLAB_IDS_SLOT_STRIDE
 * apart when the ranges have room for n so, else NLAB_IDS_PER_NODE apart.
 * Returns how many it found. */
size_t userns_pick(const struct id_range *r, size_t nr, const uint32_t *used, size_t nused, size_t n,
		   uint32_t *bases);

/* Pick n free slots (uid and gid bases) not used by any lab other than
 * `self` in the state root.  Call with the lock held. */
int userns_allocate(const char *self, size_t n, uint32_t *uid_base, uint32_t *gid_base, nlab_error **err);

/* Parent side, before the child does anything else: uid_map, setgroups allow
 * deny, gid_map (the order user_namespaces(7) requires for an
 * unprivileged-looking gid_map). */
int userns_write_maps(pid_t pid, uint32_t uid_base, uint32_t gid_base, nlab_error **err);

/* Rootless (lab/rootless.h): from the lab user namespace, map node ID 0
 * to the lab's 0 (the user) and node IDs 1..size-1 to [base, base +
 * size - 1) of the lab's; size 1 maps only root.  setgroups is "deny"
 * when the lab's namespace denies it (no subordinate IDs). */
int userns_write_nested_maps(pid_t pid, uint32_t uid_base, uint32_t gid_base, uint32_t size, bool setgroups,
			     nlab_error **err);

#endif
