/* tests/ops/test_vpow.c — float pow's own vector kernel (ops/vpow.h), against double-precision
 * pow and libm: within 1 ulp on random and hard inputs (bases near 1 with results near float's
 * range), C's results on the special cases, the gradients' formulas and torch.pow's conventions
 * at 0, every tail length, and the ops (nb_pow, nb_pow_scalar) on the kernel's layouts against
 * their generic loops. */
#include "support/nbt.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ops/vpow.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static double uniform(void) /* [0, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * 0x1p-53;
}

/* Distance in units in the last place between two floats of one sign (or zero). */
static int64_t ulps(float a, float b)
{
    int32_t ia, ib;
    memcpy(&ia, &a, 4);
    memcpy(&ib, &b, 4);
    if (ia < 0)
        ia = INT32_MIN - ia;
    if (ib < 0)
        ib = INT32_MIN - ib;
    return llabs((int64_t)ia - ib);
}

/* y = x^e within 1 ulp of the double-precision result rounded to float, for every i. */
static void expect_within_1ulp(int64_t n, const float *x, const float *e, const float *y)
{
    int64_t worst = 0, worst_i = 0;
    for (int64_t i = 0; i < n; i++) {
        const int64_t u = ulps(y[i], (float)pow(x[i], e[i]));
        if (u > worst) {
            worst = u;
            worst_i = i;
        }
    }
    if (worst > 1)
        fail_msg("pow(%a, %a) = %a, expected %a (%lld ulp)", x[worst_i], e[worst_i], y[worst_i],
                 (float)pow(x[worst_i], e[worst_i]), (long long)worst);
}

static void test_random_inputs_within_1ulp(void **state)
{
    (void)state;
    enum { N = 1 << 18 };
    float *x = malloc(N * sizeof *x), *e = malloc(N * sizeof *e), *y = malloc(N * sizeof *y);
    for (int64_t i = 0; i < N; i++) { /* bases over 2^-20 .. 2^20, results in float's range */
        x[i] = (float)exp2(40 * uniform() - 20);
        e[i] = (float)((2 * uniform() - 1) * (i % 3 ? 3 : 6));
    }
    nbi_vpow_f32(N, x, e, 1, 0, y);
    expect_within_1ulp(N, x, e, y);
    /* bases near 1 with exponents that take the result near float's limits: the log2's error
     * is multiplied by the exponent */
    for (int64_t i = 0; i < N; i++) {
        x[i] = (float)(0.9 + 0.2 * uniform());
        const double l2 = log2(x[i]);
        e[i] = (float)((250 * uniform() - 125) / (l2 == 0 ? 1 : l2));
    }
    nbi_vpow_f32(N, x, e, 1, 0, y);
    expect_within_1ulp(N, x, e, y);
    free(x);
    free(e);
    free(y);
}

/* Every pair of special and ordinary values: C's powf exactly where either operand is special
 * or the result is not a normal float, within 1 ulp elsewhere. */
static void test_special_cases_are_c_results(void **state)
{
    (void)state;
    const float xs[] = {0.0f,     -0.0f,     1.0f, -1.0f,  2.0f,    -2.0f, 0.5f,   7.0f,
                        INFINITY, -INFINITY, NAN,  1e-40f, -1e-40f, 3e38f, 1e-38f, 0x1p-126f};
    const float es[] = {0.0f,     -0.0f,     1.0f, -1.0f,  2.0f,    3.0f,   -3.0f,  0.5f,   -0.5f,
                        INFINITY, -INFINITY, NAN,  200.0f, -200.0f, 126.0f, 127.5f, 1e-30f, 2.5f};
    enum { NX = sizeof xs / sizeof *xs, NE = sizeof es / sizeof *es };
    float x[NX * NE], e[NX * NE], y[NX * NE];
    for (int i = 0; i < NX; i++)
        for (int j = 0; j < NE; j++) {
            x[i * NE + j] = xs[i];
            e[i * NE + j] = es[j];
        }
    nbi_vpow_f32(NX * NE, x, e, 1, 0, y);
    for (int k = 0; k < NX * NE; k++) {
        const float want = powf(x[k], e[k]);
        if (isnan(want) || isnan(y[k])) {
            if (isnan(want) != isnan(y[k]))
                fail_msg("pow(%a, %a) = %a, expected %a", x[k], e[k], y[k], want);
            continue;
        }
        const bool normal = isnormal(x[k]) && isfinite(e[k]) && isnormal(want);
        if (normal ? ulps(y[k], want) > 1 : memcmp(&y[k], &want, sizeof want) != 0)
            fail_msg("pow(%a, %a) = %a, expected %a", x[k], e[k], y[k], want);
    }
}

/* x^1 = x, 1^e = 1 and x^0 = 1 exactly; one exponent for all (se = 0) with an offset, at every
 * length from 0 to 40 (the kernel's tails). */
static void test_exact_results_broadcast_exponent_and_tails(void **state)
{
    (void)state;
    float x[40], y[40], ref[40];
    for (int i = 0; i < 40; i++)
        x[i] = (float)(0.1 + 3 * uniform());
    const float one = 1, zero = 0, two = 2, half = 0.5f;
    nbi_vpow_f32(40, x, &one, 0, 0, y);
    for (int i = 0; i < 40; i++)
        assert_true(y[i] == x[i]);
    nbi_vpow_f32(40, x, &zero, 0, 0, y);
    for (int i = 0; i < 40; i++)
        assert_true(y[i] == 1);
    nbi_vpow_f32(40, x, &two, 0, -1, y); /* x^(2 - 1) */
    for (int i = 0; i < 40; i++)
        assert_true(y[i] == x[i]);
    for (int n = 0; n <= 40; n++) {
        for (int i = 0; i < 40; i++)
            y[i] = ref[i] = -7;
        nbi_vpow_f32(n, x, &half, 0, 0, y);
        for (int i = 0; i < 40; i++)
            if (i < n)
                assert_true(ulps(y[i], (float)sqrt(x[i])) <= 1);
            else
                assert_true(y[i] == ref[i]); /* nothing written past n */
    }
}

/* The gradients against their formulas in double, zeros of a and b and negative bases with
 * integer exponents included, assigned and accumulated. */
static void test_gradients_follow_the_formulas(void **state)
{
    (void)state;
    enum { N = 203 };
    float a[N], b[N], y[N], dy[N], da[N], db[N];
    for (int i = 0; i < N; i++) {
        const int kind = i % 7;
        a[i] = kind == 0 ? 0.0f : kind == 1 ? -(float)(1 + (i % 3)) : (float)(0.05 + 4 * uniform());
        b[i] = kind == 1     ? (float)(i % 4)
               : i % 11 == 0 ? 0.0f
               : i % 13 == 0 ? 1.0f
                             : (float)(4 * uniform() - 2);
        y[i] = powf(a[i], b[i]);
        dy[i] = (float)(2 * uniform() - 1);
    }
    for (int acc = 0; acc < 2; acc++) {
        for (int i = 0; i < N; i++)
            da[i] = db[i] = acc ? 0.25f : NAN;
        nbi_vpow_grad_f32(N, a, b, 1, y, dy, da, acc, db, acc);
        for (int i = 0; i < N; i++) {
            const double ai = a[i], bi = b[i], base = acc ? 0.25 : 0;
            const double wa = base + dy[i] * (bi == 0 ? 0 : bi * pow(ai, (double)(b[i] - 1.0f)));
            const double wb = base + dy[i] * (ai == 0 && bi >= 0 ? 0 : y[i] * log(ai));
            const double got[2] = {da[i], db[i]}, want[2] = {wa, wb};
            for (int w = 0; w < 2; w++) {
                if (isnan(want[w]) || isinf(want[w])) {
                    if (!(isnan(want[w]) ? isnan(got[w]) : got[w] == want[w]))
                        fail_msg("d%c at a=%a b=%a: %g, expected %g", "ab"[w], a[i], b[i], got[w],
                                 want[w]);
                } else if (!(fabs(got[w] - want[w]) <= 1e-6 * (fabs(want[w] - base) + base)))
                    fail_msg("d%c at a=%a b=%a: %.9g, expected %.9g", "ab"[w], a[i], b[i], got[w],
                             want[w]);
            }
        }
    }
    /* pow_scalar's case: one exponent, da only */
    const float three = 3;
    nbi_vpow_grad_f32(N, a, &three, 0, NULL, dy, da, false, NULL, false);
    for (int i = 0; i < N; i++) {
        const double want = dy[i] * 3.0 * a[i] * a[i];
        if (!(fabs(da[i] - want) <= 1e-6 * (fabs(want) + 1e-30)))
            fail_msg("d(a^3) at a=%a: %.9g, expected %.9g", a[i], da[i], want);
    }
}

/* nb_pow on a dense base (the vector kernel) and on a transposed one (the generic loop) agree,
 * forward and backward, and nb_pow_scalar agrees with double precision. */
static void test_ops_agree_with_generic_loops_and_f64(void **state)
{
    (void)state;
    const int64_t shape[2] = {37, 29}, shape_t[2] = {29, 37};
    nb_tensor *a = nb_tensor_new(NB_F32, 2, shape), *b = nb_tensor_new(NB_F32, 2, shape);
    nb_tensor *at = nb_tensor_new(NB_F32, 2, shape_t), *bt = nb_tensor_new(NB_F32, 2, shape_t);
    for (int64_t i = 0; i < 37 * 29; i++) { /* at, bt: a and b transposed */
        const double av = 0.1 + 3 * uniform(), bv = 4 * uniform() - 2;
        const int64_t j = i % 29 * 37 + i / 29;
        nb_tensor_set(a, i, av);
        nb_tensor_set(b, i, bv);
        nb_tensor_set(at, j, av);
        nb_tensor_set(bt, j, bv);
    }
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *leaf[4] = {a, b, at, bt};
    for (int k = 0; k < 4; k++)
        nb_tensor_set_requires_grad(leaf[k], true);
    nb_tensor *dense = nb_pow(a, b);
    /* the same elements, reached through transposed (strided) views */
    nb_tensor *strided = nb_pow(nb_transpose(at, 0, 1), nb_transpose(bt, 0, 1));
    assert_int_equal(nb_backward(nb_sum_all(nb_add(dense, strided))), NB_OK);
    for (int64_t i = 0; i < 37 * 29; i++) {
        const int64_t j = i % 29 * 37 + i / 29;
        assert_true(ulps((float)nb_tensor_get(dense, i), (float)nb_tensor_get(strided, i)) <= 1);
        for (int w = 0; w < 2; w++) {
            const double g = nb_tensor_get(nb_tensor_grad(leaf[w]), i),
                         h = nb_tensor_get(nb_tensor_grad(leaf[2 + w]), j);
            if (!(fabs(g - h) <= 4e-7 * fabs(h)))
                fail_msg("d%c[%lld]: %.9g (dense) against %.9g (strided)", "ab"[w], (long long)i, g,
                         h);
        }
    }
    nb_tensor *s = nb_pow_scalar(a, 1.7);
    for (int64_t i = 0; i < 37 * 29; i++)
        assert_true(ulps((float)nb_tensor_get(s, i), (float)pow(nb_tensor_get(a, i), 1.7f)) <= 1);
    nb_step_end(step);
    nb_step_free(step);
    for (int k = 0; k < 4; k++)
        nb_tensor_free(leaf[k]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_inputs_within_1ulp),
        cmocka_unit_test(test_special_cases_are_c_results),
        cmocka_unit_test(test_exact_results_broadcast_exponent_and_tails),
        cmocka_unit_test(test_gradients_follow_the_formulas),
        cmocka_unit_test(test_ops_agree_with_generic_loops_and_f64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
