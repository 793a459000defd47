/* A growable array of any element type, for tables that are filled once
 * and then read: a topology's nodes and links, diagnostics, tokens.
 *
 *	VEC(struct thing) things = { 0 };
 *	struct thing *t = VEC_PUSH(things);     // zeroed, or NULL
 *	...
 *	free(things.v);
 *
 * Pointers into v stay valid only until the next push: the array moves
 * when it grows. */
#ifndef NETLAB_UTIL_VEC_H
#define NETLAB_UTIL_VEC_H

#include <stddef.h>

#define VEC(T)                 \
	struct {               \
		T *v;          \
		size_t n, cap; \
	}

/* Append one zeroed element to vec and return a pointer to it (typed as
 * vec.v), or NULL when out of memory (vec unchanged). */
#define VEC_PUSH(vec) ((__typeof__((vec).v))vec_push((void **)&(vec).v, &(vec).n, &(vec).cap, sizeof(*(vec).v)))

/* Element i of vec, growing it with zeroed elements up to i first: for
 * tables indexed by another table's indexes.  NULL when out of memory. */
#define VEC_AT(vec, i) ((__typeof__((vec).v))vec_at((void **)&(vec).v, &(vec).n, &(vec).cap, sizeof(*(vec).v), (i)))

/* The functions behind the macros, for arrays kept as three separate
 * fields (v, n, cap) rather than a VEC: *v holds *n elements of size
 * elem in room for *cap.  Capacity doubles, starting at 4. */
void *vec_push(void **v, size_t *n, size_t *cap, size_t elem);
void *vec_at(void **v, size_t *n, size_t *cap, size_t elem, size_t i);

#endif
