/* examples/common/images.c — Fashion-MNIST or generated images for the examples. */
#include "common/images.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

nb_status ex_load_fashion_or_synthetic(const char *prog, const char *dir, bool synthetic,
                                       int64_t max_samples, int64_t n_synthetic_train,
                                       int64_t n_synthetic_test, uint64_t seed, nb_layout layout,
                                       nb_dataset *train, nb_dataset *test)
{
    nb_status st;
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (synthetic) {
        st = ex_synthetic_images(n_synthetic_train, 1, 28, seed, layout, train);
        if (st == NB_OK && n_synthetic_test > 0)
            st = ex_synthetic_images(n_synthetic_test, 1, 28, seed + 1, layout, test);
        if (st == NB_OK && n_synthetic_test > 0)
            printf("data: generated images (--synthetic): %lld training, %lld test, 10 classes\n",
                   (long long)nb_dataset_size(train), (long long)nb_dataset_size(test));
        else if (st == NB_OK)
            printf("data: %lld generated images (--synthetic), 10 classes\n",
                   (long long)nb_dataset_size(train));
    } else {
        const nb_load_opts lo = {.layout = layout, .max_samples = max_samples};
        st = nb_fashion_mnist_load(dir, NB_SPLIT_TRAIN, &lo, train);
        if (st == NB_OK)
            st = nb_fashion_mnist_load(dir, NB_SPLIT_TEST, &lo, test);
        if (st == NB_OK)
            printf("data: Fashion-MNIST%s%s: %lld training, %lld test images\n",
                   dir ? " from " : "", dir ? dir : "", (long long)nb_dataset_size(train),
                   (long long)nb_dataset_size(test));
    }
    if (st != NB_OK) {
        fprintf(stderr, "%s: %s\n", prog, nb_last_error());
        if (!synthetic)
            fprintf(stderr,
                    "%s: install Debian's dataset-fashion-mnist, pass --data DIR with the "
                    "IDX files, or run with --synthetic\n",
                    prog);
        nb_dataset_deinit(train);
        nb_dataset_deinit(test);
    }
    return st;
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
