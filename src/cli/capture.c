/* netlab capture [LAB] NODE:IFACE|SWITCH [-w FILE|-] [-c COUNT] [FILTER...] */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lab/rootless.h"
#include "lab/capture.h"
#include "lab/lab.h"
#include "remote/control.h"

#define USAGE "usage: netlab capture [LAB] NODE:IFACE|SWITCH [-w FILE|-] [-c COUNT] [FILTER...]"

/* A lab across machines: capture where the interface is, the pcap
 * coming back over ssh (to FILE here). */
static int capture_across(const char *lab, const char *target, const char *file, const char *count,
			  const char *machine, const char *filter)
{
	const char *colon = strchr(target, ':');
	char node[NLAB_NAME_MAX + 1] = "", **names = NULL;
	size_t n = 0;
	nlab_error *err = NULL;
	int rc = EXIT_RUNTIME;

	if (colon && machine) {
		cli_usage_error("capture", "--machine goes with a SWITCH; a node's interface is where the node runs");
		return EXIT_USAGE;
	}
	if (colon) {
		snprintf(node, sizeof(node), "%.*s", (int)(colon - target), target);
	} else if (!machine) {
		if (mh_switch_machines(lab, target, &names, &n, &err) < 0 || n == 0) {
			bool absent = !err || err->errnum == ENOENT;
			nlab_error_print("capture", &err);
			return absent ? EXIT_NOTFOUND : EXIT_RUNTIME;
		}
		machine = names[0];
		if (n > 1)
			nlab_report("capture",
				    "switch %s spans %zu machines: recording its bridge on %s, which sees what crosses "
				    "it there (--machine NAME for another)",
				    target, n, machine);
	}
	if (file && strcmp(file, "-") != 0) {
		int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0) {
			nlab_report("capture", "%s: %s", file, strerror(errno));
			goto out;
		}
		close(fd);
	}
	char *args[8] = { "capture", (char *)lab, (char *)target };
	size_t k = 3;
	if (file) {
		args[k++] = "-w";
		args[k++] = "-";
	}
	if (count) {
		args[k++] = "-c";
		args[k++] = (char *)count;
	}
	if (filter)
		args[k++] = (char *)filter;
	mh_forward(lab, colon ? node : NULL, colon ? NULL : machine, args, k, false, &err);
	rc = err && err->errnum == ENOENT ? EXIT_NOTFOUND : EXIT_RUNTIME;
	nlab_error_print("capture", &err);
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static void say_ready(void *arg)
{
	const char *what = arg;

	/* On stderr: stdout may be the pcap itself. */
	fprintf(stderr, "netlab capture: capturing on %s (Ctrl-C to stop)\n", what);
}

int cmd_capture(int argc, char **argv)
{
	const char *file = NULL, *target = NULL, *labarg = NULL;
	size_t count = 0;
	char *filter = NULL, *lab = NULL;
	size_t flen = 0;
	int rc = EXIT_USAGE;

	struct cli_args a;
	int pr = cli_parse("capture", argc, argv, &a);
	if (pr != 0) {
		cli_args_free(&a);
		return pr > 0 ? EXIT_OK : EXIT_USAGE;
	}
	file = cli_opt(&a, "write");
	const char *c = cli_opt(&a, "count"), *machine = cli_opt(&a, "machine");
	if (c) {
		char *e;
		unsigned long long v = strtoull(c, &e, 10);
		if (!*c || *e || !v) {
			cli_usage_error("capture", "-c takes a number of packets (1 or more), not '%s'", c);
			cli_args_free(&a);
			goto out;
		}
		count = (size_t)v;
	}
	int i = 0;
	/* LAB, then the target; or the target alone (a target of a node has
	 * a colon, a switch's has none: a first word naming a lab that is up
	 * and followed by more is the lab). */
	if (a.n > 1 && !strchr(a.operands[0], ':') && (lab_is_up(a.operands[0]) || mh_controls(a.operands[0])))
		labarg = a.operands[i++];
	target = i < a.n ? a.operands[i++] : NULL;
	for (; i < a.n; i++) {
		size_t n = strlen(a.operands[i]);
		char *f = realloc(filter, flen + n + 2);
		if (!f) {
			cli_args_free(&a);
			goto out;
		}
		filter = f;
		if (flen)
			filter[flen++] = ' ';
		memcpy(filter + flen, a.operands[i], n + 1);
		flen += n;
	}
	cli_args_free(&a);
	if (!target) {
		cli_usage_error("capture", "%s", USAGE);
		goto out;
	}
	if (cli_resolve_lab("capture", labarg, &lab) < 0)
		goto out;
	bool to_stdout = !file || !strcmp(file, "-");
	if (!file && isatty(STDOUT_FILENO)) {
		cli_usage_error("capture", "a pcap is no text for a terminal: write it with -w FILE, or pipe it: "
					   "-w - | tshark -r - (or wireshark -k -i -)");
		goto out;
	}
	if (mh_controls(lab)) {
		rc = capture_across(lab, target, file, c, machine, filter);
		goto out;
	}
	if (machine) {
		cli_usage_error("capture", "--machine goes with a lab across machines");
		goto out;
	}
	nlab_error *jerr = NULL;
	if (rootless_join(lab, &jerr) < 0) {
		nlab_error_print("capture", &jerr);
		rc = EXIT_RUNTIME;
		goto out;
	}
	FILE *out = to_stdout ? fdopen(dup(STDOUT_FILENO), "w") : fopen(file, "we");
	if (!out) {
		nlab_report("capture", "%s: %s", to_stdout ? "stdout" : file, strerror(errno));
		rc = EXIT_RUNTIME;
		goto out;
	}
	char what[128];
	snprintf(what, sizeof(what), "%s of lab %s", target, lab);
	struct lab_capture_options o = {
		.target = target,
		.filter = filter,
		.count = count,
		.out = out,
		.ready = say_ready,
		.ready_arg = what,
	};
	struct lab_capture_result res;
	nlab_error *err = NULL;
	int r = lab_capture(lab, &o, &res, &err);
	if (fclose(out) != 0 && r == 0 && !res.reader_gone) {
		nlab_report("capture", "%s: %s", to_stdout ? "stdout" : file, strerror(errno));
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (r < 0) {
		nlab_error_print("capture", &err);
		rc = EXIT_RUNTIME;
		goto out;
	}
	nlab_report("capture", "%zu packet%s captured on %s%s%s", res.frames, res.frames == 1 ? "" : "s", what,
		    res.lab_down ? "; the lab went down" : "",
		    res.dropped ? "; the kernel dropped some (reading too slowly)" : "");
	rc = EXIT_OK;
out:
	free(filter);
	free(lab);
	return rc;
}
