/* What a lab does in the namespace netlab was started from (`node host`
 * and host links): each change is journaled in state.json before it is
 * made, so that `down` undoes it even after a crash (lab/undo.c), and
 * only what this lab did is ever undone. */
#include <errno.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* A host end of a veth, made by the links section: journaled with its
 * ifindex (a name alone could be someone else's interface by the time
 * `down` runs), then raised in the host's batch. */
int host_link_up(struct sup *s, const struct plan_op *op, nlab_error **err)
{
	char ctx[64];
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
	if (state_write(&s->st, err) < 0)
		return -1;
	snprintf(ctx, sizeof(ctx), "host:%s up", op->iface.ifname);
	return nlab_link_queue_up(s->host_nl, idx, NULL, ctx, err);
}

/* The old value is saved before the new one is written: a crash in
 * between restores a value that never changed, which is harmless. */
int host_sysctl(struct sup *s, const struct plan_op *op, nlab_error **err)
{
	char old[256];
	int saved = -1, r = -1;

	if (nlab_netns_enter(s->host_netns, &saved, err) < 0)
		return -1;
	if (nlab_sysctl_read(op->sysctl.key, old, sizeof(old), err) < 0)
		goto out;
	struct state_sysctl *v = realloc(s->st.host_sysctls, (s->st.nhost_sysctls + 1) * sizeof(*v));
	if (!v) {
		nlab_error_set(err, ENOMEM, "sysctl");
		goto out;
	}
	s->st.host_sysctls = v;
	v[s->st.nhost_sysctls].key = strdup(op->sysctl.key);
	v[s->st.nhost_sysctls].old = strdup(old);
	s->st.nhost_sysctls++;
	if (state_write(&s->st, err) < 0 || nlab_sysctl_write(op->sysctl.key, op->sysctl.value, err) < 0)
		goto out;
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
