#include "net/address.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

int nlab_addr_queue_add(struct nlab_nl *nl, int ifindex, int family,
			const void *addr, int prefixlen, int nodad,
			const char *ctx, nlab_error **err)
{
	size_t alen = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	if (!ctx)
		ctx = "address";
	if (!alen || !addr)
		return nlab_error_set(err, EAFNOSUPPORT, "%s: address family %d",
				      ctx, family);
	if (prefixlen < 0 || (size_t)prefixlen > alen * 8)
		return nlab_error_set(err, EINVAL, "%s: prefix length %d", ctx, prefixlen);
	if (ifindex <= 0)
		return nlab_error_set(err, EINVAL, "%s: ifindex %d", ctx, ifindex);

	nlh = nlab_nl_msg_begin(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, err);
	if (!nlh)
		return -1;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = (uint8_t)prefixlen;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	/* IFA_LOCAL is the address itself; IFA_ADDRESS is the peer on
	 * point-to-point links and must equal IFA_LOCAL otherwise, or IPv6
	 * takes the pair as a peer address. */
	mnl_attr_put(nlh, IFA_LOCAL, alen, addr);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, addr);
	if (family == AF_INET && prefixlen < 31) {
		uint32_t a, mask = prefixlen ? htonl(~0u << (32 - prefixlen)) : 0;

		memcpy(&a, addr, sizeof(a));
		a |= ~mask;
		mnl_attr_put(nlh, IFA_BROADCAST, sizeof(a), &a);
	}
	if (family == AF_INET6 && nodad) {
		/* The u8 ifa_flags field suffices for NODAD; IFA_FLAGS is the
		 * 32-bit field newer flags need, and what the kernel reads
		 * first when present. */
		ifa->ifa_flags = IFA_F_NODAD;
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	}
	return nlab_nl_msg_commit(nl, nlh, ctx, err);
}

struct dump {
	int ifindex;
	struct nlab_addr *v;
	size_t n, cap;
	bool oom;
};

static int addr_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	const void *local = NULL, *address = NULL;

	if (nlh->nlmsg_type != RTM_NEWADDR || (int)ifa->ifa_index != d->ifindex)
		return MNL_CB_OK;
	/* Link-local IPv6 comes back by itself with the link. */
	mnl_attr_for_each(a, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_type(a) == IFA_LOCAL)
			local = mnl_attr_get_payload(a);
		else if (mnl_attr_get_type(a) == IFA_ADDRESS)
			address = mnl_attr_get_payload(a);
	}
	const uint8_t *addr = local ? local : address;
	if (!addr || ifa->ifa_scope == RT_SCOPE_LINK || ifa->ifa_scope == RT_SCOPE_HOST)
		return MNL_CB_OK;
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 4;
		struct nlab_addr *v = realloc(d->v, cap * sizeof(*v));
		if (!v) {
			d->oom = true;
			return MNL_CB_ERROR;
		}
		d->v = v;
		d->cap = cap;
	}
	struct nlab_addr *x = &d->v[d->n++];
	memset(x, 0, sizeof(*x));
	x->family = ifa->ifa_family;
	x->prefixlen = ifa->ifa_prefixlen;
	memcpy(x->addr, addr, ifa->ifa_family == AF_INET ? 4 : 16);
	return MNL_CB_OK;
}

int nlab_addr_list(struct nlab_nl *nl, int ifindex, struct nlab_addr **out, size_t *n, nlab_error **err)
{
	char buf[256];
	struct dump d = { .ifindex = ifindex };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;

	*out = NULL;
	*n = 0;
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_DUMP;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	if (nlab_nl_request(nl, nlh, addr_dump_cb, &d, err) < 0 || d.oom) {
		free(d.v);
		return d.oom ? nlab_error_set(err, ENOMEM, "addresses") : -1;
	}
	*out = d.v;
	*n = d.n;
	return 0;
}
