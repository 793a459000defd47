/* A node's PID 1 (runs inside the node): sets up the node's own mounts
 * and hostname, performs the node's commands of the plan on the
 * supervisor's request, reaps orphans, forwards signals, and stops
 * everything with a grace period.  It talks to the supervisor over a
 * SOCK_SEQPACKET pair with the messages of proto/proto.h: READY or
 * SETUP_FAILED, then START -> NODE_READY | LINE_FAILED (node/lines.h),
 * LINE_EXITED later, and STOP (or the supervisor's end closing). */
#ifndef NETLAB_NODE_INIT_H
#define NETLAB_NODE_INIT_H

#include <stdint.h>

#include "plan/plan.h"
#include "topo/model.h"

struct nodefs_top;

struct node_spec {
	const struct topology *t;
	const struct plan *plan;        /* its OP_MOUNT, OP_EXEC and OP_RUN */
	const struct topo_node *node;
	size_t index;                   /* in topology.nodes */
	const char *lab;
	const char *lab_dir;            /* its state directory, /run/netlab/LAB */
	uint32_t uid_base, gid_base;    /* its ID slot (with a user namespace) */
	uint32_t lab_uid, lab_gid;      /* the topology directory's owner, for /lab */
	bool rootless;                  /* in a lab user namespace: node root is the lab's owner already */
	bool tmpl;                      /* its mount namespace is a copy of the lab's template
					 * (supervisor/nodetmpl.c), not of the lab's */
	bool xtables_lock;              /* netlab writes rules in it: make /run/xtables.lock */
	bool ipv6_quiet;                /* no DAD, no router solicitations (below) */
	const struct nodefs_top *tops;  /* rootless: the host's top-level entries (node/nodefs.h) */
	size_t ntops;
	int ctl_fd;             /* this node's end of the control pair */
	int log_fd;             /* stdout/stderr of the node's commands */
	const char *hosts_path; /* generated /etc/hosts, bind-mounted */
	const char *alternatives_path; /* NULL, or the lab's /etc/alternatives
					* with legacy iptables, bind-mounted */
	int grace_ms;
	int64_t line_timeout_ms;        /* the bound of each exec line (`up --timeout`) */
};

/* Runs in the freshly cloned child (already in its new namespaces);
 * never returns. */
__attribute__((noreturn)) void node_init_main(const struct node_spec *spec);

#endif
