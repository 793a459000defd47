#include "lab/test.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab/lab.h"
#include "lab/probe.h"
#include "topo/addr.h"
#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/time.h"

#define MAX_JOBS 32
#define TRY_MS 1000	  /* one short try */
#define EXEC_TRY_MS 10000 /* a command without `within` */
#define RETRY_PAUSE_MS 200

/* What a probe process writes back: one message per write(), under
 * PIPE_BUF, so messages never interleave. */
struct wire {
	int32_t ok;   /* pairs: answered */
	int32_t a, b; /* pairs: destination node, address */
	int64_t ms;
	char detail[480];
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- targets ----------------------------------------------------------- */

/* The addresses an expectation tries (docs/testing.md: a node or
 * NODE:IFACE means every address it has in the topology, of the family
 * asked for or both; only IPv4 from a node with IPv6 off). */
static size_t targets(const struct topology *t, const struct topo_expect *e, struct probe_addr *out, size_t max)
{
	int family = topo_expect_family(t, e);
	size_t n = 0;

	if (e->dst_kind == TOPO_DST_ADDR) {
		out[0].family = e->addr.family;
		memcpy(out[0].addr, e->addr.addr, 16);
		return 1;
	}
	const struct topo_node *d = topo_find_node(t, e->dst);
	for (size_t i = 0; d && i < d->addrs.n && n < max; i++) {
		const struct topo_ipaddr *a = &d->addrs.v[i];
		if ((e->dst_kind == TOPO_DST_IFACE && strcmp(a->ifname, e->dst_if) != 0) ||
		    (family && a->cidr.family != family))
			continue;
		out[n].family = a->cidr.family;
		memcpy(out[n].addr, a->cidr.addr, 16);
		n++;
	}
	return n;
}

/* "10.0.0.2: timed out after 1.0 s; fd00::2: connection refused" of the
 * addresses whose answered equals `which`. */
static void list_addrs(const struct probe_addr *a, size_t n, bool which, const char *said, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && o < len; i++) {
		char s[64];
		if (a[i].answered != which)
			continue;
		addr_format(a[i].family, a[i].addr, s, sizeof(s));
		int k = snprintf(buf + o, len - o, "%s%s: %s", o ? "; " : "", s, which ? said : a[i].why);
		if (k < 0)
			break;
		o += (size_t)k;
	}
}

/* ---- one expectation, in the node ------------------------------------- */

static int reach(const struct topo_expect *e, struct probe_addr *a, size_t n, int ms, char *err, size_t len)
{
	return e->port ? probe_tcp(a, n, e->port, ms, err, len) : probe_icmp(a, n, ms, err, len);
}

static void run_reach(const struct topology *t, const struct topo_expect *e, struct wire *w)
{
	struct probe_addr a[64];
	size_t n = targets(t, e, a, 64);
	int64_t t0 = now_ms(), deadline = t0 + (e->within_ms ? e->within_ms : TRY_MS);
	bool want = e->kind == TOPO_EXPECT_REACH;
	const char *said = e->port ? "accepted the connection" : "answered";

	for (;;) {
		int64_t left = deadline - now_ms();
		int k = reach(e, a, n, (int)(left < TRY_MS || want ? left : TRY_MS), w->detail, sizeof(w->detail));
		if (k < 0)
			return;
		/* reach: every address; noreach: none of them. */
		if ((want && (size_t)k == n) || (!want && k == 0)) {
			w->ok = 1;
			list_addrs(a, n, want, said, w->detail, sizeof(w->detail));
			return;
		}
		if (now_ms() + RETRY_PAUSE_MS >= deadline)
			break;
		sleep_ms(RETRY_PAUSE_MS);
	}
	list_addrs(a, n, !want, said, w->detail, sizeof(w->detail));
	if (e->within_ms) {
		size_t l = strlen(w->detail);
		snprintf(w->detail + l, sizeof(w->detail) - l, " (still so after %u.%u s)", e->within_ms / 1000,
			 e->within_ms % 1000 / 100);
	}
}

static void run_other(const struct topology *t, const struct topo_expect *e, const struct state_node *sn,
		      struct wire *w)
{
	int64_t deadline = now_ms() + (e->within_ms ? e->within_ms : 0);

	for (;;) {
		int r;
		if (e->kind == TOPO_EXPECT_ROUTE) {
			r = probe_route(e, w->detail, sizeof(w->detail));
		} else {
			int64_t left = deadline - now_ms();
			r = probe_exec(e->cmd, t->dir, sn->has_user, sn->uid, sn->gid,
				       e->within_ms ? (int)(left > 0 ? left : 1) : EXEC_TRY_MS, w->detail,
				       sizeof(w->detail));
		}
		if (r != 0) {
			w->ok = r > 0;
			return;
		}
		if (now_ms() + RETRY_PAUSE_MS >= deadline)
			return;
		sleep_ms(RETRY_PAUSE_MS);
	}
}

/* ---- processes --------------------------------------------------------- */

struct job {
	pid_t pid;
	int fd;
	size_t idx;
	bool got;
};

typedef void (*probe_fn)(const struct topology *t, const void *arg, const struct state_node *sn, int out);

/* A process that joins node sn and runs fn in its PID namespace, writing
 * to the returned fd's other end. */
static int start_job(const char *lab, const struct topology *t, const struct state_node *sn, probe_fn fn,
		     const void *arg, struct job *j, nlab_error **err)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return nlab_error_set(err, errno, "pipe");
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return nlab_error_set(err, errno, "fork");
	}
	if (pid == 0) {
		nlab_error *e = NULL;
		close(p[0]);
		signal(SIGINT, SIG_DFL);
		if (lab_join_node(lab, sn, &e) < 0) {
			struct wire w = { 0 };
			snprintf(w.detail, sizeof(w.detail), "cannot enter node %s: %s", sn->name, e->msg);
			(void)!write(p[1], &w, sizeof(w));
			_exit(1);
		}
		/* Into the node's PID namespace: only children enter it. */
		pid_t g = fork();
		if (g == 0) {
			setenv("NETLAB_LAB", lab, 1);
			setenv("NETLAB_NODE", sn->name, 1);
			fn(t, arg, sn, p[1]);
			_exit(0);
		}
		int st = 0;
		while (g > 0 && waitpid(g, &st, 0) < 0 && errno == EINTR)
			;
		_exit(g < 0 ? 1 : WIFEXITED(st) ? WEXITSTATUS(st) : 1);
	}
	close(p[1]);
	j->pid = pid;
	j->fd = p[0];
	j->got = false;
	return 0;
}

static void expect_fn(const struct topology *t, const void *arg, const struct state_node *sn, int out)
{
	const struct topo_expect *e = arg;
	struct wire w = { 0 };
	int64_t t0 = now_ms();

	if (e->kind == TOPO_EXPECT_REACH || e->kind == TOPO_EXPECT_NOREACH)
		run_reach(t, e, &w);
	else
		run_other(t, e, sn, &w);
	w.ms = now_ms() - t0;
	(void)!write(out, &w, sizeof(w));
}

/* Wait for one of jobs[0..n) to end; returns its index after reading
 * what it wrote through on_msg. */
static size_t reap_one(struct job *jobs, size_t n, void (*on_msg)(const struct job *, const struct wire *, void *),
		       void *arg)
{
	struct pollfd p[MAX_JOBS];

	for (;;) {
		for (size_t i = 0; i < n; i++)
			p[i] = (struct pollfd){ .fd = jobs[i].fd, .events = POLLIN };
		if (poll(p, n, -1) < 0 && errno != EINTR)
			return 0;
		for (size_t i = 0; i < n; i++) {
			struct wire w;
			if (!p[i].revents)
				continue;
			ssize_t r = TEMP_FAILURE_RETRY(read(jobs[i].fd, &w, sizeof(w)));
			if (r == (ssize_t)sizeof(w)) {
				jobs[i].got = true;
				on_msg(&jobs[i], &w, arg);
				continue;
			}
			/* End of its output: the job is over. */
			close(jobs[i].fd);
			int st;
			while (waitpid(jobs[i].pid, &st, 0) < 0 && errno == EINTR)
				;
			if (!jobs[i].got) {
				struct wire dead = { 0 };
				snprintf(dead.detail, sizeof(dead.detail), "the probe process %s %d before reporting",
					 WIFSIGNALED(st) ? "was killed by signal" : "exited",
					 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
				on_msg(&jobs[i], &dead, arg);
			}
			return i;
		}
	}
}

static void expect_msg(const struct job *j, const struct wire *w, void *arg)
{
	struct lab_test_result *r = &((struct lab_test_result *)arg)[j->idx];

	r->ok = w->ok;
	r->ms = w->ms;
	snprintf(r->detail, sizeof(r->detail), "%s", w->detail);
}

/* "its init was killed by signal 9 (Killed)..." */
static void death(const struct state_node *sn, char *buf, size_t len)
{
	int k;

	if (!sn->died)
		k = snprintf(buf, len, "its init is gone");
	else if (WIFSIGNALED(sn->died_wstatus))
		k = snprintf(buf, len, "its init was killed by signal %d (%s)", WTERMSIG(sn->died_wstatus),
			     strsignal(WTERMSIG(sn->died_wstatus)));
	else
		k = snprintf(buf, len, "its init exited with code %d", WEXITSTATUS(sn->died_wstatus));
	if (sn->oom_kills && k > 0 && (size_t)k < len)
		snprintf(buf + k, len - (size_t)k, "; the OOM killer killed %llu of its processes",
			 (unsigned long long)sn->oom_kills);
}

int lab_test(const char *lab, const struct topology *t, struct lab_test_result *res, size_t *n, nlab_error **err)
{
	struct lab_state st;
	struct job jobs[MAX_JOBS];
	size_t running = 0;
	int rc = 0;

	*n = 0;
	if (state_read(lab, &st, err) < 0)
		return nlab_error_wrap(err, "lab '%s'", lab);
	if (!proc_id_alive(&st.supervisor)) {
		state_clear(&st);
		return nlab_error_set(err, ESRCH, "lab '%s' is not up", lab);
	}
	for (size_t i = 0; i < t->expects.n; i++) {
		const struct topo_expect *e = &t->expects.v[i];
		res[i] = (struct lab_test_result){ .e = e };
		const struct state_node *sn = state_find_node(&st, e->node);
		char why[200];
		if (!sn) {
			snprintf(res[i].detail, sizeof(res[i].detail), "lab '%s' has no node '%s'", lab, e->node);
			continue;
		}
		if (!proc_id_alive(&sn->init)) {
			death(sn, why, sizeof(why));
			snprintf(res[i].detail, sizeof(res[i].detail), "node %s is dead: %s", e->node, why);
			continue;
		}
		/* An exec expectation runs alone, after what comes before. */
		bool alone = e->kind == TOPO_EXPECT_EXEC;
		while (running && (alone || running == MAX_JOBS)) {
			size_t k = reap_one(jobs, running, expect_msg, res);
			jobs[k] = jobs[--running];
		}
		jobs[running].idx = i;
		if (start_job(lab, t, sn, expect_fn, e, &jobs[running], err) < 0) {
			rc = -1;
			break;
		}
		running++;
		if (alone) {
			reap_one(jobs, running, expect_msg, res);
			running = 0;
		}
	}
	while (running) {
		size_t k = reap_one(jobs, running, expect_msg, res);
		jobs[k] = jobs[--running];
	}
	*n = t->expects.n;
	/* A dead node fails the lab, whatever the expectations look at. */
	for (size_t i = 0; rc == 0 && i < st.nnodes && *n < t->expects.n + t->nodes.n; i++) {
		const struct topo_node *tn = topo_find_node(t, st.nodes[i].name);
		if (proc_id_alive(&st.nodes[i].init))
			continue;
		struct lab_test_result *r = &res[(*n)++];
		char why[200];
		*r = (struct lab_test_result){ .line = tn ? tn->pos.line : 0 };
		snprintf(r->what, sizeof(r->what), "node %s is running", st.nodes[i].name);
		death(&st.nodes[i], why, sizeof(why));
		snprintf(r->detail, sizeof(r->detail), "%s", why);
	}
	state_clear(&st);
	return rc;
}

/* ---- all pairs --------------------------------------------------------- */

struct pairs_arg {
	size_t src;
};

/* From node src: every address of every other node, at once. */
static void pairs_fn(const struct topology *t, const void *arg, const struct state_node *sn, int out)
{
	const struct pairs_arg *pa = arg;
	size_t total = 0, k = 0;
	char err[160];

	(void)sn;
	for (size_t i = 0; i < t->nodes.n; i++)
		if (i != pa->src && !t->nodes.v[i].is_host)
			total += t->nodes.v[i].addrs.n;
	struct probe_addr *a = calloc(total + 1, sizeof(*a));
	size_t *owner = calloc(total + 1, sizeof(*owner));
	if (!a || !owner)
		_exit(1);
	for (size_t i = 0; i < t->nodes.n; i++) {
		if (i == pa->src || t->nodes.v[i].is_host)
			continue;
		for (size_t j = 0; j < t->nodes.v[i].addrs.n; j++) {
			a[k].family = t->nodes.v[i].addrs.v[j].cidr.family;
			memcpy(a[k].addr, t->nodes.v[i].addrs.v[j].cidr.addr, 16);
			owner[k++] = i;
		}
	}
	if (probe_icmp(a, k, TRY_MS, err, sizeof(err)) < 0)
		for (size_t i = 0; i < k; i++)
			snprintf(a[i].why, sizeof(a[i].why), "%s", err);
	for (size_t i = 0; i < k; i++) {
		struct wire w = { .ok = a[i].answered, .a = (int32_t)owner[i] };
		char s[64];
		addr_format(a[i].family, a[i].addr, s, sizeof(s));
		snprintf(w.detail, sizeof(w.detail), "%s: %s", s, a[i].why);
		(void)!write(out, &w, sizeof(w));
	}
}

struct pairs_ctx {
	struct lab_pairs *out;
	size_t *first; /* per source node: its first pair */
	size_t nn;
	const struct topology *t;
};

static void pairs_msg(const struct job *j, const struct wire *w, void *arg)
{
	struct pairs_ctx *c = arg;

	if (w->a < 0 || (size_t)w->a >= c->nn) {
		/* A job that could not run: every pair of its source fails. */
		for (size_t k = 0; k < c->out->n; k++)
			if (c->out->v[k].src == j->idx)
				snprintf(c->out->v[k].detail, sizeof(c->out->v[k].detail), "%.200s", w->detail);
		return;
	}
	for (size_t k = c->first[j->idx]; k < c->out->n && c->out->v[k].src == j->idx; k++) {
		struct lab_pair *p = &c->out->v[k];
		if (p->dst != (size_t)w->a)
			continue;
		if (w->ok) {
			p->answered++;
		} else {
			size_t l = strlen(p->detail);
			snprintf(p->detail + l, sizeof(p->detail) - l, "%s%.200s", l ? "; " : "", w->detail);
		}
	}
}

int lab_all_pairs(const char *lab, const struct topology *t, struct lab_pairs *out, nlab_error **err)
{
	struct lab_state st;
	struct job jobs[MAX_JOBS];
	size_t running = 0, nn = t->nodes.n;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (state_read(lab, &st, err) < 0)
		return nlab_error_wrap(err, "lab '%s'", lab);
	if (!proc_id_alive(&st.supervisor)) {
		state_clear(&st);
		return nlab_error_set(err, ESRCH, "lab '%s' is not up", lab);
	}
	struct pairs_ctx c = { .out = out, .first = calloc(nn + 1, sizeof(size_t)), .nn = nn, .t = t };
	out->v = calloc(nn * nn + 1, sizeof(*out->v));
	if (!c.first || !out->v) {
		free(c.first);
		state_clear(&st);
		return nlab_error_set(err, ENOMEM, "all pairs");
	}
	for (size_t s = 0; s < nn; s++) {
		c.first[s] = out->n;
		for (size_t d = 0; d < nn; d++)
			if (s != d && !t->nodes.v[s].is_host && !t->nodes.v[d].is_host && t->nodes.v[d].addrs.n)
				out->v[out->n++] =
					(struct lab_pair){ .src = s, .dst = d, .naddrs = t->nodes.v[d].addrs.n };
	}
	struct pairs_arg *args = calloc(nn + 1, sizeof(*args));
	for (size_t s = 0; args && s < nn; s++) {
		const struct state_node *sn = state_find_node(&st, t->nodes.v[s].name);
		args[s].src = s;
		if (t->nodes.v[s].is_host || !sn)
			continue;
		if (running == MAX_JOBS) {
			size_t k = reap_one(jobs, running, pairs_msg, &c);
			jobs[k] = jobs[--running];
		}
		jobs[running].idx = s;
		if (start_job(lab, t, sn, pairs_fn, &args[s], &jobs[running], err) < 0) {
			rc = -1;
			break;
		}
		running++;
	}
	while (running) {
		size_t k = reap_one(jobs, running, pairs_msg, &c);
		jobs[k] = jobs[--running];
	}
	free(args);
	free(c.first);
	state_clear(&st);
	return rc;
}

void lab_pairs_free(struct lab_pairs *p)
{
	free(p->v);
	memset(p, 0, sizeof(*p));
}
