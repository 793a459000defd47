/* Checks of what a node runs and carries: its lines (`ip IFACE dhcp`,
 * `wait`), `after` (names and cycles), `files` and relative `mount`
 * sources (resolved against the topology's directory), and links to the
 * host's own interfaces. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "topo/topo.h"
#include "util/strutil.h"

/* DIR relative to the topology's directory, when that is known. */
static char *resolve(const struct topology *t, const char *path)
{
	char *abs = NULL;

	if (path[0] == '/' || !t->dir)
		return NULL;
	if (asprintf(&abs, "%s/%s", strcmp(t->dir, "/") ? t->dir : "", path) < 0)
		return NULL;
	return abs;
}

static void check_files(const struct topology *t, struct topo_node *n, struct diags *d)
{
	for (size_t i = 0; i < n->files.n; i++) {
		struct topo_files *f = &n->files.v[i];
		char *abs = resolve(t, f->dir);
		struct stat st;
		if (abs) {
			free(f->dir);
			f->dir = abs;
		}
		if (!t->dir && f->dir[0] != '/')
			continue; /* a buffer without a directory (tests) */
		if (i == TOPO_FILES_MAX)
			diag_error(d, f->pos, "more than %d files statements in node %s: merge some directories",
				   TOPO_FILES_MAX, n->name);
		if (stat(f->dir, &st) < 0)
			diag_error(d, f->pos, "files directory %s: %s", f->dir, strerror(errno));
		else if (!S_ISDIR(st.st_mode))
			diag_error(d, f->pos, "files %s is not a directory", f->dir);
	}
	for (size_t i = 0; i < n->mounts.n; i++) {
		struct topo_mount *m = &n->mounts.v[i];
		char *abs = m->src ? resolve(t, m->src) : NULL;
		if (abs) {
			free(m->src);
			m->src = abs;
		}
	}
}

static void check_dhcp(const struct topo_node *n, struct diags *d)
{
	for (size_t i = 0; i < n->cmds.n; i++) {
		const struct topo_cmd *c = &n->cmds.v[i];
		if (c->kind != TOPO_CMD_DHCP)
			continue;
		if (n->is_host) {
			diag_error(d, c->pos, "'ip IFACE dhcp' is for nodes: the host keeps its own DHCP client");
			continue;
		}
		if (!topo_node_iface(n, c->ifname))
			diag_error(d, c->pos, "ip %s dhcp: node '%s' has no interface %s (no link names it)", c->ifname,
				   n->name, c->ifname);
		for (size_t j = 0; j < i; j++)
			if (n->cmds.v[j].kind == TOPO_CMD_DHCP && !strcmp(n->cmds.v[j].ifname, c->ifname))
				diag_error(d, c->pos, "ip %s dhcp given twice for node '%s'", c->ifname, n->name);
	}
}

/* The kernel takes at most MAX_ARG_STRLEN (32 pages: 131072 bytes with
 * its NUL) in one argument or environment string of execve(2): a longer
 * command, which `/bin/sh -c` gets as one argument, could never start
 * (E2BIG), and neither could any command of a node with such an `env`. */
#define NLAB_ARG_STRLEN_MAX 131071

static void check_lengths(const struct topo_node *n, struct diags *d)
{
	for (size_t i = 0; i < n->cmds.n; i++) {
		const struct topo_cmd *c = &n->cmds.v[i];
		size_t len = c->text && c->kind != TOPO_CMD_DHCP ? strlen(c->text) : 0;
		if (len > NLAB_ARG_STRLEN_MAX)
			diag_error(d, c->pos,
				   "the command is %zu bytes long; the kernel passes at most %d bytes as one argument "
				   "(MAX_ARG_STRLEN), so it could never start: put it in a script",
				   len, NLAB_ARG_STRLEN_MAX);
	}
	for (size_t i = 0; i < n->envs.n; i++) {
		size_t len = strlen(n->envs.v[i].key) + 1 + strlen(n->envs.v[i].value);
		if (len > NLAB_ARG_STRLEN_MAX)
			diag_error(d, n->envs.v[i].pos,
				   "env %s is %zu bytes long; the kernel passes at most %d bytes as one environment "
				   "string (MAX_ARG_STRLEN), so no command of the node could start",
				   n->envs.v[i].key, len, NLAB_ARG_STRLEN_MAX);
	}
}

/* `after` names nodes of the lab, not itself, and no chain of them comes
 * back to where it started: that lab could never be ready. */
static void resolve_afters(struct topology *t, struct diags *d)
{
	for (size_t i = 0; i < t->nodes.n; i++) {
		struct topo_node *n = &t->nodes.v[i];
		for (size_t k = 0; k < n->afters.n; k++) {
			struct topo_after *a = &n->afters.v[k];
			struct topo_node *m = topo_find_node(t, a->name);
			if (!m || m->is_host) {
				const char *names[64];
				size_t nn = 0;
				for (size_t j = 0; j < t->nodes.n && nn < 64; j++)
					if (!t->nodes.v[j].is_host)
						names[nn++] = t->nodes.v[j].name;
				const char *near = str_nearest(a->name, names, nn);
				diag_error(d, a->pos, "after: no node '%s'%s%s%s", a->name, near ? "; did you mean '" : "",
					   near ? near : "", near ? "'?" : "");
				continue;
			}
			if (m == n) {
				diag_error(d, a->pos, "node '%s' cannot start after itself", n->name);
				continue;
			}
			a->index = (int)(m - t->nodes.v);
		}
	}
}

/* Depth-first over `after` edges; a back edge is a cycle, reported once
 * at the `after` that closes it, with the whole chain. */
enum { WHITE, GREY, BLACK };

static bool cycle_from(struct topology *t, size_t i, unsigned char *color, size_t *stack, size_t depth,
		       struct diags *d)
{
	struct topo_node *n = &t->nodes.v[i];

	color[i] = GREY;
	stack[depth] = i;
	for (size_t k = 0; k < n->afters.n; k++) {
		int j = n->afters.v[k].index;
		if (j < 0)
			continue;
		if (color[j] == GREY) {
			char chain[512];
			size_t o = 0, start = depth;
			while (start > 0 && stack[start] != (size_t)j)
				start--;
			for (size_t s = start; s <= depth && o < sizeof(chain) - 40; s++)
				o += (size_t)snprintf(chain + o, sizeof(chain) - o, "%s -> ", t->nodes.v[stack[s]].name);
			snprintf(chain + o, sizeof(chain) - o, "%s", t->nodes.v[j].name);
			diag_error(d, n->afters.v[k].pos, "'after' makes a cycle (%s): none of these nodes could start",
				   chain);
			return true;
		}
		if (color[j] == WHITE && cycle_from(t, (size_t)j, color, stack, depth + 1, d))
			return true;
	}
	color[i] = BLACK;
	return false;
}

static void check_after_cycles(struct topology *t, struct diags *d)
{
	unsigned char *color = calloc(t->nodes.n + 1, 1);
	size_t *stack = calloc(t->nodes.n + 1, sizeof(*stack));

	for (size_t i = 0; color && stack && i < t->nodes.n; i++)
		if (color[i] == WHITE && t->nodes.v[i].afters.n)
			cycle_from(t, i, color, stack, 0, d);
	free(color);
	free(stack);
}

void topo_validate_lines(struct topology *t, struct diags *d)
{
	for (size_t i = 0; i < t->nodes.n; i++) {
		check_files(t, &t->nodes.v[i], d);
		check_dhcp(&t->nodes.v[i], d);
		check_lengths(&t->nodes.v[i], d);
		if (t->nodes.v[i].is_host && (t->nodes.v[i].afters.n || t->nodes.v[i].files.n))
			diag_error(d, t->nodes.v[i].afters.n ? t->nodes.v[i].afters.v[0].pos : t->nodes.v[i].files.v[0].pos,
				   "'node host' is the machine itself: it has no lines to order and no root to fill");
	}
	resolve_afters(t, d);
	check_after_cycles(t, d);
}
