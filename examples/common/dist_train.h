/* examples/common/dist_train.h — the --dist mode of the classifier examples (mnist_mlp,
 * cnn_fashion): data-parallel training over the ranks of mpirun through nabla/dist.h. Every
 * rank builds the same model; rank 0's parameters are broadcast; each rank trains on its shard
 * of every global batch (the distributed sampler, whose batches are nb_batcher's for the same
 * seed) and the gradients are averaged during backward, so the run matches the single-process
 * one up to float rounding. Ranks other than 0 print nothing. In a build without
 * libnabla-dist (MPI not found) ex_dist_start reports that --dist is unavailable.
 *
 * Any failure during training stops every rank (nb_dist_abort, naming the rank). */
#ifndef NABLA_EXAMPLES_DIST_TRAIN_H
#define NABLA_EXAMPLES_DIST_TRAIN_H

#include <stdbool.h>

#include "nabla.h"

typedef struct ex_dist ex_dist;

/* Join the job started by mpirun (a world of one rank without mpirun) and silence stdout on
 * ranks other than 0. Returns NULL after printing why (prefixed with prog) when this build has
 * no libnabla-dist or MPI fails to start. */
ex_dist *ex_dist_start(const char *prog);
/* This rank and the number of ranks (0 and 1 when d is NULL). */
int ex_dist_rank(const ex_dist *d);
int ex_dist_world(const ex_dist *d);
/* Wait for every rank. Rank 0 writes shared files (a generated data set) first: ranks other than
 * 0 call it before reading them, rank 0 after writing them. */
void ex_dist_barrier(const ex_dist *d);
/* Make net and opt data-parallel over the training set train (global batches of
 * global_batch samples, shuffled with seed, as nb_batcher does). Collective. */
void ex_dist_attach(ex_dist *d, nb_module *net, nb_optim *opt, const nb_dataset *train,
                    int64_t global_batch, uint64_t seed);
/* Global batches per epoch. */
int64_t ex_dist_num_batches(const ex_dist *d);

/* Train epoch `epoch` (from 0): per global batch, this rank's shard forward, mean cross-entropy,
 * backward (gradients averaged over the ranks), optimizer step; a progress bar labelled label
 * on rank 0. When curves is not NULL, each global batch's loss is added to "batch_loss" at
 * x = epoch + the fraction of the epoch done. Returns what the epoch did over all ranks, as
 * nb_train_epoch reports it (loss: mean of the global batches' losses; samples over all ranks).
 * Collective. */
nb_loop_result ex_dist_train_epoch(ex_dist *d, nb_step *step, const char *label, int epoch,
                                   nb_curves *curves);
/* Copy rank 0's n values to every rank (e.g. a test accuracy measured on rank 0); nothing when
 * d is NULL (not data-parallel). */
void ex_dist_share(const ex_dist *d, double *values, int n);
/* Checkpoints: rank 0 writes; loading reads rank 0's file onto every rank (any rank count).
 * Both return the status rank 0 had. */
nb_status ex_dist_save(ex_dist *d, const char *path);
nb_status ex_dist_load(ex_dist *d, const char *path);
/* Print (rank 0) the time per step and the wait for the gradient all-reduce after backward. */
void ex_dist_report(const ex_dist *d);
/* Free everything and leave the job (nb_dist_finalize). Returns rc, or 1 when finalize fails. */
int ex_dist_finish(ex_dist *d, int rc);

#endif
