/* ops/op_def.h — what every op family file includes: the op contract (autograd/op.h), the kernel
 * helpers (autograd/kernel.h) and strided kernels (autograd/strided.h), plus the built-in op list
 * and the front door, nbi_apply (ops/apply.c).
 *
 * New op: see "Adding an op" in docs/design.md. The enum, the table and the names all come from
 * ops/ops.def. */
#ifndef NABLA_OP_DEF_H
#define NABLA_OP_DEF_H

#include "autograd/kernel.h"
#include "autograd/op.h"
#include "autograd/strided.h"

typedef enum nb_op_id {
#define NB_OP(E, sym) NB_OP_##E,
#include "ops/ops.def"
#undef NB_OP
    NB_OP_COUNT
} nb_op_id;

extern const nbi_op_def *const nbi_op_table[NB_OP_COUNT];
NBI_FUNC const char *nbi_op_name(nb_op_id id);

/* Apply an op: check inputs (NULL, liveness, dtype), shape rule, broadcasting, allocate the
 * output, run forward, record on the tape when an input requires grad. attr is copied. */
NBI_FUNC nb_tensor *nbi_apply(nb_op_id id, int n_in, nb_tensor *const *in, const void *attr);
/* nbi_apply in the caller's terms, for an op that several public functions apply or whose inputs
 * have names: messages (and the record's api, which the shape rule uses) name the public
 * function fn, and the front door's name the inputs by names (NULL-terminated, every input the op
 * can take: {"x", "w", "b", NULL}; NULL: "input 0", ...). */
NBI_FUNC nb_tensor *nbi_apply_as(nb_op_id id, const char *fn, const char *const *names, int n_in,
                                 nb_tensor *const *in, const void *attr);

/* FLOPs of an elementwise op (nb_op_def.flops): one per output element forward, one per element
 * of each input gradient backward (a transcendental function counts as one). */
NBI_FUNC double nbi_flops_elementwise(const nbi_record *r, bool backward);

/* Shared shape rules. */
NBI_FUNC nb_status nbi_shape_same(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape);
/* NumPy broadcast of two shapes into out; error naming fn if incompatible. */
NBI_FUNC nb_status nbi_broadcast_shape(const char *fn, const nb_tensor *a, const nb_tensor *b,
                                       int *ndim, int64_t *shape);

/* Attribute of the ops that take a target shape (reshape, expand). */
typedef struct nbi_shape_attr {
    int ndim;
    int64_t shape[NB_MAX_DIMS];
} nbi_shape_attr;

/* ---- GEMM (ops/gemm.c, the only BLIS caller) ----
 * C = alpha * op(A) @ op(B) + beta * C with explicit row/column strides (elements). Runs on
 * nb_get_num_threads() threads, or on one inside a parallel region. */
NBI_FUNC void nbi_gemm(nb_dtype dtype, int64_t m, int64_t n, int64_t k, double alpha, const void *a,
                       int64_t rsa, int64_t csa, const void *b, int64_t rsb, int64_t csb,
                       double beta, void *c, int64_t rsc, int64_t csc);

#endif
