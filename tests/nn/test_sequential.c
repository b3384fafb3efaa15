/* tests/nn/test_sequential.c — nn/sequential.c: forward with and without an active step. */
#include "support/nbt.h"

#include <string.h>

static nb_module *small_net(nb_rng *rng)
{
    return nb_sequential_new(4, (nb_module *[]){nb_linear_new(3, 5, true, rng), nb_relu_new(),
                                                nb_identity_new(), nb_linear_new(5, 2, true, rng)});
}

/* With no step, intermediates are freed by the container (LSAN checks nothing leaks) and the
 * result equals the forward inside a step. */
static void test_forward_without_step_frees_intermediates_and_matches(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(5);
    nb_module *net = small_net(&rng);
    assert_non_null(net);
    int64_t s[2] = {4, 3};
    nb_tensor *x = nb_tensor_uniform(NB_F32, 2, s, &rng, -1, 1);
    nb_tensor *y = nb_module_forward(net, x); /* caller-owned */
    assert_non_null(y);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y2 = nb_module_forward(net, x);
    assert_true(nb_tensor_allclose(y, y2, 0, 0));
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_module_free(net);
}

/* The input is never freed, even when the first layer returns it unchanged. */
static void test_forward_without_step_keeps_the_input(void **state)
{
    (void)state;
    nb_module *net = nb_sequential_new(2, (nb_module *[]){nb_identity_new(), nb_relu_new()});
    int64_t s[1] = {3};
    nb_tensor *x = nb_tensor_full(NB_F32, 1, s, -1.0);
    nb_tensor *y = nb_module_forward(net, x);
    assert_non_null(y);
    assert_float_equal(nb_tensor_get(y, 0), 0.0, 0);
    assert_float_equal(nb_tensor_get(x, 0), -1.0, 0);
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_module_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_without_step_frees_intermediates_and_matches),
        cmocka_unit_test(test_forward_without_step_keeps_the_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
