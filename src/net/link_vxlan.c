#include "net/link_vxlan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <string.h>

#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "net/link.h"

static size_t addr_size(int family)
{
	return family == AF_INET ? 4 : 16;
}

int nlab_vxlan_queue_add(struct nlab_nl *nl, const struct nlab_vxlan_spec *s, const char *ctx, nlab_error **err)
{
	const char *what = ctx ? ctx : "vxlan";

	if (nlab_ifname_check(s->name, err) < 0)
		return nlab_error_wrap(err, "%s", what);
	if (!s->vni || s->vni > 0xffffff)
		return nlab_error_set(err, EINVAL, "%s: VNI %u is not in 1..16777215", what, s->vni);
	if ((s->family != AF_INET && s->family != AF_INET6) || !s->local || !s->remote)
		return nlab_error_set(err, EINVAL, "%s: no underlay addresses", what);
	if (s->mtu < 0 || s->ifindex < 0)
		return nlab_error_set(err, EINVAL, "%s: bad mtu or ifindex", what);
	struct nlmsghdr *nlh = nlab_nl_msg_begin(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, err);
	if (!nlh)
		return -1;
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = s->ifindex;
	ifm->ifi_flags = ifm->ifi_change = s->up ? IFF_UP : 0;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, s->name);
	if (s->netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)s->netns_fd);
	else if (s->netns_pid > 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_PID, (uint32_t)s->netns_pid);
	if (s->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, (uint32_t)s->mtu);
	if (s->master_ifindex)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)s->master_ifindex);
	struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "vxlan");
	struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u32(nlh, IFLA_VXLAN_ID, s->vni);
	/* A unicast "group" is the default destination: the kernel makes
	 * the all-zeros forwarding entry to it (vxlan_dev_create()). */
	bool v6 = s->family == AF_INET6;
	mnl_attr_put(nlh, v6 ? IFLA_VXLAN_GROUP6 : IFLA_VXLAN_GROUP, addr_size(s->family), s->remote);
	mnl_attr_put(nlh, v6 ? IFLA_VXLAN_LOCAL6 : IFLA_VXLAN_LOCAL, addr_size(s->family), s->local);
	mnl_attr_put_u16(nlh, IFLA_VXLAN_PORT, htons(s->port));
	mnl_attr_put_u8(nlh, IFLA_VXLAN_LEARNING, 1);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nlab_nl_msg_commit(nl, nlh, ctx, err);
}

int nlab_vxlan_queue_flood(struct nlab_nl *nl, int ifindex, int family, const uint8_t *remote, const char *ctx,
			   nlab_error **err)
{
	static const uint8_t zero_mac[6];

	if (ifindex <= 0 || (family != AF_INET && family != AF_INET6) || !remote)
		return nlab_error_set(err, EINVAL, "%s: bad flood entry", ctx ? ctx : "vxlan");
	struct nlmsghdr *nlh = nlab_nl_msg_begin(nl, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_APPEND, err);
	if (!nlh)
		return -1;
	struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = AF_BRIDGE;
	ndm->ndm_ifindex = ifindex;
	ndm->ndm_state = NUD_NOARP | NUD_PERMANENT;
	/* The device's own table (NTF_SELF), not the bridge's it is a port of. */
	ndm->ndm_flags = NTF_SELF;
	mnl_attr_put(nlh, NDA_LLADDR, sizeof(zero_mac), zero_mac);
	mnl_attr_put(nlh, NDA_DST, addr_size(family), remote);
	return nlab_nl_msg_commit(nl, nlh, ctx, err);
}
