#include "supervisor/supervisor.h"

#include <alloca.h>
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net/address.h"
#include "net/bridge.h"
#include "net/link.h"
#include "net/link_veth.h"
#include "net/netns.h"
#include "net/nlsock.h"
#include "net/route.h"
#include "net/sysctl.h"
#include "plan/firewall.h"
#include "node/cgroup.h"
#include "supervisor/hosts.h"
#include "node/init.h"
#include "node/nodefs.h"
#include "plan/plan.h"
#include "node/spawn.h"
#include "lab/state.h"
#include "node/userns.h"
#include "topo/addr.h"
#include "util/cleanup.h"
#include "util/fsutil.h"

struct sup_node {
	const struct topo_node *tn;
	size_t index;           /* in topology.nodes */
	pid_t pid;
	int pidfd;
	int netns_fd;
	int ctl;
	bool exited, replied;
	uint32_t uid_base, gid_base;    /* user namespace slot */
	struct proc_id init_id;
	char **cgroups;                 /* its cgroup directories */
	size_t ncgroups;
};

struct sup {
	const struct topology *t;
	const struct sup_options *o;
	char dir[4096];
	char alternatives[4200];        /* the lab's /etc/alternatives copy, or "" */
	struct lab_plan plan;
	int host_netns;
	struct nlab_nl *host_nl, *lab_nl;
	struct sup_node *nodes;
	size_t nnodes;
	struct sup_node **by_index;     /* topology node index -> node, NULL for host */
	struct lab_state st;
	struct cgroup_lab cg;
	char phases[512];               /* "name=ms ..." for `up --timing` */
	size_t phases_len;
	int64_t phase_t0;
	struct init_arg *init_args;     /* per node, inherited by the inits */
};

static void status(struct sup *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void status(struct sup *s, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	int n;

	if (s->o->status_fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	write_all(s->o->status_fd, buf, (size_t)n);
}

static int64_t now_ms(void);

/* Close a phase of setup: its wall time goes into the "O" line. */
static void phase_done(struct sup *s, const char *name)
{
	int64_t t = now_ms();
	int n = snprintf(s->phases + s->phases_len, sizeof(s->phases) - s->phases_len, " %s=%lld", name,
			 (long long)(t - s->phase_t0));
	if (n > 0 && (size_t)n < sizeof(s->phases) - s->phases_len)
		s->phases_len += (size_t)n;
	s->phase_t0 = t;
}

/* "P PHASE DONE TOTAL" lines for `netlab up`'s progress bar, at most one
 * per percent of a phase. */
static void progress(struct sup *s, const char *phase, size_t done, size_t total)
{
	if (!s->o->progress || !total)
		return;
	if (done != total && done * 100 / total == (done - 1) * 100 / total)
		return;
	status(s, "P %s %zu %zu", phase, done, total);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *topo_file(const struct sup *s)
{
	return s->t->file;
}

/* ---- nodes ---------------------------------------------------------- */

/* What a node's init needs, in memory it inherits (the node table does
 * not: see runtime/spawn.h). */
struct init_arg {
	const struct sup *s;
	const struct topo_node *tn;
};

/* The init: a private copy of memory, on the init stack. */
static void node_init_entry(void *p)
{
	const struct init_arg *a = p;
	const struct sup *s = a->s;
	char hosts[4200];

	snprintf(hosts, sizeof(hosts), "%s/hosts", s->dir);
	struct node_spec spec = {
		.t = s->t, .node = a->tn, .lab = s->o->lab, .ctl_fd = 3, .log_fd = 4,
		.hosts_path = hosts, .grace_ms = s->o->grace_ms,
		.alternatives_path = s->alternatives[0] ? s->alternatives : NULL,
	};
	node_init_main(&spec);
}

/* Start making one node (runtime/spawn.c). */
static int node_submit(struct sup *s, struct spawner *sp, struct sup_node *sn, nlab_error **err)
{
	int pair[2];
	char path[4200];

	snprintf(path, sizeof(path), "%s/logs/%s.log", s->dir, sn->tn->name);
	cleanup_close int log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (log_fd < 0)
		return nlab_error_set(err, errno, "open %s", path);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
		return nlab_error_set(err, errno, "socketpair");
	sn->ctl = pair[0];
	cleanup_close int ctl_child = pair[1];
	struct spawn_node_args a = {
		.tn = sn->tn,
		.userns = topo_node_userns(s->t, sn->tn),
		.uid_base = sn->uid_base,
		.gid_base = sn->gid_base,
		.cgroups = sn->cgroups,
		.ncgroups = sn->ncgroups,
		.ctl = ctl_child,
		.log = log_fd,
		.init = node_init_entry,
		.init_arg = &s->init_args[sn - s->nodes],
	};
	return spawner_submit(sp, &a, sn, err);
}

/* A node's init exists: the handles the supervisor keeps on it. */
static int node_started(struct sup_node *sn, pid_t pid, nlab_error **err)
{
	sn->pid = pid;
	proc_id_of(sn->pid, &sn->init_id);
	/* The init is our child (CLONE_PARENT): its pid cannot be reused
	 * before we reap it, so this pidfd is the right process. */
	sn->pidfd = (int)syscall(SYS_pidfd_open, sn->pid, 0);
	if (sn->pidfd < 0)
		return nlab_error_set(err, errno, "pidfd_open %d", (int)sn->pid);
	/* Its network namespace is opened once it reported ready
	 * (init_reply()): an init whose setup fails exits at once, and its
	 * own message says why better than a vanished /proc/PID/ns/net. */
	return 0;
}

/* Wait for one message from every node in `want`; handler returns -1 to
 * abort with *err set. */
typedef int (*reply_fn)(struct sup *s, struct sup_node *sn, const char *msg, nlab_error **err);

static int collect(struct sup *s, bool (*want)(const struct sup_node *), reply_fn fn, int timeout_ms,
		   nlab_error **err)
{
	struct pollfd *p = calloc(s->nnodes + 1, sizeof(*p));
	size_t *map = calloc(s->nnodes + 1, sizeof(*map));
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	int r = 0;

	if (!p || !map) {
		free(p);
		free(map);
		return nlab_error_set(err, ENOMEM, "collect replies");
	}
	for (size_t i = 0; i < s->nnodes; i++)
		s->nodes[i].replied = !want(&s->nodes[i]);
	for (;;) {
		size_t n = 0;
		for (size_t i = 0; i < s->nnodes; i++)
			if (!s->nodes[i].replied) {
				p[n] = (struct pollfd){ .fd = s->nodes[i].ctl, .events = POLLIN };
				map[n++] = i;
			}
		if (n == 0)
			break;
		int wait = -1;
		if (deadline) {
			int64_t left = deadline - now_ms();
			if (left <= 0) {
				r = nlab_error_set(err, ETIMEDOUT, "node %s did not answer in %d ms",
						   s->nodes[map[0]].tn->name, timeout_ms);
				break;
			}
			wait = (int)left;
		}
		int k = poll(p, n, wait);
		if (k < 0 && errno != EINTR) {
			r = nlab_error_set(err, errno, "poll");
			break;
		}
		for (size_t j = 0; j < n && r == 0; j++) {
			if (!p[j].revents)
				continue;
			struct sup_node *sn = &s->nodes[map[j]];
			char msg[1100];
			ssize_t len = TEMP_FAILURE_RETRY(recv(sn->ctl, msg, sizeof(msg) - 1, 0));
			if (len <= 0) {
				r = nlab_error_set(err, 0, "node %s (%s:%d): its init exited unexpectedly", sn->tn->name,
						   topo_file(s), sn->tn->pos.line);
				break;
			}
			msg[len] = '\0';
			sn->replied = true;
			if (msg[0] == 'F') {
				r = nlab_error_set(err, 0, "node %s (%s:%d): setup failed: %s", sn->tn->name,
						   topo_file(s), sn->tn->pos.line, msg + 2);
				break;
			}
			if (fn && fn(s, sn, msg, err) < 0)
				r = -1;
		}
		if (r < 0)
			break;
	}
	free(p);
	free(map);
	return r;
}

static bool want_all(const struct sup_node *sn)
{
	(void)sn;
	return true;
}

static bool want_exec(const struct sup_node *sn)
{
	for (size_t i = 0; i < sn->tn->cmds.n; i++)
		if (sn->tn->cmds.v[i].kind == TOPO_CMD_EXEC)
			return true;
	return false;
}

static bool want_run(const struct sup_node *sn)
{
	for (size_t i = 0; i < sn->tn->cmds.n; i++)
		if (sn->tn->cmds.v[i].kind == TOPO_CMD_RUN)
			return true;
	return false;
}

/* The last lines a failed command wrote, for the error message. */
static char *log_tail(struct sup *s, const struct sup_node *sn, off_t from)
{
	char path[4200];
	size_t len;

	snprintf(path, sizeof(path), "%s/logs/%s.log", s->dir, sn->tn->name);
	cleanup_free char *all = read_file(path, 1 << 20, &len);
	if (!all || (size_t)from > len)
		return strdup("");
	char *text = all + from;
	size_t tl = len - (size_t)from;
	/* Keep the last 10 lines, at most 2000 bytes. */
	int lines = 0;
	size_t start = tl;
	while (start > 0 && tl - start < 2000) {
		if (text[start - 1] == '\n' && start != tl && ++lines >= 10)
			break;
		start--;
	}
	char *out = NULL;
	if (asprintf(&out, "%.*s", (int)(tl - start), text + start) < 0)
		return NULL;
	return out;
}

static int exec_reply(struct sup *s, struct sup_node *sn, const char *msg, nlab_error **err)
{
	size_t idx;
	int wstatus;
	long long off;

	if (msg[0] == 'e')
		return 0;
	if (sscanf(msg, "x %zu %d %lld", &idx, &wstatus, &off) != 3 || idx >= sn->tn->cmds.n)
		return nlab_error_set(err, EPROTO, "node %s: bad reply '%s'", sn->tn->name, msg);
	const struct topo_cmd *c = &sn->tn->cmds.v[idx];
	cleanup_free char *tail = log_tail(s, sn, (off_t)off);
	char how[64];
	if (WIFEXITED(wstatus))
		snprintf(how, sizeof(how), "exit code %d", WEXITSTATUS(wstatus));
	else
		snprintf(how, sizeof(how), "signal %d (%s)", WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
	return nlab_error_set(err, 0, "node %s (%s:%d): exec '%s' failed with %s%s%s", sn->tn->name, topo_file(s),
			      c->pos.line, c->text, how, tail && *tail ? "; its output ends with:\n" : "",
			      tail ? tail : "");
}

static int run_reply(struct sup *s, struct sup_node *sn, const char *msg, nlab_error **err)
{
	size_t idx;
	int e;

	(void)s;
	if (msg[0] == 'r')
		return 0;
	if (sscanf(msg, "f %zu %d", &idx, &e) != 2 || idx >= sn->tn->cmds.n)
		return nlab_error_set(err, EPROTO, "node %s: bad reply '%s'", sn->tn->name, msg);
	return nlab_error_set(err, e, "node %s (%s:%d): cannot start run '%s'", sn->tn->name, topo_file(s),
			      sn->tn->cmds.v[idx].pos.line, sn->tn->cmds.v[idx].text);
}

static void send_all(struct sup *s, bool (*want)(const struct sup_node *), const char *msg)
{
	for (size_t i = 0; i < s->nnodes; i++)
		if (want(&s->nodes[i]))
			TEMP_FAILURE_RETRY(send(s->nodes[i].ctl, msg, strlen(msg), MSG_NOSIGNAL));
}

/* ---- network -------------------------------------------------------- */

/* The plan numbers namespaces by topology node index. */
static int ns_fd_of(struct sup *s, int ns)
{
	if (ns == PLAN_NS_LAB)
		return -1;
	if (ns == PLAN_NS_HOST)
		return s->host_netns;
	return s->by_index[ns]->netns_fd;
}

static void end_desc(struct sup *s, const struct plan_end *e, char *buf, size_t len)
{
	if (e->ns == PLAN_NS_LAB)
		snprintf(buf, len, "switch");
	else if (e->ns == PLAN_NS_HOST)
		snprintf(buf, len, "host:%s", e->name);
	else
		snprintf(buf, len, "%s:%s", s->t->nodes.v[e->ns].name, e->name);
}

static int bridges_ipv6(struct sup *s, nlab_error **err)
{
	const struct topology *t = s->t;
	static const char *const keys[] = { "accept_dad", "disable_ipv6" };
	char key[96];

	for (size_t i = 0; i < s->plan.nbridges; i++) {
		for (size_t k = 0; k < 2 && !t->switches.v[i].mcast_flood; k++) {
			snprintf(key, sizeof(key), "net.ipv6.conf.%s.%s", s->plan.bridges[i].name, keys[k]);
			if (nlab_sysctl_write(key, "0", err) == 0)
				continue;
			/* A kernel without IPv6 has nothing to snoop there. */
			if ((*err)->errnum != ENOENT)
				return nlab_error_wrap(err, "switch %s (%s:%d)", t->switches.v[i].name, t->file,
						       t->switches.v[i].pos.line);
			nlab_error_free(err);
		}
	}
	return 0;
}

static int create_links(struct sup *s, nlab_error **err)
{
	const struct topology *t = s->t;

	if (nlab_link_queue_up(s->lab_nl, 1, NULL, "lab lo up", err) < 0)
		return -1;
	for (size_t i = 0; i < s->plan.nbridges; i++) {
		char ctx[96];
		snprintf(ctx, sizeof(ctx), "switch %s (%s:%d)", t->switches.v[i].name, t->file,
			 t->switches.v[i].pos.line);
		if (nlab_bridge_queue_add(s->lab_nl, s->plan.bridges[i].name, s->plan.bridges[i].ifindex, 1,
					  !t->switches.v[i].mcast_flood, ctx, err) < 0)
			return -1;
	}
	/* A snooping switch's querier needs an IPv6 link-local address on
	 * the bridge, made once its first port gives it carrier: IPv6 on,
	 * without duplicate address detection, before the ports. */
	if (nlab_nl_flush(s->lab_nl, err) < 0 || bridges_ipv6(s, err) < 0)
		return -1;
	for (size_t i = 0; i < s->plan.nlinks; i++) {
		const struct plan_link *l = &s->plan.links[i];
		char ctx[160], da[48], db[48];
		const struct topo_link *tl = &t->links.v[l->link];

		end_desc(s, &l->a, da, sizeof(da));
		end_desc(s, &l->b, db, sizeof(db));
		snprintf(ctx, sizeof(ctx), "link %s -> %s (%s:%d)", da, db, t->file, tl->pos.line);
		struct nlab_veth_spec v = {
			.name = l->a.name, .ifindex = l->a.ifindex, .netns_fd = ns_fd_of(s, l->a.ns),
			.peer = l->b.name, .peer_ifindex = l->b.ifindex, .peer_netns_fd = ns_fd_of(s, l->b.ns),
			.mtu = l->mtu, .master_ifindex = l->a.master, .peer_master_ifindex = l->b.master,
			.up = plan_link_created_up(t, l->link),
		};
		if (nlab_veth_queue_add(s->lab_nl, &v, ctx, err) < 0)
			return -1;
	}
	/* With the ports in place, the queriers: from now on membership
	 * reports reach multicast routers only instead of every port (each
	 * node's few reports to every other node made a 1000-node star keep
	 * both CPUs busy for seconds after `up`; docs/topology.md). */
	for (size_t i = 0; i < s->plan.nbridges; i++) {
		char ctx[96];
		snprintf(ctx, sizeof(ctx), "switch %s (%s:%d): multicast querier", t->switches.v[i].name, t->file,
			 t->switches.v[i].pos.line);
		if (!t->switches.v[i].mcast_flood &&
		    nlab_bridge_queue_querier(s->lab_nl, s->plan.bridges[i].ifindex, ctx, err) < 0)
			return -1;
	}
	if (nlab_nl_flush(s->lab_nl, err) < 0)
		return -1;
	return 0;
}

static int configure_node(struct sup *s, struct sup_node *sn, nlab_error **err)
{
	const struct topo_node *n = sn->tn;
	struct nlab_nl *nl = NULL;
	char ctx[160];
	int saved = -1, r = -1;

	if (nlab_nl_open_in(&nl, sn->netns_fd, err) < 0)
		return nlab_error_wrap(err, "node %s", n->name);
	snprintf(ctx, sizeof(ctx), "node %s: lo up", n->name);
	if (nlab_link_queue_up(nl, 1, NULL, ctx, err) < 0)
		goto out;
	for (size_t i = 0; i < n->ifaces.n; i++) {
		if (plan_link_created_up(s->t, n->ifaces.v[i].link))
			continue;       /* create_links() raised it */
		snprintf(ctx, sizeof(ctx), "node %s: %s up", n->name, n->ifaces.v[i].ifname);
		if (nlab_link_queue_up(nl, plan_node_ifindex(n, n->ifaces.v[i].ifname), NULL, ctx, err) < 0)
			goto out;
	}
	for (size_t i = 0; i < n->addrs.n; i++) {
		const struct topo_ipaddr *a = &n->addrs.v[i];
		char cidr[64];
		cidr_format(&a->cidr, cidr, sizeof(cidr));
		snprintf(ctx, sizeof(ctx), "node %s: ip %s %s (%s:%d)", n->name, a->ifname, cidr, s->t->file,
			 a->pos.line);
		if (nlab_addr_queue_add(nl, plan_node_ifindex(n, a->ifname), a->cidr.family, a->cidr.addr,
					a->cidr.prefixlen, 1, ctx, err) < 0)
			goto out;
	}
	for (size_t i = 0; i < n->routes.n; i++) {
		const struct topo_route *rt = &n->routes.v[i];
		snprintf(ctx, sizeof(ctx), "node %s: route (%s:%d)", n->name, s->t->file, rt->pos.line);
		if (nlab_route_queue_add(nl, rt->dst.family, rt->is_default ? NULL : rt->dst.addr,
					 rt->is_default ? 0 : rt->dst.prefixlen, rt->has_via ? rt->via : NULL,
					 rt->dev[0] ? plan_node_ifindex(n, rt->dev) : 0, ctx, err) < 0)
			goto out;
	}
	if (nlab_nl_flush(nl, err) < 0)
		goto out;
	if (n->forward || n->sysctls.n || n->fw.n || n->nats.n) {
		if (nlab_netns_enter(sn->netns_fd, &saved, err) < 0)
			goto out;
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/%d/root/proc", (int)sn->pid);
		if (n->forward && (nlab_sysctl_write_in(proc, "net.ipv4.ip_forward", "1", err) < 0 ||
				   nlab_sysctl_write_in(proc, "net.ipv6.conf.all.forwarding", "1", err) < 0)) {
			nlab_error_wrap(err, "node %s: forward", n->name);
			goto leave;
		}
		for (size_t i = 0; i < n->sysctls.n; i++)
			if (nlab_sysctl_write_in(proc, n->sysctls.v[i].key, n->sysctls.v[i].value, err) < 0) {
				nlab_error_wrap(err, "node %s: sysctl (%s:%d)", n->name, s->t->file,
						n->sysctls.v[i].pos.line);
				goto leave;
			}
		/* Firewall and NAT after forwarding and before any command:
		 * the lock is the node's own, where its iptables looks. */
		char lock[64];
		snprintf(lock, sizeof(lock), "/proc/%d/root/run/xtables.lock", (int)sn->pid);
		if (fw_apply_node(s->t, n, s->o->lab, lock, err) < 0)
			goto leave;
		r = 0;
leave:
		if (nlab_netns_leave(&saved, r < 0 ? NULL : err) < 0)
			r = -1;
		goto out;
	}
	r = 0;
out:
	nlab_nl_close(nl);
	return r;
}

static int record_host_sysctl(struct sup *s, const char *key, const char *value, nlab_error **err)
{
	char old[256];

	if (nlab_sysctl_read(key, old, sizeof(old), err) < 0)
		return -1;
	struct state_sysctl *v = realloc(s->st.host_sysctls, (s->st.nhost_sysctls + 1) * sizeof(*v));
	if (!v)
		return nlab_error_set(err, ENOMEM, "sysctl");
	s->st.host_sysctls = v;
	v[s->st.nhost_sysctls].key = strdup(key);
	v[s->st.nhost_sysctls].old = strdup(old);
	s->st.nhost_sysctls++;
	/* Saved before written: a crash in between restores a value that
	 * never changed, which is harmless. */
	if (state_write(&s->st, err) < 0)
		return -1;
	return nlab_sysctl_write(key, value, err);
}

static int configure_host(struct sup *s, nlab_error **err)
{
	const struct topo_node *h = topo_host_node(s->t);
	char ctx[160];
	int saved = -1;

	if (!h)
		return 0;
	for (size_t i = 0; i < s->plan.nlinks; i++) {
		const struct plan_end *e = s->plan.links[i].a.ns == PLAN_NS_HOST ? &s->plan.links[i].a
					  : s->plan.links[i].b.ns == PLAN_NS_HOST ? &s->plan.links[i].b
										   : NULL;
		if (!e)
			continue;
		int idx = nlab_link_index(s->host_nl, e->name, err);
		if (idx < 0)
			return nlab_error_wrap(err, "host:%s", e->name);
		struct state_host_link *v = realloc(s->st.host_links, (s->st.nhost_links + 1) * sizeof(*v));
		if (!v)
			return nlab_error_set(err, ENOMEM, "host links");
		s->st.host_links = v;
		snprintf(v[s->st.nhost_links].name, sizeof(v->name), "%s", e->name);
		v[s->st.nhost_links].ifindex = idx;
		s->st.nhost_links++;
		snprintf(ctx, sizeof(ctx), "host:%s up", e->name);
		if (nlab_link_queue_up(s->host_nl, idx, NULL, ctx, err) < 0)
			return -1;
	}
	if (state_write(&s->st, err) < 0)
		return -1;
	for (size_t i = 0; i < h->addrs.n; i++) {
		const struct topo_ipaddr *a = &h->addrs.v[i];
		int idx = nlab_link_index(s->host_nl, a->ifname, err);
		if (idx < 0)
			return nlab_error_wrap(err, "host: ip %s (%s:%d)", a->ifname, s->t->file, a->pos.line);
		snprintf(ctx, sizeof(ctx), "host: ip %s (%s:%d)", a->ifname, s->t->file, a->pos.line);
		if (nlab_addr_queue_add(s->host_nl, idx, a->cidr.family, a->cidr.addr, a->cidr.prefixlen, 1, ctx,
					err) < 0)
			return -1;
	}
	for (size_t i = 0; i < h->routes.n; i++) {
		const struct topo_route *rt = &h->routes.v[i];
		int oif = 0;
		if (rt->dev[0] && (oif = nlab_link_index(s->host_nl, rt->dev, err)) < 0)
			return nlab_error_wrap(err, "host: route (%s:%d)", s->t->file, rt->pos.line);
		snprintf(ctx, sizeof(ctx), "host: route (%s:%d)", s->t->file, rt->pos.line);
		if (nlab_route_queue_add(s->host_nl, rt->dst.family, rt->is_default ? NULL : rt->dst.addr,
					 rt->is_default ? 0 : rt->dst.prefixlen, rt->has_via ? rt->via : NULL, oif,
					 ctx, err) < 0)
			return -1;
	}
	if (nlab_nl_flush(s->host_nl, err) < 0)
		return -1;
	if (h->forward) {
		if (nlab_netns_enter(s->host_netns, &saved, err) < 0)
			return -1;
		int r = record_host_sysctl(s, "net.ipv4.ip_forward", "1", err);
		if (r == 0)
			r = record_host_sysctl(s, "net.ipv6.conf.all.forwarding", "1", err);
		if (nlab_netns_leave(&saved, r < 0 ? NULL : err) < 0 || r < 0)
			return -1;
	}
	if (h->forward || h->nats.n) {
		if (nlab_netns_enter(s->host_netns, &saved, err) < 0)
			return -1;
		int r = fw_apply_host(s->t, s->o->lab, &s->st, err);
		if (nlab_netns_leave(&saved, r < 0 ? NULL : err) < 0 || r < 0)
			return -1;
	}
	return 0;
}

/* ---- teardown ------------------------------------------------------- */

/* Delete veths before the namespaces die: the kernel's namespace cleanup
 * is asynchronous, and an explicit delete returns only when it is done. */
static void delete_links(struct sup *s)
{
	nlab_error *err = NULL;

	/* Only the host's links: they are the only ones anyone else can
	 * see.  The bridges and veths in the lab's and nodes' namespaces go
	 * with those namespaces when the last process in them exits; the
	 * kernel dismantles them all as one batch in the background.
	 * Deleting them here would make `down` wait for the RCU grace
	 * periods of the unregistration (about 40 ms even for two links,
	 * measured) and show nothing different to anyone. */
	for (size_t i = 0; s->host_nl && i < s->st.nhost_links; i++)
		nlab_link_queue_del(s->host_nl, s->st.host_links[i].ifindex, NULL, "delete host link", NULL);
	if (s->host_nl && nlab_nl_flush(s->host_nl, &err) < 0)
		nlab_error_free(&err);
}

static void restore_host_sysctls(struct sup *s)
{
	int saved = -1;
	nlab_error *err = NULL;

	if (!s->st.nhost_sysctls || nlab_netns_enter(s->host_netns, &saved, &err) < 0) {
		nlab_error_free(&err);
		return;
	}
	for (size_t i = s->st.nhost_sysctls; i-- > 0;)
		if (nlab_sysctl_write(s->st.host_sysctls[i].key, s->st.host_sysctls[i].old, &err) < 0)
			nlab_error_free(&err);
	nlab_netns_leave(&saved, NULL);
}

static void stop_nodes(struct sup *s)
{
	int64_t deadline = now_ms() + s->o->grace_ms + 2000;


	for (size_t i = 0; i < s->nnodes; i++)
		if (s->nodes[i].pid > 0 && !s->nodes[i].exited)
			TEMP_FAILURE_RETRY(send(s->nodes[i].ctl, "S", 1, MSG_NOSIGNAL));
	for (size_t i = 0; i < s->nnodes; i++) {
		struct sup_node *sn = &s->nodes[i];
		if (sn->pid <= 0 || sn->exited)
			continue;
		int64_t left = deadline - now_ms();
		struct pollfd p = { .fd = sn->pidfd, .events = POLLIN };
		if (left <= 0 || poll(&p, 1, (int)(left > 0 ? left : 0)) == 0)
			syscall(SYS_pidfd_send_signal, sn->pidfd, SIGKILL, NULL, 0);
		TEMP_FAILURE_RETRY(waitpid(sn->pid, NULL, 0));
		sn->exited = true;
	}
}

static void remove_host_rules(struct sup *s)
{
	int saved = -1;
	nlab_error *err = NULL;

	if (!s->st.nhost_rules || nlab_netns_enter(s->host_netns, &saved, &err) < 0) {
		nlab_error_free(&err);
		return;
	}
	if (fw_remove_host(&s->st, &err) < 0)
		fprintf(stderr, "netlab: %s\n", err->msg);
	nlab_error_free(&err);
	nlab_netns_leave(&saved, NULL);
}

static void remove_cgroups(struct sup *s)
{
	for (size_t i = 0; i < s->nnodes; i++)
		cgroup_remove(s->nodes[i].cgroups, s->nodes[i].ncgroups);
	cgroup_remove(s->cg.dirs, s->cg.ndirs);
}

static void teardown(struct sup *s)
{
	delete_links(s);
	stop_nodes(s);
	remove_host_rules(s);
	restore_host_sysctls(s);
	remove_cgroups(s);
}

/* ---- setup ---------------------------------------------------------- */

static char **dup_strv(char *const *v, size_t n)
{
	char **c = calloc(n + 1, sizeof(*c));

	for (size_t i = 0; c && i < n; i++)
		c[i] = strdup(v[i]);
	return c;
}

/* The lab namespace holds only switches and the lab ends of veths: plain
 * layer 2.  Without IPv6 there, its thousand bridge ports do not each
 * send their own router solicitations and MLD reports (flooded to every
 * node: measured, a fifth of the CPU of bringing up a 1000-node star),
 * and with br_netfilter loaded on the machine, frames crossing a switch
 * do not go through this namespace's iptables.  The nodes' own IPv6 is
 * untouched. */
static int lab_ns_settings(nlab_error **err)
{
	static const char *const off[] = {
		"net.ipv6.conf.default.disable_ipv6",
		"net.ipv6.conf.all.disable_ipv6",
		"net.bridge.bridge-nf-call-iptables",
		"net.bridge.bridge-nf-call-ip6tables",
		"net.bridge.bridge-nf-call-arptables",
	};
	static const char *const on[] = { "1", "1", "0", "0", "0" };

	for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		nlab_error *e = NULL;
		if (nlab_sysctl_write(off[i], on[i], &e) < 0) {
			/* No IPv6 or no br_netfilter: nothing to turn off. */
			bool absent = e->errnum == ENOENT;
			if (!absent) {
				nlab_error_wrap(&e, "lab namespace");
				*err = e;
				return -1;
			}
			nlab_error_free(&e);
		}
	}
	return 0;
}

static bool node_has_limits(const struct topo_node *n)
{
	return n->cpu_millis || n->memory_bytes || n->pids_max;
}

/* User namespace slots and cgroups of every node, recorded in the state
 * before any node exists: `down` after a crash finds them there, and the
 * slots are taken under the allocation lock (docs/isolation.md). */
static int isolation_prepare(struct sup *s, nlab_error **err)
{
	size_t nuser = 0;

	/* Only nodes with a limit get a cgroup of their own: moving a process
	 * between cgroups costs the kernel an RCU grace period per hierarchy,
	 * which a 1000-node lab would pay thousands of times for nothing.
	 * The others stay in netlab's cgroup (their cgroup namespace is
	 * rooted there, so they still see their cgroup as "/"). */
	bool limits = false;
	for (size_t i = 0; i < s->nnodes; i++)
		limits |= node_has_limits(s->nodes[i].tn);
	if (limits) {
		if (cgroup_lab_create(&s->cg, s->o->lab, err) < 0)
			return nlab_error_wrap(err, "cgroups of lab %s", s->o->lab);
		s->st.cgroups = dup_strv(s->cg.dirs, s->cg.ndirs);
		s->st.ncgroups = s->st.cgroups ? s->cg.ndirs : 0;
	}
	for (size_t i = 0; i < s->nnodes; i++) {
		struct sup_node *sn = &s->nodes[i];
		const struct topo_node *n = sn->tn;
		nuser += s->st.nodes[i].userns;
		if (!node_has_limits(n))
			continue;
		struct cgroup_limits lim = { n->cpu_millis, n->memory_bytes, n->pids_max };
		if (cgroup_node_create(&s->cg, n->name, &lim, &sn->cgroups, &sn->ncgroups, err) < 0)
			return nlab_error_wrap(err, "node %s (%s:%d)", n->name, s->t->file, n->pos.line);
		s->st.nodes[i].cgroups = dup_strv(sn->cgroups, sn->ncgroups);
		s->st.nodes[i].ncgroups = s->st.nodes[i].cgroups ? sn->ncgroups : 0;
	}
	if (!nuser)
		return state_write(&s->st, err);
	cleanup_free uint32_t *ub = calloc(nuser, sizeof(*ub));
	cleanup_free uint32_t *gb = calloc(nuser, sizeof(*gb));
	if (!ub || !gb)
		return nlab_error_set(err, ENOMEM, "user namespace slots");
	int lock = userns_lock(err);
	if (lock < 0)
		return -1;
	int r = userns_allocate(s->o->lab, nuser, ub, gb, err);
	for (size_t i = 0, k = 0; r == 0 && i < s->nnodes; i++) {
		if (!s->st.nodes[i].userns)
			continue;
		s->nodes[i].uid_base = s->st.nodes[i].uid_base = ub[k];
		s->nodes[i].gid_base = s->st.nodes[i].gid_base = gb[k++];
	}
	/* Recorded before the lock goes: the next lab sees them taken. */
	if (r == 0)
		r = state_write(&s->st, err);
	userns_unlock(lock);
	return r;
}

static int init_reply(struct sup *s, struct sup_node *sn, const char *msg, nlab_error **err)
{
	struct state_node *stn = &s->st.nodes[sn - s->nodes];
	unsigned uid, gid;

	if (sscanf(msg, "I %u %u", &uid, &gid) == 2) {
		stn->has_user = true;
		stn->uid = uid;
		stn->gid = gid;
	}
	sn->netns_fd = nlab_netns_open_pid(sn->pid, err);
	if (sn->netns_fd < 0)
		return nlab_error_wrap(err, "node %s (%s:%d)", sn->tn->name, topo_file(s), sn->tn->pos.line);
	return 0;
}

static __attribute__((noinline)) int start_nodes_below_fence(struct sup *s, struct spawner *sp, nlab_error **err)
{
	size_t next = 0, done = 0;
	struct sup_node *sn = NULL;
	pid_t pid = 0;

	while (done < s->nnodes) {
		if (next < s->nnodes && !spawner_full(sp)) {
			sn = &s->nodes[next++];
			if (node_submit(s, sp, sn, err) < 0)
				goto fail;
			continue;
		}
		if (spawner_collect(sp, (void **)&sn, &pid, err) < 0 || node_started(sn, pid, err) < 0)
			goto fail;
		progress(s, "nodes", ++done, s->nnodes);
	}
	return 0;
fail:
	/* The inits already made are recorded, so that teardown stops them. */
	while (spawner_pending(sp)) {
		nlab_error *e = NULL;
		struct sup_node *other = NULL;
		if (spawner_collect(sp, (void **)&other, &pid, &e) == 0)
			node_started(other, pid, &e);
		nlab_error_free(&e);
	}
	if (sn)
		nlab_error_wrap(err, "node %s (%s:%d)", sn->tn->name, s->t->file, sn->tn->pos.line);
	return -1;
}

/* Every node's processes.  The loop runs in frames under an unused gap
 * that inits do not inherit (runtime/spawn.h), out of line so that none
 * of its locals sit in this frame or its callers'. */
static __attribute__((noinline)) int start_nodes(struct sup *s, nlab_error **err)
{
	char *fence = alloca(2 * (size_t)sysconf(_SC_PAGESIZE));

	struct spawner *sp = spawner_begin((uintptr_t)fence, err);
	if (!sp)
		return -1;
	int r = start_nodes_below_fence(s, sp, err);
	spawner_end(sp);
	return r;
}

static int setup(struct sup *s, nlab_error **err)
{
	const struct topology *t = s->t;
	char path[4200];

	s->phase_t0 = now_ms();
	if (plan_build(t, &s->plan) < 0)
		return nlab_error_set(err, ENOMEM, "plan");
	snprintf(path, sizeof(path), "%s/logs", s->dir);
	if (mkdir_p(path, 0755, err) < 0)
		return -1;
	if (hosts_write(t, s->dir, err) < 0)
		return -1;
	bool alt = false;
	snprintf(s->alternatives, sizeof(s->alternatives), "%s/alternatives", s->dir);
	if (nodefs_prepare_alternatives(s->alternatives, &alt, err) < 0)
		return -1;
	if (!alt)
		s->alternatives[0] = '\0';
	phase_done(s, "files");

	s->host_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (s->host_netns < 0)
		return nlab_error_set(err, errno, "open /proc/self/ns/net");
	if (topo_host_node(t) && nlab_nl_open(&s->host_nl, err) < 0)
		return -1;
	/* The lab's own namespaces: switches live here, not in the host. */
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0)
		return nlab_error_set(err, errno, "unshare lab network and mount namespaces");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return nlab_error_set(err, errno, "make / private in the lab namespace");
	if (lab_ns_settings(err) < 0)
		return -1;
	if (nlab_nl_open(&s->lab_nl, err) < 0)
		return -1;

	/* Written for every node while nodes are made: not inherited. */
	s->nodes = spawner_table_alloc((t->nodes.n + 1) * sizeof(*s->nodes), err);
	if (!s->nodes)
		return -1;
	s->init_args = calloc(t->nodes.n + 1, sizeof(*s->init_args));
	s->by_index = calloc(t->nodes.n + 1, sizeof(*s->by_index));
	s->st.nodes = calloc(t->nodes.n + 1, sizeof(*s->st.nodes));
	if (!s->init_args || !s->by_index || !s->st.nodes)
		return nlab_error_set(err, ENOMEM, "nodes");
	for (size_t i = 0; i < t->nodes.n; i++) {
		if (t->nodes.v[i].is_host)
			continue;
		struct sup_node *sn = &s->nodes[s->nnodes++];
		sn->tn = &t->nodes.v[i];
		sn->index = i;
		s->by_index[i] = sn;
		sn->pidfd = sn->netns_fd = sn->ctl = -1;
		s->init_args[s->nnodes - 1] = (struct init_arg){ .s = s, .tn = sn->tn };
		struct state_node *stn = &s->st.nodes[s->st.nnodes++];
		stn->name = strdup(sn->tn->name);
		stn->userns = topo_node_userns(t, sn->tn);
	}
	phase_done(s, "namespace");
	if (isolation_prepare(s, err) < 0)
		return -1;
	phase_done(s, "ids");
	if (start_nodes(s, err) < 0)
		return -1;
	for (size_t i = 0; i < s->nnodes; i++)
		s->st.nodes[i].init = s->nodes[i].init_id;
	phase_done(s, "spawn");
	if (state_write(&s->st, err) < 0)
		return -1;
	if (collect(s, want_all, init_reply, 30000, err) < 0)
		return -1;
	phase_done(s, "ready");
	if (create_links(s, err) < 0)
		return -1;
	phase_done(s, "links");
	for (size_t i = 0; i < s->nnodes; i++) {
		if (configure_node(s, &s->nodes[i], err) < 0)
			return -1;
		progress(s, "configure", i + 1, s->nnodes);
	}
	if (configure_host(s, err) < 0)
		return -1;
	phase_done(s, "configure");
	send_all(s, want_exec, "E");
	if (collect(s, want_exec, exec_reply, 0, err) < 0)
		return -1;
	send_all(s, want_run, "R");
	if (collect(s, want_run, run_reply, 30000, err) < 0)
		return -1;
	phase_done(s, "commands");
	return 0;
}

static void wait_loop(struct sup *s)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		return;
	for (;;) {
		struct signalfd_siginfo si;
		if (TEMP_FAILURE_RETRY(read(sfd, &si, sizeof(si))) != sizeof(si))
			break;
		if (si.ssi_signo == SIGCHLD) {
			int st;
			pid_t pid;
			while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
				for (size_t i = 0; i < s->nnodes; i++)
					if (s->nodes[i].pid == pid) {
						s->nodes[i].exited = true;
						fprintf(stderr, "netlab: node %s: init exited (status %d)\n",
							s->nodes[i].tn->name, st);
					}
			continue;
		}
		break; /* SIGTERM, SIGINT, SIGHUP: take the lab down */
	}
	close(sfd);
}

/* A node costs the supervisor four fds (control socket, pidfd, netns,
 * log); a 1000-node lab outgrows the usual soft limit of 1024. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int supervisor_main(const struct topology *t, const struct sup_options *o)
{
	struct sup s = { .t = t, .o = o, .host_netns = -1 };
	nlab_error *err = NULL;
	sigset_t set;
	int64_t t0 = now_ms();

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise_fd_limit();
	/* Nodes must not inherit root's supplementary groups: inside a user
	 * namespace they could not be dropped (setgroups is denied there)
	 * and would still count for host files. */
	if (setgroups(0, NULL) < 0) {
		nlab_error_set(&err, errno, "drop supplementary groups");
		goto fail;
	}
	if (state_lab_dir(o->lab, s.dir, sizeof(s.dir), &err) < 0)
		goto fail;
	s.st.lab = strdup(o->lab);
	s.st.topology = realpath(t->file, NULL);
	s.st.created = (int64_t)time(NULL);
	s.st.grace_ms = o->grace_ms;
	proc_id_of(getpid(), &s.st.supervisor);
	if (setup(&s, &err) < 0)
		goto fail;
	if (state_write(&s.st, &err) < 0)
		goto fail;
	phase_done(&s, "state");
	status(&s, "O %zu %zu %lld%s", s.nnodes, t->links.n, (long long)(now_ms() - t0), s.phases);
	close(o->status_fd);
	wait_loop(&s);
	teardown(&s);
	return 0;
fail:
	teardown(&s);
	/* One message, newlines kept, terminated by an empty record. */
	status(&s, "E %s", err ? err->msg : "unknown error");
	nlab_error_free(&err);
	return 1;
}
