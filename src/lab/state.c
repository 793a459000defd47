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

/* State files are at most this big (a 1000-node state.json is ~300 KB). */

static int index_write(const struct lab_state *s, int dir, nlab_error **err)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	bool ok = f != NULL;

	if (ok)
		fprintf(f, INDEX_MAGIC "S\t%d\t%llu\n", (int)s->supervisor.pid,
			(unsigned long long)s->supervisor.starttime);
	for (size_t i = 0; ok && i < s->nnodes; i++) {
		const struct state_node *n = &s->nodes[i];
		ok = index_safe(n->name);
		fprintf(f, "N\t%s\t%d\t%llu\t%d\t%u\t%u\t%d\t%u\t%u", n->name, (int)n->init.pid,
			(unsigned long long)n->init.starttime, n->userns, n->uid_base, n->gid_base, n->has_user, n->uid,
			n->gid);
		bool shared = s->memory_group != NULL;
		for (size_t k = 0; shared && k < n->ncgroups; k++)
			shared = strncmp(n->cgroups[k], s->memory_group, strlen(s->memory_group)) != 0;
		ok = ok && (!shared || index_safe(s->memory_group));
		fprintf(f, "\t%zu", n->ncgroups + shared);
		for (size_t k = 0; ok && k < n->ncgroups; k++) {
			ok = index_safe(n->cgroups[k]);
			fprintf(f, "\t%s", n->cgroups[k]);
		}
		if (shared)
			fprintf(f, "\t%s", s->memory_group);
		fputc('\n', f);
	}
	if (f && fclose(f) != 0)
		ok = false;
	if (!ok) {
		unlinkat(dir, "nodes.idx", 0);
		return 0;
	}
	return write_file_atomic_at(dir, "nodes.idx", ".nodes.idx.tmp", buf, len, err);
}

/* The supervisor line after the magic; NULL unless buf is an index. */
static const char *index_header(const char *buf, struct proc_id *sup)
{
	const char *line = buf + strlen(INDEX_MAGIC);

	if (strncmp(buf, INDEX_MAGIC, strlen(INDEX_MAGIC)) != 0 ||
	    sscanf(line, "S\t%d\t%" SCNu64, &sup->pid, &sup->starttime) != 2 || sup->pid <= 0)
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

static bool index_uint(char **p, unsigned long long *v, unsigned long long max)
{
	char *f = index_field(p), *end;

	if (!f || !*f || *f == '-')
		return false;
	errno = 0;
	*v = strtoull(f, &end, 10);
	return !*end && errno == 0 && *v <= max;
}

/* 1 found, 0 no such node, -1 no usable index.  Every field is checked:
 * the index is read by root processes that enter the pid it names. */
static int index_find(int dir, const char *name, struct state_node *out, struct proc_id *sup)
{
	size_t len = 0;
	unsigned long long v[8];
	static const unsigned long long max[8] = { INT32_MAX,  UINT64_MAX, 1,	       UINT32_MAX,
						   UINT32_MAX, 1,	   UINT32_MAX, UINT32_MAX };
	cleanup_free char *buf = read_file_at(dir, "nodes.idx", STATE_FILE_MAX, &len, NULL);

	if (!buf || strlen(buf) != len || !index_header(buf, sup))
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
			if (!index_uint(&p, &v[i], max[i]))
				return -1;
		unsigned long long ncg;
		if (!index_uint(&p, &ncg, 64) || v[0] == 0)
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
		if (!out->name || !out->cgroups || p) {
			state_node_clear(out);
			return -1;
		}
		return 1;
	}
	return 0;
}

int state_read_node(const char *lab, const char *name, struct state_node *out, struct proc_id *sup, nlab_error **err)
{
	struct lab_state st;

	memset(out, 0, sizeof(*out));
	if (state_check_node_name(name, err) < 0)
		return -1;
	cleanup_close int dir = state_dir_open(lab, err);
	if (dir < 0)
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
	char buf[256];
	struct lab_state st;
	cleanup_close int dir = state_dir_open(lab, NULL);

	if (dir < 0)
		return -1;
	cleanup_close int fd = openat(dir, "nodes.idx", O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat fst;
	ssize_t n = fd >= 0 && fstat(fd, &fst) == 0 && S_ISREG(fst.st_mode) && fst.st_uid == geteuid()
			    ? TEMP_FAILURE_RETRY(read(fd, buf, sizeof(buf) - 1))
			    : -1;
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
	free(n->restart_error);
	memset(n, 0, sizeof(*n));
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
	    index_write(s, dir, err) < 0) {
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
