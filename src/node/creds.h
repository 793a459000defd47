/* Who a node's commands run as: `user NAME|UID[:GROUP|GID]` resolved
 * against the node's own /etc/passwd and /etc/group (parsed here, not
 * through NSS, so no library of a node's rootfs is ever loaded), and the
 * switch to it with no supplementary groups and no inheritable or ambient
 * capabilities left. */
#ifndef NETLAB_NODE_CREDS_H
#define NETLAB_NODE_CREDS_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

/* Resolve in the calling process's root directory. */
int creds_resolve(const char *user, const char *group, uint32_t *uid, uint32_t *gid, nlab_error **err);
/* Drop supplementary groups (when allowed: a user namespace with setgroups
 * denied has none to drop), then become gid/uid. */
int creds_become(uint32_t uid, uint32_t gid, nlab_error **err);
/* Clear the inheritable and ambient capability sets, so nothing survives
 * an execve of a program that is not privileged by itself. */
int creds_clear_inheritable(nlab_error **err);

#endif
