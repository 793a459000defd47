/* A lab across machines: names, `--machines`, `place` checks and the
 * placement itself (span.h explains the rules). */
#include "topo/span.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "topo/addr.h"
#include "topo/broken.h"

bool topo_machine_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > NLAB_NAME_MAX || !isalpha((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

/* What ssh gets as its destination: never an option ("-oProxyCommand=..."
 * would run a command), nothing a shell or ssh's config would split. */
int topo_ssh_target_parse(const char *s, char **user, char **host, char *why, size_t whylen)
{
	const char *at = strrchr(s, '@'), *h = at ? at + 1 : s;
	size_t ulen = at ? (size_t)(at - s) : 0, hlen = strlen(h);

	*user = *host = NULL;
	if (at) {
		if (!ulen) {
			snprintf(why, whylen, "nothing before '@'");
			return -1;
		}
		for (size_t i = 0; i < ulen; i++)
			if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i])) {
				snprintf(why, whylen, "a user name has letters, digits, '.', '_' and '-'");
				return -1;
			}
		if (s[0] == '-') {
			snprintf(why, whylen, "a user name cannot start with '-'");
			return -1;
		}
	}
	if (hlen > 2 && h[0] == '[' && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (!hlen) {
		snprintf(why, whylen, "no host");
		return -1;
	}
	if (h[0] == '-' || h[0] == '.') {
		snprintf(why, whylen, "a host cannot start with '%c'", h[0]);
		return -1;
	}
	for (size_t i = 0; i < hlen; i++)
		if (!isalnum((unsigned char)h[i]) && !strchr(".-_:%", h[i])) {
			snprintf(why, whylen, "a host is a name or an address (letters, digits, '.', '-', '_', ':')");
			return -1;
		}
	if (hlen > 253) {
		snprintf(why, whylen, "host name too long");
		return -1;
	}
	*host = strndup(h, hlen);
	*user = at ? strndup(s, ulen) : NULL;
	if (!*host || (at && !*user)) {
		free(*host);
		free(*user);
		*user = *host = NULL;
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	return 0;
}

int topo_machines_from_spec(struct topology *t, const char *spec, char *why, size_t whylen)
{
	char *copy = strdup(spec), *save = NULL;

	if (!copy) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	topo_span_free(t);
	topo_machines_clear(t);
	for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '='), *user, *host, w[160];
		if (!eq) {
			snprintf(why, whylen, "'%s': write NAME=[USER@]ADDRESS", item);
			goto fail;
		}
		*eq = '\0';
		if (!topo_machine_name_valid(item)) {
			snprintf(why, whylen, "invalid machine name '%s' (letters first, then letters, digits, '-', '_')",
				 item);
			goto fail;
		}
		for (size_t i = 0; i < t->machines.n; i++)
			if (!strcmp(t->machines.v[i].name, item)) {
				snprintf(why, whylen, "machine '%s' named twice", item);
				goto fail;
			}
		if (t->machines.n >= TOPO_MACHINES_MAX) {
			snprintf(why, whylen, "a lab spans at most %d machines", TOPO_MACHINES_MAX);
			goto fail;
		}
		if (topo_ssh_target_parse(eq + 1, &user, &host, w, sizeof(w)) < 0) {
			snprintf(why, whylen, "machine %s: bad address '%s': %s", item, eq + 1, w);
			goto fail;
		}
		struct topo_machine *m = VEC_PUSH(t->machines);
		if (!m || !(m->name = strdup(item))) {
			free(user);
			free(host);
			snprintf(why, whylen, "out of memory");
			goto fail;
		}
		m->user = user;
		m->host = host;
	}
	free(copy);
	if (!t->machines.n) {
		snprintf(why, whylen, "no machines: write NAME=[USER@]ADDRESS,...");
		return -1;
	}
	return 0;
fail:
	free(copy);
	return -1;
}

static bool pos_same(const struct topo_pos *a, const struct topo_pos *b)
{
	return a->line == b->line && a->col == b->col;
}

void validate_places(const struct topology *t, const struct topo_broken *broken, struct diags *d)
{
	for (size_t i = 0; i < t->places.n; i++) {
		const struct topo_place *pl = &t->places.v[i];
		if (!topo_find_node(t, pl->node)) {
			if (topo_broken_name(broken, pl->node))
				continue;
			/* A range: its first missing name, and how many more. */
			size_t more = 0;
			while (i + more + 1 < t->places.n && pos_same(&t->places.v[i + more + 1].pos, &pl->pos) &&
			       !topo_find_node(t, t->places.v[i + more + 1].node))
				more++;
			if (more) {
				diag_error(d, pl->pos, "place: no node '%s' (%zu names of this range, up to '%s', are not nodes)",
					   pl->node, more + 1, t->places.v[i + more].node);
				i += more;
				continue;
			}
			const char *near = topo_nearest_name(t, pl->node, true, false);
			if (near)
				diag_error(d, pl->pos, "place: no node '%s'; did you mean '%s'?", pl->node, near);
			else
				diag_error(d, pl->pos, "place: no node '%s'", pl->node);
			continue;
		}
		for (size_t k = 0; k < i; k++)
			if (!strcmp(t->places.v[k].node, pl->node) && strcmp(t->places.v[k].machine, pl->machine)) {
				diag_error(d, pl->pos, "node '%s' is placed on %s and on %s", pl->node,
					   t->places.v[k].machine, pl->machine);
				diag_note(d, t->places.v[k].pos, "placed on %s here", t->places.v[k].machine);
				break;
			}
	}
}

uint32_t topo_span_default_vni(const char *lab)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *lab; lab++)
		h = (h ^ (unsigned char)*lab) * 16777619u;
	return 4096u * (1 + h % 4000);
}

/* ---- placement -------------------------------------------------------- */

struct placer {
	struct topology *t;
	struct topo_span *s;
	struct diags *d;
	size_t nn, ns, k;
	size_t *parent;         /* union-find over nodes */
	size_t *adj_off, *adj;  /* vertices: nodes, then switches */
	size_t *order;          /* breadth-first over vertices */
	size_t *members_off, *members;  /* nodes by group root */
	size_t *load, *cap;
	size_t *swcount;        /* [sw * k + m]: the switch's ports on machine m */
	int *where;             /* per group root: its machine, -1 */
	const struct topo_place **why;  /* per group root: the place that set it */
};

static size_t uf_find(size_t *parent, size_t x)
{
	while (parent[x] != x) {
		parent[x] = parent[parent[x]];
		x = parent[x];
	}
	return x;
}

static void uf_union(size_t *parent, size_t a, size_t b)
{
	a = uf_find(parent, a);
	b = uf_find(parent, b);
	if (a != b)
		parent[a < b ? b : a] = a < b ? a : b;
}

static int machine_index(const struct topology *t, const char *name)
{
	for (size_t i = 0; i < t->machines.n; i++)
		if (!strcmp(t->machines.v[i].name, name))
			return (int)i;
	return -1;
}

/* The vertex of a link end: a node, a switch (after the nodes), or none. */
static long end_vertex(const struct placer *pl, const struct topo_end *e)
{
	if (e->index < 0 || e->kind == TOPO_END_HOST)
		return -1;
	return e->kind == TOPO_END_SWITCH ? (long)(pl->nn + (size_t)e->index) : e->index;
}

static int build_adjacency(struct placer *pl)
{
	const struct topology *t = pl->t;
	size_t nv = pl->nn + pl->ns;

	pl->adj_off = calloc(nv + 1, sizeof(size_t));
	pl->adj = calloc(2 * t->links.n + 1, sizeof(size_t));
	if (!pl->adj_off || !pl->adj)
		return -1;
	for (size_t i = 0; i < t->links.n; i++) {
		long a = end_vertex(pl, &t->links.v[i].a), b = end_vertex(pl, &t->links.v[i].b);
		if (a >= 0 && b >= 0) {
			pl->adj_off[a + 1]++;
			pl->adj_off[b + 1]++;
		}
	}
	for (size_t v = 0; v < nv; v++)
		pl->adj_off[v + 1] += pl->adj_off[v];
	size_t *fill = calloc(nv + 1, sizeof(size_t));
	if (!fill)
		return -1;
	for (size_t i = 0; i < t->links.n; i++) {
		long a = end_vertex(pl, &t->links.v[i].a), b = end_vertex(pl, &t->links.v[i].b);
		if (a < 0 || b < 0)
			continue;
		pl->adj[pl->adj_off[a] + fill[a]++] = (size_t)b;
		pl->adj[pl->adj_off[b] + fill[b]++] = (size_t)a;
	}
	free(fill);
	return 0;
}

/* Breadth-first over nodes and switches, each component from its first
 * node in file order: neighbours come out close together. */
static int bfs_order(struct placer *pl)
{
	size_t nv = pl->nn + pl->ns, head = 0, tail = 0;
	bool *seen = calloc(nv + 1, sizeof(bool));

	pl->order = calloc(nv + 1, sizeof(size_t));
	if (!seen || !pl->order) {
		free(seen);
		return -1;
	}
	for (size_t start = 0; start < nv; start++) {
		if (seen[start])
			continue;
		seen[start] = true;
		pl->order[tail++] = start;
		while (head < tail) {
			size_t v = pl->order[head++];
			for (size_t e = pl->adj_off[v]; e < pl->adj_off[v + 1]; e++)
				if (!seen[pl->adj[e]]) {
					seen[pl->adj[e]] = true;
					pl->order[tail++] = pl->adj[e];
				}
		}
	}
	free(seen);
	return 0;
}

/* Nodes that must share a machine: a node and those it waits for; `node
 * host` and the nodes linked to a host interface. */
static void join_groups(struct placer *pl)
{
	const struct topology *t = pl->t;
	const struct topo_node *host = topo_host_node(t);
	size_t h = host ? (size_t)(host - t->nodes.v) : 0;

	for (size_t i = 0; i < pl->nn; i++)
		pl->parent[i] = i;
	for (size_t i = 0; i < pl->nn; i++)
		for (size_t k = 0; k < t->nodes.v[i].afters.n; k++)
			if (t->nodes.v[i].afters.v[k].index >= 0)
				uf_union(pl->parent, i, (size_t)t->nodes.v[i].afters.v[k].index);
	if (!host)
		return;
	for (size_t i = 0; i < t->links.n; i++) {
		const struct topo_link *l = &t->links.v[i];
		const struct topo_end *other = l->a.kind == TOPO_END_HOST ? &l->b : l->b.kind == TOPO_END_HOST ? &l->a : NULL;
		if (other && other->kind == TOPO_END_NODE && other->index >= 0)
			uf_union(pl->parent, h, (size_t)other->index);
	}
}

static int group_members(struct placer *pl)
{
	pl->members_off = calloc(pl->nn + 2, sizeof(size_t));
	pl->members = calloc(pl->nn + 1, sizeof(size_t));
	size_t *fill = calloc(pl->nn + 1, sizeof(size_t));
	if (!pl->members_off || !pl->members || !fill) {
		free(fill);
		return -1;
	}
	for (size_t i = 0; i < pl->nn; i++)
		pl->members_off[uf_find(pl->parent, i) + 1]++;
	for (size_t i = 0; i < pl->nn; i++)
		pl->members_off[i + 1] += pl->members_off[i];
	for (size_t i = 0; i < pl->nn; i++) {
		size_t r = uf_find(pl->parent, i);
		pl->members[pl->members_off[r] + fill[r]++] = i;
	}
	free(fill);
	return 0;
}

/* `place` statements, group by group: a group's members go where any of
 * them is placed, and two places that pull a group apart are an error. */
static void explicit_places(struct placer *pl)
{
	const struct topology *t = pl->t;

	for (size_t i = 0; i < t->places.n; i++) {
		const struct topo_place *p = &t->places.v[i];
		const struct topo_node *n = topo_find_node(t, p->node);
		int m = machine_index(t, p->machine);
		if (!n)
			continue; /* validate_places() said so */
		if (m < 0) {
			char list[512] = "";
			for (size_t k = 0, o = 0; k < t->machines.n && o < sizeof(list); k++)
				o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", k ? ", " : "",
						      t->machines.v[k].name);
			diag_error(pl->d, p->machine_pos, "place: no machine '%s' (the lab's machines: %s)", p->machine,
				   list);
			continue;
		}
		size_t r = uf_find(pl->parent, (size_t)(n - t->nodes.v));
		if (pl->where[r] >= 0 && pl->where[r] != m) {
			const struct topo_place *first = pl->why[r];
			if (!strcmp(first->node, p->node))
				continue; /* the same node twice: validate_places() */
			diag_error(pl->d, p->pos,
				   "node '%s' cannot run on %s: it must share a machine with node '%s', placed on %s "
				   "(nodes that wait for each other with `after`, and `node host` with the nodes linked to "
				   "host interfaces, run on one machine)",
				   p->node, p->machine, first->node, first->machine);
			diag_note(pl->d, first->pos, "'%s' is placed here", first->node);
			continue;
		}
		pl->where[r] = m;
		pl->why[r] = p;
	}
}

static size_t group_size(const struct placer *pl, size_t r)
{
	size_t n = 0;

	for (size_t k = pl->members_off[r]; k < pl->members_off[r + 1]; k++)
		n += !pl->t->nodes.v[pl->members[k]].is_host;
	return n;
}

static void assign(struct placer *pl, size_t r, int m)
{
	pl->where[r] = m;
	for (size_t k = pl->members_off[r]; k < pl->members_off[r + 1]; k++) {
		size_t u = pl->members[k];
		pl->s->node_machine[u] = m;
		if (!pl->t->nodes.v[u].is_host)
			pl->load[m]++;
		for (size_t e = pl->adj_off[u]; e < pl->adj_off[u + 1]; e++)
			if (pl->adj[e] >= pl->nn)
				pl->swcount[(pl->adj[e] - pl->nn) * pl->k + (size_t)m]++;
	}
}

/* The machine for group r: most neighbours among those with room for it,
 * the first such on a tie (so machines fill in turn), the least loaded
 * when none has room. */
static int choose(struct placer *pl, size_t r, size_t *score)
{
	size_t size = group_size(pl, r);
	int best = -1, least = 0;

	memset(score, 0, pl->k * sizeof(*score));
	for (size_t k = pl->members_off[r]; k < pl->members_off[r + 1]; k++) {
		size_t u = pl->members[k];
		for (size_t e = pl->adj_off[u]; e < pl->adj_off[u + 1]; e++) {
			size_t w = pl->adj[e];
			if (w >= pl->nn) {
				for (size_t m = 0; m < pl->k; m++)
					score[m] += pl->swcount[(w - pl->nn) * pl->k + m];
			} else if (pl->s->node_machine[w] >= 0) {
				score[pl->s->node_machine[w]]++;
			}
		}
	}
	for (size_t m = 0; m < pl->k; m++) {
		if (pl->load[m] < pl->load[least])
			least = (int)m;
		if (pl->load[m] + size > pl->cap[m])
			continue;
		if (best < 0 || score[m] > score[best])
			best = (int)m;
	}
	return best >= 0 ? best : least;
}

static void place_all(struct placer *pl)
{
	const struct topology *t = pl->t;
	size_t n = 0, *score = calloc(pl->k + 1, sizeof(size_t));

	if (!score)
		return;
	for (size_t i = 0; i < pl->nn; i++)
		n += !t->nodes.v[i].is_host;
	/* As even as can be: the first n % k machines one node more. */
	size_t base = n / pl->k, extra = n % pl->k;
	/* Placed groups first (they count towards their machine's load). */
	for (size_t r = 0; r < pl->nn; r++)
		if (uf_find(pl->parent, r) == r && pl->where[r] >= 0)
			pl->load[pl->where[r]] += group_size(pl, r);
	for (size_t m = 0; m < pl->k; m++) {
		size_t cap = base + (m < extra);
		pl->cap[m] = pl->load[m] > cap ? pl->load[m] : cap;
	}
	memset(pl->load, 0, pl->k * sizeof(*pl->load));
	for (size_t r = 0; r < pl->nn; r++)
		if (uf_find(pl->parent, r) == r && pl->where[r] >= 0)
			assign(pl, r, pl->where[r]);
	for (size_t i = 0; i < pl->nn + pl->ns; i++) {
		size_t v = pl->order[i];
		if (v >= pl->nn)
			continue;
		size_t r = uf_find(pl->parent, v);
		if (pl->s->node_machine[v] >= 0)
			continue;
		/* A host with nothing linked to it: the first machine. */
		if (group_size(pl, r) == 0) {
			assign(pl, r, 0);
			continue;
		}
		assign(pl, r, choose(pl, r, score));
	}
	free(score);
}

/* Both ends name a node or switch the validator found (index -1: none). */
static bool ends_known(const struct topo_link *l)
{
	return (l->a.kind == TOPO_END_HOST || l->a.index >= 0) && (l->b.kind == TOPO_END_HOST || l->b.index >= 0);
}

/* Which machines have each switch, and where each link is made. */
static void switches_and_links(struct placer *pl)
{
	const struct topology *t = pl->t;
	struct topo_span *s = pl->s;
	const struct topo_node *host = topo_host_node(t);
	int hm = host ? s->node_machine[host - t->nodes.v] : -1;
	size_t k = pl->k;

	for (size_t i = 0; i < t->links.n; i++) {
		const struct topo_link *l = &t->links.v[i];
		const struct topo_end *e[2] = { &l->a, &l->b };
		int m[2];
		if (!ends_known(l))
			continue; /* an end names nothing: reported by the validator */
		for (int w = 0; w < 2; w++)
			m[w] = e[w]->kind == TOPO_END_NODE ? s->node_machine[e[w]->index] : -1;
		if (m[0] >= 0 && m[1] >= 0) {
			s->link_machine[i] = m[0] == m[1] ? m[0] : -1;
			continue;
		}
		for (int w = 0; w < 2; w++)
			if (m[w] >= 0) {
				s->link_machine[i] = m[w];
				if (e[!w]->kind == TOPO_END_SWITCH)
					s->switch_on[(size_t)e[!w]->index * k + (size_t)m[w]] = true;
			}
	}
	/* Links without a node end: a host interface made a switch port,
	 * two switches joined.  Made where both have a bridge when they can
	 * (a switch spanning machines is one switch: one such link is
	 * enough). */
	for (size_t i = 0; i < t->links.n; i++) {
		const struct topo_link *l = &t->links.v[i];
		if (l->a.kind == TOPO_END_NODE || l->b.kind == TOPO_END_NODE || !ends_known(l))
			continue;
		const struct topo_end *sw = l->a.kind == TOPO_END_SWITCH ? &l->a : &l->b;
		const struct topo_end *other = sw == &l->a ? &l->b : &l->a;
		int m = -1;
		if (other->kind == TOPO_END_HOST) {
			m = hm;
		} else {
			for (size_t c = 0; c < k && m < 0; c++)
				if (s->switch_on[(size_t)sw->index * k + c] && s->switch_on[(size_t)other->index * k + c])
					m = (int)c;
			for (size_t c = 0; c < k && m < 0; c++)
				if (s->switch_on[(size_t)sw->index * k + c] || s->switch_on[(size_t)other->index * k + c])
					m = (int)c;
		}
		for (size_t c = 0; c < k && m < 0; c++)
			if (s->switch_on[(size_t)sw->index * k + c])
				m = (int)c;
		if (m < 0)
			m = 0;
		s->link_machine[i] = m;
		s->switch_on[(size_t)sw->index * k + (size_t)m] = true;
		if (other->kind == TOPO_END_SWITCH)
			s->switch_on[(size_t)other->index * k + (size_t)m] = true;
	}
	/* A switch with no port still exists, on the first machine. */
	for (size_t w = 0; w < pl->ns; w++) {
		bool any = false;
		for (size_t m = 0; m < k; m++)
			any = any || s->switch_on[w * k + m];
		if (!any)
			s->switch_on[w * k] = true;
	}
	uint32_t vni = 0;
	for (size_t i = 0; i < t->links.n; i++)
		if (s->link_machine[i] < 0) {
			s->link_vni[i] = ++vni;
			s->ntunnels++;
		}
	for (size_t w = 0; w < pl->ns; w++)
		if (topo_span_switch_spans(t, w)) {
			s->switch_vni[w] = ++vni;
			s->nspanning++;
		}
	for (size_t i = 0; i < pl->nn; i++)
		if (!t->nodes.v[i].is_host)
			s->machine_nodes[s->node_machine[i]]++;
}

static void placer_free(struct placer *pl)
{
	free(pl->parent);
	free(pl->adj_off);
	free(pl->adj);
	free(pl->order);
	free(pl->members_off);
	free(pl->members);
	free(pl->load);
	free(pl->cap);
	free(pl->swcount);
	free(pl->where);
	free(pl->why);
}

static struct topo_span *span_alloc(const struct topology *t)
{
	size_t nn = t->nodes.n, ns = t->switches.n, k = t->machines.n;
	struct topo_span *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->nmachines = k;
	s->part = -1;
	s->node_machine = malloc((nn + 1) * sizeof(int));
	s->link_machine = calloc(t->links.n + 1, sizeof(int));
	s->switch_on = calloc(ns * k + 1, sizeof(bool));
	s->link_vni = calloc(t->links.n + 1, sizeof(uint32_t));
	s->switch_vni = calloc(ns + 1, sizeof(uint32_t));
	s->machine_nodes = calloc(k + 1, sizeof(size_t));
	s->underlay = calloc(k + 1, sizeof(*s->underlay));
	if (!s->node_machine || !s->link_machine || !s->switch_on || !s->link_vni || !s->switch_vni ||
	    !s->machine_nodes || !s->underlay) {
		free(s->node_machine);
		free(s->link_machine);
		free(s->switch_on);
		free(s->link_vni);
		free(s->switch_vni);
		free(s->machine_nodes);
		free(s->underlay);
		free(s);
		return NULL;
	}
	for (size_t i = 0; i < nn; i++)
		s->node_machine[i] = -1;
	return s;
}

int topo_span_build(struct topology *t, struct diags *d)
{
	size_t errors = d->nerrors;
	struct placer pl = { .t = t, .d = d, .nn = t->nodes.n, .ns = t->switches.n, .k = t->machines.n };

	topo_span_free(t);
	struct topo_span *s = pl.k ? span_alloc(t) : NULL;
	pl.s = s;
	pl.parent = calloc(pl.nn + 1, sizeof(size_t));
	pl.load = calloc(pl.k + 1, sizeof(size_t));
	pl.cap = calloc(pl.k + 1, sizeof(size_t));
	pl.swcount = calloc(pl.ns * pl.k + 1, sizeof(size_t));
	pl.where = malloc((pl.nn + 1) * sizeof(int));
	pl.why = calloc(pl.nn + 1, sizeof(*pl.why));
	if (!s || !pl.parent || !pl.load || !pl.cap || !pl.swcount || !pl.where || !pl.why)
		goto oom;
	for (size_t i = 0; i < pl.nn; i++)
		pl.where[i] = -1;
	join_groups(&pl);
	if (build_adjacency(&pl) < 0 || bfs_order(&pl) < 0 || group_members(&pl) < 0)
		goto oom;
	explicit_places(&pl);
	t->span = s;
	if (d->nerrors > errors) {
		placer_free(&pl);
		topo_span_free(t);
		return -1;
	}
	place_all(&pl);
	switches_and_links(&pl);
	placer_free(&pl);
	return 0;
oom:
	placer_free(&pl);
	t->span = s;
	topo_span_free(t);
	diag_error(d, ((struct topo_pos){ .line = 0 }), "out of memory");
	return -1;
}

int topo_span_set(struct topology *t, const int *node_machine)
{
	struct placer pl = { .t = t, .nn = t->nodes.n, .ns = t->switches.n, .k = t->machines.n };

	topo_span_free(t);
	for (size_t i = 0; i < pl.nn; i++)
		if (node_machine[i] < 0 || (size_t)node_machine[i] >= pl.k)
			return -1;
	if (!pl.k || !(pl.s = span_alloc(t)))
		return -1;
	memcpy(pl.s->node_machine, node_machine, pl.nn * sizeof(int));
	t->span = pl.s;
	switches_and_links(&pl);
	return 0;
}

/* ---- questions of plan/build.c ---------------------------------------- */

bool topo_span_machine_used(const struct topology *t, size_t m)
{
	const struct topo_span *s = t->span;

	if (s->machine_nodes[m])
		return true;
	for (size_t w = 0; w < t->switches.n; w++)
		if (s->switch_on[w * s->nmachines + m])
			return true;
	const struct topo_node *h = topo_host_node(t);
	return h && s->node_machine[h - t->nodes.v] == (int)m;
}

bool topo_span_switch_spans(const struct topology *t, size_t sw)
{
	size_t n = 0;

	if (!t->span)
		return false;
	for (size_t m = 0; m < t->span->nmachines; m++)
		n += t->span->switch_on[sw * t->span->nmachines + m];
	return n > 1;
}

int topo_span_link_here(const struct topology *t, size_t link, int *here_end)
{
	const struct topo_span *s = t->span;

	*here_end = -1;
	if (!s)
		return 1;
	if (s->link_machine[link] >= 0)
		return s->link_machine[link] == s->part;
	const struct topo_link *l = &t->links.v[link];
	if (s->node_machine[l->a.index] == s->part)
		*here_end = 0;
	else if (s->node_machine[l->b.index] == s->part)
		*here_end = 1;
	return *here_end >= 0 ? 2 : 0;
}

uint32_t topo_span_link_vni(const struct topology *t, size_t link)
{
	return t->span && t->span->link_vni[link] ? t->span->vni_base + t->span->link_vni[link] - 1 : 0;
}

uint32_t topo_span_switch_vni(const struct topology *t, size_t sw)
{
	return t->span && t->span->switch_vni[sw] ? t->span->vni_base + t->span->switch_vni[sw] - 1 : 0;
}

int topo_span_mtu(const struct topology *t)
{
	return t->span && t->span->mtu ? t->span->mtu : 1450;
}
