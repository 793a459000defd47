#include "proto/proto.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "util/cleanup.h"

struct proto_hdr {
	uint16_t type;
	uint16_t len;           /* bytes of text that follow */
	uint32_t reserved;
	int64_t a[3];
};

int proto_send(int fd, enum proto_type type, int64_t a0, int64_t a1, int64_t a2, const char *text)
{
	size_t len = text ? strnlen(text, PROTO_TEXT_MAX) : 0;
	struct proto_hdr h = { .type = (uint16_t)type, .len = (uint16_t)len, .a = { a0, a1, a2 } };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)text, len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };

	return TEMP_FAILURE_RETRY(sendmsg(fd, &mh, MSG_NOSIGNAL)) < 0 ? -1 : 0;
}

int proto_recv(int fd, struct proto_msg *m, nlab_error **err)
{
	struct proto_hdr h;
	struct iovec iov[2] = { { &h, sizeof(h) }, { m->text, PROTO_TEXT_MAX } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n = TEMP_FAILURE_RETRY(recvmsg(fd, &mh, MSG_CMSG_CLOEXEC));

	if (n < 0)
		return nlab_error_set(err, errno, "read a message");
	if (n == 0)
		return 0;
	if ((size_t)n < sizeof(h) || (size_t)n != sizeof(h) + h.len || (mh.msg_flags & MSG_TRUNC) ||
	    h.type == 0 || h.type >= PROTO_TYPE_MAX)
		return nlab_error_set(err, EPROTO, "malformed message (%zd bytes, type %u)", n, h.type);
	m->type = (enum proto_type)h.type;
	memcpy(m->a, h.a, sizeof(m->a));
	m->text[h.len] = '\0';
	return 1;
}

const char *proto_type_name(enum proto_type t)
{
	static const char *const names[PROTO_TYPE_MAX] = {
		[PROTO_PROGRESS] = "PROGRESS", [PROTO_UP] = "UP", [PROTO_FAILED] = "FAILED",
		[PROTO_GO] = "GO", [PROTO_SPAWNED] = "SPAWNED", [PROTO_SPAWN_FAILED] = "SPAWN_FAILED",
		[PROTO_READY] = "READY", [PROTO_SETUP_FAILED] = "SETUP_FAILED", [PROTO_EXEC_DONE] = "EXEC_DONE",
		[PROTO_EXEC_FAILED] = "EXEC_FAILED", [PROTO_RUN_STARTED] = "RUN_STARTED",
		[PROTO_RUN_FAILED] = "RUN_FAILED", [PROTO_DO_EXEC] = "DO_EXEC", [PROTO_DO_RUN] = "DO_RUN",
		[PROTO_STOP] = "STOP", [PROTO_NOTICE] = "NOTICE",
	};

	return t > 0 && t < PROTO_TYPE_MAX ? names[t] : "?";
}
