#include "lab/inspect.h"
#include "lab/rootless.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab/linkctl.h"
#include "lab/nsinfo.h"
#include "net/iptc.h"
#include "net/netns.h"
#include "plan/firewall.h"
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

/* The NETLAB_LINE its line gave a process (node/lines.c), 0 if none. */
static int line_of(const char *pid)
{
	char path[64];
	size_t len;

	snprintf(path, sizeof(path), "/proc/%s/environ", pid);
	cleanup_free char *env = read_file(path, 1 << 20, &len);
	for (size_t i = 0; env && i < len; i += strlen(env + i) + 1)
		if (!strncmp(env + i, "NETLAB_LINE=", 12))
			return atoi(env + i + 12);
	return 0;
}

/* Every process below pid, depth first, with its command line and the
 * topology line that started it: a daemon that forked away from its line
 * (and was adopted by the init) is still found under that line. */
static void add_tree(json_object *arr, pid_t pid, int depth)
{
	char path[96];

	if (depth > 64)
		return;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
	cleanup_free char *kids = read_file(path, 1 << 20, NULL);
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
		int line = line_of(w);
		if (line)
			json_object_object_add(c, "line", json_object_new_int(line));
		json_object_array_add(arr, c);
		free(cmd);
		add_tree(arr, (pid_t)atoi(w), depth + 1);
	}
}

static json_object *node_commands(pid_t pid)
{
	json_object *arr = json_object_new_array();

	add_tree(arr, pid, 0);
	return arr;
}

/* How a process ended, for JSON: "code" or "signal". */
static void add_wstatus(json_object *o, int ws)
{
	if (WIFEXITED(ws))
		json_object_object_add(o, "code", json_object_new_int(WEXITSTATUS(ws)));
	else
		json_object_object_add(o, "signal", json_object_new_int(WTERMSIG(ws)));
}

/* Run lines whose processes ended after the node was ready. */
static json_object *node_exited(const struct state_node *sn)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < sn->nexited; i++) {
		json_object *e = json_object_new_object();
		int ws = sn->exited[i].wstatus;
		json_object_object_add(e, "line", json_object_new_int(sn->exited[i].line));
		add_wstatus(e, ws);
		json_object_array_add(arr, e);
	}
	return arr;
}

/* `netlab restart`s of the node, and how its init died (runtime.json,
 * recorded by the supervisor). */
static void runtime_json_of(json_object *n, const struct state_node *sn, bool alive, bool lab_up)
{
	json_object_object_add(n, "restarts", json_object_new_int(sn->restarts));
	if (sn->restarts) {
		json_object *r = json_object_new_object();
		json_object_object_add(r, "time", json_object_new_int64(sn->restarted));
		json_object_object_add(r, "result", json_object_new_string(sn->restarting ? "running"
									   : sn->restart_error ? "failed"
											       : "ok"));
		if (sn->restart_error)
			json_object_object_add(r, "error", json_object_new_string(sn->restart_error));
		json_object_object_add(n, "last_restart", r);
	}
	/* Dead: its init is gone while the lab's supervisor lives (with
	 * how, when the supervisor could record it). */
	if (alive || !lab_up)
		return;
	json_object *d = json_object_new_object();
	if (sn->died) {
		json_object_object_add(d, "time", json_object_new_int64(sn->died_at));
		add_wstatus(d, sn->died_wstatus);
		json_object_object_add(d, "oom_kills", json_object_new_uint64(sn->oom_kills));
	}
	json_object_object_add(n, "died", d);
}

/* Isolation facts from the state: whether the node has a user namespace
 * and its host ID slot, its `user`, its cgroups. */
/* IDs a node's uid_map gives (rootless: 1 + its share of the user's
 * subordinate IDs), as this process reads it. */
static long long map_ids(pid_t pid)
{
	char path[64];
	unsigned long long in, out, count, total = 0;

	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	while (fscanf(f, "%llu %llu %llu", &in, &out, &count) == 3)
		total += count;
	fclose(f);
	return (long long)total;
}

static json_object *isolation_json(const struct state_node *sn)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "userns", json_object_new_boolean(sn->userns));
	long long ids;
	if (sn->userns && rootless() && (ids = map_ids(sn->init.pid)) > 0)
		json_object_object_add(o, "rootless_ids", json_object_new_int64(ids));
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

json_object *lab_inspect(const char *lab, bool detail, bool show_ns, const char *only)
{
	struct lab_state st;
	size_t nnodes = 0;
	json_object *o = json_object_new_object();

	json_object_object_add(o, "lab", json_object_new_string(lab));
	/* One node: from the index, whatever the lab's size. */
	if (only ? state_read_one(lab, only, &st, &nnodes, NULL) < 0 : state_read(lab, &st, NULL) < 0) {
		json_object_object_add(o, "state", json_object_new_string("broken"));
		return o;
	}
	bool up = proc_id_alive(&st.supervisor);
	json_object_object_add(o, "state", json_object_new_string(up ? "up" : "stale"));
	json_object_object_add(o, "topology", json_object_new_string(st.topology));
	json_object_object_add(o, "created", json_object_new_int64(st.created));
	json_object_object_add(o, "supervisor_pid", json_object_new_int(st.supervisor.pid));
	json_object_object_add(o, "node_count", json_object_new_int((int)(only ? nnodes : st.nnodes)));
	int dead = 0;
	for (size_t i = 0; up && !only && i < st.nnodes; i++)
		dead += !proc_id_alive(&st.nodes[i].init);
	if (!only)
		json_object_object_add(o, "dead_nodes", json_object_new_int(dead));
	if (detail) {
		json_object *nodes = json_object_new_array();
		for (size_t i = 0; i < st.nnodes; i++) {
			if (only && strcmp(st.nodes[i].name, only))
				continue;
			json_object *n = json_object_new_object();
			bool alive = proc_id_alive(&st.nodes[i].init);
			pid_t pid = st.nodes[i].init.pid;
			json_object_object_add(n, "name", json_object_new_string(st.nodes[i].name));
			json_object_object_add(n, "pid", json_object_new_int(pid));
			json_object_object_add(n, "alive", json_object_new_boolean(alive));
			json_object_object_add(n, "isolation", isolation_json(&st.nodes[i]));
			runtime_json_of(n, &st.nodes[i], alive, up);
			/* `up --netns-names`: the name `ip netns` knows it by. */
			for (size_t k = 0; k < st.nnetns_names; k++)
				if (!strncmp(st.netns_names[k], lab, strlen(lab)) && st.netns_names[k][strlen(lab)] == '-' &&
				    !strcmp(st.netns_names[k] + strlen(lab) + 1, st.nodes[i].name))
					json_object_object_add(n, "netns_name", json_object_new_string(st.netns_names[k]));
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
				json_object_object_add(n, "exited", node_exited(&st.nodes[i]));
			}
			json_object_array_add(nodes, n);
		}
		json_object_object_add(o, "nodes", nodes);
		/* Each link's state and shaping, from the kernel (`netlab
		 * link` changes them at run time). */
		if (up && !only)
			json_object_object_add(o, "links", lab_links_json(lab, &st));
	}
	state_clear(&st);
	return o;
}

/* ---- status LAB --firewall [NODE] ------------------------------------ */

struct collector {
	struct lab_fw_rows *rows;
	int family;
	const char *table;
	const char *tag;
};

static struct lab_fw_row *fw_row_push(struct lab_fw_rows *rows)
{
	struct lab_fw_row *v = realloc(rows->v, (rows->n + 1) * sizeof(*v));

	if (!v)
		return NULL;
	rows->v = v;
	memset(&v[rows->n], 0, sizeof(*v));
	v[rows->n].seq = rows->n;
	return &v[rows->n++];
}

static void fw_collect(const struct nlab_ipt_seen *seen, void *arg)
{
	struct collector *c = arg;
	struct lab_fw_row *r = fw_row_push(c->rows);
	size_t tl = strlen(c->tag);

	if (!r)
		return;
	/* Only a comment carrying this lab's tag maps to a line. */
	if (seen->comment && !strncmp(seen->comment, c->tag, tl) && seen->comment[tl] == ' ')
		r->line = fw_comment_line(seen->comment);
	r->family = c->family;
	r->table = c->table;
	snprintf(r->chain, sizeof(r->chain), "%s", seen->chain);
	snprintf(r->target, sizeof(r->target), "%s", seen->target ? seen->target : "");
	r->packets = seen->packets;
	r->bytes = seen->bytes;
}

static int fw_row_cmp(const void *a, const void *b)
{
	const struct lab_fw_row *x = a, *y = b;
	/* Topology order; rules netlab did not add go last. */
	int lx = x->line ? x->line : 1 << 30, ly = y->line ? y->line : 1 << 30;

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Read the tables, in the node's netns (the caller's thread is in it). */
static int read_tables(const struct topo_node *tn, struct collector *c, nlab_error **err)
{
	static const char *const tables[] = { "filter", "nat" };

	for (int f = 0; f < 2; f++)
		for (int k = 0; k < 2; k++) {
			int family = f ? AF_INET6 : AF_INET;
			struct nlab_ipt_table *tb;
			if (!nlab_ipt_table_exists(family, tables[k]))
				continue;
			if (nlab_ipt_open(&tb, family, tables[k], err) < 0)
				return -1;
			c->family = family;
			c->table = tables[k];
			nlab_ipt_foreach(tb, fw_collect, c, NULL);
			/* A policy the topology set, with its counters. */
			for (size_t i = 0; tn && k == 0 && i < tn->fw.n; i++) {
				const struct topo_fw_rule *p = &tn->fw.v[i];
				if (!p->is_policy)
					continue;
				struct lab_fw_row *row = fw_row_push(c->rows);
				if (!row)
					break;
				row->policy = true;
				row->line = p->pos.line;
				row->family = family;
				row->table = tables[k];
				snprintf(row->chain, sizeof(row->chain), "%s", topo_chain_name(p->chain));
				for (char *ch = row->chain; *ch; ch++)
					*ch = (char)(*ch >= 'a' && *ch <= 'z' ? *ch - 32 : *ch);
				nlab_ipt_get_policy(tb, row->chain, row->target, sizeof(row->target), &row->packets,
						    &row->bytes, NULL);
			}
			nlab_ipt_close(tb);
		}
	return 0;
}

int lab_node_firewall(const char *lab, const struct state_node *sn, const struct topology *t,
		      struct lab_fw_rows *rows, nlab_error **err)
{
	const struct topo_node *tn = t ? topo_find_node(t, sn->name) : NULL;
	char tag[64];
	int saved = -1;

	memset(rows, 0, sizeof(*rows));
	if (!proc_id_alive(&sn->init))
		return 0;
	rows->running = true;
	fw_tag(lab, tag, sizeof(tag));
	struct collector c = { .rows = rows, .tag = tag };
	cleanup_close int fd = nlab_netns_open_pid(sn->init.pid, err);
	if (fd < 0 || nlab_netns_enter(fd, &saved, err) < 0)
		return -1;
	int r = read_tables(tn, &c, err);
	nlab_netns_leave(&saved, NULL);
	if (r < 0) {
		lab_fw_rows_free(rows);
		return -1;
	}
	if (rows->n)
		qsort(rows->v, rows->n, sizeof(*rows->v), fw_row_cmp);
	return 0;
}

void lab_fw_rows_free(struct lab_fw_rows *rows)
{
	free(rows->v);
	rows->v = NULL;
	rows->n = 0;
}
