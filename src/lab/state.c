#include "lab/state.h"

#include <dirent.h>
#include <stdarg.h>
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

#include "lab/rootless.h"
#include "lab/state_int.h"
#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/lock.h"
#include "topo/model.h"

const char *state_root(void)
{
	static char user_root[4096];
	const char *r = getenv("NETLAB_RUN_DIR");

	if (r && *r)
		return r;
	if (!rootless())
		return "/run/netlab";
	/* An unprivileged user's labs are its own (lab/rootless.h). */
	/* A home that is not there (nobody's /nonexistent) is no home. */
	const char *home = getenv("HOME");
	struct stat hs;
	if (home && (stat(home, &hs) < 0 || !S_ISDIR(hs.st_mode)))
		home = NULL;
	if (!user_root[0] &&
	    rootless_state_root(user_root, sizeof(user_root), geteuid(), getenv("XDG_RUNTIME_DIR"), home) < 0)
		snprintf(user_root, sizeof(user_root), "/tmp/netlab-%u", (unsigned)geteuid());
	return user_root;
}

/* Only a directory of ours that no one else may write holds state: a lab
 * name must never lead a root process into someone else's files. */
static int check_dir(int fd, const char *what, nlab_error **err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return nlab_error_set(err, errno, "stat %s", what);
	if (!S_ISDIR(st.st_mode))
		return nlab_error_set(err, ENOTDIR, "%s is not a directory", what);
	if (st.st_uid != geteuid() || (st.st_mode & 0022))
		return nlab_error_set(err, EPERM,
				      "%s is not netlab's (owned by uid %u, mode %04o; it must belong to uid %u and be "
				      "writable by it alone)",
				      what, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), (unsigned)geteuid());
	return 0;
}

int state_root_open(bool create, nlab_error **err)
{
	const char *root = state_root();

	/* A user's state root is private: its labs, logs and captures are
	 * nobody else's business (root's stays 0755, as /run is). */
	if (create && mkdir_p(root, rootless() ? 0700 : 0755, err) < 0)
		return -1;
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOTDIR || e == ELOOP)
			return nlab_error_set(err, ENOTDIR,
					      "%s is not a directory (netlab keeps its labs' state there)", root);
		return nlab_error_set(err, e, "open %s", root);
	}
	if (check_dir(fd, root, err) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* EINVAL, without strerror's "Invalid argument" after a message that
 * already says what is wrong. */
static int __attribute__((format(printf, 2, 3))) invalid(nlab_error **err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nlab_error_vset(err, 0, fmt, ap);
	va_end(ap);
	if (err && *err)
		(*err)->errnum = EINVAL;
	return -1;
}

int state_check_lab_name(const char *lab, nlab_error **err)
{
	if (!lab || !topo_lab_name_valid(lab))
		return invalid(err, "'%s' is not a lab name (lowercase letters, digits and '-', not first; at most %d)",
			       lab ? lab : "", NLAB_NAME_MAX);
	return 0;
}

int state_check_node_name(const char *node, nlab_error **err)
{
	if (!node || !topo_object_name_valid(node))
		return invalid(err, "'%s' is not a node name (a letter, then letters, digits, '-' or '_'; at most %d)",
			       node ? node : "", NLAB_NAME_MAX);
	return 0;
}

int state_lab_dir(const char *lab, char *buf, size_t len, nlab_error **err)
{
	if (state_check_lab_name(lab, err) < 0)
		return -1;
	int n = snprintf(buf, len, "%s/%s", state_root(), lab);
	if (n < 0 || (size_t)n >= len)
		return nlab_error_set(err, ENAMETOOLONG, "state directory for lab '%s'", lab);
	return 0;
}

int state_dir_open(const char *lab, nlab_error **err)
{
	if (state_check_lab_name(lab, err) < 0)
		return -1;
	cleanup_close int root = state_root_open(false, err);
	if (root < 0)
		return -1;
	int fd = openat(root, lab, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return nlab_error_set(err, ENOENT, "lab '%s' has no state (%s/%s)", lab, state_root(), lab);
		if (e == ENOTDIR || e == ELOOP)
			return nlab_error_set(err, EPERM, "%s/%s is not a directory", state_root(), lab);
		return nlab_error_set(err, e, "open %s/%s", state_root(), lab);
	}
	char what[4200];
	snprintf(what, sizeof(what), "%s/%s", state_root(), lab);
	if (check_dir(fd, what, err) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

bool state_dir_exists(const char *lab)
{
	cleanup_close int root = state_root_open(false, NULL);
	struct stat st;

	return root >= 0 && topo_lab_name_valid(lab) && fstatat(root, lab, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int state_lock(const char *lab, const struct lock_wait *w, nlab_error **err)
{
	char name[NLAB_NAME_MAX + 8];

	if (state_check_lab_name(lab, err) < 0)
		return -1;
	cleanup_close int root = state_root_open(true, err);
	if (root < 0)
		return -1;
	snprintf(name, sizeof(name), ".%s.lock", lab);
	/* `down` unlinks this file while holding it: lock_at() re-checks
	 * the inode, so a waiter never locks the orphan. */
	return lock_at(root, name, w, err);
}

void state_unlink_lock(const char *lab)
{
	char name[NLAB_NAME_MAX + 8];
	cleanup_close int root = state_root_open(false, NULL);

	if (root < 0 || !topo_lab_name_valid(lab))
		return;
	snprintf(name, sizeof(name), ".%s.lock", lab);
	unlinkat(root, name, 0);
}

int state_open_log(const char *lab, const char *node, bool previous, nlab_error **err)
{
	char name[NLAB_NAME_MAX + 16];

	if (state_check_node_name(node, err) < 0)
		return -1;
	cleanup_close int dir = state_dir_open(lab, err);
	if (dir < 0)
		return -1;
	snprintf(name, sizeof(name), "logs/%s.log%s", node, previous ? ".1" : "");
	int fd = openat_beneath(dir, name, O_RDONLY | O_NONBLOCK, 0, err);
	struct stat st;
	if (fd < 0)
		return nlab_error_wrap(err, "no log for node '%s' of lab '%s'", node, lab);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return nlab_error_set(err, EPERM, "the log of node '%s' of lab '%s' is not a regular file", node, lab);
	}
	return fd;
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


/* ---- runtime.json ---------------------------------------------------- */

/* What happened after `up`: a file of the supervisor's own beside
 * state.json, so that after UP the supervisor never rewrites state.json,
 * which `up` extends (netns names) and `down` reads:
 *   {"NODE": {"exited": [{"line": N, "wstatus": W}, ...],
 *             "restarts": N, "restarted": T, "restarting": B, "restart_error": "...",
 *             "died": {"wstatus": W, "oom_kills": K, "time": T}}, ...} */
static json_object *runtime_json(const struct state_node *sn)
{
	json_object *o = json_object_new_object();
	json_object *ex = json_object_new_array();

	for (size_t k = 0; k < sn->nexited; k++) {
		json_object *e = json_object_new_object();
		json_object_object_add(e, "line", json_object_new_int(sn->exited[k].line));
		json_object_object_add(e, "wstatus", json_object_new_int(sn->exited[k].wstatus));
		json_object_array_add(ex, e);
	}
	json_object_object_add(o, "exited", ex);
	if (sn->restarts) {
		json_object_object_add(o, "restarts", json_object_new_int(sn->restarts));
		json_object_object_add(o, "restarted", json_object_new_int64(sn->restarted));
		json_object_object_add(o, "restarting", json_object_new_boolean(sn->restarting));
		if (sn->restart_error)
			json_object_object_add(o, "restart_error", json_object_new_string(sn->restart_error));
	}
	if (sn->died) {
		json_object *d = json_object_new_object();
		json_object_object_add(d, "wstatus", json_object_new_int(sn->died_wstatus));
		json_object_object_add(d, "oom_kills", json_object_new_uint64(sn->oom_kills));
		json_object_object_add(d, "time", json_object_new_int64(sn->died_at));
		json_object_object_add(o, "died", d);
	}
	return o;
}

int state_write_runtime(const struct lab_state *s, nlab_error **err)
{
	json_object *root = json_object_new_object();
	int r = -1;
	cleanup_close int dir = state_dir_open(s->lab, err);

	if (dir < 0)
		goto out;
	for (size_t i = 0; i < s->nnodes; i++) {
		const struct state_node *sn = &s->nodes[i];
		if (sn->nexited || sn->restarts || sn->died)
			json_object_object_add(root, sn->name, runtime_json(sn));
	}
	const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
	r = text ? write_file_atomic_at(dir, "runtime.json", ".runtime.json.tmp", text, strlen(text), err)
		 : nlab_error_set(err, ENOMEM, "runtime.json");
out:
	json_object_put(root);
	return r;
}

int state_write(const struct lab_state *s, nlab_error **err)
{
	json_object *root = json_object_new_object();
	json_object *nodes = json_object_new_array();
	json_object *links = json_object_new_array();
	json_object *sysctls = json_object_new_array();
	int r = -1;

	cleanup_close int dir = state_dir_open(s->lab, err);
	if (dir < 0)
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
		json_object_object_add(l, "value", json_object_new_string(s->host_sysctls[i].value));
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
	if (s->memory_group)
		json_object_object_add(root, "memory_group", json_object_new_string(s->memory_group));
	if (s->nnetns_names)
		json_object_object_add(root, "netns_names", str_array(s->netns_names, s->nnetns_names));
	json_object_object_add(root, "write_dirs", str_array(s->write_dirs, s->nwrite_dirs));

	const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY);
	if (!text) {
		nlab_error_set(err, ENOMEM, "state.json");
		goto out;
	}
	if (write_file_atomic_at(dir, "state.json", ".state.json.tmp", text, strlen(text), err) < 0 ||
	    state_index_write(s, dir, err) < 0) {
		nlab_error_wrap(err, "lab %s: state", s->lab);
		goto out;
	}
	r = 0;
out:
	json_object_put(root);
	json_object_put(nodes);
	json_object_put(links);
	json_object_put(sysctls);
	return r;
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
	free(s->memory_group);
	for (size_t k = 0; k < s->nnetns_names; k++)
		free(s->netns_names[k]);
	free(s->netns_names);
	for (size_t k = 0; k < s->nwrite_dirs; k++)
		free(s->write_dirs[k]);
	free(s->write_dirs);
	free(s->host_links);
	for (size_t i = 0; i < s->nhost_sysctls; i++) {
		free(s->host_sysctls[i].key);
		free(s->host_sysctls[i].value);
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
	if (state_check_lab_name(lab, err) < 0)
		return -1;
	cleanup_close int root = state_root_open(false, err);
	if (root < 0)
		return err && *err && (*err)->errnum == ENOENT ? (nlab_error_free(err), 0) : -1;
	if (rm_rf_at(root, lab, err) < 0)
		return nlab_error_wrap(err, "remove %s/%s", state_root(), lab);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int state_list(char ***labs, size_t *n, nlab_error **err)
{
	char **v = NULL;
	size_t cnt = 0, cap = 0;
	nlab_error *e = NULL;

	*labs = NULL;
	*n = 0;
	int fd = state_root_open(false, &e);
	if (fd < 0) {
		if (e->errnum == ENOENT) {
			nlab_error_free(&e);
			return 0;
		}
		if (err) {
			nlab_error_free(err);
			*err = e;
		} else {
			nlab_error_free(&e);
		}
		return -1;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return nlab_error_set(err, errno, "open %s", state_root());
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		/* Only what could be a lab: a file named like one is not. */
		if (de->d_type != DT_DIR || !topo_lab_name_valid(de->d_name))
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 8;
			char **nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		if ((v[cnt] = strdup(de->d_name)))
			cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_str);
	*labs = v;
	*n = cnt;
	return 0;
}

struct state_node *state_find_node(const struct lab_state *s, const char *name)
{
	for (size_t i = 0; i < s->nnodes; i++)
		if (strcmp(s->nodes[i].name, name) == 0)
			return &s->nodes[i];
	return NULL;
}
