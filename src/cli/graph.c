/* netlab graph FILE [--format dot|svg|png] [-o OUT]
 *
 * DOT text is produced in-process (topo/dot.c); pictures are rendered by
 * Graphviz's `dot`, fed through a pipe, writing to OUT or to our standard
 * output.  Running dot is the one place netlab execs a helper: it is a
 * renderer, not a network tool. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "topo/dot.h"
#include "util/cleanup.h"

enum graph_format { FMT_DOT, FMT_SVG, FMT_PNG };

static const char *const format_names[] = { [FMT_DOT] = "dot", [FMT_SVG] = "svg", [FMT_PNG] = "png" };

static int parse_format(const char *s, enum graph_format *fmt)
{
	for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++)
		if (strcmp(s, format_names[i]) == 0) {
			*fmt = (enum graph_format)i;
			return 0;
		}
	return -1;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* The DOT text in memory, so a render failure never leaves half a file
 * and the pipe writer needs no FILE on a pipe fd. */
static char *dot_text(const struct topology *t, size_t *len, nlab_error **err)
{
	char *buf = NULL;
	FILE *mem = open_memstream(&buf, len);

	if (!mem)
		return nlab_error_set(err, errno, "open_memstream"), NULL;
	int r = topo_write_dot(t, mem);
	int saved = errno;
	if (fclose(mem) != 0 && r == 0) {
		r = -1;
		saved = errno;
	}
	if (r < 0) {
		free(buf);
		return nlab_error_set(err, saved, "writing DOT"), NULL;
	}
	return buf;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = TEMP_FAILURE_RETRY(write(fd, buf, len));
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_dot_file(const struct topology *t, const char *path, nlab_error **err)
{
	FILE *out = stdout;

	if (path) {
		out = fopen(path, "we");
		if (!out)
			return nlab_error_set(err, errno, "%s", path);
	}
	int r = topo_write_dot(t, out);
	int saved = errno;
	if (out != stdout) {
		if (fclose(out) != 0 && r == 0) {
			r = -1;
			saved = errno;
		}
	} else if (fflush(out) != 0 && r == 0) {
		r = -1;
		saved = errno;
	}
	if (r < 0)
		return nlab_error_set(err, saved, "%s", path ? path : "standard output");
	return 0;
}

/* Run `dot -TFMT [-o OUT]` with the DOT text on its stdin (without OUT,
 * dot writes on the standard output it inherits).  A second
 * close-on-exec pipe carries execvp's errno back from the child: it reads
 * EOF when exec succeeded (the kernel closed it), or 4 bytes when it
 * failed, which is how "dot is not installed" is told apart from "dot ran
 * and failed". */
static int render(const char *dot, size_t len, enum graph_format fmt, const char *out_path, nlab_error **err)
{
	cleanup_close int in_rd = -1, in_wr = -1, st_rd = -1, st_wr = -1;
	int fds[2];
	char targ[16];

	snprintf(targ, sizeof(targ), "-T%s", format_names[fmt]);
	char *argv[6];
	size_t argc = 0;

	argv[argc++] = "dot";
	argv[argc++] = targ;
	/* Graphviz's 96 dpi default gives blurry PNGs with small labels. */
	if (fmt == FMT_PNG)
		argv[argc++] = "-Gdpi=120";
	if (out_path) {
		argv[argc++] = "-o";
		argv[argc++] = (char *)out_path;
	}
	argv[argc] = NULL;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return nlab_error_set(err, errno, "pipe2");
	in_rd = fds[0];
	in_wr = fds[1];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return nlab_error_set(err, errno, "pipe2");
	st_rd = fds[0];
	st_wr = fds[1];

	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return nlab_error_set(err, errno, "fork");
	if (pid == 0) {
		/* Child: async-signal-safe calls only until exec. */
		int e;
		if (in_rd == STDIN_FILENO)
			e = fcntl(in_rd, F_SETFD, 0) < 0 ? errno : 0;
		else
			e = dup2(in_rd, STDIN_FILENO) < 0 ? errno : 0; /* dup2 clears FD_CLOEXEC */
		if (!e) {
			execvp(argv[0], argv);
			e = errno;
		}
		(void)!write(st_wr, &e, sizeof(e));
		_exit(127);
	}

	close(steal_fd(&in_rd));
	close(steal_fd(&st_wr));

	int child_errno = 0;
	ssize_t n = TEMP_FAILURE_RETRY(read(st_rd, &child_errno, sizeof(child_errno)));
	int wr = 0, wr_errno = 0;
	if (n == 0) {
		/* dot may exit before reading everything (bad -o path): a
		 * write to the pipe must then fail with EPIPE, not kill us. */
		struct sigaction ign = { .sa_handler = SIG_IGN }, old;
		sigemptyset(&ign.sa_mask);
		sigaction(SIGPIPE, &ign, &old);
		wr = write_all(in_wr, dot, len);
		wr_errno = errno;
		sigaction(SIGPIPE, &old, NULL);
	}
	close(steal_fd(&in_wr));

	int status;
	if (TEMP_FAILURE_RETRY(waitpid(pid, &status, 0)) < 0)
		return nlab_error_set(err, errno, "waitpid dot");
	if (n > 0) {
		if (child_errno == ENOENT)
			return nlab_error_set(err, 0, "Graphviz 'dot' not found; install it with: apt-get install graphviz "
						      "(or use --format dot)");
		return nlab_error_set(err, child_errno, "cannot run Graphviz 'dot'");
	}
	if (n < 0)
		return nlab_error_set(err, errno, "reading from dot's status pipe");
	if (WIFSIGNALED(status))
		return nlab_error_set(err, 0, "dot was killed by signal %d", WTERMSIG(status));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return nlab_error_set(err, 0, "dot -T%s%s%s failed with exit status %d (see its message above)",
				      format_names[fmt], out_path ? " -o " : "", out_path ? out_path : "",
				      WEXITSTATUS(status));
	if (wr < 0)
		return nlab_error_set(err, wr_errno, "writing DOT to dot");
	return 0;
}

static void print_error(nlab_error **err)
{
	nlab_report("graph", "%s", *err && (*err)->msg ? (*err)->msg : "out of memory");
	nlab_error_free(err);
}

/* The format OUT's name asks for: .svg, .png, else DOT. */
static enum graph_format format_of(const char *out_path)
{
	if (out_path && has_suffix(out_path, ".svg"))
		return FMT_SVG;
	if (out_path && has_suffix(out_path, ".png"))
		return FMT_PNG;
	return FMT_DOT;
}

int cmd_graph(int argc, char **argv)
{
	struct cli_args a;
	cleanup_error nlab_error *err = NULL;
	int r = cli_parse("graph", argc, argv, &a);

	if (r != 0) {
		cli_args_free(&a);
		return r > 0 ? EXIT_OK : EXIT_USAGE;
	}
	const char *file = a.operands[0], *out_path = cli_opt(&a, "output"), *fmt_arg = cli_opt(&a, "format");
	cli_args_free(&a);
	enum graph_format fmt = format_of(out_path);
	if (fmt_arg && parse_format(fmt_arg, &fmt) < 0) {
		cli_usage_error("graph", "unknown format '%s' (formats: dot, svg, png)", fmt_arg);
		return EXIT_USAGE;
	}
	if (out_path && !out_path[0]) {
		cli_usage_error("graph", "empty output file name");
		return EXIT_USAGE;
	}
	/* As curl and gzip do: binary data would garble the terminal. */
	if (fmt == FMT_PNG && !out_path && isatty(STDOUT_FILENO)) {
		cli_usage_error("graph", "not writing a PNG to a terminal: add -o FILE or redirect the output");
		return EXIT_USAGE;
	}

	struct topology *t = cli_load_topology(file, false);
	if (!t)
		return EXIT_USAGE;

	if (fmt == FMT_DOT) {
		r = write_dot_file(t, out_path, &err);
	} else {
		size_t len = 0;
		cleanup_free char *dot = dot_text(t, &len, &err);
		r = dot ? render(dot, len, fmt, out_path, &err) : -1;
	}
	topo_free(t);
	if (r < 0) {
		print_error(&err);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}
