/* Making the lab's nodes (the plan's nodes section) and talking to their
 * inits: ready, the exec and run phases of the commands section, stop. */
#include <alloca.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net/netns.h"
#include "node/init.h"
#include "node/spawn.h"
#include "node/userns.h"
#include "lab/rootless.h"
#include "proto/proto.h"
#include "supervisor/sup.h"
#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/time.h"

static const char *topo_file(const struct sup *s)
{
	return s->t->file;
}

/* ---- ID slots and cgroups ------------------------------------------- */

static char **dup_strv(char *const *v, size_t n)
{
	char **c = calloc(n + 1, sizeof(*c));

	for (size_t i = 0; c && i < n; i++)
		c[i] = strdup(v[i]);
	return c;
}

static bool node_has_limits(const struct topo_node *n)
{
	return n->cpu_millis || n->memory_bytes || (n->pids_max && n->pids_max != TOPO_PIDS_UNLIMITED);
}

/* What the node's cgroups enforce: its statements, and the default pids
 * limit when it has no `pids` (docs/isolation.md). */
static struct cgroup_limits node_limits(const struct topo_node *n)
{
	struct cgroup_limits lim = { .cpu_millis = n->cpu_millis, .memory_bytes = n->memory_bytes };

	if (n->pids_max == 0) {
		lim.pids_max = TOPO_PIDS_DEFAULT;
		lim.pids_default = true;
	} else if (n->pids_max != TOPO_PIDS_UNLIMITED) {
		lim.pids_max = n->pids_max;
	}
	return lim;
}

/* Rootless: no cgroups of netlab's (the validator refused limits; the
 * default ones need a cgroup the user may write, docs/rootless.md), and
 * slots carved from the lab user namespace's IDs, which no other lab
 * shares: no allocation lock. */
static int rootless_prepare(struct sup *s, nlab_error **err)
{
	size_t nuser = 0, k = 0;
	uint32_t base, gbase, gsize;

	for (size_t i = 0; i < s->nnodes; i++)
		nuser += s->st.nodes[i].userns;
	uint32_t ids = s->rl.uids < s->rl.gids ? s->rl.uids : s->rl.gids;
	for (size_t i = 0; i < s->nnodes; i++) {
		if (!s->st.nodes[i].userns)
			continue;
		rootless_slot(ids, nuser, k, &base, &s->id_size);
		rootless_slot(ids, nuser, k++, &gbase, &gsize);
		s->nodes[i].uid_base = s->st.nodes[i].uid_base = base;
		s->nodes[i].gid_base = s->st.nodes[i].gid_base = gbase;
	}
	return state_write(&s->st, err);
}

/* User namespace slots and cgroups of every node, recorded in the state
 * before any node exists: `down` after a crash finds them there, and the
 * slots are taken under the allocation lock (docs/isolation.md). */
int nodes_prepare(struct sup *s, nlab_error **err)
{
	size_t nuser = 0;

	/* Every node gets groups in the pids and memory hierarchies (its
	 * default pids limit, its memory charged to it: node/cgroup.h).  A
	 * machine that has no cgroups for netlab to make (none mounted, or
	 * not writable) keeps only the limits a topology asks for, which are
	 * then errors: nothing asked for is silently dropped. */
	bool limits = false;
	for (size_t i = 0; i < s->nnodes; i++)
		limits |= node_has_limits(s->nodes[i].tn);
	if (s->o->rootless)
		return rootless_prepare(s, err);
	if (cgroup_lab_create(&s->cg, s->o->lab, err) < 0) {
		if (limits)
			return nlab_error_wrap(err, "cgroups of lab %s", s->o->lab);
		nlab_report(NULL, "no cgroups of its own for lab %s (default limits not applied): %s", s->o->lab,
			    (*err)->msg);
		nlab_error_free(err);
		cgroup_remove(s->cg.dirs, s->cg.ndirs);
		cgroup_lab_free(&s->cg);
	}
	s->st.cgroups = dup_strv(s->cg.dirs, s->cg.ndirs);
	s->st.ncgroups = s->st.cgroups ? s->cg.ndirs : 0;
	for (size_t i = 0; i < s->nnodes; i++) {
		struct sup_node *sn = &s->nodes[i];
		const struct topo_node *n = sn->tn;
		nuser += s->st.nodes[i].userns;
		if (!s->cg.ndirs && !node_has_limits(n))
			continue;
		struct cgroup_limits lim = node_limits(n);
		if (cgroup_node_create(&s->cg, n->name, &lim, &sn->cgroups, &sn->ncgroups, err) < 0)
			return nlab_error_wrap(err, "node %s (%s:%d)", n->name, s->t->file, n->pos.line);
		s->st.nodes[i].cgroups = dup_strv(sn->cgroups, sn->ncgroups);
		s->st.nodes[i].ncgroups = s->st.nodes[i].cgroups ? sn->ncgroups : 0;
	}
	if (!nuser)
		return state_write(&s->st, err);
	cleanup_free uint32_t *ub = calloc(nuser, sizeof(*ub));
	cleanup_free uint32_t *gb = calloc(nuser, sizeof(*gb));
	if (!ub || !gb)
		return nlab_error_set(err, ENOMEM, "user namespace slots");
	int lock = userns_lock(err);
	if (lock < 0)
		return -1;
	int r = userns_allocate(s->o->lab, nuser, ub, gb, err);
	for (size_t i = 0, k = 0; r == 0 && i < s->nnodes; i++) {
		if (!s->st.nodes[i].userns)
			continue;
		s->nodes[i].uid_base = s->st.nodes[i].uid_base = ub[k];
		s->nodes[i].gid_base = s->st.nodes[i].gid_base = gb[k++];
	}
	/* Recorded before the lock goes: the next lab sees them taken. */
	if (r == 0)
		r = state_write(&s->st, err);
	userns_unlock(lock);
	return r;
}

/* ---- making nodes --------------------------------------------------- */

/* What a node's init needs, in memory it inherits (the node table does
 * not: see node/spawn.h). */
struct init_arg {
	const struct sup *s;
	const struct topo_node *tn;
	size_t index;
	uint32_t uid_base, gid_base;
};

/* The init: a private copy of memory, on the init stack. */
static void node_init_entry(void *p)
{
	const struct init_arg *a = p;
	const struct sup *s = a->s;
	char hosts[4200];

	snprintf(hosts, sizeof(hosts), "%s/hosts", s->dir);
	struct node_spec spec = {
		.t = s->t, .plan = &s->plan, .node = a->tn, .index = a->index, .lab = s->o->lab, .lab_dir = s->dir,
		.uid_base = a->uid_base, .gid_base = a->gid_base, .lab_uid = s->lab_uid, .lab_gid = s->lab_gid,
		.rootless = s->o->rootless,
		.tops = s->tops,
		.ntops = s->ntops,
		.ctl_fd = 3,
		.log_fd = 4, .hosts_path = hosts, .grace_ms = s->o->grace_ms,
		.line_timeout_ms = (int64_t)s->o->line_timeout_s * 1000,
		.alternatives_path = s->alternatives[0] ? s->alternatives : NULL,
	};
	node_init_main(&spec);
}

/* Start making one node (node/spawn.c). */
static int node_submit(struct sup *s, struct spawner *sp, struct sup_node *sn, nlab_error **err)
{
	int pair[2];
	char path[4200];

	/* Read too: the init rotates it by copying (node/log.h). */
	snprintf(path, sizeof(path), "%s/logs/%s.log", s->dir, sn->tn->name);
	cleanup_close int log_fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (log_fd < 0)
		return nlab_error_set(err, errno, "open %s", path);
	snprintf(path, sizeof(path), "%s/logs/%s.log.1", s->dir, sn->tn->name);
	sn->log_old = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (sn->log_old < 0)
		return nlab_error_set(err, errno, "open %s", path);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
		return nlab_error_set(err, errno, "socketpair");
	sn->ctl = pair[0];
	cleanup_close int ctl_child = pair[1];
	struct spawn_node_args a = {
		.tn = sn->tn,
		.userns = topo_node_userns(s->t, sn->tn),
		.uid_base = sn->uid_base,
		.gid_base = sn->gid_base,
		.id_size = s->o->rootless ? s->id_size : 0,
		.setgroups_deny = s->o->rootless && !s->rl.setgroups,
		.cgroups = sn->cgroups,
		.ncgroups = sn->ncgroups,
		.ctl = ctl_child,
		.log = log_fd,
		.init = node_init_entry,
		.init_arg = &s->init_args[sn - s->nodes],
	};
	return spawner_submit(sp, &a, sn, err);
}

/* A node's init exists: the handles the supervisor keeps on it. */
static int node_started(struct sup_node *sn, pid_t pid, nlab_error **err)
{
	sn->pid = pid;
	/* issue 13: without its start time the init would read as "not
	 * running" to every later verb. */
	if (proc_id_of(sn->pid, &sn->init_id) < 0)
		return nlab_error_set(err, errno, "read /proc/%d/stat of the init", (int)sn->pid);
	/* The init is our child (CLONE_PARENT): its pid cannot be reused
	 * before we reap it, so this pidfd is the right process. */
	sn->pidfd = (int)syscall(SYS_pidfd_open, sn->pid, 0);
	if (sn->pidfd < 0)
		return nlab_error_set(err, errno, "pidfd_open %d", (int)sn->pid);
	/* Its network namespace is opened once it reported ready
	 * (init_ready()): an init whose setup fails exits at once, and its
	 * own message says why better than a vanished /proc/PID/ns/net. */
	return 0;
}

/* The init's trees (TREES, supervisor/labfs.c), as soon as it exists:
 * the inits build their roots one at a time (node/init.c) while the
 * supervisor makes the other nodes and the links. */
static int send_trees(struct sup *s, struct sup_node *sn, nlab_error **err)
{
	char path[64];
	int uns = -1;

	/* Rootless: as they are (an idmapped mount of a host file system
	 * needs the host's root); host files then show their owners only
	 * where the lab's namespace maps them (docs/rootless.md). */
	if (!sn->tn->rootfs && topo_node_userns(s->t, sn->tn) && !s->o->rootless) {
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)sn->pid);
		uns = open(path, O_RDONLY | O_CLOEXEC);
		if (uns < 0)
			return nlab_error_set(err, errno, "open %s", path);
	}
	int r = labfs_send_trees(s, sn, uns, sn->ctl, err);
	if (uns >= 0)
		close(uns);
	return r;
}

static __attribute__((noinline)) int start_below_fence(struct sup *s, struct spawner *sp, nlab_error **err)
{
	size_t next = 0, done = 0;
	struct sup_node *sn = NULL;
	pid_t pid = 0;

	while (done < s->nnodes) {
		if (next < s->nnodes && !spawner_full(sp)) {
			sn = &s->nodes[next++];
			if (node_submit(s, sp, sn, err) < 0)
				goto fail;
			continue;
		}
		if (spawner_collect(sp, (void **)&sn, &pid, err) < 0 || node_started(sn, pid, err) < 0 ||
		    send_trees(s, sn, err) < 0)
			goto fail;
		sup_progress(s, "nodes", ++done, s->nnodes);
	}
	return 0;
fail:
	/* The inits already made are recorded, so that teardown stops them. */
	while (spawner_pending(sp)) {
		struct sup_node *other = NULL;
		/* issue 13: no error objects (malloc) while stage 1s run. */
		if (spawner_collect(sp, (void **)&other, &pid, NULL) == 0)
			node_started(other, pid, NULL);
	}
	if (sn)
		nlab_error_wrap(err, "node %s (%s:%d)", sn->tn->name, s->t->file, sn->tn->pos.line);
	return -1;
}

/* Every node's processes (the OP_NODEs, in order).  The loop runs in
 * frames under an unused gap that inits do not inherit (node/spawn.h),
 * out of line so that none of its locals sit in this frame or its
 * callers'. */
__attribute__((noinline)) int nodes_start(struct sup *s, nlab_error **err)
{
	s->init_args = calloc(s->nnodes + 1, sizeof(*s->init_args));
	if (!s->init_args)
		return nlab_error_set(err, ENOMEM, "nodes");
	for (size_t i = 0; i < s->nnodes; i++)
		s->init_args[i] = (struct init_arg){ .s = s, .tn = s->nodes[i].tn, .index = s->nodes[i].index,
						     .uid_base = s->nodes[i].uid_base, .gid_base = s->nodes[i].gid_base };

	char *fence = alloca(2 * (size_t)sysconf(_SC_PAGESIZE));
	struct spawner *sp = spawner_begin((uintptr_t)fence, err);
	if (!sp)
		return -1;
	int r = start_below_fence(s, sp, err);
	spawner_end(sp);
	return r;
}

/* ---- talking to the inits ------------------------------------------- */

/* Wait for one message from every node in `want`; handler returns -1 to
 * abort with *err set. */
typedef int (*reply_fn)(struct sup *s, struct sup_node *sn, const struct proto_msg *m, nlab_error **err);

static int collect(struct sup *s, bool (*want)(const struct sup *, const struct sup_node *), reply_fn fn,
		   int timeout_ms, nlab_error **err)
{
	struct pollfd *p = calloc(s->nnodes + 2, sizeof(*p));
	size_t *map = calloc(s->nnodes + 1, sizeof(*map));
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	int r = 0;

	if (!p || !map) {
		free(p);
		free(map);
		return nlab_error_set(err, ENOMEM, "collect replies");
	}
	for (size_t i = 0; i < s->nnodes; i++)
		s->nodes[i].replied = !want(s, &s->nodes[i]);
	for (;;) {
		size_t n = 0;
		for (size_t i = 0; i < s->nnodes; i++)
			if (!s->nodes[i].replied) {
				p[n] = (struct pollfd){ .fd = s->nodes[i].ctl, .events = POLLIN };
				map[n++] = i;
			}
		if (n == 0)
			break;
		int wait = -1;
		if (deadline) {
			int64_t left = deadline - now_ms();
			if (left <= 0) {
				r = nlab_error_set(err, ETIMEDOUT, "node %s did not answer in %d ms",
						   s->nodes[map[0]].tn->name, timeout_ms);
				break;
			}
			wait = (int)left;
		}
		/* issue 13: a signal or `up` leaving stops the wait (s->abort_fd). */
		p[n] = (struct pollfd){ .fd = s->abort_fd, .events = POLLIN };
		int k = poll(p, n + 1, wait);
		if (k < 0 && errno != EINTR) {
			r = nlab_error_set(err, errno, "poll");
			break;
		}
		if (k > 0 && p[n].revents && sup_check_abort(s, err) < 0) {
			r = -1;
			break;
		}
		for (size_t j = 0; j < n && r == 0; j++) {
			if (!p[j].revents)
				continue;
			struct sup_node *sn = &s->nodes[map[j]];
			struct proto_msg m;
			nlab_error *e = NULL;
			int got = proto_recv(sn->ctl, &m, &e);
			if (got <= 0) {
				r = nlab_error_set(err, 0, "node %s (%s:%d): its init exited unexpectedly%s%s",
						   sn->tn->name, topo_file(s), sn->tn->pos.line, e ? ": " : "",
						   e ? e->msg : "");
				nlab_error_free(&e);
				break;
			}
			sn->replied = true;
			if (m.type == PROTO_SETUP_FAILED) {
				r = nlab_error_set(err, 0, "node %s (%s:%d): setup failed: %s", sn->tn->name,
						   topo_file(s), sn->tn->pos.line, m.text);
				break;
			}
			if (fn && fn(s, sn, &m, err) < 0)
				r = -1;
			proto_close_fds(&m);
		}
		if (r < 0)
			break;
	}
	free(p);
	free(map);
	return r;
}

static bool want_all(const struct sup *s, const struct sup_node *sn)
{
	(void)s;
	(void)sn;
	return true;
}

static int bad_message(const struct sup_node *sn, const struct proto_msg *m, nlab_error **err)
{
	return nlab_error_set(err, EPROTO, "node %s: unexpected message %s", sn->tn->name, proto_type_name(m->type));
}

static int init_ready(struct sup *s, struct sup_node *sn, const struct proto_msg *m, nlab_error **err)
{
	if (m->type != PROTO_READY)
		return bad_message(sn, m, err);
	sn->netns_fd = nlab_netns_open_pid(sn->pid, err);
	if (sn->netns_fd < 0)
		return nlab_error_wrap(err, "node %s (%s:%d)", sn->tn->name, topo_file(s), sn->tn->pos.line);
	return 0;
}

static int init_root(struct sup *s, struct sup_node *sn, const struct proto_msg *m, nlab_error **err)
{
	struct state_node *stn = &s->st.nodes[sn - s->nodes];

	if (m->type != PROTO_ROOT_READY)
		return bad_message(sn, m, err);
	if (m->a[0]) {
		stn->has_user = true;
		stn->uid = (uint32_t)m->a[1];
		stn->gid = (uint32_t)m->a[2];
	}
	/* Its previous log, for rotation: the init's root has no path to it. */
	int lf = sn->log_old;
	sn->log_old = -1;
	int r = proto_send_fds(sn->ctl, PROTO_LOG_OLD, 0, 0, 0, NULL, &lf, 1);
	close(lf);
	if (r < 0)
		return nlab_error_set(err, errno, "node %s: send its log", sn->tn->name);
	/* Its /lab: the topology's directory idmapped through the user
	 * namespace that came with READY (none: as it is). */
	if (!sn->tn->rootfs && labfs_send_lab(s, sn, m->nfds ? m->fds[0] : -1, err) < 0)
		return nlab_error_wrap(err, "node %s (%s:%d): /lab", sn->tn->name, topo_file(s), sn->tn->pos.line);
	return 0;
}

int nodes_wait_ready(struct sup *s, nlab_error **err)
{
	return collect(s, want_all, init_ready, 30000, err);
}

int nodes_wait_root(struct sup *s, nlab_error **err)
{
	return collect(s, want_all, init_root, 30000, err);
}

/* The plan's line of node sn at op index `idx`, or NULL. */
static const struct plan_op *line_at(const struct sup *s, const struct sup_node *sn, int64_t idx)
{
	const struct plan_node_ops *no = &s->plan.nodes[sn->index];

	if (idx < (int64_t)no->cmds || idx >= (int64_t)(no->cmds + no->ncmds))
		return NULL;
	return &s->plan.ops[idx];
}

/* The last lines a failed command wrote (its last `nbytes` bytes of
 * output at most), for the error message: from NODE.log, and from
 * NODE.log.1 when it began before the last rotation (node/log.h). */
static char *log_tail(struct sup *s, const struct sup_node *sn, int64_t nbytes)
{
	char path[4200];
	size_t olen = 0, clen = 0;

	snprintf(path, sizeof(path), "%s/logs/%s.log", s->dir, sn->tn->name);
	cleanup_free char *cur = read_file(path, 2 << 20, &clen);
	snprintf(path, sizeof(path), "%s/logs/%s.log.1", s->dir, sn->tn->name);
	cleanup_free char *old = (int64_t)clen < nbytes ? read_file(path, 2 << 20, &olen) : NULL;
	if (nbytes <= 0 || (!cur && !old))
		return strdup("");
	size_t want = (size_t)nbytes, tl = 0;
	cleanup_free char *text = malloc(olen + clen + 1);
	if (!text)
		return NULL;
	if (old) {
		memcpy(text, old, olen);
		tl = olen;
	}
	if (cur) {
		memcpy(text + tl, cur, clen);
		tl += clen;
	}
	char *from = text + (tl > want ? tl - want : 0);
	tl -= (size_t)(from - text);
	/* Keep the last 10 lines, at most 2000 bytes. */
	int lines = 0;
	size_t start = tl;
	while (start > 0 && tl - start < 2000) {
		if (from[start - 1] == '\n' && start != tl && ++lines >= 10)
			break;
		start--;
	}
	char *out = NULL;
	if (asprintf(&out, "%.*s", (int)(tl - start), from + start) < 0)
		return NULL;
	return out;
}

static void how_it_ended(int wstatus, char *buf, size_t len)
{
	if (WIFEXITED(wstatus))
		snprintf(buf, len, "exit code %d", WEXITSTATUS(wstatus));
	else
		snprintf(buf, len, "signal %d (%s)", WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
}

/* The line as the topology says it: "exec 'false'", "wait tcp 8080",
 * "ip eth0 dhcp". */
#define CMD_SHOWN 300  /* of a long command, in a message: the line says which */

static void line_text(const struct plan_op *op, char *buf, size_t len)
{
	const struct topo_cmd *c = op->cmd;
	static const char *const waits[] = { "tcp", "udp", "file", "exec" };

	switch (op->kind) {
	case OP_DHCP:
		snprintf(buf, len, "ip %s dhcp", c->ifname);
		break;
	case OP_WAIT:
		if (c->wait == TOPO_WAIT_TCP || c->wait == TOPO_WAIT_UDP)
			snprintf(buf, len, "wait %s %d", waits[c->wait], c->port);
		else if (c->wait == TOPO_WAIT_FILE)
			snprintf(buf, len, "wait file %s", c->text);
		else
			snprintf(buf, len, "wait exec '%.*s%s'", CMD_SHOWN, c->text, strlen(c->text) > CMD_SHOWN ? "..." : "");
		break;
	default:
		snprintf(buf, len, "%s '%.*s%s'", plan_op_name(op->kind), CMD_SHOWN, c->text,
			 strlen(c->text) > CMD_SHOWN ? "..." : "");
		break;
	}
}

/* "node a (lab.topo:4): exec 'false' failed with exit code 3; its output
 * ends with: ..." */
int nodes_line_failed(struct sup *s, struct sup_node *sn, const struct proto_msg *m, nlab_error **err)
{
	const struct plan_op *op = line_at(s, sn, m->a[0]);
	char what[1200], how[96];

	if (!op)
		return bad_message(sn, m, err);
	line_text(op, what, sizeof(what));
	if (!m->text[0] && m->a[1] >= 0) {
		how_it_ended((int)m->a[1], how, sizeof(how));
		snprintf(what + strlen(what), sizeof(what) - strlen(what), " failed with %s", how);
	}
	cleanup_free char *tail = log_tail(s, sn, m->a[2]);
	return nlab_error_set(err, 0, "node %s (%s:%d): %s%s%s%s%s", sn->tn->name, topo_file(s), op->line, what,
			      m->text[0] ? " " : "", m->text, tail && *tail ? "; its output ends with:\n" : "",
			      tail ? tail : "");
}

/* A run line's process ended after its node was ready: kept in the
 * state for `status`. */
static int line_exited(struct sup *s, struct sup_node *sn, const struct proto_msg *m, nlab_error **err)
{
	const struct plan_op *op = line_at(s, sn, m->a[0]);
	struct state_node *stn = &s->st.nodes[sn - s->nodes];

	if (!op)
		return bad_message(sn, m, err);
	struct state_exited *v = realloc(stn->exited, (stn->nexited + 1) * sizeof(*v));
	if (!v)
		return nlab_error_set(err, ENOMEM, "exited lines");
	stn->exited = v;
	v[stn->nexited++] = (struct state_exited){ .line = op->line, .wstatus = (int)m->a[1] };
	return state_write_runtime(&s->st, err);
}

/* The nodes each node's lines wait for (OP_AFTER), as counts of nodes not
 * yet ready, and START for every node with none. */
static bool deps_ready(const struct sup *s, const struct sup_node *sn, const bool *ready)
{
	const struct plan_node_ops *no = &s->plan.nodes[sn->index];

	for (size_t i = no->afters; i < no->afters + no->nafters; i++) {
		int j = s->plan.ops[i].after;
		if (j >= 0 && s->by_index[j] && !ready[s->by_index[j] - s->nodes])
			return false;
	}
	return true;
}

int nodes_run_lines(struct sup *s, nlab_error **err)
{
	cleanup_free bool *ready = calloc(s->nnodes + 1, sizeof(*ready));
	cleanup_free bool *started = calloc(s->nnodes + 1, sizeof(*started));
	cleanup_free struct pollfd *p = calloc(s->nnodes + 2, sizeof(*p));
	size_t nready = 0;

	if (!ready || !started || !p)
		return nlab_error_set(err, ENOMEM, "lines");
	while (nready < s->nnodes) {
		for (size_t i = 0; i < s->nnodes; i++)
			if (!started[i] && deps_ready(s, &s->nodes[i], ready)) {
				started[i] = true;
				if (proto_send(s->nodes[i].ctl, PROTO_START, 0, 0, 0, NULL) < 0)
					return nlab_error_set(err, errno, "node %s: start its lines", s->nodes[i].tn->name);
			}
		for (size_t i = 0; i < s->nnodes; i++)
			p[i] = (struct pollfd){ .fd = s->nodes[i].ctl, .events = POLLIN };
		/* A signal or `up` leaving stops the wait (s->abort_fd); the
		 * lines' own bounds are the inits'. */
		p[s->nnodes] = (struct pollfd){ .fd = s->abort_fd, .events = POLLIN };
		if (poll(p, s->nnodes + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return nlab_error_set(err, errno, "poll");
		}
		if (p[s->nnodes].revents && sup_check_abort(s, err) < 0)
			return -1;
		for (size_t i = 0; i < s->nnodes; i++) {
			struct sup_node *sn = &s->nodes[i];
			struct proto_msg m;
			nlab_error *e = NULL;
			if (!p[i].revents)
				continue;
			int got = proto_recv(sn->ctl, &m, &e);
			if (got <= 0) {
				nlab_error_set(err, 0, "node %s (%s:%d): its init exited unexpectedly%s%s", sn->tn->name,
					       topo_file(s), sn->tn->pos.line, e ? ": " : "", e ? e->msg : "");
				nlab_error_free(&e);
				return -1;
			}
			switch (m.type) {
			case PROTO_NODE_READY:
				if (!ready[i]) {
					ready[i] = true;
					nready++;
					sup_progress(s, "commands", nready, s->nnodes);
				}
				break;
			case PROTO_LINE_FAILED:
				return nodes_line_failed(s, sn, &m, err);
			case PROTO_LINE_EXITED:
				if (line_exited(s, sn, &m, err) < 0)
					return -1;
				break;
			default:
				return bad_message(sn, &m, err);
			}
		}
	}
	/* From now on `netlab restart` may stop and start them again. */
	for (size_t i = 0; i < s->nnodes; i++)
		s->nodes[i].ready = true;
	return 0;
}

int nodes_message(struct sup *s, struct sup_node *sn, nlab_error **err)
{
	struct proto_msg m;
	int got = proto_recv(sn->ctl, &m, err);

	if (got <= 0)
		return got < 0 ? -1 : 0;
	if (m.type == PROTO_LINE_EXITED)
		return line_exited(s, sn, &m, err) < 0 ? -1 : 1;
	if (sn->restart != RESTART_NONE)
		return restart_message(s, sn, &m, err);
	return bad_message(sn, &m, err);
}

/* ---- stopping ------------------------------------------------------- */

void nodes_stop(struct sup *s)
{
	int64_t deadline = now_ms() + s->o->grace_ms + 2000;

	for (size_t i = 0; i < s->nnodes; i++)
		if (s->nodes[i].pid > 0 && !s->nodes[i].exited)
			proto_send(s->nodes[i].ctl, PROTO_STOP, 0, 0, 0, NULL);
	for (size_t i = 0; i < s->nnodes; i++) {
		struct sup_node *sn = &s->nodes[i];
		if (sn->pid <= 0 || sn->exited)
			continue;
		int64_t left = deadline - now_ms();
		struct pollfd p = { .fd = sn->pidfd, .events = POLLIN };
		if (left <= 0 || poll(&p, 1, (int)(left > 0 ? left : 0)) == 0)
			syscall(SYS_pidfd_send_signal, sn->pidfd, SIGKILL, NULL, 0);
		TEMP_FAILURE_RETRY(waitpid(sn->pid, NULL, 0));
		sn->exited = true;
	}
}

/* An init died while the lab was up (killed from outside, or by the OOM
 * killer): the node is dead; `status` says how, `test` fails. */
void nodes_reaped(struct sup *s, pid_t pid, int status)
{
	for (size_t i = 0; i < s->nnodes; i++) {
		struct sup_node *sn = &s->nodes[i];
		struct state_node *stn = &s->st.nodes[i];
		char how[96];
		if (sn->pid != pid)
			continue;
		sn->exited = true;
		stn->died = true;
		stn->died_wstatus = status;
		stn->died_at = (int64_t)time(NULL);
		stn->oom_kills = cgroup_oom_kills(sn->cgroups, sn->ncgroups);
		how_it_ended(status, how, sizeof(how));
		nlab_report(NULL, "node %s: its init died (%s; the OOM killer killed %llu of the node's processes)",
			    sn->tn->name, how, (unsigned long long)stn->oom_kills);
		nlab_error *err = NULL;
		if (state_write_runtime(&s->st, &err) < 0)
			nlab_error_print(NULL, &err);
		restart_node_died(s, sn);
	}
}
