/* Interface addresses. */
#ifndef NETLAB_NET_ADDRESS_H
#define NETLAB_NET_ADDRESS_H

#include <stddef.h>
#include <stdint.h>

#include "net/nlsock.h"
#include "util/error.h"

/* Queue an RTM_NEWADDR (NLM_F_CREATE|NLM_F_EXCL) of addr/prefixlen on
 * ifindex in nl's netns.  family is AF_INET (addr: 4 bytes, network order)
 * or AF_INET6 (16 bytes).  IPv4 also gets the subnet broadcast (none for
 * /31 and /32, RFC 3021).  nodad matters for IPv6 only: the address skips
 * duplicate address detection and is usable at once instead of staying
 * "tentative" (unbindable) for about a second. */
int nlab_addr_queue_add(struct nlab_nl *nl, int ifindex, int family,
			const void *addr, int prefixlen, int nodad,
			const char *ctx, nlab_error **err);

struct nlab_addr {
	int family;
	uint8_t addr[16];
	int prefixlen;
};

/* The global and site addresses of ifindex in nl's netns (not link-local:
 * those come back with the link), dumped synchronously.  Caller frees
 * *out. */
int nlab_addr_list(struct nlab_nl *nl, int ifindex, struct nlab_addr **out, size_t *n, nlab_error **err);

#endif
