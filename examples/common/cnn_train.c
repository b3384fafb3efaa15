/* examples/common/cnn_train.c — training loop, accuracy and synthetic images for the CNN
 * examples. */
#include "common/cnn_train.h"

#include <math.h>
#include <time.h>

double ex_cnn_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Number of rows of logits [B, C] whose argmax equals the label. */
static int64_t count_correct(nb_tensor *logits, nb_tensor *labels)
{
    nb_tensor *pred = nb_argmax(logits, 1);
    if (!pred)
        return -1;
    int64_t ok = 0;
    for (int64_t i = 0; i < nb_tensor_numel(labels); i++)
        ok += nb_tensor_get(pred, i) == nb_tensor_get(labels, i);
    return ok;
}

nb_status ex_cnn_train_epoch(nb_module *net, nb_optim *opt, nb_batcher *it, nb_step *step,
                             const char *label, ex_cnn_epoch *out)
{
    *out = (ex_cnn_epoch){.first_loss = NAN};
    nb_module_train(net, true);
    nb_progress *bar = nb_progress_new(label, nb_batcher_num_batches(it), NULL);
    const double t0 = ex_cnn_now();
    double loss_sum = 0;
    int64_t n_batches = 0, correct = 0;
    nb_status st = NB_OK;
    nb_batch b;
    while (st == NB_OK && nb_batcher_next(it, &b)) {
        st = nb_step_begin(step);
        if (st != NB_OK)
            break;
        nb_tensor *logits = nb_module_forward(net, b.x);
        nb_tensor *loss = nb_cross_entropy(logits, b.y, NB_REDUCE_MEAN);
        nb_optim_zero_grad(opt);
        st = loss ? nb_backward(loss) : nb_last_status();
        if (st == NB_OK)
            st = nb_optim_update(opt);
        if (st == NB_OK) {
            const double l = nb_tensor_item(loss);
            const int64_t ok = count_correct(logits, b.y);
            if (n_batches == 0)
                out->first_loss = l;
            loss_sum += l;
            correct += ok > 0 ? ok : 0;
            n_batches++;
            out->n_samples += b.size;
            nb_progress_advance(bar, b.size, l);
        }
        nb_step_end(step);
    }
    if (st != NB_OK) /* finish the epoch so the batcher starts the next one cleanly */
        while (nb_batcher_next(it, &b))
            ;
    nb_progress_finish(bar);
    nb_progress_free(bar);
    out->seconds = ex_cnn_now() - t0;
    out->mean_loss = n_batches ? loss_sum / (double)n_batches : NAN;
    out->train_acc = out->n_samples ? (double)correct / (double)out->n_samples : NAN;
    return st;
}

double ex_cnn_accuracy(nb_module *net, const nb_dataset *ds, int64_t batch_size, nb_step *step)
{
    nb_batcher *it = nb_batcher_new(ds, &(nb_batch_opts){.batch_size = batch_size});
    if (!it)
        return NAN;
    nb_module_train(net, false);
    const bool grad_was = nb_set_grad_enabled(false);
    int64_t correct = 0, seen = 0;
    bool ok = true;
    nb_batch b;
    while (nb_batcher_next(it, &b)) {
        if (!ok)
            continue;
        if (nb_step_begin(step) != NB_OK) {
            ok = false;
            continue;
        }
        const int64_t c = count_correct(nb_module_forward(net, b.x), b.y);
        nb_step_end(step);
        if (c < 0)
            ok = false;
        correct += c;
        seen += b.size;
    }
    nb_set_grad_enabled(grad_was);
    nb_module_train(net, true);
    nb_batcher_free(it);
    return ok && seen ? (double)correct / (double)seen : NAN;
}

nb_status ex_cnn_synthetic_images(int64_t n, int channels, int size, uint64_t seed, nb_dataset *out)
{
    *out = (nb_dataset){0};
    const int64_t xs[4] = {n, channels, size, size};
    nb_tensor *x = nb_tensor_zeros(NB_F32, 4, xs), *y = nb_tensor_zeros(NB_I64, 1, &n);
    if (!x || !y) {
        nb_tensor_free(x);
        nb_tensor_free(y);
        return nb_last_status();
    }
    float *px = nb_tensor_data_f32(x);
    int64_t *py = nb_tensor_data_i64(y);
    nb_rng rng = nb_rng_seed(seed);
    const double half = (size - 1) / 2.0, len = size * 0.36, width = size / 11.0 + 0.5;
    const int shift = size / 8;
    for (int64_t i = 0; i < n; i++) {
        const int c = (int)nb_rng_below(&rng, 10);
        py[i] = c;
        const double angle = c * 3.14159265358979 / 10, ca = cos(angle), sa = sin(angle);
        const double dx = (double)nb_rng_below(&rng, (uint64_t)(2 * shift + 1)) - shift;
        const double dy = (double)nb_rng_below(&rng, (uint64_t)(2 * shift + 1)) - shift;
        for (int ch = 0; ch < channels; ch++) {
            /* with colour, each class has its own tint: channel ch gets (c + ch) % 3 / 2 + 0.5 */
            const double tint = channels == 1 ? 0.85 : 0.4 + 0.25 * ((c + ch) % 3);
            for (int r = 0; r < size; r++)
                for (int k = 0; k < size; k++) {
                    const double u = (k - half - dx) * ca + (r - half - dy) * sa;
                    const double v = -(k - half - dx) * sa + (r - half - dy) * ca;
                    const double on = fabs(v) < width && fabs(u) < len ? tint : 0.0;
                    const double val = on + 0.3 * nb_rng_uniform(&rng);
                    px[((i * channels + ch) * size + r) * size + k] = (float)(val > 1 ? 1 : val);
                }
        }
    }
    out->x = x;
    out->y = y;
    out->n_classes = 10;
    return NB_OK;
}
