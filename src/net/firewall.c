#include "net/firewall.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/cleanup.h"
#include "util/fsutil.h"

static const char *const table_names[2] = { "filter", "nat" };

struct nlab_ipt_table *nlab_fw_table(struct nlab_fw_tables *ts, int family, const char *table, nlab_error **err)
{
	int f = family == AF_INET6, k = strcmp(table, "nat") == 0;

	if (!ts->t[f][k] && nlab_ipt_open(&ts->t[f][k], family, table, err) < 0)
		return NULL;
	return ts->t[f][k];
}

int nlab_fw_commit(struct nlab_fw_tables *ts, nlab_error **err)
{
	for (int f = 0; f < 2; f++)
		for (int k = 0; k < 2; k++)
			if (ts->t[f][k] && nlab_ipt_commit(ts->t[f][k], err) < 0)
				return -1;
	return 0;
}

void nlab_fw_close(struct nlab_fw_tables *ts)
{
	for (int f = 0; f < 2; f++)
		for (int k = 0; k < 2; k++) {
			nlab_ipt_close(ts->t[f][k]);
			ts->t[f][k] = NULL;
		}
}

int nlab_fw_remove_tagged(const char *lock_path, const char *tag, const bool used[2][2], nlab_error **err)
{
	int r = 0;
	bool any = false;

	for (int f = 0; f < 2; f++)
		any |= used[f][0] || used[f][1];
	if (!any)
		return 0;
	cleanup_close int lock = nlab_ipt_lock(lock_path, 10000, err);
	if (lock < 0)
		return -1;
	for (int f = 0; f < 2; f++)
		for (int k = 0; k < 2; k++) {
			int family = f ? AF_INET6 : AF_INET;
			struct nlab_ipt_table *tb;
			unsigned gone = 0;

			if (!used[f][k] || !nlab_ipt_table_exists(family, table_names[k]))
				continue;
			if (nlab_ipt_open(&tb, family, table_names[k], err) < 0) {
				r = -1;
				continue;
			}
			if (nlab_ipt_delete_tagged(tb, tag, &gone, err) < 0 || (gone && nlab_ipt_commit(tb, err) < 0))
				r = -1;
			nlab_ipt_close(tb);
		}
	return r;
}

int nlab_fw_remove_tagged_all(const char *lock_path, const char *tag, unsigned *count, nlab_error **err)
{
	static const char *const names[2] = { "/proc/net/ip_tables_names", "/proc/net/ip6_tables_names" };
	char *tables[2];
	int r = 0;

	*count = 0;
	for (int f = 0; f < 2; f++)
		tables[f] = read_file(names[f], 4096, NULL);
	/* No table at all (a namespace no one used iptables in): nothing to
	 * lock for, nothing to read (reading would make the table). */
	bool any = (tables[0] && *tables[0]) || (tables[1] && *tables[1]);
	cleanup_close int lock = any ? nlab_ipt_lock(lock_path, 10000, err) : -1;
	if (any && lock < 0)
		r = -1;
	for (int f = 0; any && lock >= 0 && f < 2; f++) {
		for (char *save = NULL, *w = tables[f] ? strtok_r(tables[f], "\n", &save) : NULL; w;
		     w = strtok_r(NULL, "\n", &save)) {
			struct nlab_ipt_table *tb;
			unsigned gone = 0;
			if (nlab_ipt_open(&tb, f ? AF_INET6 : AF_INET, w, r < 0 ? NULL : err) < 0) {
				r = -1;
				continue;
			}
			if (nlab_ipt_delete_tagged(tb, tag, &gone, r < 0 ? NULL : err) < 0 ||
			    (gone && nlab_ipt_commit(tb, r < 0 ? NULL : err) < 0))
				r = -1;
			*count += gone;
			nlab_ipt_close(tb);
		}
	}
	free(tables[0]);
	free(tables[1]);
	return r;
}

const char *nlab_fw_host_lock_path(void)
{
	const char *p = getenv("XTABLES_LOCKFILE");

	return p && *p ? p : "/run/xtables.lock";
}
