/* `netlab up --netns-names`: name each node's network namespace the way
 * `ip netns add` does, so that `ip netns list` shows a lab and `ip netns
 * exec LAB-NODE CMD` runs in a node's network stack.
 *
 * A name is a file /run/netns/LAB-NODE with the node's /proc/PID/ns/net
 * bind-mounted on it (iproute2, ip/ipnetns.c: netns_add).  The mounts
 * must be made in the host's mount namespace, where `ip` looks: the
 * supervisor lives in a mount namespace of its own, so `netlab up` makes
 * them, once the lab is up and while it holds the lab's lock.  The names
 * are recorded in state.json before any is made, so `down` removes them
 * also after a crash of `up` or of the supervisor.
 *
 * Cost: a bind mount holds the network namespace, so a crashed lab's
 * node network stacks stay until `down`; and a mount per node (measured
 * in docs/cli.md, "--netns-names"). */
#include "lab/netns_names.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"

#define NETNS_RUN_DIR "/run/netns"

static int name_path(const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", NETNS_RUN_DIR, name);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* As iproute2 does before its first name: /run/netns a shared mount
 * point, so that a name removed here is removed in every mount namespace
 * that copied it (`ip netns exec` makes one), and the namespace can go. */
static int run_dir_setup(nlab_error **err)
{
	if (mkdir(NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST)
		return nlab_error_set(err, errno, "mkdir %s", NETNS_RUN_DIR);
	for (bool bound = false;; bound = true) {
		if (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
			return 0;
		/* EINVAL: not a mount point yet; make it one. */
		if (errno != EINVAL || bound)
			return nlab_error_set(err, errno, "mount --make-rshared %s", NETNS_RUN_DIR);
		if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
			return nlab_error_set(err, errno, "mount --rbind %s %s", NETNS_RUN_DIR, NETNS_RUN_DIR);
	}
}

/* Bind the node's network namespace on the file made for it.  The
 * namespace is opened first and the init checked alive after, so a
 * reused pid never names someone else's namespace. */
static int bind_node(const struct state_node *sn, const char *path, nlab_error **err)
{
	char ns[64], fdpath[64];

	snprintf(ns, sizeof(ns), "/proc/%d/ns/net", (int)sn->init.pid);
	cleanup_close int fd = open(ns, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nlab_error_set(err, errno, "open %s", ns);
	if (!proc_id_alive(&sn->init))
		return nlab_error_set(err, ESRCH, "node %s: its init is gone", sn->name);
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	if (mount(fdpath, path, "none", MS_BIND, NULL) < 0)
		return nlab_error_set(err, errno, "mount --bind %s %s", ns, path);
	return 0;
}

/* The journal keeps names[0..n): the ones made (or being made). */
static int journal(struct lab_state *st, size_t n, nlab_error **err)
{
	for (size_t i = n; i < st->nnetns_names; i++)
		free(st->netns_names[i]);
	st->nnetns_names = n;
	return state_write(st, err);
}

static int create(struct lab_state *st, nlab_error **err)
{
	char path[256];

	st->netns_names = calloc(st->nnodes ? st->nnodes : 1, sizeof(*st->netns_names));
	if (!st->netns_names)
		return nlab_error_set(err, ENOMEM, "netns names");
	for (size_t i = 0; i < st->nnodes; i++) {
		struct stat sb;
		if (asprintf(&st->netns_names[i], "%s-%s", st->lab, st->nodes[i].name) < 0) {
			st->netns_names[i] = NULL;
			return nlab_error_set(err, ENOMEM, "netns names");
		}
		st->nnetns_names = i + 1;
		if (name_path(st->netns_names[i], path, sizeof(path)) < 0)
			return nlab_error_set(err, ENAMETOOLONG, "%s", st->netns_names[i]);
		/* Names of two labs can meet ("a" + "b-c", "a-b" + "c"); never
		 * take over one that is not ours. */
		if (lstat(path, &sb) == 0)
			return nlab_error_set(err, EEXIST,
					      "%s exists already (another lab's, or ip netns add's); "
					      "not replacing it",
					      path);
	}
	if (journal(st, st->nnetns_names, err) < 0)
		return -1;
	if (run_dir_setup(err) < 0) {
		journal(st, 0, NULL);
		return -1;
	}
	for (size_t i = 0; i < st->nnodes; i++) {
		name_path(st->netns_names[i], path, sizeof(path));
		/* O_EXCL: the file is ours, or we stop here and forget the rest. */
		int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
		if (fd < 0) {
			int e = errno;
			journal(st, i, NULL);
			return nlab_error_set(err, e, "create %s", path);
		}
		close(fd);
		if (bind_node(&st->nodes[i], path, err) < 0) {
			journal(st, i + 1, NULL);
			return nlab_error_wrap(err, "netns name %s", st->netns_names[i]);
		}
	}
	return 0;
}

int netns_names_create(const char *lab, nlab_error **err)
{
	struct lab_state st;

	if (state_read(lab, &st, err) < 0)
		return -1;
	int r = create(&st, err);
	state_clear(&st);
	return r < 0 ? nlab_error_wrap(err, "--netns-names") : 0;
}

/* A recorded name is the lab's name, '-', a node's: anything else (a
 * state file edited by hand) is not a name this lab made. */
static bool ours(const struct lab_state *st, const char *name)
{
	size_t n = strlen(st->lab);

	return !strncmp(name, st->lab, n) && name[n] == '-' && name[n + 1] && !strchr(name, '/');
}

int netns_names_remove(const struct lab_state *st, nlab_error **err)
{
	char path[256];
	int r = 0;

	for (size_t i = 0; i < st->nnetns_names; i++) {
		if (!ours(st, st->netns_names[i]) || name_path(st->netns_names[i], path, sizeof(path)) < 0)
			continue;
		/* Detached: a process still inside (ip netns exec) keeps the
		 * namespace, not the name. EINVAL: not mounted (a crash
		 * between the file and its mount). */
		if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT && r == 0)
			r = nlab_error_set(err, errno, "umount %s", path);
		if (unlink(path) < 0 && errno != ENOENT && r == 0)
			r = nlab_error_set(err, errno, "unlink %s", path);
	}
	return r;
}
