/* Scope-bound cleanup, in the manner of bubblewrap's and crun's utils.h. */
#ifndef NETLAB_CLEANUP_H
#define NETLAB_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/error.h"

static inline void cleanup_freep(void *p)
{
	void **pp = (void **)p;
	free(*pp);
}

static inline void cleanup_closep(int *fd)
{
	/* errno is only written back when close() changed it: a write to
	 * it is a write to a page a node init may share (node/spawn.h). */
	if (*fd >= 0) {
		int saved = errno;
		if (close(*fd) < 0)
			errno = saved;
	}
}

static inline void cleanup_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static inline void cleanup_errorp(nlab_error **err)
{
	nlab_error_free(err);
}

#define cleanup_free __attribute__((cleanup(cleanup_freep)))
#define cleanup_close __attribute__((cleanup(cleanup_closep)))
#define cleanup_fclose __attribute__((cleanup(cleanup_fclosep)))
#define cleanup_error __attribute__((cleanup(cleanup_errorp)))

static inline void *steal_ptr(void *pp)
{
	void **p = (void **)pp;
	void *v = *p;
	*p = NULL;
	return v;
}

static inline int steal_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

#ifndef TEMP_FAILURE_RETRY
#define TEMP_FAILURE_RETRY(expr)                                               \
	({                                                                     \
		long _r;                                                       \
		do                                                             \
			_r = (long)(expr);                                     \
		while (_r == -1L && errno == EINTR);                           \
		_r;                                                            \
	})
#endif

#endif
