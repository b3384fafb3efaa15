/* autograd/step_impl.h — the step's state, shared by step.c (lifecycle, tensor headers, tape)
 * and backward.c. Not installed. */
#ifndef NABLA_STEP_IMPL_H
#define NABLA_STEP_IMPL_H

#include "op.h"

/* Gradient buffers of intermediates whose backward has run, kept for reuse by later gradients of
 * the same dtype and size within the same backward pass (an unrolled RNN's steps repeat their
 * shapes, so the gradients of a long unroll need the memory of a few steps). Buffers of one
 * size are chained through their (otherwise unused) grad field. */
#define GRAD_POOL_SIZES 32
typedef struct {
    nb_dtype dtype;
    int64_t numel;
    nb_tensor *head;
} grad_pool;

/* Tensor headers (the nb_tensor structs of op results) do not live in the arena: they come from
 * slabs the step keeps until nb_step_free, so a stale handle always points at memory the library
 * still owns and the liveness check (which reads only the header's epoch) is safe. The slabs
 * form a ring reused in allocation order, and a slab is reused only when its newest header is
 * HEADER_QUARANTINE runs old: a handle from one of the last HEADER_QUARANTINE - 1 runs of the
 * step still holds its own (ended) epoch and is always reported, never aliased to a live tensor.
 * Debug and sanitizer builds never reuse a header (unbounded quarantine). */
#define HEADER_SLAB 64
#ifdef NB_DEBUG_POISON
#define HEADER_QUARANTINE UINT64_MAX
#else
#define HEADER_QUARANTINE 8
#endif
typedef struct header_slab {
    struct header_slab *next; /* ring, in allocation order */
    uint64_t last_run;        /* newest run that took a header from this slab */
    int used;
    nb_tensor h[HEADER_SLAB];
} header_slab;

struct nb_step {
    nbi_arena *arena;
    header_slab *hdr; /* slab headers are taken from now (NULL before the first) */
    int64_t hdr_slabs;
    uint64_t run; /* runs begun on this step (the first is 1) */
    grad_pool pool[GRAD_POOL_SIZES];
    int n_pool;
    nbi_record **tape; /* heap array kept across steps */
    int64_t tape_len, tape_cap;
    bool active;
    uint64_t epoch; /* of the current run (nb_step_begin .. nb_step_end); 0 when not active */
};

/* The active step of this thread, or NULL. */
NBI_FUNC nb_step *nbi_active_step(void);

#endif
