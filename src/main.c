/* netlab: a thin command line over the core library.  One verb per file in
 * src/cli/; this file only dispatches. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct cli_verb verbs[] = {
	{ "check", cmd_check, "check FILE", "parse and validate a topology (no root needed)" },
	{ "graph", cmd_graph, "graph FILE [--format dot|svg|png] [-o OUT]", "draw a topology with Graphviz" },
	{ "up", cmd_up, "up FILE [--name LAB] [--grace SECONDS] [--dry-run]", "build the lab and start its commands" },
	{ "down", cmd_down, "down [LAB|FILE] [--all]", "stop a lab and remove every trace of it" },
	{ "status", cmd_status, "status [LAB] [--json] | status LAB --firewall [NODE]", "labs, or one lab's nodes, interfaces, commands; --firewall: rules with counters" },
	{ "exec", cmd_exec, "exec [LAB] NODE [--] CMD...", "run a command inside a node" },
	{ "shell", cmd_shell, "shell [LAB] NODE", "interactive shell inside a node" },
	{ "logs", cmd_logs, "logs [LAB] NODE [-f]", "output of a node's commands" },
	/* Issue 14: testing, capture, link faults. */
	{ "test", cmd_test, "test [LAB|FILE] [--format tap|junit|json] [--up] [--all-pairs] [--untrusted]",
	  "check a lab's expect statements (TAP, JUnit or JSON); --all-pairs: a ping matrix" },
	{ "capture", cmd_capture, "capture [LAB] NODE:IFACE|SWITCH [-w FILE|-] [-c COUNT] [FILTER...]",
	  "record packets of an interface or a whole switch (pcap)" },
	{ "link", cmd_link, "link [LAB] NODE:IFACE [--peer|--both] [down|up|flap S|set ...|clear]",
	  "take a running lab's link down or up, flap it, shape or unshape an end" },
};

#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: netlab VERB [ARGS]\n\n");
	for (size_t i = 0; i < NVERBS; i++)
		fprintf(out, "  netlab %-44s %s\n", verbs[i].usage, verbs[i].summary);
	fprintf(out, "\nExit codes: 0 ok, 1 runtime failure, 2 invalid topology or usage.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < NVERBS; i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			return verbs[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "netlab: unknown verb '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
