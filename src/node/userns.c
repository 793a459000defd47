#include "node/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab/hostshare.h"
#include "lab/state.h"
#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/lock.h"

int userns_read_subid(const char *path, struct id_range **out, size_t *n)
{
	cleanup_fclose FILE *f = fopen(path, "re");
	char line[512];

	*out = NULL;
	*n = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char who[256];
		unsigned long long start, count;
		if (sscanf(line, "%255[^:]:%llu:%llu", who, &start, &count) != 3)
			continue;
		if (strcmp(who, "root") != 0 && strcmp(who, "0") != 0)
			continue;
		if (count < NLAB_IDS_PER_NODE || start + count > 0xFFFFFFFFull)
			continue;
		struct id_range *v = realloc(*out, (*n + 1) * sizeof(*v));
		if (!v)
			return -1;
		*out = v;
		v[(*n)++] = (struct id_range){ (uint32_t)start, (uint32_t)count };
	}
	return 0;
}

/* The host lock (lab/hostshare.h): a flock on the state root itself, so
 * a supervisor killed while choosing slots leaves no lock file behind. */
int userns_lock(nlab_error **err)
{
	return hostshare_lock(NULL, err);
}

void userns_unlock(int fd)
{
	hostshare_unlock(fd);
}

struct used {
	uint32_t *v;
	size_t n, cap;
};

static int used_add(struct used *u, uint32_t base)
{
	if (u->n == u->cap) {
		size_t nc = u->cap ? u->cap * 2 : 64;
		uint32_t *v = realloc(u->v, nc * sizeof(*v));
		if (!v)
			return -1;
		u->v = v;
		u->cap = nc;
	}
	u->v[u->n++] = base;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Whether a slot at `base` shares an ID with one in `used` (sorted
 * bases): labs made by netlab before 0.11.5 packed their slots closer. */
static bool is_used(const uint32_t *used, size_t n, uint32_t base)
{
	uint64_t lo = base >= NLAB_IDS_PER_NODE ? (uint64_t)base - NLAB_IDS_PER_NODE + 1 : 0;
	size_t a = 0, b = n;

	while (a < b) { /* the first used base >= lo */
		size_t m = a + (b - a) / 2;
		if (used[m] < lo)
			a = m + 1;
		else
			b = m;
	}
	return a < n && used[a] < (uint64_t)base + NLAB_IDS_PER_NODE;
}

static size_t pick_every(const struct id_range *r, size_t nr, const uint32_t *used, size_t nused, size_t n,
			 uint32_t *bases, uint32_t stride)
{
	size_t k = 0;

	for (size_t i = 0; i < nr && k < n; i++)
		for (uint64_t b = r[i].start; b + NLAB_IDS_PER_NODE <= (uint64_t)r[i].start + r[i].count && k < n;
		     b += stride)
			if (!is_used(used, nused, (uint32_t)b))
				bases[k++] = (uint32_t)b;
	return k;
}

size_t userns_pick(const struct id_range *r, size_t nr, const uint32_t *used, size_t nused, size_t n,
		   uint32_t *bases)
{
	size_t k = pick_every(r, nr, used, nused, n, bases, NLAB_IDS_SLOT_STRIDE);

	return k < n ? pick_every(r, nr, used, nused, n, bases, NLAB_IDS_PER_NODE) : k;
}

int userns_allocate(const char *self, size_t n, uint32_t *uid_base, uint32_t *gid_base, nlab_error **err)
{
	struct used uu = { 0 }, ug = { 0 };
	char **labs = NULL;
	size_t nlabs = 0;
	int r = -1;
	struct id_range def = { NLAB_IDS_DEFAULT_BASE, NLAB_IDS_DEFAULT_COUNT };
	struct id_range *ru = NULL, *rg = NULL;
	size_t nru = 0, nrg = 0;

	if (n == 0)
		return 0;
	if (userns_read_subid("/etc/subuid", &ru, &nru) < 0 || userns_read_subid("/etc/subgid", &rg, &nrg) < 0) {
		nlab_error_set(err, ENOMEM, "read /etc/subuid");
		goto out;
	}
	if (state_list(&labs, &nlabs, err) < 0)
		goto out;
	for (size_t i = 0; i < nlabs; i++) {
		struct lab_state st;
		if (!strcmp(labs[i], self) || state_read(labs[i], &st, NULL) < 0)
			continue;
		/* A stale lab (its supervisor gone) keeps its slots until
		 * `down`: its files may still be owned by them. */
		for (size_t j = 0; j < st.nnodes; j++)
			if (st.nodes[j].userns && (used_add(&uu, st.nodes[j].uid_base) < 0 ||
						   used_add(&ug, st.nodes[j].gid_base) < 0)) {
				state_clear(&st);
				nlab_error_set(err, ENOMEM, "userns slots");
				goto out;
			}
		state_clear(&st);
	}
	/* qsort and bsearch take no NULL array, even of no elements. */
	if (uu.n)
		qsort(uu.v, uu.n, sizeof(*uu.v), cmp_u32);
	if (ug.n)
		qsort(ug.v, ug.n, sizeof(*ug.v), cmp_u32);
	size_t ku = userns_pick(nru ? ru : &def, nru ? nru : 1, uu.v, uu.n, n, uid_base);
	size_t kg = userns_pick(nrg ? rg : &def, nrg ? nrg : 1, ug.v, ug.n, n, gid_base);
	if (ku < n || kg < n) {
		nlab_error_set(err, ENOSPC,
			       "no free user namespace ID ranges: %zu nodes need %zu free slots of %u IDs in %s (root's entries) and %s; found %zu and %zu",
			       n, n, NLAB_IDS_PER_NODE, nru ? "/etc/subuid" : "the default range",
			       nrg ? "/etc/subgid" : "the default range", ku, kg);
		goto out;
	}
	r = 0;
out:
	for (size_t i = 0; i < nlabs; i++)
		free(labs[i]);
	free(labs);
	free(uu.v);
	free(ug.v);
	free(ru);
	free(rg);
	return r;
}

static int write_proc(pid_t pid, const char *file, const char *text, nlab_error **err)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return nlab_error_set(err, errno, "open %s", path);
	if (TEMP_FAILURE_RETRY(write(fd, text, strlen(text))) < 0)
		return nlab_error_set(err, errno, "write '%s' to %s", text, path);
	return 0;
}

int userns_write_maps(pid_t pid, uint32_t uid_base, uint32_t gid_base, nlab_error **err)
{
	char map[64];

	snprintf(map, sizeof(map), "0 %u %u\n", uid_base, NLAB_IDS_PER_NODE);
	if (write_proc(pid, "uid_map", map, err) < 0)
		return -1;
	/* setgroups is allowed inside the node: FRR, dnsmasq and tcpdump
	 * call it when they drop privileges.  "deny" exists for maps an
	 * unprivileged process writes for itself, where setgroups() could
	 * drop a host group that a file's permissions deny access to
	 * (CVE-2014-8989, user_namespaces(7)).  Here the privileged
	 * supervisor writes the maps, and it dropped every supplementary
	 * group before making nodes, so a node holds no host group it could
	 * shed: every group it can set is one of its own slot's IDs.  runc,
	 * crun and podman decide the same way (docs/isolation.md). */
	if (write_proc(pid, "setgroups", "allow", err) < 0)
		return -1;
	snprintf(map, sizeof(map), "0 %u %u\n", gid_base, NLAB_IDS_PER_NODE);
	return write_proc(pid, "gid_map", map, err);
}

int userns_write_nested_maps(pid_t pid, uint32_t uid_base, uint32_t gid_base, uint32_t size, bool setgroups,
			     nlab_error **err)
{
	char map[96];

	if (size > 1)
		snprintf(map, sizeof(map), "0 0 1\n1 %u %u\n", uid_base, size - 1);
	else
		snprintf(map, sizeof(map), "0 0 1\n");
	if (write_proc(pid, "uid_map", map, err) < 0)
		return -1;
	/* A child namespace cannot allow what its parent denies. */
	if (write_proc(pid, "setgroups", setgroups ? "allow" : "deny", err) < 0)
		return -1;
	if (size > 1)
		snprintf(map, sizeof(map), "0 0 1\n1 %u %u\n", gid_base, size - 1);
	else
		snprintf(map, sizeof(map), "0 0 1\n");
	return write_proc(pid, "gid_map", map, err);
}
