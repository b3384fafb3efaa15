/* examples/common/unsup.h — shared by the unsupervised-learning examples (autoencoder,
 * denoising_ae, sparse_ae, ae_pretrain, rbm, dbn): loading images as flat rows (Fashion-MNIST,
 * MNIST-format files from a directory, or generated images), an autoencoder training epoch and
 * evaluation with a pluggable loss, and PNG grids of image rows. Built only on nabla.h. */
#ifndef NABLA_EXAMPLES_UNSUP_H
#define NABLA_EXAMPLES_UNSUP_H

#include <stdbool.h>
#include <stdint.h>

#include "nabla.h"

/* Images as rows [N, 784] (f32 in [0, 1]) with labels [N] (10 classes). */
typedef struct ex_images {
    nb_dataset train, test;
    char source[512]; /* what was loaded, for the first line of output */
} ex_images;

/* ex_load_images (common/images.h) as rows [N, 784]: generated images (synthetic; train_limit
 * 0 -> 2000, test_limit 0 -> 500), MNIST-format files in data_dir, or Fashion-MNIST; the limits
 * keep the first so many images. Prints nothing on success (out->source says what was loaded);
 * on failure prints "prog: ..." to stderr and returns false (*out is then empty). */
bool ex_images_load(const char *prog, const char *data_dir, bool synthetic, int64_t train_limit,
                    int64_t test_limit, uint64_t seed, ex_images *out);
void ex_images_free(ex_images *d);

/* Plain reconstruction loss of a batch (an nb_batch_loss_fn): nb_mse(model(x), x, mean). */
nb_tensor *ex_loss_mse(nb_module *model, const nb_batch *b, bool train, void *user);

/* nb_train_epoch with the loss `loss`, a progress bar `label` (may be NULL) and every batch loss
 * added to `curves` (may be NULL) as series `series` at x = ++*global_step, the step count
 * running on over epochs and stages. Returns the mean batch loss, or NaN after printing the
 * error as "prog: ...". */
double ex_train_epoch(const char *prog, nb_module *model, nb_optim *opt, nb_batcher *it,
                      nb_step *step, nb_batch_loss_fn loss, void *user, const char *label,
                      nb_curves *curves, const char *series, int64_t *global_step);

/* nb_evaluate's mean loss per sample (batches of `batch`), or NaN after printing the error. */
double ex_evaluate(const char *prog, nb_module *model, const nb_dataset *ds, int64_t batch,
                   nb_step *step, nb_batch_loss_fn loss, void *user);

/* Write n_rows tensors [n, 784] (inputs, corrupted inputs, reconstructions, ...) as one PNG
 * grid: one row of n 28x28 images per tensor, values 0..1, pixels scaled by 2, with `title`
 * above, labels[i] left of row i (what the row is) and `caption` below (labels and caption may
 * be NULL). Prints the error and returns false on failure. */
bool ex_write_rows_png(const char *prog, const char *path, nb_tensor *const *rows, int n_rows,
                       const char *title, const char *const *labels, const char *caption);

/* model(x) in eval mode with no gradients, computed inside a step of its own and returned as a
 * caller-owned copy (a module forward made outside any step would leave its intermediates
 * behind). NULL with the library's error on failure. */
nb_tensor *ex_forward_copy(nb_module *model, nb_tensor *x);

/* Training sample rows [0, n) of ds.x as a caller-owned contiguous tensor [n, 784]. */
nb_tensor *ex_first_rows(const nb_dataset *ds, int64_t n);

/* Build "<prefix><suffix>" into buf (always NUL-terminated); returns buf. */
const char *ex_path(char *buf, size_t size, const char *prefix, const char *suffix);

#endif
