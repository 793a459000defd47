/* Clocks. */
#ifndef NETLAB_UTIL_TIME_H
#define NETLAB_UTIL_TIME_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds: for timeouts and phase times. */
int64_t now_ms(void);

#endif
