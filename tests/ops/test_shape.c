/* tests/ops/test_shape.c — forward references and gradient checks for ops/shape.c: views share
 * storage and index correctly (reshape, permute, transpose, slice, expand, split), copies do not
 * (contiguous, concat, stack, reshape of a strided view), and the error paths. */
#include "support/nbt.h"

#include <string.h>

extern const nbt_case nbt_cases_shape[];

/* x [2, 3, 4] with x[i, j, k] = 100 i + 10 j + k, so every element names its own index. */
static nb_tensor *indexed(nb_dtype dt)
{
    const int64_t s[3] = {2, 3, 4};
    nb_tensor *x = nb_tensor_new(dt, 3, s);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++)
                nb_tensor_set(x, (i * 3 + j) * 4 + k, 100 * i + 10 * j + k);
    return x;
}

static double at(int i, int j, int k)
{
    return 100 * i + 10 * j + k;
}

static void test_reshape_is_a_view_sharing_storage(void **state)
{
    (void)state;
    nb_tensor *x = indexed(NB_F32);
    const int64_t s[2] = {6, -1};
    nb_tensor *y = nb_reshape(x, 2, s);
    assert_non_null(y);
    assert_int_equal(nb_tensor_dim(y, 0), 6);
    assert_int_equal(nb_tensor_dim(y, 1), 4);
    assert_ptr_equal(nb_tensor_data(y), nb_tensor_data(x));
    for (int i = 0; i < 24; i++)
        assert_float_equal(nb_tensor_get(y, i), nb_tensor_get(x, i), 0);
    nb_tensor_set(y, 5, -1.0); /* a write through the view is seen by x */
    assert_float_equal(nb_tensor_get(x, 5), -1.0, 0);
    nb_tensor *f = nb_flatten(x);
    assert_int_equal(nb_tensor_dim(f, 0), 2);
    assert_int_equal(nb_tensor_dim(f, 1), 12);
    nb_tensor *u = nb_unsqueeze(x, -1), *q = nb_squeeze(u, 3);
    assert_int_equal(nb_tensor_ndim(u), 4);
    assert_int_equal(nb_tensor_dim(u, 3), 1);
    assert_int_equal(nb_tensor_ndim(q), 3);
    assert_ptr_equal(nb_tensor_data(q), nb_tensor_data(x));
    nb_tensor *all[] = {q, u, f, y, x};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

/* The view keeps the storage alive after the base is freed (reference counted). */
static void test_view_outlives_its_base(void **state)
{
    (void)state;
    nb_tensor *x = indexed(NB_F64);
    nb_tensor *t = nb_transpose(x, 0, 2);
    nb_tensor_free(x);
    assert_float_equal(nb_tensor_get(t, 1), at(1, 0, 0), 0);
    nb_tensor_free(t);
}

static void test_reshape_of_strided_view_copies(void **state)
{
    (void)state;
    nb_tensor *x = indexed(NB_F64);
    nb_tensor *t = nb_transpose(x, 1, 2); /* [2, 4, 3] */
    const int64_t s[1] = {24};
    nb_tensor *y = nb_reshape(t, 1, s);
    assert_non_null(y);
    assert_ptr_not_equal(nb_tensor_data(y), nb_tensor_data(x));
    int n = 0;
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 4; k++)
            for (int j = 0; j < 3; j++)
                assert_float_equal(nb_tensor_get(y, n++), at(i, j, k), 0);
    nb_tensor_free(y);
    nb_tensor_free(t);
    nb_tensor_free(x);
}

static void test_permute_and_transpose_index_correctly(void **state)
{
    (void)state;
    for (int d = 0; d < 2; d++) {
        nb_tensor *x = indexed(d ? NB_F64 : NB_F32);
        nb_tensor *p = nb_permute(x, (const int[]){2, 0, -2}); /* [4, 2, 3] */
        assert_int_equal(nb_tensor_dim(p, 0), 4);
        assert_int_equal(nb_tensor_dim(p, 1), 2);
        assert_int_equal(nb_tensor_dim(p, 2), 3);
        assert_false(nb_tensor_is_contiguous(p));
        assert_ptr_equal(nb_tensor_data(p), nb_tensor_data(x));
        int n = 0;
        for (int k = 0; k < 4; k++)
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 3; j++)
                    assert_float_equal(nb_tensor_get(p, n++), at(i, j, k), 0);
        nb_tensor *t = nb_transpose(x, -1, 0); /* [4, 3, 2] */
        n = 0;
        for (int k = 0; k < 4; k++)
            for (int j = 0; j < 3; j++)
                for (int i = 0; i < 2; i++)
                    assert_float_equal(nb_tensor_get(t, n++), at(i, j, k), 0);
        nb_tensor *c = nb_contiguous(t);
        assert_true(nb_tensor_is_contiguous(c));
        assert_ptr_not_equal(nb_tensor_data(c), nb_tensor_data(x));
        for (int i = 0; i < 24; i++)
            assert_float_equal(nb_tensor_get(c, i), nb_tensor_get(t, i), 0);
        nb_tensor_free(c);
        nb_tensor_free(t);
        nb_tensor_free(p);
        nb_tensor_free(x);
    }
}

/* A transposed view spanning several 32 x 32 tiles, with ragged edges and a batch dim: its
 * gradient (the tiled path of the view backward) lands on the right elements of x, once each,
 * and adds to the gradient x already gets from another use. */
static void test_transpose_gradient_of_large_views_lands_transposed(void **state)
{
    (void)state;
    for (int d = 0; d < 2; d++) {
        const nb_dtype dt = d ? NB_F64 : NB_F32;
        const int64_t B = 2, R = 70, C = 45, xs[3] = {B, R, C}, cs[3] = {B, C, R};
        nb_tensor *x = nb_tensor_zeros(dt, 3, xs), *c = nb_tensor_new(dt, 3, cs);
        for (int64_t i = 0; i < B * R * C; i++)
            nb_tensor_set(c, i, (double)i); /* c[b, j, i] names its own index */
        nb_tensor_set_requires_grad(x, true);
        nb_step *step = nb_step_new();
        assert_int_equal(nb_step_begin(step), NB_OK);
        nb_tensor *loss =
            nb_add(nb_sum_all(nb_mul(nb_transpose(x, 1, 2), c)), nb_sum_all(x)); /* dx = c^T + 1 */
        assert_int_equal(nb_backward(loss), NB_OK);
        nb_tensor *g = nb_tensor_grad(x);
        assert_non_null(g);
        for (int64_t b = 0; b < B; b++)
            for (int64_t i = 0; i < R; i++)
                for (int64_t j = 0; j < C; j++)
                    assert_float_equal(nb_tensor_get(g, (b * R + i) * C + j),
                                       (double)((b * C + j) * R + i) + 1.0, 0);
        nb_step_free(step);
        nb_tensor_free(c);
        nb_tensor_free(x);
    }
}

/* Transposed copies of every size class (edges of 8 x 8 blocks and 32 x 32 tiles), in f32, f64
 * and i64: contiguous copy of a transposed view, stack of transposed views, and the fresh
 * gradient a transpose writes into its input. Every element is its own index, so a misplaced
 * element shows exactly. */
static void test_transposed_copies_of_all_sizes(void **state)
{
    (void)state;
    const int64_t sizes[] = {1, 7, 8, 9, 16, 17, 33, 40, 70};
    const int ns = (int)(sizeof sizes / sizeof sizes[0]);
    const nb_dtype dts[3] = {NB_F32, NB_F64, NB_I64};
    nb_step *step = nb_step_new();
    for (int d = 0; d < 3; d++)
        for (int a = 0; a < ns; a++)
            for (int b = 0; b < ns; b++) {
                const int64_t R = sizes[a], C = sizes[b], xs[2] = {R, C};
                nb_tensor *x = nb_tensor_new(dts[d], 2, xs);
                for (int64_t i = 0; i < R * C; i++)
                    nb_tensor_set(x, i, (double)i);
                assert_int_equal(nb_step_begin(step), NB_OK);
                nb_tensor *t = nb_contiguous(nb_transpose(x, 0, 1)); /* [C, R] */
                nb_tensor *parts[2] = {nb_transpose(x, 0, 1), nb_transpose(x, 0, 1)};
                nb_tensor *st = nb_stack(2, parts, 1); /* [C, 2, R] */
                assert_non_null(t);
                assert_non_null(st);
                for (int64_t j = 0; j < C; j++)
                    for (int64_t i = 0; i < R; i++) {
                        assert_float_equal(nb_tensor_get(t, j * R + i), (double)(i * C + j), 0);
                        for (int k = 0; k < 2; k++)
                            assert_float_equal(nb_tensor_get(st, (j * 2 + k) * R + i),
                                               (double)(i * C + j), 0);
                    }
                if (dts[d] != NB_I64) {
                    /* loss = sum(x^T * w) with w[j, i] = its index: dx[i, j] = w[j, i] */
                    const int64_t ws[2] = {C, R};
                    nb_tensor *w = nb_tensor_new(dts[d], 2, ws);
                    for (int64_t i = 0; i < R * C; i++)
                        nb_tensor_set(w, i, (double)i);
                    nb_tensor_set_requires_grad(x, true);
                    assert_int_equal(nb_backward(nb_sum_all(nb_mul(nb_transpose(x, 0, 1), w))),
                                     NB_OK);
                    nb_tensor *g = nb_tensor_grad(x);
                    assert_non_null(g);
                    for (int64_t i = 0; i < R; i++)
                        for (int64_t j = 0; j < C; j++)
                            assert_float_equal(nb_tensor_get(g, i * C + j), (double)(j * R + i), 0);
                    nb_tensor_free(w);
                }
                nb_step_end(step);
                nb_tensor_free(x);
            }
    nb_step_free(step);
}

/* A 3-d permute whose dense dims are not the last two ([A, M, N] -> [N, M, A]): contiguous
 * copy and fresh gradient, f32 and f64. */
static void test_permuted_copies_move_dense_dims(void **state)
{
    (void)state;
    const int64_t as[2] = {3, 17}, ms[2] = {5, 20}, ns_[2] = {16, 19};
    const int perm[3] = {2, 1, 0};
    nb_step *step = nb_step_new();
    for (int d = 0; d < 2; d++)
        for (int k = 0; k < 8; k++) {
            const nb_dtype dt = d ? NB_F64 : NB_F32;
            const int64_t A = as[k & 1], M = ms[(k >> 1) & 1], N = ns_[k >> 2];
            const int64_t xs[3] = {A, M, N}, ys[3] = {N, M, A};
            nb_tensor *x = nb_tensor_new(dt, 3, xs), *w = nb_tensor_new(dt, 3, ys);
            for (int64_t i = 0; i < A * M * N; i++) {
                nb_tensor_set(x, i, (double)i);
                nb_tensor_set(w, i, (double)i);
            }
            nb_tensor_set_requires_grad(x, true);
            assert_int_equal(nb_step_begin(step), NB_OK);
            nb_tensor *y = nb_contiguous(nb_permute(x, perm));
            assert_non_null(y);
            for (int64_t a = 0; a < A; a++)
                for (int64_t m = 0; m < M; m++)
                    for (int64_t n = 0; n < N; n++)
                        assert_float_equal(nb_tensor_get(y, (n * M + m) * A + a),
                                           (double)((a * M + m) * N + n), 0);
            /* loss = sum(permute(x) * w): dx[a, m, n] = w[n, m, a] */
            assert_int_equal(nb_backward(nb_sum_all(nb_mul(nb_permute(x, perm), w))), NB_OK);
            nb_tensor *g = nb_tensor_grad(x);
            for (int64_t a = 0; a < A; a++)
                for (int64_t m = 0; m < M; m++)
                    for (int64_t n = 0; n < N; n++)
                        assert_float_equal(nb_tensor_get(g, (a * M + m) * N + n),
                                           (double)((n * M + m) * A + a), 0);
            nb_step_end(step);
            nb_tensor_free(x);
            nb_tensor_free(w);
        }
    nb_step_free(step);
}

static void test_slice_with_step_and_negative_bounds(void **state)
{
    (void)state;
    nb_tensor *x = indexed(NB_F64);
    nb_tensor *s = nb_slice(x, 2, 1, 4, 2); /* k = 1, 3 */
    assert_int_equal(nb_tensor_dim(s, 2), 2);
    assert_ptr_equal(nb_tensor_data(x), (double *)nb_tensor_data(s) - 1);
    int n = 0;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 1; k < 4; k += 2)
                assert_float_equal(nb_tensor_get(s, n++), at(i, j, k), 0);
    nb_tensor *neg = nb_slice(x, -2, -2, -1, 1); /* j = 1 */
    assert_int_equal(nb_tensor_dim(neg, 1), 1);
    assert_float_equal(nb_tensor_get(neg, 0), at(0, 1, 0), 0);
    nb_tensor *clip = nb_slice(x, 1, -100, 100, 2); /* clipped: j = 0, 2 */
    assert_int_equal(nb_tensor_dim(clip, 1), 2);
    assert_float_equal(nb_tensor_get(clip, 4), at(0, 2, 0), 0);
    nb_tensor *empty = nb_slice(x, 0, 2, 1, 1); /* stop < start: empty */
    assert_non_null(empty);
    assert_int_equal(nb_tensor_numel(empty), 0);
    /* A slice of a transposed view. */
    nb_tensor *t = nb_transpose(x, 0, 1), *st = nb_slice(t, 0, 0, 3, 2); /* j = 0, 2 */
    assert_float_equal(nb_tensor_get(st, 1 * 8 + 1 * 4 + 1), at(1, 2, 1), 0);
    nb_tensor *all[] = {st, t, empty, clip, neg, s, x};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

static void test_expand_repeats_without_copying(void **state)
{
    (void)state;
    const int64_t s[2] = {3, 1}, e[3] = {2, 3, 4};
    const double v[3] = {1, 2, 3};
    nb_tensor *x = nb_tensor_from_data(NB_F64, 2, s, v);
    nb_tensor *y = nb_expand(x, 3, e);
    assert_non_null(y);
    assert_int_equal(nb_tensor_strides(y)[0], 0);
    assert_int_equal(nb_tensor_strides(y)[2], 0);
    assert_ptr_equal(nb_tensor_data(y), nb_tensor_data(x));
    for (int i = 0; i < 24; i++)
        assert_float_equal(nb_tensor_get(y, i), v[(i / 4) % 3], 0);
    nb_tensor_free(y);
    nb_tensor_free(x);
}

static void test_concat_and_stack_copy_in_order(void **state)
{
    (void)state;
    const int64_t sa[2] = {2, 3}, sb[2] = {2, 1};
    const double va[6] = {1, 2, 3, 4, 5, 6}, vb[2] = {7, 8};
    for (int d = 0; d < 2; d++) {
        nb_dtype dt = d ? NB_F64 : NB_F32;
        nb_tensor *a = nb_tensor_new(dt, 2, sa), *b = nb_tensor_new(dt, 2, sb);
        for (int i = 0; i < 6; i++)
            nb_tensor_set(a, i, va[i]);
        for (int i = 0; i < 2; i++)
            nb_tensor_set(b, i, vb[i]);
        nb_tensor *ab[2] = {a, b}, *aa[2] = {a, a};
        nb_tensor *c1 = nb_concat(2, ab, -1);
        const double r1[8] = {1, 2, 3, 7, 4, 5, 6, 8};
        nbt_assert_values(c1, r1, 0);
        nb_tensor *c0 = nb_concat(2, aa, 0);
        assert_int_equal(nb_tensor_dim(c0, 0), 4);
        const double r0[12] = {1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6};
        nbt_assert_values(c0, r0, 0);
        nb_tensor *s0 = nb_stack(2, aa, 0), *s2 = nb_stack(2, aa, 2);
        assert_int_equal(nb_tensor_ndim(s0), 3);
        assert_int_equal(nb_tensor_dim(s0, 0), 2);
        nbt_assert_values(s0, r0, 0);
        assert_int_equal(nb_tensor_dim(s2, 2), 2);
        const double r2[12] = {1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6};
        nbt_assert_values(s2, r2, 0);
        /* Concat of a transposed view. */
        nb_tensor *at_ = nb_transpose(a, 0, 1), *tt[2] = {at_, at_};
        nb_tensor *ct = nb_concat(2, tt, 1);
        const double rt[12] = {1, 4, 1, 4, 2, 5, 2, 5, 3, 6, 3, 6};
        nbt_assert_values(ct, rt, 0);
        nb_tensor *all[] = {ct, at_, s2, s0, c0, c1, b, a};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            nb_tensor_free(all[i]);
    }
}

static void test_split_gives_views(void **state)
{
    (void)state;
    nb_tensor *x = indexed(NB_F32);
    nb_tensor *p[2];
    assert_int_equal(nb_split(x, -1, 2, p), NB_OK);
    for (int h = 0; h < 2; h++) {
        assert_int_equal(nb_tensor_dim(p[h], 2), 2);
        assert_ptr_equal(nb_tensor_data(p[h]), nb_tensor_data_f32(x) + 2 * h);
        assert_float_equal(nb_tensor_get(p[h], 3), at(0, 1, 2 * h + 1), 0);
        nb_tensor_free(p[h]);
    }
    nb_tensor_free(x);
}

/* Shape ops move i64 data too (class ids sliced into batches, reshaped for a loss). */
static void test_shape_ops_accept_i64(void **state)
{
    (void)state;
    const int64_t s[2] = {2, 3}, ids[6] = {5, 1, 4, 0, 2, 3}, flat[1] = {6};
    nb_tensor *y = nbt_ids(2, s, ids);
    nb_tensor *r = nb_reshape(y, 1, flat), *t = nb_transpose(y, 0, 1);
    nb_tensor *c = nb_contiguous(t), *sl = nb_slice(r, 0, 1, 6, 2);
    nb_tensor *yy[2] = {y, y}, *cat = nb_concat(2, yy, 1), *st = nb_stack(2, yy, 0);
    assert_int_equal(nb_tensor_dtype(r), NB_I64);
    assert_int_equal(nb_tensor_dtype(cat), NB_I64);
    const double rt[6] = {5, 0, 1, 2, 4, 3}, rs[3] = {1, 0, 3};
    const double rc[12] = {5, 1, 4, 5, 1, 4, 0, 2, 3, 0, 2, 3};
    const double rst[12] = {5, 1, 4, 0, 2, 3, 5, 1, 4, 0, 2, 3};
    nbt_assert_values(c, rt, 0);
    nbt_assert_values(sl, rs, 0);
    nbt_assert_values(cat, rc, 0);
    nbt_assert_values(st, rst, 0);
    nb_tensor *f = nb_tensor_new(NB_F32, 2, s), *yf[2] = {y, f};
    assert_null(nb_concat(2, yf, 0));
    nbt_assert_error(NB_ERR_DTYPE, "nb_concat: dtypes differ: input 0 is i64, input 1 is f32");
    nb_tensor *all[] = {f, st, cat, sl, c, t, r, y};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

/* ---- errors ---- */
static void test_reshape_rejects_bad_shapes(void **state)
{
    (void)state;
    const int64_t s[2] = {2, 3}, bad[2] = {4, 2}, two_infer[2] = {-1, -1}, neg[2] = {-2, -3};
    const int64_t no_fit[2] = {4, -1};
    nb_tensor *x = nb_tensor_new(NB_F32, 2, s);
    assert_null(nb_reshape(x, 2, bad));
    nbt_assert_error(NB_ERR_SHAPE, "nb_reshape: cannot reshape [2, 3] (6 elements) to [4, 2]");
    assert_null(nb_reshape(x, 2, two_infer));
    nbt_assert_error(NB_ERR_SHAPE, "nb_reshape: bad target shape [-1, -1]");
    assert_null(nb_reshape(x, 2, neg));
    nbt_assert_error(NB_ERR_SHAPE, "nb_reshape: bad target shape [-2, -3]");
    assert_null(nb_reshape(x, 2, no_fit));
    nbt_assert_error(NB_ERR_SHAPE, "nb_reshape: cannot reshape [2, 3] (6 elements) to [4, -1]");
    const int64_t huge[3] = {1LL << 40, 1LL << 40, 1LL << 40},
                  huge_infer[3] = {1LL << 40, -1, 1LL << 40};
    assert_null(nb_reshape(x, 3, huge));
    nbt_assert_error(NB_ERR_SHAPE, "nb_reshape: cannot reshape [2, 3] (6 elements) to "
                                   "[1099511627776, 1099511627776, 1099511627776]");
    assert_null(nb_reshape(x, 3, huge_infer));
    nbt_assert_error(NB_ERR_SHAPE, "nb_reshape: cannot reshape [2, 3]");
    assert_null(nb_reshape(x, 9, s));
    nbt_assert_error(NB_ERR_SHAPE, "nb_reshape: bad target ndim 9");
    assert_null(nb_squeeze(x, 0));
    nbt_assert_error(NB_ERR_SHAPE, "nb_squeeze: axis 0 of [2, 3] is not 1");
    assert_null(nb_unsqueeze(x, 3));
    nbt_assert_error(NB_ERR_VALUE, "nb_unsqueeze: axis 3 out of range for a 3-dim tensor");
    nb_tensor *sc = nb_tensor_new(NB_F32, 0, NULL);
    assert_null(nb_flatten(sc));
    nbt_assert_error(NB_ERR_SHAPE, "nb_flatten: needs at least 1 dim, got []");
    nb_tensor_free(sc);
    nb_tensor_free(x);
}

static void test_view_ops_reject_bad_axes_and_perms(void **state)
{
    (void)state;
    nb_tensor *x = indexed(NB_F32);
    assert_null(nb_permute(x, (const int[]){0, 0, 1}));
    nbt_assert_error(NB_ERR_VALUE, "nb_permute: perm is not a permutation of 0..2");
    assert_null(nb_permute(x, (const int[]){0, 1, 3}));
    nbt_assert_error(NB_ERR_VALUE, "nb_permute: perm is not a permutation");
    assert_null(nb_transpose(x, 0, 3));
    nbt_assert_error(NB_ERR_VALUE, "nb_transpose: axis 3 out of range for a 3-dim tensor");
    assert_null(nb_slice(x, 1, 0, 2, 0));
    nbt_assert_error(NB_ERR_VALUE, "nb_slice: step must be >= 1, got 0");
    assert_null(nb_slice(x, -4, 0, 1, 1));
    nbt_assert_error(NB_ERR_VALUE, "nb_slice: axis -4 out of range for a 3-dim tensor");
    const int64_t e_bad[3] = {2, 5, 4}, e_short[2] = {3, 4};
    assert_null(nb_expand(x, 3, e_bad));
    nbt_assert_error(NB_ERR_SHAPE, "nb_expand: cannot broadcast [2, 3, 4] to [2, 5, 4]");
    const int64_t e_neg[4] = {-3, 2, 3, 4}, e_huge[4] = {1LL << 40, 1LL << 40, 3, 4};
    assert_null(nb_expand(x, 4, e_neg));
    nbt_assert_error(NB_ERR_SHAPE, "nb_expand: negative dimension in shape [-3, 2, 3, 4]");
    assert_null(nb_expand(x, 4, e_huge));
    nbt_assert_error(NB_ERR_SHAPE, "nb_expand: shape [1099511627776, 1099511627776, 3, 4] has too "
                                   "many elements");
    assert_null(nb_expand(x, 2, e_short));
    nbt_assert_error(NB_ERR_SHAPE, "nb_expand: cannot broadcast [2, 3, 4] to [3, 4]");
    nb_tensor *p[5] = {x, x, x, x, x};
    assert_int_equal(nb_split(x, 1, 2, p), NB_ERR_SHAPE);
    nbt_assert_error(NB_ERR_SHAPE,
                     "nb_split: axis 1 of [2, 3, 4] does not split into 2 equal parts");
    assert_null(p[0]);
    assert_null(p[1]);
    nb_tensor_free(x);
}

static void test_concat_and_stack_reject_mismatches(void **state)
{
    (void)state;
    const int64_t sa[2] = {2, 3}, sb[2] = {3, 2};
    nb_tensor *a = nb_tensor_new(NB_F32, 2, sa), *b = nb_tensor_new(NB_F32, 2, sb);
    nb_tensor *c = nb_tensor_new(NB_F64, 2, sa);
    nb_tensor *ab[2] = {a, b}, *ac[2] = {a, c};
    assert_null(nb_concat(2, ab, 0));
    nbt_assert_error(NB_ERR_SHAPE,
                     "nb_concat: input 1 is [3, 2], input 0 is [2, 3] (only axis 0 may differ)");
    assert_null(nb_concat(2, ac, 0));
    nbt_assert_error(NB_ERR_DTYPE, "nb_concat: dtypes differ: input 0 is f32, input 1 is f64");
    assert_null(nb_concat(2, ab, 2));
    nbt_assert_error(NB_ERR_VALUE, "nb_concat: axis 2 out of range for a 2-dim tensor");
    assert_null(nb_concat(0, ab, 0));
    nbt_assert_error(NB_ERR_VALUE, "nb_concat: needs at least one input, got 0");
    assert_null(nb_stack(2, ab, 0));
    nbt_assert_error(NB_ERR_SHAPE, "nb_stack: input 1 is [3, 2], input 0 is [2, 3]");
    nb_tensor_free(c);
    nb_tensor_free(b);
    nb_tensor_free(a);
}

/* Found by the op fuzzer (tests/fuzz/regressions/ops): each is now a clean error. */
static void test_fuzzer_findings_are_clean_errors(void **state)
{
    (void)state;
    nb_tensor *x = nb_tensor_zeros(NB_F64, 2, (const int64_t[]){2, 0});
    assert_null(nb_expand(x, 0, NULL)); /* was a 1-element view of empty storage */
    nbt_assert_error(NB_ERR_SHAPE, "nb_expand: cannot broadcast [2, 0] to []");
    nb_tensor *e = nb_tensor_zeros(NB_F64, 4, (const int64_t[]){4, 3, 2, 0});
    assert_null(nb_reshape(e, 3, (const int64_t[]){0, INT64_MAX, 6})); /* strides overflowed */
    nbt_assert_error(NB_ERR_SHAPE, "too many elements");
    nb_tensor *z = nb_tensor_zeros(NB_F32, 2, (const int64_t[]){3, 2});
    nb_tensor *s = nb_slice(z, 0, 0, 3, INT64_MAX);
    assert_non_null(s);
    assert_int_equal(nb_tensor_dim(s, 0), 1);
    nb_tensor_free(s), nb_tensor_free(z), nb_tensor_free(e), nb_tensor_free(x);
    /* an empty result with huge other dims: nothing is computed (this ran for hours) */
    nb_tensor *big = nb_tensor_zeros(NB_F64, 3, (const int64_t[]){(int64_t)1 << 42, 3, 0});
    nb_tensor *sm = nb_softmax(big, 1);
    assert_non_null(sm);
    assert_int_equal(nb_tensor_numel(sm), 0);
    nb_tensor_free(sm), nb_tensor_free(big);
    /* and its backward leaves the other inputs' gradients zero, not unwritten */
    nb_tensor *xe = nb_tensor_zeros(NB_F64, 2, (const int64_t[]){0, 3});
    nb_tensor *w = nb_tensor_full(NB_F64, 2, (const int64_t[]){2, 3}, 1.0);
    nb_tensor_set_requires_grad(w, true);
    nb_step *st = nb_step_new();
    assert_int_equal(nb_step_begin(st), NB_OK);
    nb_tensor *y = nb_linear(xe, w, NULL); /* [0, 2] */
    assert_int_equal(nb_backward(nb_add_scalar(nb_sum_all(y), 1.0)), NB_OK);
    for (int i = 0; i < 6; i++)
        assert_float_equal(nb_tensor_get(nb_tensor_grad(w), i), 0.0, 0);
    nb_step_end(st);
    nb_step_free(st);
    nb_tensor_free(w), nb_tensor_free(xe);
}

static void test_select_takes_one_index_along_an_axis(void **state)
{
    (void)state;
    nb_tensor *x = nb_arange(NB_F64, 0, 24, 1); /* no step: caller-owned */
    nb_tensor_set_requires_grad(x, true);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *x3 = nb_reshape(x, NB_SHAPE(2, 3, 4));
    nb_tensor *c = nb_select(x3, 1, 2), *last = nb_select(x3, -1, -1);
    assert_int_equal(nb_tensor_ndim(c), 2);
    assert_int_equal(nb_tensor_dim(c, 0), 2);
    assert_int_equal(nb_tensor_dim(c, 1), 4);
    for (int64_t i = 0; i < 2; i++)
        for (int64_t k = 0; k < 4; k++) /* x3[i, 2, k] */
            assert_float_equal(nb_tensor_get(c, i * 4 + k), (double)(i * 12 + 8 + k), 0);
    assert_float_equal(nb_tensor_get(last, 5), 23.0, 0); /* x3[1, 2, 3] */
    /* the gradient reaches only the selected elements */
    assert_int_equal(nb_backward(nb_sum_all(c)), NB_OK);
    const nb_tensor *g = nb_tensor_grad(x);
    for (int64_t j = 0; j < 24; j++)
        assert_float_equal(nb_tensor_get(g, j), ((j % 12) / 4 == 2 ? 1.0 : 0.0), 0);
    assert_null(nb_select(x3, 1, 3));
    nbt_assert_error(NB_ERR_VALUE, "nb_select: index 3 out of range for axis 1 of [2, 3, 4]");
    assert_null(nb_select(x3, 1, -4));
    nbt_assert_error(NB_ERR_VALUE, "nb_select: index -4 out of range");
    assert_null(nb_select(x3, 3, 0));
    nbt_assert_error(NB_ERR_VALUE, "nb_select: axis 3 out of range");
    assert_null(nb_select(NULL, 0, 0));
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fuzzer_findings_are_clean_errors),
        cmocka_unit_test(test_reshape_is_a_view_sharing_storage),
        cmocka_unit_test(test_view_outlives_its_base),
        cmocka_unit_test(test_reshape_of_strided_view_copies),
        cmocka_unit_test(test_permute_and_transpose_index_correctly),
        cmocka_unit_test(test_transpose_gradient_of_large_views_lands_transposed),
        cmocka_unit_test(test_transposed_copies_of_all_sizes),
        cmocka_unit_test(test_permuted_copies_move_dense_dims),
        cmocka_unit_test(test_slice_with_step_and_negative_bounds),
        cmocka_unit_test(test_expand_repeats_without_copying),
        cmocka_unit_test(test_concat_and_stack_copy_in_order),
        cmocka_unit_test(test_split_gives_views),
        cmocka_unit_test(test_shape_ops_accept_i64),
        cmocka_unit_test(test_reshape_rejects_bad_shapes),
        cmocka_unit_test(test_view_ops_reject_bad_axes_and_perms),
        cmocka_unit_test(test_concat_and_stack_reject_mismatches),
        cmocka_unit_test_teardown(test_select_takes_one_index_along_an_axis, nbt_end_active_step),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    return rc | nbt_run_cases("shape gradient checks", nbt_cases_shape);
}
