/* Probes of `netlab test`, run inside a node (after lab_join_node() and a
 * fork, so in all its namespaces) with netlab's own code: ICMP echo over a
 * raw socket, a TCP connect, a read of the routing table over netlink, a
 * shell command.  Nothing is needed in the node, so a busybox root file
 * system without ping or curl is tested like any other. */
#ifndef NETLAB_LAB_PROBE_H
#define NETLAB_LAB_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "topo/model.h"

struct probe_addr {
	int family;
	uint8_t addr[16];
	/* results */
	bool answered;
	char why[160]; /* when not: "timed out", "unreachable (...)" */
};

/* Echo requests to every address at once, repeated every 250 ms, until
 * each answered or timeout_ms passed.  Returns the number that answered,
 * -1 when no socket could be opened (why in err). */
int probe_icmp(struct probe_addr *a, size_t n, int timeout_ms, char *err, size_t errlen);

/* A TCP connect to each address: answered when it was accepted; refused,
 * reset, unreachable or timed out otherwise.  Same returns. */
int probe_tcp(struct probe_addr *a, size_t n, int port, int timeout_ms, char *err, size_t errlen);

/* Does the node's main table have e's prefix (via e's gateway)?  1 yes,
 * 0 no (why says what is there), -1 on error. */
int probe_route(const struct topo_expect *e, char *why, size_t len);

/* Run cmd with /bin/sh -c as uid:gid (when has_user), in dir: 1 when it
 * exited 0, 0 otherwise (why: the status and the end of its output), -1
 * when it could not be run.  Killed after timeout_ms. */
int probe_exec(const char *cmd, const char *dir, bool has_user, uint32_t uid, uint32_t gid, int timeout_ms, char *why,
	       size_t len);

#endif
