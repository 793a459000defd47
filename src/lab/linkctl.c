#include "lab/linkctl.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lab/wiring.h"
#include "net/bpf.h"
#include "net/ifconf.h"
#include "net/link.h"
#include "util/cleanup.h"
#include "util/fsutil.h"

/* One end, opened: a netlink socket in its namespace and its ifindex. */
struct end_io {
	struct nlab_nl *nl;
	int ifindex;
	unsigned flags;
	int mtu;
};

static void end_close(struct end_io *io)
{
	nlab_nl_close(io->nl);
	io->nl = NULL;
}

/* An fd to join the end's network namespace with: the pidfd of the
 * process that lives there (setns() takes pidfds, and a pidfd cannot
 * name a recycled pid). */
static int end_ns_fd(const struct lab_state *st, const struct wiring_end *e, nlab_error **err)
{
	int fd;

	if (e->machine)
		return nlab_error_set(err, 0, "on machine %s (the lab's controller reaches it)", e->machine);
	switch (e->where) {
	case WIRING_NODE: {
		struct state_node *sn = state_find_node(st, e->name);
		if (!sn)
			return nlab_error_set(err, ENOENT, "no node '%s' in the lab's state", e->name);
		fd = proc_id_pidfd(&sn->init);
		if (fd < 0)
			return nlab_error_set(err, ESRCH, "node %s is not running", e->name);
		return fd;
	}
	case WIRING_SWITCH:
		/* Switches live in the lab namespace, the supervisor's. */
		fd = proc_id_pidfd(&st->supervisor);
		if (fd < 0)
			return nlab_error_set(err, ESRCH, "the lab's supervisor is gone");
		return fd;
	case WIRING_HOST:
	default:
		fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		return fd < 0 ? nlab_error_set(err, errno, "open /proc/self/ns/net") : fd;
	}
}

static int end_open(const struct lab_state *st, const struct wiring_end *e, struct end_io *io, nlab_error **err)
{
	char label[64];

	memset(io, 0, sizeof(*io));
	wiring_end_label(e, label, sizeof(label));
	cleanup_close int fd = end_ns_fd(st, e, err);
	if (fd < 0 || nlab_nl_open_in(&io->nl, fd, err) < 0)
		return nlab_error_wrap(err, "%s", label);
	io->ifindex = nlab_link_index(io->nl, e->ifname, err);
	if (io->ifindex < 0 || nlab_link_flags(io->nl, io->ifindex, &io->flags, &io->mtu, err) < 0) {
		end_close(io);
		return nlab_error_wrap(err, "%s", label);
	}
	return 0;
}

/* ---- down and up ----------------------------------------------------- */

static int saved_path(const char *lab, const struct wiring_end *e, char *buf, size_t len, bool make, nlab_error **err)
{
	char dir[4096];

	if (state_lab_dir(lab, dir, sizeof(dir), err) < 0)
		return -1;
	int n = snprintf(buf, len, "%s/linkdown", dir);
	if (n < 0 || (size_t)n >= len)
		return nlab_error_set(err, ENAMETOOLONG, "linkdown");
	if (make && mkdir_p(buf, 0700, err) < 0)
		return -1;
	/* Names from the wiring file: node names and interface names have
	 * no '/' (lab/wiring.c checks). */
	n = snprintf(buf, len, "%s/linkdown/%s.%s", dir, e->where == WIRING_HOST ? "host" : e->name, e->ifname);
	return n < 0 || (size_t)n >= len ? nlab_error_set(err, ENAMETOOLONG, "linkdown") : 0;
}

/* The end a link is taken down at: its switch port when it has one (no
 * configuration there to lose), else the end the user named. */
static int down_end(const struct wiring_link *l, int named)
{
	if (l->ends[0].where == WIRING_SWITCH)
		return 0;
	if (l->ends[1].where == WIRING_SWITCH)
		return 1;
	return named;
}

static int set_updown(struct end_io *io, bool up, const char *label, nlab_error **err)
{
	char ctx[96];

	snprintf(ctx, sizeof(ctx), "%s %s", label, up ? "up" : "down");
	if ((up ? nlab_link_queue_up : nlab_link_queue_down)(io->nl, io->ifindex, NULL, ctx, err) < 0)
		return -1;
	return nlab_nl_flush(io->nl, err);
}

/* Take the link down at end e; a node's configuration on it goes to
 * *saved (and to the linkdown file when keep_file). */
static int link_down(const char *lab, const struct wiring_end *e, struct end_io *io, char **saved, size_t *len,
		     bool keep_file, nlab_error **err)
{
	char label[64], path[4300];

	wiring_end_label(e, label, sizeof(label));
	*saved = NULL;
	*len = 0;
	if (!(io->flags & IFF_UP))
		return 0; /* already down: what was saved then stays */
	if (e->where != WIRING_SWITCH) {
		if (nlab_ifconf_save(io->nl, io->ifindex, saved, len, err) < 0)
			return nlab_error_wrap(err, "%s", label);
		if (keep_file) {
			char tmp[4400];
			if (saved_path(lab, e, path, sizeof(path), true, err) < 0)
				return -1;
			snprintf(tmp, sizeof(tmp), "%s.tmp", path);
			if (write_file_atomic(path, tmp, *saved ? *saved : "", *len, err) < 0)
				return nlab_error_wrap(err, "%s: save its configuration", label);
		}
	}
	return set_updown(io, false, label, err);
}

static int link_up(const char *lab, const struct wiring_end *e, struct end_io *io, const char *saved, size_t len,
		   bool from_file, nlab_error **err)
{
	char label[64], path[4300];
	cleanup_free char *file = NULL;

	wiring_end_label(e, label, sizeof(label));
	if (set_updown(io, true, label, err) < 0)
		return -1;
	if (e->where == WIRING_SWITCH)
		return 0;
	if (from_file) {
		if (saved_path(lab, e, path, sizeof(path), false, err) < 0)
			return -1;
		file = read_file(path, 1u << 24, &len);
		if (!file)
			return 0; /* nothing saved: it was not netlab that took it down */
		saved = file;
	}
	char ctx[120];
	snprintf(ctx, sizeof(ctx), "%s: restore its addresses and routes", label);
	if (saved && len &&
	    (nlab_ifconf_queue_restore(io->nl, io->ifindex, saved, len, ctx, err) < 0 ||
	     nlab_nl_flush(io->nl, err) < 0))
		return -1;
	if (from_file)
		unlink(path);
	return 0;
}

/* ---- shaping --------------------------------------------------------- */

static int shape_end(const struct wiring_end *e, struct end_io *io, const struct link_request *r, nlab_error **err)
{
	struct nlab_shape_state cur;
	char label[64], ctx[300], what[160];
	int fd = -1, rc = -1;

	wiring_end_label(e, label, sizeof(label));
	if (nlab_shape_read(io->nl, io->ifindex, &cur, err) < 0)
		return nlab_error_wrap(err, "%s", label);
	struct nlab_shape sh = r->action == LINK_CLEAR ? (struct nlab_shape){ 0 } : cur.shape;
	if (r->action == LINK_SET) {
#define TAKE(bit, field)         \
	if (r->set_mask & (bit)) \
		sh.field = r->set.field;
		TAKE(LINK_SET_RATE, rate_bps)
		TAKE(LINK_SET_DELAY, delay_us)
		TAKE(LINK_SET_JITTER, jitter_us)
		TAKE(LINK_SET_LOSS, loss_ppm)
		TAKE(LINK_SET_BURST, burst)
		TAKE(LINK_SET_LIMIT, limit)
#undef TAKE
		/* Derived values are derived again from the new rate. */
		if ((r->set_mask & LINK_SET_RATE) && !(r->set_mask & LINK_SET_BURST))
			sh.burst = 0;
		if ((r->set_mask & LINK_SET_RATE) && !(r->set_mask & LINK_SET_LIMIT))
			sh.limit = 0;
		sh.mtu = io->mtu;
		if (sh.jitter_us && !sh.delay_us)
			return nlab_error_set(err, EINVAL, "%s: jitter needs a delay", label);
		if (!sh.rate_bps)
			sh.burst = 0;
		if (!sh.rate_bps && !sh.delay_us)
			sh.limit = 0;
	}
	if (nlab_shape_netem(&sh)) {
		/* Check before removing anything: a kernel without netem
		 * keeps the end as it was. */
		struct nlab_tc_features f;
		if (nlab_tc_probe(&f) && !f.netem) {
			nlab_error_set(err, 0,
				       "%s: delay and jitter need the kernel's netem queueing discipline, which the "
				       "running kernel lacks (CONFIG_NET_SCH_NETEM); rate and loss work without it",
				       label);
			if (err && *err)
				(*err)->errnum = EOPNOTSUPP;
			return -1;
		}
	}
	nlab_shape_format(&sh, what, sizeof(what));
	snprintf(ctx, sizeof(ctx), "%s egress: %s", label, what);
	if (nlab_shape_bpf_loss(&sh) && (fd = nlab_bpf_loss_load(sh.loss_ppm, err)) < 0)
		return nlab_error_wrap(err, "%s", ctx);
	if (nlab_shape_queue_clear(io->nl, io->ifindex, &cur, ctx, err) == 0 &&
	    nlab_shape_queue(io->nl, io->ifindex, &sh, fd, ctx, err) == 0 && nlab_nl_flush(io->nl, err) == 0)
		rc = 0;
	if (fd >= 0)
		close(fd);
	return rc;
}

/* ---- reading back ---------------------------------------------------- */

static void end_status(const struct lab_state *st, const struct wiring_end *e, struct link_end_status *out)
{
	struct end_io io;
	nlab_error *err = NULL;

	memset(out, 0, sizeof(*out));
	wiring_end_label(e, out->label, sizeof(out->label));
	if (end_open(st, e, &io, &err) == 0 && nlab_shape_read(io.nl, io.ifindex, &out->shape, &err) == 0) {
		out->read = true;
		out->up = io.flags & IFF_UP;
		out->carrier = io.flags & IFF_LOWER_UP;
	}
	if (err)
		snprintf(out->error, sizeof(out->error), "%s", err->msg);
	nlab_error_free(&err);
	if (io.nl)
		end_close(&io);
}

static void link_status(const char *lab, const struct lab_state *st, const struct wiring_link *l,
			struct link_status *out)
{
	char path[4300];
	struct stat sb;

	memset(out, 0, sizeof(*out));
	out->line = l->line;
	for (int k = 0; k < 2; k++) {
		end_status(st, &l->ends[k], &out->ends[k]);
		if (l->ends[k].where != WIRING_SWITCH &&
		    saved_path(lab, &l->ends[k], path, sizeof(path), false, NULL) == 0 && stat(path, &sb) == 0)
			out->saved = true;
	}
}

/* ---- the verb -------------------------------------------------------- */

static int change(const char *lab, const struct lab_state *st, const struct wiring_link *l, int named,
		  const struct link_request *r, nlab_error **err)
{
	struct end_io io[2] = { 0 };
	int targets[2], n = 0, rc = -1;

	if (r->action == LINK_DOWN || r->action == LINK_UP || r->action == LINK_FLAP) {
		targets[n++] = down_end(l, named);
	} else if (r->action == LINK_SET || r->action == LINK_CLEAR) {
		if (r->ends & LINK_THIS)
			targets[n++] = named;
		if (r->ends & LINK_PEER)
			targets[n++] = !named;
	}
	for (int k = 0; k < n; k++)
		if (end_open(st, &l->ends[targets[k]], &io[k], err) < 0)
			goto out;
	for (int k = 0; k < n; k++) {
		const struct wiring_end *e = &l->ends[targets[k]];
		char *saved = NULL;
		size_t len = 0;
		switch (r->action) {
		case LINK_DOWN:
			rc = link_down(lab, e, &io[k], &saved, &len, true, err);
			break;
		case LINK_UP:
			rc = link_up(lab, e, &io[k], NULL, 0, true, err);
			break;
		case LINK_FLAP: {
			/* A link already down (by `link ... down`) stays as the
			 * file says; flap only what it took down itself. */
			bool was_up = io[k].flags & IFF_UP;
			rc = link_down(lab, e, &io[k], &saved, &len, false, err);
			if (rc == 0 && was_up) {
				struct timespec ts = { r->flap_ms / 1000, (long)(r->flap_ms % 1000) * 1000000L };
				while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
					;
				rc = link_up(lab, e, &io[k], saved, len, false, err);
			}
			break;
		}
		case LINK_SET:
		case LINK_CLEAR:
			rc = shape_end(e, &io[k], r, err);
			break;
		case LINK_SHOW:
		default:
			rc = 0;
			break;
		}
		free(saved);
		if (rc < 0)
			goto out;
	}
	rc = 0;
out:
	for (int k = 0; k < 2; k++)
		if (io[k].nl)
			end_close(&io[k]);
	return rc;
}

int lab_link_change(const char *lab, const struct link_request *r, struct link_status *out, nlab_error **err)
{
	struct lab_state st;
	struct wiring w;
	int which, rc = -1;

	if (state_read(lab, &st, err) < 0)
		return nlab_error_wrap(err, "lab '%s'", lab);
	if (!proc_id_alive(&st.supervisor)) {
		state_clear(&st);
		return nlab_error_set(err, ESRCH, "lab '%s' is not up", lab);
	}
	if (wiring_read(lab, &w, err) < 0) {
		state_clear(&st);
		return -1;
	}
	const struct wiring_link *l = wiring_find(&w, r->node, r->ifname, &which);
	if (!l) {
		nlab_error_set(err, ENOENT, "lab '%s' has no link at %s:%s", lab, r->node, r->ifname);
		goto out;
	}
	if (change(lab, &st, l, which, r, err) < 0) {
		nlab_error_wrap(err, "link at %s:%s", r->node, r->ifname);
		goto out;
	}
	link_status(lab, &st, l, out);
	rc = 0;
out:
	wiring_clear(&w);
	state_clear(&st);
	return rc;
}

static const char *end_state(const struct link_end_status *e)
{
	return !e->read ? "?" : !e->up ? "down" : !e->carrier ? "no-carrier" : "up";
}

json_object *lab_links_json(const char *lab, const struct lab_state *st)
{
	json_object *arr = json_object_new_array();
	struct wiring w;

	if (wiring_read(lab, &w, NULL) < 0)
		return arr;
	for (size_t i = 0; i < w.nlinks; i++) {
		struct link_status ls;
		json_object *o = json_object_new_object(), *ends = json_object_new_array();
		link_status(lab, st, &w.links[i], &ls);
		bool up = true;
		for (int k = 0; k < 2; k++) {
			const struct link_end_status *e = &ls.ends[k];
			json_object *je = json_object_new_object();
			char eg[160];
			json_object_object_add(je, "end", json_object_new_string(e->label));
			json_object_object_add(je, "state", json_object_new_string(end_state(e)));
			if (e->read) {
				nlab_shape_format(&e->shape.shape, eg, sizeof(eg));
				if (e->shape.other)
					strncat(eg, " (+ other qdiscs or filters)", sizeof(eg) - strlen(eg) - 1);
				json_object_object_add(je, "egress", json_object_new_string(eg));
			} else {
				json_object_object_add(je, "error", json_object_new_string(e->error));
			}
			up = up && e->read && e->up && e->carrier;
			json_object_array_add(ends, je);
		}
		json_object_object_add(o, "line", json_object_new_int(ls.line));
		json_object_object_add(o, "state", json_object_new_string(up ? "up" : "down"));
		if (ls.saved)
			json_object_object_add(o, "saved", json_object_new_boolean(1));
		json_object_object_add(o, "ends", ends);
		json_object_array_add(arr, o);
	}
	wiring_clear(&w);
	return arr;
}
