/* ops/random_kernels.h — Bernoulli fills and dropout.
 * Written once over the element type T and included twice by random.c (nabla/typed.h):
 * NB_FN(name) is name_f32 or name_f64. */

/* out[i] = 1 if the i-th draw of rng's stream is below p, else 0: the test
 * nb_rng_uniform(rng) < p of every element, in order, with xoshiro256** (autograd/rng.c) run
 * here on a register copy of the state. nb_rng_uniform is (x >> 11) * 2^-53 for the 64-bit
 * draw x, and for an integer m < 2^53, m * 2^-53 < p exactly when m < ceil(p * 2^53) (p * 2^53
 * is exact), so the comparison is done on integers. */
static void NB_FN(bernoulli_fill)(void *outv, int64_t n, nb_rng *rng, double p)
{
    T *const out = outv;
    const uint64_t below = (uint64_t)ceil(p * 0x1.0p53);
    uint64_t s[4] = {rng->s[0], rng->s[1], rng->s[2], rng->s[3]}; /* in registers */
    for (int64_t i = 0; i < n; i++) {
        const uint64_t x = xoshiro_next(s);
        /* (x >> 11) < below as the sign bit of their difference (both are below 2^54): 1 or 0
         * without a comparison the compiler would turn into an unpredictable branch */
        out[i] = (T)(int)(((x >> 11) - below) >> 63);
    }
    memcpy(rng->s, s, sizeof s);
}

/* *bad = first index whose value is not in [0, 1] (NaN included), else left as is. */
static void NB_FN(first_outside_unit)(const void *pv, int64_t n, int64_t *bad)
{
    const T *p = pv;
    int outside = 0;
#pragma omp simd reduction(| : outside)
    for (int64_t i = 0; i < n; i++)
        outside |= !(p[i] >= 0 && p[i] <= 1);
    for (int64_t i = 0; outside && i < n; i++)
        if (!(p[i] >= 0 && p[i] <= 1)) {
            *bad = i;
            return;
        }
}

/* out[i] = nb_rng_uniform(rng) < p[i] ? 1 : 0 for every element in order, the generator run
 * inline as in bernoulli_fill (the comparison is the same double one, so the same values). */
static void NB_FN(bernoulli_sample)(void *outv, const void *pv, int64_t n, nb_rng *rng)
{
    T *restrict const out = outv;
    const T *restrict const p = pv;
    uint64_t s[4] = {rng->s[0], rng->s[1], rng->s[2], rng->s[3]}; /* in registers */
    for (int64_t i = 0; i < n; i++) {
        const uint64_t x = xoshiro_next(s);
        /* the comparison as a 0/1 value, not a branch the predictor cannot learn */
        const int k = (double)(x >> 11) * 0x1.0p-53 < (double)p[i];
        out[i] = (T)k;
    }
    memcpy(rng->s, s, sizeof s);
}

/* y = x * (keep ? 1 / (1 - p) : 0), keep_i by ops/drop_rule.h: each element decided on its own,
 * so the loop splits across threads and the hash runs in vector registers. */
static void NB_FN(dropout_fwd)(void *yv, const void *xv, int64_t n, uint64_t seed,
                               uint64_t threshold, double p)
{
    T *restrict const y = yv;
    const T *restrict const x = xv;
    const T scale = (T)(1.0 / (1.0 - p));
    const int nt = nbi_threads_for(n * 8);
    NBI_PARALLEL_BLOCKS(n, nt, lo, hi, {
        _Pragma("omp simd") for (int64_t i = lo; i < hi; i++) y[i] =
            nbi_drop_keep(seed, (uint64_t)i, threshold) ? x[i] * scale : (T)0;
    });
}

/* dx (=, or +=) dy * (keep ? 1 / (1 - p) : 0), keep decided again as in forward */
static void NB_FN(dropout_bwd)(void *dxv, const void *dyv, int64_t n, uint64_t seed,
                               uint64_t threshold, double p, bool acc)
{
    T *restrict const dx = dxv;
    const T *restrict const dy = dyv;
    const T scale = (T)(1.0 / (1.0 - p));
    const int nt = nbi_threads_for(n * 8);
    NBI_PARALLEL_BLOCKS(n, nt, lo, hi, {
        if (acc) {
            _Pragma("omp simd") for (int64_t i = lo; i < hi; i++) dx[i] +=
                nbi_drop_keep(seed, (uint64_t)i, threshold) ? dy[i] * scale : (T)0;
        } else {
            _Pragma("omp simd") for (int64_t i = lo; i < hi; i++) dx[i] =
                nbi_drop_keep(seed, (uint64_t)i, threshold) ? dy[i] * scale : (T)0;
        }
    });
}
