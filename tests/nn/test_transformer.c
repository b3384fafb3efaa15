/* tests/nn/test_transformer.c — nabla/transformer.h: multi-head attention equals the same
 * projections through the composed attention, the layers are differentiable (float64 gradient
 * checks through every parameter on the way to the input), RMSNorm's values, sinusoidal
 * positions, and the errors. */
#include <math.h>

#include "support/nbt.h"

static nb_module *g_mod; /* the module a gradcheck runs through */

static nb_tensor *f_module(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    return nb_module_forward(g_mod, in[0]);
}

static void check_module_gradient(nb_module *m, int64_t B, int64_t T, int64_t D)
{
    g_mod = m;
    nb_rng rng = nb_rng_seed(5);
    nb_tensor *x = nb_tensor_uniform(NB_F64, 3, (const int64_t[]){B, T, D}, &rng, -1, 1);
    nb_tensor_set_requires_grad(x, true);
    nb_gradcheck_report rep;
    nb_status st = nb_gradcheck(f_module, NULL, &x, 1, NULL, &rep);
    if (st != NB_OK)
        print_error("%s\n", nb_last_error());
    assert_int_equal(st, NB_OK);
    assert_true(rep.n_checked == B * T * D);
    nb_tensor_free(x);
}

static void test_mha_matches_composed_attention(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(3);
    nb_module *m = nb_mha_new(8, 2, true, &rng, NB_F64);
    assert_non_null(m);
    nb_tensor *x = nb_tensor_uniform(NB_F64, 3, (const int64_t[]){2, 5, 8}, &rng, -1, 1);
    nb_step *s = nb_step_new();
    assert_int_equal(nb_step_begin(s), NB_OK);
    nb_tensor *y = nb_module_forward(m, x);
    assert_non_null(y);
    /* reference: the same projections by hand, heads by reshape/permute, composed attention */
    const int perm[4] = {0, 2, 1, 3};
    nb_tensor *hs[3];
    const char *names[3] = {"q", "k", "v"};
    nb_tensor *x2 = nb_reshape(x, 2, (const int64_t[]){10, 8});
    for (int i = 0; i < 3; i++) {
        nb_module *lin = nb_module_child(m, names[i]);
        nb_tensor *p = nb_module_forward(lin, x2);
        hs[i] = nb_permute(nb_reshape(p, 4, (const int64_t[]){2, 5, 2, 4}), perm);
    }
    nb_sdpa_opts o = {.causal = true};
    nb_tensor *a = nb_sdpa_composed(hs[0], hs[1], hs[2], NULL, &o);
    nb_tensor *merged = nb_reshape(nb_contiguous(nb_permute(a, perm)), 2, (const int64_t[]){10, 8});
    nb_tensor *ref = nb_module_forward(nb_module_child(m, "out"), merged);
    for (int64_t i = 0; i < 80; i++)
        assert_float_equal(nb_tensor_get(y, i), nb_tensor_get(ref, i), 1e-12);
    nb_step_end(s);
    nb_step_free(s);
    check_module_gradient(m, 2, 5, 8);
    nb_module_free(m);
    nb_tensor_free(x);
}

static void test_transformer_layers_are_differentiable(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(4);
    for (int post = 0; post < 2; post++) {
        nb_transformer_opts o = {.d_model = 6,
                                 .heads = 3,
                                 .d_ff = 10,
                                 .causal = !post,
                                 .post_norm = post,
                                 .dtype = NB_F64};
        nb_module *m = nb_transformer_layer_new(&o, &rng);
        assert_non_null(m);
        assert_int_equal(nb_module_num_children(m), 5);
        check_module_gradient(m, 2, 4, 6);
        nb_module_free(m);
    }
    nb_module *r = nb_rms_norm_new(6, 1e-6, NB_F64);
    check_module_gradient(r, 2, 3, 6);
    nb_module_free(r);
}

static void test_rms_norm_and_positions_values(void **state)
{
    (void)state;
    nb_module *r = nb_rms_norm_new(2, 0, NB_F64);
    nb_tensor *x = nb_tensor_from_data(NB_F64, 2, (const int64_t[]){1, 2}, (const double[]){3, 4});
    nb_tensor *y = nb_module_forward(r, x); /* rms = sqrt(12.5) */
    assert_float_equal(nb_tensor_get(y, 0), 3 / sqrt(12.5 + 1e-6), 1e-12);
    assert_float_equal(nb_tensor_get(y, 1), 4 / sqrt(12.5 + 1e-6), 1e-12);
    nb_tensor *p = nb_sinusoidal_positions(3, 4, NB_F64);
    assert_float_equal(nb_tensor_get(p, 4 + 0), sin(1.0), 1e-15);         /* t 1, i 0 */
    assert_float_equal(nb_tensor_get(p, 8 + 3), cos(2.0 / 100.0), 1e-15); /* t 2, i 1 */
    nb_rng grng = nb_rng_seed(9);
    nb_tensor *g = nb_tensor_uniform(NB_F64, 1, (const int64_t[]){64}, &grng, -6, 6);
    nb_tensor *fused = nb_gelu(g, NB_GELU_TANH), *comp = nb_gelu_tanh_composed(g);
    for (int64_t i = 0; i < 64; i++) /* the fused op the layers use, against its composition */
        assert_float_equal(nb_tensor_get(fused, i), nb_tensor_get(comp, i), 1e-14);
    nb_tensor_free(g), nb_tensor_free(fused), nb_tensor_free(comp);
    assert_null(nb_sinusoidal_positions(3, 5, NB_F64));
    nbt_assert_error(NB_ERR_VALUE, "even dim");
    nb_tensor_free(p), nb_tensor_free(y), nb_tensor_free(x);
    nb_module_free(r);
}

static void test_errors(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(1);
    assert_null(nb_mha_new(10, 3, false, &rng, NB_F32));
    nbt_assert_error(NB_ERR_VALUE, "nb_mha_new: d_model 10 must be a positive multiple of heads 3");
    nb_transformer_opts o = {.d_model = 8, .heads = 2, .d_ff = 0};
    assert_null(nb_transformer_layer_new(&o, &rng));
    nbt_assert_error(NB_ERR_VALUE, "d_ff >= 1");
    nb_module *m = nb_mha_new(8, 2, false, &rng, NB_F32);
    nb_tensor *x = nb_tensor_zeros(NB_F32, 3, (const int64_t[]){1, 2, 7});
    assert_null(nb_module_forward(m, x));
    nbt_assert_error(NB_ERR_SHAPE, "query input is [1, 2, 7], expected [B, T, 8]");
    nb_tensor_free(x);
    nb_module_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mha_matches_composed_attention),
        cmocka_unit_test(test_transformer_layers_are_differentiable),
        cmocka_unit_test(test_rms_norm_and_positions_values),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
