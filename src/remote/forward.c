/* The verbs that act on a running lab across machines, from its
 * controller: a node's verbs run on the node's machine (`netlab __remote
 * local VERB ...` over ssh, with this process's standard input and
 * output); `status` and `test` ask every machine and merge. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "remote/control.h"
#include "remote/ssh.h"
#include "topo/span.h"
#include "topo/topo.h"
#include "util/fsutil.h"

static int read_rec(const char *lab, struct mh_record *r, nlab_error **err)
{
	if (mh_record_read(lab, r, err) == 0)
		return 0;
	if (err && *err && (*err)->errnum == ENOENT) {
		nlab_error_free(err);
		return nlab_error_set(err, ENOENT, "no lab '%s' across machines", lab);
	}
	return -1;
}

/* The lab's topology as its machines were given it, placed as they are. */
static struct topology *rec_topology(const struct mh_record *r, nlab_error **err)
{
	struct diags d = { 0 };
	struct topology *t = NULL;
	const char *text = r->text ? r->text : "";

	int rc = topo_load_buffer(r->topology ? r->topology : r->lab, text, strlen(text), NULL, &t, NULL, &d);
	diag_free(&d);
	if (rc < 0) {
		topo_free(t);
		nlab_error_set(err, EBADMSG, "lab %s: the topology it was built from no longer reads", r->lab);
		return NULL;
	}
	topo_machines_clear(t);
	int *where = calloc(t->nodes.n + 1, sizeof(int));
	for (size_t m = 0; where && m < r->nmachines; m++) {
		struct topo_machine *tm = VEC_PUSH(t->machines);
		if (!tm || !(tm->name = strdup(r->machines[m].m.name)) || !(tm->host = strdup(r->machines[m].m.host))) {
			free(where);
			where = NULL;
		}
	}
	for (size_t i = 0; where && i < t->nodes.n; i++) {
		const struct mh_machine *m = mh_record_node(r, t->nodes.v[i].name);
		where[i] = m ? (int)(m - r->machines) : 0;
	}
	if (!where || topo_span_set(t, where) < 0) {
		free(where);
		topo_free(t);
		nlab_error_set(err, ENOMEM, "lab %s", r->lab);
		return NULL;
	}
	free(where);
	return t;
}

/* `__remote local ARGS...` with the record's netlab. */
static char *local_command(const struct mh_record *r, char *const *args, size_t nargs)
{
	char **v = calloc(nargs + 3, sizeof(*v));
	char *cmd = NULL;

	if (!v)
		return NULL;
	v[0] = "__remote";
	v[1] = "local";
	memcpy(v + 2, args, nargs * sizeof(*v));
	cmd = rmt_command(r->remote_netlab, v, nargs + 2);
	free(v);
	return cmd;
}

static const struct mh_machine *target(const struct mh_record *r, const char *node, const char *machine,
				       nlab_error **err)
{
	const struct mh_machine *m = node ? mh_record_node(r, node) : mh_record_machine(r, machine);

	if (!m)
		nlab_error_set(err, ENOENT, node ? "lab '%s' has no node '%s'" : "lab '%s' has no machine '%s'", r->lab,
			       node ? node : machine);
	return m;
}

int mh_forward(const char *lab, const char *node, const char *machine, char *const *args, size_t nargs, bool tty,
	       nlab_error **err)
{
	struct mh_record r;

	if (read_rec(lab, &r, err) < 0)
		return -1;
	const struct mh_machine *m = target(&r, node, machine, err);
	char *cmd = m ? local_command(&r, args, nargs) : NULL;
	if (m && !cmd)
		nlab_error_set(err, ENOMEM, "ssh command");
	if (cmd)
		rmt_exec(&m->m, cmd, tty, err);
	free(cmd);
	mh_record_clear(&r);
	return -1;
}

int mh_forward_wait(const char *lab, const char *node, char *const *args, size_t nargs, nlab_error **err)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return nlab_error_set(err, errno, "fork");
	if (pid == 0) {
		nlab_error *e = NULL;
		mh_forward(lab, node, NULL, args, nargs, false, &e);
		nlab_error_print(NULL, &e);
		_exit(255);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- asking every machine ------------------------------------------------ */

/* args on every machine of r, their whole output kept: s[m].buf. */
static struct rmt_session *run_all(const struct mh_record *r, char *const *args, size_t nargs, const char *input,
				   nlab_error **err)
{
	struct rmt_session *s = calloc(r->nmachines + 1, sizeof(*s));
	char *cmd = local_command(r, args, nargs);

	if (!s || !cmd) {
		free(s);
		free(cmd);
		nlab_error_set(err, ENOMEM, "lab %s", r->lab);
		return NULL;
	}
	signal(SIGPIPE, SIG_IGN);
	for (size_t m = 0; m < r->nmachines; m++) {
		s[m] = (struct rmt_session){ .m = &r->machines[m].m, .in = -1, .out = -1, .errfd = -1 };
		if (rmt_session_start(&s[m], cmd, NULL) < 0)
			continue;
		if (input)
			(void)!write_all(s[m].in, input, strlen(input));
		rmt_session_close_input(&s[m]);
	}
	free(cmd);
	rmt_sessions_drain(s, r->nmachines, 600000);
	return s;
}

static void end_all(struct rmt_session *s, size_t n)
{
	for (size_t m = 0; s && m < n; m++)
		rmt_session_end(&s[m], 5000);
	free(s);
}

static json_object *parse_out(const struct rmt_session *s)
{
	json_object *o = s->buf && s->len ? json_tokener_parse(s->buf) : NULL;

	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

static const char *jget(json_object *o, const char *k)
{
	json_object *v;
	const char *s = o && json_object_object_get_ex(o, k, &v) && v ? json_object_get_string(v) : NULL;
	return s ? s : "";
}

/* Two views of one link (a tunnel: each machine reads its own end). */
static void merge_link(json_object *have, json_object *more)
{
	json_object *a, *b;

	if (!json_object_object_get_ex(have, "ends", &a) || !json_object_object_get_ex(more, "ends", &b))
		return;
	bool up = true;
	for (size_t k = 0; k < json_object_array_length(a) && k < json_object_array_length(b); k++) {
		json_object *ea = json_object_array_get_idx(a, k), *eb = json_object_array_get_idx(b, k);
		if (!strcmp(jget(ea, "state"), "?") && strcmp(jget(eb, "state"), "?"))
			json_object_array_put_idx(a, k, json_object_get(eb));
		ea = json_object_array_get_idx(a, k);
		up = up && !strcmp(jget(ea, "state"), "up");
	}
	json_object_object_add(have, "state", json_object_new_string(up ? "up" : "down"));
}

static void add_links(json_object *links, json_object *from)
{
	json_object *arr;

	if (!json_object_object_get_ex(from, "links", &arr))
		return;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *l = json_object_array_get_idx(arr, i), *same = NULL, *e;
		char key[300];
		json_object_object_get_ex(l, "ends", &e);
		snprintf(key, sizeof(key), "%s|%s", jget(l, "line"),
			 e && json_object_array_length(e) ? jget(json_object_array_get_idx(e, 0), "end") : "");
		for (size_t k = 0; k < json_object_array_length(links) && !same; k++) {
			json_object *h = json_object_array_get_idx(links, k), *he;
			char hk[300];
			json_object_object_get_ex(h, "ends", &he);
			snprintf(hk, sizeof(hk), "%s|%s", jget(h, "line"),
				 he && json_object_array_length(he) ? jget(json_object_array_get_idx(he, 0), "end") : "");
			if (!strcmp(hk, key))
				same = h;
		}
		if (same)
			merge_link(same, l);
		else
			json_object_array_add(links, json_object_get(l));
	}
}

json_object *mh_status(const char *lab, bool ns, nlab_error **err)
{
	struct mh_record r;
	char *args[] = { "status", (char *)lab, "--json", "--ns" };

	if (read_rec(lab, &r, err) < 0)
		return NULL;
	struct topology *t = rec_topology(&r, err);
	struct rmt_session *s = t ? run_all(&r, args, ns ? 4 : 3, NULL, err) : NULL;
	if (!s) {
		topo_free(t);
		mh_record_clear(&r);
		return NULL;
	}
	json_object *o = json_object_new_object(), *machines = json_object_new_array(), *links = json_object_new_array();
	json_object **by_node = calloc(t->nodes.n + 1, sizeof(*by_node));
	size_t up = 0, gone = 0, count = 0;
	for (size_t m = 0; m < r.nmachines; m++) {
		json_object *jm = json_object_new_object(), *part = parse_out(&s[m]), *nodes;
		char addr[300], why[1200];
		const struct topo_machine *tm = &r.machines[m].m;
		snprintf(addr, sizeof(addr), "%s%s%s", tm->user ? tm->user : "", tm->user ? "@" : "", tm->host);
		json_object_object_add(jm, "name", json_object_new_string(tm->name));
		json_object_object_add(jm, "address", json_object_new_string(addr));
		json_object_object_add(jm, "underlay", json_object_new_string(r.machines[m].underlay));
		const char *st = part ? jget(part, "state") : "";
		bool absent = !part && !s[m].pid && WIFEXITED(s[m].status) && WEXITSTATUS(s[m].status) == 3;
		if (!part) {
			rmt_session_why(&s[m], why, sizeof(why));
			json_object_object_add(jm, "error", json_object_new_string(why));
		}
		json_object_object_add(jm, "state", json_object_new_string(part ? st : absent ? "absent" : "unreachable"));
		if (part) {
			json_object *v;
			if (json_object_object_get_ex(part, "supervisor_pid", &v))
				json_object_object_add(jm, "supervisor_pid", json_object_get(v));
			if (json_object_object_get_ex(part, "node_count", &v)) {
				json_object_object_add(jm, "node_count", json_object_get(v));
				count += (size_t)json_object_get_int64(v);
			}
		}
		up += part && !strcmp(st, "up");
		gone += absent || (part && strcmp(st, "up") != 0);
		json_object_array_add(machines, jm);
		if (part && json_object_object_get_ex(part, "nodes", &nodes))
			for (size_t k = 0; k < json_object_array_length(nodes); k++) {
				json_object *n = json_object_array_get_idx(nodes, k);
				const struct topo_node *tn = topo_find_node(t, jget(n, "name"));
				if (!tn || !by_node)
					continue;
				json_object_object_add(n, "machine", json_object_new_string(r.machines[m].m.name));
				json_object_put(by_node[tn - t->nodes.v]);
				by_node[tn - t->nodes.v] = json_object_get(n);
			}
		if (part)
			add_links(links, part);
		json_object_put(part);
	}
	json_object *nodes = json_object_new_array();
	for (size_t i = 0; by_node && i < t->nodes.n; i++)
		if (by_node[i])
			json_object_array_add(nodes, by_node[i]);
	free(by_node);
	/* up: every machine's part runs; stale: one is gone (down cleans);
	 * broken: one cannot be asked. */
	const char *state = up == r.nmachines ? "up" : up + gone == r.nmachines ? "stale" : "broken";
	json_object_object_add(o, "lab", json_object_new_string(lab));
	/* A record `up` never finished: its controller died (down cleans). */
	json_object_object_add(o, "state", json_object_new_string(r.up ? state : "stale"));
	json_object_object_add(o, "topology", json_object_new_string(r.topology ? r.topology : ""));
	json_object_object_add(o, "created", json_object_new_int64(r.created));
	json_object_object_add(o, "supervisor_pid", json_object_new_int(0));
	json_object_object_add(o, "node_count", json_object_new_int64((int64_t)count));
	json_object_object_add(o, "machines", machines);
	json_object_object_add(o, "nodes", nodes);
	json_object_object_add(o, "links", links);
	end_all(s, r.nmachines);
	topo_free(t);
	mh_record_clear(&r);
	return o;
}

json_object *mh_firewall(const char *lab, const char *node, nlab_error **err)
{
	struct mh_record r;
	char *args[] = { "status", (char *)lab, "--firewall", "--json", (char *)node };

	if (read_rec(lab, &r, err) < 0)
		return NULL;
	struct rmt_session *s = run_all(&r, args, node ? 5 : 4, NULL, err);
	if (!s) {
		mh_record_clear(&r);
		return NULL;
	}
	json_object *o = json_object_new_object(), *nodes = json_object_new_array();
	json_object_object_add(o, "lab", json_object_new_string(lab));
	json_object_object_add(o, "topology", json_object_new_string(r.topology ? r.topology : ""));
	for (size_t m = 0; m < r.nmachines; m++) {
		json_object *part = parse_out(&s[m]), *arr;
		if (part && json_object_object_get_ex(part, "nodes", &arr))
			for (size_t k = 0; k < json_object_array_length(arr); k++) {
				json_object *n = json_object_get(json_object_array_get_idx(arr, k));
				json_object_object_add(n, "machine", json_object_new_string(r.machines[m].m.name));
				json_object_array_add(nodes, n);
			}
		json_object_put(part);
	}
	json_object_object_add(o, "nodes", nodes);
	end_all(s, r.nmachines);
	mh_record_clear(&r);
	return o;
}

json_object *mh_list_entry(const char *lab)
{
	struct mh_record r;
	json_object *o = json_object_new_object();

	json_object_object_add(o, "lab", json_object_new_string(lab));
	if (mh_record_read(lab, &r, NULL) < 0) {
		json_object_object_add(o, "state", json_object_new_string("broken"));
		return o;
	}
	json_object *ms = json_object_new_array();
	size_t n = 0;
	for (size_t m = 0; m < r.nmachines; m++) {
		json_object_array_add(ms, json_object_new_string(r.machines[m].m.name));
		n += r.machines[m].nnodes;
	}
	json_object_object_add(o, "state", json_object_new_string(r.up ? "up" : "stale"));
	json_object_object_add(o, "topology", json_object_new_string(r.topology ? r.topology : ""));
	json_object_object_add(o, "created", json_object_new_int64(r.created));
	json_object_object_add(o, "supervisor_pid", json_object_new_int(0));
	json_object_object_add(o, "node_count", json_object_new_int64((int64_t)n));
	json_object_object_add(o, "machines", ms);
	mh_record_clear(&r);
	return o;
}

int mh_switch_machines(const char *lab, const char *sw, char ***names, size_t *n, nlab_error **err)
{
	struct mh_record r;

	*names = NULL;
	*n = 0;
	if (read_rec(lab, &r, err) < 0)
		return -1;
	struct topology *t = rec_topology(&r, err);
	const struct topo_switch *w = t ? topo_find_switch(t, sw) : NULL;
	int rc = -1;
	if (t && !w)
		nlab_error_set(err, ENOENT, "lab '%s' has no switch '%s'", lab, sw);
	if (w) {
		*names = calloc(r.nmachines + 1, sizeof(char *));
		for (size_t m = 0; *names && m < r.nmachines; m++)
			if (t->span->switch_on[(size_t)(w - t->switches.v) * t->span->nmachines + m])
				(*names)[(*n)++] = strdup(r.machines[m].m.name);
		rc = *names ? 0 : nlab_error_set(err, ENOMEM, "lab %s", lab);
	}
	topo_free(t);
	mh_record_clear(&r);
	return rc;
}

int mh_link_peer(const char *lab, const char *node, const char *ifname, char **peer_node, char *peer_if,
		 nlab_error **err)
{
	struct mh_record r;

	*peer_node = NULL;
	if (read_rec(lab, &r, err) < 0)
		return -1;
	struct topology *t = rec_topology(&r, err);
	int rc = t ? nlab_error_set(err, ENOENT, "lab '%s' has no link at %s:%s", lab, node, ifname) : -1;
	for (size_t i = 0; t && i < t->links.n; i++) {
		const struct topo_link *l = &t->links.v[i];
		for (int w = 0; w < 2; w++) {
			const struct topo_end *e = w ? &l->b : &l->a, *o = w ? &l->a : &l->b;
			if (e->kind != TOPO_END_NODE || strcmp(e->name, node) || strcmp(e->ifname, ifname))
				continue;
			if (err)
				nlab_error_free(err);
			rc = 0;
			if (o->kind == TOPO_END_NODE && t->span->link_machine[i] < 0) {
				*peer_node = strdup(o->name);
				snprintf(peer_if, NLAB_IFNAMSIZ, "%s", o->ifname);
			}
			i = t->links.n;
			break;
		}
	}
	topo_free(t);
	mh_record_clear(&r);
	return rc;
}

/* ---- test ------------------------------------------------------------------ */

/* Each machine's answers to a test of t, as the file reads now. */
static struct rmt_session *ask_tests(const char *lab, const struct topology *t, bool pairs, struct mh_record *r,
				     nlab_error **err)
{
	size_t len;
	char *text = read_file(t->file, 64u << 20, &len);
	char *args[] = { "__remote", "test", (char *)lab, "--all-pairs" };

	if (read_rec(lab, r, err) < 0) {
		free(text);
		return NULL;
	}
	if (!text) {
		nlab_error_set(err, errno, "read %s", t->file);
		return NULL;
	}
	json_object *msg = json_object_new_object();
	json_object_object_add(msg, "file", json_object_new_string(t->file));
	if (t->dir)
		json_object_object_add(msg, "dir", json_object_new_string(t->dir));
	json_object_object_add(msg, "text", json_object_new_string(text));
	free(text);
	char *line = NULL;
	if (asprintf(&line, "%s\n", json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN)) < 0)
		line = NULL;
	json_object_put(msg);
	/* Not through `local`: the machine runs its own nodes' share. */
	struct rmt_session *s = calloc(r->nmachines + 1, sizeof(*s));
	char *cmd = rmt_command(r->remote_netlab, args, pairs ? 4 : 3);
	signal(SIGPIPE, SIG_IGN);
	for (size_t m = 0; s && cmd && line && m < r->nmachines; m++) {
		s[m] = (struct rmt_session){ .m = &r->machines[m].m, .in = -1, .out = -1, .errfd = -1 };
		if (rmt_session_start(&s[m], cmd, NULL) == 0) {
			(void)!write_all(s[m].in, line, strlen(line));
			rmt_session_close_input(&s[m]);
		}
	}
	free(cmd);
	free(line);
	if (s)
		rmt_sessions_drain(s, r->nmachines, -1);
	return s;
}

int mh_test(const char *lab, const struct topology *t, struct lab_test_result *res, nlab_error **err)
{
	struct mh_record r;
	struct rmt_session *s = ask_tests(lab, t, false, &r, err);

	for (size_t i = 0; i < t->expects.n; i++)
		res[i] = (struct lab_test_result){ .e = &t->expects.v[i] };
	if (!s) {
		mh_record_clear(&r);
		return -1;
	}
	for (size_t i = 0; i < t->expects.n; i++) {
		const struct mh_machine *m = mh_record_node(&r, t->expects.v[i].node);
		snprintf(res[i].detail, sizeof(res[i].detail), "%s", m ? "its machine did not answer" : "no such node");
		if (m) {
			char why[400];
			rmt_session_why(&s[m - r.machines], why, sizeof(why));
			snprintf(res[i].detail, sizeof(res[i].detail), "machine %s did not answer: %s", m->m.name, why);
		}
	}
	for (size_t m = 0; m < r.nmachines; m++) {
		json_object *o = NULL, *arr;
		char *nl = s[m].buf ? strchr(s[m].buf, '\n') : NULL;
		if (nl)
			*nl = '\0';
		o = s[m].buf ? json_tokener_parse(s[m].buf) : NULL;
		if (o && json_object_object_get_ex(o, "results", &arr))
			for (size_t k = 0; k < json_object_array_length(arr); k++) {
				json_object *j = json_object_array_get_idx(arr, k), *v;
				int64_t i = json_object_object_get_ex(j, "index", &v) ? json_object_get_int64(v) : -1;
				if (i < 0 || (size_t)i >= t->expects.n)
					continue;
				res[i].ok = json_object_object_get_ex(j, "ok", &v) && json_object_get_boolean(v);
				res[i].ms = json_object_object_get_ex(j, "ms", &v) ? json_object_get_int64(v) : 0;
				snprintf(res[i].detail, sizeof(res[i].detail), "%s", jget(j, "detail"));
			}
		else if (o && json_object_object_get_ex(o, "error", &arr))
			for (size_t i = 0; i < t->expects.n; i++)
				if (mh_record_node(&r, t->expects.v[i].node) == &r.machines[m])
					snprintf(res[i].detail, sizeof(res[i].detail), "machine %s: %s",
						 r.machines[m].m.name, json_object_get_string(arr));
		json_object_put(o);
	}
	end_all(s, r.nmachines);
	mh_record_clear(&r);
	return 0;
}

int mh_all_pairs(const char *lab, const struct topology *t, struct lab_pairs *out, nlab_error **err)
{
	struct mh_record r;
	size_t nn = t->nodes.n;

	memset(out, 0, sizeof(*out));
	out->v = calloc(nn * nn + 1, sizeof(*out->v));
	size_t *first = calloc(nn + 1, sizeof(size_t));
	if (!out->v || !first) {
		free(first);
		return nlab_error_set(err, ENOMEM, "all pairs");
	}
	for (size_t a = 0; a < nn; a++) {
		first[a] = out->n;
		for (size_t b = 0; b < nn; b++)
			if (a != b && !t->nodes.v[a].is_host && !t->nodes.v[b].is_host && t->nodes.v[b].addrs.n)
				out->v[out->n++] = (struct lab_pair){ .src = a, .dst = b, .naddrs = t->nodes.v[b].addrs.n };
	}
	first[nn] = out->n;
	struct rmt_session *s = ask_tests(lab, t, true, &r, err);
	if (!s) {
		free(first);
		mh_record_clear(&r);
		return -1;
	}
	for (size_t m = 0; m < r.nmachines; m++) {
		char *nl = s[m].buf ? strchr(s[m].buf, '\n') : NULL;
		if (nl)
			*nl = '\0';
		json_object *o = s[m].buf ? json_tokener_parse(s[m].buf) : NULL, *arr;
		if (o && json_object_object_get_ex(o, "pairs", &arr))
			for (size_t k = 0; k < json_object_array_length(arr); k++) {
				json_object *j = json_object_array_get_idx(arr, k), *v;
				int64_t a = json_object_object_get_ex(j, "src", &v) ? json_object_get_int64(v) : -1;
				int64_t b = json_object_object_get_ex(j, "dst", &v) ? json_object_get_int64(v) : -1;
				if (a < 0 || b < 0 || (size_t)a >= nn || (size_t)b >= nn)
					continue;
				for (size_t p = first[a]; p < first[a + 1]; p++)
					if (out->v[p].dst == (size_t)b) {
						out->v[p].answered = json_object_object_get_ex(j, "answered", &v)
									     ? (size_t)json_object_get_int64(v)
									     : 0;
						snprintf(out->v[p].detail, sizeof(out->v[p].detail), "%s",
							 jget(j, "detail"));
					}
			}
		json_object_put(o);
	}
	free(first);
	end_all(s, r.nmachines);
	mh_record_clear(&r);
	return 0;
}
