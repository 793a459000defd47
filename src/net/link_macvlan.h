/* macvlan links: a child of an existing interface with a MAC address of
 * its own, sharing the parent's wire (the parent's own use goes on). */
#ifndef NETLAB_NET_LINK_MACVLAN_H
#define NETLAB_NET_LINK_MACVLAN_H

#include "net/nlsock.h"
#include "util/error.h"

/* Queue an RTM_NEWLINK for a bridge-mode macvlan child of parent_ifindex
 * (in nl's netns), made directly in netns_fd as `name` with `ifindex`
 * (0: the kernel picks).  Needs CONFIG_MACVLAN. */
int nlab_macvlan_queue_add(struct nlab_nl *nl, int parent_ifindex, int netns_fd, const char *name, int ifindex,
			   const char *ctx, nlab_error **err);

#endif
