/* tests/autograd/test_module_support.c — the core functions that code built on the public API
 * (nn/, optim/, users' own modules) relies on: nb_tensor_rebase (autograd/tensor.c),
 * nb_set_error and the nb_malloc funnel (autograd/error.c). */
#include "support/nbt.h"

#include <string.h>

static void test_rebase_moves_values_and_keeps_the_tensor(void **state)
{
    (void)state;
    nb_tensor *t = nb_tensor_from_data(NB_F32, 2, (int64_t[]){2, 2}, (float[]){1, 2, 3, 4});
    nb_tensor *g = nb_tensor_zeros(NB_F32, 2, (int64_t[]){2, 2});
    nb_tensor_set_requires_grad(t, true);
    nb_tensor_attach_grad(t, g);
    nb_tensor *base = nb_tensor_full(NB_F32, 1, (int64_t[]){7}, -1.0);
    assert_int_equal(nb_tensor_rebase(t, base, 2), NB_OK);
    /* t now views base[2..5]; its values, shape, flag and gradient are unchanged. */
    assert_ptr_equal(nb_tensor_data_f32(t), nb_tensor_data_f32(base) + 2);
    const float want[7] = {-1, -1, 1, 2, 3, 4, -1};
    for (int i = 0; i < 7; i++)
        assert_float_equal(nb_tensor_get(base, i), want[i], 0);
    assert_int_equal(nb_tensor_dim(t, 1), 2);
    assert_true(nb_tensor_requires_grad(t));
    assert_ptr_equal(nb_tensor_grad(t), g);
    /* Writes through either side are shared; freeing base first keeps t's storage alive. */
    nb_tensor_set(t, 0, 9.0);
    assert_float_equal(nb_tensor_get(base, 2), 9.0, 0);
    nb_tensor_free(base);
    assert_float_equal(nb_tensor_get(t, 3), 4.0, 0);
    nb_tensor_free(t);
}

static void test_rebase_rejects_what_does_not_fit(void **state)
{
    (void)state;
    nb_tensor *t = nb_tensor_zeros(NB_F32, 1, (int64_t[]){4});
    nb_tensor *base = nb_tensor_zeros(NB_F32, 1, (int64_t[]){5});
    nb_tensor *b64 = nb_tensor_zeros(NB_F64, 1, (int64_t[]){5});
    assert_int_equal(nb_tensor_rebase(t, base, 2), NB_ERR_SHAPE);
    nbt_assert_error(NB_ERR_SHAPE, "nb_tensor_rebase: contiguous tensor of 4 elements at offset 2 "
                                   "does not fit in [5]");
    assert_int_equal(nb_tensor_rebase(t, b64, 0), NB_ERR_DTYPE);
    nbt_assert_error(NB_ERR_DTYPE, "nb_tensor_rebase: tensor is f32, base is f64");
    assert_int_equal(nb_tensor_rebase(NULL, base, 0), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "tensor is NULL");
    /* Op results are not leaves. */
    nb_step *s = nb_step_new();
    nb_step_begin(s);
    nb_tensor *y = nb_add_scalar(t, 1.0);
    assert_int_equal(nb_tensor_rebase(y, base, 0), NB_ERR_STATE);
    nbt_assert_error(NB_ERR_STATE, "only caller-owned leaf tensors can be moved");
    nb_step_end(s);
    nb_step_free(s);
    nb_tensor_free(t);
    nb_tensor_free(base);
    nb_tensor_free(b64);
}

static void test_set_error_keeps_the_first_message(void **state)
{
    (void)state;
    nb_clear_error();
    assert_int_equal(nb_set_error(NB_ERR_SHAPE, "my_layer: input is %s", "[2, 3]"), NB_ERR_SHAPE);
    assert_int_equal(nb_set_error(NB_ERR_VALUE, "later: ignored"), NB_ERR_VALUE);
    assert_int_equal(nb_last_status(), NB_ERR_SHAPE);
    assert_string_equal(nb_last_error(), "my_layer: input is [2, 3]");
    nb_clear_error();
    assert_int_equal(nb_set_error(NB_OK, "not an error"), NB_OK);
    assert_int_equal(nb_last_status(), NB_OK);
}

static void test_malloc_funnel_counts_and_can_fail(void **state)
{
    (void)state;
    long before = nb_debug_alloc_count();
    void *p = nb_malloc(16);
    assert_non_null(p);
    assert_int_equal(nb_debug_alloc_count(), before + 1);
    p = nb_realloc(p, 64);
    assert_non_null(p);
    nb_free(p);
    nb_debug_fail_alloc_after(1);
    assert_null(nb_calloc(4, 8));
    nb_debug_fail_alloc_after(0);
    nb_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rebase_moves_values_and_keeps_the_tensor),
        cmocka_unit_test(test_rebase_rejects_what_does_not_fit),
        cmocka_unit_test(test_set_error_keeps_the_first_message),
        cmocka_unit_test(test_malloc_funnel_counts_and_can_fail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
