/* ops/gemm.c — the only file that talks to BLIS.
 *
 * Debian's BLIS 0.9.0 declares the typed API's operands as non-const pointers, so this is also
 * the one place where const is cast away (BLIS only reads A and B).
 *
 * Kernel choice. BLIS picks its sub-configuration (the micro-kernels) once per process from the
 * CPU id. BLIS 0.9.0 identifies AMD processors by family and model and knows nothing after Zen 3:
 * on the Zen 4 and Zen 5 models it does not list it falls back to "generic", portable C kernels
 * that run at a fraction of the machine's speed (41 vs 217 GFLOP/s for a 1024^3 SGEMM on a Zen 5
 * core). BLIS reads its override, BLIS_ARCH_TYPE, from the environment when it initialises, so,
 * before anything calls BLIS, a library constructor sets that variable for AMD's two families,
 * initialises BLIS, and removes the variable again so child processes do not inherit it:
 *   - family 19h (Zen 3, Zen 4): the "zen3" sub-configuration, BLIS's own choice for the models
 *     it knows. On a Zen 4 (model 11h), which runs AVX-512 as two 256-bit halves, its AVX2
 *     kernels matched the AVX-512 "skx" ones on a 1024^3 SGEMM (109 vs 105 GFLOP/s) and beat
 *     them on the skinny products of convolutions and batch-32 layers (32 x 512 x 8192: 107 vs
 *     65), where zen3 has BLIS's unpacked small-dimension ("sup") kernels and skx has none;
 *   - family 1Ah and later (Zen 5, full-width AVX-512) with AVX-512 F/DQ/BW/VL: "skx".
 * A BLIS_ARCH_TYPE set by the user always wins; NB_BLIS_ARCH=blis leaves BLIS's own choice
 * alone, and NB_BLIS_ARCH=skx, zen3 or haswell selects that sub-configuration. nb_blas_info()
 * says what was chosen and why. */
#include "ops/op_def.h"

#include <blis.h>
#include <omp.h>
#include <pthread.h>
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
/* The sub-configuration nabla picks for this CPU (see "Kernel choice" above), or -1 for BLIS's
 * own choice. The OS must save the AVX state too, which __builtin_cpu_supports checks (XGETBV). */
static int amd_arch(const char **why)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d))
        return -1;
    const bool amd = b == 0x68747541u && d == 0x69746e65u && c == 0x444d4163u; /* AuthenticAMD */
    if (!amd || !__get_cpuid(1, &a, &b, &c, &d))
        return -1;
    const unsigned base = (a >> 8) & 0xf, family = base == 0xf ? base + ((a >> 20) & 0xff) : base;
    __builtin_cpu_init();
    if (family == 0x19 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        *why = "chosen by nabla: AMD family 19h (Zen 3 / Zen 4), whose later models BLIS 0.9 "
               "does not recognise";
        return (int)BLIS_ARCH_ZEN3;
    }
    if (family >= 0x1a && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) {
        *why = "chosen by nabla: AMD CPU with AVX-512, which BLIS 0.9 does not recognise";
        return (int)BLIS_ARCH_SKX;
    }
    return -1;
}
#endif

/* NB_BLIS_ARCH's names: a sub-configuration, or -1 for "blis" (BLIS's own choice); -2 unknown. */
static int named_arch(const char *mode)
{
    if (strcmp(mode, "blis") == 0)
        return -1;
    if (strcmp(mode, "skx") == 0)
        return (int)BLIS_ARCH_SKX;
    if (strcmp(mode, "zen3") == 0)
        return (int)BLIS_ARCH_ZEN3;
    if (strcmp(mode, "haswell") == 0)
        return (int)BLIS_ARCH_HASWELL;
    return -2;
}

__attribute__((constructor)) static void nbi_gemm_select_kernels(void)
{
    const char *why = "BLIS's own choice";
    int want = -1;
    bool set = false;
    const char *mode = getenv("NB_BLIS_ARCH");
    if (getenv("BLIS_ARCH_TYPE")) {
        why = "BLIS_ARCH_TYPE from the environment";
    } else if (mode && *mode) {
        want = named_arch(mode);
        why = want == -1   ? "BLIS's own choice: NB_BLIS_ARCH=blis"
              : want == -2 ? "BLIS's own choice: NB_BLIS_ARCH is not blis, skx, zen3 or haswell"
                           : "NB_BLIS_ARCH from the environment";
    } else {
#ifdef NBI_X86
        want = amd_arch(&why);
#endif
    }
    if (want >= 0) {
        char id[16];
        snprintf(id, sizeof id, "%d", want);
        set = setenv("BLIS_ARCH_TYPE", id, 0) == 0;
        if (!set)
            why = "BLIS's own choice (the environment could not be set)";
    }
    bli_init();
    arch_t arch = bli_arch_query_id();
    if (set)
        unsetenv("BLIS_ARCH_TYPE");
    snprintf(blas_info, sizeof blas_info, "BLIS %s, sub-configuration %s (%s)",
             bli_info_get_version_str(), bli_arch_string(arch), why);
}

/* ---- small products on BLIS's micro-kernel, without its driver ----
 *
 * Debian's BLIS is the OpenMP build: every bli_?gemm_ex call enters an OpenMP parallel region,
 * even with one thread, and libgomp ends every region with a futex wake-up, a system call. On
 * this project's VMs a system call costs microseconds, so each product paid about 4.5 us before
 * any arithmetic (16^3: 4.5 us, 1.8 GFLOP/s). Products of at most NBI_SMALL_GEMM multiply-adds
 * that run on one thread therefore skip BLIS's driver. Where the sub-configuration has
 * small-dimension kernels they run on those (gemm_sup, further down); otherwise the loops below
 * pack the operands the way BLIS does and call BLIS's own micro-kernel for the sub-configuration
 * it chose (the same arithmetic, in the same order within a tile). Larger products, where the
 * region's cost is noise, and multi-threaded ones go through bli_?gemm_ex as before, except the
 * smallest (NBI_SMALL_GEMM_ALONE), which also run on the calling thread when more threads are set.
 */
/* m n k. 2^22 takes W4's 32 x 784 x 128 products (3.2 M) off BLIS's driver: W4 0.72 -> 0.62 ms
 * per step against 2^21; W1, W5 and W8 within noise of it; 2^24 no better. */
#define NBI_SMALL_GEMM (1 << 22)
/* With more threads, a product this small is not worth waking them: it runs on the caller. */
#define NBI_SMALL_GEMM_ALONE (1 << 18) /* 64^3 */

typedef struct small_gemm {
    void_fp ukr;
    int64_t mr, nr, mc, kc, nc;
    cntx_t *cntx;
    bool cols; /* the kernel stores a tile fastest along columns (else along rows) */
    bool ok;
} small_gemm;

static small_gemm small_cfg[2]; /* float, double */

/* BLIS's small-dimension ("sup") kernels of the sub-configuration, for the loops of gemm_sup. */
typedef struct sup_gemm {
    void_fp ker[BLIS_NUM_3OP_RC_COMBOS]; /* by stor3_t: C, A, B each by rows or by columns */
    bool rows[BLIS_NUM_3OP_RC_COMBOS];   /* the kernel prefers C by rows */
    int64_t mr, nr, nre, mc, kc, nc;
    cntx_t *cntx;
    bool ok;
} sup_gemm;

static sup_gemm sup_cfg[2]; /* float, double */
static bool sup_kernels;    /* the sub-configuration has BLIS's small-dimension kernels */
static pthread_once_t small_once = PTHREAD_ONCE_INIT;
static pthread_key_t small_key;
static bool small_key_ok;

typedef struct small_buf {
    void *p;
    size_t cap;
} small_buf;

static void small_buf_free(void *v)
{
    small_buf *sb = v;
    free(sb->p);
    free(sb);
}

static void small_init(void)
{
    small_key_ok = pthread_key_create(&small_key, small_buf_free) == 0;
    cntx_t *cntx = bli_gks_query_cntx();
    sup_kernels = cntx && bli_cntx_get_l3_sup_thresh_dt(BLIS_FLOAT, BLIS_MT, cntx) > 0;
    const num_t dts[2] = {BLIS_FLOAT, BLIS_DOUBLE};
    for (int i = 0; i < 2 && cntx; i++) {
        small_gemm *g = &small_cfg[i];
        const num_t dt = dts[i];
        g->cntx = cntx;
        g->ukr = bli_cntx_get_l3_nat_ukr_dt(dt, BLIS_GEMM_UKR, cntx);
        g->mr = bli_cntx_get_blksz_def_dt(dt, BLIS_MR, cntx);
        g->nr = bli_cntx_get_blksz_def_dt(dt, BLIS_NR, cntx);
        g->mc = bli_cntx_get_blksz_def_dt(dt, BLIS_MC, cntx);
        g->kc = bli_cntx_get_blksz_def_dt(dt, BLIS_KC, cntx);
        g->nc = bli_cntx_get_blksz_def_dt(dt, BLIS_NC, cntx);
        g->cols = bli_cntx_l3_nat_ukr_prefers_cols_dt(dt, BLIS_GEMM_UKR, cntx);
        /* Packed panels here are exactly MR (NR) wide; a kernel that wants them padded, or a
         * C-preference that differs between the two, keeps BLIS's driver. */
        g->ok = g->ukr && g->mr > 0 && g->nr > 0 && g->mc >= g->mr && g->kc > 0 && g->nc >= g->nr &&
                bli_cntx_get_blksz_max_dt(dt, BLIS_MR, cntx) == g->mr &&
                bli_cntx_get_blksz_max_dt(dt, BLIS_NR, cntx) == g->nr && g->mc % g->mr == 0 &&
                g->nc % g->nr == 0;
        sup_gemm *s = &sup_cfg[i];
        s->cntx = cntx;
        s->mr = bli_cntx_get_l3_sup_blksz_def_dt(dt, BLIS_MR, cntx);
        s->nr = bli_cntx_get_l3_sup_blksz_def_dt(dt, BLIS_NR, cntx);
        s->nre = bli_cntx_get_l3_sup_blksz_max_dt(dt, BLIS_NR, cntx) - s->nr;
        s->mc = bli_cntx_get_l3_sup_blksz_def_dt(dt, BLIS_MC, cntx);
        s->kc = bli_cntx_get_l3_sup_blksz_def_dt(dt, BLIS_KC, cntx);
        s->nc = bli_cntx_get_l3_sup_blksz_def_dt(dt, BLIS_NC, cntx);
        s->ok = sup_kernels && s->mr > 0 && s->nr > 0 && s->nre >= 0 && s->mc >= s->mr &&
                s->kc >= 4 && s->nc >= s->nr;
        for (int id = 0; id < BLIS_NUM_3OP_RC_COMBOS; id++) {
            s->ker[id] = bli_cntx_get_l3_sup_ker_dt(dt, (stor3_t)id, cntx);
            s->rows[id] = bli_cntx_l3_sup_ker_prefers_rows_dt(dt, (stor3_t)id, cntx);
        }
    }
}

/* This thread's packing space, at least `bytes` (64-byte aligned); NULL when out of memory. */
static void *small_space(size_t bytes)
{
    small_buf *sb = pthread_getspecific(small_key);
    if (!sb) {
        sb = calloc(1, sizeof *sb);
        if (!sb || pthread_setspecific(small_key, sb) != 0) {
            free(sb);
            return NULL;
        }
    }
    if (sb->cap < bytes) {
        const size_t cap = (bytes + 4095) & ~(size_t)4095;
        void *p = aligned_alloc(64, cap);
        if (!p)
            return NULL;
        free(sb->p);
        sb->p = p, sb->cap = cap;
    }
    return sb->p;
}

#define NB_KERNELS "ops/gemm_kernels.h"
#include "nabla/typed.h"

/* Restates C = A B as C^T = B^T A^T: the operands swap, and so do every matrix's strides. */
static void transpose_product(int64_t *m, int64_t *n, const void **a, int64_t *rsa, int64_t *csa,
                              const void **b, int64_t *rsb, int64_t *csb, int64_t *rsc,
                              int64_t *csc)
{
    const void *t = *a;
    *a = *b, *b = t;
    int64_t x = *m;
    *m = *n, *n = x;
    x = *rsa, *rsa = *csb, *csb = x;
    x = *csa, *csa = *rsb, *rsb = x;
    x = *rsc, *rsc = *csc, *csc = x;
}

/* The product on the calling thread without BLIS's driver; false when it does not apply (the
 * caller then uses bli_?gemm_ex). */
static bool gemm_small(nb_dtype dtype, int64_t m, int64_t n, int64_t k, double alpha, const void *a,
                       int64_t rsa, int64_t csa, const void *b, int64_t rsb, int64_t csb,
                       double beta, void *c, int64_t rsc, int64_t csc)
{
    pthread_once(&small_once, small_init);
    const small_gemm *g = &small_cfg[dtype == NB_F32 ? 0 : 1];
    if (!g->ok || !small_key_ok)
        return false;
    /* The kernels store a tile fastest along their preferred direction: a row-stored C is
     * computed as C^T = B^T A^T for a kernel that prefers columns, and the other way round. */
    if ((g->cols && csc == 1 && rsc != 1) || (!g->cols && rsc == 1 && csc != 1))
        transpose_product(&m, &n, &a, &rsa, &csa, &b, &rsb, &csb, &rsc, &csc);
    const size_t es = dtype == NB_F32 ? sizeof(float) : sizeof(double);
    const int64_t mc = m < g->mc ? m : g->mc, nc = n < g->nc ? n : g->nc,
                  kc = k < g->kc ? k : g->kc;
    const size_t a_elems = (size_t)((mc + g->mr - 1) / g->mr * g->mr * kc),
                 b_elems = (size_t)((nc + g->nr - 1) / g->nr * g->nr * kc);
    const size_t a_bytes = (a_elems * es + 63) & ~(size_t)63;
    char *space = small_space(a_bytes + b_elems * es);
    if (!space)
        return false;
    if (dtype == NB_F32)
        gemm_small_f32(g, m, n, k, (float)alpha, a, rsa, csa, b, rsb, csb, (float)beta, c, rsc, csc,
                       (float *)space, (float *)(space + a_bytes));
    else
        gemm_small_f64(g, m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc,
                       (double *)space, (double *)(space + a_bytes));
    return true;
}

/* ---- operand layout for BLIS's small-dimension kernels ----
 * With A stored by rows and B by columns (both contiguous along k: x @ W^T, and the weight
 * gradient dY @ X^T of a product), the "sup" kernels of zen3 / haswell ran well below the other
 * layouts for a small k or a thin operand. Copying the smaller operand transposed (A by
 * columns when m <= n, else B by rows), copy included, measured (GFLOP/s, one thread, Zen 4):
 * 1024 x 321 x 32 (an LSTM step's weight gradient) 49 -> 101, 288 x 1024 x 32 50 -> 69,
 * 2048 x 128 x 128 (attention) 88 -> 109, 64 x 3136 x 128 87 -> 100, 32 x 288 x 1024 64 -> 94,
 * 32 x 512 x 8192 54 -> 66; but 512 x 2048 x 128 85 -> 64, 256^3 99 -> 93, 32 x 128 x 784
 * 100 -> 83. So the copy is made for k <= 64, for k <= 128 when the smaller side is under 512,
 * and for a long k (below); into this thread's packing space, at most NT_COPY_MAX bytes, and
 * never for skx, which has no sup kernels (its rates did not move). Returns the copy, or NULL
 * when the product runs as it is.
 *
 * A long k (>= 1024): with A copied (m <= n: x @ W^T for a batch smaller than the layer), *ct
 * is also set, to room for C^T after the copy, and nbi_gemm computes C^T = W t, all three
 * stored by rows, then adds its transpose into C: the kernels stream W's rows instead of
 * reading a column-stored W. Otherwise *ct is NULL. Before -> after, copy, product and
 * transpose included (ms, one thread, Zen 4, nb_tensor_addmm, m x n x k): 32 x 512 x 8192
 * (W3's FC layer) 4.4-4.9 -> 3.2-3.6, 64 x 512 x 2048 2.66 -> 1.27, 128 x 1024 x 3072 16.1 ->
 * 8.2, 256 x 1024 x 3072 31.7 -> 17.6, 200 x 600 x 1024 4.70 -> 2.73; with B copied by rows,
 * 512 x 128 x 2048 4.40 -> 2.55. Where no side is under 512, BLIS packs, and the copy lost
 * (512 x 512 x 2048 10.4 -> 11.9); with both sides between 128 and 512 it was mixed (256 x 256 x
 * 4096 8.9 -> 7.1, 300 x 300 x 3000 5.5 -> 7.0), and with B copied for 256 <= n < 512 even
 * (2048 x 256 x 1024 10.7 -> 10.9). So a long k takes the copy for a side of at most 128, and
 * for m < 512 when n >= 512. At two threads 32 x 512 x 8192 2.83 -> 1.97, 128 x 512 x 2048 3.54
 * -> 1.59; 64 x 64 x 4096 0.30 -> 0.37 lost, the copy and transpose being on one thread. */
#define NT_COPY_MAX ((size_t)4 << 20)

static const void *nt_transposed(nb_dtype dtype, int64_t m, int64_t n, int64_t k, const void *a,
                                 int64_t rsa, int64_t csa, const void *b, int64_t rsb, int64_t csb,
                                 void **ct)
{
    *ct = NULL;
    pthread_once(&small_once, small_init);
    const bool nt = csa == 1 && rsa != 1 && rsb == 1 && csb != 1;
    const int64_t small = m <= n ? m : n;
    const bool long_k = k >= 1024 && (small <= 128 || (m <= n && m < 512 && n >= 512));
    if (!sup_kernels || !small_key_ok || !nt || !(k <= 64 || (k <= 128 && small < 512) || long_k))
        return NULL;
    const size_t es = dtype == NB_F32 ? sizeof(float) : sizeof(double);
    const size_t t_bytes = ((size_t)small * (size_t)k * es + 63) & ~(size_t)63;
    if (t_bytes > NT_COPY_MAX)
        return NULL;
    /* A thin A with a long k: room for C^T after the copy (see nbi_gemm) */
    const size_t ct_bytes = (size_t)m * (size_t)n * es;
    const bool with_ct = m <= n && k >= 1024 && ct_bytes <= NT_COPY_MAX;
    void *t = small_space(t_bytes + (with_ct ? ct_bytes : 0));
    if (!t)
        return NULL;
    if (with_ct)
        *ct = (char *)t + t_bytes;
    /* A (m x k, rows rsa apart) -> t[kk m + i]; B (k x n, columns csb apart) -> t[kk n + j] */
    const bool ta = m <= n;
    const int64_t rows = ta ? m : k, cols = ta ? k : n, srs = ta ? rsa : 1, scs = ta ? 1 : csb;
    const int64_t drs = ta ? 1 : n, dcs = ta ? m : 1;
    const void *src = ta ? a : b;
    if (dtype == NB_F32) {
        nbi_copy_2d_u32(t, drs, dcs, src, srs, scs, rows, cols);
    } else {
        const double *sp = src;
        double *dp = t;
        for (int64_t i0 = 0; i0 < rows; i0 += 8)
            for (int64_t j = 0; j < cols; j++)
                for (int64_t i = i0; i < i0 + 8 && i < rows; i++)
                    dp[i * drs + j * dcs] = sp[i * srs + j * scs];
    }
    return t;
}

/* ---- small products on BLIS's small-dimension kernels, without its driver ----
 * Where the sub-configuration has sup kernels, BLIS's driver sends every product with a side
 * under its thresholds (a few hundred) to them: they read A and B unpacked, so a small product
 * pays no packing. Products small enough to skip the driver run the same kernels through the
 * same loops here (gemm_sup in gemm_kernels.h), on the calling thread: what BLIS would compute,
 * without its OpenMP region. A storage combination the kernel does not take as primary is
 * computed as C^T = B^T A^T, as BLIS does. Against the packing loops above (GFLOP/s, one
 * thread, Zen 4, zen3 kernels): attention's 64 x 32 x 64 blocks 48 -> 110, its 64 x 64 x 32
 * scores 61 -> 87, 32 x 784 x 128 66 -> 103, 128 x 128 x 256 76 -> 110; per step, W4
 * 0.71 -> 0.57 ms and W8's attention 35.8 -> 24.4 ms. False when it does not apply (no sup kernels,
 * a matrix with neither stride 1, or a negative stride). */
static bool gemm_sup(nb_dtype dtype, int64_t m, int64_t n, int64_t k, double alpha, const void *a,
                     int64_t rsa, int64_t csa, const void *b, int64_t rsb, int64_t csb, double beta,
                     void *c, int64_t rsc, int64_t csc)
{
    pthread_once(&small_once, small_init);
    const sup_gemm *g = &sup_cfg[dtype == NB_F32 ? 0 : 1];
    if (!g->ok || rsa < 0 || csa < 0 || rsb < 0 || csb < 0 || rsc < 0 || csc < 0)
        return false;
    stor3_t id = bli_stor3_from_strides(rsc, csc, rsa, csa, rsb, csb);
    if (id == BLIS_XXX)
        return false;
    const bool rrr_rrc_rcr_crr =
        id == BLIS_RRR || id == BLIS_RRC || id == BLIS_RCR || id == BLIS_CRR;
    if (rrr_rrc_rcr_crr != g->rows[id]) { /* not primary: C^T = B^T A^T */
        transpose_product(&m, &n, &a, &rsa, &csa, &b, &rsb, &csb, &rsc, &csc);
        id = bli_stor3_trans(id);
    }
    if (!g->ker[id])
        return false;
    /* the inner block BLIS's var2m takes for this combination without packing */
    const int64_t KC0 = g->kc, MR = g->mr, NR = g->nr;
    int64_t kc;
    if (id == BLIS_RRR || id == BLIS_CCC || id == BLIS_RRC || id == BLIS_CRC)
        kc = KC0;
    else if (m <= MR && n <= NR)
        kc = KC0;
    else if (m <= 2 * MR && n <= 2 * NR)
        kc = KC0 / 2;
    else if (m <= 3 * MR && n <= 3 * NR)
        kc = KC0 / 3 / 4 * 4;
    else if (m <= 4 * MR && n <= 4 * NR)
        kc = KC0 / 4;
    else
        kc = KC0 / 5 / 4 * 4;
    if (dtype == NB_F32)
        gemm_sup_f32(g, g->ker[id], kc, m, n, k, (float)alpha, a, rsa, csa, b, rsb, csb,
                     (float)beta, c, rsc, csc);
    else
        gemm_sup_f64(g, g->ker[id], kc, m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc,
                     csc);
    return true;
}

/* ---- BLIS's driver: small-dimension or packed kernels ----
 * BLIS's driver sends a product with k under its threshold (240 for float on zen3) to its
 * small-dimension kernels, whatever the size of C. For a large C and a short k the packed
 * algorithm was faster: every product of more than NBI_SMALL_GEMM multiply-adds in the eight
 * workloads, timed both ways (ms, one thread, Zen 4, zen3 kernels), lost only where C has at
 * least 2^20 elements and k <= 128 (W3's weight gradient 512 x 8192 x 32 5.15 -> 3.49, W6's
 * 768 x 2048 x 65 3.34 -> 2.11, W8's 2048 x 512 x 128 3.19 -> 2.68 with B by columns and 2.64
 * -> 2.60 by rows; the same at two threads), and won or tied everywhere else (W5's 1024 x 32 x
 * 321 sup 0.19 against 0.25; W8's 2048 x 128 x 128 0.60 against 0.67). */
#define PACKED_IS_FASTER(m, n, k) ((double)(m) * (double)(n) >= 1048576.0 && (k) <= 128)

const char *nb_blas_info(void)
{
    return blas_info;
}

/* bli_?gemm_ex on the driver, packed where PACKED_IS_FASTER. */
static void gemm_blis(nb_dtype dtype, rntm_t *rntm, int64_t m, int64_t n, int64_t k, double alpha,
                      const void *a, int64_t rsa, int64_t csa, const void *b, int64_t rsb,
                      int64_t csb, double beta, void *c, int64_t rsc, int64_t csc)
{
    if (PACKED_IS_FASTER(m, n, k))
        bli_rntm_disable_l3_sup(rntm);
    if (dtype == NB_F32) {
        float al = (float)alpha, be = (float)beta;
        bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, (dim_t)m, (dim_t)n, (dim_t)k, &al,
                     (float *)a, (inc_t)rsa, (inc_t)csa, (float *)b, (inc_t)rsb, (inc_t)csb, &be,
                     (float *)c, (inc_t)rsc, (inc_t)csc, NULL, rntm);
    } else {
        double al = alpha, be = beta;
        bli_dgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, (dim_t)m, (dim_t)n, (dim_t)k, &al,
                     (double *)a, (inc_t)rsa, (inc_t)csa, (double *)b, (inc_t)rsb, (inc_t)csb, &be,
                     (double *)c, (inc_t)rsc, (inc_t)csc, NULL, rntm);
    }
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
    /* A product with one row or one column is BLIS's gemv, which enters no OpenMP region (see
     * "small products" above; 1x16 @ 16x16: 74 ns against 4.7 us through bli_sgemm_ex): batch-1
     * inference and per-sample products. y = op(M) x: for m = 1, C^T = B^T A^T; for n = 1,
     * C = A B. */
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
    const double mnk = (double)m * (double)n * (double)k;
    const bool small =
        k > 0 && mnk <= (bli_rntm_num_threads(&rntm) == 1 ? NBI_SMALL_GEMM : NBI_SMALL_GEMM_ALONE);
    void *ct;
    const void *t = nt_transposed(dtype, m, n, k, a, rsa, csa, b, rsb, csb, &ct);
    void *const c0 = c;
    const int64_t m0 = m, n0 = n, rsc0 = rsc, csc0 = csc;
    const double beta0 = beta;
    if (ct) { /* C^T [n, m] = B^T [n, k] (B's columns, by rows) @ t [k, m], into ct by rows */
        a = b, rsa = csb, csa = 1;
        b = t, rsb = m, csb = 1;
        m = n0, n = m0;
        c = ct, rsc = m0, csc = 1, beta = 0.0;
    } else if (t && m <= n) {
        a = t, rsa = 1, csa = m;
    } else if (t) {
        b = t, rsb = n, csb = 1;
    }
    /* gemm_small packs into the same per-thread space that holds a transposed copy (t), so it
     * is not the fallback once the copy is made: BLIS's driver takes that product instead. */
    if (!(small &&
          (gemm_sup(dtype, m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc) ||
           (!t && gemm_small(dtype, m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc)))))
        gemm_blis(dtype, &rntm, m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc);
    if (ct) /* C = C^T's transpose (+ beta C) */
        NB_DISPATCH(dtype, add_transposed, c0, rsc0, csc0, ct, m0, n0, beta0);
}
