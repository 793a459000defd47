/* What the running kernel offers for link impairments, as the netlab
 * command found it (net/qdisc.h probes it), and the diagnostics a
 * topology gets for what it lacks: `check` warns, `up` refuses, both with
 * the statement's position and the kernel option to turn on. */
#ifndef NETLAB_TOPO_FEATURES_H
#define NETLAB_TOPO_FEATURES_H

#include <stdbool.h>

#include "topo/diag.h"
#include "topo/model.h"

struct topo_kernel {
	bool known;    /* false: the probe could not tell (no warning) */
	bool netem;    /* sch_netem: delay, jitter */
	bool tbf;      /* sch_tbf: rate */
	bool bpf_loss; /* sch_ingress (clsact) + cls_bpf + bpf(): loss without netem */
};

/* One diagnostic per statement position, not per range expansion, for
 * each link option the kernel cannot apply.  as_error: errors (`up`),
 * else warnings (`check`).  Returns the number reported. */
size_t topo_check_kernel(const struct topology *t, const struct topo_kernel *k, bool as_error, struct diags *d);

#endif
