#include "util/vec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Make room for at least want elements. */
static int vec_reserve(void **v, size_t *cap, size_t elem, size_t want)
{
	size_t nc = *cap ? *cap : 4;

	if (want <= *cap)
		return 0;
	while (nc < want) {
		if (nc > SIZE_MAX / 2)
			return -1;
		nc *= 2;
	}
	if (nc > SIZE_MAX / elem)
		return -1;
	void *nv = realloc(*v, nc * elem);
	if (!nv)
		return -1;
	*v = nv;
	*cap = nc;
	return 0;
}

void *vec_push(void **v, size_t *n, size_t *cap, size_t elem)
{
	if (*n == *cap && vec_reserve(v, cap, elem, *n + 1) < 0)
		return NULL;
	void *p = (char *)*v + (*n)++ * elem;
	memset(p, 0, elem);
	return p;
}

void *vec_at(void **v, size_t *n, size_t *cap, size_t elem, size_t i)
{
	if (i >= *n) {
		if (i == SIZE_MAX || vec_reserve(v, cap, elem, i + 1) < 0)
			return NULL;
		memset((char *)*v + *n * elem, 0, (i + 1 - *n) * elem);
		*n = i + 1;
	}
	return (char *)*v + i * elem;
}
