/* tests/autograd/test_tensor.c — autograd/tensor.c: creation, shapes and strides, element
 * access, copies and conversions, views sharing storage (and freeing them in any order),
 * copy_into, axpby, view_new, attached gradients, allclose, shape strings, and the error paths. */
#include "support/nbt.h"

#include <stdint.h>

#include <math.h>
#include <string.h>

static void test_new_tensors_are_zero_with_row_major_strides(void **state)
{
    (void)state;
    const int64_t s[3] = {2, 3, 5};
    for (int d = 0; d < 3; d++) {
        nb_dtype dt = (nb_dtype)d;
        nb_tensor *t = nb_tensor_new(dt, 3, s), *z = nb_tensor_zeros(dt, 3, s);
        assert_non_null(t);
        assert_int_equal(nb_tensor_dtype(t), dt);
        assert_int_equal(nb_tensor_ndim(t), 3);
        assert_int_equal(nb_tensor_numel(t), 30);
        assert_int_equal(nb_tensor_dim(t, 0), 2);
        assert_int_equal(nb_tensor_dim(t, -1), 5);
        assert_int_equal(nb_tensor_dim(t, 3), -1);
        assert_int_equal(nb_tensor_dim(t, -4), -1);
        assert_int_equal(nb_tensor_strides(t)[0], 15);
        assert_int_equal(nb_tensor_strides(t)[1], 5);
        assert_int_equal(nb_tensor_strides(t)[2], 1);
        assert_true(nb_tensor_is_contiguous(t));
        for (int i = 0; i < 30; i++) {
            assert_float_equal(nb_tensor_get(t, i), 0, 0);
            assert_float_equal(nb_tensor_get(z, i), 0, 0);
        }
        assert_false(nb_tensor_requires_grad(t));
        assert_null(nb_tensor_grad(t));
        nb_tensor_free(z);
        nb_tensor_free(t);
    }
}

static void test_scalar_and_empty_tensors(void **state)
{
    (void)state;
    nb_tensor *s = nb_tensor_full(NB_F64, 0, NULL, 2.5);
    assert_int_equal(nb_tensor_ndim(s), 0);
    assert_int_equal(nb_tensor_numel(s), 1);
    assert_float_equal(nb_tensor_item(s), 2.5, 0);
    const int64_t e[2] = {4, 0};
    nb_tensor *empty = nb_tensor_new(NB_F32, 2, e);
    assert_non_null(empty);
    assert_int_equal(nb_tensor_numel(empty), 0);
    assert_true(nb_tensor_is_contiguous(empty));
    assert_true(isnan(nb_tensor_item(empty)));
    nb_tensor_free(empty);
    nb_tensor_free(s);
}

static void test_full_from_data_and_accessors(void **state)
{
    (void)state;
    const int64_t s[2] = {2, 3};
    double src[6] = {1, 2, 3, 4, 5, 6};
    nb_tensor *t = nb_tensor_from_data(NB_F64, 2, s, src);
    src[0] = 100; /* the tensor holds a copy */
    assert_float_equal(nb_tensor_get(t, 0), 1, 0);
    assert_non_null(nb_tensor_data_f64(t));
    assert_null(nb_tensor_data_f32(t));
    assert_null(nb_tensor_data_i64(t));
    assert_ptr_equal(nb_tensor_data(t), nb_tensor_data_f64(t));
    assert_int_equal(nb_tensor_set(t, 5, -1), NB_OK);
    assert_float_equal(nb_tensor_data_f64(t)[5], -1, 0);
    assert_true(isnan(nb_tensor_get(t, 6)));
    assert_true(isnan(nb_tensor_get(t, -1)));
    assert_true(isnan(nb_tensor_item(t)));
    assert_int_equal(nb_tensor_set(t, 6, 0), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_tensor_set: index 6 out of range for [2, 3]");
    assert_int_equal(nb_tensor_fill(t, 7), NB_OK);
    for (int i = 0; i < 6; i++)
        assert_float_equal(nb_tensor_get(t, i), 7, 0);
    nb_tensor *f = nb_tensor_full(NB_F32, 2, s, 0.1);
    assert_float_equal(nb_tensor_data_f32(f)[3], 0.1f, 0);
    const int64_t ids[3] = {-4, 0, 1LL << 40};
    const int64_t s3[1] = {3};
    nb_tensor *i = nb_tensor_from_data(NB_I64, 1, s3, ids);
    assert_int_equal(nb_tensor_data_i64(i)[2], 1LL << 40);
    assert_float_equal(nb_tensor_get(i, 0), -4, 0);
    nb_tensor_free(i);
    nb_tensor_free(f);
    nb_tensor_free(t);
    /* NULL-safe accessors. */
    assert_int_equal(nb_tensor_ndim(NULL), -1);
    assert_int_equal(nb_tensor_numel(NULL), 0);
    assert_int_equal(nb_tensor_dim(NULL, 0), -1);
    assert_null(nb_tensor_shape(NULL));
    assert_null(nb_tensor_data(NULL));
    assert_false(nb_tensor_is_contiguous(NULL));
    assert_true(isnan(nb_tensor_get(NULL, 0)));
    nb_tensor_free(NULL);
}

static void test_creation_rejects_bad_arguments(void **state)
{
    (void)state;
    const int64_t neg[2] = {2, -1}, huge[3] = {1LL << 40, 1LL << 40, 4}, nine[9] = {1};
    assert_null(nb_tensor_new(NB_F32, 9, nine));
    nbt_assert_error(NB_ERR_SHAPE, "nb_tensor_new: ndim 9 out of range [0, 8]");
    assert_null(nb_tensor_new(NB_F32, -1, nine));
    nbt_assert_error(NB_ERR_SHAPE, "nb_tensor_new: ndim -1 out of range");
    assert_null(nb_tensor_new(NB_F32, 2, neg));
    nbt_assert_error(NB_ERR_SHAPE, "nb_tensor_new: negative dimension in shape [2, -1]");
    assert_null(nb_tensor_new(NB_F64, 3, huge));
    nbt_assert_error(NB_ERR_SHAPE, "nb_tensor_new: shape [1099511627776, 1099511627776, 4] has "
                                   "too many elements");
    assert_null(nb_tensor_new(NB_F32, 2, NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_tensor_new: shape is NULL");
    assert_null(nb_tensor_new((nb_dtype)9, 1, nine));
    nbt_assert_error(NB_ERR_DTYPE, "nb_tensor_new: unknown dtype 9");
    assert_null(nb_tensor_from_data(NB_F32, 1, nine, NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_tensor_from_data: data is NULL");
}

static void test_copy_and_dtype_conversion(void **state)
{
    (void)state;
    const int64_t s[2] = {2, 3};
    const double v[6] = {1.5, -2.25, 3, 4.75, -5, 6};
    nb_tensor *t = nb_tensor_from_data(NB_F64, 2, s, v);
    nb_tensor *tt = nb_transpose(t, 0, 1);
    nb_tensor *c = nb_tensor_copy(tt); /* contiguous copy of a strided view */
    assert_true(nb_tensor_is_contiguous(c));
    assert_int_equal(nb_tensor_dim(c, 0), 3);
    assert_ptr_not_equal(nb_tensor_data(c), nb_tensor_data(t));
    const double rc[6] = {1.5, 4.75, -2.25, -5, 3, 6};
    nbt_assert_values(c, rc, 0);
    nb_tensor *f = nb_tensor_to_dtype(t, NB_F32), *i = nb_tensor_to_dtype(t, NB_I64);
    nb_tensor *back = nb_tensor_to_dtype(i, NB_F64);
    assert_int_equal(nb_tensor_dtype(f), NB_F32);
    nbt_assert_values(f, v, 0);
    const double ri[6] = {1, -2, 3, 4, -5, 6}; /* truncation towards zero */
    nbt_assert_values(i, ri, 0);
    nbt_assert_values(back, ri, 0);
    /* A copy is detached: no gradient, does not require grad. */
    nb_tensor_set_requires_grad(t, true);
    nb_tensor *d = nb_tensor_copy(t);
    assert_false(nb_tensor_requires_grad(d));
    assert_null(nb_tensor_copy(NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_tensor_to_dtype: tensor is NULL");
    nb_tensor *all[] = {d, back, i, f, c, tt, t};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        nb_tensor_free(all[k]);
}

/* Views share storage; freeing base and views in either order frees the storage once. */
static void test_views_share_storage_and_free_in_any_order(void **state)
{
    (void)state;
    const int64_t s[2] = {3, 4};
    for (int order = 0; order < 2; order++) {
        nb_tensor *x = nb_tensor_zeros(NB_F32, 2, s);
        nb_tensor *t = nb_transpose(x, 0, 1), *sl = nb_slice(t, 1, 1, 3, 1);
        assert_int_equal(nb_tensor_set(sl, 0, 5), NB_OK); /* t[0, 1] = x[1, 0] */
        assert_float_equal(nb_tensor_get(x, 4), 5, 0);
        nb_tensor_fill(t, 1);
        for (int i = 0; i < 12; i++)
            assert_float_equal(nb_tensor_get(x, i), 1, 0);
        if (order == 0) {
            nb_tensor_free(x);
            nb_tensor_free(t);
            assert_float_equal(nb_tensor_get(sl, 1), 1, 0); /* still alive */
            nb_tensor_free(sl);
        } else {
            nb_tensor_free(sl);
            nb_tensor_free(t);
            nb_tensor_free(x);
        }
    }
}

static void test_view_new_shares_a_contiguous_base(void **state)
{
    (void)state;
    const int64_t s[1] = {10}, vs[2] = {2, 3}, too_big[2] = {3, 3};
    nb_tensor *base = nb_tensor_zeros(NB_F64, 1, s);
    nb_tensor *v = nb_tensor_view_new(base, 4, 2, vs);
    assert_non_null(v);
    assert_true(nb_tensor_is_contiguous(v));
    assert_ptr_equal(nb_tensor_data_f64(v), nb_tensor_data_f64(base) + 4);
    nb_tensor_set(v, 5, 3); /* base[9] */
    assert_float_equal(nb_tensor_get(base, 9), 3, 0);
    /* A view of a view (offsets add up). */
    const int64_t one[1] = {2};
    nb_tensor *vv = nb_tensor_view_new(v, 3, 1, one);
    assert_ptr_equal(nb_tensor_data_f64(vv), nb_tensor_data_f64(base) + 7);
    assert_null(nb_tensor_view_new(base, 2, 2, too_big));
    nbt_assert_error(NB_ERR_SHAPE, "nb_tensor_view_new: view of 9 elements at offset 2 does not "
                                   "fit in [10]");
    assert_null(nb_tensor_view_new(base, INT64_MAX, 2, vs));
    nbt_assert_error(NB_ERR_SHAPE, "at offset 9223372036854775807 does not fit in [10]");
    assert_null(nb_tensor_view_new(base, -1, 2, vs));
    nbt_assert_error(NB_ERR_SHAPE, "at offset -1 does not fit");
    const int64_t m[2] = {2, 5};
    nb_tensor *mat = nb_tensor_view_new(base, 0, 2, m), *mt = nb_transpose(mat, 0, 1);
    assert_null(nb_tensor_view_new(mt, 0, 1, one));
    nbt_assert_error(NB_ERR_SHAPE, "nb_tensor_view_new: view of 2 elements at offset 0");
    assert_null(nb_tensor_view_new(NULL, 0, 1, one));
    nbt_assert_error(NB_ERR_VALUE, "nb_tensor_view_new: base is NULL");
    /* The base of a view must outlive the step: arena tensors are refused. */
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    assert_null(nb_tensor_view_new(nb_exp(base), 0, 1, one));
    nbt_assert_error(NB_ERR_STATE, "nb_tensor_view_new: base must be caller-owned");
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(base); /* views keep the storage */
    assert_float_equal(nb_tensor_get(vv, 1), 0, 0);
    assert_float_equal(nb_tensor_get(v, 5), 3, 0);
    nb_tensor *all[] = {mt, mat, vv, v};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        nb_tensor_free(all[k]);
}

static void test_copy_into_handles_strides_and_checks_sizes(void **state)
{
    (void)state;
    const int64_t s[2] = {2, 3}, s6[1] = {6}, s5[1] = {5};
    const double v[6] = {1, 2, 3, 4, 5, 6};
    nb_tensor *src = nb_tensor_from_data(NB_F64, 2, s, v);
    nb_tensor *flat = nb_tensor_zeros(NB_F64, 1, s6);
    assert_int_equal(nb_tensor_copy_into(flat, src), NB_OK); /* same numel, other shape */
    nbt_assert_values(flat, v, 0);
    /* Strided source. */
    nb_tensor *st = nb_transpose(src, 0, 1);
    assert_int_equal(nb_tensor_copy_into(flat, st), NB_OK);
    const double rt[6] = {1, 4, 2, 5, 3, 6};
    nbt_assert_values(flat, rt, 0);
    /* Strided destination: writes land through the view. */
    const int64_t s32[2] = {3, 2};
    nb_tensor *dst = nb_tensor_zeros(NB_F64, 2, s32), *dt = nb_transpose(dst, 0, 1);
    assert_int_equal(nb_tensor_copy_into(dt, src), NB_OK);
    nbt_assert_values(dst, rt, 0);
    nb_tensor *five = nb_tensor_zeros(NB_F64, 1, s5), *f32 = nb_tensor_zeros(NB_F32, 1, s6);
    assert_int_equal(nb_tensor_copy_into(five, src), NB_ERR_SHAPE);
    nbt_assert_error(NB_ERR_SHAPE, "nb_tensor_copy_into: dst is f64 [5], src is f64 [2, 3]");
    assert_int_equal(nb_tensor_copy_into(f32, src), NB_ERR_SHAPE);
    nbt_assert_error(NB_ERR_SHAPE, "nb_tensor_copy_into: dst is f32 [6], src is f64 [2, 3]");
    assert_int_equal(nb_tensor_copy_into(NULL, src), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_tensor_copy_into: dst is NULL");
    nb_tensor *all[] = {f32, five, dt, dst, st, flat, src};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        nb_tensor_free(all[k]);
}

/* A module keeps all gradients in one buffer: attach_grad gives each parameter a view of it,
 * and backward accumulates straight into the buffer. */
static void test_axpby_in_place(void **state)
{
    (void)state;
    const int64_t s[2] = {2, 3}, s32[2] = {3, 2};
    const double xv[6] = {1, 2, 3, 4, 5, 6}, yv[6] = {10, 20, 30, 40, 50, 60};
    for (int k = 0; k < 2; k++) {
        const nb_dtype dt = k ? NB_F32 : NB_F64;
        nb_tensor *x = nb_tensor_zeros(dt, 2, s), *y = nb_tensor_zeros(dt, 2, s);
        for (int64_t i = 0; i < 6; i++)
            nb_tensor_set(x, i, xv[i]), nb_tensor_set(y, i, yv[i]);
        assert_int_equal(nb_tensor_axpby(y, 0.5, x, 2), NB_OK); /* y = 0.5 x + 2 y */
        const double r1[6] = {20.5, 41, 61.5, 82, 102.5, 123};
        nbt_assert_values(y, r1, 0);
        assert_int_equal(nb_tensor_axpby(y, 1, y, 1), NB_OK); /* x may be y */
        const double r2[6] = {41, 82, 123, 164, 205, 246};
        nbt_assert_values(y, r2, 0);
        nb_tensor_set(y, 1, NAN); /* b = 0 does not read y */
        assert_int_equal(nb_tensor_axpby(y, -1, x, 0), NB_OK);
        const double r3[6] = {-1, -2, -3, -4, -5, -6};
        nbt_assert_values(y, r3, 0);
        nb_tensor_free(x), nb_tensor_free(y);
    }
    /* strided y: the transposed view of a [3, 2] tensor */
    nb_tensor *x = nb_tensor_from_data(NB_F64, 2, s, xv);
    nb_tensor *base = nb_tensor_zeros(NB_F64, 2, s32), *yt = nb_transpose(base, 0, 1);
    nb_tensor_fill(base, 1.0);
    assert_int_equal(nb_tensor_axpby(yt, 2, x, 3), NB_OK);
    const double rb[6] = {5, 11, 7, 13, 9, 15}; /* base[i][j] = 2 x[j][i] + 3 */
    nbt_assert_values(base, rb, 0);
    nb_tensor *f32 = nb_tensor_zeros(NB_F32, 2, s),
              *flat = nb_tensor_zeros(NB_F64, 1, (const int64_t[]){6});
    nb_tensor *ids = nb_tensor_zeros(NB_I64, 2, s);
    assert_int_equal(nb_tensor_axpby(f32, 1, x, 1), NB_ERR_DTYPE);
    nbt_assert_error(NB_ERR_DTYPE, "nb_tensor_axpby: y and x must both be f32 or both f64");
    assert_int_equal(nb_tensor_axpby(ids, 1, ids, 1), NB_ERR_DTYPE);
    nbt_assert_error(NB_ERR_DTYPE, "got i64 and i64");
    assert_int_equal(nb_tensor_axpby(flat, 1, x, 1), NB_ERR_SHAPE);
    nbt_assert_error(NB_ERR_SHAPE, "nb_tensor_axpby: y is [6], x is [2, 3] (need one shape)");
    assert_int_equal(nb_tensor_axpby(x, NAN, x, 1), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "a and b must be finite");
    assert_int_equal(nb_tensor_axpby(NULL, 1, x, 1), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_tensor_axpby: y is NULL");
    nb_tensor *all[] = {ids, flat, f32, yt, base, x};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        nb_tensor_free(all[k]);
}

static void test_attach_grad_makes_backward_write_into_a_shared_buffer(void **state)
{
    (void)state;
    const int64_t total[1] = {5}, sa[1] = {2}, sb[1] = {3};
    nb_tensor *buf = nb_tensor_zeros(NB_F64, 1, total);
    nb_tensor *a = nb_tensor_full(NB_F64, 1, sa, 2), *b = nb_tensor_full(NB_F64, 1, sb, 3);
    nb_tensor_set_requires_grad(a, true);
    nb_tensor_set_requires_grad(b, true);
    assert_int_equal(nb_tensor_attach_grad(a, nb_tensor_view_new(buf, 0, 1, sa)), NB_OK);
    assert_int_equal(nb_tensor_attach_grad(b, nb_tensor_view_new(buf, 2, 1, sb)), NB_OK);
    /* Attaching the gradient a already has is harmless. */
    assert_int_equal(nb_tensor_attach_grad(a, nb_tensor_grad(a)), NB_OK);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    /* L = 3 sum(a) + sum(b^2): da = 3, db = 2b = 6 */
    nb_tensor *loss = nb_add(nb_mul_scalar(nb_sum_all(a), 3), nb_sum_all(nb_square(b)));
    assert_int_equal(nb_backward(loss), NB_OK);
    nb_step_end(step);
    const double g[5] = {3, 3, 6, 6, 6};
    nbt_assert_values(buf, g, 0);
    nb_tensor_zero_grad(b);
    const double g2[5] = {3, 3, 0, 0, 0};
    nbt_assert_values(buf, g2, 0);
    /* Errors: wrong shape, wrong dtype, strided grad. */
    nb_tensor *wrong = nb_tensor_zeros(NB_F64, 1, sb), *wrong_dt = nb_tensor_zeros(NB_F32, 1, sa);
    assert_int_equal(nb_tensor_attach_grad(a, wrong), NB_ERR_SHAPE);
    nbt_assert_error(NB_ERR_SHAPE, "nb_tensor_attach_grad: grad must be a caller-owned contiguous "
                                   "f64 [2] tensor, got f64 [3]");
    assert_int_equal(nb_tensor_attach_grad(a, wrong_dt), NB_ERR_SHAPE);
    nbt_assert_error(NB_ERR_SHAPE, "got f32 [2]");
    assert_int_equal(nb_tensor_attach_grad(a, NULL), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_tensor_attach_grad: grad is NULL");
    nb_tensor *all[] = {wrong_dt, wrong, a, b, buf}; /* a and b free their grad views */
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        nb_tensor_free(all[k]);
    nb_step_free(step);
}

static void test_allclose(void **state)
{
    (void)state;
    const int64_t s[1] = {3}, s2[2] = {1, 3};
    const double va[3] = {1, 2, 3}, vb[3] = {1, 2.001, 3}, vn[3] = {1, NAN, 3};
    nb_tensor *a = nb_tensor_from_data(NB_F64, 1, s, va),
              *b = nb_tensor_from_data(NB_F64, 1, s, vb);
    nb_tensor *n = nb_tensor_from_data(NB_F64, 1, s, vn),
              *a2 = nb_tensor_from_data(NB_F64, 2, s2, va);
    nb_tensor *af = nb_tensor_to_dtype(a, NB_F32);
    assert_true(nb_tensor_allclose(a, a, 0, 0));
    assert_true(nb_tensor_allclose(a, af, 0, 0)); /* dtypes may differ */
    assert_false(nb_tensor_allclose(a, b, 1e-4, 0));
    assert_true(nb_tensor_allclose(a, b, 1e-3, 0));
    assert_true(nb_tensor_allclose(a, b, 0, 1.1e-3));
    assert_false(nb_tensor_allclose(a, n, 1, 1));
    assert_false(nb_tensor_allclose(n, n, 1, 1));
    assert_false(nb_tensor_allclose(a, a2, 1, 1)); /* shapes differ */
    assert_false(nb_tensor_allclose(a, NULL, 1, 1));
    nb_tensor *all[] = {af, a2, n, b, a};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        nb_tensor_free(all[k]);
}

static void test_shape_str(void **state)
{
    (void)state;
    const int64_t s[3] = {2, 3, 5};
    nb_tensor *t = nb_tensor_new(NB_F32, 3, s), *sc = nb_tensor_new(NB_F32, 0, NULL);
    char buf[64];
    assert_string_equal(nb_tensor_shape_str(t, buf, sizeof buf), "[2, 3, 5]");
    assert_string_equal(nb_tensor_shape_str(sc, buf, sizeof buf), "[]");
    assert_string_equal(nb_tensor_shape_str(NULL, buf, sizeof buf), "(null)");
    char small[5];
    memset(small, 'x', sizeof small);
    nb_tensor_shape_str(t, small, sizeof small);
    assert_int_equal(small[4], '\0'); /* truncated, terminated */
    assert_int_equal(strncmp(small, "[2, ", 4), 0);
    char one[1] = {'x'};
    nb_tensor_shape_str(t, one, 1);
    assert_int_equal(one[0], '\0');
    assert_null(nb_tensor_shape_str(t, NULL, 10));
    nb_tensor_free(sc);
    nb_tensor_free(t);
}

/* An arena tensor handed to nb_tensor_free is left alone (the step owns it). */
static void test_free_ignores_arena_tensors(void **state)
{
    (void)state;
    const int64_t s[1] = {4};
    nb_tensor *x = nb_tensor_full(NB_F32, 1, s, 2);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y = nb_exp(x);
    nb_tensor_free(y);
    assert_float_equal(nb_tensor_get(y, 0), expf(2), 1e-5);
    nb_tensor *z = nb_add(y, x);
    assert_non_null(z);
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(x);
}

/* Tensor data starts on a 64-byte boundary on the heap as in a step's arena (BLIS's kernels ran
 * at half speed on 16-byte aligned rows), for every dtype and size, copies included. */
static void test_data_is_64_byte_aligned(void **state)
{
    (void)state;
    const int64_t sizes[] = {1, 3, 17, 1000, 4099};
    const nb_dtype dts[] = {NB_F32, NB_F64, NB_I64};
    nb_step *s = nb_step_new();
    assert_non_null(s);
    for (int in_step = 0; in_step < 2; in_step++) {
        if (in_step)
            assert_int_equal(nb_step_begin(s), NB_OK);
        for (size_t d = 0; d < sizeof dts / sizeof dts[0]; d++)
            for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
                nb_tensor *t = nb_tensor_zeros(dts[d], 1, &sizes[k]);
                nb_tensor *c = nb_tensor_copy(t);
                assert_non_null(t);
                assert_non_null(c);
                assert_int_equal((uintptr_t)nb_tensor_data(t) % 64, 0);
                assert_int_equal((uintptr_t)nb_tensor_data(c) % 64, 0);
                nb_tensor_free(t), nb_tensor_free(c); /* a no-op for arena tensors */
            }
        if (in_step)
            nb_step_end(s);
    }
    nb_step_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_tensors_are_zero_with_row_major_strides),
        cmocka_unit_test(test_scalar_and_empty_tensors),
        cmocka_unit_test(test_full_from_data_and_accessors),
        cmocka_unit_test(test_creation_rejects_bad_arguments),
        cmocka_unit_test(test_copy_and_dtype_conversion),
        cmocka_unit_test(test_views_share_storage_and_free_in_any_order),
        cmocka_unit_test(test_view_new_shares_a_contiguous_base),
        cmocka_unit_test(test_copy_into_handles_strides_and_checks_sizes),
        cmocka_unit_test(test_axpby_in_place),
        cmocka_unit_test(test_attach_grad_makes_backward_write_into_a_shared_buffer),
        cmocka_unit_test(test_allclose),
        cmocka_unit_test(test_shape_str),
        cmocka_unit_test(test_free_ignores_arena_tensors),
        cmocka_unit_test(test_data_is_64_byte_aligned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
