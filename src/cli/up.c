#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lab/lab.h"
#include "plan/plan.h"
#include "util/time.h"

/* Refuse what netlab cannot apply yet instead of silently ignoring it. */
static int check_supported(const struct topology *t)
{
	int bad = 0;

	for (size_t i = 0; i < t->links.n; i++) {
		const struct topo_link *l = &t->links.v[i];
		if (l->delay_us || l->jitter_us || l->loss_ppm) {
			fprintf(stderr,
				"%s:%d: error: link delay/jitter/loss are not supported yet: they need the netem qdisc "
				"(kernel option CONFIG_NET_SCH_NETEM)\n",
				t->file, l->pos.line);
			bad = 1;
		}
		if (l->rate_bps) {
			fprintf(stderr, "%s:%d: error: link rate is not supported yet\n", t->file, l->rate_pos.line);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

/* What `up` waits for (a lock someone holds), as it waits. */
static void up_notice(const char *msg, void *arg)
{
	(void)arg;
	nlab_report("up", "%s", msg);
}

/* One line on stderr, redrawn in place: "nodes [#####     ] 512/1000". */
static void progress_bar(const char *phase, size_t done, size_t total, void *arg)
{
	char bar[41];
	size_t full = total ? done * 40 / total : 40;

	*(bool *)arg = true;
	for (size_t i = 0; i < 40; i++)
		bar[i] = i < full ? '#' : ' ';
	bar[40] = '\0';
	fprintf(stderr, "\r%-10s [%s] %zu/%zu", phase, bar, done, total);
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
		json_object *o = plan_json(&p);
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
	} else {
		plan_print(&p, stdout);
	}
	plan_free(&p);
	return EXIT_OK;
}

int cmd_up(int argc, char **argv)
{
	const char *file = NULL, *name = NULL;
	bool dry = false, timing = false, json = false;
	int grace_ms = 2000;
	int64_t t0 = now_ms();

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--name") && i + 1 < argc)
			name = argv[++i];
		else if (!strcmp(argv[i], "--grace") && i + 1 < argc) {
			char *end;
			double g = strtod(argv[++i], &end);
			if (*end || g < 0 || g > 3600) {
				cli_usage_error("up", "--grace takes seconds (0 to 3600), not '%s'", argv[i]);
				return EXIT_USAGE;
			}
			grace_ms = (int)(g * 1000);
		} else if (!strcmp(argv[i], "--dry-run"))
			dry = true;
		else if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--timing"))
			timing = true;
		else if (argv[i][0] == '-') {
			cli_usage_error("up", "unknown option '%s' (usage: netlab up FILE [--name LAB] [--grace SECONDS] [--dry-run [--json]] [--timing])", argv[i]);
			return EXIT_USAGE;
		} else if (file) {
			cli_usage_error("up", "one topology file at a time");
			return EXIT_USAGE;
		} else
			file = argv[i];
	}
	if (!file) {
		cli_usage_error("up", "usage: netlab up FILE [--name LAB]");
		return EXIT_USAGE;
	}
	if (json && !dry) {
		cli_usage_error("up", "--json goes with --dry-run");
		return EXIT_USAGE;
	}
	struct topology *t = cli_load_topology(file, false);
	if (!t)
		return EXIT_USAGE;
	const char *lab = name ? name : t->name;
	if (!topo_lab_name_valid(lab)) {
		cli_usage_error("up", "invalid lab name '%s': use lowercase letters, digits and '-' (not first), at most 32", lab);
		topo_free(t);
		return EXIT_USAGE;
	}
	if (name) {
		free(t->name);
		t->name = strdup(name);
		lab = t->name;
	}
	if (dry) {
		int rc = dry_run(t, lab, json);
		topo_free(t);
		return rc;
	}
	if (check_supported(t) < 0 || cli_require_root("up") < 0) {
		topo_free(t);
		return EXIT_RUNTIME;
	}

	/* A bar only where someone watches, and only when it is worth one. */
	bool bar = false;
	struct lab_up_options o = { .lab = lab, .grace_ms = grace_ms, .progress_arg = &bar, .notice = up_notice };
	if (isatty(STDERR_FILENO) && topo_count_nodes(t) > 50)
		o.progress = progress_bar;
	struct lab_up_result res;
	nlab_error *err = NULL;
	int r = lab_up(t, &o, &res, &err);
	if (bar)
		fputs("\r\033[K", stderr);
	if (res.cleaned_stale)
		nlab_report("up", "removed what a crashed lab '%s' had left", lab);
	if (r == 0) {
		printf("lab %s is up: %zu node%s, %zu link%s in %lld ms\n", lab, res.nodes, res.nodes == 1 ? "" : "s",
		       res.links, res.links == 1 ? "" : "s", (long long)(now_ms() - t0));
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
