/* `netlab up`: fork the lab's supervisor and follow its setup over the
 * status channel (proto/proto.h); on failure, take the lab down again. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab/lab.h"
#include "proto/proto.h"
#include "supervisor/supervisor.h"
#include "util/cleanup.h"
#include "util/fsutil.h"

static __attribute__((noreturn)) void launch_supervisor(const struct topology *t, const struct lab_up_options *o,
							int lock_fd, int status_fd)
{
	char dir[4096], path[4200];
	int fd;

	/* Detached from the caller's terminal and session: the lab outlives
	 * `netlab up`.  The lab lock must not be inherited, or `down` would
	 * wait on it for as long as the lab lives. */
	close(lock_fd);
	setsid();
	state_lab_dir(o->lab, dir, sizeof(dir), NULL);
	snprintf(path, sizeof(path), "%s/supervisor.log", dir);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		dup2(fd, 0);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	struct sup_options so = {
		.lab = o->lab, .grace_ms = o->grace_ms, .line_timeout_s = o->line_timeout_s, .status_fd = status_fd,
		.progress = o->progress != NULL,
	};
	_exit(supervisor_main(t, &so));
}

/* Follow the supervisor until it reports UP or FAILED (or dies). */
static int follow(int fd, const struct lab_up_options *o, struct lab_up_result *res, nlab_error **err)
{
	struct proto_msg m;

	for (;;) {
		int r = proto_recv(fd, &m, err);
		if (r < 0)
			return nlab_error_wrap(err, "from the lab supervisor");
		if (r == 0)
			return nlab_error_set(err, 0, "the lab supervisor died while starting");
		switch (m.type) {
		case PROTO_PROGRESS:
			if (o->progress)
				o->progress(m.text, (size_t)m.a[0], (size_t)m.a[1], o->progress_arg);
			break;
		case PROTO_UP:
			res->nodes = (size_t)m.a[0];
			res->links = (size_t)m.a[1];
			snprintf(res->phases, sizeof(res->phases), "%.*s", (int)sizeof(res->phases) - 1, m.text);
			return 0;
		case PROTO_FAILED:
			return nlab_error_set(err, 0, "%s", m.text);
		default:
			return nlab_error_set(err, EPROTO, "unexpected message %s from the lab supervisor",
					      proto_type_name(m.type));
		}
	}
}

static int start(const struct topology *t, const struct lab_up_options *o, int lock, struct lab_up_result *res,
		 nlab_error **err)
{
	char dir[4096];
	int pair[2];

	if (lab_is_up(o->lab))
		return nlab_error_set(err, 0, "lab '%s' is already up; take it down first with: netlab down %s", o->lab,
				      o->lab);
	if (state_lab_dir(o->lab, dir, sizeof(dir), err) < 0)
		return -1;
	if (access(dir, F_OK) == 0) {
		/* Left by a lab whose supervisor was killed: clean it first. */
		if (lab_down(o->lab, err) < 0)
			return -1;
		res->cleaned_stale = true;
	}
	if (mkdir_p(dir, 0755, err) < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
		return nlab_error_set(err, errno, "socketpair");
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(pair[0]);
		close(pair[1]);
		return nlab_error_set(err, e, "fork");
	}
	if (pid == 0) {
		close(pair[0]);
		launch_supervisor(t, o, lock, pair[1]);
	}
	close(pair[1]);
	int r = follow(pair[0], o, res, err);
	close(pair[0]);
	if (r == 0)
		return 0;
	waitpid(pid, NULL, 0);
	if (lab_down(o->lab, &res->rollback_err) == 0)
		res->rolled_back = true;
	return -1;
}

int lab_up(const struct topology *t, const struct lab_up_options *o, struct lab_up_result *res, nlab_error **err)
{
	memset(res, 0, sizeof(*res));
	int lock = state_lock(o->lab, err);
	if (lock < 0)
		return -1;
	int r = start(t, o, lock, res, err);
	close(lock);
	return r;
}
