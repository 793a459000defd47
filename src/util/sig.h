/* Signals a process takes over (blocked, read from a signalfd or
 * sigwaitinfo) only when whoever started it did not ignore them: `nohup`
 * ignores SIGHUP, a shell ignores SIGINT for its background jobs, and a
 * blocked signal is queued even when its disposition is SIG_IGN, so
 * taking it over would undo their choice. */
#ifndef NETLAB_UTIL_SIG_H
#define NETLAB_UTIL_SIG_H

#include <signal.h>
#include <stdbool.h>

static inline bool sig_ignored(int sig)
{
	struct sigaction sa;

	return sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN;
}

/* sigaddset() unless sig is ignored. */
static inline void sig_add_unless_ignored(sigset_t *set, int sig)
{
	if (!sig_ignored(sig))
		sigaddset(set, sig);
}

#endif
