#include "lab/lab.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lab/hostif.h"
#include "lab/netns_names.h"
#include "lab/beacon.h"
#include "lab/hostshare.h"
#include "lab/labdir.h"
#include "lab/rootless.h"
#include "lab/undo.h"
#include "node/cgroup.h"
#include "util/cleanup.h"
#include "util/lock.h"

int lab_is_up(const char *lab)
{
	struct proc_id sup;
	pid_t pid;

	if (!topo_lab_name_valid(lab))
		return 0;
	if (state_read_supervisor(lab, &sup) == 0 && proc_id_alive(&sup))
		return 1;
	/* A supervisor whose state is damaged or gone is still a lab. */
	int fd = beacon_find(lab, &pid);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

static bool wait_pidfd(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r > 0;
}

/* Signal the process behind pidfd and wait for it to exit; SIGKILL after
 * ms.  False when it is still there after that. */
static bool stop_pidfd(int fd, int sig, int ms)
{
	if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0)
		return errno == ESRCH;
	if (wait_pidfd(fd, ms))
		return true;
	if (sig != SIGKILL)
		syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
	return wait_pidfd(fd, 5000);
}

int lab_list_up(char ***up, size_t *nup, nlab_error **err)
{
	char **all;
	size_t n;

	*up = NULL;
	*nup = 0;
	if (state_list(&all, &n, err) < 0)
		return -1;
	*up = calloc(n + 1, sizeof(**up));
	for (size_t i = 0; i < n; i++) {
		if (*up && lab_is_up(all[i]))
			(*up)[(*nup)++] = all[i];
		else
			free(all[i]);
	}
	free(all);
	if (!*up)
		return nlab_error_set(err, ENOMEM, "lab list");
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int lab_list_all(char ***labs, size_t *n, nlab_error **err)
{
	char **b = NULL;
	size_t nb = 0;

	if (state_list(labs, n, err) < 0)
		return -1;
	beacon_list(&b, &nb);
	for (size_t i = 0; i < nb; i++) {
		bool have = false;
		for (size_t k = 0; k < *n && !have; k++)
			have = strcmp((*labs)[k], b[i]) == 0;
		char **v = have ? NULL : realloc(*labs, (*n + 1) * sizeof(**labs));
		if (v) {
			*labs = v;
			(*labs)[(*n)++] = b[i];
		} else {
			free(b[i]);
		}
	}
	free(b);
	if (*n)
		qsort(*labs, *n, sizeof(**labs), cmp_name);
	return 0;
}

void lab_list_free(char **labs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(labs[i]);
	free(labs);
}

/* ---- taking a lab down ----------------------------------------------- */

/* What could not be removed, one "; "-separated list for the user. */
struct leftovers {
	char *text;
	size_t len;
	FILE *f;
	int errnum;
};

static void left(struct leftovers *l, nlab_error **e)
{
	if (!*e)
		return;
	if (!l->f)
		l->f = open_memstream(&l->text, &l->len);
	if (l->f)
		fprintf(l->f, "%s%s", ftell(l->f) ? "; " : "", (*e)->msg);
	if (!l->errnum)
		l->errnum = (*e)->errnum;
	nlab_error_free(e);
}

/* The supervisor, found by its beacon and by the state's record (the two
 * agree unless the state is damaged): SIGTERM, its grace period plus
 * 10 s to take its lab down, then SIGKILL. */
static void stop_supervisor(const char *lab, const struct lab_state *st, struct lab_down_result *res,
			    struct leftovers *l)
{
	pid_t pid = 0;
	int grace = st && st->grace_ms > 0 ? st->grace_ms : 2000;
	cleanup_close int fd = beacon_find(lab, &pid);
	cleanup_close int fd2 = -1;
	nlab_error *e = NULL;

	if (st && proc_id_alive(&st->supervisor) && st->supervisor.pid != pid)
		fd2 = proc_id_pidfd(&st->supervisor);
	if (fd >= 0) {
		res->existed = true;
		if (!stop_pidfd(fd, SIGTERM, grace + 10000))
			nlab_error_set(&e, 0, "its supervisor (pid %d) does not exit", (int)pid);
		left(l, &e);
	}
	if (fd2 >= 0) {
		res->existed = true;
		if (!stop_pidfd(fd2, SIGTERM, grace + 10000))
			nlab_error_set(&e, 0, "its supervisor (pid %d) does not exit", (int)st->supervisor.pid);
		left(l, &e);
	}
}

static bool lab_has_subids(const struct lab_state *st)
{
	for (size_t i = 0; i < st->nnodes; i++)
		if (st->nodes[i].userns && st->nodes[i].uid_base)
			return true;
	return false;
}

/* In the child of rootless_mapped(); what it could not do it says on
 * stderr, as `down` would. */
static int tidy_mapped(void *arg)
{
	nlab_error *e = NULL;
	size_t n = 0;

	if (labdir_tidy(arg, &n, &e) < 0) {
		nlab_error_print("down", &e);
		return -1;
	}
	return 0;
}

int lab_down(const char *lab, struct lab_down_result *res, nlab_error **err)
{
	struct lab_state st;
	struct leftovers l = { 0 };
	nlab_error *e = NULL;
	bool found = false;

	memset(res, 0, sizeof(*res));
	if (state_check_lab_name(lab, err) < 0)
		return -1;
	res->existed = state_dir_exists(lab);
	bool have_state = state_read(lab, &st, &e) == 0;
	if (!have_state && res->existed) {
		/* Damaged (or foreign, or half written by a crash early in
		 * `up`): everything below is found from the kernel anyway. */
		if (e && e->errnum != ENOENT) {
			res->state_damaged = true;
			snprintf(res->state_problem, sizeof(res->state_problem), "%s", e->msg);
		}
	}
	nlab_error_free(&e);
	stop_supervisor(lab, have_state ? &st : NULL, res, &l);
	/* After a kill -9 of the supervisor the inits die by PDEATHSIG; make
	 * sure of it. */
	for (size_t i = 0; have_state && i < st.nnodes; i++) {
		if (!proc_id_alive(&st.nodes[i].init))
			continue;
		cleanup_close int fd = proc_id_pidfd(&st.nodes[i].init);
		if (fd >= 0 && !stop_pidfd(fd, SIGKILL, 5000)) {
			nlab_error_set(&e, 0, "the init of node %s (pid %d) does not exit", st.nodes[i].name,
				       (int)st.nodes[i].init.pid);
			left(&l, &e);
		}
	}
	/* Host interfaces first: their pinned namespaces still hold them
	 * (without a state, a moved physical interface went back to the
	 * host with its namespace, and a macvlan child with it). */
	if (have_state && st.nhost_ifaces) {
		cleanup_close int host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		for (size_t i = 0; i < st.nhost_ifaces; i++)
			if (hostif_give_back(&st.host_ifaces[i], -1, host, &e) < 0)
				left(&l, &e);
		hostif_unpin(&st);
	}
	if (undo_host_links(lab, have_state ? &st : NULL, &found, &e) < 0)
		left(&l, &e);
	res->existed |= found;
	if (undo_host_rules(lab, &found, &e) < 0)
		left(&l, &e);
	res->existed |= found;
	if (have_state && netns_names_remove(&st, &e) < 0)
		left(&l, &e);
	/* Cgroups: those the state names (each checked to be this lab's),
	 * or, without a usable state, whatever <mount>/netlab/LAB holds.
	 * The cgroup tree is the machine's, shared with labs of other state
	 * roots: it is searched only when the state cannot say. */
	if (have_state) {
		for (size_t i = 0; i < st.nnodes; i++)
			for (size_t k = 0; k < st.nodes[i].ncgroups; k++)
				if (!cgroup_path_ok(st.nodes[i].cgroups[k], lab, st.nodes[i].name))
					st.nodes[i].cgroups[k][0] = '\0';
		for (size_t k = 0; k < st.ncgroups; k++)
			if (!cgroup_path_ok(st.cgroups[k], lab, NULL))
				st.cgroups[k][0] = '\0';
		for (size_t i = 0; i < st.nnodes; i++)
			if (cgroup_remove_checked(st.nodes[i].cgroups, st.nodes[i].ncgroups, &e) < 0)
				left(&l, &e);
		if (cgroup_remove_checked(st.cgroups, st.ncgroups, &e) < 0)
			left(&l, &e);
		/* A state that names no lab cgroups was written before they
		 * were made (a supervisor killed in between leaves them
		 * unrecorded): whatever of <mount>/netlab/LAB can go goes.
		 * Best effort: a group another state root's lab of this name
		 * still uses is busy, and stays, without an error. */
		if (st.ncgroups == 0) {
			nlab_error *quiet = NULL;
			cgroup_lab_sweep(lab, &found, &quiet);
			nlab_error_free(&quiet);
		}
	} else {
		if (cgroup_lab_sweep(lab, &found, &e) < 0)
			left(&l, &e);
		res->existed |= found;
	}
	/* The lab's processes are gone: what they wrote in host directories
	 * is made the directories' owners' (lab/labdir.h). */
	size_t tidied = 0;
	if (have_state && labdir_tidy(&st, &tidied, &e) < 0)
		left(&l, &e);
	/* A user's lab: its nodes' other users are the user's subordinate
	 * IDs, which only a namespace with the lab's maps may chown.  Its
	 * supervisor did so as it stopped; after a crash, this does. */
	if (have_state && geteuid() != 0 && lab_has_subids(&st) && rootless_mapped(tidy_mapped, &st, &e) != 0) {
		if (!e)
			nlab_error_set(&e, 0, "give the files its nodes' users left back to their directories' owners");
		left(&l, &e);
	}
	char *held = hostshare_held(lab);
	res->existed |= held != NULL;
	free(held);
	if (undo_host_shares(lab, &e) < 0)
		left(&l, &e);
	if (have_state)
		state_clear(&st);
	/* Never "down" while its supervisor is still there. */
	pid_t pid;
	int fd = beacon_find(lab, &pid);
	if (fd >= 0) {
		close(fd);
		nlab_error_set(&e, 0, "its supervisor (pid %d) is still running", (int)pid);
		left(&l, &e);
	}
	if (l.f)
		fclose(l.f);
	if (l.text) {
		/* The state stays: a later `down` tries again. */
		nlab_error_set(err, l.errnum, "not everything could be removed: %s", l.text);
		free(l.text);
		return -1;
	}
	if (state_remove(lab, err) < 0)
		return -1;
	return 0;
}

/* ---- the lab lock ---------------------------------------------------- */

struct lock_ctx {
	const char *lab;
	const struct lab_lock_options *o;
};

static void lock_notice(const char *msg, void *arg)
{
	struct lock_ctx *c = arg;
	char full[600];
	pid_t pid;

	snprintf(full, sizeof(full), "%s", msg);
	if (c->o->interrupt_setup) {
		/* Whoever holds it is bringing the lab up or down: either
		 * way its supervisor is to stop, and a setup that is told
		 * to stop rolls back at once instead of running on. */
		cleanup_close int fd = beacon_find(c->lab, &pid);
		if (fd >= 0 && syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0) == 0)
			snprintf(full + strlen(full), sizeof(full) - strlen(full),
				 "; told the lab's supervisor (pid %d) to stop", (int)pid);
	}
	if (c->o->notice)
		c->o->notice(full, c->o->arg);
}

int lab_lock(const char *lab, const struct lab_lock_options *o, nlab_error **err)
{
	char what[128];
	struct lock_ctx c = { lab, o };

	snprintf(what, sizeof(what), "the lock of lab %s", lab);
	struct lock_wait w = {
		.what = what,
		.timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 120000,
		/* `down` stops a setup it waits for: the sooner the better. */
		.notice_ms = o->interrupt_setup ? 200 : 1000,
		.notice = lock_notice,
		.arg = &c,
	};
	return state_lock(lab, &w, err);
}

int lab_take_down(const char *lab, const struct lab_lock_options *o, struct lab_down_result *res, nlab_error **err)
{
	memset(res, 0, sizeof(*res));
	/* A lab being brought up while we wait is there, even if what we
	 * find once we have the lock is its roll back's empty place. */
	bool was = state_dir_exists(lab);
	int lock = lab_lock(lab, o, err);
	if (lock < 0)
		return -1;
	int r = lab_down(lab, res, err);
	res->existed |= was;
	if (r == 0)
		state_unlink_lock(lab);
	close(lock);
	return r;
}
