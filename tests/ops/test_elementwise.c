/* tests/ops/test_elementwise.c — forward references and gradient checks for ops/unary.c and
 * ops/binary.c. */
#include "support/nbt.h"

#include <math.h>
#include <string.h>

extern const nbt_case nbt_cases_elementwise[];

static void test_tanh_matches_libm(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(3);
    int64_t s[1] = {17};
    nb_tensor *x = nb_tensor_uniform(NB_F32, 1, s, &r, -4, 4);
    nb_tensor *y = nb_tanh(x);
    assert_non_null(y);
    for (int i = 0; i < 17; i++)
        assert_float_equal(nb_tensor_get(y, i), tanhf((float)nb_tensor_get(x, i)), 1e-6);
    nb_tensor_free(y);
    nb_tensor_free(x);
}

static void test_add_rejects_shapes_that_do_not_broadcast(void **state)
{
    (void)state;
    int64_t sa[2] = {2, 3}, sb[2] = {4, 3};
    nb_tensor *a = nb_tensor_new(NB_F32, 2, sa), *b = nb_tensor_new(NB_F32, 2, sb);
    assert_null(nb_add(a, b));
    nbt_assert_error(NB_ERR_SHAPE, "nb_add: shapes do not broadcast: a is [2, 3], b is [4, 3]");
    nb_tensor_free(a);
    nb_tensor_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tanh_matches_libm),
        cmocka_unit_test(test_add_rejects_shapes_that_do_not_broadcast),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    return rc | nbt_run_cases("elementwise gradient checks", nbt_cases_elementwise);
}
