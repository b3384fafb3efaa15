/* tests/nn/test_transformer.c — nabla/transformer.h: multi-head attention equals the same
 * projections through the composed attention, the layers are differentiable (float64 gradient
 * checks through every parameter on the way to the input), RMSNorm's values, sinusoidal
 * positions, weight tying (both uses' gradients accumulate in the one table), learned positions,
 * the decoder layer, and the errors. */
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

/* Weight tying: the embedding table used by the lookup and by nb_tied_logits gets the sum of the
 * two gradients, the ones an untied copy of each use gets. */
static void test_tied_embedding_gradients_accumulate(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(11);
    nb_module *tied = nb_embedding_new_ex(5, 4, -1, &rng, NB_F64);
    nb_module *lookup = nb_embedding_new_ex(5, 4, -1, &rng, NB_F64); /* untied: the lookup's copy */
    nb_tensor *E = nb_module_param(tied, "weight");
    nb_tensor *proj = nb_tensor_new(NB_F64, 2, (const int64_t[]){5, 4}); /* ... the output's copy */
    for (int64_t i = 0; i < 20; i++) {
        nb_tensor_set(nb_module_param(lookup, "weight"), i, nb_tensor_get(E, i));
        nb_tensor_set(proj, i, nb_tensor_get(E, i));
    }
    nb_tensor_set_requires_grad(proj, true);
    nb_tensor *ids = nb_tensor_from_data(NB_I64, 2, (const int64_t[]){2, 3},
                                         (const int64_t[]){0, 3, 3, 1, 4, 0});
    nb_tensor *w = nb_tensor_uniform(NB_F64, 3, (const int64_t[]){2, 3, 5}, &rng, -1, 1);
    nb_step *s = nb_step_new();
    assert_int_equal(nb_step_begin(s), NB_OK);
    nb_tensor *lt = nb_tied_logits(tied, nb_tanh(nb_module_forward(tied, ids)));
    assert_int_equal(nb_tensor_ndim(lt), 3);
    assert_int_equal(nb_tensor_dim(lt, 2), 5);
    assert_int_equal(nb_backward(nb_sum_all(nb_mul(lt, w))), NB_OK);
    nb_tensor *h = nb_tanh(nb_module_forward(lookup, ids));
    nb_tensor *lu = nb_matmul(nb_reshape(h, 2, (const int64_t[]){6, 4}), nb_transpose(proj, 0, 1));
    assert_int_equal(nb_backward(nb_sum_all(nb_mul(lu, nb_reshape(w, 2, (const int64_t[]){6, 5})))),
                     NB_OK);
    nb_tensor *g = nb_tensor_grad(E), *g_lookup = nb_module_param(lookup, "weight");
    g_lookup = nb_tensor_grad(g_lookup);
    double norm_lookup = 0, norm_proj = 0;
    for (int64_t i = 0; i < 20; i++) {
        const double a = nb_tensor_get(g_lookup, i), b = nb_tensor_get(nb_tensor_grad(proj), i);
        assert_true(fabs(nb_tensor_get(g, i) - (a + b)) <= 1e-12); /* (cmocka compares floats) */
        assert_true(fabs(nb_tensor_get(lt, i) - nb_tensor_get(lu, i)) <= 1e-12);
        norm_lookup += fabs(a), norm_proj += fabs(b);
    }
    assert_true(norm_lookup > 0.1 && norm_proj > 0.1); /* both uses contribute */
    nb_step_end(s);
    nb_step_free(s);
    nb_module *lin = nb_linear_new_ex(4, 5, false, &rng, NB_F64);
    assert_null(nb_tied_logits(lin, ids));
    nbt_assert_error(NB_ERR_VALUE, "nb_tied_logits: module is a Linear, not an Embedding");
    nb_tensor *bad = nb_tensor_zeros(NB_F64, 2, (const int64_t[]){2, 3});
    assert_null(nb_tied_logits(tied, bad));
    nbt_assert_error(NB_ERR_SHAPE, "tied logits: input is [2, 3], expected [*, 4]");
    nb_tensor_free(bad), nb_tensor_free(proj), nb_tensor_free(ids), nb_tensor_free(w);
    nb_module_free(lin), nb_module_free(tied), nb_module_free(lookup);
}

static void test_position_embedding(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(12);
    nb_module *p = nb_position_embedding_new(6, 4, &rng, NB_F64);
    assert_non_null(p);
    nb_tensor *W = nb_module_param(p, "weight");
    assert_int_equal(nb_tensor_dim(W, 0), 6);
    nb_tensor *x = nb_tensor_uniform(NB_F64, 3, (const int64_t[]){2, 3, 4}, &rng, -1, 1);
    nb_tensor *y = nb_module_forward(p, x);
    for (int64_t b = 0; b < 2; b++)
        for (int64_t i = 0; i < 12; i++) /* x[b, t, :] + weight[t, :] */
            assert_true(fabs(nb_tensor_get(y, b * 12 + i) -
                             (nb_tensor_get(x, b * 12 + i) + nb_tensor_get(W, i))) <= 1e-15);
    check_module_gradient(p, 2, 3, 4);
    nb_tensor *long_x = nb_tensor_zeros(NB_F64, 3, (const int64_t[]){1, 7, 4});
    assert_null(nb_module_forward(p, long_x));
    nbt_assert_error(NB_ERR_SHAPE, "input is [1, 7, 4], expected [*, T, 4] with T <= 6");
    assert_null(nb_position_embedding_new(0, 4, &rng, NB_F64));
    nbt_assert_error(NB_ERR_VALUE, "nb_position_embedding_new: need max_len, dim >= 1");
    nb_tensor_free(long_x), nb_tensor_free(x), nb_tensor_free(y);
    nb_module_free(p);
}

/* A decoder layer's gradient through x and memory (float64 gradient check), and its errors. */
static nb_tensor *f_decoder(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    const nb_attn_masks self = {.key_padding = in[2]};
    return nb_transformer_decoder_forward(g_mod, in[0], in[1], &self, NULL);
}

static void test_decoder_layer(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(13);
    nb_transformer_opts o = {.d_model = 4, .heads = 2, .d_ff = 6, .causal = true, .dtype = NB_F64};
    nb_module *m = nb_transformer_decoder_layer_new(&o, &rng);
    assert_non_null(m);
    assert_int_equal(nb_module_num_children(m), 7);
    assert_true(nb_module_has_child(m, "cross") && nb_module_has_child(m, "ln3"));
    g_mod = m;
    nb_tensor *in[3] = {nb_tensor_uniform(NB_F64, 3, (const int64_t[]){2, 3, 4}, &rng, -1, 1),
                        nb_tensor_uniform(NB_F64, 3, (const int64_t[]){2, 5, 4}, &rng, -1, 1),
                        nb_tensor_from_data(NB_F64, 2, (const int64_t[]){2, 3},
                                            (const double[]){0, 0, 1, 0, 0, 0})};
    nb_tensor_set_requires_grad(in[0], true);
    nb_tensor_set_requires_grad(in[1], true);
    nb_gradcheck_report rep;
    assert_int_equal(nb_gradcheck(f_decoder, NULL, in, 3, NULL, &rep), NB_OK);
    assert_null(nb_module_forward(m, in[0]));
    nbt_assert_error(NB_ERR_VALUE, "call nb_transformer_decoder_forward");
    assert_null(nb_transformer_decoder_forward(m, in[0], NULL, NULL, NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_transformer_decoder_forward: memory must not be NULL");
    nb_tensor *bad_mem = nb_tensor_zeros(NB_F64, 3, (const int64_t[]){1, 5, 4});
    assert_null(nb_transformer_decoder_forward(m, in[0], bad_mem, NULL, NULL));
    nbt_assert_error(NB_ERR_SHAPE, "key/value input is [1, 5, 4], expected [2, S, 4]");
    const nb_attn_masks bad_kp = {.key_padding = in[2]}; /* [2, 3], memory has 5 keys */
    assert_null(nb_transformer_decoder_forward(m, in[0], in[1], NULL, &bad_kp));
    nbt_assert_error(NB_ERR_SHAPE, "key padding mask is [2, 3], expected [2, 5]");
    assert_null(nb_transformer_layer_forward(m, in[0], NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_transformer_layer_forward: module is a "
                                   "TransformerDecoderLayer, not a TransformerLayer");
    o.activation = (nb_ff_activation)7;
    assert_null(nb_transformer_decoder_layer_new(&o, &rng));
    nbt_assert_error(NB_ERR_VALUE, "activation 7");
    nb_tensor_free(bad_mem);
    for (int i = 0; i < 3; i++)
        nb_tensor_free(in[i]);
    nb_module_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mha_matches_composed_attention),
        cmocka_unit_test(test_transformer_layers_are_differentiable),
        cmocka_unit_test(test_rms_norm_and_positions_values),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_tied_embedding_gradients_accumulate),
        cmocka_unit_test(test_position_embedding),
        cmocka_unit_test(test_decoder_layer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
