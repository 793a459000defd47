#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lab/state.h"
#include "remote/control.h"
#include "util/fsutil.h"

/* The lab and node exist (from the state, which also proves NODE is a
 * node's name and so safe in a path); 0 or the exit code. */
static int find_node(const char *lab, const char *node)
{
	struct state_node sn;
	struct proc_id sup;
	nlab_error *err = NULL;
	char dir[4096];

	if (state_read_node(lab, node, &sn, &sup, &err) == 0) {
		state_node_clear(&sn);
		return 0;
	}
	bool absent = err && err->errnum == ENOENT;
	nlab_error_free(&err);
	if (!absent) {
		nlab_report("logs", "lab '%s': cannot read its state", lab);
		return EXIT_RUNTIME;
	}
	if (state_lab_dir(lab, dir, sizeof(dir), NULL) == 0 && access(dir, F_OK) == 0)
		nlab_report("logs", "lab '%s' has no node '%s'", lab, node);
	else
		nlab_report("logs", "no lab '%s' (netlab status lists the labs)", lab);
	return EXIT_NOTFOUND;
}

/* Standard output gets fd from offset `from` on. */
static void copy_from(int fd, off_t from)
{
	char buf[65536];
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), from)) > 0 || (n < 0 && errno == EINTR)) {
		if (n < 0)
			continue;
		if (write_all(1, buf, (size_t)n) < 0)
			return;
		from += n;
	}
}

/* All of fd from its start, into *buf (caller frees); its length. */
static size_t slurp(int fd, char **buf)
{
	size_t len = 0, cap = 0;
	ssize_t n;

	*buf = NULL;
	for (;;) {
		if (cap - len < 65536) {
			char *b = realloc(*buf, cap + (1 << 20));
			if (!b)
				break;
			*buf = b;
			cap += 1 << 20;
		}
		n = pread(fd, *buf + len, cap - len, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	return len;
}

static bool same_file_state(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The recent output, NODE.log.1 then NODE.log, as one snapshot; *pos:
 * how much of NODE.log it showed.  A rotation while they are read
 * (node/log.c: .1 emptied and refilled from NODE.log, then NODE.log
 * emptied) would leave out what it moved: it shows as .1 changed or
 * NODE.log shorter than what was read of it, and the read starts over (a
 * few times: a node that rotates faster than this reads gets the last
 * try).  A rotation under way while both are read (the init held up
 * between its steps) changes neither: .1 then holds the start of
 * NODE.log, which would show twice; it is waited out, and on the last
 * try NODE.log alone is the snapshot. */
static void dump_recent(const char *lab, const char *node, int fd, off_t *pos)
{
	for (int attempt = 0;; attempt++) {
		struct stat o0 = { 0 }, o1 = { 0 }, f1;
		char *a = NULL, *b = NULL;
		size_t na = 0;
		int old = state_open_log(lab, node, true, NULL);
		if (old >= 0 && fstat(old, &o0) == 0)
			na = slurp(old, &a);
		size_t nb = slurp(fd, &b);
		bool moved = (old >= 0 && (fstat(old, &o1) < 0 || !same_file_state(&o0, &o1))) ||
			     fstat(fd, &f1) < 0 || f1.st_size < (off_t)nb;
		if (old >= 0)
			close(old);
		bool filling = na && na <= nb && memcmp(a, b, na) == 0;
		if ((!moved && !filling) || attempt == 4) {
			if ((filling || !na || write_all(1, a, na) == 0) && nb)
				(void)!write_all(1, b, nb);
			free(a);
			free(b);
			*pos = (off_t)nb;
			return;
		}
		free(a);
		free(b);
		if (filling)
			nanosleep(&(struct timespec){ .tv_nsec = 5 * 1000 * 1000 }, NULL);
	}
}

int cmd_logs(int argc, char **argv)
{
	struct cli_args a;
	int r = cli_parse("logs", argc, argv, &a);

	if (r != 0) {
		cli_args_free(&a);
		return r > 0 ? EXIT_OK : EXIT_USAGE;
	}
	bool follow = cli_flag(&a, "follow");
	char *lab = NULL;
	const char *node = a.operands[a.n - 1];
	int rc = cli_resolve_lab("logs", a.n == 2 ? a.operands[0] : NULL, &lab);
	if (rc == 0 && !topo_lab_name_valid(lab)) {
		cli_usage_error("logs", "invalid lab name '%s'", lab);
		rc = EXIT_USAGE;
	}
	if (rc == 0 && mh_controls(lab)) {
		/* The log is on the node's machine: read it there. */
		char *args[] = { "logs", lab, (char *)node, "-f" };
		nlab_error *err = NULL;
		mh_forward(lab, node, NULL, args, follow ? 4 : 3, false, &err);
		rc = err && err->errnum == ENOENT ? EXIT_NOTFOUND : EXIT_RUNTIME;
		nlab_error_print("logs", &err);
		free(lab);
		cli_args_free(&a);
		return rc;
	}
	if (rc == 0)
		rc = find_node(lab, node);
	if (rc != 0) {
		free(lab);
		cli_args_free(&a);
		return rc;
	}
	nlab_error *err = NULL;
	int fd = state_open_log(lab, node, false, &err);
	if (fd < 0) {
		nlab_error_print("logs", &err);
		free(lab);
		cli_args_free(&a);
		return EXIT_RUNTIME;
	}
	/* The recent output is in two files (node/log.h): the previous one
	 * first. */
	off_t pos = 0;
	dump_recent(lab, node, fd, &pos);
	if (lseek(fd, pos, SEEK_SET) < 0)
		pos = lseek(fd, 0, SEEK_END);
	while (follow) {
		char buf[65536];
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			if (write_all(1, buf, (size_t)n) < 0)
				break;
			pos += n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		/* Following ends when `down` removes the lab's log. */
		struct stat st;
		if (fstat(fd, &st) < 0 || st.st_nlink == 0)
			break;
		if (st.st_size < pos) {
			/* Rotated: what was not read yet moved to NODE.log.1. */
			int old = state_open_log(lab, node, true, NULL);
			if (old >= 0) {
				copy_from(old, pos);
				close(old);
			}
			lseek(fd, 0, SEEK_SET);
			pos = 0;
			continue;
		}
		poll(NULL, 0, 200);
	}
	close(fd);
	free(lab);
	cli_args_free(&a);
	return EXIT_OK;
}
