/* tests/fuzz/fuzz_ops.c — libFuzzer target over the op API (include/nabla/ops.h). The input
 * bytes are a program: each op reads its operands from a pool of tensors (leaves of random
 * shapes and dtypes, and the results of earlier ops: transposed, sliced and expanded views
 * included) and its attributes from the next bytes — valid or not: axes out of range, negative
 * and huge sizes, mismatched shapes, unknown enum values, NULL tensors and arrays. Steps begin
 * and end, gradients are switched off and on, and backward runs on whatever the pool holds.
 * Every call must either return a well-formed result (every element readable, no pending error)
 * or NULL / an error status with a non-empty nb_last_error(); the sanitizers catch the rest.
 * Set FUZZ_OPS_TRACE=1 to print each call to stderr (to find the op a crashing input reaches). */
#include <nabla.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    POOL = 16,            /* tensors an op can pick its operands from */
    MAX_CALLS = 64,       /* calls per input */
    MAX_OWNED = 512,      /* caller-owned tensors made by one input */
    MAX_NUMEL = 1 << 12,  /* larger results are checked but not reused */
    HUGE_DIM = 1LL << 42, /* a size whose tensor cannot be allocated */
};

typedef struct fuzz {
    const uint8_t *p;
    size_t n;
    nb_tensor *pool[POOL];
    bool pool_arena[POOL]; /* the slot holds a tensor of the active step */
    nb_tensor *owned[MAX_OWNED];
    int n_owned;
    nb_step *step;
    nb_rng rng;
    bool trace;
    const char *op; /* the call being checked, for failure messages */
} fuzz;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const fuzz *f, const char *what)
{
    fprintf(stderr, "fuzz_ops: %s: %s (last error: \"%s\")\n", f->op, what, nb_last_error());
    abort();
}

/* ---- reading the input ---- */

static unsigned byte(fuzz *f)
{
    if (f->n == 0)
        return 0;
    f->n--;
    return *f->p++;
}

/* Integer in [lo, hi] (hi - lo < 256). */
static int64_t pick(fuzz *f, int lo, int hi)
{
    return lo + (int64_t)(byte(f) % (unsigned)(hi - lo + 1));
}

static bool coin(fuzz *f)
{
    return byte(f) & 1;
}

/* A size or index: mostly in [lo, hi], sometimes an extreme. */
static int64_t size_arg(fuzz *f, int lo, int hi)
{
    static const int64_t extremes[] = {INT64_MIN, INT64_MAX, HUGE_DIM, -HUGE_DIM};
    unsigned b = byte(f);
    if (b >= 248)
        return extremes[b % 4];
    return lo + (int64_t)(b % (unsigned)(hi - lo + 1));
}

static int axis_arg(fuzz *f)
{
    return (int)pick(f, -6, 5);
}

static double value_arg(fuzz *f)
{
    static const double table[] = {0.0,  1.0,   -1.0,  0.5, 2.0,  -3.5, 1e-30,
                                   1e30, -1e30, 0.999, 3.0, -0.0, 1e300};
    unsigned b = byte(f);
    if (b < 13)
        return table[b];
    if (b == 13)
        return NAN;
    if (b == 14)
        return INFINITY;
    if (b == 15)
        return -INFINITY;
    return ((double)b - 128.0) / 16.0;
}

static nb_dtype dtype_arg(fuzz *f)
{
    static const nb_dtype dtypes[] = {NB_F32, NB_F64,      NB_I64, NB_F32,
                                      NB_F64, (nb_dtype)3, NB_F32, NB_F64};
    return dtypes[byte(f) % 8];
}

/* A shape of ndim in [-1, 9] dims for creation / reshape / expand; *ndim receives it. The dims
 * are small (or an extreme) so that valid shapes stay cheap. shape holds NB_MAX_DIMS + 2. */
static int64_t *shape_arg(fuzz *f, int *ndim, int64_t *shape, int max_dim)
{
    *ndim = (int)pick(f, -1, 9);
    if (byte(f) == 255)
        return NULL;
    for (int i = 0; i < NB_MAX_DIMS + 2; i++)
        shape[i] = i < *ndim ? size_arg(f, -1, max_dim) : 1;
    if (f->trace) {
        fprintf(stderr, "  shape argument: ndim %d [", *ndim);
        for (int i = 0; i < *ndim && i < NB_MAX_DIMS + 2; i++)
            fprintf(stderr, "%s%lld", i ? ", " : "", (long long)shape[i]);
        fprintf(stderr, "]\n");
    }
    return shape;
}

/* ---- the pool ---- */

/* "f32 [2, 3] (strides [1, 2])" or "NULL", for the trace. */
static void describe(const char *what, nb_tensor *t)
{
    char shape[128], strides[128] = "";
    if (!t) {
        fprintf(stderr, "  %s: NULL\n", what);
        return;
    }
    nb_tensor_shape_str(t, shape, sizeof shape);
    size_t used = 0;
    for (int i = 0; i < nb_tensor_ndim(t) && used < sizeof strides - 24; i++)
        used += (size_t)snprintf(strides + used, sizeof strides - used, "%s%lld", i ? ", " : "",
                                 (long long)nb_tensor_strides(t)[i]);
    fprintf(stderr, "  %s: %s %s (strides [%s])%s\n", what, nb_dtype_name(nb_tensor_dtype(t)),
            shape, strides, nb_tensor_requires_grad(t) ? " requires grad" : "");
}

static nb_tensor *arg(fuzz *f)
{
    unsigned b = byte(f);
    nb_tensor *t = b % 17 == 16 ? NULL : f->pool[b % POOL];
    if (f->trace)
        describe("operand", t);
    return t;
}

static void own(fuzz *f, nb_tensor *t)
{
    for (int i = 0; i < f->n_owned; i++)
        if (f->owned[i] == t)
            fail(f, "an op returned a tensor the caller already owns");
    if (f->n_owned == MAX_OWNED) {
        nb_tensor_free(t);
        return;
    }
    f->owned[f->n_owned++] = t;
}

/* Read every element (up to MAX_NUMEL) and the gradient, so that a view reaching outside its
 * storage is caught. */
static void touch(fuzz *f, nb_tensor *t)
{
    int nd = nb_tensor_ndim(t);
    if (nd < 0 || nd > NB_MAX_DIMS)
        fail(f, "result with an impossible ndim");
    const int64_t *shape = nb_tensor_shape(t);
    int64_t numel = 1;
    for (int i = 0; i < nd; i++) {
        if (shape[i] < 0)
            fail(f, "result with a negative dim");
        numel = shape[i] && numel > INT64_MAX / shape[i] ? INT64_MAX : numel * shape[i];
    }
    if (numel != nb_tensor_numel(t))
        fail(f, "numel differs from the product of the shape");
    volatile double sink = 0;
    for (int64_t i = 0; i < numel && i < MAX_NUMEL; i++)
        sink += nb_tensor_get(t, i);
    nb_tensor *g = nb_tensor_grad(t);
    if (g) {
        if (nb_tensor_numel(g) != numel)
            fail(f, "gradient of another size than its tensor");
        for (int64_t i = 0; i < numel && i < MAX_NUMEL; i++)
            sink += nb_tensor_get(g, i);
    }
    (void)sink;
}

/* Check the outcome of the call just made: a well-formed tensor with no pending error, or NULL
 * with a message. Keeps the result in the pool; `arena`: it lives in the active step. */
static void result_as(fuzz *f, nb_tensor *t, bool arena)
{
    if (!t) {
        if (f->trace)
            fprintf(stderr, "  error: %s\n", nb_last_error());
        if (nb_last_status() == NB_OK || !nb_last_error()[0])
            fail(f, "NULL without an error message");
        nb_clear_error();
        return;
    }
    if (nb_last_status() != NB_OK)
        fail(f, "a result and a pending error");
    if (f->trace)
        describe("result", t);
    if (!arena)
        own(f, t);
    touch(f, t);
    if (nb_tensor_numel(t) > MAX_NUMEL)
        return;
    int slot = (int)(byte(f) % POOL);
    f->pool[slot] = t;
    f->pool_arena[slot] = arena;
}

/* The result of an op: placed in the active step if there is one. */
static void result(fuzz *f, nb_tensor *t)
{
    result_as(f, t, nb_step_active() != NULL);
}

static void status_result(fuzz *f, nb_status st)
{
    if (st != NB_OK && (nb_last_status() == NB_OK || !nb_last_error()[0]))
        fail(f, "an error status without a message");
    if (st == NB_OK && nb_last_status() != NB_OK)
        fail(f, "NB_OK and a pending error");
    nb_clear_error();
}

static void step_end(fuzz *f)
{
    if (!nb_step_active())
        return;
    nb_step_end(f->step);
    for (int i = 0; i < POOL; i++)
        if (f->pool_arena[i]) {
            f->pool[i] = NULL;
            f->pool_arena[i] = false;
        }
}

/* A caller-owned leaf of random shape and dtype, maybe requiring grad. */
static void leaf(fuzz *f)
{
    nb_dtype dt = dtype_arg(f);
    int nd = (int)pick(f, 0, 4);
    int64_t shape[4];
    for (int i = 0; i < nd; i++)
        shape[i] = pick(f, 0, 4) + (i == 0);
    nb_tensor *t = nb_tensor_zeros(dt, nd, shape);
    f->op = "nb_tensor_zeros";
    result_as(f, t, false);
    if (!t)
        return;
    int64_t numel = nb_tensor_numel(t);
    for (int64_t i = 0; i < numel; i++)
        nb_tensor_set(t, i, dt == NB_I64 ? (double)pick(f, -1, 5) : value_arg(f));
    nb_clear_error();
    if (coin(f)) {
        f->op = "nb_tensor_set_requires_grad";
        status_result(f, nb_tensor_set_requires_grad(t, true));
    }
}

static void conv_opts(fuzz *f, nb_conv_opts *o)
{
    o->stride_h = size_arg(f, -1, 3);
    o->stride_w = size_arg(f, -1, 3);
    o->dilation_h = size_arg(f, -1, 3);
    o->dilation_w = size_arg(f, -1, 3);
    o->padding = (nb_padding)pick(f, 0, 3);
    o->pad_top = size_arg(f, -1, 2);
    o->pad_bottom = size_arg(f, -1, 2);
    o->pad_left = size_arg(f, -1, 2);
    o->pad_right = size_arg(f, -1, 2);
    o->groups = size_arg(f, -1, 3);
    o->output_padding_h = pick(f, -1, 2);
    o->output_padding_w = pick(f, -1, 2);
}

static void pool_opts(fuzz *f, nb_pool_opts *o)
{
    o->stride_h = size_arg(f, -1, 3);
    o->stride_w = size_arg(f, -1, 3);
    o->padding = (nb_padding)pick(f, 0, 3);
    o->pad_top = size_arg(f, -1, 2);
    o->pad_bottom = size_arg(f, -1, 2);
    o->pad_left = size_arg(f, -1, 2);
    o->pad_right = size_arg(f, -1, 2);
    o->exclude_padding = coin(f);
}

/* Backward from a pool tensor: through nb_sum_all, directly, or with a seed. */
static void backward(fuzz *f)
{
    nb_tensor *t = arg(f);
    nb_status st;
    switch (byte(f) % 3) {
    case 0:
        f->op = "nb_backward(nb_sum_all)";
        nb_clear_error();
        t = nb_sum_all(t);
        if (t && !nb_step_active())
            own(f, t);
        st = t ? nb_backward(t) : nb_last_status();
        break;
    case 1:
        f->op = "nb_backward";
        st = nb_backward(t);
        break;
    default: {
        f->op = "nb_backward_ex";
        nb_tensor *seed = arg(f);
        if (t && coin(f)) {
            seed = nb_constant(nb_tensor_dtype(t), nb_tensor_ndim(t), nb_tensor_shape(t), 1.0);
            if (seed && !nb_step_active())
                own(f, seed);
            nb_clear_error();
        }
        st = nb_backward_ex(t, seed);
        break;
    }
    }
    status_result(f, st);
    for (int i = 0; i < POOL; i++)
        if (f->pool[i])
            touch(f, f->pool[i]);
}

/* ---- the ops, by signature ---- */

typedef nb_tensor *(*unary_fn)(nb_tensor *);
typedef nb_tensor *(*binary_fn)(nb_tensor *, nb_tensor *);
typedef nb_tensor *(*scalar_fn)(nb_tensor *, double);
typedef nb_tensor *(*axis_fn)(nb_tensor *, int);
typedef nb_tensor *(*reduce_fn)(nb_tensor *, int, bool);
typedef nb_tensor *(*reduce_axes_fn)(nb_tensor *, int, const int *, bool);
typedef nb_tensor *(*loss_fn)(nb_tensor *, nb_tensor *, nb_reduction);
typedef nb_tensor *(*conv_fn)(nb_tensor *, nb_tensor *, nb_tensor *, const nb_conv_opts *);
typedef nb_tensor *(*pool2d_fn)(nb_tensor *, int64_t, int64_t, const nb_pool_opts *);
typedef nb_tensor *(*pool1d_fn)(nb_tensor *, int64_t, const nb_pool_opts *);
typedef nb_tensor *(*random_fn)(nb_dtype, int, const int64_t *, nb_rng *, double, double);

#define FN(fn)                                                                                     \
    {                                                                                              \
#fn, (void (*)(void))fn                                                                    \
    }
typedef struct named_fn {
    const char *name;
    void (*fn)(void);
} named_fn;

static const named_fn UNARY[] = {FN(nb_neg),
                                 FN(nb_exp),
                                 FN(nb_log),
                                 FN(nb_sqrt),
                                 FN(nb_square),
                                 FN(nb_abs),
                                 FN(nb_relu),
                                 FN(nb_sigmoid),
                                 FN(nb_tanh),
                                 FN(nb_softplus),
                                 FN(nb_heaviside),
                                 FN(nb_sum_all),
                                 FN(nb_mean_all),
                                 FN(nb_flatten),
                                 FN(nb_contiguous),
                                 FN(nb_detach),
                                 FN(nb_global_avg_pool),
                                 FN(nb_global_max_pool)};
static const named_fn BINARY[] = {FN(nb_add),    FN(nb_sub),     FN(nb_mul),
                                  FN(nb_div),    FN(nb_maximum), FN(nb_minimum),
                                  FN(nb_matmul), FN(nb_pick),    FN(nb_gather_rows)};
static const named_fn SCALAR[] = {FN(nb_add_scalar), FN(nb_mul_scalar), FN(nb_pow_scalar),
                                  FN(nb_leaky_relu)};
static const named_fn AXIS[] = {FN(nb_softmax), FN(nb_log_softmax), FN(nb_argmax), FN(nb_unsqueeze),
                                FN(nb_squeeze)};
static const named_fn REDUCE[] = {FN(nb_sum), FN(nb_mean), FN(nb_max)};
static const named_fn REDUCE_AXES[] = {FN(nb_sum_axes), FN(nb_mean_axes), FN(nb_max_axes)};
static const named_fn LOSS[] = {FN(nb_mse), FN(nb_bce), FN(nb_bce_with_logits),
                                FN(nb_cross_entropy), FN(nb_cross_entropy_onehot)};
static const named_fn CONV[] = {FN(nb_conv2d), FN(nb_conv1d), FN(nb_conv_transpose2d),
                                FN(nb_conv_transpose1d)};
static const named_fn POOL2D[] = {FN(nb_max_pool2d), FN(nb_avg_pool2d)};
static const named_fn POOL1D[] = {FN(nb_max_pool1d), FN(nb_avg_pool1d)};
static const named_fn RANDOM[] = {FN(nb_rand_uniform), FN(nb_rand_normal)};
#undef FN

/* The op of a family picked by the next byte; sets f->op (and traces it). */
static void (*choose(fuzz *f, const named_fn *list, size_t n))(void)
{
    const named_fn *e = &list[byte(f) % n];
    f->op = e->name;
    if (f->trace)
        fprintf(stderr, "%s (step %s)\n", e->name, nb_step_active() ? "on" : "off");
    return e->fn;
}
#define CHOOSE(type, list) ((type)choose(f, list, sizeof list / sizeof list[0]))

/* An op that is not in a family (or a control call); `which` picks it. */
static void other_op(fuzz *f, unsigned which)
{
    int64_t shape[NB_MAX_DIMS + 2];
    int axes[NB_MAX_DIMS + 2];
    nb_tensor *xs[4];
    nb_tensor *out[8];
    int nd;
    static const named_fn names[] = {{"nb_affine", NULL},
                                     {"nb_clamp", NULL},
                                     {"nb_linear", NULL},
                                     {"nb_reshape", NULL},
                                     {"nb_transpose", NULL},
                                     {"nb_permute", NULL},
                                     {"nb_slice", NULL},
                                     {"nb_expand", NULL},
                                     {"nb_concat", NULL},
                                     {"nb_stack", NULL},
                                     {"nb_split", NULL},
                                     {"nb_one_hot", NULL},
                                     {"nb_constant", NULL},
                                     {"nb_rand_bernoulli", NULL},
                                     {"nb_sample_bernoulli", NULL},
                                     {"nb_dropout", NULL},
                                     {"nb_pad2d", NULL},
                                     {"nb_pad1d", NULL},
                                     {"nb_conv_output_size", NULL},
                                     {"leaf", NULL},
                                     {"nb_step_begin", NULL},
                                     {"nb_step_end", NULL},
                                     {"backward", NULL},
                                     {"nb_set_grad_enabled", NULL},
                                     {"nb_set_anomaly_mode", NULL},
                                     {"nb_tensor_set_requires_grad", NULL},
                                     {"nb_tensor_retain_grad", NULL}};
    which %= sizeof names / sizeof names[0];
    f->op = names[which].name;
    if (f->trace)
        fprintf(stderr, "%s (step %s)\n", f->op, nb_step_active() ? "on" : "off");
    switch (which) {
    case 0:
    case 1: {
        nb_tensor *(*fn)(nb_tensor *, double, double) = which == 0 ? nb_affine : nb_clamp;
        nb_tensor *x = arg(f);
        double a = value_arg(f), b = value_arg(f);
        result(f, fn(x, a, b));
        break;
    }
    case 2: {
        nb_tensor *x = arg(f), *w = arg(f), *b = arg(f);
        result(f, nb_linear(x, w, b));
        break;
    }
    case 3: {
        nb_tensor *x = arg(f);
        int64_t *s = shape_arg(f, &nd, shape, 6);
        if (s && byte(f) < 64 && nd > 0)
            s[byte(f) % (unsigned)nd] = -1; /* inferred */
        result(f, nb_reshape(x, nd, s));
        break;
    }
    case 4: {
        nb_tensor *x = arg(f);
        int a0 = axis_arg(f), a1 = axis_arg(f);
        result(f, nb_transpose(x, a0, a1));
        break;
    }
    case 5: {
        nb_tensor *x = arg(f);
        int n = x ? nb_tensor_ndim(x) : 0;
        for (int i = 0; i < NB_MAX_DIMS + 2; i++)
            axes[i] = n - 1 - i; /* reversed, then maybe broken */
        if (coin(f))
            axes[byte(f) % (unsigned)(n + 1)] = axis_arg(f);
        result(f, nb_permute(x, byte(f) == 255 ? NULL : axes));
        break;
    }
    case 6: {
        nb_tensor *x = arg(f);
        int ax = axis_arg(f);
        int64_t start = size_arg(f, -6, 6), stop = size_arg(f, -6, 6), step = size_arg(f, -1, 3);
        result(f, nb_slice(x, ax, start, stop, step));
        break;
    }
    case 7: {
        nb_tensor *x = arg(f);
        int64_t *s = shape_arg(f, &nd, shape, 4);
        if (s && x && coin(f)) { /* a valid target more often: x's shape with 1s widened */
            nd = nb_tensor_ndim(x) + (int)pick(f, 0, 1);
            for (int i = 0; i < nd; i++) {
                int xi = i - (nd - nb_tensor_ndim(x));
                int64_t d = xi >= 0 ? nb_tensor_shape(x)[xi] : 1;
                s[i] = d == 1 ? pick(f, 1, 3) : d;
            }
        }
        result(f, nb_expand(x, nd, s));
        break;
    }
    case 8:
    case 9: {
        int n = (int)pick(f, -1, 4);
        for (int i = 0; i < 4; i++)
            xs[i] = arg(f);
        if (coin(f))
            xs[1] = xs[2] = xs[3] = xs[0];
        nb_tensor *const *list = byte(f) == 255 ? NULL : xs;
        int ax = axis_arg(f);
        result(f, which == 8 ? nb_concat(n, list, ax) : nb_stack(n, list, ax));
        break;
    }
    case 10: {
        nb_tensor *x = arg(f);
        int ax = axis_arg(f), n = (int)pick(f, -1, 8);
        nb_status st = nb_split(x, ax, n, byte(f) == 255 ? NULL : out);
        if (st == NB_OK)
            for (int i = 0; i < n; i++)
                result(f, out[i]);
        status_result(f, st);
        break;
    }
    case 11: {
        nb_tensor *ids = arg(f);
        int64_t classes = size_arg(f, -1, 6);
        result(f, nb_one_hot(ids, classes, dtype_arg(f)));
        break;
    }
    case 12:
    case 13: {
        nb_dtype dt = dtype_arg(f);
        int64_t *s = shape_arg(f, &nd, shape, 4);
        double v = value_arg(f);
        result(f, which == 12 ? nb_constant(dt, nd, s, v)
                              : nb_rand_bernoulli(dt, nd, s, byte(f) == 255 ? NULL : &f->rng, v));
        break;
    }
    case 14: {
        nb_tensor *x = arg(f);
        result(f, nb_sample_bernoulli(x, byte(f) == 255 ? NULL : &f->rng));
        break;
    }
    case 15: {
        nb_tensor *x = arg(f);
        double p = value_arg(f);
        result(f, nb_dropout(x, p, byte(f) == 255 ? NULL : &f->rng));
        break;
    }
    case 16: {
        nb_tensor *x = arg(f);
        int64_t t = size_arg(f, -1, 2), b = size_arg(f, -1, 2), l = size_arg(f, -1, 2),
                r = size_arg(f, -1, 2);
        result(f, nb_pad2d(x, t, b, l, r, value_arg(f)));
        break;
    }
    case 17: {
        nb_tensor *x = arg(f);
        int64_t l = size_arg(f, -1, 2), r = size_arg(f, -1, 2);
        result(f, nb_pad1d(x, l, r, value_arg(f)));
        break;
    }
    case 18: {
        int64_t in = size_arg(f, -1, 6), k = size_arg(f, -1, 4), s = size_arg(f, -1, 3),
                d = size_arg(f, -1, 3), pb = size_arg(f, -1, 2), pe = size_arg(f, -1, 2);
        nb_padding pad = (nb_padding)pick(f, 0, 3);
        if (nb_conv_output_size(in, k, s, d, pad, coin(f) ? &pb : NULL, &pe) < -1)
            fail(f, "an output size below -1");
        break;
    }
    case 19:
        leaf(f);
        break;
    case 20:
        status_result(f, nb_step_begin(f->step)); /* NB_ERR_STATE when already active */
        break;
    case 21:
        step_end(f);
        break;
    case 22:
        backward(f);
        break;
    case 23:
        nb_set_grad_enabled(coin(f));
        break;
    case 24:
        nb_set_anomaly_mode(coin(f));
        break;
    case 25: {
        nb_tensor *t = arg(f);
        if (t)
            status_result(f, nb_tensor_set_requires_grad(t, coin(f)));
        break;
    }
    default:
        status_result(f, nb_tensor_retain_grad(arg(f)));
        break;
    }
}

static void call_op(fuzz *f)
{
    nb_conv_opts co = {0};
    nb_pool_opts po = {0};
    int axes[NB_MAX_DIMS + 2];
    nb_clear_error();
    unsigned family = byte(f) % 16;
    switch (family) {
    case 0:
    case 1: {
        unary_fn fn = CHOOSE(unary_fn, UNARY);
        result(f, fn(arg(f)));
        break;
    }
    case 2:
    case 3: {
        binary_fn fn = CHOOSE(binary_fn, BINARY);
        nb_tensor *a = arg(f), *b = arg(f);
        result(f, fn(a, b));
        break;
    }
    case 4: {
        scalar_fn fn = CHOOSE(scalar_fn, SCALAR);
        nb_tensor *x = arg(f);
        result(f, fn(x, value_arg(f)));
        break;
    }
    case 5: {
        axis_fn fn = CHOOSE(axis_fn, AXIS);
        nb_tensor *x = arg(f);
        result(f, fn(x, axis_arg(f)));
        break;
    }
    case 6: {
        reduce_fn fn = CHOOSE(reduce_fn, REDUCE);
        nb_tensor *x = arg(f);
        int ax = axis_arg(f);
        result(f, fn(x, ax, coin(f)));
        break;
    }
    case 7: {
        reduce_axes_fn fn = CHOOSE(reduce_axes_fn, REDUCE_AXES);
        nb_tensor *x = arg(f);
        int n = (int)pick(f, -1, 5);
        for (int i = 0; i < NB_MAX_DIMS + 2; i++)
            axes[i] = axis_arg(f);
        const int *a = byte(f) == 255 ? NULL : axes;
        result(f, fn(x, n, a, coin(f)));
        break;
    }
    case 8: {
        loss_fn fn = CHOOSE(loss_fn, LOSS);
        nb_tensor *a = arg(f), *b = arg(f);
        result(f, fn(a, b, (nb_reduction)pick(f, 0, 3)));
        break;
    }
    case 9: {
        conv_fn fn = CHOOSE(conv_fn, CONV);
        nb_tensor *x = arg(f), *w = arg(f), *b = arg(f);
        conv_opts(f, &co);
        result(f, fn(x, w, b, coin(f) ? &co : NULL));
        break;
    }
    case 10: {
        bool two = coin(f);
        pool2d_fn fn2 = two ? CHOOSE(pool2d_fn, POOL2D) : NULL;
        pool1d_fn fn1 = two ? NULL : CHOOSE(pool1d_fn, POOL1D);
        nb_tensor *x = arg(f);
        int64_t kh = size_arg(f, -1, 3), kw = size_arg(f, -1, 3);
        pool_opts(f, &po);
        const nb_pool_opts *o = coin(f) ? &po : NULL;
        result(f, two ? fn2(x, kh, kw, o) : fn1(x, kw, o));
        break;
    }
    case 11: {
        random_fn fn = CHOOSE(random_fn, RANDOM);
        int nd;
        int64_t shape[NB_MAX_DIMS + 2];
        nb_dtype dt = dtype_arg(f);
        int64_t *s = shape_arg(f, &nd, shape, 4);
        nb_rng *r = byte(f) == 255 ? NULL : &f->rng;
        double a = value_arg(f), b = value_arg(f);
        result(f, fn(dt, nd, s, r, a, b));
        break;
    }
    default:
        other_op(f, byte(f));
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fuzz f;
    memset(&f, 0, sizeof f);
    f.p = data;
    f.n = size;
    f.trace = getenv("FUZZ_OPS_TRACE") != NULL;
    f.rng = nb_rng_seed(byte(&f));
    f.step = nb_step_new();
    if (!f.step)
        return 0;
    nb_clear_error();
    for (int i = 0; i < 4; i++) /* start from a few leaves */
        leaf(&f);
    if (coin(&f))
        nb_step_begin(f.step);
    for (int i = 0; i < MAX_CALLS && f.n > 0; i++)
        call_op(&f);
    step_end(&f);
    nb_step_free(f.step);
    for (int i = 0; i < f.n_owned; i++) /* creation order: bases before their views */
        nb_tensor_free(f.owned[i]);
    nb_set_grad_enabled(true);
    nb_set_anomaly_mode(false);
    nb_clear_error();
    return 0;
}
