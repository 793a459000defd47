#include "lab/undo.h"

#include <errno.h>
#include <string.h>

#include "net/firewall.h"
#include "net/link.h"
#include "net/nlsock.h"
#include "net/sysctl.h"
#include "plan/firewall.h"

int undo_host_links(const struct lab_state *st, nlab_error **err)
{
	struct nlab_nl *nl = NULL;
	int r = 0;

	if (!st->nhost_links)
		return 0;
	if (nlab_nl_open(&nl, err) < 0)
		return -1;
	for (size_t i = 0; i < st->nhost_links; i++) {
		nlab_error *e = NULL;
		int idx = nlab_link_index(nl, st->host_links[i].name, &e);
		nlab_error_free(&e);
		if (idx != st->host_links[i].ifindex)
			continue;
		nlab_link_queue_del(nl, idx, NULL, st->host_links[i].name, NULL);
		if (nlab_nl_flush(nl, &e) < 0 && e && e->errnum != ENODEV && r == 0)
			r = nlab_error_set(err, e->errnum, "remove host interface %s: %s", st->host_links[i].name,
					   e->msg);
		nlab_error_free(&e);
	}
	nlab_nl_close(nl);
	return r;
}

int undo_host_rules(const struct lab_state *st, nlab_error **err)
{
	bool used[2][2] = { { false } };
	char tag[64];

	for (size_t i = 0; i < st->nhost_rules; i++)
		used[st->host_rules[i].family == 6][strcmp(st->host_rules[i].table, "nat") == 0] = true;
	fw_tag(st->lab, tag, sizeof(tag));
	/* Found by their comment: right also after a kill -9 of the
	 * supervisor, and never touching a rule netlab did not add. */
	if (nlab_fw_remove_tagged(nlab_fw_host_lock_path(), tag, used, err) < 0)
		return nlab_error_wrap(err, "remove the host rules of lab %s", st->lab);
	return 0;
}

int undo_host_sysctls(const struct lab_state *st, nlab_error **err)
{
	int r = 0;

	for (size_t i = st->nhost_sysctls; i-- > 0;) {
		char cur[256];
		nlab_error *e = NULL;
		if (nlab_sysctl_read(st->host_sysctls[i].key, cur, sizeof(cur), NULL) == 0 &&
		    strcmp(cur, st->host_sysctls[i].old) != 0 &&
		    nlab_sysctl_write(st->host_sysctls[i].key, st->host_sysctls[i].old, &e) < 0) {
			if (r == 0)
				r = nlab_error_set(err, e->errnum, "restore %s", e->msg);
			nlab_error_free(&e);
		}
	}
	return r;
}
