/* autograd/op.h — the op contract: how an op is defined (shape rule, forward, backward) and what
 * one application of it (a tape record) holds. ops/ defines every built-in op with it; the
 * engine (autograd/backward.c) walks records of it. */
#ifndef NABLA_AUTOGRAD_OP_H
#define NABLA_AUTOGRAD_OP_H

#include "tensor_impl.h"

#define NBI_MAX_INPUTS NB_OP_MAX_INPUTS

/* Op flags: the public NB_OPF_* (nabla/op.h), plus NBI_OP_VIEW and NBI_OP_GRAD_PASSTHROUGH for
 * the library's view ops. */
enum {
    NBI_OP_BROADCAST = NB_OPF_BROADCAST,
    NBI_OP_STRIDED = NB_OPF_STRIDED,
    NBI_OP_VIEW = 1u << 2, /* output is a view of input 0 (def->view builds it) */
    NBI_OP_NONDIFF = NB_OPF_NONDIFF,
    NBI_OP_INDEX_IN1 = NB_OPF_INDEX_IN1,
    NBI_OP_ANY_DTYPE = NB_OPF_ANY_DTYPE,
    /* forward writes every element of its output, so the output's storage is not zeroed first
     * (debug builds fill it with NaN instead, so a forward that misses an element shows) */
    NBI_OP_WRITES_ALL = NB_OPF_WRITES_ALL,
    /* backward writes (=) every element of an input gradient whose tensor has grad_fresh set,
     * instead of accumulating into it, so the engine need not zero it first (nbi_grad_beta) */
    NBI_OP_GRAD_ASSIGN = NB_OPF_GRAD_ASSIGN,
    /* a view op whose input gradient is its output gradient element for element, in the same
     * order (reshape of a contiguous input): backward may hand the buffer over instead of
     * copying it (autograd/backward.c). The library's own, like NBI_OP_VIEW. */
    NBI_OP_GRAD_PASSTHROUGH = 1u << 16,
};

/* Built-in and user ops share one definition struct, the public nb_op_def: shape rule (all
 * validation), forward, backward (or their typed pairs forward_f32 / forward_f64 and
 * backward_f32 / backward_f64), flags. */
typedef nb_op_def nbi_op_def;

/* One application of an op; doubles as the tape record (public name nb_op_ctx, opaque to
 * users). Lives in the step arena (or on the stack with no step). */
struct nb_op_ctx {
    const nbi_op_def *def;
    /* the public function in messages: def->api, or the caller's name when several functions
     * apply one op (nb_conv1d applies conv2d to [N, C, L]) */
    const char *api;
    int id; /* built-in ops: their nb_op_id (ops/ops.def); user ops: -1 */
    int n_in;
    nb_tensor **in; /* n_in inputs (after broadcasting / making contiguous) */
    nb_tensor *out;
    const void *attr; /* op attributes, copied; NULL when the op has none */
    void *saved;      /* anything forward keeps for backward (arena scratch) */
};

/* Run r's forward: def->forward, or the typed kernel of the output's dtype (forward_f32 or
 * forward_f64; nb_op_apply has checked that a definition sets one kind). */
static inline nb_status nbi_run_forward(nbi_record *r)
{
    const nbi_op_def *d = r->def;
    if (d->forward)
        return d->forward(r);
    return r->out->dtype == NB_F64 ? d->forward_f64(r) : d->forward_f32(r);
}

/* Run r's backward the same way (backward, or backward_f32 / backward_f64 by the output's
 * dtype). */
static inline void nbi_run_backward(nbi_record *r)
{
    const nbi_op_def *d = r->def;
    if (d->backward)
        d->backward(r);
    else if (r->out->dtype == NB_F64)
        d->backward_f64(r);
    else
        d->backward_f32(r);
}

/* Whether def has a backward (generic or typed). */
static inline bool nbi_has_backward(const nbi_op_def *d)
{
    return d->backward || (d->backward_f32 && d->backward_f64);
}

/* Upper bound on the number of built-in ops (ops/registry.c checks NB_OP_COUNT against it). */
#define NBI_MAX_OPS 256
/* How many times each built-in op's backward ran on this thread, indexed by record id (tests use
 * it to prove gradcheck coverage). Thread-local: backwards on several threads do not race. */
extern NB_API _Thread_local long nbi_op_backward_calls[NBI_MAX_OPS];

/* For kernels of NBI_OP_GRAD_ASSIGN ops: 0 when x's gradient is fresh (write it), 1 when it
 * holds values to accumulate into (the beta of a GEMM writing the gradient). */
static inline double nbi_grad_beta(const nb_tensor *x)
{
    return x->grad_fresh ? 0.0 : 1.0;
}

/* ---- the step side of applying an op (autograd/step.c) ---- */
/* Append r to the active step's tape (NB_ERR_NOMEM naming r's op on failure). */
NBI_FUNC nb_status nbi_tape_push(nbi_record *r);
NBI_FUNC int64_t nbi_tape_length(void); /* records on the active step's tape */
NBI_FUNC bool nbi_anomaly_mode(void);
/* First non-finite element of a float tensor (row-major over its shape), or -1. */
NBI_FUNC int64_t nbi_find_nonfinite(const nb_tensor *t);

#endif
