/* A node's log (run by its init): what the node's commands write on
 * their standard output and error goes into a pipe, and the init copies
 * it into LAB/logs/NODE.log under /run/netlab, so that no command holds a
 * file of the host's and what a node writes is bounded:
 *
 *   - NODE.log holds at most NODE_LOG_MAX bytes; when it would grow past
 *     that, its contents move to NODE.log.1 (the previous one goes) and
 *     NODE.log starts again empty: `netlab logs` shows both, the recent
 *     output is always there;
 *   - nothing is written while the file system of the logs has less
 *     than NODE_LOG_RESERVE (or a quarter of its size) free, so that a
 *     node's output never fills what the machine's other programs need
 *     (/run): what is dropped is counted, and said once there is room;
 *   - the copying is the init's work, in the node's cgroup: a node that
 *     writes without end pays for it in its own CPU, and its writers
 *     block when the pipe is full instead of outrunning the log.
 *
 * The files are opened by the supervisor (the init's root no longer
 * shows the host's /run): NODE.log is the init's fd 4, NODE.log.1 comes
 * with PROTO_LOG_OLD. */
#ifndef NETLAB_NODE_LOG_H
#define NETLAB_NODE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NODE_LOG_MAX (1 << 20)
#define NODE_LOG_RESERVE (16ULL << 20)

struct node_log {
	int fd;                 /* NODE.log, O_RDWR | O_APPEND */
	int old_fd;             /* NODE.log.1, or -1 */
	int pipe_r;             /* non-blocking: the init's end */
	int pipe_w;             /* the commands' stdout and stderr */
	off_t size;             /* of NODE.log */
	uint64_t written;       /* bytes relayed since the node started */
	uint64_t dropped;       /* not written since the last that was (no room) */
};

/* Make the pipe (both ends O_CLOEXEC); fd is NODE.log.  0, or -1 with
 * errno. */
int node_log_open(struct node_log *lg, int fd);
/* NODE.log.1, for rotation (taken over). */
void node_log_set_old(struct node_log *lg, int fd);
/* Copy what the pipe holds into the log: until it is empty, or at most
 * `budget` bytes when budget is not 0 (then true when more is waiting). */
bool node_log_relay(struct node_log *lg, size_t budget);
/* The init's own message, with the same bounds. */
void node_log_write(struct node_log *lg, const char *buf, size_t n);
void node_log_printf(struct node_log *lg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
