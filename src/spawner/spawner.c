/* The lab's spawner (spawner/spawner.h): SPAWN requests in, nodes made
 * by node/spawn.c, SPAWNED or SPAWN_FAILED reports out.
 *
 * Everything it writes per node is memory no init inherits, or memory
 * that is the node's own: the request and the loop's frames sit under
 * the spawner's fence (node/spawn.h), and each view is mapped fresh for
 * its node and unmapped once the init has its copy.  Nothing here
 * allocates while stage 1s run (they share this memory). */
#include "spawner/spawner.h"

#include <alloca.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <signal.h>
#include <unistd.h>

#include "node/init.h"
#include "node/spawn.h"
#include "node/view.h"
#include "proto/proto.h"

struct request {
	bool used;
	int64_t node;           /* the supervisor's index */
	struct node_view *view;
	size_t mapped;
};

struct spawner_state {
	struct spawner *sp;
	int tmpl;               /* SPAWNER_TMPL_FD, or -1 */
	struct request req[SPAWN_DEPTH];
};

static void init_entry(void *arg)
{
	node_init_main(arg);
}

static void release(struct request *r)
{
	if (r->view)
		munmap(r->view, r->mapped);
	*r = (struct request){ 0 };
}

/* -1 when the report could not be sent: that ends the spawner (the
 * supervisor, waiting for it, then reads the end of the channel). */
static int report_failed(int64_t node, pid_t stage1, const char *what, nlab_error **err)
{
	char msg[PROTO_TEXT_MAX];
	const char *why = err && *err ? (*err)->msg : "";

	snprintf(msg, sizeof(msg), "%s%s%s", what, *what && *why ? ": " : "", why);
	int r = proto_send(SPAWNER_FD, PROTO_SPAWN_FAILED, 0, node, stage1, msg);
	if (err)
		nlab_error_free(err);
	return r;
}

/* One SPAWN: 1 taken (made or reported failed), 0 at the supervisor's
 * end, -1 when the channel broke. */
static int take(struct spawner_state *st)
{
	struct proto_msg m;
	nlab_error *err = NULL;
	struct request *r = NULL;

	int got = proto_recv(SPAWNER_FD, &m, &err);
	if (got <= 0) {
		nlab_error_free(&err);
		return got;
	}
	for (int i = 0; i < SPAWN_DEPTH && !r; i++)
		if (!st->req[i].used)
			r = &st->req[i];
	size_t size = m.a[1] > 0 ? (size_t)m.a[1] : 0;
	if (m.type != PROTO_SPAWN || m.nfds != 2 || !r || !size || size > NODE_VIEW_MAX) {
		proto_close_fds(&m);
		return -1;
	}
	*r = (struct request){ .used = true, .node = m.a[0] };
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	r->mapped = (size + page - 1) & ~(page - 1);
	r->view = mmap(NULL, r->mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->view == MAP_FAILED) {
		r->view = NULL;
		release(r);
		proto_close_fds(&m);
		return -1;
	}
	if (proto_recv_blob(SPAWNER_FD, r->view, size, &err) <= 0) {
		nlab_error_free(&err);
		release(r);
		proto_close_fds(&m);
		return -1;
	}
	if (node_view_place(r->view, size) < 0) {
		got = report_failed(r->node, 0, "the node's view is malformed", NULL) < 0 ? -1 : 1;
		release(r);
		proto_close_fds(&m);
		return got;
	}
	const struct node_view *v = r->view;
	struct spawn_node_args a = {
		.tn = &v->node,
		.userns = v->make.userns,
		.uid_base = v->make.uid_base,
		.gid_base = v->make.gid_base,
		.id_size = v->make.id_size,
		.setgroups_deny = v->make.setgroups_deny,
		.cgroups = v->make.cgroups,
		.ncgroups = v->make.ncgroups,
		.ctl = m.fds[0],
		.log = m.fds[1],
		.mntns = v->make.tmpl ? st->tmpl : -1,
		.init = init_entry,
		.init_arg = (void *)&v->spec,
	};
	got = 1;
	if (v->make.tmpl && st->tmpl < 0) {
		got = report_failed(r->node, 0, "no node template to make the node in", NULL) < 0 ? -1 : 1;
		release(r);
	} else if (spawner_submit(st->sp, &a, r, &err) < 0) {
		got = report_failed(r->node, 0, "", &err) < 0 ? -1 : 1;
		release(r);
	}
	proto_close_fds(&m);
	return got;
}

/* 0, or -1 when the report could not be sent. */
static int collect(struct spawner_state *st)
{
	void *tag = NULL;
	pid_t pid = 0, stage1 = 0;
	nlab_error *err = NULL;

	int r = spawner_collect(st->sp, &tag, &pid, &stage1, &err);
	struct request *req = tag;
	int64_t node = req ? req->node : -1;
	if (r < 0)
		r = report_failed(node, stage1, "", &err);
	else
		r = proto_send(SPAWNER_FD, PROTO_SPAWNED, pid, node, stage1, NULL);
	if (req)
		release(req);
	return r < 0 ? -1 : 0;
}

static __attribute__((noinline)) int serve(struct spawner_state *st)
{
	for (;;) {
		struct pollfd p[1 + SPAWN_DEPTH];
		nfds_t n = 0;
		bool full = spawner_full(st->sp);

		if (!full)
			p[n++] = (struct pollfd){ .fd = SPAWNER_FD, .events = POLLIN };
		n += spawner_pollfds(st->sp, p + n);
		if (poll(p, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		/* Reports first: each frees a slot. */
		bool ready = false;
		for (nfds_t i = full ? 0 : 1; i < n; i++)
			ready |= p[i].revents != 0;
		if (ready) {
			if (collect(st) < 0)
				return 1;
			continue;
		}
		if (!full && p[0].revents) {
			int r = take(st);
			if (r <= 0)
				return r < 0;
		}
	}
}

int spawner_main(int argc, char **argv)
{
	nlab_error *err = NULL;

	/* With the supervisor, whatever ends it; a supervisor already gone
	 * (this process is then another's child) gets no nodes. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (argc < 3 || getppid() != (pid_t)atoi(argv[1]))
		return 1;
	prctl(PR_SET_NAME, SPAWNER_ARGV0);
	/* Written per node: in memory the inits do not inherit. */
	struct spawner_state *st = spawner_table_alloc(sizeof(*st), &err);
	char *fence = alloca(2 * (size_t)sysconf(_SC_PAGESIZE));
	if (st)
		st->sp = spawner_begin((uintptr_t)fence, &err);
	if (!st || !st->sp) {
		report_failed(-1, 0, "start the spawner", &err);
		return 1;
	}
	st->tmpl = atoi(argv[2]) ? SPAWNER_TMPL_FD : -1;
	int r = serve(st);
	spawner_end(st->sp);
	for (int i = 0; i < SPAWN_DEPTH; i++)
		release(&st->req[i]);
	return r;
}
