/* Top-level statements about machines (issue 18, docs/multihost.md):
 *
 *   machine NAME [USER@]HOST [underlay ADDRESS]
 *   place NODE... on NAME           (NODE may be a range: h[1..100])
 *
 * Only their form is checked here; what they name (nodes, machines) and
 * the placement itself are topo/span.c's, which runs once the whole file
 * is read and again when `up --machines` replaces the machines. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo/addr.h"
#include "topo/parse_int.h"
#include "topo/span.h"
#include "util/strutil.h"

void st_machine(struct parser *p)
{
	struct topology *t = p->t;
	const struct tok *name = TOK(1), *target = TOK(2);
	char why[200];

	if (NARGS == 3 || (NARGS == 4 && strcmp(TOK(3)->text, "underlay") != 0)) {
		diag_error(p->d, TOK(3)->pos, "unknown machine option '%s': machine NAME [USER@]HOST [underlay ADDRESS]",
			   TOK(3)->text);
		return;
	}
	if (!topo_machine_name_valid(name->text)) {
		diag_error(p->d, name->pos,
			   "invalid machine name '%s': names start with a letter, then letters, digits, '-' or '_' "
			   "(at most %d characters)",
			   name->text, NLAB_NAME_MAX);
		return;
	}
	for (size_t i = 0; i < t->machines.n; i++)
		if (strcmp(t->machines.v[i].name, name->text) == 0) {
			diag_error(p->d, name->pos, "duplicate machine '%s'", name->text);
			diag_note(p->d, t->machines.v[i].pos, "'%s' was first defined here", name->text);
			return;
		}
	if (t->machines.n >= TOPO_MACHINES_MAX) {
		diag_error(p->d, TOK(0)->pos, "too many machines: a lab spans at most %d", TOPO_MACHINES_MAX);
		return;
	}
	char *user = NULL, *host = NULL;
	if (topo_ssh_target_parse(target->text, &user, &host, why, sizeof(why)) < 0) {
		diag_error(p->d, target->pos, "bad machine address '%s': %s", target->text, why);
		return;
	}
	struct topo_cidr ul = { 0 };
	if (NARGS == 4 && addr_parse(TOK(4)->text, &ul.family, ul.addr) < 0) {
		diag_error(p->d, TOK(4)->pos,
			   "'underlay' takes the machine's own IPv4 or IPv6 address (where its tunnels start), not '%s'",
			   TOK(4)->text);
		free(user);
		free(host);
		return;
	}
	struct topo_machine *m = VEC_PUSH(t->machines);
	if (!m) {
		free(user);
		free(host);
		return;
	}
	m->name = strdup(name->text);
	m->user = user;
	m->host = host;
	m->pos = name->pos;
	m->host_pos = target->pos;
	if (NARGS == 4) {
		ul.prefixlen = ul.family == AF_INET ? 32 : 128;
		m->has_underlay = true;
		m->underlay = ul;
		m->underlay_pos = TOK(4)->pos;
	}
}

static bool add_place(struct parser *p, const char *node, struct topo_pos pos, const struct tok *machine)
{
	struct topo_place *pl = VEC_PUSH(p->t->places);

	if (!pl)
		return false;
	pl->node = strdup(node);
	pl->machine = strdup(machine->text);
	pl->pos = pos;
	pl->machine_pos = machine->pos;
	return pl->node && pl->machine;
}

/* One NODE word of `place`: a name, or a range of them. */
static void place_word(struct parser *p, const struct tok *w, const struct tok *machine)
{
	const char *s = w->text;
	size_t len = strlen(s), off = 0;
	struct topo_range r;
	char why[200];

	int k = topo_range_find(s, len, &r, why, sizeof(why), &off);
	if (k < 0) {
		diag_error(p->d, text_pos(p, w, off), "bad range in '%s': %s", s, why);
		return;
	}
	if (k == 0) {
		add_place(p, s, w->pos, machine);
		return;
	}
	for (int64_t i = r.lo; i <= r.hi; i++) {
		char name[NLAB_NAME_MAX * 2 + 24];
		snprintf(name, sizeof(name), "%.*s%lld%s", (int)r.start, s, (long long)i, s + r.end);
		if (!add_place(p, name, w->pos, machine))
			return;
	}
}

void st_place(struct parser *p)
{
	int n = NARGS;

	if (strcmp(TOK(n - 1)->text, "on") != 0) {
		for (int i = 1; i < n; i++)
			if (strcmp(TOK(i)->text, "on") == 0) {
				diag_error(p->d, TOK(i + 2)->pos, "one machine after 'on': place NODE... on MACHINE");
				return;
			}
		diag_error(p->d, TOK(n)->pos, "'place' needs 'on' before the machine: place NODE... on MACHINE");
		return;
	}
	if (n < 3) {
		diag_error(p->d, TOK(1)->pos, "'place' needs at least one node before 'on': place NODE... on MACHINE");
		return;
	}
	const struct tok *machine = TOK(n);
	if (!topo_machine_name_valid(machine->text)) {
		diag_error(p->d, machine->pos, "invalid machine name '%s'", machine->text);
		return;
	}
	for (int i = 1; i < n - 1; i++) {
		if (strcmp(TOK(i)->text, "on") == 0) {
			diag_error(p->d, TOK(i)->pos, "'on' twice: place NODE... on MACHINE");
			return;
		}
		place_word(p, TOK(i), machine);
	}
}
