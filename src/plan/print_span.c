/* `up --dry-run` of a lab across machines (issue 18): where each node
 * runs, the tunnels between machines, then each machine's own plan, as
 * that machine will build it (plan_build() of its part). */
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"
#include "topo/addr.h"
#include "topo/span.h"
#include "util/schema.h"

static const char *base_name(const char *file)
{
	const char *b = file ? strrchr(file, '/') : NULL;

	return b ? b + 1 : file ? file : "?";
}

static void machine_address(const struct topo_machine *m, char *buf, size_t len)
{
	char ul[64];

	if (m->has_underlay) {
		addr_format(m->underlay.family, m->underlay.addr, ul, sizeof(ul));
		snprintf(buf, len, "%s%s%s, underlay %s", m->user ? m->user : "", m->user ? "@" : "", m->host, ul);
	} else {
		snprintf(buf, len, "%s%s%s", m->user ? m->user : "", m->user ? "@" : "", m->host);
	}
}

static void print_tunnels(const struct topology *t, FILE *out)
{
	const struct topo_span *s = t->span;
	const char *file = base_name(t->file);

	for (size_t i = 0; i < t->links.n; i++) {
		if (!s->link_vni[i])
			continue;
		const struct topo_link *l = &t->links.v[i];
		fprintf(out, "  link %s:%s -- %s:%s (%s:%d): %s <-> %s, VNI %u\n", l->a.name, l->a.ifname, l->b.name,
			l->b.ifname, file, l->pos.line, t->machines.v[s->node_machine[l->a.index]].name,
			t->machines.v[s->node_machine[l->b.index]].name, topo_span_link_vni(t, i));
	}
	for (size_t w = 0; w < t->switches.n; w++) {
		if (!s->switch_vni[w])
			continue;
		fprintf(out, "  switch %s (%s:%d): a bridge on each of", t->switches.v[w].name, file,
			t->switches.v[w].pos.line);
		for (size_t m = 0; m < s->nmachines; m++)
			if (s->switch_on[w * s->nmachines + m])
				fprintf(out, " %s", t->machines.v[m].name);
		fprintf(out, ", VNI %u\n", topo_span_switch_vni(t, w));
	}
}

int plan_span_print(struct topology *t, const char *lab, FILE *out, nlab_error **err)
{
	struct topo_span *s = t->span;
	size_t nn = topo_count_nodes(t);

	fprintf(out,
		"lab %s (%s) across %zu machine%s: %zu node%s, %zu switch%s, %zu link%s; %zu tunnel%s, %zu switch%s "
		"spanning machines (VNIs from %u, udp %u, lab-side mtu %d%s)\n\n",
		lab, t->file, s->nmachines, s->nmachines == 1 ? "" : "s", nn, nn == 1 ? "" : "s", t->switches.n,
		t->switches.n == 1 ? "" : "es", t->links.n, t->links.n == 1 ? "" : "s", s->ntunnels,
		s->ntunnels == 1 ? "" : "s", s->nspanning, s->nspanning == 1 ? "" : "es", s->vni_base, s->port,
		topo_span_mtu(t), s->mtu ? "" : ", assuming a 1500-byte underlay over IPv4");
	for (size_t m = 0; m < s->nmachines; m++) {
		char addr[400];
		machine_address(&t->machines.v[m], addr, sizeof(addr));
		fprintf(out, "machine %s (%s): %zu node%s%s", t->machines.v[m].name, addr, s->machine_nodes[m],
			s->machine_nodes[m] == 1 ? "" : "s",
			s->machine_nodes[m]		   ? ":"
			: topo_span_machine_used(t, m) ? " (switches only)"
						       : " (nothing runs there)");
		for (size_t i = 0; i < t->nodes.n; i++)
			if (!t->nodes.v[i].is_host && s->node_machine[i] == (int)m)
				fprintf(out, " %s", t->nodes.v[i].name);
		fprintf(out, "\n");
	}
	if (s->ntunnels || s->nspanning) {
		fprintf(out, "tunnels (VXLAN between the machines' underlay addresses):\n");
		print_tunnels(t, out);
	}
	int part = s->part;
	for (size_t m = 0; m < s->nmachines; m++) {
		struct plan p;
		if (!topo_span_machine_used(t, m))
			continue;
		s->part = (int)m;
		if (plan_build(t, lab, &p, err) < 0) {
			s->part = part;
			return nlab_error_wrap(err, "machine %s", t->machines.v[m].name);
		}
		fprintf(out, "\n=== machine %s ===\n", t->machines.v[m].name);
		plan_print(&p, out);
		plan_free(&p);
	}
	s->part = part;
	return 0;
}

json_object *plan_span_json(struct topology *t, const char *lab, nlab_error **err)
{
	struct topo_span *s = t->span;
	json_object *o = NULL, *ops = json_object_new_array(), *machines = json_object_new_array();
	json_object *tunnels = json_object_new_array();
	int part = s->part;
	int64_t nbridges = 0, nveths = 0;

	for (size_t m = 0; m < s->nmachines; m++) {
		struct plan p;
		char addr[400];
		json_object *jm = json_object_new_object(), *names = json_object_new_array();
		machine_address(&t->machines.v[m], addr, sizeof(addr));
		json_object_object_add(jm, "name", json_object_new_string(t->machines.v[m].name));
		json_object_object_add(jm, "address", json_object_new_string(addr));
		for (size_t i = 0; i < t->nodes.n; i++)
			if (!t->nodes.v[i].is_host && s->node_machine[i] == (int)m)
				json_object_array_add(names, json_object_new_string(t->nodes.v[i].name));
		json_object_object_add(jm, "nodes", names);
		json_object_array_add(machines, jm);
		if (!topo_span_machine_used(t, m))
			continue;
		s->part = (int)m;
		if (plan_build(t, lab, &p, err) < 0) {
			nlab_error_wrap(err, "machine %s", t->machines.v[m].name);
			goto fail;
		}
		json_object *one = plan_json(&p), *arr;
		if (!o) {
			o = one;
			one = NULL;
		}
		json_object *src = one ? one : o;
		if (json_object_object_get_ex(src, "operations", &arr))
			for (size_t k = 0; k < json_object_array_length(arr); k++) {
				json_object *op = json_object_get(json_object_array_get_idx(arr, k));
				json_object_object_add(op, "machine", json_object_new_string(t->machines.v[m].name));
				json_object_array_add(ops, op);
			}
		json_object_put(one);
		nbridges += (int64_t)p.nbridges;
		nveths += (int64_t)p.nveths;
		plan_free(&p);
	}
	s->part = part;
	if (!o) {
		nlab_error_set(err, 0, "no machine has anything to build");
		goto fail;
	}
	for (size_t i = 0; i < t->links.n; i++) {
		if (!s->link_vni[i])
			continue;
		const struct topo_link *l = &t->links.v[i];
		json_object *j = json_object_new_object(), *on = json_object_new_array();
		char name[160];
		snprintf(name, sizeof(name), "%s:%s -- %s:%s", l->a.name, l->a.ifname, l->b.name, l->b.ifname);
		json_object_object_add(j, "link", json_object_new_string(name));
		json_object_object_add(j, "line", json_object_new_int(l->pos.line));
		json_object_object_add(j, "vni", json_object_new_int64(topo_span_link_vni(t, i)));
		json_object_array_add(on, json_object_new_string(t->machines.v[s->node_machine[l->a.index]].name));
		json_object_array_add(on, json_object_new_string(t->machines.v[s->node_machine[l->b.index]].name));
		json_object_object_add(j, "machines", on);
		json_object_array_add(tunnels, j);
	}
	for (size_t w = 0; w < t->switches.n; w++) {
		if (!s->switch_vni[w])
			continue;
		json_object *j = json_object_new_object(), *on = json_object_new_array();
		json_object_object_add(j, "switch", json_object_new_string(t->switches.v[w].name));
		json_object_object_add(j, "line", json_object_new_int(t->switches.v[w].pos.line));
		json_object_object_add(j, "vni", json_object_new_int64(topo_span_switch_vni(t, w)));
		for (size_t m = 0; m < s->nmachines; m++)
			if (s->switch_on[w * s->nmachines + m])
				json_object_array_add(on, json_object_new_string(t->machines.v[m].name));
		json_object_object_add(j, "machines", on);
		json_object_array_add(tunnels, j);
	}
	/* Every machine's bridges, veths and operations. */
	json_object_object_add(o, "switches", json_object_new_int64(nbridges));
	json_object_object_add(o, "links", json_object_new_int64(nveths));
	json_object_object_add(o, "operations", ops);
	json_object_object_add(o, "machines", machines);
	json_object_object_add(o, "tunnels", tunnels);
	json_object_object_add(o, "vxlan_port", json_object_new_int(s->port));
	json_object_object_add(o, "mtu", json_object_new_int(topo_span_mtu(t)));
	return o;
fail:
	s->part = part;
	json_object_put(o);
	json_object_put(ops);
	json_object_put(machines);
	json_object_put(tunnels);
	return NULL;
}
