/* The supervisor's main line: the setup sequence (files, namespaces, the
 * plan's sections in order), the wait loop, and teardown. */
#include "supervisor/supervisor.h"

#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab/labdir.h"
#include "lab/beacon.h"
#include "lab/hostshare.h"
#include "lab/undo.h"
#include "lab/wiring.h"
#include "net/netns.h"
#include "node/nodefs.h"
#include "node/spawn.h"
#include "proto/proto.h"
#include "supervisor/hosts.h"
#include "supervisor/sup.h"
#include "util/fsutil.h"
#include "util/time.h"

/* Close a phase of setup: its wall time goes into the UP message. */
void sup_phase_done(struct sup *s, const char *name)
{
	int64_t t = now_ms();
	int n = snprintf(s->phases + s->phases_len, sizeof(s->phases) - s->phases_len, " %s=%lld", name,
			 (long long)(t - s->phase_t0));
	if (n > 0 && (size_t)n < sizeof(s->phases) - s->phases_len)
		s->phases_len += (size_t)n;
	s->phase_t0 = t;
}

/* PROGRESS messages for `netlab up`'s bar, at most one per percent of a
 * phase. */
void sup_progress(struct sup *s, const char *phase, size_t done, size_t total)
{
	if (!s->o->progress || !total || s->o->status_fd < 0)
		return;
	if (done != total && done * 100 / total == (done - 1) * 100 / total)
		return;
	proto_send(s->o->status_fd, PROTO_PROGRESS, (int64_t)done, (int64_t)total, 0, phase);
}

/* What setup waits for (the host lock, say), for `netlab up` to print. */
static void sup_notice(const char *msg, void *arg)
{
	struct sup *s = arg;

	nlab_report(NULL, "%s", msg);
	if (s->o->status_fd >= 0 && !s->up_gone)
		proto_send(s->o->status_fd, PROTO_NOTICE, 0, 0, 0, msg);
}

int sup_check_abort(struct sup *s, nlab_error **err)
{
	struct signalfd_siginfo si;

	/* The common case in one system call: nothing happened. */
	if (!s->stop_signal && !s->up_gone && s->abort_fd >= 0) {
		struct pollfd a = { .fd = s->abort_fd, .events = POLLIN };
		if (poll(&a, 1, 0) == 0)
			return 0;
	}

	if (!s->stop_signal && s->sigfd >= 0 && TEMP_FAILURE_RETRY(read(s->sigfd, &si, sizeof(si))) == sizeof(si))
		s->stop_signal = (int)si.ssi_signo;
	if (!s->up_gone && s->o->status_fd >= 0) {
		struct pollfd p = { .fd = s->o->status_fd, .events = POLLRDHUP };
		if (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			s->up_gone = true;
	}
	if (s->stop_signal)
		return nlab_error_set(err, 0, "setup stopped by SIG%s", sigabbrev_np(s->stop_signal));
	if (s->up_gone)
		return nlab_error_set(err, 0, "setup stopped: netlab up went away");
	return 0;
}

/* The signals that stop setup, and `up` leaving, in one pollable fd. */
static int abort_channel(struct sup *s, nlab_error **err)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sigfd < 0)
		return nlab_error_set(err, errno, "signalfd");
	s->abort_fd = epoll_create1(EPOLL_CLOEXEC);
	if (s->abort_fd < 0)
		return nlab_error_set(err, errno, "epoll_create1");
	struct epoll_event ev = { .events = EPOLLIN };
	if (epoll_ctl(s->abort_fd, EPOLL_CTL_ADD, s->sigfd, &ev) < 0)
		return nlab_error_set(err, errno, "epoll_ctl");
	ev.events = EPOLLRDHUP;
	if (s->o->status_fd >= 0 && epoll_ctl(s->abort_fd, EPOLL_CTL_ADD, s->o->status_fd, &ev) < 0)
		return nlab_error_set(err, errno, "epoll_ctl");
	return 0;
}

/* ---- setup ---------------------------------------------------------- */

static int lab_files(struct sup *s, nlab_error **err)
{
	char path[4200];
	bool alt = false;

	snprintf(path, sizeof(path), "%s/logs", s->dir);
	if (mkdir_p(path, 0755, err) < 0)
		return -1;
	if (hosts_write(s->t, s->dir, err) < 0)
		return -1;
	snprintf(s->alternatives, sizeof(s->alternatives), "%s/alternatives", s->dir);
	if (nodefs_prepare_alternatives(s->alternatives, &alt, err) < 0)
		return -1;
	if (!alt)
		s->alternatives[0] = '\0';
	/* How links and switches are named, for `link`, `capture` and
	 * `status` on the running lab (lab/wiring.h). */
	return wiring_write(s->dir, &s->plan, err);
}

/* The lab's own namespaces: switches live here, not in the host. */
static int lab_namespace(struct sup *s, nlab_error **err)
{
	s->host_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (s->host_netns < 0)
		return nlab_error_set(err, errno, "open /proc/self/ns/net");
	s->host_mntns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (s->host_mntns < 0)
		return nlab_error_set(err, errno, "open /proc/self/ns/mnt");
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0)
		return nlab_error_set(err, errno, "unshare lab network and mount namespaces");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return nlab_error_set(err, errno, "make / private in the lab namespace");
	s->lab_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	s->lab_mntns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (s->lab_netns < 0 || s->lab_mntns < 0)
		return nlab_error_set(err, errno, "open the lab's namespaces");
	return nlab_nl_open(&s->lab_nl, err);
}

/* The node table and the state's node list. */
static int node_table(struct sup *s, nlab_error **err)
{
	const struct topology *t = s->t;

	s->nodes = calloc(t->nodes.n + 1, sizeof(*s->nodes));
	if (!s->nodes)
		return nlab_error_set(err, ENOMEM, "the node table");
	s->by_index = calloc(t->nodes.n + 1, sizeof(*s->by_index));
	s->st.nodes = calloc(t->nodes.n + 1, sizeof(*s->st.nodes));
	if (!s->by_index || !s->st.nodes)
		return nlab_error_set(err, ENOMEM, "nodes");
	for (size_t i = 0; i < s->plan.sec[PLAN_SEC_NODES + 1]; i++) {
		const struct plan_op *op = &s->plan.ops[i];
		if (op->kind != OP_NODE)
			continue;
		struct sup_node *sn = &s->nodes[s->nnodes++];
		sn->sup = s;
		sn->tn = op->node;
		sn->index = (size_t)op->ns;
		s->by_index[op->ns] = sn;
		sn->client = -1;
		struct state_node *stn = &s->st.nodes[s->st.nnodes++];
		stn->name = strdup(sn->tn->name);
		stn->userns = topo_node_userns(t, sn->tn);
	}
	for (size_t i = 0; i < s->plan.nops; i++) {
		const struct plan_op *op = &s->plan.ops[i];
		if ((op->kind == OP_FW_RULE || op->kind == OP_FW_POLICY) && op->ns >= 0 &&
		    (size_t)op->ns < t->nodes.n && s->by_index[op->ns])
			s->by_index[op->ns]->fw = true;
	}
	return 0;
}

/* Each phase starts only if no one asked setup to stop. */
static int setup(struct sup *s, nlab_error **err)
{
	s->phase_t0 = now_ms();
	if (plan_build(s->t, s->o->lab, &s->plan, err) < 0)
		return -1;
	/* What the host must already have, checked before anything is made. */
	/* The host's socket also makes the ends of tunnels to other
	 * machines (issue 18): their UDP sockets belong in its namespace. */
	if ((topo_host_node(s->t) || s->plan.ntunnels) && nlab_nl_open(&s->host_nl, err) < 0)
		return -1;
	if (topo_host_node(s->t) && host_verify(s, err) < 0)
		return -1;
	if (sup_check_abort(s, err) < 0 || lab_files(s, err) < 0)
		return -1;
	sup_phase_done(s, "files");
	if (sup_check_abort(s, err) < 0 || lab_namespace(s, err) < 0 || nodech_open(s, err) < 0 || labfs_prepare(s, err) < 0 ||
	    nodetmpl_make(s, err) < 0 ||
	    node_table(s, err) < 0)
		return -1;
	sup_phase_done(s, "namespace");
	if (sup_check_abort(s, err) < 0 || nodes_prepare(s, err) < 0)
		return -1;
	sup_phase_done(s, "ids");
	if (sup_check_abort(s, err) < 0 || nodes_start(s, err) < 0)
		return -1;
	for (size_t i = 0; i < s->nnodes; i++)
		s->st.nodes[i].init = s->nodes[i].init_id;
	sup_phase_done(s, "spawn");
	if (state_write(&s->st, err) < 0 || sup_check_abort(s, err) < 0 || nodes_wait_ready(s, err) < 0)
		return -1;
	sup_phase_done(s, "ready");
	/* The inits build their roots while the links are made. */
	if (sup_check_abort(s, err) < 0 || apply_section(s, PLAN_SEC_LINKS, err) < 0 || host_links_mark(s, err) < 0)
		return -1;
	sup_phase_done(s, "links");
	/* The inits built their roots meanwhile. */
	if (sup_check_abort(s, err) < 0 || nodes_wait_root(s, err) < 0)
		return -1;
	sup_phase_done(s, "root");
	/* `capture` links start recording once every interface is up and
	 * before any command runs (libpcap refuses a down interface). */
	if (sup_check_abort(s, err) < 0 || apply_section(s, PLAN_SEC_CONFIGURE, err) < 0 ||
	    sup_check_abort(s, err) < 0 || apply_section(s, PLAN_SEC_HOST, err) < 0 || capture_start(s, err) < 0)
		return -1;
	sup_phase_done(s, "configure");
	if (sup_check_abort(s, err) < 0 || nodes_run_lines(s, err) < 0)
		return -1;
	sup_phase_done(s, "commands");
	return sup_check_abort(s, err);
}

/* ---- teardown ------------------------------------------------------- */

/* What the lab did in the host namespace, from its journal; the bridges
 * and veths in the lab's and nodes' namespaces go with those namespaces
 * when their last process exits (the kernel dismantles them as one
 * batch in the background: deleting them here would make `down` wait
 * for RCU grace periods, about 40 ms even for two links, and show
 * nothing different to anyone). */
static void undo_host(struct sup *s, bool links)
{
	nlab_error *err = NULL;
	int saved = -1;

	if (s->host_netns < 0 || nlab_netns_enter(s->host_netns, &saved, &err) < 0) {
		nlab_error_free(&err);
		return;
	}
	if (links) {
		/* Before the namespaces die: the kernel's namespace cleanup
		 * is asynchronous, an explicit delete returns when done; and
		 * a host interface the lab took goes back while its
		 * namespace is still ours to reach. */
		hostif_give_back_all(s);
		if ((s->st.nhost_links || topo_host_node(s->t)) && undo_host_links(s->o->lab, &s->st, NULL, &err) < 0)
			nlab_error_print(NULL, &err);
	} else {
		if (s->st.nhost_rules && undo_host_rules(s->o->lab, NULL, &err) < 0)
			nlab_error_print(NULL, &err);
		if (undo_host_shares(s->o->lab, &err) < 0)
			nlab_error_print(NULL, &err);
	}
	nlab_netns_leave(&saved, NULL);
}

static void remove_cgroups(struct sup *s)
{
	for (size_t i = 0; i < s->nnodes; i++)
		cgroup_remove(s->nodes[i].cgroups, s->nodes[i].ncgroups);
	cgroup_remove(s->cg.dirs, s->cg.ndirs);
}

static void teardown(struct sup *s)
{
	/* While the captured interfaces still exist: it writes the rest. */
	capture_stop(s);
	undo_host(s, true);
	nodes_stop(s);
	undo_host(s, false);
	remove_cgroups(s);
	/* A user's lab: what the nodes' other users wrote under /lab is
	 * owned, on the host, by the user's subordinate IDs, which only this
	 * namespace (the user is its root) can give back to the user; root's
	 * `down` does it for root's labs (lab/labdir.h). */
	if (s->o->rootless && s->rl.uids) {
		nlab_error *err = NULL;
		size_t fixed = 0;
		if (labdir_tidy(&s->st, &fixed, &err) < 0)
			nlab_error_print(NULL, &err);
	}
}

/* ---- running -------------------------------------------------------- */

/* Until SIGTERM/SIGINT/SIGHUP (`down`): reap inits that die, record the
 * run lines whose processes end (LINE_EXITED) for `status`, and answer
 * `netlab restart` (supervisor/restart.c). */
static void wait_loop(struct sup *s)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	struct pollfd *p = calloc(4 + SUP_CLIENTS_MAX, sizeof(*p));
	if (sfd < 0 || !p) {
		free(p);
		return;
	}
	for (;;) {
		/* First: it closes the requests that never came. */
		int timeout = restart_timeout(s);
		size_t first = 4, nc = s->nclients;
		p[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = s->beacon, .events = POLLIN };
		p[2] = (struct pollfd){ .fd = s->ctl, .events = POLLIN };
		p[3] = (struct pollfd){ .fd = s->chld_fd, .events = POLLIN };
		for (size_t i = 0; i < nc; i++)
			p[first + i] = (struct pollfd){ .fd = s->clients[i], .events = POLLIN };
		if (poll(p, first + nc, timeout) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		/* What the inits say after `up` (run lines that ended). */
		while (p[2].revents) {
			nlab_error *err = NULL;
			int r = nodes_message(s, &err);
			if (r < 0)
				nlab_error_print(NULL, &err);
			if (r <= 0)
				break;
		}
		if (p[3].revents)
			nodes_reap(s);
		/* Requests, from the last: taking one out moves the last
		 * client into its place. */
		for (size_t i = nc; i-- > 0;)
			if (p[first + i].revents)
				restart_client_input(s, i);
		/* Someone looked for this lab, or asks it something (lab/beacon.h). */
		if (s->beacon >= 0 && p[1].revents)
			restart_accept(s);
		if (p[0].revents & POLLIN)
			break; /* SIGTERM, SIGINT, SIGHUP: take the lab down */
	}
	free(p);
	close(sfd);
	restart_abort_all(s, "the lab is going down");
}

/* What the supervisor holds does not grow with the lab (nodes cost it
 * no fd once made, supervisor/nodech.c), but netlink batches and the
 * spawner's slots come near the usual soft limit of 1024 in big labs. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int add_dir(struct lab_state *st, const char *dir)
{
	for (size_t i = 0; i < st->nwrite_dirs; i++)
		if (!strcmp(st->write_dirs[i], dir))
			return 0;
	char **v = realloc(st->write_dirs, (st->nwrite_dirs + 1) * sizeof(*v));
	if (!v)
		return -1;
	st->write_dirs = v;
	v[st->nwrite_dirs] = strdup(dir);
	if (!v[st->nwrite_dirs])
		return -1;
	st->nwrite_dirs++;
	return 0;
}

/* The host directories node code can write to, for `down` to tidy
 * (lab/labdir.h): the topology's (each default node's /lab) and the
 * sources of writable bind mounts. */
static int write_dirs(const struct topology *t, struct lab_state *st)
{
	for (size_t i = 0; i < t->nodes.n; i++) {
		const struct topo_node *n = &t->nodes.v[i];
		if (!n->rootfs && t->dir && t->dir[0] == '/' && add_dir(st, t->dir) < 0)
			return -1;
		for (size_t k = 0; k < n->mounts.n; k++) {
			const struct topo_mount *m = &n->mounts.v[k];
			if (!m->tmpfs && !m->ro && m->src && m->src[0] == '/' && add_dir(st, m->src) < 0)
				return -1;
		}
	}
	return 0;
}

/* Setup failed or was stopped and everything is torn down: tell `up`,
 * or, when `up` is gone, finish its roll back (nobody else will). */
static void failed(struct sup *s, nlab_error **err)
{
	if (!s->up_gone && proto_send(s->o->status_fd, PROTO_FAILED, 0, 0, 0, *err ? (*err)->msg : "unknown error") == 0)
		return;
	nlab_report(NULL, "netlab up went away during setup: the lab is rolled back");
	/* Still holding the lab lock: no one else can be using its files.
	 * They are removed as the host sees them: in the lab's mount
	 * namespace the mask and /dev are mounted on two of them. */
	nlab_error *e = NULL;
	if (s->host_mntns >= 0 && setns(s->host_mntns, CLONE_NEWNS) < 0)
		nlab_report(NULL, "back to the host's mount namespace: %s", strerror(errno));
	if (state_remove(s->o->lab, &e) < 0)
		nlab_error_print(NULL, &e);
	else
		state_unlink_lock(s->o->lab);
}

int supervisor_main(const struct topology *t, const struct sup_options *o)
{
	struct sup s = { .t = t, .o = o, .host_netns = -1, .lab_netns = -1, .host_mntns = -1, .lab_mntns = -1, .tmpl_mntns = -1, .spawner_fd = -1,
			 .capture_pidfd = -1, .beacon = -1, .sigfd = -1, .abort_fd = -1, .ctl_dir = -1, .ctl = -1, .token = -1,
			 .chld_fd = -1 };
	nlab_error *err = NULL;
	sigset_t set;
	int64_t t0 = now_ms();

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise_fd_limit();
	/* An init that dies, during setup as after it (nodes.c). */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	s.chld_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s.chld_fd < 0) {
		nlab_error_set(&err, errno, "signalfd");
		goto fail;
	}
	hostshare_set_notice(sup_notice, &s);
	/* First of all, in the namespace `up` runs in: from now on `down`
	 * finds this process by the lab's name, whatever becomes of the
	 * state files. */
	s.beacon = beacon_bind(o->lab, &err);
	if (s.beacon < 0 || abort_channel(&s, &err) < 0)
		goto fail;
	/* Nodes must not inherit root's supplementary groups: they would
	 * still count for host files, and this is what makes `setgroups
	 * allow` in the nodes' user namespaces safe (node/userns.c). */
	if (o->rootless)
		rootless_info_read(&s.rl);
	if ((!o->rootless || s.rl.setgroups) && setgroups(0, NULL) < 0) {
		nlab_error_set(&err, errno, "drop supplementary groups");
		goto fail;
	}
	if (state_lab_dir(o->lab, s.dir, sizeof(s.dir), &err) < 0)
		goto fail;
	s.st.lab = strdup(o->lab);
	s.st.topology = realpath(t->file, NULL);
	s.st.created = (int64_t)time(NULL);
	if (write_dirs(t, &s.st) < 0) {
		nlab_error_set(&err, ENOMEM, "write_dirs");
		goto fail;
	}
	s.st.grace_ms = o->grace_ms;
	if (proc_id_of(getpid(), &s.st.supervisor) < 0) {
		nlab_error_set(&err, errno, "read /proc/self/stat");
		goto fail;
	}
	if (setup(&s, &err) < 0)
		goto fail;
	if (state_write(&s.st, &err) < 0)
		goto fail;
	sup_phase_done(&s, "state");
	/* The lab is up only if `up` hears so. */
	if (proto_send(o->status_fd, PROTO_UP, (int64_t)s.nnodes, (int64_t)t->links.n, now_ms() - t0, s.phases) < 0) {
		s.up_gone = true;
		nlab_error_set(&err, errno, "tell netlab up");
		goto fail;
	}
	close(o->status_fd);
	close(o->lock_fd);
	close(s.abort_fd);
	close(s.sigfd);
	/* What setup touched and freed, back to the kernel while the lab
	 * runs (at 10,000 nodes, most of 100 MB). */
	malloc_trim(0);
	wait_loop(&s);
	teardown(&s);
	return 0;
fail:
	nlab_report(NULL, "setup failed: %s", err ? err->msg : "unknown error");
	teardown(&s);
	failed(&s, &err);
	nlab_error_free(&err);
	/* The beacon first: once the lock is free, the next `up` must not
	 * find this dying supervisor and think the lab is up. */
	if (s.beacon >= 0)
		close(s.beacon);
	close(o->lock_fd);
	return 1;
}
