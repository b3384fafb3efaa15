/* examples/common/images.c — Fashion-MNIST or generated images for the examples. */
#define _POSIX_C_SOURCE 200809L
#include "common/images.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

ex_data_opts ex_data_rows(const char *dir, bool synthetic, int64_t limit, uint64_t seed)
{
    return (ex_data_opts){.dir = dir,
                          .synthetic = synthetic,
                          .limit = limit,
                          .n_train = 1000,
                          .n_test = 300,
                          .seed = seed,
                          .layout = NB_LAYOUT_FLAT};
}

nb_status ex_load_images(const char *prog, const ex_data_opts *o, nb_dataset *train,
                         nb_dataset *test, char *source, size_t source_size)
{
    nb_status st;
    char src[512];
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (o->synthetic) {
        const int64_t ntr = o->limit > 0 ? o->limit : o->n_train > 0 ? o->n_train : 2000;
        const int64_t nte = o->test_limit > 0 ? o->test_limit : o->n_test > 0 ? o->n_test : 500;
        st = ex_synthetic_images(ntr, 1, 28, o->seed, o->layout, train);
        if (st == NB_OK)
            st = ex_synthetic_images(nte, 1, 28, o->seed + 1, o->layout, test);
        snprintf(src, sizeof src, "generated 28x28 images (--synthetic: 10 classes of bars)");
    } else {
        const nb_load_opts lo = {.layout = o->layout, .max_samples = o->limit};
        const nb_load_opts tlo = {.layout = o->layout, .max_samples = o->test_limit};
        if (o->dir) {
            st = nb_mnist_load(o->dir, NB_SPLIT_TRAIN, &lo, train);
            if (st == NB_OK)
                st = nb_mnist_load(o->dir, NB_SPLIT_TEST, &tlo, test);
            snprintf(src, sizeof src, "MNIST-format files in %s", o->dir);
        } else {
            st = nb_fashion_mnist_load(NULL, NB_SPLIT_TRAIN, &lo, train);
            if (st == NB_OK)
                st = nb_fashion_mnist_load(NULL, NB_SPLIT_TEST, &tlo, test);
            snprintf(src, sizeof src, "Fashion-MNIST");
        }
    }
    if (st != NB_OK) {
        fprintf(stderr, "%s: loading %s: %s\n", prog, src, nb_last_error());
        if (!o->synthetic && st == NB_ERR_IO)
            fprintf(stderr,
                    "%s: the dataset is missing. Either\n"
                    "  - install Fashion-MNIST: apt-get install dataset-fashion-mnist (files go to "
                    "%s;\n"
                    "    a copy elsewhere: set NB_FASHION_MNIST_DIR=DIR), or\n"
                    "  - pass --data DIR with MNIST-format files train-images-idx3-ubyte, "
                    "train-labels-idx1-ubyte,\n"
                    "    t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (gzipped or not), or\n"
                    "  - pass --synthetic for generated stand-in images.\n",
                    prog, NB_FASHION_MNIST_DEFAULT_DIR);
        nb_dataset_deinit(train);
        nb_dataset_deinit(test);
        return st;
    }
    if (source)
        snprintf(source, source_size, "%s", src);
    if (!o->quiet)
        printf("data: %s: %lld training and %lld test images\n", src,
               (long long)nb_dataset_size(train), (long long)nb_dataset_size(test));
    return NB_OK;
}

double ex_classifier_accuracy(nb_module *net, const nb_dataset *ds, int64_t batch)
{
    nb_loop_result r;
    return nb_evaluate(net, ds, NULL, &(nb_loop_opts){.batch_size = batch}, &r) == NB_OK
               ? r.accuracy
               : NAN;
}

nb_status ex_synthetic_images(int64_t n, int channels, int size, uint64_t seed, nb_layout layout,
                              nb_dataset *out)
{
    *out = (nb_dataset){0};
    if (n < 1 || channels < 1 || size < 8)
        return nb_set_error(NB_ERR_VALUE,
                            "ex_synthetic_images: need n >= 1, channels >= 1, size >= 8; got %lld, "
                            "%d, %d",
                            (long long)n, channels, size);
    /* one memory order (samples, channels, rows, columns); the layout only names the axes */
    int64_t xs[4] = {n, channels, size, size};
    int ndim = 4;
    if (layout == NB_LAYOUT_FLAT) {
        xs[1] = (int64_t)channels * size * size;
        ndim = 2;
    } else if (layout == NB_LAYOUT_DEFAULT && channels == 1) {
        xs[1] = xs[2] = size;
        ndim = 3;
    }
    nb_tensor *x = nb_tensor_zeros(NB_F32, ndim, xs), *y = nb_tensor_zeros(NB_I64, 1, &n);
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

double ex_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- generated data ---- */
nb_status ex_write_synthetic_idx(const char *dir, int n_train, int n_test, uint64_t seed)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return nb_set_error(NB_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    const char *prefix[2] = {"train", "t10k"};
    const int n[2] = {n_train, n_test};
    for (int s = 0; s < 2; s++) {
        nb_dataset ds;
        nb_status st = ex_synthetic_images(n[s], 1, 28, seed + (uint64_t)s, NB_LAYOUT_DEFAULT, &ds);
        char ip[4096], lp[4096];
        snprintf(ip, sizeof ip, "%s/%s-images-idx3-ubyte.gz", dir, prefix[s]);
        snprintf(lp, sizeof lp, "%s/%s-labels-idx1-ubyte.gz", dir, prefix[s]);
        if (st == NB_OK)
            st = nb_idx_save(ip, ds.x, 255);
        if (st == NB_OK)
            st = nb_idx_save(lp, ds.y, 1);
        nb_dataset_deinit(&ds);
        if (st != NB_OK)
            return st;
    }
    return NB_OK;
}
