/* Making the lab's nodes (the plan's nodes section) and talking to their
 * inits: ready, the exec and run phases of the commands section, stop. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
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

/* ---- making nodes --------------------------------------------------- */

/* Send one node to the lab's spawner (nodespawn.c): its view, its log and
 * its socket (supervisor/nodech.c); the supervisor keeps neither. */
static int node_submit(struct sup *s, struct sup_node *sn, nlab_error **err)
{
	char path[4200];

	/* Read too: the init rotates it by copying (node/log.h). */
	snprintf(path, sizeof(path), "%s/logs/%s.log", s->dir, sn->tn->name);
	cleanup_close int log_fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (log_fd < 0)
		return nlab_error_set(err, errno, "open %s", path);
	cleanup_close int ctl_child = nodech_node_socket(s, sn, err);
	if (ctl_child < 0)
		return -1;
	/* Its own groups, and the lab's memory group when it has no memory
	 * group of its own (node/cgroup.h). */
	char *groups[8];
	size_t ngroups = 0;
	const char *labmem = s->st.memory_group;
	bool ownmem = false;
	for (size_t i = 0; i < sn->ncgroups && ngroups < 7; i++) {
		groups[ngroups++] = sn->cgroups[i];
		ownmem |= labmem && !strncmp(sn->cgroups[i], labmem, strlen(labmem));
	}
	if (labmem && !ownmem)
		groups[ngroups++] = (char *)labmem;
	size_t size;
	struct node_view *v = initview_pack(s, sn, groups, ngroups, &size, err);
	if (!v)
		return -1;
	int r = nodespawn_submit(s, (size_t)(sn - s->nodes), v, size, ctl_child, log_fd, err);
	free(v);
	return r;
}

/* A node's init exists.  It is our child (CLONE_PARENT): its pid is its
 * own until we reap it, which is all the handle the supervisor keeps. */
static int node_started(struct sup_node *sn, pid_t pid, nlab_error **err)
{
	sn->pid = pid;
	/* issue 13: without its start time the init would read as "not
	 * running" to every later verb. */
	if (proc_id_of(sn->pid, &sn->init_id) < 0)
		return nlab_error_set(err, errno, "read /proc/%d/stat of the init", (int)sn->pid);
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
	int r = labfs_send_trees(s, sn, uns, err);
	if (uns >= 0)
		close(uns);
	return r;
}

/* Every node's processes (the OP_NODEs, in order), made by the lab's
 * spawner: up to SPAWN_DEPTH nodes in its hands at once, while this
 * process opens the next ones' files and sends the made ones their
 * trees. */
int nodes_start(struct sup *s, nlab_error **err)
{
	size_t next = 0, done = 0, pending = 0;
	struct sup_node *sn = NULL;
	int64_t index;
	pid_t pid = 0;

	if (nodespawn_start(s, err) < 0)
		return -1;
	while (done < s->nnodes) {
		if (next < s->nnodes && pending < SPAWN_DEPTH) {
			sn = &s->nodes[next++];
			if (node_submit(s, sn, err) < 0)
				goto fail;
			pending++;
			continue;
		}
		int r = nodespawn_collect(s, &index, &pid, err);
		pending--;
		sn = index >= 0 && (size_t)index < s->nnodes ? &s->nodes[index] : NULL;
		if (r < 0 || !sn)
			goto fail;
		if (node_started(sn, pid, err) < 0 || send_trees(s, sn, err) < 0)
			goto fail;
		sup_progress(s, "nodes", ++done, s->nnodes);
	}
	nodespawn_end(s);
	return 0;
fail:
	/* The inits already made are recorded, so that teardown stops them. */
	while (pending--) {
		if (nodespawn_collect(s, &index, &pid, NULL) == 0 && index >= 0 && (size_t)index < s->nnodes)
			node_started(&s->nodes[index], pid, NULL);
	}
	nodespawn_end(s);
	if (sn)
		nlab_error_wrap(err, "node %s (%s:%d)", sn->tn->name, s->t->file, sn->tn->pos.line);
	else
		nlab_error_wrap(err, "making the nodes");
	return -1;
}

/* ---- talking to the inits ------------------------------------------- */

/* Wait for one message from every node in `want`; handler returns -1 to
 * abort with *err set. */
typedef int (*reply_fn)(struct sup *s, struct sup_node *sn, const struct proto_msg *m, nlab_error **err);

static int bad_message(const struct sup_node *sn, const struct proto_msg *m, nlab_error **err);

static int died(const struct sup *s, const struct sup_node *sn, nlab_error **err)
{
	return nlab_error_set(err, 0, "node %s (%s:%d): its init exited unexpectedly", sn->tn->name, topo_file(s),
			      sn->tn->pos.line);
}

/* What the supervisor waits on while nodes are busy: its inits' socket,
 * SIGCHLD (one that dies) and the abort channel (a signal, or `up`
 * gone).  -1 with *err on a death, an abort or a poll failure; else the
 * poll's events of the socket. */
static int wait_nodes(struct sup *s, int timeout_ms, bool (*pending)(const struct sup_node *), nlab_error **err)
{
	struct pollfd p[3] = { { .fd = s->ctl, .events = POLLIN },
			       { .fd = s->chld_fd, .events = POLLIN },
			       { .fd = s->abort_fd, .events = POLLIN } };
	int k = poll(p, 3, timeout_ms);

	if (k < 0)
		return errno == EINTR ? 0 : nlab_error_set(err, errno, "poll");
	if (p[2].revents && sup_check_abort(s, err) < 0)
		return -1;
	if (p[1].revents) {
		nodes_reap(s);
		for (size_t i = 0; i < s->nnodes; i++)
			if (s->nodes[i].exited && pending(&s->nodes[i]))
				return died(s, &s->nodes[i], err);
	}
	return p[0].revents;
}

static bool not_replied(const struct sup_node *sn)
{
	return !sn->replied;
}

/* One node's answer in a collect. */
static int reply(struct sup *s, struct sup_node *sn, const struct proto_msg *m, reply_fn fn, nlab_error **err)
{
	sn->replied = true;
	if (m->type == PROTO_SETUP_FAILED)
		return nlab_error_set(err, 0, "node %s (%s:%d): setup failed: %s", sn->tn->name, topo_file(s),
				      sn->tn->pos.line, m->text);
	return fn ? fn(s, sn, m, err) : 0;
}

/* Wait for one message from every node in `want`; handler returns -1 to
 * abort with *err set. */
static int collect(struct sup *s, bool (*want)(const struct sup *, const struct sup_node *), reply_fn fn,
		   int timeout_ms, nlab_error **err)
{
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	size_t left = 0;

	for (size_t i = 0; i < s->nnodes; i++) {
		s->nodes[i].replied = !want(s, &s->nodes[i]);
		left += !s->nodes[i].replied;
	}
	/* What came early, first. */
	for (size_t i = 0; i < s->nnodes; i++) {
		struct sup_node *sn = &s->nodes[i];
		struct proto_msg *m = sn->early;
		if (!m || sn->replied)
			continue;
		sn->early = NULL;
		int r = reply(s, sn, m, fn, err);
		proto_close_fds(m);
		free(m);
		left--;
		if (r < 0)
			return -1;
	}
	while (left) {
		int wait = -1;
		if (deadline) {
			int64_t ms = deadline - now_ms();
			if (ms <= 0) {
				size_t i = 0;
				while (i < s->nnodes && s->nodes[i].replied)
					i++;
				return nlab_error_set(err, ETIMEDOUT, "node %s did not answer in %d ms",
						      s->nodes[i].tn->name, timeout_ms);
			}
			wait = (int)ms;
		}
		int ev = wait_nodes(s, wait, not_replied, err);
		if (ev < 0)
			return -1;
		/* Every message that is there (the socket does not block). */
		while (ev && left) {
			struct sup_node *sn;
			struct proto_msg m;
			int got = nodech_recv(s, &sn, &m, err);
			if (got == 0)
				break;
			if (got < 0)
				return nlab_error_wrap(err, "from the nodes");
			if (sn->replied && !sn->early && m.type != PROTO_SETUP_FAILED) {
				/* Its answer to the next phase: kept. */
				sn->early = malloc(sizeof(m));
				if (!sn->early) {
					proto_close_fds(&m);
					return nlab_error_set(err, ENOMEM, "node %s", sn->tn->name);
				}
				*sn->early = m;
				continue;
			}
			int r = sn->replied ? bad_message(sn, &m, err) : reply(s, sn, &m, fn, err);
			left--;
			proto_close_fds(&m);
			if (r < 0)
				return -1;
		}
	}
	return 0;
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
	(void)s;
	return m->type == PROTO_READY ? 0 : bad_message(sn, m, err);
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
	/* Its previous log, for rotation: the init's root has no path to
	 * it.  Opened only now, so that no node costs the supervisor an fd
	 * for longer than a message. */
	char path[4400];
	snprintf(path, sizeof(path), "%s/logs/%s.log.1", s->dir, sn->tn->name);
	int lf = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lf < 0)
		return nlab_error_set(err, errno, "open %s", path);
	int r = nodech_send(s, sn, PROTO_LOG_OLD, 0, 0, 0, NULL, &lf, 1);
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
/* The node's line k (0: its first), as its init numbers them: the init
 * sees only its own operations (initview.c). */
static const struct plan_op *line_at(const struct sup *s, const struct sup_node *sn, int64_t k)
{
	const struct plan_node_ops *no = &s->plan.nodes[sn->index];

	if (k < 0 || k >= (int64_t)no->ncmds)
		return NULL;
	return &s->plan.ops[no->cmds + (size_t)k];
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

static bool lines_running(const struct sup_node *sn)
{
	return !sn->replied;
}

/* Start every node not started yet whose `after` nodes are ready. */
static int start_lines(struct sup *s, bool *started, const bool *ready, size_t *waiting, size_t nwaiting,
		       size_t *left, nlab_error **err)
{
	size_t keep = 0;

	for (size_t k = 0; k < nwaiting; k++) {
		struct sup_node *sn = &s->nodes[waiting[k]];
		if (!deps_ready(s, sn, ready)) {
			waiting[keep++] = waiting[k];
			continue;
		}
		started[waiting[k]] = true;
		if (nodech_send(s, sn, PROTO_START, 0, 0, 0, NULL, NULL, 0) < 0)
			return nlab_error_set(err, errno, "node %s: start its lines", sn->tn->name);
	}
	*left = keep;
	return 0;
}

int nodes_run_lines(struct sup *s, nlab_error **err)
{
	cleanup_free bool *ready = calloc(s->nnodes + 1, sizeof(*ready));
	cleanup_free bool *started = calloc(s->nnodes + 1, sizeof(*started));
	cleanup_free size_t *waiting = calloc(s->nnodes + 1, sizeof(*waiting));
	size_t nready = 0, nwaiting = s->nnodes;

	if (!ready || !started || !waiting)
		return nlab_error_set(err, ENOMEM, "lines");
	for (size_t i = 0; i < s->nnodes; i++) {
		waiting[i] = i;
		s->nodes[i].replied = false; /* here: its lines are done */
	}
	if (start_lines(s, started, ready, waiting, nwaiting, &nwaiting, err) < 0)
		return -1;
	while (nready < s->nnodes) {
		/* A signal or `up` leaving stops the wait; the lines' own
		 * bounds are the inits'. */
		int ev = wait_nodes(s, -1, lines_running, err);
		if (ev < 0)
			return -1;
		bool more = false;
		while (ev) {
			struct sup_node *sn;
			struct proto_msg m;
			int got = nodech_recv(s, &sn, &m, err);
			if (got == 0)
				break;
			if (got < 0)
				return -1;
			size_t i = (size_t)(sn - s->nodes);
			switch (m.type) {
			case PROTO_NODE_READY:
				if (!ready[i]) {
					ready[i] = sn->replied = more = true;
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
		if (more && nwaiting && start_lines(s, started, ready, waiting, nwaiting, &nwaiting, err) < 0)
			return -1;
	}
	/* From now on `netlab restart` may stop and start them again. */
	for (size_t i = 0; i < s->nnodes; i++)
		s->nodes[i].ready = true;
	s->running = true;
	return 0;
}

int nodes_message(struct sup *s, nlab_error **err)
{
	struct sup_node *sn;
	struct proto_msg m;
	int got = nodech_recv(s, &sn, &m, err);

	if (got <= 0)
		return got;
	if (m.type == PROTO_LINE_EXITED)
		return line_exited(s, sn, &m, err) < 0 ? -1 : 1;
	if (sn->restart != RESTART_NONE)
		return restart_message(s, sn, &m, err);
	return bad_message(sn, &m, err);
}

/* ---- stopping ------------------------------------------------------- */

static int by_pid_cmp(const void *a, const void *b)
{
	pid_t x = (*(struct sup_node *const *)a)->pid, y = (*(struct sup_node *const *)b)->pid;
	return x < y ? -1 : x > y;
}

struct sup_node *nodes_by_pid(struct sup *s, pid_t pid)
{
	if (!s->by_pid) {
		/* Made once, when the first init dies or the lab stops. */
		s->by_pid = calloc(s->nnodes + 1, sizeof(*s->by_pid));
		if (!s->by_pid) {
			for (size_t i = 0; i < s->nnodes; i++)
				if (s->nodes[i].pid == pid)
					return &s->nodes[i];
			return NULL;
		}
		for (size_t i = 0; i < s->nnodes; i++)
			s->by_pid[i] = &s->nodes[i];
		qsort(s->by_pid, s->nnodes, sizeof(*s->by_pid), by_pid_cmp);
	}
	struct sup_node key = { .pid = pid }, *kp = &key;
	struct sup_node **f = bsearch(&kp, s->by_pid, s->nnodes, sizeof(*s->by_pid), by_pid_cmp);
	return f ? *f : NULL;
}

/* One child that ended.  A node's init that dies during setup fails it
 * (wait_nodes()); one that dies while the lab is up (killed from
 * outside, or by the OOM killer) leaves the node dead: `status` says
 * how, `test` fails. */
static void reaped(struct sup *s, pid_t pid, int status)
{
	struct sup_node *sn = nodes_by_pid(s, pid);

	if (!sn || sn->exited)
		return;
	sn->exited = true;
	if (!s->running)
		return;
	struct state_node *stn = &s->st.nodes[sn - s->nodes];
	char how[96];
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

void nodes_sweep(struct sup *s)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG | __WALL)) > 0)
		reaped(s, pid, status);
}

void nodes_reap(struct sup *s)
{
	struct signalfd_siginfo si;

	while (TEMP_FAILURE_RETRY(read(s->chld_fd, &si, sizeof(si))) == sizeof(si))
		;
	nodes_sweep(s);
}

void nodes_stop(struct sup *s)
{
	int64_t deadline = now_ms() + s->o->grace_ms + 2000;
	size_t live = 0;

	for (size_t i = 0; i < s->nnodes; i++)
		if (s->nodes[i].pid > 0 && !s->nodes[i].exited) {
			nodech_send(s, &s->nodes[i], PROTO_STOP, 0, 0, 0, NULL, NULL, 0);
			live++;
		}
	/* Each init stops its node in its grace period; the ones still
	 * there after it are killed. */
	while (live) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG | __WALL);
		if (pid > 0) {
			struct sup_node *sn = nodes_by_pid(s, pid);
			if (sn && !sn->exited) {
				sn->exited = true;
				live--;
			}
			continue;
		}
		int64_t left = deadline - now_ms();
		if (pid < 0 || left <= 0)
			break;
		struct pollfd p = { .fd = s->chld_fd, .events = POLLIN };
		if (poll(&p, 1, (int)(left > 100 ? 100 : left)) > 0) {
			struct signalfd_siginfo si;
			while (TEMP_FAILURE_RETRY(read(s->chld_fd, &si, sizeof(si))) == sizeof(si))
				;
		}
	}
	for (size_t i = 0; i < s->nnodes; i++)
		if (s->nodes[i].pid > 0 && !s->nodes[i].exited)
			kill(s->nodes[i].pid, SIGKILL);
	for (size_t i = 0; i < s->nnodes; i++)
		if (s->nodes[i].pid > 0 && !s->nodes[i].exited) {
			TEMP_FAILURE_RETRY(waitpid(s->nodes[i].pid, NULL, __WALL));
			s->nodes[i].exited = true;
		}
}

int nodes_netns(const struct sup *s, const struct sup_node *sn, nlab_error **err)
{
	int fd = nlab_netns_open_pid(sn->pid, err);

	if (fd < 0)
		nlab_error_wrap(err, "node %s (%s:%d)", sn->tn->name, topo_file(s), sn->tn->pos.line);
	return fd;
}
