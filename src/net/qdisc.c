#include "net/qdisc.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include "net/bpf.h"
#include "net/link.h"
#include "util/cleanup.h"

#define H_TBF 0x00010000u   /* 1: */
#define H_NETEM 0x000A0000u /* 10: */
#define H_CLSACT TC_H_MAKE(TC_H_CLSACT, 0)
#define PARENT_EGRESS TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS)
#define LOSS_PRIO 1

/* Bytes of a full frame on the wire side of the qdisc (Ethernet header). */
static uint32_t frame(const struct nlab_shape *sh)
{
	return (uint32_t)(sh->mtu > 0 ? sh->mtu : 1500) + 14;
}

bool nlab_shape_empty(const struct nlab_shape *sh)
{
	return !sh->rate_bps && !sh->delay_us && !sh->jitter_us && !sh->loss_ppm;
}

bool nlab_shape_netem(const struct nlab_shape *sh)
{
	return sh->delay_us || sh->jitter_us;
}

bool nlab_shape_bpf_loss(const struct nlab_shape *sh)
{
	return sh->loss_ppm && !nlab_shape_netem(sh);
}

uint32_t nlab_shape_burst(const struct nlab_shape *sh)
{
	if (sh->burst)
		return sh->burst;
	/* 10 ms worth keeps TCP at the rate (a bucket much smaller than a
	 * timer tick's worth starves it); four frames let a small rate
	 * still pass whole GSO trains without tbf segmenting each one. */
	uint64_t b = sh->rate_bps / 8 / 100, min = 4 * (uint64_t)frame(sh);
	if (b < min)
		b = min;
	return b > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)b;
}

uint32_t nlab_shape_limit(const struct nlab_shape *sh)
{
	if (sh->limit)
		return sh->limit;
	uint64_t l = (uint64_t)nlab_shape_burst(sh) + sh->rate_bps / 8 / 20;
	return l > UINT32_MAX ? UINT32_MAX : (uint32_t)l;
}

static void format_rate(uint64_t bps, char *buf, size_t len)
{
	if (bps % 1000000000 == 0)
		snprintf(buf, len, "%llugbit", (unsigned long long)(bps / 1000000000));
	else if (bps % 1000000 == 0)
		snprintf(buf, len, "%llumbit", (unsigned long long)(bps / 1000000));
	else if (bps % 1000 == 0)
		snprintf(buf, len, "%llukbit", (unsigned long long)(bps / 1000));
	else
		snprintf(buf, len, "%llubit", (unsigned long long)bps);
}

static void format_time(uint32_t us, char *buf, size_t len)
{
	if (us % 1000000 == 0)
		snprintf(buf, len, "%us", us / 1000000);
	else if (us % 1000 == 0)
		snprintf(buf, len, "%ums", us / 1000);
	else
		snprintf(buf, len, "%uus", us);
}

void nlab_shape_format(const struct nlab_shape *sh, char *buf, size_t len)
{
	char v[32];
	size_t o = 0;

#define ADD(...)                                                  \
	do {                                                      \
		int n_ = snprintf(buf + o, len - o, __VA_ARGS__); \
		if (n_ > 0 && (size_t)n_ < len - o)               \
			o += (size_t)n_;                          \
	} while (0)
	if (!len)
		return;
	buf[0] = '\0';
	if (nlab_shape_empty(sh)) {
		ADD("none");
		return;
	}
	if (sh->rate_bps) {
		format_rate(sh->rate_bps, v, sizeof(v));
		ADD("rate %s", v);
		if (sh->burst)
			ADD(" burst %u", sh->burst);
	}
	if (sh->delay_us) {
		format_time(sh->delay_us, v, sizeof(v));
		ADD("%sdelay %s", o ? " " : "", v);
	}
	if (sh->jitter_us) {
		format_time(sh->jitter_us, v, sizeof(v));
		ADD("%sjitter %s", o ? " " : "", v);
	}
	if (sh->limit && (sh->rate_bps || sh->delay_us))
		ADD(" limit %u", sh->limit);
	if (sh->loss_ppm) {
		if (sh->loss_ppm % 10000 == 0)
			ADD("%sloss %u%%", o ? " " : "", sh->loss_ppm / 10000);
		else
			ADD("%sloss %u.%04u%%", o ? " " : "", sh->loss_ppm / 10000, sh->loss_ppm % 10000);
		/* Trailing zeros of the decimals read badly: 0.5000% */
		while (o > 2 && buf[o - 2] == '0' && buf[o - 1] == '%' && strchr(buf + (o > 8 ? o - 8 : 0), '.')) {
			buf[o - 2] = '%';
			buf[--o] = '\0';
		}
		if (o > 2 && buf[o - 2] == '.' && buf[o - 1] == '%') {
			buf[o - 2] = '%';
			buf[--o] = '\0';
		}
	}
#undef ADD
}

/* ---- building requests ------------------------------------------------ */

static struct nlmsghdr *tc_begin(struct nlab_nl *nl, uint16_t type, uint16_t flags, int ifindex, uint32_t handle,
				 uint32_t parent, uint32_t info, nlab_error **err)
{
	struct nlmsghdr *nlh = nlab_nl_msg_begin(nl, type, flags, err);
	struct tcmsg *tcm;

	if (!nlh)
		return NULL;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_handle = handle;
	tcm->tcm_parent = parent;
	tcm->tcm_info = info;
	return nlh;
}

static int queue_tbf(struct nlab_nl *nl, int ifindex, const struct nlab_shape *sh, const char *ctx, nlab_error **err)
{
	struct nlmsghdr *nlh = tc_begin(nl, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, ifindex, H_TBF, TC_H_ROOT, 0, err);
	struct tc_tbf_qopt q;
	uint64_t bytes = sh->rate_bps / 8;

	if (!nlh)
		return -1;
	memset(&q, 0, sizeof(q));
	/* An Ethernet link layer: the kernel computes transmission times
	 * itself, with no rate table to send (tbf_change()). */
	q.rate.linklayer = TC_LINKLAYER_ETHERNET;
	q.rate.rate = bytes >= UINT32_MAX ? UINT32_MAX : (uint32_t)bytes;
	q.limit = nlab_shape_limit(sh);
	mnl_attr_put_strz(nlh, TCA_KIND, "tbf");
	struct nlattr *opt = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put(nlh, TCA_TBF_PARMS, sizeof(q), &q);
	if (bytes >= UINT32_MAX)
		mnl_attr_put_u64(nlh, TCA_TBF_RATE64, bytes);
	/* The bucket in bytes; tbf derives its time from it. */
	mnl_attr_put_u32(nlh, TCA_TBF_BURST, nlab_shape_burst(sh));
	mnl_attr_nest_end(nlh, opt);
	return nlab_nl_msg_commit(nl, nlh, ctx, err);
}

/* Probability as netem wants it: 0 none, UINT32_MAX always. */
static uint32_t netem_prob(uint32_t ppm)
{
	if (ppm >= 1000000)
		return UINT32_MAX;
	return (uint32_t)(((uint64_t)ppm * UINT32_MAX) / 1000000);
}

static int queue_netem(struct nlab_nl *nl, int ifindex, const struct nlab_shape *sh, const char *ctx, nlab_error **err)
{
	uint32_t parent = sh->rate_bps ? TC_H_MAKE(H_TBF, 1) : TC_H_ROOT;
	struct nlmsghdr *nlh = tc_begin(nl, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, ifindex, H_NETEM, parent, 0, err);
	struct tc_netem_qopt q;

	if (!nlh)
		return -1;
	memset(&q, 0, sizeof(q));
	/* netem's fifo counts packets: the byte limit in frames, 1000 (its
	 * own default) without one. */
	q.limit = sh->limit ? (sh->limit + frame(sh) - 1) / frame(sh) : 1000;
	q.loss = netem_prob(sh->loss_ppm);
	/* The 32-bit fields are psched ticks of 64 ns; the 64-bit
	 * attributes below (nanoseconds) take precedence where known. */
	q.latency = (uint32_t)(((uint64_t)sh->delay_us * 1000) >> 6);
	q.jitter = (uint32_t)(((uint64_t)sh->jitter_us * 1000) >> 6);
	mnl_attr_put_strz(nlh, TCA_KIND, "netem");
	/* TCA_OPTIONS of netem is the struct followed by attributes. */
	struct nlattr *opt = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	memcpy(mnl_nlmsg_get_payload_tail(nlh), &q, sizeof(q));
	nlh->nlmsg_len += MNL_ALIGN(sizeof(q));
	mnl_attr_put_u64(nlh, TCA_NETEM_LATENCY64, (uint64_t)sh->delay_us * 1000);
	mnl_attr_put_u64(nlh, TCA_NETEM_JITTER64, (uint64_t)sh->jitter_us * 1000);
	mnl_attr_nest_end(nlh, opt);
	return nlab_nl_msg_commit(nl, nlh, ctx, err);
}

static int queue_bpf_loss(struct nlab_nl *nl, int ifindex, const struct nlab_shape *sh, int prog_fd, const char *ctx,
			  nlab_error **err)
{
	char name[48];
	struct nlmsghdr *nlh =
		tc_begin(nl, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, ifindex, H_CLSACT, TC_H_CLSACT, 0, err);

	if (!nlh)
		return -1;
	mnl_attr_put_strz(nlh, TCA_KIND, "clsact");
	if (nlab_nl_msg_commit(nl, nlh, ctx, err) < 0)
		return -1;
	if (prog_fd < 0)
		return nlab_error_set(err, EBADF, "%s: no loss program", ctx);
	nlh = tc_begin(nl, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, ifindex, 1, PARENT_EGRESS,
		       TC_H_MAKE((uint32_t)LOSS_PRIO << 16, htons(ETH_P_ALL)), err);
	if (!nlh)
		return -1;
	snprintf(name, sizeof(name), NLAB_BPF_LOSS_PREFIX "%u", sh->loss_ppm);
	mnl_attr_put_strz(nlh, TCA_KIND, "bpf");
	struct nlattr *opt = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put_u32(nlh, TCA_BPF_FD, (uint32_t)prog_fd);
	mnl_attr_put_strz(nlh, TCA_BPF_NAME, name);
	/* Direct action: the program's return value is the verdict. */
	mnl_attr_put_u32(nlh, TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
	mnl_attr_nest_end(nlh, opt);
	return nlab_nl_msg_commit(nl, nlh, ctx, err);
}

int nlab_shape_queue(struct nlab_nl *nl, int ifindex, const struct nlab_shape *sh, int loss_prog_fd, const char *ctx,
		     nlab_error **err)
{
	if (ifindex <= 0)
		return nlab_error_set(err, EINVAL, "%s: ifindex %d", ctx, ifindex);
	if (sh->rate_bps && queue_tbf(nl, ifindex, sh, ctx, err) < 0)
		return -1;
	if (nlab_shape_netem(sh) && queue_netem(nl, ifindex, sh, ctx, err) < 0)
		return -1;
	if (nlab_shape_bpf_loss(sh) && queue_bpf_loss(nl, ifindex, sh, loss_prog_fd, ctx, err) < 0)
		return -1;
	return 0;
}

int nlab_shape_queue_clear(struct nlab_nl *nl, int ifindex, const struct nlab_shape_state *st, const char *ctx,
			   nlab_error **err)
{
	struct nlmsghdr *nlh;

	/* Deleting the root takes its children (netem under tbf) along. */
	if (st->root) {
		if (!(nlh = tc_begin(nl, RTM_DELQDISC, 0, ifindex, 0, TC_H_ROOT, 0, err)) ||
		    nlab_nl_msg_commit(nl, nlh, ctx, err) < 0)
			return -1;
	}
	if (st->clsact) {
		if (!(nlh = tc_begin(nl, RTM_DELQDISC, 0, ifindex, H_CLSACT, TC_H_CLSACT, 0, err)) ||
		    nlab_nl_msg_commit(nl, nlh, ctx, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- reading back ----------------------------------------------------- */

struct reader {
	int ifindex;
	struct nlab_shape_state *st;
};

static void read_tbf(const struct nlattr *opts, struct nlab_shape *sh)
{
	const struct nlattr *a;
	uint64_t rate = 0, buffer_ticks = 0;

	mnl_attr_for_each_nested(a, opts)
	{
		switch (mnl_attr_get_type(a)) {
		case TCA_TBF_PARMS:
			if (mnl_attr_get_payload_len(a) >= sizeof(struct tc_tbf_qopt)) {
				const struct tc_tbf_qopt *q = mnl_attr_get_payload(a);
				if (!rate)
					rate = q->rate.rate;
				buffer_ticks = q->buffer;
				sh->limit = q->limit;
			}
			break;
		case TCA_TBF_RATE64:
			if (mnl_attr_get_payload_len(a) == 8)
				rate = mnl_attr_get_u64(a);
			break;
		default:
			break;
		}
	}
	sh->rate_bps = rate * 8;
	/* The bucket comes back as the time it lasts at the rate, in 64 ns
	 * ticks; in bytes again, to the nearest. */
	sh->burst = (uint32_t)((buffer_ticks * 64 * rate + 500000000) / 1000000000);
}

static void read_netem(const struct nlattr *opts, struct nlab_shape *sh)
{
	size_t len = mnl_attr_get_payload_len(opts);
	const struct tc_netem_qopt *q = mnl_attr_get_payload(opts);

	if (len < sizeof(*q))
		return;
	sh->delay_us = (uint32_t)(((uint64_t)q->latency << 6) / 1000);
	sh->jitter_us = (uint32_t)(((uint64_t)q->jitter << 6) / 1000);
	sh->loss_ppm = q->loss == UINT32_MAX
			       ? 1000000
			       : (uint32_t)(((uint64_t)q->loss * 1000000 + (UINT32_MAX / 2)) / UINT32_MAX);
	const char *p = (const char *)q + MNL_ALIGN(sizeof(*q));
	const char *end = (const char *)q + len;
	while (p + sizeof(struct nlattr) <= end) {
		const struct nlattr *a = (const struct nlattr *)p;
		if (a->nla_len < sizeof(*a) || p + a->nla_len > end)
			break;
		if (mnl_attr_get_payload_len(a) == 8 && mnl_attr_get_type(a) == TCA_NETEM_LATENCY64)
			sh->delay_us = (uint32_t)(mnl_attr_get_u64(a) / 1000);
		if (mnl_attr_get_payload_len(a) == 8 && mnl_attr_get_type(a) == TCA_NETEM_JITTER64)
			sh->jitter_us = (uint32_t)(mnl_attr_get_u64(a) / 1000);
		p += MNL_ALIGN(a->nla_len);
	}
}

static int qdisc_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reader *r = data;
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a, *opts = NULL;
	const char *kind = NULL;

	if (nlh->nlmsg_type != RTM_NEWQDISC || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*tcm)) ||
	    tcm->tcm_ifindex != r->ifindex)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*tcm))
	{
		if (mnl_attr_get_type(a) == TCA_KIND && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			kind = mnl_attr_get_str(a);
		else if (mnl_attr_get_type(a) == TCA_OPTIONS)
			opts = a;
	}
	if (!kind)
		return MNL_CB_OK;
	struct nlab_shape_state *st = r->st;
	if (tcm->tcm_parent == TC_H_CLSACT && strcmp(kind, "clsact") == 0) {
		st->clsact = true;
	} else if (tcm->tcm_parent == TC_H_ROOT) {
		/* noqueue, or the default fifos: nothing to delete. */
		if (strcmp(kind, "noqueue") == 0 || (tcm->tcm_handle == 0 && strstr(kind, "fifo")))
			return MNL_CB_OK;
		st->root = true;
		snprintf(st->root_kind, sizeof(st->root_kind), "%s", kind);
		if (strcmp(kind, "tbf") == 0 && opts)
			read_tbf(opts, &st->shape);
		else if (strcmp(kind, "netem") == 0 && opts)
			read_netem(opts, &st->shape);
		else
			st->other = true;
	} else if (tcm->tcm_parent == TC_H_MAKE(H_TBF, 1) && strcmp(kind, "netem") == 0 && opts) {
		read_netem(opts, &st->shape);
	} else if (tcm->tcm_parent == TC_H_MAKE(H_TBF, 1) && strcmp(kind, "bfifo") == 0) {
		/* tbf's own queue */
	} else if (tcm->tcm_parent != TC_H_INGRESS) {
		st->other = true;
	}
	return MNL_CB_OK;
}

static int filter_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reader *r = data;
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a, *b;
	const char *kind = NULL, *name = NULL;

	if (nlh->nlmsg_type != RTM_NEWTFILTER || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*tcm)))
		return MNL_CB_OK;
	/* A filter is dumped once per protocol/priority, with no handle
	 * (tcm_handle 0) before its instances: only the instances count. */
	if (!tcm->tcm_handle)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*tcm))
	{
		if (mnl_attr_get_type(a) == TCA_KIND && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			kind = mnl_attr_get_str(a);
		else if (mnl_attr_get_type(a) == TCA_OPTIONS)
			mnl_attr_for_each_nested(b, a) if (mnl_attr_get_type(b) == TCA_BPF_NAME &&
							   mnl_attr_validate(b, MNL_TYPE_NUL_STRING) == 0) name =
				mnl_attr_get_str(b);
	}
	size_t pl = strlen(NLAB_BPF_LOSS_PREFIX);
	if (kind && strcmp(kind, "bpf") == 0 && name && strncmp(name, NLAB_BPF_LOSS_PREFIX, pl) == 0)
		r->st->shape.loss_ppm = (uint32_t)strtoul(name + pl, NULL, 10);
	else
		r->st->other = true;
	return MNL_CB_OK;
}

int nlab_shape_read(struct nlab_nl *nl, int ifindex, struct nlab_shape_state *st, nlab_error **err)
{
	char buf[256];
	struct reader r = { .ifindex = ifindex, .st = st };
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;

	memset(st, 0, sizeof(*st));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETQDISC;
	nlh->nlmsg_flags = NLM_F_DUMP;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	if (nlab_nl_request(nl, nlh, qdisc_cb, &r, err) < 0)
		return -1;
	if (!st->clsact)
		return 0;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETTFILTER;
	nlh->nlmsg_flags = NLM_F_DUMP;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = PARENT_EGRESS;
	return nlab_nl_request(nl, nlh, filter_cb, &r, err);
}

/* ---- what the kernel can do ------------------------------------------- */

enum { PROBE_TBF = 1, PROBE_NETEM = 2, PROBE_BPF = 4, PROBE_DONE = 64 };

/* Runs in the child, in a network namespace of its own. */
static int probe_child(void)
{
	struct nlab_nl *nl = NULL;
	nlab_error *err = NULL;
	int r = PROBE_DONE;

	if (nlab_nl_open(&nl, &err) < 0)
		return 0;
	struct nlab_shape rate = { .rate_bps = 1000000 }, delay = { .delay_us = 1000 }, loss = { .loss_ppm = 1 };
	struct nlab_shape_state st = { .root = true };
	/* lo is ifindex 1 in a new namespace. */
	if (nlab_shape_queue(nl, 1, &rate, -1, "probe", &err) == 0 && nlab_nl_flush(nl, &err) == 0) {
		r |= PROBE_TBF;
		nlab_shape_queue_clear(nl, 1, &st, "probe", NULL);
		nlab_nl_flush(nl, NULL);
	}
	nlab_error_free(&err);
	if (nlab_shape_queue(nl, 1, &delay, -1, "probe", &err) == 0 && nlab_nl_flush(nl, &err) == 0)
		r |= PROBE_NETEM;
	nlab_error_free(&err);
	int fd = nlab_bpf_loss_load(loss.loss_ppm, &err);
	if (fd >= 0 && nlab_shape_queue(nl, 1, &loss, fd, "probe", &err) == 0 && nlab_nl_flush(nl, &err) == 0)
		r |= PROBE_BPF;
	else if (fd < 0 && err && err->errnum == EPERM)
		r |= PROBE_BPF; /* not ours to load (not root): `up` will tell */
	nlab_error_free(&err);
	if (fd >= 0)
		close(fd);
	nlab_nl_close(nl);
	return r;
}

static int write_map(const char *path, const char *text)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(text);

	return fd >= 0 && write(fd, text, len) == (ssize_t)len ? 0 : -1;
}

int nlab_tc_probe(struct nlab_tc_features *out)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int status;

	memset(out, 0, sizeof(*out));
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		/* Without root, a user namespace of our own lends the
		 * capabilities a network namespace needs. */
		int flags = CLONE_NEWNET | (uid ? CLONE_NEWUSER : 0);
		char map[64];
		if (unshare(flags) < 0)
			_exit(0);
		if (uid) {
			snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
			if (write_map("/proc/self/setgroups", "deny") < 0 || write_map("/proc/self/uid_map", map) < 0)
				_exit(0);
			snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
			if (write_map("/proc/self/gid_map", map) < 0)
				_exit(0);
		}
		_exit(probe_child());
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 0;
	if (!WIFEXITED(status) || !(WEXITSTATUS(status) & PROBE_DONE))
		return 0;
	out->tbf = WEXITSTATUS(status) & PROBE_TBF;
	out->netem = WEXITSTATUS(status) & PROBE_NETEM;
	out->bpf_loss = WEXITSTATUS(status) & PROBE_BPF;
	return 1;
}
