/* Node statements about isolation (docs/isolation.md): the namespaces,
 * the root, the mounts, the clocks and the cgroup limits of a node.
 *
 *   userns on|off        user NAME|UID[:GROUP|GID]    rootfs DIR
 *   mount SRC DST [ro]   tmpfs DST [SIZE]             boottime|monotonic SECONDS
 *   cpu FRACTION         memory SIZE                  pids N|max
 *
 * A new statement about what a node sees of the host or may use of it
 * goes here.  Each is given at most once per node. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "topo/parse_int.h"
#include "topo/parse_util.h"

void st_userns(struct parser *p)
{
	struct topo_node *n = cur_node(p);
	bool on;

	if (parse_on_off(p->d, TOK(1), &on)) {
		n->userns_off = !on;
		n->userns_pos = TOK(0)->pos;
	}
}

/* A user or group as written: a name as useradd accepts it, or a number. */
static bool id_word_ok(const char *s, size_t len)
{
	bool digits = len > 0;

	for (size_t i = 0; i < len; i++)
		digits = digits && isdigit((unsigned char)s[i]);
	if (digits)
		return len <= 10 && strtoull(s, NULL, 10) < 4294967295ULL;
	if (len == 0 || len > 32 || !(islower((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_' || s[i] == '-' ||
		      (s[i] == '$' && i == len - 1)))
			return false;
	return true;
}

void st_user(struct parser *p)
{
	struct topo_node *n = cur_node(p);
	const char *w = TOK(1)->text, *colon = strchr(w, ':');
	size_t ulen = colon ? (size_t)(colon - w) : strlen(w);

	if (n->has_user) {
		diag_error(p->d, TOK(0)->pos, "user given twice for node '%s'", n->name);
		return;
	}
	if (!id_word_ok(w, ulen) || (colon && !id_word_ok(colon + 1, strlen(colon + 1)))) {
		diag_error(p->d, TOK(1)->pos,
			   "bad user '%s': write a user name or UID, optionally ':' and a group name or GID, e.g. user nobody or user 1000:1000",
			   w);
		return;
	}
	n->has_user = true;
	n->user = strndup(w, ulen);
	n->group = colon ? strdup(colon + 1) : NULL;
	n->user_pos = TOK(1)->pos;
}

/* Absolute, normalised enough that what the user reads is what is used. */
static bool abs_path_ok(struct parser *p, const struct tok *t, const char *what)
{
	const char *s = t->text;

	if (s[0] != '/') {
		diag_error(p->d, t->pos, "%s '%s' must be an absolute path", what, s);
		return false;
	}
	for (const char *c = s; *c; c++)
		if (c[0] == '/' && c[1] == '.' && c[2] == '.' && (c[3] == '/' || c[3] == '\0')) {
			diag_error(p->d, t->pos, "%s '%s' must not contain '..'", what, s);
			return false;
		}
	if (strlen(s) >= 1024) {
		diag_error(p->d, t->pos, "%s is longer than 1023 bytes", what);
		return false;
	}
	return true;
}

/* "/", "//", "/.", "/./" ...: the root itself, however it is spelled. */
static bool is_root_path(const char *s)
{
	for (const char *c = s; *c; c++)
		if (*c != '/' && !(c[0] == '.' && (c == s || c[-1] == '/') && (c[1] == '/' || c[1] == '\0')))
			return false;
	return s[0] == '/';
}

void st_rootfs(struct parser *p)
{
	struct topo_node *n = cur_node(p);

	if (n->rootfs) {
		diag_error(p->d, TOK(0)->pos, "rootfs given twice for node '%s'", n->name);
		return;
	}
	if (!abs_path_ok(p, TOK(1), "rootfs directory"))
		return;
	if (is_root_path(TOK(1)->text)) {
		diag_error(p->d, TOK(1)->pos, "rootfs '%s' is the host's own root; leave 'rootfs' out instead",
			   TOK(1)->text);
		return;
	}
	n->rootfs = strdup(TOK(1)->text);
	n->rootfs_pos = TOK(1)->pos;
}

/* A path of the host that may be relative to the topology's directory
 * (resolved by the validator, which knows it): no '..' either way. */
static bool host_path_ok(struct parser *p, const struct tok *t, const char *what)
{
	if (t->text[0] == '/')
		return abs_path_ok(p, t, what);
	for (const char *c = t->text; *c; c = strchrnul(c, '/'), c += *c == '/')
		if (c[0] == '.' && c[1] == '.' && (c[2] == '/' || c[2] == '\0')) {
			diag_error(p->d, t->pos, "%s '%s' must not contain '..'", what, t->text);
			return false;
		}
	if (strlen(t->text) >= 1024) {
		diag_error(p->d, t->pos, "%s is longer than 1023 bytes", what);
		return false;
	}
	return true;
}

void st_mount(struct parser *p)
{
	struct topo_node *n = cur_node(p);
	struct topo_mount m = { .pos = TOK(0)->pos };

	if (!host_path_ok(p, TOK(1), "mount source") || !abs_path_ok(p, TOK(2), "mount target"))
		return;
	if (is_root_path(TOK(2)->text)) {
		diag_error(p->d, TOK(2)->pos, "cannot mount over the node's '%s': use 'rootfs DIR' for a root of its own",
			   TOK(2)->text);
		return;
	}
	if (NARGS == 3) {
		static const char *const opts[] = { "ro", "rw" };
		int i = parse_choice(p->d, TOK(3)->pos, "mount option", "options", TOK(3)->text, opts, 2);
		if (i < 0)
			return;
		m.ro = i == 0;
	}
	m.src = strdup(TOK(1)->text);
	m.src_pos = TOK(1)->pos;
	m.dst = strdup(TOK(2)->text);
	m.dst_pos = TOK(2)->pos;
	struct topo_mount *slot = VEC_PUSH(n->mounts);
	if (slot)
		*slot = m;
	else {
		free(m.src);
		free(m.dst);
	}
}

void st_tmpfs(struct parser *p)
{
	struct topo_node *n = cur_node(p);
	struct topo_mount m = { .pos = TOK(0)->pos, .tmpfs = true };

	if (!abs_path_ok(p, TOK(1), "tmpfs target"))
		return;
	if (is_root_path(TOK(1)->text)) {
		diag_error(p->d, TOK(1)->pos,
			   "cannot mount a tmpfs over the node's '%s': it would leave the node nothing to run; use a "
			   "directory below it",
			   TOK(1)->text);
		return;
	}
	if (NARGS == 2 && !parse_size(p->d, TOK(2), "tmpfs size", 4096, UINT64_MAX / 2, &m.size))
		return;
	m.dst = strdup(TOK(1)->text);
	m.dst_pos = TOK(1)->pos;
	struct topo_mount *slot = VEC_PUSH(n->mounts);
	if (slot)
		*slot = m;
	else
		free(m.dst);
}

/* The value the clock shows when the node starts: up to ~31 years. */
void st_clock(struct parser *p)
{
	struct topo_node *n = cur_node(p);
	bool boot = strcmp(TOK(0)->text, "boottime") == 0;
	uint64_t v;

	if (boot ? n->has_boottime : n->has_monotonic) {
		diag_error(p->d, TOK(0)->pos, "%s given twice for node '%s'", TOK(0)->text, n->name);
		return;
	}
	if (!parse_number(p->d, TOK(1), "seconds", 0, 1000000000, &v))
		return;
	if (boot) {
		n->has_boottime = true;
		n->boottime_s = (int64_t)v;
		n->boottime_pos = TOK(1)->pos;
	} else {
		n->has_monotonic = true;
		n->monotonic_s = (int64_t)v;
		n->monotonic_pos = TOK(1)->pos;
	}
}

void st_limit(struct parser *p)
{
	struct topo_node *n = cur_node(p);
	const char *kw = TOK(0)->text;
	uint64_t v;

	if ((!strcmp(kw, "cpu") && n->cpu_millis) || (!strcmp(kw, "memory") && n->memory_bytes) ||
	    (!strcmp(kw, "pids") && n->pids_max)) {
		diag_error(p->d, TOK(0)->pos, "%s limit given twice for node '%s'", kw, n->name);
		return;
	}
	if (!strcmp(kw, "cpu")) {
		/* The CFS quota cannot go below 1 ms per 100 ms period. */
		if (parse_fraction(p->d, TOK(1), "cpu", 10, 1024000, &n->cpu_millis))
			n->cpu_pos = TOK(1)->pos;
	} else if (!strcmp(kw, "memory")) {
		/* Below a few MiB the node's own init and first command die. */
		if (parse_size(p->d, TOK(1), "memory", 4ULL << 20, 1ULL << 50, &n->memory_bytes))
			n->memory_pos = TOK(1)->pos;
	} else if (!strcmp(TOK(1)->text, "max")) {
		/* No limit of its own (all nodes together still have one). */
		n->pids_max = TOPO_PIDS_UNLIMITED;
		n->pids_pos = TOK(1)->pos;
	} else if (parse_number(p->d, TOK(1), "pids", 2, 4194304, &v)) {
		/* The node's init is one of them. */
		n->pids_max = (uint32_t)v;
		n->pids_pos = TOK(1)->pos;
	}
}

/* files DIR: DIR (relative to the topology's directory, or absolute) is
 * laid over the node's root; checked to exist by the validator. */
void st_files(struct parser *p)
{
	struct topo_node *n = cur_node(p);

	if (!host_path_ok(p, TOK(1), "files directory"))
		return;
	struct topo_files *f = VEC_PUSH(n->files);
	if (!f)
		return;
	f->dir = strdup(TOK(1)->text);
	f->pos = TOK(1)->pos;
}
