/* examples/common/train.c — data loading, one training epoch and evaluation for the classifier
 * examples. */
#define _POSIX_C_SOURCE 200809L
#include "common/train.h"

#include "common/images.h"

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
