#include "topo/source.h"

#include <stdlib.h>
#include <string.h>

struct topo_source *topo_source_new(const char *file)
{
	struct topo_source *src = calloc(1, sizeof(*src));

	if (!src)
		return NULL;
	src->file = strdup(file);
	if (!src->file) {
		free(src);
		return NULL;
	}
	return src;
}

int topo_source_add_line(struct topo_source *src, const char *text, size_t len)
{
	char *copy = strndup(text, len);
	char **slot = copy ? VEC_PUSH(src->lines) : NULL;

	if (!slot) {
		free(copy);
		return -1;
	}
	*slot = copy;
	return 0;
}

const char *topo_source_line(const struct topo_source *src, int n)
{
	if (!src || n <= 0 || (size_t)n > src->lines.n)
		return NULL;
	return src->lines.v[n - 1];
}

void topo_source_free(struct topo_source *src)
{
	if (!src)
		return;
	for (size_t i = 0; i < src->lines.n; i++)
		free(src->lines.v[i]);
	free(src->lines.v);
	free(src->file);
	free(src);
}
