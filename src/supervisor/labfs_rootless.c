/* The host's top-level entries, once per rootless lab, for the nodes'
 * roots (node/nodefs.h, nodefs_rootless.c): which are links, which have
 * mounts under them (those cannot be overlay layers in a user namespace:
 * the kernel refuses a layer with locked mounts below it), which the mask
 * hides. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "node/nodefs.h"
#include "supervisor/sup.h"
#include "util/cleanup.h"

/* Is any mount point at /NAME or under it? */
static bool mounts_under(char **mps, size_t n, const char *name)
{
	size_t l = strlen(name);
	for (size_t i = 0; i < n; i++)
		if (mps[i][0] == '/' && !strncmp(mps[i] + 1, name, l) &&
		    (mps[i][1 + l] == '\0' || mps[i][1 + l] == '/'))
			return true;
	return false;
}

static int mount_points(char ***out, size_t *n)
{
	cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[8192];

	*out = NULL;
	*n = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char mp[4096];
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
			continue;
		char **v = realloc(*out, (*n + 1) * sizeof(*v));
		if (!v)
			return -1;
		*out = v;
		if (!(v[*n] = strdup(mp)))
			return -1;
		(*n)++;
	}
	return 0;
}

static struct nodefs_top *add(struct sup *s, const char *name)
{
	for (size_t i = 0; i < s->ntops; i++)
		if (!strcmp(s->tops[i].name, name))
			return &s->tops[i];
	struct nodefs_top *v = realloc(s->tops, (s->ntops + 1) * sizeof(*v));
	if (!v)
		return NULL;
	s->tops = v;
	memset(&v[s->ntops], 0, sizeof(v[0]));
	snprintf(v[s->ntops].name, sizeof(v[0].name), "%s", name);
	return &v[s->ntops++];
}

int labfs_rootless_scan(struct sup *s, nlab_error **err)
{
	char **mps = NULL;
	size_t nmps = 0;
	int r = -1;

	cleanup_close int mask = open(s->mask_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = opendir("/");
	if (mask < 0 || !d || mount_points(&mps, &nmps) < 0) {
		nlab_error_set(err, errno, "the host's / and its mounts");
		goto out;
	}
	for (struct dirent *e; (e = readdir(d));) {
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || strlen(e->d_name) >= 256 ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!S_ISLNK(st.st_mode) && !S_ISDIR(st.st_mode))
			continue;
		struct nodefs_top *t = add(s, e->d_name);
		if (!t)
			goto nomem;
		struct stat ms;
		t->in_mask = fstatat(mask, e->d_name, &ms, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(ms.st_mode);
		if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlinkat(dirfd(d), e->d_name, t->link, sizeof(t->link) - 1);
			if (n < 0) {
				s->ntops--;
				continue;
			}
			t->link[n] = '\0';
			t->kind = NODEFS_TOP_LINK;
			continue;
		}
		char o[2] = "";
		cleanup_close int md = t->in_mask ? openat(mask, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
		bool opaque = md >= 0 && fgetxattr(md, "user.overlay.opaque", o, 1) == 1 && o[0] == 'y';
		/* Writable where software writes (the FHS's /etc, /var, /usr,
		 * /opt, /srv); elsewhere (/boot, a machine's own /work...)
		 * read-only: an overlay per directory per node is the cost of
		 * `up` (docs/rootless.md). */
		static const char *writable[] = { "etc", "var", "usr", "opt", "srv" };
		bool w = false;
		for (size_t i = 0; i < sizeof(writable) / sizeof(writable[0]); i++)
			w = w || !strcmp(e->d_name, writable[i]);
		if (opaque)
			t->kind = NODEFS_TOP_MASK;
		else if (!w || mounts_under(mps, nmps, e->d_name))
			t->kind = NODEFS_TOP_BIND;
		else
			t->kind = NODEFS_TOP_OVERLAY;
	}
	/* The mask's own top-level directories (lab). */
	closedir(d);
	d = fdopendir(dup(mask));
	for (struct dirent *e; d && (e = readdir(d));) {
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || strlen(e->d_name) >= 256 ||
		    fstatat(mask, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		bool seen = false;
		for (size_t i = 0; i < s->ntops && !seen; i++)
			seen = !strcmp(s->tops[i].name, e->d_name);
		if (seen)
			continue;
		struct nodefs_top *t = add(s, e->d_name);
		if (!t)
			goto nomem;
		t->in_mask = true;
		t->kind = NODEFS_TOP_MASK;
	}
	r = 0;
	goto out;
nomem:
	nlab_error_set(err, ENOMEM, "the host's top-level entries");
out:
	if (d)
		closedir(d);
	for (size_t i = 0; i < nmps; i++)
		free(mps[i]);
	free(mps);
	return r;
}
