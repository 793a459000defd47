/* x_tables rules through libiptc / libip6tc: build one entry (header,
 * matches, target) from a plain description, and edit a whole table in
 * memory before committing it to the kernel in one replace.  Everything
 * acts on the network namespace of the calling thread.  No iptables
 * process is involved. */
#ifndef NETLAB_NET_IPTC_H
#define NETLAB_NET_IPTC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

enum nlab_ipt_target {
	NLAB_IPT_ACCEPT,
	NLAB_IPT_DROP,
	NLAB_IPT_REJECT,        /* reject_tcp_reset picks TCP reset or ICMP port unreachable */
	NLAB_IPT_MASQUERADE,
	NLAB_IPT_SNAT,
	NLAB_IPT_DNAT,
};

/* Connection-tracking states (bit values of the conntrack match). */
#define NLAB_CT_NEW         (1u << 0)
#define NLAB_CT_ESTABLISHED (1u << 1)
#define NLAB_CT_RELATED     (1u << 2)
#define NLAB_CT_INVALID     (1u << 3)

struct nlab_ipt_rule {
	int family;                     /* AF_INET or AF_INET6 */
	int proto;                      /* 0 = any */
	bool has_src, has_dst;
	uint8_t src[16], dst[16];
	int src_len, dst_len;           /* prefix lengths */
	int sport_lo, sport_hi;         /* 0 = any (needs proto tcp/udp) */
	int dport_lo, dport_hi;
	char in[16], out[16];           /* "" = any */
	unsigned ct_state;              /* NLAB_CT_* mask, 0 = no conntrack match */
	const char *comment;            /* NULL = no comment match */
	enum nlab_ipt_target target;
	bool reject_tcp_reset;          /* REJECT: TCP reset instead of port unreachable */
	uint8_t to_addr[16];            /* SNAT/DNAT */
	int to_port;                    /* DNAT: 0 = keep */
};

/* Build the entry for `r` into buf (struct ipt_entry or ip6t_entry with
 * its matches and target).  Returns its size, or -1 with *err set (bad
 * rule, or cap too small). */
long nlab_ipt_build(const struct nlab_ipt_rule *r, void *buf, size_t cap, nlab_error **err);
/* The text of the comment match of an entry built above (or read back from
 * the kernel), NULL when it has none. */
const char *nlab_ipt_entry_comment(int family, const void *entry);

/* One table of one family, read from the kernel and edited in memory. */
struct nlab_ipt_table;

int nlab_ipt_open(struct nlab_ipt_table **t, int family, const char *table, nlab_error **err);
void nlab_ipt_close(struct nlab_ipt_table *t);
int nlab_ipt_append(struct nlab_ipt_table *t, const char *chain, const struct nlab_ipt_rule *r,
		    nlab_error **err);
int nlab_ipt_set_policy(struct nlab_ipt_table *t, const char *chain, bool accept, nlab_error **err);
/* Delete every rule of every chain whose comment equals `tag` or starts
 * with `tag` followed by a space; *n counts them. */
int nlab_ipt_delete_tagged(struct nlab_ipt_table *t, const char *tag, unsigned *n, nlab_error **err);
/* Replace the kernel's table by the edited one (atomic). */
int nlab_ipt_commit(struct nlab_ipt_table *t, nlab_error **err);

struct nlab_ipt_seen {
	const char *chain;
	unsigned index;                 /* 1-based position in the chain */
	const char *comment;            /* NULL when none */
	const char *target;
	uint64_t packets, bytes;
};
/* Call fn for every rule, chain by chain, in kernel order. */
int nlab_ipt_foreach(struct nlab_ipt_table *t, void (*fn)(const struct nlab_ipt_seen *, void *), void *arg,
		     nlab_error **err);
/* Policy of a built-in chain with its counters; "" for a user chain. */
int nlab_ipt_get_policy(struct nlab_ipt_table *t, const char *chain, char *verdict, size_t len, uint64_t *packets,
			uint64_t *bytes, nlab_error **err);

/* Whether the table already exists in this netns (reading a missing one
 * would create it). */
bool nlab_ipt_table_exists(int family, const char *table);

/* The xtables lock (flock) that iptables itself takes, so a concurrent
 * iptables command cannot interleave its read-modify-replace with ours.
 * Returns the fd holding the lock; close it to release. */
int nlab_ipt_lock(const char *path, int timeout_ms, nlab_error **err);
/* The same for the lock at PATH inside the root directory rootfd (a
 * node's /proc/PID/root): resolved inside it (openat2 RESOLVE_IN_ROOT),
 * so that a rootfs's `run -> /etc` never makes it land in the host's /etc. */
int nlab_ipt_lock_at(int rootfd, const char *path, int timeout_ms, nlab_error **err);

#endif
