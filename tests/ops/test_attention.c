/* tests/ops/test_attention.c — the fused scaled dot-product attention (ops/attention.c) against
 * its composition from ops (values and gradients, f64 and f32, masks, causal, several blocks),
 * a fully masked row, the memory it keeps (linear in T, the composition's quadratic), errors,
 * and its gradient checks (tests/ops/cases_attention.c). */
#include <math.h>

#include "support/nbt.h"

typedef struct {
    int64_t B, H, T, S, d, e;
    bool causal, bool_mask, add_mask, heads_last;
} config;

/* max |fused - composed| over y and the gradients of q, k, v for L = sum(y * r) */
static double compare(const config *c, nb_dtype dt)
{
    nb_rng rng = nb_rng_seed(11);
    const bool hl = c->heads_last; /* [B, T, H, *] instead of [B, H, T, *] */
    const int64_t qs[4] = {c->B, hl ? c->T : c->H, hl ? c->H : c->T, c->d},
                  ks[4] = {c->B, hl ? c->S : c->H, hl ? c->H : c->S, c->d},
                  vs[4] = {c->B, hl ? c->S : c->H, hl ? c->H : c->S, c->e},
                  ys[4] = {c->B, hl ? c->T : c->H, hl ? c->H : c->T, c->e};
    nb_tensor *q = nb_tensor_uniform(dt, 4, qs, &rng, -2, 2),
              *k = nb_tensor_uniform(dt, 4, ks, &rng, -2, 2);
    nb_tensor *v = nb_tensor_uniform(dt, 4, vs, &rng, -1, 1),
              *r = nb_tensor_uniform(dt, 4, ys, &rng, -1, 1);
    nb_tensor *mask = NULL;
    if (c->bool_mask || c->add_mask) {
        mask = nb_tensor_zeros(dt, 2, (const int64_t[]){c->T, c->S});
        for (int64_t i = 0; i < c->T * c->S; i++)
            nb_tensor_set(mask, i, c->bool_mask ? ((i % 7) != 3) : nb_rng_uniform(&rng) - 0.5);
    }
    nb_tensor *in[3] = {q, k, v};
    for (int i = 0; i < 3; i++)
        nb_tensor_set_requires_grad(in[i], true);
    nb_sdpa_opts o = {.causal = c->causal, .mask_is_bool = c->bool_mask, .heads_last = hl};
    double worst = 0;
    nb_tensor *keep[4][2] = {{0}};
    nb_step *s = nb_step_new();
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < 3; i++)
            nb_tensor_zero_grad(in[i]);
        assert_int_equal(nb_step_begin(s), NB_OK);
        nb_tensor *y = pass ? nb_sdpa_composed(q, k, v, mask, &o)
                            : nb_scaled_dot_product_attention(q, k, v, mask, &o);
        assert_non_null(y);
        assert_int_equal(nb_backward(nb_sum_all(nb_mul(y, r))), NB_OK);
        keep[0][pass] = nb_tensor_copy(y);
        for (int i = 0; i < 3; i++)
            keep[i + 1][pass] = nb_tensor_copy(nb_tensor_grad(in[i]));
        nb_step_end(s);
    }
    for (int t = 0; t < 4; t++) {
        for (int64_t i = 0; i < nb_tensor_numel(keep[t][0]); i++) {
            double a = nb_tensor_get(keep[t][0], i), b = nb_tensor_get(keep[t][1], i);
            double err = fabs(a - b) / fmax(1.0, fabs(b));
            worst = err > worst ? err : worst;
        }
        nb_tensor_free(keep[t][0]), nb_tensor_free(keep[t][1]);
    }
    nb_step_free(s);
    nb_tensor_free(q), nb_tensor_free(k), nb_tensor_free(v), nb_tensor_free(r),
        nb_tensor_free(mask);
    return worst;
}

static void test_fused_equals_composed(void **state)
{
    (void)state;
    const config cs[] = {
        {1, 1, 5, 5, 4, 4, false, false, false, false},
        {2, 3, 70, 130, 8, 5, false, false, false, false},
        {2, 2, 130, 130, 16, 16, true, false, false, false},
        {1, 2, 65, 33, 4, 6, true, false, false, false},
        {2, 1, 40, 70, 8, 8, false, true, false, false},
        {1, 2, 70, 66, 8, 3, false, false, true, false},
        /* heads last */
        {2, 3, 70, 130, 8, 5, false, false, false, true},
        {2, 2, 130, 129, 16, 16, true, false, false, true},
        {1, 2, 65, 33, 4, 6, false, true, false, true},
    };
    for (size_t i = 0; i < sizeof cs / sizeof *cs; i++) {
        double e64 = compare(&cs[i], NB_F64), e32 = compare(&cs[i], NB_F32);
        print_message("  config %zu: f64 %.2e, f32 %.2e\n", i, e64, e32);
        assert_true(e64 < 1e-12);
        assert_true(e32 < 1e-4);
    }
}

/* heads_last with dropout: the same draws and values as the default layout on permuted views */
static void test_heads_last_matches_default_layout_with_dropout(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(5);
    const int64_t qs[4] = {2, 40, 3, 8}, vs[4] = {2, 40, 3, 5};
    nb_tensor *q = nb_tensor_uniform(NB_F64, 4, qs, &rng, -2, 2),
              *k = nb_tensor_uniform(NB_F64, 4, qs, &rng, -2, 2),
              *v = nb_tensor_uniform(NB_F64, 4, vs, &rng, -1, 1);
    const int p[4] = {0, 2, 1, 3};
    nb_tensor *qp = nb_permute(q, p), *kp = nb_permute(k, p), *vp = nb_permute(v, p);
    nb_rng r1 = nb_rng_seed(9), r2 = nb_rng_seed(9);
    nb_sdpa_opts a = {.causal = true, .dropout = 0.25, .rng = &r1, .heads_last = true};
    nb_sdpa_opts b = {.causal = true, .dropout = 0.25, .rng = &r2};
    nb_tensor *y = nb_scaled_dot_product_attention(q, k, v, NULL, &a);     /* [B, T, H, e] */
    nb_tensor *yd = nb_scaled_dot_product_attention(qp, kp, vp, NULL, &b); /* [B, H, T, e] */
    assert_non_null(y);
    assert_non_null(yd);
    nb_tensor *ydv = nb_permute(yd, p), *ydp = nb_contiguous(ydv);
    double want[2 * 40 * 3 * 5];
    for (int i = 0; i < 2 * 40 * 3 * 5; i++)
        want[i] = nb_tensor_get(ydp, i);
    nbt_assert_values(y, want, 1e-14);
    nb_tensor *all[] = {ydp, ydv, yd, y, vp, kp, qp, v, k, q};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        nb_tensor_free(all[i]);
}

/* With dropout, the fused op and its composition (nb_dropout on the materialised weights) draw
 * the same seed and drop the same weights (ops/drop_rule.h): equal values, and the generators
 * end in the same state; in both layouts. */
static void test_fused_matches_composition_with_dropout(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(6);
    for (int hl = 0; hl < 2; hl++) {
        const int64_t qs[4] = {2, hl ? 33 : 3, hl ? 3 : 33, 8};
        const int64_t vs[4] = {2, hl ? 33 : 3, hl ? 3 : 33, 5};
        nb_tensor *q = nb_tensor_uniform(NB_F64, 4, qs, &rng, -2, 2),
                  *k = nb_tensor_uniform(NB_F64, 4, qs, &rng, -2, 2),
                  *v = nb_tensor_uniform(NB_F64, 4, vs, &rng, -1, 1);
        nb_rng r1 = nb_rng_seed(11), r2 = r1;
        nb_sdpa_opts a = {.causal = true, .dropout = 0.3, .rng = &r1, .heads_last = hl};
        nb_sdpa_opts b = a;
        b.rng = &r2;
        nb_tensor *y = nb_scaled_dot_product_attention(q, k, v, NULL, &a);
        nb_tensor *want = nb_sdpa_composed(q, k, v, NULL, &b);
        assert_non_null(y);
        assert_non_null(want);
        assert_true(nb_tensor_allclose(y, want, 1e-12, 1e-12));
        assert_memory_equal(&r1, &r2, sizeof r1);
        nb_rng r3 = nb_rng_seed(12); /* another seed: other weights dropped */
        a.rng = &r3;
        nb_tensor *other = nb_scaled_dot_product_attention(q, k, v, NULL, &a);
        assert_false(nb_tensor_allclose(other, want, 1e-6, 1e-6));
        nb_tensor *all[] = {other, want, y, v, k, q};
        for (size_t i = 0; i < sizeof all / sizeof *all; i++)
            nb_tensor_free(all[i]);
    }
}

static void test_fully_masked_row_gives_zero(void **state)
{
    (void)state;
    nb_tensor *q = nb_tensor_full(NB_F64, 4, (const int64_t[]){1, 1, 2, 2}, 1.0);
    nb_tensor *kv = nb_tensor_full(NB_F64, 4, (const int64_t[]){1, 1, 3, 2}, 2.0);
    nb_tensor *m =
        nb_tensor_from_data(NB_F64, 2, (const int64_t[]){2, 3}, (const double[]){0, 0, 0, 1, 0, 1});
    nb_sdpa_opts o = {.mask_is_bool = true};
    nb_tensor *y = nb_scaled_dot_product_attention(q, kv, kv, m, &o); /* outside a step */
    assert_non_null(y);
    assert_float_equal(nb_tensor_get(y, 0), 0.0, 0); /* row 0 sees no key */
    assert_float_equal(nb_tensor_get(y, 2), 2.0, 1e-15);
    nb_tensor_free(y), nb_tensor_free(q), nb_tensor_free(kv), nb_tensor_free(m);
}

/* Arena bytes of one forward + backward at sequence length T. */
static size_t arena_at(int64_t T, bool fused)
{
    nb_rng rng = nb_rng_seed(1);
    const int64_t sh[4] = {1, 1, T, 16};
    nb_tensor *q = nb_tensor_uniform(NB_F32, 4, sh, &rng, -1, 1);
    nb_tensor_set_requires_grad(q, true);
    nb_step *s = nb_step_new();
    nb_sdpa_opts o = {.causal = true};
    for (int it = 0; it < 2; it++) { /* the second run sizes the arena to the high-water mark */
        assert_int_equal(nb_step_begin(s), NB_OK);
        nb_tensor *y = fused ? nb_scaled_dot_product_attention(q, q, q, NULL, &o)
                             : nb_sdpa_composed(q, q, q, NULL, &o);
        assert_int_equal(nb_backward(nb_sum_all(y)), NB_OK);
        nb_step_end(s);
    }
    size_t bytes = nb_step_arena_bytes(s);
    nb_step_free(s);
    nb_tensor_free(q);
    return bytes;
}

static void test_memory_grows_linearly_in_t(void **state)
{
    (void)state;
    size_t f1 = arena_at(1024, true), f2 = arena_at(2048, true);
    size_t c1 = arena_at(1024, false), c2 = arena_at(2048, false);
    print_message("  arena: fused %zu -> %zu bytes, composed %zu -> %zu bytes (T 1024 -> 2048)\n",
                  f1, f2, c1, c2);
    assert_true(f2 <= 2 * f1 + 4096); /* linear: the [T, S] weights are never stored */
    assert_true(c2 > 3 * c1);         /* the composition keeps them: quadratic */
    assert_true(f2 * 8 < c2);
}

static void test_errors_name_the_problem(void **state)
{
    (void)state;
    nb_tensor *q = nb_tensor_zeros(NB_F32, 4, (const int64_t[]){1, 2, 3, 4});
    nb_tensor *k = nb_tensor_zeros(NB_F32, 4, (const int64_t[]){1, 2, 5, 3});
    assert_null(nb_scaled_dot_product_attention(q, k, k, NULL, NULL));
    nbt_assert_error(NB_ERR_SHAPE, "nb_scaled_dot_product_attention: q, k and v must be");
    nb_tensor *k2 = nb_tensor_zeros(NB_F32, 4, (const int64_t[]){1, 2, 5, 4});
    nb_tensor *m = nb_tensor_zeros(NB_F32, 2, (const int64_t[]){3, 4});
    assert_null(nb_scaled_dot_product_attention(q, k2, k2, m, NULL));
    nbt_assert_error(NB_ERR_SHAPE, "mask [3, 4] does not broadcast to [B, H, T, S] = [1, 2, 3, 5]");
    nb_sdpa_opts o = {.dropout = 0.5};
    assert_null(nb_scaled_dot_product_attention(q, k2, k2, NULL, &o));
    nbt_assert_error(NB_ERR_VALUE, "dropout 0.5 needs opts.rng");
    nb_rng rng = nb_rng_seed(1);
    o = (nb_sdpa_opts){.dropout = 1.0, .rng = &rng};
    assert_null(nb_scaled_dot_product_attention(q, k2, k2, NULL, &o));
    nbt_assert_error(NB_ERR_VALUE, "dropout must be in [0, 1), got 1");
    nb_tensor_free(q), nb_tensor_free(k), nb_tensor_free(k2), nb_tensor_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fused_equals_composed),
        cmocka_unit_test(test_heads_last_matches_default_layout_with_dropout),
        cmocka_unit_test(test_fused_matches_composition_with_dropout),
        cmocka_unit_test(test_fully_masked_row_gives_zero),
        cmocka_unit_test(test_memory_grows_linearly_in_t),
        cmocka_unit_test(test_errors_name_the_problem),
    };
    extern const nbt_case nbt_cases_attention[];
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    return rc | nbt_run_cases("attention gradient checks", nbt_cases_attention);
}
