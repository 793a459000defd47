/* A node's lines, run by its init (inside the node) in file order: the
 * plan's OP_EXEC, OP_RUN, OP_WAIT and OP_DHCP of the node.
 *
 *   exec   runs and holds the later lines until it exits; anything but
 *          exit 0, or running longer than the line bound, fails `up`
 *   run    starts and goes on; if it exits non-zero before the node is
 *          ready, `up` fails; later, its end is reported (`status`)
 *   wait   holds the later lines until tcp/udp PORT is bound, a file
 *          exists, or a command succeeds; fails after its timeout
 *   dhcp   starts a DHCP client and holds the later lines until the
 *          interface has an address from it
 *
 * The node is ready when every line is done; the init then says so
 * (PROTO_NODE_READY), or why not (PROTO_LINE_FAILED).
 *
 * `netlab restart` (PROTO_STOP_LINES) stops the processes of the lines:
 * every process in a session a line started (each line's process makes
 * one) and every process carrying the NETLAB_LINE its line gave it, so a
 * daemon that forked away is found too; processes `netlab exec` started
 * are left alone.  SIGTERM, the lab's grace period, SIGKILL; then
 * PROTO_LINES_STOPPED, and the lines are as before PROTO_START, which
 * runs them again from the first. */
#ifndef NETLAB_NODE_LINES_H
#define NETLAB_NODE_LINES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "node/init.h"

struct lines;

struct node_log;

/* uid/gid: the node's `user` (when it has one); log: where the lines'
 * output goes (node/log.h). */
struct lines *lines_new(const struct node_spec *s, struct node_log *log, uint32_t uid, uint32_t gid);
/* PROTO_START: begin with the first line. */
void lines_start(struct lines *l);
/* PROTO_STOP_LINES: signal the lines' processes; lines_tick() goes on
 * with the stop and sends PROTO_LINES_STOPPED. */
void lines_stop(struct lines *l);
/* A child of the init ended (from waitpid). */
void lines_child_exited(struct lines *l, pid_t pid, int wstatus);
/* Check the current line's condition and bounds; the time in ms until
 * it wants to look again, -1 when nothing is pending. */
int lines_tick(struct lines *l);

#endif
