/* Integration tests of src/net against the running kernel.
 *
 * `make integration` runs this as root inside `unshare --net --mount`; on
 * top of that every test runs in a fresh netns of its own (setup() calls
 * unshare(CLONE_NEWNET), teardown() returns to the sandbox's), so tests see
 * no interfaces but a down "lo" and cannot disturb each other.  "Node"
 * namespaces are made the same way and held only by their fds. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "net/address.h"
#include "net/bridge.h"
#include "net/link.h"
#include "net/link_veth.h"
#include "net/netns.h"
#include "net/nlsock.h"
#include "net/route.h"
#include "net/sysctl.h"
#include "util/cleanup.h"

/* glibc's <net/if.h> stops at IFF_DYNAMIC; <linux/if.h> would clash with it. */
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

#define OK(call)                                                               \
	do {                                                                   \
		if ((call) < 0)                                                \
			fail_msg("%s: %s", #call,                              \
				 err && err->msg ? err->msg : "(no message)"); \
	} while (0)

struct fx {
	int outer;          /* the sandbox's netns, restored after each test */
	struct nlab_nl *nl; /* socket in this test's fresh netns */
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	nlab_error *err = NULL;

	if (!fx)
		return -1;
	fx->outer = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fx->outer < 0 || unshare(CLONE_NEWNET) < 0) {
		perror("setup: new netns");
		return -1;
	}
	if (nlab_nl_open(&fx->nl, &err) < 0) {
		nlab_error_print(NULL, &err);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	nlab_nl_close(fx->nl);
	if (setns(fx->outer, CLONE_NEWNET) < 0) {
		perror("teardown: setns");
		return -1;
	}
	close(fx->outer);
	free(fx);
	return 0;
}

/* A new, empty netns, held only by the returned fd. */
static int new_netns(void)
{
	int cur = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), fd;

	assert_true(cur >= 0);
	assert_int_equal(unshare(CLONE_NEWNET), 0);
	fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(setns(cur, CLONE_NEWNET), 0);
	close(cur);
	return fd;
}

/* --- Reading the kernel's state back ------------------------------------ */

#define TB_MAX 128

static int store_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_get_type(a) < TB_MAX)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

struct link_info {
	int ifindex;
	unsigned int flags;
	int mtu;
	int master;
	char kind[16];
	long br_forward_delay; /* -1 if not a bridge */
	long br_stp_state;
	int br_mcast_querier;
	long long br_query_response_cs, br_startup_query_cs;
	int br_startup_query_count;
};

static int link_info_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[TB_MAX] = { 0 }, *li[TB_MAX] = { 0 }, *br[TB_MAX] = { 0 };
	struct link_info *info = data;

	mnl_attr_parse(nlh, sizeof(*ifm), store_attr, tb);
	info->ifindex = ifm->ifi_index;
	info->flags = ifm->ifi_flags;
	info->mtu = tb[IFLA_MTU] ? (int)mnl_attr_get_u32(tb[IFLA_MTU]) : -1;
	info->master = tb[IFLA_MASTER] ? (int)mnl_attr_get_u32(tb[IFLA_MASTER]) : 0;
	info->br_forward_delay = info->br_stp_state = -1;
	if (!tb[IFLA_LINKINFO])
		return MNL_CB_OK;
	mnl_attr_parse_nested(tb[IFLA_LINKINFO], store_attr, li);
	if (li[IFLA_INFO_KIND])
		snprintf(info->kind, sizeof(info->kind), "%s", mnl_attr_get_str(li[IFLA_INFO_KIND]));
	if (!strcmp(info->kind, "bridge") && li[IFLA_INFO_DATA]) {
		mnl_attr_parse_nested(li[IFLA_INFO_DATA], store_attr, br);
		if (br[IFLA_BR_FORWARD_DELAY])
			info->br_forward_delay = mnl_attr_get_u32(br[IFLA_BR_FORWARD_DELAY]);
		if (br[IFLA_BR_STP_STATE])
			info->br_stp_state = mnl_attr_get_u32(br[IFLA_BR_STP_STATE]);
		if (br[IFLA_BR_MCAST_QUERIER])
			info->br_mcast_querier = mnl_attr_get_u8(br[IFLA_BR_MCAST_QUERIER]);
		if (br[IFLA_BR_MCAST_QUERY_RESPONSE_INTVL])
			info->br_query_response_cs = (long long)mnl_attr_get_u64(br[IFLA_BR_MCAST_QUERY_RESPONSE_INTVL]);
		if (br[IFLA_BR_MCAST_STARTUP_QUERY_INTVL])
			info->br_startup_query_cs = (long long)mnl_attr_get_u64(br[IFLA_BR_MCAST_STARTUP_QUERY_INTVL]);
		if (br[IFLA_BR_MCAST_STARTUP_QUERY_CNT])
			info->br_startup_query_count = (int)mnl_attr_get_u32(br[IFLA_BR_MCAST_STARTUP_QUERY_CNT]);
	}
	return MNL_CB_OK;
}

static int get_link(struct nlab_nl *nl, const char *name, struct link_info *info,
		    nlab_error **err)
{
	char buf[512];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;

	memset(info, 0, sizeof(*info));
	nlh->nlmsg_type = RTM_GETLINK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nlab_nl_request(nl, nlh, link_info_cb, info, err);
}

struct addr_row {
	int ifindex, family, prefixlen;
	uint32_t flags;
	unsigned char local[16], brd[4];
	bool has_brd;
};

struct addr_dump {
	struct addr_row rows[64];
	int n;
};

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[TB_MAX] = { 0 };
	struct addr_dump *d = data;
	struct addr_row *r;

	if (d->n == 64)
		return MNL_CB_OK;
	r = &d->rows[d->n++];
	memset(r, 0, sizeof(*r));
	mnl_attr_parse(nlh, sizeof(*ifa), store_attr, tb);
	r->ifindex = (int)ifa->ifa_index;
	r->family = ifa->ifa_family;
	r->prefixlen = ifa->ifa_prefixlen;
	r->flags = tb[IFA_FLAGS] ? mnl_attr_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
	if (tb[IFA_LOCAL])
		memcpy(r->local, mnl_attr_get_payload(tb[IFA_LOCAL]),
		       mnl_attr_get_payload_len(tb[IFA_LOCAL]) > 16 ? 16 : mnl_attr_get_payload_len(tb[IFA_LOCAL]));
	else if (tb[IFA_ADDRESS]) /* IPv6 reports only IFA_ADDRESS */
		memcpy(r->local, mnl_attr_get_payload(tb[IFA_ADDRESS]),
		       mnl_attr_get_payload_len(tb[IFA_ADDRESS]) > 16 ? 16 : mnl_attr_get_payload_len(tb[IFA_ADDRESS]));
	if (tb[IFA_BROADCAST] && mnl_attr_get_payload_len(tb[IFA_BROADCAST]) == 4) {
		memcpy(r->brd, mnl_attr_get_payload(tb[IFA_BROADCAST]), 4);
		r->has_brd = true;
	}
	return MNL_CB_OK;
}

static int dump_addrs(struct nlab_nl *nl, struct addr_dump *d, nlab_error **err)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;

	d->n = 0;
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_DUMP;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	return nlab_nl_request(nl, nlh, addr_cb, d, err);
}

static const struct addr_row *find_addr(const struct addr_dump *d, int family,
					const char *text)
{
	unsigned char a[16] = { 0 };

	assert_int_equal(inet_pton(family, text, a), 1);
	for (int i = 0; i < d->n; i++)
		if (d->rows[i].family == family &&
		    !memcmp(d->rows[i].local, a, family == AF_INET ? 4 : 16))
			return &d->rows[i];
	return NULL;
}

struct route_row {
	int family, dst_len, table, protocol, scope, type, oif;
	unsigned char dst[16], gw[16];
	bool has_gw;
};

struct route_dump {
	struct route_row rows[64];
	int n;
};

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[TB_MAX] = { 0 };
	struct route_dump *d = data;
	struct route_row *r;
	size_t alen = rtm->rtm_family == AF_INET ? 4 : 16;

	if (d->n == 64)
		return MNL_CB_OK;
	r = &d->rows[d->n++];
	memset(r, 0, sizeof(*r));
	mnl_attr_parse(nlh, sizeof(*rtm), store_attr, tb);
	r->family = rtm->rtm_family;
	r->dst_len = rtm->rtm_dst_len;
	r->table = tb[RTA_TABLE] ? (int)mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	r->protocol = rtm->rtm_protocol;
	r->scope = rtm->rtm_scope;
	r->type = rtm->rtm_type;
	r->oif = tb[RTA_OIF] ? (int)mnl_attr_get_u32(tb[RTA_OIF]) : 0;
	if (tb[RTA_DST] && mnl_attr_get_payload_len(tb[RTA_DST]) == alen)
		memcpy(r->dst, mnl_attr_get_payload(tb[RTA_DST]), alen);
	if (tb[RTA_GATEWAY] && mnl_attr_get_payload_len(tb[RTA_GATEWAY]) == alen) {
		memcpy(r->gw, mnl_attr_get_payload(tb[RTA_GATEWAY]), alen);
		r->has_gw = true;
	}
	return MNL_CB_OK;
}

static int dump_routes(struct nlab_nl *nl, int family, struct route_dump *d,
		       nlab_error **err)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	d->n = 0;
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_DUMP;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	return nlab_nl_request(nl, nlh, route_cb, d, err);
}

/* The main-table route to dst/dst_len ("default" for 0), or NULL. */
static const struct route_row *find_route(const struct route_dump *d, int family,
					  const char *dst, int dst_len)
{
	unsigned char a[16] = { 0 };

	if (dst)
		assert_int_equal(inet_pton(family, dst, a), 1);
	for (int i = 0; i < d->n; i++) {
		const struct route_row *r = &d->rows[i];

		if (r->family == family && r->table == RT_TABLE_MAIN &&
		    r->dst_len == dst_len && r->type == RTN_UNICAST &&
		    !memcmp(r->dst, a, family == AF_INET ? 4 : 16))
			return r;
	}
	return NULL;
}

static void assert_ip_equal(int family, const unsigned char *got, const char *want)
{
	unsigned char a[16] = { 0 };

	assert_int_equal(inet_pton(family, want, a), 1);
	assert_memory_equal(got, a, family == AF_INET ? 4 : 16);
}

/* --- Tests --------------------------------------------------------------- */

/* The bridge and the veth enslaved to it go in one batch: the veth can name
 * its master by the index the bridge asked for, with no lookup between. */
static void test_bridge_and_veth_in_one_batch(void **state)
{
	struct fx *fx = *state;
	cleanup_error nlab_error *err = NULL;
	struct link_info li;
	struct nlab_veth_spec v = {
		.name = "web1-eth0", .ifindex = 101, .netns_fd = -1,
		.peer = "web1-peer", .peer_ifindex = 102, .peer_netns_fd = -1,
		.mtu = 1400, .master_ifindex = 100, .up = 1,
	};

	OK(nlab_bridge_queue_add(fx->nl, "lan", 100, 1, false, "bridge lan", &err));
	OK(nlab_veth_queue_add(fx->nl, &v, "link web1:eth0 -> lan", &err));
	/* the peer is raised by a follow-up: the kernel cannot open it in the
	 * creating request */
	assert_int_equal(nlab_nl_pending(fx->nl), 3);
	OK(nlab_nl_flush(fx->nl, &err));
	assert_int_equal(nlab_nl_pending(fx->nl), 0);

	assert_int_equal(nlab_link_index(fx->nl, "lan", &err), 100);
	assert_int_equal(if_nametoindex("web1-eth0"), 101);
	assert_int_equal(if_nametoindex("web1-peer"), 102);

	OK(get_link(fx->nl, "lan", &li, &err));
	assert_string_equal(li.kind, "bridge");
	assert_true(li.flags & IFF_UP);
	assert_int_equal(li.br_forward_delay, 0);
	assert_int_equal(li.br_stp_state, 0);

	OK(get_link(fx->nl, "web1-eth0", &li, &err));
	assert_string_equal(li.kind, "veth");
	assert_true(li.flags & IFF_UP);
	assert_int_equal(li.mtu, 1400);
	assert_int_equal(li.master, 100);

	OK(get_link(fx->nl, "web1-peer", &li, &err));
	assert_true(li.flags & IFF_UP);
	assert_int_equal(li.mtu, 1400);
	assert_int_equal(li.master, 0);
	/* both ends up: the pair has carrier */
	assert_true(li.flags & IFF_LOWER_UP);
}

/* The node end goes straight into the node's netns with the index asked
 * for there: 2, since a fresh netns has only lo (1). */
static void test_veth_peer_in_other_netns(void **state)
{
	struct fx *fx = *state;
	cleanup_error nlab_error *err = NULL;
	cleanup_close int node = new_netns();
	struct nlab_nl *nn = NULL;
	struct link_info li;
	struct nlab_veth_spec v = {
		.name = "h-web1", .ifindex = 200, .netns_fd = -1,
		.peer = "eth0", .peer_ifindex = 2, .peer_netns_fd = node,
		.up = 1,
	};

	OK(nlab_veth_queue_add(fx->nl, &v, "link web1:eth0", &err));
	OK(nlab_nl_flush(fx->nl, &err));

	assert_int_equal(nlab_link_index(fx->nl, "h-web1", &err), 200);
	assert_int_equal(nlab_link_exists(fx->nl, "eth0", &err), 0);

	OK(nlab_nl_open_in(&nn, node, &err));
	assert_int_equal(nlab_link_index(nn, "eth0", &err), 2);
	assert_int_equal(nlab_link_exists(nn, "h-web1", &err), 0);
	OK(get_link(nn, "eth0", &li, &err));
	assert_true(li.flags & IFF_UP);
	assert_true(li.flags & IFF_LOWER_UP);
	/* nlab_nl_open_in() put this thread back where it was */
	assert_int_equal(if_nametoindex("h-web1"), 200);
	nlab_nl_close(nn);
}

/* A star link as `up` makes it: the node end in the node's netns, the
 * switch end in the socket's, enslaved to the bridge and raised by the one
 * follow-up request (peer_master_ifindex), not a separate one. */
static void test_veth_switch_end_enslaved_in_follow_up(void **state)
{
	struct fx *fx = *state;
	cleanup_error nlab_error *err = NULL;
	cleanup_close int node = new_netns();
	struct nlab_nl *nn = NULL;
	struct link_info li;
	struct nlab_veth_spec v = {
		.name = "eth0", .ifindex = 2, .netns_fd = node,
		.peer = "v1b", .peer_ifindex = 301, .peer_netns_fd = -1,
		.peer_master_ifindex = 300, .up = 1,
	};

	OK(nlab_bridge_queue_add(fx->nl, "lan", 300, 1, false, "bridge lan", &err));
	OK(nlab_veth_queue_add(fx->nl, &v, "link h1:eth0 -> lan", &err));
	/* bridge, the pair, one RTM_SETLINK raising and enslaving v1b */
	assert_int_equal(nlab_nl_pending(fx->nl), 3);
	OK(nlab_nl_flush(fx->nl, &err));

	OK(get_link(fx->nl, "v1b", &li, &err));
	assert_int_equal(li.master, 300);
	assert_true(li.flags & IFF_UP);
	assert_true(li.flags & IFF_LOWER_UP);
	OK(nlab_nl_open_in(&nn, node, &err));
	OK(get_link(nn, "eth0", &li, &err));
	assert_int_equal(li.master, 0);
	assert_true(li.flags & IFF_UP);
	nlab_nl_close(nn);

	/* A master for an end outside the socket's netns cannot be set by
	 * that follow-up: refused, nothing queued. */
	struct nlab_veth_spec bad = {
		.name = "x1", .netns_fd = -1, .peer = "x2", .peer_netns_fd = node, .peer_master_ifindex = 300,
	};
	assert_int_equal(nlab_veth_queue_add(fx->nl, &bad, "link bad", &err), -1);
	assert_int_equal(err->errnum, EINVAL);
	assert_int_equal(nlab_nl_pending(fx->nl), 0);
}

/* A snooping switch: short startup timers on creation, the querier in a
 * later request; a flooding one keeps the kernel's defaults and no querier. */
static void test_bridge_snooping_querier(void **state)
{
	struct fx *fx = *state;
	cleanup_error nlab_error *err = NULL;
	struct link_info li;

	OK(nlab_bridge_queue_add(fx->nl, "snoop", 40, 1, true, "bridge snoop", &err));
	OK(nlab_bridge_queue_add(fx->nl, "flood", 41, 1, false, "bridge flood", &err));
	OK(nlab_nl_flush(fx->nl, &err));
	OK(get_link(fx->nl, "snoop", &li, &err));
	assert_int_equal(li.br_mcast_querier, 0);
	assert_int_equal(li.br_query_response_cs, 10);
	assert_int_equal(li.br_startup_query_cs, 100);
	assert_int_equal(li.br_startup_query_count, 3);
	OK(nlab_bridge_queue_querier(fx->nl, 40, "querier", &err));
	OK(nlab_nl_flush(fx->nl, &err));
	OK(get_link(fx->nl, "snoop", &li, &err));
	assert_int_equal(li.br_mcast_querier, 1);
	assert_int_equal(li.br_forward_delay, 0);
	OK(get_link(fx->nl, "flood", &li, &err));
	assert_int_equal(li.br_mcast_querier, 0);
	assert_int_equal(li.br_query_response_cs, 1000);
	assert_int_equal(nlab_bridge_queue_querier(fx->nl, 0, "querier", &err), -1);
	assert_int_equal(err->errnum, EINVAL);
}

/* Both ends elsewhere, neither in the socket's netns: a node-to-node link
 * made from the orchestrator's one socket.  It cannot be created up from
 * here (the nested end is only reachable through its own netns' socket),
 * so the nodes' sockets raise the ends, by the ifindexes we chose. */
static void test_veth_both_ends_in_other_netns(void **state)
{
	struct fx *fx = *state;
	cleanup_error nlab_error *err = NULL;
	cleanup_close int a = new_netns();
	cleanup_close int b = new_netns();
	struct nlab_nl *na = NULL, *nb = NULL;
	struct nlab_veth_spec v = {
		.name = "to-b", .ifindex = 7, .netns_fd = a,
		.peer = "to-a", .peer_ifindex = 9, .peer_netns_fd = b,
		.mtu = 9000, .up = 1,
	};
	struct link_info li;

	assert_int_equal(nlab_veth_queue_add(fx->nl, &v, "link a -- b", &err), -1);
	assert_int_equal(err->errnum, EINVAL);
	assert_int_equal(nlab_nl_pending(fx->nl), 0);

	v.up = 0;
	OK(nlab_veth_queue_add(fx->nl, &v, "link a:to-b -- b:to-a", &err));
	OK(nlab_nl_flush(fx->nl, &err));
	assert_int_equal(nlab_link_exists(fx->nl, "to-a", &err), 0);
	assert_int_equal(nlab_link_exists(fx->nl, "to-b", &err), 0);

	OK(nlab_nl_open_in(&na, a, &err));
	OK(nlab_nl_open_in(&nb, b, &err));
	OK(nlab_link_queue_up(na, 7, NULL, "a: up to-b", &err));
	OK(nlab_link_queue_up(nb, 9, NULL, "b: up to-a", &err));
	OK(nlab_nl_flush(na, &err));
	OK(nlab_nl_flush(nb, &err));
	OK(get_link(na, "to-b", &li, &err));
	assert_int_equal(li.ifindex, 7);
	assert_int_equal(li.mtu, 9000);
	assert_true(li.flags & IFF_UP);
	OK(get_link(nb, "to-a", &li, &err));
	assert_int_equal(li.ifindex, 9);
	assert_int_equal(li.mtu, 9000);
	assert_true(li.flags & IFF_LOWER_UP);
	nlab_nl_close(na);
	nlab_nl_close(nb);
}

/* Kernel behaviour the veth code relies on, checked so that a kernel that
 * changes it is noticed: a peer ifindex without an outer one is ignored
 * (hence refused by nlab_veth_queue_add), and a failed creation must not
 * let its follow-up touch a same-named interface that was there before. */
static void test_veth_kernel_rules(void **state)
{
	struct fx *fx = *state;
	cleanup_error nlab_error *err = NULL;
	struct nlab_veth_spec v = {
		.name = "k0", .netns_fd = -1, .peer = "k1", .peer_ifindex = 60,
		.peer_netns_fd = -1,
	};
	struct link_info li;

	assert_int_equal(nlab_veth_queue_add(fx->nl, &v, "link k", &err), -1);
	assert_int_equal(err->errnum, EINVAL);

	/* "victim" exists, down and unenslaved; a veth named like it,
	 * created up into a bridge, fails and leaves it alone */
	OK(nlab_bridge_queue_add(fx->nl, "lan", 30, 1, false, "bridge lan", &err));
	OK(nlab_bridge_queue_add(fx->nl, "victim", 31, 0, false, "bridge victim", &err));
	OK(nlab_nl_flush(fx->nl, &err));
	v = (struct nlab_veth_spec){
		.name = "x0", .ifindex = 40, .netns_fd = -1,
		.peer = "victim", .peer_ifindex = 41, .peer_netns_fd = -1,
		.up = 1,
	};
	OK(nlab_veth_queue_add(fx->nl, &v, "link x0", &err));
	assert_int_equal(nlab_nl_flush(fx->nl, &err), -1);
	assert_int_equal(err->errnum, EEXIST);
	OK(get_link(fx->nl, "victim", &li, &err));
	assert_false(li.flags & IFF_UP);
	assert_int_equal(nlab_link_exists(fx->nl, "x0", &err), 0);

	/* the same with this end's name taken, where the follow-up would
	 * also enslave it */
	v = (struct nlab_veth_spec){
		.name = "victim", .netns_fd = -1, .peer = "y1",
		.peer_netns_fd = new_netns(), .master_ifindex = 30, .up = 1,
	};
	OK(nlab_veth_queue_add(fx->nl, &v, "link victim", &err));
	assert_int_equal(nlab_nl_flush(fx->nl, &err), -1);
	assert_int_equal(err->errnum, EEXIST);
	close(v.peer_netns_fd);
	OK(get_link(fx->nl, "victim", &li, &err));
	assert_false(li.flags & IFF_UP);
	assert_int_equal(li.master, 0);
}

static void test_link_set_and_del(void **state)
{
	struct fx *fx = *state;
	cleanup_error nlab_error *err = NULL;
	struct nlab_veth_spec v = {
		.name = "s0", .netns_fd = -1, .peer = "s1", .peer_netns_fd = -1,
	};
	struct link_info li;
	int s0;

	OK(nlab_bridge_queue_add(fx->nl, "br9", 0, 0, false, "bridge br9", &err));
	OK(nlab_veth_queue_add(fx->nl, &v, "veth s0", &err));
	OK(nlab_nl_flush(fx->nl, &err));
	s0 = nlab_link_index(fx->nl, "s0", &err);
	assert_true(s0 > 0);
	OK(get_link(fx->nl, "s0", &li, &err));
	assert_false(li.flags & IFF_UP);

	/* by index and by name, mixed in one batch */
	OK(nlab_link_queue_master(fx->nl, s0, NULL,
				  nlab_link_index(fx->nl, "br9", &err), "master", &err));
	OK(nlab_link_queue_mtu(fx->nl, 0, "s0", 1280, "mtu", &err));
	OK(nlab_link_queue_up(fx->nl, s0, NULL, "up s0", &err));
	OK(nlab_link_queue_up(fx->nl, 0, "br9", "up br9", &err));
	OK(nlab_nl_flush(fx->nl, &err));
	OK(get_link(fx->nl, "s0", &li, &err));
	assert_true(li.flags & IFF_UP);
	assert_int_equal(li.mtu, 1280);
	assert_int_equal(li.master, nlab_link_index(fx->nl, "br9", &err));

	OK(nlab_link_queue_down(fx->nl, 0, "s0", "down s0", &err));
	OK(nlab_nl_sync(fx->nl, &err));
	OK(get_link(fx->nl, "s0", &li, &err));
	assert_false(li.flags & IFF_UP);

	/* deleting one end takes the peer with it */
	OK(nlab_link_queue_del(fx->nl, 0, "s1", "del s1", &err));
	OK(nlab_nl_sync(fx->nl, &err));
	assert_int_equal(nlab_link_exists(fx->nl, "s0", &err), 0);
	assert_int_equal(nlab_link_exists(fx->nl, "s1", &err), 0);
	assert_int_equal(nlab_link_index(fx->nl, "s0", &err), -1);
	assert_int_equal(err->errnum, ENODEV);
	assert_non_null(strstr(err->msg, "link s0: RTM_GETLINK: No such device"));
}

static void test_addresses_and_routes(void **state)
{
	struct fx *fx = *state;
	cleanup_error nlab_error *err = NULL;
	struct nlab_veth_spec v = {
		.name = "r0", .ifindex = 10, .netns_fd = -1,
		.peer = "r1", .peer_ifindex = 11, .peer_netns_fd = -1, .up = 1,
	};
	unsigned char a4[4], b4[4], gw4[4], p4[4], a6[16], gw6[16], p6[16];
	struct addr_dump ad;
	struct route_dump rd;
	const struct addr_row *ar;
	const struct route_row *rr;
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	int s;

	inet_pton(AF_INET, "192.0.2.1", a4);
	inet_pton(AF_INET, "192.0.2.2", b4);
	inet_pton(AF_INET, "192.0.2.254", gw4);
	inet_pton(AF_INET, "198.51.100.0", p4);
	inet_pton(AF_INET6, "2001:db8::1", a6);
	inet_pton(AF_INET6, "2001:db8::fe", gw6);
	inet_pton(AF_INET6, "2001:db8:1::", p6);

	/* link, addresses and routes in one batch: requested ifindexes make
	 * that possible, and the kernel handles the messages in order */
	OK(nlab_veth_queue_add(fx->nl, &v, "veth r0", &err));
	OK(nlab_addr_queue_add(fx->nl, 10, AF_INET, a4, 24, 0, "addr r0 v4", &err));
	OK(nlab_addr_queue_add(fx->nl, 11, AF_INET, b4, 31, 0, "addr r1 v4", &err));
	OK(nlab_addr_queue_add(fx->nl, 10, AF_INET6, a6, 64, 1, "addr r0 v6", &err));
	OK(nlab_route_queue_add(fx->nl, AF_INET, NULL, 0, gw4, 0, "default v4", &err));
	OK(nlab_route_queue_add(fx->nl, AF_INET, p4, 24, NULL, 10, "prefix v4", &err));
	OK(nlab_route_queue_add(fx->nl, AF_INET6, NULL, 0, gw6, 10, "default v6", &err));
	OK(nlab_route_queue_add(fx->nl, AF_INET6, p6, 48, NULL, 10, "prefix v6", &err));
	OK(nlab_nl_flush(fx->nl, &err));

	OK(dump_addrs(fx->nl, &ad, &err));
	ar = find_addr(&ad, AF_INET, "192.0.2.1");
	assert_non_null(ar);
	assert_int_equal(ar->ifindex, 10);
	assert_int_equal(ar->prefixlen, 24);
	assert_true(ar->has_brd);
	assert_ip_equal(AF_INET, ar->brd, "192.0.2.255");
	ar = find_addr(&ad, AF_INET, "192.0.2.2");
	assert_non_null(ar);
	assert_int_equal(ar->ifindex, 11);
	assert_false(ar->has_brd); /* /31: no broadcast */
	ar = find_addr(&ad, AF_INET6, "2001:db8::1");
	assert_non_null(ar);
	assert_int_equal(ar->ifindex, 10);
	assert_int_equal(ar->prefixlen, 64);
	assert_true(ar->flags & IFA_F_NODAD);
	assert_false(ar->flags & IFA_F_TENTATIVE);

	/* the point of nodad: bind() works at once (a tentative address
	 * fails with EADDRNOTAVAIL) */
	memcpy(&sin6.sin6_addr, a6, 16);
	s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sin6, sizeof(sin6)), 0);
	close(s);

	OK(dump_routes(fx->nl, AF_INET, &rd, &err));
	rr = find_route(&rd, AF_INET, NULL, 0);
	assert_non_null(rr);
	assert_true(rr->has_gw);
	assert_ip_equal(AF_INET, rr->gw, "192.0.2.254");
	assert_int_equal(rr->protocol, RTPROT_STATIC);
	assert_int_equal(rr->scope, RT_SCOPE_UNIVERSE);
	assert_int_equal(rr->oif, 10);
	rr = find_route(&rd, AF_INET, "198.51.100.0", 24);
	assert_non_null(rr);
	assert_false(rr->has_gw);
	assert_int_equal(rr->oif, 10);
	assert_int_equal(rr->scope, RT_SCOPE_LINK);
	assert_int_equal(rr->protocol, RTPROT_STATIC);

	OK(dump_routes(fx->nl, AF_INET6, &rd, &err));
	rr = find_route(&rd, AF_INET6, NULL, 0);
	assert_non_null(rr);
	assert_true(rr->has_gw);
	assert_ip_equal(AF_INET6, rr->gw, "2001:db8::fe");
	assert_int_equal(rr->oif, 10);
	assert_int_equal(rr->protocol, RTPROT_STATIC);
	rr = find_route(&rd, AF_INET6, "2001:db8:1::", 48);
	assert_non_null(rr);
	assert_false(rr->has_gw);
	assert_int_equal(rr->oif, 10);
}

/* The user must read what failed and why: context, request, kernel reason.
 * Requests after the failing one are still carried out and acked. */
static void test_error_names_request_and_reason(void **state)
{
	struct fx *fx = *state;
	cleanup_error nlab_error *err = NULL;
	unsigned char gw[4];

	OK(nlab_bridge_queue_add(fx->nl, "lan", 0, 0, false, "bridge lan", &err));
	OK(nlab_nl_flush(fx->nl, &err));

	OK(nlab_bridge_queue_add(fx->nl, "before", 0, 0, false, "bridge before", &err));
	OK(nlab_bridge_queue_add(fx->nl, "lan", 0, 0, false, "link web1:eth0 -> lan", &err));
	OK(nlab_bridge_queue_add(fx->nl, "after", 0, 0, false, "bridge after", &err));
	assert_int_equal(nlab_nl_flush(fx->nl, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->errnum, EEXIST);
	assert_non_null(strstr(err->msg, "link web1:eth0 -> lan: RTM_NEWLINK: File exists"));
	assert_int_equal(nlab_nl_pending(fx->nl), 0);
	assert_int_equal(nlab_link_exists(fx->nl, "before", &err), 1);
	assert_int_equal(nlab_link_exists(fx->nl, "after", &err), 1);

	/* a taken ifindex: the kernel says EEXIST, as for a taken name, and
	 * gives no extack; the message names both suspects */
	OK(nlab_bridge_queue_add(fx->nl, "again", nlab_link_index(fx->nl, "lan", &err),
				 0, false, "bridge again", &err));
	assert_int_equal(nlab_nl_flush(fx->nl, &err), -1);
	assert_int_equal(err->errnum, EEXIST);
	assert_non_null(strstr(err->msg, "bridge again: RTM_NEWLINK: File exists "
					 "(name or ifindex "));

	/* only the first failure is reported, and the kernel's own words
	 * (extended ack) follow in parentheses */
	inet_pton(AF_INET, "203.0.113.1", gw);
	OK(nlab_route_queue_add(fx->nl, AF_INET, NULL, 0, gw, 0, "route via nowhere", &err));
	OK(nlab_bridge_queue_add(fx->nl, "lan", 0, 0, false, "second failure", &err));
	assert_int_equal(nlab_nl_flush(fx->nl, &err), -1);
	print_message("kernel said: %s\n", err->msg);
	assert_non_null(strstr(err->msg, "route via nowhere: RTM_NEWROUTE: "));
	assert_non_null(strchr(err->msg, '('));
	assert_null(strstr(err->msg, "second failure"));

	/* the socket is still in step: the next batch works */
	OK(nlab_bridge_queue_add(fx->nl, "fine", 0, 0, false, "bridge fine", &err));
	OK(nlab_nl_flush(fx->nl, &err));
	assert_true(if_nametoindex("fine") > 0);
}

static void test_bad_arguments_queue_nothing(void **state)
{
	struct fx *fx = *state;
	cleanup_error nlab_error *err = NULL;
	struct nlab_veth_spec v = {
		.name = "abcdefghijklmnop", .netns_fd = -1,
		.peer = "p", .peer_netns_fd = -1,
	};
	unsigned char a[4] = { 10, 0, 0, 1 };

	assert_int_equal(nlab_veth_queue_add(fx->nl, &v, "link x", &err), -1);
	assert_int_equal(err->errnum, ENAMETOOLONG);
	assert_non_null(strstr(err->msg, "link x: "));
	assert_non_null(strstr(err->msg, "abcdefghijklmnop"));

	v.name = "ok";
	v.peer_ifindex = 5; /* without .ifindex the kernel would ignore it */
	assert_int_equal(nlab_veth_queue_add(fx->nl, &v, "link x", &err), -1);
	assert_int_equal(err->errnum, EINVAL);

	v.peer_ifindex = 0;
	v.netns_fd = 0;
	v.master_ifindex = 3;
	assert_int_equal(nlab_veth_queue_add(fx->nl, &v, "link x", &err), -1);
	assert_int_equal(err->errnum, EINVAL);

	assert_int_equal(nlab_bridge_queue_add(fx->nl, "a/b", 0, 0, false, "br", &err), -1);
	assert_int_equal(err->errnum, EINVAL);
	assert_int_equal(nlab_link_queue_up(fx->nl, 0, "0123456789abcdef", "up", &err), -1);
	assert_int_equal(err->errnum, ENAMETOOLONG);
	assert_int_equal(nlab_addr_queue_add(fx->nl, 1, AF_INET, a, 33, 0, "addr", &err), -1);
	assert_int_equal(err->errnum, EINVAL);
	assert_int_equal(nlab_route_queue_add(fx->nl, AF_INET, a, 8, NULL, 0, "route", &err), -1);
	assert_int_equal(err->errnum, EINVAL);
	assert_int_equal(nlab_nl_pending(fx->nl), 0);
}

#define NPAIRS 500

static void test_batch_of_500_veth_pairs(void **state)
{
	struct fx *fx = *state;
	cleanup_error nlab_error *err = NULL;
	char names[2][NPAIRS][IFNAMSIZ];
	struct timespec t0, t1;

	for (int i = 0; i < NPAIRS; i++) {
		struct nlab_veth_spec v = {
			.name = names[0][i], .ifindex = 1000 + 2 * i, .netns_fd = -1,
			.peer = names[1][i], .peer_ifindex = 1001 + 2 * i,
			.peer_netns_fd = -1, .up = 1,
		};
		char ctx[32];

		snprintf(names[0][i], IFNAMSIZ, "va%d", i);
		snprintf(names[1][i], IFNAMSIZ, "vb%d", i);
		snprintf(ctx, sizeof(ctx), "pair %d", i);
		OK(nlab_veth_queue_add(fx->nl, &v, ctx, &err));
	}
	/* each created up: the creation plus the follow-up raising the peer */
	assert_int_equal(nlab_nl_pending(fx->nl), 2 * NPAIRS);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	OK(nlab_nl_flush(fx->nl, &err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("%d veth pairs in one flush: %.1f ms\n", NPAIRS,
		      (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
			      (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);

	for (int i = 0; i < NPAIRS; i++) {
		assert_int_equal(if_nametoindex(names[0][i]), 1000 + 2 * i);
		assert_int_equal(if_nametoindex(names[1][i]), 1001 + 2 * i);
	}
}

static void test_sysctl_is_per_netns(void **state)
{
	cleanup_error nlab_error *err = NULL;
	cleanup_close int node = new_netns();
	char val[16];
	int saved = -1;

	(void)state;
	OK(nlab_sysctl_write("net.ipv4.ip_forward", "0", &err));

	OK(nlab_netns_enter(node, &saved, &err));
	OK(nlab_sysctl_write("net.ipv4.ip_forward", "1", &err));
	OK(nlab_sysctl_read("net.ipv4.ip_forward", val, sizeof(val), &err));
	assert_string_equal(val, "1");
	OK(nlab_netns_leave(&saved, &err));
	assert_int_equal(saved, -1);

	OK(nlab_sysctl_read("net.ipv4.ip_forward", val, sizeof(val), &err));
	assert_string_equal(val, "0");

	/* a too-small buffer is an error, not a silent truncation */
	assert_int_equal(nlab_sysctl_read("net.ipv4.ip_local_port_range", val, 4, &err), -1);
	assert_int_equal(err->errnum, ENOBUFS);
}

static void test_sysctl_refuses_bad_keys(void **state)
{
	static const char *bad[] = {
		"kernel.hostname", "net/../x", "net.ipv4/../x", "net..ipv4",
		"net.", "net", "vm.swappiness", "net.ipv4.",
	};
	cleanup_error nlab_error *err = NULL;
	char val[16];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(nlab_sysctl_write(bad[i], "1", &err), -1);
		assert_int_equal(err->errnum, EINVAL);
		assert_int_equal(nlab_sysctl_read(bad[i], val, sizeof(val), &err), -1);
		assert_int_equal(err->errnum, EINVAL);
	}
	assert_int_equal(nlab_sysctl_read("net.ipv4.no_such_key", val, sizeof(val), &err), -1);
	assert_int_equal(err->errnum, ENOENT);
	assert_non_null(strstr(err->msg, "net.ipv4.no_such_key"));
}

/* Two nodes on one bridge; a UDP datagram from one must reach the other,
 * through veths created up and enslaved in the same request, with no
 * forwarding delay. */
static void test_traffic_across_bridge(void **state)
{
	struct fx *fx = *state;
	cleanup_error nlab_error *err = NULL;
	cleanup_close int a = new_netns();
	cleanup_close int b = new_netns();
	cleanup_close int sa = -1;
	cleanup_close int sb = -1;
	struct nlab_nl *na = NULL, *nb = NULL;
	struct nlab_veth_spec va = {
		.name = "lan-a", .ifindex = 21, .netns_fd = -1, .peer = "eth0",
		.peer_ifindex = 2, .peer_netns_fd = a, .master_ifindex = 20, .up = 1,
	};
	struct nlab_veth_spec vb = va;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(5000) };
	unsigned char ipa[4] = { 10, 9, 0, 1 }, ipb[4] = { 10, 9, 0, 2 };
	struct pollfd pfd;
	char got[32] = "";
	int saved = -1;

	vb.name = "lan-b";
	vb.ifindex = 22;
	vb.peer_netns_fd = b;
	OK(nlab_bridge_queue_add(fx->nl, "lan", 20, 1, false, "bridge lan", &err));
	OK(nlab_veth_queue_add(fx->nl, &va, "link a:eth0 -> lan", &err));
	OK(nlab_veth_queue_add(fx->nl, &vb, "link b:eth0 -> lan", &err));
	OK(nlab_nl_flush(fx->nl, &err));

	OK(nlab_nl_open_in(&na, a, &err));
	OK(nlab_nl_open_in(&nb, b, &err));
	OK(nlab_addr_queue_add(na, 2, AF_INET, ipa, 24, 0, "a:eth0", &err));
	OK(nlab_addr_queue_add(nb, 2, AF_INET, ipb, 24, 0, "b:eth0", &err));
	OK(nlab_nl_flush(na, &err));
	OK(nlab_nl_flush(nb, &err));

	/* sockets, like netlink sockets, belong to the netns they are made in */
	memcpy(&to.sin_addr, ipb, 4);
	OK(nlab_netns_enter(b, &saved, &err));
	sb = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(sb >= 0);
	assert_int_equal(bind(sb, (struct sockaddr *)&to, sizeof(to)), 0);
	OK(nlab_netns_leave(&saved, &err));
	OK(nlab_netns_enter(a, &saved, &err));
	sa = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	OK(nlab_netns_leave(&saved, &err));
	assert_true(sa >= 0);

	assert_int_equal(sendto(sa, "hello netlab", 12, 0, (struct sockaddr *)&to, sizeof(to)), 12);
	pfd.fd = sb;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 3000), 1);
	assert_int_equal(recv(sb, got, sizeof(got) - 1, 0), 12);
	assert_string_equal(got, "hello netlab");
	nlab_nl_close(na);
	nlab_nl_close(nb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_bridge_and_veth_in_one_batch),
		T(test_veth_peer_in_other_netns),
		T(test_veth_switch_end_enslaved_in_follow_up),
		T(test_bridge_snooping_querier),
		T(test_veth_both_ends_in_other_netns),
		T(test_veth_kernel_rules),
		T(test_link_set_and_del),
		T(test_addresses_and_routes),
		T(test_error_names_request_and_reason),
		T(test_bad_arguments_queue_nothing),
		T(test_batch_of_500_veth_pairs),
		T(test_sysctl_is_per_netns),
		T(test_sysctl_refuses_bad_keys),
		T(test_traffic_across_bridge),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
