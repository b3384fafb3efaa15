/* tests/ops/test_rnn_cell.c — nb_lstm_cell and nb_gru_cell (ops/rnn.c) against their
 * compositions from slices, sigmoid, tanh and arithmetic: values and every input's gradient, f64
 * and f32, gates along the first, a middle and the last axis, a size that crosses the thread
 * split, gradients that accumulate; the error paths; and their gradient checks
 * (tests/ops/cases_rnn.c). */
#include <math.h>

#include "support/nbt.h"

extern const nbt_case nbt_cases_rnn[];

static nb_tensor *block(nb_tensor *t, int axis, int64_t H, int k)
{
    return nb_slice(t, axis, k * H, (k + 1) * H, 1);
}

/* [h'; c'] along axis, from ten ops */
static nb_tensor *lstm_composed(nb_tensor *z, nb_tensor *c, int axis, int64_t H)
{
    nb_tensor *i = nb_sigmoid(block(z, axis, H, 0)), *f = nb_sigmoid(block(z, axis, H, 1));
    nb_tensor *g = nb_tanh(block(z, axis, H, 2)), *o = nb_sigmoid(block(z, axis, H, 3));
    nb_tensor *c2 = nb_add(nb_mul(f, c), nb_mul(i, g));
    nb_tensor *parts[2] = {nb_mul(o, nb_tanh(c2)), c2};
    return nb_concat(2, parts, axis);
}

static nb_tensor *gru_composed(nb_tensor *xg, nb_tensor *hg, nb_tensor *h, nb_tensor *b, int axis,
                               int64_t H)
{
    nb_tensor *r = nb_sigmoid(nb_add(block(xg, axis, H, 0), block(hg, axis, H, 0)));
    nb_tensor *z = nb_sigmoid(nb_add(block(xg, axis, H, 1), block(hg, axis, H, 1)));
    nb_tensor *hn = b ? nb_add(block(hg, axis, H, 2), b) : block(hg, axis, H, 2);
    nb_tensor *n = nb_tanh(nb_add(block(xg, axis, H, 2), nb_mul(r, hn)));
    return nb_add(nb_mul(nb_sub(nb_ones_like(n), z), n), nb_mul(z, h));
}

/* max relative |fused - composed| over the output and every input's gradient, for
 * L = sum(y * w) (twice: the fused op is applied a second time, so its gradients accumulate) */
static double compare(bool gru, nb_dtype dt, int ndim, const int64_t *hshape, int axis, bool twice)
{
    const int G = gru ? 3 : 4, n_in = gru ? 4 : 2;
    const int64_t H = hshape[axis];
    int64_t gshape[NB_MAX_DIMS], yshape[NB_MAX_DIMS];
    for (int d = 0; d < ndim; d++)
        gshape[d] = yshape[d] = hshape[d];
    gshape[axis] = G * H;
    yshape[axis] = gru ? H : 2 * H;
    nb_rng rng = nb_rng_seed(11);
    nb_tensor *in[4] = {NULL};
    for (int i = 0; i < n_in; i++) {
        const bool gates = i == 0 || (gru && i == 1);
        in[i] = nb_tensor_uniform(dt, ndim, gates ? gshape : hshape, &rng, -3, 3);
        nb_tensor_set_requires_grad(in[i], true);
    }
    nb_tensor *w = nb_tensor_uniform(dt, ndim, yshape, &rng, -1, 1);
    nb_tensor *keep[5][2] = {{0}};
    nb_step *s = nb_step_new();
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < n_in; i++)
            nb_tensor_zero_grad(in[i]);
        assert_int_equal(nb_step_begin(s), NB_OK);
        nb_tensor *y =
            gru ? (pass ? gru_composed(in[0], in[1], in[2], in[3], axis, H)
                        : nb_gru_cell(in[0], in[1], in[2], in[3], axis))
                : (pass ? lstm_composed(in[0], in[1], axis, H) : nb_lstm_cell(in[0], in[1], axis));
        assert_non_null(y);
        nb_tensor *loss = nb_sum_all(nb_mul(y, w));
        if (twice)
            loss =
                nb_add(loss, nb_sum_all(nb_mul(gru ? nb_gru_cell(in[0], in[1], in[2], in[3], axis)
                                                   : nb_lstm_cell(in[0], in[1], axis),
                                               w)));
        assert_int_equal(nb_backward(loss), NB_OK);
        keep[0][pass] = nb_tensor_copy(y);
        for (int i = 0; i < n_in; i++)
            keep[i + 1][pass] = nb_tensor_copy(nb_tensor_grad(in[i]));
        nb_step_end(s);
    }
    double worst = 0;
    for (int t = 0; t < 1 + n_in; t++) {
        assert_int_equal(nb_tensor_numel(keep[t][0]), nb_tensor_numel(keep[t][1]));
        for (int64_t i = 0; i < nb_tensor_numel(keep[t][0]); i++) {
            const double a = nb_tensor_get(keep[t][0], i), c = nb_tensor_get(keep[t][1], i);
            const double err = fabs(a - c) / fmax(1.0, fabs(c));
            worst = err > worst ? err : worst;
        }
        nb_tensor_free(keep[t][0]), nb_tensor_free(keep[t][1]);
    }
    nb_step_free(s);
    for (int i = 0; i < n_in; i++)
        nb_tensor_free(in[i]);
    nb_tensor_free(w);
    return worst;
}

static void test_cells_equal_their_compositions(void **state)
{
    (void)state;
    const int64_t fm[2] = {5, 7}, bm[2] = {3, 6}, mid[3] = {2, 4, 3}, big[2] = {256, 64};
    const struct {
        int ndim;
        const int64_t *shape;
        int axis;
    } cases[] = {{2, fm, 0}, {2, bm, 1}, {3, mid, 1}, {3, mid, 2}, {2, big, 0}, {2, big, 1}};
    for (int gru = 0; gru < 2; gru++)
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
            for (int twice = 0; twice < 2; twice++) {
                const double e64 =
                    compare(gru, NB_F64, cases[k].ndim, cases[k].shape, cases[k].axis, twice);
                const double e32 =
                    compare(gru, NB_F32, cases[k].ndim, cases[k].shape, cases[k].axis, twice);
                if (!(e64 < 1e-12) || !(e32 < 2e-5))
                    fail_msg("%s case %zu twice %d: f64 %g f32 %g", gru ? "gru" : "lstm", k, twice,
                             e64, e32);
            }
}

static void test_cells_with_two_threads_match_one(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(4);
    nb_tensor *z = nb_tensor_uniform(NB_F32, 2, (int64_t[]){4 * 256, 64}, &rng, -3, 3);
    nb_tensor *c = nb_tensor_uniform(NB_F32, 2, (int64_t[]){256, 64}, &rng, -3, 3);
    const int saved = nb_get_num_threads();
    nb_set_num_threads(1);
    nb_tensor *a = nb_lstm_cell(z, c, 0);
    nb_set_num_threads(2);
    nb_tensor *b = nb_lstm_cell(z, c, 0);
    nb_set_num_threads(saved);
    assert_non_null(a);
    assert_true(nb_tensor_allclose(a, b, 0, 0));
    nb_tensor_free(a), nb_tensor_free(b), nb_tensor_free(z), nb_tensor_free(c);
}

static void test_cells_reject_bad_shapes(void **state)
{
    (void)state;
    nb_tensor *z = nb_tensor_zeros(NB_F32, 2, (int64_t[]){8, 3});
    nb_tensor *c = nb_tensor_zeros(NB_F32, 2, (int64_t[]){2, 3});
    nb_tensor *odd = nb_tensor_zeros(NB_F32, 2, (int64_t[]){6, 3});
    nb_tensor *wrong = nb_tensor_zeros(NB_F32, 2, (int64_t[]){2, 4});
    nb_tensor *c64 = nb_tensor_zeros(NB_F64, 2, (int64_t[]){2, 3});
    assert_null(nb_lstm_cell(odd, c, 0));
    nbt_assert_error(NB_ERR_SHAPE, "nb_lstm_cell: [6, 3] has 6 rows along axis 0, not 4 blocks");
    nb_clear_error();
    assert_null(nb_lstm_cell(z, wrong, 0));
    nbt_assert_error(NB_ERR_SHAPE, "nb_lstm_cell: c is [2, 4], must be [8, 3] with 2 (H) rows");
    nb_clear_error();
    assert_null(nb_lstm_cell(z, c, 2));
    nbt_assert_error(NB_ERR_SHAPE, "axis 2 is out of range");
    nb_clear_error();
    assert_null(nb_lstm_cell(z, c64, 0));
    nbt_assert_error(NB_ERR_DTYPE, "nb_lstm_cell");
    nb_clear_error();
    assert_null(nb_lstm_cell(z, NULL, 0));
    nb_clear_error();
    /* GRU: xg and hg 3H rows, h and bhn H rows */
    nb_tensor *xg = nb_tensor_zeros(NB_F32, 2, (int64_t[]){6, 3});
    assert_null(nb_gru_cell(xg, z, c, NULL, 0));
    nbt_assert_error(NB_ERR_SHAPE, "nb_gru_cell: hg is [8, 3], must be [6, 3] with 6 (3H) rows");
    nb_clear_error();
    assert_null(nb_gru_cell(xg, xg, c, wrong, 0));
    nbt_assert_error(NB_ERR_SHAPE, "nb_gru_cell: bhn is [2, 4]");
    nb_clear_error();
    nb_tensor *y = nb_gru_cell(xg, xg, c, c, -2);
    assert_non_null(y);
    assert_int_equal(nb_tensor_dim(y, 0), 2);
    nb_tensor_free(y);
    nb_tensor *t[] = {z, c, odd, wrong, c64, xg};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        nb_tensor_free(t[i]);
}

static void test_cells_pass_their_gradient_checks(void **state)
{
    (void)state;
    for (const nbt_case *c = nbt_cases_rnn; c->name; c++)
        if (c->run() != NB_OK)
            fail_msg("%s: %s", c->name, nb_last_error());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cells_equal_their_compositions),
        cmocka_unit_test(test_cells_with_two_threads_match_one),
        cmocka_unit_test(test_cells_reject_bad_shapes),
        cmocka_unit_test(test_cells_pass_their_gradient_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
