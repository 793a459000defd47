/* What a lab does in the namespace netlab was started from (`node host`
 * and host links): checked before anything is made (host_verify), each
 * change journaled in state.json (or, for shared settings, in the host
 * record of lab/hostshare.h) and marked before or as it is made, so that
 * `down` undoes it even after a crash (lab/undo.c), and only what this
 * lab did is ever undone. */
#include <errno.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/hostshare.h"
#include "lab/undo.h"
#include "net/firewall.h"
#include "net/link.h"
#include "net/netns.h"
#include "net/sysctl.h"
#include "supervisor/sup.h"
#include "util/cleanup.h"

int host_resolve_ifindex(struct sup *s, const char *ifname, nlab_error **err)
{
	return nlab_link_index(s->host_nl, ifname, err);
}

/* ---- before anything: what the host must have ------------------------ */

/* Is ifname the host end of one of the lab's links (made by `up`)? */
static bool lab_host_end(const struct sup *s, const char *ifname)
{
	const struct plan *p = &s->plan;

	for (size_t i = p->sec[PLAN_SEC_HOST]; i < p->sec[PLAN_SEC_HOST + 1]; i++)
		if (p->ops[i].kind == OP_LINK_UP && !strcmp(p->ops[i].iface.ifname, ifname))
			return true;
	return false;
}

/* The interface of "net.ipv4.conf.IF.forwarding", or "" for all/default
 * and keys that name none. */
static void sysctl_iface(const char *key, char *buf, size_t len)
{
	const char *p = NULL;

	buf[0] = '\0';
	if (!strncmp(key, "net.ipv4.conf.", 14))
		p = key + 14;
	else if (!strncmp(key, "net.ipv6.conf.", 14))
		p = key + 14;
	else if (!strncmp(key, "net.ipv4.neigh.", 15) || !strncmp(key, "net.ipv6.neigh.", 15))
		p = key + 15;
	if (!p)
		return;
	size_t n = strcspn(p, ".");
	if (n < len && p[n] == '.')
		snprintf(buf, len, "%.*s", (int)n, p);
	if (!strcmp(buf, "all") || !strcmp(buf, "default"))
		buf[0] = '\0';
}

static int need_iface(struct sup *s, const char *ifname, const char *what, int line, nlab_error **err)
{
	nlab_error *e = NULL;

	if (!ifname || !ifname[0] || lab_host_end(s, ifname))
		return 0;
	int r = nlab_link_exists(s->host_nl, ifname, &e);
	if (r == 1)
		return 0;
	if (r < 0) {
		nlab_error_free(err);
		*err = e;
		return nlab_error_wrap(err, "host: %s (%s:%d)", what, s->t->file, line);
	}
	return nlab_error_set(err, ENODEV,
			      "node host (%s:%d): %s names interface %s, which the host does not have (and no link of "
			      "the lab makes)",
			      s->t->file, line, what, ifname);
}

int host_verify(struct sup *s, nlab_error **err)
{
	const struct plan *p = &s->plan;

	for (size_t i = p->sec[PLAN_SEC_HOST]; i < p->sec[PLAN_SEC_HOST + 1]; i++) {
		const struct plan_op *op = &p->ops[i];
		char ifname[NLAB_IFNAMSIZ + 16];
		int r = 0;
		switch (op->kind) {
		case OP_ADDR:
			r = need_iface(s, op->iface.ifname, "ip", op->line, err);
			break;
		case OP_ROUTE:
			r = need_iface(s, op->iface.ifname, "route dev", op->line, err);
			break;
		case OP_SYSCTL:
			sysctl_iface(op->sysctl.key, ifname, sizeof(ifname));
			r = need_iface(s, ifname, "sysctl", op->line, err);
			break;
		case OP_FW_RULE: {
			const struct fw_rule *fr = &p->fw.rules[op->fw];
			const char *what = !strcmp(fr->table, "nat") ? "nat" : "firewall";
			r = need_iface(s, fr->r.in, what, op->line, err);
			if (r == 0)
				r = need_iface(s, fr->r.out, what, op->line, err);
			break;
		}
		default:
			break;
		}
		if (r < 0)
			return -1;
	}
	return 0;
}

/* ---- the host ends of links ----------------------------------------- */

/* Right after the links section made them (made in the lab namespace and
 * moved to the host with their alias "netlab:LAB", supervisor/apply.c):
 * each host end is journaled with its ifindex too (a name alone could be
 * someone else's interface by the time `down` runs). */
int host_links_mark(struct sup *s, nlab_error **err)
{
	const struct plan *p = &s->plan;
	size_t n0 = s->st.nhost_links;

	for (size_t i = p->sec[PLAN_SEC_HOST]; i < p->sec[PLAN_SEC_HOST + 1]; i++) {
		const struct plan_op *op = &p->ops[i];
		if (op->kind != OP_LINK_UP)
			continue;
		int idx = host_resolve_ifindex(s, op->iface.ifname, err);
		if (idx < 0)
			return nlab_error_wrap(err, "host:%s", op->iface.ifname);
		struct state_host_link *v = realloc(s->st.host_links, (s->st.nhost_links + 1) * sizeof(*v));
		if (!v)
			return nlab_error_set(err, ENOMEM, "host links");
		s->st.host_links = v;
		snprintf(v[s->st.nhost_links].name, sizeof(v->name), "%s", op->iface.ifname);
		v[s->st.nhost_links].ifindex = idx;
		s->st.nhost_links++;
	}
	return s->st.nhost_links == n0 ? 0 : state_write(&s->st, err);
}

/* A host end, raised in the host's batch (journaled and marked by
 * host_links_mark()). */
int host_link_up(struct sup *s, const struct plan_op *op, nlab_error **err)
{
	char ctx[64];

	for (size_t i = 0; i < s->st.nhost_links; i++)
		if (!strcmp(s->st.host_links[i].name, op->iface.ifname)) {
			snprintf(ctx, sizeof(ctx), "host:%s up", op->iface.ifname);
			return nlab_link_queue_up(s->host_nl, s->st.host_links[i].ifindex, NULL, ctx, err);
		}
	return nlab_error_set(err, ENODEV, "host:%s: not made by the links section", op->iface.ifname);
}

/* A host sysctl is a shared host setting (lab/hostshare.h): the first lab
 * to need it saves the original value, the last to leave restores it.
 * The state records which ones this lab holds. */
int host_sysctl(struct sup *s, const struct plan_op *op, nlab_error **err)
{
	int saved = -1, r = -1;

	struct state_sysctl *v = realloc(s->st.host_sysctls, (s->st.nhost_sysctls + 1) * sizeof(*v));
	if (!v)
		return nlab_error_set(err, ENOMEM, "sysctl");
	s->st.host_sysctls = v;
	v[s->st.nhost_sysctls].key = strdup(op->sysctl.key);
	v[s->st.nhost_sysctls].value = strdup(op->sysctl.value);
	s->st.nhost_sysctls++;
	if (state_write(&s->st, err) < 0)
		return -1;
	if (nlab_netns_enter(s->host_netns, &saved, err) < 0)
		return -1;
	if (hostshare_sysctl(s->o->lab, op->sysctl.key, op->sysctl.value, NULL, err) < 0) {
		nlab_error_wrap(err, "host: sysctl (%s:%d)", s->t->file, op->line);
		goto out;
	}
	r = 0;
out:
	if (nlab_netns_leave(&saved, r < 0 ? NULL : err) < 0)
		r = -1;
	return r;
}

static int apply_host_rules(struct sup *s, const struct plan_op *ops, size_t n, nlab_error **err)
{
	struct nlab_fw_tables ts = { 0 };
	bool seen[2][2] = { { false } };
	char tag[64];
	int r = -1;

	/* Recorded before they exist: after a crash in between, `down`
	 * looks for rules that are not there, which is harmless. */
	struct state_host_rule *v = realloc(s->st.host_rules, (s->st.nhost_rules + n) * sizeof(*v));
	if (!v)
		return nlab_error_set(err, ENOMEM, "host rules");
	s->st.host_rules = v;
	for (size_t i = 0; i < n; i++) {
		if (ops[i].kind != OP_FW_RULE)
			continue;
		const struct fw_rule *fr = &s->plan.fw.rules[ops[i].fw];
		struct state_host_rule *h = &s->st.host_rules[s->st.nhost_rules++];
		h->family = fr->r.family == AF_INET ? 4 : 6;
		snprintf(h->table, sizeof(h->table), "%s", fr->table);
		snprintf(h->chain, sizeof(h->chain), "%s", fr->chain);
		h->comment = strdup(fr->comment);
	}
	if (state_write(&s->st, err) < 0)
		return -1;
	cleanup_close int lock = nlab_ipt_lock(nlab_fw_host_lock_path(), 10000, err);
	if (lock < 0)
		return -1;
	fw_tag(s->o->lab, tag, sizeof(tag));
	for (size_t i = 0; i < n; i++) {
		const struct plan_op *op = &ops[i];
		struct nlab_ipt_table *tb;
		if (op->kind != OP_FW_RULE)
			continue;
		const struct fw_rule *fr = &s->plan.fw.rules[op->fw];
		int f = fr->r.family == AF_INET6, k = strcmp(fr->table, "nat") == 0;
		unsigned gone;
		if (!(tb = nlab_fw_table(&ts, fr->r.family, fr->table, err)))
			goto out;
		/* Rules a crashed earlier run of this lab left behind go first. */
		if (!seen[f][k] && nlab_ipt_delete_tagged(tb, tag, &gone, err) < 0)
			goto out;
		seen[f][k] = true;
		if (nlab_ipt_append(tb, fr->chain, &fr->r, err) < 0) {
			nlab_error_wrap(err, "%s:%d", s->t->file, op->line);
			goto out;
		}
	}
	r = nlab_fw_commit(&ts, err);
out:
	nlab_fw_close(&ts);
	return r;
}

int host_rules(struct sup *s, const struct plan_op *ops, size_t n, nlab_error **err)
{
	int saved = -1;

	if (nlab_netns_enter(s->host_netns, &saved, err) < 0)
		return -1;
	int r = apply_host_rules(s, ops, n, err);
	if (nlab_netns_leave(&saved, r < 0 ? NULL : err) < 0)
		r = -1;
	return r < 0 ? nlab_error_wrap(err, "host: firewall") : 0;
}
