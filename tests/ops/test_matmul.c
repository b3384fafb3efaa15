/* tests/ops/test_matmul.c — forward references and gradient checks for ops/matmul.c: products
 * against a naive triple loop (2-D, batched, broadcast batches, transposed, sliced and permuted
 * operands, 1-D operands, size-1 and empty dims, f32 and f64), nb_linear, and the error paths. */
#include "ops/op_def.h"
#include "support/nbt.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include <math.h>
#include <string.h>

extern const nbt_case nbt_cases_matmul[];

/* Element (i, j) of the matrix of batch `b` of t, whose batch dims are right-aligned with the
 * output batch shape bs[0..nbo) and broadcast where missing or 1. Works for any strides. */
static double mat_get(const nb_tensor *t, const int64_t *bidx, int nbo, int64_t i, int64_t j)
{
    const int n = nb_tensor_ndim(t);
    const int64_t *s = nb_tensor_shape(t);
    int64_t flat = 0;
    for (int d = 0; d < n - 2; d++) {
        int64_t k = s[d] == 1 ? 0 : bidx[d + (nbo - (n - 2))];
        flat = flat * s[d] + k;
    }
    flat = (flat * s[n - 2] + i) * s[n - 1] + j;
    return nb_tensor_get(t, flat);
}

/* c = a @ b for a: [..., M, K], b: [..., K, N] (both >= 2-D) by the definition. */
static void check_product(const nb_tensor *a, const nb_tensor *b, const nb_tensor *c, double tol)
{
    const int na = nb_tensor_ndim(a), nb = nb_tensor_ndim(b), nc = nb_tensor_ndim(c);
    const int64_t M = nb_tensor_dim(a, -2), K = nb_tensor_dim(a, -1), N = nb_tensor_dim(b, -1);
    assert_int_equal(nc, (na > nb ? na : nb));
    assert_int_equal(nb_tensor_dim(c, -2), M);
    assert_int_equal(nb_tensor_dim(c, -1), N);
    const int nbo = nc - 2;
    int64_t nbatch = 1, bidx[NB_MAX_DIMS] = {0};
    for (int d = 0; d < nbo; d++)
        nbatch *= nb_tensor_dim(c, d);
    double *ref = test_malloc((size_t)(nbatch * M * N + 1) * sizeof *ref);
    for (int64_t bi = 0; bi < nbatch; bi++) {
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double s = 0;
                for (int64_t k = 0; k < K; k++)
                    s += mat_get(a, bidx, nbo, i, k) * mat_get(b, bidx, nbo, k, j);
                ref[(bi * M + i) * N + j] = s;
            }
        for (int d = nbo - 1; d >= 0 && ++bidx[d] == nb_tensor_dim(c, d); d--)
            bidx[d] = 0;
    }
    nbt_assert_values(c, ref, tol);
    test_free(ref);
}

static nb_tensor *rand_t(nb_dtype dt, uint64_t seed, int ndim, const int64_t *shape)
{
    return nbt_uniform(dt, ndim, shape, seed, -1, 1);
}

static void product_case(nb_dtype dt, int na, const int64_t *sa, int nb, const int64_t *sb)
{
    nb_tensor *a = rand_t(dt, 1, na, sa), *b = rand_t(dt, 2, nb, sb);
    nb_tensor *c = nb_matmul(a, b);
    assert_non_null(c);
    check_product(a, b, c, dt == NB_F32 ? 1e-5 : 1e-13);
    nb_tensor_free(c);
    nb_tensor_free(b);
    nb_tensor_free(a);
}

/* x @ w^T with both contiguous along k, large enough for BLIS's driver (ops/gemm.c copies the
 * smaller operand transposed first where the kernels have small-dimension paths): a small k
 * with m > n (B copied) and m < n (A copied), and a thin A with a long k. */
static void test_matmul_x_times_w_transposed_on_blis_driver(void **state)
{
    (void)state;
    const int64_t shapes[3][3] = {{1024, 160, 32}, {160, 1024, 32}, {16, 300, 1100}};
    for (int d = 0; d < 2; d++)
        for (int c = 0; c < 3; c++) {
            const nb_dtype dt = d ? NB_F64 : NB_F32;
            const int64_t m = shapes[c][0], n = shapes[c][1], k = shapes[c][2];
            nb_tensor *x = rand_t(dt, 3, 2, (int64_t[]){m, k});
            nb_tensor *w = rand_t(dt, 4, 2, (int64_t[]){n, k});
            nb_tensor *wt = nb_transpose(w, 0, 1); /* a view: [k, n], stored by columns */
            nb_tensor *y = nb_matmul(x, wt);
            assert_non_null(y);
            check_product(x, wt, y, dt == NB_F32 ? 2e-5 : 1e-12);
            nb_tensor *t[] = {y, wt, w, x};
            for (int i = 0; i < 4; i++)
                nb_tensor_free(t[i]);
        }
}

/* x @ w^T past the thin-operand sizes, with k >= 1024: a batch under 512 against a wide layer
 * (computed as C^T = w x^T, ops/gemm.c) and a narrow layer under a tall batch (w copied by
 * rows), against the same product with w^T made contiguous (no copy, no transpose). */
static void test_matmul_long_k_x_times_w_transposed_matches_contiguous(void **state)
{
    (void)state;
    const int64_t shapes[2][3] = {{130, 520, 1024}, {600, 100, 1030}};
    for (int d = 0; d < 2; d++)
        for (int c = 0; c < 2; c++) {
            const nb_dtype dt = d ? NB_F64 : NB_F32;
            const int64_t m = shapes[c][0], n = shapes[c][1], k = shapes[c][2];
            nb_tensor *x = rand_t(dt, 11, 2, (int64_t[]){m, k});
            nb_tensor *w = rand_t(dt, 12, 2, (int64_t[]){n, k});
            nb_tensor *wt = nb_transpose(w, 0, 1), *wtc = nb_contiguous(wt);
            nb_tensor *y = nb_matmul(x, wt), *want = nb_matmul(x, wtc);
            assert_non_null(y);
            assert_non_null(want);
            assert_true(nb_tensor_allclose(y, want, d ? 1e-12 : 1e-5, d ? 1e-12 : 1e-3));
            nb_tensor *t[] = {want, y, wtc, wt, w, x};
            for (int i = 0; i < 6; i++)
                nb_tensor_free(t[i]);
        }
}

static void test_matmul_2d_matches_naive_loop(void **state)
{
    (void)state;
    const int64_t sa[2] = {5, 7}, sb[2] = {7, 3};
    product_case(NB_F64, 2, sa, 2, sb);
    product_case(NB_F32, 2, sa, 2, sb);
    /* Large enough for BLIS to block and pack. */
    const int64_t la[2] = {67, 131}, lb[2] = {131, 45};
    product_case(NB_F64, 2, la, 2, lb);
    product_case(NB_F32, 2, la, 2, lb);
}

/* Products small enough to skip BLIS's driver (ops/gemm.c) but with one dimension past a cache
 * block of the kernels BLIS may choose (MC <= 480, KC <= 384, NC <= 4096), in both orientations
 * of the result and with transposed operands: every block boundary and edge tile of the loops
 * around the micro-kernel. */
static void test_matmul_small_products_cross_every_block(void **state)
{
    (void)state;
    const int64_t shapes[][3] = {{700, 3, 5},  {5, 3, 700},  {3, 900, 4}, {2, 3, 4100},
                                 {4100, 3, 2}, {33, 13, 17}, {2, 2, 2}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int d = 0; d < 2; d++) {
            const nb_dtype dt = d ? NB_F64 : NB_F32;
            const double tol = d ? 1e-13 : 1e-5;
            const int64_t m = shapes[i][0], k = shapes[i][1], n = shapes[i][2];
            const int64_t sa[2] = {m, k}, sb[2] = {k, n}, sat[2] = {k, m}, sbt[2] = {n, k};
            product_case(dt, 2, sa, 2, sb);
            nb_tensor *x = rand_t(dt, 7, 2, sat), *y = rand_t(dt, 8, 2, sbt);
            nb_tensor *xt = nb_transpose(x, 0, 1), *yt = nb_transpose(y, 0, 1);
            nb_tensor *c = nb_matmul(xt, yt);
            assert_non_null(c);
            check_product(xt, yt, c, tol);
            nb_tensor *all[] = {c, yt, xt, y, x};
            for (size_t j = 0; j < sizeof all / sizeof all[0]; j++)
                nb_tensor_free(all[j]);
        }
}

static void test_matmul_batched_and_broadcast_batches(void **state)
{
    (void)state;
    const int64_t a3[3] = {3, 4, 5}, b3[3] = {3, 5, 2}, b2[2] = {5, 2}, a2[2] = {4, 5};
    const int64_t a4[4] = {2, 1, 4, 5}, b4[3] = {3, 5, 2};
    product_case(NB_F64, 3, a3, 3, b3);
    product_case(NB_F32, 3, a3, 3, b3);
    product_case(NB_F64, 3, a3, 2, b2);
    product_case(NB_F64, 2, a2, 3, b3);
    product_case(NB_F32, 4, a4, 3, b4);
}

/* Transposed, sliced and permuted views go to BLIS as strides; results must not change. */
static void test_matmul_strided_operands(void **state)
{
    (void)state;
    for (int d = 0; d < 2; d++) {
        nb_dtype dt = d ? NB_F64 : NB_F32;
        double tol = d ? 1e-13 : 1e-5;
        const int64_t s1[2] = {6, 4}, s2[2] = {5, 6}, s3[2] = {8, 12}, s4[3] = {4, 3, 6};
        nb_tensor *x1 = rand_t(dt, 3, 2, s1), *x2 = rand_t(dt, 4, 2, s2);
        nb_tensor *x3 = rand_t(dt, 5, 2, s3), *x4 = rand_t(dt, 6, 3, s4);
        nb_tensor *t1 = nb_transpose(x1, 0, 1); /* [4, 6], column-major */
        nb_tensor *t2 = nb_transpose(x2, 0, 1); /* [6, 5] */
        nb_tensor *c = nb_matmul(t1, t2);       /* a^T @ b^T */
        check_product(t1, t2, c, tol);
        nb_tensor_free(c);
        /* Slices with steps in both dims: [4, 6] rows 0,2,4,6 and columns 1,3,...,11. */
        nb_tensor *rows = nb_slice(x3, 0, 0, 8, 2), *sl = nb_slice(rows, 1, 1, 12, 2);
        nb_tensor *sl_t = nb_transpose(sl, 0, 1); /* [6, 4] */
        c = nb_matmul(sl, sl_t);
        check_product(sl, sl_t, c, tol);
        nb_tensor_free(c);
        /* Permuted batch: [4, 3, 6] -> [3, 4, 6] @ [6, 4]. */
        nb_tensor *p = nb_permute(x4, (const int[]){1, 0, 2});
        c = nb_matmul(p, sl_t);
        check_product(p, sl_t, c, tol);
        nb_tensor_free(c);
        nb_tensor_free(p);
        nb_tensor_free(sl_t);
        nb_tensor_free(sl);
        nb_tensor_free(rows);
        nb_tensor_free(t2);
        nb_tensor_free(t1);
        nb_tensor_free(x4);
        nb_tensor_free(x3);
        nb_tensor_free(x2);
        nb_tensor_free(x1);
    }
}

/* A broadcast (stride-0) operand made by nb_expand. */
static void test_matmul_expanded_operand(void **state)
{
    (void)state;
    const int64_t s[2] = {1, 4}, e[2] = {3, 4}, sb[2] = {4, 2};
    nb_tensor *row = rand_t(NB_F64, 7, 2, s), *b = rand_t(NB_F64, 8, 2, sb);
    nb_tensor *a = nb_expand(row, 2, e);
    nb_tensor *c = nb_matmul(a, b);
    check_product(a, b, c, 1e-13);
    nb_tensor_free(c);
    nb_tensor_free(a);
    nb_tensor_free(b);
    nb_tensor_free(row);
}

static void test_matmul_size_one_dims(void **state)
{
    (void)state;
    const int64_t r[2] = {1, 4}, col[2] = {4, 1}, k1a[2] = {3, 1}, k1b[2] = {1, 5};
    product_case(NB_F64, 2, r, 2, col);   /* [1,1] */
    product_case(NB_F64, 2, col, 2, r);   /* outer product */
    product_case(NB_F32, 2, k1a, 2, k1b); /* K = 1 */
}

static void test_matmul_vector_operands_drop_their_dim(void **state)
{
    (void)state;
    const int64_t v4[1] = {4}, m45[2] = {4, 5}, m34[2] = {3, 4}, b234[3] = {2, 3, 4};
    nb_tensor *v = rand_t(NB_F64, 1, 1, v4), *w = rand_t(NB_F64, 2, 1, v4);
    nb_tensor *m = rand_t(NB_F64, 3, 2, m45), *n = rand_t(NB_F64, 4, 2, m34);
    nb_tensor *bt = rand_t(NB_F64, 5, 3, b234);

    nb_tensor *vm = nb_matmul(v, m); /* [5] */
    assert_int_equal(nb_tensor_ndim(vm), 1);
    assert_int_equal(nb_tensor_dim(vm, 0), 5);
    for (int j = 0; j < 5; j++) {
        double s = 0;
        for (int k = 0; k < 4; k++)
            s += nb_tensor_get(v, k) * nb_tensor_get(m, k * 5 + j);
        assert_float_equal(nb_tensor_get(vm, j), s, 1e-14);
    }
    nb_tensor *nv = nb_matmul(n, v); /* [3] */
    assert_int_equal(nb_tensor_ndim(nv), 1);
    assert_int_equal(nb_tensor_dim(nv, 0), 3);
    for (int i = 0; i < 3; i++) {
        double s = 0;
        for (int k = 0; k < 4; k++)
            s += nb_tensor_get(n, i * 4 + k) * nb_tensor_get(v, k);
        assert_float_equal(nb_tensor_get(nv, i), s, 1e-14);
    }
    nb_tensor *dot = nb_matmul(v, w); /* [] */
    assert_int_equal(nb_tensor_ndim(dot), 0);
    double s = 0;
    for (int k = 0; k < 4; k++)
        s += nb_tensor_get(v, k) * nb_tensor_get(w, k);
    assert_float_equal(nb_tensor_item(dot), s, 1e-14);
    nb_tensor *bv = nb_matmul(bt, v); /* [2, 3] */
    assert_int_equal(nb_tensor_ndim(bv), 2);
    assert_int_equal(nb_tensor_dim(bv, 1), 3);
    for (int i = 0; i < 6; i++) {
        double t = 0;
        for (int k = 0; k < 4; k++)
            t += nb_tensor_get(bt, i * 4 + k) * nb_tensor_get(v, k);
        assert_float_equal(nb_tensor_get(bv, i), t, 1e-14);
    }
    /* A strided 1-D operand (every other element). */
    const int64_t v8[1] = {8};
    nb_tensor *long_v = rand_t(NB_F64, 6, 1, v8), *sv = nb_slice(long_v, 0, 1, 8, 2);
    nb_tensor *svm = nb_matmul(sv, m);
    for (int j = 0; j < 5; j++) {
        double t = 0;
        for (int k = 0; k < 4; k++)
            t += nb_tensor_get(long_v, 1 + 2 * k) * nb_tensor_get(m, k * 5 + j);
        assert_float_equal(nb_tensor_get(svm, j), t, 1e-14);
    }
    nb_tensor *all[] = {svm, sv, long_v, bv, dot, nv, vm, bt, n, m, w, v};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

static void test_matmul_with_empty_dims(void **state)
{
    (void)state;
    const int64_t a0[2] = {0, 3}, b0[2] = {3, 4}, ak0[2] = {2, 0}, bk0[2] = {0, 3};
    nb_tensor *a = nb_tensor_new(NB_F64, 2, a0), *b = rand_t(NB_F64, 1, 2, b0);
    nb_tensor *c = nb_matmul(a, b);
    assert_non_null(c);
    assert_int_equal(nb_tensor_dim(c, 0), 0);
    assert_int_equal(nb_tensor_dim(c, 1), 4);
    nb_tensor *p = nb_tensor_new(NB_F64, 2, ak0), *q = nb_tensor_new(NB_F64, 2, bk0);
    nb_tensor *z = nb_matmul(p, q); /* K = 0: all zeros */
    assert_non_null(z);
    const double zeros[6] = {0};
    nbt_assert_values(z, zeros, 0);
    nb_tensor *all[] = {z, q, p, c, b, a};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

static void test_linear_matches_reference(void **state)
{
    (void)state;
    const int64_t sx[2] = {4, 3}, sw[2] = {5, 3}, sb[1] = {5};
    nb_tensor *x = rand_t(NB_F32, 1, 2, sx), *w = rand_t(NB_F32, 2, 2, sw);
    nb_tensor *b = rand_t(NB_F32, 3, 1, sb);
    nb_tensor *y = nb_linear(x, w, b), *y0 = nb_linear(x, w, NULL);
    assert_int_equal(nb_tensor_dim(y, 0), 4);
    assert_int_equal(nb_tensor_dim(y, 1), 5);
    double ref[20], ref0[20];
    for (int i = 0; i < 4; i++)
        for (int o = 0; o < 5; o++) {
            double s = 0;
            for (int k = 0; k < 3; k++)
                s += nb_tensor_get(x, i * 3 + k) * nb_tensor_get(w, o * 3 + k);
            ref0[i * 5 + o] = s;
            ref[i * 5 + o] = s + nb_tensor_get(b, o);
        }
    nbt_assert_values(y, ref, 1e-6);
    nbt_assert_values(y0, ref0, 1e-6);
    /* Strided operands, passed as strides: x transposed, w transposed (x @ w^T for a w stored
     * [n_in, n_out]), bias sliced. */
    nb_tensor *xs = rand_t(NB_F32, 4, 2, (int64_t[]){3, 4}),
              *ws = rand_t(NB_F32, 5, 2, (int64_t[]){3, 5});
    nb_tensor *bs = rand_t(NB_F32, 6, 1, (int64_t[]){10});
    nb_tensor *xt = nb_transpose(xs, 0, 1), *wt = nb_transpose(ws, 0, 1);
    nb_tensor *bsl = nb_slice(bs, 0, 0, 10, 2);
    nb_tensor *ys = nb_linear(xt, wt, bsl);
    assert_non_null(ys);
    double refs[20];
    for (int i = 0; i < 4; i++)
        for (int o = 0; o < 5; o++) {
            double v = nb_tensor_get(bs, 2 * o);
            for (int k = 0; k < 3; k++) /* xt[i, k] = xs[k, i], wt[o, k] = ws[k, o] */
                v += nb_tensor_get(xs, k * 4 + i) * nb_tensor_get(ws, k * 5 + o);
            refs[i * 5 + o] = v;
        }
    nbt_assert_values(ys, refs, 1e-6);
    nb_tensor *more[] = {ys, bsl, wt, xt, bs, ws, xs};
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
        nb_tensor_free(more[i]);
    nb_tensor *all[] = {y0, y, b, w, x};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

/* The same product with 1 and 2 threads gives the same numbers (within rounding). */
static void test_matmul_is_consistent_across_thread_counts(void **state)
{
    (void)state;
    const int64_t sa[2] = {96, 80}, sb[2] = {80, 72};
    nb_tensor *a = rand_t(NB_F64, 1, 2, sa), *b = rand_t(NB_F64, 2, 2, sb);
    int prev = nb_get_num_threads();
    nb_set_num_threads(1);
    nb_tensor *c1 = nb_matmul(a, b);
    nb_set_num_threads(2);
    nb_tensor *c2 = nb_matmul(a, b);
    nb_set_num_threads(prev);
    assert_true(nb_tensor_allclose(c1, c2, 1e-13, 1e-13));
    check_product(a, b, c2, 1e-13);
    nb_tensor_free(c2);
    nb_tensor_free(c1);
    nb_tensor_free(b);
    nb_tensor_free(a);
}

/* ---- errors ---- */
static void test_matmul_rejects_mismatched_inner_dim(void **state)
{
    (void)state;
    const int64_t sa[2] = {32, 784}, sb[2] = {100, 10};
    nb_tensor *a = nb_tensor_new(NB_F32, 2, sa), *b = nb_tensor_new(NB_F32, 2, sb);
    assert_null(nb_matmul(a, b));
    nbt_assert_error(NB_ERR_SHAPE,
                     "nb_matmul: inner dimensions differ: a is [32, 784], b is [100, 10]");
    nb_tensor_free(a);
    nb_tensor_free(b);
}

static void test_matmul_rejects_batches_that_do_not_broadcast(void **state)
{
    (void)state;
    const int64_t sa[3] = {2, 3, 4}, sb[3] = {3, 4, 5};
    nb_tensor *a = nb_tensor_new(NB_F64, 3, sa), *b = nb_tensor_new(NB_F64, 3, sb);
    assert_null(nb_matmul(a, b));
    nbt_assert_error(
        NB_ERR_SHAPE,
        "nb_matmul: batch dimensions do not broadcast: a is [2, 3, 4], b is [3, 4, 5]");
    nb_tensor_free(a);
    nb_tensor_free(b);
}

static void test_matmul_rejects_scalars_and_dtype_mix(void **state)
{
    (void)state;
    const int64_t s[2] = {2, 2};
    nb_tensor *a = nb_tensor_new(NB_F32, 2, s), *b = nb_tensor_new(NB_F64, 2, s);
    nb_tensor *sc = nb_tensor_new(NB_F32, 0, NULL);
    assert_null(nb_matmul(sc, a));
    nbt_assert_error(NB_ERR_SHAPE, "nb_matmul: operands need >= 1 dim, a is [], b is [2, 2]");
    assert_null(nb_matmul(a, b));
    nbt_assert_error(NB_ERR_DTYPE, "nb_matmul: dtypes differ: input 0 is f32, input 1 is f64");
    nb_tensor_free(sc);
    nb_tensor_free(a);
    nb_tensor_free(b);
}

static void test_linear_rejects_bad_shapes(void **state)
{
    (void)state;
    const int64_t sx[2] = {4, 3}, sw[2] = {5, 2}, sw_ok[2] = {5, 3}, sb[1] = {4};
    nb_tensor *x = nb_tensor_new(NB_F32, 2, sx), *w = nb_tensor_new(NB_F32, 2, sw);
    nb_tensor *w_ok = nb_tensor_new(NB_F32, 2, sw_ok), *b = nb_tensor_new(NB_F32, 1, sb);
    assert_null(nb_linear(x, w, NULL));
    nbt_assert_error(NB_ERR_SHAPE, "nb_linear: x must be [n, n_in] and w [n_out, n_in]: x is [4, "
                                   "3], w is [5, 2]");
    assert_null(nb_linear(x, w_ok, b));
    nbt_assert_error(NB_ERR_SHAPE, "nb_linear: b must be [n_out] = [5], got [4]");
    nb_tensor *all[] = {b, w_ok, w, x};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

/* nbi_gemm itself (ops/gemm.c) on every storage combination of C, A and B (each by rows or by
 * columns, with leading dimensions past the matrix), with alpha and beta, against a naive loop:
 * products small enough to skip BLIS's driver run on BLIS's small-dimension kernels or its
 * micro-kernel through nabla's own loops, whose blocks (MC <= 144, KC <= 512, NC <= 8160 on the
 * kernels BLIS may choose, KC / 5 for some combinations) these shapes cross; the last runs on
 * BLIS's driver with its packed kernels (a large C, a short k). beta = 0 must overwrite C, even
 * where it holds NaN. */
static void test_gemm_every_storage_combination(void **state)
{
    (void)state;
    const int64_t shapes[][3] = {{7, 5, 3},     {150, 20, 9},  {9, 8200, 2},
                                 {13, 17, 600}, {40, 40, 300}, {1030, 1030, 5}};
    for (int d = 0; d < 2; d++)
        for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
            for (int combo = 0; combo < 8; combo++)
                for (int bz = 0; bz < 2; bz++) {
                    const nb_dtype dt = d ? NB_F64 : NB_F32;
                    const size_t es = d ? sizeof(double) : sizeof(float);
                    const int64_t m = shapes[si][0], n = shapes[si][1], k = shapes[si][2];
                    const bool ccol = combo & 4, acol = combo & 2, bcol = combo & 1;
                    /* (rows, cols) stored with a leading dimension 3 past the matrix */
                    const int64_t rsa = acol ? 1 : k + 3, csa = acol ? m + 3 : 1;
                    const int64_t rsb = bcol ? 1 : n + 3, csb = bcol ? k + 3 : 1;
                    const int64_t rsc = ccol ? 1 : n + 3, csc = ccol ? m + 3 : 1;
                    const size_t na = (size_t)(acol ? (m + 3) * k : m * (k + 3));
                    const size_t nbb = (size_t)(bcol ? (k + 3) * n : k * (n + 3));
                    const size_t nc = (size_t)(ccol ? (m + 3) * n : m * (n + 3));
                    double *ad = malloc(na * sizeof *ad), *bd = malloc(nbb * sizeof *bd);
                    double *cd = malloc(nc * sizeof *cd);
                    char *a = malloc(na * es), *b = malloc(nbb * es), *c = malloc(nc * es);
                    assert_true(ad && bd && cd && a && b && c);
                    nb_rng rng = nb_rng_seed(31 + (uint64_t)combo);
                    for (size_t i = 0; i < na; i++)
                        ad[i] = nb_rng_normal(&rng);
                    for (size_t i = 0; i < nbb; i++)
                        bd[i] = nb_rng_normal(&rng);
                    for (size_t i = 0; i < nc; i++)
                        cd[i] = bz ? NAN : nb_rng_normal(&rng);
                    for (size_t i = 0; i < na; i++)
                        d ? (void)(((double *)a)[i] = ad[i])
                          : (void)(((float *)a)[i] = (float)ad[i]);
                    for (size_t i = 0; i < nbb; i++)
                        d ? (void)(((double *)b)[i] = bd[i])
                          : (void)(((float *)b)[i] = (float)bd[i]);
                    for (size_t i = 0; i < nc; i++)
                        d ? (void)(((double *)c)[i] = cd[i])
                          : (void)(((float *)c)[i] = (float)cd[i]);
                    const double alpha = 1.5, beta = bz ? 0.0 : -0.5;
                    nbi_gemm(dt, m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc);
                    for (int64_t i = 0; i < m; i++)
                        for (int64_t j = 0; j < n; j++) {
                            double want = 0, mag = 0;
                            for (int64_t l = 0; l < k; l++) {
                                double x = d ? ad[i * rsa + l * csa]
                                             : (double)(float)ad[i * rsa + l * csa];
                                double y = d ? bd[l * rsb + j * csb]
                                             : (double)(float)bd[l * rsb + j * csb];
                                want += x * y, mag += fabs(x * y);
                            }
                            const size_t at = (size_t)(i * rsc + j * csc);
                            const double c0 = bz ? 0 : d ? cd[at] : (double)(float)cd[at];
                            want = alpha * want + beta * c0;
                            const double got = d ? ((double *)c)[at] : (double)((float *)c)[at];
                            const double tol = (d ? 1e-13 : 2e-6) * (alpha * mag + fabs(c0) + 1);
                            if (!(fabs(got - want) <= tol))
                                fail_msg("gemm %s %ld x %ld x %ld, C %s, A %s, B %s, beta %g: "
                                         "(%ld, %ld) is %g, want %g",
                                         d ? "f64" : "f32", (long)m, (long)n, (long)k,
                                         ccol ? "cols" : "rows", acol ? "cols" : "rows",
                                         bcol ? "cols" : "rows", beta, (long)i, (long)j, got, want);
                        }
                    free(ad), free(bd), free(cd), free(a), free(b), free(c);
                }
}

/* nb_blas_info names the library and kernels. On an AMD CPU with AVX-512 (which BLIS 0.9 does
 * not recognise) nabla must have replaced BLIS's portable fallback by the AVX-512 kernels, unless
 * the environment chose for itself. */
/* nb_tensor_addmm: c = alpha a @ b + beta c in place, against the definition, with transposed
 * views for a, b and c, beta = 0 over NaN, alpha = 0 and k = 0, in f32 and f64. */
static void addmm_case(nb_dtype dt, int64_t m, int64_t n, int64_t k, bool ta, bool tb, bool tc,
                       double alpha, double beta, bool nan_c)
{
    nb_tensor *as = rand_t(dt, 5, 2, ta ? (int64_t[]){k, m} : (int64_t[]){m, k});
    nb_tensor *bs = rand_t(dt, 6, 2, tb ? (int64_t[]){n, k} : (int64_t[]){k, n});
    nb_tensor *cs = rand_t(dt, 7, 2, tc ? (int64_t[]){n, m} : (int64_t[]){m, n});
    if (nan_c)
        assert_int_equal(nb_tensor_fill(cs, NAN), NB_OK);
    nb_tensor *a = ta ? nb_transpose(as, 0, 1) : as, *b = tb ? nb_transpose(bs, 0, 1) : bs;
    nb_tensor *c = tc ? nb_transpose(cs, 0, 1) : cs;
    double *ref = test_malloc((size_t)(m * n + 1) * sizeof *ref);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t q = 0; q < k; q++)
                s += nb_tensor_get(a, i * k + q) * nb_tensor_get(b, q * n + j);
            ref[i * n + j] = alpha * s + (beta == 0 ? 0 : beta * nb_tensor_get(c, i * n + j));
        }
    assert_int_equal(nb_tensor_addmm(c, alpha, a, b, beta), NB_OK);
    nbt_assert_values(c, ref, dt == NB_F32 ? 2e-5 * (double)(k + 1) : 1e-12 * (double)(k + 1));
    test_free(ref);
    if (tc)
        nb_tensor_free(c);
    if (tb)
        nb_tensor_free(b);
    if (ta)
        nb_tensor_free(a);
    nb_tensor *all[] = {cs, bs, as};
    for (int i = 0; i < 3; i++)
        nb_tensor_free(all[i]);
}

static void test_addmm_in_place_matches_definition(void **state)
{
    (void)state;
    for (int d = 0; d < 2; d++) {
        const nb_dtype dt = d ? NB_F64 : NB_F32;
        for (int t = 0; t < 8; t++) {
            addmm_case(dt, 7, 5, 3, t & 1, t & 2, t & 4, 0.5, 2.0, false);
            addmm_case(dt, 67, 45, 131, t & 1, t & 2, t & 4, -1.25, 0.5, false);
        }
        addmm_case(dt, 67, 45, 131, true, false, false, 1.0, 0.0, true);    /* beta 0 over NaN */
        addmm_case(dt, 64, 300, 128, true, false, false, 0.01, 0.5, false); /* a momentum update */
        addmm_case(dt, 4, 6, 0, false, false, false, 1.0, 3.0, false);      /* k = 0: 3 c */
        addmm_case(dt, 4, 6, 0, false, false, false, 1.0, 0.0, true);       /* k = 0, beta 0: 0 */
        addmm_case(dt, 4, 6, 5, false, false, false, 0.0, 2.0, false);      /* alpha 0 */
        addmm_case(dt, 0, 6, 5, false, false, false, 1.0, 1.0, false);      /* empty c */
        /* x @ W^T with a thin x and a long k, computed as C^T = W x^T and added transposed
         * (ops/gemm.c): on BLIS's driver and on the small-product loops, C by rows and by
         * columns, beta 0 over NaN and beta 2 */
        for (int tc = 0; tc < 2; tc++) {
            addmm_case(dt, 24, 200, 1030, false, true, tc, 0.5, 2.0, false);
            addmm_case(dt, 24, 200, 1030, false, true, tc, -1.5, 0.0, true);
            addmm_case(dt, 5, 40, 1100, false, true, tc, 0.75, 2.0, false);
            addmm_case(dt, 5, 40, 1100, false, true, tc, 1.0, 0.0, true);
        }
    }
}

static void test_addmm_rejects_bad_arguments(void **state)
{
    (void)state;
    nb_tensor *c = nb_tensor_zeros(NB_F32, 2, (int64_t[]){3, 4});
    nb_tensor *a = nb_tensor_zeros(NB_F32, 2, (int64_t[]){3, 5});
    nb_tensor *b = nb_tensor_zeros(NB_F32, 2, (int64_t[]){5, 4});
    nb_tensor *b64 = nb_tensor_zeros(NB_F64, 2, (int64_t[]){5, 4});
    nb_tensor *bad = nb_tensor_zeros(NB_F32, 2, (int64_t[]){4, 4});
    nb_tensor *row = nb_tensor_zeros(NB_F32, 2, (int64_t[]){1, 4});
    nb_tensor *cc = nb_tensor_zeros(NB_F32, 2, (int64_t[]){5, 5});
    assert_int_equal(nb_tensor_addmm(NULL, 1, a, b, 0), NB_ERR_VALUE);
    assert_int_equal(nb_tensor_addmm(c, 1, a, NULL, 0), NB_ERR_VALUE);
    assert_int_equal(nb_tensor_addmm(c, 1, a, b64, 0), NB_ERR_DTYPE);
    nb_clear_error();
    assert_int_equal(nb_tensor_addmm(c, 1, a, bad, 0), NB_ERR_SHAPE);
    assert_non_null(strstr(nb_last_error(), "a is [3, 5], b is [4, 4]"));
    assert_int_equal(nb_tensor_addmm(c, NAN, a, b, 0), NB_ERR_VALUE);
    assert_int_equal(nb_tensor_addmm(c, 1, a, b, INFINITY), NB_ERR_VALUE);
    nb_tensor *e = nb_expand(row, 2, (int64_t[]){3, 4}); /* c as a broadcast view */
    nb_clear_error();
    assert_int_equal(nb_tensor_addmm(e, 1, a, b, 0), NB_ERR_VALUE);
    assert_non_null(strstr(nb_last_error(), "broadcast"));
    nb_tensor *s = nb_slice(cc, 1, 0, 4, 1); /* c [5, 4] and a [5, 5]: views of one storage */
    nb_tensor *a5 = nb_slice(cc, 1, 0, 5, 1);
    nb_clear_error();
    assert_int_equal(nb_tensor_addmm(s, 1, a5, b, 0), NB_ERR_VALUE);
    assert_non_null(strstr(nb_last_error(), "shares storage"));
    nb_clear_error();
    nb_tensor *all[] = {a5, s, e, cc, row, bad, b64, b, a, c};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

/* nb_linear_ex against its composition nb_add(r, nb_linear(act(x), w, b)), every activation,
 * f32 and f64. */
static nb_tensor *act_of(nb_tensor *x, nb_linear_act act)
{
    switch (act) {
    case NB_LINEAR_ACT_RELU:
        return nb_relu(x);
    case NB_LINEAR_ACT_GELU:
        return nb_gelu(x, NB_GELU_EXACT);
    case NB_LINEAR_ACT_GELU_TANH:
        return nb_gelu(x, NB_GELU_TANH);
    default:
        return nb_contiguous(x);
    }
}

static void test_linear_ex_matches_composition(void **state)
{
    (void)state;
    for (int d = 0; d < 2; d++)
        for (int act = NB_LINEAR_ACT_NONE; act <= NB_LINEAR_ACT_GELU_TANH; act++)
            for (int with_b = 0; with_b < 2; with_b++) {
                const nb_dtype dt = d ? NB_F64 : NB_F32;
                nb_tensor *x = nbt_uniform(dt, 2, (int64_t[]){7, 33}, 11, -3, 3);
                nb_tensor *w = rand_t(dt, 12, 2, (int64_t[]){6, 33});
                nb_tensor *b = with_b ? rand_t(dt, 13, 1, (int64_t[]){6}) : NULL;
                nb_tensor *r = rand_t(dt, 14, 2, (int64_t[]){7, 6});
                nb_tensor *y = nb_linear_ex(x, w, b, r, (nb_linear_act)act);
                nb_tensor *a = act_of(x, (nb_linear_act)act), *l = nb_linear(a, w, b);
                nb_tensor *ref = nb_add(r, l);
                assert_non_null(y);
                assert_non_null(ref);
                double want[42];
                for (int i = 0; i < 42; i++)
                    want[i] = nb_tensor_get(ref, i);
                nbt_assert_values(y, want, d ? 1e-12 : 1e-5);
                nb_tensor *all[] = {ref, l, a, y, r, b, w, x};
                for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
                    nb_tensor_free(all[i]);
            }
}

/* Peak step memory of one forward and backward of a [256, 512] -> 128 layer under GELU: with
 * nb_linear_ex the activation (512 KB) and its gradient are never stored. */
static size_t gelu_layer_peak(bool fused)
{
    nb_tensor *x = nbt_uniform(NB_F32, 2, (int64_t[]){256, 512}, 21, -2, 2);
    nb_tensor *w = rand_t(NB_F32, 22, 2, (int64_t[]){128, 512});
    nb_tensor_set_requires_grad(x, true);
    nb_tensor_set_requires_grad(w, true);
    nb_step *step = nb_step_new();
    assert_int_equal(nb_step_begin(step), NB_OK);
    nb_tensor *y = fused ? nb_linear_ex(x, w, NULL, NULL, NB_LINEAR_ACT_GELU_TANH)
                         : nb_linear(nb_gelu(x, NB_GELU_TANH), w, NULL);
    assert_int_equal(nb_backward(nb_sum(nb_sum(y, 0, false), 0, false)), NB_OK);
    const size_t bytes = nb_step_arena_bytes(step);
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(w);
    nb_tensor_free(x);
    return bytes;
}

static void test_linear_ex_stores_no_activation(void **state)
{
    (void)state;
    const size_t fused = gelu_layer_peak(true), composed = gelu_layer_peak(false);
    assert_true(fused + 2 * 256 * 512 * sizeof(float) <= composed);
}

static void test_linear_ex_rejects_bad_arguments(void **state)
{
    (void)state;
    nb_tensor *x = nb_tensor_zeros(NB_F32, 2, (int64_t[]){3, 4});
    nb_tensor *w = nb_tensor_zeros(NB_F32, 2, (int64_t[]){5, 4});
    nb_tensor *r = nb_tensor_zeros(NB_F32, 2, (int64_t[]){3, 4});
    nb_clear_error();
    assert_null(nb_linear_ex(x, w, NULL, NULL, (nb_linear_act)7));
    assert_int_equal(nb_last_status(), NB_ERR_VALUE);
    assert_non_null(strstr(nb_last_error(), "act"));
    nb_clear_error();
    assert_null(nb_linear_ex(x, w, NULL, r, NB_LINEAR_ACT_GELU));
    assert_int_equal(nb_last_status(), NB_ERR_SHAPE);
    assert_non_null(
        strstr(nb_last_error(), "nb_linear_ex: the residual must be [n, n_out] = [3, 5]"));
    nb_clear_error();
    nb_tensor *all[] = {r, w, x};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

static void test_blas_info_names_the_kernels(void **state)
{
    (void)state;
    const char *info = nb_blas_info();
    assert_non_null(strstr(info, "BLIS "));
    assert_non_null(strstr(info, "sub-configuration "));
#if defined(__x86_64__)
    /* the sub-configuration ops/gemm.c picks for AMD's families 19h and 1Ah+ */
    unsigned a, b, c, d;
    __builtin_cpu_init();
    const bool amd = __builtin_cpu_is("amd") && __get_cpuid(1, &a, &b, &c, &d);
    const unsigned base = amd ? (a >> 8) & 0xf : 0;
    const unsigned family = base == 0xf ? base + ((a >> 20) & 0xff) : base;
    const char *want = NULL;
    if (family == 0x19 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        want = "sub-configuration zen3 (chosen by nabla";
    else if (family >= 0x1a && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl"))
        want = "sub-configuration skx (chosen by nabla";
    if (want && !getenv("BLIS_ARCH_TYPE") && !getenv("NB_BLIS_ARCH"))
        assert_non_null(strstr(info, want));
    const char *mode = getenv("NB_BLIS_ARCH");
    if (mode && !getenv("BLIS_ARCH_TYPE") &&
        (!strcmp(mode, "haswell") || !strcmp(mode, "skx") || !strcmp(mode, "zen3"))) {
        char named[64];
        snprintf(named, sizeof named, "sub-configuration %s (NB_BLIS_ARCH", mode);
        assert_non_null(strstr(info, named));
    }
    /* the override does not leak into child processes */
    if (want)
        assert_true(getenv("BLIS_ARCH_TYPE") == NULL || !strstr(info, "chosen by nabla"));
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matmul_2d_matches_naive_loop),
        cmocka_unit_test(test_matmul_small_products_cross_every_block),
        cmocka_unit_test(test_gemm_every_storage_combination),
        cmocka_unit_test(test_matmul_batched_and_broadcast_batches),
        cmocka_unit_test(test_matmul_strided_operands),
        cmocka_unit_test(test_matmul_x_times_w_transposed_on_blis_driver),
        cmocka_unit_test(test_matmul_long_k_x_times_w_transposed_matches_contiguous),
        cmocka_unit_test(test_matmul_expanded_operand),
        cmocka_unit_test(test_matmul_size_one_dims),
        cmocka_unit_test(test_matmul_vector_operands_drop_their_dim),
        cmocka_unit_test(test_matmul_with_empty_dims),
        cmocka_unit_test(test_linear_matches_reference),
        cmocka_unit_test(test_matmul_is_consistent_across_thread_counts),
        cmocka_unit_test(test_matmul_rejects_mismatched_inner_dim),
        cmocka_unit_test(test_matmul_rejects_batches_that_do_not_broadcast),
        cmocka_unit_test(test_matmul_rejects_scalars_and_dtype_mix),
        cmocka_unit_test(test_linear_rejects_bad_shapes),
        cmocka_unit_test(test_addmm_in_place_matches_definition),
        cmocka_unit_test(test_addmm_rejects_bad_arguments),
        cmocka_unit_test(test_linear_ex_matches_composition),
        cmocka_unit_test(test_linear_ex_stores_no_activation),
        cmocka_unit_test(test_linear_ex_rejects_bad_arguments),
        cmocka_unit_test(test_blas_info_names_the_kernels),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    return rc | nbt_run_cases("matmul gradient checks", nbt_cases_matmul);
}
