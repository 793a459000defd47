#include "net/link_veth.h"

#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <string.h>
#include <sys/types.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "net/link.h"

struct veth_end {
	const char *name;
	int ifindex;
	int netns_fd;
	pid_t netns_pid;
};

/* Not in the socket's netns: a netns fd or the netns of a pid. */
static bool away(int fd, pid_t pid)
{
	return fd >= 0 || pid > 0;
}

static int veth_check(const struct nlab_veth_spec *s, nlab_error **err)
{
	if (nlab_ifname_check(s->name, err) < 0 || nlab_ifname_check(s->peer, err) < 0)
		return -1;
	if (s->ifindex < 0 || s->peer_ifindex < 0)
		return nlab_error_set(err, EINVAL, "veth %s/%s: negative ifindex",
				      s->name, s->peer);
	if (s->mtu < 0)
		return nlab_error_set(err, EINVAL, "veth %s/%s: mtu %d",
				      s->name, s->peer, s->mtu);
	/* IFLA_MASTER is resolved in the netns the device is in; only
	 * promise it where the caller can know the bridge's index. */
	if (s->master_ifindex < 0 || (s->master_ifindex && away(s->netns_fd, s->netns_pid)))
		return nlab_error_set(err, EINVAL,
				      "veth %s/%s: a master needs this end in the "
				      "socket's netns", s->name, s->peer);
	if (s->up && away(s->netns_fd, s->netns_pid) && away(s->peer_netns_fd, s->peer_netns_pid))
		return nlab_error_set(err, EINVAL,
				      "veth %s/%s: to create it up, one end must be "
				      "in the socket's netns", s->name, s->peer);
	return 0;
}

/* The ifinfomsg is already in place; add what both ends share. */
static void veth_put_end(struct nlmsghdr *nlh, const struct veth_end *e, int mtu)
{
	mnl_attr_put_strz(nlh, IFLA_IFNAME, e->name);
	if (e->netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)e->netns_fd);
	else if (e->netns_pid > 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_PID, (uint32_t)e->netns_pid);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, (uint32_t)mtu);
	/* One queue each way, said up front: a veth made with the default
	 * (a queue per CPU) is cut down to one real queue once registered,
	 * and that waits for an expedited RCU grace period under the
	 * rtnl lock, twice per veth (measured: most of the time the
	 * supervisor spent making 3000 links). */
	mnl_attr_put_u32(nlh, IFLA_NUM_TX_QUEUES, 1);
	mnl_attr_put_u32(nlh, IFLA_NUM_RX_QUEUES, 1);
}

static void veth_put_ifinfo(struct ifinfomsg *ifm, int ifindex, int up)
{
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	ifm->ifi_flags = up ? IFF_UP : 0;
	ifm->ifi_change = up ? IFF_UP : 0;
}

/* RTM_SETLINK raising (and enslaving) the nested end once it exists.  By
 * ifindex when one was requested, else by name: either is unambiguous,
 * because this only runs after the creation succeeded. */
static int veth_queue_raise(struct nlab_nl *nl, const struct veth_end *e, int up,
			    int master_ifindex, const char *ctx, nlab_error **err)
{
	struct nlmsghdr *nlh = nlab_nl_msg_begin(nl, RTM_SETLINK, 0, err);
	struct ifinfomsg *ifm;

	if (!nlh)
		return -1;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	veth_put_ifinfo(ifm, e->ifindex, up);
	if (!e->ifindex)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, e->name);
	if (master_ifindex)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master_ifindex);
	return nlab_nl_msg_commit_after(nl, nlh, ctx, err);
}

int nlab_veth_queue_add(struct nlab_nl *nl, const struct nlab_veth_spec *s,
			const char *ctx, nlab_error **err)
{
	struct veth_end self = { s->name, s->ifindex, s->netns_fd, s->netns_pid };
	struct veth_end other = { s->peer, s->peer_ifindex, s->peer_netns_fd, s->peer_netns_pid };
	const struct veth_end *outer = &self, *nested = &other;
	int outer_master = s->master_ifindex, nested_master = s->peer_master_ifindex;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	struct nlattr *linkinfo, *data, *peer;

	if (veth_check(s, err) < 0)
		return nlab_error_wrap(err, "%s", ctx ? ctx : "veth");
	/* With `up`, the nested end is the one raised by the follow-up, which
	 * must reach it through this socket: put the socket-netns end there,
	 * preferring the peer so that master goes in the creating request. */
	if (s->up && away(s->peer_netns_fd, s->peer_netns_pid)) {
		outer = &other;
		nested = &self;
		outer_master = s->peer_master_ifindex;
		nested_master = s->master_ifindex;
	}
	if (nested_master && away(nested->netns_fd, nested->netns_pid))
		return nlab_error_set(err, EINVAL, "%s: veth %s/%s: %s can be enslaved only in the socket's netns",
				      ctx ? ctx : "veth", s->name, s->peer, nested->name);
	if (nested->ifindex && !outer->ifindex)
		return nlab_error_set(err, EINVAL,
				      "%s: veth %s/%s: ifindex %d for %s is honoured "
				      "only if %s gets a requested ifindex too",
				      ctx ? ctx : "veth", s->name, s->peer,
				      nested->ifindex, nested->name, outer->name);

	nlh = nlab_nl_msg_begin(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, err);
	if (!nlh)
		return -1;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	veth_put_ifinfo(ifm, outer->ifindex, s->up);
	veth_put_end(nlh, outer, s->mtu);
	if (outer_master)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)outer_master);

	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	/* VETH_INFO_PEER holds a whole ifinfomsg followed by IFLA_*
	 * attributes.  Without an IFLA_NET_NS_FD of its own the nested end
	 * lands in the netns of the *socket* (rtnl_newlink_peer_net() falls
	 * back to the source netns), not next to the outer end. */
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	ifm = mnl_nlmsg_get_payload_tail(nlh);
	memset(ifm, 0, sizeof(*ifm));
	nlh->nlmsg_len += MNL_ALIGN(sizeof(*ifm));
	veth_put_ifinfo(ifm, nested->ifindex, 0);
	veth_put_end(nlh, nested, s->mtu);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);

	if (nlab_nl_msg_commit(nl, nlh, ctx, err) < 0)
		return -1;
	if (!s->up && !nested_master)
		return 0;
	return veth_queue_raise(nl, nested, s->up, nested_master, ctx, err);
}
