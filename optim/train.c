/* optim/train.c — nb_train_epoch and nb_evaluate: the training and evaluation loops,
 * nb_train_step, one update from a loss callback, and nb_alternating_update, two such updates
 * per batch; built on the public API only. */
#define _POSIX_C_SOURCE 200809L
#include "nabla/train.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "nabla/autograd.h"
#include "nabla/ops.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Re-raise the pending error with "prefix: " in front. */
static nb_status prefixed_error(const char *prefix, nb_status st)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", nb_last_error());
    nb_clear_error();
    return nb_set_error(st, "%s: %s", prefix, msg);
}

/* Re-raise the pending error with "fn: batch I: " in front. */
static nb_status batch_error(const char *fn, int64_t index, nb_status st)
{
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s: batch %lld", fn, (long long)index);
    return prefixed_error(prefix, st);
}

/* The batch's loss: the caller's, or the mean cross-entropy of model(x) against the labels
 * with *logits = model(x) for the accuracy count. */
static nb_tensor *batch_loss(const nb_loop_opts *o, nb_module *model, const nb_batch *b,
                             bool training, nb_tensor **logits)
{
    if (o->loss)
        return o->loss(model, b, training, o->user);
    if (!b->y) {
        nb_set_error(NB_ERR_VALUE, "the dataset has no labels: the default loss (cross-entropy) "
                                   "needs them; give nb_loop_opts.loss");
        return NULL;
    }
    *logits = nb_module_forward(model, b->x);
    return *logits ? nb_cross_entropy(*logits, b->y, NB_REDUCE_MEAN) : NULL;
}

/* b->x replaced by the transform's result for the batch. */
static nb_status transform_batch(const nb_loop_opts *o, nb_batch *b)
{
    nb_tensor *x = o->transform(b, o->user);
    if (!x)
        return nb_last_status();
    if (nb_tensor_ndim(x) < 1 || nb_tensor_dim(x, 0) != b->size)
        return nb_set_error(
            NB_ERR_VALUE, "the transform's result has %lld rows, the batch %lld samples",
            (long long)(nb_tensor_ndim(x) < 1 ? 0 : nb_tensor_dim(x, 0)), (long long)b->size);
    b->x = x;
    return NB_OK;
}

/* Samples of the batch whose argmax of logits [B, C] equals the label; -1 on error. */
static int64_t count_correct(nb_tensor *logits, const nb_batch *b)
{
    nb_tensor *pred = nb_argmax(logits, -1);
    if (!pred)
        return -1;
    const int64_t *p = nb_tensor_data_i64(pred), *y = nb_tensor_data_i64(b->y);
    if (!p || !y)
        return -1;
    int64_t ok = 0;
    for (int64_t i = 0; i < b->size; i++)
        ok += p[i] == y[i];
    return ok;
}

/* Common checks; makes a step when the caller gave none (*own set then). */
static nb_status loop_begin(const char *fn, nb_module *model, const nb_loop_opts *o, nb_step **step,
                            nb_step **own, nb_loop_result *out)
{
    if (out)
        *out = (nb_loop_result){.loss = NAN, .first_loss = NAN, .accuracy = NAN};
    *own = NULL;
    if (!model || !out)
        return nb_set_error(NB_ERR_VALUE, "%s: %s is NULL", fn, !model ? "model" : "out");
    if (nb_step_active())
        return nb_set_error(NB_ERR_STATE,
                            "%s: called inside an active step (the loop begins and ends a step "
                            "per batch: call it between steps)",
                            fn);
    if (o->clip_norm < 0 || isnan(o->clip_norm) || o->batch_size < 0 || isnan(o->curve_dx))
        return nb_set_error(NB_ERR_VALUE,
                            "%s: clip_norm (%g) and batch_size (%lld) must be >= 0, curve_dx a "
                            "number",
                            fn, o->clip_norm, (long long)o->batch_size);
    if (!*step) {
        *own = nb_step_new();
        if (!*own)
            return nb_last_status();
        *step = *own;
    }
    return NB_OK;
}

/* One batch in step: (training) zero_grad, the transform, the loss, backward, clipping, the
 * schedule, the update; (evaluation) the loss. *value gets the loss, *correct the samples
 * classified right (default loss). */
static nb_status batch_pass(nb_module *model, nb_optim *opt, bool training, nb_step *step,
                            const nb_loop_opts *o, const nb_batch *b, double *value,
                            int64_t *correct)
{
    nb_status st = nb_step_begin(step);
    if (st != NB_OK)
        return st;
    nb_tensor *logits = NULL;
    if (training)
        nb_optim_zero_grad(opt);
    nb_batch in = *b;
    if (training && o->transform)
        st = transform_batch(o, &in);
    nb_tensor *loss = st == NB_OK ? batch_loss(o, model, &in, training, &logits) : NULL;
    st = !loss ? nb_last_status() : training ? nb_backward(loss) : NB_OK;
    *value = st == NB_OK ? nb_tensor_item(loss) : NAN;
    if (training && st == NB_OK && !isfinite(*value) && !o->allow_nonfinite)
        st = nb_set_error(NB_ERR_VALUE,
                          "the loss is %g (set nb_loop_opts.allow_nonfinite to go on; "
                          "nb_set_anomaly_mode finds the op that made it)",
                          *value);
    if (training && st == NB_OK && o->clip_norm > 0)
        nb_optim_clip_grad_norm(opt, o->clip_norm);
    if (training && st == NB_OK && o->schedule)
        st = nb_optim_apply_schedule(opt, o->schedule, nb_optim_update_count(opt));
    if (training && st == NB_OK)
        st = nb_optim_update(opt);
    *correct = st == NB_OK && logits ? count_correct(logits, b) : 0;
    if (*correct < 0)
        st = nb_last_status();
    nb_step_end(step);
    return st;
}

/* One pass over `it`: training (zero_grad, backward, clipping, update, or the caller's update;
 * batch losses averaged) or evaluation (losses weighted by batch size). */
static nb_status run_pass(const char *fn, nb_module *model, nb_optim *opt, bool training,
                          nb_batcher *it, nb_step *step, const nb_loop_opts *o, nb_loop_result *out)
{
    const int64_t n_batches = nb_batcher_num_batches(it);
    const double dx = o->curve_dx > 0 ? o->curve_dx : 1.0 / (double)(n_batches > 0 ? n_batches : 1);
    const char *series = o->series ? o->series : "batch_loss";
    char label[48];
    snprintf(label, sizeof label, "epoch %d/%d", o->epoch, o->epochs);
    const bool with_bar = o->label || o->epochs > 0;
    nb_progress *bar =
        with_bar ? nb_progress_new(o->label ? o->label : label, n_batches, NULL) : NULL;
    const double t0 = now_seconds();
    double sum = 0;
    int64_t correct = 0;
    nb_status st = NB_OK;
    nb_batch b;
    while (st == NB_OK && nb_batcher_next(it, &b)) {
        double value = NAN;
        int64_t ok = 0;
        if (training && o->update)
            st = o->update(model, opt, &b, o->user, &value);
        else
            st = batch_pass(model, opt, training, step, o, &b, &value, &ok);
        if (st != NB_OK) {
            st = batch_error(fn, b.index, st);
            break;
        }
        if (out->batches == 0)
            out->first_loss = value;
        sum += training ? value : value * (double)b.size;
        correct += ok;
        out->batches++;
        out->samples += b.size;
        if (training && o->curves)
            nb_curves_add(o->curves, series, o->curve_x0 + (double)out->batches * dx, value);
        if (bar)
            nb_progress_advance(bar, b.size, value);
    }
    if (st != NB_OK) /* finish the epoch so the batcher starts the next one cleanly */
        while (nb_batcher_next(it, &b))
            ;
    if (bar) {
        nb_progress_finish(bar);
        nb_progress_free(bar);
    }
    out->seconds = now_seconds() - t0;
    if (out->batches) {
        out->loss = sum / (double)(training ? out->batches : out->samples);
        if (!o->loss && !(training && o->update))
            out->accuracy = (double)correct / (double)out->samples;
    }
    return st;
}

nb_status nb_train_epoch(nb_module *model, nb_optim *opt, nb_batcher *it, nb_step *step,
                         const nb_loop_opts *opts, nb_loop_result *out)
{
    static const char fn[] = "nb_train_epoch";
    const nb_loop_opts o = opts ? *opts : (nb_loop_opts){0};
    nb_step *own;
    nb_status st = loop_begin(fn, model, &o, &step, &own, out);
    if (st != NB_OK)
        return st;
    if ((!opt && !o.update) || !it) {
        nb_step_free(own);
        return nb_set_error(NB_ERR_VALUE, "%s: %s is NULL", fn, !opt ? "opt" : "it");
    }
    nb_module_train(model, true);
    st = run_pass(fn, model, opt, true, it, step, &o, out);
    nb_step_free(own);
    return st;
}

nb_status nb_evaluate(nb_module *model, const nb_dataset *ds, nb_step *step,
                      const nb_loop_opts *opts, nb_loop_result *out)
{
    static const char fn[] = "nb_evaluate";
    const nb_loop_opts o = opts ? *opts : (nb_loop_opts){0};
    nb_step *own;
    nb_status st = loop_begin(fn, model, &o, &step, &own, out);
    if (st != NB_OK)
        return st;
    nb_batcher *it =
        ds ? nb_batcher_new(ds,
                            &(nb_batch_opts){.batch_size = o.batch_size > 0 ? o.batch_size : 1000})
           : NULL;
    if (!it) {
        nb_step_free(own);
        return ds ? nb_last_status() : nb_set_error(NB_ERR_VALUE, "%s: ds is NULL", fn);
    }
    const bool training = nb_module_is_training(model);
    const bool grad = nb_set_grad_enabled(false);
    nb_module_train(model, false);
    st = run_pass(fn, model, NULL, false, it, step, &o, out);
    nb_module_train(model, training);
    nb_set_grad_enabled(grad);
    nb_batcher_free(it);
    nb_step_free(own);
    return st;
}

nb_status nb_train_step(nb_optim *opt, nb_step *step, nb_step_loss_fn loss, void *user,
                        double clip_norm, double *loss_value)
{
    static const char fn[] = "nb_train_step";
    if (loss_value)
        *loss_value = NAN;
    if (!opt || !loss || !(clip_norm >= 0))
        return nb_set_error(NB_ERR_VALUE, "%s: need opt, a loss function and clip_norm >= 0 (%g)",
                            fn, clip_norm);
    if (nb_step_active())
        return nb_set_error(NB_ERR_STATE,
                            "%s: called inside an active step (it begins and ends a "
                            "step of its own: call it between steps)",
                            fn);
    nb_step *own = step ? NULL : nb_step_new();
    nb_status st = step || own ? nb_step_begin(step ? step : own) : nb_last_status();
    if (st != NB_OK) {
        nb_step_free(own);
        return st;
    }
    nb_optim_zero_grad(opt);
    nb_tensor *l = loss(user);
    st = l ? nb_backward(l) : nb_last_status();
    const double value = st == NB_OK ? nb_tensor_item(l) : NAN;
    if (st == NB_OK && !isfinite(value))
        st = nb_set_error(NB_ERR_VALUE,
                          "the loss is %g (nb_set_anomaly_mode finds the op that made it)", value);
    if (st == NB_OK && clip_norm > 0)
        nb_optim_clip_grad_norm(opt, clip_norm);
    if (st == NB_OK)
        st = nb_optim_update(opt);
    nb_step_end(step ? step : own);
    nb_step_free(own);
    if (st != NB_OK)
        return prefixed_error(fn, st);
    if (loss_value)
        *loss_value = value;
    return NB_OK;
}

nb_tensor *nb_augment_transform(const nb_batch *batch, void *user)
{
    if (!batch) {
        nb_set_error(NB_ERR_VALUE, "nb_augment_transform: the batch is NULL");
        return NULL;
    }
    return nb_augment_images(batch->x, user);
}

/* ---- alternating updates ---- */

typedef struct batch_loss_call {
    nb_batch_loss_fn fn;
    nb_module *model;
    const nb_batch *batch;
    void *user;
} batch_loss_call;

static nb_tensor *call_batch_loss(void *user)
{
    const batch_loss_call *c = user;
    return c->fn(c->model, c->batch, true, c->user);
}

nb_status nb_alternating_update(nb_module *model, nb_optim *opt, const nb_batch *batch, void *user,
                                double *loss)
{
    (void)model, (void)opt;
    nb_alternating *a = user;
    double value[2] = {NAN, NAN};
    if (loss)
        *loss = NAN;
    if (!a || !batch || !a->opts[0] || !a->opts[1] || !a->losses[0] || !a->losses[1])
        return nb_set_error(NB_ERR_VALUE,
                            "nb_alternating_update: need a batch and an nb_alternating with two "
                            "optimizers and two losses");
    nb_status st = NB_OK;
    for (int i = 0; i < 2 && st == NB_OK; i++) {
        batch_loss_call c = {a->losses[i], a->models[i], batch, a->user};
        st = nb_train_step(a->opts[i], a->step, call_batch_loss, &c, 0, &value[i]);
        if (st == NB_OK)
            a->sums[i] += value[i];
    }
    if (loss)
        *loss = value[0];
    return st;
}
