/* nabla/dist.h — data-parallel training across processes and machines on MPI (Open MPI).
 *
 * Not part of the umbrella header nabla.h: it lives in its own library, libnabla-dist (CMake
 * target nabla_dist, or nabla_dist_static), built when CMake finds MPI (Debian: libopenmpi-dev
 * and openmpi-bin), so the core library never depends on MPI. Link it with -lnabla-dist -lnabla
 * and MPI's flags (mpicc, or pkg-config ompi-c). Run the program under mpirun:
 *
 *     mpirun -np 4 ./train                         (one process per rank; machines via
 * -H/--hostfile)
 *
 * One process per rank; each rank holds a full copy of the model and trains on its own shard of
 * every global batch. Gradients are averaged across ranks during nb_backward, so after each
 * step every rank holds the same parameters:
 *
 *     if (nb_dist_init(&argc, &argv) != NB_OK) { fprintf(stderr, "%s\n", nb_last_error()); return
 * 1; } nb_module *net = build_model(&rng);                     (same seed on every rank) nb_optim
 * *opt = nb_adam_new(net, &ao); nb_ddp *ddp = nb_ddp_new(net, opt, NULL);               (checks the
 * models match, then broadcasts rank 0's parameters) nb_dist_sampler *smp =
 * nb_dist_sampler_new(n_train, &(nb_dist_sampler_opts){ .global_batch = 256, .shuffle = true, .seed
 * = 1}); nb_dist_shard sh; for (int64_t b = 0; nb_dist_sampler_next(smp, &sh); b++) {
 *         nb_step_begin(step);
 *         nb_optim_zero_grad(opt);
 *         ... x, y = the rows sh.indices[0 .. sh.size - 1] of the data set ...
 *         nb_ddp_set_shard(ddp, sh.size, sh.global_size);  (weights this rank's mean loss)
 *         nb_tensor *loss = nb_cross_entropy(nb_module_forward(net, x), y, NB_REDUCE_MEAN);
 *         st = nb_backward(loss);                           (buckets start their all-reduce here)
 *         if (st == NB_OK) st = nb_ddp_update(ddp);            (wait, then nb_optim_update)
 *         nb_step_end(step);
 *         if (st != NB_OK) nb_dist_abort(nb_last_error());  (tells the other ranks, then exits)
 *     }
 *     nb_ddp_free(ddp); ...; nb_dist_finalize();
 *
 * Failures. Every wait of this library (all-reduces, broadcasts, barriers) is watched: a rank
 * that waits longer than the timeout (nb_dist_opts.timeout, else $NB_DIST_TIMEOUT seconds, else
 * 600 s) asks every peer whether it is alive, prints which ranks did not answer, e.g.
 *     "nb_dist: rank 0 of 2: gradient all-reduce (step 7) waited 5.0 s (the timeout); no answer
 *      from rank 1: it failed, was killed or is stuck; aborting the job"
 * and aborts the job (MPI_Abort). A rank that gives up (nb_dist_abort, or a program that exits
 * without calling nb_dist_finalize, e.g. returning from main after an error) first tells the
 * others, which stop at once with "nb_dist: rank 0 of 2: stopping: rank 1 failed: <its
 * message>". A rank that is killed or crashes is reported by mpirun ("process rank 1 ... exited
 * on signal 9"), which then ends the others. MPI errors are returned to this library (not fatal
 * inside MPI) and reported with the operation that failed.
 *
 * Threads: call every function from the thread that called nb_dist_init (MPI is initialised with
 * MPI_THREAD_FUNNELED); nb_backward must run on the thread that made the nb_ddp (its gradient
 * hook is registered per thread). nabla's own compute threads never call MPI. */
#ifndef NABLA_DIST_H
#define NABLA_DIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nabla/core.h"
#include "nabla/data.h"
#include "nabla/nn.h"
#include "nabla/optim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- processes ---- */

/* Initialise from mpirun's environment (MPI_Init_thread; argc/argv may be NULL). Without mpirun
 * the program runs as a world of one rank. When the program initialised MPI itself, nabla uses
 * MPI_COMM_WORLD as it is and nb_dist_finalize leaves MPI to the program. Also: ranks other than
 * 0 default nabla's progress bars to quiet ($NB_PROGRESS=quiet unless set), and an exit without
 * nb_dist_finalize tells the other ranks (see Failures above). Calling it again is a no-op.
 * Errors: NB_ERR_STATE (MPI failed to start, or MPI was finalised already). */
NB_API nb_status nb_dist_init(int *argc, char ***argv);
/* Wait for every rank (a watched barrier), then shut MPI down when nb_dist_init started it. Call
 * it once at the end of a successful run; it is a no-op when not initialised. */
NB_API nb_status nb_dist_finalize(void);
/* Whether nb_dist_init has succeeded and nb_dist_finalize has not run. */
NB_API bool nb_dist_initialized(void);
/* This process's rank in [0, world size) and the number of ranks; 0 and 1 before nb_dist_init. */
NB_API int nb_dist_rank(void);
NB_API int nb_dist_world_size(void);
/* rank == 0: the rank that prints progress and writes files. */
NB_API bool nb_dist_is_main(void);

/* Seconds a wait may last before the watchdog ends the job (> 0), for waits started after the
 * call; returns the previous value. The default is $NB_DIST_TIMEOUT when set, else 600. */
NB_API double nb_dist_set_timeout(double seconds);

/* Stop the whole job because this rank cannot go on: prints "nb_dist: rank R of K: <message>"
 * to stderr, tells every other rank (they stop with a message naming this rank), and aborts the
 * job with exit status 1. Never returns. Safe to call before nb_dist_init (it then prints the
 * message and exits). */
NB_API void nb_dist_abort(const char *message) __attribute__((noreturn));

/* Watched barrier. Errors: NB_ERR_STATE when not initialised. */
NB_API nb_status nb_dist_barrier(void);
/* values[0 .. n-1] <- their sum over all ranks, in place (every rank gets the same sums, summed
 * in rank order, so the result does not depend on timing). For metrics: reduce sums and counts
 * ({loss * batch, correct, batch}) and divide after. Errors: NB_ERR_VALUE (n < 0, NULL values
 * with n > 0), NB_ERR_STATE (not initialised). */
NB_API nb_status nb_dist_allreduce_sum(double *values, int n);
/* Copy `size` bytes from rank `root` into data on every rank. Errors: NB_ERR_VALUE (root out of
 * range, NULL data with size > 0), NB_ERR_STATE (not initialised). */
NB_API nb_status nb_dist_broadcast(void *data, size_t size, int root);

/* ---- data-parallel model ---- */

typedef struct nb_ddp_opts {
    /* Gradient bucket size in bytes: parameters are grouped, last parameter first, into
     * contiguous ranges of the gradient buffer of about this size; each bucket's all-reduce
     * starts as soon as all its gradients are final. 0 -> 1 MiB. */
    size_t bucket_bytes;
    /* true: no overlap; every gradient is all-reduced in one piece by nb_ddp_sync (to measure
     * what overlap gains, or when nb_backward runs on another thread). */
    bool no_overlap;
} nb_ddp_opts;

typedef struct nb_ddp nb_ddp;

/* Make model (and optim, which may be NULL, built over the same model) data-parallel. Collective:
 * every rank calls it with a model built the same way. It
 *   1. compares a digest (XXH3) of the parameter list — names, dtypes and shapes in buffer
 *      order — across ranks; on a difference every rank returns NULL with NB_ERR_VALUE and a
 *      message naming the first differing parameter on the lowest differing rank, e.g.
 *      "nb_ddp_new: the model differs between ranks: parameter 2 is '1.weight' f32 [8, 4] on
 *      rank 0 but '1.weight' f32 [8, 5] on rank 1";
 *   2. copies rank 0's parameter values (and optimizer state) to every rank;
 *   3. registers a gradient hook (nb_grad_hook_add) on the calling thread.
 * Gradients of every later nb_backward of a loss that reaches the model are then summed across
 * ranks, each rank's weighted by its share (nb_ddp_set_shard, default 1 / world size): after
 * nb_ddp_sync every rank holds the gradient of the global batch's mean loss.
 * Errors: NB_ERR_STATE (nb_dist_init not called), NB_ERR_VALUE (NULL model, a model without
 * parameters, models differ), NB_ERR_NOMEM. The model and optimizer must outlive the nb_ddp. */
NB_API nb_ddp *nb_ddp_new(nb_module *model, nb_optim *optim, const nb_ddp_opts *opts);
/* Unregister the hook and free the nb_ddp (not the model or optimizer). NULL is a no-op. Waits
 * for any all-reduce still in flight. */
NB_API void nb_ddp_free(nb_ddp *d);

/* This rank's samples in the current global batch (local >= 0) and the global batch's size
 * (global >= 1), for the next backward: the rank's gradient is weighted by local / global, which
 * makes the average exact when shards differ in size (the last batch of an epoch). Every rank's
 * `global` must be the same and the locals must sum to it. Without a call, the weight is
 * 1 / world size. A rank with local = 0 skips forward and backward and calls nb_ddp_update only.
 * Errors: NB_ERR_VALUE (local < 0, global < 1, local > global). */
NB_API nb_status nb_ddp_set_shard(nb_ddp *d, int64_t local, int64_t global);
/* Gradient accumulation: while on, backward passes are not reduced (gradients accumulate
 * locally, as in PyTorch's no_sync); nb_ddp_sync reduces everything accumulated. */
NB_API void nb_ddp_set_accumulate(nb_ddp *d, bool accumulate);
/* Finish this step's gradient averaging: start the buckets not started yet (all of them on a
 * rank that did not run backward), wait for all (watched), and leave every rank with the same
 * averaged gradients. Collective. Errors: NB_ERR_STATE (the last backward on this rank failed:
 * call nb_dist_abort), NB_ERR_VALUE (NULL). */
NB_API nb_status nb_ddp_sync(nb_ddp *d);
/* nb_ddp_sync, then nb_optim_update on the optimizer given to nb_ddp_new (NB_ERR_STATE when it
 * was NULL). */
NB_API nb_status nb_ddp_update(nb_ddp *d);

/* BatchNorm with synchronised statistics (on) or local ones (off, the default): switches every
 * BatchNorm1d/2d of model (nb_batch_norm_set_sync) to statistics of the global batch, summed
 * across ranks by a differentiable all-reduce op (its backward sums the gradients likewise), so
 * data-parallel training matches one process on the whole batch. Every rank must call it and
 * then run the same forwards. Returns the number of BatchNorm modules switched, or -1 with
 * NB_ERR_VALUE (NULL model) or NB_ERR_STATE (on, before nb_dist_init). */
NB_API int nb_ddp_sync_batch_norm(nb_module *model, bool on);

/* Checkpoints (nabla/io.h's training checkpoints). Save: rank 0 writes model and optimizer to
 * path (atomically); every rank returns rank 0's status. Load: rank 0 reads path and every rank
 * receives the parameters and optimizer state, so a checkpoint written by any number of ranks
 * resumes on any other number, and only rank 0 needs the file. Collective. Errors: those of
 * nb_checkpoint_save_model / nb_checkpoint_load_model on rank 0 (the message is rank 0's on
 * every rank); on a load error nothing changes on any rank. */
NB_API nb_status nb_ddp_save_checkpoint(nb_ddp *d, const char *path);
NB_API nb_status nb_ddp_load_checkpoint(nb_ddp *d, const char *path);

/* Where the time of gradient averaging went, since nb_ddp_new. */
typedef struct nb_ddp_stats {
    int64_t syncs;               /* nb_ddp_sync calls */
    int64_t buckets;             /* buckets per sync */
    int64_t bytes;               /* gradient bytes all-reduced per sync */
    int64_t started_in_backward; /* bucket all-reduces started during backward (overlapped) */
    int64_t done_in_backward;    /* ... of which had completed before backward ended */
    double backward_seconds;     /* from the first bucket started to the end of backward */
    double wait_seconds;         /* time nb_ddp_sync waited: communication not hidden */
} nb_ddp_stats;
NB_API nb_ddp_stats nb_ddp_get_stats(const nb_ddp *d);

/* ---- distributed sampler ----
 * Every epoch has one order of the n samples (when shuffling, a permutation from a seed shared
 * by all ranks: the one nb_batcher makes for that seed in that epoch; else 0 .. n-1), cut into
 * global batches of global_batch samples. Rank r of K reads the r-th of K contiguous, disjoint
 * pieces of each global batch: sizes floor or ceil of size / K, rank 0's first. The last global
 * batch of an epoch may be smaller (n not a multiple of global_batch): NB_LAST_KEEP keeps it
 * (some ranks may then get one sample fewer, or none when it has fewer than K samples;
 * nb_ddp_set_shard weights them), NB_LAST_DROP drops it. The union of the ranks' shards is the
 * batch nb_batcher reads with the same seed, batch size and last-batch rule, so K ranks train
 * like the single-process program they replace. */
typedef struct nb_dist_sampler_opts {
    int64_t global_batch; /* >= 1, samples per step over all ranks */
    bool shuffle;
    uint64_t seed;
    nb_last_batch last;
    /* Rank and world size; 0 and 0 -> nb_dist_rank() and nb_dist_world_size(). */
    int rank, world;
} nb_dist_sampler_opts;

typedef struct nb_dist_shard {
    const int64_t *indices; /* this rank's sample indices (valid until the next call) */
    int64_t size;           /* this rank's count (may be 0 in a small last batch) */
    int64_t global_size;    /* the global batch's size: nb_ddp_set_shard(d, size, global_size) */
    int64_t offset;         /* position of this rank's first sample in the global batch */
    int64_t index;          /* global batch number within the epoch, from 0 */
    int64_t epoch;          /* from 0 */
} nb_dist_shard;

typedef struct nb_dist_sampler nb_dist_sampler;

/* Sampler over n >= 1 samples. Errors: NB_ERR_VALUE (n < 1, global_batch < 1, rank not in
 * [0, world)), NB_ERR_NOMEM -> NULL. */
NB_API nb_dist_sampler *nb_dist_sampler_new(int64_t n, const nb_dist_sampler_opts *opts);
NB_API void nb_dist_sampler_free(nb_dist_sampler *s);
/* Global batches per epoch (the same on every rank). */
NB_API int64_t nb_dist_sampler_num_batches(const nb_dist_sampler *s);
/* Fill *out with this rank's shard of the next global batch and return true; at the end of an
 * epoch return false, and the next call starts the next epoch. */
NB_API bool nb_dist_sampler_next(nb_dist_sampler *s, nb_dist_shard *out);
/* Continue from global batch `index` of epoch `epoch` (resuming from a checkpoint): the next
 * nb_dist_sampler_next returns that batch. Errors: NB_ERR_VALUE (negative, or index past the
 * epoch's batches). */
NB_API nb_status nb_dist_sampler_seek(nb_dist_sampler *s, int64_t epoch, int64_t index);
/* Copy the shard's rows of ds into new caller-owned tensors: *x [size, ...] (ds->x's dtype) and
 * *y [size] NB_I64 (NULL when ds has no labels); with size 0 both are NULL. Errors: NB_ERR_VALUE
 * (an index out of range, non-contiguous samples), NB_ERR_NOMEM. */
NB_API nb_status nb_dist_shard_gather(const nb_dataset *ds, const nb_dist_shard *shard,
                                      nb_tensor **x, nb_tensor **y);

#ifdef __cplusplus
}
#endif
#endif
