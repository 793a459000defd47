/* An interface's addresses and routes, saved before it is taken down and
 * put back when it comes up again.
 *
 * Taking an interface down (IFF_UP off) makes the kernel delete every
 * IPv4 route through it and, unless keep_addr_on_down, its IPv6
 * addresses; bringing it up brings back only the kernel's own connected
 * routes.  `netlab link ... down` must be a cable pulled, not a node
 * reconfigured, so what was there is saved (as the kernel's own dump
 * messages) and replayed on `up`.  Multipath routes are not saved. */
#ifndef NETLAB_NET_IFCONF_H
#define NETLAB_NET_IFCONF_H

#include <stddef.h>

#include "net/nlsock.h"
#include "util/error.h"

/* *buf (malloc'd, *len bytes): RTM_NEWADDR and RTM_NEWROUTE messages of
 * ifindex in nl's namespace, the kernel-made ones (link-local addresses,
 * connected and local routes) left out. */
int nlab_ifconf_save(struct nlab_nl *nl, int ifindex, char **buf, size_t *len, nlab_error **err);

/* Queue the saved messages again (create or replace), with no duplicate
 * address detection.  Refuses a buffer that is not what save() makes. */
int nlab_ifconf_queue_restore(struct nlab_nl *nl, int ifindex, const char *buf, size_t len, const char *ctx,
			      nlab_error **err);

#endif
