/* ops/vpow.c — pow on float arrays (ops/vpow.h): nabla's AVX-512 kernel, or libm's powf.
 *
 * The AVX-512 kernel, for a base x > 0 (normal) and a finite exponent e:
 *   log2(x): x = 2^k z with z in [0.699, 1.398); the top 4 bits of z's mantissa pick c, the
 *     midpoint of one of 16 subintervals; log2(x) = k + log2(c) + log2(1 + r), r = z/c - 1 in
 *     +-1/32 exactly (one FMA, in double), log2(1 + r) by its series to r^6 (error < 1e-11).
 *   t = e log2(x) in double; 2^t = 2^(m/16) 2^u with m = round(16 t), u = t - m/16 in +-1/32:
 *     2^(m/16) is a table entry plus m's power of two added to its exponent bits, 2^u by its
 *     series to u^4 (relative error < 5e-11).
 * The tables (16 doubles each) sit in two registers and are read by permutes, not by gathers,
 * which are slow on current x86 cores. The result is then within 1e-10 of x^e before its one
 * rounding to float: within 1 ulp, and exact for x = 1 or e = 0. A zero base is handled
 * in-vector (0^e is 0, 1 or inf), every other lane the kernel does not cover (x negative,
 * subnormal, -0, inf or NaN; e inf or NaN; |t| >= 126, so the result would leave float's normal
 * range) is recomputed by libm's scalar powf: C's results, special cases included. The tables
 * come from scripts/gen_vpow_tables.py. */
#include "ops/vpow.h"

#include <math.h>
#include <stddef.h>

#include "ops/vmath.h"

#if defined(__AVX512F__) && defined(__AVX512DQ__)
#include <immintrin.h>

static const double INVC[16] = {
    0x1.661ec6a5122f9p+0, 0x1.571ed3c506b3ap+0, 0x1.49539e3b2d067p+0, 0x1.3c995a47babe7p+0,
    0x1.30d190130d190p+0, 0x1.25e22708092f1p+0, 0x1.1bb4a4046ed29p+0, 0x1.12358e75d3033p+0,
    0x1.0953f39010954p+0, 0x1.0000000000000p+0, 0x1.e573ac901e574p-1, 0x1.ca4b3055ee191p-1,
    0x1.b2036406c80d9p-1, 0x1.9c2d14ee4a102p-1, 0x1.886e5f0abb04ap-1, 0x1.767dce434a9b1p-1};
static const double LOGC[16] = {-0x1.efec61b011f85p-2, -0x1.b0b67f4f46812p-2,
                                -0x1.7418acebbf18fp-2, -0x1.39de8e1559f6ep-2,
                                -0x1.01d9bbcfa61d4p-2, -0x1.97c1cb13c7ec0p-3,
                                -0x1.2f9e32d5bfdd1p-3, -0x1.960caf9abb7c1p-4,
                                -0x1.a6f9c377dd31dp-5, 0x0.0p+0,
                                0x1.3aa2fdd27f1bfp-4,  0x1.476a9f983f74dp-3,
                                0x1.e840be74e6a4dp-3,  0x1.406463b1b0448p-2,
                                0x1.88e9c72e0b224p-2,  0x1.ce0a4923a587dp-2};
static const uint64_t EXP2[16] = {
    0x3ff0000000000000, 0x3fefb5586cf9890f, 0x3fef72b83c7d517b, 0x3fef387a6e756238,
    0x3fef06fe0a31b715, 0x3feedea64c123422, 0x3feebfdad5362a27, 0x3feeab07dd485429,
    0x3feea09e667f3bcd, 0x3feea11473eb0187, 0x3feeace5422aa0db, 0x3feec49182a3f090,
    0x3feee89f995ad3ad, 0x3fef199bdd85529c, 0x3fef5818dcfba487, 0x3fefa4afa2a490da};

#define NB_LN2     0.69314718055994530942
#define NB_INV_LN2 1.44269504088896340736

/* log2(1 + r) = (r - r^2/2 + r^3/3 - r^4/4 + r^5/5 - r^6/6) / ln 2 */
#define L1 (NB_INV_LN2)
#define L2 (-NB_INV_LN2 / 2)
#define L3 (NB_INV_LN2 / 3)
#define L4 (-NB_INV_LN2 / 4)
#define L5 (NB_INV_LN2 / 5)
#define L6 (-NB_INV_LN2 / 6)
/* 2^u = sum (u ln 2)^k / k!, k <= 4 */
#define E1 (NB_LN2)
#define E2 (NB_LN2 * NB_LN2 / 2)
#define E3 (NB_LN2 * NB_LN2 * NB_LN2 / 6)
#define E4 (NB_LN2 * NB_LN2 * NB_LN2 * NB_LN2 / 24)

#define LOG2_OFF  0x3f330000 /* bits of 0.699, the low end of z's range */
#define T_LIMIT   126.0      /* |t| beyond: the result may leave float's normal range */
#define ROUND_BIG 0x1.8p52   /* x + ROUND_BIG rounds x to an integer in the low mantissa bits */

/* The two 8-lane halves of a 16-lane float vector, widened to double. */
static inline __m512d lo_pd(__m512 v)
{
    return _mm512_cvtps_pd(_mm512_castps512_ps256(v));
}

static inline __m512d hi_pd(__m512 v)
{
    return _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1));
}

static inline __m512 join_ps(__m512d lo, __m512d hi)
{
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo)), _mm512_cvtpd_ps(hi), 1);
}

/* log2 of 8 lanes: z (in [0.699, 1.398)), k (the power of two) and the table index (low 4 bits
 * of each 64-bit lane) of x = 2^k z. */
static inline __m512d log2_8(__m256 z, __m256i k, __m256i idx)
{
    const __m512i i = _mm512_cvtepu32_epi64(idx);
    const __m512d invc =
        _mm512_permutex2var_pd(_mm512_loadu_pd(INVC), i, _mm512_loadu_pd(INVC + 8));
    const __m512d logc =
        _mm512_permutex2var_pd(_mm512_loadu_pd(LOGC), i, _mm512_loadu_pd(LOGC + 8));
    const __m512d r = _mm512_fmsub_pd(_mm512_cvtps_pd(z), invc, _mm512_set1_pd(1));
    __m512d q = _mm512_fmadd_pd(_mm512_set1_pd(L6), r, _mm512_set1_pd(L5));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(L4));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(L3));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(L2));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(L1));
    return _mm512_fmadd_pd(q, r, _mm512_add_pd(logc, _mm512_cvtepi32_pd(k)));
}

/* log2 of 16 lanes, as two halves of 8 doubles; valid where x is positive and normal. */
static inline void log2_16(__m512 x, __m512d l[2])
{
    const __m512i ix = _mm512_castps_si512(x);
    const __m512i tmp = _mm512_sub_epi32(ix, _mm512_set1_epi32(LOG2_OFF));
    const __m512i idx = _mm512_srli_epi32(tmp, 23 - 4);
    const __m512i top = _mm512_and_si512(tmp, _mm512_set1_epi32((int)0xff800000u));
    const __m512 z = _mm512_castsi512_ps(_mm512_sub_epi32(ix, top));
    const __m512i k = _mm512_srai_epi32(top, 23);
    l[0] =
        log2_8(_mm512_castps512_ps256(z), _mm512_castsi512_si256(k), _mm512_castsi512_si256(idx));
    l[1] = log2_8(_mm512_extractf32x8_ps(z, 1), _mm512_extracti64x4_epi64(k, 1),
                  _mm512_extracti64x4_epi64(idx, 1));
}

/* 2^t of 8 lanes, for |t| < T_LIMIT. */
static inline __m512d exp2_8(__m512d t)
{
    const __m512d big = _mm512_set1_pd(ROUND_BIG);
    const __m512d s = _mm512_fmadd_pd(t, _mm512_set1_pd(16), big); /* m = round(16 t), in bits */
    const __m512i m = _mm512_castpd_si512(s);
    const __m512d u = _mm512_fnmadd_pd(_mm512_sub_pd(s, big), _mm512_set1_pd(1.0 / 16), t);
    const __m512i scale = _mm512_add_epi64(
        _mm512_permutex2var_epi64(_mm512_loadu_si512(EXP2), m, _mm512_loadu_si512(EXP2 + 8)),
        _mm512_slli_epi64(m, 48));
    __m512d p = _mm512_fmadd_pd(_mm512_set1_pd(E4), u, _mm512_set1_pd(E3));
    p = _mm512_fmadd_pd(p, u, _mm512_set1_pd(E2));
    p = _mm512_fmadd_pd(p, u, _mm512_set1_pd(E1));
    p = _mm512_fmadd_pd(p, u, _mm512_set1_pd(1));
    return _mm512_mul_pd(_mm512_castsi512_pd(scale), p);
}

/* Lanes of x that are positive normal floats, and lanes of +0. */
static inline __mmask16 normal_mask(__m512 x)
{
    const __m512i off = _mm512_sub_epi32(_mm512_castps_si512(x), _mm512_set1_epi32(0x00800000));
    return _mm512_cmplt_epu32_mask(off, _mm512_set1_epi32(0x7f000000));
}

static inline __mmask16 pos_zero_mask(__m512 x)
{
    return _mm512_cmpeq_epi32_mask(_mm512_castps_si512(x), _mm512_setzero_si512());
}

/* x^e from log2(x) (two halves) where it is covered; *rest gets the lanes that are not (see
 * the file's comment), except lanes of x = +0, which get 0^e here. */
static inline __m512 pow_from_log2(const __m512d l[2], __m512 x, __m512 e, __mmask16 *rest)
{
    const __m512d t0 = _mm512_mul_pd(l[0], lo_pd(e)), t1 = _mm512_mul_pd(l[1], hi_pd(e));
    const __m512d lim = _mm512_set1_pd(T_LIMIT);
    const __mmask16 far =
        (__mmask16)(_mm512_cmp_pd_mask(_mm512_abs_pd(t0), lim, _CMP_NLT_UQ) |
                    (unsigned)_mm512_cmp_pd_mask(_mm512_abs_pd(t1), lim, _CMP_NLT_UQ) << 8);
    const __mmask16 zero = pos_zero_mask(x);
    const __m512i ebits = _mm512_and_si512(_mm512_castps_si512(e), _mm512_set1_epi32(0x7f800000));
    const __mmask16 e_inf_nan = _mm512_cmpeq_epi32_mask(ebits, _mm512_set1_epi32(0x7f800000));
    *rest = (__mmask16)(((~normal_mask(x) | far) & ~zero) | e_inf_nan);
    __m512 y = join_ps(exp2_8(t0), exp2_8(t1));
    /* 0^e: 1 for e = 0, inf for e < 0, 0 for e > 0 */
    const __mmask16 e_zero = _mm512_cmp_ps_mask(e, _mm512_setzero_ps(), _CMP_EQ_OQ);
    const __mmask16 e_neg = _mm512_cmp_ps_mask(e, _mm512_setzero_ps(), _CMP_LT_OQ);
    y = _mm512_mask_mov_ps(y, zero, _mm512_maskz_mov_ps(e_zero, _mm512_set1_ps(1)));
    return _mm512_mask_mov_ps(y, zero & e_neg, _mm512_set1_ps(INFINITY));
}

/* The lanes of m recomputed by scalar f(x, e): rare (see the file's comment). */
static __attribute__((noinline, cold)) __m512 redo_lanes(__m512 y, __mmask16 m, __m512 x, __m512 e,
                                                         float (*f)(float, float))
{
    float xs[16], es[16], ys[16];
    _mm512_storeu_ps(xs, x);
    _mm512_storeu_ps(es, e);
    _mm512_storeu_ps(ys, y);
    for (int k = 0; k < 16; k++)
        if (m >> k & 1)
            ys[k] = f(xs[k], es[k]);
    return _mm512_loadu_ps(ys);
}

static float pow_lane(float x, float e)
{
    return powf(x, e);
}

static float log_lane(float x, float e)
{
    (void)e;
    return logf(x);
}

static inline __mmask16 live_mask(int64_t left)
{
    return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
}

/* Loads and stores of 16 lanes at p + i; live: the lanes within n (all 16: plain, fast ones). */
static inline __m512 load16(__mmask16 live, const float *p, int64_t i)
{
    return live == 0xffff ? _mm512_loadu_ps(p + i) : _mm512_maskz_loadu_ps(live, p + i);
}

static inline void store16(__mmask16 live, float *p, int64_t i, __m512 v, bool acc)
{
    if (acc)
        v = _mm512_add_ps(v, load16(live, p, i));
    if (live == 0xffff)
        _mm512_storeu_ps(p + i, v);
    else
        _mm512_mask_storeu_ps(p + i, live, v);
}

/* 16 lanes of nbi_vpow_f32 from x + i, e + i * se into y + i; live: the lanes within n. */
static inline void pow_block(__mmask16 live, const float *x, const float *e, int64_t se, __m512 add,
                             float *y, int64_t i)
{
    const bool full = live == 0xffff; /* full vectors: plain loads and stores, the fast ones */
    const __m512 xv = full ? _mm512_loadu_ps(x + i) : _mm512_maskz_loadu_ps(live, x + i);
    const __m512 ev =
        _mm512_add_ps(se ? full ? _mm512_loadu_ps(e + i) : _mm512_maskz_loadu_ps(live, e + i)
                         : _mm512_set1_ps(e[0]),
                      add);
    __m512d l[2];
    __mmask16 rest;
    log2_16(xv, l);
    __m512 yv = pow_from_log2(l, xv, ev, &rest);
    if (rest & live)
        yv = redo_lanes(yv, rest & live, xv, ev, pow_lane);
    store16(live, y, i, yv, false);
}

void nbi_vpow_f32(int64_t n, const float *x, const float *e, int64_t se, float e_add, float *y)
{
    const __m512 add = _mm512_set1_ps(e_add);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        pow_block(0xffff, x, e, se, add, y, i);
    if (i < n)
        pow_block(live_mask(n - i), x, e, se, add, y, i);
}

/* 16 lanes of nbi_vpow_grad_f32 at element i. */
static inline void grad_block(__mmask16 live, int64_t i, const float *a, const float *b, int64_t sb,
                              const float *y, const float *dy, float *da, bool acc_a, float *db,
                              bool acc_b)
{
    const __m512 zero = _mm512_setzero_ps();
    const __m512 av = load16(live, a, i);
    const __m512 bv = sb ? load16(live, b, i) : _mm512_set1_ps(b[0]);
    const __m512 g = load16(live, dy, i);
    const __m512 yv = y ? load16(live, y, i) : zero;
    __m512d l[2];
    bool have_log2 = false;
    if (da) { /* b a^(b - 1), 0 where b = 0 */
        /* a^(b - 1) = y / a where a and y = a^b are positive normal floats: one division, within
         * 2 ulp; the other lanes from log2 */
        const __mmask16 by_div = y ? normal_mask(av) & normal_mask(yv) & live : 0;
        __m512 p;
        if (by_div == live)
            p = _mm512_div_ps(yv, av);
        else {
            const __m512 e = _mm512_sub_ps(bv, _mm512_set1_ps(1));
            __mmask16 rest;
            log2_16(av, l);
            have_log2 = true;
            p = pow_from_log2(l, av, e, &rest);
            if (rest & live & ~by_div)
                p = redo_lanes(p, rest & live & ~by_div, av, e, pow_lane);
            p = _mm512_mask_div_ps(p, by_div, yv, av);
        }
        const __mmask16 b_nonzero = _mm512_cmp_ps_mask(bv, zero, _CMP_NEQ_UQ);
        store16(live, da, i, _mm512_mul_ps(g, _mm512_maskz_mul_ps(b_nonzero, bv, p)), acc_a);
    }
    if (db) { /* y log(a), 0 where a = 0 and b >= 0 */
        if (!have_log2)
            log2_16(av, l);
        const __m512d ln2 = _mm512_set1_pd(NB_LN2);
        __m512 lg = join_ps(_mm512_mul_pd(l[0], ln2), _mm512_mul_pd(l[1], ln2));
        const __mmask16 pz = pos_zero_mask(av);
        lg = _mm512_mask_mov_ps(lg, pz, _mm512_set1_ps(-INFINITY));
        const __mmask16 rest = (__mmask16)(~normal_mask(av) & ~pz & live);
        if (rest)
            lg = redo_lanes(lg, rest, av, bv, log_lane);
        const __mmask16 keep = (__mmask16) ~(_mm512_cmp_ps_mask(av, zero, _CMP_EQ_OQ) &
                                             _mm512_cmp_ps_mask(bv, zero, _CMP_GE_OQ));
        store16(live, db, i, _mm512_mul_ps(g, _mm512_maskz_mul_ps(keep, yv, lg)), acc_b);
    }
}

void nbi_vpow_grad_f32(int64_t n, const float *a, const float *b, int64_t sb, const float *y,
                       const float *dy, float *da, bool acc_a, float *db, bool acc_b)
{
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        grad_block(0xffff, i, a, b, sb, y, dy, da, acc_a, db, acc_b);
    if (i < n)
        grad_block(live_mask(n - i), i, a, b, sb, y, dy, da, acc_a, db, acc_b);
}

#else /* libm's powf and logf (libmvec's vector variants where there are: ops/vmath.h) */

void nbi_vpow_f32(int64_t n, const float *x, const float *e, int64_t se, float e_add, float *y)
{
    if (se) {
#pragma omp simd
        for (int64_t i = 0; i < n; i++)
            y[i] = powf(x[i], e[i] + e_add);
    } else {
        const float p = e[0] + e_add;
#pragma omp simd
        for (int64_t i = 0; i < n; i++)
            y[i] = powf(x[i], p);
    }
}

void nbi_vpow_grad_f32(int64_t n, const float *a, const float *b, int64_t sb, const float *y,
                       const float *dy, float *da, bool acc_a, float *db, bool acc_b)
{
    for (int64_t i = 0; i < n; i++) {
        const float bi = b[i * sb];
        if (da) {
            const float v = dy[i] * (bi == 0 ? 0.0f : bi * powf(a[i], bi - 1));
            da[i] = acc_a ? da[i] + v : v;
        }
        if (db) {
            const float v = dy[i] * (a[i] == 0 && bi >= 0 ? 0.0f : y[i] * logf(a[i]));
            db[i] = acc_b ? db[i] + v : v;
        }
    }
}

#endif
