/* Integration tests of net/link_vxlan.c against the running kernel: a
 * tunnel end made from one network namespace (the "machine", where its UDP
 * socket stays) lands in another (a node, or the lab's with its bridge),
 * numbered, sized, enslaved and up as asked, and nothing of it is left in
 * the machine's; flood entries; the kernel's refusal of a VNI taken twice.
 * `make integration` runs this as root inside `unshare --net --mount`; each
 * test makes its own namespaces, held only by their fds. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "net/bridge.h"
#include "net/link.h"
#include "net/link_vxlan.h"
#include "net/nlsock.h"

#define OK(call)                                                                                              \
	do {                                                                                                  \
		if ((call) < 0)                                                                               \
			fail_msg("%s: %s", #call, err && err->msg ? err->msg : "(no message)");             \
	} while (0)

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

#define TB_MAX 64

static int store_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_get_type(a) < TB_MAX)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

struct vx_info {
	int ifindex, mtu, master;
	unsigned flags;
	char kind[16];
	uint32_t vni;
	uint16_t port;
	uint8_t group[16], local[16];
};

static int vx_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[TB_MAX] = { 0 }, *li[TB_MAX] = { 0 }, *vx[TB_MAX] = { 0 };
	struct vx_info *v = data;

	mnl_attr_parse(nlh, sizeof(*ifm), store_attr, tb);
	v->ifindex = ifm->ifi_index;
	v->flags = ifm->ifi_flags;
	v->mtu = tb[IFLA_MTU] ? (int)mnl_attr_get_u32(tb[IFLA_MTU]) : -1;
	v->master = tb[IFLA_MASTER] ? (int)mnl_attr_get_u32(tb[IFLA_MASTER]) : 0;
	if (!tb[IFLA_LINKINFO])
		return MNL_CB_OK;
	mnl_attr_parse_nested(tb[IFLA_LINKINFO], store_attr, li);
	if (li[IFLA_INFO_KIND])
		snprintf(v->kind, sizeof(v->kind), "%s", mnl_attr_get_str(li[IFLA_INFO_KIND]));
	if (!li[IFLA_INFO_DATA])
		return MNL_CB_OK;
	mnl_attr_parse_nested(li[IFLA_INFO_DATA], store_attr, vx);
	if (vx[IFLA_VXLAN_ID])
		v->vni = mnl_attr_get_u32(vx[IFLA_VXLAN_ID]);
	if (vx[IFLA_VXLAN_PORT])
		v->port = ntohs(mnl_attr_get_u16(vx[IFLA_VXLAN_PORT]));
	if (vx[IFLA_VXLAN_GROUP])
		memcpy(v->group, mnl_attr_get_payload(vx[IFLA_VXLAN_GROUP]), 4);
	if (vx[IFLA_VXLAN_LOCAL])
		memcpy(v->local, mnl_attr_get_payload(vx[IFLA_VXLAN_LOCAL]), 4);
	return MNL_CB_OK;
}

static int get_vx(struct nlab_nl *nl, const char *name, struct vx_info *v, nlab_error **err)
{
	char buf[512];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;

	memset(v, 0, sizeof(*v));
	nlh->nlmsg_type = RTM_GETLINK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nlab_nl_request(nl, nlh, vx_cb, v, err);
}

/* Flood destinations (all-zeros MAC) of a vxlan device, from the fdb dump. */
struct floods {
	int ifindex, n;
	uint8_t dst[8][4];
};

static int fdb_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[TB_MAX] = { 0 };
	struct floods *f = data;
	static const uint8_t zero[6];

	mnl_attr_parse(nlh, sizeof(*ndm), store_attr, tb);
	if (ndm->ndm_ifindex != f->ifindex || !tb[NDA_LLADDR] || !tb[NDA_DST] || f->n == 8 ||
	    memcmp(mnl_attr_get_payload(tb[NDA_LLADDR]), zero, 6) != 0)
		return MNL_CB_OK;
	memcpy(f->dst[f->n++], mnl_attr_get_payload(tb[NDA_DST]), 4);
	return MNL_CB_OK;
}

static int dump_floods(struct nlab_nl *nl, struct floods *f, nlab_error **err)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *ndm;

	f->n = 0;
	nlh->nlmsg_type = RTM_GETNEIGH;
	nlh->nlmsg_flags = NLM_F_DUMP;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = AF_BRIDGE;
	return nlab_nl_request(nl, nlh, fdb_cb, f, err);
}

static const uint8_t here[4] = { 10, 88, 0, 1 }, far[4] = { 10, 88, 0, 2 }, third[4] = { 10, 88, 0, 3 };

/* A node's interface: made from the machine, placed in the node. */
static void test_node_end(void **state)
{
	nlab_error *err = NULL;
	struct nlab_nl *machine = NULL, *node = NULL;
	struct vx_info v;
	(void)state;

	int node_ns = new_netns();
	OK(nlab_nl_open(&machine, &err));
	OK(nlab_nl_open_in(&node, node_ns, &err));
	struct nlab_vxlan_spec s = { .name = "eth1", .ifindex = 3, .netns_fd = node_ns, .vni = 4242,
				     .family = AF_INET, .local = here, .remote = far, .port = 4789, .mtu = 1450 };
	OK(nlab_vxlan_queue_add(machine, &s, "tunnel r1:eth1", &err));
	OK(nlab_nl_flush(machine, &err));
	OK(get_vx(node, "eth1", &v, &err));
	assert_string_equal(v.kind, "vxlan");
	assert_int_equal(v.ifindex, 3);
	assert_int_equal(v.mtu, 1450);
	assert_int_equal(v.vni, 4242);
	assert_int_equal(v.port, 4789);
	assert_memory_equal(v.group, far, 4);
	assert_memory_equal(v.local, here, 4);
	assert_false(v.flags & IFF_UP);
	/* Nothing of it in the machine's namespace. */
	assert_int_equal(get_vx(machine, "eth1", &v, &err), -1);
	assert_int_equal(err->errnum, ENODEV);
	nlab_error_free(&err);
	nlab_nl_close(machine);
	nlab_nl_close(node);
	close(node_ns);
}

/* A spanning switch's port: in the lab namespace, enslaved and up at once,
 * flooding to two machines. */
static void test_switch_port_floods(void **state)
{
	nlab_error *err = NULL;
	struct nlab_nl *machine = NULL, *lab = NULL;
	struct vx_info v;
	struct floods f;
	(void)state;

	int lab_ns = new_netns();
	OK(nlab_nl_open(&machine, &err));
	OK(nlab_nl_open_in(&lab, lab_ns, &err));
	OK(nlab_bridge_queue_add(lab, "br0", 2, 1, false, "switch lan", &err));
	OK(nlab_nl_flush(lab, &err));
	struct nlab_vxlan_spec s = { .name = "vx0", .ifindex = 3, .netns_fd = lab_ns, .vni = 77, .family = AF_INET,
				     .local = here, .remote = far, .port = 4790, .mtu = 1450, .master_ifindex = 2,
				     .up = 1 };
	OK(nlab_vxlan_queue_add(machine, &s, "switch lan: tunnel", &err));
	OK(nlab_nl_flush(machine, &err));
	OK(get_vx(lab, "vx0", &v, &err));
	assert_int_equal(v.master, 2);
	assert_true(v.flags & IFF_UP);
	OK(nlab_vxlan_queue_flood(lab, 3, AF_INET, third, "switch lan: flood", &err));
	OK(nlab_nl_flush(lab, &err));
	f.ifindex = 3;
	OK(dump_floods(lab, &f, &err));
	assert_int_equal(f.n, 2);
	bool saw_far = false, saw_third = false;
	for (int i = 0; i < f.n; i++) {
		saw_far = saw_far || !memcmp(f.dst[i], far, 4);
		saw_third = saw_third || !memcmp(f.dst[i], third, 4);
	}
	assert_true(saw_far && saw_third);
	nlab_nl_close(machine);
	nlab_nl_close(lab);
	close(lab_ns);
}

/* One VNI, one port: a second device is refused with the kernel's reason
 * (another lab sharing the machine with a colliding VNI). */
static void test_vni_taken(void **state)
{
	nlab_error *err = NULL;
	struct nlab_nl *machine = NULL;
	(void)state;

	int a = new_netns(), b = new_netns();
	OK(nlab_nl_open(&machine, &err));
	struct nlab_vxlan_spec s = { .name = "eth0", .netns_fd = a, .vni = 9, .family = AF_INET, .local = here,
				     .remote = far, .port = 4789 };
	OK(nlab_vxlan_queue_add(machine, &s, "first", &err));
	OK(nlab_nl_flush(machine, &err));
	s.netns_fd = b;
	OK(nlab_vxlan_queue_add(machine, &s, "tunnel r2:eth0", &err));
	assert_int_equal(nlab_nl_flush(machine, &err), -1);
	assert_int_equal(err->errnum, EEXIST);
	assert_non_null(strstr(err->msg, "tunnel r2:eth0: RTM_NEWLINK"));
	assert_non_null(strstr(err->msg, "VNI"));
	nlab_error_free(&err);
	/* Checked before anything is queued. */
	s.vni = 1 << 24;
	assert_int_equal(nlab_vxlan_queue_add(machine, &s, "big", &err), -1);
	assert_int_equal(err->errnum, EINVAL);
	nlab_error_free(&err);
	assert_int_equal(nlab_nl_pending(machine), 0);
	nlab_nl_close(machine);
	close(a);
	close(b);
}

int main(void)
{
	/* A namespace of its own, where the tunnels' sockets go. */
	if (unshare(CLONE_NEWNET) < 0) {
		perror("new netns");
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_node_end),
		cmocka_unit_test(test_switch_port_floods),
		cmocka_unit_test(test_vni_taken),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
