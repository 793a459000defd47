/* A node's namespaces the way lsns(8) shows them, read with the nsfs
 * ioctls (ioctl_ns(2)): for each type its inode, the inode of the user
 * namespace that owns it (NS_GET_USERNS), that owner's uid
 * (NS_GET_OWNER_UID), and for the hierarchical types (user, pid) the
 * parent (NS_GET_PARENT); plus the node's uid and gid maps. */
#ifndef NETLAB_LAB_NSINFO_H
#define NETLAB_LAB_NSINFO_H

#include <json-c/json.h>
#include <sys/types.h>

/* {"namespaces": [{type, inode, userns, owner_uid, parent}...],
 *  "uid_map": "...", "gid_map": "..."}; fields that cannot be read are
 * null (a parent outside our own namespace, say). */
json_object *nsinfo_json(pid_t pid);

#endif
