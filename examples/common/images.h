/* examples/common/images.h — image data for the examples: Fashion-MNIST or MNIST-format files
 * through nabla's loaders, or the one generated stand-in (--synthetic) that needs no files, so
 * that the ctests run anywhere in seconds; the same --data / --synthetic / --limit /
 * --test-limit flags in every program. */
#ifndef NABLA_EXAMPLES_IMAGES_H
#define NABLA_EXAMPLES_IMAGES_H

#include <stdbool.h>
#include <stdint.h>

#include "nabla.h"

/* Where the images come from, with the same flags in every program:
 *   --data DIR      MNIST-format IDX files in DIR (MNIST digits, a copy of Fashion-MNIST, ...)
 *   --synthetic     generated images (ex_synthetic_images), no files
 *   (neither)       Fashion-MNIST from $NB_FASHION_MNIST_DIR, else Debian's dataset-fashion-mnist
 *   --limit N, --test-limit N   keep the first N images of a split (synthetic: make N). */
typedef struct ex_data_opts {
    const char *dir;    /* --data */
    bool synthetic;     /* --synthetic */
    int64_t limit;      /* training images kept (0: all; synthetic: n_train) */
    int64_t test_limit; /* test images kept (0: all; synthetic: n_test) */
    int64_t n_train;    /* synthetic sizes when the limits are 0 (0: 2000 and 500) */
    int64_t n_test;
    uint64_t seed;    /* of the synthetic images (the test split uses seed + 1) */
    nb_layout layout; /* shape of the samples: [N, 28, 28], [N, 1, 28, 28] or [N, 784] */
    bool quiet;       /* do not print the "data: ..." line */
} ex_data_opts;

/* The options of the classifier programs on rows (mnist_mlp, softmax_regression,
 * early_stopping): samples [N, 784]; synthetic: 1000 training and 300 test images. */
ex_data_opts ex_data_rows(const char *dir, bool synthetic, int64_t limit, uint64_t seed);

/* Load the training and test sets. Prints "data: SOURCE: N training and M test images" unless
 * quiet, and copies SOURCE (what was loaded) into source when it is not NULL. On failure prints
 * "prog: ..." with the library's message (and, when the files are missing, how to install them
 * or what to pass instead) to stderr and returns the status; both outputs are zeroed then. */
nb_status ex_load_images(const char *prog, const ex_data_opts *o, nb_dataset *train,
                         nb_dataset *test, char *source, size_t source_size);

/* nb_evaluate's accuracy (argmax of net(x) equals the label) in batches of `batch`; NaN on
 * error (nb_last_error() says why). */
double ex_classifier_accuracy(nb_module *net, const nb_dataset *ds, int64_t batch);

/* The one generated stand-in for image data (--synthetic): n labelled samples in [0, 1] (f32),
 * 10 classes, each sample's drawn uniformly: class c is a bright bar at angle c * 18 degrees,
 * shifted by up to size/8 pixels, over noise (and, with 3 channels, tinted by class). Shape by
 * layout: NB_LAYOUT_NCHW [n, channels, size, size], NB_LAYOUT_FLAT [n, channels * size * size],
 * NB_LAYOUT_DEFAULT [n, size, size] for one channel, else as NCHW. Deterministic for a seed. Caller
 * frees with nb_dataset_deinit. Errors: NB_ERR_VALUE (n < 1, channels < 1, size < 8), NB_ERR_NOMEM.
 */
nb_status ex_synthetic_images(int64_t n, int channels, int size, uint64_t seed, nb_layout layout,
                              nb_dataset *out);

/* Write ex_synthetic_images (28x28, one channel) as an MNIST-format dataset, gzip IDX files of
 * n_train training and n_test test images, to dir (created if needed). NB_OK or a status with
 * nb_last_error() set. */
nb_status ex_write_synthetic_idx(const char *dir, int n_train, int n_test, uint64_t seed);

/* Seconds on a monotonic clock. */
double ex_seconds(void);

#endif
