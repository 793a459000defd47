#include "net/link_macvlan.h"

#include <errno.h>
#include <string.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "net/link.h"

int nlab_macvlan_queue_add(struct nlab_nl *nl, int parent_ifindex, int netns_fd, const char *name, int ifindex,
			   const char *ctx, nlab_error **err)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	if (nlab_ifname_check(name, err) < 0)
		return nlab_error_wrap(err, "%s", ctx ? ctx : "macvlan");
	if (parent_ifindex <= 0)
		return nlab_error_set(err, EINVAL, "%s: parent ifindex %d", ctx ? ctx : "macvlan", parent_ifindex);
	nlh = nlab_nl_msg_begin(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, err);
	if (!nlh)
		return -1;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	/* In the target namespace, as for veth ends (rtnl_newlink). */
	ifm->ifi_index = ifindex;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_LINK, (uint32_t)parent_ifindex);
	if (netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)netns_fd);
	struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "macvlan");
	struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	/* Bridge mode: the node can also reach other macvlans of the same
	 * parent (other nodes given the same host interface). */
	mnl_attr_put_u32(nlh, IFLA_MACVLAN_MODE, MACVLAN_MODE_BRIDGE);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nlab_nl_msg_commit(nl, nlh, ctx, err);
}
