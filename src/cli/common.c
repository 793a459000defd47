#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lab/lab.h"
#include "lab/state.h"
#include "net/qdisc.h"
#include "node/cgroup_user.h"
#include "remote/control.h"
#include "lab/rootless.h"
#include "topo/features.h"
#include "topo/privilege.h"
#include "topo/untrusted.h"

int cli_topo_load(const char *file, struct topology **t, struct topo_source **src, struct diags *d)
{
	if (strcmp(file, "-") != 0)
		return topo_load(file, t, src, d);
	/* One byte more than a topology may have, so that a bigger one is
	 * told apart from one of exactly the limit. */
	size_t cap = 4u << 20, len = 0;
	char *buf = malloc(cap + 1), cwd[PATH_MAX];
	if (!buf) {
		*t = NULL;
		if (src)
			*src = topo_source_new("<stdin>");
		diag_error(d, ((struct topo_pos){ .line = 0 }), "out of memory");
		return -1;
	}
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf + len, cap + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			*t = NULL;
			if (src)
				*src = topo_source_new("<stdin>");
			diag_error(d, ((struct topo_pos){ .line = 0 }), "cannot read standard input: %s", strerror(e));
			return -1;
		}
		if (n == 0 || (len += (size_t)n) > cap)
			break;
	}
	/* Relative paths and commands start where netlab was run. */
	int r = topo_load_buffer("<stdin>", buf, len, getcwd(cwd, sizeof(cwd)) ? cwd : NULL, t, src, d);
	free(buf);
	return r;
}

struct topology *cli_load_topology_source(const char *file, bool quiet, struct topo_source **srcp)
{
	struct diags d = { 0 };
	struct topology *t = NULL;
	struct topo_source *src = NULL;
	int r = cli_topo_load(file, &t, &src, &d);

	if (srcp)
		*srcp = NULL;
	if (r < 0 || (!quiet && d.nwarnings)) {
		diag_print(stderr, &d, src);
		if (r < 0)
			fprintf(stderr, "%zu error%s, %zu warning%s\n", d.nerrors, d.nerrors == 1 ? "" : "s",
				d.nwarnings, d.nwarnings == 1 ? "" : "s");
	}
	diag_free(&d);
	if (r < 0) {
		topo_free(t);
		t = NULL;
	}
	if (srcp && t)
		*srcp = src;
	else
		topo_source_free(src);
	return t;
}

struct topology *cli_load_topology(const char *file, bool quiet)
{
	return cli_load_topology_source(file, quiet, NULL);
}

int cli_require_root(const char *verb)
{
	if (geteuid() == 0)
		return 0;
	nlab_report(verb, "needs root: labs are built from namespaces and network interfaces "
			  "(CAP_SYS_ADMIN, CAP_NET_ADMIN); run it as root, e.g. with sudo");
	return -1;
}

int cli_resolve_lab(const char *verb, const char *arg, char **lab)
{
	char **up;
	size_t n;

	if (arg) {
		*lab = strdup(arg);
		return 0;
	}
	nlab_error *err = NULL;
	if (lab_list_up(&up, &n, &err) < 0) {
		nlab_error_print(verb, &err);
		return EXIT_RUNTIME;
	}
	/* And the labs across machines this machine controls (a name both
	 * is one lab: this machine runs a part of it). */
	char **mh = NULL;
	size_t nmh = 0;
	if (!mh_local_only && mh_list(&mh, &nmh, NULL) == 0 && nmh) {
		char **all = realloc(up, (n + nmh + 1) * sizeof(*all));
		for (size_t i = 0; all && i < nmh; i++) {
			bool dup = false;
			for (size_t k = 0; k < n; k++)
				dup = dup || !strcmp(all[k], mh[i]);
			if (dup)
				free(mh[i]);
			else
				all[n++] = mh[i];
		}
		if (all)
			up = all;
		free(mh);
	}
	if (n == 1) {
		*lab = strdup(up[0]);
		lab_list_free(up, n);
		return 0;
	}
	int rc = EXIT_USAGE;
	if (n == 0) {
		nlab_report(verb, "no lab is up");
		rc = EXIT_NOTFOUND;
	} else {
		char *names = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&names, &len);
		for (size_t i = 0; f && i < n; i++)
			fprintf(f, "%s%s", i ? ", " : "", up[i]);
		if (f)
			fclose(f);
		nlab_report(verb, "%zu labs are up (%s); name one", n, names ? names : "");
		free(names);
	}
	lab_list_free(up, n);
	return rc;
}

int cli_resolve_lab_node(const char *verb, int argc, char **argv, int *i, char **lab, const char **node)
{
	if (*i >= argc) {
		cli_usage_error(verb, "missing NODE");
		return EXIT_USAGE;
	}
	if (*i + 1 < argc && strcmp(argv[*i + 1], "--") != 0 && (lab_is_up(argv[*i]) || mh_controls(argv[*i]))) {
		*lab = strdup(argv[(*i)++]);
		*node = argv[(*i)++];
		return 0;
	}
	int rc = cli_resolve_lab(verb, NULL, lab);
	if (rc != 0)
		return rc;
	*node = argv[(*i)++];
	return 0;
}

/* Diagnostics found after loading (the kernel, --untrusted), printed the
 * way `check` prints the file's own. */
static void print_late_diags(struct diags *d, const struct topo_source *src, bool summary)
{
	diag_sort(d);
	diag_print(stderr, d, src);
	if (summary)
		fprintf(stderr, "%zu error%s, %zu warning%s\n", d->nerrors, d->nerrors == 1 ? "" : "s", d->nwarnings,
			d->nwarnings == 1 ? "" : "s");
}

size_t cli_check_kernel(const struct topology *t, const struct topo_source *src, bool as_error, bool print)
{
	bool any = false;

	for (size_t i = 0; i < t->links.n && !any; i++)
		any = t->links.v[i].rate_bps || t->links.v[i].delay_us || t->links.v[i].loss_ppm;
	/* Only a lab that asks for impairments pays for the probe (a fork
	 * and a throwaway network namespace). */
	if (!any)
		return 0;
	struct nlab_tc_features f;
	struct topo_kernel k = { 0 };
	if (nlab_tc_probe(&f)) {
		k.known = true;
		k.netem = f.netem;
		k.tbf = f.tbf;
		k.bpf_loss = f.bpf_loss;
	}
	struct diags d = { 0 };
	size_t n = topo_check_kernel(t, &k, as_error, &d);
	if (n && print)
		print_late_diags(&d, src, as_error);
	diag_free(&d);
	return n;
}

size_t cli_rootless_diags(const struct topology *t, struct diags *d)
{
	/* Read-only: `check` changes nothing. */
	struct cgroup_user u;
	struct topo_deleg dg;

	cgroup_user_detect(&u);
	cgroup_user_deleg(&u, &dg);
	return topo_check_rootless(t, &dg, d);
}

size_t cli_check_rootless(const struct topology *t, const struct topo_source *src)
{
	if (!rootless())
		return 0;
	struct diags d = { 0 };
	size_t n = cli_rootless_diags(t, &d);
	if (n)
		print_late_diags(&d, src, true);
	diag_free(&d);
	return n;
}

int cli_check_untrusted(const struct topology *t, const struct topo_source *src)
{
	struct diags d = { 0 };
	int r = topo_check_untrusted(t, &d);

	if (d.n)
		print_late_diags(&d, src, true);
	diag_free(&d);
	return r;
}
