#include "lab/wiring.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/state.h"
#include "plan/plan.h"
#include "util/fsutil.h"

/* Which end of the topology's link a plan end is (the plan puts the end
 * it creates first, which may be b). */
static int end_index(const struct topo_link *l, const struct plan_end *pe)
{
	if (pe->ns == PLAN_NS_LAB) {
		if (l->a.kind == TOPO_END_SWITCH && l->b.kind == TOPO_END_SWITCH)
			return pe->name[strlen(pe->name) - 1] == 'b'; /* "v12a" / "v12b" (plan/build.c) */
		return l->a.kind != TOPO_END_SWITCH;
	}
	if (pe->ns == PLAN_NS_HOST)
		return l->a.kind != TOPO_END_HOST;
	return !(l->a.kind == TOPO_END_NODE && l->a.index == pe->ns && strcmp(l->a.ifname, pe->name) == 0);
}

static json_object *end_json(const struct plan *p, const struct topo_link *l, const struct plan_end *pe)
{
	json_object *o = json_object_new_object();
	const struct topo_end *e = end_index(l, pe) ? &l->b : &l->a;

	if (pe->ns == PLAN_NS_LAB)
		json_object_object_add(o, "switch", json_object_new_string(e->name));
	else if (pe->ns == PLAN_NS_HOST)
		json_object_object_add(o, "host", json_object_new_boolean(1));
	else
		json_object_object_add(o, "node", json_object_new_string(p->t->nodes.v[pe->ns].name));
	json_object_object_add(o, "ifname", json_object_new_string(pe->name));
	return o;
}

int wiring_write(const char *dir, const struct plan *p, nlab_error **err)
{
	json_object *root = json_object_new_object(), *sw = json_object_new_array(), *links = json_object_new_array();
	char path[4200], tmp[4200];

	for (size_t i = p->sec[PLAN_SEC_LINKS]; i < p->sec[PLAN_SEC_LINKS + 1]; i++) {
		const struct plan_op *op = &p->ops[i];
		if (op->kind == OP_BRIDGE) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "name", json_object_new_string(p->t->switches.v[op->bridge.sw].name));
			json_object_object_add(o, "bridge", json_object_new_string(op->bridge.name));
			json_object_array_add(sw, o);
		} else if (op->kind == OP_VETH) {
			const struct topo_link *l = &p->t->links.v[op->veth.link];
			json_object *o = json_object_new_object(), *ends = json_object_new_array();
			/* In the topology's order: the end written first. */
			bool swapped = end_index(l, &op->veth.a) == 1;
			json_object_array_add(ends, end_json(p, l, swapped ? &op->veth.b : &op->veth.a));
			json_object_array_add(ends, end_json(p, l, swapped ? &op->veth.a : &op->veth.b));
			json_object_object_add(o, "line", json_object_new_int(l->pos.line));
			json_object_object_add(o, "ends", ends);
			json_object_array_add(links, o);
		} else if (op->kind == OP_VXLAN && op->vxlan.link != SIZE_MAX) {
			/* Issue 18: a link to a node of another machine, this
			 * machine's end a tunnel; the far end is named with its
			 * machine (which reading here ignores: it is not a node
			 * of this machine's state). */
			const struct topo_link *l = &p->t->links.v[op->vxlan.link];
			json_object *o = json_object_new_object(), *ends = json_object_new_array();
			for (int k = 0; k < 2; k++) {
				const struct topo_end *e = k ? &l->b : &l->a;
				json_object *je = json_object_new_object();
				json_object_object_add(je, "node", json_object_new_string(e->name));
				json_object_object_add(je, "ifname", json_object_new_string(e->ifname));
				if (e->index != op->vxlan.end.ns)
					json_object_object_add(
						je, "machine",
						json_object_new_string(p->t->machines.v[op->vxlan.remote].name));
				json_object_array_add(ends, je);
			}
			json_object_object_add(o, "line", json_object_new_int(l->pos.line));
			json_object_object_add(o, "ends", ends);
			json_object_array_add(links, o);
		}
	}
	json_object_object_add(root, "switches", sw);
	json_object_object_add(root, "links", links);
	snprintf(path, sizeof(path), "%s/wiring.json", dir);
	snprintf(tmp, sizeof(tmp), "%s/.wiring.json.tmp", dir);
	const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
	int r = write_file_atomic(path, tmp, text, strlen(text), err);
	json_object_put(root);
	return r;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

/* Interface names from a file: what the kernel would take, nothing else. */
static bool copy_ifname(char out[NLAB_IFNAMSIZ], const char *s)
{
	if (!s || !*s || strlen(s) >= NLAB_IFNAMSIZ || strchr(s, '/'))
		return false;
	memcpy(out, s, strlen(s) + 1);
	return true;
}

/* Node and switch names as the language allows them (they are joined
 * into paths under the state directory: LAB/linkdown/NODE.IFACE). */
static bool name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (!n || n > NLAB_NAME_MAX || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] == '-' || s[i] == '_' || (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return true;
}

int wiring_read(const char *lab, struct wiring *w, nlab_error **err)
{
	char dir[4096], path[4200];
	size_t len;

	memset(w, 0, sizeof(*w));
	if (state_lab_dir(lab, dir, sizeof(dir), err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/wiring.json", dir);
	char *text = read_file(path, 64u << 20, &len);
	if (!text)
		return nlab_error_set(err, errno, "lab '%s': read %s", lab, path);
	json_object *root = json_tokener_parse(text), *sw, *links;
	free(text);
	if (!root)
		return nlab_error_set(err, EBADMSG, "lab '%s': %s is not JSON", lab, path);
	if (json_object_object_get_ex(root, "switches", &sw) && json_object_is_type(sw, json_type_array)) {
		size_t n = json_object_array_length(sw);
		w->switches = calloc(n + 1, sizeof(*w->switches));
		for (size_t i = 0; w->switches && i < n; i++) {
			json_object *o = json_object_array_get_idx(sw, i);
			const char *name = jstr(o, "name");
			struct wiring_switch *s = &w->switches[w->nswitches];
			if (!name_ok(name) || !copy_ifname(s->bridge, jstr(o, "bridge")) || !(s->name = strdup(name)))
				continue;
			w->nswitches++;
		}
	}
	if (json_object_object_get_ex(root, "links", &links) && json_object_is_type(links, json_type_array)) {
		size_t n = json_object_array_length(links);
		w->links = calloc(n + 1, sizeof(*w->links));
		for (size_t i = 0; w->links && i < n; i++) {
			json_object *o = json_object_array_get_idx(links, i), *ends, *line;
			struct wiring_link *l = &w->links[w->nlinks];
			bool ok = json_object_object_get_ex(o, "ends", &ends) &&
				  json_object_is_type(ends, json_type_array) && json_object_array_length(ends) == 2;
			for (int k = 0; ok && k < 2; k++) {
				json_object *e = json_object_array_get_idx(ends, (size_t)k);
				struct wiring_end *we = &l->ends[k];
				const char *node = jstr(e, "node"), *swn = jstr(e, "switch");
				we->where = node ? WIRING_NODE : swn ? WIRING_SWITCH : WIRING_HOST;
				ok = copy_ifname(we->ifname, jstr(e, "ifname")) &&
				     (!(node || swn) ||
				      (name_ok(node ? node : swn) && (we->name = strdup(node ? node : swn))));
				if (ok && jstr(e, "machine"))
					ok = name_ok(jstr(e, "machine")) && (we->machine = strdup(jstr(e, "machine")));
			}
			if (!ok) {
				free(l->ends[0].name);
				free(l->ends[1].name);
				free(l->ends[0].machine);
				free(l->ends[1].machine);
				memset(l, 0, sizeof(*l));
				continue;
			}
			l->line = json_object_object_get_ex(o, "line", &line) ? json_object_get_int(line) : 0;
			w->nlinks++;
		}
	}
	json_object_put(root);
	if ((!w->links && w->nlinks) || (!w->switches && w->nswitches))
		return nlab_error_set(err, ENOMEM, "lab '%s': wiring", lab);
	return 0;
}

void wiring_clear(struct wiring *w)
{
	for (size_t i = 0; i < w->nlinks; i++) {
		free(w->links[i].ends[0].name);
		free(w->links[i].ends[1].name);
		free(w->links[i].ends[0].machine);
		free(w->links[i].ends[1].machine);
	}
	for (size_t i = 0; i < w->nswitches; i++)
		free(w->switches[i].name);
	free(w->links);
	free(w->switches);
	memset(w, 0, sizeof(*w));
}

const struct wiring_link *wiring_find(const struct wiring *w, const char *node, const char *ifname, int *which)
{
	for (size_t i = 0; i < w->nlinks; i++)
		for (int k = 0; k < 2; k++) {
			const struct wiring_end *e = &w->links[i].ends[k];
			if (e->where == WIRING_NODE && strcmp(e->name, node) == 0 && strcmp(e->ifname, ifname) == 0) {
				*which = k;
				return &w->links[i];
			}
		}
	return NULL;
}

const struct wiring_switch *wiring_switch(const struct wiring *w, const char *name)
{
	for (size_t i = 0; i < w->nswitches; i++)
		if (strcmp(w->switches[i].name, name) == 0)
			return &w->switches[i];
	return NULL;
}

void wiring_end_label(const struct wiring_end *e, char *buf, size_t len)
{
	switch (e->where) {
	case WIRING_SWITCH:
		snprintf(buf, len, "%s (port %s)", e->name, e->ifname);
		break;
	case WIRING_HOST:
		snprintf(buf, len, "host:%s", e->ifname);
		break;
	case WIRING_NODE:
	default:
		snprintf(buf, len, "%s:%s", e->name, e->ifname);
		break;
	}
}
