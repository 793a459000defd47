/* A batching rtnetlink socket.
 *
 * Labs of a thousand nodes need tens of thousands of rtnetlink requests, so
 * nothing is sent one at a time: the per-object modules (link, link_veth,
 * bridge, address, route) queue requests into a struct nlab_nl, and
 * nlab_nl_flush() sends them packed many to a sendmsg() and collects every
 * acknowledgement.  Each request carries a short caller-given context string
 * ("link web1:eth0 -> lan") so that a failure reads
 *   link web1:eth0 -> lan: RTM_NEWLINK: File exists (<kernel extack message>)
 *
 * A netlink socket stays bound to the network namespace it was created in,
 * so keep one struct nlab_nl per netns you configure (nlab_nl_open_in()). */
#ifndef NETLAB_NET_NLSOCK_H
#define NETLAB_NET_NLSOCK_H

#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

#include "util/error.h"

struct nlab_nl;

/* Open a NETLINK_ROUTE socket in the calling thread's netns. */
int nlab_nl_open(struct nlab_nl **out, nlab_error **err);

/* Open it inside netns_fd; the calling thread is back in its own netns on
 * return, whether or not this succeeded. */
int nlab_nl_open_in(struct nlab_nl **out, int netns_fd, nlab_error **err);

/* Closes the socket; queued requests that were never flushed are dropped. */
void nlab_nl_close(struct nlab_nl *nl);

/* Send every queued request and read all acknowledgements, then the same
 * for the follow-ups whose parent succeeded.  Returns 0 when all succeeded;
 * otherwise -1 with *err describing the first failure (its errnum is the
 * kernel's errno).  The kernel carries on with the requests that follow a
 * failed one, and all their acks are read, so the socket stays usable.
 * The queue is empty afterwards in every case. */
int nlab_nl_flush(struct nlab_nl *nl, nlab_error **err);

/* The same as nlab_nl_flush(); reads better after queueing a single request. */
int nlab_nl_sync(struct nlab_nl *nl, nlab_error **err);

/* Number of queued, not yet flushed requests. */
size_t nlab_nl_pending(const struct nlab_nl *nl);

/* Drop queued requests without sending them. */
void nlab_nl_discard(struct nlab_nl *nl);

/* "RTM_NEWLINK" for RTM_NEWLINK; "netlink request" for types netlab never
 * sends. */
const char *nlab_nl_type_name(uint16_t type);

/* --- Building requests (for the per-object modules) ----------------------
 *
 * nlab_nl_msg_begin() returns a zeroed header at the tail of the batch with
 * NLAB_NL_MSG_MAX bytes of room, NLM_F_REQUEST|NLM_F_ACK|flags and a fresh
 * sequence number.  Fill it with mnl_nlmsg_put_extra_header()/mnl_attr_put*()
 * and queue it with nlab_nl_msg_commit().  Until committed the message is
 * scratch space: the next begin() reuses it, so a builder that bails out
 * half-way leaves nothing behind.  Builders validate every variable-length
 * attribute (interface names are < IFNAMSIZ) so that no request can come
 * near NLAB_NL_MSG_MAX; commit() refuses a message that did. */
#define NLAB_NL_MSG_MAX 4096

struct nlmsghdr *nlab_nl_msg_begin(struct nlab_nl *nl, uint16_t type,
				   uint16_t flags, nlab_error **err);
int nlab_nl_msg_commit(struct nlab_nl *nl, struct nlmsghdr *nlh,
		       const char *ctx, nlab_error **err);

/* Queue nlh as a follow-up of the request committed just before it: it is
 * sent (in a second round of the same flush) only if that request
 * succeeded, and skipped silently otherwise, the parent's error being the
 * one reported.  For changes the kernel cannot make in the creating request
 * (a veth peer cannot be opened before the pair is linked) and that must
 * never land on a same-named interface that was there before. */
int nlab_nl_msg_commit_after(struct nlab_nl *nl, struct nlmsghdr *nlh,
			     const char *ctx, nlab_error **err);

/* --- Synchronous requests (queries, dumps) ------------------------------
 *
 * Send nlh (built by the caller in its own buffer) right away, bypassing the
 * queue, and run cb on every reply until the kernel's ack or NLMSG_DONE.
 * NLM_F_REQUEST|NLM_F_ACK, the sequence number and port id are filled in.
 * On failure *err reads "RTM_GETLINK: No such device (extack)"; callers wrap
 * it with their own context. */
int nlab_nl_request(struct nlab_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
		    void *data, nlab_error **err);

#endif
