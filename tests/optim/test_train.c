/* tests/optim/test_train.c — nb_train_epoch and nb_evaluate: the same parameters as the loop
 * written by hand, a custom loss on unlabelled data, evaluation weighting an uneven last batch,
 * curves, a per-update learning-rate schedule and an input transform (the same parameters as by
 * hand), and the errors (inside a step, no labels, a NaN loss, NULL arguments, a transform of the
 * wrong size); the caller's own update per batch; nb_train_step; nb_alternating_update. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nabla.h"

enum { N = 50, D = 3, C = 2 };

/* Two classes on either side of a plane, in float64. */
static nb_dataset make_data(bool labels)
{
    nb_dataset ds = {0};
    ds.x = nb_tensor_new(NB_F64, 2, (int64_t[]){N, D});
    nb_rng rng = nb_rng_seed(7);
    double *x = nb_tensor_data_f64(ds.x);
    for (int i = 0; i < N * D; i++)
        x[i] = nb_rng_normal(&rng);
    if (labels) {
        ds.y = nb_tensor_new(NB_I64, 1, (int64_t[]){N});
        ds.n_classes = C;
        int64_t *y = nb_tensor_data_i64(ds.y);
        for (int i = 0; i < N; i++)
            y[i] = x[i * D] + 0.5 * x[i * D + 1] > 0;
    }
    return ds;
}

static nb_module *make_net(int64_t out)
{
    nb_rng rng = nb_rng_seed(3);
    nb_module *m = nb_linear_new_ex(D, out, true, &rng, NB_F64);
    assert_non_null(m);
    return m;
}

static nb_batcher *make_batcher(const nb_dataset *ds)
{
    nb_batcher *it =
        nb_batcher_new(ds, &(nb_batch_opts){.batch_size = 16, .shuffle = true, .seed = 11});
    assert_non_null(it);
    return it;
}

/* The loop nb_train_epoch stands for, written out. */
static double manual_epoch(nb_module *net, nb_optim *opt, nb_batcher *it, nb_step *step)
{
    nb_batch b;
    double sum = 0;
    int n = 0;
    nb_module_train(net, true);
    while (nb_batcher_next(it, &b)) {
        nb_step_begin(step);
        nb_optim_zero_grad(opt);
        nb_tensor *loss = nb_cross_entropy(nb_module_forward(net, b.x), b.y, NB_REDUCE_MEAN);
        assert_int_equal(nb_backward(loss), NB_OK);
        assert_int_equal(nb_optim_update(opt), NB_OK);
        sum += nb_tensor_item(loss);
        n++;
        nb_step_end(step);
    }
    return sum / n;
}

/* Two equal nets with their optimizers and batchers over the same data: one trained by
 * nb_train_epoch, the other by a loop written out. */
typedef struct twins {
    nb_dataset ds;
    nb_module *a, *b;
    nb_optim *oa, *ob;
    nb_batcher *ia, *ib;
    nb_step *step;
} twins;

static twins *twins_new(void)
{
    twins *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->ds = make_data(true);
    t->a = make_net(C), t->b = make_net(C);
    t->oa = nb_sgd_new(t->a, &(nb_sgd_opts){.lr = 0.3, .momentum = 0.9});
    t->ob = nb_sgd_new(t->b, &(nb_sgd_opts){.lr = 0.3, .momentum = 0.9});
    t->ia = make_batcher(&t->ds), t->ib = make_batcher(&t->ds);
    t->step = nb_step_new();
    return t;
}

static void twins_free(twins *t)
{
    nb_step_free(t->step);
    nb_batcher_free(t->ia);
    nb_batcher_free(t->ib);
    nb_optim_free(t->oa);
    nb_optim_free(t->ob);
    nb_module_free(t->a);
    nb_module_free(t->b);
    nb_dataset_deinit(&t->ds);
    free(t);
}

static void test_train_epoch_matches_the_loop_by_hand(void **state)
{
    (void)state;
    twins *tw = twins_new();
    double first = NAN, last = NAN;
    for (int epoch = 0; epoch < 3; epoch++) {
        nb_loop_result r;
        assert_int_equal(nb_train_epoch(tw->a, tw->oa, tw->ia, NULL, NULL, &r), NB_OK);
        const double want = manual_epoch(tw->b, tw->ob, tw->ib, tw->step);
        assert_true(r.loss == want);
        assert_int_equal(r.batches, 4);
        assert_int_equal(r.samples, N);
        assert_true(r.accuracy >= 0 && r.accuracy <= 1);
        assert_true(r.seconds >= 0);
        first = epoch == 0 ? r.loss : first;
        last = r.loss;
    }
    assert_true(last < first);
    /* Bit for bit the same parameters. */
    nb_tensor *pa = nb_module_param_buffer(tw->a), *pb = nb_module_param_buffer(tw->b);
    assert_memory_equal(nb_tensor_data_f64(pa), nb_tensor_data_f64(pb),
                        (size_t)nb_tensor_numel(pa) * sizeof(double));
    /* Evaluation: accuracy counted by hand. */
    nb_loop_result e;
    assert_int_equal(nb_evaluate(tw->a, &tw->ds, NULL, &(nb_loop_opts){.batch_size = 7}, &e),
                     NB_OK);
    assert_int_equal(e.batches, 8);
    nb_step_begin(tw->step);
    nb_tensor *logits = nb_module_forward(tw->a, tw->ds.x);
    nb_tensor *pred = nb_argmax(logits, 1);
    const double full = nb_tensor_item(nb_cross_entropy(logits, tw->ds.y, NB_REDUCE_MEAN));
    int64_t right = 0;
    for (int i = 0; i < N; i++)
        right += nb_tensor_data_i64(pred)[i] == nb_tensor_data_i64(tw->ds.y)[i];
    nb_step_end(tw->step);
    assert_true(e.accuracy == (double)right / N);
    /* Batches of 7 (the last of 1) weighted by size give the mean over all samples. */
    assert_true(fabs(e.loss - full) < 1e-13);
    assert_true(e.accuracy > 0.8);
    twins_free(tw);
}

/* Reconstruction loss; counts the calls in training and evaluation mode. */
typedef struct calls {
    int train, eval;
} calls;

static nb_tensor *recon_loss(nb_module *m, const nb_batch *b, bool training, void *user)
{
    calls *c = user;
    (training ? &c->train : &c->eval)[0]++;
    return nb_mse(nb_module_forward(m, b->x), b->x, NB_REDUCE_MEAN);
}

static void test_custom_loss_on_unlabelled_data_and_curves(void **state)
{
    (void)state;
    nb_dataset ds = make_data(false);
    nb_module *net = make_net(D);
    nb_optim *opt =
        nb_adam_new(net, &(nb_adam_opts){.lr = 0.05, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8});
    assert_non_null(opt);
    nb_batcher *it = make_batcher(&ds);
    nb_curves *cv = nb_curves_new();
    calls c = {0};
    nb_loop_opts lo = {.loss = recon_loss,
                       .user = &c,
                       .curves = cv,
                       .series = "recon",
                       .curve_x0 = 10,
                       .curve_dx = 1,
                       .clip_norm = 5};
    nb_loop_result r0, r1, e;
    assert_int_equal(nb_train_epoch(net, opt, it, NULL, &lo, &r0), NB_OK);
    assert_int_equal(nb_train_epoch(net, opt, it, NULL, &lo, &r1), NB_OK);
    assert_true(isnan(r0.accuracy));
    assert_true(r1.loss < r0.loss);
    assert_int_equal(c.train, 8);
    assert_int_equal(nb_curves_num_points(cv, "recon"), 8);
    nb_module_train(net, true);
    assert_int_equal(nb_evaluate(net, &ds, NULL, &lo, &e), NB_OK);
    assert_int_equal(c.eval, 1);
    assert_true(isnan(e.accuracy));
    assert_true(nb_module_is_training(net)); /* restored */
    assert_true(nb_is_grad_enabled());
    nb_curves_free(cv);
    nb_batcher_free(it);
    nb_optim_free(opt);
    nb_module_free(net);
    nb_dataset_deinit(&ds);
}

static nb_tensor *nan_after_one(nb_module *m, const nb_batch *b, bool training, void *user)
{
    (void)training;
    int *n = user;
    nb_tensor *l = nb_mse(nb_module_forward(m, b->x), b->x, NB_REDUCE_MEAN);
    return ++*n > 1 ? nb_add_scalar(l, NAN) : l; /* NaN loss, finite gradients */
}

static void test_errors(void **state)
{
    (void)state;
    nb_dataset unl = make_data(false);
    nb_module *net = make_net(D);
    nb_optim *opt = nb_sgd_new(net, &(nb_sgd_opts){.lr = 0.1});
    nb_batcher *it = make_batcher(&unl);
    nb_loop_result r;
    /* The default loss needs labels: named with the batch. */
    assert_int_equal(nb_train_epoch(net, opt, it, NULL, NULL, &r), NB_ERR_VALUE);
    assert_non_null(strstr(nb_last_error(), "nb_train_epoch: batch 0: the dataset has no labels"));
    assert_int_equal(r.batches, 0);
    assert_int_equal(nb_evaluate(net, &unl, NULL, NULL, &r), NB_ERR_VALUE);
    assert_non_null(strstr(nb_last_error(), "nb_evaluate: batch 0"));
    /* A NaN loss stops the epoch; the batcher is left at the end of it. */
    int n = 0;
    nb_loop_opts lo = {.loss = nan_after_one, .user = &n};
    assert_int_equal(nb_train_epoch(net, opt, it, NULL, &lo, &r), NB_ERR_VALUE);
    assert_non_null(strstr(nb_last_error(), "batch 1: the loss is nan"));
    assert_int_equal(r.batches, 1);
    nb_batch b;
    assert_true(nb_batcher_next(it, &b));
    assert_int_equal(b.index, 0);
    while (nb_batcher_next(it, &b))
        ;
    n = 0;
    lo.allow_nonfinite = true;
    assert_int_equal(nb_train_epoch(net, opt, it, NULL, &lo, &r), NB_OK);
    assert_int_equal(r.batches, 4);
    assert_true(isnan(r.loss));
    /* Inside a step. */
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    assert_int_equal(nb_train_epoch(net, opt, it, NULL, &lo, &r), NB_ERR_STATE);
    assert_non_null(strstr(nb_last_error(), "inside an active step"));
    nb_step_end(step);
    nb_step_free(step);
    /* NULL arguments and bad options. */
    assert_int_equal(nb_train_epoch(NULL, opt, it, NULL, NULL, &r), NB_ERR_VALUE);
    assert_int_equal(nb_train_epoch(net, NULL, it, NULL, NULL, &r), NB_ERR_VALUE);
    assert_int_equal(nb_train_epoch(net, opt, NULL, NULL, NULL, &r), NB_ERR_VALUE);
    assert_int_equal(nb_train_epoch(net, opt, it, NULL, NULL, NULL), NB_ERR_VALUE);
    assert_int_equal(nb_evaluate(net, NULL, NULL, NULL, &r), NB_ERR_VALUE);
    nb_clear_error(); /* the first pending message is kept: clear it to read the next */
    assert_int_equal(nb_evaluate(net, &unl, NULL, &(nb_loop_opts){.clip_norm = -1}, &r),
                     NB_ERR_VALUE);
    assert_non_null(strstr(nb_last_error(), "clip_norm (-1)"));
    nb_batcher_free(it);
    nb_optim_free(opt);
    nb_module_free(net);
    nb_dataset_deinit(&unl);
}

/* Augmentation stand-in: the features of each sample in reverse order, written into a constant
 * of the step; counts its calls. */
static nb_tensor *reverse_features(const nb_batch *b, void *user)
{
    ++*(int *)user;
    nb_tensor *out = nb_constant(NB_F64, 2, (int64_t[]){b->size, D}, 0.0);
    const double *x = nb_tensor_data_f64(b->x);
    double *o = nb_tensor_data_f64(out);
    for (int64_t i = 0; i < b->size; i++)
        for (int j = 0; j < D; j++)
            o[i * D + j] = x[i * D + D - 1 - j];
    return out;
}

/* The rows of the batch but the first: a result of the wrong size. */
static nb_tensor *drop_a_row(const nb_batch *b, void *user)
{
    (void)user;
    return nb_slice(b->x, 0, 1, b->size, 1);
}

static void test_schedule_and_transform_match_the_loop_by_hand(void **state)
{
    (void)state;
    twins *tw = twins_new();
    const nb_lr_schedule sched = nb_lr_with_warmup(nb_lr_cosine(0.3, 6, 0.01), 3, 0.1);
    int n_calls = 0;
    const nb_loop_opts lo = {.transform = reverse_features, .user = &n_calls, .schedule = &sched};
    int64_t t = 0;
    for (int epoch = 0; epoch < 3; epoch++) {
        nb_loop_result r;
        assert_int_equal(nb_train_epoch(tw->a, tw->oa, tw->ia, NULL, &lo, &r), NB_OK);
        assert_int_equal(n_calls, 4 * (epoch + 1));
        /* by hand: the schedule's rate at the running update count, the reversed features */
        nb_batch bt;
        double sum = 0;
        int64_t right = 0;
        while (nb_batcher_next(tw->ib, &bt)) {
            assert_int_equal(nb_optim_set_lr(tw->ob, nb_lr_at(&sched, t++)), NB_OK);
            nb_step_begin(tw->step);
            nb_optim_zero_grad(tw->ob);
            int unused = 0;
            nb_tensor *logits = nb_module_forward(tw->b, reverse_features(&bt, &unused));
            nb_tensor *loss = nb_cross_entropy(logits, bt.y, NB_REDUCE_MEAN);
            assert_int_equal(nb_backward(loss), NB_OK);
            assert_int_equal(nb_optim_update(tw->ob), NB_OK);
            sum += nb_tensor_item(loss);
            nb_tensor *pred = nb_argmax(logits, 1);
            for (int64_t i = 0; i < bt.size; i++)
                right += nb_tensor_data_i64(pred)[i] == nb_tensor_data_i64(bt.y)[i];
            nb_step_end(tw->step);
        }
        assert_true(r.loss == sum / 4);
        assert_true(r.accuracy == (double)right / N); /* counted on the transformed inputs */
        assert_true(nb_optim_get_lr(tw->oa) == nb_lr_at(&sched, t - 1));
    }
    assert_int_equal(nb_optim_update_count(tw->oa), 12);
    nb_tensor *pa = nb_module_param_buffer(tw->a), *pb = nb_module_param_buffer(tw->b);
    assert_memory_equal(nb_tensor_data_f64(pa), nb_tensor_data_f64(pb),
                        (size_t)nb_tensor_numel(pa) * sizeof(double));
    /* Evaluation neither transforms nor schedules. */
    nb_loop_result e;
    assert_int_equal(nb_evaluate(tw->a, &tw->ds, NULL, &lo, &e), NB_OK);
    assert_int_equal(n_calls, 12);
    assert_true(nb_optim_get_lr(tw->oa) == nb_lr_at(&sched, 11));
    /* A transform result of the wrong size, an invalid schedule: errors naming the batch. */
    assert_int_equal(
        nb_train_epoch(tw->a, tw->oa, tw->ia, NULL, &(nb_loop_opts){.transform = drop_a_row}, &e),
        NB_ERR_VALUE);
    assert_non_null(strstr(nb_last_error(), "batch 0: the transform's result has 15 rows"));
    assert_int_equal(e.batches, 0);
    nb_clear_error();
    const nb_lr_schedule bad = nb_lr_cosine(0.3, 0, 0.0);
    assert_int_equal(
        nb_train_epoch(tw->a, tw->oa, tw->ia, NULL, &(nb_loop_opts){.schedule = &bad}, &e),
        NB_ERR_VALUE);
    assert_non_null(strstr(nb_last_error(), "nb_train_epoch: batch 0"));
    assert_int_equal(nb_optim_update_count(tw->oa), 12); /* nothing updated */
    nb_clear_error();
    twins_free(tw);
}

typedef struct step_problem {
    nb_module *net;
    nb_tensor *x, *y; /* x [N, D], y [N] */
    double scale;     /* the loss is scale * cross-entropy (NaN or Inf: a non-finite loss) */
    bool fail;        /* the loss function fails */
} step_problem;

static nb_tensor *step_loss(void *user)
{
    const step_problem *p = user;
    if (p->fail) {
        nb_set_error(NB_ERR_SHAPE, "the test's loss failed");
        return NULL;
    }
    return nb_mul_scalar(nb_cross_entropy(nb_module_forward(p->net, p->x), p->y, NB_REDUCE_MEAN),
                         p->scale);
}

static void test_train_step_is_one_update_written_out(void **state)
{
    (void)state;
    nb_dataset ds = make_data(true);
    step_problem a = {.net = make_net(C), .x = ds.x, .y = ds.y, .scale = 1};
    step_problem b = {.net = make_net(C), .x = ds.x, .y = ds.y, .scale = 1};
    nb_optim *oa = nb_sgd_new(a.net, &(nb_sgd_opts){.lr = 0.5});
    nb_optim *ob = nb_sgd_new(b.net, &(nb_sgd_opts){.lr = 0.5});
    nb_step *step = nb_step_new();
    double first = NAN, loss = NAN;
    for (int it = 0; it < 5; it++) {
        /* by hand: zero_grad, loss, backward, clip, update */
        nb_step_begin(step);
        nb_optim_zero_grad(ob);
        nb_tensor *l = step_loss(&b);
        assert_int_equal(nb_backward(l), NB_OK);
        const double want = nb_tensor_item(l);
        nb_optim_clip_grad_norm(ob, 0.1);
        assert_int_equal(nb_optim_update(ob), NB_OK);
        nb_step_end(step);
        assert_int_equal(nb_train_step(oa, it % 2 ? step : NULL, step_loss, &a, 0.1, &loss), NB_OK);
        assert_float_equal(loss, want, 1e-12);
        first = it == 0 ? loss : first;
    }
    assert_true(loss < first);
    nb_tensor *wa = nb_module_param(a.net, "weight"), *wb = nb_module_param(b.net, "weight");
    for (int i = 0; i < C * D; i++)
        assert_float_equal(nb_tensor_get(wa, i), nb_tensor_get(wb, i), 1e-12);
    assert_null(nb_step_active());
    nb_step_free(step);
    nb_optim_free(oa), nb_optim_free(ob);
    nb_module_free(a.net), nb_module_free(b.net);
    nb_dataset_deinit(&ds);
}

static void test_train_step_reports_errors(void **state)
{
    (void)state;
    nb_dataset ds = make_data(true);
    step_problem p = {.net = make_net(C), .x = ds.x, .y = ds.y, .scale = 1, .fail = true};
    nb_optim *opt = nb_sgd_new(p.net, &(nb_sgd_opts){.lr = 0.5});
    double loss = 0;
    assert_int_equal(nb_train_step(opt, NULL, step_loss, &p, 0, &loss), NB_ERR_SHAPE);
    assert_string_equal(nb_last_error(), "nb_train_step: the test's loss failed");
    assert_true(isnan(loss));
    assert_null(nb_step_active());
    nb_clear_error();
    p.fail = false, p.scale = NAN;
    assert_int_equal(nb_train_step(opt, NULL, step_loss, &p, 0, &loss), NB_ERR_VALUE);
    assert_non_null(strstr(nb_last_error(), "nb_train_step: the loss is "));
    assert_int_equal(nb_optim_update_count(opt), 0);
    nb_clear_error();
    assert_int_equal(nb_train_step(opt, NULL, step_loss, &p, -1, &loss), NB_ERR_VALUE);
    assert_non_null(strstr(nb_last_error(), "clip_norm >= 0"));
    nb_clear_error();
    assert_int_equal(nb_train_step(NULL, NULL, step_loss, &p, 0, NULL), NB_ERR_VALUE);
    nb_clear_error();
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    assert_int_equal(nb_train_step(opt, NULL, step_loss, &p, 0, NULL), NB_ERR_STATE);
    nb_clear_error();
    nb_step_end(step);
    nb_step_free(step);
    nb_optim_free(opt);
    nb_module_free(p.net);
    nb_dataset_deinit(&ds);
}

typedef struct two_nets {
    step_problem p[2];
    nb_optim *opt[2];
    int calls;
    int fail_at; /* the call that fails (-1: none) */
} two_nets;

/* The caller's update: one nb_train_step of each network on the batch; reports the first's loss. */
static nb_status two_updates(nb_module *model, nb_optim *opt, const nb_batch *b, void *user,
                             double *loss)
{
    two_nets *t = user;
    assert_ptr_equal(model, t->p[0].net);
    assert_null(opt);
    assert_null(nb_step_active());
    if (t->calls++ == t->fail_at)
        return nb_set_error(NB_ERR_VALUE, "the test's update failed");
    double second;
    for (int k = 0; k < 2; k++)
        t->p[k].x = b->x, t->p[k].y = b->y;
    nb_status st = nb_train_step(t->opt[0], NULL, step_loss, &t->p[0], 0, loss);
    return st == NB_OK ? nb_train_step(t->opt[1], NULL, step_loss, &t->p[1], 0, &second) : st;
}

static void test_train_epoch_runs_the_callers_update(void **state)
{
    (void)state;
    nb_dataset ds = make_data(true);
    two_nets t = {.fail_at = -1};
    for (int k = 0; k < 2; k++) {
        t.p[k] = (step_problem){.net = make_net(C), .scale = 1};
        t.opt[k] = nb_sgd_new(t.p[k].net, &(nb_sgd_opts){.lr = 0.5});
    }
    nb_batcher *it = make_batcher(&ds);
    nb_curves *curves = nb_curves_new();
    const nb_loop_opts lo = {.update = two_updates, .user = &t, .curves = curves};
    nb_loop_result r;
    assert_int_equal(nb_train_epoch(t.p[0].net, NULL, it, NULL, &lo, &r), NB_OK);
    assert_int_equal(r.batches, 4); /* 50 samples in batches of 16 */
    assert_int_equal(t.calls, 4);
    assert_int_equal(nb_optim_update_count(t.opt[0]), 4);
    assert_int_equal(nb_optim_update_count(t.opt[1]), 4);
    assert_true(isnan(r.accuracy));
    assert_int_equal(nb_curves_num_points(curves, "batch_loss"), 4);
    assert_true(isfinite(r.loss) && isfinite(r.first_loss));
    /* the two networks started alike and saw the same batches: the same weights after */
    nb_tensor *w0 = nb_module_param(t.p[0].net, "weight"),
              *w1 = nb_module_param(t.p[1].net, "weight");
    for (int i = 0; i < C * D; i++)
        assert_float_equal(nb_tensor_get(w0, i), nb_tensor_get(w1, i), 0);
    /* an error of the update: reported with its batch, the epoch drained */
    t.fail_at = t.calls + 1;
    assert_int_equal(nb_train_epoch(t.p[0].net, NULL, it, NULL, &lo, &r), NB_ERR_VALUE);
    assert_string_equal(nb_last_error(), "nb_train_epoch: batch 1: the test's update failed");
    assert_int_equal(r.batches, 1);
    nb_clear_error();
    /* without an update the optimizer is required */
    assert_int_equal(nb_train_epoch(t.p[0].net, NULL, it, NULL, NULL, &r), NB_ERR_VALUE);
    nb_clear_error();
    nb_curves_free(curves);
    nb_batcher_free(it);
    for (int k = 0; k < 2; k++)
        nb_optim_free(t.opt[k]), nb_module_free(t.p[k].net);
    nb_dataset_deinit(&ds);
}

static void test_augment_transform_augments_the_batch(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(1);
    nb_tensor *x = nb_rand_uniform(NB_F32, NB_SHAPE(3, 1, 5, 5), &rng, 0, 1);
    const nb_batch b = {.x = x, .size = 3};
    nb_augment_opts a = {.shift = 1, .hflip = true, .rng = nb_rng_seed(8)}, ref = a;
    nb_tensor *y = nb_augment_transform(&b, &a), *want = nb_augment_images(x, &ref);
    assert_non_null(y);
    for (int64_t i = 0; i < 75; i++)
        assert_float_equal(nb_tensor_get(y, i), nb_tensor_get(want, i), 0);
    assert_null(nb_augment_transform(NULL, &a));
    assert_int_equal(nb_last_status(), NB_ERR_VALUE);
    nb_clear_error();
    nb_tensor_free(y), nb_tensor_free(want), nb_tensor_free(x);
}

/* What fn writes to stderr, with the progress bar in plain lines, into buf. */
static void capture_stderr(void (*fn)(void *), void *arg, char *buf, size_t size)
{
    char path[] = "/tmp/nb_test_train_stderr_XXXXXX";
    const int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    const int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    setenv("NB_PROGRESS", "plain", 1);
    fn(arg);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    unsetenv("NB_PROGRESS");
    lseek(fd, 0, SEEK_SET);
    const ssize_t n = read(fd, buf, size - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
    remove(path);
}

static void epoch_3_of_7(void *arg)
{
    nb_dataset *ds = arg;
    nb_module *net = make_net(C);
    nb_optim *opt = nb_sgd_new(net, &(nb_sgd_opts){.lr = 0.1});
    nb_batcher *it = make_batcher(ds);
    nb_loop_result r;
    const nb_loop_opts lo = {.epoch = 3, .epochs = 7};
    assert_int_equal(nb_train_epoch(net, opt, it, NULL, &lo, &r), NB_OK);
    const nb_loop_opts own = {.label = "mine", .epoch = 3, .epochs = 7};
    assert_int_equal(nb_train_epoch(net, opt, it, NULL, &own, &r), NB_OK);
    nb_batcher_free(it);
    nb_optim_free(opt);
    nb_module_free(net);
}

static void test_epoch_fields_label_the_progress_bar(void **state)
{
    (void)state;
    nb_dataset ds = make_data(true);
    char text[8192];
    capture_stderr(epoch_3_of_7, &ds, text, sizeof text);
    assert_non_null(strstr(text, "epoch 3/7"));
    assert_non_null(strstr(text, "mine"));
    nb_dataset_deinit(&ds);
}

/* Alternating updates of two 1 x 1 linear maps a, b (weights wa, wb) at x = 1:
 * loss 0 = wa^2 (model a), loss 1 = wa * wb (model b; it also leaves a gradient wb in a). */
static nb_tensor *alt_loss0(nb_module *a, const nb_batch *batch, bool training, void *user)
{
    (void)training, (void)user;
    return nb_sum_all(nb_square(nb_module_forward(a, batch->x)));
}

static nb_tensor *alt_loss1(nb_module *b, const nb_batch *batch, bool training, void *user)
{
    (void)training;
    nb_module *a = user;
    return nb_sum_all(nb_mul(nb_module_forward(a, batch->x), nb_module_forward(b, batch->x)));
}

static nb_tensor *alt_null_loss(nb_module *m, const nb_batch *batch, bool training, void *user)
{
    (void)m, (void)batch, (void)training, (void)user;
    nb_set_error(NB_ERR_VALUE, "alt_null_loss: no loss");
    return NULL;
}

static void test_alternating_update_makes_the_two_updates_in_turn(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(3);
    nb_module *a = nb_linear_new(1, 1, false, &rng), *b = nb_linear_new(1, 1, false, &rng);
    nb_tensor *wa = nb_module_param(a, "weight"), *wb = nb_module_param(b, "weight");
    nb_tensor_set(wa, 0, 0.5), nb_tensor_set(wb, 0, -1.0);
    nb_optim *oa = nb_sgd_new(a, &(nb_sgd_opts){.lr = 0.1});
    nb_optim *ob = nb_sgd_new(b, &(nb_sgd_opts){.lr = 0.1});
    nb_tensor *x = nb_tensor_full(NB_F32, 2, (const int64_t[]){1, 1}, 1.0);
    const nb_batch batch = {.x = x, .size = 1};
    nb_alternating alt = {
        .models = {a, b}, .opts = {oa, ob}, .losses = {alt_loss0, alt_loss1}, .user = a};
    double va = 0.5, vb = -1.0, loss = 0, sum0 = 0, sum1 = 0;
    for (int it = 0; it < 3; it++) {
        assert_int_equal(nb_alternating_update(NULL, NULL, &batch, &alt, &loss), NB_OK);
        assert_float_equal(loss, va * va, 1e-6); /* the first loss, before its update */
        sum0 += va * va;
        va -= 0.1 * 2 * va; /* a's gradient: 2 wa only (loss 1's wb was zeroed) */
        sum1 += va * vb;
        vb -= 0.1 * va;
        assert_float_equal(nb_tensor_get(wa, 0), va, 1e-6);
        assert_float_equal(nb_tensor_get(wb, 0), vb, 1e-6);
    }
    assert_float_equal(alt.sums[0], sum0, 1e-6);
    assert_float_equal(alt.sums[1], sum1, 1e-6);
    /* the first update fails: the second is not made */
    alt.losses[0] = alt_null_loss;
    assert_int_equal(nb_alternating_update(NULL, NULL, &batch, &alt, &loss), NB_ERR_VALUE);
    assert_int_equal(nb_last_status(), NB_ERR_VALUE);
    assert_non_null(strstr(nb_last_error(), "alt_null_loss: no loss"));
    nb_clear_error();
    assert_true(isnan(loss));
    assert_float_equal(nb_tensor_get(wb, 0), vb, 0);
    /* missing pieces */
    alt.opts[1] = NULL;
    assert_int_equal(nb_alternating_update(NULL, NULL, &batch, &alt, &loss), NB_ERR_VALUE);
    assert_int_equal(nb_last_status(), NB_ERR_VALUE);
    assert_non_null(
        strstr(nb_last_error(), "nb_alternating_update: need a batch and an nb_alternating"));
    nb_clear_error();
    assert_int_equal(nb_alternating_update(NULL, NULL, &batch, NULL, NULL), NB_ERR_VALUE);
    assert_int_equal(nb_last_status(), NB_ERR_VALUE);
    assert_non_null(strstr(nb_last_error(), "nb_alternating_update"));
    nb_clear_error();
    assert_null(nb_step_active());
    nb_tensor_free(x);
    nb_optim_free(oa), nb_optim_free(ob);
    nb_module_free(a), nb_module_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_epoch_matches_the_loop_by_hand),
        cmocka_unit_test(test_custom_loss_on_unlabelled_data_and_curves),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_schedule_and_transform_match_the_loop_by_hand),
        cmocka_unit_test(test_train_step_is_one_update_written_out),
        cmocka_unit_test(test_train_step_reports_errors),
        cmocka_unit_test(test_train_epoch_runs_the_callers_update),
        cmocka_unit_test(test_augment_transform_augments_the_batch),
        cmocka_unit_test(test_epoch_fields_label_the_progress_bar),
        cmocka_unit_test(test_alternating_update_makes_the_two_updates_in_turn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
