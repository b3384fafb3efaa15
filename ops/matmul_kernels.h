/* ops/matmul_kernels.h — bias rows and bias gradients of linear.
 * Written once over the element type T and included twice by matmul.c (nabla/typed.h):
 * NB_FN(name) is name_f32 or name_f64. */

static void NB_FN(bias_rows)(void *yv, const void *bv, int64_t n, int64_t m)
{
    T *y = yv;
    for (int64_t i = 0; i < n; i++)
        memcpy(y + i * m, bv, (size_t)m * sizeof(T));
}

/* db (=, or += when acc) sum over the n rows of dy [n, m]. */
static void NB_FN(bias_grad)(void *dbv, const void *dyv, int64_t n, int64_t m, bool acc)
{
    T *restrict db = dbv;
    const T *dy = dyv;
    if (!acc)
        memset(db, 0, (size_t)m * sizeof(T));
    for (int64_t i = 0; i < n; i++) {
        const T *restrict row = dy + i * m;
#pragma omp simd
        for (int64_t j = 0; j < m; j++)
            db[j] += row[j];
    }
}

/* y [n, m] = r (+ b in every row): a residual as the product's initial value. */
static void NB_FN(residual_rows)(void *yv, const void *bv, const void *rv, int64_t n, int64_t m)
{
    T *restrict y = yv;
    const T *restrict r = rv, *restrict b = bv;
    if (!b) {
        memcpy(y, r, (size_t)(n * m) * sizeof(T));
        return;
    }
    for (int64_t i = 0; i < n; i++)
#pragma omp simd
        for (int64_t j = 0; j < m; j++)
            y[i * m + j] = r[i * m + j] + b[j];
}

/* g = act(x) over n elements (the formulas of nb_relu and nb_gelu) */
static void NB_FN(act_fwd)(void *gv, const void *xv, int64_t n, int act)
{
    T *restrict g = gv;
    const T *restrict x = xv;
    switch (act) {
    case NB_LINEAR_ACT_RELU:
#pragma omp simd
        for (int64_t i = 0; i < n; i++)
            g[i] = x[i] <= 0 ? (T)0 : x[i]; /* as nb_relu: NaN stays NaN */
        break;
    case NB_LINEAR_ACT_GELU:
#pragma omp simd
        for (int64_t i = 0; i < n; i++)
            g[i] = GELU(x[i]);
        break;
    case NB_LINEAR_ACT_GELU_TANH:
#pragma omp simd
        for (int64_t i = 0; i < n; i++)
            g[i] = GELU_TANH(x[i]);
        break;
    default:
        memcpy(g, x, (size_t)n * sizeof(T));
    }
}

/* dx = t act'(x) (assign; t may be dx itself) or dx += t act'(x), n elements. ReLU's
 * derivative is a 0/1 factor, not a select of t (see GCC 12's masked-select miscompile in
 * conv_kernels.h). */
#define ACT_GRAD_LOOP(D)                                                                           \
    do {                                                                                           \
        if (assign) {                                                                              \
            _Pragma("omp simd") for (int64_t i = 0; i < n; i++) dx[i] = t[i] * (D);                \
        } else {                                                                                   \
            _Pragma("omp simd") for (int64_t i = 0; i < n; i++) dx[i] += t[i] * (D);               \
        }                                                                                          \
    } while (0)

static void NB_FN(act_grad)(void *dxv, const void *tv, const void *xv, int64_t n, int act,
                            bool assign)
{
    T *dx = dxv;
    const T *t = tv, *restrict x = xv;
    switch (act) {
    case NB_LINEAR_ACT_RELU:
        ACT_GRAD_LOOP((T)(x[i] > 0));
        break;
    case NB_LINEAR_ACT_GELU:
        ACT_GRAD_LOOP(GELU_GRAD(x[i]));
        break;
    case NB_LINEAR_ACT_GELU_TANH:
        ACT_GRAD_LOOP(GELU_TANH_GRAD(x[i]));
        break;
    default:
        ACT_GRAD_LOOP((T)1);
    }
}
#undef ACT_GRAD_LOOP
