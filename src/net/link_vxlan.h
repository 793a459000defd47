/* VXLAN devices (issue 18): a lab's link or switch that spans two
 * machines.  Created from a socket in the namespace whose addresses carry
 * the tunnel (the machine's own: the device's UDP socket lives where it is
 * created, vxlan_newlink()'s source netns) and placed, in the same
 * request, where the lab needs it: a node's namespace as the node's
 * interface, or the lab's as a switch port (IFLA_MASTER is resolved in the
 * namespace the device lands in).  So nothing of the tunnel but its socket
 * is in the machine's own namespace, and it goes when the lab's
 * namespaces go. */
#ifndef NETLAB_NET_LINK_VXLAN_H
#define NETLAB_NET_LINK_VXLAN_H

#include <stdint.h>

#include "net/nlsock.h"
#include "util/error.h"

struct nlab_vxlan_spec {
	const char *name;
	int ifindex;            /* requested ifindex where it lands, 0 = kernel picks */
	int netns_fd;           /* where it lands; -1 = the socket's netns, */
	pid_t netns_pid;        /* or, when > 0, the netns of this process */
	uint32_t vni;           /* 1 .. 2^24-1 */
	int family;             /* AF_INET or AF_INET6: of local and remote */
	const uint8_t *local;   /* this machine's underlay address */
	const uint8_t *remote;  /* where frames go by default: the other machine */
	uint16_t port;          /* UDP destination port */
	int mtu;                /* 0 = the kernel's default (1500, not reduced) */
	int master_ifindex;     /* a bridge where it lands, 0 = none */
	int up;                 /* open it in the creating request */
};

/* Queue the RTM_NEWLINK creating it. */
int nlab_vxlan_queue_add(struct nlab_nl *nl, const struct nlab_vxlan_spec *s, const char *ctx, nlab_error **err);

/* One more machine a switch's tunnel floods to (broadcast, multicast and
 * unknown unicast; learnt addresses go to their machine only): `bridge
 * fdb append 00:00:00:00:00:00 dev IFINDEX dst REMOTE`.  Queued on a
 * socket in the namespace the device is in. */
int nlab_vxlan_queue_flood(struct nlab_nl *nl, int ifindex, int family, const uint8_t *remote, const char *ctx,
			   nlab_error **err);

#endif
