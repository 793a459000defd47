/* Generic link operations: up, MTU, master, delete, lookup.
 *
 * The queue functions address an interface by ifindex, or by name when
 * ifindex is 0, and only append to nl's batch (see net/nlsock.h).  ctx is
 * the caller's description of the request, shown if the kernel refuses it. */
#ifndef NETLAB_NET_LINK_H
#define NETLAB_NET_LINK_H

#include <stdbool.h>

#include "net/nlsock.h"
#include "util/error.h"

/* Accept what the kernel's dev_valid_name() accepts: 1..15 bytes, not "."
 * or "..", no '/', ':' or whitespace.  ENAMETOOLONG / EINVAL otherwise. */
int nlab_ifname_check(const char *name, nlab_error **err);

int nlab_link_queue_up(struct nlab_nl *nl, int ifindex, const char *name,
		       const char *ctx, nlab_error **err);
int nlab_link_queue_down(struct nlab_nl *nl, int ifindex, const char *name,
			 const char *ctx, nlab_error **err);
int nlab_link_queue_mtu(struct nlab_nl *nl, int ifindex, const char *name,
			int mtu, const char *ctx, nlab_error **err);
/* master_ifindex 0 releases the interface from its master. */
int nlab_link_queue_master(struct nlab_nl *nl, int ifindex, const char *name,
			   int master_ifindex, const char *ctx, nlab_error **err);
/* Deleting one end of a veth pair deletes both. */
int nlab_link_queue_del(struct nlab_nl *nl, int ifindex, const char *name,
			const char *ctx, nlab_error **err);

/* Synchronous (one round trip, independent of the queue: a link that is
 * only queued is not found yet).  Returns the ifindex, or -1 with *err;
 * errnum is ENODEV when there is no such interface in nl's netns. */
int nlab_link_index(struct nlab_nl *nl, const char *name, nlab_error **err);

/* The flags (IFF_UP, IFF_LOWER_UP...) and MTU of ifindex, synchronously. */
int nlab_link_flags(struct nlab_nl *nl, int ifindex, unsigned *flags, int *mtu, nlab_error **err);

/* 1 if it exists in nl's netns, 0 if not, -1 with *err on other errors. */
int nlab_link_exists(struct nlab_nl *nl, const char *name, nlab_error **err);

/* Move an existing link into the network namespace netns_fd, renamed to
 * newname (NULL: keep its name) and with new_ifindex there (0: the
 * kernel picks; needs Linux 6.5).  Its addresses do not follow it. */
int nlab_link_queue_move(struct nlab_nl *nl, int ifindex, int netns_fd, const char *newname, int new_ifindex,
			 const char *ctx, nlab_error **err);

struct nlab_link_info {
	int ifindex;
	char name[16];
	bool up;
	int mtu;
	int master;             /* 0 = none */
};

/* What a link is now, by ifindex (> 0) or by name.  Synchronous. */
int nlab_link_info(struct nlab_nl *nl, int ifindex, const char *name, struct nlab_link_info *out,
		   nlab_error **err);

#endif
