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
#include "net/iptc.h"
#include "net/netns.h"
#include "runtime/firewall.h"
#include "runtime/lab.h"
#include "runtime/nsinfo.h"
#include "runtime/state.h"
#include "util/cleanup.h"
#include "util/fsutil.h"

static unsigned long long ns_inode(pid_t pid, const char *type)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, type);
	return stat(path, &st) == 0 ? (unsigned long long)st.st_ino : 0;
}

/* Interfaces as the node sees them: getifaddrs() asks netlink in the
 * calling thread's netns, so enter the node's netns around it. */
static json_object *node_ifaces(pid_t pid)
{
	json_object *arr = json_object_new_array();
	nlab_error *err = NULL;
	int saved = -1;
	int fd = nlab_netns_open_pid(pid, &err);
	struct ifaddrs *ifa = NULL;

	if (fd < 0 || nlab_netns_enter(fd, &saved, &err) < 0) {
		nlab_error_free(&err);
		if (fd >= 0)
			close(fd);
		return arr;
	}
	if (getifaddrs(&ifa) < 0)
		ifa = NULL;
	nlab_netns_leave(&saved, NULL);
	close(fd);
	for (struct ifaddrs *p = ifa; p; p = p->ifa_next) {
		json_object *it = NULL;
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *o = json_object_array_get_idx(arr, i), *nm;
			json_object_object_get_ex(o, "name", &nm);
			if (!strcmp(json_object_get_string(nm), p->ifa_name))
				it = o;
		}
		if (!it) {
			it = json_object_new_object();
			json_object_object_add(it, "name", json_object_new_string(p->ifa_name));
			json_object_object_add(it, "state", json_object_new_string(p->ifa_flags & IFF_UP ? "up" : "down"));
			json_object_object_add(it, "addresses", json_object_new_array());
			json_object_array_add(arr, it);
		}
		if (!p->ifa_addr || (p->ifa_addr->sa_family != AF_INET && p->ifa_addr->sa_family != AF_INET6))
			continue;
		char a[INET6_ADDRSTRLEN], buf[80];
		const void *src = p->ifa_addr->sa_family == AF_INET
					  ? (const void *)&((struct sockaddr_in *)p->ifa_addr)->sin_addr
					  : (const void *)&((struct sockaddr_in6 *)p->ifa_addr)->sin6_addr;
		inet_ntop(p->ifa_addr->sa_family, src, a, sizeof(a));
		int plen = 0;
		if (p->ifa_netmask) {
			const unsigned char *m = p->ifa_addr->sa_family == AF_INET
							 ? (const unsigned char *)&((struct sockaddr_in *)p->ifa_netmask)->sin_addr
							 : (const unsigned char *)&((struct sockaddr_in6 *)p->ifa_netmask)->sin6_addr;
			for (int b = 0; b < (p->ifa_addr->sa_family == AF_INET ? 4 : 16); b++)
				plen += __builtin_popcount(m[b]);
		}
		snprintf(buf, sizeof(buf), "%s/%d", a, plen);
		json_object *addrs;
		json_object_object_get_ex(it, "addresses", &addrs);
		json_object_array_add(addrs, json_object_new_string(buf));
	}
	freeifaddrs(ifa);
	return arr;
}

/* The node's commands: children of its init, with their command lines. */
static json_object *node_commands(pid_t pid)
{
	json_object *arr = json_object_new_array();
	char path[96];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
	char *kids = read_file(path, 65536, NULL);
	for (char *save = NULL, *w = kids ? strtok_r(kids, " \n", &save) : NULL; w; w = strtok_r(NULL, " \n", &save)) {
		size_t len;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", w);
		char *cmd = read_file(path, 4096, &len);
		if (!cmd)
			continue;
		for (size_t i = 0; i + 1 < len; i++)
			if (cmd[i] == '\0')
				cmd[i] = ' ';
		json_object *c = json_object_new_object();
		json_object_object_add(c, "pid", json_object_new_int(atoi(w)));
		json_object_object_add(c, "command", json_object_new_string(cmd));
		json_object_array_add(arr, c);
		free(cmd);
	}
	free(kids);
	return arr;
}

/* Isolation facts from the state: whether the node has a user namespace
 * and its host ID slot, its `user`, its cgroups. */
static json_object *isolation_json(const struct state_node *sn)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "userns", json_object_new_boolean(sn->userns));
	if (sn->userns) {
		json_object_object_add(o, "uid_base", json_object_new_int64(sn->uid_base));
		json_object_object_add(o, "gid_base", json_object_new_int64(sn->gid_base));
	}
	if (sn->has_user) {
		json_object_object_add(o, "uid", json_object_new_int64(sn->uid));
		json_object_object_add(o, "gid", json_object_new_int64(sn->gid));
	}
	json_object *cg = json_object_new_array();
	for (size_t i = 0; i < sn->ncgroups; i++)
		json_object_array_add(cg, json_object_new_string(sn->cgroups[i]));
	json_object_object_add(o, "cgroups", cg);
	return o;
}

static bool show_ns;

static json_object *lab_json(const char *lab, bool detail)
{
	struct lab_state st;
	json_object *o = json_object_new_object();

	json_object_object_add(o, "lab", json_object_new_string(lab));
	if (state_read(lab, &st, NULL) < 0) {
		json_object_object_add(o, "state", json_object_new_string("broken"));
		return o;
	}
	bool up = proc_id_alive(&st.supervisor);
	json_object_object_add(o, "state", json_object_new_string(up ? "up" : "stale"));
	json_object_object_add(o, "topology", json_object_new_string(st.topology));
	json_object_object_add(o, "created", json_object_new_int64(st.created));
	json_object_object_add(o, "supervisor_pid", json_object_new_int(st.supervisor.pid));
	json_object_object_add(o, "node_count", json_object_new_int((int)st.nnodes));
	if (detail) {
		json_object *nodes = json_object_new_array();
		for (size_t i = 0; i < st.nnodes; i++) {
			json_object *n = json_object_new_object();
			bool alive = proc_id_alive(&st.nodes[i].init);
			pid_t pid = st.nodes[i].init.pid;
			json_object_object_add(n, "name", json_object_new_string(st.nodes[i].name));
			json_object_object_add(n, "pid", json_object_new_int(pid));
			json_object_object_add(n, "alive", json_object_new_boolean(alive));
			json_object_object_add(n, "isolation", isolation_json(&st.nodes[i]));
			if (alive && show_ns)
				json_object_object_add(n, "ns", nsinfo_json(pid));
			if (alive) {
				json_object *ns = json_object_new_object();
				static const char *const types[] = { "net", "uts", "mnt", "pid", "ipc", "cgroup", "user" };
				for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++)
					json_object_object_add(ns, types[k], json_object_new_uint64(ns_inode(pid, types[k])));
				json_object_object_add(n, "namespaces", ns);
				json_object_object_add(n, "interfaces", node_ifaces(pid));
				json_object_object_add(n, "commands", node_commands(pid));
			}
			json_object_array_add(nodes, n);
		}
		json_object_object_add(o, "nodes", nodes);
	}
	state_clear(&st);
	return o;
}

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

struct fw_row {
	int line;               /* topology line, 0 = not netlab's */
	size_t seq;             /* kernel order, for ties */
	int family;
	const char *table;
	char chain[32];
	char target[32];
	uint64_t packets, bytes;
	bool policy;
};

struct fw_rows {
	struct fw_row *v;
	size_t n;
	int family;
	const char *table;
	const char *tag;
};

static struct fw_row *fw_row_push(struct fw_rows *rows)
{
	struct fw_row *v = realloc(rows->v, (rows->n + 1) * sizeof(*v));

	if (!v)
		return NULL;
	rows->v = v;
	memset(&v[rows->n], 0, sizeof(*v));
	v[rows->n].seq = rows->n;
	return &v[rows->n++];
}

static void fw_collect(const struct nlab_ipt_seen *seen, void *arg)
{
	struct fw_rows *rows = arg;
	struct fw_row *r = fw_row_push(rows);
	size_t tl = strlen(rows->tag);

	if (!r)
		return;
	/* Only a comment carrying this lab's tag maps to a line. */
	if (seen->comment && !strncmp(seen->comment, rows->tag, tl) && seen->comment[tl] == ' ')
		r->line = fw_comment_line(seen->comment);
	r->family = rows->family;
	r->table = rows->table;
	snprintf(r->chain, sizeof(r->chain), "%s", seen->chain);
	snprintf(r->target, sizeof(r->target), "%s", seen->target ? seen->target : "");
	r->packets = seen->packets;
	r->bytes = seen->bytes;
}

static int fw_row_cmp(const void *a, const void *b)
{
	const struct fw_row *x = a, *y = b;
	/* Topology order; rules netlab did not add go last. */
	int lx = x->line ? x->line : 1 << 30, ly = y->line ? y->line : 1 << 30;

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int print_node_firewall(const char *lab, const struct state_node *sn, const struct topology *t,
			       const struct topo_source *src)
{
	static const char *const tables[] = { "filter", "nat" };
	const struct topo_node *tn = t ? topo_find_node(t, sn->name) : NULL;
	struct fw_rows rows = { 0 };
	nlab_error *err = NULL;
	char tag[64];
	int saved = -1, r = 0;

	fw_tag(lab, tag, sizeof(tag));
	rows.tag = tag;
	printf("node %s\n", sn->name);
	if (!proc_id_alive(&sn->init)) {
		printf("  (not running)\n");
		return 0;
	}
	cleanup_close int fd = nlab_netns_open_pid(sn->init.pid, &err);
	if (fd < 0 || nlab_netns_enter(fd, &saved, &err) < 0) {
		nlab_error_print(&err);
		return -1;
	}
	for (int f = 0; f < 2 && r == 0; f++)
		for (int k = 0; k < 2 && r == 0; k++) {
			int family = f ? AF_INET6 : AF_INET;
			struct nlab_ipt_table *tb;
			if (!nlab_ipt_table_exists(family, tables[k]))
				continue;
			if (nlab_ipt_open(&tb, family, tables[k], &err) < 0) {
				r = -1;
				break;
			}
			rows.family = family;
			rows.table = tables[k];
			nlab_ipt_foreach(tb, fw_collect, &rows, NULL);
			/* A policy the topology set, with its counters. */
			for (size_t i = 0; tn && k == 0 && i < tn->fw.n; i++) {
				const struct topo_fw_rule *p = &tn->fw.v[i];
				if (!p->is_policy)
					continue;
				struct fw_row *row = fw_row_push(&rows);
				if (!row)
					break;
				row->policy = true;
				row->line = p->pos.line;
				row->family = family;
				row->table = tables[k];
				snprintf(row->chain, sizeof(row->chain), "%s", topo_chain_name(p->chain));
				for (char *c = row->chain; *c; c++)
					*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
				nlab_ipt_get_policy(tb, row->chain, row->target, sizeof(row->target), &row->packets,
						    &row->bytes, NULL);
			}
			nlab_ipt_close(tb);
		}
	nlab_netns_leave(&saved, NULL);
	if (r < 0) {
		nlab_error_print(&err);
		free(rows.v);
		return -1;
	}
	if (rows.n == 0) {
		printf("  (no rules)\n");
		free(rows.v);
		return 0;
	}
	qsort(rows.v, rows.n, sizeof(*rows.v), fw_row_cmp);
	printf("  %-24s %-4s %-6s %-11s %-10s %10s %12s  %s\n", "WHERE", "IP", "TABLE", "CHAIN", "TARGET", "PACKETS",
	       "BYTES", "STATEMENT");
	for (size_t i = 0; i < rows.n; i++) {
		const struct fw_row *w = &rows.v[i];
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
	free(rows.v);
	return 0;
}

static int print_firewall(const char *lab, const char *node)
{
	struct lab_state st;
	nlab_error *err = NULL;
	int r = EXIT_OK;

	if (state_read(lab, &st, &err) < 0) {
		nlab_error_print(&err);
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
		fprintf(stderr, "netlab status: lab '%s' has no node '%s'\n", lab, node);
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
		if (state_read(lab, &st, NULL) < 0) {
			fprintf(stderr, "netlab status: no lab '%s'\n", lab);
			return EXIT_RUNTIME;
		}
		state_clear(&st);
		json_object *o = lab_json(lab, true);
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
	if (state_list(&labs, &n, NULL) < 0)
		return EXIT_RUNTIME;
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object_array_add(arr, lab_json(labs[i], false));
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
