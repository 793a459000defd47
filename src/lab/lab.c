#include "lab/lab.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "net/link.h"
#include "net/nlsock.h"
#include "net/sysctl.h"
#include "plan/firewall.h"
#include "node/cgroup.h"
#include "util/cleanup.h"

static int pidfd_open_id(const struct proc_id *id)
{
	int fd = (int)syscall(SYS_pidfd_open, id->pid, 0);

	if (fd < 0)
		return -1;
	/* The pid may have been reused between reading the state and here:
	 * check it is still the process we started. */
	if (!proc_id_alive(id)) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	return fd;
}

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
	cleanup_close int fd = pidfd_open_id(id);

	if (fd < 0)
		return;
	if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0)
		return;
	if (!wait_pidfd(fd, ms) && sig != SIGKILL) {
		syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
		wait_pidfd(fd, 5000);
	}
}

/* Host-side veth ends vanish with their peer's namespace, but only when the
 * kernel gets round to it; delete them now so an immediate `up` of the same
 * file finds the names free.  Only an interface that still has the ifindex
 * netlab recorded is touched. */
static int remove_host_links(const struct lab_state *st, nlab_error **err)
{
	struct nlab_nl *nl = NULL;
	int r = 0;

	if (!st->nhost_links)
		return 0;
	if (nlab_nl_open(&nl, err) < 0)
		return -1;
	for (size_t i = 0; i < st->nhost_links; i++) {
		nlab_error *e = NULL;
		int idx = nlab_link_index(nl, st->host_links[i].name, &e);
		nlab_error_free(&e);
		if (idx != st->host_links[i].ifindex)
			continue;
		nlab_link_queue_del(nl, idx, NULL, st->host_links[i].name, NULL);
		if (nlab_nl_flush(nl, &e) < 0 && e && e->errnum != ENODEV) {
			r = nlab_error_set(err, e->errnum, "remove host interface %s: %s", st->host_links[i].name,
					   e->msg);
		}
		nlab_error_free(&e);
	}
	nlab_nl_close(nl);
	return r;
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
	if (remove_host_links(&st, err) < 0)
		r = -1;
	/* Tagged rules, found by their comment: right also after a kill -9
	 * of the supervisor, and never touching a rule netlab did not add. */
	if (fw_remove_host(&st, r < 0 ? NULL : err) < 0)
		r = -1;
	for (size_t i = 0; i < st.nnodes; i++)
		cgroup_remove(st.nodes[i].cgroups, st.nodes[i].ncgroups);
	cgroup_remove(st.cgroups, st.ncgroups);
	for (size_t i = st.nhost_sysctls; i-- > 0;) {
		char cur[256];
		if (nlab_sysctl_read(st.host_sysctls[i].key, cur, sizeof(cur), NULL) == 0 &&
		    strcmp(cur, st.host_sysctls[i].old) != 0 &&
		    nlab_sysctl_write(st.host_sysctls[i].key, st.host_sysctls[i].old, &e) < 0) {
			r = nlab_error_set(err, e->errnum, "restore %s", e->msg);
			nlab_error_free(&e);
		}
	}
	state_clear(&st);
	if (r == 0 && state_remove(lab, err) < 0)
		r = -1;
	if (r == 0)
		state_unlink_lock(lab);
	return r;
}

int lab_join_node(const struct state_node *sn, nlab_error **err)
{
	/* While it holds host resources (state, cgroup fds, the host's
	 * credentials) this process must not be ptrace-able or its /proc
	 * readable by anything in the node. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return nlab_error_set(err, errno, "prctl(PR_SET_DUMPABLE)");
	cleanup_close int fd = pidfd_open_id(&sn->init);
	if (fd < 0)
		return nlab_error_set(err, errno, "node init (pid %d) is gone", (int)sn->init.pid);
	/* Into its cgroup first, while the host's cgroup tree is still the
	 * one we see: no way into a node escapes its limits. */
	if (sn->ncgroups && cgroup_attach(sn->cgroups, sn->ncgroups, getpid(), err) < 0)
		return -1;
	/* Host groups would still count for host files inside the node, and
	 * setgroups is denied there: drop them now. */
	if (setgroups(0, NULL) < 0)
		return nlab_error_set(err, errno, "drop supplementary groups");
	/* One setns() with a pidfd enters them all atomically (Linux 5.8);
	 * the kernel switches the user namespace first, so the others are
	 * checked against the capabilities we get there. */
	int flags = CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWCGROUP |
		    CLONE_NEWTIME;
	if (sn->userns)
		flags |= CLONE_NEWUSER;
	if (setns(fd, flags) < 0)
		return nlab_error_set(err, errno, "enter the node's namespaces");
	/* Still host uid 0, which the node's namespace does not map (and
	 * which owns the host's files): become the node's root. */
	if (sn->userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		return nlab_error_set(err, errno, "become root of the node's user namespace");
	/* A uid change resets dumpability to fs.suid_dumpable: set it again. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return nlab_error_set(err, errno, "prctl(PR_SET_DUMPABLE)");
	return 0;
}
