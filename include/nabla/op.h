/* nabla/op.h — defining your own differentiable op.
 *
 * Every built-in op (nb_tanh, nb_matmul, nb_conv2d, ...) is an nb_op_def applied with the same
 * machinery offered here, so an op you define records on the tape, gets its gradient accumulated,
 * broadcasts, is checked by anomaly mode and by nb_gradcheck, and propagates errors exactly like
 * a built-in one. An op is defined once:
 *
 *   - shape: validates the inputs and attributes and gives the output's dtype and shape. Report
 *     bad input with nb_set_error naming your function (the library has already checked that
 *     every input is non-NULL, live, and of a float dtype shared by all inputs, or i64 in an
 *     index slot).
 *   - forward: computes nb_op_output from nb_op_input. The output is contiguous and zero-filled
 *     (not filled with NB_OPF_WRITES_ALL); inputs are contiguous unless NB_OPF_STRIDED.
 *   - backward: for each input i whose nb_op_grad_input(ctx, i) is not NULL, accumulates (+=)
 *     the vector-Jacobian product of nb_op_grad_output into it. Inputs that need no gradient
 *     give NULL. Both are contiguous, of the input's and output's shape.
 *
 * Kernels handle NB_F32 and NB_F64 (nb_tensor_dtype of the output says which): either forward
 * and backward branch on it, or the definition names one kernel per dtype in forward_f32,
 * forward_f64, backward_f32 and backward_f64 (written once over T with nabla/typed.h:
 * .forward_f32 = sq_fwd_f32, .forward_f64 = sq_fwd_f64, ...). A minimal op:
 *
 *     static nb_status sq_shape(const nb_op_ctx *c, nb_dtype *dt, int *nd, int64_t *shape)
 *     {
 *         const nb_tensor *x = nb_op_input(c, 0);
 *         *dt = nb_tensor_dtype(x), *nd = nb_tensor_ndim(x);   (or use nb_op_shape_same)
 *         memcpy(shape, nb_tensor_shape(x), sizeof(int64_t) * (size_t)*nd);
 *         return NB_OK;
 *     }
 *     static nb_status sq_forward(nb_op_ctx *c) { ... y[i] = x[i] * x[i] ... }
 *     static void sq_backward(nb_op_ctx *c) { ... dx[i] += 2 * x[i] * dy[i] ... }
 *     static const nb_op_def my_square = {.name = "my_square", .api = "my_square", .arity = 1,
 *         .shape = sq_shape, .forward = sq_forward, .backward = sq_backward};
 *     nb_tensor *y = nb_op_apply(&my_square, 1, &x, NULL);
 *
 * examples/custom_op.c defines a fused, numerically stable log-cosh this way; for an elementwise
 * function the short path nb_elementwise (below) needs only f and its derivative. */
#ifndef NABLA_OP_H
#define NABLA_OP_H

#include "nabla/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One application of an op (its tape record): what shape, forward and backward see. */
typedef struct nb_op_ctx nb_op_ctx;

/* Flags of an op definition. */
enum {
    NB_OPF_BROADCAST = 1u << 0, /* inputs broadcast (NumPy rules) to the shape rule's output shape:
                                   the op sees expanded inputs; gradients are reduced back */
    NB_OPF_STRIDED = 1u << 1,   /* forward/backward accept strided inputs (no contiguous copy) */
    /* 1u << 2 is reserved for the library's view ops */
    NB_OPF_NONDIFF = 1u << 3, /* no gradient: the result never requires grad (no backward) */
    NB_OPF_INDEX_IN1 =
        1u << 4,                 /* input 1 is an NB_I64 index tensor (never differentiated); a
                                    recorded op gets a private copy that forward and backward share */
    NB_OPF_ANY_DTYPE = 1u << 5,  /* moves data only: accepts NB_I64 inputs too (all of one dtype) */
    NB_OPF_WRITES_ALL = 1u << 6, /* forward writes every output element: output not zero-filled */
    /* backward writes (=) an input gradient for which nb_op_grad_input_fresh is true instead of
     * accumulating into it, so it need not be zeroed first */
    NB_OPF_GRAD_ASSIGN = 1u << 7,
};

/* Maximum number of inputs of one op application. */
#define NB_OP_MAX_INPUTS 64

typedef struct nb_op_def {
    const char *name; /* short name, "log_cosh" */
    const char *api;  /* the function users call, "my_log_cosh": used in error messages */
    int arity;        /* number of inputs; -1 = any number from 1 to NB_OP_MAX_INPUTS */
    unsigned flags;   /* NB_OPF_* */
    size_t attr_size; /* bytes of the attribute struct nb_op_apply copies (0: none) */
    /* Output dtype and shape (at most NB_MAX_DIMS dims) from inputs and attributes. */
    nb_status (*shape)(const nb_op_ctx *ctx, nb_dtype *dtype, int *ndim, int64_t *shape);
    /* Compute the output; returns NB_OK or an error set with nb_set_error. NULL when the
     * typed pair forward_f32 / forward_f64 (below) is set. */
    nb_status (*forward)(nb_op_ctx *ctx);
    /* Accumulate input gradients (NULL for NB_OPF_NONDIFF ops, and when the typed pair
     * backward_f32 / backward_f64 is set). */
    void (*backward)(nb_op_ctx *ctx);
    /* The library's view ops only; NULL for yours. */
    nb_tensor *(*view)(nb_op_ctx *ctx);
    /* Optional, for the profiler (nabla/profile.h): floating-point operations of this
     * application's forward (backward false) or backward (true: only for the inputs whose
     * nb_op_grad_input is not NULL). NULL: unknown. Called after forward / backward ran. */
    double (*flops)(const nb_op_ctx *ctx, bool backward);
    /* Typed kernels, instead of forward and backward: forward_f32 runs when the output's dtype
     * is NB_F32 and forward_f64 when it is NB_F64 (backward_f32 / backward_f64 likewise), so
     * kernels written once over T (nabla/typed.h) need no function that only picks one by dtype.
     * Set either forward or both of forward_f32 and forward_f64, never both kinds; the same for
     * backward (or none of the three with NB_OPF_NONDIFF). An op whose output may be NB_I64
     * (NB_OPF_ANY_DTYPE) uses forward. */
    nb_status (*forward_f32)(nb_op_ctx *ctx);
    nb_status (*forward_f64)(nb_op_ctx *ctx);
    void (*backward_f32)(nb_op_ctx *ctx);
    void (*backward_f64)(nb_op_ctx *ctx);
} nb_op_def;

/* Apply op `def` to inputs in[0..n_in) with attributes attr (copied, def->attr_size bytes; may
 * be NULL when attr_size is 0). Like any op: NULL inputs give NULL and keep the first error; in
 * a step the result lives in the arena and is recorded when an input requires grad; outside a
 * step the result is caller-owned. def must stay valid while records of it are on a tape.
 * Errors: NB_ERR_VALUE (bad def or arity), NB_ERR_DTYPE, NB_ERR_STATE, and the shape rule's. */
NB_API nb_tensor *nb_op_apply(const nb_op_def *def, int n_in, nb_tensor *const *in,
                              const void *attr);

/* ---- inside shape, forward and backward ---- */
NB_API int nb_op_num_inputs(const nb_op_ctx *ctx);
NB_API nb_tensor *nb_op_input(const nb_op_ctx *ctx, int i); /* NULL if i is out of range */
NB_API const void *nb_op_attr(const nb_op_ctx *ctx);        /* the copied attributes, or NULL */
NB_API nb_tensor *nb_op_output(const nb_op_ctx *ctx);       /* forward and backward only */
/* Backward only: the gradient of the output, and of input i (NULL when input i needs none). */
NB_API nb_tensor *nb_op_grad_output(const nb_op_ctx *ctx);
NB_API nb_tensor *nb_op_grad_input(const nb_op_ctx *ctx, int i);
/* Backward of an NB_OPF_GRAD_ASSIGN op: true when input i's gradient holds no values yet and
 * must be written (=), false when it must be accumulated into (+=). */
NB_API bool nb_op_grad_input_fresh(const nb_op_ctx *ctx, int i);
/* Forward: memory kept for backward (64-byte aligned, zeroed), from the step's arena; NULL with
 * NB_ERR_NOMEM, or outside a step (nothing will run backward there). nb_op_saved returns it. */
NB_API void *nb_op_save(nb_op_ctx *ctx, size_t bytes);
NB_API void *nb_op_saved(const nb_op_ctx *ctx);
/* For shape rules of NB_OPF_BROADCAST ops: the NumPy broadcast of every input's shape (the
 * output shape of an elementwise op); NB_ERR_SHAPE naming the op when they do not broadcast. */
NB_API nb_status nb_op_broadcast_shape(const nb_op_ctx *ctx, int *ndim, int64_t *shape);
/* The shape rule of an op whose output has input 0's dtype and shape (elementwise ops): use it
 * as nb_op_def.shape directly, or call it at the end of a rule that validates first. */
NB_API nb_status nb_op_shape_same(const nb_op_ctx *ctx, nb_dtype *dtype, int *ndim, int64_t *shape);
/* The definition being applied (its api name for messages). */
NB_API const nb_op_def *nb_op_definition(const nb_op_ctx *ctx);

/* ---- the short path: an elementwise op from a function and its derivative ----
 * y = f(x) elementwise, dy/dx = df(x, y) (given both, so that e.g. sigmoid's derivative can use
 * y). Evaluated in double for both float dtypes. The struct must outlive the step runs that use
 * it (a static const is the usual choice). Gradient-checkable like any op. */
typedef struct nb_elementwise_def {
    const char *name; /* used in error messages: "my_softsign" */
    double (*f)(double x);
    double (*df)(double x, double y); /* NULL: not differentiable (result never requires grad) */
} nb_elementwise_def;

NB_API nb_tensor *nb_elementwise(const nb_elementwise_def *def, nb_tensor *x);

#ifdef __cplusplus
}
#endif
#endif
