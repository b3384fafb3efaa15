/* examples/common/unsup.c — data loading, training loop and image grids shared by the
 * unsupervised-learning examples (see unsup.h). */
#include "common/unsup.h"

#include "common/images.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { SIDE = 28, D = SIDE * SIDE };

bool ex_images_load(const char *prog, const char *data_dir, bool synthetic, int64_t train_limit,
                    int64_t test_limit, uint64_t seed, ex_images *out)
{
    memset(out, 0, sizeof *out);
    const ex_data_opts o = {.dir = data_dir && *data_dir ? data_dir : NULL,
                            .synthetic = synthetic,
                            .limit = train_limit,
                            .test_limit = test_limit,
                            .seed = seed,
                            .layout = NB_LAYOUT_FLAT,
                            .quiet = true};
    return ex_load_images(prog, &o, &out->train, &out->test, out->source, sizeof out->source) ==
           NB_OK;
}

void ex_images_free(ex_images *d)
{
    nb_dataset_deinit(&d->train);
    nb_dataset_deinit(&d->test);
}

nb_tensor *ex_loss_mse(nb_module *model, const nb_batch *b, bool train, void *user)
{
    (void)train, (void)user;
    return nb_mse(nb_module_forward(model, b->x), b->x, NB_REDUCE_MEAN);
}

double ex_train_epoch(const char *prog, nb_module *model, nb_optim *opt, nb_batcher *it,
                      nb_step *step, nb_batch_loss_fn loss, void *user, const char *label,
                      nb_curves *curves, const char *series, int64_t *global_step)
{
    const nb_loop_opts lo = {.loss = loss,
                             .user = user,
                             .label = label,
                             .curves = curves,
                             .series = series,
                             .curve_x0 = (double)*global_step,
                             .curve_dx = 1};
    nb_loop_result r;
    const nb_status st = nb_train_epoch(model, opt, it, step, &lo, &r);
    *global_step += r.batches;
    if (st != NB_OK)
        fprintf(stderr, "%s: %s\n", prog, nb_last_error());
    return st == NB_OK ? r.loss : NAN;
}

double ex_evaluate(const char *prog, nb_module *model, const nb_dataset *ds, int64_t batch,
                   nb_step *step, nb_batch_loss_fn loss, void *user)
{
    nb_loop_result r;
    if (nb_evaluate(model, ds, step,
                    &(nb_loop_opts){.loss = loss, .user = user, .batch_size = batch},
                    &r) != NB_OK) {
        fprintf(stderr, "%s: %s\n", prog, nb_last_error());
        return NAN;
    }
    return r.loss;
}

bool ex_write_rows_png(const char *prog, const char *path, nb_tensor *const *rows, int n_rows,
                       const char *title, const char *const *labels, const char *caption)
{
    nb_step *step = nb_step_new();
    if (!step) {
        fprintf(stderr, "%s: %s\n", prog, nb_last_error());
        return false;
    }
    nb_step_begin(step);
    nb_tensor *all = nb_concat(n_rows, rows, 0);
    nb_grid_opts g = {.cols = (int)nb_tensor_dim(rows[0], 0),
                      .scale = 2,
                      .padding = 2,
                      .lo = 0.0,
                      .hi = 1.0,
                      .height = SIDE,
                      .width = SIDE,
                      .background = 128,
                      .title = title,
                      .caption = caption,
                      .row_labels = labels,
                      .n_row_labels = labels ? n_rows : 0};
    nb_status st = all ? nb_png_write_grid(path, all, &g) : nb_last_status();
    nb_step_end(step);
    nb_step_free(step);
    if (st != NB_OK) {
        fprintf(stderr, "%s: writing %s: %s\n", prog, path, nb_last_error());
        return false;
    }
    return true;
}

nb_tensor *ex_forward_copy(nb_module *model, nb_tensor *x)
{
    nb_step *step = nb_step_new();
    if (!step || !x) {
        nb_step_free(step);
        return NULL;
    }
    bool was = nb_set_grad_enabled(false);
    bool training = nb_module_is_training(model);
    nb_module_train(model, false);
    nb_step_begin(step);
    nb_tensor *y = nb_module_forward(model, x);
    nb_tensor *out = y ? nb_tensor_copy(y) : NULL;
    nb_step_end(step);
    nb_step_free(step);
    nb_module_train(model, training);
    nb_set_grad_enabled(was);
    return out;
}

nb_tensor *ex_first_rows(const nb_dataset *ds, int64_t n)
{
    int64_t N = nb_dataset_size(ds);
    if (n > N)
        n = N;
    nb_tensor *v = nb_slice(ds->x, 0, 0, n, 1); /* no step: a caller-owned view */
    nb_tensor *c = v ? nb_tensor_copy(v) : NULL;
    nb_tensor_free(v);
    return c;
}

const char *ex_path(char *buf, size_t size, const char *prefix, const char *suffix)
{
    snprintf(buf, size, "%s%s", prefix, suffix);
    return buf;
}
