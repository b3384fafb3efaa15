/* ops/unary_kernels.h — the forward and backward loops of every unary op of the table in
 * ops/unary.c (UNARY_OPS). Included twice by unary.c (nabla/typed.h): NB_FN(name) is
 * name_f32 or name_f64. Each op gets its own pair of loops, generated from its expressions F
 * and D, so that every loop is a straight `omp simd` loop over one expression. pow_scalar's
 * float pair is replaced by ops/vpow.h's kernels (unary.c), hence `unused`. */

#define UNARY_KERNELS(sym, E, F, D, FLAGS)                                                         \
    __attribute__((unused)) static nb_status NB_FN(sym##_fwd)(nbi_record * r)                      \
    {                                                                                              \
        const scalar_attr *p = r->attr;                                                            \
        const T A = (T)p->a, B = (T)p->b;                                                          \
        const T *restrict px = nbi_data(r->in[0]);                                                 \
        T *restrict py = nbi_data(r->out);                                                         \
        const int64_t n = r->out->numel;                                                           \
        const int nt = nbi_threads_for(n * 8);                                                     \
        (void)A;                                                                                   \
        (void)B;                                                                                   \
        NBI_PARALLEL_BLOCKS(n, nt, lo, hi, {                                                       \
            _Pragma("omp simd") for (int64_t i = lo; i < hi; i++)                                  \
            {                                                                                      \
                const T x = px[i];                                                                 \
                py[i] = (T)(F);                                                                    \
            }                                                                                      \
        });                                                                                        \
        return NB_OK;                                                                              \
    }                                                                                              \
    __attribute__((unused)) static void NB_FN(sym##_bwd)(nbi_record * r)                           \
    {                                                                                              \
        if (!r->in[0]->grad)                                                                       \
            return;                                                                                \
        const scalar_attr *p = r->attr;                                                            \
        const T A = (T)p->a, B = (T)p->b;                                                          \
        const T *restrict px = nbi_data(r->in[0]), *restrict py = nbi_data(r->out);                \
        const T *restrict pdy = nbi_data(r->out->grad);                                            \
        T *restrict dx = nbi_data(r->in[0]->grad);                                                 \
        const int64_t n = r->out->numel;                                                           \
        const int nt = nbi_threads_for(n * 8);                                                     \
        const T beta = (T)nbi_grad_beta(r->in[0]);                                                 \
        (void)A;                                                                                   \
        (void)B;                                                                                   \
        NBI_PARALLEL_BLOCKS(n, nt, lo, hi, {                                                       \
            if (beta == 0) {                                                                       \
                _Pragma("omp simd") for (int64_t i = lo; i < hi; i++)                              \
                {                                                                                  \
                    const T x = px[i], y = py[i];                                                  \
                    (void)x;                                                                       \
                    (void)y;                                                                       \
                    dx[i] = pdy[i] * (T)(D);                                                       \
                }                                                                                  \
            } else {                                                                               \
                _Pragma("omp simd") for (int64_t i = lo; i < hi; i++)                              \
                {                                                                                  \
                    const T x = px[i], y = py[i];                                                  \
                    (void)x;                                                                       \
                    (void)y;                                                                       \
                    dx[i] += pdy[i] * (T)(D);                                                      \
                }                                                                                  \
            }                                                                                      \
        });                                                                                        \
    }

UNARY_OPS(UNARY_KERNELS)
#undef UNARY_KERNELS
