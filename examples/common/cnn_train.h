/* examples/common/cnn_train.h — the classifier training loop shared by the CNN examples
 * (cnn_fashion, cifar_cnn): one epoch of minibatch training with cross-entropy, accuracy on a
 * dataset in eval mode, and synthetic image datasets for runs without downloaded data. Built
 * only on the public API (nabla.h). */
#ifndef NABLA_EXAMPLES_CNN_TRAIN_H
#define NABLA_EXAMPLES_CNN_TRAIN_H

#include <stdbool.h>

#include "nabla.h"

/* What one training epoch did. */
typedef struct ex_cnn_epoch {
    double mean_loss;  /* mean of the batch losses */
    double first_loss; /* loss of the epoch's first batch */
    double train_acc;  /* fraction of training samples classified right (during training) */
    double seconds;    /* wall time of the epoch */
    int64_t n_samples; /* samples seen */
} ex_cnn_epoch;

/* Train net (put in training mode) for one pass over `it`: per batch, logits = net(x) with x the
 * batch samples, loss = mean cross-entropy against the labels, backward, one optimizer step.
 * step is the reused arena/tape. Progress goes to a bar labelled `label` (stderr). Returns
 * NB_OK or the first error (nb_last_error() has the message). */
nb_status ex_cnn_train_epoch(nb_module *net, nb_optim *opt, nb_batcher *it, nb_step *step,
                             const char *label, ex_cnn_epoch *out);

/* Fraction of ds classified right by net in eval mode (no gradients), in batches of
 * batch_size; the net is put back in training mode afterwards. Returns NaN on error. */
double ex_cnn_accuracy(nb_module *net, const nb_dataset *ds, int64_t batch_size, nb_step *step);

/* A synthetic labelled image set of n samples [n, channels, size, size] in [0, 1] (f32), 10
 * classes: class c is a bright bar at angle c * 18 degrees, shifted by up to size/8 pixels, over
 * noise (and, with 3 channels, tinted by class). Deterministic for a seed. Caller frees with
 * nb_dataset_deinit. */
nb_status ex_cnn_synthetic_images(int64_t n, int channels, int size, uint64_t seed,
                                  nb_dataset *out);

/* Seconds from a monotonic clock. */
double ex_cnn_now(void);

#endif
