#include "remote/record.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lab/state.h"
#include "topo/span.h"
#include "util/fsutil.h"
#include "util/lock.h"

static void dir_of(char *buf, size_t len)
{
	snprintf(buf, len, "%s/.machines", state_root());
}

static int path_of(const char *lab, const char *fmt, char *buf, size_t len, nlab_error **err)
{
	char dir[4096];

	if (!topo_lab_name_valid(lab))
		return nlab_error_set(err, EINVAL, "invalid lab name '%s'", lab);
	dir_of(dir, sizeof(dir));
	int n = snprintf(buf, len, fmt, dir, lab);
	if (n < 0 || (size_t)n >= len)
		return nlab_error_set(err, ENAMETOOLONG, "lab %s", lab);
	return 0;
}

bool mh_record_exists(const char *lab)
{
	char path[4200];

	return path_of(lab, "%s/%s.json", path, sizeof(path), NULL) == 0 && access(path, F_OK) == 0;
}

static char *jdup(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return strdup(json_object_get_string(v));
}

static int64_t jint(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

/* A machine from the file: names checked as the language checks them
 * (they go into ssh's arguments and messages). */
static int read_machine(json_object *o, struct mh_machine *m)
{
	json_object *nodes, *holds;
	char *name = jdup(o, "name"), *host = jdup(o, "host"), *user = jdup(o, "user"), *ul = jdup(o, "underlay");
	char *cu = NULL, *ch = NULL, why[128], target[400];

	memset(m, 0, sizeof(*m));
	snprintf(target, sizeof(target), "%s%s%s", user ? user : "", user ? "@" : "", host ? host : "");
	if (!name || !host || !topo_machine_name_valid(name) ||
	    topo_ssh_target_parse(target, &cu, &ch, why, sizeof(why)) < 0) {
		free(name);
		free(host);
		free(user);
		free(ul);
		return -1;
	}
	free(host);
	free(user);
	m->m.name = name;
	m->m.user = cu;
	m->m.host = ch;
	snprintf(m->underlay, sizeof(m->underlay), "%s", ul ? ul : "");
	free(ul);
	m->holds = json_object_object_get_ex(o, "holds", &holds) && json_object_get_boolean(holds);
	if (json_object_object_get_ex(o, "nodes", &nodes) && json_object_is_type(nodes, json_type_array)) {
		size_t n = json_object_array_length(nodes);
		m->nodes = calloc(n + 1, sizeof(*m->nodes));
		for (size_t i = 0; m->nodes && i < n; i++) {
			const char *s = json_object_get_string(json_object_array_get_idx(nodes, i));
			if (s && (m->nodes[m->nnodes] = strdup(s)))
				m->nnodes++;
		}
	}
	return 0;
}

int mh_record_read(const char *lab, struct mh_record *r, nlab_error **err)
{
	char path[4200];
	size_t len;

	memset(r, 0, sizeof(*r));
	if (path_of(lab, "%s/%s.json", path, sizeof(path), err) < 0)
		return -1;
	char *text = read_file(path, 256u << 20, &len);
	if (!text)
		return nlab_error_set(err, errno, "lab %s: read %s", lab, path);
	json_object *o = json_tokener_parse(text), *v, *ms;
	free(text);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return nlab_error_set(err, EBADMSG, "lab %s: %s is not JSON", lab, path);
	}
	r->lab = strdup(lab);
	r->topology = jdup(o, "topology");
	r->dir = jdup(o, "dir");
	r->remote_netlab = jdup(o, "remote_netlab");
	r->text = jdup(o, "text");
	r->created = jint(o, "created");
	r->up = json_object_object_get_ex(o, "state", &v) && !strcmp(json_object_get_string(v), "up");
	if (json_object_object_get_ex(o, "vxlan", &v)) {
		r->port = (int)jint(v, "port");
		r->vni = (uint32_t)jint(v, "vni");
		r->mtu = (int)jint(v, "mtu");
	}
	if (json_object_object_get_ex(o, "machines", &ms) && json_object_is_type(ms, json_type_array)) {
		size_t n = json_object_array_length(ms);
		r->machines = calloc(n + 1, sizeof(*r->machines));
		for (size_t i = 0; r->machines && i < n; i++)
			if (read_machine(json_object_array_get_idx(ms, i), &r->machines[r->nmachines]) == 0)
				r->nmachines++;
	}
	json_object_put(o);
	if (!r->lab || !r->machines || !r->remote_netlab) {
		mh_record_clear(r);
		return nlab_error_set(err, EBADMSG, "lab %s: %s is incomplete", lab, path);
	}
	return 0;
}

static json_object *jstr_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

int mh_record_write(const struct mh_record *r, nlab_error **err)
{
	char dir[4096], path[4200], tmp[4200];

	dir_of(dir, sizeof(dir));
	if (path_of(r->lab, "%s/%s.json", path, sizeof(path), err) < 0 ||
	    path_of(r->lab, "%s/.%s.json.tmp", tmp, sizeof(tmp), err) < 0 || mkdir_p(dir, 0700, err) < 0)
		return -1;
	json_object *o = json_object_new_object(), *vx = json_object_new_object(), *ms = json_object_new_array();
	json_object_object_add(o, "lab", json_object_new_string(r->lab));
	json_object_object_add(o, "topology", jstr_or_null(r->topology));
	json_object_object_add(o, "dir", jstr_or_null(r->dir));
	json_object_object_add(o, "created", json_object_new_int64(r->created));
	json_object_object_add(o, "state", json_object_new_string(r->up ? "up" : "starting"));
	json_object_object_add(o, "remote_netlab", json_object_new_string(r->remote_netlab));
	json_object_object_add(vx, "port", json_object_new_int(r->port));
	json_object_object_add(vx, "vni", json_object_new_int64(r->vni));
	json_object_object_add(vx, "mtu", json_object_new_int(r->mtu));
	json_object_object_add(o, "vxlan", vx);
	for (size_t i = 0; i < r->nmachines; i++) {
		const struct mh_machine *m = &r->machines[i];
		json_object *jm = json_object_new_object(), *nodes = json_object_new_array();
		json_object_object_add(jm, "name", json_object_new_string(m->m.name));
		json_object_object_add(jm, "user", jstr_or_null(m->m.user));
		json_object_object_add(jm, "host", json_object_new_string(m->m.host));
		json_object_object_add(jm, "underlay", json_object_new_string(m->underlay));
		json_object_object_add(jm, "holds", json_object_new_boolean(m->holds));
		for (size_t k = 0; k < m->nnodes; k++)
			json_object_array_add(nodes, json_object_new_string(m->nodes[k]));
		json_object_object_add(jm, "nodes", nodes);
		json_object_array_add(ms, jm);
	}
	json_object_object_add(o, "machines", ms);
	json_object_object_add(o, "text", jstr_or_null(r->text));
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	int rc = write_file_atomic(path, tmp, s, strlen(s), err);
	json_object_put(o);
	return rc;
}

int mh_record_remove(const char *lab, nlab_error **err)
{
	char path[4200];

	if (path_of(lab, "%s/%s.json", path, sizeof(path), err) < 0)
		return -1;
	if (unlink(path) < 0 && errno != ENOENT)
		return nlab_error_set(err, errno, "remove %s", path);
	return 0;
}

void mh_record_clear(struct mh_record *r)
{
	free(r->lab);
	free(r->topology);
	free(r->dir);
	free(r->remote_netlab);
	free(r->text);
	for (size_t i = 0; i < r->nmachines; i++) {
		struct mh_machine *m = &r->machines[i];
		free(m->m.name);
		free(m->m.user);
		free(m->m.host);
		for (size_t k = 0; k < m->nnodes; k++)
			free(m->nodes[k]);
		free(m->nodes);
	}
	free(r->machines);
	memset(r, 0, sizeof(*r));
}

int mh_lock(const char *lab, nlab_error **err)
{
	char dir[4096], name[NLAB_NAME_MAX + 8];

	dir_of(dir, sizeof(dir));
	if (!topo_lab_name_valid(lab))
		return nlab_error_set(err, EINVAL, "invalid lab name '%s'", lab);
	snprintf(name, sizeof(name), ".%s.lock", lab);
	if (mkdir_p(dir, 0700, err) < 0)
		return -1;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return nlab_error_set(err, errno, "open %s", dir);
	int fd = lock_at(dfd, name, NULL, err);
	close(dfd);
	return fd;
}

void mh_unlock(int fd, const char *lab, bool gone)
{
	char dir[4096], name[NLAB_NAME_MAX + 8];

	if (fd < 0)
		return;
	dir_of(dir, sizeof(dir));
	snprintf(name, sizeof(name), ".%s.lock", lab);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || !topo_lab_name_valid(lab)) {
		if (dfd >= 0)
			close(dfd);
		close(fd);
		return;
	}
	lock_release_at(fd, dfd, name, gone);
	close(dfd);
	/* Nothing of netlab stays behind once no lab is controlled from
	 * here: the directory goes with its last file. */
	if (gone)
		rmdir(dir);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int mh_list(char ***labs, size_t *n, nlab_error **err)
{
	char dir[4096];
	DIR *d;
	char **v = NULL;
	size_t cnt = 0;

	*labs = NULL;
	*n = 0;
	dir_of(dir, sizeof(dir));
	if (!(d = opendir(dir)))
		return errno == ENOENT ? 0 : nlab_error_set(err, errno, "open %s", dir);
	for (struct dirent *e; (e = readdir(d));) {
		size_t l = strlen(e->d_name);
		if (e->d_name[0] == '.' || l < 6 || strcmp(e->d_name + l - 5, ".json") != 0)
			continue;
		char **nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (!nv)
			break;
		v = nv;
		if ((v[cnt] = strndup(e->d_name, l - 5)) && topo_lab_name_valid(v[cnt]))
			cnt++;
		else
			free(v[cnt]);
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_str);
	*labs = v;
	*n = cnt;
	return 0;
}

const struct mh_machine *mh_record_node(const struct mh_record *r, const char *node)
{
	for (size_t i = 0; i < r->nmachines; i++)
		for (size_t k = 0; k < r->machines[i].nnodes; k++)
			if (!strcmp(r->machines[i].nodes[k], node))
				return &r->machines[i];
	return NULL;
}

const struct mh_machine *mh_record_machine(const struct mh_record *r, const char *name)
{
	for (size_t i = 0; i < r->nmachines; i++)
		if (!strcmp(r->machines[i].m.name, name))
			return &r->machines[i];
	return NULL;
}
