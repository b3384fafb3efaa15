/* ops/vmath.h — vector variants of libm for the elementwise kernels (ops/unary.c, ops/binary.c).
 *
 * glibc's vector math library (libmvec, NB_HAVE_LIBMVEC) has SIMD versions of exp, log, pow,
 * sin, cos and, from glibc 2.35 on x86_64, log1p, expm1, tanh and erf. Declaring a function
 * `omp declare simd` lets GCC call its vector variant (_ZGVdN8v_expf: 8 floats per call with
 * AVX2) from an `omp simd` loop instead of one scalar call per element; without the declaration
 * a loop that calls it does not vectorise at all. glibc's math.h declares them so only under
 * -ffast-math, hence this header. Include it after <tgmath.h>. */
#ifndef NB_OPS_VMATH_H
#define NB_OPS_VMATH_H

#include <math.h>

#if defined(NB_HAVE_LIBMVEC) && defined(__GNUC__) && !defined(__clang__)
#define NB_VMATH_DECLARE(fn)                                                                       \
    _Pragma("omp declare simd notinbranch") float fn##f(float);                                    \
    _Pragma("omp declare simd notinbranch") double(fn)(double);
#define NB_VMATH_DECLARE2(fn)                                                                      \
    _Pragma("omp declare simd notinbranch") float fn##f(float, float);                             \
    _Pragma("omp declare simd notinbranch") double(fn)(double, double);

NB_VMATH_DECLARE(exp)
NB_VMATH_DECLARE(tanh)
NB_VMATH_DECLARE(log)
NB_VMATH_DECLARE(sin)
NB_VMATH_DECLARE(cos)
NB_VMATH_DECLARE2(pow)
#if defined(__x86_64__) && defined(__GLIBC__) &&                                                   \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
NB_VMATH_DECLARE(log1p)
NB_VMATH_DECLARE(expm1)
NB_VMATH_DECLARE(erf)
#endif
#undef NB_VMATH_DECLARE
#undef NB_VMATH_DECLARE2
#endif

/* Numerically stable logistic function, branch-free, for kernels over T with <tgmath.h>: with
 * e = exp(-|x|) <= 1, sigmoid(x) = 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0. */
#define SIGMOID(x) ((x) >= 0 ? (T)1 / (1 + exp(-fabs(x))) : exp(-fabs(x)) / (1 + exp(-fabs(x))))

/* GELU, the activation formulas of nb_gelu (ops/unary.c) and of nb_linear_ex's input
 * activation (ops/matmul.c), for kernels over T with <tgmath.h>. */
#define NB_SQRT1_2      0.70710678118654752440 /* 1 / sqrt(2) */
#define NB_SQRT_2_PI    0.79788456080286535588 /* sqrt(2 / pi) */
#define NB_INV_SQRT_2PI 0.39894228040143267794 /* 1 / sqrt(2 pi) */
#define NB_GELU_KAPPA   0.044715

/* GELU, exact: x Phi(x) with Phi(x) = (1 + erf(x / sqrt 2)) / 2; derivative Phi(x) + x phi(x). */
#define GELU(x) ((x) * (T)0.5 * (1 + erf((x) * (T)NB_SQRT1_2)))
#define GELU_GRAD(x)                                                                               \
    ((T)0.5 * (1 + erf((x) * (T)NB_SQRT1_2)) + (x) * (T)NB_INV_SQRT_2PI * exp((T)-0.5 * (x) * (x)))
/* GELU, tanh form (PyTorch's approximate='tanh'): x (1 + tanh(u)) / 2 with
 * u = sqrt(2/pi) (x + 0.044715 x^3), computed as x sigmoid(2u) (the same function: one exp and a
 * division instead of a tanh; 1M floats forward 0.53 -> 0.47 ms, backward 0.91 -> 0.84, now
 * bound by memory); derivative s + x s (1 - s) 2u'(x) with s = sigmoid(2u). exp(-2u) overflows
 * to inf for x below about -10, where s is then exactly 0, as it rounds to in float anyway. */
#define GELU_TANH_S(x)                                                                             \
    ((T)1 / (1 + exp((T)(-2 * NB_SQRT_2_PI) * ((x) + (T)NB_GELU_KAPPA * (x) * (x) * (x)))))
#define GELU_TANH(x) ((x)*GELU_TANH_S(x))
#define GELU_TANH_GRAD(x)                                                                          \
    (GELU_TANH_S(x) + (x)*GELU_TANH_S(x) * (1 - GELU_TANH_S(x)) * (T)(2 * NB_SQRT_2_PI) *          \
                          (1 + 3 * (T)NB_GELU_KAPPA * (x) * (x)))

#endif
