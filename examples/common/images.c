/* examples/common/images.c — Fashion-MNIST or generated images for the examples. */
#include "common/images.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SIDE = 28, CLASSES = 10, STROKES = 3 };

/* A soft stroke: a segment from (x0, y0) to (x1, y1) drawn with a Gaussian profile. */
typedef struct stroke {
    double x0, y0, x1, y1, width;
} stroke;

static double stroke_at(const stroke *s, double x, double y)
{
    const double dx = s->x1 - s->x0, dy = s->y1 - s->y0;
    const double len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? ((x - s->x0) * dx + (y - s->y0) * dy) / len2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    const double px = s->x0 + t * dx - x, py = s->y0 + t * dy - y;
    return exp(-(px * px + py * py) / (2 * s->width * s->width));
}

nb_status ex_stroke_images(int64_t n, uint64_t seed, nb_layout layout, nb_dataset *out)
{
    memset(out, 0, sizeof *out);
    if (n < 1)
        return nb_set_error(NB_ERR_VALUE, "ex_stroke_images: n must be >= 1, got %lld",
                            (long long)n);
    /* Class patterns from a stream of their own, so every split shares them. */
    nb_rng prng = nb_rng_seed(0x5eed5eedULL);
    stroke pat[CLASSES][STROKES];
    for (int c = 0; c < CLASSES; c++)
        for (int k = 0; k < STROKES; k++)
            pat[c][k] = (stroke){.x0 = 5 + 18 * nb_rng_uniform(&prng),
                                 .y0 = 5 + 18 * nb_rng_uniform(&prng),
                                 .x1 = 5 + 18 * nb_rng_uniform(&prng),
                                 .y1 = 5 + 18 * nb_rng_uniform(&prng),
                                 .width = 1.0 + nb_rng_uniform(&prng)};
    int64_t shape[4];
    int ndim;
    switch (layout) {
    case NB_LAYOUT_NCHW:
        ndim = 4;
        shape[1] = 1, shape[2] = SIDE, shape[3] = SIDE;
        break;
    case NB_LAYOUT_FLAT:
        ndim = 2;
        shape[1] = SIDE * SIDE;
        break;
    default:
        ndim = 3;
        shape[1] = SIDE, shape[2] = SIDE;
        break;
    }
    shape[0] = n;
    nb_tensor *x = nb_tensor_new(NB_F32, ndim, shape);
    nb_tensor *y = nb_tensor_new(NB_I64, 1, (int64_t[]){n});
    int64_t *perm = malloc((size_t)n * sizeof *perm);
    if (!x || !y || !perm) {
        nb_tensor_free(x);
        nb_tensor_free(y);
        free(perm);
        return nb_set_error(NB_ERR_NOMEM, "ex_stroke_images: out of memory for %lld images",
                            (long long)n);
    }
    nb_rng rng = nb_rng_seed(seed);
    for (int64_t i = 0; i < n; i++)
        perm[i] = i;
    nb_rng_shuffle_i64(&rng, perm, n);
    float *px = nb_tensor_data_f32(x);
    int64_t *py = nb_tensor_data_i64(y);
    for (int64_t i = 0; i < n; i++) {
        const int c = (int)(perm[i] % CLASSES);
        const double sx = (double)nb_rng_below(&rng, 7) - 3, sy = (double)nb_rng_below(&rng, 7) - 3;
        const double gain = 0.7 + 0.3 * nb_rng_uniform(&rng);
        float *img = px + i * SIDE * SIDE;
        for (int r = 0; r < SIDE; r++)
            for (int col = 0; col < SIDE; col++) {
                double v = 0;
                for (int k = 0; k < STROKES; k++)
                    v = fmax(v, stroke_at(&pat[c][k], col - sx, r - sy));
                v = gain * v + 0.35 * nb_rng_normal(&rng);
                img[r * SIDE + col] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
            }
        py[i] = c;
    }
    free(perm);
    out->x = x;
    out->y = y;
    out->n_classes = CLASSES;
    out->class_names = NULL;
    return NB_OK;
}

nb_status ex_load_fashion_or_synthetic(const char *prog, const char *dir, bool synthetic,
                                       int64_t max_samples, int64_t n_synthetic_train,
                                       int64_t n_synthetic_test, uint64_t seed, nb_layout layout,
                                       nb_dataset *train, nb_dataset *test)
{
    nb_status st;
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (synthetic) {
        st = ex_stroke_images(n_synthetic_train, seed, layout, train);
        if (st == NB_OK && n_synthetic_test > 0)
            st = ex_stroke_images(n_synthetic_test, seed + 1, layout, test);
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

nb_status ex_synthetic_images(int64_t n, int channels, int size, uint64_t seed, nb_dataset *out)
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
