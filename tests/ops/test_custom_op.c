/* tests/ops/test_custom_op.c — the public op contract (nabla/op.h) at its edges: definitions are
 * validated, a user's shape rule reports errors in its own words, errors and NULL inputs
 * propagate, anomaly mode names a user's op, memory saved in forward reaches backward, results
 * outside a step are caller-owned, typed kernel slots (forward_f32 ... backward_f64) and
 * nb_elementwise's short path. The gradient checks of user
 * ops are in tests/ops/cases_user_fn.c and examples/custom_op.c. */
#include <math.h>

#include "support/nbt.h"

/* y = x * s where s is an attribute and, to exercise nb_op_save, forward saves s for backward. */
typedef struct {
    double s;
} scale_attr;

static nb_status scale_shape(const nb_op_ctx *c, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const nb_tensor *x = nb_op_input(c, 0);
    const scale_attr *a = nb_op_attr(c);
    if (!isfinite(a->s))
        return nb_set_error(NB_ERR_VALUE, "my_scale: s must be finite, got %g", a->s);
    *dtype = nb_tensor_dtype(x);
    *ndim = nb_tensor_ndim(x);
    memcpy(shape, nb_tensor_shape(x), (size_t)*ndim * sizeof *shape);
    return NB_OK;
}

static nb_status scale_forward(nb_op_ctx *c)
{
    nb_tensor *x = nb_op_input(c, 0), *y = nb_op_output(c);
    double s = ((const scale_attr *)nb_op_attr(c))->s;
    double *saved = nb_op_save(c, sizeof *saved);
    if (saved)
        *saved = s;
    for (int64_t i = 0; i < nb_tensor_numel(x); i++)
        nb_tensor_set(y, i, s * nb_tensor_get(x, i));
    return NB_OK;
}

static void scale_backward(nb_op_ctx *c)
{
    nb_tensor *dx = nb_op_grad_input(c, 0), *dy = nb_op_grad_output(c);
    const double *s = nb_op_saved(c);
    assert_non_null(s);
    for (int64_t i = 0; dx && i < nb_tensor_numel(dx); i++)
        nb_tensor_set(dx, i, nb_tensor_get(dx, i) + *s * nb_tensor_get(dy, i));
}

static const nb_op_def scale_def = {.name = "scale",
                                    .api = "my_scale",
                                    .arity = 1,
                                    .attr_size = sizeof(scale_attr),
                                    .shape = scale_shape,
                                    .forward = scale_forward,
                                    .backward = scale_backward};

static nb_tensor *my_scale(nb_tensor *x, double s)
{
    scale_attr a = {s};
    return nb_op_apply(&scale_def, 1, &x, &a);
}

static void test_user_op_records_and_accumulates_like_a_builtin(void **state)
{
    (void)state;
    nb_tensor *x = nb_tensor_full(NB_F32, 1, (const int64_t[]){3}, 2.0);
    nb_tensor_set_requires_grad(x, true);
    nb_step *s = nb_step_new();
    assert_int_equal(nb_step_begin(s), NB_OK);
    nb_tensor *y = my_scale(nb_mul(x, x), 3.0); /* 3 x^2: dy/dx = 6x = 12 */
    assert_non_null(y);
    assert_true(nb_tensor_requires_grad(y));
    assert_int_equal(nb_step_tape_length(s), 2);
    assert_int_equal(nb_backward(nb_sum_all(y)), NB_OK);
    for (int i = 0; i < 3; i++)
        assert_float_equal(nb_tensor_get(nb_tensor_grad(x), i), 12.0, 0);
    nb_step_end(s);
    nb_step_free(s);
    nb_tensor_free(x);
}

static void test_user_op_outside_a_step_returns_a_caller_owned_tensor(void **state)
{
    (void)state;
    nb_tensor *x = nb_tensor_full(NB_F64, 2, (const int64_t[]){2, 2}, 1.5);
    nb_tensor *y = my_scale(x, -2.0);
    assert_non_null(y);
    assert_true(nb_tensor_is_live(y));
    assert_float_equal(nb_tensor_get(y, 3), -3.0, 0);
    nb_tensor_free(y); /* LeakSanitizer: nothing else held */
    nb_tensor_free(x);
}

static void test_shape_rule_errors_and_null_inputs_propagate(void **state)
{
    (void)state;
    nb_tensor *x = nb_tensor_full(NB_F32, 1, (const int64_t[]){2}, 1.0);
    assert_null(my_scale(x, NAN));
    nbt_assert_error(NB_ERR_VALUE, "my_scale: s must be finite, got nan");
    /* a NULL input keeps the first error */
    nb_tensor *bad = nb_reshape(x, 1, (const int64_t[]){3});
    assert_null(bad);
    assert_null(my_scale(bad, 1.0));
    nbt_assert_error(NB_ERR_SHAPE, "nb_reshape");
    nb_tensor *ids = nb_tensor_zeros(NB_I64, 1, (const int64_t[]){2});
    assert_null(my_scale(ids, 1.0));
    nbt_assert_error(NB_ERR_DTYPE, "my_scale: input 0 must be f32 or f64, got i64");
    nb_tensor *two[2] = {x, x};
    scale_attr a = {1.0};
    assert_null(nb_op_apply(&scale_def, 2, two, &a));
    nbt_assert_error(NB_ERR_VALUE, "my_scale: 2 inputs given, the op takes 1");
    nb_tensor_free(ids);
    nb_tensor_free(x);
}

static nb_status no_shape(const nb_op_ctx *c, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    (void)c, (void)dtype, (void)ndim, (void)shape;
    return NB_ERR_SHAPE; /* and says nothing */
}

static void test_invalid_definitions_are_refused_with_a_reason(void **state)
{
    (void)state;
    nb_tensor *x = nb_tensor_full(NB_F32, 1, (const int64_t[]){2}, 1.0);
    assert_null(nb_op_apply(NULL, 1, &x, NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_op_apply: invalid op definition: def is NULL");
    nb_op_def d = scale_def;
    d.backward = NULL;
    scale_attr a = {1.0};
    assert_null(nb_op_apply(&d, 1, &x, &a));
    nbt_assert_error(NB_ERR_VALUE, "my_scale: invalid op definition: backward must be set");
    d = scale_def;
    d.flags = 1u << 2;
    assert_null(nb_op_apply(&d, 1, &x, &a));
    nbt_assert_error(NB_ERR_VALUE, "view ops are the library's own");
    d = scale_def;
    assert_null(nb_op_apply(&d, 1, &x, NULL));
    nbt_assert_error(NB_ERR_VALUE, "attr is NULL but attr_size is not 0");
    d = scale_def;
    d.shape = no_shape;
    assert_null(nb_op_apply(&d, 1, &x, &a));
    nbt_assert_error(NB_ERR_VALUE, "my_scale: the inputs were refused by the op's shape rule");
    nb_tensor_free(x);
}

/* ---- nb_elementwise ---- */
static double recip(double x)
{
    return 1 / x;
}
static double recip_d(double x, double y)
{
    (void)x;
    return -y * y;
}
static double floor_fn(double x)
{
    return floor(x);
}

/* y = x^3 defined with typed kernel slots: its kernels written once over T (nabla/typed.h). */
#define NB_KERNELS "ops/custom_typed_kernels.h"
#include "nabla/typed.h"

static const nb_op_def cube_def = {.name = "cube",
                                   .api = "my_cube",
                                   .arity = 1,
                                   .shape = nb_op_shape_same,
                                   .forward_f32 = cube_fwd_f32,
                                   .forward_f64 = cube_fwd_f64,
                                   .backward_f32 = cube_bwd_f32,
                                   .backward_f64 = cube_bwd_f64};

static nb_tensor *f_cube(nb_tensor *const *in, int n, void *user)
{
    (void)n, (void)user;
    return nb_op_apply(&cube_def, 1, in, NULL);
}

static void test_typed_kernel_slots_run_by_dtype(void **state)
{
    (void)state;
    /* float64: the gradient checks */
    nb_tensor *x = nb_tensor_from_data(NB_F64, 1, (const int64_t[]){4},
                                       (const double[]){-1.5, -0.25, 0.5, 2.0});
    nb_tensor_set_requires_grad(x, true);
    assert_int_equal(nb_gradcheck(f_cube, NULL, &x, 1, NULL, NULL), NB_OK);
    /* float32: forward and backward run the f32 kernels */
    nb_tensor *xf =
        nb_tensor_from_data(NB_F32, 1, (const int64_t[]){3}, (const float[]){-2.0f, 0.5f, 3.0f});
    nb_tensor_set_requires_grad(xf, true);
    nb_step *s = nb_step_new();
    nb_step_begin(s);
    nb_tensor *y = nb_op_apply(&cube_def, 1, &xf, NULL);
    assert_non_null(y);
    assert_int_equal(nb_tensor_dtype(y), NB_F32);
    const float *py = nb_tensor_data_f32(y);
    assert_true(py[0] == -8.0f && py[1] == 0.125f && py[2] == 27.0f);
    assert_int_equal(nb_backward(nb_sum_all(y)), NB_OK);
    const float *g = nb_tensor_data_f32(nb_tensor_grad(xf));
    assert_true(g[0] == 12.0f && g[1] == 0.75f && g[2] == 27.0f);
    nb_step_end(s);
    nb_step_free(s);
    /* a definition sets forward or the typed pair, never both or neither */
    nb_op_def d = cube_def;
    d.forward = cube_fwd_f64;
    assert_null(nb_op_apply(&d, 1, &xf, NULL));
    nbt_assert_error(NB_ERR_VALUE,
                     "my_cube: invalid op definition: set forward or both of forward_f32 and "
                     "forward_f64");
    d = cube_def;
    d.forward_f32 = d.forward_f64 = NULL;
    assert_null(nb_op_apply(&d, 1, &xf, NULL));
    nbt_assert_error(NB_ERR_VALUE, "set forward or both of forward_f32 and forward_f64");
    d = cube_def;
    d.forward_f64 = NULL;
    assert_null(nb_op_apply(&d, 1, &xf, NULL));
    nbt_assert_error(NB_ERR_VALUE, "my_cube: invalid op definition");
    d = cube_def;
    d.backward = cube_bwd_f32;
    assert_null(nb_op_apply(&d, 1, &xf, NULL));
    nbt_assert_error(NB_ERR_VALUE, "set backward or both of backward_f32 and backward_f64");
    d = cube_def;
    d.backward_f32 = d.backward_f64 = NULL;
    assert_null(nb_op_apply(&d, 1, &xf, NULL));
    nbt_assert_error(NB_ERR_VALUE, "backward must be set");
    d = cube_def;
    d.backward_f32 = NULL;
    assert_null(nb_op_apply(&d, 1, &xf, NULL));
    nbt_assert_error(NB_ERR_VALUE, "backward_f32 and backward_f64 come together");
    nb_tensor_free(xf);
    nb_tensor_free(x);
}

static void test_anomaly_mode_names_a_user_op(void **state)
{
    (void)state;
    static const nb_elementwise_def recip_def = {"my_recip", recip, recip_d};
    nb_tensor *x = nb_tensor_from_data(NB_F32, 1, (const int64_t[]){2}, (const float[]){2, 0});
    nb_tensor_set_requires_grad(x, true);
    nb_step *s = nb_step_new();
    bool prev = nb_set_anomaly_mode(true);
    assert_int_equal(nb_step_begin(s), NB_OK);
    assert_null(nb_elementwise(&recip_def, x)); /* 1/0 = inf */
    nbt_assert_error(NB_ERR_VALUE, "nb_elementwise: anomaly: forward produced inf at flat index 1");
    nb_set_anomaly_mode(prev);
    nb_tensor *y = nb_elementwise(&recip_def, x);
    assert_non_null(y);
    assert_float_equal(nb_tensor_get(y, 0), 0.5, 0);
    nb_step_end(s);
    nb_step_free(s);
    nb_tensor_free(x);
}

static void test_elementwise_without_derivative_is_not_differentiable(void **state)
{
    (void)state;
    static const nb_elementwise_def floor_def = {"my_floor", floor_fn, NULL};
    static const nb_elementwise_def no_f = {"broken", NULL, NULL};
    nb_tensor *x =
        nb_tensor_from_data(NB_F64, 1, (const int64_t[]){2}, (const double[]){1.5, -1.5});
    nb_tensor_set_requires_grad(x, true);
    nb_step *s = nb_step_new();
    assert_int_equal(nb_step_begin(s), NB_OK);
    nb_tensor *y = nb_elementwise(&floor_def, x);
    assert_non_null(y);
    assert_false(nb_tensor_requires_grad(y));
    assert_float_equal(nb_tensor_get(y, 1), -2.0, 0);
    assert_null(nb_elementwise(&no_f, x));
    nbt_assert_error(NB_ERR_VALUE, "nb_elementwise: broken: f is NULL");
    assert_null(nb_elementwise(NULL, x));
    nbt_assert_error(NB_ERR_VALUE, "nb_elementwise: def is NULL");
    nb_step_end(s);
    nb_step_free(s);
    nb_tensor_free(x);
}

static int reset(void **state)
{
    (void)state;
    nb_step_end(nb_step_active());
    nb_clear_error();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_user_op_records_and_accumulates_like_a_builtin, reset),
        cmocka_unit_test_setup(test_user_op_outside_a_step_returns_a_caller_owned_tensor, reset),
        cmocka_unit_test_setup(test_shape_rule_errors_and_null_inputs_propagate, reset),
        cmocka_unit_test_setup(test_invalid_definitions_are_refused_with_a_reason, reset),
        cmocka_unit_test_setup(test_typed_kernel_slots_run_by_dtype, reset),
        cmocka_unit_test_setup(test_anomaly_mode_names_a_user_op, reset),
        cmocka_unit_test_setup(test_elementwise_without_derivative_is_not_differentiable, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
