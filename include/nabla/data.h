/* nabla/data.h — datasets: MNIST-format IDX files (gzip or raw), Fashion-MNIST, MNIST, CIFAR-10;
 * train/validation/test splits, normalisation, and seeded minibatch iteration.
 *
 *     nb_dataset train;
 *     if (nb_fashion_mnist_load(NULL, NB_SPLIT_TRAIN, NULL, &train) != NB_OK) {
 *         fprintf(stderr, "%s\n", nb_last_error());
 *         return 1;
 *     }
 *     nb_batcher *it = nb_batcher_new(&train, &(nb_batch_opts){.batch_size = 128,
 *                                                            .shuffle = true, .seed = 1});
 *     nb_batch b;
 *     for (int epoch = 0; epoch < 10; epoch++)
 *         while (nb_batcher_next(it, &b)) { ... b.x: [B, 28, 28], b.y: [B] ... }
 *     nb_batcher_free(it);
 *     nb_dataset_deinit(&train);
 *
 * Every reader checks what it reads: a missing file, or a path that is not a regular file (a
 * FIFO, a device, a directory: refused before it is opened, so a reader never waits on a FIFO),
 * is NB_ERR_IO; a wrong magic, a truncated file, sizes that disagree, a file named .gz that is
 * not gzip, label and image counts that differ, or a label out of range is NB_ERR_FORMAT. The
 * message names the function, the file and the problem, e.g. "nb_idx_load:
 * data/train-labels-idx1-ubyte: truncated: header says 60000 items (60008 bytes), file has 1000
 * bytes". Sizes in a header are checked against the file before anything is allocated. */
#ifndef NABLA_DATA_H
#define NABLA_DATA_H

#include "nabla/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A labelled dataset. Both tensors are owned by the dataset (nb_dataset_deinit frees them). */
typedef struct nb_dataset {
    nb_tensor *x;      /* samples [N, ...]: f32 images in [0, 1] by default, contiguous */
    nb_tensor *y;      /* labels [N], NB_I64 in [0, n_classes); NULL for unlabelled data */
    int64_t n_classes; /* 0 when unlabelled */
    /* Class names (n_classes entries, static storage) or NULL when the set has none. */
    const char *const *class_names;
} nb_dataset;

/* Number of samples (x's first dimension; 0 for an empty or zeroed dataset). */
NB_API int64_t nb_dataset_size(const nb_dataset *ds);
/* Free the tensors and zero the struct. NULL and zeroed datasets are fine. */
NB_API void nb_dataset_deinit(nb_dataset *ds);

/* Image layout of loaded samples. */
typedef enum nb_layout {
    NB_LAYOUT_DEFAULT = 0, /* as stored: IDX [N, 28, 28], CIFAR-10 [N, 3, 32, 32] */
    NB_LAYOUT_NCHW = 1,    /* with a channel axis: IDX [N, 1, 28, 28], CIFAR-10 [N, 3, 32, 32] */
    NB_LAYOUT_FLAT = 2,    /* one row per sample: [N, 784], [N, 3072] */
} nb_layout;

/* Options for every loader; NULL or a zeroed struct means the defaults. */
typedef struct nb_load_opts {
    nb_layout layout;
    bool raw_values;     /* false: pixel / 255 in [0, 1]; true: pixel values 0..255 as f32 */
    int64_t max_samples; /* > 0: keep only the first max_samples (the whole file is still
                            checked); 0: all */
} nb_load_opts;

/* Which part of a dataset to load. */
typedef enum nb_data_split {
    NB_SPLIT_TRAIN = 0,
    NB_SPLIT_TEST = 1,
} nb_data_split;

/* ---- IDX files (the MNIST format) ----
 * IDX: 2 zero bytes, a type code, the number of dims, each dim as a big-endian u32, then the
 * data. nabla reads unsigned-byte data (type 0x08), 1 to 4 dims, every dim > 0, data size equal
 * to the product of the dims; gzip-compressed files are detected by their magic (and a name
 * ending in .gz must be gzip). */

/* Read an IDX file as a new caller-owned tensor of its dims, each byte times `scale`, in
 * `dtype` (f32, f64 or i64; i64 ignores scale). Errors: NB_ERR_IO, NB_ERR_FORMAT,
 * NB_ERR_NOMEM, NB_ERR_VALUE (NULL path, bad dtype). */
NB_API nb_tensor *nb_idx_load(const char *path, nb_dtype dtype, double scale);

/* Write t (any dtype, 1 to 4 dims, each < 2^32) as unsigned-byte IDX: each value times `scale`,
 * rounded and clamped to 0..255. gzip-compressed when path ends in ".gz". Written atomically.
 * Errors: NB_ERR_VALUE, NB_ERR_SHAPE, NB_ERR_IO, NB_ERR_NOMEM. */
NB_API nb_status nb_idx_save(const char *path, const nb_tensor *t, double scale);

/* An image file and a label file (IDX, e.g. train-images-idx3-ubyte.gz and
 * train-labels-idx1-ubyte.gz) as a dataset with n_classes classes (0 -> 10). The label file
 * must be 1-dim with as many items as there are images, every label < n_classes. On error *out
 * is zeroed. */
NB_API nb_status nb_idx_load_dataset(const char *images_path, const char *labels_path,
                                     int64_t n_classes, const nb_load_opts *opts, nb_dataset *out);

/* Where Debian's dataset-fashion-mnist package puts the files. */
#define NB_FASHION_MNIST_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"

/* Fashion-MNIST (10 classes, 28x28 grayscale; 60000 train, 10000 test) from `dir`, or when dir
 * is NULL from $NB_FASHION_MNIST_DIR, else NB_FASHION_MNIST_DEFAULT_DIR. Files:
 * {train,t10k}-{images-idx3,labels-idx1}-ubyte, with or without .gz (also the
 * "train-images.idx3-ubyte" spelling). A missing file is NB_ERR_IO and the message says where
 * it looked and how to install the package. Class names are set. */
NB_API nb_status nb_fashion_mnist_load(const char *dir, nb_data_split split,
                                       const nb_load_opts *opts, nb_dataset *out);

/* MNIST digits from `dir` (same file names as Fashion-MNIST), or from $NB_MNIST_DIR when dir is
 * NULL (NB_ERR_IO when neither is given). */
NB_API nb_status nb_mnist_load(const char *dir, nb_data_split split, const nb_load_opts *opts,
                               nb_dataset *out);

/* CIFAR-10, binary version, from `dir` (or dir/cifar-10-batches-bin): train = data_batch_1.bin
 * .. data_batch_5.bin, test = test_batch.bin. Each file holds 3073-byte records (label byte,
 * then 1024 red, 1024 green, 1024 blue bytes, rows of 32). Samples are [N, 3, 32, 32]. */
NB_API nb_status nb_cifar10_load(const char *dir, nb_data_split split, const nb_load_opts *opts,
                                 nb_dataset *out);
/* One CIFAR-10 binary batch file. The size must be a positive multiple of 3073 and every label
 * < 10. */
NB_API nb_status nb_cifar10_load_file(const char *path, const nb_load_opts *opts, nb_dataset *out);

/* Class names: 10 entries each. */
NB_API const char *const *nb_fashion_mnist_class_names(void);
NB_API const char *const *nb_cifar10_class_names(void);

/* ---- subsets and splits ---- */

/* New dataset holding samples idx[0..n-1] of `src` (copies; indices may repeat). On error
 * (NB_ERR_VALUE for an index out of range, NB_ERR_NOMEM) *out is zeroed. */
NB_API nb_status nb_dataset_subset(const nb_dataset *src, const int64_t *idx, int64_t n,
                                   nb_dataset *out);

/* Shuffle `src` with `seed` and cut it into train / validation / test copies with fractions
 * train_frac and val_frac (test gets the rest: round(N * train_frac) and round(N * val_frac)
 * samples go to the first two). Both fractions 0 means the default 0.6 / 0.2 / 0.2. Any of the
 * outputs may be NULL (those samples are dropped). Errors: NB_ERR_VALUE (fractions outside
 * [0, 1] or summing above 1), NB_ERR_NOMEM; then all outputs are zeroed. */
NB_API nb_status nb_dataset_split(const nb_dataset *src, double train_frac, double val_frac,
                                  uint64_t seed, nb_dataset *train, nb_dataset *val,
                                  nb_dataset *test);

/* Count of each label: counts[c] for c in [0, n_classes) (counts has n_classes entries). */
NB_API nb_status nb_dataset_class_counts(const nb_dataset *ds, int64_t *counts);

/* ---- normalisation ----
 * Fit statistics on one tensor (the training samples) and apply them to others (validation and
 * test samples), so that every set sees the same transformation: x' = x * mul[c] + add[c]. */
typedef enum nb_norm_kind {
    NB_NORM_RANGE = 0,    /* min..max of the fitted data -> lo..hi */
    NB_NORM_STANDARD = 1, /* zero mean, unit variance */
} nb_norm_kind;

#define NB_NORM_MAX_CHANNELS 16

typedef struct nb_norm_stats {
    nb_norm_kind kind;
    int channels; /* 1: one statistic over all elements; C: per channel (axis 1) */
    double min[NB_NORM_MAX_CHANNELS], max[NB_NORM_MAX_CHANNELS];
    double mean[NB_NORM_MAX_CHANNELS], std[NB_NORM_MAX_CHANNELS];
    double mul[NB_NORM_MAX_CHANNELS], add[NB_NORM_MAX_CHANNELS]; /* the transformation */
} nb_norm_stats;

/* Fit statistics on x (f32 or f64, contiguous, at least one element). per_channel: separate
 * statistics for each index of axis 1 (x must have >= 2 dims and at most NB_NORM_MAX_CHANNELS
 * channels). RANGE maps [min, max] to [lo, hi] (a constant input maps to lo); STANDARD ignores
 * lo/hi (a zero std is treated as 1). Errors: NB_ERR_VALUE, NB_ERR_DTYPE, NB_ERR_SHAPE. */
NB_API nb_status nb_norm_fit(const nb_tensor *x, nb_norm_kind kind, bool per_channel, double lo,
                             double hi, nb_norm_stats *out);
/* Apply fitted statistics to x in place (same channel count on axis 1 when per channel). */
NB_API nb_status nb_norm_apply(nb_tensor *x, const nb_norm_stats *stats);

/* ---- augmentation ----
 * Random changes of training images, drawn afresh each time an image is used (with
 * nb_train_epoch: nb_loop_opts.transform = nb_augment_transform, .user = &opts). */
typedef struct nb_augment_opts {
    int shift;  /* 0..64: each image moved by (dy, dx), each uniform in [-shift, shift], zeros
                 * moving in: a random crop of the image zero-padded by shift on every side */
    bool hflip; /* mirror left-right with probability 1/2 (after the shift) */
    nb_rng rng; /* the draws, per image in order: dy, dx, then the flip when hflip */
} nb_augment_opts;

/* Augmented copy of images x [N, H, W] or [N, C, H, W] (f32 or f64, any strides; every channel
 * of an image moved and flipped alike), advancing opts->rng. Not recorded; placed like an op
 * result (the active step's arena, or caller-owned without a step). Errors -> NULL: NB_ERR_VALUE
 * (NULL x or opts, shift outside 0..64), NB_ERR_SHAPE (not 3-D or 4-D), NB_ERR_DTYPE (not float).
 * A NULL x with an error pending (a failed op) keeps that error. */
NB_API nb_tensor *nb_augment_images(nb_tensor *x, nb_augment_opts *opts);

/* ---- minibatches ---- */

typedef enum nb_last_batch {
    NB_LAST_KEEP = 0, /* the last batch of an epoch may be smaller */
    NB_LAST_DROP = 1, /* drop a final batch smaller than batch_size */
} nb_last_batch;

typedef struct nb_batch_opts {
    int64_t batch_size; /* >= 1 */
    bool shuffle;       /* a new seeded permutation every epoch */
    uint64_t seed;      /* same seed -> same batches, epoch after epoch */
    nb_last_batch last;
} nb_batch_opts;

/* One minibatch. x and y are owned by the batcher and valid until the next nb_batcher_next /
 * nb_batcher_reset / nb_batcher_free (copy them, or use them within a step). */
typedef struct nb_batch {
    nb_tensor *x;           /* [B, ...] same dtype as the dataset's samples */
    nb_tensor *y;           /* [B] NB_I64, or NULL for an unlabelled dataset */
    int64_t size;           /* B */
    int64_t index;          /* batch number within the epoch, from 0 */
    int64_t epoch;          /* from 0 */
    const int64_t *indices; /* the B dataset indices in this batch */
} nb_batch;

typedef struct nb_batcher nb_batcher;

/* New iterator over ds (which must stay alive and unchanged while the batcher is used; its
 * samples must be contiguous). Errors: NB_ERR_VALUE (batch_size < 1, empty dataset, label count
 * differs from sample count), NB_ERR_NOMEM -> NULL. */
NB_API nb_batcher *nb_batcher_new(const nb_dataset *ds, const nb_batch_opts *opts);
/* Fill *out with the next batch and return true; at the end of an epoch return false, and the
 * next call starts a new epoch (reshuffled when shuffling). */
NB_API bool nb_batcher_next(nb_batcher *it, nb_batch *out);
/* Back to epoch 0 (the first epoch's order again). */
NB_API void nb_batcher_reset(nb_batcher *it);
/* Batches per epoch. */
NB_API int64_t nb_batcher_num_batches(const nb_batcher *it);
NB_API void nb_batcher_free(nb_batcher *it);

#ifdef __cplusplus
}
#endif
#endif
