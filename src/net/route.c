#include "net/route.h"

#include <errno.h>
#include <sys/socket.h>

#include <linux/rtnetlink.h>

int nlab_route_queue_add(struct nlab_nl *nl, int family, const void *dst,
			 int dst_len, const void *gw, int oif,
			 const char *ctx, nlab_error **err)
{
	size_t alen = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	if (!ctx)
		ctx = "route";
	if (!alen)
		return nlab_error_set(err, EAFNOSUPPORT, "%s: address family %d",
				      ctx, family);
	if (dst_len < 0 || (size_t)dst_len > alen * 8 || (!dst && dst_len))
		return nlab_error_set(err, EINVAL, "%s: prefix length %d", ctx, dst_len);
	if (oif < 0 || (!gw && !oif))
		return nlab_error_set(err, EINVAL, "%s: needs a gateway or a device", ctx);

	nlh = nlab_nl_msg_begin(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, err);
	if (!nlh)
		return -1;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = (uint8_t)dst_len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_type = RTN_UNICAST;
	/* IPv4 checks the scope against the nexthop (a gateway must be
	 * reachable through a narrower-scope route); IPv6 ignores it. */
	rtm->rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	if (dst)
		mnl_attr_put(nlh, RTA_DST, alen, dst);
	if (gw)
		mnl_attr_put(nlh, RTA_GATEWAY, alen, gw);
	if (oif)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)oif);
	return nlab_nl_msg_commit(nl, nlh, ctx, err);
}
