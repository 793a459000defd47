#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <json-c/json.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lab/inspect.h"
#include "lab/lab.h"
#include "lab/state.h"
#include "util/cleanup.h"

static bool show_ns;

static const char *jget(json_object *o, const char *k)
{
	json_object *v;
	const char *str = json_object_object_get_ex(o, k, &v) && v ? json_object_get_string(v) : NULL;
	return str ? str : "";
}

/* `--ns`: every namespace of every node, as lsns(8) lists them. */
static void print_ns_table(json_object *lab)
{
	json_object *nodes;

	if (!json_object_object_get_ex(lab, "nodes", &nodes))
		return;
	for (size_t i = 0; i < json_object_array_length(nodes); i++) {
		json_object *n = json_object_array_get_idx(nodes, i), *ns, *arr;
		printf("\nnode %s (pid %s)\n", jget(n, "name"), jget(n, "pid"));
		if (!json_object_object_get_ex(n, "ns", &ns) || !json_object_object_get_ex(ns, "namespaces", &arr)) {
			printf("  (not running)\n");
			continue;
		}
		printf("  %-7s %-12s %-12s %-12s %s\n", "TYPE", "NS", "USERNS", "PARENT", "OWNER-UID");
		for (size_t k = 0; k < json_object_array_length(arr); k++) {
			json_object *e = json_object_array_get_idx(arr, k), *par;
			const char *p = json_object_object_get_ex(e, "parent", &par) ? (par ? json_object_get_string(par) : "?")
										   : "-";
			const char *u = jget(e, "userns"), *ow = jget(e, "owner_uid");
			printf("  %-7s %-12s %-12s %-12s %s\n", jget(e, "type"), jget(e, "inode"), *u ? u : "?", p,
			       *ow ? ow : "?");
		}
		const char *maps[2] = { jget(ns, "uid_map"), jget(ns, "gid_map") };
		for (int m = 0; m < 2; m++) {
			printf("  %s:", m ? "gid_map" : "uid_map");
			cleanup_free char *copy = strdup(maps[m]);
			for (char *save = NULL, *l = copy ? strtok_r(copy, "\n", &save) : NULL; l;
			     l = strtok_r(NULL, "\n", &save)) {
				while (*l == ' ')
					l++;
				printf(" [%s]", l);
			}
			printf("\n");
		}
	}
}

static void print_lab_table(json_object *lab)
{
	json_object *nodes;

	printf("lab %s  state %s  supervisor pid %s\ntopology %s\n\n", jget(lab, "lab"), jget(lab, "state"),
	       jget(lab, "supervisor_pid"), jget(lab, "topology"));
	printf("%-16s %-8s %-12s %-10s %-6s %s\n", "NODE", "PID", "NETNS", "IFACE", "STATE", "ADDRESSES");
	if (!json_object_object_get_ex(lab, "nodes", &nodes))
		return;
	for (size_t i = 0; i < json_object_array_length(nodes); i++) {
		json_object *n = json_object_array_get_idx(nodes, i), *ifs, *ns, *cmds;
		char netns[24] = "-";
		if (json_object_object_get_ex(n, "namespaces", &ns))
			snprintf(netns, sizeof(netns), "%s", jget(ns, "net"));
		if (!json_object_object_get_ex(n, "interfaces", &ifs) || json_object_array_length(ifs) == 0) {
			printf("%-16s %-8s %-12s %s\n", jget(n, "name"), jget(n, "pid"), netns, "(not running)");
			continue;
		}
		for (size_t k = 0; k < json_object_array_length(ifs); k++) {
			json_object *it = json_object_array_get_idx(ifs, k), *addrs;
			printf("%-16s %-8s %-12s %-10s %-6s", k ? "" : jget(n, "name"), k ? "" : jget(n, "pid"),
			       k ? "" : netns, jget(it, "name"), jget(it, "state"));
			if (json_object_object_get_ex(it, "addresses", &addrs))
				for (size_t a = 0; a < json_object_array_length(addrs); a++)
					printf(" %s", json_object_get_string(json_object_array_get_idx(addrs, a)));
			printf("\n");
		}
		json_object *iso, *v;
		if (json_object_object_get_ex(n, "isolation", &iso)) {
			if (json_object_object_get_ex(iso, "userns", &v) && json_object_get_boolean(v))
				printf("%-16s userns: uid/gid 0-65535 -> host %s-%lld / %s-%lld\n", "", jget(iso, "uid_base"),
				       (long long)atoll(jget(iso, "uid_base")) + 65535, jget(iso, "gid_base"),
				       (long long)atoll(jget(iso, "gid_base")) + 65535);
			else
				printf("%-16s userns: off (the node's root is the host's root)\n", "");
			if (json_object_object_get_ex(iso, "uid", &v))
				printf("%-16s user: uid %s gid %s\n", "", jget(iso, "uid"), jget(iso, "gid"));
		}
		if (json_object_object_get_ex(n, "commands", &cmds))
			for (size_t c = 0; c < json_object_array_length(cmds); c++) {
				json_object *cm = json_object_array_get_idx(cmds, c);
				printf("%-16s run [%s] %s\n", "", jget(cm, "pid"), jget(cm, "command"));
			}
	}
}


/* ---- status LAB --firewall [NODE] ------------------------------------ */

static int print_node_firewall(const char *lab, const struct state_node *sn, const struct topology *t,
			       const struct topo_source *src)
{
	struct lab_fw_rows rows;
	nlab_error *err = NULL;

	printf("node %s\n", sn->name);
	if (lab_node_firewall(lab, sn, t, &rows, &err) < 0) {
		nlab_error_print("status", &err);
		return -1;
	}
	if (!rows.running) {
		printf("  (not running)\n");
		return 0;
	}
	if (rows.n == 0) {
		printf("  (no rules)\n");
		return 0;
	}
	printf("  %-24s %-4s %-6s %-11s %-10s %10s %12s  %s\n", "WHERE", "IP", "TABLE", "CHAIN", "TARGET", "PACKETS",
	       "BYTES", "STATEMENT");
	for (size_t i = 0; i < rows.n; i++) {
		const struct lab_fw_row *w = &rows.v[i];
		char where[64], target[48];
		const char *text = "(not from the topology)";
		const char *base = t && t->file ? strrchr(t->file, '/') : NULL;
		base = base ? base + 1 : t ? t->file : "?";
		if (w->line)
			snprintf(where, sizeof(where), "%.40s:%d", base, w->line);
		else
			snprintf(where, sizeof(where), "-");
		const char *stmt = topo_source_line(src, w->line);
		if (stmt) {
			text = stmt;
			while (*text == ' ' || *text == '\t')
				text++;
		}
		snprintf(target, sizeof(target), "%s%s", w->policy ? "policy " : "", w->target);
		printf("  %-24s %-4s %-6s %-11s %-10s %10llu %12llu  %s\n", where, w->family == AF_INET ? "v4" : "v6",
		       w->table, w->chain, target, (unsigned long long)w->packets, (unsigned long long)w->bytes, text);
	}
	lab_fw_rows_free(&rows);
	return 0;
}

static int print_firewall(const char *lab, const char *node)
{
	struct lab_state st;
	nlab_error *err = NULL;
	int r = EXIT_OK;

	if (state_read(lab, &st, &err) < 0) {
		nlab_error_print("status", &err);
		return EXIT_RUNTIME;
	}
	/* The topology file gives each rule its statement text; the rules
	 * themselves come from the kernel. */
	struct topo_source *src = NULL;
	struct topology *t = st.topology && *st.topology ? cli_load_topology_source(st.topology, true, &src) : NULL;
	bool found = false;
	for (size_t i = 0; i < st.nnodes; i++) {
		if (node && strcmp(node, st.nodes[i].name) != 0)
			continue;
		found = true;
		if (i && !node)
			printf("\n");
		if (print_node_firewall(lab, &st.nodes[i], t, src) < 0)
			r = EXIT_RUNTIME;
	}
	if (node && !found) {
		nlab_report("status", "lab '%s' has no node '%s'", lab, node);
		r = EXIT_RUNTIME;
	}
	topo_free(t);
	topo_source_free(src);
	state_clear(&st);
	return r;
}

int cmd_status(int argc, char **argv)
{
	bool json = false, firewall = false;
	const char *lab = NULL, *node = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--firewall"))
			firewall = true;
		else if (!strcmp(argv[i], "--ns"))
			show_ns = true;
		else if (argv[i][0] != '-' && !lab)
			lab = argv[i];
		else if (argv[i][0] != '-' && firewall && !node)
			node = argv[i];
		else {
			cli_usage_error("status", "usage: netlab status [LAB] [--json] [--ns] | netlab status LAB --firewall [NODE]");
			return EXIT_USAGE;
		}
	}
	if (firewall) {
		if (!lab || json || show_ns) {
			cli_usage_error("status", "usage: netlab status LAB --firewall [NODE]");
			return EXIT_USAGE;
		}
		if (cli_require_root("status") < 0)
			return EXIT_RUNTIME;
		return print_firewall(lab, node);
	}
	if (lab) {
		if (cli_require_root("status") < 0)
			return EXIT_RUNTIME;
		struct lab_state st;
		nlab_error *serr = NULL;
		if (state_read(lab, &st, &serr) < 0) {
			if (serr && serr->errnum == ENOENT)
				nlab_report("status", "no lab '%s'", lab);
			else
				nlab_error_print("status", &serr);
			nlab_error_free(&serr);
			return EXIT_RUNTIME;
		}
		state_clear(&st);
		json_object *o = lab_inspect(lab, true, show_ns);
		if (json)
			printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		else if (show_ns)
			print_ns_table(o);
		else
			print_lab_table(o);
		json_object_put(o);
		return EXIT_OK;
	}
	char **labs;
	size_t n;
	nlab_error *err = NULL;
	if (state_list(&labs, &n, &err) < 0) {
		nlab_error_print("status", &err);
		return EXIT_RUNTIME;
	}
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object_array_add(arr, lab_inspect(labs[i], false, false));
		free(labs[i]);
	}
	free(labs);
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY));
	} else if (json_object_array_length(arr) == 0) {
		printf("no labs are up\n");
	} else {
		printf("%-20s %-6s %-6s %-10s %s\n", "LAB", "STATE", "NODES", "SUPERVISOR", "TOPOLOGY");
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *o = json_object_array_get_idx(arr, i);
			printf("%-20s %-6s %-6s %-10s %s\n", jget(o, "lab"), jget(o, "state"), jget(o, "node_count"),
			       jget(o, "supervisor_pid"), jget(o, "topology"));
		}
	}
	json_object_put(arr);
	return EXIT_OK;
}
