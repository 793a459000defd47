/* Packet capture on one interface, through libpcap: its BPF filter
 * compiler (tcpdump's expressions) and its pcap files.  libpcap is loaded
 * with dlopen() by the processes that capture, and only by them: linked
 * into netlab it would bring libdbus, libsystemd and libgcrypt into
 * every `netlab exec` and every node's init.
 *
 * A capture handle is an AF_PACKET socket, bound to the network
 * namespace of the thread that opens it: enter the namespace (a node's,
 * or the lab's for a switch), open, and go back; the handle keeps
 * capturing there. */
#ifndef NETLAB_NET_CAPTURE_H
#define NETLAB_NET_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util/error.h"

struct nlab_capture;

/* Open ifname (in the calling thread's netns) for capture: whole frames,
 * delivered at once (immediate mode), filtered by the expression filter
 * (NULL: everything).  promisc: also frames not for the interface (a
 * bridge device then sees every frame its ports receive, once). */
struct nlab_capture *nlab_capture_open(const char *ifname, bool promisc, const char *filter, nlab_error **err);

/* Write what is captured to out as a pcap file (header now).  out stays
 * the caller's: close it after nlab_capture_close(). */
int nlab_capture_dump_to(struct nlab_capture *c, FILE *out, nlab_error **err);

/* An fd to poll() for readability. */
int nlab_capture_fd(const struct nlab_capture *c);

/* Write what is ready, at most max frames (0: no limit), without
 * blocking; returns the number written, -1 with *err. */
int nlab_capture_dispatch(struct nlab_capture *c, size_t max, nlab_error **err);

/* Flush the dump file's buffer. */
void nlab_capture_flush(struct nlab_capture *c);

/* Frames the kernel dropped because we read too slowly (pcap_stats). */
unsigned nlab_capture_dropped(struct nlab_capture *c);

void nlab_capture_close(struct nlab_capture *c);

#endif
