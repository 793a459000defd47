#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lab/lab.h"
#include "lab/rootless.h"
#include "plan/plan.h"
#include "remote/control.h"
#include "topo/span.h"
#include "util/time.h"

/* What `up` waits for (a lock someone holds), as it waits. */
static bool up_refuse_netns_names(void)
{
	nlab_report("up", "--netns-names needs root: /run/netns is the machine's (docs/rootless.md)");
	return true;
}

static void up_notice(const char *msg, void *arg)
{
	(void)arg;
	nlab_report("up", "%s", msg);
}

/* One line on stderr, redrawn in place: "nodes [#####     ] 512/1000".
 * Each redraw ends by clearing to the end of the line (EL, "\033[K"), so
 * a shorter line leaves nothing of the one before ("61/3011"). */
static void progress_bar(const char *phase, size_t done, size_t total, void *arg)
{
	char bar[41];
	size_t full = total ? done * 40 / total : 40;

	*(bool *)arg = true;
	for (size_t i = 0; i < 40; i++)
		bar[i] = i < full ? '#' : ' ';
	bar[40] = '\0';
	fprintf(stderr, "\r%-10s [%s] %zu/%zu\033[K", phase, bar, done, total);
	fflush(stderr);
}

static int dry_run(const struct topology *t, const char *lab, bool json)
{
	struct plan p;
	nlab_error *err = NULL;

	if (plan_build(t, lab, &p, &err) < 0) {
		nlab_error_print("up", &err);
		return EXIT_RUNTIME;
	}
	if (json) {
		/* plan_json() has the envelope (docs/json.md, "plan"). */
		cli_json_print(plan_json(&p));
	} else {
		plan_print(&p, stdout);
	}
	plan_free(&p);
	return EXIT_OK;
}

/* --machines, --vxlan-port, --vni: the lab's span, placed again when
 * the machines change (diagnostics with the `place` lines). */
static int span_options(struct topology *t, const struct topo_source *src, const char *machines, const char *port,
			const char *vni)
{
	char why[300];

	if (machines) {
		if (topo_machines_from_spec(t, machines, why, sizeof(why)) < 0) {
			cli_usage_error("up", "--machines: %s", why);
			return EXIT_USAGE;
		}
		struct diags d = { 0 };
		if (topo_span_build(t, &d) < 0 || d.nwarnings) {
			diag_sort(&d);
			diag_print(stderr, &d, src);
		}
		bool bad = d.nerrors;
		diag_free(&d);
		if (bad)
			return EXIT_USAGE;
	}
	if (!t->span) {
		if (port || vni) {
			cli_usage_error("up", "%s goes with machines (--machines or `machine` lines)",
					port ? "--vxlan-port" : "--vni");
			return EXIT_USAGE;
		}
		return EXIT_OK;
	}
	char *end;
	long p = port ? strtol(port, &end, 10) : TOPO_VXLAN_PORT;
	if (port && (!*port || *end || p < 1 || p > 65535)) {
		cli_usage_error("up", "--vxlan-port takes a UDP port (1 to 65535), not '%s'", port);
		return EXIT_USAGE;
	}
	t->span->port = (uint16_t)p;
	unsigned long first = vni ? strtoul(vni, &end, 10) : topo_span_default_vni(t->name);
	uint64_t count = t->span->ntunnels + t->span->nspanning;
	if (vni && (!*vni || *end || first < 1 || first + (count ? count - 1 : 0) > TOPO_VNI_MAX)) {
		cli_usage_error("up", "--vni takes the first of %llu VNIs, from 1 to %u, not '%s'",
				(unsigned long long)count, TOPO_VNI_MAX, vni);
		return EXIT_USAGE;
	}
	t->span->vni_base = (uint32_t)first;
	return EXIT_OK;
}

static void up_note(const char *msg, void *arg)
{
	(void)arg;
	nlab_report("up", "%s", msg);
}

/* `up` of a lab across machines: no root needed here, only ssh. */
static int up_machines(struct topology *t, const char *lab, const char *remote, int grace_ms, int line_timeout_s,
		       bool timing, int64_t t0)
{
	struct mh_up_options o = {
		.lab = lab, .remote_netlab = remote, .version = cli_version(), .grace_ms = grace_ms,
		.line_timeout_s = line_timeout_s, .note = up_note,
	};
	struct mh_up_result res;
	nlab_error *err = NULL;

	if (mh_up(t, &o, &res, &err) < 0) {
		nlab_error_print("up", &err);
		if (res.rolled_back)
			nlab_report("up", "rolled back: nothing of lab '%s' is left on any machine", lab);
		return EXIT_RUNTIME;
	}
	printf("lab %s is up: %zu node%s on %zu machine%s (%s), %zu tunnel%s, in %lld ms\n", lab, res.nodes,
	       res.nodes == 1 ? "" : "s", res.machines, res.machines == 1 ? "" : "s", res.per_machine,
	       t->span->ntunnels + t->span->nspanning, t->span->ntunnels + t->span->nspanning == 1 ? "" : "s",
	       (long long)(now_ms() - t0));
	if (timing)
		printf("phases (ms), each machine's: %s\n", res.phases);
	return EXIT_OK;
}

int cmd_up(int argc, char **argv)
{
	struct cli_args a;
	int grace_ms = 2000, line_timeout_s = 120;
	int64_t t0 = now_ms();
	int r = cli_parse("up", argc, argv, &a);

	if (r != 0) {
		cli_args_free(&a);
		return r > 0 ? EXIT_OK : EXIT_USAGE;
	}
	const char *file = a.operands[0], *name = cli_opt(&a, "name"), *grace = cli_opt(&a, "grace");
	const char *timeout = cli_opt(&a, "timeout");
	bool dry = cli_flag(&a, "dry-run"), timing = cli_flag(&a, "timing"), json = cli_flag(&a, "json");
	bool netns_names = cli_flag(&a, "netns-names"), untrusted = cli_flag(&a, "untrusted");
	const char *machines = cli_opt(&a, "machines"), *remote = cli_opt(&a, "remote-netlab");
	const char *vxport = cli_opt(&a, "vxlan-port"), *vni = cli_opt(&a, "vni");
	cli_args_free(&a);
	if (grace) {
		char *end;
		double g = strtod(grace, &end);
		if (!*grace || *end || !(g >= 0 && g <= 3600)) {
			cli_usage_error("up", "--grace takes seconds (0 to 3600), not '%s'", grace);
			return EXIT_USAGE;
		}
		grace_ms = (int)(g * 1000);
	}
	if (timeout) {
		char *end;
		long v = strtol(timeout, &end, 10);
		if (!*timeout || *end || v < 1 || v > 86400) {
			cli_usage_error("up", "--timeout takes seconds (1 to 86400), not '%s'", timeout);
			return EXIT_USAGE;
		}
		line_timeout_s = (int)v;
	}
	if (json && !dry) {
		cli_usage_error("up", "--json goes with --dry-run");
		return EXIT_USAGE;
	}
	if (dry && (netns_names || timing)) {
		cli_usage_error("up", "--dry-run builds nothing: %s does not go with it",
				netns_names ? "--netns-names" : "--timing");
		return EXIT_USAGE;
	}
	/* The lab records its file: `down FILE`, `status --firewall` read it again. */
	if (!strcmp(file, "-") && !dry) {
		cli_usage_error("up", "a lab is built from a file, which it records; '-' (standard input) only goes "
				      "with --dry-run");
		return EXIT_USAGE;
	}
	struct topo_source *src = NULL;
	struct topology *t = cli_load_topology_source(file, false, &src);
	if (!t)
		return EXIT_USAGE;
	/* --untrusted (a grader's machine): refused before anything else. */
	if (untrusted && cli_check_untrusted(t, src) < 0) {
		topo_free(t);
		topo_source_free(src);
		return EXIT_USAGE;
	}
	const char *lab = name ? name : t->name;
	if (!topo_lab_name_valid(lab)) {
		cli_usage_error("up", "invalid lab name '%s': use lowercase letters, digits and '-' (not first), at most 32", lab);
		topo_free(t);
		topo_source_free(src);
		return EXIT_USAGE;
	}
	if (name) {
		free(t->name);
		t->name = strdup(name);
		lab = t->name;
	}
	if ((r = span_options(t, src, machines, vxport, vni)) != EXIT_OK) {
		topo_free(t);
		topo_source_free(src);
		return r;
	}
	if (!t->span && remote) {
		cli_usage_error("up", "--remote-netlab goes with machines (--machines or `machine` lines)");
		topo_free(t);
		topo_source_free(src);
		return EXIT_USAGE;
	}
	if (t->span && netns_names) {
		cli_usage_error("up", "--netns-names names namespaces on one machine; across machines, each "
				      "machine's `ip netns` would need its own");
		topo_free(t);
		topo_source_free(src);
		return EXIT_USAGE;
	}
	if (dry && t->span) {
		nlab_error *err = NULL;
		int rc = EXIT_OK;
		if (json) {
			json_object *o = plan_span_json(t, lab, &err);
			if (o)
				cli_json_print(o);
		} else {
			plan_span_print(t, lab, stdout, &err);
		}
		if (err) {
			nlab_error_print("up", &err);
			rc = EXIT_RUNTIME;
		}
		topo_free(t);
		topo_source_free(src);
		return rc;
	}
	if (t->span) {
		topo_source_free(src);
		int rc = up_machines(t, lab, remote, grace_ms, line_timeout_s, timing, t0);
		topo_free(t);
		return rc;
	}
	if (dry) {
		int rc = dry_run(t, lab, json);
		topo_free(t);
		topo_source_free(src);
		return rc;
	}
	/* An unprivileged user's lab: what needs the host's root is refused
	 * here, each at its statement (topo/privilege.h). */
	if (cli_check_rootless(t, src) || (rootless() && netns_names && up_refuse_netns_names())) {
		topo_free(t);
		topo_source_free(src);
		return EXIT_RUNTIME;
	}
	/* What this kernel cannot apply is refused before anything is made,
	 * with the statement's position (topo/features.h). */
	if (cli_check_kernel(t, src, true, true)) {
		topo_free(t);
		topo_source_free(src);
		return EXIT_RUNTIME;
	}
	topo_source_free(src);
	src = NULL;
	/* An unprivileged user: the rest happens in the lab's own user
	 * namespace, in netlab run again there (lab/rootless.h). */
	if (rootless() && !rootless_inside()) {
		nlab_error *e = NULL;
		int rc = rootless_reexec(state_root(), &e);
		topo_free(t);
		if (rc < 0) {
			nlab_error_print("up", &e);
			return EXIT_RUNTIME;
		}
		return rc;
	}

	/* A bar only where someone watches, and only when it is worth one. */
	bool bar = false;
	struct lab_up_options o = {
		.lab = lab, .grace_ms = grace_ms, .line_timeout_s = line_timeout_s, .progress_arg = &bar,
		.netns_names = netns_names, .notice = up_notice,
	};
	if (isatty(STDERR_FILENO) && topo_count_nodes(t) > 50)
		o.progress = progress_bar;
	struct lab_up_result res;
	nlab_error *err = NULL;
	r = lab_up(t, &o, &res, &err);
	if (bar)
		fputs("\r\033[K", stderr);
	if (res.cleaned_stale)
		nlab_report("up", "removed what a crashed lab '%s' had left", lab);
	if (r == 0) {
		printf("lab %s is up: %zu node%s, %zu link%s in %lld ms\n", lab, res.nodes, res.nodes == 1 ? "" : "s",
		       res.links, res.links == 1 ? "" : "s", (long long)(now_ms() - t0));
		if (netns_names)
			printf("network namespaces named %s-NODE in /run/netns (ip netns list)\n", lab);
		if (timing)
			printf("phases (ms):%s\n", res.phases);
	} else {
		nlab_error_print("up", &err);
		if (res.rolled_back)
			nlab_report("up", "rolled back: nothing of lab '%s' is left", lab);
		else
			nlab_error_print("up", &res.rollback_err);
	}
	topo_free(t);
	/* Stopped by a signal: the shell's way of saying so (130 for ^C). */
	return r == 0 ? EXIT_OK : res.interrupted ? 128 + res.interrupted : EXIT_RUNTIME;
}
