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
