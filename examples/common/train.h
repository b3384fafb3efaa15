/* examples/common/train.h — what the classifier examples (mnist_mlp, softmax_regression,
 * early_stopping) share: loading Fashion-MNIST / MNIST-format data (or writing and loading a
 * small generated set), one training epoch with a progress bar, and evaluation. Built only on
 * the public API (nabla.h). */
#ifndef NABLA_EXAMPLES_TRAIN_H
#define NABLA_EXAMPLES_TRAIN_H
#include "nabla.h"
#include <stdbool.h>

/* Where the data comes from. At most one of data_dir / synthetic_dir is set; neither means
 * Fashion-MNIST from $NB_FASHION_MNIST_DIR or NB_FASHION_MNIST_DEFAULT_DIR. */
typedef struct ex_data_opts {
    const char *data_dir;      /* MNIST-format IDX files (train-images-idx3-ubyte[.gz], ...) */
    const char *synthetic_dir; /* write a generated MNIST-format set here first, then load it */
    int limit;                 /* > 0: keep only the first `limit` training samples */
    uint64_t seed;             /* seed of the generated set */
} ex_data_opts;

/* Load the training and test sets as flat f32 rows [N, 784] in [0, 1] with labels. On failure
 * prints what went wrong to stderr (with how to install dataset-fashion-mnist or pass --data
 * when the files are missing) and returns the exit status to use (1); 0 on success. */
int ex_load_image_data(const char *prog, const ex_data_opts *opts, nb_dataset *train,
                       nb_dataset *test);

/* Write ex_synthetic_images (28x28, one channel) as an MNIST-format dataset, gzip IDX files of
 * n_train training and n_test test images, to dir (created if needed). NB_OK or a status with
 * nb_last_error() set. */
nb_status ex_write_synthetic_idx(const char *dir, int n_train, int n_test, uint64_t seed);

/* Seconds on a monotonic clock. */
double ex_seconds(void);

#endif
