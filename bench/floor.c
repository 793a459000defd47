/* bench-floor: the kernel floor under `netlab up`/`down`, for `make bench`.
 *
 * It does only what the kernel must do to build an N-node star or chain,
 * with no parsing, no validation, no state, no processes unless asked:
 *
 *   bench-floor net   star|chain N [--verify]
 *       Namespaces without processes: per node unshare(CLONE_NEWNET |
 *       CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNS), keep /proc/self/ns/{net,
 *       uts,ipc,mnt} open, sethostname, open the node's netlink socket (and
 *       for the chain write net.ipv4.ip_forward=1 and ip_default_ttl=255),
 *       setns() back to the lab netns.
 *       Not included (impossible without a process): PID, cgroup, user and
 *       time namespaces.  Then the netlink requests, one batch (one
 *       sendmsg) per namespace, only the last request of a batch asks for
 *       an ACK (errors are reported by the kernel anyway):
 *         star:  lab netns: bridge (up) + per node its netns's id in the
 *                lab's, smaller than the last (a notification naming it
 *                then finds it first: see q_nsid()), and a veth whose outer end is
 *                created straight in the node netns (IFLA_NET_NS_FD) as eth0
 *                with ifindex 2 and up, the lab end enslaved and raised by a
 *                RTM_SETLINK in the same batch;
 *                node netns: lo up, the address.
 *         chain: lab netns: per link a veth with both ends placed straight in
 *                the two routers (eth1 = ifindex 3 of the left, eth0 =
 *                ifindex 2 of the right);
 *                node netns: lo, eth0, eth1 up, addresses, default route via
 *                the right neighbour, route to the first /30 via the left one.
 *       Teardown: RTM_DELLINK by IFLA_GROUP (every link carries one group):
 *       one request in the lab netns for the star; then close every fd.  The
 *       chain's veths have no end in the lab netns: they go with the router
 *       namespaces, which the kernel dismantles as a batch, asynchronously
 *       after the last fd closes (netlab does the same for node-to-node
 *       links; deleting them per router costs an RCU grace period each).
 *
 *   bench-floor procs N [--userns]
 *       The bare cost of N isolated processes: clone3() with the namespace
 *       flags of a netlab node (NEWNET|NEWUTS|NEWNS|NEWPID|NEWIPC|NEWCGROUP,
 *       plus NEWUSER with --userns, no uid/gid maps written); each child
 *       closes the pipe's write end and waits for EOF.  "up" ends when every
 *       clone3() has returned; "down" closes the write end and reaps all.
 *
 *   bench-floor full  star|chain N [--userns] [--verify]
 *       Both: the nodes are such processes (each sets its hostname), and
 *       the network of `net` is built in their network namespaces.
 *
 * --verify pings between the ends of the lab (star: last host -> first;
 * chain: r1 -> rN, or r250 when N > 250 since an IPv4 TTL cannot exceed
 * 255 hops) from a forked `ping` in the node's netns, between the
 * timed up and the timed down; a failed ping fails the program.
 *
 * Output: one line of key=value pairs, e.g.
 *   floor mode=net topo=star n=1000 up_ms=812.3 down_ms=95.1 ns_ms=... nl_ms=...
 * Exit status 0 on success, 1 on any failure (with a message on stderr).
 * Nothing outlives the program: namespaces die with its fds, children see
 * EOF on the pipe when it exits, whatever way it exits. */
#include <errno.h>
#include <linux/net_namespace.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/sched.h>
#include <linux/veth.h>

#define GROUP 4242u
#define CHAIN_PING_MAX 250 /* see --verify */
#define BR_IFINDEX 2 /* the first device of the fresh lab netns */

struct node {
	int net, uts, ipc, mnt; /* namespace fds (-1 when not held) */
	pid_t pid;              /* full/procs: the node process */
	struct mnl_socket *nl;  /* netlink socket in the node's netns */
};

static struct node *nodes;
static int n_nodes;
static int chain; /* topology: 0 star (or star of stars), 1 chain */
static int lab_net = -1;

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	fputs("bench-floor: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (e)
		fprintf(stderr, ": %s", strerror(e));
	fputc('\n', stderr);
	exit(1);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- a growing batch of rtnetlink requests ------------------------------ */

struct batch {
	char *buf;
	size_t len, cap, last_off;
	uint32_t seq, first_seq, last_seq;
	int count;
};

static struct nlmsghdr *msg_begin(struct batch *b, uint16_t type, uint16_t flags)
{
	if (b->cap - b->len < 1024) {
		b->cap = b->cap ? b->cap * 2 : 65536;
		b->buf = realloc(b->buf, b->cap);
		if (!b->buf)
			die("out of memory");
	}
	memset(b->buf + b->len, 0, 1024);
	struct nlmsghdr *h = mnl_nlmsg_put_header(b->buf + b->len);
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	h->nlmsg_seq = ++b->seq;
	if (!b->count)
		b->first_seq = h->nlmsg_seq;
	return h;
}

static void msg_end(struct batch *b, struct nlmsghdr *h)
{
	b->last_seq = h->nlmsg_seq;
	b->last_off = b->len;
	b->len += NLMSG_ALIGN(h->nlmsg_len);
	b->count++;
}

/* Send the whole batch in one sendmsg (the last request asks for an ACK)
 * and read until that ACK; any error reply fails the program. */
static void batch_send(struct mnl_socket *nl, struct batch *b, const char *what)
{
	static char rbuf[65536];

	if (!b->count)
		return;
	struct nlmsghdr *last = (struct nlmsghdr *)(void *)(b->buf + b->last_off);
	last->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl, b->buf, b->len) < 0)
		die("%s: sendmsg of %d requests (%zu bytes)", what, b->count, b->len);
	for (;;) {
		ssize_t r = mnl_socket_recvfrom(nl, rbuf, sizeof(rbuf));
		if (r < 0)
			die("%s: recv", what);
		for (struct nlmsghdr *h = (struct nlmsghdr *)(void *)rbuf; mnl_nlmsg_ok(h, (int)r);
		     h = mnl_nlmsg_next(h, (int *)&r)) {
			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
			if (e->error) {
				errno = -e->error;
				die("%s: request %u of %d (type %u)", what, h->nlmsg_seq - b->first_seq + 1,
				    b->count, e->msg.nlmsg_type);
			}
			if (h->nlmsg_seq == b->last_seq) {
				b->len = 0;
				b->count = 0;
				return;
			}
		}
	}
}

static struct mnl_socket *nl_open(void)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		die("netlink socket");
	return nl;
}

static void nl_bufs(struct mnl_socket *nl, int bytes)
{
	int fd = mnl_socket_get_fd(nl);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof(bytes)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) < 0)
		die("netlink socket buffers");
}

/* ---- requests ------------------------------------------------------------ */

static struct ifinfomsg *link_hdr(struct nlmsghdr *h, int ifindex, unsigned up)
{
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = up ? IFF_UP : 0;
	ifi->ifi_change = up ? IFF_UP : 0;
	return ifi;
}

static void q_bridge(struct batch *b, int ifindex)
{
	char name[16];
	struct nlmsghdr *h = msg_begin(b, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	link_hdr(h, ifindex, 1);
	snprintf(name, sizeof(name), "br%d", ifindex - BR_IFINDEX);
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	mnl_attr_put_u32(h, IFLA_GROUP, GROUP);
	struct nlattr *li = mnl_attr_nest_start(h, IFLA_LINKINFO);
	mnl_attr_put_strz(h, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(h, li);
	msg_end(b, h);
}

static void put_ns(struct nlmsghdr *h, int node);
static void q_nsid(struct batch *b, int node, int nsid);

/* A veth: the outer end `name` (ifindex idx, in node ns's netns, -1 = the
 * socket's), the peer `peer` (ifindex pidx, in node pns's, -1 = the
 * socket's). */
static void q_veth(struct batch *b, const char *name, int idx, int ns, int up, const char *peer, int pidx,
		   int pns)
{
	struct nlmsghdr *h = msg_begin(b, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	link_hdr(h, idx, (unsigned)up);
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	mnl_attr_put_u32(h, IFLA_GROUP, GROUP);
	/* One queue each way (as netlab): the default, a queue per CPU cut
	 * to one after registration, waits for an RCU grace period. */
	mnl_attr_put_u32(h, IFLA_NUM_TX_QUEUES, 1);
	mnl_attr_put_u32(h, IFLA_NUM_RX_QUEUES, 1);
	if (ns >= 0)
		put_ns(h, ns);
	/* A star host's eth0: a MAC from its index, for --verify's static
	 * neighbours. */
	if (ns >= 0 && !chain && !strcmp(name, "eth0")) {
		uint8_t mac[6] = { 0x02, 0x4e, 0x4c, (uint8_t)(ns >> 16), (uint8_t)(ns >> 8), (uint8_t)ns };
		mnl_attr_put(h, IFLA_ADDRESS, sizeof(mac), mac);
	}
	struct nlattr *li = mnl_attr_nest_start(h, IFLA_LINKINFO);
	mnl_attr_put_strz(h, IFLA_INFO_KIND, "veth");
	struct nlattr *data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
	struct nlattr *pe = mnl_attr_nest_start(h, VETH_INFO_PEER);
	struct ifinfomsg *pifi = mnl_nlmsg_put_extra_header(h, sizeof(*pifi));
	pifi->ifi_index = pidx;
	mnl_attr_put_strz(h, IFLA_IFNAME, peer);
	mnl_attr_put_u32(h, IFLA_GROUP, GROUP);
	mnl_attr_put_u32(h, IFLA_NUM_TX_QUEUES, 1);
	mnl_attr_put_u32(h, IFLA_NUM_RX_QUEUES, 1);
	if (pns >= 0)
		put_ns(h, pns);
	mnl_attr_nest_end(h, pe);
	mnl_attr_nest_end(h, data);
	mnl_attr_nest_end(h, li);
	msg_end(b, h);
}

/* Raise (and optionally enslave) a link of the socket's netns by name. */
static void q_setlink_name(struct batch *b, const char *name, int master)
{
	struct nlmsghdr *h = msg_begin(b, RTM_NEWLINK, 0);
	link_hdr(h, 0, 1);
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	if (master)
		mnl_attr_put_u32(h, IFLA_MASTER, (uint32_t)master);
	msg_end(b, h);
}

static void q_up(struct batch *b, int ifindex)
{
	struct nlmsghdr *h = msg_begin(b, RTM_NEWLINK, 0);
	link_hdr(h, ifindex, 1);
	msg_end(b, h);
}

static void q_addr(struct batch *b, int ifindex, uint32_t addr, int plen)
{
	struct nlmsghdr *h = msg_begin(b, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)plen;
	ifa->ifa_index = (unsigned)ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	uint32_t a = htonl(addr);
	mnl_attr_put(h, IFA_LOCAL, 4, &a);
	mnl_attr_put(h, IFA_ADDRESS, 4, &a);
	msg_end(b, h);
}

static void q_route(struct batch *b, uint32_t dst, int plen, uint32_t gw)
{
	struct nlmsghdr *h = msg_begin(b, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	struct rtmsg *rt = mnl_nlmsg_put_extra_header(h, sizeof(*rt));
	rt->rtm_family = AF_INET;
	rt->rtm_dst_len = (unsigned char)plen;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = RTPROT_STATIC;
	rt->rtm_scope = RT_SCOPE_UNIVERSE;
	rt->rtm_type = RTN_UNICAST;
	uint32_t d = htonl(dst), g = htonl(gw);
	if (plen)
		mnl_attr_put(h, RTA_DST, 4, &d);
	mnl_attr_put(h, RTA_GATEWAY, 4, &g);
	msg_end(b, h);
}

static void q_del_group(struct batch *b)
{
	struct nlmsghdr *h = msg_begin(b, RTM_DELLINK, 0);
	link_hdr(h, 0, 0);
	mnl_attr_put_u32(h, IFLA_GROUP, GROUP);
	msg_end(b, h);
}

/* ---- addressing (the same as scripts/bench.sh gives netlab) -------------- */

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))
/* star host i (1-based): 10.(i/65536).(i/256%256).(i%256)/8 */
static uint32_t star_addr(int i) { return IP4(10, i / 65536, i / 256 % 256, i % 256); }
/* chain link k (1-based, between rk and rk+1): 10.(k/16384).(k/64%256).(k%64*4)/30;
 * rk has .1 on eth1, rk+1 has .2 on eth0 */
static uint32_t chain_net(int k) { return IP4(10, k / 16384, k / 64 % 256, k % 64 * 4); }

/* ---- namespaces and processes -------------------------------------------- */

static int open_ns(const char *base, const char *kind)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/%s", base, kind);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s", p);
	return fd;
}

static void to_net(int fd)
{
	if (setns(fd, CLONE_NEWNET) < 0)
		die("setns(CLONE_NEWNET)");
}

static int sos;       /* star of stars: a core bridge, a leaf bridge per SOS_LEAF hosts */
#define SOS_LEAF 1000 /* a Linux bridge takes at most 1024 ports */
static int by_pid;    /* full: nodes are reached through their pid, no fd is held per node */
static int ready_r = -1, ready_w = -1; /* full: each node writes a byte once it is set up */

static void put_ns(struct nlmsghdr *h, int node)
{
	if (by_pid)
		mnl_attr_put_u32(h, IFLA_NET_NS_PID, (uint32_t)nodes[node].pid);
	else
		mnl_attr_put_u32(h, IFLA_NET_NS_FD, (uint32_t)nodes[node].net);
}

/* Node i's netns gets the id nsid in the socket's (the lab's) netns,
 * each smaller than the one before: every notification about a switch
 * port names its peer's netns by that id, which the kernel finds by
 * walking the lab's ids in ascending order (as netlab: its apply.c). */
#define NSID_FIRST (1 << 30)

static void q_nsid(struct batch *b, int node, int nsid)
{
	struct nlmsghdr *h = msg_begin(b, RTM_NEWNSID, 0);
	struct rtgenmsg *g = mnl_nlmsg_put_extra_header(h, sizeof(*g));
	g->rtgen_family = AF_UNSPEC;
	mnl_attr_put_u32(h, NETNSA_NSID, (uint32_t)nsid);
	if (by_pid)
		mnl_attr_put_u32(h, NETNSA_PID, (uint32_t)nodes[node].pid);
	else
		mnl_attr_put_u32(h, NETNSA_FD, (uint32_t)nodes[node].net);
	msg_end(b, h);
}

/* The node's netns, opened now (the caller closes it). */
static int node_netns(int i)
{
	char path[64];
	if (!by_pid)
		return dup(nodes[i].net);
	snprintf(path, sizeof(path), "/proc/%d/ns", (int)nodes[i].pid);
	return open_ns(path, "net");
}
static int pipe_r = -1, pipe_w = -1;

static void write_sysctl(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		die("write %s", path);
	close(fd);
}

/* A chain router forwards, and answers with TTL 255 so that replies
 * cross long chains (the default 64 would die after 64 hops). */
static void write_forward(void)
{
	write_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
	write_sysctl("/proc/sys/net/ipv4/ip_default_ttl", "255");
}

/* Called with the thread in node i's netns. */
static void node_net_setup(int i)
{
	nodes[i].nl = nl_open();
	if (chain)
		write_forward();
}

static void make_ns_nodes(void)
{
	char name[32];

	for (int i = 0; i < n_nodes; i++) {
		if (unshare(CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNS) < 0)
			die("unshare (node %d)", i + 1);
		snprintf(name, sizeof(name), "%c%d", chain ? 'r' : 'h', i + 1);
		if (sethostname(name, strlen(name)) < 0)
			die("sethostname");
		nodes[i].net = open_ns("/proc/self/ns", "net");
		nodes[i].uts = open_ns("/proc/self/ns", "uts");
		nodes[i].ipc = open_ns("/proc/self/ns", "ipc");
		nodes[i].mnt = open_ns("/proc/self/ns", "mnt");
		node_net_setup(i);
		to_net(lab_net);
	}
}

static pid_t clone3_flags(uint64_t flags)
{
	struct clone_args a = { .flags = flags, .exit_signal = SIGCHLD };
	return (pid_t)syscall(SYS_clone3, &a, sizeof(a));
}

static void make_proc_nodes(uint64_t flags, int full)
{
	char name[32], path[64];

	for (int i = 0; i < n_nodes; i++) {
		pid_t pid = clone3_flags(flags);
		if (pid < 0)
			die("clone3 (node %d)", i + 1);
		if (pid == 0) {
			close(pipe_w);
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (full) {
				snprintf(name, sizeof(name), "%c%d", chain ? 'r' : 'h', i + 1);
				if (sethostname(name, strlen(name)) < 0)
					_exit(5);
				/* Sysctls through a procfs of its own (one /proc
				 * shared by thousands of network namespaces makes
				 * every lookup walk them all): no IPv6 at all (a
				 * floor: less than netlab's quiet link-local, whose
				 * reports and solicitations it contains), and a
				 * router forwards. */
				if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
				    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
					_exit(3);
				write_sysctl("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
				write_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
				if (chain)
					write_forward();
				if (write(ready_w, "r", 1) != 1)
					_exit(4);
			}
			char c;
			while (read(pipe_r, &c, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
		nodes[i].pid = pid;
	}
	(void)path;
}

/* full: every node process has set itself up. */
static void wait_ready(void)
{
	char buf[4096];
	long left = n_nodes;

	close(ready_w);
	ready_w = -1;
	while (left > 0) {
		ssize_t r = read(ready_r, buf, sizeof(buf) < (size_t)left ? sizeof(buf) : (size_t)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("a node process failed to set itself up");
		left -= r;
	}
}

static void reap_all(void)
{
	if (pipe_w >= 0) {
		close(pipe_w);
		pipe_w = -1;
	}
	for (int i = 0; i < n_nodes; i++)
		if (nodes[i].pid > 0) {
			int st;
			while (waitpid(nodes[i].pid, &st, 0) < 0)
				if (errno != EINTR)
					die("waitpid %d", (int)nodes[i].pid);
			nodes[i].pid = 0;
		}
}

/* ---- the network --------------------------------------------------------- */

static double net_up(struct mnl_socket *lab_nl)
{
	struct batch b = { 0 };
	char name[32];
	double t0 = now_ms();

	if (!chain) {
		/* The star's bridge; a star of stars: the core (br0), then a
		 * leaf per SOS_LEAF hosts, each joined to the core by a veth. */
		int leaves = sos ? (n_nodes + SOS_LEAF - 1) / SOS_LEAF : 0;
		for (int k = 0; k <= leaves; k++)
			q_bridge(&b, BR_IFINDEX + k);
		for (int k = 1; k <= leaves; k++) {
			char up[16], dn[16];
			snprintf(up, sizeof(up), "up%d", k);
			snprintf(dn, sizeof(dn), "dn%d", k);
			q_veth(&b, up, 0, -1, 1, dn, 0, -1);
			q_setlink_name(&b, up, BR_IFINDEX);
			q_setlink_name(&b, dn, BR_IFINDEX + k);
		}
		for (int i = 0; i < n_nodes; i++) {
			snprintf(name, sizeof(name), "v%d", i + 1);
			q_nsid(&b, i, NSID_FIRST - i);
			q_veth(&b, "eth0", 2, i, 1, name, 0, -1);
			q_setlink_name(&b, name, sos ? BR_IFINDEX + 1 + i / SOS_LEAF : BR_IFINDEX);
		}
	} else {
		for (int i = 0; i + 1 < n_nodes; i++)
			q_veth(&b, "eth1", 3, i, 0, "eth0", 2, i + 1);
	}
	batch_send(lab_nl, &b, "lab netns batch");
	for (int i = 0; i < n_nodes; i++) {
		q_up(&b, 1);
		if (!chain) {
			q_addr(&b, 2, star_addr(i + 1), 8);
		} else {
			int k = i + 1; /* router rk */
			if (k > 1) {
				q_up(&b, 2);
				q_addr(&b, 2, chain_net(k - 1) + 2, 30);
			}
			if (k < n_nodes) {
				q_up(&b, 3);
				q_addr(&b, 3, chain_net(k) + 1, 30);
				q_route(&b, 0, 0, chain_net(k) + 2);
			}
			if (k > 2)
				q_route(&b, chain_net(1), 30, chain_net(k - 1) + 1);
		}
		snprintf(name, sizeof(name), "node %d batch", i + 1);
		if (by_pid) {
			/* Nothing is held per node: its netns is entered for
			 * its socket, which goes once its batch is done. */
			int ns = node_netns(i);
			to_net(ns);
			close(ns);
			struct mnl_socket *nl = nl_open();
			to_net(lab_net);
			batch_send(nl, &b, name);
			mnl_socket_close(nl);
		} else {
			batch_send(nodes[i].nl, &b, name);
		}
	}
	free(b.buf);
	return now_ms() - t0;
}

static void net_down(struct mnl_socket *lab_nl)
{
	struct batch b = { 0 };

	if (!chain) {
		q_del_group(&b);
		batch_send(lab_nl, &b, "delete by group");
	}
	/* chain: no link has an end in the lab netns; the node-to-node veths
	 * go with their namespaces, which the kernel dismantles as a batch
	 * (a RTM_DELLINK per router costs an RCU grace period each: ~10 ms). */
	free(b.buf);
}

static void close_nodes(void)
{
	for (int i = 0; i < n_nodes; i++) {
		if (nodes[i].nl)
			mnl_socket_close(nodes[i].nl);
		nodes[i].nl = NULL;
		int *fds[] = { &nodes[i].net, &nodes[i].uts, &nodes[i].ipc, &nodes[i].mnt };
		for (size_t j = 0; j < sizeof(fds) / sizeof(fds[0]); j++)
			if (*fds[j] >= 0) {
				close(*fds[j]);
				*fds[j] = -1;
			}
	}
}

/* Run argv in node i's netns (a forked child); its exit status. */
static int run_in(int i, char *const *argv)
{
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int ns = node_netns(i);
		if (ns < 0 || setns(ns, CLONE_NEWNET) < 0)
			_exit(126);
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid %s", argv[0]);
	return st;
}

/* Star hosts i and j know each other's MAC, and the switches know where
 * both are: a broadcast (ARP) or an unknown unicast crossing thousands
 * of bridge ports overflows the CPU's backlog (net.core.
 * netdev_max_backlog, 1000 by default) and is dropped at the last
 * ports. */
static void neighbours(int i, int j)
{
	for (int k = 0; k < 2; k++) {
		int from = k ? j : i, to = k ? i : j;
		char a[INET_ADDRSTRLEN], mac[32];
		uint32_t na = htonl(star_addr(to + 1));
		inet_ntop(AF_INET, &na, a, sizeof(a));
		snprintf(mac, sizeof(mac), "02:4e:4c:%02x:%02x:%02x", (to >> 16) & 255, (to >> 8) & 255, to & 255);
		char *argv[] = { "ip", "neigh", "replace", a, "dev", "eth0", "lladdr", mac, NULL };
		if (run_in(from, argv) != 0)
			die("verify: static neighbour %s in node %d", a, from + 1);
	}
	/* The switches learn where i is (a floor node sends nothing of its
	 * own): one ping from i, which may itself be lost in a flood. */
	char a[INET_ADDRSTRLEN];
	uint32_t na = htonl(star_addr(j + 1));
	inet_ntop(AF_INET, &na, a, sizeof(a));
	char *argv[] = { "ping", "-c", "1", "-W", "1", a, NULL };
	run_in(i, argv);
}

/* Ping from node `from` to addr in a child that enters from's netns. */
static void verify(int from, uint32_t addr)
{
	char a[INET_ADDRSTRLEN];
	uint32_t na = htonl(addr);
	inet_ntop(AF_INET, &na, a, sizeof(a));
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int ns = node_netns(from);
		if (ns < 0 || setns(ns, CLONE_NEWNET) < 0)
			_exit(126);
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0) {
			dup2(devnull, 1);
		}
		execlp("ping", "ping", "-c", "1", "-t", "255", "-W", "3", a, (char *)NULL);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid ping");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		errno = 0;
		die("verify: ping from node %d to %s failed (status %d)", from + 1, a, st);
	}
}

/* One ping from node `from`, its result ignored: the switches learn
 * where that node is, so that the verifying ping's request to it is not
 * flooded.  A flood reaches a bridge's ports newest first, one frame per
 * port into the CPU's backlog: with 1000 ports it is at the backlog's
 * limit (net.core.netdev_max_backlog, 1000), and the first host, the
 * oldest port, is the one whose frame is dropped. */
static void prime(int from, uint32_t addr)
{
	char a[INET_ADDRSTRLEN];
	uint32_t na = htonl(addr);
	inet_ntop(AF_INET, &na, a, sizeof(a));
	char *argv[] = { "ping", "-c", "1", "-W", "1", a, NULL };
	(void)run_in(from, argv);
}

/* Four tries, each after a new prime() from the node pinged (`to`, whose
 * address is addr) towards `peer`: a frame flooded across thousands of
 * ports may be lost (see neighbours()), the priming one included, and on
 * a busy machine (the kernel still tearing down the last run's
 * namespaces) one round can miss.  A lab that does not work fails all
 * four. */
static void verify_tries(int from, uint32_t addr, int to, uint32_t peer)
{
	char a[INET_ADDRSTRLEN];
	uint32_t na = htonl(addr);
	inet_ntop(AF_INET, &na, a, sizeof(a));
	char *argv[] = { "ping", "-c", "1", "-t", "255", "-W", "3", a, NULL };
	for (int i = 0; i < 3; i++) {
		prime(to, peer);
		if (run_in(from, argv) == 0)
			return;
	}
	prime(to, peer);
	verify(from, addr);
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-floor net star|chain N [--verify]\n"
			"       bench-floor full star|sos|chain N [--userns] [--verify]\n"
			"       bench-floor procs N [--userns]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int ai = 1, userns = 0, do_verify = 0;
	const char *mode, *topo = "none";

	if (argc < 3)
		usage();
	mode = argv[ai++];
	if (strcmp(mode, "procs") != 0) {
		topo = argv[ai++];
		if (!strcmp(topo, "chain"))
			chain = 1;
		else if (!strcmp(topo, "sos"))
			sos = 1;
		else if (strcmp(topo, "star") != 0)
			usage();
	}
	if (ai >= argc)
		usage();
	char *end;
	long n = strtol(argv[ai++], &end, 10);
	if (*end || n < 1 || n > 100000)
		usage();
	for (; ai < argc; ai++) {
		if (!strcmp(argv[ai], "--userns"))
			userns = 1;
		else if (!strcmp(argv[ai], "--verify"))
			do_verify = 1;
		else
			usage();
	}
	int is_net = !strcmp(mode, "net"), is_full = !strcmp(mode, "full"), is_procs = !strcmp(mode, "procs");
	if (!is_net && !is_full && !is_procs)
		usage();
	if ((chain && n < 2) || (sos && !is_full) || (!sos && !chain && n > SOS_LEAF && !is_procs))
		usage();
	n_nodes = (int)n;
	by_pid = is_full;

	/* `net` holds five fds per node; `full` none (as netlab's
	 * supervisor: a 10,000-node lab under a limit of 20,000). */
	if (is_net) {
		struct rlimit rl = { .rlim_cur = (rlim_t)n * 6 + 256, .rlim_max = (rlim_t)n * 6 + 256 };
		struct rlimit cur;
		getrlimit(RLIMIT_NOFILE, &cur);
		if (cur.rlim_max > rl.rlim_max)
			rl.rlim_max = cur.rlim_max;
		if (cur.rlim_cur < rl.rlim_cur && setrlimit(RLIMIT_NOFILE, &rl) < 0)
			die("setrlimit(RLIMIT_NOFILE, %lu)", (unsigned long)rl.rlim_cur);
	}

	nodes = calloc((size_t)n_nodes, sizeof(*nodes));
	if (!nodes)
		die("out of memory");
	for (int i = 0; i < n_nodes; i++)
		nodes[i].net = nodes[i].uts = nodes[i].ipc = nodes[i].mnt = -1;

	/* Our own mount namespace with private propagation (node mount
	 * namespaces copy it; nothing here touches the caller's), and a
	 * private lab netns holding the switch, as netlab's supervisor does. */
	if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0)
		die("unshare (lab namespaces)");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("make / private");
	lab_net = open_ns("/proc/self/ns", "net");
	/* No IPv6 in the lab netns (as netlab): its thousands of bridge
	 * ports need no addresses, reports or solicitations of their own. */
	write_sysctl("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	write_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	int orig_uts = open_ns("/proc/self/ns", "uts"), orig_ipc = open_ns("/proc/self/ns", "ipc"),
	    orig_mnt = open_ns("/proc/self/ns", "mnt");
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		die("pipe2");
	pipe_r = pfd[0];
	pipe_w = pfd[1];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		die("pipe2");
	ready_r = pfd[0];
	ready_w = pfd[1];

	uint64_t flags = CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWCGROUP;
	if (userns)
		flags |= CLONE_NEWUSER;

	if (is_procs) {
		double t0 = now_ms();
		make_proc_nodes(flags, 0);
		double t1 = now_ms();
		reap_all();
		double t2 = now_ms();
		printf("floor mode=procs userns=%d n=%d up_ms=%.1f down_ms=%.1f\n", userns, n_nodes, t1 - t0,
		       t2 - t1);
		return 0;
	}

	double t0 = now_ms();
	struct mnl_socket *lab_nl = nl_open();
	nl_bufs(lab_nl, 64 << 20);
	if (is_net) {
		make_ns_nodes();
		if (setns(orig_uts, CLONE_NEWUTS) < 0 || setns(orig_ipc, CLONE_NEWIPC) < 0 ||
		    setns(orig_mnt, CLONE_NEWNS) < 0)
			die("setns back to the lab's uts/ipc/mnt");
	} else {
		make_proc_nodes(flags, 1);
	}
	double t_ns = now_ms();
	double nl_ms = net_up(lab_nl);
	if (is_full)
		wait_ready();
	double t1 = now_ms();

	if (do_verify) {
		if (chain) /* IPv4 TTL is at most 255: r1 reaches at most ~254 hops */
			verify(0, chain_net((n_nodes < CHAIN_PING_MAX ? n_nodes : CHAIN_PING_MAX) - 1) + 2);
		else if (n_nodes > 1)
			neighbours(0, n_nodes - 1), verify_tries(n_nodes - 1, star_addr(1), 0, star_addr(n_nodes));
	}

	double t2 = now_ms();
	net_down(lab_nl);
	double t_links = now_ms();
	close_nodes();
	reap_all();
	mnl_socket_close(lab_nl);
	double t3 = now_ms();
	printf("floor mode=%s topo=%s userns=%d n=%d up_ms=%.1f down_ms=%.1f ns_ms=%.1f nl_ms=%.1f "
	       "dellink_ms=%.1f verified=%d\n",
	       mode, topo, userns, n_nodes, t1 - t0, t3 - t2, t_ns - t0, nl_ms, t_links - t2, do_verify);
	return 0;
}
