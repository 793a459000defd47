/* `--untrusted` (`netlab up`, `netlab test`): a topology from someone
 * else (a student's submission) may build a lab, but nothing in it may
 * reach the grader's machine.  What a lab can do anyway is confined to
 * its own namespaces; these statements are the ways out, refused one by
 * one with their position:
 *
 *   userns off (lab or node)   node root would be the host's root
 *   node host, host:IFACE      change the namespace netlab runs in
 *   rootfs DIR, mount SRC ...,  host paths outside the topology's directory
 *   files DIR                  (after resolving symbolic links)
 *
 * What stays allowed: every node has its own user namespace, so its root
 * is an unprivileged user of the host, with private /tmp and /run; it can
 * read what any user may read.  Resource limits are not imposed (docs/
 * testing.md says how a grader adds them). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "topo/topo.h"
#include "topo/untrusted.h"

/* Is path, with its symbolic links resolved, dir or below it?  A path
 * that does not exist cannot be shown to be inside. */
static bool inside(const char *dir, const char *path, const char **why)
{
	char real[PATH_MAX], realdir[PATH_MAX];

	*why = NULL;
	if (!dir || !realpath(dir, realdir)) {
		*why = "the topology's directory cannot be resolved";
		return false;
	}
	if (!realpath(path, real)) {
		*why = strerror(errno);
		return false;
	}
	size_t n = strlen(realdir);
	if (strcmp(realdir, "/") == 0)
		return true;
	return strncmp(real, realdir, n) == 0 && (real[n] == '/' || real[n] == '\0');
}

static void outside(struct diags *d, struct topo_pos pos, const char *what, const char *path, const char *dir,
		    const char *why)
{
	if (why)
		diag_error(d, pos, "--untrusted: %s '%s' cannot be checked (%s): only paths inside %s are allowed",
			   what, path, why, dir ? dir : "the topology's directory");
	else
		diag_error(d, pos, "--untrusted: %s '%s' is outside the topology's directory %s", what, path,
			   dir ? dir : "?");
}

static bool is_host_end_pos(const struct topology *t, struct topo_pos pos)
{
	for (size_t i = 0; i < t->links.n; i++) {
		const struct topo_link *l = &t->links.v[i];
		if ((l->a.kind == TOPO_END_HOST && l->a.pos.line == pos.line && l->a.pos.col == pos.col) ||
		    (l->b.kind == TOPO_END_HOST && l->b.pos.line == pos.line && l->b.pos.col == pos.col))
			return true;
	}
	return false;
}

int topo_check_untrusted(const struct topology *t, struct diags *d)
{
	size_t before = d->nerrors;
	const char *why;

	if (t->userns_off)
		diag_error(d, t->userns_pos,
			   "--untrusted: 'userns off' would make the root of every node the host's root");
	for (size_t i = 0; i < t->links.n; i++) {
		const struct topo_link *l = &t->links.v[i];
		for (int w = 0; w < 2; w++) {
			const struct topo_end *e = w ? &l->b : &l->a;
			if (e->kind == TOPO_END_HOST)
				diag_error(d, e->pos,
					   "--untrusted: host:%s would put an interface into the namespace netlab runs in",
					   e->ifname);
		}
	}
	for (size_t i = 0; i < t->nodes.n; i++) {
		const struct topo_node *n = &t->nodes.v[i];
		if (n->is_host) {
			/* The validator makes a `node host` for host links;
			 * those were reported at the link. */
			if (!is_host_end_pos(t, n->pos))
				diag_error(d, n->pos,
					   "--untrusted: 'node host' would change the namespace netlab runs in");
			continue;
		}
		if (n->userns_off)
			diag_error(d, n->userns_pos,
				   "--untrusted: 'userns off' would make the root of node '%s' the host's root",
				   n->name);
		if (n->rootfs && !inside(t->dir, n->rootfs, &why))
			outside(d, n->rootfs_pos, "rootfs", n->rootfs, t->dir, why);
		for (size_t k = 0; k < n->mounts.n; k++) {
			const struct topo_mount *m = &n->mounts.v[k];
			if (!m->tmpfs && !inside(t->dir, m->src, &why))
				outside(d, m->src_pos, "mount source", m->src, t->dir, why);
		}
		/* `files DIR` lays a host directory over the node's root. */
		for (size_t k = 0; k < n->files.n; k++) {
			const struct topo_files *f = &n->files.v[k];
			if (!inside(t->dir, f->dir, &why))
				outside(d, f->pos, "files", f->dir, t->dir, why);
		}
	}
	return d->nerrors > before ? -1 : 0;
}
