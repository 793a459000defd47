/* The supervisor's side of the lab's spawner (spawner/spawner.h): start
 * it, send it nodes, read its reports, end it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "node/view.h"
#include "proto/proto.h"
#include "spawner/spawner.h"
#include "supervisor/sup.h"

extern char **environ;

int nodespawn_start(struct sup *s, nlab_error **err)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return nlab_error_set(err, errno, "socketpair");
	/* Above the numbers the child's descriptors take: dup2() onto
	 * SPAWNER_FD must not close the template's. */
	int chan = fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
	int tmpl = s->tmpl_mntns >= 0 ? fcntl(s->tmpl_mntns, F_DUPFD_CLOEXEC, 10) : -1;
	close(sv[1]);
	posix_spawn_file_actions_t fa;
	int e = chan < 0 || (s->tmpl_mntns >= 0 && tmpl < 0) ? errno : posix_spawn_file_actions_init(&fa);
	if (e) {
		close(sv[0]);
		if (chan >= 0)
			close(chan);
		if (tmpl >= 0)
			close(tmpl);
		return nlab_error_set(err, e, "prepare the spawner's descriptors");
	}
	posix_spawn_file_actions_adddup2(&fa, chan, SPAWNER_FD);
	if (tmpl >= 0)
		posix_spawn_file_actions_adddup2(&fa, tmpl, SPAWNER_TMPL_FD);
	char self[32];
	snprintf(self, sizeof(self), "%d", (int)getpid());
	char *argv[] = { SPAWNER_ARGV0, self, tmpl >= 0 ? "1" : "0", NULL };
	pid_t pid;
	e = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(chan);
	if (tmpl >= 0)
		close(tmpl);
	if (e) {
		close(sv[0]);
		return nlab_error_set(err, e, "start the lab's spawner (/proc/self/exe)");
	}
	s->spawner_pid = pid;
	s->spawner_fd = sv[0];
	return 0;
}

int nodespawn_submit(struct sup *s, size_t index, const struct node_view *v, size_t size, int ctl, int log,
		     nlab_error **err)
{
	int fds[2] = { ctl, log };

	if (proto_send_fds(s->spawner_fd, PROTO_SPAWN, (int64_t)index, (int64_t)size, 0, NULL, fds, 2) < 0 ||
	    proto_send_blob(s->spawner_fd, v, size) < 0)
		return nlab_error_set(err, errno, "send a node to the lab's spawner");
	return 0;
}

/* Stage 1 exits right after its report: the one before this is gone. */
static void reap_stage1(struct sup *s, pid_t next)
{
	if (s->stage1_pid > 0)
		TEMP_FAILURE_RETRY(waitpid(s->stage1_pid, NULL, __WALL));
	s->stage1_pid = next;
}

int nodespawn_collect(struct sup *s, int64_t *index, pid_t *pid, nlab_error **err)
{
	struct proto_msg m;
	int r = proto_recv(s->spawner_fd, &m, err);

	*index = -1;
	if (r < 0)
		return nlab_error_wrap(err, "the lab's spawner");
	proto_close_fds(&m);
	if (r == 0)
		return nlab_error_set(err, 0, "the lab's spawner exited");
	if (m.type != PROTO_SPAWNED && m.type != PROTO_SPAWN_FAILED)
		return nlab_error_set(err, EPROTO, "the lab's spawner sent %s", proto_type_name(m.type));
	*index = m.a[1];
	reap_stage1(s, (pid_t)m.a[2]);
	if (m.type == PROTO_SPAWN_FAILED)
		return nlab_error_set(err, 0, "%s", m.text);
	*pid = (pid_t)m.a[0];
	return 0;
}

void nodespawn_end(struct sup *s)
{
	if (s->spawner_fd >= 0)
		close(s->spawner_fd);
	s->spawner_fd = -1;
	/* It ends its stage 1s (each off its stack) before it exits. */
	if (s->spawner_pid > 0)
		TEMP_FAILURE_RETRY(waitpid(s->spawner_pid, NULL, __WALL));
	s->spawner_pid = 0;
	reap_stage1(s, 0);
	/* Stage 1s of nodes it did not report (it failed, or was ended
	 * with nodes in the making). */
	nodes_sweep(s);
}
