/* autograd/typed.h — kernels written once over an element type T and compiled for float and
 * double, as ordinary functions (formatted, diagnosed and stepped through like any other code).
 *
 * A family file ops/X.c keeps its typed kernels in ops/X_kernels.h: plain C functions over T,
 * each named NBI_FN(name), with real `#pragma omp` lines. X.c instantiates them where the
 * kernels belong (after the helpers they use, before their callers):
 *
 *     #define NBI_KERNELS "ops/X_kernels.h"
 *     #include "autograd/typed.h"
 *
 * which includes the file once with T = float (NBI_FN(name) is name_f32) and once with
 * T = double (name_f64); NBI_DISPATCH(dtype, name, ...) (autograd/kernel.h) calls the one of a
 * dtype. Defining NBI_KERNELS_I64 too adds a pass with T = int64_t (name_i64); NBI_FLOAT is 1 in
 * the float passes and 0 in that one, for a file whose float-only kernels sit in #if NBI_FLOAT.
 * With <tgmath.h> included by X.c first, tanh(x) in a kernel is tanhf for float. A kernel calling
 * another kernel of its file calls NBI_FN(other), the same T's. NBI_KERNELS and NBI_KERNELS_I64
 * are undefined afterwards, so the next instantiation names its own file.
 *
 * No include guard: included once per kernel file. A kernel file has none either, and is never
 * compiled alone (it is a header: only the family file's instantiation compiles it). */
#ifndef NBI_KERNELS
#error "autograd/typed.h: define NBI_KERNELS as the kernel file to instantiate"
#endif

#define NBI_FN_CAT_(name, suffix) name##_##suffix
#define NBI_FN_CAT(name, suffix)  NBI_FN_CAT_(name, suffix)
#define NBI_FN(name)              NBI_FN_CAT(name, NBI_SUFFIX)

#define NBI_FLOAT 1

#define T          float
#define NBI_SUFFIX f32
#include NBI_KERNELS
#undef T
#undef NBI_SUFFIX

#define T          double
#define NBI_SUFFIX f64
#include NBI_KERNELS
#undef T
#undef NBI_SUFFIX

#ifdef NBI_KERNELS_I64
#undef NBI_FLOAT
#define NBI_FLOAT  0
#define T          int64_t
#define NBI_SUFFIX i64
#include NBI_KERNELS
#undef T
#undef NBI_SUFFIX
#undef NBI_KERNELS_I64
#endif

#undef NBI_FN
#undef NBI_FLOAT
#undef NBI_KERNELS
