/* Bringing a lab up on its machines, all or none, and down again. */
#include "remote/control.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lab/lab.h"
#include "remote/part.h"
#include "remote/ssh.h"
#include "topo/addr.h"
#include "topo/span.h"
#include "util/fsutil.h"
#include "util/time.h"

bool mh_local_only;

bool mh_controls(const char *lab)
{
	return !mh_local_only && topo_lab_name_valid(lab) && mh_record_exists(lab);
}

static void on_signal(int sig)
{
	(void)sig;
	rmt_interrupted = 1;
}

/* Ctrl-C or a SIGTERM while machines work: stop waiting and roll back in
 * order (ssh runs in its own process group and does not get them). */
static void catch_signals(struct sigaction *old)
{
	struct sigaction sa = { .sa_handler = on_signal };

	rmt_interrupted = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old[0]);
	sigaction(SIGTERM, &sa, &old[1]);
	signal(SIGPIPE, SIG_IGN);
}

static void restore_signals(const struct sigaction *old)
{
	sigaction(SIGINT, &old[0], NULL);
	sigaction(SIGTERM, &old[1], NULL);
}

/* The machines of a lab's record, as ssh needs them. */
static char *remote_self(const char *given)
{
	char *cmd = rmt_command(given, NULL, 0);
	return cmd;
}

static void add_why(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add_why(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n && n + 2 < len) {
		memcpy(buf + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	return o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

/* ---- up ----------------------------------------------------------------- */

struct upctx {
	struct topology *t;
	const struct mh_up_options *o;
	struct mh_record rec;
	struct rmt_session *s;  /* per machine of t */
	bool *used, *want;
	size_t k;
	char why[4096];
};

static void machine_why(struct upctx *c, size_t m, const char *what)
{
	char label[300];

	rmt_machine_label(&c->t->machines.v[m], label, sizeof(label));
	add_why(c->why, sizeof(c->why), "machine %s: %s", label, what);
}

/* A machine's error line or, without one, why its session ended. */
static void session_failed(struct upctx *c, size_t m)
{
	const char *e = jstr(c->s[m].line, "error");
	char why[1200];

	if (e) {
		machine_why(c, m, e);
		return;
	}
	rmt_session_why(&c->s[m], why, sizeof(why));
	machine_why(c, m, why);
}

static int record_start(struct upctx *c, nlab_error **err)
{
	struct topology *t = c->t;
	size_t len;
	char *path = realpath(t->file, NULL);

	c->rec.lab = strdup(c->o->lab);
	c->rec.topology = path;
	c->rec.dir = t->dir ? strdup(t->dir) : NULL;
	c->rec.remote_netlab = remote_self(c->o->remote_netlab);
	c->rec.text = read_file(t->file, 64u << 20, &len);
	c->rec.created = (int64_t)time(NULL);
	c->rec.port = t->span->port;
	c->rec.vni = t->span->vni_base;
	c->rec.machines = calloc(c->k + 1, sizeof(*c->rec.machines));
	if (!c->rec.lab || !path || !c->rec.remote_netlab || !c->rec.text || !c->rec.machines)
		return nlab_error_set(err, errno ? errno : ENOMEM, "lab %s: read %s", c->o->lab, t->file);
	for (size_t m = 0; m < c->k; m++) {
		if (!c->used[m])
			continue;
		struct mh_machine *mm = &c->rec.machines[c->rec.nmachines++];
		const struct topo_machine *tm = &t->machines.v[m];
		mm->m.name = strdup(tm->name);
		mm->m.user = tm->user ? strdup(tm->user) : NULL;
		mm->m.host = strdup(tm->host);
		mm->holds = true;
		mm->nodes = calloc(t->span->machine_nodes[m] + 1, sizeof(*mm->nodes));
		for (size_t i = 0; mm->nodes && i < t->nodes.n; i++)
			if (!t->nodes.v[i].is_host && t->span->node_machine[i] == (int)m)
				mm->nodes[mm->nnodes++] = strdup(t->nodes.v[i].name);
		if (!mm->m.name || !mm->m.host || !mm->nodes)
			return nlab_error_set(err, ENOMEM, "lab %s", c->o->lab);
	}
	/* Before any machine is asked: a `down` after a crash of this
	 * process finds them all. */
	return mh_record_write(&c->rec, err);
}

static struct mh_machine *rec_machine(struct upctx *c, size_t m)
{
	return (struct mh_machine *)mh_record_machine(&c->rec, c->t->machines.v[m].name);
}

static int start_sessions(struct upctx *c, nlab_error **err)
{
	for (size_t m = 0; m < c->k; m++) {
		if (!c->used[m])
			continue;
		const struct topo_machine *tm = &c->t->machines.v[m];
		char ul[64] = "";
		char *args[5] = { "__remote", "part", (char *)c->o->lab, "--underlay", ul };
		if (tm->has_underlay)
			addr_format(tm->underlay.family, tm->underlay.addr, ul, sizeof(ul));
		char *cmd = rmt_command(c->rec.remote_netlab, args, tm->has_underlay ? 5 : 3);
		c->s[m].m = tm;
		if (!cmd)
			return nlab_error_set(err, ENOMEM, "ssh command");
		int r = rmt_session_start(&c->s[m], cmd, err);
		free(cmd);
		if (r < 0)
			return nlab_error_wrap(err, "machine %s", tm->name);
	}
	return 0;
}

/* Every machine's hello: same protocol and version, one address family;
 * the lab side of tunnels is the smallest underlay MTU less VXLAN's. */
static bool hellos(struct upctx *c)
{
	struct topo_span *s = c->t->span;
	int mtu = 0, family = 0;

	memcpy(c->want, c->used, c->k * sizeof(bool));
	rmt_sessions_wait(c->s, c->k, c->want, 120000);
	for (size_t m = 0; m < c->k; m++) {
		if (!c->used[m])
			continue;
		json_object *l = c->s[m].line, *v;
		const char *ul = jstr(l, "underlay"), *ver = jstr(l, "version");
		if (!l || !json_object_object_get_ex(l, "hello", &v)) {
			session_failed(c, m);
			continue;
		}
		if (json_object_get_int(v) != RMT_PROTOCOL || !ver || strcmp(ver, c->o->version) != 0) {
			char w[200];
			snprintf(w, sizeof(w), "runs netlab %s, this is %s: every machine needs the same version",
				 ver ? ver : "?", c->o->version);
			machine_why(c, m, w);
			continue;
		}
		struct topo_underlay *u = &s->underlay[m];
		if (!ul || addr_parse(ul, &u->family, u->addr) < 0) {
			machine_why(c, m, "no underlay address in its hello");
			continue;
		}
		json_object *jm;
		u->mtu = json_object_object_get_ex(l, "mtu", &jm) ? json_object_get_int(jm) : 1500;
		if (family && u->family != family) {
			machine_why(c, m,
				    "its underlay address is not of the same family as the others' (give each machine an "
				    "`underlay` address of one family)");
			continue;
		}
		family = u->family;
		if (!mtu || u->mtu < mtu)
			mtu = u->mtu;
		snprintf(rec_machine(c, m)->underlay, sizeof(rec_machine(c, m)->underlay), "%s", ul);
	}
	if (c->why[0] || rmt_interrupted)
		return false;
	s->mtu = mtu - (family == AF_INET6 ? 70 : 50);
	c->rec.mtu = s->mtu;
	return true;
}

static json_object *part_message(struct upctx *c)
{
	const struct topology *t = c->t;
	const struct topo_span *s = t->span;
	json_object *p = json_object_new_object(), *ms = json_object_new_array(), *pl = json_object_new_array();

	/* For messages: the file as the user named it here. */
	json_object_object_add(p, "file", json_object_new_string(t->file));
	if (t->dir)
		json_object_object_add(p, "dir", json_object_new_string(t->dir));
	json_object_object_add(p, "text", json_object_new_string(c->rec.text));
	for (size_t m = 0; m < c->k; m++) {
		json_object *j = json_object_new_object();
		char a[64] = "";
		if (s->underlay[m].family)
			addr_format(s->underlay[m].family, s->underlay[m].addr, a, sizeof(a));
		json_object_object_add(j, "name", json_object_new_string(t->machines.v[m].name));
		json_object_object_add(j, "underlay", json_object_new_string(a));
		json_object_object_add(j, "mtu", json_object_new_int(s->underlay[m].mtu));
		json_object_array_add(ms, j);
	}
	json_object_object_add(p, "machines", ms);
	for (size_t i = 0; i < t->nodes.n; i++)
		json_object_array_add(pl, json_object_new_int(s->node_machine[i]));
	json_object_object_add(p, "placement", pl);
	json_object_object_add(p, "vni", json_object_new_int64(s->vni_base));
	json_object_object_add(p, "port", json_object_new_int(s->port));
	json_object_object_add(p, "mtu", json_object_new_int(s->mtu));
	json_object_object_add(p, "grace_ms", json_object_new_int(c->o->grace_ms));
	json_object_object_add(p, "line_timeout_s", json_object_new_int(c->o->line_timeout_s));
	return p;
}

static void send_all(struct upctx *c, const char *key, const bool *to)
{
	for (size_t m = 0; m < c->k; m++) {
		if (!to[m])
			continue;
		json_object *o = json_object_new_object();
		json_object_object_add(o, key, json_object_new_boolean(1));
		rmt_session_send(&c->s[m], o);
		json_object_put(o);
	}
}

/* Build every part; on any failure take the built ones down. */
static bool build(struct upctx *c, struct mh_up_result *res)
{
	json_object *body = part_message(c);
	bool *built = calloc(c->k + 1, sizeof(bool));

	for (size_t m = 0; m < c->k && built; m++) {
		if (!c->used[m])
			continue;
		json_object *msg = json_object_new_object();
		json_object_object_add(body, "machine", json_object_new_int((int)m));
		json_object_object_add(msg, "part", json_object_get(body));
		rmt_session_send(&c->s[m], msg);
		json_object_put(msg);
	}
	json_object_put(body);
	if (!built)
		return false;
	memcpy(c->want, c->used, c->k * sizeof(bool));
	rmt_sessions_wait(c->s, c->k, c->want, -1);
	size_t o = 0;
	for (size_t m = 0; m < c->k; m++) {
		json_object *up;
		if (!c->used[m])
			continue;
		if (!json_object_object_get_ex(c->s[m].line, "up", &up)) {
			session_failed(c, m);
			continue;
		}
		built[m] = true;
		json_object *n;
		size_t nodes = json_object_object_get_ex(up, "nodes", &n) ? (size_t)json_object_get_int64(n) : 0;
		res->nodes += nodes;
		res->machines++;
		int w = snprintf(res->per_machine + o, sizeof(res->per_machine) - o, "%s%s %zu", o ? ", " : "",
				 c->t->machines.v[m].name, nodes);
		if (w > 0 && (size_t)w < sizeof(res->per_machine) - o)
			o += (size_t)w;
		size_t pl = strlen(res->phases);
		snprintf(res->phases + pl, sizeof(res->phases) - pl, "%s%s:%s", pl ? ";" : "", c->t->machines.v[m].name,
			 jstr(up, "phases") ? jstr(up, "phases") : "");
	}
	if (rmt_interrupted)
		add_why(c->why, sizeof(c->why), "interrupted");
	if (!c->why[0]) {
		free(built);
		return true;
	}
	/* All or none: the parts that came up go down (each machine's own
	 * lab_down(), as a crash there would need). */
	send_all(c, "abort", built);
	memcpy(c->want, built, c->k * sizeof(bool));
	rmt_sessions_wait(c->s, c->k, c->want, 600000);
	for (size_t m = 0; m < c->k; m++)
		if (built[m] && !json_object_object_get_ex(c->s[m].line, "down", NULL))
			session_failed(c, m);
	free(built);
	return false;
}

static bool commit(struct upctx *c)
{
	send_all(c, "commit", c->used);
	memcpy(c->want, c->used, c->k * sizeof(bool));
	rmt_sessions_wait(c->s, c->k, c->want, 120000);
	for (size_t m = 0; m < c->k; m++)
		if (c->used[m] && !json_object_object_get_ex(c->s[m].line, "committed", NULL))
			session_failed(c, m);
	return !c->why[0];
}

int mh_up(struct topology *t, const struct mh_up_options *o, struct mh_up_result *res, nlab_error **err)
{
	struct upctx c = { .t = t, .o = o, .k = t->machines.n };
	struct sigaction old[2];
	int rc = -1;

	memset(res, 0, sizeof(*res));
	int lock = mh_lock(o->lab, err);
	if (lock < 0)
		return -1;
	if (mh_record_exists(o->lab)) {
		mh_unlock(lock, o->lab, false);
		return nlab_error_set(err, EEXIST, "lab '%s' is up across machines; take it down first with: netlab "
						   "down %s",
				      o->lab, o->lab);
	}
	if (lab_is_up(o->lab)) {
		mh_unlock(lock, o->lab, false);
		return nlab_error_set(err, EEXIST, "a lab '%s' is up on this machine; take it down first", o->lab);
	}
	c.s = calloc(c.k + 1, sizeof(*c.s));
	c.used = calloc(c.k + 1, sizeof(bool));
	c.want = calloc(c.k + 1, sizeof(bool));
	for (size_t m = 0; c.s && m < c.k; m++) {
		c.s[m].in = c.s[m].out = c.s[m].errfd = -1;
		c.used[m] = topo_span_machine_used(t, m);
	}
	catch_signals(old);
	if (!c.s || !c.used || !c.want) {
		nlab_error_set(err, ENOMEM, "lab %s", o->lab);
		goto out;
	}
	if (record_start(&c, err) < 0)
		goto remove;
	if (start_sessions(&c, err) < 0)
		goto stop;
	if (hellos(&c) && mh_record_write(&c.rec, err) == 0 && build(&c, res)) {
		if (commit(&c)) {
			c.rec.up = true;
			if (mh_record_write(&c.rec, err) == 0)
				rc = 0;
			goto done;
		}
		/* Some machines kept their part, some did not hear it: down
		 * from the record, as after a crash. */
		for (size_t m = 0; m < c.k; m++)
			if (c.used[m])
				rmt_session_end(&c.s[m], 10000);
		mh_unlock(lock, o->lab, false);
		lock = -1;
		bool existed;
		nlab_error *e = NULL;
		res->rolled_back = mh_down(o->lab, 30, o->note, o->note_arg, &existed, &e) == 0;
		nlab_error_free(&e);
		nlab_error_set(err, 0, "%s", c.why);
		goto out;
	}
	if (rmt_interrupted)
		add_why(c.why, sizeof(c.why), "interrupted");
stop:
	/* Those that had not built anything see the end of their input. */
	for (size_t m = 0; m < c.k; m++)
		if (c.used[m])
			rmt_session_end(&c.s[m], 10000);
	if (err && !*err)
		nlab_error_set(err, 0, "%s", c.why[0] ? c.why : "failed");
	res->rolled_back = true;
remove:
	mh_record_remove(o->lab, NULL);
	mh_unlock(lock, o->lab, true);
	lock = -1;
	goto out;
done:
	for (size_t m = 0; m < c.k; m++)
		if (c.used[m])
			rmt_session_end(&c.s[m], 10000);
out:
	restore_signals(old);
	if (lock >= 0)
		mh_unlock(lock, o->lab, false);
	mh_record_clear(&c.rec);
	free(c.s);
	free(c.used);
	free(c.want);
	return rc;
}

/* ---- down --------------------------------------------------------------- */

static void holders_text(const struct mh_machine *m, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t k = 0; k < m->nnodes && o + 40 < len; k++) {
		int w = snprintf(buf + o, len - o, "%s%s", k ? " " : "", m->nodes[k]);
		if (w > 0)
			o += (size_t)w;
	}
	if (o + 40 >= len)
		snprintf(buf + o, len - o, " ...");
}

int mh_down(const char *lab, int retry_s, mh_note_fn note, void *note_arg, bool *existed, nlab_error **err)
{
	struct mh_record r;
	struct sigaction old[2];
	int lock = mh_lock(lab, err), delay = 1000, rc = -1;

	*existed = false;
	if (lock < 0)
		return -1;
	if (mh_record_read(lab, &r, err) < 0) {
		bool absent = err && *err && (*err)->errnum == ENOENT;
		mh_unlock(lock, lab, absent);
		if (absent)
			nlab_error_free(err);
		return absent ? 0 : -1;
	}
	*existed = true;
	catch_signals(old);
	int64_t deadline = now_ms() + (int64_t)retry_s * 1000;
	struct rmt_session *s = calloc(r.nmachines + 1, sizeof(*s));
	bool *want = calloc(r.nmachines + 1, sizeof(bool));
	char why[4096];
	for (;;) {
		why[0] = '\0';
		for (size_t m = 0; s && want && m < r.nmachines; m++) {
			want[m] = r.machines[m].holds;
			if (!want[m])
				continue;
			char *args[] = { "__remote", "local", "down", (char *)lab };
			char *cmd = rmt_command(r.remote_netlab, args, 4);
			s[m] = (struct rmt_session){ .m = &r.machines[m].m };
			if (!cmd || rmt_session_start(&s[m], cmd, NULL) < 0) {
				want[m] = false;
				add_why(why, sizeof(why), "machine %s: cannot run ssh", r.machines[m].m.name);
			} else {
				rmt_session_close_input(&s[m]);
			}
			free(cmd);
		}
		if (!s || !want) {
			nlab_error_set(err, ENOMEM, "lab %s", lab);
			break;
		}
		/* `down` there says no JSON: its output ends when it does. */
		rmt_sessions_wait(s, r.nmachines, want, retry_s * 1000 + 60000);
		for (size_t m = 0; m < r.nmachines; m++) {
			if (!want[m])
				continue;
			char w[1200], label[300], nodes[400];
			rmt_session_end(&s[m], 10000);
			if (WIFEXITED(s[m].status) && WEXITSTATUS(s[m].status) == 0) {
				r.machines[m].holds = false;
				continue;
			}
			rmt_session_why(&s[m], w, sizeof(w));
			rmt_machine_label(&r.machines[m].m, label, sizeof(label));
			holders_text(&r.machines[m], nodes, sizeof(nodes));
			add_why(why, sizeof(why), "machine %s still holds nodes %s: %s", label, nodes, w);
		}
		bool left = false;
		for (size_t m = 0; m < r.nmachines; m++)
			left = left || r.machines[m].holds;
		if (!left) {
			mh_record_remove(lab, NULL);
			rc = 0;
			break;
		}
		mh_record_write(&r, NULL);
		if (now_ms() + delay > deadline || rmt_interrupted) {
			nlab_error_set(err, 0,
				       "%s; run `netlab down %s` again once it answers (or `netlab down %s` on that machine, "
				       "then again here)",
				       why, lab, lab);
			break;
		}
		if (note) {
			char msg[4400];
			snprintf(msg, sizeof(msg), "%s; trying again in %d s", why, delay / 1000);
			note(msg, note_arg);
		}
		struct timespec ts = { delay / 1000, (delay % 1000) * 1000000L };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !rmt_interrupted)
			;
		delay = delay * 2 > 10000 ? 10000 : delay * 2;
	}
	restore_signals(old);
	free(s);
	free(want);
	mh_record_clear(&r);
	mh_unlock(lock, lab, rc == 0);
	return rc;
}
