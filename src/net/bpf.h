/* The loss program: a tiny eBPF classifier, built from raw instructions
 * and loaded with the bpf() system call (no compiler at run time), that
 * drops each packet with a given probability.  Attached direct-action on
 * an interface's clsact egress hook (net/qdisc.h), it gives `loss` on
 * kernels without netem. */
#ifndef NETLAB_NET_BPF_H
#define NETLAB_NET_BPF_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* The drop threshold for a loss of ppm parts per million: a packet is
 * dropped when a uniform 32-bit random number is below it (2^32 for
 * 100%, hence 64 bits). */
uint64_t nlab_bpf_loss_threshold(uint32_t ppm);

/* The program's instructions (struct bpf_insn) into insns[max];
 * returns their count.  For tests and for the loader. */
size_t nlab_bpf_loss_insns(uint32_t ppm, void *insns, size_t max);

/* Load the program for ppm: a BPF_PROG_TYPE_SCHED_CLS fd, O_CLOEXEC, or
 * -1 with *err (the verifier's log in the message when it refused). */
int nlab_bpf_loss_load(uint32_t ppm, nlab_error **err);

/* The name a loss filter carries (TCA_BPF_NAME), so that the loss can be
 * read back from the kernel: "netlab-loss:PPM". */
#define NLAB_BPF_LOSS_PREFIX "netlab-loss:"

#endif
