/* Reading a topology file: the checks on the file itself (a regular file
 * of at most 4 MiB that can be read), then parse and validate it. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "topo/lexer.h"
#include "topo/topo.h"
#include "util/cleanup.h"

/* Parse and validate: what a file and a buffer have in common.  dir: the
 * directory the topology's relative paths and commands start from. */
static int parse_validate(struct topo_source *src, const char *buf, size_t len, const char *dir,
			  struct topology **out, struct diags *d)
{
	struct topo_broken *broken = NULL;
	int r = topo_parse_buffer(src, buf, len, out, &broken, d);

	if (!*out) {
		topo_broken_free(broken);
		return -1;
	}
	if (dir)
		(*out)->dir = strdup(dir);
	/* Validate even after parse errors so the user sees every mistake
	 * at once; broken statements are skipped, not reported twice. */
	if (topo_validate(*out, broken, d) < 0)
		r = -1;
	topo_broken_free(broken);
	diag_sort(d);
	return r;
}

static int load(const char *path, struct topo_source *src, struct topology **out, struct diags *d)
{
	cleanup_close int fd = -1;
	cleanup_free char *buf = NULL;
	struct stat st;
	size_t off = 0;
	char dirbuf[PATH_MAX];

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		diag_error(d, ((struct topo_pos){ .line = 0 }), "cannot read topology: %s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		diag_error(d, ((struct topo_pos){ .line = 0 }), "cannot read topology: not a regular file");
		return -1;
	}
	if ((size_t)st.st_size > TOPO_MAX_FILE) {
		diag_error(d, ((struct topo_pos){ .line = 0 }),
			   "file is %lld bytes; topology files are limited to 4 MiB", (long long)st.st_size);
		return -1;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -1;
	while (off < (size_t)st.st_size) {
		ssize_t n = TEMP_FAILURE_RETRY(read(fd, buf + off, (size_t)st.st_size - off));
		if (n < 0) {
			diag_error(d, ((struct topo_pos){ .line = 0 }), "cannot read topology: %s", strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	return parse_validate(src, buf, off, realpath(path, dirbuf) ? dirname(dirbuf) : NULL, out, d);
}

int topo_load(const char *path, struct topology **out, struct topo_source **srcp, struct diags *d)
{
	/* Made before the file is opened: even "cannot read" is printed as
	 * FILE: error: ..., and the name comes from the source. */
	struct topo_source *src = topo_source_new(path);
	int r;

	*out = NULL;
	if (srcp)
		*srcp = src;
	if (!src) {
		diag_error(d, ((struct topo_pos){ .line = 0 }), "out of memory");
		return -1;
	}
	r = load(path, src, out, d);
	if (!srcp)
		topo_source_free(src);
	return r;
}

int topo_load_buffer(const char *name, const char *buf, size_t len, const char *dir, struct topology **out,
		     struct topo_source **srcp, struct diags *d)
{
	struct topo_source *src = topo_source_new(name);
	int r;

	*out = NULL;
	if (srcp)
		*srcp = src;
	if (!src) {
		diag_error(d, ((struct topo_pos){ .line = 0 }), "out of memory");
		return -1;
	}
	if (len > TOPO_MAX_FILE) {
		diag_error(d, ((struct topo_pos){ .line = 0 }), "topology is %zu bytes; topologies are limited to 4 MiB",
			   len);
		r = -1;
	} else {
		r = parse_validate(src, buf, len, dir, out, d);
	}
	if (!srcp)
		topo_source_free(src);
	return r;
}
