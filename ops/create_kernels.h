/* ops/create_kernels.h — the fills of arange and linspace.
 * Written once over the element type T and included twice by create.c (nabla/typed.h):
 * NB_FN(name) is name_f32 or name_f64. */

/* out[i] = start + i * step, computed in double (i64: in integers). */
static void NB_FN(arange_fill)(nb_tensor *t, double start, double step)
{
    T *p = nbi_data(t);
    for (int64_t i = 0; i < t->numel; i++)
        p[i] = (T)(start + (double)i * step);
}

/* PyTorch's formula, symmetric about the middle so both ends are exact (one step: start):
 * out[i] = start + i * d for i < steps / 2, else end - (steps - 1 - i) * d, d = (end - start) /
 * (steps - 1), in the tensor's precision. */
static void NB_FN(linspace_fill)(nb_tensor *t, double start_d, double end_d)
{
    T *p = nbi_data(t);
    const int64_t n = t->numel, half = n / 2;
    const T start = (T)start_d, end = (T)end_d;
    const T d = n > 1 ? (end - start) / (T)(n - 1) : 0;
    for (int64_t i = 0; i < n; i++)
        p[i] = i < half ? start + d * (T)i : end - d * (T)(n - 1 - i);
    if (n == 1)
        p[0] = start;
}
