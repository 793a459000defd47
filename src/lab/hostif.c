#include "lab/hostif.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "net/address.h"
#include "net/link.h"
#include "net/nlsock.h"
#include "topo/addr.h"
#include "util/cleanup.h"

/* Where h is now, if in the namespace fd: its ifindex there, or 0. */
static int find_inside(const struct state_host_iface *h, int fd)
{
	struct nlab_nl *nl = NULL;
	struct nlab_link_info info;
	nlab_error *e = NULL;
	int idx = 0;

	if (nlab_nl_open_in(&nl, fd, &e) < 0) {
		nlab_error_free(&e);
		return 0;
	}
	if (nlab_link_info(nl, 0, h->inside, &info, &e) == 0)
		idx = info.ifindex;
	nlab_error_free(&e);
	nlab_nl_close(nl);
	return idx;
}

static int move_out(const struct state_host_iface *h, int fd, int idx, int host_netns, nlab_error **err)
{
	struct nlab_nl *nl = NULL;
	char ctx[96];
	int r;

	snprintf(ctx, sizeof(ctx), "give back host interface %s", h->name);
	if (nlab_nl_open_in(&nl, fd, err) < 0)
		return nlab_error_wrap(err, "%s", ctx);
	/* Its old ifindex if it is free, as before the lab. */
	r = nlab_link_queue_move(nl, idx, host_netns, h->name, h->ifindex, ctx, err);
	if (r == 0)
		r = nlab_nl_flush(nl, err);
	if (r < 0 && (*err)->errnum == EBUSY) {
		nlab_error_free(err);
		r = nlab_link_queue_move(nl, idx, host_netns, h->name, 0, ctx, err);
		if (r == 0)
			r = nlab_nl_flush(nl, err);
	}
	nlab_nl_close(nl);
	return r;
}

/* Name, MTU, addresses, up: as the journal says it was. */
static int restore(const struct state_host_iface *h, nlab_error **err)
{
	struct nlab_nl *nl = NULL;
	struct nlab_link_info info;
	char ctx[128];
	int r = -1;

	if (nlab_nl_open(&nl, err) < 0)
		return -1;
	if (nlab_link_info(nl, 0, h->name, &info, err) < 0)
		goto out;
	snprintf(ctx, sizeof(ctx), "restore host interface %s", h->name);
	if (h->mtu > 0 && info.mtu != h->mtu && nlab_link_queue_mtu(nl, info.ifindex, NULL, h->mtu, ctx, err) < 0)
		goto out;
	for (size_t i = 0; i < h->naddrs; i++) {
		struct topo_cidr c;
		char why[96];
		if (cidr_parse(h->addrs[i], true, &c, why, sizeof(why)) < 0)
			continue;
		snprintf(ctx, sizeof(ctx), "restore %s on host interface %s", h->addrs[i], h->name);
		if (nlab_addr_queue_add(nl, info.ifindex, c.family, c.addr, c.prefixlen, 0, ctx, err) < 0)
			goto out;
	}
	if (h->up && nlab_link_queue_up(nl, info.ifindex, NULL, "raise it", err) < 0)
		goto out;
	r = nlab_nl_flush(nl, err);
	/* An address already there (given back twice) is what we want. */
	if (r < 0 && (*err)->errnum == EEXIST) {
		nlab_error_free(err);
		r = 0;
	}
out:
	nlab_nl_close(nl);
	return r;
}

int hostif_give_back(const struct state_host_iface *h, int netns_fd, int host_netns, nlab_error **err)
{
	cleanup_close int pinned = -1;
	int fd = netns_fd;

	if (fd < 0 && h->pin) {
		pinned = open(h->pin, O_RDONLY | O_CLOEXEC);
		fd = pinned;
	}
	int idx = fd >= 0 ? find_inside(h, fd) : 0;
	if (idx > 0 && move_out(h, fd, idx, host_netns, err) < 0)
		return nlab_error_wrap(err, "lab had host interface %s as %s%s%s", h->name, h->where[0] ? h->where : "",
				       h->where[0] ? ":" : "", h->inside);
	/* Back in the host: by us just now, or by the kernel when the
	 * namespace it was in went away (a NIC returns to the initial one). */
	if (restore(h, err) < 0)
		return nlab_error_wrap(err, "host interface %s", h->name);
	return 0;
}

void hostif_unpin(const struct lab_state *st)
{
	for (size_t i = 0; i < st->nhost_ifaces; i++) {
		const char *pin = st->host_ifaces[i].pin;
		if (!pin)
			continue;
		umount2(pin, MNT_DETACH | UMOUNT_NOFOLLOW);
		unlink(pin);
	}
}
