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
