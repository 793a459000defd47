/* Applying x_tables rules in the calling thread's network namespace: the
 * tables a batch touches are each read once, edited in memory and
 * committed in one replace (net/iptc.h), under the xtables lock that
 * iptables itself takes. */
#ifndef NETLAB_NET_FIREWALL_H
#define NETLAB_NET_FIREWALL_H

#include <stdbool.h>

#include "net/iptc.h"
#include "util/error.h"

/* The four tables a batch may touch, opened on first use. */
struct nlab_fw_tables {
	struct nlab_ipt_table *t[2][2]; /* [v6][nat] */
};

/* family AF_INET or AF_INET6, table "filter" or "nat". */
struct nlab_ipt_table *nlab_fw_table(struct nlab_fw_tables *ts, int family, const char *table, nlab_error **err);
/* Commit every table opened so far. */
int nlab_fw_commit(struct nlab_fw_tables *ts, nlab_error **err);
void nlab_fw_close(struct nlab_fw_tables *ts);

/* Delete, under the lock at lock_path, every rule tagged `tag` (see
 * nlab_ipt_delete_tagged) from the tables marked in used[v6][nat];
 * tables that do not exist are not read (reading would create them). */
int nlab_fw_remove_tagged(const char *lock_path, const char *tag, const bool used[2][2], nlab_error **err);

/* The same for every table of both families that exists (as listed in
 * /proc/net/ip{,6}_tables_names); *n counts the rules removed. */
int nlab_fw_remove_tagged_all(const char *lock_path, const char *tag, unsigned *n, nlab_error **err);

/* The host's xtables lock: $XTABLES_LOCKFILE or /run/xtables.lock. */
const char *nlab_fw_host_lock_path(void);

#endif
