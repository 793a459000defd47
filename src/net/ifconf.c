#include "net/ifconf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

struct saver {
	int ifindex;
	char *buf;
	size_t len, cap;
	int err;
};

static void keep(struct saver *s, const struct nlmsghdr *nlh)
{
	size_t n = NLMSG_ALIGN(nlh->nlmsg_len);

	if (s->err)
		return;
	if (s->len + n > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		while (cap < s->len + n)
			cap *= 2;
		char *b = realloc(s->buf, cap);
		if (!b) {
			s->err = ENOMEM;
			return;
		}
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, nlh, nlh->nlmsg_len);
	memset(s->buf + s->len + nlh->nlmsg_len, 0, n - nlh->nlmsg_len);
	s->len += n;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct saver *s = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWADDR || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)) ||
	    (int)ifa->ifa_index != s->ifindex)
		return MNL_CB_OK;
	/* fe80:: comes back by itself when the interface does. */
	if (ifa->ifa_family == AF_INET6 && ifa->ifa_scope == RT_SCOPE_LINK)
		return MNL_CB_OK;
	keep(s, nlh);
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct saver *s = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	int oif = 0;

	if (nlh->nlmsg_type != RTM_NEWROUTE || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
		return MNL_CB_OK;
	/* The kernel's own (connected, local, multicast) come back with the
	 * addresses; cached clones are not routes. */
	if (rtm->rtm_protocol == RTPROT_KERNEL || rtm->rtm_type != RTN_UNICAST || (rtm->rtm_flags & RTM_F_CLONED))
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*rtm)) if (mnl_attr_get_type(a) == RTA_OIF && mnl_attr_get_payload_len(a) == 4)
		oif = (int)mnl_attr_get_u32(a);
	if (oif == s->ifindex)
		keep(s, nlh);
	return MNL_CB_OK;
}

static int dump(struct nlab_nl *nl, uint16_t type, int family, mnl_cb_t cb, struct saver *s, nlab_error **err)
{
	char buf[128];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_DUMP;
	if (type == RTM_GETADDR) {
		struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
		ifa->ifa_family = (uint8_t)family;
	} else {
		struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
		rtm->rtm_family = (uint8_t)family;
	}
	return nlab_nl_request(nl, nlh, cb, s, err);
}

int nlab_ifconf_save(struct nlab_nl *nl, int ifindex, char **buf, size_t *len, nlab_error **err)
{
	struct saver s = { .ifindex = ifindex };

	if (dump(nl, RTM_GETADDR, AF_UNSPEC, addr_cb, &s, err) < 0 ||
	    dump(nl, RTM_GETROUTE, AF_INET, route_cb, &s, err) < 0 ||
	    dump(nl, RTM_GETROUTE, AF_INET6, route_cb, &s, err) < 0) {
		free(s.buf);
		return -1;
	}
	if (s.err) {
		free(s.buf);
		return nlab_error_set(err, s.err, "save the configuration of ifindex %d", ifindex);
	}
	*buf = s.buf;
	*len = s.len;
	return 0;
}

int nlab_ifconf_queue_restore(struct nlab_nl *nl, int ifindex, const char *buf, size_t len, const char *ctx,
			      nlab_error **err)
{
	const struct nlmsghdr *m = (const void *)buf;
	int left = (int)len;

	if (len > (1u << 24))
		return nlab_error_set(err, EMSGSIZE, "%s: saved configuration too large", ctx);
	for (; mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left)) {
		bool addr = m->nlmsg_type == RTM_NEWADDR;
		size_t hdr = addr ? sizeof(struct ifaddrmsg) : sizeof(struct rtmsg);
		if ((!addr && m->nlmsg_type != RTM_NEWROUTE) || m->nlmsg_len < mnl_nlmsg_size(hdr) ||
		    m->nlmsg_len > NLAB_NL_MSG_MAX)
			return nlab_error_set(err, EBADMSG, "%s: saved configuration is damaged", ctx);
		struct nlmsghdr *nlh = nlab_nl_msg_begin(nl, m->nlmsg_type, NLM_F_CREATE | NLM_F_REPLACE, err);
		if (!nlh)
			return -1;
		void *payload = mnl_nlmsg_put_extra_header(nlh, m->nlmsg_len - NLMSG_HDRLEN);
		memcpy(payload, mnl_nlmsg_get_payload(m), m->nlmsg_len - NLMSG_HDRLEN);
		if (addr) {
			struct ifaddrmsg *ifa = payload;
			if ((int)ifa->ifa_index != ifindex)
				return nlab_error_set(err, EBADMSG, "%s: saved address of another interface", ctx);
			/* The address was usable before: no DAD wait now. */
			ifa->ifa_flags |= IFA_F_NODAD;
			struct nlattr *a;
			mnl_attr_for_each(a, nlh, sizeof(*ifa)) if (mnl_attr_get_type(a) == IFA_FLAGS &&
								    mnl_attr_get_payload_len(a) == 4) *
				(uint32_t *)mnl_attr_get_payload(a) |= IFA_F_NODAD;
		} else {
			struct rtmsg *rtm = payload;
			/* Dumped state, refused in a request ("can not contain
			 * DEAD or LINKDOWN"); onlink is configuration. */
			rtm->rtm_flags &= RTNH_F_ONLINK;
		}
		if (nlab_nl_msg_commit(nl, nlh, ctx, err) < 0)
			return -1;
	}
	return 0;
}
