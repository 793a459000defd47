#include "lab/hostshare.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "lab/beacon.h"
#include "lab/state.h"
#include "net/sysctl.h"
#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/lock.h"

#define HOST_FILE ".host.json"
#define HOST_TMP ".host.json.tmp"

static void (*default_notice)(const char *, void *);
static void *default_notice_arg;

void hostshare_set_notice(void (*notice)(const char *msg, void *arg), void *arg)
{
	default_notice = notice;
	default_notice_arg = arg;
}

int hostshare_lock(const struct lock_wait *w, nlab_error **err)
{
	struct lock_wait def = { .what = "the host lock",
				 .timeout_ms = 30000,
				 .notice_ms = 1000,
				 .notice = default_notice,
				 .arg = default_notice_arg };
	cleanup_close int root = state_root_open(true, err);

	if (root < 0)
		return -1;
	int fd = lock_dir(root, w ? w : &def, err);
	if (fd < 0)
		return nlab_error_wrap(err, "%s (the host lock: user namespace slots, shared host settings)",
				       state_root());
	return fd;
}

void hostshare_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* ---- the file -------------------------------------------------------- */

static json_object *load(int root, nlab_error **err)
{
	nlab_error *e = NULL;
	size_t len;
	cleanup_free char *text = read_file_at(root, HOST_FILE, 16u << 20, &len, &e);

	if (!text) {
		if (e && e->errnum == ENOENT) {
			nlab_error_free(&e);
			json_object *o = json_object_new_object();
			json_object_object_add(o, "settings", json_object_new_array());
			return o;
		}
		if (err) {
			nlab_error_free(err);
			*err = e;
		} else {
			nlab_error_free(&e);
		}
		nlab_error_wrap(err, "%s/%s", state_root(), HOST_FILE);
		return NULL;
	}
	json_object *o = json_tokener_parse(text);
	json_object *arr;
	if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "settings", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		json_object_put(o);
		nlab_error_set(err, EBADMSG,
			       "%s/%s is damaged: the original values of shared host settings are lost (remove it to go on)",
			       state_root(), HOST_FILE);
		return NULL;
	}
	return o;
}

static int save(int root, json_object *o, nlab_error **err)
{
	json_object *arr;

	json_object_object_get_ex(o, "settings", &arr);
	if (json_object_array_length(arr) == 0) {
		if (unlinkat(root, HOST_FILE, 0) < 0 && errno != ENOENT)
			return nlab_error_set(err, errno, "remove %s/%s", state_root(), HOST_FILE);
		return 0;
	}
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
	if (!text)
		return nlab_error_set(err, ENOMEM, "%s", HOST_FILE);
	if (write_file_atomic_at(root, HOST_FILE, HOST_TMP, text, strlen(text), err) < 0)
		return nlab_error_wrap(err, "%s", state_root());
	return 0;
}

static const char *sget(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : "";
}

static json_object *labs_of(json_object *s)
{
	json_object *l;
	if (!json_object_object_get_ex(s, "labs", &l) || !json_object_is_type(l, json_type_array)) {
		l = json_object_new_array();
		json_object_object_add(s, "labs", l);
	}
	return l;
}

static bool has_lab(json_object *s, const char *lab)
{
	json_object *l = labs_of(s);

	for (size_t i = 0; i < json_object_array_length(l); i++)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(l, i)), lab))
			return true;
	return false;
}

static void drop_lab(json_object *s, const char *lab)
{
	json_object *l = labs_of(s);

	for (size_t i = json_object_array_length(l); i-- > 0;)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(l, i)), lab))
			json_object_array_del_idx(l, i, 1);
}

static json_object *find(json_object *o, const char *kind, const char *key)
{
	json_object *arr;

	json_object_object_get_ex(o, "settings", &arr);
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *s = json_object_array_get_idx(arr, i);
		if (!strcmp(sget(s, "kind"), kind) && !strcmp(sget(s, "key"), key))
			return s;
	}
	return NULL;
}

/* A holder that left no trace (no state directory, no supervisor) went
 * away without `down`: its share is not held by anyone any more. */
static bool holder_gone(const char *lab)
{
	pid_t pid;

	if (!topo_lab_name_valid(lab))
		return true;
	if (state_dir_exists(lab))
		return false;
	int fd = beacon_find(lab, &pid);
	if (fd >= 0) {
		close(fd);
		return false;
	}
	return true;
}

/* Writing a forwarding switch for all interfaces (ip_forward,
 * conf.all.forwarding) writes every interface's own: their values are
 * saved with it, to be given back after it.  The prefix of those keys, or
 * NULL for a key that has none. */
static const char *per_iface_prefix(const char *key)
{
	if (!strcmp(key, "net.ipv4.ip_forward") || !strcmp(key, "net.ipv4.conf.all.forwarding"))
		return "ipv4";
	if (!strcmp(key, "net.ipv6.conf.all.forwarding"))
		return "ipv6";
	return NULL;
}

/* "also": [{"key": "net.ipv4.conf.eth0.forwarding", "original": "1"}, ...]
 * for every interface (and "default") of the calling thread's netns. */
static json_object *save_per_iface(const char *fam)
{
	char path[64];
	json_object *also = json_object_new_array();

	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf", fam);
	DIR *d = opendir(path);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char key[300], val[64];
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "all") || strchr(e->d_name, '.'))
			continue;
		snprintf(key, sizeof(key), "net.%s.conf.%s.forwarding", fam, e->d_name);
		if (nlab_sysctl_read(key, val, sizeof(val), NULL) < 0)
			continue;
		json_object *o = json_object_new_object();
		json_object_object_add(o, "key", json_object_new_string(key));
		json_object_object_add(o, "original", json_object_new_string(val));
		json_object_array_add(also, o);
	}
	if (d)
		closedir(d);
	return also;
}

static int restore_sysctl(const char *key, const char *orig, nlab_error **err)
{
	char cur[256];
	nlab_error *e = NULL;

	if (nlab_sysctl_read(key, cur, sizeof(cur), &e) < 0) {
		/* Its interface is gone (a lab's host end): nothing to give back. */
		if (e->errnum == ENOENT) {
			nlab_error_free(&e);
			return 0;
		}
		if (err) {
			nlab_error_free(err);
			*err = e;
		} else {
			nlab_error_free(&e);
		}
		return nlab_error_wrap(err, "restore host sysctl %s", key);
	}
	if (strcmp(cur, orig) != 0 && nlab_sysctl_write(key, orig, err) < 0)
		return nlab_error_wrap(err, "restore host sysctl %s", key);
	return 0;
}

/* Give a setting back its original value. */
static int restore(json_object *s, nlab_error **err)
{
	const char *kind = sget(s, "kind"), *key = sget(s, "key"), *orig = sget(s, "original");

	if (!strcmp(kind, "sysctl")) {
		if (restore_sysctl(key, orig, err) < 0)
			return -1;
		json_object *also;
		int r = 0;
		if (json_object_object_get_ex(s, "also", &also) && json_object_is_type(also, json_type_array))
			for (size_t i = 0; i < json_object_array_length(also); i++) {
				json_object *o = json_object_array_get_idx(also, i);
				const char *k = sget(o, "key");
				if (strncmp(k, "net.", 4) == 0 && !strstr(k, "..") && !strchr(k, '/') &&
				    restore_sysctl(k, sget(o, "original"), r < 0 ? NULL : err) < 0)
					r = -1;
			}
		return r;
	}
	if (!strcmp(kind, "cgroup")) {
		/* key "MNT:CTRL" */
		char path[4200], val[64];
		const char *colon = strrchr(key, ':');
		if (!colon)
			return 0;
		snprintf(path, sizeof(path), "%.*s/cgroup.subtree_control", (int)(colon - key), key);
		snprintf(val, sizeof(val), "-%s", colon + 1);
		cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
		struct statfs fs;
		/* Only ever a cgroup v2 control file. */
		if (fd >= 0 && (fstatfs(fd, &fs) < 0 || fs.f_type != CGROUP2_SUPER_MAGIC))
			return nlab_error_set(err, EPERM, "%s is not a cgroup v2 file", path);
		if (fd < 0 || TEMP_FAILURE_RETRY(write(fd, val, strlen(val))) < 0)
			return nlab_error_set(err, errno, "restore the root cgroup's controllers: write '%s' to %s",
					      val, path);
		return 0;
	}
	return 0;
}

/* Release the shares of `lab` (NULL: only prune) and of holders that are
 * gone; restore what is left without holders.  The first failure goes
 * to *err, the setting stays (with no holder) to be retried. */
static int settle(json_object *o, const char *lab, nlab_error **err)
{
	json_object *arr;
	int r = 0;

	json_object_object_get_ex(o, "settings", &arr);
	for (size_t i = json_object_array_length(arr); i-- > 0;) {
		json_object *s = json_object_array_get_idx(arr, i);
		json_object *l = labs_of(s);
		if (lab)
			drop_lab(s, lab);
		for (size_t k = json_object_array_length(l); k-- > 0;)
			if (holder_gone(json_object_get_string(json_object_array_get_idx(l, k))))
				json_object_array_del_idx(l, k, 1);
		if (json_object_array_length(l) > 0)
			continue;
		if (restore(s, r < 0 ? NULL : err) < 0) {
			r = -1;
			continue;
		}
		json_object_array_del_idx(arr, i, 1);
	}
	return r;
}

static json_object *new_setting(json_object *o, const char *kind, const char *key, const char *orig, const char *value)
{
	json_object *arr, *s = json_object_new_object();

	json_object_object_get_ex(o, "settings", &arr);
	json_object_object_add(s, "kind", json_object_new_string(kind));
	json_object_object_add(s, "key", json_object_new_string(key));
	json_object_object_add(s, "original", json_object_new_string(orig));
	json_object_object_add(s, "value", json_object_new_string(value));
	json_object_object_add(s, "labs", json_object_new_array());
	json_object_array_add(arr, s);
	return s;
}

static void add_lab(json_object *s, const char *lab)
{
	if (!has_lab(s, lab))
		json_object_array_add(labs_of(s), json_object_new_string(lab));
}

/* ---- the operations -------------------------------------------------- */

int hostshare_sysctl(const char *lab, const char *key, const char *value, const struct lock_wait *w, nlab_error **err)
{
	int r = -1;
	int lock = hostshare_lock(w, err);

	if (lock < 0)
		return -1;
	cleanup_close int root = state_root_open(false, err);
	json_object *o = root >= 0 ? load(root, err) : NULL;
	if (!o)
		goto out;
	/* A failure to restore someone else's orphan is not this lab's. */
	settle(o, NULL, NULL);
	json_object *s = find(o, "sysctl", key);
	if (s && json_object_array_length(labs_of(s)) > 0 && strcmp(sget(s, "value"), value) != 0 &&
	    !(json_object_array_length(labs_of(s)) == 1 && has_lab(s, lab))) {
		nlab_error_set(err, EBUSY,
			       "host sysctl %s: lab %s keeps it at %s, this lab wants %s (labs that share "
			       "the host must agree)",
			       key, json_object_get_string(json_object_array_get_idx(labs_of(s), 0)), sget(s, "value"),
			       value);
		goto out;
	}
	if (!s) {
		char orig[256];
		if (nlab_sysctl_read(key, orig, sizeof(orig), err) < 0)
			goto out;
		s = new_setting(o, "sysctl", key, orig, value);
		const char *fam = per_iface_prefix(key);
		if (fam)
			json_object_object_add(s, "also", save_per_iface(fam));
	} else {
		json_object_object_add(s, "value", json_object_new_string(value));
	}
	add_lab(s, lab);
	/* Journaled first: a crash after the write still restores. */
	if (save(root, o, err) < 0)
		goto out;
	char cur[256];
	if (nlab_sysctl_read(key, cur, sizeof(cur), err) < 0 ||
	    (strcmp(cur, value) != 0 && nlab_sysctl_write(key, value, err) < 0))
		goto out;
	r = 0;
out:
	json_object_put(o);
	hostshare_unlock(lock);
	return r;
}

int hostshare_cgroup_controller(int lockfd, const char *lab, const char *mnt, const char *ctrl, bool was_enabled,
				nlab_error **err)
{
	char key[4200];

	(void)lockfd;
	cleanup_close int root = state_root_open(false, err);
	json_object *o = root >= 0 ? load(root, err) : NULL;
	if (!o)
		return -1;
	snprintf(key, sizeof(key), "%s:%s", mnt, ctrl);
	json_object *s = find(o, "cgroup", key);
	int r = 0;
	if (s || !was_enabled) {
		if (!s)
			s = new_setting(o, "cgroup", key, "off", "on");
		add_lab(s, lab);
		r = save(root, o, err);
	}
	json_object_put(o);
	return r;
}

int hostshare_release(const char *lab, const struct lock_wait *w, nlab_error **err)
{
	int lock = hostshare_lock(w, err);

	if (lock < 0)
		return -1;
	cleanup_close int root = state_root_open(false, err);
	json_object *o = root >= 0 ? load(root, err) : NULL;
	int r = -1;
	if (o) {
		r = settle(o, lab, err);
		if (save(root, o, r < 0 ? NULL : err) < 0)
			r = -1;
	}
	json_object_put(o);
	hostshare_unlock(lock);
	return r;
}

char *hostshare_held(const char *lab)
{
	cleanup_close int root = state_root_open(false, NULL);
	json_object *o = root >= 0 ? load(root, NULL) : NULL;
	json_object *arr;
	char *list = NULL;
	size_t len = 0;
	FILE *f;

	if (!o)
		return NULL;
	f = open_memstream(&list, &len);
	json_object_object_get_ex(o, "settings", &arr);
	for (size_t i = 0; f && i < json_object_array_length(arr); i++) {
		json_object *s = json_object_array_get_idx(arr, i);
		if (has_lab(s, lab))
			fprintf(f, "%s%s %s", len || ftell(f) ? ", " : "", sget(s, "kind"), sget(s, "key"));
	}
	if (f)
		fclose(f);
	json_object_put(o);
	if (list && !*list) {
		free(list);
		list = NULL;
	}
	return list;
}
