#include "util/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int nlab_error_vset(nlab_error **err, int errnum, const char *fmt, va_list ap)
{
	int saved = errno;
	char *base = NULL, *msg = NULL;

	if (!err)
		goto out;
	nlab_error_free(err);
	if (vasprintf(&base, fmt, ap) < 0)
		base = NULL;
	if (base && errnum) {
		if (asprintf(&msg, "%s: %s", base, strerror(errnum)) < 0)
			msg = NULL;
		free(base);
	} else {
		msg = base;
	}
	*err = calloc(1, sizeof(**err));
	if (!*err) {
		free(msg);
		goto out;
	}
	(*err)->errnum = errnum;
	(*err)->msg = msg ? msg : strdup("out of memory");
out:
	errno = saved;
	return -1;
}

int nlab_error_set(nlab_error **err, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nlab_error_vset(err, errnum, fmt, ap);
	va_end(ap);
	return -1;
}

int nlab_error_wrap(nlab_error **err, const char *fmt, ...)
{
	int saved = errno;
	char *ctx = NULL, *msg = NULL;
	va_list ap;

	if (!err || !*err)
		goto out;
	va_start(ap, fmt);
	if (vasprintf(&ctx, fmt, ap) < 0)
		ctx = NULL;
	va_end(ap);
	if (ctx && asprintf(&msg, "%s: %s", ctx, (*err)->msg ? (*err)->msg : "") >= 0) {
		free((*err)->msg);
		(*err)->msg = msg;
	}
	free(ctx);
out:
	errno = saved;
	return -1;
}

void nlab_error_free(nlab_error **err)
{
	if (!err || !*err)
		return;
	free((*err)->msg);
	free(*err);
	*err = NULL;
}

void nlab_report(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	if (verb)
		fprintf(stderr, "netlab %s: ", verb);
	else
		fputs("netlab: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void nlab_error_print(const char *verb, nlab_error **err)
{
	if (!err || !*err)
		return;
	nlab_report(verb, "%s", (*err)->msg);
	nlab_error_free(err);
}

void die(int errnum, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (errnum)
		fprintf(stderr, "netlab: %s: %s\n", buf, strerror(errnum));
	else
		fprintf(stderr, "netlab: %s\n", buf);
	_exit(1);
}
