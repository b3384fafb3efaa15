/* examples/data_tour.c — a tour of a dataset: loads Fashion-MNIST (or MNIST / CIFAR-10 from a
 * directory), prints sizes, pixel statistics and class counts, splits the training set, fits a
 * normalisation on the training part, iterates one epoch of shuffled minibatches, and writes a
 * PNG grid of the first 64 images and a CSV of the class counts.
 *
 *   data_tour                     Fashion-MNIST from Debian's dataset-fashion-mnist
 *   data_tour --data DIR          MNIST-format files in DIR
 *   data_tour --cifar DIR         CIFAR-10 binary batches in DIR
 *   data_tour --write-synthetic DIR   write the generated images as an MNIST-format set, stop */
#include <nabla.h>

#include "common/cli.h"
#include "common/images.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct args {
    const char *mnist, *cifar, *write_synthetic, *out;
    int limit, batch;
    uint64_t seed;
} args;

/* 0: run; else the exit status (0 after --help, 2 after a usage error). */
static int parse(int argc, char **argv, args *a, bool *stop)
{
    static const ex_program prog = {
        .name = "data_tour",
        .notes = "notes 001 (slides), training: the 60 / 20 / 20 split, normalisation and batches",
        .summary = "load a dataset and show what is in it",
        .details =
            "Fashion-MNIST is read from $NB_FASHION_MNIST_DIR, else " NB_FASHION_MNIST_DEFAULT_DIR
            "\n(Debian: apt-get install dataset-fashion-mnist). Writes OUT_grid.png and\n"
            "OUT_classes.csv.\n",
    };
    *a = (args){.out = "data_tour", .batch = 128, .seed = 1};
    ex_opt opts[] = {
        {"data", EX_OPT_STRING, &a->mnist,
         "MNIST-format files in DIR instead (train-images-idx3-ubyte.gz, ...)"},
        {"cifar", EX_OPT_STRING, &a->cifar,
         "CIFAR-10 binary batches in DIR instead (data_batch_1.bin, ...)"},
        {"limit", EX_OPT_INT, &a->limit, "load at most N samples per split (0: all)"},
        {"batch", EX_OPT_INT, &a->batch, "batch size for the minibatch pass"},
        {"seed", EX_OPT_U64, &a->seed, "seed for the split and the shuffling"},
        {"out", EX_OPT_STRING, &a->out, "prefix of the output files"},
        {"write-synthetic", EX_OPT_STRING, &a->write_synthetic,
         "write the generated images of --synthetic (gzip IDX, 300 training and 100 test "
         "images, 10 classes) to DIR as an MNIST-format set and exit"},
    };
    *stop = true;
    ex_args_result r =
        ex_parse_args(&prog, opts, (int)(sizeof opts / sizeof *opts), argc, argv, NULL, NULL);
    if (r != EX_ARGS_RUN)
        return r == EX_ARGS_HELP ? 0 : 2;
    if (a->batch < 1 || a->limit < 0)
        return ex_usage_error(&prog, "--batch must be >= 1 and --limit >= 0");
    *stop = false;
    return 0;
}

static int write_synthetic(const char *dir)
{
    if (ex_write_synthetic_idx(dir, 300, 100, 2024) != NB_OK) {
        fprintf(stderr, "data_tour: %s\n", nb_last_error());
        return 1;
    }
    printf("wrote %s/train-images-idx3-ubyte.gz (300 images), %s/t10k-images-idx3-ubyte.gz (100 "
           "images) and their labels\n",
           dir, dir);
    return 0;
}

/* ---- the tour ---- */
static void pixel_stats(const char *what, const nb_tensor *x)
{
    nb_norm_stats s;
    if (nb_norm_fit(x, NB_NORM_STANDARD, false, 0, 0, &s) == NB_OK)
        printf("pixels (%s): min %.3f  max %.3f  mean %.4f  std %.4f\n", what, s.min[0], s.max[0],
               s.mean[0], s.std[0]);
}

static const char *shape_of(const nb_tensor *x, char *buf, size_t n)
{
    /* the shape of one sample: drop the leading N */
    char full[128];
    nb_tensor_shape_str(x, full, sizeof full);
    const char *comma = strchr(full, ',');
    snprintf(buf, n, "[%s", comma ? comma + 2 : "]");
    return buf;
}

static int load(const args *a, nb_dataset *train, nb_dataset *test, const char **name)
{
    nb_load_opts o = {.max_samples = a->limit};
    nb_status st;
    if (a->cifar) {
        *name = "CIFAR-10";
        st = nb_cifar10_load(a->cifar, NB_SPLIT_TRAIN, &o, train);
        if (st == NB_OK)
            st = nb_cifar10_load(a->cifar, NB_SPLIT_TEST, &o, test);
    } else if (a->mnist) {
        *name = "MNIST";
        st = nb_mnist_load(a->mnist, NB_SPLIT_TRAIN, &o, train);
        if (st == NB_OK)
            st = nb_mnist_load(a->mnist, NB_SPLIT_TEST, &o, test);
    } else {
        *name = "Fashion-MNIST";
        st = nb_fashion_mnist_load(NULL, NB_SPLIT_TRAIN, &o, train);
        if (st == NB_OK)
            st = nb_fashion_mnist_load(NULL, NB_SPLIT_TEST, &o, test);
    }
    if (st == NB_OK)
        return 0;
    fprintf(stderr, "data_tour: could not load %s:\n  %s\n", *name, nb_last_error());
    if (st == NB_ERR_IO) {
        fprintf(
            stderr,
            "data_tour: no dataset found. Looked for %s in %s.\n"
            "  Fashion-MNIST: apt-get install dataset-fashion-mnist (files go to %s),\n"
            "                 or $NB_FASHION_MNIST_DIR for a copy elsewhere\n"
            "  MNIST:         --data DIR with train-images-idx3-ubyte.gz, "
            "train-labels-idx1-ubyte.gz,\n"
            "                 t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz (gz or not)\n"
            "  CIFAR-10:      --cifar DIR with data_batch_1..5.bin and test_batch.bin\n"
            "  no data at all: --write-synthetic DIR writes a small MNIST-format set to try\n",
            *name,
            a->cifar   ? a->cifar
            : a->mnist ? a->mnist
                       : (getenv("NB_FASHION_MNIST_DIR") ? getenv("NB_FASHION_MNIST_DIR")
                                                         : NB_FASHION_MNIST_DEFAULT_DIR),
            NB_FASHION_MNIST_DEFAULT_DIR);
        return 2;
    }
    return 1;
}

static int tour(const args *a)
{
    nb_dataset train = {0}, test = {0}, tr = {0}, va = {0}, te = {0};
    const char *name;
    int rc = load(a, &train, &test, &name);
    if (rc)
        return rc;
    char sh[64];
    printf("dataset: %s\n", name);
    printf("train: %lld samples of %s f32, %lld classes\n", (long long)nb_dataset_size(&train),
           shape_of(train.x, sh, sizeof sh), (long long)train.n_classes);
    printf("test:  %lld samples\n", (long long)nb_dataset_size(&test));
    pixel_stats("train", train.x);

    /* class counts, printed and written as CSV */
    int64_t ctr[10] = {0}, cte[10] = {0};
    nb_status st = nb_dataset_class_counts(&train, ctr);
    if (st == NB_OK)
        st = nb_dataset_class_counts(&test, cte);
    char csv[4096], png[4096];
    snprintf(csv, sizeof csv, "%s_classes.csv", a->out);
    snprintf(png, sizeof png, "%s_grid.png", a->out);
    FILE *f = st == NB_OK ? fopen(csv, "w") : NULL;
    if (st == NB_OK && !f) {
        fprintf(stderr, "data_tour: cannot write %s: %s\n", csv, strerror(errno));
        rc = 1;
        goto done;
    }
    if (f) {
        printf("class counts:\n  %-2s %-12s %7s %7s\n", "#", "name", "train", "test");
        fprintf(f, "class,name,train,test\n");
        for (int c = 0; c < train.n_classes && c < 10; c++) {
            const char *cn = train.class_names ? train.class_names[c] : "";
            printf("  %-2d %-12s %7lld %7lld\n", c, cn, (long long)ctr[c], (long long)cte[c]);
            fprintf(f, "%d,%s,%lld,%lld\n", c, cn, (long long)ctr[c], (long long)cte[c]);
        }
        if (fclose(f) != 0) {
            fprintf(stderr, "data_tour: cannot write %s\n", csv);
            rc = 1;
            goto done;
        }
    }

    /* split the training set and normalise with the training part's statistics */
    st = nb_dataset_split(&train, 0, 0, a->seed, &tr, &va, &te);
    if (st != NB_OK)
        goto fail;
    printf("split of train (60/20/20, seed %llu): train %lld, validation %lld, test %lld\n",
           (unsigned long long)a->seed, (long long)nb_dataset_size(&tr),
           (long long)nb_dataset_size(&va), (long long)nb_dataset_size(&te));
    nb_norm_stats ns;
    st = nb_norm_fit(tr.x, NB_NORM_STANDARD, false, 0, 0, &ns);
    if (st == NB_OK)
        st = nb_norm_apply(tr.x, &ns);
    if (st == NB_OK)
        st = nb_norm_apply(va.x, &ns);
    if (st != NB_OK)
        goto fail;
    nb_norm_stats after;
    if (nb_norm_fit(va.x, NB_NORM_STANDARD, false, 0, 0, &after) == NB_OK)
        printf("standardised with the training part's mean %.4f and std %.4f: validation now has "
               "mean %.4f, std %.4f\n",
               ns.mean[0], ns.std[0], after.mean[0], after.std[0]);

    /* one epoch of shuffled minibatches over the training part */
    nb_batcher *it = nb_batcher_new(
        &tr, &(nb_batch_opts){.batch_size = a->batch, .shuffle = true, .seed = a->seed});
    if (!it)
        goto fail;
    nb_progress *bar = nb_progress_new("one epoch", nb_batcher_num_batches(it), NULL);
    nb_batch b;
    int64_t samples = 0, last = 0;
    while (nb_batcher_next(it, &b)) {
        samples += b.size;
        last = b.size;
        nb_progress_advance(bar, b.size, NAN);
    }
    nb_progress_finish(bar);
    nb_progress_free(bar);
    printf("batches of %lld (shuffled, seed %llu): %lld per epoch, the last holds %lld; %lld "
           "samples seen\n",
           (long long)a->batch, (unsigned long long)a->seed, (long long)nb_batcher_num_batches(it),
           (long long)last, (long long)samples);
    nb_batcher_free(it);

    /* the first 64 training images */
    int64_t n_show = nb_dataset_size(&train) < 64 ? nb_dataset_size(&train) : 64;
    int64_t shape[NB_MAX_DIMS];
    int nd = nb_tensor_ndim(train.x);
    memcpy(shape, nb_tensor_shape(train.x), (size_t)nd * sizeof *shape);
    shape[0] = n_show;
    nb_tensor *show = nb_tensor_view_new(train.x, 0, nd, shape);
    if (!show)
        goto fail;
    st = nb_png_write_grid(png, show,
                           &(nb_grid_opts){.cols = 8,
                                           .scale = 2,
                                           .padding = 2,
                                           .title = "First training images",
                                           .caption = "in dataset order, left to right, "
                                                      "top to bottom"});
    nb_tensor_free(show);
    if (st != NB_OK)
        goto fail;
    printf("wrote %s (the first %lld training images, 8 per row)\n", png, (long long)n_show);
    printf("wrote %s\n", csv);
    goto done;
fail:
    fprintf(stderr, "data_tour: %s\n", nb_last_error());
    rc = 1;
done:
    nb_dataset_deinit(&train);
    nb_dataset_deinit(&test);
    nb_dataset_deinit(&tr);
    nb_dataset_deinit(&va);
    nb_dataset_deinit(&te);
    return rc;
}

int main(int argc, char **argv)
{
    args a;
    bool stop;
    const int rc = parse(argc, argv, &a, &stop);
    if (stop)
        return rc;
    if (a.write_synthetic)
        return write_synthetic(a.write_synthetic);
    return tour(&a);
}
