/* Link impairments on one interface's egress, through rtnetlink traffic
 * control (never tc(8)): Mininet's TCLink on both ends of a link.
 *
 *   rate          tbf as the root qdisc (handle 1:)
 *   delay/jitter  netem, the root (10:) or tbf's child (parent 1:1);
 *                 a loss on the same end goes into netem too
 *   loss alone    clsact and the loss program of net/bpf.h on its egress
 *                 hook, direct-action: works without netem
 *
 * A kernel without netem still gets `rate` and `loss`; only delay and
 * jitter need CONFIG_NET_SCH_NETEM (nlab_tc_probe() tells beforehand). */
#ifndef NETLAB_NET_QDISC_H
#define NETLAB_NET_QDISC_H

#include <stdbool.h>
#include <stdint.h>

#include "net/nlsock.h"
#include "util/error.h"

struct nlab_shape {
	uint64_t rate_bps; /* 0: no rate limit */
	uint32_t burst;	   /* bytes; 0: derived from rate and mtu */
	uint32_t limit;	   /* bytes of queue; 0: derived */
	uint32_t delay_us, jitter_us;
	uint32_t loss_ppm;
	int mtu; /* the link's, 0 = 1500: sizes the derived burst */
};

bool nlab_shape_empty(const struct nlab_shape *sh);
/* Delay or jitter: netem is needed. */
bool nlab_shape_netem(const struct nlab_shape *sh);
/* Loss through the cls_bpf program rather than netem. */
bool nlab_shape_bpf_loss(const struct nlab_shape *sh);
/* The burst and queue limit tbf gets: the given ones, else a bucket of
 * 10 ms at the rate (at least four full frames) and a queue of 50 ms
 * beyond it. */
uint32_t nlab_shape_burst(const struct nlab_shape *sh);
uint32_t nlab_shape_limit(const struct nlab_shape *sh);

/* "rate 20mbit delay 10ms loss 1%" (or "none"), for the dry run, status
 * and messages. */
void nlab_shape_format(const struct nlab_shape *sh, char *buf, size_t len);

/* Queue what shapes ifindex's egress as sh says.  loss_prog_fd: the
 * loaded loss program for sh->loss_ppm (nlab_bpf_loss_load()) when
 * nlab_shape_bpf_loss(sh), else -1; it must stay open until the batch
 * is flushed.  The interface must have no netlab shaping yet (read it
 * with nlab_shape_read() and clear it first). */
int nlab_shape_queue(struct nlab_nl *nl, int ifindex, const struct nlab_shape *sh, int loss_prog_fd, const char *ctx,
		     nlab_error **err);

/* What the kernel has on ifindex's egress, as far as it is netlab's kind
 * of shaping; *other is set when something else is there too (a qdisc or
 * filter added by hand). */
struct nlab_shape_state {
	struct nlab_shape shape;
	bool root;   /* a root qdisc other than the default */
	bool clsact; /* a clsact qdisc */
	bool other;  /* something netlab would not have put there */
	char root_kind[16];
};
int nlab_shape_read(struct nlab_nl *nl, int ifindex, struct nlab_shape_state *st, nlab_error **err);

/* Queue the removal of what st says is there (root qdisc, clsact). */
int nlab_shape_queue_clear(struct nlab_nl *nl, int ifindex, const struct nlab_shape_state *st, const char *ctx,
			   nlab_error **err);

/* What the running kernel can do, found in a throwaway network namespace
 * of a child process (nothing of the caller's changes): 1 with *out
 * filled, 0 when it cannot tell (no way to make a namespace). */
struct nlab_tc_features {
	bool netem, tbf, bpf_loss;
};
int nlab_tc_probe(struct nlab_tc_features *out);

#endif
