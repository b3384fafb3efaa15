/* autograd/tensor_impl.h — the tensor struct and the internal helpers shared by autograd/ and
 * ops/. Not installed; nn/ and optim/ never see it. */
#ifndef NABLA_TENSOR_IMPL_H
#define NABLA_TENSOR_IMPL_H

#include "nabla/autograd.h"
#include "nabla/op.h"
#include "nabla/ops.h"

#include <stdarg.h>

#if defined(__GNUC__)
#define NBI_FUNC         __attribute__((visibility("hidden")))
#define NBI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define NBI_FUNC
#define NBI_PRINTF(a, b)
#endif

/* Internal invariant check: always on. Under UNIT_TESTING it goes to cmocka's mock_assert so
 * tests can expect it; otherwise it prints and aborts (a bug in nabla, never user input). */
#ifdef UNIT_TESTING
extern void mock_assert(const int result, const char *const expression, const char *const file,
                        const int line);
#define NB_ASSERT(cond) mock_assert((int)(cond), #cond, __FILE__, __LINE__)
#else
#define NB_ASSERT(cond)                                                                            \
    do {                                                                                           \
        if (!(cond))                                                                               \
            nbi_assert_fail(#cond, __FILE__, __LINE__);                                            \
    } while (0)
#endif
NBI_FUNC _Noreturn void nbi_assert_fail(const char *expr, const char *file, int line);

/* Storage: a refcounted buffer. Arena storages are never freed individually. */
typedef struct nbi_storage {
    void *data;
    size_t nbytes;
    int refs;
    bool arena;
} nbi_storage;

typedef struct nb_op_ctx nbi_record; /* the tape record (autograd/op.h) */

struct nb_tensor {
    nbi_storage *storage;
    int64_t offset; /* in elements */
    int64_t numel;
    int64_t shape[NB_MAX_DIMS];
    int64_t strides[NB_MAX_DIMS]; /* in elements; 0 for broadcast dims */
    int ndim;
    nb_dtype dtype;
    bool requires_grad;
    bool arena; /* struct lives in a step arena */
    /* Arena tensors: epoch of the step run that made them (never 0); heap tensors: 0. A tensor
     * is stale once its step has ended (epochs are never reused). Stale-safe checks read only
     * this integer: debug builds poison ended arenas with 0xA5 bytes, an epoch no run gets. */
    uint64_t epoch;
    nbi_record *creator; /* tape record that produced it, NULL for leaves */
    nb_tensor *grad;     /* contiguous, same shape; owned by the tensor (or arena) */
    /* grad was allocated for the backward call running now and holds no values yet: an op with
     * NBI_OP_GRAD_ASSIGN writes (=) it instead of accumulating (+=). The engine clears it after
     * the call, and zeroes it itself before ops without the flag. */
    bool grad_fresh;
    bool retain_grad; /* keep the gradient of this op result after backward (nb_tensor_retain_grad)
                       */
    /* gradient hooks (autograd/backward.c): the backward pass that reached this leaf and the tape
     * index of its first use there, after which its gradient is final */
    uint64_t hook_pass;
    int64_t hook_first_use;
};

/* ---- errors ---- */
/* Set the thread's error unless one is pending; returns status. */
NBI_FUNC nb_status nbi_error(nb_status status, const char *fmt, ...) NBI_PRINTF(2, 3);
NBI_FUNC bool nbi_error_pending(void);

/* ---- allocation: every heap allocation goes through these (fault injection) ---- */
NBI_FUNC void *nbi_malloc(size_t n);
NBI_FUNC void *nbi_calloc(size_t count, size_t size);
/* Zeroed heap memory aligned to 64 bytes (a cache line, and the widest vector load), released
 * with nbi_free: tensor storage, so that every row of a matrix BLIS reads starts where its
 * kernels expect (16-byte aligned rows ran its small-dimension kernels at half speed). */
NBI_FUNC void *nbi_calloc_aligned(size_t bytes);
NBI_FUNC void *nbi_realloc(void *p, size_t n);
NBI_FUNC void nbi_free(void *p);
/* Sets NB_ERR_NOMEM with fn and bytes, returns NULL. */
NBI_FUNC void *nbi_oom(const char *fn, size_t bytes);
/* a * b with overflow check (false on overflow). */
NBI_FUNC bool nbi_mul_overflow(int64_t a, int64_t b, int64_t *out);

/* ---- shapes ---- */
NBI_FUNC bool nbi_is_float(nb_dtype dtype);
/* Checks ndim and dims, computes numel (overflow-checked) -> NB_OK or error naming fn. */
NBI_FUNC nb_status nbi_check_shape(const char *fn, int ndim, const int64_t *shape, int64_t *numel);
NBI_FUNC void nbi_contiguous_strides(int ndim, const int64_t *shape, int64_t *strides);
NBI_FUNC bool nbi_is_contiguous(const nb_tensor *t);
NBI_FUNC bool nbi_same_shape(const nb_tensor *a, const nb_tensor *b);
/* "[2, 3]" into buf. */
NBI_FUNC const char *nbi_shape_str(int ndim, const int64_t *shape, char *buf, size_t n);
/* Normalise a possibly negative axis into [0, ndim); -1 (and error set) if out of range. */
NBI_FUNC int nbi_axis(const char *fn, int axis, int ndim);
/* Short-lived shape strings for messages: up to 4 per call site, per thread. */
NBI_FUNC const char *nbi_fmt_shape(const nb_tensor *t);

/* ---- tensor allocation ----
 * A tensor for an op result: in the active step's arena when there is one, else on the heap
 * (caller-owned). Contiguous, zero-filled. */
NBI_FUNC nb_tensor *nbi_tensor_alloc(const char *fn, nb_dtype dtype, int ndim,
                                     const int64_t *shape);
/* Same, but the storage is not zeroed when it comes from the arena: for a result whose every
 * element the caller writes before anything reads it. */
NBI_FUNC nb_tensor *nbi_tensor_alloc_uninit(const char *fn, nb_dtype dtype, int ndim,
                                            const int64_t *shape);
/* A view struct sharing x's storage (arena or heap like nbi_tensor_alloc). */
NBI_FUNC nb_tensor *nbi_tensor_view(const char *fn, nb_tensor *x, int ndim, const int64_t *shape,
                                    const int64_t *strides, int64_t offset);
/* Zeroed gradient buffer for t (arena for arena tensors, heap for leaves); NULL on OOM. */
NBI_FUNC nb_tensor *nbi_grad_buffer(nb_tensor *t);
/* Same, uninitialised, for arena tensors (the caller writes every element before reading);
 * leaves still get a zeroed heap buffer. *fresh says which one it made. */
NBI_FUNC nb_tensor *nbi_grad_buffer_uninit(nb_tensor *t, bool *fresh);
/* Scratch memory from the active step (or NULL without one); zeroed, 64-byte aligned. */
NBI_FUNC void *nbi_scratch(size_t bytes);
/* A temporary for the duration of one kernel call: uninitialised (NaN-filled in debug builds),
 * 64-byte aligned, from the active step's arena, else from the heap (*heap set). Hand it back
 * with nbi_temp_release, newest first: the arena takes the bytes back when nothing was
 * allocated after them, so a temporary does not add to the step's peak. NULL with
 * NB_ERR_NOMEM (naming fn) when out of memory. */
NBI_FUNC void *nbi_temp(const char *fn, size_t bytes, bool *heap);
NBI_FUNC void nbi_temp_release(void *p, size_t bytes, bool heap);

static inline void *nbi_data(const nb_tensor *t)
{
    return (char *)t->storage->data + (size_t)t->offset * nb_dtype_size(t->dtype);
}

/* Multi-index iteration: advance idx over shape (row-major); returns false at the end. */
static inline bool nbi_next_index(int ndim, const int64_t *shape, int64_t *idx)
{
    for (int d = ndim - 1; d >= 0; d--) {
        if (++idx[d] < shape[d])
            return true;
        idx[d] = 0;
    }
    return false;
}

/* ---- threads ---- */
NBI_FUNC int nbi_threads(void);
/* Number of threads for a loop of n elements of work each costing ~unit flops. */
NBI_FUNC int nbi_threads_for(int64_t work);

/* ---- arena (autograd/arena.c) ---- */
typedef struct nbi_arena nbi_arena;
NBI_FUNC nbi_arena *nbi_arena_new(void);
NBI_FUNC void *nbi_arena_alloc(nbi_arena *a, size_t bytes); /* zeroed, 64-aligned */
/* Same without zeroing (debug builds: filled with 0xFF bytes, NaN as floats). */
NBI_FUNC void *nbi_arena_alloc_uninit(nbi_arena *a, size_t bytes);
/* Give back the newest allocation p of `bytes`: only when nothing was allocated after it (then
 * the next allocation reuses its bytes); returns whether it did. */
NBI_FUNC bool nbi_arena_release_top(nbi_arena *a, void *p, size_t bytes);
NBI_FUNC void nbi_arena_reset(nbi_arena *a, bool poison);
NBI_FUNC size_t nbi_arena_capacity(const nbi_arena *a);
NBI_FUNC void nbi_arena_free(nbi_arena *a);

/* ---- steps (autograd/engine.c) ---- */
NBI_FUNC nbi_arena *nbi_active_arena(void); /* NULL without an active step */
NBI_FUNC uint64_t nbi_active_epoch(void);   /* epoch of the active step run, 0 without one */
/* A zeroed tensor header from the active step's header ring (never from the arena: see
 * engine.c), or NULL without an active step or on OOM. */
NBI_FUNC nb_tensor *nbi_header_alloc(void);
/* Header slabs the step holds (tests: the ring stays bounded in Release builds). */
NBI_FUNC int64_t nbi_step_header_slabs(const nb_step *step);
NBI_FUNC bool nbi_recording(void); /* active step and grad enabled */
/* One memory mode: a library function called with no active step runs in this thread's private
 * step and hands back a caller-owned copy of its result.
 *     nbi_scope sc;
 *     if (!nbi_scope_enter(&sc)) return NULL;          (NB_ERR_NOMEM)
 *     nb_tensor *y = ...ops, all results in an arena...;
 *     return nbi_scope_exit(&sc, y);                    (y itself when a step was active)
 * Entering keeps a pending error (a NULL input's message stays the one reported). */
typedef struct nbi_scope {
    bool opened;
} nbi_scope;
NBI_FUNC bool nbi_scope_enter(nbi_scope *sc);
/* return CALL (an expression giving an nb_tensor *) evaluated in a scope: how a public function
 * composed of ops is written, so its body never handles caller-owned intermediates. */
#define NBI_RETURN_SCOPED(CALL)                                                                    \
    do {                                                                                           \
        nbi_scope sc_;                                                                             \
        if (!nbi_scope_enter(&sc_))                                                                \
            return NULL;                                                                           \
        return nbi_scope_exit(&sc_, (CALL));                                                       \
    } while (0)
NBI_FUNC nb_tensor *nbi_scope_exit(nbi_scope *sc, nb_tensor *result);
NBI_FUNC bool nbi_in_private_step(void);

/* True when t is NULL, a heap tensor or an arena tensor of the active step run. Otherwise t
 * belongs to a step that has ended: sets NB_ERR_STATE naming fn (unless an error is pending)
 * and returns false. Reads nothing but t->epoch, so it is safe on poisoned memory. */
NBI_FUNC bool nbi_check_live(const char *fn, const nb_tensor *t);

#endif
