/* Routes in the main table. */
#ifndef NETLAB_NET_ROUTE_H
#define NETLAB_NET_ROUTE_H

#include "net/nlsock.h"
#include "util/error.h"

/* Queue an RTM_NEWROUTE (NLM_F_CREATE|NLM_F_EXCL), proto static, main
 * table, in nl's netns.  dst NULL means the default route (dst_len 0);
 * dst must have its host bits clear or the kernel refuses it.  gw and/or
 * oif: with a gateway the route has universe scope, without one it is
 * on-link (scope link, "dev X").  Addresses are 4 or 16 bytes in network
 * order, per family. */
int nlab_route_queue_add(struct nlab_nl *nl, int family, const void *dst,
			 int dst_len, const void *gw, int oif,
			 const char *ctx, nlab_error **err);

#endif
