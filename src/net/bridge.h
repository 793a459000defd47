/* Linux bridges as lab segments. */
#ifndef NETLAB_NET_BRIDGE_H
#define NETLAB_NET_BRIDGE_H

#include <stdbool.h>

#include "net/nlsock.h"
#include "util/error.h"

/* Queue an RTM_NEWLINK (NLM_F_CREATE|NLM_F_EXCL) for a bridge with STP off
 * and forward delay 0, so that ports forward as soon as they are up instead
 * of spending 2 x 15 s in listening/learning.  ifindex 0 = kernel picks.
 * With `snoop`, timers that let the querier turned on later take effect
 * within 0.1 s (1 s when its first IPv6 query finds no address yet). */
int nlab_bridge_queue_add(struct nlab_nl *nl, const char *name, int ifindex,
			  int up, bool snoop, const char *ctx, nlab_error **err);

/* Queue turning on the bridge's IGMP/MLD querier, which makes its
 * multicast snooping act: membership reports go to multicast routers
 * only, and a group's traffic to its members (unknown groups and
 * link-local IPv4 groups still go everywhere).  Without it every report
 * of every port floods all ports.  The IPv6 querier needs an IPv6
 * link-local address on the bridge when it sends its first query. */
int nlab_bridge_queue_querier(struct nlab_nl *nl, int ifindex, const char *ctx, nlab_error **err);

#endif
