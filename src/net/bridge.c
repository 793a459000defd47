#include "net/bridge.h"

#include <errno.h>
#include <net/if.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "net/link.h"

int nlab_bridge_queue_add(struct nlab_nl *nl, const char *name, int ifindex,
			  int up, const char *ctx, nlab_error **err)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	struct nlattr *linkinfo, *data;

	if (nlab_ifname_check(name, err) < 0)
		return nlab_error_wrap(err, "%s", ctx ? ctx : "bridge");
	if (ifindex < 0)
		return nlab_error_set(err, EINVAL, "%s: bridge %s: ifindex %d",
				      ctx ? ctx : "bridge", name, ifindex);
	nlh = nlab_nl_msg_begin(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, err);
	if (!nlh)
		return -1;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	ifm->ifi_flags = up ? IFF_UP : 0;
	ifm->ifi_change = IFF_UP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);

	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	/* br_changelink() applies FORWARD_DELAY before STP_STATE; a delay
	 * below 2 s is only accepted while STP is off, which it is on a new
	 * bridge, and stays off because we say so explicitly. */
	mnl_attr_put_u32(nlh, IFLA_BR_FORWARD_DELAY, 0);
	mnl_attr_put_u32(nlh, IFLA_BR_STP_STATE, 0);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);

	return nlab_nl_msg_commit(nl, nlh, ctx, err);
}
