/* The in-memory topology: what a .topo file says, after parsing.  Nothing
 * here touches the kernel; the runtime plans from this structure.  It
 * holds neither source text (topo/source.h) nor what failed to parse
 * (topo/broken.h): a topology the runtime sees was valid. */
#ifndef NETLAB_TOPO_MODEL_H
#define NETLAB_TOPO_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "topo/pos.h"
#include "util/vec.h"

#define NLAB_IFNAMSIZ 16        /* IFNAMSIZ: 15 bytes + NUL */
#define NLAB_NAME_MAX 32        /* node, switch and lab names */
/* Most objects a topology may have: a few lines with ranges can ask for
 * millions (20 lines of `node x[1..100000]` took 1 GB to check), far
 * beyond what a machine can run (a node needs a user namespace slot of
 * 65536 IDs, and the supervisor four fds).  Over these, `check` says so
 * instead of trying. */
#define NLAB_MAX_NODES 65536
#define NLAB_MAX_SWITCHES 65536
#define NLAB_MAX_LINKS 262144

struct topo_cidr {
	int family;             /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	int prefixlen;
};

struct topo_ipaddr {
	char ifname[NLAB_IFNAMSIZ];
	struct topo_cidr cidr;
	struct topo_pos pos;            /* of the address */
	struct topo_pos if_pos;         /* of the interface name */
};

struct topo_route {
	bool is_default;
	struct topo_cidr dst;   /* family set even for default */
	bool has_via;
	uint8_t via[16];
	char dev[NLAB_IFNAMSIZ];/* "" when none */
	struct topo_pos pos, via_pos, dev_pos;
};

struct topo_kv {               /* sysctl and env */
	char *key;
	char *value;
	struct topo_pos pos;
};

/* A node's lines, run by its init in file order (docs/topology.md,
 * "Commands"). */
enum topo_cmd_kind {
	TOPO_CMD_EXEC,          /* run, wait for it, fail `up` unless it exits 0 */
	TOPO_CMD_RUN,           /* start and go on */
	TOPO_CMD_WAIT,          /* hold the later lines until a condition holds */
	TOPO_CMD_DHCP,          /* `ip IFACE dhcp`: a DHCP client, held until a lease */
};
enum topo_wait_kind { TOPO_WAIT_TCP, TOPO_WAIT_UDP, TOPO_WAIT_FILE, TOPO_WAIT_EXEC };

#define TOPO_WAIT_DEFAULT_S 30

struct topo_cmd {
	enum topo_cmd_kind kind;
	char *text;             /* exec, run, wait exec: shell text; wait file: the path */
	enum topo_wait_kind wait;
	int port;               /* wait tcp|udp */
	uint32_t timeout_s;     /* wait, dhcp */
	char ifname[NLAB_IFNAMSIZ];     /* dhcp */
	struct topo_pos pos;
};

/* `after NODE...`: this node's lines start once NODE is ready. */
struct topo_after {
	char *name;
	int index;              /* node index, filled by the validator (-1 unknown) */
	struct topo_pos pos;
};

/* `files DIR`: DIR's tree laid over the node's root; at most
 * TOPO_FILES_MAX per node (each is a layer of the node's overlay). */
#define TOPO_FILES_MAX 6
struct topo_files {
	char *dir;              /* as written; absolute after validation when the file's directory is known */
	struct topo_pos pos;
};

enum topo_nat_kind { TOPO_NAT_MASQUERADE, TOPO_NAT_SNAT, TOPO_NAT_DNAT };

struct topo_nat {
	enum topo_nat_kind kind;
	char ifname[NLAB_IFNAMSIZ];     /* outgoing (masq/snat) or incoming (dnat) */
	struct topo_cidr src;           /* snat: source range */
	struct topo_cidr to;            /* snat: new source; dnat: destination (prefixlen = full) */
	int proto;                      /* dnat: IPPROTO_TCP / IPPROTO_UDP */
	int port;                       /* dnat: matched port */
	int to_port;                    /* dnat: new port, 0 = unchanged */
	struct topo_pos pos, if_pos, to_pos;
};

enum topo_chain { TOPO_CHAIN_INPUT, TOPO_CHAIN_OUTPUT, TOPO_CHAIN_FORWARD };
enum topo_action { TOPO_ACT_ACCEPT, TOPO_ACT_DROP, TOPO_ACT_REJECT };

#define TOPO_STATE_NEW         (1u << 0)
#define TOPO_STATE_ESTABLISHED (1u << 1)
#define TOPO_STATE_RELATED     (1u << 2)
#define TOPO_STATE_INVALID     (1u << 3)

struct topo_fw_rule {
	bool is_policy;
	enum topo_chain chain;
	enum topo_action action;
	int proto;                      /* 0 = any, else IPPROTO_* */
	bool has_src, has_dst;
	struct topo_cidr src, dst;
	int sport_lo, sport_hi;         /* 0 = any */
	int dport_lo, dport_hi;
	char in[NLAB_IFNAMSIZ], out[NLAB_IFNAMSIZ];
	unsigned state;                 /* TOPO_STATE_* mask, 0 = any */
	struct topo_pos pos, in_pos, out_pos;
};

struct topo_name_index;

/* `mount SRC DST [ro]` (bind) or `tmpfs DST [SIZE]`. */
struct topo_mount {
	bool tmpfs;
	char *src;                      /* host path; NULL for tmpfs */
	char *dst;                      /* absolute path inside the node's root */
	bool ro;
	uint64_t size;                  /* tmpfs size in bytes, 0 = kernel default */
	struct topo_pos pos, dst_pos;
	struct topo_pos src_pos;        /* of SRC (bind mounts) */
};

struct topo_iface {
	char ifname[NLAB_IFNAMSIZ];
	size_t link;                    /* index in topology.links */
	int end;                        /* 0 = a, 1 = b */
};


struct topo_node {
	char *name;
	struct topo_pos pos;
	bool is_host;                   /* the reserved `node host` block */
	char *hostname;                 /* NULL = node name */
	bool forward;
	struct topo_pos forward_pos;
	VEC(struct topo_ipaddr) addrs;
	VEC(struct topo_route) routes;
	VEC(struct topo_kv) sysctls;
	VEC(struct topo_kv) envs;
	VEC(struct topo_cmd) cmds;
	VEC(struct topo_after) afters;
	VEC(struct topo_files) files;
	VEC(struct topo_nat) nats;
	VEC(struct topo_fw_rule) fw;
	/* Interfaces created by links, filled by the validator (index into
	 * topology.links, and which end). */
	VEC(struct topo_iface) ifaces;
	/* Isolation (docs/isolation.md). */
	bool userns_off;                /* `userns off`: node root is host root */
	struct topo_pos userns_pos;
	/* `ipv6 on|off` of the node (ipv6_set), else the lab's; the
	 * validator folds the lab's in, so ipv6_off is what the init does. */
	bool ipv6_set, ipv6_off;
	struct topo_pos ipv6_pos;
	bool has_user;                  /* `user`: exec/run commands run as */
	char *user;                     /* NAME or UID as written, resolved in the node */
	char *group;                    /* NULL = the user's primary group */
	struct topo_pos user_pos;
	char *rootfs;                   /* absolute host directory, NULL = host's / */
	struct topo_pos rootfs_pos;
	VEC(struct topo_mount) mounts;
	bool has_boottime, has_monotonic;
	int64_t boottime_s, monotonic_s; /* the clock's value when the node starts */
	struct topo_pos boottime_pos, monotonic_pos;
	uint32_t cpu_millis;            /* `cpu`: thousandths of one CPU, 0 = unlimited */
	uint64_t memory_bytes;          /* 0 = unlimited */
	uint32_t pids_max;              /* 0 = the default, TOPO_PIDS_DEFAULT;
					 * TOPO_PIDS_UNLIMITED: `pids max` */
	struct topo_pos cpu_pos, memory_pos, pids_pos;
};

/* Processes and threads of a node without `pids` (docs/isolation.md):
 * far above what a daemon, a router suite or a threaded server uses, far
 * below what exhausts a machine's pid space (pid_max is 32768 by
 * default).  `pids max` lifts it (the limit of all nodes together stays). */
#define TOPO_PIDS_DEFAULT 1024
#define TOPO_PIDS_UNLIMITED UINT32_MAX

enum topo_end_kind { TOPO_END_NODE, TOPO_END_SWITCH, TOPO_END_HOST };

struct topo_end {
	enum topo_end_kind kind;
	char *name;                     /* node or switch name as written */
	char ifname[NLAB_IFNAMSIZ];     /* "" for a switch end */
	int index;                      /* node or switch index, -1 for host */
	struct topo_pos pos;
};

/* What a link with a `host:IFACE` end does with that interface. */
enum topo_link_mode {
	TOPO_LINK_VETH,         /* a veth pair (host end made and named IFACE) */
	TOPO_LINK_MOVE,         /* `move`: the existing host IFACE goes into the node */
	TOPO_LINK_MACVLAN,      /* `macvlan`: a macvlan child of the host IFACE in the node */
	TOPO_LINK_ATTACH,       /* host:IFACE SWITCH: the existing IFACE becomes a switch port */
};

struct topo_link {
	struct topo_end a, b;
	enum topo_link_mode mode;
	struct topo_pos mode_pos;
	int mtu;                        /* 0 = default */
	uint64_t rate_bps;              /* 0 = unlimited */
	uint32_t delay_us, jitter_us;
	uint32_t loss_ppm;              /* parts per million */
	struct topo_pos pos, rate_pos, delay_pos, jitter_pos, loss_pos;
	/* Issue 14: the rate shaper's bucket and queue (0 = derived from
	 * the rate, docs/topology.md), and `capture` (a pcap of the link
	 * while the lab runs). */
	uint64_t burst_bytes, limit_bytes;
	bool capture;
	struct topo_pos burst_pos, limit_pos, capture_pos;
};

/* `expect ...`: what a running lab must do (docs/testing.md). */
enum topo_expect_kind { TOPO_EXPECT_REACH, TOPO_EXPECT_NOREACH, TOPO_EXPECT_EXEC, TOPO_EXPECT_ROUTE };
enum topo_dst_kind { TOPO_DST_NODE, TOPO_DST_IFACE, TOPO_DST_ADDR };

struct topo_expect {
	enum topo_expect_kind kind;
	char *node;                     /* SRC (reach/noreach) or NODE */
	char *text;                     /* the words after `expect`, for reports */
	struct topo_pos pos, node_pos;
	uint32_t within_ms;             /* 0: one short try */
	/* reach, noreach */
	enum topo_dst_kind dst_kind;
	char *dst;                      /* node name (TOPO_DST_NODE, TOPO_DST_IFACE) */
	char dst_if[NLAB_IFNAMSIZ];     /* TOPO_DST_IFACE */
	struct topo_cidr addr;          /* TOPO_DST_ADDR, full prefix length */
	struct topo_pos dst_pos;
	int port;                       /* `tcp PORT`; 0: ICMP echo */
	int family;                     /* `v4`/`v6`: AF_INET/AF_INET6; 0: both */
	struct topo_pos family_pos;
	/* exec */
	char *cmd;                      /* shell text, run as /bin/sh -c */
	/* route */
	struct topo_cidr prefix;        /* `default` is a /0 */
	bool has_via;
	uint8_t via[16];
	struct topo_pos prefix_pos, via_pos;
};

struct topo_switch {
	char *name;
	struct topo_pos pos;
	bool mcast_flood;               /* `multicast flood`: no snooping querier */
	size_t nports;                  /* filled by the validator */
};

/* Issue 18: a lab across machines (docs/multihost.md).  `machine NAME
 * [USER@]HOST [underlay ADDRESS]` says where a machine is, `place NODE...
 * on NAME` pins nodes to it; topo/span.h places the rest and decides what
 * each machine builds, into struct topo_span. */
struct topo_machine {
	char *name;
	char *user;                     /* NULL: ssh's own choice */
	char *host;                     /* what ssh connects to: a name or an address */
	bool has_underlay;
	struct topo_cidr underlay;      /* `underlay ADDRESS` (full prefix length) */
	struct topo_pos pos, host_pos, underlay_pos;
};

struct topo_place {
	char *node;                     /* one node name (a range is expanded) */
	char *machine;
	struct topo_pos pos, machine_pos;
};

/* The address a machine's tunnels start from, as the machine itself
 * reports it at `up` (remote/part.c); family 0 when not known (a dry
 * run). */
struct topo_underlay {
	int family;
	uint8_t addr[16];
	int mtu;                        /* of the interface that has it, 0 = unknown */
};

/* Where everything runs (topo/span.c).  Plain arrays, freed with the
 * topology. */
struct topo_span {
	size_t nmachines;               /* topology.machines.n */
	int *node_machine;              /* per node, `host` included: its machine */
	int *link_machine;              /* per link: the machine it is made on; -1: a tunnel between two */
	bool *switch_on;                /* [sw * nmachines + m]: the switch has a bridge on machine m */
	uint32_t *link_vni;             /* per link: its tunnel's VNI offset + 1, 0 = no tunnel */
	uint32_t *switch_vni;           /* per switch: the same for a switch on several machines */
	size_t ntunnels, nspanning;
	size_t *machine_nodes;          /* per machine: how many nodes it runs */
	/* What `up` sets (cli/up.c, remote/part.c); 0 in a dry run. */
	int part;                       /* the machine plan_build() builds for */
	uint32_t vni_base;              /* VNIs are vni_base + offset */
	uint16_t port;                  /* VXLAN's UDP port */
	int mtu;                        /* lab side of tunnels and spanning switches' ports; 0 = derived */
	struct topo_underlay *underlay; /* per machine */
};

struct topology {
	/* Names compared for "did you mean" so far (topo_nearest_name()):
	 * bounded, so that thousands of unknown names among thousands of
	 * nodes cannot make `check` take minutes. */
	size_t suggest_work;
	char *file;                     /* as given */
	char *dir;                      /* absolute directory of the file */
	char *name;                     /* lab name */
	bool name_explicit;
	struct topo_pos name_pos;
	bool userns_off;                /* `lab NAME userns off`: for every node */
	struct topo_pos userns_pos;     /* of that `userns` */
	bool ipv6_off;                  /* `lab NAME ipv6 off`: nodes without their own `ipv6` */
	struct topo_pos ipv6_pos;       /* of that `ipv6` */
	VEC(struct topo_node) nodes;    /* includes `host` when present */
	VEC(struct topo_switch) switches;
	VEC(struct topo_link) links;
	VEC(struct topo_expect) expects;        /* in file order */
	/* Issue 18: machines (none: the lab runs here), placements, and the
	 * span computed from them (NULL without machines). */
	VEC(struct topo_machine) machines;
	VEC(struct topo_place) places;
	struct topo_span *span;
	/* Hash index over node and switch names (model.c), built as they
	 * are looked up: ranged files have thousands of names. */
	struct topo_name_index *index;
};

void topo_free(struct topology *t);
/* Forget the machines (`up --machines` replaces the file's), and the span. */
void topo_machines_clear(struct topology *t);
void topo_span_free(struct topology *t);
struct topo_node *topo_find_node(const struct topology *t, const char *name);
struct topo_switch *topo_find_switch(const struct topology *t, const char *name);
struct topo_node *topo_host_node(const struct topology *t);
/* The node (nodes) or switch (switches) name nearest to name, for "did you
 * mean"; NULL when none is a plausible typo of it. */
const char *topo_nearest_name(const struct topology *t, const char *name, bool nodes, bool switches);
/* At most this many name comparisons per topology (about 0.2 s); after
 * that, diagnostics come without a suggestion. */
#define TOPO_SUGGEST_WORK 2000000
const struct topo_iface *topo_node_iface(const struct topo_node *n, const char *ifname);
/* Number of nodes that are not `host`. */
size_t topo_count_nodes(const struct topology *t);
/* Whether the node gets its own user namespace (the default). */
bool topo_node_userns(const struct topology *t, const struct topo_node *n);
/* Where a node's IPv6 was turned off: its own `ipv6 off`, or the lab's. */
struct topo_pos topo_node_ipv6_pos(const struct topology *t, const struct topo_node *n);
/* The address family a reach/noreach expectation tries: its `v4`/`v6`,
 * else IPv4 alone from a node with IPv6 off, else 0 (both). */
int topo_expect_family(const struct topology *t, const struct topo_expect *e);

const char *topo_chain_name(enum topo_chain c);
/* Whether the node runs a DHCP client on ifname (any interface: NULL). */
bool topo_node_dhcp(const struct topo_node *n, const char *ifname);

/* Lab names: lowercase letters, digits and '-', 1..32 characters, not
 * starting with '-'. */
int topo_lab_name_valid(const char *name);
/* A node or switch name as the parser accepts it: an ASCII letter, then
 * letters, digits, '-' or '_', at most NLAB_NAME_MAX.  Names read back
 * from state files and command lines are checked with it before they
 * become part of a path. */
bool topo_object_name_valid(const char *name);
/* A valid lab name derived from a file name ("My_Lab.topo" -> "my-lab"). */
void topo_default_lab_name(const char *path, char *buf, size_t len);

#endif
