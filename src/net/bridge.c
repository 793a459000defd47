#include "net/bridge.h"

#include <errno.h>
#include <net/if.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "net/link.h"

/* RTM_NEWLINK for a bridge, open at its IFLA_INFO_DATA; close with
 * bridge_msg_end(). */
static struct nlmsghdr *bridge_msg_begin(struct nlab_nl *nl, uint16_t flags, int ifindex, int up,
					 struct nlattr **linkinfo, struct nlattr **data, const char *name,
					 nlab_error **err)
{
	struct nlmsghdr *nlh = nlab_nl_msg_begin(nl, RTM_NEWLINK, flags, err);
	struct ifinfomsg *ifm;

	if (!nlh)
		return NULL;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	ifm->ifi_flags = up > 0 ? IFF_UP : 0;
	ifm->ifi_change = up >= 0 ? IFF_UP : 0;
	if (name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	*linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	*data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	return nlh;
}

static void bridge_msg_end(struct nlmsghdr *nlh, struct nlattr *linkinfo, struct nlattr *data)
{
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
}

int nlab_bridge_queue_add(struct nlab_nl *nl, const char *name, int ifindex,
			  int up, bool snoop, const char *ctx, nlab_error **err)
{
	struct nlmsghdr *nlh;
	struct nlattr *linkinfo, *data;

	if (nlab_ifname_check(name, err) < 0)
		return nlab_error_wrap(err, "%s", ctx ? ctx : "bridge");
	if (ifindex < 0)
		return nlab_error_set(err, EINVAL, "%s: bridge %s: ifindex %d",
				      ctx ? ctx : "bridge", name, ifindex);
	nlh = bridge_msg_begin(nl, NLM_F_CREATE | NLM_F_EXCL, ifindex, up ? 1 : 0, &linkinfo, &data, name, err);
	if (!nlh)
		return -1;
	/* br_changelink() applies FORWARD_DELAY before STP_STATE; a delay
	 * below 2 s is only accepted while STP is off, which it is on a new
	 * bridge, and stays off because we say so explicitly. */
	mnl_attr_put_u32(nlh, IFLA_BR_FORWARD_DELAY, 0);
	mnl_attr_put_u32(nlh, IFLA_BR_STP_STATE, 0);
	/* Snooping is on in a new bridge; what makes it act is a querier
	 * (nlab_bridge_queue_querier()).  Turning that on arms a delay of one
	 * query response interval before the bridge trusts it: 100 ms (in
	 * 1/100 s) instead of 10 s, set first since br_changelink() handles
	 * the querier attribute before this one. */
	if (snoop) {
		mnl_attr_put_u64(nlh, IFLA_BR_MCAST_QUERY_RESPONSE_INTVL, 10);
		/* An IPv6 query sent before the bridge's link-local address
		 * is ready (it is made asynchronously once the first port is
		 * up) fails, and the IPv6 querier counts only once one was
		 * sent: startup queries 1 s apart (the kernel's minimum)
		 * instead of 31 s, three of them. */
		mnl_attr_put_u64(nlh, IFLA_BR_MCAST_STARTUP_QUERY_INTVL, 100);
		mnl_attr_put_u32(nlh, IFLA_BR_MCAST_STARTUP_QUERY_CNT, 3);
	}
	bridge_msg_end(nlh, linkinfo, data);

	return nlab_nl_msg_commit(nl, nlh, ctx, err);
}

int nlab_bridge_queue_querier(struct nlab_nl *nl, int ifindex, const char *ctx, nlab_error **err)
{
	struct nlmsghdr *nlh;
	struct nlattr *linkinfo, *data;

	if (ifindex <= 0)
		return nlab_error_set(err, EINVAL, "%s: bridge querier: ifindex %d", ctx ? ctx : "bridge", ifindex);
	/* up < 0: its flags stay as they are */
	nlh = bridge_msg_begin(nl, 0, ifindex, -1, &linkinfo, &data, NULL, err);
	if (!nlh)
		return -1;
	mnl_attr_put_u8(nlh, IFLA_BR_MCAST_QUERIER, 1);
	bridge_msg_end(nlh, linkinfo, data);
	return nlab_nl_msg_commit(nl, nlh, ctx, err);
}
