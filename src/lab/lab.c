#include "lab/lab.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lab/hostif.h"
#include "lab/undo.h"
#include "node/cgroup.h"
#include "util/cleanup.h"

int lab_is_up(const char *lab)
{
	struct proc_id sup;

	return state_read_supervisor(lab, &sup) == 0 && proc_id_alive(&sup);
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

static void kill_and_wait(const struct proc_id *id, int sig, int ms)
{
	cleanup_close int fd = proc_id_pidfd(id);

	if (fd < 0)
		return;
	if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0)
		return;
	if (!wait_pidfd(fd, ms) && sig != SIGKILL) {
		syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
		wait_pidfd(fd, 5000);
	}
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

void lab_list_free(char **labs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(labs[i]);
	free(labs);
}

int lab_down(const char *lab, nlab_error **err)
{
	struct lab_state st;
	nlab_error *e = NULL;
	int r = 0;

	if (state_read(lab, &st, &e) < 0) {
		nlab_error_free(&e);
		/* No (readable) state: at most a directory left by a crash early
		 * in `up`; removing it is all there is to do. */
		if (state_remove(lab, err) < 0)
			return -1;
		state_unlink_lock(lab);
		return 0;
	}
	int grace = st.grace_ms > 0 ? st.grace_ms : 2000;
	if (proc_id_alive(&st.supervisor))
		kill_and_wait(&st.supervisor, SIGTERM, grace + 10000);
	/* After a kill -9 of the supervisor the inits die by PDEATHSIG; make
	 * sure of it. */
	for (size_t i = 0; i < st.nnodes; i++)
		if (proc_id_alive(&st.nodes[i].init))
			kill_and_wait(&st.nodes[i].init, SIGKILL, 5000);
	/* The supervisor undid its host changes on its way out; after a
	 * crash this is the only run (lab/undo.h).  Host interfaces first:
	 * their pinned namespaces still hold them. */
	if (st.nhost_ifaces) {
		cleanup_close int host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		for (size_t i = 0; i < st.nhost_ifaces; i++)
			if (hostif_give_back(&st.host_ifaces[i], -1, host, r < 0 ? NULL : err) < 0)
				r = -1;
		hostif_unpin(&st);
	}
	if (undo_host_links(&st, r < 0 ? NULL : err) < 0)
		r = -1;
	if (undo_host_rules(&st, r < 0 ? NULL : err) < 0)
		r = -1;
	for (size_t i = 0; i < st.nnodes; i++)
		cgroup_remove(st.nodes[i].cgroups, st.nodes[i].ncgroups);
	cgroup_remove(st.cgroups, st.ncgroups);
	if (undo_host_sysctls(&st, r < 0 ? NULL : err) < 0)
		r = -1;
	state_clear(&st);
	if (r == 0 && state_remove(lab, err) < 0)
		r = -1;
	if (r == 0)
		state_unlink_lock(lab);
	return r;
}
