/* Integration tests of net/qdisc.c, net/bpf.c and net/ifconf.c against
 * the running kernel, each in a fresh network namespace of its own (as
 * test_net.c): shaping applied, read back and cleared; the kernel probe;
 * an interface's configuration saved and restored around a down. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/rtnetlink.h>

#include "net/address.h"
#include "net/bpf.h"
#include "net/ifconf.h"
#include "net/link.h"
#include "net/link_veth.h"
#include "net/nlsock.h"
#include "net/qdisc.h"
#include "net/route.h"

#define OK(call)                                                                                \
	do {                                                                                    \
		if ((call) < 0)                                                                 \
			fail_msg("%s: %s", #call, err && err->msg ? err->msg : "(no message)"); \
	} while (0)

struct fx {
	int outer;
	struct nlab_nl *nl;
	int a, b; /* a veth pair, up */
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	nlab_error *err = NULL;

	if (!fx)
		return -1;
	fx->outer = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fx->outer < 0 || unshare(CLONE_NEWNET) < 0 || nlab_nl_open(&fx->nl, &err) < 0)
		return -1;
	struct nlab_veth_spec v = {
		.name = "qa", .ifindex = 10, .netns_fd = -1, .peer = "qb", .peer_ifindex = 11, .peer_netns_fd = -1
	};
	if (nlab_veth_queue_add(fx->nl, &v, "veth", &err) < 0 || nlab_link_queue_up(fx->nl, 10, NULL, "up", &err) < 0 ||
	    nlab_link_queue_up(fx->nl, 11, NULL, "up", &err) < 0 || nlab_nl_flush(fx->nl, &err) < 0) {
		nlab_error_print(NULL, &err);
		return -1;
	}
	fx->a = 10;
	fx->b = 11;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	nlab_nl_close(fx->nl);
	setns(fx->outer, CLONE_NEWNET);
	close(fx->outer);
	free(fx);
	return 0;
}

static void test_rate_and_loss_read_back_and_cleared(void **state)
{
	struct fx *fx = *state;
	nlab_error *err = NULL;
	struct nlab_shape sh = { .rate_bps = 20000000, .loss_ppm = 25000 };
	struct nlab_shape_state st;

	int fd = nlab_bpf_loss_load(sh.loss_ppm, &err);
	OK(fd);
	OK(nlab_shape_queue(fx->nl, fx->a, &sh, fd, "shape qa", &err));
	OK(nlab_nl_flush(fx->nl, &err));
	close(fd); /* the filter holds the program now */
	OK(nlab_shape_read(fx->nl, fx->a, &st, &err));
	assert_true(st.root);
	assert_true(st.clsact);
	assert_false(st.other);
	assert_string_equal(st.root_kind, "tbf");
	assert_int_equal(st.shape.rate_bps, 20000000);
	assert_int_equal(st.shape.loss_ppm, 25000);
	/* The bucket as it comes back from the kernel's 64 ns ticks. */
	assert_true(st.shape.burst > 24000 && st.shape.burst < 26000);
	assert_int_equal(st.shape.limit, nlab_shape_limit(&sh));
	/* The other end was not touched. */
	OK(nlab_shape_read(fx->nl, fx->b, &st, &err));
	assert_false(st.root || st.clsact);

	OK(nlab_shape_read(fx->nl, fx->a, &st, &err));
	OK(nlab_shape_queue_clear(fx->nl, fx->a, &st, "clear qa", &err));
	OK(nlab_nl_flush(fx->nl, &err));
	OK(nlab_shape_read(fx->nl, fx->a, &st, &err));
	assert_false(st.root || st.clsact);
	assert_true(nlab_shape_empty(&st.shape));
}

/* qb's received packets, as `ip -s link` counts them. */
static long rx_packets(void)
{
	FILE *f = popen("ip -s link show qb | awk 'NR == 4 {print $2}'", "r");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		pclose(f);
	}
	return n;
}

/* 100% loss drops everything the end sends, and the sender is not told:
 * lost on the wire, not refused by its own stack. */
static void test_loss_100_drops_silently(void **state)
{
	struct fx *fx = *state;
	nlab_error *err = NULL;
	struct nlab_shape sh = { .loss_ppm = 1000000 };

	/* 10.0.0.2 is nobody's here, so datagrams to it leave through qa
	 * (to qb, by a permanent neighbour entry) instead of looping back. */
	OK(nlab_addr_queue_add(fx->nl, fx->a, AF_INET, (uint8_t[]){ 10, 0, 0, 1 }, 24, 1, "addr", &err));
	OK(nlab_nl_flush(fx->nl, &err));
	assert_int_equal(system("ip neigh replace 10.0.0.2 lladdr $(ip -br link show qb | awk '{print $3}') dev qa nud permanent"),
			 0);
	int fd = nlab_bpf_loss_load(sh.loss_ppm, &err);
	OK(fd);
	OK(nlab_shape_queue(fx->nl, fx->a, &sh, fd, "shape", &err));
	OK(nlab_nl_flush(fx->nl, &err));
	close(fd);
	long rx0 = rx_packets();
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1, ok = 0;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9999) };
	inet_pton(AF_INET, "10.0.0.2", &to.sin_addr);
	/* With IP_RECVERR a refusal on the way out (NET_XMIT_DROP) would be
	 * ENOBUFS from sendto, as ping sees it. */
	setsockopt(s, SOL_IP, IP_RECVERR, &one, sizeof(one));
	for (int i = 0; i < 20; i++)
		ok += sendto(s, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)) == 1;
	close(s);
	assert_int_equal(ok, 20);
	assert_true(rx0 >= 0);
	assert_int_equal(rx_packets(), rx0); /* and none arrived */
}

static void test_probe(void **state)
{
	(void)state;
	struct nlab_tc_features f;

	assert_int_equal(nlab_tc_probe(&f), 1);
	/* This machine's kernel has tbf and cls_bpf (docs/topology.md); netem
	 * may or may not be there. */
	assert_true(f.tbf);
	assert_true(f.bpf_loss);
	printf("# netem: %s\n", f.netem ? "present" : "absent (CONFIG_NET_SCH_NETEM)");
}

/* netem where the kernel has it; ENOENT with the kernel's reason where not. */
static void test_netem_or_its_absence(void **state)
{
	struct fx *fx = *state;
	nlab_error *err = NULL;
	struct nlab_shape sh = { .rate_bps = 10000000, .delay_us = 20000, .jitter_us = 1000, .loss_ppm = 10000 };
	struct nlab_tc_features f;

	assert_int_equal(nlab_tc_probe(&f), 1);
	OK(nlab_shape_queue(fx->nl, fx->a, &sh, -1, "netem qa", &err));
	int r = nlab_nl_flush(fx->nl, &err);
	if (!f.netem) {
		assert_int_equal(r, -1);
		assert_int_equal(err->errnum, ENOENT);
		assert_non_null(strstr(err->msg, "netem qa: RTM_NEWQDISC"));
		nlab_error_free(&err);
		return;
	}
	assert_int_equal(r, 0);
	struct nlab_shape_state st;
	OK(nlab_shape_read(fx->nl, fx->a, &st, &err));
	assert_int_equal(st.shape.delay_us, 20000);
	assert_int_equal(st.shape.jitter_us, 1000);
	assert_int_equal(st.shape.rate_bps, 10000000);
}

/* Addresses and static routes survive a down and up through ifconf. */
static void test_ifconf_save_restore(void **state)
{
	struct fx *fx = *state;
	nlab_error *err = NULL;
	uint8_t a4[4] = { 10, 1, 0, 1 }, net[4] = { 10, 9, 0, 0 }, gw[4] = { 10, 1, 0, 2 };
	uint8_t a6[16] = { 0xfd, 0, [15] = 1 };
	char *buf = NULL;
	size_t len = 0;

	OK(nlab_addr_queue_add(fx->nl, fx->a, AF_INET, a4, 24, 1, "addr", &err));
	OK(nlab_addr_queue_add(fx->nl, fx->a, AF_INET6, a6, 64, 1, "addr6", &err));
	OK(nlab_route_queue_add(fx->nl, AF_INET, net, 16, gw, fx->a, "route", &err));
	OK(nlab_nl_flush(fx->nl, &err));
	OK(nlab_ifconf_save(fx->nl, fx->a, &buf, &len, &err));
	assert_true(len > 0);
	OK(nlab_link_queue_down(fx->nl, fx->a, NULL, "down", &err));
	OK(nlab_nl_flush(fx->nl, &err));
	/* The kernel removed the route: the reason ifconf exists. */
	assert_int_equal(system("ip route show 10.9.0.0/16 | grep -q via"), 256);
	OK(nlab_link_queue_up(fx->nl, fx->a, NULL, "up", &err));
	OK(nlab_ifconf_queue_restore(fx->nl, fx->a, buf, len, "restore", &err));
	OK(nlab_nl_flush(fx->nl, &err));
	free(buf);
	assert_int_equal(system("ip route show 10.9.0.0/16 | grep -q 'via 10.1.0.2 dev qa'"), 0);
	assert_int_equal(system("ip -6 addr show dev qa | grep -q 'fd00::1/64'"), 0);
	assert_int_equal(system("ip addr show dev qa | grep -q '10.1.0.1/24'"), 0);
	/* A damaged buffer is refused, not sent. */
	char junk[64] = { 0 };
	assert_int_equal(nlab_ifconf_queue_restore(fx->nl, fx->a, junk, 20, "junk", &err),
			 0); /* too short: no message */
	((struct nlmsghdr *)junk)->nlmsg_len = 32;
	((struct nlmsghdr *)junk)->nlmsg_type = RTM_NEWLINK;
	assert_int_equal(nlab_ifconf_queue_restore(fx->nl, fx->a, junk, 32, "junk", &err), -1);
	nlab_error_free(&err);
	nlab_nl_discard(fx->nl);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_rate_and_loss_read_back_and_cleared),
		T(test_loss_100_drops_silently),
		T(test_probe),
		T(test_netem_or_its_absence),
		T(test_ifconf_save_restore),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
