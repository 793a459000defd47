#include "net/bpf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/pkt_cls.h>

uint64_t nlab_bpf_loss_threshold(uint32_t ppm)
{
	if (ppm >= 1000000)
		return UINT64_C(1) << 32;
	/* Rounded to the nearest: 1 ppm is 4295 of 2^32. */
	return ((uint64_t)ppm << 32) / 1000000 + (((uint64_t)ppm << 32) % 1000000 >= 500000);
}

/* The instruction macros of the kernel's filter.h, which uapi lacks. */
#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

size_t nlab_bpf_loss_insns(uint32_t ppm, void *out, size_t max)
{
	uint64_t th = nlab_bpf_loss_threshold(ppm);
	/*
	 *   r0 = bpf_get_prandom_u32()        (zero-extended to 64 bits)
	 *   r1 = threshold                    (64-bit immediate: 2^32 for 100%)
	 *   if r0 >= r1 goto pass
	 *   r0 = TC_ACT_STOLEN; exit
	 * pass:
	 *   r0 = TC_ACT_OK; exit
	 *
	 * The comparison is unsigned and 64-bit, so a threshold of 2^32 drops
	 * everything and 0 nothing; the 32-bit immediate of a BPF_K jump
	 * would be sign-extended and could not say 2^32.
	 *
	 * STOLEN, not SHOT: a packet lost on a wire is lost silently.  SHOT
	 * makes dev_queue_xmit() return NET_XMIT_DROP, which the sender sees
	 * (ENOBUFS from sendmsg, ping sends again, TCP retransmits at once);
	 * STOLEN frees the packet and reports success, as netem's loss does.
	 */
	const struct bpf_insn prog[] = {
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_prandom_u32),
		INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, 0, 0, (int32_t)(uint32_t)th),
		INSN(0, 0, 0, 0, (int32_t)(uint32_t)(th >> 32)),
		INSN(BPF_JMP | BPF_JGE | BPF_X, BPF_REG_0, BPF_REG_1, 2, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, TC_ACT_STOLEN),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, TC_ACT_OK),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	size_t n = sizeof(prog) / sizeof(prog[0]);

	if (n > max)
		return 0;
	memcpy(out, prog, sizeof(prog));
	return n;
}

int nlab_bpf_loss_load(uint32_t ppm, nlab_error **err)
{
	struct bpf_insn insns[16];
	char log[2048] = "";
	union bpf_attr a;
	size_t n = nlab_bpf_loss_insns(ppm, insns, 16);
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SCHED_CLS;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = (uint32_t)n;
	/* bpf_get_prandom_u32 is not GPL-only; the string only has to be
	 * one the kernel knows. */
	a.license = (uint64_t)(uintptr_t) "GPL";
	snprintf(a.prog_name, sizeof(a.prog_name), "netlab_loss");
	fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	if (fd >= 0)
		return fd;
	int e = errno;
	/* Ask again with the verifier's log only to explain a refusal. */
	a.log_level = 1;
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = sizeof(log);
	fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	if (fd >= 0)
		return fd;
	if (e == ENOSYS || e == EINVAL)
		return nlab_error_set(err, e,
				      "load the loss program (bpf(BPF_PROG_LOAD), needs CONFIG_BPF_SYSCALL)%s%s",
				      log[0] ? ": " : "", log);
	return nlab_error_set(err, e, "load the loss program (bpf(BPF_PROG_LOAD))%s%s", log[0] ? ": " : "", log);
}
