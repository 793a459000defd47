/* state_read(): state.json (and runtime.json) back into a struct
 * lab_state, every name and path checked before anything uses it: a
 * damaged or foreign state is refused by name, never half read. */
#include "lab/state.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/state_int.h"
#include "topo/model.h"
#include "util/cleanup.h"
#include "util/fsutil.h"

static void str_array_from(json_object *o, const char *key, char ***v, size_t *n)
{
	json_object *arr;

	*v = NULL;
	*n = 0;
	if (!json_object_object_get_ex(o, key, &arr) || !json_object_is_type(arr, json_type_array))
		return;
	size_t len = json_object_array_length(arr);
	*v = calloc(len ? len : 1, sizeof(**v));
	for (size_t i = 0; *v && i < len; i++) {
		const char *str = json_object_get_string(json_object_array_get_idx(arr, i));
		if (str && ((*v)[*n] = strdup(str)))
			(*n)++;
	}
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

static int64_t jint(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int) ? json_object_get_int64(v)
											      : 0;
}

static void proc_from_json(json_object *o, struct proc_id *p)
{
	json_object *v;
	int64_t pid = jint(o, "pid");
	p->pid = pid > 0 && pid <= INT32_MAX ? (pid_t)pid : 0;
	p->starttime = json_object_object_get_ex(o, "starttime", &v) && json_object_is_type(v, json_type_int)
			       ? json_object_get_uint64(v)
			       : 0;
}

static json_object *jarray(json_object *o, const char *key)
{
	json_object *arr;
	return json_object_object_get_ex(o, key, &arr) && json_object_is_type(arr, json_type_array) ? arr : NULL;
}

/* What a state.json holds that netlab did not write is refused by name:
 * everything in it is used by root processes (pids they signal, names
 * that become paths). */
static int damaged(const char *lab, nlab_error **err, const char *fmt, const char *what)
{
	if (what)
		nlab_error_set(err, 0, "lab '%s': state.json is damaged: %s '%s'", lab, fmt, what);
	else
		nlab_error_set(err, 0, "lab '%s': state.json is damaged: %s", lab, fmt);
	if (err && *err)
		(*err)->errnum = EBADMSG;
	return -1;
}

static int read_nodes(const char *lab, json_object *root, struct lab_state *s, nlab_error **err)
{
	json_object *arr = jarray(root, "nodes");
	size_t n = arr ? json_object_array_length(arr) : 0;

	s->nodes = calloc(n + 1, sizeof(*s->nodes));
	if (!s->nodes)
		return nlab_error_set(err, ENOMEM, "lab '%s': state", lab);
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i), *v;
		struct state_node *sn = &s->nodes[i];
		const char *name = json_object_is_type(o, json_type_object) ? jstr(o, "name") : NULL;
		if (!topo_object_name_valid(name))
			return damaged(lab, err, "a node name that is not one:", name);
		if (!(sn->name = strdup(name)))
			return nlab_error_set(err, ENOMEM, "lab '%s': state", lab);
		s->nnodes++;
		proc_from_json(o, &sn->init);
		sn->userns = json_object_object_get_ex(o, "userns", &v) && json_object_get_boolean(v);
		sn->uid_base = (uint32_t)jint(o, "uid_base");
		sn->gid_base = (uint32_t)jint(o, "gid_base");
		sn->has_user = json_object_object_get_ex(o, "uid", &v);
		sn->uid = (uint32_t)jint(o, "uid");
		sn->gid = (uint32_t)jint(o, "gid");
		str_array_from(o, "cgroups", &sn->cgroups, &sn->ncgroups);
	}
	return 0;
}

static int read_host(const char *lab, json_object *root, struct lab_state *s, nlab_error **err)
{
	json_object *arr;
	size_t n;

	arr = jarray(root, "host_links");
	n = arr ? json_object_array_length(arr) : 0;
	s->host_links = calloc(n + 1, sizeof(*s->host_links));
	for (size_t i = 0; s->host_links && i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		const char *name = jstr(o, "name");
		if (!name || strlen(name) >= sizeof(s->host_links[i].name))
			return damaged(lab, err, "a host interface name that is not one:", name);
		snprintf(s->host_links[i].name, sizeof(s->host_links[i].name), "%s", name);
		s->host_links[i].ifindex = (int)jint(o, "ifindex");
		s->nhost_links++;
	}
	arr = jarray(root, "host_sysctls");
	n = arr ? json_object_array_length(arr) : 0;
	s->host_sysctls = calloc(n + 1, sizeof(*s->host_sysctls));
	for (size_t i = 0; s->host_sysctls && i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		const char *key = jstr(o, "key"), *value = jstr(o, "value");
		if (!key || strncmp(key, "net.", 4) != 0 || strstr(key, "..") || strchr(key, '/'))
			return damaged(lab, err, "a host sysctl that netlab does not set:", key);
		s->host_sysctls[i].key = strdup(key);
		s->host_sysctls[i].value = strdup(value ? value : "");
		s->nhost_sysctls++;
	}
	arr = jarray(root, "host_rules");
	n = arr ? json_object_array_length(arr) : 0;
	s->host_rules = calloc(n + 1, sizeof(*s->host_rules));
	for (size_t i = 0; s->host_rules && i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		struct state_host_rule *r = &s->host_rules[i];
		const char *table = jstr(o, "table"), *chain = jstr(o, "chain");
		r->family = (int)jint(o, "family");
		if ((r->family != 4 && r->family != 6) || !table || (strcmp(table, "filter") && strcmp(table, "nat")) ||
		    !chain || strlen(chain) >= sizeof(r->chain))
			return damaged(lab, err, "a host rule in a table netlab does not use:", table);
		snprintf(r->table, sizeof(r->table), "%s", table);
		snprintf(r->chain, sizeof(r->chain), "%s", chain);
		r->comment = strdup(jstr(o, "comment") ? jstr(o, "comment") : "");
		s->nhost_rules++;
	}
	if (!s->host_links || !s->host_sysctls || !s->host_rules)
		return nlab_error_set(err, ENOMEM, "lab '%s': state", lab);
	return 0;
}

/* Host interfaces the lab took: names checked like the kernel's, the
 * node like a node's, the pin to be one of the lab's own pins. */
static int read_ifaces(const char *lab, json_object *root, struct lab_state *s, nlab_error **err)
{
	json_object *arr = jarray(root, "host_ifaces");
	size_t n = arr ? json_object_array_length(arr) : 0;
	char pins[4200];

	snprintf(pins, sizeof(pins), "%s/%s/pins/", state_root(), lab);
	s->host_ifaces = calloc(n + 1, sizeof(*s->host_ifaces));
	if (!s->host_ifaces)
		return nlab_error_set(err, ENOMEM, "lab '%s': state", lab);
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i), *v;
		struct state_host_iface *h = &s->host_ifaces[i];
		const char *name = jstr(o, "name"), *where = jstr(o, "where"), *inside = jstr(o, "inside"),
			   *pin = jstr(o, "pin");
		if (!name || !name[0] || strlen(name) >= sizeof(h->name) || strchr(name, '/') || !inside ||
		    strlen(inside) >= sizeof(h->inside) || strchr(inside, '/'))
			return damaged(lab, err, "a host interface name that is not one:", name);
		if (!where || (where[0] && !topo_object_name_valid(where)))
			return damaged(lab, err, "a node name that is not one:", where);
		if (pin && pin[0] && (strncmp(pin, pins, strlen(pins)) != 0 || strstr(pin, "/..")))
			return damaged(lab, err, "a namespace pin outside the lab's directory:", pin);
		snprintf(h->name, sizeof(h->name), "%s", name);
		snprintf(h->where, sizeof(h->where), "%s", where);
		snprintf(h->inside, sizeof(h->inside), "%s", inside);
		h->ifindex = (int)jint(o, "ifindex");
		h->inside_ifindex = (int)jint(o, "inside_ifindex");
		h->up = json_object_object_get_ex(o, "up", &v) && json_object_get_boolean(v);
		h->mtu = (int)jint(o, "mtu");
		str_array_from(o, "addresses", &h->addrs, &h->naddrs);
		h->pin = pin && pin[0] ? strdup(pin) : NULL;
		s->nhost_ifaces++;
	}
	return 0;
}

/* runtime.json: what happened after `up` (state_write_runtime()).  Only
 * ever informative: a damaged one reads as nothing. */
void state_read_runtime(struct lab_state *s, int dir)
{
	size_t len = 0;
	cleanup_free char *text = read_file_at(dir, "runtime.json", STATE_FILE_MAX, &len, NULL);

	if (!text)
		return;
	json_object *root = json_tokener_parse(text);
	if (!root || !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return;
	}
	for (size_t i = 0; i < s->nnodes; i++) {
		struct state_node *sn = &s->nodes[i];
		json_object *o, *ex, *v, *d;
		if (!json_object_object_get_ex(root, sn->name, &o) || !json_object_is_type(o, json_type_object))
			continue;
		if (json_object_object_get_ex(o, "exited", &ex) && json_object_is_type(ex, json_type_array)) {
			size_t ne = json_object_array_length(ex);
			free(sn->exited);
			sn->nexited = 0;
			sn->exited = calloc(ne ? ne : 1, sizeof(*sn->exited));
			for (size_t k = 0; sn->exited && k < ne; k++) {
				json_object *e = json_object_array_get_idx(ex, k);
				sn->exited[k].line = (int)jint(e, "line");
				sn->exited[k].wstatus = (int)jint(e, "wstatus");
				sn->nexited++;
			}
		}
		sn->restarts = (int)jint(o, "restarts");
		sn->restarted = jint(o, "restarted");
		sn->restarting = json_object_object_get_ex(o, "restarting", &v) && json_object_get_boolean(v);
		if (json_object_object_get_ex(o, "restart_error", &v) && json_object_is_type(v, json_type_string))
			sn->restart_error = strdup(json_object_get_string(v));
		if (json_object_object_get_ex(o, "died", &d) && json_object_is_type(d, json_type_object)) {
			sn->died = true;
			sn->died_wstatus = (int)jint(d, "wstatus");
			sn->oom_kills = (uint64_t)jint(d, "oom_kills");
			sn->died_at = jint(d, "time");
		}
	}
	json_object_put(root);
}

int state_read(const char *lab, struct lab_state *s, nlab_error **err)
{
	size_t len = 0;

	memset(s, 0, sizeof(*s));
	cleanup_close int dir = state_dir_open(lab, err);
	if (dir < 0)
		return -1;
	nlab_error *e = NULL;
	cleanup_free char *text = read_file_at(dir, "state.json", STATE_FILE_MAX, &len, &e);
	if (!text) {
		int en = e ? e->errnum : ENOMEM;
		nlab_error_set(err, en, "lab '%s' has no %sstate (%s/%s/state.json%s%s)", lab,
			       en == ENOENT ? "" : "readable ", state_root(), lab, en == ENOENT ? "" : ": ",
			       en == ENOENT || !e ? "" : e->msg);
		nlab_error_free(&e);
		return -1;
	}
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return nlab_error_set(err, ENOMEM, "lab '%s': state", lab);
	json_object *root = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error je = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (!root || je != json_tokener_success || !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		nlab_error_set(err, 0, "lab '%s': state.json is damaged: %s", lab,
			       len == 0			    ? "it is empty"
			       : je != json_tokener_success ? json_tokener_error_desc(je)
							    : "it is not a JSON object");
		if (err && *err)
			(*err)->errnum = EBADMSG;
		return -1;
	}
	int r = -1;
	const char *name = jstr(root, "lab");
	json_object *sup;
	if (!name) {
		damaged(lab, err, "it names no lab", NULL);
		goto out;
	}
	if (strcmp(name, lab) != 0) {
		damaged(lab, err, "it is the state of another lab:", name);
		goto out;
	}
	if (!json_object_object_get_ex(root, "supervisor", &sup) || !json_object_is_type(sup, json_type_object)) {
		damaged(lab, err, "it names no supervisor", NULL);
		goto out;
	}
	proc_from_json(sup, &s->supervisor);
	s->lab = strdup(lab);
	s->topology = strdup(jstr(root, "topology") ? jstr(root, "topology") : "");
	s->created = jint(root, "created");
	s->grace_ms = (int)jint(root, "grace_ms");
	if (s->grace_ms < 0 || s->grace_ms > 3600 * 1000)
		s->grace_ms = 2000;
	if (!s->lab || !s->topology) {
		nlab_error_set(err, ENOMEM, "lab '%s': state", lab);
		goto out;
	}
	if (read_nodes(lab, root, s, err) < 0 || read_host(lab, root, s, err) < 0 || read_ifaces(lab, root, s, err) < 0)
		goto out;
	str_array_from(root, "cgroups", &s->cgroups, &s->ncgroups);
	json_object *mg;
	if (json_object_object_get_ex(root, "memory_group", &mg) && json_object_is_type(mg, json_type_string))
		s->memory_group = strdup(json_object_get_string(mg));
	str_array_from(root, "netns_names", &s->netns_names, &s->nnetns_names);
	for (size_t i = 0; i < s->nnetns_names; i++)
		if (!s->netns_names[i][0] || s->netns_names[i][0] == '.' || strchr(s->netns_names[i], '/')) {
			damaged(lab, err, "a namespace name that is not one:", s->netns_names[i]);
			goto out;
		}
	str_array_from(root, "write_dirs", &s->write_dirs, &s->nwrite_dirs);
	for (size_t i = 0; i < s->nwrite_dirs; i++)
		if (s->write_dirs[i][0] != '/' || strstr(s->write_dirs[i], "/..")) {
			damaged(lab, err, "a directory that is not an absolute path:", s->write_dirs[i]);
			goto out;
		}
	state_read_runtime(s, dir);
	r = 0;
out:
	json_object_put(root);
	if (r < 0)
		state_clear(s);
	return r;
}


