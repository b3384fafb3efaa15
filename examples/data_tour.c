/* examples/data_tour.c — a tour of a dataset: loads Fashion-MNIST (or MNIST / CIFAR-10 from a
 * directory), prints sizes, pixel statistics and class counts, splits the training set, fits a
 * normalisation on the training part, iterates one epoch of shuffled minibatches, and writes a
 * PNG grid of the first 64 images and a CSV of the class counts.
 *
 *   data_tour                     Fashion-MNIST from Debian's dataset-fashion-mnist
 *   data_tour --data DIR          MNIST-format files in DIR
 *   data_tour --cifar DIR         CIFAR-10 binary batches in DIR
 *   data_tour --synthetic DIR     write a small synthetic MNIST-format set to DIR, then stop */
#include <nabla.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct args {
    const char *fashion, *mnist, *cifar, *synthetic, *out;
    int64_t max, batch;
    uint64_t seed;
} args;

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: data_tour [options]\n"
        "Reproduces notes 001 (slides), training: the 60 / 20 / 20 split, normalisation and "
        "batches\n"
        "Load a dataset and show what is in it.\n\n"
        "  --fashion DIR    Fashion-MNIST directory (default: $NB_FASHION_MNIST_DIR, else\n"
        "                   " NB_FASHION_MNIST_DEFAULT_DIR ")\n"
        "  --data DIR       MNIST-format files in DIR instead (train-images-idx3-ubyte.gz, ...)\n"
        "  --cifar DIR      CIFAR-10 binary batches in DIR instead (data_batch_1.bin, ...)\n"
        "  --max N          load at most N samples per split (default: all)\n"
        "  --batch N        batch size for the minibatch pass (default: 128)\n"
        "  --seed N         seed for the split and the shuffling (default: 1)\n"
        "  --out PREFIX     output files PREFIX_grid.png and PREFIX_classes.csv\n"
        "                   (default: data_tour)\n"
        "  --synthetic DIR  write a small synthetic MNIST-format dataset (gzip IDX, 300 train\n"
        "                   and 100 test images, 10 classes) to DIR and exit\n"
        "  --help           this text\n");
}

static int parse(int argc, char **argv, args *a)
{
    *a = (args){.out = "data_tour", .batch = 128, .seed = 1};
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(k, "--help") || !strcmp(k, "-h")) {
            usage(stdout);
            exit(0);
        }
        if (!v) {
            fprintf(stderr, "data_tour: %s needs a value (see --help)\n", k);
            return -1;
        }
        i++;
        if (!strcmp(k, "--fashion"))
            a->fashion = v;
        else if (!strcmp(k, "--data"))
            a->mnist = v;
        else if (!strcmp(k, "--cifar"))
            a->cifar = v;
        else if (!strcmp(k, "--synthetic"))
            a->synthetic = v;
        else if (!strcmp(k, "--out"))
            a->out = v;
        else if (!strcmp(k, "--max"))
            a->max = atoll(v);
        else if (!strcmp(k, "--batch"))
            a->batch = atoll(v);
        else if (!strcmp(k, "--seed"))
            a->seed = strtoull(v, NULL, 10);
        else {
            fprintf(stderr, "data_tour: unknown option %s (see --help)\n", k);
            return -1;
        }
    }
    if (a->batch < 1 || a->max < 0) {
        fprintf(stderr, "data_tour: --batch must be >= 1 and --max >= 0\n");
        return -1;
    }
    return 0;
}

/* ---- synthetic data: class c is a bright bar whose angle depends on c, plus noise ---- */
static nb_status write_synthetic_split(const char *dir, const char *prefix, int n, nb_rng *rng)
{
    int64_t xs[3] = {n, 28, 28}, ys[1] = {n};
    nb_tensor *x = nb_tensor_zeros(NB_F32, 3, xs), *y = nb_tensor_zeros(NB_F32, 1, ys);
    if (!x || !y) {
        nb_tensor_free(x);
        nb_tensor_free(y);
        return nb_last_status();
    }
    float *px = nb_tensor_data_f32(x), *py = nb_tensor_data_f32(y);
    for (int i = 0; i < n; i++) {
        int c = (i * 7 + 3) % 10;
        py[i] = (float)c;
        double angle = c * 3.14159265358979 / 10, ca = cos(angle), sa = sin(angle);
        for (int r = 0; r < 28; r++)
            for (int k = 0; k < 28; k++) {
                double u = (k - 13.5) * ca + (r - 13.5) * sa,
                       v = -(k - 13.5) * sa + (r - 13.5) * ca;
                double on = fabs(v) < 2.5 && fabs(u) < 10 ? 0.85 : 0.0;
                double val = on + 0.15 * nb_rng_uniform(rng);
                px[(i * 28 + r) * 28 + k] = (float)(val > 1 ? 1 : val);
            }
    }
    char ip[4096], lp[4096];
    snprintf(ip, sizeof ip, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    snprintf(lp, sizeof lp, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    nb_status st = nb_idx_save(ip, x, 255);
    if (st == NB_OK)
        st = nb_idx_save(lp, y, 1);
    if (st == NB_OK)
        printf("wrote %s (%d images) and %s\n", ip, n, lp);
    nb_tensor_free(x);
    nb_tensor_free(y);
    return st;
}

static int synthetic(const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "data_tour: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    nb_rng rng = nb_rng_seed(2024);
    if (write_synthetic_split(dir, "train", 300, &rng) != NB_OK ||
        write_synthetic_split(dir, "t10k", 100, &rng) != NB_OK) {
        fprintf(stderr, "data_tour: %s\n", nb_last_error());
        return 1;
    }
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
    nb_load_opts o = {.max_samples = a->max};
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
        st = nb_fashion_mnist_load(a->fashion, NB_SPLIT_TRAIN, &o, train);
        if (st == NB_OK)
            st = nb_fashion_mnist_load(a->fashion, NB_SPLIT_TEST, &o, test);
    }
    if (st == NB_OK)
        return 0;
    fprintf(stderr, "data_tour: could not load %s:\n  %s\n", *name, nb_last_error());
    if (st == NB_ERR_IO) {
        fprintf(
            stderr,
            "data_tour: no dataset found. Looked for %s in %s.\n"
            "  Fashion-MNIST: apt-get install dataset-fashion-mnist (files go to %s),\n"
            "                 or --fashion DIR / $NB_FASHION_MNIST_DIR for a copy elsewhere\n"
            "  MNIST:         --data DIR with train-images-idx3-ubyte.gz, "
            "train-labels-idx1-ubyte.gz,\n"
            "                 t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz (gz or not)\n"
            "  CIFAR-10:      --cifar DIR with data_batch_1..5.bin and test_batch.bin\n"
            "  no data at all: --synthetic DIR writes a small MNIST-format set to try\n",
            *name,
            a->cifar ? a->cifar
            : a->mnist
                ? a->mnist
                : (a->fashion ? a->fashion
                              : (getenv("NB_FASHION_MNIST_DIR") ? getenv("NB_FASHION_MNIST_DIR")
                                                                : NB_FASHION_MNIST_DEFAULT_DIR)),
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
    if (parse(argc, argv, &a) != 0)
        return 2;
    if (a.synthetic)
        return synthetic(a.synthetic);
    return tour(&a);
}
