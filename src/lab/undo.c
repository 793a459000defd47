#include "lab/undo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab/hostshare.h"
#include "net/firewall.h"
#include "net/link.h"
#include "net/nlsock.h"
#include "plan/firewall.h"

void undo_link_mark(const char *lab, char *buf, size_t len)
{
	snprintf(buf, len, "netlab:%s", lab);
}

static int delete_link(struct nlab_nl *nl, int idx, const char *name, nlab_error **err)
{
	nlab_error *e = NULL;
	char ctx[64];

	snprintf(ctx, sizeof(ctx), "remove host interface %s", name);
	nlab_link_queue_del(nl, idx, NULL, ctx, NULL);
	if (nlab_nl_flush(nl, &e) < 0 && e && e->errnum != ENODEV) {
		if (err) {
			nlab_error_free(err);
			*err = e;
		} else {
			nlab_error_free(&e);
		}
		return -1;
	}
	nlab_error_free(&e);
	return 0;
}

int undo_host_links(const char *lab, const struct lab_state *st, bool *found, nlab_error **err)
{
	struct nlab_nl *nl = NULL;
	char mark[64];
	int *idx = NULL;
	size_t n = 0;
	int r = 0;

	if (found)
		*found = false;
	if (nlab_nl_open(&nl, err) < 0)
		return -1;
	/* The journal first: a link made but not yet marked (the supervisor
	 * was killed in between) is only there. */
	for (size_t i = 0; st && i < st->nhost_links; i++) {
		nlab_error *e = NULL;
		int k = nlab_link_index(nl, st->host_links[i].name, &e);
		nlab_error_free(&e);
		if (k != st->host_links[i].ifindex)
			continue;
		if (found)
			*found = true;
		if (delete_link(nl, k, st->host_links[i].name, r < 0 ? NULL : err) < 0)
			r = -1;
	}
	undo_link_mark(lab, mark, sizeof(mark));
	/* A dump interrupted by another change of the table is asked again. */
	for (int tries = 0; tries < 5; tries++) {
		nlab_error *e = NULL;
		free(idx);
		if (nlab_link_find_alias(nl, mark, &idx, &n, &e) == 0)
			break;
		if (tries == 4 || e->errnum != EINTR) {
			if (r == 0 && err) {
				nlab_error_free(err);
				*err = e;
			} else {
				nlab_error_free(&e);
			}
			nlab_nl_close(nl);
			return -1;
		}
		nlab_error_free(&e);
	}
	for (size_t i = 0; i < n; i++) {
		char name[32];
		snprintf(name, sizeof(name), "(ifindex %d)", idx[i]);
		if (found)
			*found = true;
		if (delete_link(nl, idx[i], name, r < 0 ? NULL : err) < 0)
			r = -1;
	}
	free(idx);
	nlab_nl_close(nl);
	return r;
}

int undo_host_rules(const char *lab, bool *found, nlab_error **err)
{
	char tag[64];
	unsigned gone = 0;

	fw_tag(lab, tag, sizeof(tag));
	/* Found by their comment: right also after a kill -9 of the
	 * supervisor or with a damaged state, and never touching a rule
	 * netlab did not add. */
	int r = nlab_fw_remove_tagged_all(nlab_fw_host_lock_path(), tag, &gone, err);
	if (found)
		*found = gone > 0;
	if (r < 0)
		return nlab_error_wrap(err, "remove the host rules of lab %s", lab);
	return 0;
}

int undo_host_shares(const char *lab, nlab_error **err)
{
	if (hostshare_release(lab, NULL, err) < 0)
		return nlab_error_wrap(err, "host settings of lab %s", lab);
	return 0;
}
