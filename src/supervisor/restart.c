/* `netlab restart [LAB] NODE`, the supervisor's side: one node's lines
 * run again, nothing else touched (not its namespaces, links or files,
 * not the other nodes).
 *
 * The request comes over the lab's beacon (lab/beacon.h: a process of
 * our euid only), RESTART with the node's name; the answer is RESTARTING
 * at once (`netlab restart` then lets the lab lock go), then RESTARTED or
 * FAILED.  For the node:
 *
 *   STOPPING  its init stops the processes of its lines (node/lines.h:
 *             SIGTERM, the lab's grace period, SIGKILL): STOP_LINES ->
 *             LINES_STOPPED
 *   WAITING   until every node it is `after` is ready (one being
 *             restarted too is waited for; one that is dead, or whose
 *             restart failed, fails this one)
 *   RUNNING   START, as in `up`: NODE_READY, or LINE_FAILED with the
 *             line and its output's end, as `up` reports it
 *
 * Several nodes may be restarted at once; the wait loop goes on all the
 * while (other nodes' messages, `down`).  What happened is recorded in
 * runtime.json for `status`: the count, when, and why the last failed. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lab/beacon.h"
#include "proto/proto.h"
#include "supervisor/sup.h"
#include "util/time.h"

#define CLIENT_REQUEST_MS 5000 /* a connection that says nothing this long is closed */

static void record(struct sup *s)
{
	nlab_error *err = NULL;

	if (state_write_runtime(&s->st, &err) < 0)
		nlab_error_print(NULL, &err);
}

static struct state_node *stn_of(struct sup *s, struct sup_node *sn)
{
	return &s->st.nodes[sn - s->nodes];
}

__attribute__((format(printf, 3, 4))) static void tell_failed(int fd, int errnum, const char *fmt, ...)
{
	char msg[PROTO_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	proto_send(fd, PROTO_FAILED, errnum, 0, 0, msg);
}

/* The restart of sn is over: tell its client, record it. */
static void finish(struct sup *s, struct sup_node *sn, const char *error)
{
	struct state_node *stn = stn_of(s, sn);

	if (sn->client >= 0) {
		if (error)
			tell_failed(sn->client, 0, "%s", error);
		else
			proto_send(sn->client, PROTO_RESTARTED, now_ms() - sn->restart_t0, sn->stopped, sn->killed,
				   NULL);
		close(sn->client);
		sn->client = -1;
	}
	sn->restart = RESTART_NONE;
	sn->ready = !error;
	stn->restarting = false;
	free(stn->restart_error);
	stn->restart_error = error ? strdup(error) : NULL;
	record(s);
	nlab_report(NULL, "node %s: restart %s%s", sn->tn->name, error ? "failed: " : "done", error ? error : "");
}

/* Why sn cannot start yet (0: it can; 1: wait), or -1 with why[] set:
 * a node it is `after` will not be ready by itself. */
static int deps(struct sup *s, const struct sup_node *sn, char *why, size_t len)
{
	const struct plan_node_ops *no = &s->plan.nodes[sn->index];
	int r = 0;

	for (size_t i = no->afters; i < no->afters + no->nafters; i++) {
		int j = s->plan.ops[i].after;
		const struct sup_node *d = j >= 0 ? s->by_index[j] : NULL;
		if (!d || d->ready)
			continue;
		if (d->restart != RESTART_NONE && !d->exited) {
			r = 1;
			continue;
		}
		const struct state_node *dst = &s->st.nodes[d - s->nodes];
		snprintf(why, len, "node %s (%s:%d) is after node %s, which is not ready: %s", sn->tn->name, s->t->file,
			 sn->tn->pos.line, d->tn->name,
			 d->exited	      ? "its init is dead"
			 : dst->restart_error ? "its last restart failed"
					      : "its lines did not finish");
		return -1;
	}
	return r;
}

/* Start the lines of every node that waits and may go on; fail those
 * that never could. */
static void advance(struct sup *s)
{
	bool again = true;

	/* A failure can make others fail in turn: until nothing changes. */
	while (again) {
		again = false;
		for (size_t i = 0; i < s->nnodes; i++) {
			struct sup_node *sn = &s->nodes[i];
			char why[1024];
			if (sn->restart != RESTART_WAITING)
				continue;
			int d = deps(s, sn, why, sizeof(why));
			if (d > 0)
				continue;
			if (d < 0) {
				finish(s, sn, why);
				again = true;
				continue;
			}
			if (nodech_send(s, sn, PROTO_START, 0, 0, 0, NULL, NULL, 0) < 0) {
				snprintf(why, sizeof(why), "node %s: start its lines: %s", sn->tn->name,
					 strerror(errno));
				finish(s, sn, why);
				again = true;
				continue;
			}
			sn->restart = RESTART_RUNNING;
		}
	}
}

static void begin(struct sup *s, int fd, const char *name)
{
	struct sup_node *sn = NULL;

	for (size_t i = 0; i < s->nnodes && !sn; i++)
		if (!strcmp(s->nodes[i].tn->name, name))
			sn = &s->nodes[i];
	if (!sn) {
		tell_failed(fd, ENOENT, "lab '%s' has no node '%s'", s->o->lab, name);
		close(fd);
		return;
	}
	if (sn->exited) {
		tell_failed(fd, 0,
			    "node %s (%s:%d) is dead: its init exited (netlab status %s shows how); take the lab "
			    "down and up again",
			    sn->tn->name, s->t->file, sn->tn->pos.line, s->o->lab);
		close(fd);
		return;
	}
	if (sn->restart != RESTART_NONE) {
		tell_failed(fd, EBUSY, "node %s is being restarted already", sn->tn->name);
		close(fd);
		return;
	}
	if (nodech_send(s, sn, PROTO_STOP_LINES, 0, 0, 0, NULL, NULL, 0) < 0) {
		tell_failed(fd, errno, "node %s: ask its init to stop its lines: %s", sn->tn->name, strerror(errno));
		close(fd);
		return;
	}
	struct state_node *stn = stn_of(s, sn);
	sn->restart = RESTART_STOPPING;
	sn->ready = false;
	sn->client = fd;
	sn->restart_t0 = now_ms();
	sn->stopped = sn->killed = 0;
	/* A new start: the old run lines' ends are of the lines stopped. */
	free(stn->exited);
	stn->exited = NULL;
	stn->nexited = 0;
	stn->restarts++;
	stn->restarted = (int64_t)time(NULL);
	stn->restarting = true;
	free(stn->restart_error);
	stn->restart_error = NULL;
	record(s);
	nlab_report(NULL, "node %s: restart asked for", sn->tn->name);
	proto_send(fd, PROTO_RESTARTING, 0, 0, 0, NULL);
}

void restart_accept(struct sup *s)
{
	int c;

	while ((c = beacon_accept(s->beacon)) >= 0) {
		if (s->nclients == SUP_CLIENTS_MAX) {
			tell_failed(c, EBUSY, "the supervisor of lab '%s' has too many requests waiting", s->o->lab);
			close(c);
			continue;
		}
		s->clients[s->nclients] = c;
		s->client_deadline[s->nclients++] = now_ms() + CLIENT_REQUEST_MS;
	}
}

static void drop_client(struct sup *s, size_t i)
{
	s->clients[i] = s->clients[--s->nclients];
	s->client_deadline[i] = s->client_deadline[s->nclients];
}

void restart_client_input(struct sup *s, size_t i)
{
	struct proto_msg m;
	nlab_error *err = NULL;
	int fd = s->clients[i];

	drop_client(s, i);
	/* A finder (`down`, `status`) connects and goes: EOF, nothing asked. */
	int got = proto_recv(fd, &m, &err);
	nlab_error_free(&err);
	if (got <= 0) {
		close(fd);
		return;
	}
	proto_close_fds(&m);
	if (m.type != PROTO_RESTART) {
		tell_failed(fd, EPROTO, "unexpected request %s", proto_type_name(m.type));
		close(fd);
		return;
	}
	begin(s, fd, m.text);
}

int restart_timeout(struct sup *s)
{
	int64_t now = now_ms(), next = -1;

	for (size_t i = 0; i < s->nclients;) {
		if (s->client_deadline[i] <= now) {
			close(s->clients[i]);
			drop_client(s, i);
			continue;
		}
		if (next < 0 || s->client_deadline[i] - now < next)
			next = s->client_deadline[i] - now;
		i++;
	}
	return (int)next;
}

int restart_message(struct sup *s, struct sup_node *sn, const struct proto_msg *m, nlab_error **err)
{
	nlab_error *e = NULL;

	switch (m->type) {
	case PROTO_LINES_STOPPED:
		if (sn->restart != RESTART_STOPPING)
			break;
		sn->stopped = m->a[0];
		sn->killed = m->a[1];
		if (m->a[2] > 0)
			nlab_report(NULL, "node %s: %lld processes of its lines would not go, even after SIGKILL",
				    sn->tn->name, (long long)m->a[2]);
		sn->restart = RESTART_WAITING;
		advance(s);
		return 1;
	case PROTO_NODE_READY:
		if (sn->restart != RESTART_RUNNING)
			break;
		finish(s, sn, NULL);
		advance(s);
		return 1;
	case PROTO_LINE_FAILED:
		if (sn->restart != RESTART_RUNNING)
			break;
		nodes_line_failed(s, sn, m, &e);
		finish(s, sn, e ? e->msg : "a line failed");
		nlab_error_free(&e);
		advance(s);
		return 1;
	default:
		break;
	}
	return nlab_error_set(err, EPROTO, "node %s: unexpected message %s", sn->tn->name, proto_type_name(m->type));
}

void restart_node_died(struct sup *s, struct sup_node *sn)
{
	char why[512];

	sn->ready = false;
	if (sn->restart != RESTART_NONE) {
		snprintf(why, sizeof(why), "node %s (%s:%d): its init died during the restart (netlab status %s)",
			 sn->tn->name, s->t->file, sn->tn->pos.line, s->o->lab);
		finish(s, sn, why);
		sn->ready = false;
	}
	advance(s);
}

void restart_abort_all(struct sup *s, const char *why)
{
	for (size_t i = 0; i < s->nnodes; i++)
		if (s->nodes[i].client >= 0) {
			tell_failed(s->nodes[i].client, 0, "%s", why);
			close(s->nodes[i].client);
			s->nodes[i].client = -1;
		}
	while (s->nclients) {
		close(s->clients[0]);
		drop_client(s, 0);
	}
}
