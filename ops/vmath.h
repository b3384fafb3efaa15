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

#endif
