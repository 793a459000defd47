/* Linux bridges as lab segments. */
#ifndef NETLAB_NET_BRIDGE_H
#define NETLAB_NET_BRIDGE_H

#include "net/nlsock.h"
#include "util/error.h"

/* Queue an RTM_NEWLINK (NLM_F_CREATE|NLM_F_EXCL) for a bridge with STP off
 * and forward delay 0, so that ports forward as soon as they are up instead
 * of spending 2 x 15 s in listening/learning.  ifindex 0 = kernel picks. */
int nlab_bridge_queue_add(struct nlab_nl *nl, const char *name, int ifindex,
			  int up, const char *ctx, nlab_error **err);

#endif
