/* tests/autograd/test_shape_literal.c — NB_SHAPE(...) and NB_SHAPE_SCALAR (nabla/tensor.h): the
 * (ndim, shape) pair for any function taking a shape, dims evaluated once, from variables,
 * negative dims where a function accepts them, and too many dims reported by the callee. */
#include "support/nbt.h"

static void test_shape_literal_makes_tensors_in_one_line(void **state)
{
    (void)state;
    nb_tensor *x = nb_tensor_zeros(NB_F32, NB_SHAPE(32, 784));
    assert_non_null(x);
    assert_int_equal(nb_tensor_ndim(x), 2);
    assert_int_equal(nb_tensor_dim(x, 0), 32);
    assert_int_equal(nb_tensor_dim(x, 1), 784);
    /* dims from expressions, each evaluated exactly once */
    int64_t n = 3, calls = 0;
    nb_tensor *y = nb_tensor_new(NB_F64, NB_SHAPE(n++, 2 * n, (calls++, 5)));
    assert_int_equal(n, 4);
    assert_int_equal(calls, 1);
    assert_int_equal(nb_tensor_ndim(y), 3);
    assert_int_equal(nb_tensor_dim(y, 0), 3);
    assert_int_equal(nb_tensor_dim(y, 1), 8);
    assert_int_equal(nb_tensor_dim(y, 2), 5);
    /* -1 where the function infers a dim */
    nb_tensor *r = nb_reshape(x, NB_SHAPE(-1, 28, 28));
    assert_int_equal(nb_tensor_dim(r, 0), 32);
    nb_tensor *s = nb_tensor_full(NB_F32, NB_SHAPE_SCALAR, 2.5);
    assert_int_equal(nb_tensor_ndim(s), 0);
    assert_float_equal(nb_tensor_item(s), 2.5, 0);
    nb_tensor *all[] = {x, y, r, s};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

static void test_shape_literal_with_too_many_dims_is_reported(void **state)
{
    (void)state;
    assert_null(nb_tensor_new(NB_F32, NB_SHAPE(1, 1, 1, 1, 1, 1, 1, 1, 1)));
    nbt_assert_error(NB_ERR_SHAPE, "nb_tensor_new: ndim 9 out of range [0, 8]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape_literal_makes_tensors_in_one_line),
        cmocka_unit_test(test_shape_literal_with_too_many_dims_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
