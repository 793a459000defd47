#include "node/command.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* execve() of argv, a file without a shebang through /bin/sh. */
static void exec_file(const char *file, char **argv)
{
	char *sh[256];
	size_t n = 0;

	execve(file, argv, environ);
	if (errno != ENOEXEC)
		return;
	while (n < 253 && argv[n])
		n++;
	if (argv[n])
		return;
	sh[0] = "/bin/sh";
	sh[1] = (char *)file;
	for (size_t i = 1; i <= n; i++)
		sh[i + 1] = argv[i];
	execve("/bin/sh", sh, environ);
	errno = ENOEXEC;
}

int command_exec_argv(char **argv)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];
	int result = ENOENT;
	size_t len = strlen(argv[0]);

	if (strchr(argv[0], '/')) {
		exec_file(argv[0], argv);
		return errno;
	}
	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (const char *p = path;; p++) {
		const char *end = strchrnul(p, ':');
		size_t dl = (size_t)(end - p);
		if (dl + len + 2 <= sizeof(buf)) {
			/* An empty element is the current directory. */
			memcpy(buf, dl ? p : ".", dl ? dl : 1);
			size_t o = dl ? dl : 1;
			buf[o++] = '/';
			memcpy(buf + o, argv[0], len + 1);
			exec_file(buf, argv);
			struct stat st;
			if (errno == EACCES && stat(buf, &st) == 0)
				result = EACCES;
			else if (errno != EACCES && errno != ENOENT && errno != ENOTDIR && errno != ELOOP &&
				 errno != ENAMETOOLONG && result == ENOENT)
				result = errno;
		}
		if (!*end)
			break;
		p = end;
	}
	return result;
}

int command_exec_line(const char *text, const char **what)
{
	*what = "/bin/sh";
	if (!strpbrk(text, "|&;<>()$`\\\"'*?[]#~=%{}\n\t")) {
		char *copy = strdup(text), *argv[64], *save = NULL;
		int argc = 0;
		for (char *w = copy ? strtok_r(copy, " ", &save) : NULL; w && argc < 63; w = strtok_r(NULL, " ", &save))
			argv[argc++] = w;
		argv[argc] = NULL;
		if (argc > 0 && argc < 63) {
			*what = argv[0];
			return command_exec_argv(argv);
		}
	}
	execl("/bin/sh", "sh", "-c", text, (char *)NULL);
	return errno;
}

int command_exit_status(int errnum)
{
	return errnum == ENOENT ? 127 : 126;
}

void command_raise_oom_score(void)
{
	char buf[16];
	int fd = open("/proc/self/oom_score_adj", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int now = 0;
	/* A small atoi: no library call that could allocate. */
	for (ssize_t i = n > 0 && buf[0] == '-' ? 1 : 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
		now = now * 10 + (buf[i] - '0');
	if (n > 0 && buf[0] == '-')
		now = -now;
	_Static_assert(NODE_OOM_SCORE_ADJ >= 100 && NODE_OOM_SCORE_ADJ <= 999, "three digits");
	if (n > 0 && now < NODE_OOM_SCORE_ADJ) {
		static const char val[] = { '0' + NODE_OOM_SCORE_ADJ / 100, '0' + NODE_OOM_SCORE_ADJ / 10 % 10,
					    '0' + NODE_OOM_SCORE_ADJ % 10 };
		if (pwrite(fd, val, sizeof(val), 0) < 0) {
			/* best effort: the node runs without it */
		}
	}
	close(fd);
}
