/* The messages netlab's processes exchange, encoded and decoded in this
 * one place (docs/architecture.md lists them).  Two channels, both
 * SOCK_SEQPACKET socket pairs, one message per packet:
 *
 *   netlab up  <- supervisor   how setup goes: PROGRESS lines for the bar,
 *                              NOTICEs of what it waits for, then UP or
 *                              FAILED, then the supervisor closes its end
 *   supervisor <-> stage 1     GO once the maps are written; SPAWNED with
 *                              the init's pid, or SPAWN_FAILED
 *   supervisor <-> node init   READY/SETUP_FAILED once the node is made;
 *                              DO_EXEC -> EXEC_DONE | EXEC_FAILED;
 *                              DO_RUN -> RUN_STARTED | RUN_FAILED;
 *                              STOP (or the supervisor's end closing)
 *
 * A packet is a fixed header (type, three integers, text length) and the
 * text.  Both ends are the same netlab binary, so the header is a plain
 * struct; the decoder still checks the length and the type, since a
 * packet could be cut short. */
#ifndef NETLAB_PROTO_PROTO_H
#define NETLAB_PROTO_PROTO_H

#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

#define PROTO_TEXT_MAX 8000

enum proto_type {
	/* supervisor -> netlab up */
	PROTO_PROGRESS = 1,     /* a[0] done, a[1] total; text: phase */
	PROTO_UP,               /* a[0] nodes, a[1] links, a[2] ms; text: "name=ms ..." phase times */
	PROTO_FAILED,           /* text: the error, with its context */
	/* supervisor <-> stage 1 of a node (node/spawn.c) */
	PROTO_GO,               /* the maps are written: go on */
	PROTO_SPAWNED,          /* a[0] the init's pid */
	PROTO_SPAWN_FAILED,     /* text: "what: reason" */
	/* node init -> supervisor */
	PROTO_READY,            /* a[0] 1 when the node has a `user`: a[1] uid, a[2] gid */
	PROTO_SETUP_FAILED,     /* text: why */
	PROTO_EXEC_DONE,        /* every exec line exited 0 */
	PROTO_EXEC_FAILED,      /* a[0] plan op index, a[1] wait status, a[2] log offset before it */
	PROTO_RUN_STARTED,      /* every run line was started */
	PROTO_RUN_FAILED,       /* a[0] plan op index, a[1] errno */
	/* supervisor -> node init */
	PROTO_DO_EXEC,          /* run the exec lines in order */
	PROTO_DO_RUN,           /* start the run lines */
	PROTO_STOP,             /* stop every process of the node and exit */
	/* supervisor -> netlab up (added last: the numbers above stay) */
	PROTO_NOTICE,           /* text: what setup waits for ("waiting for the host lock, held by ...") */
	PROTO_TYPE_MAX
};

struct proto_msg {
	enum proto_type type;
	int64_t a[3];
	char text[PROTO_TEXT_MAX + 1];  /* NUL-terminated */
};

/* Send one message (MSG_NOSIGNAL: a reader that went away is an error,
 * never a SIGPIPE).  text may be NULL; longer than PROTO_TEXT_MAX is cut.
 * Only system calls: safe in a freshly cloned process. */
int proto_send(int fd, enum proto_type type, int64_t a0, int64_t a1, int64_t a2, const char *text);

/* Receive one message: 1 and *m filled, 0 when the peer closed its end,
 * -1 with *err on a read error or a malformed packet. */
int proto_recv(int fd, struct proto_msg *m, nlab_error **err);

const char *proto_type_name(enum proto_type t);

#endif
