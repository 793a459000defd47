/* bench-time: wall time of one command, for `make bench`.
 *
 *   bench-time OUT SECONDS CMD [ARG...]
 *
 * Starts CMD with posix_spawnp (no copy of this process's memory), waits
 * for it, kills it with SIGKILL after SECONDS, and writes the elapsed wall
 * time in milliseconds to the file OUT.  Exits with CMD's status (124 on a
 * timeout, as timeout(1) does).  A shell's own ways of timing a command
 * (a subshell for the clock, timeout(1) in between) add whole process
 * creations to what is measured, which on a small VM is as much as a
 * classroom lab's whole `netlab up`. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	pid_t pid;
	int status, timed_out = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: bench-time OUT SECONDS CMD [ARG...]\n");
		return 2;
	}
	int seconds = atoi(argv[2]);
	double t0 = now_ms();
	int e = posix_spawnp(&pid, argv[3], NULL, NULL, argv + 3, environ);
	if (e) {
		fprintf(stderr, "bench-time: %s: %s\n", argv[3], strerror(e));
		return 127;
	}
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p = { .fd = pfd, .events = POLLIN };
	if (pfd >= 0 && poll(&p, 1, seconds * 1000) == 0) {
		kill(pid, SIGKILL);
		timed_out = 1;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	double ms = now_ms() - t0;
	FILE *f = fopen(argv[1], "w");
	if (!f || fprintf(f, "%.3f\n", ms) < 0 || fclose(f) != 0) {
		perror(argv[1]);
		return 1;
	}
	if (timed_out)
		return 124;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
