/* examples/common/train.c — data loading, one training epoch and evaluation for the classifier
 * examples. */
#define _POSIX_C_SOURCE 200809L
#include "common/train.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

double ex_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- generated data ---- */
static nb_status write_split(const char *dir, const char *prefix, int n, nb_rng *rng)
{
    nb_tensor *x = nb_tensor_zeros(NB_F32, 3, (int64_t[]){n, 28, 28});
    nb_tensor *y = nb_tensor_zeros(NB_F32, 1, (int64_t[]){n});
    if (!x || !y) {
        nb_tensor_free(x);
        nb_tensor_free(y);
        return nb_last_status();
    }
    float *px = nb_tensor_data_f32(x), *py = nb_tensor_data_f32(y);
    for (int i = 0; i < n; i++) {
        int c = (int)(nb_rng_uniform(rng) * 10) % 10;
        py[i] = (float)c;
        double angle = c * 3.14159265358979 / 10, ca = cos(angle), sa = sin(angle);
        double shift = 6 * nb_rng_uniform(rng) - 3; /* offset across the bar */
        for (int r = 0; r < 28; r++)
            for (int k = 0; k < 28; k++) {
                double u = (k - 13.5) * ca + (r - 13.5) * sa;
                double v = -(k - 13.5) * sa + (r - 13.5) * ca - shift;
                double on = fabs(v) < 2.5 && fabs(u) < 10 ? 0.7 : 0.0;
                double val = on + 0.3 * nb_rng_uniform(rng);
                px[(i * 28 + r) * 28 + k] = (float)(val > 1 ? 1 : val);
            }
    }
    char ip[4096], lp[4096];
    snprintf(ip, sizeof ip, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    snprintf(lp, sizeof lp, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    nb_status st = nb_idx_save(ip, x, 255);
    if (st == NB_OK)
        st = nb_idx_save(lp, y, 1);
    nb_tensor_free(x);
    nb_tensor_free(y);
    return st;
}

nb_status ex_write_synthetic_idx(const char *dir, int n_train, int n_test, uint64_t seed)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return nb_set_error(NB_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    nb_rng rng = nb_rng_seed(seed);
    nb_status st = write_split(dir, "train", n_train, &rng);
    return st == NB_OK ? write_split(dir, "t10k", n_test, &rng) : st;
}

/* ---- loading ---- */
int ex_load_image_data(const char *prog, const ex_data_opts *opts, nb_dataset *train,
                       nb_dataset *test)
{
    *train = (nb_dataset){0};
    *test = (nb_dataset){0};
    const char *dir = opts->data_dir;
    if (opts->synthetic_dir) {
        dir = opts->synthetic_dir;
        if (ex_write_synthetic_idx(dir, 1000, 300, opts->seed) != NB_OK) {
            fprintf(stderr, "%s: writing the generated dataset: %s\n", prog, nb_last_error());
            return 1;
        }
        printf("generated dataset written to %s (1000 train, 300 test images)\n", dir);
    }
    nb_load_opts lo = {.layout = NB_LAYOUT_FLAT, .max_samples = opts->limit > 0 ? opts->limit : 0};
    nb_load_opts test_lo = {.layout = NB_LAYOUT_FLAT};
    const char *name = dir ? "MNIST-format data" : "Fashion-MNIST";
    nb_status st;
    if (dir) {
        st = nb_mnist_load(dir, NB_SPLIT_TRAIN, &lo, train);
        if (st == NB_OK)
            st = nb_mnist_load(dir, NB_SPLIT_TEST, &test_lo, test);
    } else {
        st = nb_fashion_mnist_load(NULL, NB_SPLIT_TRAIN, &lo, train);
        if (st == NB_OK)
            st = nb_fashion_mnist_load(NULL, NB_SPLIT_TEST, &test_lo, test);
    }
    if (st == NB_OK) {
        printf("%s: %lld training and %lld test images\n", dir ? dir : name,
               (long long)nb_dataset_size(train), (long long)nb_dataset_size(test));
        return 0;
    }
    fprintf(stderr, "%s: could not load %s:\n  %s\n", prog, name, nb_last_error());
    if (st == NB_ERR_IO)
        fprintf(stderr,
                "%s: the dataset is missing. Either\n"
                "  - install Fashion-MNIST: apt-get install dataset-fashion-mnist (files go to "
                "%s;\n"
                "    a copy elsewhere: set NB_FASHION_MNIST_DIR=DIR), or\n"
                "  - pass --data DIR with MNIST-format files train-images-idx3-ubyte, "
                "train-labels-idx1-ubyte,\n"
                "    t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (gzipped or not), or\n"
                "  - pass --synthetic DIR to generate a small stand-in dataset there.\n",
                prog, NB_FASHION_MNIST_DEFAULT_DIR);
    nb_dataset_deinit(train);
    nb_dataset_deinit(test);
    return 1;
}

/* ---- training and evaluation ---- */
double ex_clf_train_epoch(const char *prog, nb_module *net, nb_optim *opt, nb_batcher *it,
                          nb_step *step, const char *label, nb_curves *curves, int epoch)
{
    nb_module_train(net, true);
    nb_progress *bar = nb_progress_new(label, nb_batcher_num_batches(it), NULL);
    nb_batch b;
    double sum = 0;
    int64_t n = 0;
    nb_status st = NB_OK;
    while (st == NB_OK && nb_batcher_next(it, &b)) {
        nb_step_begin(step);
        nb_optim_zero_grad(opt);
        nb_tensor *loss = nb_cross_entropy(nb_module_forward(net, b.x), b.y, NB_REDUCE_MEAN);
        st = loss ? nb_backward(loss) : nb_last_status();
        if (st == NB_OK)
            st = nb_optim_update(opt);
        double value = st == NB_OK ? nb_tensor_item(loss) : NAN;
        if (st != NB_OK)
            fprintf(stderr, "\n%s: training step %lld: %s\n", prog, (long long)b.index,
                    nb_last_error());
        nb_step_end(step);
        sum += value;
        n++;
        if (curves && st == NB_OK)
            nb_curves_add(curves, "batch_loss",
                          epoch + (double)n / (double)nb_batcher_num_batches(it), value);
        nb_progress_advance(bar, b.size, value);
    }
    if (st != NB_OK) {
        while (nb_batcher_next(it, &b)) /* finish the epoch so the batcher stays in step */
            ;
    }
    nb_progress_finish(bar);
    nb_progress_free(bar);
    return st == NB_OK && n > 0 ? sum / (double)n : NAN;
}

bool ex_clf_evaluate(const char *prog, nb_module *net, const nb_dataset *ds, nb_step *step,
                     double *accuracy, double *loss)
{
    bool was_training = nb_module_is_training(net);
    nb_module_train(net, false);
    bool grad = nb_set_grad_enabled(false);
    nb_batcher *it = nb_batcher_new(ds, &(nb_batch_opts){.batch_size = 1000});
    if (!it) {
        fprintf(stderr, "%s: evaluation: %s\n", prog, nb_last_error());
        nb_set_grad_enabled(grad);
        nb_module_train(net, was_training);
        return false;
    }
    nb_batch b;
    int64_t correct = 0, total = 0;
    double loss_sum = 0;
    bool ok = true;
    while (nb_batcher_next(it, &b)) {
        if (!ok)
            continue;
        nb_step_begin(step);
        nb_tensor *logits = nb_module_forward(net, b.x);
        nb_tensor *l = nb_cross_entropy(logits, b.y, NB_REDUCE_SUM);
        nb_tensor *pred = nb_argmax(logits, -1);
        if (!l || !pred) {
            fprintf(stderr, "%s: evaluation: %s\n", prog, nb_last_error());
            ok = false;
        } else {
            const int64_t *p = nb_tensor_data_i64(pred), *y = nb_tensor_data_i64(b.y);
            for (int64_t i = 0; i < b.size; i++)
                correct += p[i] == y[i];
            total += b.size;
            loss_sum += nb_tensor_item(l);
        }
        nb_step_end(step);
    }
    nb_batcher_free(it);
    nb_set_grad_enabled(grad);
    nb_module_train(net, was_training);
    if (ok) {
        *accuracy = (double)correct / (double)total;
        if (loss)
            *loss = loss_sum / (double)total;
    }
    return ok;
}
