/* Taking the host's interfaces (`link host:IF NODE:IF move|macvlan`,
 * `link host:IF SWITCH`): journaled and pinned before they move
 * (lab/hostif.h says why), given back at teardown. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab/hostif.h"
#include "net/address.h"
#include "net/link.h"
#include "net/link_macvlan.h"
#include "net/netns.h"
#include "supervisor/sup.h"
#include "topo/addr.h"
#include "util/cleanup.h"
#include "util/fsutil.h"

static const char *where_name(const struct sup *s, const struct plan_end *to)
{
	return to->ns == PLAN_NS_LAB ? "" : s->t->nodes.v[to->ns].name;
}

/* The namespace the interface goes to, opened now (the caller closes it). */
static int ns_open(const struct sup *s, const struct plan_end *to, nlab_error **err)
{
	if (to->ns != PLAN_NS_LAB)
		return nodes_netns(s, s->by_index[to->ns], err);
	int fd = fcntl(s->lab_netns, F_DUPFD_CLOEXEC, 0);
	return fd < 0 ? nlab_error_set(err, errno, "dup") : fd;
}

/* A bind mount of the namespace under the state directory, made in the
 * host's mount namespace (where `down` runs; ours is private). */
static int pin(struct sup *s, int fd, const char *path, nlab_error **err)
{
	char src[64], dir[4200];
	int r = 0;

	if (access(path, F_OK) == 0)
		return 0; /* that namespace is pinned already */
	snprintf(dir, sizeof(dir), "%s/pins", s->dir);
	if (setns(s->host_mntns, CLONE_NEWNS) < 0)
		return nlab_error_set(err, errno, "enter the host's mount namespace");
	if (mkdir_p(dir, 0700, err) < 0) {
		r = -1;
	} else {
		int f = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
		if (f < 0 || mount(src, path, NULL, MS_BIND, NULL) < 0)
			r = nlab_error_set(err, errno, "pin the namespace at %s", path);
		if (f >= 0)
			close(f);
	}
	if (setns(s->lab_mntns, CLONE_NEWNS) < 0 && r == 0)
		r = nlab_error_set(err, errno, "back to the lab's mount namespace");
	return r;
}

static int journal(struct sup *s, const struct plan_op *op, const struct nlab_link_info *info, char *pin_path,
		   nlab_error **err)
{
	struct nlab_addr *addrs = NULL;
	size_t n = 0;

	if (nlab_addr_list(s->host_nl, info->ifindex, &addrs, &n, err) < 0)
		return -1;
	struct state_host_iface *v = realloc(s->st.host_ifaces, (s->st.nhost_ifaces + 1) * sizeof(*v));
	if (!v) {
		free(addrs);
		return nlab_error_set(err, ENOMEM, "host interfaces");
	}
	s->st.host_ifaces = v;
	struct state_host_iface *h = &v[s->st.nhost_ifaces++];
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", op->hostif.host);
	h->ifindex = info->ifindex;
	snprintf(h->where, sizeof(h->where), "%s", where_name(s, &op->hostif.to));
	snprintf(h->inside, sizeof(h->inside), "%s", op->hostif.to.name);
	h->inside_ifindex = op->hostif.to.ifindex;
	h->up = info->up;
	h->mtu = info->mtu;
	h->pin = pin_path;
	h->addrs = calloc(n + 1, sizeof(*h->addrs));
	for (size_t i = 0; h->addrs && i < n; i++) {
		struct topo_cidr c = { .family = addrs[i].family, .prefixlen = addrs[i].prefixlen };
		char buf[64];
		memcpy(c.addr, addrs[i].addr, sizeof(c.addr));
		cidr_format(&c, buf, sizeof(buf));
		h->addrs[h->naddrs++] = strdup(buf);
	}
	free(addrs);
	return state_write(&s->st, err);
}

int hostif_take(struct sup *s, const struct plan_op *op, nlab_error **err)
{
	struct nlab_link_info info;
	const struct plan_end *to = &op->hostif.to;
	char ctx[160], to_text[64];

	if (to->ns == PLAN_NS_LAB)
		snprintf(to_text, sizeof(to_text), "switch port %s", to->name);
	else
		snprintf(to_text, sizeof(to_text), "%s:%s", s->t->nodes.v[to->ns].name, to->name);
	snprintf(ctx, sizeof(ctx), "link host:%s -> %s (%s:%d)", op->hostif.host, to_text, s->t->file, op->line);
	if (nlab_link_info(s->host_nl, 0, op->hostif.host, &info, err) < 0)
		return nlab_error_wrap(err, "%s: the host has no interface %s", ctx, op->hostif.host);
	cleanup_close int ns = ns_open(s, to, err);
	if (ns < 0)
		return nlab_error_wrap(err, "%s", ctx);
	if (op->kind == OP_HOST_MACVLAN) {
		/* A child in the node; the host's interface is not touched and
		 * nothing of it outlives the node's namespace. */
		if (nlab_macvlan_queue_add(s->host_nl, info.ifindex, ns, to->name, to->ifindex, ctx, err) < 0)
			return -1;
		return nlab_nl_flush(s->host_nl, err);
	}
	char *path = NULL;
	if (asprintf(&path, "%s/pins/%s", s->dir, to->ns == PLAN_NS_LAB ? "-lab" : s->t->nodes.v[to->ns].name) < 0)
		return nlab_error_set(err, ENOMEM, "pin");
	/* Journal, pin, then move: after a crash at any point `down` finds
	 * it, in the host or in the pinned namespace. */
	if (journal(s, op, &info, path, err) < 0 || pin(s, ns, path, err) < 0)
		return nlab_error_wrap(err, "%s", ctx);
	if (nlab_link_queue_move(s->host_nl, info.ifindex, ns, to->name, to->ifindex, ctx, err) < 0 ||
	    nlab_nl_flush(s->host_nl, err) < 0)
		return -1;
	if (op->kind == OP_HOST_ATTACH) {
		snprintf(ctx, sizeof(ctx), "link host:%s -> switch (%s:%d): port up", op->hostif.host, s->t->file,
			 op->line);
		if (nlab_link_queue_master(s->lab_nl, to->ifindex, NULL, to->master, ctx, err) < 0 ||
		    nlab_link_queue_up(s->lab_nl, to->ifindex, NULL, ctx, err) < 0 || nlab_nl_flush(s->lab_nl, err) < 0)
			return -1;
	}
	return 0;
}

void hostif_give_back_all(struct sup *s)
{
	for (size_t i = 0; i < s->st.nhost_ifaces; i++) {
		const struct state_host_iface *h = &s->st.host_ifaces[i];
		nlab_error *err = NULL;
		int fd = -1;
		bool own = false;
		if (!h->where[0])
			fd = s->lab_netns;
		else
			for (size_t k = 0; k < s->nnodes && fd < 0; k++)
				if (!strcmp(s->nodes[k].tn->name, h->where) && !s->nodes[k].exited) {
					fd = nodes_netns(s, &s->nodes[k], NULL);
					own = fd >= 0;
				}
		if (hostif_give_back(h, fd, s->host_netns, &err) < 0)
			nlab_error_print(NULL, &err);
		if (own)
			close(fd);
	}
}
