/* tests/ops/test_softmax.c — forward references and gradient checks for ops/softmax.c: softmax
 * and log_softmax along each axis against the textbook formula in f32 and f64, huge logits,
 * strided inputs, and the error paths. */
#include "support/nbt.h"

#include <math.h>

extern const nbt_case nbt_cases_softmax[];

/* Reference along `axis` of a [2, 3, 4] tensor: exp(x - max) / sum, or its log. */
static void reference(const nb_tensor *x, int axis, bool logsm, double *ref)
{
    const int64_t S[3] = {2, 3, 4}, st[3] = {12, 4, 1};
    for (int64_t base = 0; base < 24; base++) {
        int64_t idx[3] = {base / 12, (base / 4) % 3, base % 4};
        if (idx[axis] != 0)
            continue;
        double m = -INFINITY, s = 0;
        for (int64_t k = 0; k < S[axis]; k++)
            m = fmax(m, nb_tensor_get(x, base + k * st[axis]));
        for (int64_t k = 0; k < S[axis]; k++)
            s += exp(nb_tensor_get(x, base + k * st[axis]) - m);
        for (int64_t k = 0; k < S[axis]; k++) {
            double v = nb_tensor_get(x, base + k * st[axis]);
            ref[base + k * st[axis]] = logsm ? v - m - log(s) : exp(v - m) / s;
        }
    }
}

static void check_axes(nb_dtype dt, double lo, double hi, double tol)
{
    const int64_t s[3] = {2, 3, 4};
    nb_tensor *x = nbt_uniform(dt, 3, s, 12, lo, hi);
    for (int axis = -1; axis < 3; axis++) {
        int ax = axis < 0 ? axis + 3 : axis;
        double ref[24];
        nb_tensor *y = nb_softmax(x, axis), *ly = nb_log_softmax(x, axis);
        assert_non_null(y);
        assert_non_null(ly);
        reference(x, ax, false, ref);
        nbt_assert_values(y, ref, tol);
        reference(x, ax, true, ref);
        nbt_assert_values(ly, ref, tol);
        nb_tensor_free(ly);
        nb_tensor_free(y);
    }
    nb_tensor_free(x);
}

static void test_softmax_matches_formula_on_every_axis_f64(void **state)
{
    (void)state;
    check_axes(NB_F64, -5, 5, 1e-14);
}

static void test_softmax_matches_formula_on_every_axis_f32(void **state)
{
    (void)state;
    check_axes(NB_F32, -5, 5, 2e-6);
}

/* Logits around 1000 (exp overflows without the max shift) give exact, finite results. */
static void test_softmax_is_stable_for_huge_logits(void **state)
{
    (void)state;
    for (int d = 0; d < 2; d++) {
        nb_dtype dt = d ? NB_F64 : NB_F32;
        const double v[4] = {1000, 1001, 999, 1000};
        const int64_t s[2] = {1, 4};
        nb_tensor *x = nb_tensor_new(dt, 2, s), *nx = NULL;
        for (int i = 0; i < 4; i++)
            nb_tensor_set(x, i, v[i]);
        nx = nb_neg(x);
        nb_tensor *y = nb_softmax(x, 1), *ly = nb_log_softmax(x, 1), *ny = nb_softmax(nx, -1);
        nbt_assert_finite(y);
        nbt_assert_finite(ly);
        nbt_assert_finite(ny);
        const double e = exp(1.0), z = 2 + e + 1 / e;
        const double ry[4] = {1 / z, e / z, 1 / (e * z), 1 / z};
        const double rly[4] = {-log(z), 1 - log(z), -1 - log(z), -log(z)};
        const double rny[4] = {1 / z, 1 / (e * z), e / z, 1 / z};
        nbt_assert_values(y, ry, d ? 1e-15 : 1e-6);
        nbt_assert_values(ly, rly, d ? 1e-15 : 1e-6);
        nbt_assert_values(ny, rny, d ? 1e-15 : 1e-6);
        nb_tensor *all[] = {ny, ly, y, nx, x};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            nb_tensor_free(all[i]);
    }
}

/* A -inf logit gets probability 0 (log-probability -inf); the others are unaffected. */
static void test_softmax_handles_minus_infinity(void **state)
{
    (void)state;
    const double v[3] = {0, -INFINITY, 0};
    const int64_t s[1] = {3};
    nb_tensor *x = nb_tensor_from_data(NB_F64, 1, s, v);
    nb_tensor *y = nb_softmax(x, 0), *ly = nb_log_softmax(x, 0);
    const double ry[3] = {0.5, 0, 0.5};
    nbt_assert_values(y, ry, 1e-15);
    assert_true(isinf(nb_tensor_get(ly, 1)) && nb_tensor_get(ly, 1) < 0);
    assert_float_equal(nb_tensor_get(ly, 0), -log(2.0), 1e-15);
    nb_tensor_free(ly);
    nb_tensor_free(y);
    nb_tensor_free(x);
}

static void test_softmax_of_transposed_view(void **state)
{
    (void)state;
    const int64_t s[2] = {4, 3};
    nb_tensor *x = nbt_uniform(NB_F32, 2, s, 2, -3, 3);
    nb_tensor *t = nb_transpose(x, 0, 1); /* [3, 4]: softmax over x's columns */
    nb_tensor *y = nb_softmax(t, 1);
    for (int i = 0; i < 3; i++) {
        double sum = 0, m = -INFINITY;
        for (int j = 0; j < 4; j++)
            m = fmax(m, nb_tensor_get(x, j * 3 + i));
        for (int j = 0; j < 4; j++)
            sum += exp(nb_tensor_get(x, j * 3 + i) - m);
        for (int j = 0; j < 4; j++)
            assert_float_equal(nb_tensor_get(y, i * 4 + j),
                               exp(nb_tensor_get(x, j * 3 + i) - m) / sum, 1e-6);
    }
    nb_tensor_free(y);
    nb_tensor_free(t);
    nb_tensor_free(x);
}

/* ---- errors ---- */
static void test_softmax_rejects_scalars_bad_axes_and_i64(void **state)
{
    (void)state;
    const int64_t s[2] = {2, 3};
    nb_tensor *sc = nb_tensor_new(NB_F32, 0, NULL), *x = nb_tensor_new(NB_F32, 2, s);
    nb_tensor *ids = nb_tensor_new(NB_I64, 2, s);
    assert_null(nb_softmax(sc, 0));
    nbt_assert_error(NB_ERR_SHAPE, "nb_softmax: needs at least 1 dim, got a scalar");
    assert_null(nb_log_softmax(x, 2));
    nbt_assert_error(NB_ERR_VALUE, "nb_log_softmax: axis 2 out of range for a 2-dim tensor");
    assert_null(nb_softmax(x, -3));
    nbt_assert_error(NB_ERR_VALUE, "nb_softmax: axis -3 out of range");
    assert_null(nb_softmax(ids, 1));
    nbt_assert_error(NB_ERR_DTYPE, "nb_softmax: input 0 must be f32 or f64, got i64");
    nb_tensor_free(ids);
    nb_tensor_free(x);
    nb_tensor_free(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_softmax_matches_formula_on_every_axis_f64),
        cmocka_unit_test(test_softmax_matches_formula_on_every_axis_f32),
        cmocka_unit_test(test_softmax_is_stable_for_huge_logits),
        cmocka_unit_test(test_softmax_handles_minus_infinity),
        cmocka_unit_test(test_softmax_of_transposed_view),
        cmocka_unit_test(test_softmax_rejects_scalars_bad_axes_and_i64),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    return rc | nbt_run_cases("softmax gradient checks", nbt_cases_softmax);
}
