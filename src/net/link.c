#include "net/link.h"

#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "util/cleanup.h"

int nlab_ifname_check(const char *name, nlab_error **err)
{
	size_t len;

	if (!name || !*name)
		return nlab_error_set(err, EINVAL, "empty interface name");
	len = strlen(name);
	/* IFNAMSIZ counts the NUL; the kernel would silently truncate in some
	 * paths and refuse in others, so refuse here with the name shown. */
	if (len >= IFNAMSIZ)
		return nlab_error_set(err, ENAMETOOLONG,
				      "interface name \"%s\" (%zu bytes, at most %d)",
				      name, len, IFNAMSIZ - 1);
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return nlab_error_set(err, EINVAL, "interface name \"%s\"", name);
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p))
			return nlab_error_set(err, EINVAL,
					      "interface name \"%s\": no '/', ':' or spaces",
					      name);
	return 0;
}

/* Start a request about an existing link, named by index or by name. */
static struct nlmsghdr *link_begin(struct nlab_nl *nl, uint16_t type,
				   int ifindex, const char *name,
				   const char *ctx, nlab_error **err)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	if (ifindex < 0) {
		nlab_error_set(err, EINVAL, "%s: ifindex %d", ctx ? ctx : "link", ifindex);
		return NULL;
	}
	if (ifindex == 0 && nlab_ifname_check(name, err) < 0) {
		nlab_error_wrap(err, "%s", ctx ? ctx : "link");
		return NULL;
	}
	nlh = nlab_nl_msg_begin(nl, type, 0, err);
	if (!nlh)
		return NULL;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	/* rtnl_setlink()/rtnl_dellink() look the device up by IFLA_IFNAME
	 * when ifi_index is 0. */
	if (ifindex == 0)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nlh;
}

static int link_queue_flags(struct nlab_nl *nl, int ifindex, const char *name,
			    unsigned int flags, const char *ctx, nlab_error **err)
{
	struct nlmsghdr *nlh = link_begin(nl, RTM_SETLINK, ifindex, name, ctx, err);
	struct ifinfomsg *ifm;

	if (!nlh)
		return -1;
	ifm = mnl_nlmsg_get_payload(nlh);
	/* ifi_change selects the bits we mean; 0 would mean "all of them"
	 * (rtnl_dev_combine_flags()'s bugwards compatibility). */
	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = flags;
	return nlab_nl_msg_commit(nl, nlh, ctx, err);
}

int nlab_link_queue_up(struct nlab_nl *nl, int ifindex, const char *name,
		       const char *ctx, nlab_error **err)
{
	return link_queue_flags(nl, ifindex, name, IFF_UP, ctx, err);
}

int nlab_link_queue_down(struct nlab_nl *nl, int ifindex, const char *name,
			 const char *ctx, nlab_error **err)
{
	return link_queue_flags(nl, ifindex, name, 0, ctx, err);
}

int nlab_link_queue_mtu(struct nlab_nl *nl, int ifindex, const char *name,
			int mtu, const char *ctx, nlab_error **err)
{
	struct nlmsghdr *nlh;

	if (mtu <= 0)
		return nlab_error_set(err, EINVAL, "%s: mtu %d", ctx ? ctx : "link", mtu);
	nlh = link_begin(nl, RTM_SETLINK, ifindex, name, ctx, err);
	if (!nlh)
		return -1;
	mnl_attr_put_u32(nlh, IFLA_MTU, (uint32_t)mtu);
	return nlab_nl_msg_commit(nl, nlh, ctx, err);
}

int nlab_link_queue_master(struct nlab_nl *nl, int ifindex, const char *name,
			   int master_ifindex, const char *ctx, nlab_error **err)
{
	struct nlmsghdr *nlh;

	if (master_ifindex < 0)
		return nlab_error_set(err, EINVAL, "%s: master ifindex %d",
				      ctx ? ctx : "link", master_ifindex);
	nlh = link_begin(nl, RTM_SETLINK, ifindex, name, ctx, err);
	if (!nlh)
		return -1;
	mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master_ifindex);
	return nlab_nl_msg_commit(nl, nlh, ctx, err);
}

int nlab_link_queue_del(struct nlab_nl *nl, int ifindex, const char *name,
			const char *ctx, nlab_error **err)
{
	struct nlmsghdr *nlh = link_begin(nl, RTM_DELLINK, ifindex, name, ctx, err);

	if (!nlh)
		return -1;
	return nlab_nl_msg_commit(nl, nlh, ctx, err);
}

int nlab_link_queue_alias(struct nlab_nl *nl, int ifindex, const char *name,
			  const char *alias, const char *ctx, nlab_error **err)
{
	struct nlmsghdr *nlh;

	if (!alias || strlen(alias) >= 256)
		return nlab_error_set(err, EINVAL, "%s: alias too long", ctx ? ctx : "link");
	nlh = link_begin(nl, RTM_SETLINK, ifindex, name, ctx, err);
	if (!nlh)
		return -1;
	mnl_attr_put_strz(nlh, IFLA_IFALIAS, alias);
	return nlab_nl_msg_commit(nl, nlh, ctx, err);
}

int nlab_link_queue_move_marked(struct nlab_nl *nl, int ifindex, int netns_fd, const char *new_name,
				const char *alias, const char *ctx, nlab_error **err)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	if (ifindex <= 0 || netns_fd < 0 || nlab_ifname_check(new_name, err) < 0 || !alias || strlen(alias) >= 256)
		return nlab_error_set(err, EINVAL, "%s: move of ifindex %d", ctx ? ctx : "link", ifindex);
	nlh = nlab_nl_msg_begin(nl, RTM_SETLINK, 0, err);
	if (!nlh)
		return -1;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	/* do_setlink() moves the device first, under IFLA_IFNAME as its
	 * name there, then sets the alias on it. */
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)netns_fd);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, new_name);
	mnl_attr_put_strz(nlh, IFLA_IFALIAS, alias);
	return nlab_nl_msg_commit_after(nl, nlh, ctx, err);
}

struct alias_match {
	const char *alias;
	int *idx;
	size_t n, cap;
	bool oom;
};

static int alias_attr_cb(const struct nlattr *a, void *data)
{
	const char **alias = data;

	if (mnl_attr_get_type(a) == IFLA_IFALIAS && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
		*alias = mnl_attr_get_str(a);
	return MNL_CB_OK;
}

static int alias_cb(const struct nlmsghdr *nlh, void *data)
{
	struct alias_match *m = data;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	const char *alias = NULL;

	if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifm)))
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifm), alias_attr_cb, &alias);
	if (!alias || strcmp(alias, m->alias) != 0)
		return MNL_CB_OK;
	if (m->n == m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 8;
		int *v = realloc(m->idx, nc * sizeof(*v));
		if (!v) {
			m->oom = true;
			return MNL_CB_OK;
		}
		m->idx = v;
		m->cap = nc;
	}
	m->idx[m->n++] = ifm->ifi_index;
	return MNL_CB_OK;
}

int nlab_link_find_alias(struct nlab_nl *nl, const char *alias, int **idx,
			 size_t *n, nlab_error **err)
{
	char buf[512];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;
	struct alias_match m = { .alias = alias };

	*idx = NULL;
	*n = 0;
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_DUMP;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	if (nlab_nl_request(nl, nlh, alias_cb, &m, err) < 0) {
		free(m.idx);
		return nlab_error_wrap(err, "list interfaces");
	}
	if (m.oom) {
		free(m.idx);
		return nlab_error_set(err, ENOMEM, "list interfaces");
	}
	*idx = m.idx;
	*n = m.n;
	return 0;
}

static int link_index_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type == RTM_NEWLINK &&
	    nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(*ifm)))
		*(int *)data = ifm->ifi_index;
	return MNL_CB_OK;
}

int nlab_link_index(struct nlab_nl *nl, const char *name, nlab_error **err)
{
	char buf[512];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	int ifindex = -1;

	if (nlab_ifname_check(name, err) < 0)
		return -1;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	/* Counters and VF data would only make the reply bigger. */
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	if (nlab_nl_request(nl, nlh, link_index_cb, &ifindex, err) < 0)
		return nlab_error_wrap(err, "link %s", name);
	if (ifindex <= 0)
		return nlab_error_set(err, EBADMSG, "link %s: RTM_GETLINK: no reply", name);
	return ifindex;
}

struct link_flags {
	unsigned flags;
	int mtu;
	bool found;
};

static int link_flags_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_flags *lf = data;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifm)))
		return MNL_CB_OK;
	lf->found = true;
	lf->flags = ifm->ifi_flags;
	mnl_attr_for_each(a, nlh, sizeof(*ifm))
		if (mnl_attr_get_type(a) == IFLA_MTU && mnl_attr_get_payload_len(a) == 4)
			lf->mtu = (int)mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

int nlab_link_flags(struct nlab_nl *nl, int ifindex, unsigned *flags, int *mtu, nlab_error **err)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;
	struct link_flags lf = { 0 };

	nlh->nlmsg_type = RTM_GETLINK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	if (nlab_nl_request(nl, nlh, link_flags_cb, &lf, err) < 0)
		return nlab_error_wrap(err, "link #%d", ifindex);
	if (!lf.found)
		return nlab_error_set(err, ENODEV, "link #%d: RTM_GETLINK: no reply", ifindex);
	*flags = lf.flags;
	if (mtu)
		*mtu = lf.mtu;
	return 0;
}

int nlab_link_exists(struct nlab_nl *nl, const char *name, nlab_error **err)
{
	cleanup_error nlab_error *e = NULL;

	if (nlab_link_index(nl, name, &e) >= 0)
		return 1;
	if (e && e->errnum == ENODEV)
		return 0;
	if (err) {
		nlab_error_free(err);
		*err = steal_ptr(&e);
	}
	return -1;
}

int nlab_link_queue_move(struct nlab_nl *nl, int ifindex, int netns_fd, const char *newname, int new_ifindex,
			 const char *ctx, nlab_error **err)
{
	struct nlmsghdr *nlh = link_begin(nl, RTM_NEWLINK, ifindex, NULL, ctx, err);

	if (!nlh)
		return -1;
	if (newname && nlab_ifname_check(newname, err) < 0)
		return nlab_error_wrap(err, "%s", ctx ? ctx : "link");
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)netns_fd);
	if (newname)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, newname);
	/* Linux 6.5: the ifindex the device gets in its new namespace,
	 * so the namespace's own batch can name it. */
	if (new_ifindex > 0)
		mnl_attr_put_u32(nlh, IFLA_NEW_IFINDEX, (uint32_t)new_ifindex);
	return nlab_nl_msg_commit(nl, nlh, ctx, err);
}

struct info_req {
	struct nlab_link_info *out;
	bool found;
};

static int link_info_cb(const struct nlmsghdr *nlh, void *data)
{
	struct info_req *q = data;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifm)))
		return MNL_CB_OK;
	q->found = true;
	q->out->ifindex = ifm->ifi_index;
	q->out->up = (ifm->ifi_flags & IFF_UP) != 0;
	mnl_attr_for_each(a, nlh, sizeof(*ifm)) {
		switch (mnl_attr_get_type(a)) {
		case IFLA_IFNAME:
			snprintf(q->out->name, sizeof(q->out->name), "%s", mnl_attr_get_str(a));
			break;
		case IFLA_MTU:
			q->out->mtu = (int)mnl_attr_get_u32(a);
			break;
		case IFLA_MASTER:
			q->out->master = (int)mnl_attr_get_u32(a);
			break;
		default:
			break;
		}
	}
	return MNL_CB_OK;
}

int nlab_link_info(struct nlab_nl *nl, int ifindex, const char *name, struct nlab_link_info *out,
		   nlab_error **err)
{
	char buf[512];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	struct info_req q = { .out = out };

	memset(out, 0, sizeof(*out));
	if (ifindex <= 0 && nlab_ifname_check(name, err) < 0)
		return -1;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex > 0 ? ifindex : 0;
	if (ifindex <= 0)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	if (nlab_nl_request(nl, nlh, link_info_cb, &q, err) < 0)
		return nlab_error_wrap(err, "link %s", ifindex > 0 ? "" : name);
	if (!q.found)
		return nlab_error_set(err, EBADMSG, "link %s: RTM_GETLINK: no reply", name ? name : "");
	return 0;
}
