/* tests/unsup/test_dbn.c — unsup/dbn.c: hidden features of a data set in batches, an RBM as a
 * Linear layer, a stack of RBMs as an MLP, and the error paths. */
#include "support/nbt.h"

#include <math.h>
#include <string.h>

static nb_module *random_rbm(int64_t v, int64_t h, uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    nb_module *m = nb_rbm_new_ex(v, h, NB_RBM_BERNOULLI, &r, NB_F64);
    assert_non_null(m);
    nb_init_uniform(nb_module_param(m, "weight"), &r, -1, 1);
    nb_init_uniform(nb_module_param(m, "visible_bias"), &r, -1, 1);
    nb_init_uniform(nb_module_param(m, "hidden_bias"), &r, -1, 1);
    return m;
}

static void test_transform_in_batches_equals_hidden_probs(void **state)
{
    (void)state;
    nb_module *m = random_rbm(6, 4, 1);
    nb_rng r = nb_rng_seed(2);
    nb_tensor *x = nb_tensor_uniform(NB_F64, 2, (int64_t[]){10, 6}, &r, 0, 1);
    nb_tensor *t = nb_rbm_transform(m, x, 3); /* batches of 3, 3, 3, 1 */
    nb_tensor *p = nb_rbm_hidden_probs(m, x);
    assert_non_null(t);
    assert_int_equal(nb_tensor_dim(t, 0), 10);
    assert_int_equal(nb_tensor_dim(t, 1), 4);
    assert_true(nb_tensor_allclose(t, p, 1e-15, 1e-15));
    nb_tensor_free(p);
    nb_tensor_free(t);
    nb_tensor_free(x);
    nb_module_free(m);
}

static void test_rbm_to_linear_then_sigmoid_is_hidden_probs(void **state)
{
    (void)state;
    nb_module *m = random_rbm(5, 3, 3);
    nb_module *lin = nb_rbm_to_linear(m);
    assert_non_null(lin);
    assert_string_equal(nb_module_kind(lin), "Linear");
    assert_int_equal(nb_module_dtype(lin), NB_F64);
    nb_tensor *w = nb_module_param(lin, "weight");
    assert_int_equal(nb_tensor_dim(w, 0), 3);
    assert_int_equal(nb_tensor_dim(w, 1), 5);
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < 5; i++)
            assert_true(nb_tensor_get(w, j * 5 + i) ==
                        nb_tensor_get(nb_module_param(m, "weight"), i * 3 + j));
    nb_rng r = nb_rng_seed(4);
    nb_tensor *x = nb_tensor_uniform(NB_F64, 2, (int64_t[]){4, 5}, &r, 0, 1);
    nb_step *st = nb_step_new();
    nb_step_begin(st);
    nb_tensor *a = nb_sigmoid(nb_module_forward(lin, x));
    assert_true(nb_tensor_allclose(a, nb_rbm_hidden_probs(m, x), 1e-14, 1e-14));
    nb_step_end(st);
    nb_step_free(st);
    nb_tensor_free(x);
    nb_module_free(lin);
    nb_module_free(m);
}

static void test_dbn_to_mlp_chains_the_rbms_and_adds_a_classifier(void **state)
{
    (void)state;
    nb_module *r1 = random_rbm(6, 4, 5), *r2 = random_rbm(4, 3, 6);
    nb_rng r = nb_rng_seed(7);
    nb_module *mlp = nb_dbn_to_mlp(2, (nb_module *[]){r1, r2}, 2, &r);
    assert_non_null(mlp);
    static const char *const kinds[] = {"Linear", "Sigmoid", "Linear", "Sigmoid", "Linear"};
    assert_int_equal(nb_module_num_children(mlp), 5);
    for (int i = 0; i < 5; i++)
        assert_string_equal(nb_module_kind(nb_module_child_at(mlp, i)), kinds[i]);
    nb_tensor *x = nb_tensor_uniform(NB_F64, 2, (int64_t[]){3, 6}, &r, 0, 1);
    nb_step *st = nb_step_new();
    nb_step_begin(st);
    nb_tensor *h = x;
    for (int i = 0; i < 4; i++)
        h = nb_module_forward(nb_module_child_at(mlp, i), h);
    nb_tensor *want = nb_rbm_hidden_probs(r2, nb_rbm_hidden_probs(r1, x));
    assert_true(nb_tensor_allclose(h, want, 1e-14, 1e-14));
    nb_tensor *logits = nb_module_forward(mlp, x);
    assert_int_equal(nb_tensor_dim(logits, 1), 2);
    nb_step_end(st);
    nb_step_free(st);
    /* the RBMs are only read: still usable and unchanged in size */
    assert_int_equal(nb_module_num_params(r1), 6 * 4 + 6 + 4);
    nb_tensor_free(x);
    nb_module_free(mlp);
    nb_module_free(r1);
    nb_module_free(r2);
}

static void test_dbn_functions_reject_bad_arguments(void **state)
{
    (void)state;
    nb_module *r1 = random_rbm(6, 4, 8), *r2 = random_rbm(5, 3, 9);
    nb_rng r = nb_rng_seed(10);
    assert_null(nb_dbn_to_mlp(2, (nb_module *[]){r1, r2}, 2, &r));
    nbt_assert_error(NB_ERR_SHAPE,
                     "nb_dbn_to_mlp: rbms[1] has 5 visible units but rbms[0] has 4 hidden units");
    assert_null(nb_dbn_to_mlp(0, NULL, 2, &r));
    nbt_assert_error(NB_ERR_VALUE, "nb_dbn_to_mlp: need at least one RBM");
    assert_null(nb_dbn_to_mlp(1, (nb_module *[]){r1}, 2, NULL));
    nbt_assert_error(NB_ERR_VALUE, "an rng for the classifier");
    nb_tensor *x = nb_tensor_zeros(NB_F64, 2, (int64_t[]){3, 5});
    assert_null(nb_rbm_transform(r1, x, 0));
    nbt_assert_error(NB_ERR_SHAPE, "nb_rbm_transform: x is [3, 5], expected [N, 6]");
    nb_module *lin = nb_linear_new(2, 2, true, &r);
    assert_null(nb_rbm_to_linear(lin));
    nbt_assert_error(NB_ERR_VALUE, "nb_rbm_to_linear: module is Linear, expected an RBM");
    nb_module_free(lin);
    nb_tensor_free(x);
    nb_module_free(r1);
    nb_module_free(r2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transform_in_batches_equals_hidden_probs),
        cmocka_unit_test(test_rbm_to_linear_then_sigmoid_is_hidden_probs),
        cmocka_unit_test(test_dbn_to_mlp_chains_the_rbms_and_adds_a_classifier),
        cmocka_unit_test(test_dbn_functions_reject_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
