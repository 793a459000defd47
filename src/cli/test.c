/* netlab test [LAB|FILE] [--format tap|junit|json] [--up] [--all-pairs]
 *             [--untrusted] [--name LAB]
 *
 * Runs a topology's `expect` statements against its running lab
 * (lab/test.h) and prints TAP (default), JUnit XML or JSON.  With a FILE
 * and --up: brings the lab up, tests it and takes it down, which is what
 * a grader or a CI job runs.  Exit status: 0 every expectation holds, 1
 * one does not (or the lab could not be brought up), 2 usage or topology
 * errors. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "lab/lab.h"
#include "lab/state.h"
#include "lab/test.h"
#include "remote/control.h"
#include "topo/span.h"
#include "util/time.h"

#define USAGE "usage: netlab test [LAB|FILE] [--format tap|junit|json] [--up] [--all-pairs] [--untrusted] [--name LAB]"

enum format { FMT_TAP, FMT_JUNIT, FMT_JSON };

static const char *base_name(const char *f)
{
	const char *b = f ? strrchr(f, '/') : NULL;

	return b ? b + 1 : f ? f : "?";
}

/* ---- printing ---------------------------------------------------------- */

/* An expectation's text and line, or those of a check of netlab's own
 * (a dead node). */
static const char *r_text(const struct lab_test_result *r)
{
	return r->e ? r->e->text : r->what;
}

static int r_line(const struct lab_test_result *r)
{
	return r->e ? r->e->pos.line : r->line;
}

static void xml_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			/* XML 1.0 has no place for other control characters. */
			if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
				fputc(*s, f);
			break;
		}
	}
}

static void print_tap(const struct topology *t, const struct lab_test_result *r, size_t n)
{
	printf("1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		printf("%s %zu - %s (%s:%d)", r[i].ok ? "ok" : "not ok", i + 1, r_text(&r[i]), base_name(t->file),
		       r_line(&r[i]));
		if (!r[i].ok)
			printf(" # %s", r[i].detail);
		printf("\n");
	}
}

static void print_junit(const char *lab, const struct topology *t, const struct lab_test_result *r, size_t n,
			int64_t ms, const char *bail)
{
	size_t failed = 0;
	double total = 0;

	for (size_t i = 0; i < n; i++) {
		failed += !r[i].ok;
		total += (double)r[i].ms / 1000;
	}
	printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	printf("<testsuites name=\"netlab test\" tests=\"%zu\" failures=\"%zu\" errors=\"%d\" time=\"%.3f\">\n",
	       bail ? 0 : n, bail ? 0 : failed, bail ? 1 : 0, (double)ms / 1000);
	printf("  <testsuite name=\"");
	xml_escaped(stdout, lab);
	printf("\" tests=\"%zu\" failures=\"%zu\" errors=\"%d\" time=\"%.3f\" file=\"", bail ? 0 : n, bail ? 0 : failed,
	       bail ? 1 : 0, total);
	xml_escaped(stdout, t->file);
	printf("\">\n");
	if (bail) {
		printf("    <error message=\"");
		xml_escaped(stdout, bail);
		printf("\"/>\n");
	}
	for (size_t i = 0; !bail && i < n; i++) {
		printf("    <testcase name=\"");
		xml_escaped(stdout, r_text(&r[i]));
		printf("\" classname=\"");
		xml_escaped(stdout, base_name(t->file));
		printf("\" file=\"");
		xml_escaped(stdout, t->file);
		printf("\" line=\"%d\" time=\"%.3f\"", r_line(&r[i]), (double)r[i].ms / 1000);
		if (r[i].ok) {
			printf("/>\n");
			continue;
		}
		printf(">\n      <failure message=\"");
		xml_escaped(stdout, r[i].detail);
		printf("\">%s:%d: %s", base_name(t->file), r_line(&r[i]), r[i].e ? "expect " : "");
		xml_escaped(stdout, r_text(&r[i]));
		printf(": ");
		xml_escaped(stdout, r[i].detail);
		printf("</failure>\n    </testcase>\n");
	}
	printf("  </testsuite>\n</testsuites>\n");
}

static void print_json(const char *lab, const struct topology *t, const struct lab_test_result *r, size_t n,
		       const char *bail)
{
	json_object *o = json_object_new_object(), *arr = json_object_new_array();
	size_t failed = 0;

	json_object_object_add(o, "schema", json_object_new_string("netlab/1"));
	json_object_object_add(o, "kind", json_object_new_string("test"));
	json_object_object_add(o, "lab", json_object_new_string(lab));
	json_object_object_add(o, "topology", json_object_new_string(t->file));
	for (size_t i = 0; !bail && i < n; i++) {
		json_object *j = json_object_new_object();
		failed += !r[i].ok;
		json_object_object_add(j, "number", json_object_new_int64((int64_t)i + 1));
		json_object_object_add(j, "ok", json_object_new_boolean(r[i].ok));
		json_object_object_add(j, "expect", json_object_new_string(r_text(&r[i])));
		json_object_object_add(j, "line", json_object_new_int(r_line(&r[i])));
		json_object_object_add(j, "detail", json_object_new_string(r[i].detail));
		json_object_object_add(j, "ms", json_object_new_int64(r[i].ms));
		json_object_array_add(arr, j);
	}
	if (bail)
		json_object_object_add(o, "error", json_object_new_string(bail));
	json_object_object_add(o, "tests", json_object_new_int64(bail ? 0 : (int64_t)n));
	json_object_object_add(o, "passed", json_object_new_int64(bail ? 0 : (int64_t)(n - failed)));
	json_object_object_add(o, "failed", json_object_new_int64(bail ? 0 : (int64_t)failed));
	json_object_object_add(o, "results", arr);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
	json_object_put(o);
}

/* A lab that could not be tested at all. */
static void print_bail(enum format fmt, const char *lab, const struct topology *t, const char *why)
{
	if (fmt == FMT_TAP)
		printf("Bail out! %s\n", why);
	else if (fmt == FMT_JUNIT)
		print_junit(lab, t, NULL, 0, 0, why);
	else
		print_json(lab, t, NULL, 0, why);
}

/* Mininet's pingall, with every address of every node. */
static int print_pairs(enum format fmt, const char *lab, const struct topology *t, const struct lab_pairs *p)
{
	size_t full = 0;

	for (size_t i = 0; i < p->n; i++)
		full += p->v[i].answered == p->v[i].naddrs;
	if (fmt == FMT_JSON) {
		json_object *o = json_object_new_object(), *arr = json_object_new_array();
		json_object_object_add(o, "schema", json_object_new_string("netlab/1"));
		json_object_object_add(o, "kind", json_object_new_string("all-pairs"));
		json_object_object_add(o, "lab", json_object_new_string(lab));
		for (size_t i = 0; i < p->n; i++) {
			json_object *j = json_object_new_object();
			json_object_object_add(j, "from", json_object_new_string(t->nodes.v[p->v[i].src].name));
			json_object_object_add(j, "to", json_object_new_string(t->nodes.v[p->v[i].dst].name));
			json_object_object_add(j, "addresses", json_object_new_int64((int64_t)p->v[i].naddrs));
			json_object_object_add(j, "answered", json_object_new_int64((int64_t)p->v[i].answered));
			if (p->v[i].detail[0])
				json_object_object_add(j, "detail", json_object_new_string(p->v[i].detail));
			json_object_array_add(arr, j);
		}
		json_object_object_add(o, "pairs", arr);
		json_object_object_add(o, "reachable", json_object_new_int64((int64_t)full));
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
		return full == p->n ? EXIT_OK : EXIT_RUNTIME;
	}
	printf("*** Ping: every address of every node, from every node (1 s)\n");
	for (size_t i = 0; i < p->n;) {
		size_t s = p->v[i].src;
		printf("%s ->", t->nodes.v[s].name);
		for (; i < p->n && p->v[i].src == s; i++) {
			const struct lab_pair *q = &p->v[i];
			if (q->answered == q->naddrs)
				printf(" %s", t->nodes.v[q->dst].name);
			else if (q->answered)
				printf(" %s(%zu/%zu)", t->nodes.v[q->dst].name, q->answered, q->naddrs);
			else
				printf(" X");
		}
		printf("\n");
	}
	printf("*** Results: %zu%% dropped (%zu/%zu pairs answered on every address)\n",
	       p->n ? (p->n - full) * 100 / p->n : 0, full, p->n);
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].answered != p->v[i].naddrs)
			printf("    %s -> %s: %s\n", t->nodes.v[p->v[i].src].name, t->nodes.v[p->v[i].dst].name,
			       p->v[i].detail);
	return full == p->n ? EXIT_OK : EXIT_RUNTIME;
}

/* ---- the verb ---------------------------------------------------------- */

static bool is_file(const char *arg)
{
	struct stat st;

	return (stat(arg, &st) == 0 && S_ISREG(st.st_mode)) || strchr(arg, '/') ||
	       (strlen(arg) > 5 && !strcmp(arg + strlen(arg) - 5, ".topo"));
}

static int bring_up(struct topology *t, const char *lab, char **why)
{
	/* `up`'s own defaults, but a short grace: a test's lab goes at once. */
	struct lab_up_options o = { .lab = lab, .grace_ms = 1000, .line_timeout_s = 120 };
	struct lab_up_result res = { 0 };
	nlab_error *err = NULL;

	if (t->span) {
		/* Its `machine` lines: across them, with up's defaults. */
		struct mh_up_options mo = { .lab = lab, .version = cli_version(), .grace_ms = 1000,
					    .line_timeout_s = 120 };
		struct mh_up_result mres;
		t->span->port = TOPO_VXLAN_PORT;
		t->span->vni_base = topo_span_default_vni(lab);
		if (mh_up(t, &mo, &mres, &err) == 0)
			return 0;
	} else if (lab_up(t, &o, &res, &err) == 0) {
		return 0;
	}
	if (asprintf(why, "lab %s did not come up: %s", lab, err ? err->msg : "?") < 0)
		*why = NULL;
	nlab_error_free(&err);
	nlab_error_free(&res.rollback_err);
	return -1;
}

static void take_down(const char *lab)
{
	nlab_error *err = NULL;
	struct lab_lock_options lo = { 0 };
	struct lab_down_result res;

	if (mh_controls(lab)) {
		bool existed;
		if (mh_down(lab, 60, NULL, NULL, &existed, &err) < 0)
			nlab_error_print("test", &err);
		return;
	}

	if (lab_take_down(lab, &lo, &res, &err) < 0)
		nlab_error_print("test", &err);
}

int cmd_test(int argc, char **argv)
{
	const char *arg = NULL, *name = NULL;
	bool up = false, pairs = false, untrusted = false;
	enum format fmt = FMT_TAP;
	struct topo_source *src = NULL;
	struct topology *t = NULL;
	char *lab = NULL;
	int rc = EXIT_USAGE;

	struct cli_args a;
	int pr = cli_parse("test", argc, argv, &a);
	if (pr != 0) {
		cli_args_free(&a);
		return pr > 0 ? EXIT_OK : EXIT_USAGE;
	}
	const char *f = cli_opt(&a, "format");
	up = cli_flag(&a, "up");
	pairs = cli_flag(&a, "all-pairs");
	untrusted = cli_flag(&a, "untrusted");
	name = cli_opt(&a, "name");
	arg = a.n ? a.operands[0] : NULL;
	if (f && !strcmp(f, "junit"))
		fmt = FMT_JUNIT;
	else if (f && !strcmp(f, "json"))
		fmt = FMT_JSON;
	else if (f && strcmp(f, "tap") != 0) {
		cli_usage_error("test", "--format takes tap, junit or json, not '%s'", f);
		cli_args_free(&a);
		return EXIT_USAGE;
	}
	/* The strings point into argv, which outlives a. */
	cli_args_free(&a);
	bool file = arg && is_file(arg);
	if (up && !file) {
		cli_usage_error("test", "--up needs a topology FILE (%s)", USAGE);
		return EXIT_USAGE;
	}
	if (file) {
		t = cli_load_topology_source(arg, true, &src);
		if (!t)
			return EXIT_USAGE;
		lab = strdup(name ? name : t->name);
	} else {
		struct lab_state st;
		nlab_error *err = NULL;
		if (cli_resolve_lab("test", arg, &lab) < 0)
			return EXIT_USAGE;
		if (mh_controls(lab)) {
			/* Across machines: the controller's record names the file. */
			struct mh_record r;
			t = mh_record_read(lab, &r, NULL) == 0 && r.topology
				    ? cli_load_topology_source(r.topology, true, &src)
				    : NULL;
			mh_record_clear(&r);
			if (!t) {
				free(lab);
				return EXIT_USAGE;
			}
		} else if (state_read(lab, &st, &err) < 0) {
			nlab_report("test", "no lab '%s'", lab);
			nlab_error_free(&err);
			free(lab);
			return EXIT_USAGE;
		} else {
			t = st.topology && *st.topology ? cli_load_topology_source(st.topology, true, &src) : NULL;
			state_clear(&st);
			if (!t) {
				free(lab);
				return EXIT_USAGE;
			}
		}
	}
	if (!topo_lab_name_valid(lab)) {
		cli_usage_error("test", "invalid lab name '%s'", lab);
		goto out;
	}
	if (name) {
		free(t->name);
		t->name = strdup(name);
	}
	if (untrusted && cli_check_untrusted(t, src) < 0)
		goto out;
	if (!pairs && t->expects.n == 0)
		fprintf(stderr, "netlab test: %s has no expect statements (docs/testing.md)\n", t->file);
	bool across = t->span || mh_controls(lab);
	if (up) {
		char *why = NULL;
		if (cli_check_kernel(t, src, true, true)) {
			rc = EXIT_RUNTIME;
			goto out;
		}
		/* The lab goes down whatever happens: ^C ends the probes
		 * (they have the default action), not this process. */
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		if (bring_up(t, lab, &why) < 0) {
			print_bail(fmt, lab, t, why ? why : "the lab did not come up");
			nlab_report("test", "%s", why ? why : "the lab did not come up");
			free(why);
			rc = EXIT_RUNTIME;
			goto out;
		}
	} else if (!across && !lab_is_up(lab)) {
		nlab_report("test", "lab '%s' is not up (bring it up first, or use --up with the topology file)", lab);
		rc = EXIT_RUNTIME;
		goto out;
	}
	nlab_error *err = NULL;
	int64_t t0 = now_ms();
	if (pairs) {
		struct lab_pairs p;
		if ((mh_controls(lab) ? mh_all_pairs(lab, t, &p, &err) : lab_all_pairs(lab, t, &p, &err)) < 0) {
			nlab_error_print("test", &err);
			rc = EXIT_RUNTIME;
		} else {
			rc = print_pairs(fmt, lab, t, &p);
		}
		lab_pairs_free(&p);
	} else {
		/* Room for a failure per dead node too (lab/test.h); a lab
		 * across machines answers for its expectations only. */
		struct lab_test_result *res = calloc(t->expects.n + t->nodes.n + 1, sizeof(*res));
		size_t nres = t->expects.n;
		if (!res || (mh_controls(lab) ? mh_test(lab, t, res, &err) : lab_test(lab, t, res, &nres, &err)) < 0) {
			print_bail(fmt, lab, t, err ? err->msg : "out of memory");
			nlab_error_print("test", &err);
			rc = EXIT_RUNTIME;
		} else {
			size_t failed = 0;
			for (size_t i = 0; i < nres; i++)
				failed += !res[i].ok;
			if (fmt == FMT_TAP)
				print_tap(t, res, nres);
			else if (fmt == FMT_JUNIT)
				print_junit(lab, t, res, nres, now_ms() - t0, NULL);
			else
				print_json(lab, t, res, nres, NULL);
			rc = failed ? EXIT_RUNTIME : EXIT_OK;
		}
		free(res);
	}
	fflush(stdout);
	if (up)
		take_down(lab);
out:
	topo_free(t);
	topo_source_free(src);
	free(lab);
	return rc;
}
