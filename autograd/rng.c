/* autograd/rng.c — xoshiro256** seeded through splitmix64 (Blackman & Vigna). Pure integer
 * arithmetic, so the same seed gives the same stream on every machine. Also the standard
 * normal's quantile function (nb_normal_quantile). */
#include "tensor_impl.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

nb_rng nb_rng_seed(uint64_t seed)
{
    nb_rng r;
    for (int i = 0; i < 4; i++)
        r.s[i] = splitmix64(&seed);
    return r;
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t nb_rng_u64(nb_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double nb_rng_uniform(nb_rng *rng)
{
    return (double)(nb_rng_u64(rng) >> 11) * 0x1.0p-53;
}

double nb_rng_normal(nb_rng *rng)
{
    double u1 = nb_rng_uniform(rng), u2 = nb_rng_uniform(rng);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}

uint64_t nb_rng_below(nb_rng *rng, uint64_t n)
{
    if (n == 0)
        return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = nb_rng_u64(rng);
    while (x >= limit);
    return x % n;
}

void nb_rng_shuffle_i64(nb_rng *rng, int64_t *v, int64_t n)
{
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)nb_rng_below(rng, (uint64_t)i + 1);
        int64_t t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

/* ---- the standard normal's quantile ----
 * P. J. Acklam's rational approximations (relative error < 1.15e-9) in the central region
 * |p - 1/2| <= 0.47575 and in the tails, then Halley steps on f(x) = Phi(x) - p with
 * Phi(x) = erfc(-x / sqrt 2) / 2: x -= u / (1 + x u / 2), u = f(x) sqrt(2 pi) exp(x^2 / 2). */
double nb_normal_quantile(double p)
{
    static const double a[6] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                -2.759285104469687e+02, 1.383577518672690e+02,
                                -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[5] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                -1.556989798598866e+02, 6.680131188771972e+01,
                                -1.328068155288572e+01};
    static const double c[6] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                -2.400758277161838e+00, -2.549732539343734e+00,
                                4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[4] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                3.754408661907416e+00};
    if (!(p >= 0 && p <= 1)) {
        nb_set_error(NB_ERR_VALUE, "nb_normal_quantile: p must be in [0, 1], got %g", p);
        return NAN;
    }
    if (p == 0 || p == 1)
        return p == 0 ? -INFINITY : INFINITY;
    double x;
    if (fabs(p - 0.5) <= 0.47575) {
        const double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    } else {
        const double q = sqrt(-2 * log(p < 0.5 ? p : 1 - p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        x = p < 0.5 ? x : -x;
    }
    for (int i = 0; i < 2; i++) {
        const double u = (0.5 * erfc(-x / sqrt(2.0)) - p) * 2.5066282746310002 * exp(0.5 * x * x);
        if (isfinite(u)) /* not in the far tail, where exp(x^2 / 2) overflows */
            x -= u / (1 + 0.5 * x * u);
    }
    return x;
}
