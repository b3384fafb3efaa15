/* autograd/op.h — the op contract: how an op is defined (shape rule, forward, backward) and what
 * one application of it (a tape record) holds. ops/ defines every built-in op with it; the
 * engine (autograd/backward.c) walks records of it. */
#ifndef NABLA_AUTOGRAD_OP_H
#define NABLA_AUTOGRAD_OP_H

#include "tensor_impl.h"

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
    int id; /* built-in ops: their nb_op_id (ops/ops.def) */
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
