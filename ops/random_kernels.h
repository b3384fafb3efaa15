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

/* The draws of bernoulli_fill with probability 1 - p, in blocks: the generator writes a block's
 * keep bytes (into keep when it is kept for backward, else into a local buffer), then a vector
 * loop scales the block. */
static void NB_FN(dropout_fwd)(void *yv, const void *xv, uint8_t *keep, int64_t n, nb_rng *rng,
                               double p)
{
    T *restrict const y = yv;
    const T *restrict const x = xv;
    const uint64_t below = (uint64_t)ceil((1.0 - p) * 0x1.0p53);
    const T scale = (T)(1.0 / (1.0 - p));
    uint64_t s[4] = {rng->s[0], rng->s[1], rng->s[2], rng->s[3]}; /* in registers */
    uint8_t local[4096];
    for (int64_t lo = 0; lo < n; lo += (int64_t)sizeof local) {
        const int64_t m = n - lo < (int64_t)sizeof local ? n - lo : (int64_t)sizeof local;
        uint8_t *restrict const k = keep ? keep + lo : local;
        for (int64_t i = 0; i < m; i++) {
            const uint64_t d = xoshiro_next(s);
            k[i] = (uint8_t)(((d >> 11) - below) >> 63);
        }
#pragma omp simd
        for (int64_t i = 0; i < m; i++)
            y[lo + i] = x[lo + i] * (k[i] ? scale : (T)0);
    }
    memcpy(rng->s, s, sizeof s);
}

static void NB_FN(dropout_bwd)(void *dxv, const void *dyv, const uint8_t *keep, int64_t n, double p,
                               bool acc)
{
    T *restrict const dx = dxv;
    const T *restrict const dy = dyv;
    const T scale = (T)(1.0 / (1.0 - p));
    if (acc) {
#pragma omp simd
        for (int64_t i = 0; i < n; i++)
            dx[i] += dy[i] * (keep[i] ? scale : (T)0);
    } else {
#pragma omp simd
        for (int64_t i = 0; i < n; i++)
            dx[i] = dy[i] * (keep[i] ? scale : (T)0);
    }
}
