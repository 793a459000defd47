/* netlab's one error convention (see docs/errors.md).
 *
 * A function that can fail returns a negative int (or NULL) and, when it was
 * given a non-NULL `nlab_error **err`, fills *err with the errno value and a
 * message.  Callers add context on the way up with nlab_error_wrap(), so the
 * user reads "up: node web1: link eth0 -> lan: RTM_NEWLINK: File exists".
 * Only main() and freshly forked children print and exit (die()). */
#ifndef NETLAB_ERROR_H
#define NETLAB_ERROR_H

#include <stdarg.h>

typedef struct nlab_error {
	int errnum;   /* errno value of the root cause, 0 when there is none */
	char *msg;    /* human message, context prefixes joined by ": " */
} nlab_error;

/* Fill *err (if err != NULL) with fmt, followed by ": strerror(errnum)"
 * when errnum != 0.  Always returns -1; errno is preserved. */
int nlab_error_set(nlab_error **err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int nlab_error_vset(nlab_error **err, int errnum, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* Prefix the existing *err message with "context: ".  Always returns -1. */
int nlab_error_wrap(nlab_error **err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void nlab_error_free(nlab_error **err);

/* The one way netlab reports to the user: "netlab VERB: message" on
 * stderr ("netlab: message" when verb is NULL), after flushing stdout so
 * the two stay in order. */
void nlab_report(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* nlab_report() of the error's message, then free *err. */
void nlab_error_print(const char *verb, nlab_error **err);

/* Only in main() and in children between fork() and exec(). */
__attribute__((noreturn, format(printf, 2, 3)))
void die(int errnum, const char *fmt, ...);

#endif
