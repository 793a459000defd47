/* `netlab capture`: record a node's interface or a whole switch from
 * outside, in the right network namespace, with libpcap (net/capture.h).
 * Nothing runs inside the node, so a node with its own root file system
 * and no tools is captured like any other.
 *
 *   NODE:IFACE  the node's init's network namespace (joined through its
 *               pidfd), that interface
 *   SWITCH      the lab namespace (the supervisor's): the switch's bridge
 *               in promiscuous mode, which sees every frame that enters
 *               the switch by any port, once
 *
 * Stops after COUNT frames, on SIGINT/SIGTERM/SIGHUP, or when the lab
 * goes down (the supervisor's pidfd becomes readable). */
#include "lab/capture.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "lab/wiring.h"
#include "net/capture.h"
#include "net/netns.h"
#include "util/cleanup.h"

/* "it has: eth0, eth1", from the lab's links, for an error message. */
static void node_ifaces(const struct wiring *w, const char *node, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < w->nlinks; i++)
		for (int k = 0; k < 2; k++) {
			const struct wiring_end *e = &w->links[i].ends[k];
			if (e->where == WIRING_NODE && strcmp(e->name, node) == 0 && o < len) {
				int n = snprintf(buf + o, len - o, "%s%s", o ? ", " : "", e->ifname);
				if (n > 0)
					o += (size_t)n;
			}
		}
}

/* Where to capture: the namespace (as a pidfd) and the interface. */
static int resolve(const char *lab, const struct lab_state *st, const struct wiring *w, const char *target, int *nsfd,
		   char *ifname, size_t iflen, bool *promisc, nlab_error **err)
{
	const char *colon = strchr(target, ':');

	*promisc = false;
	if (!colon) {
		const struct wiring_switch *sw = wiring_switch(w, target);
		if (!sw) {
			char ifs[200];
			if (state_find_node(st, target)) {
				node_ifaces(w, target, ifs, sizeof(ifs));
				return nlab_error_set(err, EINVAL,
						      "'%s' is a node: name the interface, %s:IFACE (it has: %s)",
						      target, target, ifs);
			}
			return nlab_error_set(err, ENOENT, "lab '%s' has no switch '%s' and no node of that name", lab,
					      target);
		}
		snprintf(ifname, iflen, "%s", sw->bridge);
		*promisc = true;
		*nsfd = proc_id_pidfd(&st->supervisor);
		return *nsfd < 0 ? nlab_error_set(err, ESRCH, "lab '%s' is not up", lab) : 0;
	}
	char node[64];
	snprintf(node, sizeof(node), "%.*s", (int)(colon - target), target);
	const struct state_node *sn = state_find_node(st, node);
	if (!sn)
		return nlab_error_set(err, ENOENT, "lab '%s' has no node '%s'", lab, node);
	if (snprintf(ifname, iflen, "%s", colon + 1) >= (int)iflen || !colon[1])
		return nlab_error_set(err, EINVAL, "bad interface name in '%s'", target);
	*nsfd = proc_id_pidfd(&sn->init);
	return *nsfd < 0 ? nlab_error_set(err, ESRCH, "node %s is not running", node) : 0;
}

static int open_in(int nsfd, const char *ifname, bool promisc, const char *filter, struct nlab_capture **out,
		   nlab_error **err)
{
	int saved = -1;

	if (nlab_netns_enter(nsfd, &saved, err) < 0)
		return -1;
	*out = nlab_capture_open(ifname, promisc, filter, err);
	if (nlab_netns_leave(&saved, *out ? err : NULL) < 0) {
		nlab_capture_close(*out);
		*out = NULL;
		return -1;
	}
	return *out ? 0 : -1;
}

int lab_capture(const char *lab, const struct lab_capture_options *o, struct lab_capture_result *res, nlab_error **err)
{
	struct lab_state st;
	struct wiring w;
	struct nlab_capture *cap = NULL;
	cleanup_close int nsfd = -1, supfd = -1, sfd = -1;
	char ifname[32];
	bool promisc;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	if (state_read(lab, &st, err) < 0)
		return nlab_error_wrap(err, "lab '%s'", lab);
	if (wiring_read(lab, &w, err) < 0) {
		state_clear(&st);
		return -1;
	}
	if (!proc_id_alive(&st.supervisor)) {
		nlab_error_set(err, ESRCH, "lab '%s' is not up", lab);
		goto out;
	}
	if (resolve(lab, &st, &w, o->target, &nsfd, ifname, sizeof(ifname), &promisc, err) < 0 ||
	    open_in(nsfd, ifname, promisc, o->filter, &cap, err) < 0 || nlab_capture_dump_to(cap, o->out, err) < 0)
		goto out;
	fflush(o->out);
	supfd = proc_id_pidfd(&st.supervisor);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	/* A reader that goes away (`| head`) is the end, not a crash. */
	signal(SIGPIPE, SIG_IGN);
	if (o->ready)
		o->ready(o->ready_arg);
	for (;;) {
		struct pollfd p[3] = { { nlab_capture_fd(cap), POLLIN, 0 }, { supfd, POLLIN, 0 }, { sfd, POLLIN, 0 } };
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			nlab_error_set(err, errno, "poll");
			goto out;
		}
		if (p[0].revents) {
			size_t left = o->count ? o->count - res->frames : 0;
			int n = nlab_capture_dispatch(cap, left, err);
			if (n < 0) {
				/* The interface went away with its namespace. */
				if (!proc_id_alive(&st.supervisor)) {
					nlab_error_free(err);
					res->lab_down = true;
					break;
				}
				goto out;
			}
			res->frames += (size_t)n;
			nlab_capture_flush(cap);
			if (ferror(o->out)) {
				res->reader_gone = true;
				break;
			}
			if (o->count && res->frames >= o->count)
				break;
		}
		if (p[1].revents) {
			res->lab_down = true;
			break;
		}
		if (p[2].revents) {
			res->interrupted = true;
			break;
		}
	}
	res->dropped = nlab_capture_dropped(cap);
	rc = 0;
out:
	nlab_capture_close(cap);
	wiring_clear(&w);
	state_clear(&st);
	return rc;
}
