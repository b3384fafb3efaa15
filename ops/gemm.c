/* ops/gemm.c — the only file that talks to BLIS.
 *
 * Debian's BLIS 0.9.0 declares the typed API's operands as non-const pointers, so this is also
 * the one place where const is cast away (BLIS only reads A and B).
 *
 * Kernel choice. BLIS picks its sub-configuration (the micro-kernels) once per process from the
 * CPU id. BLIS 0.9.0 identifies AMD processors by family and model, and it does not know the
 * families after Zen 3: on a Zen 4 or Zen 5 CPU it falls back to "generic", portable C kernels
 * that run at a fraction of the machine's speed (41 vs 217 GFLOP/s for a 1024^3 SGEMM on a
 * Zen 5 core). Those CPUs have every instruction the "skx" (AVX-512) kernels use, and BLIS reads
 * its override, BLIS_ARCH_TYPE, from the environment when it initialises. So, before anything
 * calls BLIS, a library constructor sets that variable for the one case BLIS gets wrong (an AMD
 * CPU with AVX-512 F/DQ/BW/VL, which BLIS 0.9.0 never recognises), initialises BLIS, and
 * removes the variable again so child processes do not inherit it. A BLIS_ARCH_TYPE set by the
 * user always wins, and NB_BLIS_ARCH=blis leaves BLIS's own choice alone. nb_blas_info() says
 * what was chosen and why. */
#include "ops/op_def.h"

#include <blis.h>
#include <omp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define NBI_X86 1
#endif

#pragma GCC diagnostic ignored "-Wcast-qual"

static char blas_info[192] = "BLIS (not initialised)";

#ifdef NBI_X86
/* An AMD CPU whose AVX-512 subset covers what BLIS's skx kernels use (F, DQ, BW, VL). The OS
 * must save the AVX-512 state too, which __builtin_cpu_supports checks (XGETBV). */
static bool amd_with_skx_isa(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d))
        return false;
    const bool amd = b == 0x68747541u && d == 0x69746e65u && c == 0x444d4163u; /* AuthenticAMD */
    __builtin_cpu_init();
    return amd && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
}
#endif

__attribute__((constructor)) static void nbi_gemm_select_kernels(void)
{
    const char *why = "BLIS's own choice";
    bool set = false;
    const char *mode = getenv("NB_BLIS_ARCH");
    if (getenv("BLIS_ARCH_TYPE")) {
        why = "BLIS_ARCH_TYPE from the environment";
    } else if (mode && strcmp(mode, "blis") == 0) {
        why = "BLIS's own choice: NB_BLIS_ARCH=blis";
    } else {
#ifdef NBI_X86
        if (amd_with_skx_isa()) {
            char id[16];
            snprintf(id, sizeof id, "%d", (int)BLIS_ARCH_SKX);
            set = setenv("BLIS_ARCH_TYPE", id, 0) == 0;
            if (set)
                why = "chosen by nabla: AMD CPU with AVX-512, which BLIS 0.9 does not recognise";
        }
#endif
    }
    bli_init();
    arch_t arch = bli_arch_query_id();
    if (set)
        unsetenv("BLIS_ARCH_TYPE");
    snprintf(blas_info, sizeof blas_info, "BLIS %s, sub-configuration %s (%s)",
             bli_info_get_version_str(), bli_arch_string(arch), why);
}

const char *nb_blas_info(void)
{
    return blas_info;
}

void nbi_gemm(nb_dtype dtype, int64_t m, int64_t n, int64_t k, double alpha, const void *a,
              int64_t rsa, int64_t csa, const void *b, int64_t rsb, int64_t csb, double beta,
              void *c, int64_t rsc, int64_t csc)
{
    if (m == 0 || n == 0)
        return;
    /* The thread count is read now: nb_set_num_threads takes effect at the next product, and a
     * product run inside a parallel region (conv's per-thread chunks) stays on its thread. */
    rntm_t rntm = BLIS_RNTM_INITIALIZER;
    bli_rntm_set_num_threads(omp_in_parallel() ? 1 : (dim_t)nbi_threads(), &rntm);
    /* A product with one row or one column is BLIS's gemv: bli_?gemm_ex costs about 4.5 us per
     * call before any arithmetic (its thread decorator and block setup; 1x16 @ 16x16: 4.7 us
     * against 74 ns for gemv), which batch-1 inference and per-sample products paid on every
     * layer. y = op(M) x: for m = 1, C^T = B^T A^T; for n = 1, C = A B. */
    if (k > 0 && (m == 1 || n == 1)) {
        const bool row = m == 1;
        const trans_t t = row ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE;
        const dim_t rows = row ? (dim_t)k : (dim_t)m, cols = row ? (dim_t)n : (dim_t)k;
        const void *mat = row ? b : a, *x = row ? a : b;
        const inc_t rs = row ? (inc_t)rsb : (inc_t)rsa, cs = row ? (inc_t)csb : (inc_t)csa;
        const inc_t incx = row ? (inc_t)csa : (inc_t)rsb, incy = row ? (inc_t)csc : (inc_t)rsc;
        if (dtype == NB_F32) {
            float al = (float)alpha, be = (float)beta;
            bli_sgemv_ex(t, BLIS_NO_CONJUGATE, rows, cols, &al, (float *)mat, rs, cs, (float *)x,
                         incx, &be, (float *)c, incy, NULL, &rntm);
        } else {
            double al = alpha, be = beta;
            bli_dgemv_ex(t, BLIS_NO_CONJUGATE, rows, cols, &al, (double *)mat, rs, cs, (double *)x,
                         incx, &be, (double *)c, incy, NULL, &rntm);
        }
        return;
    }
    if (dtype == NB_F32) {
        float al = (float)alpha, be = (float)beta;
        bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, (dim_t)m, (dim_t)n, (dim_t)k, &al,
                     (float *)a, (inc_t)rsa, (inc_t)csa, (float *)b, (inc_t)rsb, (inc_t)csb, &be,
                     (float *)c, (inc_t)rsc, (inc_t)csc, NULL, &rntm);
    } else {
        double al = alpha, be = beta;
        bli_dgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, (dim_t)m, (dim_t)n, (dim_t)k, &al,
                     (double *)a, (inc_t)rsa, (inc_t)csa, (double *)b, (inc_t)rsb, (inc_t)csb, &be,
                     (double *)c, (inc_t)rsc, (inc_t)csc, NULL, &rntm);
    }
}
