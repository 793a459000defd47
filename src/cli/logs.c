#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lab/state.h"
#include "util/fsutil.h"

int cmd_logs(int argc, char **argv)
{
	bool follow = false;
	char *args[4];
	int nargs = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--follow"))
			follow = true;
		else if (argv[i][0] == '-' || nargs == 2) {
			cli_usage_error("logs", "usage: netlab logs [LAB] NODE [-f]");
			return EXIT_USAGE;
		} else
			args[nargs++] = argv[i];
	}
	if (nargs == 0) {
		cli_usage_error("logs", "usage: netlab logs [LAB] NODE [-f]");
		return EXIT_USAGE;
	}
	char *lab = NULL;
	const char *node = args[nargs - 1];
	if (cli_resolve_lab("logs", nargs == 2 ? args[0] : NULL, &lab) < 0)
		return EXIT_USAGE;
	nlab_error *err = NULL;
	int fd = state_open_log(lab, node, &err);
	if (fd < 0) {
		nlab_error_print("logs", &err);
		free(lab);
		return EXIT_RUNTIME;
	}
	free(lab);
	for (;;) {
		char buf[65536];
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			if (write_all(1, buf, (size_t)n) < 0)
				break;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (!follow)
			break;
		/* Following ends when `down` removes the lab's log. */
		struct stat st;
		if (fstat(fd, &st) < 0 || st.st_nlink == 0)
			break;
		poll(NULL, 0, 200);
	}
	close(fd);
	return EXIT_OK;
}
