/* netlab link [LAB] NODE:IFACE [--peer|--both] [down | up | flap SECONDS |
 *                                              set OPTION VALUE... | clear]
 * Faults and shaping on a running lab (lab/linkctl.h does the work). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lab/rootless.h"
#include "lab/lab.h"
#include "lab/linkctl.h"
#include "remote/control.h"
#include "topo/parse_util.h"

#define USAGE                                                                                                        \
	"usage: netlab link [LAB] NODE:IFACE [--peer|--both] [down | up | flap SECONDS | set rate R|delay D|jitter " \
	"J|loss P%|burst SIZE|limit SIZE... | clear]"

/* A value as the topology language writes it (topo/parse_util.h), or
 * "off" for none; the parser's message when it is bad. */
static int set_value(const char *opt, const char *val, struct link_request *r)
{
	static const char *const opts[] = { "rate", "delay", "jitter", "loss", "burst", "limit" };
	struct diags d = { 0 };
	struct tok t = { .text = (char *)val };
	uint64_t v = 0;
	uint32_t v32 = 0;
	bool ok = true;
	int which = -1;

	for (int i = 0; i < 6; i++)
		if (strcmp(opt, opts[i]) == 0)
			which = i;
	if (which < 0) {
		cli_usage_error("link", "unknown option '%s' to set (rate, delay, jitter, loss, burst, limit)", opt);
		return -1;
	}
	bool off = strcmp(val, "off") == 0 || strcmp(val, "0") == 0;
	if (!off) {
		switch (which) {
		case 0:
			ok = parse_rate(&d, &t, &v);
			break;
		case 1:
		case 2:
			ok = parse_duration(&d, &t, opt, &v32);
			break;
		case 3:
			ok = parse_percent(&d, &t, &v32);
			break;
		default:
			ok = parse_size(&d, &t, opt, 1600, UINT32_MAX, &v);
			break;
		}
	}
	if (!ok) {
		cli_usage_error("link", "%s", d.n ? d.v[0].msg : "bad value");
		diag_free(&d);
		return -1;
	}
	diag_free(&d);
	switch (which) {
	case 0:
		r->set.rate_bps = v;
		break;
	case 1:
		r->set.delay_us = v32;
		break;
	case 2:
		r->set.jitter_us = v32;
		break;
	case 3:
		r->set.loss_ppm = v32;
		break;
	case 4:
		r->set.burst = (uint32_t)v;
		break;
	default:
		r->set.limit = (uint32_t)v;
		break;
	}
	r->set_mask |= 1u << which;
	return 0;
}

static void print_status(const struct link_status *s, const char *lab)
{
	const char *st = s->ends[0].read && s->ends[1].read && s->ends[0].up && s->ends[1].up && s->ends[0].carrier &&
					 s->ends[1].carrier
				 ? "up"
				 : "down";

	printf("link %s -- %s (line %d of lab %s): %s%s\n", s->ends[0].label, s->ends[1].label, s->line, lab, st,
	       s->saved ? " (an end's addresses and routes are saved for `up`)" : "");
	for (int k = 0; k < 2; k++) {
		const struct link_end_status *e = &s->ends[k];
		char eg[200];
		if (!e->read) {
			printf("  %-24s ?           %s\n", e->label, e->error);
			continue;
		}
		nlab_shape_format(&e->shape.shape, eg, sizeof(eg));
		printf("  %-24s %-11s egress: %s%s\n", e->label,
		       !e->up	     ? "down"
		       : !e->carrier ? "no-carrier"
				     : "up",
		       eg, e->shape.other ? " (+ other qdiscs or filters)" : "");
	}
}

/* A lab across machines: `link` where the end is; a tunnel's far end
 * (--peer, --both) where that end is. */
static int link_across(const char *lab, const char *end, const char *node, const char *ifname, enum link_ends ends,
		       char **act, int nact)
{
	char *peer = NULL, peer_if[NLAB_IFNAMSIZ], peer_end[NLAB_NAME_MAX + NLAB_IFNAMSIZ + 2];
	nlab_error *err = NULL;

	if (mh_link_peer(lab, node, ifname, &peer, peer_if, &err) < 0) {
		bool absent = err && err->errnum == ENOENT;
		nlab_error_print("link", &err);
		return absent ? EXIT_NOTFOUND : EXIT_RUNTIME;
	}
	char **args = calloc((size_t)nact + 5, sizeof(*args));
	if (!args) {
		free(peer);
		return EXIT_RUNTIME;
	}
	args[0] = "link";
	args[1] = (char *)lab;
	memcpy(args + 3, act, (size_t)nact * sizeof(*args));
	int rc = 0;
	if (!peer) {
		/* Both ends on one machine: it does all. */
		args[2] = (char *)end;
		args[3 + nact] = ends == LINK_PEER ? "--peer" : ends == LINK_BOTH ? "--both" : NULL;
		rc = mh_forward_wait(lab, node, args, (size_t)nact + 3 + (ends != LINK_THIS), &err);
	} else {
		snprintf(peer_end, sizeof(peer_end), "%s:%s", peer, peer_if);
		if (ends & LINK_THIS) {
			args[2] = (char *)end;
			rc = mh_forward_wait(lab, node, args, (size_t)nact + 3, &err);
		}
		if (rc == 0 && (ends & LINK_PEER)) {
			args[2] = peer_end;
			rc = mh_forward_wait(lab, peer, args, (size_t)nact + 3, &err);
		}
	}
	if (err)
		nlab_error_print("link", &err);
	free(peer);
	free(args);
	return rc == 255 ? EXIT_RUNTIME : rc;
}

int cmd_link(int argc, char **argv)
{
	struct link_request r = { .action = LINK_SHOW, .ends = LINK_THIS };
	char *lab = NULL, node[64];
	int i = 1;

	struct cli_args a;
	int pr = cli_parse("link", argc, argv, &a);
	if (pr != 0) {
		cli_args_free(&a);
		return pr > 0 ? EXIT_OK : EXIT_USAGE;
	}
	if (cli_flag(&a, "peer") && cli_flag(&a, "both")) {
		cli_usage_error("link", "--peer or --both, not both");
		cli_args_free(&a);
		return EXIT_USAGE;
	}
	if (cli_flag(&a, "peer"))
		r.ends = LINK_PEER;
	else if (cli_flag(&a, "both"))
		r.ends = LINK_BOTH;
	/* The operands, without the options (they point into argv). */
	argc = a.n;
	argv = a.operands;
	i = 0;
	/* NODE:IFACE has a colon; anything before it is the lab. */
	if (i < argc && !strchr(argv[i], ':'))
		lab = strdup(argv[i++]);
	else if (cli_resolve_lab("link", NULL, &lab) < 0) {
		cli_args_free(&a);
		return EXIT_USAGE;
	}
	int rc = EXIT_USAGE;
	if (i >= argc || !strchr(argv[i], ':')) {
		cli_usage_error("link", "name the link by one of its node ends, NODE:IFACE (%s)", USAGE);
		goto out;
	}
	const char *end = argv[i++], *colon = strchr(end, ':');
	int act0 = i;
	if ((size_t)(colon - end) >= sizeof(node) || !colon[1]) {
		cli_usage_error("link", "bad end '%s': write NODE:IFACE", end);
		goto out;
	}
	snprintf(node, sizeof(node), "%.*s", (int)(colon - end), end);
	r.node = node;
	r.ifname = colon + 1;
	if (i < argc) {
		const char *act = argv[i++];
		if (!strcmp(act, "down")) {
			r.action = LINK_DOWN;
		} else if (!strcmp(act, "up")) {
			r.action = LINK_UP;
		} else if (!strcmp(act, "clear")) {
			r.action = LINK_CLEAR;
		} else if (!strcmp(act, "flap")) {
			char *e;
			double s = i < argc ? strtod(argv[i], &e) : -1;
			if (i >= argc || *e || s <= 0 || s > 3600) {
				cli_usage_error("link", "flap takes SECONDS (up to 3600), e.g. flap 2");
				goto out;
			}
			i++;
			r.action = LINK_FLAP;
			r.flap_ms = (uint32_t)(s * 1000 + 0.5);
		} else if (!strcmp(act, "set")) {
			r.action = LINK_SET;
			if (i >= argc) {
				cli_usage_error("link", "set what? %s", USAGE);
				goto out;
			}
			for (; i < argc; i += 2) {
				if (i + 1 >= argc) {
					cli_usage_error("link", "'%s' needs a value", argv[i]);
					goto out;
				}
				if (set_value(argv[i], argv[i + 1], &r) < 0)
					goto out;
			}
		} else {
			cli_usage_error("link", "unknown action '%s' (%s)", act, USAGE);
			goto out;
		}
	}
	if (i < argc) {
		cli_usage_error("link", "unexpected '%s' (%s)", argv[i], USAGE);
		goto out;
	}
	if (r.ends != LINK_THIS && r.action != LINK_SET && r.action != LINK_CLEAR) {
		cli_usage_error("link", "--peer and --both go with set and clear (down, up and flap act on the link)");
		goto out;
	}
	if (mh_controls(lab)) {
		rc = link_across(lab, end, node, r.ifname, r.ends, argv + act0, argc - act0);
		goto out;
	}
	struct link_status st;
	nlab_error *err = NULL;
	if (rootless_join(lab, &err) < 0 || lab_link_change(lab, &r, &st, &err) < 0) {
		nlab_error_print("link", &err);
		rc = EXIT_RUNTIME;
		goto out;
	}
	print_status(&st, lab);
	rc = EXIT_OK;
out:
	free(lab);
	cli_args_free(&a);
	return rc;
}
