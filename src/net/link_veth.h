/* veth pairs, created with both ends placed, numbered, sized, enslaved and
 * up from one socket, with no lookups in between. */
#ifndef NETLAB_NET_LINK_VETH_H
#define NETLAB_NET_LINK_VETH_H

#include <sys/types.h>

#include "net/nlsock.h"
#include "util/error.h"

struct nlab_veth_spec {
	const char *name;   /* this end's interface name */
	int ifindex;        /* requested ifindex in its netns, 0 = kernel picks */
	int netns_fd;       /* netns for this end; -1 = the socket's netns (or netns_pid's) */
	pid_t netns_pid;    /* or the netns of this process (0: none): no fd to hold */
	const char *peer;   /* peer interface name */
	int peer_ifindex;   /* 0 = kernel picks */
	int peer_netns_fd;  /* -1 = the socket's netns (or peer_netns_pid's) */
	pid_t peer_netns_pid;
	int mtu;            /* 0 = default; applied to both ends */
	int master_ifindex; /* bridge to enslave THIS end to, 0 = none; the
			     * bridge is looked up in that end's netns */
	int peer_master_ifindex; /* same for the peer end */
	int up;             /* bring both ends up */
};

/* Queue the RTM_NEWLINK (NLM_F_CREATE|NLM_F_EXCL) creating the pair.
 *
 * Kernel rules this follows (veth_newlink()):
 *  - The end created by the nested VETH_INFO_PEER request gets its
 *    requested ifindex only if the outer end has one requested too; a
 *    request that would be silently ignored is refused here (EINVAL).
 *    Request both ifindexes (or none) and there is nothing to remember.
 *  - A requested ifindex must be free in the netns that end lands in, else
 *    the flush fails with EBUSY.
 *  - The nested end cannot be opened in the creating request: it is
 *    registered before the pair is linked and veth_open() then fails with
 *    ENOTCONN.  So with `up`, the end in the socket's netns is created as
 *    the nested end and raised (and enslaved) by a follow-up RTM_SETLINK
 *    that runs only if the creation succeeded (nlab_nl_msg_commit_after()),
 *    and the other end is raised by the creating request itself.  A
 *    master goes in whichever of the two requests makes its end.  Hence
 *    `up` needs at least one end in the socket's netns (EINVAL otherwise:
 *    raise such ends through a socket opened in their netns). */
int nlab_veth_queue_add(struct nlab_nl *nl, const struct nlab_veth_spec *s,
			const char *ctx, nlab_error **err);

#endif
