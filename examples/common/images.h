/* examples/common/images.h — image data for the examples that train on Fashion-MNIST: the real
 * set through nabla's loaders, or a small generated stand-in (--synthetic) that needs no files,
 * so that the ctests run anywhere in seconds. */
#ifndef NABLA_EXAMPLES_IMAGES_H
#define NABLA_EXAMPLES_IMAGES_H

#include <stdbool.h>
#include <stdint.h>

#include "nabla.h"

/* The training and test sets the examples use:
 *   synthetic: ex_synthetic_images(n_synthetic_train / n_synthetic_test, 1 channel of 28x28,
 *              seeds from seed);
 *              n_synthetic_test 0 leaves *test empty (zeroed);
 *   otherwise Fashion-MNIST from dir (NULL: $NB_FASHION_MNIST_DIR, else Debian's
 *   dataset-fashion-mnist location), at most max_samples of each split when > 0.
 * Prints one line saying what was loaded. On error prints the library's message with a hint
 * (install the package, pass --data DIR, or use --synthetic) to stderr and returns the status;
 * both outputs are zeroed then. */
nb_status ex_load_fashion_or_synthetic(const char *prog, const char *dir, bool synthetic,
                                       int64_t max_samples, int64_t n_synthetic_train,
                                       int64_t n_synthetic_test, uint64_t seed, nb_layout layout,
                                       nb_dataset *train, nb_dataset *test);

/* nb_evaluate's accuracy (argmax of net(x) equals the label) in batches of `batch`; NaN on
 * error (nb_last_error() says why). */
double ex_classifier_accuracy(nb_module *net, const nb_dataset *ds, int64_t batch);

/* The one generated stand-in for image data (--synthetic): n labelled samples in [0, 1] (f32),
 * 10 classes: class c is a bright bar at angle c * 18 degrees, shifted by up to size/8 pixels,
 * over noise (and, with 3 channels, tinted by class). Shape by layout: NB_LAYOUT_NCHW
 * [n, channels, size, size], NB_LAYOUT_FLAT [n, channels * size * size], NB_LAYOUT_DEFAULT
 * [n, size, size] for one channel, else as NCHW. Deterministic for a seed. Caller frees with
 * nb_dataset_deinit. Errors: NB_ERR_VALUE (n < 1, channels < 1, size < 8), NB_ERR_NOMEM. */
nb_status ex_synthetic_images(int64_t n, int channels, int size, uint64_t seed, nb_layout layout,
                              nb_dataset *out);

#endif
