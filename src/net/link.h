/* Generic link operations: up, MTU, master, delete, lookup.
 *
 * The queue functions address an interface by ifindex, or by name when
 * ifindex is 0, and only append to nl's batch (see net/nlsock.h).  ctx is
 * the caller's description of the request, shown if the kernel refuses it. */
#ifndef NETLAB_NET_LINK_H
#define NETLAB_NET_LINK_H

#include <stdbool.h>

#include "net/nlsock.h"
#include "util/error.h"

/* Accept what the kernel's dev_valid_name() accepts: 1..15 bytes, not "."
 * or "..", no '/', ':' or whitespace.  ENAMETOOLONG / EINVAL otherwise. */
int nlab_ifname_check(const char *name, nlab_error **err);

int nlab_link_queue_up(struct nlab_nl *nl, int ifindex, const char *name,
		       const char *ctx, nlab_error **err);
int nlab_link_queue_down(struct nlab_nl *nl, int ifindex, const char *name,
			 const char *ctx, nlab_error **err);
int nlab_link_queue_mtu(struct nlab_nl *nl, int ifindex, const char *name,
			int mtu, const char *ctx, nlab_error **err);
/* master_ifindex 0 releases the interface from its master. */
int nlab_link_queue_master(struct nlab_nl *nl, int ifindex, const char *name,
			   int master_ifindex, const char *ctx, nlab_error **err);
/* Deleting one end of a veth pair deletes both. */
int nlab_link_queue_del(struct nlab_nl *nl, int ifindex, const char *name,
			const char *ctx, nlab_error **err);

/* Set the interface's alias (IFLA_IFALIAS, at most 255 bytes): netlab
 * marks the host ends of its labs' links with "netlab:LAB". */
int nlab_link_queue_alias(struct nlab_nl *nl, int ifindex, const char *name,
			  const char *alias, const char *ctx, nlab_error **err);

/* A follow-up (nlab_nl_msg_commit_after) of the request queued just
 * before: move the interface ifindex to the namespace netns_fd, renamed
 * to new_name, with the alias `alias`, all in one request (one system
 * call: it is never there without its name and alias). */
int nlab_link_queue_move_marked(struct nlab_nl *nl, int ifindex, int netns_fd, const char *new_name,
				const char *alias, const char *ctx, nlab_error **err);

/* Every interface of nl's netns whose alias is exactly `alias`: their
 * ifindexes into *idx (caller frees) and their count into *n. */
int nlab_link_find_alias(struct nlab_nl *nl, const char *alias, int **idx,
			 size_t *n, nlab_error **err);

/* Synchronous (one round trip, independent of the queue: a link that is
 * only queued is not found yet).  Returns the ifindex, or -1 with *err;
 * errnum is ENODEV when there is no such interface in nl's netns. */
int nlab_link_index(struct nlab_nl *nl, const char *name, nlab_error **err);

/* The flags (IFF_UP, IFF_LOWER_UP...) and MTU of ifindex, synchronously. */
int nlab_link_flags(struct nlab_nl *nl, int ifindex, unsigned *flags, int *mtu, nlab_error **err);

/* 1 if it exists in nl's netns, 0 if not, -1 with *err on other errors. */
int nlab_link_exists(struct nlab_nl *nl, const char *name, nlab_error **err);

/* Move an existing link into the network namespace netns_fd, renamed to
 * newname (NULL: keep its name) and with new_ifindex there (0: the
 * kernel picks; needs Linux 6.5).  Its addresses do not follow it. */
int nlab_link_queue_move(struct nlab_nl *nl, int ifindex, int netns_fd, const char *newname, int new_ifindex,
			 const char *ctx, nlab_error **err);

struct nlab_link_info {
	int ifindex;
	char name[16];
	bool up;
	int mtu;
	int master;             /* 0 = none */
};

/* What a link is now, by ifindex (> 0) or by name.  Synchronous. */
int nlab_link_info(struct nlab_nl *nl, int ifindex, const char *name, struct nlab_link_info *out,
		   nlab_error **err);

#endif
