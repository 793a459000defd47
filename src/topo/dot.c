/* Topology -> Graphviz DOT.
 *
 * Every string goes out as a DOT quoted string: node and switch names may
 * hold '-' (not a DOT identifier character) and interface names may hold
 * almost anything the kernel accepts, '"' and '\' included.  Labels use
 * DOT's escString, where "\n" is a line break and a lone backslash would
 * start an escape (\N, \G, \l...), so backslashes are doubled too. */
#include "topo/dot.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "topo/addr.h"

/* Write s as the body of a DOT quoted string (no surrounding quotes). */
static void put_escaped(FILE *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', out);
		/* Control characters cannot come from a valid topology; map
		 * them to '?' rather than let them break the line structure. */
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, out);
	}
}

static void put_quoted(FILE *out, const char *s)
{
	fputc('"', out);
	put_escaped(out, s);
	fputc('"', out);
}

/* Graph-node IDs live in separate namespaces ("n." for nodes, "s." for
 * switches) so a node and a switch can never be merged by Graphviz; '.'
 * cannot occur in a node or switch name. */
static void put_node_id(FILE *out, const struct topo_node *n)
{
	fputs(n->is_host ? "\"host\"" : "\"n.", out);
	if (!n->is_host) {
		put_escaped(out, n->name);
		fputc('"', out);
	}
}

static void put_switch_id(FILE *out, const struct topo_switch *s)
{
	fputs("\"s.", out);
	put_escaped(out, s->name);
	fputc('"', out);
}

static void format_rate(uint64_t bps, char *buf, size_t len)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = { { "tbit", 1000000000000ull }, { "gbit", 1000000000ull }, { "mbit", 1000000ull }, { "kbit", 1000ull } };

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (bps >= units[i].mult) {
			if (bps % units[i].mult == 0)
				snprintf(buf, len, "%" PRIu64 "%s", bps / units[i].mult, units[i].unit);
			else
				snprintf(buf, len, "%.15g%s", (double)bps / (double)units[i].mult, units[i].unit);
			return;
		}
	snprintf(buf, len, "%" PRIu64 "bit", bps);
}

static void format_duration(uint32_t us, char *buf, size_t len)
{
	if (us % 1000000 == 0)
		snprintf(buf, len, "%" PRIu32 "s", us / 1000000);
	else if (us % 1000 == 0)
		snprintf(buf, len, "%" PRIu32 "ms", us / 1000);
	else
		snprintf(buf, len, "%" PRIu32 "us", us);
}

/* Parts per million as a percentage without trailing zeros: 5000 -> 0.5%. */
static void format_loss(uint32_t ppm, char *buf, size_t len)
{
	uint32_t whole = ppm / 10000, frac = ppm % 10000;
	int digits = 4;

	if (!frac) {
		snprintf(buf, len, "%" PRIu32 "%%", whole);
		return;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	snprintf(buf, len, "%" PRIu32 ".%0*" PRIu32 "%%", whole, digits, frac);
}

static void put_node(FILE *out, const struct topo_node *n)
{
	fputs("\t", out);
	put_node_id(out, n);
	if (n->is_host) {
		fputs(" [shape=house, style=filled, fillcolor=\"#fde9c9\", label=\"host\"];\n", out);
		return;
	}
	fputs(" [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", label=\"", out);
	put_escaped(out, n->name);
	if (n->hostname && strcmp(n->hostname, n->name) != 0) {
		fputs("\\nhostname ", out);
		put_escaped(out, n->hostname);
	}
	fputs("\"];\n", out);
}

static void put_switch(FILE *out, const struct topo_switch *s)
{
	fputs("\t", out);
	put_switch_id(out, s);
	fputs(" [shape=ellipse, style=filled, fillcolor=\"#cfe2f3\", label=\"", out);
	put_escaped(out, s->name);
	fputs("\"];\n", out);
}

/* Graph vertices: nodes (host included) are 0..nodes.n-1, switches follow.
 * Returns -1 for an end the validator did not resolve.  The index is
 * checked against the name, so a topology that skipped validation (or a
 * `host` end, whose index the model defines loosely) still maps right. */
static long end_vertex(const struct topology *t, const struct topo_end *e)
{
	if (!e->name)
		return -1;
	if (e->kind == TOPO_END_SWITCH) {
		if (e->index >= 0 && (size_t)e->index < t->switches.n &&
		    strcmp(t->switches.v[e->index].name, e->name) == 0)
			return (long)(t->nodes.n + (size_t)e->index);
		const struct topo_switch *s = topo_find_switch(t, e->name);
		return s ? (long)(t->nodes.n + (size_t)(s - t->switches.v)) : -1;
	}
	if (e->index >= 0 && (size_t)e->index < t->nodes.n && strcmp(t->nodes.v[e->index].name, e->name) == 0)
		return e->index;
	const struct topo_node *n = topo_find_node(t, e->name);
	return n ? (long)(n - t->nodes.v) : -1;
}

static void put_vertex_id(FILE *out, const struct topology *t, long v)
{
	if ((size_t)v < t->nodes.n)
		put_node_id(out, &t->nodes.v[v]);
	else
		put_switch_id(out, &t->switches.v[(size_t)v - t->nodes.n]);
}

/* "eth0\n192.168.0.1/24\nfd00::1/64": the interface and the addresses the
 * node puts on it, in file order.  Switch ends have no interface name of
 * their own (netlab picks the bridge port name), so they get no label. */
static void put_end_label(FILE *out, const struct topology *t, const char *attr, const struct topo_end *e,
			  const char **sep)
{
	long v = end_vertex(t, e);
	char buf[64];

	if (v < 0 || (size_t)v >= t->nodes.n || e->kind == TOPO_END_SWITCH || !e->ifname[0])
		return;
	const struct topo_node *n = &t->nodes.v[v];
	fprintf(out, "%s%s=\"", *sep, attr);
	*sep = ", ";
	put_escaped(out, e->ifname);
	for (size_t i = 0; i < n->addrs.n; i++) {
		const struct topo_ipaddr *a = &n->addrs.v[i];
		if (strcmp(a->ifname, e->ifname) != 0)
			continue;
		cidr_format(&a->cidr, buf, sizeof(buf));
		fputs("\\n", out);
		put_escaped(out, buf);
	}
	fputc('"', out);
}

static void put_link_label(FILE *out, const struct topo_link *l, const char *attr_sep)
{
	char buf[64];
	const char *sep = "";

	if (!l->mtu && !l->rate_bps && !l->delay_us && !l->loss_ppm)
		return;
	fprintf(out, "%slabel=\"", attr_sep);
	if (l->mtu) {
		fprintf(out, "mtu %d", l->mtu);
		sep = "\\n";
	}
	if (l->rate_bps) {
		format_rate(l->rate_bps, buf, sizeof(buf));
		fprintf(out, "%srate %s", sep, buf);
		sep = "\\n";
	}
	if (l->delay_us) {
		format_duration(l->delay_us, buf, sizeof(buf));
		fprintf(out, "%sdelay %s", sep, buf);
		if (l->jitter_us) {
			format_duration(l->jitter_us, buf, sizeof(buf));
			fprintf(out, " jitter %s", buf);
		}
		sep = "\\n";
	}
	if (l->loss_ppm) {
		format_loss(l->loss_ppm, buf, sizeof(buf));
		fprintf(out, "%sloss %s", sep, buf);
	}
	fputc('"', out);
}

/* Which way round to write each link.
 *
 * dot ranks an undirected graph by the order the two ends are written
 * (tail left of head under rankdir=LR), so writing links in file order
 * often draws a chain folded back on itself: `link router:eth1 internet`
 * and `link wan:eth0 internet` put router and wan side by side.  Instead,
 * the "core" of each connected piece (vertices with two or more link ends:
 * switches, routers) is laid out along its longest path, found with the
 * double-BFS approximation of a diameter and started at whichever end was
 * declared first, and every link in the core points away from that start.
 * Leaves (one link end: plain hosts) go on the outer side of their
 * neighbour, left in the first half of the chain, right in the second,
 * alternating when the neighbour is the middle -- so web1 - lan - web2 and
 * h1,h2 - lan - router - internet - wan.  Pure function of t: the output
 * stays deterministic. */
struct layout {
	size_t nv;              /* nodes.n + switches.n */
	long *end[2];           /* per link: vertex of end a and b, -1 if unresolved */
	bool *flip;             /* per link: write end b first */
};

struct decl {
	struct topo_pos pos;
	long v;
};

static int decl_cmp(const void *a, const void *b)
{
	const struct decl *x = a, *y = b;

	if (x->pos.line != y->pos.line)
		return x->pos.line < y->pos.line ? -1 : 1;
	if (x->pos.col != y->pos.col)
		return x->pos.col < y->pos.col ? -1 : 1;
	return x->v < y->v ? -1 : x->v > y->v;
}

/* Breadth-first over the core from src; fills dist (must be -1 for the
 * piece's vertices) and the visit order in queue.  Returns the vertex
 * farthest from src, the earliest-declared one among equals. */
static long bfs(const size_t *off, const long *adj, const size_t *rank, long src, long *dist, long *queue,
		size_t *nqueue)
{
	size_t head = 0, tail = 0;
	long far = src;

	dist[src] = 0;
	queue[tail++] = src;
	while (head < tail) {
		long v = queue[head++];
		if (dist[v] > dist[far] || (dist[v] == dist[far] && rank[v] < rank[far]))
			far = v;
		for (size_t k = off[v]; k < off[v + 1]; k++)
			if (dist[adj[k]] < 0) {
				dist[adj[k]] = dist[v] + 1;
				queue[tail++] = adj[k];
			}
	}
	*nqueue = tail;
	return far;
}

static void layout_free(struct layout *lo)
{
	free(lo->end[0]);
	free(lo->end[1]);
	free(lo->flip);
}

/* Fills lo; on allocation failure lo->flip stays NULL and links are
 * written in file order (a worse drawing, never a wrong one). */
static void layout_compute(const struct topology *t, struct layout *lo)
{
	size_t nv = t->nodes.n + t->switches.n, nl = t->links.n;
	size_t *deg = NULL, *off = NULL, *rank = NULL, *fill = NULL, *leaves_seen = NULL;
	long *adj = NULL, *depth = NULL, *dist = NULL, *queue = NULL, *comp = NULL, *maxdepth = NULL;
	struct decl *order = NULL;
	bool *flip = NULL;

	lo->nv = nv;
	lo->end[0] = calloc(nl ? nl : 1, sizeof(long));
	lo->end[1] = calloc(nl ? nl : 1, sizeof(long));
	lo->flip = NULL;
	if (!lo->end[0] || !lo->end[1])
		return;
	for (size_t i = 0; i < nl; i++) {
		const struct topo_link *l = &t->links.v[i];
		lo->end[0][i] = end_vertex(t, &l->a);
		lo->end[1][i] = end_vertex(t, &l->b);
		if (lo->end[0][i] < 0 || lo->end[1][i] < 0)
			lo->end[0][i] = lo->end[1][i] = -1;
	}

	deg = calloc(nv + 1, sizeof(*deg));
	off = calloc(nv + 2, sizeof(*off));
	fill = calloc(nv + 1, sizeof(*fill));
	rank = calloc(nv + 1, sizeof(*rank));
	leaves_seen = calloc(nv + 1, sizeof(*leaves_seen));
	adj = calloc(2 * nl + 1, sizeof(*adj));
	depth = calloc(nv + 1, sizeof(*depth));
	dist = calloc(nv + 1, sizeof(*dist));
	queue = calloc(nv + 1, sizeof(*queue));
	comp = calloc(nv + 1, sizeof(*comp));
	maxdepth = calloc(nv + 1, sizeof(*maxdepth));
	order = calloc(nv + 1, sizeof(*order));
	flip = calloc(nl + 1, sizeof(*flip));
	if (!deg || !off || !fill || !rank || !leaves_seen || !adj || !depth || !dist || !queue || !comp ||
	    !maxdepth || !order || !flip)
		goto out;

	for (size_t v = 0; v < nv; v++) {
		order[v].v = (long)v;
		order[v].pos = v < t->nodes.n ? t->nodes.v[v].pos : t->switches.v[v - t->nodes.n].pos;
		depth[v] = dist[v] = comp[v] = -1;
	}
	qsort(order, nv, sizeof(*order), decl_cmp);
	for (size_t r = 0; r < nv; r++)
		rank[order[r].v] = r;

	for (size_t i = 0; i < nl; i++)
		if (lo->end[0][i] >= 0) {
			deg[lo->end[0][i]]++;
			deg[lo->end[1][i]]++;
		}
	/* Adjacency (CSR) of the core only: both ends of degree >= 2. */
	for (size_t i = 0; i < nl; i++) {
		long a = lo->end[0][i], b = lo->end[1][i];
		if (a >= 0 && deg[a] >= 2 && deg[b] >= 2) {
			off[a + 1]++;
			off[b + 1]++;
		}
	}
	for (size_t v = 0; v < nv; v++)
		off[v + 1] += off[v];
	for (size_t i = 0; i < nl; i++) {
		long a = lo->end[0][i], b = lo->end[1][i];
		if (a >= 0 && deg[a] >= 2 && deg[b] >= 2) {
			adj[off[a] + fill[a]++] = b;
			adj[off[b] + fill[b]++] = a;
		}
	}

	long ncomp = 0;
	for (size_t r = 0; r < nv; r++) {
		long v = order[r].v;
		size_t nq;
		if (deg[v] < 2 || comp[v] >= 0)
			continue;
		long far1 = bfs(off, adj, rank, v, dist, queue, &nq);
		for (size_t k = 0; k < nq; k++) {
			comp[queue[k]] = ncomp;
			dist[queue[k]] = -1;
		}
		long far2 = bfs(off, adj, rank, far1, dist, queue, &nq);
		for (size_t k = 0; k < nq; k++)
			dist[queue[k]] = -1;
		long root = rank[far1] < rank[far2] ? far1 : far2;
		bfs(off, adj, rank, root, depth, queue, &nq);
		maxdepth[ncomp] = 0;
		for (size_t k = 0; k < nq; k++)
			if (depth[queue[k]] > maxdepth[ncomp])
				maxdepth[ncomp] = depth[queue[k]];
		ncomp++;
	}

	for (size_t i = 0; i < nl; i++) {
		long a = lo->end[0][i], b = lo->end[1][i];
		if (a < 0)
			continue;
		bool core_a = deg[a] >= 2, core_b = deg[b] >= 2;
		if (core_a && core_b) {
			flip[i] = depth[a] > depth[b];
		} else if (core_a != core_b) {
			long nb = core_a ? a : b;
			bool leaf_is_a = !core_a;
			long twice = 2 * depth[nb], max = maxdepth[comp[nb]];
			bool leaf_left = twice < max || (twice == max && leaves_seen[nb]++ % 2 == 0);
			flip[i] = leaf_left != leaf_is_a;
		}
	}
	lo->flip = flip;
	flip = NULL;
out:
	free(deg);
	free(off);
	free(fill);
	free(rank);
	free(leaves_seen);
	free(adj);
	free(depth);
	free(dist);
	free(queue);
	free(comp);
	free(maxdepth);
	free(order);
	free(flip);
}

static void put_link(FILE *out, const struct topology *t, const struct layout *lo, size_t i)
{
	const struct topo_link *l = &t->links.v[i];
	const struct topo_end *first = &l->a, *second = &l->b;
	long v1 = lo->end[0][i], v2 = lo->end[1][i];
	const char *sep = "";

	/* Only an unvalidated topology has unresolved ends; skip rather
	 * than draw an edge to a node nobody declared. */
	if (v1 < 0 || v2 < 0)
		return;
	if (lo->flip && lo->flip[i]) {
		first = &l->b;
		second = &l->a;
		v1 = lo->end[1][i];
		v2 = lo->end[0][i];
	}
	fputs("\t", out);
	put_vertex_id(out, t, v1);
	fputs(" -- ", out);
	put_vertex_id(out, t, v2);
	/* DOT puts taillabel at the first end written, headlabel at the
	 * second. */
	fputs(" [", out);
	put_end_label(out, t, "taillabel", first, &sep);
	put_end_label(out, t, "headlabel", second, &sep);
	put_link_label(out, l, sep);
	fputs("];\n", out);
}

int topo_write_dot(const struct topology *t, FILE *out)
{
	fputs("graph ", out);
	put_quoted(out, t->name ? t->name : "netlab");
	fputs(" {\n", out);
	/* LR: labs read as chains (host - router - LAN - servers); the
	 * interface labels then sit beside the node they belong to. */
	fputs("\tgraph [rankdir=LR, fontname=\"DejaVu Sans\", fontsize=12, labelloc=t, label=\"lab ", out);
	put_escaped(out, t->name ? t->name : "netlab");
	fputs("\", nodesep=0.6, ranksep=1.6, pad=0.3];\n", out);
	fputs("\tnode [fontname=\"DejaVu Sans\", fontsize=12, margin=\"0.2,0.1\"];\n", out);
	fputs("\tedge [fontname=\"DejaVu Sans\", fontsize=10, labelfontname=\"DejaVu Sans\", labelfontsize=10, "
	      "labelfontcolor=\"#1f4e79\", labeldistance=4, labelangle=65, color=\"#555555\"];\n",
	      out);
	for (size_t i = 0; i < t->switches.n; i++)
		put_switch(out, &t->switches.v[i]);
	for (size_t i = 0; i < t->nodes.n; i++)
		put_node(out, &t->nodes.v[i]);
	struct layout lo = { 0 };
	layout_compute(t, &lo);
	if (lo.end[0] && lo.end[1])
		for (size_t i = 0; i < t->links.n; i++)
			put_link(out, t, &lo, i);
	layout_free(&lo);
	fputs("}\n", out);
	if (ferror(out)) {
		if (!errno)
			errno = EIO;
		return -1;
	}
	return 0;
}
