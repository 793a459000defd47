#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lab/lab.h"
#include "plan/plan.h"
#include "lab/state.h"
#include "supervisor/supervisor.h"
#include "util/cleanup.h"
#include "util/fsutil.h"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Refuse what netlab cannot apply yet instead of silently ignoring it. */
static int check_supported(const struct topology *t)
{
	int bad = 0;

	for (size_t i = 0; i < t->links.n; i++) {
		const struct topo_link *l = &t->links.v[i];
		if (l->delay_us || l->jitter_us || l->loss_ppm) {
			fprintf(stderr,
				"%s:%d: error: link delay/jitter/loss are not supported yet: they need the netem qdisc "
				"(kernel option CONFIG_NET_SCH_NETEM)\n",
				t->file, l->pos.line);
			bad = 1;
		}
		if (l->rate_bps) {
			fprintf(stderr, "%s:%d: error: link rate is not supported yet\n", t->file, l->rate_pos.line);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

static void launch_supervisor(const struct topology *t, const char *lab, int grace_ms, int lock_fd, int status_w,
			      bool progress)
{
	char dir[4096], path[4200];
	int fd;

	/* Detached from the caller's terminal and session: the lab outlives
	 * `netlab up`.  The lab lock must not be inherited, or `down` would
	 * wait on it for as long as the lab lives. */
	close(lock_fd);
	setsid();
	state_lab_dir(lab, dir, sizeof(dir), NULL);
	snprintf(path, sizeof(path), "%s/supervisor.log", dir);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		dup2(fd, 0);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	struct sup_options o = { .lab = lab, .grace_ms = grace_ms, .status_fd = status_w, .progress = progress };
	_exit(supervisor_main(t, &o));
}

/* One line on stderr, redrawn in place: "nodes [#####     ] 512/1000".
 * Returns true (a line is drawn and must be cleared). */
static bool progress_bar(const char *phase, size_t done, size_t total)
{
	char bar[41];
	size_t full = total ? done * 40 / total : 40;

	for (size_t i = 0; i < 40; i++)
		bar[i] = i < full ? '#' : ' ';
	bar[40] = '\0';
	fprintf(stderr, "\r%-10s [%s] %zu/%zu", phase, bar, done, total);
	fflush(stderr);
	return true;
}

int cmd_up(int argc, char **argv)
{
	const char *file = NULL, *name = NULL;
	bool dry = false, timing = false;
	int grace_ms = 2000;
	int64_t t0 = now_ms();

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--name") && i + 1 < argc)
			name = argv[++i];
		else if (!strcmp(argv[i], "--grace") && i + 1 < argc) {
			char *end;
			double g = strtod(argv[++i], &end);
			if (*end || g < 0 || g > 3600) {
				cli_usage_error("up", "--grace takes seconds (0 to 3600), not '%s'", argv[i]);
				return EXIT_USAGE;
			}
			grace_ms = (int)(g * 1000);
		} else if (!strcmp(argv[i], "--dry-run"))
			dry = true;
		else if (!strcmp(argv[i], "--timing"))
			timing = true;
		else if (argv[i][0] == '-') {
			cli_usage_error("up", "unknown option '%s' (usage: netlab up FILE [--name LAB] [--grace SECONDS] [--dry-run] [--timing])", argv[i]);
			return EXIT_USAGE;
		} else if (file) {
			cli_usage_error("up", "one topology file at a time");
			return EXIT_USAGE;
		} else
			file = argv[i];
	}
	if (!file) {
		cli_usage_error("up", "usage: netlab up FILE [--name LAB]");
		return EXIT_USAGE;
	}
	struct topology *t = cli_load_topology(file, false);
	if (!t)
		return EXIT_USAGE;
	const char *lab = name ? name : t->name;
	if (!topo_lab_name_valid(lab)) {
		cli_usage_error("up", "invalid lab name '%s': use lowercase letters, digits and '-', at most 32", lab);
		topo_free(t);
		return EXIT_USAGE;
	}
	if (name) {
		free(t->name);
		t->name = strdup(name);
	}
	if (dry) {
		struct lab_plan p;
		if (plan_build(t, &p) == 0) {
			plan_print(t, &p, stdout);
			plan_free(&p);
		}
		topo_free(t);
		return EXIT_OK;
	}
	if (check_supported(t) < 0 || cli_require_root("up") < 0) {
		topo_free(t);
		return EXIT_RUNTIME;
	}

	nlab_error *err = NULL;
	int lock = state_lock(lab, &err);
	int rc = EXIT_RUNTIME;
	if (lock < 0)
		goto out;
	if (lab_is_up(lab)) {
		fprintf(stderr, "netlab up: lab '%s' is already up; take it down first with: netlab down %s\n", lab, lab);
		goto out;
	}
	char dir[4096];
	state_lab_dir(lab, dir, sizeof(dir), NULL);
	if (access(dir, F_OK) == 0) {
		/* Left by a lab whose supervisor was killed: clean it first. */
		if (lab_down(lab, &err) < 0)
			goto out;
		fprintf(stderr, "netlab up: removed what a crashed lab '%s' had left\n", lab);
	}
	if (mkdir_p(dir, 0755, &err) < 0)
		goto out;

	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		nlab_error_set(&err, errno, "pipe");
		goto out;
	}
	/* A bar only where someone watches, and only when it is worth one. */
	bool progress = isatty(STDERR_FILENO) && topo_count_nodes(t) > 50;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		nlab_error_set(&err, errno, "fork");
		goto out;
	}
	if (pid == 0) {
		close(pipefd[0]);
		launch_supervisor(t, lab, grace_ms, lock, pipefd[1], progress);
	}
	close(pipefd[1]);

	/* "P" progress lines until the final "O ..." or "E message". */
	char *msg = NULL, *line = NULL;
	size_t len = 0, cap = 0;
	bool bar = false;
	FILE *m = open_memstream(&msg, &len);
	FILE *f = fdopen(pipefd[0], "r");
	while (f && m && getline(&line, &cap, f) > 0) {
		char phase[32];
		size_t done, total;
		if (len == 0 && sscanf(line, "P %31s %zu %zu", phase, &done, &total) == 3) {
			if (progress)
				bar = progress_bar(phase, done, total);
			continue;
		}
		fputs(line, m);
	}
	free(line);
	if (f)
		fclose(f);
	if (m)
		fclose(m);
	if (bar)
		fputs("\r\033[K", stderr);
	if (msg && msg[0] == 'O') {
		size_t nn = 0, nl = 0;
		long long ms = 0;
		int off = 0;
		sscanf(msg, "O %zu %zu %lld%n", &nn, &nl, &ms, &off);
		printf("lab %s is up: %zu node%s, %zu link%s in %lld ms\n", lab, nn, nn == 1 ? "" : "s", nl,
		       nl == 1 ? "" : "s", (long long)(now_ms() - t0));
		if (timing) {
			size_t l = strlen(msg);
			while (l && msg[l - 1] == '\n')
				msg[--l] = '\0';
			printf("phases (ms):%s\n", msg + off);
		}
		rc = EXIT_OK;
	} else {
		size_t l = msg ? strlen(msg) : 0;
		while (l && msg[l - 1] == '\n')
			msg[--l] = '\0';
		fprintf(stderr, "netlab up: %s\n", msg && msg[0] == 'E' ? msg + 2 : "the lab supervisor died while starting");
		waitpid(pid, NULL, 0);
		nlab_error *e2 = NULL;
		if (lab_down(lab, &e2) < 0)
			nlab_error_print(&e2);
		else
			fprintf(stderr, "netlab up: rolled back: nothing of lab '%s' is left\n", lab);
	}
	free(msg);
out:
	if (err) {
		nlab_error_wrap(&err, "up");
		nlab_error_print(&err);
	}
	if (lock >= 0)
		close(lock);
	topo_free(t);
	return rc;
}
