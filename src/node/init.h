/* A node's PID 1: sets up the node's own mounts and hostname, runs the
 * node's commands on the supervisor's request, reaps orphans, forwards
 * signals, and stops everything with a grace period.
 *
 * Control protocol over a SOCK_SEQPACKET pair (one message per packet):
 *   init -> supervisor  "I" ready | "F <message>" setup failed
 *   supervisor -> init  "E" run the exec lines in order
 *                       -> "e" all succeeded | "x <idx> <wstatus> <log offset>"
 *                       "R" start the run lines -> "r" | "f <idx> <errno>"
 *                       "S" (or the supervisor closing its end): stop and exit */
#ifndef NETLAB_RUNTIME_NODE_H
#define NETLAB_RUNTIME_NODE_H

#include "topo/model.h"

struct node_spec {
	const struct topology *t;
	const struct topo_node *node;
	const char *lab;
	int ctl_fd;             /* this node's end of the control pair */
	int log_fd;             /* stdout/stderr of the node's commands */
	const char *hosts_path; /* generated /etc/hosts, bind-mounted */
	const char *alternatives_path; /* NULL, or the lab's /etc/alternatives
					* with legacy iptables, bind-mounted */
	int grace_ms;
};

/* Runs in the freshly cloned child (already in its new namespaces);
 * never returns. */
__attribute__((noreturn)) void node_init_main(const struct node_spec *spec);

#endif
