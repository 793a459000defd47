/* netlab status [LAB [NODE] [--ns] | LAB --firewall [NODE]] [--json]: tables
 * sized from their contents, or JSON (docs/json.md: kinds labs, lab,
 * firewall).  What is shown is gathered by lab/inspect.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "lab/rootless.h"
#include "lab/inspect.h"
#include "lab/lab.h"
#include "lab/state.h"
#include "remote/control.h"
#include "util/cleanup.h"

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
		printf("%snode %s (pid %s)\n", i ? "\n" : "", jget(n, "name"), jget(n, "pid"));
		if (!json_object_object_get_ex(n, "ns", &ns) || !json_object_object_get_ex(ns, "namespaces", &arr)) {
			printf("  (not running)\n");
			continue;
		}
		static const char *const head[] = { "TYPE", "NS", "USERNS", "PARENT", "OWNER-UID" };
		struct cli_table *t = cli_table_new(5, head);
		for (size_t k = 0; k < json_object_array_length(arr); k++) {
			json_object *e = json_object_array_get_idx(arr, k), *par;
			const char *p = json_object_object_get_ex(e, "parent", &par)
						? (par ? json_object_get_string(par) : "?")
						: "-";
			const char *u = jget(e, "userns"), *ow = jget(e, "owner_uid");
			const char *row[] = { jget(e, "type"), jget(e, "inode"), *u ? u : "?", p, *ow ? ow : "?" };
			cli_table_add(t, row);
		}
		cli_table_print(t, stdout, "  ");
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

/* "its init was killed by signal 9 (Killed); the OOM killer killed 2 of
 * its processes", from the node's `died`. */
static void death_text(json_object *died, char *buf, size_t len)
{
	json_object *v;
	int k = 0;

	if (json_object_object_get_ex(died, "signal", &v))
		k = snprintf(buf, len, "its init was killed by signal %d (%s)", json_object_get_int(v),
			     strsignal(json_object_get_int(v)));
	else if (json_object_object_get_ex(died, "code", &v))
		k = snprintf(buf, len, "its init exited with code %d", json_object_get_int(v));
	else
		k = snprintf(buf, len, "its init is gone");
	if (json_object_object_get_ex(died, "oom_kills", &v) && json_object_get_int64(v) > 0 && k > 0 && (size_t)k < len)
		snprintf(buf + k, len - (size_t)k, "; the OOM killer killed %lld of its processes",
			 (long long)json_object_get_int64(v));
}

/* "restarted 2 times, the last at 12:03:04: ok" */
static void restarts_text(struct cli_table *t, json_object *n)
{
	json_object *v, *last;
	char when[32] = "?";

	if (!json_object_object_get_ex(n, "restarts", &v) || json_object_get_int(v) == 0 ||
	    !json_object_object_get_ex(n, "last_restart", &last))
		return;
	int count = json_object_get_int(v);
	json_object *tm;
	if (json_object_object_get_ex(last, "time", &tm)) {
		time_t at = (time_t)json_object_get_int64(tm);
		struct tm lt;
		if (localtime_r(&at, &lt))
			strftime(when, sizeof(when), "%H:%M:%S", &lt);
	}
	const char *result = jget(last, "result");
	/* The first line of why: the rest (the output's end) is long. */
	const char *err = jget(last, "error");
	int elen = (int)strcspn(err, "\n");
	cli_table_add_text(t, 1, "restarted %d time%s, the last at %s: %s%s%.*s", count, count == 1 ? "" : "s", when,
			   !strcmp(result, "running") ? "under way" : result, *err ? ": " : "", elen, err);
}

/* A lab across machines has a MACHINE column after NODE: the row's
 * cells shift by one (mc). */
static void add_row(struct cli_table *t, const char *const *cells, json_object *n, bool mc)
{
	const char *row[7];

	row[0] = cells[0];
	if (mc)
		row[1] = cells[0] && *cells[0] ? jget(n, "machine") : "";
	for (int k = 1; k < 6; k++)
		row[k + mc] = cells[k];
	cli_table_add(t, row);
}

static void node_rows(struct cli_table *t, json_object *n, bool mc)
{
	json_object *ifs, *ns, *cmds, *iso, *v;
	const char *netns = "-";

	if (json_object_object_get_ex(n, "namespaces", &ns))
		netns = jget(ns, "net");
	if (!json_object_object_get_ex(n, "interfaces", &ifs) || json_object_array_length(ifs) == 0) {
		json_object *died;
		char why[200];
		bool dead = json_object_object_get_ex(n, "died", &died);
		const char *row[] = { jget(n, "name"), jget(n, "pid"), netns, dead ? "DEAD" : "(not running)", NULL,
				      NULL };
		add_row(t, row, n, mc);
		if (dead) {
			death_text(died, why, sizeof(why));
			cli_table_add_text(t, 1, "dead: %s (netlab test fails; down and up bring it back)", why);
		}
		restarts_text(t, n);
		return;
	}
	for (size_t k = 0; k < json_object_array_length(ifs); k++) {
		json_object *it = json_object_array_get_idx(ifs, k), *addrs;
		char *list = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&list, &len);
		if (f && json_object_object_get_ex(it, "addresses", &addrs))
			for (size_t a = 0; a < json_object_array_length(addrs); a++)
				fprintf(f, "%s%s", a ? " " : "",
					json_object_get_string(json_object_array_get_idx(addrs, a)));
		if (f)
			fclose(f);
		const char *row[] = {
			k ? "" : jget(n, "name"), k ? "" : jget(n, "pid"), k ? "" : netns,
			jget(it, "name"),	  jget(it, "state"),	   list,
		};
		add_row(t, row, n, mc);
		free(list);
	}
	if (*jget(n, "netns_name"))
		cli_table_add_text(t, 1, "netns: %s (ip netns exec %s ...)", jget(n, "netns_name"),
				   jget(n, "netns_name"));
	if (json_object_object_get_ex(n, "isolation", &iso)) {
		json_object *rl;
		if (json_object_object_get_ex(iso, "rootless_ids", &rl)) {
			long long ids = json_object_get_int64(rl);
			if (ids > 1)
				cli_table_add_text(t, 1, "userns: rootless: node root is you; node IDs 1-%lld are %lld of your "
							 "subordinate IDs (the lab's %s-%lld)",
						   ids - 1, ids - 1, jget(iso, "uid_base"),
						   (long long)atoll(jget(iso, "uid_base")) + ids - 2);
			else
				cli_table_add_text(t, 1, "userns: rootless: node root is you, no other IDs (no /etc/subuid range)");
		} else if (json_object_object_get_ex(iso, "userns", &v) && json_object_get_boolean(v))
			cli_table_add_text(t, 1, "userns: uid/gid 0-65535 -> host %s-%lld / %s-%lld",
					   jget(iso, "uid_base"), (long long)atoll(jget(iso, "uid_base")) + 65535,
					   jget(iso, "gid_base"), (long long)atoll(jget(iso, "gid_base")) + 65535);
		else
			cli_table_add_text(t, 1, "userns: off (the node's root is the host's root)");
		if (json_object_object_get_ex(iso, "uid", &v))
			cli_table_add_text(t, 1, "user: uid %s gid %s", jget(iso, "uid"), jget(iso, "gid"));
	}
	if (json_object_object_get_ex(n, "commands", &cmds))
		for (size_t c = 0; c < json_object_array_length(cmds); c++) {
			json_object *cm = json_object_array_get_idx(cmds, c), *ln;
			if (json_object_object_get_ex(cm, "line", &ln))
				cli_table_add_text(t, 1, "run [%s] %s (line %s)", jget(cm, "pid"), jget(cm, "command"),
						   json_object_get_string(ln));
			else
				cli_table_add_text(t, 1, "run [%s] %s", jget(cm, "pid"), jget(cm, "command"));
		}
	restarts_text(t, n);
	json_object *ex;
	if (json_object_object_get_ex(n, "exited", &ex))
		for (size_t c = 0; c < json_object_array_length(ex); c++) {
			json_object *e = json_object_array_get_idx(ex, c), *code;
			if (json_object_object_get_ex(e, "code", &code))
				cli_table_add_text(t, 1, "exited: the run line at line %s ended with exit code %s",
						   jget(e, "line"), json_object_get_string(code));
			else
				cli_table_add_text(t, 1, "exited: the run line at line %s was killed by signal %s",
						   jget(e, "line"), jget(e, "signal"));
		}
}

static void print_lab_table(json_object *lab)
{
	json_object *nodes, *machines;
	static const char *const head[] = { "NODE", "PID", "NETNS", "IFACE", "STATE", "ADDRESSES" };
	static const char *const mhead[] = { "NODE", "MACHINE", "PID", "NETNS", "IFACE", "STATE", "ADDRESSES" };
	bool mc = json_object_object_get_ex(lab, "machines", &machines);

	if (mc) {
		/* Each machine runs its part under its own supervisor. */
		printf("lab %s  state %s  across %zu machines\ntopology %s\n", jget(lab, "lab"), jget(lab, "state"),
		       json_object_array_length(machines), jget(lab, "topology"));
		for (size_t i = 0; i < json_object_array_length(machines); i++) {
			json_object *m = json_object_array_get_idx(machines, i);
			const char *e = jget(m, "error");
			printf("machine %s (%s, underlay %s): %s", jget(m, "name"), jget(m, "address"),
			       *jget(m, "underlay") ? jget(m, "underlay") : "?", jget(m, "state"));
			if (*jget(m, "supervisor_pid"))
				printf(", supervisor pid %s, %s node%s", jget(m, "supervisor_pid"), jget(m, "node_count"),
				       strcmp(jget(m, "node_count"), "1") ? "s" : "");
			printf("%s%s\n", *e ? ": " : "", e);
		}
		printf("\n");
	} else {
		int dead = atoi(jget(lab, "dead_nodes"));
		printf("lab %s  state %s%s%.0d%s  supervisor pid %s\ntopology %s\n\n", jget(lab, "lab"), jget(lab, "state"),
		       dead ? " (" : "", dead, dead ? (dead == 1 ? " node dead)" : " nodes dead)") : "",
		       jget(lab, "supervisor_pid"), jget(lab, "topology"));
	}
	struct cli_table *t = cli_table_new(mc ? 7 : 6, mc ? mhead : head);
	cli_table_right(t, mc ? 2 : 1);
	if (json_object_object_get_ex(lab, "nodes", &nodes))
		for (size_t i = 0; i < json_object_array_length(nodes); i++)
			node_rows(t, json_object_array_get_idx(nodes, i), mc);
	cli_table_print(t, stdout, "");
}

/* Links: their state and each end's egress shaping (`netlab link`). */
static void print_links(json_object *lab)
{
	json_object *links;

	if (!json_object_object_get_ex(lab, "links", &links) || json_object_array_length(links) == 0)
		return;
	printf("\n%-36s %-5s %-6s %s\n", "LINK END", "LINE", "STATE", "EGRESS");
	for (size_t i = 0; i < json_object_array_length(links); i++) {
		json_object *l = json_object_array_get_idx(links, i), *ends;
		if (!json_object_object_get_ex(l, "ends", &ends))
			continue;
		for (size_t k = 0; k < json_object_array_length(ends); k++) {
			json_object *e = json_object_array_get_idx(ends, k);
			const char *eg = jget(e, "egress");
			printf("%s%-34s %-5s %-6s %s\n", k ? "  " : "", jget(e, "end"), k ? "" : jget(l, "line"),
			       jget(e, "state"), *eg ? eg : jget(e, "error"));
		}
	}
}

/* ---- status LAB --firewall [NODE] ------------------------------------ */

static const char *rule_text(const struct topo_source *src, int line)
{
	const char *text = topo_source_line(src, line);

	while (text && (*text == ' ' || *text == '\t'))
		text++;
	return text;
}

static json_object *rules_json(const struct lab_fw_rows *rows, const struct topo_source *src)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < rows->n; i++) {
		const struct lab_fw_row *w = &rows->v[i];
		json_object *r = json_object_new_object();
		const char *text = w->line ? rule_text(src, w->line) : NULL;
		json_object_object_add(r, "line", w->line ? json_object_new_int(w->line) : NULL);
		json_object_object_add(r, "statement", text ? json_object_new_string(text) : NULL);
		json_object_object_add(r, "family", json_object_new_int(w->family == AF_INET ? 4 : 6));
		json_object_object_add(r, "table", json_object_new_string(w->table));
		json_object_object_add(r, "chain", json_object_new_string(w->chain));
		json_object_object_add(r, "target", json_object_new_string(w->target));
		json_object_object_add(r, "policy", json_object_new_boolean(w->policy));
		json_object_object_add(r, "packets", json_object_new_uint64(w->packets));
		json_object_object_add(r, "bytes", json_object_new_uint64(w->bytes));
		json_object_array_add(arr, r);
	}
	return arr;
}

static void rules_table(const struct lab_fw_rows *rows, const struct topology *t, const struct topo_source *src)
{
	static const char *const head[] = { "WHERE", "IP", "TABLE", "CHAIN", "TARGET", "PACKETS", "BYTES", "STATEMENT" };
	const char *base = t && t->file ? strrchr(t->file, '/') : NULL;
	struct cli_table *tb = cli_table_new(8, head);

	base = base ? base + 1 : t ? t->file : "?";
	cli_table_right(tb, 5);
	cli_table_right(tb, 6);
	for (size_t i = 0; i < rows->n; i++) {
		const struct lab_fw_row *w = &rows->v[i];
		char where[4200], target[48], packets[24], bytes[24];
		const char *text = w->line ? rule_text(src, w->line) : NULL;
		if (w->line)
			snprintf(where, sizeof(where), "%s:%d", base, w->line);
		else
			snprintf(where, sizeof(where), "-");
		snprintf(target, sizeof(target), "%s%s", w->policy ? "policy " : "", w->target);
		snprintf(packets, sizeof(packets), "%llu", (unsigned long long)w->packets);
		snprintf(bytes, sizeof(bytes), "%llu", (unsigned long long)w->bytes);
		const char *row[] = {
			where, w->family == AF_INET ? "v4" : "v6",	w->table, w->chain, target, packets,
			bytes, text ? text : "(not from the topology)",
		};
		cli_table_add(tb, row);
	}
	cli_table_print(tb, stdout, "  ");
}

/* One node: its table, or its member of the JSON "nodes". */
static int node_firewall(const char *lab, const struct state_node *sn, const struct topology *t,
			 const struct topo_source *src, json_object *nodes, bool first)
{
	struct lab_fw_rows rows;
	nlab_error *err = NULL;

	if (lab_node_firewall(lab, sn, t, &rows, &err) < 0) {
		nlab_error_wrap(&err, "node %s", sn->name);
		nlab_error_print("status", &err);
		return -1;
	}
	if (nodes) {
		json_object *n = json_object_new_object();
		json_object_object_add(n, "name", json_object_new_string(sn->name));
		json_object_object_add(n, "running", json_object_new_boolean(rows.running));
		json_object_object_add(n, "rules", rules_json(&rows, src));
		json_object_array_add(nodes, n);
	} else {
		printf("%snode %s\n", first ? "" : "\n", sn->name);
		if (!rows.running)
			printf("  (not running)\n");
		else if (rows.n == 0)
			printf("  (no rules)\n");
		else
			rules_table(&rows, t, src);
	}
	lab_fw_rows_free(&rows);
	return 0;
}

/* 0, or the exit code: EXIT_NOTFOUND when the lab has no state. */
static int read_state(const char *lab, struct lab_state *st)
{
	nlab_error *err = NULL;

	if (state_read(lab, st, &err) == 0)
		return 0;
	if (err && err->errnum == ENOENT) {
		nlab_error_free(&err);
		nlab_report("status", "no lab '%s' (netlab status lists the labs)", lab);
		return EXIT_NOTFOUND;
	}
	nlab_error_print("status", &err);
	return EXIT_RUNTIME;
}

static int print_firewall(const char *lab, const char *node, bool json)
{
	struct lab_state st;
	int r;

	if ((r = read_state(lab, &st)) != 0)
		return r;
	if (node && !state_find_node(&st, node)) {
		nlab_report("status", "lab '%s' has no node '%s'", lab, node);
		state_clear(&st);
		return EXIT_NOTFOUND;
	}
	/* The topology file gives each rule its statement text; the rules
	 * themselves come from the kernel. */
	struct topo_source *src = NULL;
	struct topology *t = st.topology && *st.topology ? cli_load_topology_source(st.topology, true, &src) : NULL;
	json_object *nodes = json ? json_object_new_array() : NULL;
	bool first = true;
	for (size_t i = 0; i < st.nnodes; i++) {
		if (node && strcmp(node, st.nodes[i].name) != 0)
			continue;
		if (node_firewall(lab, &st.nodes[i], t, src, nodes, first) < 0)
			r = EXIT_RUNTIME;
		first = false;
	}
	if (json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "lab", json_object_new_string(lab));
		json_object_object_add(o, "topology", json_object_new_string(st.topology ? st.topology : ""));
		json_object_object_add(o, "nodes", nodes);
		cli_json_print(cli_json_envelope("firewall", o));
	}
	topo_free(t);
	topo_source_free(src);
	state_clear(&st);
	return r;
}

/* `status LAB --firewall` of a lab across machines, as text: from the
 * merged JSON (each machine read its own nodes). */
static void print_firewall_json(json_object *o)
{
	json_object *nodes;
	static const char *const head[] = { "WHERE", "IP", "TABLE", "CHAIN", "TARGET", "PACKETS", "BYTES", "STATEMENT" };
	const char *base = strrchr(jget(o, "topology"), '/');

	base = base ? base + 1 : jget(o, "topology");
	if (!json_object_object_get_ex(o, "nodes", &nodes))
		return;
	for (size_t i = 0; i < json_object_array_length(nodes); i++) {
		json_object *n = json_object_array_get_idx(nodes, i), *rules, *v;
		printf("%snode %s (machine %s)\n", i ? "\n" : "", jget(n, "name"), jget(n, "machine"));
		if (json_object_object_get_ex(n, "running", &v) && !json_object_get_boolean(v)) {
			printf("  (not running)\n");
			continue;
		}
		if (!json_object_object_get_ex(n, "rules", &rules) || !json_object_array_length(rules)) {
			printf("  (no rules)\n");
			continue;
		}
		struct cli_table *t = cli_table_new(8, head);
		cli_table_right(t, 5);
		cli_table_right(t, 6);
		for (size_t k = 0; k < json_object_array_length(rules); k++) {
			json_object *r = json_object_array_get_idx(rules, k), *p;
			char where[400], ip[4], target[64];
			if (*jget(r, "line"))
				snprintf(where, sizeof(where), "%s:%s", base, jget(r, "line"));
			else
				snprintf(where, sizeof(where), "-");
			snprintf(ip, sizeof(ip), "v%s", jget(r, "family"));
			bool pol = json_object_object_get_ex(r, "policy", &p) && json_object_get_boolean(p);
			snprintf(target, sizeof(target), "%s%s", pol ? "policy " : "", jget(r, "target"));
			const char *st = jget(r, "statement");
			const char *row[] = { where, ip, jget(r, "table"), jget(r, "chain"), target, jget(r, "packets"),
					      jget(r, "bytes"), *st ? st : "(not from the topology)" };
			cli_table_add(t, row);
		}
		cli_table_print(t, stdout, "  ");
	}
}

/* `status LAB ...` of a lab across machines: every machine asked. */
static int status_across(const char *lab, const char *node, bool json, bool firewall, bool ns)
{
	nlab_error *err = NULL;
	json_object *o = firewall ? mh_firewall(lab, node, &err) : mh_status(lab, ns, &err);

	if (!o) {
		bool absent = err && err->errnum == ENOENT;
		nlab_error_print("status", &err);
		return absent ? EXIT_NOTFOUND : EXIT_RUNTIME;
	}
	if (json) {
		cli_json_print(cli_json_envelope(firewall ? "firewall" : "lab", o));
		return EXIT_OK;
	}
	if (firewall)
		print_firewall_json(o);
	else if (ns)
		print_ns_table(o);
	else {
		print_lab_table(o);
		print_links(o);
	}
	json_object_put(o);
	return EXIT_OK;
}

static int by_lab(const void *a, const void *b)
{
	return strcmp(jget(*(json_object *const *)a, "lab"), jget(*(json_object *const *)b, "lab"));
}

static int print_labs(bool json)
{
	char **labs, **mh = NULL;
	size_t n, nmh = 0;
	nlab_error *err = NULL;

	if (state_list(&labs, &n, &err) < 0 || (!mh_local_only && mh_list(&mh, &nmh, &err) < 0)) {
		nlab_error_print("status", &err);
		return EXIT_RUNTIME;
	}
	json_object *arr = json_object_new_array();
	/* The labs across machines this machine controls; this machine's
	 * own part of one of them is shown as that lab. */
	for (size_t i = 0; i < nmh; i++)
		json_object_array_add(arr, mh_list_entry(mh[i]));
	for (size_t i = 0; i < n; i++) {
		bool controlled = false;
		for (size_t k = 0; k < nmh; k++)
			controlled = controlled || !strcmp(mh[k], labs[i]);
		if (!controlled)
			json_object_array_add(arr, lab_inspect(labs[i], false, false, NULL));
		free(labs[i]);
	}
	free(labs);
	for (size_t k = 0; k < nmh; k++)
		free(mh[k]);
	free(mh);
	json_object_array_sort(arr, by_lab);
	if (json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "labs", arr);
		cli_json_print(cli_json_envelope("labs", o));
		return EXIT_OK;
	}
	if (json_object_array_length(arr) == 0) {
		printf("no labs are up\n");
	} else {
		static const char *const head[] = { "LAB", "STATE", "NODES", "SUPERVISOR", "TOPOLOGY" };
		struct cli_table *t = cli_table_new(5, head);
		cli_table_right(t, 2);
		cli_table_right(t, 3);
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *o = json_object_array_get_idx(arr, i), *ms;
			char state[64], across[64];
			int dead = atoi(jget(o, "dead_nodes"));
			snprintf(state, sizeof(state), "%s%s%.0d%s", jget(o, "state"), dead ? " (" : "", dead,
				 dead ? " dead)" : "");
			bool mc = json_object_object_get_ex(o, "machines", &ms);
			if (mc)
				snprintf(across, sizeof(across), "(%zu machines)", json_object_array_length(ms));
			const char *row[] = { jget(o, "lab"), state, jget(o, "node_count"),
					      mc ? across : jget(o, "supervisor_pid"), jget(o, "topology") };
			cli_table_add(t, row);
		}
		cli_table_print(t, stdout, "");
	}
	json_object_put(arr);
	return EXIT_OK;
}

static int labs_table(void *arg)
{
	(void)arg;
	return print_labs(false);
}

/* Root's labs, then each user's, listed by that user (lab/rootless.h). */
static int status_all_users(void)
{
	struct rootless_root *roots;
	size_t n;

	if (cli_require_root("status --all-users") < 0)
		return EXIT_RUNTIME;
	int rc = print_labs(false);
	if (rootless_user_roots(&roots, &n) < 0) {
		nlab_report("status", "the users' state roots: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	for (size_t i = 0; i < n; i++) {
		struct passwd *pw = getpwuid(roots[i].uid);
		printf("\nuser %s (uid %u), %s:\n", pw ? pw->pw_name : "?", (unsigned)roots[i].uid, roots[i].path);
		if (rootless_as_owner(&roots[i], labs_table, NULL) != EXIT_OK)
			rc = EXIT_RUNTIME;
	}
	free(roots);
	return rc;
}

int cmd_status(int argc, char **argv)
{
	struct cli_args a;
	int r = cli_parse("status", argc, argv, &a);

	if (r != 0) {
		cli_args_free(&a);
		return r > 0 ? EXIT_OK : EXIT_USAGE;
	}
	bool json = cli_flag(&a, "json"), firewall = cli_flag(&a, "firewall"), ns = cli_flag(&a, "ns");
	bool all_users = cli_flag(&a, "all-users");
	const char *lab = a.n > 0 ? a.operands[0] : NULL, *node = a.n > 1 ? a.operands[1] : NULL;
	cli_args_free(&a);
	if (all_users) {
		if (lab || json) {
			cli_usage_error("status", "--all-users lists labs as a table: no LAB, no --json");
			return EXIT_USAGE;
		}
		return status_all_users();
	}
	if ((firewall || ns) && !lab) {
		cli_usage_error("status", "%s shows one lab: name it", firewall ? "--firewall" : "--ns");
		return EXIT_USAGE;
	}
	if (firewall && ns) {
		cli_usage_error("status", "--firewall or --ns, not both");
		return EXIT_USAGE;
	}
	if (!lab)
		return print_labs(json);
	if (!topo_lab_name_valid(lab)) {
		cli_usage_error("status", "invalid lab name '%s'", lab);
		return EXIT_USAGE;
	}
	if (mh_controls(lab))
		return status_across(lab, node, json, firewall, ns);
	/* A user's lab: its namespaces are reached from the lab's user
	 * namespace (lab/rootless.h); a lab that is not up is shown from its
	 * state alone. */
	nlab_error *jerr = NULL;
	if (rootless_join(lab, &jerr) < 0)
		nlab_error_free(&jerr);
	if (firewall)
		return print_firewall(lab, node, json);
	/* Whether there is such a lab and node: for one node, from the
	 * index (lab_inspect() reads the whole state once more). */
	struct state_node sn;
	struct proc_id sup;
	nlab_error *nerr = NULL;
	if (node && state_read_node(lab, node, &sn, &sup, &nerr) == 0) {
		state_node_clear(&sn);
	} else {
		struct lab_state st;
		nlab_error_free(&nerr);
		if ((r = read_state(lab, &st)) != 0)
			return r;
		bool missing = node && !state_find_node(&st, node);
		state_clear(&st);
		if (missing) {
			nlab_report("status", "lab '%s' has no node '%s'", lab, node);
			return EXIT_NOTFOUND;
		}
	}
	json_object *o = lab_inspect(lab, true, ns, node);
	if (json) {
		cli_json_print(cli_json_envelope("lab", o));
		return EXIT_OK;
	}
	if (ns) {
		print_ns_table(o);
	} else {
		print_lab_table(o);
		print_links(o);
	}
	json_object_put(o);
	return EXIT_OK;
}
