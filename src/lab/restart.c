/* `netlab restart [LAB] NODE`, the CLI's side (lab.h): a request over the
 * lab's beacon to its supervisor, which does the work
 * (supervisor/restart.c). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab/beacon.h"
#include "lab/lab.h"
#include "proto/proto.h"
#include "util/cleanup.h"
#include "util/time.h"

#define ANSWER_MS 10000 /* the supervisor's wait loop answers at once */

/* The request and its acceptance, with the lab lock held: the lab is
 * then up and not being taken down, and its supervisor is in its wait
 * loop (setup, which holds the lock, is over).  Returns the connection. */
static int ask(const char *lab, const char *node, nlab_error **err)
{
	struct proto_msg m;

	cleanup_close int fd = beacon_connect(lab, err);
	if (fd < 0) {
		if ((*err)->errnum == ESRCH) {
			nlab_error_free(err);
			return lab_node_not_found(lab, node, err);
		}
		return -1;
	}
	if (proto_send(fd, PROTO_RESTART, 0, 0, 0, node) < 0)
		return nlab_error_set(err, errno, "ask the supervisor of lab '%s'", lab);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int k = poll(&p, 1, ANSWER_MS);
	if (k == 0)
		return nlab_error_set(err, ETIMEDOUT, "the supervisor of lab '%s' did not answer in %d s", lab,
				      ANSWER_MS / 1000);
	int got = k < 0 ? -1 : proto_recv(fd, &m, err);
	if (got < 0)
		return err && *err ? nlab_error_wrap(err, "lab '%s'", lab) : nlab_error_set(err, errno, "poll");
	if (got == 0)
		return nlab_error_set(err, EPIPE, "the supervisor of lab '%s' went away", lab);
	proto_close_fds(&m);
	if (m.type == PROTO_FAILED) {
		nlab_error_set(err, 0, "%s", m.text);
		if (err && *err)
			(*err)->errnum = (int)m.a[0];
		return -1;
	}
	if (m.type != PROTO_RESTARTING)
		return nlab_error_set(err, EPROTO, "lab '%s': unexpected answer %s", lab, proto_type_name(m.type));
	return steal_fd(&fd);
}

int lab_restart(const char *lab, const char *node, struct lab_restart_result *res,
		void (*notice)(const char *msg, void *arg), void *arg, nlab_error **err)
{
	struct state_node sn;
	struct proc_id sup;
	struct proto_msg m;

	memset(res, 0, sizeof(*res));
	if (state_check_lab_name(lab, err) < 0 || state_check_node_name(node, err) < 0)
		return -1;
	if (state_read_node(lab, node, &sn, &sup, err) < 0) {
		if (err && *err && (*err)->errnum != ENOENT && (*err)->errnum != EBADMSG)
			return nlab_error_wrap(err, "lab %s", lab);
		nlab_error_free(err);
		return lab_node_not_found(lab, node, err);
	}
	state_node_clear(&sn);
	if (!proc_id_alive(&sup))
		return lab_node_not_found(lab, node, err);
	/* Not while `up` sets the lab up or `down` takes it down: waits as
	 * they do for each other, saying for whom. */
	struct lab_lock_options lo = { .notice = notice, .arg = arg };
	int lock = lab_lock(lab, &lo, err);
	if (lock < 0)
		return -1;
	int fd = ask(lab, node, err);
	/* A lab gone while we waited leaves no lock file behind. */
	if (fd < 0 && !state_dir_exists(lab))
		state_unlink_lock(lab);
	close(lock);
	if (fd < 0)
		return -1;
	/* The node's stop (the lab's grace period at most, then SIGKILL)
	 * and its lines bound this wait, as they bound `up`. */
	int64_t t0 = now_ms();
	int got = proto_recv(fd, &m, err);
	close(fd);
	if (got < 0)
		return nlab_error_wrap(err, "lab '%s'", lab);
	if (got == 0)
		return nlab_error_set(err, EPIPE, "the supervisor of lab '%s' went away during the restart", lab);
	proto_close_fds(&m);
	if (m.type == PROTO_FAILED) {
		nlab_error_set(err, 0, "%s", m.text);
		if (err && *err)
			(*err)->errnum = (int)m.a[0];
		return -1;
	}
	if (m.type != PROTO_RESTARTED)
		return nlab_error_set(err, EPROTO, "lab '%s': unexpected answer %s", lab, proto_type_name(m.type));
	res->ms = m.a[0] > 0 ? m.a[0] : now_ms() - t0;
	res->stopped = m.a[1];
	res->killed = m.a[2];
	return 0;
}
