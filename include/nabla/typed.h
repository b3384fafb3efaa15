/* nabla/typed.h — kernels written once over an element type T and compiled for float and
 * double, as ordinary functions (formatted, diagnosed and stepped through like any other code).
 * The library's own kernels are written this way, and so can be a custom op's (nabla/op.h).
 *
 * Keep the kernels in a file of their own, say my_kernels.h: plain C functions over the type T,
 * each named NB_FN(name), with no include guard (the file is a template, included once per
 * type, never compiled alone). Instantiate them where they belong in your .c file (after the
 * helpers and types they use, before their callers):
 *
 *     #define NB_KERNELS "my_kernels.h"
 *     #include <nabla/typed.h>
 *
 * which includes the file once with T = float (NB_FN(name) is name_f32) and once with
 * T = double (name_f64). NB_KERNELS is included from this header, so name it as your include
 * path finds it (the directory of your .c file is not searched: add it with -I, or with CMake's
 * target_include_directories). NB_DISPATCH(dtype, name, ...) calls the one of a dtype; an op
 * definition can also name the pair directly (nb_op_def's forward_f32 ... backward_f64).
 *
 * In the kernel file: a kernel calling another kernel of its file calls NB_FN(other), the same
 * T's. With <tgmath.h> included by your .c file first, tanh(x) in a kernel is tanhf for float.
 * Defining NB_KERNELS_I64 too adds a pass with T = int64_t (name_i64); NB_FLOAT is 1 in the
 * float passes and 0 in that one, for a file whose float-only kernels sit in #if NB_FLOAT.
 * NB_KERNELS and NB_KERNELS_I64 are undefined afterwards, so the next instantiation names its
 * own file. Including this header without NB_KERNELS defines NB_DISPATCH only. */

#ifndef NABLA_TYPED_H
#define NABLA_TYPED_H

#include "nabla/core.h"

/* NB_FN(name) inside a kernel file: name_f32, name_f64 or name_i64 for the pass's T. */
#define NB_FN_CAT_(name, suffix) name##_##suffix
#define NB_FN_CAT(name, suffix)  NB_FN_CAT_(name, suffix)

/* Call name_f32 or name_f64 with the arguments by dtype (NB_F64: name_f64, else name_f32). */
#define NB_DISPATCH(dtype, name, ...)                                                              \
    do {                                                                                           \
        if ((dtype) == NB_F64)                                                                     \
            name##_f64(__VA_ARGS__);                                                               \
        else                                                                                       \
            name##_f32(__VA_ARGS__);                                                               \
    } while (0)

#endif

/* The instantiation: no include guard, it runs once per NB_KERNELS. */
#ifdef NB_KERNELS

#define NB_FN(name) NB_FN_CAT(name, NB_SUFFIX_)

#define NB_FLOAT 1

#define T          float
#define NB_SUFFIX_ f32
#include NB_KERNELS
#undef T
#undef NB_SUFFIX_

#define T          double
#define NB_SUFFIX_ f64
#include NB_KERNELS
#undef T
#undef NB_SUFFIX_

#ifdef NB_KERNELS_I64
#undef NB_FLOAT
#define NB_FLOAT   0
#define T          int64_t
#define NB_SUFFIX_ i64
#include NB_KERNELS
#undef T
#undef NB_SUFFIX_
#undef NB_KERNELS_I64
#endif

#undef NB_FN
#undef NB_FLOAT
#undef NB_KERNELS

#endif
