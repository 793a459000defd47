/* The generic vector (src/util/vec.c): pushes hand out zeroed elements,
 * VEC_AT grows an index-addressed table with zeroes, and growth keeps what
 * was there. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/vec.h"

struct item {
	int a;
	char name[13];
};

static void test_push_zeroed_and_kept(void **state)
{
	(void)state;
	VEC(struct item) v = { 0 };

	for (int i = 0; i < 1000; i++) {
		struct item *it = VEC_PUSH(v);
		assert_non_null(it);
		assert_int_equal(it->a, 0);
		assert_int_equal(it->name[0], 0);
		it->a = i;
		memset(it->name, 'x', sizeof(it->name));
	}
	assert_int_equal(v.n, 1000);
	assert_true(v.cap >= v.n);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(v.v[i].a, i);
	free(v.v);
}

static void test_push_capacity_doubles_from_four(void **state)
{
	(void)state;
	VEC(int) v = { 0 };

	assert_non_null(VEC_PUSH(v));
	assert_int_equal(v.cap, 4);
	for (int i = 0; i < 4; i++)
		assert_non_null(VEC_PUSH(v));
	assert_int_equal(v.n, 5);
	assert_int_equal(v.cap, 8);
	free(v.v);
}

static void test_at_grows_with_zeroes(void **state)
{
	(void)state;
	VEC(bool) v = { 0 };
	bool *f = VEC_AT(v, 9);

	assert_non_null(f);
	*f = true;
	assert_int_equal(v.n, 10);
	for (size_t i = 0; i < 9; i++)
		assert_false(v.v[i]);
	/* An index already there neither grows nor clears. */
	assert_ptr_equal(VEC_AT(v, 9), &v.v[9]);
	assert_true(v.v[9]);
	assert_int_equal(v.n, 10);
	/* Growing again keeps the old elements and zeroes the new ones. */
	assert_non_null(VEC_AT(v, 100));
	assert_int_equal(v.n, 101);
	assert_true(v.v[9]);
	for (size_t i = 10; i <= 100; i++)
		assert_false(v.v[i]);
	free(v.v);
}

/* The functions behind the macros, on an array kept as three fields. */
static void test_separate_fields(void **state)
{
	(void)state;
	long *v = NULL;
	size_t n = 0, cap = 0;

	for (long i = 0; i < 20; i++) {
		long *p = vec_push((void **)&v, &n, &cap, sizeof(*v));
		assert_non_null(p);
		*p = i * i;
	}
	assert_int_equal(n, 20);
	assert_int_equal(v[19], 361);
	assert_null(vec_at((void **)&v, &n, &cap, sizeof(*v), SIZE_MAX));
	assert_int_equal(n, 20);
	free(v);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_zeroed_and_kept),
		cmocka_unit_test(test_push_capacity_doubles_from_four),
		cmocka_unit_test(test_at_grows_with_zeroes),
		cmocka_unit_test(test_separate_fields),
	};
	return cmocka_run_group_tests_name("vec", tests, NULL, NULL);
}
