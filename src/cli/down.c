#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lab/lab.h"
#include "lab/rootless.h"
#include "lab/state.h"
#include "remote/control.h"

static void down_notice(const char *msg, void *arg)
{
	nlab_report("down", "lab %s: %s", (const char *)arg, msg);
}

static int down_one(const char *lab, int retry_s)
{
	nlab_error *err = NULL;

	if (mh_controls(lab)) {
		bool existed;
		if (mh_down(lab, retry_s, down_notice, (void *)lab, &existed, &err) < 0) {
			nlab_error_wrap(&err, "lab %s", lab);
			nlab_error_print("down", &err);
			return EXIT_RUNTIME;
		}
		printf(existed ? "lab %s is down on every machine\n" : "lab %s is not up; nothing to do\n", lab);
		return EXIT_OK;
	}
	struct lab_down_result res;
	struct lab_lock_options lo = { .notice = down_notice, .arg = (void *)lab, .interrupt_setup = true };
	int r = lab_take_down(lab, &lo, &res, &err);

	if (res.state_damaged)
		nlab_report("down", "%s; what the lab left was found from the kernel", res.state_problem);
	if (r < 0) {
		nlab_error_wrap(&err, "lab %s", lab);
		nlab_error_print("down", &err);
		return EXIT_RUNTIME;
	}
	printf(res.existed ? "lab %s is down\n" : "lab %s is not up; nothing to do\n", lab);
	return EXIT_OK;
}

/* A .topo file stands for the lab it would create. */
static char *lab_of_arg(const char *arg)
{
	struct stat st;

	if (stat(arg, &st) == 0 && S_ISREG(st.st_mode)) {
		struct topology *t = cli_load_topology(arg, true);
		char *name;
		if (t) {
			name = strdup(t->name);
			topo_free(t);
			return name;
		}
		char buf[NLAB_NAME_MAX + 1];
		topo_default_lab_name(arg, buf, sizeof(buf));
		return strdup(buf);
	}
	return strdup(arg);
}

/* The labs across machines this machine controls, added to labs[n]
 * (once: this machine may run a part of one of them). */
static int add_controlled(char ***labs, size_t *n)
{
	char **mh;
	size_t nmh;

	if (mh_local_only || mh_list(&mh, &nmh, NULL) < 0 || !nmh)
		return 0;
	char **all = realloc(*labs, (*n + nmh + 1) * sizeof(*all));
	if (!all) {
		for (size_t i = 0; i < nmh; i++)
			free(mh[i]);
		free(mh);
		return -1;
	}
	for (size_t i = 0; i < nmh; i++) {
		bool dup = false;
		for (size_t k = 0; k < *n; k++)
			dup = dup || !strcmp(all[k], mh[i]);
		if (dup)
			free(mh[i]);
		else
			all[(*n)++] = mh[i];
	}
	free(mh);
	*labs = all;
	return 0;
}

/* Without a name: the one lab that has state, up or crashed (so that
 * `netlab down` after a crash cleans it).  Returns 0 with *lab, 1 when
 * there is none, or an exit code. */
static int only_lab(char **lab)
{
	char **labs;
	size_t n;
	nlab_error *err = NULL;

	if (state_list(&labs, &n, &err) < 0 || add_controlled(&labs, &n) < 0) {
		nlab_error_print("down", &err);
		return EXIT_RUNTIME;
	}
	int rc = 0;
	if (n == 0) {
		rc = 1;
	} else if (n == 1) {
		*lab = labs[0];
		labs[0] = NULL;
	} else {
		char *names = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&names, &len);
		for (size_t i = 0; f && i < n; i++)
			fprintf(f, "%s%s", i ? ", " : "", labs[i]);
		if (f)
			fclose(f);
		cli_usage_error("down", "%zu labs exist (%s); name one, or use --all", n, names ? names : "");
		free(names);
		rc = EXIT_USAGE;
	}
	for (size_t i = 0; i < n; i++)
		free(labs[i]);
	free(labs);
	return rc;
}

static int down_everything(void *arg)
{
	char *argv[] = { "down", "--all", "--retry", (char *)arg, NULL };
	return cmd_down(4, argv);
}

/* Root: its own labs, then every user's, each as its owner. */
static int down_all_users(const char *retry)
{
	struct rootless_root *roots;
	size_t n;

	if (cli_require_root("down --all-users") < 0)
		return EXIT_RUNTIME;
	int rc = down_everything((void *)(retry ? retry : "60"));
	if (rootless_user_roots(&roots, &n) < 0) {
		nlab_report("down", "the users' state roots: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	for (size_t i = 0; i < n; i++) {
		printf("user uid %u, %s:\n", (unsigned)roots[i].uid, roots[i].path);
		if (rootless_as_owner(&roots[i], down_everything, (void *)(retry ? retry : "60")) != EXIT_OK)
			rc = EXIT_RUNTIME;
	}
	free(roots);
	return rc;
}

int cmd_down(int argc, char **argv)
{
	struct cli_args a;
	int r = cli_parse("down", argc, argv, &a);

	if (r != 0) {
		cli_args_free(&a);
		return r > 0 ? EXIT_OK : EXIT_USAGE;
	}
	const char *arg = a.n ? a.operands[0] : NULL, *retry = cli_opt(&a, "retry");
	bool all = cli_flag(&a, "all"), all_users = cli_flag(&a, "all-users");
	cli_args_free(&a);
	if (all_users) {
		if (arg || all) {
			cli_usage_error("down", "--all-users takes every lab down: no LAB, no --all");
			return EXIT_USAGE;
		}
		return down_all_users(retry);
	}
	if (all && arg) {
		cli_usage_error("down", "a lab or --all, not both");
		return EXIT_USAGE;
	}
	int retry_s = 60;
	if (retry) {
		char *end;
		long v = strtol(retry, &end, 10);
		if (!*retry || *end || v < 0 || v > 86400) {
			cli_usage_error("down", "--retry takes seconds (0 to 86400), not '%s'", retry);
			return EXIT_USAGE;
		}
		retry_s = (int)v;
	}
	if (all) {
		char **labs;
		size_t n;
		int rc = EXIT_OK;
		nlab_error *err = NULL;
		if (lab_list_all(&labs, &n, &err) < 0 || add_controlled(&labs, &n) < 0) {
			nlab_error_print("down", &err);
			return EXIT_RUNTIME;
		}
		if (n == 0)
			printf("no lab is up; nothing to do\n");
		/* Labs across machines first: one of them may have a part
		 * here, which its own down then takes. */
		bool *done = calloc(n + 1, sizeof(bool));
		for (size_t i = 0; done && i < n; i++)
			if ((done[i] = mh_controls(labs[i])) && down_one(labs[i], retry_s) != EXIT_OK)
				rc = EXIT_RUNTIME;
		for (size_t i = 0; i < n; i++) {
			if (!(done && done[i]) && down_one(labs[i], retry_s) != EXIT_OK)
				rc = EXIT_RUNTIME;
			free(labs[i]);
		}
		free(done);
		free(labs);
		return rc;
	}
	char *lab = NULL;
	if (arg) {
		lab = lab_of_arg(arg);
	} else {
		int rc = only_lab(&lab);
		if (rc == 1) {
			printf("no lab is up; nothing to do\n");
			return EXIT_OK;
		}
		if (rc != 0)
			return rc;
	}
	if (!lab || !topo_lab_name_valid(lab)) {
		cli_usage_error("down", "'%s' is neither a lab name nor a topology file", lab ? lab : arg);
		free(lab);
		return EXIT_USAGE;
	}
	int rc = down_one(lab, retry_s);
	free(lab);
	return rc;
}
