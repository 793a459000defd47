#include "net/nlsock.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "net/netns.h"
#include "util/cleanup.h"

/* Bytes per sendmsg().  netlink_sendmsg() refuses anything above
 * sk_sndbuf - 32 (212 KiB by default) with EMSGSIZE; 64 KiB keeps well
 * clear of that while still packing hundreds of requests per syscall. */
#define NL_SEND_MAX (64 * 1024)

/* The kernel processes a whole sendmsg() before returning, queueing one ack
 * skb per request on our socket.  Acks to a full receive queue are not
 * waited for: netlink_ack() sends MSG_DONTWAIT, the ack is dropped and we
 * get ENOBUFS with no way to tell which requests succeeded.  So ask for a
 * big buffer (the kernel doubles this value), and never have more requests
 * in flight than the buffer holds acks, counting each at a generous
 * truesize (skb head + data, extack text included). */
#define NL_RCVBUF (2 * 1024 * 1024)
#define NL_ACK_TRUESIZE 2048

#define NL_ACK_TIMEOUT_S 30

/* recvmmsg() slots for acks.  8 KiB is libmnl's MNL_SOCKET_BUFFER_SIZE on
 * 4 KiB-page machines; an ack is far smaller, but on kernels without
 * NETLINK_CAP_ACK an error ack echoes the whole (<= 4 KiB) request. */
#define NL_RX_SLOTS 16
#define NL_RX_SLOT 8192

/* Replies to queries and dumps: the kernel sizes dump skbs after our
 * recvmsg() buffer up to 32 KiB (MNL_SOCKET_DUMP_SIZE), so read with that. */
#define NL_DUMP_BUF 32768

enum nl_state { NL_PENDING, NL_OK, NL_FAILED };

struct nl_req {
	size_t off;    /* message offset in its queue's buf */
	size_t ctx;    /* context string offset in nl->ctx */
	size_t parent; /* follow-ups: index of the request in nl->now */
	uint32_t seq;
	uint16_t type;
	enum nl_state state;
};

/* Messages back to back, so that a run of them is one sendmsg() buffer. */
struct nl_queue {
	char *buf;
	size_t len, cap;
	struct nl_req *reqs;
	size_t n, reqcap;
};

struct nlab_nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	size_t max_inflight;

	struct nl_queue now;   /* sent first */
	struct nl_queue after; /* follow-ups, sent if their parent succeeded */

	char *ctx; /* context strings, NUL-separated */
	size_t ctxlen, ctxcap;
};

static const struct {
	uint16_t type;
	const char *name;
} nl_types[] = {
	{ RTM_NEWLINK, "RTM_NEWLINK" },	  { RTM_DELLINK, "RTM_DELLINK" },
	{ RTM_GETLINK, "RTM_GETLINK" },	  { RTM_SETLINK, "RTM_SETLINK" },
	{ RTM_NEWADDR, "RTM_NEWADDR" },	  { RTM_DELADDR, "RTM_DELADDR" },
	{ RTM_GETADDR, "RTM_GETADDR" },	  { RTM_NEWROUTE, "RTM_NEWROUTE" },
	{ RTM_DELROUTE, "RTM_DELROUTE" }, { RTM_GETROUTE, "RTM_GETROUTE" },
	{ RTM_NEWNEIGH, "RTM_NEWNEIGH" }, { RTM_DELNEIGH, "RTM_DELNEIGH" },
	{ RTM_GETNEIGH, "RTM_GETNEIGH" }, { RTM_NEWQDISC, "RTM_NEWQDISC" },
	{ RTM_DELQDISC, "RTM_DELQDISC" }, { RTM_GETQDISC, "RTM_GETQDISC" },
	{ RTM_NEWTFILTER, "RTM_NEWTFILTER" }, { RTM_DELTFILTER, "RTM_DELTFILTER" },
	{ RTM_GETTFILTER, "RTM_GETTFILTER" }, { RTM_NEWNSID, "RTM_NEWNSID" },
};

const char *nlab_nl_type_name(uint16_t type)
{
	for (size_t i = 0; i < sizeof(nl_types) / sizeof(nl_types[0]); i++)
		if (nl_types[i].type == type)
			return nl_types[i].name;
	return "netlink request";
}

static int grow(void *pp, size_t *cap, size_t need, size_t elem)
{
	void **p = pp;
	size_t ncap = *cap ? *cap : 64;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / elem) {
			errno = ENOMEM;
			return -1;
		}
		ncap *= 2;
	}
	np = realloc(*p, ncap * elem);
	if (!np)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

static int nl_setup(struct nlab_nl *nl, nlab_error **err)
{
	struct timeval rcvtimeo = { .tv_sec = NL_ACK_TIMEOUT_S };
	int one = 1, fd, rcvbuf = NL_RCVBUF;
	socklen_t sl = sizeof(rcvbuf);

	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock)
		return nlab_error_set(err, errno, "netlink: socket");
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0)
		return nlab_error_set(err, errno, "netlink: bind");
	fd = mnl_socket_get_fd(nl->sock);

	/* Extended acks (>= 4.12) carry the kernel's reason as text; capped
	 * acks (>= 4.3) stop it from echoing each failed request back.  Older
	 * kernels refuse the options and we merely lose that detail. */
	(void)mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));

	/* SO_RCVBUFFORCE (CAP_NET_ADMIN) may exceed net.core.rmem_max; without
	 * the capability take what SO_RCVBUF grants and send smaller chunks. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &sl) < 0)
		return nlab_error_set(err, errno, "netlink: getsockopt(SO_RCVBUF)");
	nl->max_inflight = (size_t)rcvbuf / NL_ACK_TRUESIZE;
	if (nl->max_inflight < 1)
		nl->max_inflight = 1;

	/* rtnetlink handles a whole sendmsg() before returning, so every ack
	 * is queued by the time we read; a long wait means a lost ack, and a
	 * clear error beats hanging a lab forever. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rcvtimeo, sizeof(rcvtimeo)) < 0)
		return nlab_error_set(err, errno, "netlink: setsockopt(SO_RCVTIMEO)");

	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	return 0;
}

int nlab_nl_open(struct nlab_nl **out, nlab_error **err)
{
	struct nlab_nl *nl = calloc(1, sizeof(*nl));

	if (!nl)
		return nlab_error_set(err, errno, "netlink: socket");
	if (nl_setup(nl, err) < 0) {
		nlab_nl_close(nl);
		return -1;
	}
	*out = nl;
	return 0;
}

int nlab_nl_open_in(struct nlab_nl **out, int netns_fd, nlab_error **err)
{
	struct nlab_nl *nl = NULL;
	int saved = -1, r;

	if (nlab_netns_enter(netns_fd, &saved, err) < 0)
		return -1;
	r = nlab_nl_open(&nl, err);
	/* Failing to get back outranks any error of the open: this thread
	 * would go on configuring the wrong netns. */
	if (nlab_netns_leave(&saved, err) < 0) {
		nlab_nl_close(nl);
		return -1;
	}
	if (r < 0)
		return -1;
	*out = nl;
	return 0;
}

void nlab_nl_close(struct nlab_nl *nl)
{
	if (!nl)
		return;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl->now.buf);
	free(nl->now.reqs);
	free(nl->after.buf);
	free(nl->after.reqs);
	free(nl->ctx);
	free(nl);
}

size_t nlab_nl_pending(const struct nlab_nl *nl)
{
	return nl->now.n + nl->after.n;
}

void nlab_nl_discard(struct nlab_nl *nl)
{
	nl->now.len = nl->now.n = 0;
	nl->after.len = nl->after.n = 0;
	nl->ctxlen = 0;
}

struct nlmsghdr *nlab_nl_msg_begin(struct nlab_nl *nl, uint16_t type,
				   uint16_t flags, nlab_error **err)
{
	struct nl_queue *q = &nl->now;
	struct nlmsghdr *nlh;

	if (grow(&q->buf, &q->cap, q->len + NLAB_NL_MSG_MAX, 1) < 0) {
		nlab_error_set(err, errno, "netlink: queue %s",
			       nlab_nl_type_name(type));
		return NULL;
	}
	memset(q->buf + q->len, 0, NLAB_NL_MSG_MAX);
	nlh = mnl_nlmsg_put_header(q->buf + q->len);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	return nlh;
}

/* Append the message at nl->now's scratch tail to q. */
static int nl_enqueue(struct nlab_nl *nl, struct nl_queue *q,
		      struct nlmsghdr *nlh, size_t parent, const char *ctx,
		      nlab_error **err)
{
	size_t clen, mlen;
	struct nl_req *r;

	if (!ctx)
		ctx = "";
	clen = strlen(ctx) + 1;
	if ((char *)nlh != nl->now.buf + nl->now.len || nlh->nlmsg_len > NLAB_NL_MSG_MAX)
		return nlab_error_set(err, EMSGSIZE, "%s: %s", ctx,
				      nlab_nl_type_name(nlh->nlmsg_type));
	mlen = NLMSG_ALIGN(nlh->nlmsg_len);
	if (grow(&q->reqs, &q->reqcap, q->n + 1, sizeof(*q->reqs)) < 0 ||
	    grow(&nl->ctx, &nl->ctxcap, nl->ctxlen + clen, 1) < 0 ||
	    (q != &nl->now && grow(&q->buf, &q->cap, q->len + mlen, 1) < 0))
		return nlab_error_set(err, errno, "%s: queue %s", ctx,
				      nlab_nl_type_name(nlh->nlmsg_type));

	r = &q->reqs[q->n++];
	r->off = q->len;
	r->ctx = nl->ctxlen;
	r->parent = parent;
	r->seq = 0; /* numbered when sent, so that each run is contiguous */
	r->type = nlh->nlmsg_type;
	r->state = NL_PENDING;
	memcpy(nl->ctx + nl->ctxlen, ctx, clen);
	nl->ctxlen += clen;
	if (q != &nl->now)
		memcpy(q->buf + q->len, nlh, mlen); /* scratch padding is zeroed */
	q->len += mlen;
	return 0;
}

int nlab_nl_msg_commit(struct nlab_nl *nl, struct nlmsghdr *nlh,
		       const char *ctx, nlab_error **err)
{
	return nl_enqueue(nl, &nl->now, nlh, SIZE_MAX, ctx, err);
}

int nlab_nl_msg_commit_after(struct nlab_nl *nl, struct nlmsghdr *nlh,
			     const char *ctx, nlab_error **err)
{
	if (nl->now.n == 0)
		return nlab_error_set(err, EINVAL, "%s: follow-up without a request",
				      ctx ? ctx : "netlink");
	return nl_enqueue(nl, &nl->after, nlh, nl->now.n - 1, ctx, err);
}

/* Returns the positive errno an ack carries (0 for success) and points
 * *extack at the kernel's message text inside nlh, if any. */
static int nl_ack_errno(const struct nlmsghdr *nlh, const char **extack)
{
	const struct nlmsgerr *e;
	const struct nlattr *attr;
	size_t off = sizeof(*e);

	*extack = NULL;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return EBADMSG;
	e = mnl_nlmsg_get_payload(nlh);
	if (e->error > 0)
		return EPROTO;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return -e->error;
	/* Uncapped error acks echo the request between nlmsgerr and TLVs. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && e->error) {
		if (e->msg.nlmsg_len < sizeof(struct nlmsghdr))
			return -e->error;
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	}
	if (mnl_nlmsg_size(off) > nlh->nlmsg_len)
		return -e->error;
	mnl_attr_for_each(attr, nlh, off) {
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			*extack = mnl_attr_get_str(attr);
	}
	return -e->error;
}

/* "ctx: RTM_NEWLINK: File exists (extack)" with errnum = the kernel's errno. */
static void nl_kernel_error(nlab_error **err, const char *ctx, uint16_t type,
			    int errnum, const char *extack)
{
	const char *sep = ctx && *ctx ? ": " : "";

	if (!ctx)
		ctx = "";
	if (!extack || !*extack) {
		nlab_error_set(err, errnum, "%s%s%s", ctx, sep,
			       nlab_nl_type_name(type));
		return;
	}
	/* nlab_error_set() puts strerror last; the extack reads better after
	 * it, so format it ourselves and fill in errnum. */
	nlab_error_set(err, 0, "%s%s%s: %s (%s)", ctx, sep,
		       nlab_nl_type_name(type), strerror(errnum), extack);
	if (err && *err)
		(*err)->errnum = errnum;
}

/* After an I/O failure, throw away whatever is still queued on the socket
 * so that the next flush does not start with somebody else's acks. */
static void nl_drain(struct nlab_nl *nl)
{
	char buf[1024];

	while (recv(mnl_socket_get_fd(nl->sock), buf, sizeof(buf), MSG_DONTWAIT) >= 0 ||
	       errno == EINTR || errno == ENOBUFS)
		;
}

struct nl_flush {
	struct nlab_nl *nl;
	struct nl_queue *q;
	size_t first, end, outstanding;
	bool failed;
	nlab_error **err;
};

static void nl_fail(struct nl_flush *f, int errnum, const char *what)
{
	if (!f->failed)
		nlab_error_set(f->err, errnum, "netlink: %s", what);
	f->failed = true;
}

/* The kernel says EEXIST with no extack both when the name and when the
 * requested ifindex is taken (register_netdevice()); say which to check. */
static const char *nl_hint(const struct nlmsghdr *req, int e, char *buf, size_t len)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(req);
	int n;

	if (req->nlmsg_type != RTM_NEWLINK || e != EEXIST || !ifm->ifi_index)
		return NULL;
	n = snprintf(buf, len, "name or ifindex %d taken", ifm->ifi_index);
	return n > 0 && (size_t)n < len ? buf : NULL;
}

static void nl_flush_msg(struct nl_flush *f, const struct nlmsghdr *nlh)
{
	struct nlab_nl *nl = f->nl;
	uint32_t idx = nlh->nlmsg_seq - f->q->reqs[f->first].seq;
	const char *extack;
	struct nl_req *r;
	int e;

	/* Anything not an ack to this run is a leftover of an earlier,
	 * aborted flush or request; it must not be counted.  A run's sequence
	 * numbers are consecutive (nl_send_queue() numbers them as it sends),
	 * so the offset from the first finds the request, across wrap-around
	 * too. */
	if (nlh->nlmsg_pid != nl->portid || nlh->nlmsg_type != NLMSG_ERROR ||
	    idx >= f->end - f->first)
		return;
	r = &f->q->reqs[f->first + idx];
	if (r->state != NL_PENDING)
		return;
	f->outstanding--;
	e = nl_ack_errno(nlh, &extack);
	r->state = e ? NL_FAILED : NL_OK;
	if (e && !f->failed) {
		char hint[64];

		if (!extack)
			extack = nl_hint((const struct nlmsghdr *)(f->q->buf + r->off),
					 e, hint, sizeof(hint));
		nl_kernel_error(f->err, nl->ctx + r->ctx, r->type, e, extack);
		f->failed = true;
	}
}

static int nl_collect_acks(struct nl_flush *f, char *rx)
{
	struct mmsghdr msgs[NL_RX_SLOTS];
	struct iovec iov[NL_RX_SLOTS];
	struct sockaddr_nl from[NL_RX_SLOTS];
	int fd = mnl_socket_get_fd(f->nl->sock);

	while (f->outstanding > 0) {
		int n;

		memset(msgs, 0, sizeof(msgs));
		for (int k = 0; k < NL_RX_SLOTS; k++) {
			iov[k].iov_base = rx + (size_t)k * NL_RX_SLOT;
			iov[k].iov_len = NL_RX_SLOT;
			msgs[k].msg_hdr.msg_iov = &iov[k];
			msgs[k].msg_hdr.msg_iovlen = 1;
			msgs[k].msg_hdr.msg_name = &from[k];
			msgs[k].msg_hdr.msg_namelen = sizeof(from[k]);
		}
		/* MSG_WAITFORONE: block for the first ack, then take whatever
		 * else is already queued, up to NL_RX_SLOTS per syscall. */
		n = (int)TEMP_FAILURE_RETRY(
			recvmmsg(fd, msgs, NL_RX_SLOTS, MSG_WAITFORONE, NULL));
		if (n < 0) {
			if (errno == ENOBUFS)
				nl_fail(f, errno, "acknowledgements lost "
						  "(receive queue overrun)");
			else if (errno == EAGAIN || errno == EWOULDBLOCK)
				nl_fail(f, ETIMEDOUT, "no acknowledgement from the kernel");
			else
				nl_fail(f, errno, "recvmmsg");
			return -1;
		}
		for (int k = 0; k < n; k++) {
			const struct nlmsghdr *nlh = iov[k].iov_base;
			int len = (int)msgs[k].msg_len;

			/* Only the kernel (port 0) may ack our requests. */
			if (from[k].nl_pid != 0)
				continue;
			if (msgs[k].msg_hdr.msg_flags & MSG_TRUNC) {
				nl_fail(f, EMSGSIZE, "acknowledgement truncated");
				return -1;
			}
			for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
				nl_flush_msg(f, nlh);
		}
	}
	return 0;
}

static size_t nl_msg_size(const struct nl_queue *q, size_t i)
{
	size_t next = i + 1 < q->n ? q->reqs[i + 1].off : q->len;

	return next - q->reqs[i].off;
}

/* Send q in runs of whole messages and collect the acks of each run before
 * the next.  -1 only on I/O failure; kernel errors are in f. */
static int nl_send_queue(struct nl_flush *f, struct nl_queue *q, char *rx)
{
	struct nlab_nl *nl = f->nl;
	size_t i = 0;

	f->q = q;
	while (i < q->n) {
		size_t bytes = 0;
		ssize_t sent;

		f->first = i;
		while (i < q->n && i - f->first < nl->max_inflight) {
			size_t sz = nl_msg_size(q, i);

			if (i > f->first && bytes + sz > NL_SEND_MAX)
				break;
			bytes += sz;
			i++;
		}
		f->end = i;
		f->outstanding = i - f->first;
		/* Consecutive sequence numbers let an ack find its request by
		 * offset from the run's first. */
		for (size_t j = f->first; j < f->end; j++) {
			struct nlmsghdr *nlh = (struct nlmsghdr *)(q->buf + q->reqs[j].off);

			q->reqs[j].seq = nlh->nlmsg_seq = ++nl->seq;
		}

		sent = TEMP_FAILURE_RETRY(mnl_socket_sendto(
			nl->sock, q->buf + q->reqs[f->first].off, bytes));
		if (sent < 0) {
			nl_fail(f, errno, "sendmsg");
			return -1;
		}
		if (nl_collect_acks(f, rx) < 0) {
			nl_drain(nl);
			return -1;
		}
	}
	return 0;
}

/* Keep the follow-ups whose parent succeeded, packed back to back. */
static void nl_prune_after(struct nlab_nl *nl)
{
	struct nl_queue *q = &nl->after;
	size_t keep = 0, len = 0;

	for (size_t i = 0; i < q->n; i++) {
		struct nl_req r = q->reqs[i];
		size_t sz = nl_msg_size(q, i);

		if (nl->now.reqs[r.parent].state != NL_OK)
			continue;
		memmove(q->buf + len, q->buf + r.off, sz);
		r.off = len;
		q->reqs[keep++] = r;
		len += sz;
	}
	q->n = keep;
	q->len = len;
}

int nlab_nl_flush(struct nlab_nl *nl, nlab_error **err)
{
	cleanup_free char *rx = NULL;
	struct nl_flush f = { .nl = nl, .err = err };

	if (nlab_nl_pending(nl) == 0)
		return 0;
	rx = malloc((size_t)NL_RX_SLOTS * NL_RX_SLOT);
	if (!rx) {
		nlab_nl_discard(nl);
		return nlab_error_set(err, errno, "netlink: flush");
	}
	if (nl_send_queue(&f, &nl->now, rx) == 0) {
		nl_prune_after(nl);
		(void)nl_send_queue(&f, &nl->after, rx);
	}
	nlab_nl_discard(nl);
	return f.failed ? -1 : 0;
}

int nlab_nl_sync(struct nlab_nl *nl, nlab_error **err)
{
	return nlab_nl_flush(nl, err);
}

struct nl_request {
	struct nlab_nl *nl;
	uint32_t seq;
	uint16_t type;
	mnl_cb_t cb;
	void *data;
	int cb_ret;
	bool done;
	nlab_error **err;
};

/* Returns -1 when the request failed (kernel error or callback error). */
static int nl_request_msg(struct nl_request *q, const struct nlmsghdr *nlh)
{
	const char *extack;
	int e;

	if (nlh->nlmsg_pid != q->nl->portid || nlh->nlmsg_seq != q->seq)
		return 0;
	switch (nlh->nlmsg_type) {
	case NLMSG_NOOP:
		return 0;
	case NLMSG_OVERRUN:
		q->done = true;
		nlab_error_set(q->err, EOVERFLOW, "%s: netlink overrun",
			       nlab_nl_type_name(q->type));
		return -1;
	case NLMSG_DONE:
	case NLMSG_ERROR:
		/* NLMSG_DONE carries the dump's final status the same way. */
		q->done = true;
		if (nlh->nlmsg_type == NLMSG_DONE &&
		    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(int)))
			return 0;
		if (nlh->nlmsg_type == NLMSG_DONE) {
			e = -*(const int *)mnl_nlmsg_get_payload(nlh);
			extack = NULL;
		} else {
			e = nl_ack_errno(nlh, &extack);
		}
		if (!e)
			return 0;
		nl_kernel_error(q->err, NULL, q->type, e, extack);
		return -1;
	default:
		break;
	}
	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR && q->cb_ret > MNL_CB_STOP) {
		/* The table changed under the dump; its result is not whole. */
		q->cb_ret = MNL_CB_ERROR;
		nlab_error_set(q->err, EINTR, "%s: dump interrupted",
			       nlab_nl_type_name(q->type));
		return -1;
	}
	/* After the callback stops we still read up to the ack or DONE, so
	 * that the rest of a dump does not poison the next request. */
	if (q->cb && q->cb_ret > MNL_CB_STOP) {
		q->cb_ret = q->cb(nlh, q->data);
		if (q->cb_ret == MNL_CB_ERROR) {
			nlab_error_set(q->err, errno, "%s: reply",
				       nlab_nl_type_name(q->type));
			return -1;
		}
	}
	return 0;
}

int nlab_nl_request(struct nlab_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
		    void *data, nlab_error **err)
{
	struct nl_request q = { .nl = nl, .type = nlh->nlmsg_type, .cb = cb,
				.data = data, .cb_ret = MNL_CB_OK, .err = err };
	cleanup_free char *rx = malloc(NL_DUMP_BUF);
	const char *name = nlab_nl_type_name(nlh->nlmsg_type);
	int fd = mnl_socket_get_fd(nl->sock), failed = 0;

	if (!rx)
		return nlab_error_set(err, errno, "%s", name);
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = q.seq = ++nl->seq;
	nlh->nlmsg_pid = 0;
	if (TEMP_FAILURE_RETRY(mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len)) < 0)
		return nlab_error_set(err, errno, "%s: sendmsg", name);

	while (!q.done) {
		struct sockaddr_nl from;
		struct iovec iov = { .iov_base = rx, .iov_len = NL_DUMP_BUF };
		struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from),
				     .msg_iov = &iov, .msg_iovlen = 1 };
		const struct nlmsghdr *m = (const struct nlmsghdr *)rx;
		int len = (int)TEMP_FAILURE_RETRY(recvmsg(fd, &mh, 0));

		if (len < 0) {
			if (!failed && (errno == EAGAIN || errno == EWOULDBLOCK))
				nlab_error_set(err, ETIMEDOUT, "%s: no reply", name);
			else if (!failed)
				nlab_error_set(err, errno, "%s: recvmsg", name);
			nl_drain(nl);
			return -1;
		}
		if (from.nl_pid != 0)
			continue;
		if (mh.msg_flags & MSG_TRUNC) {
			if (!failed)
				nlab_error_set(err, EMSGSIZE, "%s: reply truncated", name);
			nl_drain(nl);
			return -1;
		}
		for (; mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len))
			if (nl_request_msg(&q, m) < 0 && !failed) {
				failed = 1;
				/* keep the first error: later ones are noise */
				q.err = NULL;
			}
	}
	return failed ? -1 : 0;
}
