/* ops/op_def.h — how an op is defined (shape rule, forward, backward) and applied.
 *
 * New op: one line in ops/ops.def, an nbi_op_def in its family file, a gradient-check case in
 * tests/ops/cases_<family>.c. The enum, the table and the names all come from ops.def. */
#ifndef NABLA_OP_DEF_H
#define NABLA_OP_DEF_H

#include "autograd/tensor_impl.h"

typedef enum nb_op_id {
#define NB_OP(E, sym) NB_OP_##E,
#include "ops/ops.def"
#undef NB_OP
    NB_OP_COUNT
} nb_op_id;

#define NBI_MAX_INPUTS 64

/* Op flags. */
enum {
    NBI_OP_BROADCAST = 1u << 0, /* inputs broadcast to a common shape (expanded views) */
    NBI_OP_STRIDED = 1u << 1,   /* forward/backward accept strided inputs as they are */
    NBI_OP_VIEW = 1u << 2,      /* output is a view of input 0 (op->view builds it) */
    NBI_OP_NONDIFF = 1u << 3,   /* no gradient: result never requires grad */
    NBI_OP_INDEX_IN1 = 1u << 4, /* input 1 is an NB_I64 index tensor (never differentiated) */
    NBI_OP_ANY_DTYPE = 1u << 5, /* moves data only: accepts NB_I64 inputs too (all one dtype) */
    /* forward writes every element of its output, so the output's storage is not zeroed first
     * (debug builds fill it with NaN instead, so a forward that misses an element shows) */
    NBI_OP_WRITES_ALL = 1u << 6,
    /* backward writes (=) every element of an input gradient whose tensor has grad_fresh set,
     * instead of accumulating into it, so the engine need not zero it first (nbi_grad_beta) */
    NBI_OP_GRAD_ASSIGN = 1u << 7,
};

typedef struct nbi_op_def nbi_op_def;

/* One application of an op; doubles as the tape record. Lives in the step arena (or on the
 * stack with no step). */
struct nbi_record {
    const nbi_op_def *def;
    nb_op_id id;
    int n_in;
    nb_tensor **in; /* n_in inputs (after broadcasting / making contiguous) */
    nb_tensor *out;
    const void *attr; /* op attributes, copied; NULL when the op has none */
    void *saved;      /* anything forward keeps for backward (arena scratch) */
};

/* Output dtype and shape from the inputs; validates and reports errors (naming def->api). */
typedef nb_status (*nbi_shape_fn)(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape);
/* Compute r->out from r->in. May fail only on allocation (returns status). */
typedef nb_status (*nbi_forward_fn)(nbi_record *r);
/* Accumulate (+=) into r->in[i]->grad for every input whose grad is non-NULL, from
 * r->out->grad. Inputs that need no gradient have grad == NULL here. */
typedef void (*nbi_backward_fn)(nbi_record *r);
/* For NBI_OP_VIEW ops: build the output as a view of r->in[0]. */
typedef nb_tensor *(*nbi_view_fn)(nbi_record *r);

struct nbi_op_def {
    const char *name; /* "tanh" */
    const char *api;  /* "nb_tanh": used in error messages */
    int arity;        /* number of inputs; -1 = any number >= 1 */
    unsigned flags;
    size_t attr_size;
    nbi_shape_fn shape;
    nbi_forward_fn forward;
    nbi_backward_fn backward;
    nbi_view_fn view;
};

extern const nbi_op_def *const nbi_op_table[NB_OP_COUNT];
NBI_FUNC const char *nbi_op_name(nb_op_id id);
/* How many times each op's backward ran on this thread (tests use it to prove gradcheck
 * coverage). Thread-local: backward on several threads at once must not race on it. */
extern NB_API _Thread_local long nbi_op_backward_calls[NB_OP_COUNT];

/* Apply an op: check inputs (NULL, dtype), shape rule, broadcasting, allocate the output,
 * run forward, record on the tape when an input requires grad. attr is copied. */
NBI_FUNC nb_tensor *nbi_apply(nb_op_id id, int n_in, nb_tensor *const *in, const void *attr);

/* For kernels of NBI_OP_GRAD_ASSIGN ops: 0 when x's gradient is fresh (write it), 1 when it
 * holds values to accumulate into (the beta of a GEMM writing the gradient). */
static inline double nbi_grad_beta(const nb_tensor *x)
{
    return x->grad_fresh ? 0.0 : 1.0;
}

/* Elementwise loop over [0, n) split into fixed blocks of NBI_BLOCK elements, the blocks shared
 * among nt OpenMP threads: every element goes through the same code (vector body or scalar
 * remainder of its block) whatever the thread count, so results are bitwise the same on 1 or
 * many threads. BODY sees the block's bounds lo, hi (typically an `omp simd` loop). */
#define NBI_BLOCK 4096
#define NBI_PARALLEL_BLOCKS(n, nt, lo, hi, ...)                                                    \
    do {                                                                                           \
        const int64_t n_ = (n), nblk_ = (n_ + NBI_BLOCK - 1) / NBI_BLOCK;                          \
        _Pragma("omp parallel for num_threads(nt) if (nt > 1) schedule(static)") for (int64_t b_ = \
                                                                                          0;       \
                                                                                      b_ < nblk_;  \
                                                                                      b_++)        \
        {                                                                                          \
            const int64_t lo = b_ * NBI_BLOCK, hi = n_ - lo < NBI_BLOCK ? n_ : lo + NBI_BLOCK;     \
            __VA_ARGS__                                                                            \
        }                                                                                          \
    } while (0)

/* Shared shape rules. */
NBI_FUNC nb_status nbi_shape_same(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape);
/* NumPy broadcast of two shapes into out; error naming fn if incompatible. */
NBI_FUNC nb_status nbi_broadcast_shape(const char *fn, const nb_tensor *a, const nb_tensor *b,
                                       int *ndim, int64_t *shape);

/* Gradient reduction used by expand's backward: dst (shape D, contiguous) += sum of src (shape
 * S, contiguous, S broadcast from D) over the broadcast dims. */
NBI_FUNC void nbi_reduce_into(nb_tensor *dst, const nb_tensor *src);

/* Zeroed work memory for a kernel: from the active step's arena (released by nb_step_end, so
 * steady-state steps allocate nothing), else from the heap, and then *heap is set: release it
 * with nbi_free. NULL with NB_ERR_NOMEM (naming fn) when neither has room. */
NBI_FUNC void *nbi_work_alloc(const char *fn, size_t bytes, bool *heap);

/* dst (contiguous, x's shape) += src, where src may be any strided view. */
NBI_FUNC void nbi_accumulate(nb_tensor *dst, const nb_tensor *src);
/* Contiguous copy of strided src into dst buffer (same numel, same dtype). */
NBI_FUNC void nbi_copy_strided(void *dst, const nb_tensor *src);
/* dst (strided view) += src (contiguous) — scatter a view's gradient back into its base. */
NBI_FUNC void nbi_add_to_strided(nb_tensor *dst_view, const void *src);

/* ---- GEMM (ops/gemm.c, the only BLIS caller) ----
 * C = alpha * op(A) @ op(B) + beta * C with explicit row/column strides (elements). */
NBI_FUNC void nbi_gemm(nb_dtype dtype, int64_t m, int64_t n, int64_t k, double alpha, const void *a,
                       int64_t rsa, int64_t csa, const void *b, int64_t rsb, int64_t csb,
                       double beta, void *c, int64_t rsc, int64_t csc);
NBI_FUNC void nbi_gemm_set_threads(int n);

/* Visit every element of the (possibly strided) tensor T in row-major order. BODY sees `i`, the
 * flat index, and `off`, the element's storage offset relative to T's first element. */
#define NBI_FOR_STRIDED(T, i, off, ...)                                                            \
    do {                                                                                           \
        const nb_tensor *t_ = (T);                                                                 \
        const int nd_ = t_->ndim;                                                                  \
        const int64_t nin_ = nd_ ? t_->shape[nd_ - 1] : 1, sin_ = nd_ ? t_->strides[nd_ - 1] : 0;  \
        int64_t idx_[NB_MAX_DIMS] = {0}, base_ = 0, i = 0;                                         \
        if (t_->numel > 0)                                                                         \
            for (;;) {                                                                             \
                for (int64_t k_ = 0; k_ < nin_; k_++, i++) {                                       \
                    const int64_t off = base_ + k_ * sin_;                                         \
                    __VA_ARGS__                                                                    \
                }                                                                                  \
                int d_ = nd_ - 2;                                                                  \
                for (; d_ >= 0; d_--) {                                                            \
                    base_ += t_->strides[d_];                                                      \
                    if (++idx_[d_] < t_->shape[d_])                                                \
                        break;                                                                     \
                    base_ -= t_->strides[d_] * t_->shape[d_];                                      \
                    idx_[d_] = 0;                                                                  \
                }                                                                                  \
                if (d_ < 0)                                                                        \
                    break;                                                                         \
            }                                                                                      \
        (void)i;                                                                                   \
    } while (0)

/* Same over two tensors of one shape, A and B, with their own strides (offa, offb). */
#define NBI_FOR_STRIDED2(A, B, i, offa, offb, ...)                                                 \
    do {                                                                                           \
        const nb_tensor *ta_ = (A), *tb_ = (B);                                                    \
        const int nd_ = ta_->ndim;                                                                 \
        const int64_t nin_ = nd_ ? ta_->shape[nd_ - 1] : 1;                                        \
        const int64_t sa_ = nd_ ? ta_->strides[nd_ - 1] : 0,                                       \
                      sb_ = nd_ ? tb_->strides[nd_ - 1] : 0;                                       \
        int64_t idx_[NB_MAX_DIMS] = {0}, ba_ = 0, bb_ = 0, i = 0;                                  \
        if (ta_->numel > 0)                                                                        \
            for (;;) {                                                                             \
                for (int64_t k_ = 0; k_ < nin_; k_++, i++) {                                       \
                    const int64_t offa = ba_ + k_ * sa_, offb = bb_ + k_ * sb_;                    \
                    __VA_ARGS__                                                                    \
                }                                                                                  \
                int d_ = nd_ - 2;                                                                  \
                for (; d_ >= 0; d_--) {                                                            \
                    ba_ += ta_->strides[d_];                                                       \
                    bb_ += tb_->strides[d_];                                                       \
                    if (++idx_[d_] < ta_->shape[d_])                                               \
                        break;                                                                     \
                    ba_ -= ta_->strides[d_] * ta_->shape[d_];                                      \
                    bb_ -= tb_->strides[d_] * tb_->shape[d_];                                      \
                    idx_[d_] = 0;                                                                  \
                }                                                                                  \
                if (d_ < 0)                                                                        \
                    break;                                                                         \
            }                                                                                      \
        (void)i;                                                                                   \
    } while (0)

/* Typed element access for kernels written once for float and double. */
#define NBI_F32(t) ((float *)nbi_data(t))
#define NBI_F64(t) ((double *)nbi_data(t))

/* Instantiate one kernel body for float and double: NBI_TYPED(name, (params), body...) defines
 * name_f32 and name_f64 with the body, where T is the element type. With <tgmath.h> the math
 * functions in the body pick the right precision (tanh -> tanhf for float). */
#define NBI_TYPED(name, PARAMS, ...)                                                               \
    static void name##_f32 PARAMS                                                                  \
    {                                                                                              \
        typedef float T;                                                                           \
        __VA_ARGS__                                                                                \
    }                                                                                              \
    static void name##_f64 PARAMS                                                                  \
    {                                                                                              \
        typedef double T;                                                                          \
        __VA_ARGS__                                                                                \
    }
/* Call name_f32 or name_f64 by dtype. */
#define NBI_DISPATCH(dtype, name, ...)                                                             \
    do {                                                                                           \
        if ((dtype) == NB_F64)                                                                     \
            name##_f64(__VA_ARGS__);                                                               \
        else                                                                                       \
            name##_f32(__VA_ARGS__);                                                               \
    } while (0)

#endif
