/* ops/gemm.c — the only file that talks to BLIS.
 *
 * Debian's BLIS 0.9.0 declares the typed API's operands as non-const pointers, so this is also
 * the one place where const is cast away (BLIS only reads A and B). */
#include "ops/op_def.h"

#include <blis.h>

#pragma GCC diagnostic ignored "-Wcast-qual"

void nbi_gemm(nb_dtype dtype, int64_t m, int64_t n, int64_t k, double alpha, const void *a,
              int64_t rsa, int64_t csa, const void *b, int64_t rsb, int64_t csb, double beta,
              void *c, int64_t rsc, int64_t csc)
{
    if (m == 0 || n == 0)
        return;
    if (dtype == NB_F32) {
        float al = (float)alpha, be = (float)beta;
        bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, (dim_t)m, (dim_t)n, (dim_t)k, &al,
                  (float *)a, (inc_t)rsa, (inc_t)csa, (float *)b, (inc_t)rsb, (inc_t)csb, &be,
                  (float *)c, (inc_t)rsc, (inc_t)csc);
    } else {
        double al = alpha, be = beta;
        bli_dgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, (dim_t)m, (dim_t)n, (dim_t)k, &al,
                  (double *)a, (inc_t)rsa, (inc_t)csa, (double *)b, (inc_t)rsb, (inc_t)csb, &be,
                  (double *)c, (inc_t)rsc, (inc_t)csc);
    }
}

void nbi_gemm_set_threads(int n)
{
    bli_thread_set_num_threads((dim_t)n);
}
