/* nodes.idx: one node of a lab without reading the whole state.
 *
 * `exec`, `status LAB NODE`, `logs` and `restart` need one node, and a
 * 10,000-node state.json is 2.4 MB of JSON (40 ms to parse).  So next to
 * state.json goes an index, written from the same state, with one line
 * per node sorted by name (strcmp order):
 *
 *   netlab-index 2
 *   S <TAB> PID <TAB> STARTTIME                    the supervisor
 *   L <TAB> CREATED <TAB> NODES <TAB> TOPOLOGY      the lab
 *   N <TAB> NAME <TAB> PID <TAB> STARTTIME <TAB> USERNS <TAB> UID_BASE <TAB>
 *     GID_BASE <TAB> HAS_USER <TAB> UID <TAB> GID <TAB> NETNS <TAB> SHARED <TAB>
 *     NCGROUPS [<TAB> CGROUP]...
 *
 * NETNS: the node has its `up --netns-names` name, LAB-NAME.  SHARED: the
 * last CGROUP is the lab's memory group, which the node is in without a
 * group of its own (node/cgroup.h); `exec` joins it too.
 *
 * A reader maps the file and finds the node by binary search, so the
 * pages it touches grow with log N.  A value with a tab or newline in it
 * (only a path could have one) leaves the index out, and a version-1
 * index (no L line, in node order) is not read: readers then use
 * state.json. */
#include "lab/state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab/state_int.h"
#include "util/cleanup.h"
#include "util/fsutil.h"

#define INDEX_MAGIC "netlab-index 2\n"
#define INDEX "nodes.idx"

static bool index_safe(const char *v)
{
	return !strpbrk(v, "\t\n");
}

/* ---- writing ----------------------------------------------------------- */

struct ordered {
	const struct state_node *n;
	size_t i;               /* its place in the state */
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct ordered *)a)->n->name, ((const struct ordered *)b)->n->name);
}

/* netlab up --netns-names names nodes in state order (lab/netns_names.c). */
static bool has_netns_name(const struct lab_state *s, size_t i)
{
	size_t l = strlen(s->lab);
	const char *nm = i < s->nnetns_names ? s->netns_names[i] : NULL;

	return nm && !strncmp(nm, s->lab, l) && nm[l] == '-' && !strcmp(nm + l + 1, s->nodes[i].name);
}

static bool write_node(FILE *f, const struct lab_state *s, const struct ordered *o)
{
	const struct state_node *n = o->n;
	bool shared = s->memory_group != NULL;

	for (size_t k = 0; shared && k < n->ncgroups; k++)
		shared = strncmp(n->cgroups[k], s->memory_group, strlen(s->memory_group)) != 0;
	if (!index_safe(n->name) || (shared && !index_safe(s->memory_group)))
		return false;
	fprintf(f, "N\t%s\t%d\t%llu\t%d\t%u\t%u\t%d\t%u\t%u\t%d\t%d\t%zu", n->name, (int)n->init.pid,
		(unsigned long long)n->init.starttime, n->userns, n->uid_base, n->gid_base, n->has_user, n->uid, n->gid,
		has_netns_name(s, o->i), shared, n->ncgroups + shared);
	for (size_t k = 0; k < n->ncgroups; k++) {
		if (!index_safe(n->cgroups[k]))
			return false;
		fprintf(f, "\t%s", n->cgroups[k]);
	}
	if (shared)
		fprintf(f, "\t%s", s->memory_group);
	fputc('\n', f);
	return true;
}

int state_index_write(const struct lab_state *s, int dir, nlab_error **err)
{
	cleanup_free char *buf = NULL;
	cleanup_free struct ordered *order = calloc(s->nnodes ? s->nnodes : 1, sizeof(*order));
	size_t len = 0;
	FILE *f = order ? open_memstream(&buf, &len) : NULL;
	const char *topo = s->topology ? s->topology : "";
	bool ok = f != NULL && index_safe(topo);

	if (!order)
		return nlab_error_set(err, ENOMEM, INDEX);
	for (size_t i = 0; i < s->nnodes; i++)
		order[i] = (struct ordered){ .n = &s->nodes[i], .i = i };
	qsort(order, s->nnodes, sizeof(*order), by_name);
	if (ok)
		fprintf(f, INDEX_MAGIC "S\t%d\t%llu\nL\t%lld\t%zu\t%s\n", (int)s->supervisor.pid,
			(unsigned long long)s->supervisor.starttime, (long long)s->created, s->nnodes, topo);
	for (size_t i = 0; ok && i < s->nnodes; i++)
		ok = write_node(f, s, &order[i]);
	if (f && fclose(f) != 0)
		ok = false;
	if (!ok) {
		unlinkat(dir, INDEX, 0);
		return 0;
	}
	return write_file_atomic_at(dir, INDEX, "." INDEX ".tmp", buf, len, err);
}

/* ---- reading ----------------------------------------------------------- */

struct index_map {
	const char *p;
	size_t len;
};

/* The index mapped, if it is a file netlab wrote (as read_file_at()
 * checks); -1 when there is none to use. */
static int index_open(int dir, struct index_map *m)
{
	cleanup_close int fd = openat(dir, INDEX, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0022) ||
	    st.st_size <= 0 || (uint64_t)st.st_size > STATE_FILE_MAX)
		return -1;
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	*m = (struct index_map){ .p = p, .len = (size_t)st.st_size };
	return 0;
}

static void index_close(struct index_map *m)
{
	if (m->p)
		munmap((void *)m->p, m->len);
	m->p = NULL;
}

/* The line at *off as a string of its own, *off moved past it; NULL at
 * the end (or out of memory). */
static char *line_at(const struct index_map *m, size_t *off)
{
	if (*off >= m->len)
		return NULL;
	const char *s = m->p + *off, *nl = memchr(s, '\n', m->len - *off);
	size_t n = nl ? (size_t)(nl - s) : m->len - *off;
	*off += n + (nl != NULL);
	return strndup(s, n);
}

/* One field of a line, in place; NULL past the end. */
static char *field(char **p)
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

static bool uint_field(char **p, unsigned long long *v, unsigned long long max)
{
	char *f = field(p), *end;

	if (!f || !*f || *f == '-')
		return false;
	errno = 0;
	*v = strtoull(f, &end, 10);
	return !*end && errno == 0 && *v <= max;
}

struct index_lab {
	struct proc_id sup;
	int64_t created;
	size_t nnodes;
	char *topology;
	size_t body;            /* offset of the first node line */
};

/* The S and L lines. */
static int index_header(const struct index_map *m, struct index_lab *h)
{
	size_t off = strlen(INDEX_MAGIC);
	unsigned long long v[3];

	memset(h, 0, sizeof(*h));
	if (m->len < off || memcmp(m->p, INDEX_MAGIC, off) != 0)
		return -1;
	cleanup_free char *s = line_at(m, &off);
	cleanup_free char *l = line_at(m, &off);
	char *p = s, *q = l;
	if (!s || !l || strcmp(field(&p), "S") || !uint_field(&p, &v[0], INT32_MAX) || !uint_field(&p, &v[1], UINT64_MAX) ||
	    p || v[0] == 0 || strcmp(field(&q), "L") || !uint_field(&q, &v[2], INT64_MAX))
		return -1;
	h->sup = (struct proc_id){ .pid = (pid_t)v[0], .starttime = v[1] };
	h->created = (int64_t)v[2];
	if (!uint_field(&q, &v[0], SIZE_MAX) || !q)
		return -1;
	h->nnodes = (size_t)v[0];
	h->topology = strdup(field(&q));
	h->body = off;
	return h->topology && !q ? 0 : -1;
}

/* A node line's name against name, as strcmp() orders them; 2: not a
 * node line. */
static int cmp_line(const char *line, size_t n, const char *name)
{
	if (n < 3 || line[0] != 'N' || line[1] != '\t')
		return 2;
	const char *f = line + 2, *tab = memchr(f, '\t', n - 2);
	if (!tab)
		return 2;
	size_t fl = (size_t)(tab - f), nl = strlen(name);
	int c = memcmp(f, name, fl < nl ? fl : nl);
	if (c)
		return c < 0 ? -1 : 1;
	return fl < nl ? -1 : fl > nl;
}

/* Offset of the node's line: 1 found, 0 no such node, -1 not an index. */
static int index_search(const struct index_map *m, size_t lo, const char *name, size_t *at)
{
	size_t hi = m->len;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *nl = memrchr(m->p + lo, '\n', mid - lo);
		size_t start = nl ? (size_t)(nl - m->p) + 1 : lo;
		const char *eol = memchr(m->p + start, '\n', m->len - start);
		size_t end = eol ? (size_t)(eol - m->p) + 1 : m->len;
		int c = cmp_line(m->p + start, end - start - (eol != NULL), name);
		if (c == 2)
			return -1;
		if (c == 0) {
			*at = start;
			return 1;
		}
		if (c < 0)
			lo = end;
		else
			hi = start;
	}
	return 0;
}

struct index_node_extra {
	bool netns;             /* named LAB-NAME by up --netns-names */
	bool shared;            /* its last cgroup is the lab's memory group */
};

/* Every field is checked: the index is read by root processes that enter
 * the pid it names.  1 found, 0 no such node, -1 no usable index. */
static int index_find(const struct index_map *m, const struct index_lab *h, const char *name, struct state_node *out,
		      struct index_node_extra *x)
{
	size_t at;
	unsigned long long v[10];
	static const unsigned long long max[10] = { INT32_MAX, UINT64_MAX, 1, UINT32_MAX, UINT32_MAX,
						    1,	       UINT32_MAX, UINT32_MAX, 1, 1 };
	int r = index_search(m, h->body, name, &at);

	if (r <= 0)
		return r;
	cleanup_free char *line = line_at(m, &at);
	char *p = line ? line + 2 : NULL;
	if (!p || strcmp(field(&p), name) != 0)
		return -1;
	for (int i = 0; i < 10; i++)
		if (!uint_field(&p, &v[i], max[i]))
			return -1;
	unsigned long long ncg;
	if (!uint_field(&p, &ncg, 64) || v[0] == 0 || (v[9] && !ncg))
		return -1;
	memset(out, 0, sizeof(*out));
	out->name = strdup(name);
	out->init = (struct proc_id){ .pid = (pid_t)v[0], .starttime = v[1] };
	out->userns = v[2] != 0;
	out->uid_base = (uint32_t)v[3];
	out->gid_base = (uint32_t)v[4];
	out->has_user = v[5] != 0;
	out->uid = (uint32_t)v[6];
	out->gid = (uint32_t)v[7];
	*x = (struct index_node_extra){ .netns = v[8] != 0, .shared = v[9] != 0 };
	out->cgroups = calloc(ncg + 1, sizeof(*out->cgroups));
	for (size_t k = 0; out->cgroups && k < ncg; k++) {
		char *cg = field(&p);
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

/* 1 found, 0 no such node, -1 no usable index. */
static int index_lookup(int dir, const char *name, struct index_lab *h, struct state_node *out,
			struct index_node_extra *x)
{
	struct index_map m = { 0 };

	memset(h, 0, sizeof(*h));
	if (index_open(dir, &m) < 0)
		return -1;
	int r = index_header(&m, h);
	if (r == 0)
		r = index_find(&m, h, name, out, x);
	index_close(&m);
	return r;
}

/* The node from the whole state.json (no index): *st keeps the rest. */
static int from_state(const char *lab, const char *name, struct lab_state *st, nlab_error **err)
{
	if (state_read(lab, st, err) < 0)
		return -1;
	if (!state_find_node(st, name)) {
		state_clear(st);
		return nlab_error_set(err, ENOENT, "lab '%s' has no node '%s'", lab, name);
	}
	return 0;
}

/* The named node of the lab from its index: 1 found, 0 no such node
 * (*err says so), -1 no usable index, -2 an error (bad name, no lab).
 * *dir: the lab's directory, open unless -2. */
static int lookup_named(const char *lab, const char *name, int *dir, struct index_lab *h, struct state_node *sn,
			struct index_node_extra *x, nlab_error **err)
{
	memset(h, 0, sizeof(*h));
	*dir = -1;
	if (state_check_node_name(name, err) < 0 || (*dir = state_dir_open(lab, err)) < 0)
		return -2;
	int r = index_lookup(*dir, name, h, sn, x);
	if (r == 0)
		nlab_error_set(err, ENOENT, "lab '%s' has no node '%s'", lab, name);
	return r;
}

int state_read_node(const char *lab, const char *name, struct state_node *out, struct proc_id *sup, nlab_error **err)
{
	struct lab_state st;
	struct index_lab h;
	struct index_node_extra x;
	cleanup_close int dir = -1;

	memset(out, 0, sizeof(*out));
	int r = lookup_named(lab, name, &dir, &h, out, &x, err);
	free(h.topology);
	if (r == 1)
		*sup = h.sup;
	if (r != -1)
		return r == 1 ? 0 : -1;
	/* No index (or one of an older netlab): the whole state. */
	if (from_state(lab, name, &st, err) < 0)
		return -1;
	struct state_node *n = state_find_node(&st, name);
	*sup = st.supervisor;
	*out = *n;
	/* Taken over: what state_clear() would free of it. */
	memset(n, 0, sizeof(*n));
	state_clear(&st);
	return 0;
}

int state_read_one(const char *lab, const char *name, struct lab_state *out, size_t *nnodes, nlab_error **err)
{
	struct index_lab h;
	struct index_node_extra x;
	struct state_node sn;
	cleanup_close int dir = -1;

	memset(out, 0, sizeof(*out));
	int r = lookup_named(lab, name, &dir, &h, &sn, &x, err);
	if (r != 1) {
		free(h.topology);
		if (r != -1 || from_state(lab, name, out, err) < 0)
			return -1;
		*nnodes = out->nnodes;
		return 0;
	}
	out->lab = strdup(lab);
	out->topology = h.topology;
	out->created = h.created;
	out->supervisor = h.sup;
	out->nodes = calloc(1, sizeof(*out->nodes));
	out->netns_names = x.netns ? calloc(1, sizeof(*out->netns_names)) : NULL;
	if (!out->lab || !out->nodes || (x.netns && !out->netns_names)) {
		state_node_clear(&sn);
		state_clear(out);
		return nlab_error_set(err, ENOMEM, "lab '%s': state", lab);
	}
	if (x.shared)
		out->memory_group = sn.cgroups[--sn.ncgroups];
	out->nodes[0] = sn;
	out->nnodes = 1;
	if (x.netns && asprintf(&out->netns_names[0], "%s-%s", lab, name) > 0)
		out->nnetns_names = 1;
	state_read_runtime(out, dir);
	*nnodes = h.nnodes;
	return 0;
}

int state_read_supervisor(const char *lab, struct proc_id *sup)
{
	struct lab_state st;
	struct index_map m = { 0 };
	struct index_lab h;
	cleanup_close int dir = state_dir_open(lab, NULL);

	if (dir < 0)
		return -1;
	if (index_open(dir, &m) == 0) {
		int r = index_header(&m, &h);
		index_close(&m);
		free(h.topology);
		if (r == 0) {
			*sup = h.sup;
			return 0;
		}
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
