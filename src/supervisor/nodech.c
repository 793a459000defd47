/* The channel between the supervisor and its nodes' inits: one datagram
 * socket of the supervisor's for all of them, so that what the supervisor
 * holds does not grow with the lab (issue 17: a 10,000-node lab under a
 * limit of 20,000 descriptors).
 *
 *   LAB/ctl/s      the supervisor's socket
 *   LAB/ctl/I      node I's init's socket, made by the supervisor (root)
 *                  and handed to the init at spawn, connected to s: it
 *                  takes datagrams from the supervisor's socket only
 *   the token      an unlinked FIFO, sent with every init's TREES: one
 *                  init at a time builds its root (node/init.c)
 *
 * Names are bound through /proc/self/fd/DIR/..., DIR an fd of LAB/ctl,
 * which keeps them short whatever the state root.  A datagram's sender
 * is its bound name: the kernel's, so a node cannot speak for another.
 * An init that dies is seen by SIGCHLD, not by its socket. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "net/sysctl.h"
#include "proto/proto.h"
#include "supervisor/sup.h"

/* Plenty for every init's READY at once, and for what the supervisor
 * sends them all at once (START); the kernel caps it otherwise. */
#define NODECH_RCVBUF (64 << 20)
/* Inits that build their roots at once (the tokens in the FIFO). */
#ifndef NODECH_ROOTS_AT_ONCE
#define NODECH_ROOTS_AT_ONCE 4
#endif

static socklen_t addr_of(const struct sup *s, const char *name, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	int n = snprintf(a->sun_path, sizeof(a->sun_path), "/proc/self/fd/%d/%s", s->ctl_dir, name);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n + 1);
}

int nodech_open(struct sup *s, nlab_error **err)
{
	char path[4200], qlen[32];
	struct sockaddr_un a;

	/* Made in the lab's network namespace, whose limit of datagrams
	 * queued on a socket (10 by default) is raised to what every init
	 * may have to say at once: an init blocked sending to the
	 * supervisor could not read what the supervisor sends it, whose
	 * datagrams stay charged to the supervisor's socket until read. */
	snprintf(qlen, sizeof(qlen), "%zu", 4 * s->t->nodes.n + 64);
	if (nlab_sysctl_write("net.unix.max_dgram_qlen", qlen, err) < 0)
		return nlab_error_wrap(err, "the lab namespace");

	snprintf(path, sizeof(path), "%s/ctl", s->dir);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return nlab_error_set(err, errno, "mkdir %s", path);
	s->ctl_dir = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s->ctl_dir < 0)
		return nlab_error_set(err, errno, "open %s", path);
	s->ctl = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->ctl < 0)
		return nlab_error_set(err, errno, "socket");
	socklen_t len = addr_of(s, "s", &a);
	if (bind(s->ctl, (struct sockaddr *)&a, len) < 0)
		return nlab_error_set(err, errno, "bind %s/s", path);
	int size = NODECH_RCVBUF;
	if (setsockopt(s->ctl, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(s->ctl, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(s->ctl, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(s->ctl, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	/* The token: one byte in a FIFO that no path reaches once it is
	 * open (so only the inits it is sent to can take it).  A pipe's
	 * readers wait exclusively: giving the byte back wakes one init,
	 * where a lock's release would wake every waiter. */
	snprintf(path, sizeof(path), "%s/ctl/token", s->dir);
	if (mkfifo(path, 0600) < 0)
		return nlab_error_set(err, errno, "mkfifo %s", path);
	s->token = open(path, O_RDWR | O_CLOEXEC);
	int e = errno;
	unlink(path);
	if (s->token < 0)
		return nlab_error_set(err, e, "open %s", path);
	if (write(s->token, "tttt", NODECH_ROOTS_AT_ONCE) != NODECH_ROOTS_AT_ONCE)
		return nlab_error_set(err, errno, "write the token");
	return 0;
}

int nodech_node_socket(struct sup *s, const struct sup_node *sn, nlab_error **err)
{
	char name[32];
	struct sockaddr_un a;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return nlab_error_set(err, errno, "socket");
	snprintf(name, sizeof(name), "%zu", (size_t)(sn - s->nodes));
	socklen_t len = addr_of(s, name, &a);
	if (bind(fd, (struct sockaddr *)&a, len) < 0) {
		int e = errno;
		close(fd);
		return nlab_error_set(err, e, "bind ctl/%s", name);
	}
	len = addr_of(s, "s", &a);
	if (connect(fd, (struct sockaddr *)&a, len) < 0) {
		int e = errno;
		close(fd);
		return nlab_error_set(err, e, "connect ctl/%s", name);
	}
	return fd;
}

int nodech_send(struct sup *s, const struct sup_node *sn, enum proto_type type, int64_t a0, int64_t a1, int64_t a2,
		const char *text, const int *fds, int nfds)
{
	char name[32];
	struct sockaddr_un a;

	snprintf(name, sizeof(name), "%zu", (size_t)(sn - s->nodes));
	socklen_t len = addr_of(s, name, &a);
	/* What the inits have not read yet is charged to this socket's
	 * send buffer: when it is full, wait for them (they never wait for
	 * the supervisor: see nodech_open()). */
	for (int tries = 0;; tries++) {
		int r = proto_sendto(s->ctl, &a, len, type, a0, a1, a2, text, fds, nfds);
		if (r == 0 || errno != EAGAIN || tries == 300)
			return r;
		struct pollfd p = { .fd = s->ctl, .events = POLLOUT };
		poll(&p, 1, 100);
	}
}

int nodech_recv(struct sup *s, struct sup_node **sn, struct proto_msg *m, nlab_error **err)
{
	struct sockaddr_un a;
	socklen_t len = sizeof(a);

	*sn = NULL;
	int r = proto_recvfrom(s->ctl, m, &a, &len, err);
	if (r < 0 && *err && (*err)->errnum == EAGAIN) {
		nlab_error_free(err);
		return 0;
	}
	if (r == 0)
		return nlab_error_set(err, EPROTO, "an empty message");
	if (r < 0)
		return -1;
	/* The sender's bound name, ".../N": anything else is not one of ours. */
	const char *slash = len > offsetof(struct sockaddr_un, sun_path) ? strrchr(a.sun_path, '/') : NULL;
	char *end = NULL;
	unsigned long i = slash ? strtoul(slash + 1, &end, 10) : 0;
	if (!slash || end == slash + 1 || *end || i >= s->nnodes) {
		proto_close_fds(m);
		return nlab_error_set(err, EPROTO, "a message from no node of the lab");
	}
	*sn = &s->nodes[i];
	return 1;
}
