/* ops/binary_kernels.h — the forward and backward loops of every binary op of the table in
 * ops/binary.c (BINARY_OPS). Included twice by binary.c (nabla/typed.h): NB_FN(name) is
 * name_f32 or name_f64. Each op gets its own loops, generated from its expressions F, DA and DB,
 * so that every loop is a straight `omp simd` loop over one expression. */

/* One row of n_ elements (a row of the walk rows2_init starts, binary.c): STMT for k in [0, n_),
 * with a = pa[k * sa_], b = pb[k * sb_], flat index i = i0 + k. The common stride pairs (dense
 * rows, one operand broadcast along the row) get loops the compiler vectorises. */
#define ROW_LOOP(pa, pb, ...)                                                                      \
    do {                                                                                           \
        if (sa_ == 1 && sb_ == 1) {                                                                \
            _Pragma("omp simd") for (int64_t k = 0; k < n_; k++)                                   \
            {                                                                                      \
                const int64_t i = i0 + k;                                                          \
                const T a = (pa)[k], b = (pb)[k];                                                  \
                __VA_ARGS__                                                                        \
            }                                                                                      \
        } else if (sa_ == 1 && sb_ == 0) {                                                         \
            const T b = (pb)[0];                                                                   \
            _Pragma("omp simd") for (int64_t k = 0; k < n_; k++)                                   \
            {                                                                                      \
                const int64_t i = i0 + k;                                                          \
                const T a = (pa)[k];                                                               \
                __VA_ARGS__                                                                        \
            }                                                                                      \
        } else if (sa_ == 0 && sb_ == 1) {                                                         \
            const T a = (pa)[0];                                                                   \
            _Pragma("omp simd") for (int64_t k = 0; k < n_; k++)                                   \
            {                                                                                      \
                const int64_t i = i0 + k;                                                          \
                const T b = (pb)[k];                                                               \
                __VA_ARGS__                                                                        \
            }                                                                                      \
        } else {                                                                                   \
            for (int64_t k = 0; k < n_; k++) {                                                     \
                const int64_t i = i0 + k;                                                          \
                const T a = (pa)[k * sa_], b = (pb)[k * sb_];                                      \
                __VA_ARGS__                                                                        \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* Gradients: g (contiguous, the input's gradient) is written when the engine handed it over
 * fresh (beta 0), else accumulated. */
#define BINARY_KERNELS(sym, E, F, DA, DB)                                                          \
    static nb_status NB_FN(sym##_fwd)(nbi_record * r)                                              \
    {                                                                                              \
        const nb_tensor *A = r->in[0], *B = r->in[1];                                              \
        const T *restrict pa = nbi_data(A), *restrict pb = nbi_data(B);                            \
        T *restrict py = nbi_data(r->out);                                                         \
        if (nbi_is_contiguous(A) && nbi_is_contiguous(B)) {                                        \
            const int64_t n = r->out->numel;                                                       \
            const int nt = nbi_threads_for(n);                                                     \
            NBI_PARALLEL_BLOCKS(n, nt, lo, hi, {                                                   \
                _Pragma("omp simd") for (int64_t i = lo; i < hi; i++)                              \
                {                                                                                  \
                    const T a = pa[i], b = pb[i];                                                  \
                    py[i] = (T)(F);                                                                \
                }                                                                                  \
            });                                                                                    \
        } else {                                                                                   \
            nbi_rows r_;                                                                           \
            for (bool more_ = rows2_init(&r_, A, B); more_; more_ = nbi_rows_next(&r_)) {          \
                const int64_t n_ = r_.len, sa_ = r_.st[0], sb_ = r_.st[1], i0 = r_.i0;             \
                ROW_LOOP(pa + r_.off[0], pb + r_.off[1], py[i] = (T)(F););                         \
            }                                                                                      \
        }                                                                                          \
        return NB_OK;                                                                              \
    }                                                                                              \
    static void NB_FN(sym##_bwd_one)(nbi_record * r, int which)                                    \
    {                                                                                              \
        const nb_tensor *A = r->in[0], *B = r->in[1];                                              \
        const T *restrict pa = nbi_data(A), *restrict pb = nbi_data(B);                            \
        const T *restrict py = nbi_data(r->out), *restrict pdy = nbi_data(r->out->grad);           \
        const nb_tensor *X = which ? B : A;                                                        \
        T *restrict g = nbi_data(X->grad);                                                         \
        const bool acc = nbi_grad_beta(X) != 0;                                                    \
        if (nbi_is_contiguous(A) && nbi_is_contiguous(B)) {                                        \
            const int64_t n = r->out->numel;                                                       \
            const int nt = nbi_threads_for(n);                                                     \
            NBI_PARALLEL_BLOCKS(n, nt, lo, hi, {                                                   \
                _Pragma("omp simd") for (int64_t i = lo; i < hi; i++)                              \
                {                                                                                  \
                    const T a = pa[i], b = pb[i], y = py[i];                                       \
                    (void)a;                                                                       \
                    (void)b;                                                                       \
                    (void)y;                                                                       \
                    const T v = pdy[i] * (T)(which ? (DB) : (DA));                                 \
                    g[i] = acc ? g[i] + v : v;                                                     \
                }                                                                                  \
            });                                                                                    \
        } else {                                                                                   \
            nbi_rows r_;                                                                           \
            for (bool more_ = rows2_init(&r_, A, B); more_; more_ = nbi_rows_next(&r_)) {          \
                const int64_t n_ = r_.len, sa_ = r_.st[0], sb_ = r_.st[1], i0 = r_.i0;             \
                ROW_LOOP(pa + r_.off[0], pb + r_.off[1], {                                         \
                    const T y = py[i];                                                             \
                    (void)a;                                                                       \
                    (void)b;                                                                       \
                    (void)y;                                                                       \
                    const T v = pdy[i] * (T)(which ? (DB) : (DA));                                 \
                    g[i] = acc ? g[i] + v : v;                                                     \
                });                                                                                \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    static void NB_FN(sym##_bwd)(nbi_record * r)                                                   \
    {                                                                                              \
        for (int w = 0; w < 2; w++)                                                                \
            if (r->in[w]->grad)                                                                    \
                NB_FN(sym##_bwd_one)(r, w);                                                        \
    }

BINARY_OPS(BINARY_KERNELS)
#undef BINARY_KERNELS
#undef ROW_LOOP
