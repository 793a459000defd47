/* The messages netlab's processes exchange, encoded and decoded in this
 * one place (docs/architecture.md lists them).  The channels, one
 * message per packet:
 *
 *   netlab up  <- supervisor   how setup goes: PROGRESS lines for the bar,
 *                              NOTICEs of what it waits for, then UP or
 *                              FAILED, then the supervisor closes its end
 *   supervisor <-> spawner     SPAWN with a node's view (node/view.h) ->
 *                              SPAWNED with the init's pid, or SPAWN_FAILED;
 *                              the supervisor closing its end ends it
 *   spawner <-> stage 1        GO once the maps are written; SPAWNED with
 *                              the init's pid, or SPAWN_FAILED
 *   supervisor <-> node init   (datagrams: one socket of the supervisor's
 *                              for all its inits, supervisor/nodech.c)
 *                              TREES -> READY, ROOT_READY | SETUP_FAILED;
 *                              LOG_OLD; START -> NODE_READY | LINE_FAILED,
 *                              then LINE_EXITED as run lines end;
 *                              STOP_LINES -> LINES_STOPPED, then START
 *                              again (`netlab restart`);
 *                              STOP (or the supervisor's end closing)
 *   netlab restart <-> supervisor  over the beacon: RESTART -> RESTARTING,
 *                              then RESTARTED or FAILED
 *
 * A packet is a fixed header (type, three integers, text length) and the
 * text.  Both ends are the same netlab binary, so the header is a plain
 * struct; the decoder still checks the length and the type, since a
 * packet could be cut short. */
#ifndef NETLAB_PROTO_PROTO_H
#define NETLAB_PROTO_PROTO_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "util/error.h"

#define PROTO_TEXT_MAX 8000
#define PROTO_FDS_MAX 10        /* descriptors one message may carry (SCM_RIGHTS) */

enum proto_type {
	/* supervisor -> netlab up */
	PROTO_PROGRESS = 1,     /* a[0] done, a[1] total; text: phase */
	PROTO_UP,               /* a[0] nodes, a[1] links, a[2] ms; text: "name=ms ..." phase times */
	PROTO_FAILED,           /* text: the error, with its context */
	/* spawner <-> stage 1 of a node (node/spawn.c); the last two also
	 * spawner -> supervisor, with a[1] the node (SPAWN's a[0]) and a[2]
	 * its stage 1's pid (0: none), for the supervisor to reap */
	PROTO_GO,               /* the maps are written: go on */
	PROTO_SPAWNED,          /* a[0] the init's pid */
	PROTO_SPAWN_FAILED,     /* text: "what: reason" */
	/* node init -> supervisor */
	PROTO_READY,            /* the namespaces are made (the node's links can be) */
	PROTO_SETUP_FAILED,     /* text: why */
	PROTO_NODE_READY,       /* every line of the node is done */
	PROTO_LINE_FAILED,      /* a[0] the line among the node's (0: its first), a[1] wait status (-1: none), a[2] bytes of log
				 * output since the line began;
				 * text: why, when the status does not say it */
	PROTO_LINE_EXITED,      /* after NODE_READY: a run line's process ended; a[0] the line (as above), a[1] wait status */
	/* supervisor -> node init */
	PROTO_TREES,            /* first thing: a[0] n, fds: the host's /, the mask, `files` dirs,
				 * idmapped for the node (supervisor/labfs.c) */
	PROTO_LAB_TREE,         /* fds[0]: the topology directory, idmapped, for /lab (or none) */
	PROTO_START,            /* run the node's lines */
	PROTO_STOP,             /* stop every process of the node and exit */
	/* supervisor -> netlab up (added last: the numbers above stay) */
	PROTO_NOTICE,           /* text: what setup waits for ("waiting for the host lock, held by ...") */
	/* node init -> supervisor */
	PROTO_ROOT_READY,       /* the root is built: a[0] 1 when the node has a `user`: a[1] uid,
				 * a[2] gid; fds[0], if any: the user namespace /lab is idmapped through */
	/* supervisor -> node init */
	PROTO_LOG_OLD,          /* fds[0]: the node's previous log, NODE.log.1 (node/log.h) */
	PROTO_STOP_LINES,       /* stop the processes of the node's lines (grace, then SIGKILL) */
	/* node init -> supervisor */
	PROTO_LINES_STOPPED,    /* a[0] processes stopped, a[1] of them killed by SIGKILL, a[2] still there */
	/* netlab restart <-> supervisor, over the lab's beacon (lab/beacon.h) */
	PROTO_RESTART,          /* text: the node whose lines to restart */
	PROTO_RESTARTING,       /* the request is taken: the lab lock may go */
	PROTO_RESTARTED,        /* a[0] ms, a[1] processes stopped, a[2] of them killed by SIGKILL */
	/* (and PROTO_FAILED: a[0] errno, ENOENT for no such node; text: why) */
	/* supervisor -> spawner (src/spawner/) */
	PROTO_SPAWN,            /* a[0] the node's index, a[1] the size of its view, sent next (proto_send_blob);
				 * fds: the init's control socket and log */
	PROTO_TYPE_MAX
};

struct proto_msg {
	enum proto_type type;
	int64_t a[3];
	int fds[PROTO_FDS_MAX];         /* received descriptors (O_CLOEXEC), nfds of them */
	int nfds;
	char text[PROTO_TEXT_MAX + 1];  /* NUL-terminated */
};

/* Send one message (MSG_NOSIGNAL: a reader that went away is an error,
 * never a SIGPIPE).  text may be NULL; longer than PROTO_TEXT_MAX is cut.
 * Only system calls: safe in a freshly cloned process. */
int proto_send(int fd, enum proto_type type, int64_t a0, int64_t a1, int64_t a2, const char *text);

/* The same with descriptors (SCM_RIGHTS), at most PROTO_FDS_MAX. */
int proto_send_fds(int fd, enum proto_type type, int64_t a0, int64_t a1, int64_t a2, const char *text,
		   const int *fds, int nfds);

/* Receive one message: 1 and *m filled, 0 when the peer closed its end,
 * -1 with *err on a read error or a malformed packet.  Descriptors that
 * came with it are in m->fds, the caller's to close (proto_close_fds). */
int proto_recv(int fd, struct proto_msg *m, nlab_error **err);
/* The same on an unconnected datagram socket: to that address; from whom
 * (*fromlen in: the buffer's size, out: the address's). */
int proto_sendto(int fd, const void *to, socklen_t tolen, enum proto_type type, int64_t a0, int64_t a1, int64_t a2,
		 const char *text, const int *fds, int nfds);
int proto_recvfrom(int fd, struct proto_msg *m, void *from, socklen_t *fromlen, nlab_error **err);

void proto_close_fds(struct proto_msg *m);
/* len bytes as packets of at most PROTO_BLOB_CHUNK (after the message
 * that gives their length), and their receipt into p: 1, 0 when the peer
 * closed its end, -1 with *err. */
#define PROTO_BLOB_CHUNK (32 << 10)
int proto_send_blob(int fd, const void *p, size_t len);
int proto_recv_blob(int fd, void *p, size_t len, nlab_error **err);
const char *proto_type_name(enum proto_type t);

#endif
