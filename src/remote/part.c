#include "remote/part.h"

#include <errno.h>
#include <ifaddrs.h>
#include <json-c/json.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab/lab.h"
#include "lab/state.h"
#include "lab/test.h"
#include "net/qdisc.h"
#include "topo/addr.h"
#include "topo/features.h"
#include "topo/span.h"
#include "topo/topo.h"
#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/time.h"

/* ---- the lines ---------------------------------------------------------- */

static void send_line(json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

	/* Straight to the fd: a forked supervisor must not flush a copy. */
	if (write_all(STDOUT_FILENO, s, strlen(s)) < 0 || write_all(STDOUT_FILENO, "\n", 1) < 0) {
		/* The controller is gone; what follows sees end of file. */
	}
	json_object_put(o);
}

static void send_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void send_error(const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "error", json_object_new_string(msg ? msg : "out of memory"));
	free(msg);
	send_line(o);
}

/* One JSON object from standard input; NULL at its end. */
static json_object *read_line(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);
	json_object *o = n > 0 ? json_tokener_parse(line) : NULL;

	free(line);
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

static int64_t jint(json_object *o, const char *key, int64_t def)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int) ? json_object_get_int64(v)
											    : def;
}

/* ---- this machine's underlay -------------------------------------------- */

/* The address tunnels start from: the one given, else the one the
 * controller's ssh reached (SSH_CONNECTION: client port server port); and
 * the MTU of the interface that has it. */
static int underlay_here(const char *given, struct topo_underlay *u, char *shown, size_t shownlen, char *why,
			 size_t whylen)
{
	char addr[INET6_ADDRSTRLEN + 8] = "";

	memset(u, 0, sizeof(*u));
	if (given) {
		snprintf(addr, sizeof(addr), "%s", given);
	} else {
		const char *c = getenv("SSH_CONNECTION");
		if (!c || sscanf(c, "%*s %*s %45s", addr) != 1) {
			snprintf(why, whylen,
				 "cannot tell this machine's underlay address (no SSH_CONNECTION): give the machine an "
				 "'underlay ADDRESS'");
			return -1;
		}
	}
	/* An IPv4 connection to a dual-stack sshd reads ::ffff:A.B.C.D. */
	const char *a = strncmp(addr, "::ffff:", 7) == 0 && strchr(addr + 7, '.') ? addr + 7 : addr;
	snprintf(shown, shownlen, "%s", a);
	if (addr_parse(a, &u->family, u->addr) < 0) {
		snprintf(why, whylen, "underlay address '%s' is not an IPv4 or IPv6 address", a);
		return -1;
	}
	struct ifaddrs *ifs = NULL, *found = NULL;
	if (getifaddrs(&ifs) < 0) {
		snprintf(why, whylen, "getifaddrs: %s", strerror(errno));
		return -1;
	}
	for (struct ifaddrs *i = ifs; i && !found; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != u->family)
			continue;
		const void *ia = u->family == AF_INET ? (const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
						      : (const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		if (addr_equal(u->family, ia, u->addr))
			found = i;
	}
	if (!found) {
		freeifaddrs(ifs);
		snprintf(why, whylen, "%s is not an address of this machine", a);
		return -1;
	}
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", found->ifa_name);
	freeifaddrs(ifs);
	cleanup_close int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	u->mtu = sk >= 0 && ioctl(sk, SIOCGIFMTU, &ifr) == 0 ? ifr.ifr_mtu : 1500;
	return 0;
}

/* ---- the part ----------------------------------------------------------- */

/* The controller's topology directory when this machine has it (a shared
 * or copied tree: relative paths, `files`, /lab in nodes), else none. */
static const char *dir_here(const char *dir)
{
	struct stat st;

	return dir && dir[0] == '/' && stat(dir, &st) == 0 && S_ISDIR(st.st_mode) ? dir : NULL;
}

static char *diags_text(const struct diags *d, const struct topo_source *src)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	diag_print(f, d, src);
	fclose(f);
	while (len && text[len - 1] == '\n')
		text[--len] = '\0';
	return text;
}

/* The topology of message part, with its span for this machine. */
static struct topology *part_topology(json_object *part, const char *lab, char **why)
{
	const char *file = jstr(part, "file"), *text = jstr(part, "text");
	json_object *ms, *placement;
	struct diags d = { 0 };
	struct topo_source *src = NULL;
	struct topology *t = NULL;
	cleanup_free int *where = NULL;

	*why = NULL;
	if (!file || !text || !json_object_object_get_ex(part, "machines", &ms) ||
	    !json_object_object_get_ex(part, "placement", &placement)) {
		*why = strdup("the controller's part message is incomplete");
		return NULL;
	}
	int r = topo_load_buffer(file, text, strlen(text), dir_here(jstr(part, "dir")), &t, &src, &d);
	if (r == 0) {
		/* What this kernel lacks is refused here as `up` does. */
		struct nlab_tc_features f;
		struct topo_kernel k = { 0 };
		bool any = false;
		for (size_t i = 0; i < t->links.n; i++)
			any = any || t->links.v[i].rate_bps || t->links.v[i].delay_us || t->links.v[i].loss_ppm;
		if (any && nlab_tc_probe(&f)) {
			k = (struct topo_kernel){ .known = true, .netem = f.netem, .tbf = f.tbf, .bpf_loss = f.bpf_loss };
			if (topo_check_kernel(t, &k, true, &d))
				r = -1;
		}
	}
	if (r < 0) {
		diag_sort(&d);
		*why = diags_text(&d, src);
		goto fail;
	}
	topo_source_free(src);
	src = NULL;
	diag_free(&d);
	free(t->name);
	t->name = strdup(lab);
	/* The machines as the controller names them (its --machines, not
	 * necessarily the file's), and the placement it made. */
	topo_machines_clear(t);
	size_t nm = json_object_array_length(ms), nn = json_object_array_length(placement);
	int here = (int)jint(part, "machine", -1);
	if (nm == 0 || nm > TOPO_MACHINES_MAX || nn != t->nodes.n || here < 0 || (size_t)here >= nm) {
		*why = strdup("the controller's placement does not fit this topology (another netlab version?)");
		goto fail;
	}
	where = calloc(nn + 1, sizeof(int));
	for (size_t i = 0; where && i < nm; i++) {
		struct topo_machine *m = VEC_PUSH(t->machines);
		const char *name = jstr(json_object_array_get_idx(ms, i), "name");
		if (!m || !name || !(m->name = strdup(name)) || !(m->host = strdup(name)))
			goto oom;
	}
	for (size_t i = 0; where && i < nn; i++)
		where[i] = json_object_get_int(json_object_array_get_idx(placement, i));
	if (!where || topo_span_set(t, where) < 0) {
		*why = strdup("the controller's placement does not fit this topology");
		goto fail;
	}
	struct topo_span *s = t->span;
	s->part = here;
	s->vni_base = (uint32_t)jint(part, "vni", 0);
	s->port = (uint16_t)jint(part, "port", TOPO_VXLAN_PORT);
	s->mtu = (int)jint(part, "mtu", 0);
	for (size_t i = 0; i < nm; i++) {
		json_object *m = json_object_array_get_idx(ms, i);
		const char *ul = jstr(m, "underlay");
		if (ul && *ul && addr_parse(ul, &s->underlay[i].family, s->underlay[i].addr) < 0)
			s->underlay[i].family = 0;
		s->underlay[i].mtu = (int)jint(m, "mtu", 0);
	}
	return t;
oom:
	*why = strdup("out of memory");
fail:
	diag_free(&d);
	topo_source_free(src);
	topo_free(t);
	if (!*why)
		*why = strdup("out of memory");
	return NULL;
}

/* After UP: the part keeps what it was given, and its state names its own
 * copy of the topology (`status --firewall` and `test` on this machine
 * read it; the controller's path may not exist here). */
static int keep_part(const char *lab, json_object *part, nlab_error **err)
{
	char dir[4096], path[4200], tmp[4200];
	const char *text = jstr(part, "text");
	struct lab_state st;

	if (state_lab_dir(lab, dir, sizeof(dir), err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/part.topo", dir);
	snprintf(tmp, sizeof(tmp), "%s/.part.topo.tmp", dir);
	if (write_file_atomic(path, tmp, text, strlen(text), err) < 0)
		return -1;
	json_object *spec = json_object_get(part);
	json_object_object_del(spec, "text");
	const char *js = json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PLAIN);
	snprintf(tmp, sizeof(tmp), "%s/.part.json.tmp", dir);
	char pj[4200];
	snprintf(pj, sizeof(pj), "%s/part.json", dir);
	int r = write_file_atomic(pj, tmp, js, strlen(js), err);
	json_object_put(spec);
	if (r < 0 || state_read(lab, &st, err) < 0)
		return -1;
	free(st.topology);
	st.topology = strdup(path);
	r = state_write(&st, err);
	state_clear(&st);
	return r;
}

static void take_down(const char *lab)
{
	nlab_error *err = NULL;
	struct lab_lock_options lo = { 0 };
	struct lab_down_result res;

	if (lab_take_down(lab, &lo, &res, &err) < 0) {
		send_error("lab %s: rolling back: %s", lab, err ? err->msg : "?");
		nlab_error_free(&err);
	} else {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "down", json_object_new_boolean(1));
		send_line(o);
	}
}

int rmt_part(const char *lab, const char *underlay, const char *version)
{
	struct topo_underlay u;
	char why[300], shown[INET6_ADDRSTRLEN + 8];

	signal(SIGPIPE, SIG_IGN);
	if (!topo_lab_name_valid(lab)) {
		send_error("invalid lab name '%s'", lab);
		return 2;
	}
	if (geteuid() != 0) {
		send_error("needs root (labs are namespaces and network interfaces): give a user that is root on "
			   "this machine, or a --remote-netlab such as 'sudo -n netlab'");
		return 1;
	}
	if (underlay_here(underlay, &u, shown, sizeof(shown), why, sizeof(why)) < 0) {
		send_error("%s", why);
		return 1;
	}
	if (lab_is_up(lab)) {
		send_error("a lab %s is already up on this machine (netlab down %s there, if it is a leftover)", lab, lab);
		return 1;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "hello", json_object_new_int(RMT_PROTOCOL));
	json_object_object_add(o, "version", json_object_new_string(version));
	json_object_object_add(o, "underlay", json_object_new_string(shown));
	json_object_object_add(o, "mtu", json_object_new_int(u.mtu));
	send_line(o);

	json_object *msg = read_line(), *part;
	if (!msg || !json_object_object_get_ex(msg, "part", &part)) {
		json_object_put(msg);
		return 0; /* the controller gave up before asking */
	}
	char *bad = NULL;
	struct topology *t = part_topology(part, lab, &bad);
	if (!t) {
		send_error("%s", bad ? bad : "?");
		free(bad);
		json_object_put(msg);
		return 1;
	}
	struct lab_up_options opt = {
		.lab = lab,
		.grace_ms = (int)jint(part, "grace_ms", 2000),
		.line_timeout_s = (int)jint(part, "line_timeout_s", 120),
	};
	struct lab_up_result res;
	nlab_error *err = NULL;
	int64_t t0 = now_ms();
	if (lab_up(t, &opt, &res, &err) < 0) {
		send_error("%s%s", err ? err->msg : "?",
			   res.rolled_back ? "" : "; and its rollback failed: netlab down there cleans up");
		nlab_error_free(&err);
		nlab_error_free(&res.rollback_err);
		topo_free(t);
		json_object_put(msg);
		return 1;
	}
	topo_free(t);
	if (keep_part(lab, part, &err) < 0) {
		send_error("%s", err->msg);
		nlab_error_free(&err);
		json_object_put(msg);
		take_down(lab);
		return 1;
	}
	json_object_put(msg);
	o = json_object_new_object();
	json_object *up = json_object_new_object();
	json_object_object_add(up, "nodes", json_object_new_int64((int64_t)res.nodes));
	json_object_object_add(up, "ms", json_object_new_int64(now_ms() - t0));
	json_object_object_add(up, "phases", json_object_new_string(res.phases));
	json_object_object_add(o, "up", up);
	send_line(o);

	/* Up, not yet for good: every machine must be.  An end of file (the
	 * controller died, or its ssh) is an abort. */
	msg = read_line();
	json_object *v;
	if (msg && json_object_object_get_ex(msg, "commit", &v) && json_object_get_boolean(v)) {
		json_object_put(msg);
		o = json_object_new_object();
		json_object_object_add(o, "committed", json_object_new_boolean(1));
		send_line(o);
		return 0;
	}
	json_object_put(msg);
	take_down(lab);
	return 1;
}

/* ---- test --------------------------------------------------------------- */

int rmt_test(const char *lab, bool pairs)
{
	signal(SIGPIPE, SIG_IGN);
	json_object *msg = read_line();
	const char *file = msg ? jstr(msg, "file") : NULL, *text = msg ? jstr(msg, "text") : NULL;
	struct diags d = { 0 };
	struct topo_source *src = NULL;
	struct topology *t = NULL;
	nlab_error *err = NULL;
	int rc = 1;

	if (!file || !text || !topo_lab_name_valid(lab)) {
		send_error("the controller's test message is incomplete");
		goto out;
	}
	if (topo_load_buffer(file, text, strlen(text), dir_here(jstr(msg, "dir")), &t, &src, &d) < 0) {
		diag_sort(&d);
		char *why = diags_text(&d, src);
		send_error("%s", why ? why : "invalid topology");
		free(why);
		goto out;
	}
	json_object *o = json_object_new_object(), *arr = json_object_new_array();
	if (pairs) {
		struct lab_pairs p;
		if (lab_all_pairs(lab, t, &p, &err) < 0) {
			json_object_put(o);
			json_object_put(arr);
			send_error("%s", err->msg);
			goto out;
		}
		struct lab_state st;
		bool have = state_read(lab, &st, NULL) == 0;
		for (size_t i = 0; i < p.n; i++) {
			/* Only the pairs from this machine's nodes. */
			if (!have || !state_find_node(&st, t->nodes.v[p.v[i].src].name))
				continue;
			json_object *j = json_object_new_object();
			json_object_object_add(j, "src", json_object_new_int64((int64_t)p.v[i].src));
			json_object_object_add(j, "dst", json_object_new_int64((int64_t)p.v[i].dst));
			json_object_object_add(j, "answered", json_object_new_int64((int64_t)p.v[i].answered));
			json_object_object_add(j, "detail", json_object_new_string(p.v[i].detail));
			json_object_array_add(arr, j);
		}
		if (have)
			state_clear(&st);
		lab_pairs_free(&p);
		json_object_object_add(o, "pairs", arr);
	} else {
		/* Room for the dead nodes' failures too (lab/test.h). */
		struct lab_test_result *res = calloc(t->expects.n + t->nodes.n + 1, sizeof(*res));
		struct lab_state st;
		size_t nres = 0;
		if (!res || lab_test(lab, t, res, &nres, &err) < 0 || state_read(lab, &st, &err) < 0) {
			free(res);
			json_object_put(o);
			json_object_put(arr);
			send_error("%s", err ? err->msg : "out of memory");
			goto out;
		}
		for (size_t i = 0; i < t->expects.n; i++) {
			if (!state_find_node(&st, t->expects.v[i].node))
				continue; /* another machine's */
			json_object *j = json_object_new_object();
			json_object_object_add(j, "index", json_object_new_int64((int64_t)i));
			json_object_object_add(j, "ok", json_object_new_boolean(res[i].ok));
			json_object_object_add(j, "detail", json_object_new_string(res[i].detail));
			json_object_object_add(j, "ms", json_object_new_int64(res[i].ms));
			json_object_array_add(arr, j);
		}
		state_clear(&st);
		free(res);
		json_object_object_add(o, "results", arr);
	}
	send_line(o);
	rc = 0;
out:
	nlab_error_free(&err);
	diag_free(&d);
	topo_source_free(src);
	topo_free(t);
	json_object_put(msg);
	return rc;
}
