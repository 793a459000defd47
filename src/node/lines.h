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
 * (PROTO_NODE_READY), or why not (PROTO_LINE_FAILED). */
#ifndef NETLAB_NODE_LINES_H
#define NETLAB_NODE_LINES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "node/init.h"

struct lines;

/* uid/gid: the node's `user` (when it has one). */
struct lines *lines_new(const struct node_spec *s, uint32_t uid, uint32_t gid);
/* PROTO_START: begin with the first line. */
void lines_start(struct lines *l);
/* A child of the init ended (from waitpid). */
void lines_child_exited(struct lines *l, pid_t pid, int wstatus);
/* Check the current line's condition and bounds; the time in ms until
 * it wants to look again, -1 when nothing is pending. */
int lines_tick(struct lines *l);

#endif
