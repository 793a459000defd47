/* What `down` does to the host directories node code could write to
 * (the topology's directory, which default nodes see as /lab, and the
 * sources of writable bind mounts): see labdir.h. */
#include "lab/labdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "util/cleanup.h"

#define LABDIR_DEPTH_MAX 64
/* A topology's directory holds configuration and captures; a walk past
 * this many entries stops (and says so) rather than crawl a home. */
#define LABDIR_ENTRIES_MAX 200000

struct walk {
	const struct lab_state *st;
	const char *top;
	uid_t uid; /* the directory's owner */
	gid_t gid;
	dev_t dev;
	size_t entries;
	size_t fixed;
	nlab_error **err;
};

/* One of the lab's slots: a node uid or gid as the host sees it. */
static bool in_slot(const struct lab_state *st, uint32_t id, bool gid)
{
	for (size_t i = 0; i < st->nnodes; i++) {
		uint32_t base = gid ? st->nodes[i].gid_base : st->nodes[i].uid_base;
		if (st->nodes[i].userns && base && id >= base && id - base < 65536)
			return true;
	}
	return false;
}

static void fix(int dir, const char *name, const struct stat *sb, struct walk *w)
{
	bool uid = in_slot(w->st, sb->st_uid, false), gid = in_slot(w->st, sb->st_gid, true);
	bool changed = sb->st_ctim.tv_sec >= w->st->created - 1;
	char path[64];

	if (uid || gid) {
		/* chown clears setuid, setgid and file capabilities too. */
		if (fchownat(dir, name, uid ? w->uid : (uid_t)-1, gid ? w->gid : (gid_t)-1, AT_SYMLINK_NOFOLLOW) == 0)
			w->fixed++;
		return;
	}
	if (!changed || S_ISLNK(sb->st_mode))
		return;
	/* The owner's own file, changed while the lab was up: made by node
	 * root through /lab.  No way up on the host may stay in it.  Acted
	 * on through an fd of the very inode looked at (a name swapped for
	 * a symlink meanwhile is not followed). */
	if (!S_ISREG(sb->st_mode))
		return;
	cleanup_close int f = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat now;
	if (f < 0 || fstat(f, &now) < 0 || now.st_ino != sb->st_ino || now.st_dev != sb->st_dev || !S_ISREG(now.st_mode))
		return;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", f);
	if ((now.st_mode & (S_ISUID | S_ISGID)) && chmod(path, now.st_mode & 0777) == 0)
		w->fixed++;
	if (removexattr(path, "security.capability") == 0)
		w->fixed++;
}

static int walk_dir(int fd, int depth, struct walk *w)
{
	if (depth > LABDIR_DEPTH_MAX)
		return 0;
	int d2 = dup(fd);
	DIR *d = d2 >= 0 ? fdopendir(d2) : NULL;
	if (!d) {
		if (d2 >= 0)
			close(d2);
		return nlab_error_set(w->err, errno, "%s: list a directory", w->top);
	}
	int r = 0;
	for (struct dirent *e; r == 0 && (e = readdir(d));) {
		struct stat sb;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (++w->entries > LABDIR_ENTRIES_MAX) {
			r = nlab_error_set(w->err, E2BIG, "%s: more than %d entries; stopped there", w->top,
					   LABDIR_ENTRIES_MAX);
			break;
		}
		if (fstatat(fd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 || sb.st_dev != w->dev)
			continue; /* gone meanwhile, or another file system */
		fix(fd, e->d_name, &sb, w);
		if (S_ISDIR(sb.st_mode)) {
			cleanup_close int sub = openat(fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				r = walk_dir(sub, depth + 1, w);
		}
	}
	closedir(d);
	return r;
}

int labdir_tidy(const struct lab_state *st, size_t *fixed, nlab_error **err)
{
	int r = 0;

	*fixed = 0;
	for (size_t i = 0; i < st->nwrite_dirs; i++) {
		const char *top = st->write_dirs[i];
		struct stat sb;
		cleanup_close int fd = open(top, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &sb) < 0)
			continue; /* gone, or not a directory (a file bind mount) */
		struct walk w = {
			.st = st, .top = top, .uid = sb.st_uid, .gid = sb.st_gid, .dev = sb.st_dev, .err = err,
		};
		if (walk_dir(fd, 0, &w) < 0)
			r = -1;
		*fixed += w.fixed;
		if (r < 0)
			break;
	}
	return r;
}
