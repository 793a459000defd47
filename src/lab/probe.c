/* Probes that run inside a node (probe.h).  Each function is called in a
 * process that joined the node, never in the netlab command itself. */
#include "lab/probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/icmp.h>
#include <linux/rtnetlink.h>

#include "net/nlsock.h"
#include "node/creds.h"
#include "topo/addr.h"
#include "util/cleanup.h"
#include "util/time.h"

#define RESEND_MS 250

/* ---- ICMP echo --------------------------------------------------------- */

struct echo {
	uint16_t id;
	uint64_t cookie; /* in the payload: replies to other probes are not ours */
};

struct echo_payload {
	uint64_t cookie;
	uint64_t pad;
};

static uint16_t csum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

static int open_icmp(int family)
{
	int fd = socket(family, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
			family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);

	if (fd < 0)
		return -1;
	/* Only what can answer an echo: the reply and the errors. */
	if (family == AF_INET) {
		struct icmp_filter f = { ~((1u << ICMP_ECHOREPLY) | (1u << ICMP_DEST_UNREACH) |
					   (1u << ICMP_TIME_EXCEEDED)) };
		setsockopt(fd, SOL_RAW, ICMP_FILTER, &f, sizeof(f));
	} else {
		struct icmp6_filter f;
		ICMP6_FILTER_SETBLOCKALL(&f);
		ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
		ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &f);
		ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &f);
		setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
	}
	return fd;
}

static void send_echo(int fd, const struct echo *e, struct probe_addr *a, uint16_t seq)
{
	uint8_t pkt[sizeof(struct icmphdr) + sizeof(struct echo_payload)] = { 0 };
	struct icmphdr *h = (struct icmphdr *)pkt;
	struct echo_payload pl = { .cookie = e->cookie };
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;

	h->type = a->family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
	h->un.echo.id = htons(e->id);
	h->un.echo.sequence = htons(seq);
	memcpy(pkt + sizeof(*h), &pl, sizeof(pl));
	/* IPv4: ours to sum; ICMPv6: the kernel sums (pseudo-header). */
	if (a->family == AF_INET)
		h->checksum = csum(pkt, sizeof(pkt));
	if (a->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a->addr, 4);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a->addr, 16);
		sl = sizeof(*s6);
	}
	if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&ss, sl) < 0 && !a->answered)
		snprintf(a->why, sizeof(a->why), "%s",
			 errno == ENETUNREACH	 ? "no route to it (network unreachable)"
			 : errno == EHOSTUNREACH ? "unreachable (no route to host)"
						 : strerror(errno));
}

static const char *unreach_text(int family, int type, int code)
{
	if (family == AF_INET && type == ICMP_TIME_EXCEEDED)
		return "TTL exceeded (a routing loop?)";
	if (family == AF_INET6 && type == ICMP6_TIME_EXCEEDED)
		return "hop limit exceeded (a routing loop?)";
	if (family == AF_INET) {
		switch (code) {
		case ICMP_NET_UNREACH:
			return "network unreachable";
		case ICMP_HOST_UNREACH:
			return "host unreachable";
		case ICMP_PKT_FILTERED:
			return "administratively prohibited (a firewall rejects it)";
		default:
			return "destination unreachable";
		}
	}
	switch (code) {
	case ICMP6_DST_UNREACH_NOROUTE:
		return "no route";
	case ICMP6_DST_UNREACH_ADMIN:
		return "administratively prohibited (a firewall rejects it)";
	case ICMP6_DST_UNREACH_ADDR:
		return "address unreachable";
	default:
		return "destination unreachable";
	}
}

/* One received ICMP message of family: a reply or an error about one of
 * our echoes. */
static void on_icmp(int family, const uint8_t *buf, size_t len, const void *from, const struct echo *e,
		    struct probe_addr *a, size_t n)
{
	if (family == AF_INET) {
		const struct iphdr *ip = (const struct iphdr *)buf;
		size_t hl = (size_t)ip->ihl * 4;
		if (len < sizeof(*ip) || len < hl + 8)
			return;
		buf += hl;
		len -= hl;
	}
	const struct icmphdr *h = (const struct icmphdr *)buf;
	bool reply = family == AF_INET ? h->type == ICMP_ECHOREPLY : h->type == ICMP6_ECHO_REPLY;
	if (reply) {
		struct echo_payload pl;
		uint16_t seq = ntohs(h->un.echo.sequence);
		if (len < sizeof(*h) + sizeof(pl) || ntohs(h->un.echo.id) != e->id || seq >= n)
			return;
		memcpy(&pl, buf + sizeof(*h), sizeof(pl));
		if (pl.cookie != e->cookie || a[seq].family != family || !addr_equal(family, a[seq].addr, from))
			return;
		a[seq].answered = true;
		a[seq].why[0] = '\0';
		return;
	}
	/* An error quotes our request: its IP header, then the echo. */
	size_t inner = family == AF_INET ? 0 : 40;
	if (family == AF_INET) {
		if (len < sizeof(*h) + sizeof(struct iphdr))
			return;
		const struct iphdr *ip = (const struct iphdr *)(buf + sizeof(*h));
		inner = (size_t)ip->ihl * 4;
	}
	if (len < sizeof(*h) + inner + 8)
		return;
	const struct icmphdr *q = (const struct icmphdr *)(buf + sizeof(*h) + inner);
	uint16_t seq = ntohs(q->un.echo.sequence);
	if (ntohs(q->un.echo.id) != e->id || seq >= n || a[seq].answered || a[seq].family != family)
		return;
	char src[64];
	addr_format(family, from, src, sizeof(src));
	snprintf(a[seq].why, sizeof(a[seq].why), "%s (ICMP from %s)", unreach_text(family, h->type, h->code), src);
}

static void drain_icmp(int fd, int family, const struct echo *e, struct probe_addr *a, size_t n)
{
	uint8_t buf[2048];
	struct sockaddr_storage ss;

	for (;;) {
		socklen_t sl = sizeof(ss);
		ssize_t r = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&ss, &sl);
		if (r < 0)
			return;
		const void *from = family == AF_INET ? (const void *)&((struct sockaddr_in *)&ss)->sin_addr
						     : (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
		on_icmp(family, buf, (size_t)r, from, e, a, n);
	}
}

static size_t count_answered(const struct probe_addr *a, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += a[i].answered;
	return k;
}

int probe_icmp(struct probe_addr *a, size_t n, int timeout_ms, char *err, size_t errlen)
{
	struct echo e;
	int fd[2] = { -1, -1 };
	int64_t t0 = now_ms(), next = t0;

	if (n > 65535)
		n = 65535;
	if (getrandom(&e.cookie, sizeof(e.cookie), 0) < 0)
		e.cookie = (uint64_t)t0 ^ (uint64_t)getpid() << 32;
	e.id = (uint16_t)(e.cookie >> 48 ^ (uint64_t)getpid());
	for (size_t i = 0; i < n; i++) {
		int k = a[i].family == AF_INET6;
		a[i].answered = false;
		snprintf(a[i].why, sizeof(a[i].why), "timed out after %d.%d s", timeout_ms / 1000,
			 timeout_ms % 1000 / 100);
		if (fd[k] < 0 && (fd[k] = open_icmp(a[i].family)) < 0) {
			snprintf(err, errlen, "raw ICMP socket: %s", strerror(errno));
			if (fd[!k] >= 0)
				close(fd[!k]);
			return -1;
		}
	}
	for (;;) {
		int64_t now = now_ms();
		if (count_answered(a, n) == n || now - t0 >= timeout_ms)
			break;
		if (now >= next) {
			for (size_t i = 0; i < n; i++)
				if (!a[i].answered)
					send_echo(fd[a[i].family == AF_INET6], &e, &a[i], (uint16_t)i);
			next = now + RESEND_MS;
		}
		int64_t wait = next - now;
		if (t0 + timeout_ms - now < wait)
			wait = t0 + timeout_ms - now;
		struct pollfd p[2] = { { fd[0], POLLIN, 0 }, { fd[1], POLLIN, 0 } };
		if (poll(p, 2, (int)(wait > 0 ? wait : 0)) < 0 && errno != EINTR)
			break;
		for (int k = 0; k < 2; k++)
			if (fd[k] >= 0 && p[k].revents)
				drain_icmp(fd[k], k ? AF_INET6 : AF_INET, &e, a, n);
	}
	for (int k = 0; k < 2; k++)
		if (fd[k] >= 0)
			close(fd[k]);
	return (int)count_answered(a, n);
}

/* ---- TCP connect ------------------------------------------------------- */

int probe_tcp(struct probe_addr *a, size_t n, int port, int timeout_ms, char *err, size_t errlen)
{
	cleanup_free int *fd = calloc(n + 1, sizeof(int));
	cleanup_free struct pollfd *p = calloc(n + 1, sizeof(*p));
	int64_t t0 = now_ms();
	size_t open = 0;

	if (!fd || !p) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct sockaddr_storage ss = { 0 };
		socklen_t sl;
		a[i].answered = false;
		snprintf(a[i].why, sizeof(a[i].why), "timed out after %d.%d s", timeout_ms / 1000,
			 timeout_ms % 1000 / 100);
		fd[i] = socket(a[i].family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd[i] < 0) {
			snprintf(a[i].why, sizeof(a[i].why), "socket: %s", strerror(errno));
			continue;
		}
		if (a[i].family == AF_INET) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
			s4->sin_family = AF_INET;
			s4->sin_port = htons((uint16_t)port);
			memcpy(&s4->sin_addr, a[i].addr, 4);
			sl = sizeof(*s4);
		} else {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((uint16_t)port);
			memcpy(&s6->sin6_addr, a[i].addr, 16);
			sl = sizeof(*s6);
		}
		if (connect(fd[i], (struct sockaddr *)&ss, sl) == 0) {
			a[i].answered = true;
			a[i].why[0] = '\0';
		} else if (errno == EINPROGRESS) {
			open++;
			continue;
		} else {
			snprintf(a[i].why, sizeof(a[i].why), "%s",
				 errno == ECONNREFUSED ? "connection refused" : strerror(errno));
		}
		close(fd[i]);
		fd[i] = -1;
	}
	while (open > 0) {
		int64_t left = t0 + timeout_ms - now_ms();
		if (left <= 0)
			break;
		for (size_t i = 0; i < n; i++)
			p[i] = (struct pollfd){ .fd = fd[i], .events = POLLOUT };
		if (poll(p, n, (int)left) < 0 && errno != EINTR)
			break;
		for (size_t i = 0; i < n; i++) {
			int e = 0;
			socklen_t el = sizeof(e);
			if (fd[i] < 0 || !p[i].revents)
				continue;
			getsockopt(fd[i], SOL_SOCKET, SO_ERROR, &e, &el);
			if (!e) {
				a[i].answered = true;
				a[i].why[0] = '\0';
			} else {
				snprintf(a[i].why, sizeof(a[i].why), "%s",
					 e == ECONNREFUSED   ? "connection refused (reset)"
					 : e == EHOSTUNREACH ? "unreachable (no route to host)"
					 : e == ENETUNREACH  ? "unreachable (network unreachable)"
							     : strerror(e));
			}
			close(fd[i]);
			fd[i] = -1;
			open--;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	return (int)count_answered(a, n);
}

/* ---- the routing table ------------------------------------------------- */

struct route_find {
	const struct topo_expect *e;
	bool found, via_ok;
	char seen_via[64];
};

static bool same_gw(const struct route_find *f, const struct nlattr *a)
{
	size_t len = addr_len(f->e->prefix.family);

	return mnl_attr_get_payload_len(a) == len && memcmp(mnl_attr_get_payload(a), f->e->via, len) == 0;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_find *f = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	uint32_t table;
	bool dst_ok;
	uint8_t dst[16] = { 0 };

	if (nlh->nlmsg_type != RTM_NEWROUTE || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)) ||
	    rtm->rtm_family != f->e->prefix.family || rtm->rtm_dst_len != f->e->prefix.prefixlen ||
	    rtm->rtm_type != RTN_UNICAST)
		return MNL_CB_OK;
	table = rtm->rtm_table;
	bool gw = false, gw_ok = false;
	mnl_attr_for_each(a, nlh, sizeof(*rtm))
	{
		switch (mnl_attr_get_type(a)) {
		case RTA_TABLE:
			if (mnl_attr_get_payload_len(a) == 4)
				table = mnl_attr_get_u32(a);
			break;
		case RTA_DST:
			if (mnl_attr_get_payload_len(a) <= sizeof(dst))
				memcpy(dst, mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
			break;
		case RTA_GATEWAY:
			gw = true;
			gw_ok |= same_gw(f, a);
			if (!gw_ok)
				addr_format(f->e->prefix.family, mnl_attr_get_payload(a), f->seen_via,
					    sizeof(f->seen_via));
			break;
		case RTA_MULTIPATH: {
			/* Each next hop: struct rtnexthop, then its attributes. */
			const char *p = mnl_attr_get_payload(a), *end = p + mnl_attr_get_payload_len(a);
			while (p + sizeof(struct rtnexthop) <= end) {
				const struct rtnexthop *nh = (const struct rtnexthop *)p;
				if (nh->rtnh_len < sizeof(*nh) || p + nh->rtnh_len > end)
					break;
				const char *q = p + RTNH_ALIGN(sizeof(*nh));
				while (q + sizeof(struct nlattr) <= p + nh->rtnh_len) {
					const struct nlattr *na = (const struct nlattr *)q;
					if (na->nla_len < sizeof(*na))
						break;
					if (mnl_attr_get_type(na) == RTA_GATEWAY) {
						gw = true;
						gw_ok |= same_gw(f, na);
					}
					q += MNL_ALIGN(na->nla_len);
				}
				p += RTNH_ALIGN(nh->rtnh_len);
			}
			break;
		}
		default:
			break;
		}
	}
	dst_ok = addr_equal(f->e->prefix.family, dst, f->e->prefix.addr);
	if (table != RT_TABLE_MAIN || !dst_ok)
		return MNL_CB_OK;
	f->found = true;
	if (!f->e->has_via || gw_ok)
		f->via_ok = true;
	else if (!gw)
		snprintf(f->seen_via, sizeof(f->seen_via), "on-link");
	return MNL_CB_OK;
}

int probe_route(const struct topo_expect *e, char *why, size_t len)
{
	struct nlab_nl *nl = NULL;
	nlab_error *err = NULL;
	struct route_find f = { .e = e };
	char buf[128], pfx[64], via[64];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_DUMP;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)e->prefix.family;
	if (nlab_nl_open(&nl, &err) < 0 || nlab_nl_request(nl, nlh, route_cb, &f, &err) < 0) {
		snprintf(why, len, "%s", err ? err->msg : "netlink");
		nlab_error_free(&err);
		nlab_nl_close(nl);
		return -1;
	}
	nlab_nl_close(nl);
	if (f.found && f.via_ok)
		return 1;
	cidr_format(&e->prefix, pfx, sizeof(pfx));
	if (!f.found) {
		snprintf(why, len, "no route to %s in the main table", pfx);
	} else {
		addr_format(e->prefix.family, e->via, via, sizeof(via));
		snprintf(why, len, "the route to %s is %s%s, not via %s", pfx,
			 strcmp(f.seen_via, "on-link") ? "via " : "", f.seen_via, via);
	}
	return 0;
}

/* ---- a command --------------------------------------------------------- */

int probe_exec(const char *cmd, const char *dir, bool has_user, uint32_t uid, uint32_t gid, int timeout_ms, char *why,
	       size_t len)
{
	int out[2];
	char tail[160] = "";
	size_t tl = 0;
	int status;

	if (pipe2(out, O_CLOEXEC) < 0) {
		snprintf(why, len, "pipe: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(why, len, "fork: %s", strerror(errno));
		close(out[0]);
		close(out[1]);
		return -1;
	}
	if (pid == 0) {
		setpgid(0, 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (devnull >= 0)
			dup2(devnull, 0);
		if (!dir || chdir(dir) < 0)
			(void)!chdir("/");
		if ((has_user && creds_become(uid, gid, NULL) < 0) || creds_clear_inheritable(NULL) < 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	int64_t deadline = now_ms() + timeout_ms;
	bool timed_out = false;
	for (;;) {
		char buf[512];
		int64_t left = deadline - now_ms();
		struct pollfd p = { out[0], POLLIN, 0 };
		if (left <= 0) {
			timed_out = true;
			break;
		}
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		ssize_t r = read(out[0], buf, sizeof(buf));
		if (r <= 0)
			break;
		/* Keep the end of the output: the message that explains. */
		for (ssize_t k = 0; k < r; k++) {
			if (tl == sizeof(tail) - 1) {
				memmove(tail, tail + 1, tl - 1);
				tl--;
			}
			tail[tl++] = buf[k] == '\n' ? ' ' : buf[k];
		}
		tail[tl] = '\0';
	}
	close(out[0]);
	if (timed_out)
		kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(why, len, "waitpid: %s", strerror(errno));
			return -1;
		}
	if (timed_out) {
		snprintf(why, len, "still running after %d.%d s (killed)", timeout_ms / 1000, timeout_ms % 1000 / 100);
		return 0;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 1;
	while (tl && tail[tl - 1] == ' ')
		tail[--tl] = '\0';
	if (WIFEXITED(status))
		snprintf(why, len, "exited %d%s%s", WEXITSTATUS(status), tl ? ": " : "", tail);
	else
		snprintf(why, len, "killed by signal %d%s%s", WTERMSIG(status), tl ? ": " : "", tail);
	return 0;
}
