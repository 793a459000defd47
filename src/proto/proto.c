#include "proto/proto.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/cleanup.h"

struct proto_hdr {
	uint16_t type;
	uint16_t len;           /* bytes of text that follow */
	uint32_t reserved;
	int64_t a[3];
};

int proto_sendto(int fd, const void *to, socklen_t tolen, enum proto_type type, int64_t a0, int64_t a1, int64_t a2,
		 const char *text, const int *fds, int nfds)
{
	size_t len = text ? strnlen(text, PROTO_TEXT_MAX) : 0;
	struct proto_hdr h = { .type = (uint16_t)type, .len = (uint16_t)len, .a = { a0, a1, a2 } };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)text, len } };
	struct msghdr mh = { .msg_name = (void *)to, .msg_namelen = to ? tolen : 0, .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int) * PROTO_FDS_MAX)];
		struct cmsghdr align;
	} u;

	if (nfds < 0 || nfds > PROTO_FDS_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (nfds > 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	return TEMP_FAILURE_RETRY(sendmsg(fd, &mh, MSG_NOSIGNAL)) < 0 ? -1 : 0;
}

int proto_send_fds(int fd, enum proto_type type, int64_t a0, int64_t a1, int64_t a2, const char *text,
		   const int *fds, int nfds)
{
	return proto_sendto(fd, NULL, 0, type, a0, a1, a2, text, fds, nfds);
}

int proto_send(int fd, enum proto_type type, int64_t a0, int64_t a1, int64_t a2, const char *text)
{
	return proto_send_fds(fd, type, a0, a1, a2, text, NULL, 0);
}

int proto_recv(int fd, struct proto_msg *m, nlab_error **err)
{
	return proto_recvfrom(fd, m, NULL, NULL, err);
}

int proto_recvfrom(int fd, struct proto_msg *m, void *from, socklen_t *fromlen, nlab_error **err)
{
	struct proto_hdr h;
	struct iovec iov[2] = { { &h, sizeof(h) }, { m->text, PROTO_TEXT_MAX } };
	union {
		char buf[CMSG_SPACE(sizeof(int) * PROTO_FDS_MAX)];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_name = from, .msg_namelen = fromlen ? *fromlen : 0, .msg_iov = iov, .msg_iovlen = 2,
			     .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	ssize_t n = TEMP_FAILURE_RETRY(recvmsg(fd, &mh, MSG_CMSG_CLOEXEC));

	m->nfds = 0;
	if (fromlen)
		*fromlen = n < 0 ? 0 : mh.msg_namelen;
	if (n < 0)
		return nlab_error_set(err, errno, "read a message");
	/* Descriptors that came along are ours to close, even in a packet
	 * that is refused below. */
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int f;
			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(f));
			if (m->nfds < PROTO_FDS_MAX)
				m->fds[m->nfds++] = f;
			else
				close(f);
		}
	}
	if (n == 0)
		return 0;
	if (mh.msg_flags & MSG_CTRUNC) {
		proto_close_fds(m);
		return nlab_error_set(err, EPROTO, "a message with too many descriptors");
	}
	if ((size_t)n < sizeof(h) || (size_t)n != sizeof(h) + h.len || (mh.msg_flags & MSG_TRUNC) ||
	    h.type == 0 || h.type >= PROTO_TYPE_MAX) {
		proto_close_fds(m);
		return nlab_error_set(err, EPROTO, "malformed message (%zd bytes, type %u)", n, h.type);
	}
	m->type = (enum proto_type)h.type;
	memcpy(m->a, h.a, sizeof(m->a));
	m->text[h.len] = '\0';
	return 1;
}

void proto_close_fds(struct proto_msg *m)
{
	for (int i = 0; i < m->nfds; i++)
		if (m->fds[i] >= 0)
			close(m->fds[i]);
	m->nfds = 0;
}

const char *proto_type_name(enum proto_type t)
{
	static const char *const names[PROTO_TYPE_MAX] = {
		[PROTO_PROGRESS] = "PROGRESS", [PROTO_UP] = "UP", [PROTO_FAILED] = "FAILED",
		[PROTO_GO] = "GO", [PROTO_SPAWNED] = "SPAWNED", [PROTO_SPAWN_FAILED] = "SPAWN_FAILED",
		[PROTO_READY] = "READY", [PROTO_SETUP_FAILED] = "SETUP_FAILED", [PROTO_NODE_READY] = "NODE_READY",
		[PROTO_LINE_FAILED] = "LINE_FAILED", [PROTO_LINE_EXITED] = "LINE_EXITED", [PROTO_START] = "START",
		[PROTO_STOP] = "STOP", [PROTO_LAB_TREE] = "LAB_TREE", [PROTO_TREES] = "TREES",
		[PROTO_NOTICE] = "NOTICE", [PROTO_ROOT_READY] = "ROOT_READY",
		[PROTO_LOG_OLD] = "LOG_OLD", [PROTO_STOP_LINES] = "STOP_LINES",
		[PROTO_LINES_STOPPED] = "LINES_STOPPED", [PROTO_RESTART] = "RESTART",
		[PROTO_RESTARTING] = "RESTARTING", [PROTO_RESTARTED] = "RESTARTED",
		[PROTO_SPAWN] = "SPAWN",
	};

	return t > 0 && t < PROTO_TYPE_MAX ? names[t] : "?";
}

int proto_send_blob(int fd, const void *p, size_t len)
{
	for (size_t off = 0; off < len;) {
		size_t n = len - off < PROTO_BLOB_CHUNK ? len - off : PROTO_BLOB_CHUNK;
		ssize_t w = TEMP_FAILURE_RETRY(send(fd, (const char *)p + off, n, MSG_NOSIGNAL));
		if (w < 0)
			return -1;
		if ((size_t)w != n) {
			errno = EMSGSIZE;
			return -1;
		}
		off += n;
	}
	return 0;
}

int proto_recv_blob(int fd, void *p, size_t len, nlab_error **err)
{
	for (size_t off = 0; off < len;) {
		size_t want = len - off < PROTO_BLOB_CHUNK ? len - off : PROTO_BLOB_CHUNK;
		ssize_t r = TEMP_FAILURE_RETRY(recv(fd, (char *)p + off, want, MSG_TRUNC | MSG_CMSG_CLOEXEC));
		if (r < 0)
			return nlab_error_set(err, errno, "read a message");
		if (r == 0)
			return 0;
		if ((size_t)r != want)
			return nlab_error_set(err, EPROTO, "a part of %zu bytes where %zu were due", (size_t)r, want);
		off += want;
	}
	return 1;
}
