/* Impairments as data: the loss program's threshold and instructions,
 * tbf's derived bucket and queue, and how shaping reads in messages. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "net/bpf.h"
#include "net/qdisc.h"

static void test_threshold(void **state)
{
	(void)state;
	assert_true(nlab_bpf_loss_threshold(0) == 0);
	assert_true(nlab_bpf_loss_threshold(1000000) == (UINT64_C(1) << 32));
	/* 1% of 2^32, to the nearest */
	assert_true(nlab_bpf_loss_threshold(10000) == 42949673);
	assert_true(nlab_bpf_loss_threshold(500000) == (UINT64_C(1) << 31));
}

/* The program compares a random u32 with a 64-bit threshold and drops
 * silently below it. */
static void test_program(void **state)
{
	(void)state;
	struct bpf_insn p[16];
	size_t n = nlab_bpf_loss_insns(1000000, p, 16);

	assert_int_equal(n, 8);
	assert_int_equal(p[0].code, BPF_JMP | BPF_CALL);
	assert_int_equal(p[0].imm, BPF_FUNC_get_prandom_u32);
	assert_int_equal(p[1].code, BPF_LD | BPF_DW | BPF_IMM);
	assert_int_equal((uint32_t)p[1].imm, 0);
	assert_int_equal((uint32_t)p[2].imm, 1); /* 2^32: the high half */
	assert_int_equal(p[3].code, BPF_JMP | BPF_JGE | BPF_X);
	assert_int_equal(p[4].imm, TC_ACT_STOLEN);
	assert_int_equal(p[6].imm, TC_ACT_OK);
	assert_int_equal(p[7].code, BPF_JMP | BPF_EXIT);
	assert_int_equal(nlab_bpf_loss_insns(1, p, 4), 0); /* too small a buffer */
}

static void test_derived(void **state)
{
	(void)state;
	struct nlab_shape sh = { .rate_bps = 20000000 };

	/* 10 ms at 2.5 MB/s, and 50 ms of queue beyond it */
	assert_int_equal(nlab_shape_burst(&sh), 25000);
	assert_int_equal(nlab_shape_limit(&sh), 25000 + 125000);
	sh.rate_bps = 100000; /* 1 ms worth is 125 bytes: four frames instead */
	assert_int_equal(nlab_shape_burst(&sh), 4 * 1514);
	sh.mtu = 9000;
	assert_int_equal(nlab_shape_burst(&sh), 4 * 9014);
	sh.burst = 3000;
	sh.limit = 70000;
	assert_int_equal(nlab_shape_burst(&sh), 3000);
	assert_int_equal(nlab_shape_limit(&sh), 70000);
}

static void test_kinds(void **state)
{
	(void)state;
	struct nlab_shape none = { 0 }, loss = { .loss_ppm = 5 }, delay = { .delay_us = 1, .loss_ppm = 5 };

	assert_true(nlab_shape_empty(&none));
	assert_true(nlab_shape_bpf_loss(&loss));
	assert_false(nlab_shape_netem(&loss));
	/* With a delay, netem carries the loss too. */
	assert_true(nlab_shape_netem(&delay));
	assert_false(nlab_shape_bpf_loss(&delay));
}

static void test_format(void **state)
{
	(void)state;
	char buf[160];
	struct nlab_shape sh = { .rate_bps = 1500000, .delay_us = 20000, .jitter_us = 500, .loss_ppm = 5000 };

	nlab_shape_format(&sh, buf, sizeof(buf));
	assert_string_equal(buf, "rate 1500kbit delay 20ms jitter 500us loss 0.5%");
	sh = (struct nlab_shape){ .loss_ppm = 1000000 };
	nlab_shape_format(&sh, buf, sizeof(buf));
	assert_string_equal(buf, "loss 100%");
	sh = (struct nlab_shape){ .loss_ppm = 1 };
	nlab_shape_format(&sh, buf, sizeof(buf));
	assert_string_equal(buf, "loss 0.0001%");
	sh = (struct nlab_shape){ .rate_bps = 1000000000, .burst = 65536, .delay_us = 2000000 };
	nlab_shape_format(&sh, buf, sizeof(buf));
	assert_string_equal(buf, "rate 1gbit burst 65536 delay 2s");
	sh = (struct nlab_shape){ 0 };
	nlab_shape_format(&sh, buf, sizeof(buf));
	assert_string_equal(buf, "none");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threshold), cmocka_unit_test(test_program), cmocka_unit_test(test_derived),
		cmocka_unit_test(test_kinds),	  cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
