#include "lab/state.h"

#include <dirent.h>
#include <inttypes.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/lock.h"

const char *state_root(void)
{
	const char *r = getenv("NETLAB_RUN_DIR");
	return r && *r ? r : "/run/netlab";
}

int state_lab_dir(const char *lab, char *buf, size_t len, nlab_error **err)
{
	int n = snprintf(buf, len, "%s/%s", state_root(), lab);

	if (n < 0 || (size_t)n >= len)
		return nlab_error_set(err, ENAMETOOLONG, "state directory for lab '%s'", lab);
	return 0;
}

int state_lock(const char *lab, nlab_error **err)
{
	char path[4096];

	if (mkdir_p(state_root(), 0755, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/.%s.lock", state_root(), lab);
	/* `down` unlinks this file while holding it: lock_file() re-checks
	 * the inode, so a waiter never locks the orphan. */
	return lock_file(path, err);
}

void state_unlink_lock(const char *lab)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/.%s.lock", state_root(), lab);
	unlink(path);
}

static json_object *proc_json(const struct proc_id *p)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "pid", json_object_new_int(p->pid));
	json_object_object_add(o, "starttime", json_object_new_uint64(p->starttime));
	return o;
}

static json_object *str_array(char *const *v, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

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

/* ---- nodes.idx ------------------------------------------------------- */

/* `exec` needs one node, and parsing a 1000-node state.json costs it
 * about 10 ms, more than the rest of `exec`.  So next to state.json goes
 * an index with one line per node, written from the same state:
 *
 *   netlab-index 1
 *   S <TAB> PID <TAB> STARTTIME
 *   N <TAB> NAME <TAB> PID <TAB> STARTTIME <TAB> USERNS <TAB> UID_BASE <TAB>
 *     GID_BASE <TAB> HAS_USER <TAB> UID <TAB> GID <TAB> NCGROUPS [<TAB> CGROUP]...
 *
 * A value with a tab or newline in it (only a cgroup path could have
 * one) leaves the index out; readers then use state.json. */
#define INDEX_MAGIC "netlab-index 1\n"

static bool index_safe(const char *v)
{
	return !strpbrk(v, "\t\n");
}

static int index_write(const struct lab_state *s, const char *dir, nlab_error **err)
{
	char path[4200], tmp[4200];
	cleanup_free char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	bool ok = f != NULL;

	snprintf(path, sizeof(path), "%s/nodes.idx", dir);
	snprintf(tmp, sizeof(tmp), "%s/.nodes.idx.tmp", dir);
	if (ok)
		fprintf(f, INDEX_MAGIC "S\t%d\t%llu\n", (int)s->supervisor.pid,
			(unsigned long long)s->supervisor.starttime);
	for (size_t i = 0; ok && i < s->nnodes; i++) {
		const struct state_node *n = &s->nodes[i];
		ok = index_safe(n->name);
		fprintf(f, "N\t%s\t%d\t%llu\t%d\t%u\t%u\t%d\t%u\t%u\t%zu", n->name, (int)n->init.pid,
			(unsigned long long)n->init.starttime, n->userns, n->uid_base, n->gid_base, n->has_user,
			n->uid, n->gid, n->ncgroups);
		for (size_t k = 0; ok && k < n->ncgroups; k++) {
			ok = index_safe(n->cgroups[k]);
			fprintf(f, "\t%s", n->cgroups[k]);
		}
		fputc('\n', f);
	}
	if (f && fclose(f) != 0)
		ok = false;
	if (!ok) {
		unlink(path);
		return 0;
	}
	return write_file_atomic(path, tmp, buf, len, err);
}

/* The supervisor line after the magic; NULL unless buf is an index. */
static const char *index_header(const char *buf, struct proc_id *sup)
{
	const char *line = buf + strlen(INDEX_MAGIC);

	if (strncmp(buf, INDEX_MAGIC, strlen(INDEX_MAGIC)) != 0 ||
	    sscanf(line, "S\t%d\t%" SCNu64, &sup->pid, &sup->starttime) != 2)
		return NULL;
	return line;
}

/* One field of an index line, in place; NULL past the end. */
static char *index_field(char **p)
{
	char *f = *p;

	if (!f)
		return NULL;
	char *tab = strchr(f, '\t');
	if (tab) {
		*tab = '\0';
		*p = tab + 1;
	} else {
		*p = NULL;
	}
	return f;
}

static bool index_uint(char **p, unsigned long long *v)
{
	char *f = index_field(p), *end;

	if (!f || !*f)
		return false;
	errno = 0;
	*v = strtoull(f, &end, 10);
	return !*end && errno == 0;
}

/* 1 found, 0 no such node, -1 no usable index. */
static int index_find(const char *dir, const char *name, struct state_node *out, struct proc_id *sup)
{
	char path[4200];
	cleanup_free char *buf = NULL;
	size_t len = 0;
	unsigned long long v[8];

	struct stat st;

	snprintf(path, sizeof(path), "%s/nodes.idx", dir);
	if (stat(path, &st) < 0 || !(buf = read_file(path, (size_t)st.st_size, &len)) || len != (size_t)st.st_size ||
	    !index_header(buf, sup))
		return -1;
	char *line = buf + strlen(INDEX_MAGIC), *next;
	for (; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (line[0] != 'N' || line[1] != '\t')
			continue;
		char *p = line + 2;
		if (strcmp(index_field(&p), name) != 0)
			continue;
		for (int i = 0; i < 8; i++)
			if (!index_uint(&p, &v[i]))
				return -1;
		unsigned long long ncg;
		if (!index_uint(&p, &ncg) || ncg > 64)
			return -1;
		memset(out, 0, sizeof(*out));
		out->name = strdup(name);
		out->init.pid = (pid_t)v[0];
		out->init.starttime = v[1];
		out->userns = v[2] != 0;
		out->uid_base = (uint32_t)v[3];
		out->gid_base = (uint32_t)v[4];
		out->has_user = v[5] != 0;
		out->uid = (uint32_t)v[6];
		out->gid = (uint32_t)v[7];
		out->cgroups = calloc(ncg + 1, sizeof(*out->cgroups));
		for (size_t k = 0; out->cgroups && k < ncg; k++) {
			char *cg = index_field(&p);
			if (!cg || !(out->cgroups[k] = strdup(cg))) {
				state_node_clear(out);
				return -1;
			}
			out->ncgroups++;
		}
		if (!out->name || !out->cgroups) {
			state_node_clear(out);
			return -1;
		}
		return 1;
	}
	return 0;
}

int state_read_node(const char *lab, const char *name, struct state_node *out, struct proc_id *sup,
		    nlab_error **err)
{
	char dir[4096];
	struct lab_state st;

	if (state_lab_dir(lab, dir, sizeof(dir), err) < 0)
		return -1;
	int r = index_find(dir, name, out, sup);
	if (r == 1)
		return 0;
	if (r == 0)
		return nlab_error_set(err, ENOENT, "lab '%s' has no node '%s'", lab, name);
	/* No index (a state written by an older netlab): the whole state. */
	if (state_read(lab, &st, err) < 0)
		return -1;
	*sup = st.supervisor;
	struct state_node *n = state_find_node(&st, name);
	if (!n) {
		state_clear(&st);
		return nlab_error_set(err, ENOENT, "lab '%s' has no node '%s'", lab, name);
	}
	*out = *n;
	/* Taken over: what state_clear() would free of it. */
	n->name = NULL;
	n->cgroups = NULL;
	n->ncgroups = 0;
	state_clear(&st);
	return 0;
}

int state_read_supervisor(const char *lab, struct proc_id *sup)
{
	char dir[4096], path[4200], buf[256];
	struct lab_state st;

	if (state_lab_dir(lab, dir, sizeof(dir), NULL) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/nodes.idx", dir);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? TEMP_FAILURE_RETRY(read(fd, buf, sizeof(buf) - 1)) : -1;
	if (n > 0) {
		buf[n] = '\0';
		if (index_header(buf, sup))
			return 0;
	}
	if (state_read(lab, &st, NULL) < 0)
		return -1;
	*sup = st.supervisor;
	state_clear(&st);
	return 0;
}

void state_node_clear(struct state_node *n)
{
	free(n->name);
	for (size_t k = 0; k < n->ncgroups; k++)
		free(n->cgroups[k]);
	free(n->cgroups);
	free(n->exited);
	memset(n, 0, sizeof(*n));
}

int state_write(const struct lab_state *s, nlab_error **err)
{
	char dir[4096], tmp[4200], path[4200];
	json_object *root = json_object_new_object();
	json_object *nodes = json_object_new_array();
	json_object *links = json_object_new_array();
	json_object *sysctls = json_object_new_array();
	int r = -1;

	if (state_lab_dir(s->lab, dir, sizeof(dir), err) < 0)
		goto out;
	json_object_object_add(root, "lab", json_object_new_string(s->lab));
	json_object_object_add(root, "topology", json_object_new_string(s->topology ? s->topology : ""));
	json_object_object_add(root, "created", json_object_new_int64(s->created));
	json_object_object_add(root, "grace_ms", json_object_new_int(s->grace_ms));
	json_object_object_add(root, "supervisor", proc_json(&s->supervisor));
	for (size_t i = 0; i < s->nnodes; i++) {
		json_object *n = proc_json(&s->nodes[i].init);
		const struct state_node *sn = &s->nodes[i];
		json_object_object_add(n, "name", json_object_new_string(sn->name));
		json_object_object_add(n, "userns", json_object_new_boolean(sn->userns));
		if (sn->userns) {
			json_object_object_add(n, "uid_base", json_object_new_int64(sn->uid_base));
			json_object_object_add(n, "gid_base", json_object_new_int64(sn->gid_base));
		}
		if (sn->has_user) {
			json_object_object_add(n, "uid", json_object_new_int64(sn->uid));
			json_object_object_add(n, "gid", json_object_new_int64(sn->gid));
		}
		json_object_object_add(n, "cgroups", str_array(sn->cgroups, sn->ncgroups));
		if (sn->nexited) {
			json_object *ex = json_object_new_array();
			for (size_t k = 0; k < sn->nexited; k++) {
				json_object *e = json_object_new_object();
				int ws = sn->exited[k].wstatus;
				json_object_object_add(e, "line", json_object_new_int(sn->exited[k].line));
				json_object_object_add(e, "wstatus", json_object_new_int(ws));
				if (WIFEXITED(ws))
					json_object_object_add(e, "code", json_object_new_int(WEXITSTATUS(ws)));
				else
					json_object_object_add(e, "signal", json_object_new_int(WTERMSIG(ws)));
				json_object_array_add(ex, e);
			}
			json_object_object_add(n, "exited", ex);
		}
		json_object_array_add(nodes, n);
	}
	json_object_object_add(root, "nodes", nodes);
	nodes = NULL;
	for (size_t i = 0; i < s->nhost_links; i++) {
		json_object *l = json_object_new_object();
		json_object_object_add(l, "name", json_object_new_string(s->host_links[i].name));
		json_object_object_add(l, "ifindex", json_object_new_int(s->host_links[i].ifindex));
		json_object_array_add(links, l);
	}
	json_object_object_add(root, "host_links", links);
	links = NULL;
	for (size_t i = 0; i < s->nhost_sysctls; i++) {
		json_object *l = json_object_new_object();
		json_object_object_add(l, "key", json_object_new_string(s->host_sysctls[i].key));
		json_object_object_add(l, "old", json_object_new_string(s->host_sysctls[i].old));
		json_object_array_add(sysctls, l);
	}
	json_object_object_add(root, "host_sysctls", sysctls);
	sysctls = NULL;
	json_object *rules = json_object_new_array();
	for (size_t i = 0; i < s->nhost_rules; i++) {
		json_object *l = json_object_new_object();
		json_object_object_add(l, "family", json_object_new_int(s->host_rules[i].family));
		json_object_object_add(l, "table", json_object_new_string(s->host_rules[i].table));
		json_object_object_add(l, "chain", json_object_new_string(s->host_rules[i].chain));
		json_object_object_add(l, "comment", json_object_new_string(s->host_rules[i].comment));
		json_object_array_add(rules, l);
	}
	json_object_object_add(root, "host_rules", rules);
	json_object *ifs = json_object_new_array();
	for (size_t i = 0; i < s->nhost_ifaces; i++) {
		const struct state_host_iface *h = &s->host_ifaces[i];
		json_object *l = json_object_new_object();
		json_object_object_add(l, "name", json_object_new_string(h->name));
		json_object_object_add(l, "ifindex", json_object_new_int(h->ifindex));
		json_object_object_add(l, "where", json_object_new_string(h->where));
		json_object_object_add(l, "inside", json_object_new_string(h->inside));
		json_object_object_add(l, "inside_ifindex", json_object_new_int(h->inside_ifindex));
		json_object_object_add(l, "up", json_object_new_boolean(h->up));
		json_object_object_add(l, "mtu", json_object_new_int(h->mtu));
		json_object_object_add(l, "addresses", str_array(h->addrs, h->naddrs));
		json_object_object_add(l, "pin", json_object_new_string(h->pin ? h->pin : ""));
		json_object_array_add(ifs, l);
	}
	json_object_object_add(root, "host_ifaces", ifs);
	json_object_object_add(root, "cgroups", str_array(s->cgroups, s->ncgroups));

	snprintf(path, sizeof(path), "%s/state.json", dir);
	snprintf(tmp, sizeof(tmp), "%s/.state.json.tmp", dir);
	const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY);
	if (write_file_atomic(path, tmp, text, strlen(text), err) < 0 || index_write(s, dir, err) < 0)
		goto out;
	r = 0;
out:
	json_object_put(root);
	json_object_put(nodes);
	json_object_put(links);
	json_object_put(sysctls);
	return r;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static int64_t jint(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static void proc_from_json(json_object *o, struct proc_id *p)
{
	json_object *v;
	p->pid = (pid_t)jint(o, "pid");
	p->starttime = json_object_object_get_ex(o, "starttime", &v) ? json_object_get_uint64(v) : 0;
}

int state_read(const char *lab, struct lab_state *s, nlab_error **err)
{
	char path[4200], dir[4096];
	json_object *root, *arr, *sup;

	memset(s, 0, sizeof(*s));
	if (state_lab_dir(lab, dir, sizeof(dir), err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/state.json", dir);
	if (access(path, F_OK) < 0)
		return nlab_error_set(err, errno, "lab '%s' has no state (%s)", lab, path);
	root = json_object_from_file(path);
	if (!root)
		return nlab_error_set(err, EINVAL, "lab '%s': cannot parse %s: %s", lab, path,
				      json_util_get_last_err());
	s->lab = strdup(jstr(root, "lab") ? jstr(root, "lab") : lab);
	s->topology = strdup(jstr(root, "topology") ? jstr(root, "topology") : "");
	s->created = jint(root, "created");
	s->grace_ms = (int)jint(root, "grace_ms");
	if (json_object_object_get_ex(root, "supervisor", &sup))
		proc_from_json(sup, &s->supervisor);
	if (json_object_object_get_ex(root, "nodes", &arr) && json_object_is_type(arr, json_type_array)) {
		size_t n = json_object_array_length(arr);
		s->nodes = calloc(n ? n : 1, sizeof(*s->nodes));
		for (size_t i = 0; s->nodes && i < n; i++) {
			json_object *o = json_object_array_get_idx(arr, i);
			s->nodes[i].name = strdup(jstr(o, "name") ? jstr(o, "name") : "?");
			struct state_node *sn = &s->nodes[i];
			json_object *v;
			proc_from_json(o, &sn->init);
			sn->userns = json_object_object_get_ex(o, "userns", &v) && json_object_get_boolean(v);
			sn->uid_base = (uint32_t)jint(o, "uid_base");
			sn->gid_base = (uint32_t)jint(o, "gid_base");
			sn->has_user = json_object_object_get_ex(o, "uid", &v);
			sn->uid = (uint32_t)jint(o, "uid");
			sn->gid = (uint32_t)jint(o, "gid");
			str_array_from(o, "cgroups", &sn->cgroups, &sn->ncgroups);
			json_object *ex;
			if (json_object_object_get_ex(o, "exited", &ex) && json_object_is_type(ex, json_type_array)) {
				size_t ne = json_object_array_length(ex);
				sn->exited = calloc(ne ? ne : 1, sizeof(*sn->exited));
				for (size_t k = 0; sn->exited && k < ne; k++) {
					json_object *e = json_object_array_get_idx(ex, k);
					sn->exited[k].line = (int)jint(e, "line");
					sn->exited[k].wstatus = (int)jint(e, "wstatus");
					sn->nexited++;
				}
			}
			s->nnodes++;
		}
	}
	if (json_object_object_get_ex(root, "host_links", &arr) && json_object_is_type(arr, json_type_array)) {
		size_t n = json_object_array_length(arr);
		s->host_links = calloc(n ? n : 1, sizeof(*s->host_links));
		for (size_t i = 0; s->host_links && i < n; i++) {
			json_object *o = json_object_array_get_idx(arr, i);
			snprintf(s->host_links[i].name, sizeof(s->host_links[i].name), "%s",
				 jstr(o, "name") ? jstr(o, "name") : "");
			s->host_links[i].ifindex = (int)jint(o, "ifindex");
			s->nhost_links++;
		}
	}
	if (json_object_object_get_ex(root, "host_sysctls", &arr) && json_object_is_type(arr, json_type_array)) {
		size_t n = json_object_array_length(arr);
		s->host_sysctls = calloc(n ? n : 1, sizeof(*s->host_sysctls));
		for (size_t i = 0; s->host_sysctls && i < n; i++) {
			json_object *o = json_object_array_get_idx(arr, i);
			s->host_sysctls[i].key = strdup(jstr(o, "key") ? jstr(o, "key") : "");
			s->host_sysctls[i].old = strdup(jstr(o, "old") ? jstr(o, "old") : "");
			s->nhost_sysctls++;
		}
	}
	if (json_object_object_get_ex(root, "host_rules", &arr) && json_object_is_type(arr, json_type_array)) {
		size_t n = json_object_array_length(arr);
		s->host_rules = calloc(n ? n : 1, sizeof(*s->host_rules));
		for (size_t i = 0; s->host_rules && i < n; i++) {
			json_object *o = json_object_array_get_idx(arr, i);
			struct state_host_rule *r = &s->host_rules[i];
			r->family = (int)jint(o, "family");
			snprintf(r->table, sizeof(r->table), "%s", jstr(o, "table") ? jstr(o, "table") : "");
			snprintf(r->chain, sizeof(r->chain), "%s", jstr(o, "chain") ? jstr(o, "chain") : "");
			r->comment = strdup(jstr(o, "comment") ? jstr(o, "comment") : "");
			s->nhost_rules++;
		}
	}
	if (json_object_object_get_ex(root, "host_ifaces", &arr) && json_object_is_type(arr, json_type_array)) {
		size_t n = json_object_array_length(arr);
		s->host_ifaces = calloc(n ? n : 1, sizeof(*s->host_ifaces));
		for (size_t i = 0; s->host_ifaces && i < n; i++) {
			json_object *o = json_object_array_get_idx(arr, i), *v;
			struct state_host_iface *h = &s->host_ifaces[i];
			snprintf(h->name, sizeof(h->name), "%s", jstr(o, "name") ? jstr(o, "name") : "");
			h->ifindex = (int)jint(o, "ifindex");
			snprintf(h->where, sizeof(h->where), "%s", jstr(o, "where") ? jstr(o, "where") : "");
			snprintf(h->inside, sizeof(h->inside), "%s", jstr(o, "inside") ? jstr(o, "inside") : "");
			h->inside_ifindex = (int)jint(o, "inside_ifindex");
			h->up = json_object_object_get_ex(o, "up", &v) && json_object_get_boolean(v);
			h->mtu = (int)jint(o, "mtu");
			str_array_from(o, "addresses", &h->addrs, &h->naddrs);
			h->pin = jstr(o, "pin") && *jstr(o, "pin") ? strdup(jstr(o, "pin")) : NULL;
			s->nhost_ifaces++;
		}
	}
	str_array_from(root, "cgroups", &s->cgroups, &s->ncgroups);
	json_object_put(root);
	return 0;
}

void state_clear(struct lab_state *s)
{
	free(s->lab);
	free(s->topology);
	for (size_t i = 0; i < s->nnodes; i++)
		state_node_clear(&s->nodes[i]);
	free(s->nodes);
	for (size_t k = 0; k < s->ncgroups; k++)
		free(s->cgroups[k]);
	free(s->cgroups);
	free(s->host_links);
	for (size_t i = 0; i < s->nhost_sysctls; i++) {
		free(s->host_sysctls[i].key);
		free(s->host_sysctls[i].old);
	}
	free(s->host_sysctls);
	for (size_t i = 0; i < s->nhost_rules; i++)
		free(s->host_rules[i].comment);
	free(s->host_rules);
	for (size_t i = 0; i < s->nhost_ifaces; i++) {
		for (size_t k = 0; k < s->host_ifaces[i].naddrs; k++)
			free(s->host_ifaces[i].addrs[k]);
		free(s->host_ifaces[i].addrs);
		free(s->host_ifaces[i].pin);
	}
	free(s->host_ifaces);
	memset(s, 0, sizeof(*s));
}

int state_remove(const char *lab, nlab_error **err)
{
	char dir[4096];

	if (state_lab_dir(lab, dir, sizeof(dir), err) < 0)
		return -1;
	return rm_rf(dir, err);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int state_list(char ***labs, size_t *n, nlab_error **err)
{
	DIR *d = opendir(state_root());
	struct dirent *e;
	char **v = NULL;
	size_t cnt = 0, cap = 0;

	*labs = NULL;
	*n = 0;
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return nlab_error_set(err, errno, "open %s", state_root());
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || e->d_type != DT_DIR)
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 8;
			char **nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		v[cnt++] = strdup(e->d_name);
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_str);
	*labs = v;
	*n = cnt;
	return 0;
}

int proc_id_of(pid_t pid, struct proc_id *out)
{
	char path[64], buf[1024];
	cleanup_close int fd = -1;
	ssize_t n;

	out->pid = pid;
	out->starttime = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = TEMP_FAILURE_RETRY(read(fd, buf, sizeof(buf) - 1));
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* comm may contain spaces and ')': fields resume after the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	p++;
	for (int field = 3; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return -1;
	out->starttime = strtoull(p + 1, NULL, 10);
	return 0;
}

bool proc_id_alive(const struct proc_id *id)
{
	struct proc_id now;

	if (id->pid <= 0 || proc_id_of(id->pid, &now) < 0)
		return false;
	return now.starttime == id->starttime;
}

int proc_id_pidfd(const struct proc_id *id)
{
	int fd = (int)syscall(SYS_pidfd_open, id->pid, 0);

	if (fd < 0)
		return -1;
	/* The pid may have been reused between reading the state and here:
	 * check it is still the process we started. */
	if (!proc_id_alive(id)) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	return fd;
}

struct state_node *state_find_node(const struct lab_state *s, const char *name)
{
	for (size_t i = 0; i < s->nnodes; i++)
		if (strcmp(s->nodes[i].name, name) == 0)
			return &s->nodes[i];
	return NULL;
}
