/* `netlab capture` (lab/capture.c says how and where). */
#ifndef NETLAB_LAB_CAPTURE_H
#define NETLAB_LAB_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lab/state.h"
#include "util/error.h"

struct lab_capture_options {
	const char *target;	  /* NODE:IFACE or SWITCH */
	const char *filter;	  /* tcpdump expression, or NULL */
	size_t count;		  /* stop after this many frames; 0: no limit */
	FILE *out;		  /* the pcap goes here */
	void (*ready)(void *arg); /* called once capturing (may be NULL) */
	void *ready_arg;
};

struct lab_capture_result {
	size_t frames;
	unsigned dropped; /* by the kernel: we were too slow */
	bool lab_down, interrupted, reader_gone;
};

int lab_capture(const char *lab, const struct lab_capture_options *o, struct lab_capture_result *res, nlab_error **err);

#endif
