/* nabla/train.h — one training epoch and one evaluation pass, the loop every program writes.
 *
 *     nb_batcher *it = nb_batcher_new(&train, &(nb_batch_opts){.batch_size = 64, .shuffle = true,
 *                                                              .seed = 1});
 *     for (int epoch = 0; epoch < 10; epoch++) {
 *         nb_loop_result tr, te;
 *         nb_loop_opts lo = {.label = "train"};
 *         if (nb_train_epoch(net, opt, it, NULL, &lo, &tr) != NB_OK ||
 *             nb_evaluate(net, &test, NULL, NULL, &te) != NB_OK)
 *             return fprintf(stderr, "%s\n", nb_last_error()), 1;
 *         printf("epoch %d: loss %.4f, test accuracy %.2f%%\n", epoch + 1, tr.loss,
 *                100 * te.accuracy);
 *     }
 *
 * The default loss is the mean cross-entropy of model(x) against the batch's class ids, and
 * accuracy is then counted (argmax of model(x) equals the label). Any other objective is a
 * callback that makes the batch's loss from ops (reconstruction, a regulariser, corrupted
 * inputs, a loss with options). The loop is what one would write by hand, nothing hidden: per
 * batch a step, zero_grad, an optional input transform (augmentation), the loss, nb_backward,
 * optional clipping, an optional learning-rate schedule, nb_optim_update. Write the
 * loop yourself when a program needs more (several optimizers, gradient accumulation,
 * data-parallel updates), with nb_train_step as the body of each update; these functions are
 * built only on the public API. */
#ifndef NABLA_TRAIN_H
#define NABLA_TRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "nabla/autograd.h"
#include "nabla/data.h"
#include "nabla/nn.h"
#include "nabla/optim.h"
#include "nabla/report.h"
#include "nabla/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The loss of one batch: a 0-dim tensor made with ops in the active step (the mean over the
 * batch's samples, so that evaluation can weight batches by their size). `training` is false
 * during nb_evaluate (e.g. no input corruption). NULL with the library's error set on failure. */
typedef nb_tensor *(*nb_batch_loss_fn)(nb_module *model, const nb_batch *batch, bool training,
                                       void *user);

/* A training batch's input made from the batch (augmentation: random crops, flips, noise),
 * called by nb_train_epoch inside the batch's step before the loss; the loss (the default one or
 * the callback, which sees a copy of the batch with x replaced) then uses the returned tensor as
 * the batch's x. Return an op result of the step (e.g. a nb_constant filled through its data
 * pointer, or ops on batch->x) or a tensor the caller owns and keeps alive (the loop frees
 * neither), with the batch's size as its first dim; NULL with the library's error set on
 * failure. */
typedef nb_tensor *(*nb_batch_transform_fn)(const nb_batch *batch, void *user);

/* A batch's updates done by the caller, in place of the loop's zero_grad / loss / backward /
 * update: for training with several optimizers (a GAN's discriminator and generator steps) or
 * anything else per batch, while nb_train_epoch keeps the batches, the progress bar, the mean
 * loss, the curves and the error handling. Called outside any step (each update makes its own,
 * e.g. with nb_train_step); opt is nb_train_epoch's (may be NULL then). *loss gets the value to
 * report for the batch. NB_OK, or a status with the library's error set. */
typedef nb_status (*nb_batch_update_fn)(nb_module *model, nb_optim *opt, const nb_batch *batch,
                                        void *user, double *loss);

/* An nb_batch_transform_fn that augments the batch's images: nb_augment_images(batch->x, user)
 * with user an nb_augment_opts (data.h) that lives as long as the training:
 *
 *     nb_augment_opts aug = {.shift = 2, .hflip = true, .rng = nb_rng_seed(1000)};
 *     nb_loop_opts lo = {.transform = nb_augment_transform, .user = &aug};
 */
NB_API nb_tensor *nb_augment_transform(const nb_batch *batch, void *user);

/* Options of both loops; a zeroed struct (or NULL) gives the defaults. */
typedef struct nb_loop_opts {
    nb_batch_loss_fn loss; /* NULL: mean cross-entropy of model(x) against y, accuracy counted */
    void *user;            /* passed to loss and transform */
    const char *label;     /* progress bar on stderr with this label; NULL: no bar, unless */
    int epoch, epochs;     /* epochs > 0 (and label NULL): a bar labelled "epoch E/N" */
    nb_curves *curves;     /* training: every batch loss is added as a point of `series` */
    const char *series;    /* NULL: "batch_loss" */
    double curve_x0;       /* batch i (from 0) of the epoch is at x = curve_x0 + (i+1) * dx */
    double curve_dx;       /* 0: 1 / (batches per epoch), so x counts epochs */
    double clip_norm;      /* training, > 0: nb_optim_clip_grad_norm before each update */
    int64_t batch_size;    /* nb_evaluate's batches; 0: 1000 */
    bool allow_nonfinite;  /* training: a NaN/Inf loss is an error unless this is set */
    /* training, not NULL: each batch's input is transform(batch, user) (see above) */
    nb_batch_transform_fn transform;
    /* training, not NULL: before each update the learning rates are set by
     * nb_optim_apply_schedule(opt, schedule, t) with t = nb_optim_update_count(opt), the updates
     * the optimizer has made so far: the schedule runs on across epochs from t = 0 at the
     * optimizer's first update (and on from a checkpoint's count after a resume) */
    const nb_lr_schedule *schedule;
    /* training, not NULL: each batch is update(model, opt, batch, user, &loss) instead of the
     * loop's own update (loss, transform, clip_norm and schedule are then not used; opt may be
     * NULL; accuracy is not counted) */
    nb_batch_update_fn update;
} nb_loop_opts;

/* What a pass did. */
typedef struct nb_loop_result {
    double loss;       /* training: mean of the batch losses; evaluation: mean per sample */
    double first_loss; /* loss of the first batch (NaN when there was none) */
    double accuracy;   /* fraction classified right; NaN with a custom loss */
    int64_t samples;   /* samples seen */
    int64_t batches;   /* batches done */
    double seconds;    /* wall time of the pass */
} nb_loop_result;

/* One epoch over `it`: the model is put in training mode, then per batch nb_step_begin(step),
 * zero_grad, the transform (when given), loss, nb_backward, optional clipping, the schedule's
 * learning rate (when given), nb_optim_update, nb_step_end. step may be
 * NULL (a step is made for the call). On an error the remaining batches of the epoch are
 * skipped (so the batcher starts the next epoch cleanly), *out holds what was done and the
 * status is returned with the message prefixed by "nb_train_epoch: batch I:". Errors: those of
 * the transform, the loss, the schedule (nb_optim_apply_schedule) and the update; NB_ERR_VALUE
 * for a non-finite loss (unless allowed), a dataset without labels under the default loss or a
 * transform result whose first dim is not the batch size; NB_ERR_STATE when called inside an
 * active step. With opts->update each batch is that call instead (opt may then be NULL), its
 * errors reported the same way. nb_evaluate ignores transform, schedule and update. */
NB_API nb_status nb_train_epoch(nb_module *model, nb_optim *opt, nb_batcher *it, nb_step *step,
                                const nb_loop_opts *opts, nb_loop_result *out);

/* Loss (mean per sample) and, with the default loss, accuracy of model on ds, in batches of
 * opts->batch_size in the dataset's order, in evaluation mode with gradient recording off; the
 * model's mode and the gradient switch are restored after. step may be NULL. Errors as for
 * nb_train_epoch ("nb_evaluate: batch I:"); a non-finite loss is reported in out->loss, not an
 * error. */
NB_API nb_status nb_evaluate(nb_module *model, const nb_dataset *ds, nb_step *step,
                             const nb_loop_opts *opts, nb_loop_result *out);

/* The loss of one update, a 0-dim tensor made with ops in the active step from whatever user
 * points to (the model, a batch, ...). It may read values of the forward with nb_tensor_item on
 * the way (e.g. a discriminator's outputs). NULL with the library's error set on failure. */
typedef nb_tensor *(*nb_step_loss_fn)(void *user);

/* One update of opt, the body of a hand-written training loop: nb_step_begin(step),
 * nb_optim_zero_grad(opt), loss(user), nb_backward, nb_optim_clip_grad_norm(opt, clip_norm)
 * when clip_norm > 0, nb_optim_update, nb_step_end. The model's mode is left as it is. step
 * may be NULL (a step is made for the call). *loss_value (may be NULL) gets the loss, NaN on
 * an error. For loops nb_train_epoch does not cover: batches that are not a dataset (random
 * text windows, generated strings), several optimizers (a GAN's two steps per batch):
 *
 *     for (int it = 1; it <= steps; it++) {
 *         nb_text_windows(text.ids, 0, n_train, &rng, x, y);
 *         if (nb_train_step(opt, step, lm_loss, &batch, 1.0, &loss) != NB_OK) ... error
 *     }
 *
 * Errors, prefixed with "nb_train_step: ": those of the loss and the update, NB_ERR_VALUE (opt
 * or loss NULL, clip_norm negative or NaN, a non-finite loss), NB_ERR_STATE (called in an
 * active step). */
NB_API nb_status nb_train_step(nb_optim *opt, nb_step *step, nb_step_loss_fn loss, void *user,
                               double clip_norm, double *loss_value);

/* ---- alternating updates: a GAN's discriminator and generator steps ----
 * Two models trained against each other with one update each per batch: first opts[0] on
 * losses[0], then opts[1] on losses[1], each an nb_train_step (its own step, zero_grad of its
 * optimizer, backward, update) with no clipping, so the gradients the second loss leaves in the
 * first model are zeroed before its next update (PyTorch's od.zero_grad(); ld.backward();
 * od.step(); og.zero_grad(); lg.backward(); og.step()). As nb_loop_opts.update, with user an
 * nb_alternating (nb_train_epoch's model and opt are then not used):
 *
 *     nb_alternating gan = {.models = {dis, gen}, .opts = {od, og}, .losses = {d_loss, g_loss},
 *                           .user = &state, .step = step};
 *     nb_loop_opts lo = {.update = nb_alternating_update, .user = &gan, .epoch = e, .epochs = n};
 *     nb_train_epoch(gen, NULL, batches, step, &lo, &r);       (r.loss: the mean of losses[0])
 */
typedef struct nb_alternating {
    nb_module *models[2];       /* models[i] is the model argument of losses[i] */
    nb_optim *opts[2];          /* the optimizers of the two updates, in order */
    nb_batch_loss_fn losses[2]; /* called as losses[i](models[i], batch, true, user) */
    void *user;
    nb_step *step;  /* reused by both updates; NULL: a step per update */
    double sums[2]; /* out: each loss added up over the batches (the caller zeroes them) */
} nb_alternating;

/* An nb_batch_update_fn: the two updates of the nb_alternating `user` on batch; *loss (may be
 * NULL) gets the first loss, NaN on an error; model and opt are not used. The second update is
 * not made when the first fails. Errors: NB_ERR_VALUE ("nb_alternating_update: ...": user or
 * batch NULL, an optimizer or loss missing), those of nb_train_step. */
NB_API nb_status nb_alternating_update(nb_module *model, nb_optim *opt, const nb_batch *batch,
                                       void *user, double *loss);

#ifdef __cplusplus
}
#endif

#endif
