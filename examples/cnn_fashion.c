/* examples/cnn_fashion.c — a convolutional network on Fashion-MNIST:
 *
 *   [N, 1, 28, 28] -> Conv2d 1->32 3x3 pad 1 -> ReLU -> MaxPool 2   -> [N, 32, 14, 14]
 *                  -> Conv2d 32->64 3x3 pad 1 -> ReLU -> MaxPool 2  -> [N, 64, 7, 7]
 *                  -> Flatten 3136 -> Linear 128 -> ReLU -> Linear 10 (logits)
 *
 * trained with cross-entropy, Adam (or SGD with momentum) and minibatches of 64; prints the loss
 * per epoch, the test accuracy after each epoch and the time per epoch, and writes the curves as
 * CSV and PNG.
 *
 *   cnn_fashion                     Fashion-MNIST from Debian's dataset-fashion-mnist
 *   cnn_fashion --data DIR          MNIST-format files in DIR (MNIST digits, ...)
 *   cnn_fashion --synthetic DIR     write a small synthetic MNIST-format set to DIR, train on it
 *   mpirun -np 2 cnn_fashion --dist data-parallel over 2 processes (nabla/dist.h): the same
 *                                   batches and results as one process */
#include <nabla.h>

#include "common/cnn_train.h"
#include "common/dist_train.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct args {
    const char *fashion, *data, *synthetic, *out;
    int64_t limit, test_limit, batch;
    int epochs, threads;
    double lr;
    bool sgd, check, dist;
    uint64_t seed;
} args;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: cnn_fashion [options]\n"
            "Reproduces notes 001 (slides), CNN section: 28x28x1 -> 32 maps (25,088) -> pooled "
            "6,272, and \"the first layer finds lines\"\n"
            "Train a small CNN (conv 32 - pool - conv 64 - pool - FC 128 - FC 10) on\n"
            "Fashion-MNIST and report the test accuracy after each epoch.\n\n"
            "  --fashion DIR     Fashion-MNIST directory (default: $NB_FASHION_MNIST_DIR, else\n"
            "                    " NB_FASHION_MNIST_DEFAULT_DIR ")\n"
            "  --data DIR        MNIST-format files in DIR instead (e.g. MNIST digits)\n"
            "  --synthetic DIR   write a synthetic MNIST-format set (600 train, 200 test images\n"
            "                    of 10 bar orientations) to DIR and train on it\n"
            "  --epochs N        training epochs (default: 3)\n"
            "  --limit N         use only the first N training images (default: all)\n"
            "  --test-limit N    use only the first N test images (default: all)\n"
            "  --batch N         minibatch size (default: 64)\n"
            "  --lr X            learning rate (default: 0.001 for Adam, 0.01 for --sgd)\n"
            "  --sgd             SGD with momentum 0.9 instead of Adam\n"
            "  --threads N       worker threads (default: 2)\n"
            "  --seed N          seed of the initialisation and the shuffling (default: 1)\n"
            "  --out PREFIX      write PREFIX_curves.csv and PREFIX_curves.png\n"
            "                    (default: cnn_fashion)\n"
            "  --check           exit 1 unless the mean loss of the last epoch is below the\n"
            "                    loss of the first batch\n"
            "  --dist            data-parallel over the processes of mpirun (nabla/dist.h;\n"
            "                    --batch is the global batch); rank 0 prints and writes files\n"
            "  --help            this text\n");
}

static int parse(int argc, char **argv, args *a)
{
    *a = (args){.out = "cnn_fashion", .batch = 64, .epochs = 3, .threads = 2, .seed = 1};
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        if (!strcmp(k, "--help") || !strcmp(k, "-h")) {
            usage(stdout);
            exit(0);
        }
        if (!strcmp(k, "--sgd")) {
            a->sgd = true;
            continue;
        }
        if (!strcmp(k, "--check")) {
            a->check = true;
            continue;
        }
        if (!strcmp(k, "--dist")) {
            a->dist = true;
            continue;
        }
        const char *v = i + 1 < argc ? argv[++i] : NULL;
        if (!v) {
            fprintf(stderr, "cnn_fashion: %s needs a value (see --help)\n", k);
            return -1;
        }
        char *end = NULL;
        if (!strcmp(k, "--fashion"))
            a->fashion = v;
        else if (!strcmp(k, "--data"))
            a->data = v;
        else if (!strcmp(k, "--synthetic"))
            a->synthetic = v;
        else if (!strcmp(k, "--out"))
            a->out = v;
        else if (!strcmp(k, "--epochs"))
            a->epochs = (int)strtol(v, &end, 10);
        else if (!strcmp(k, "--limit"))
            a->limit = strtoll(v, &end, 10);
        else if (!strcmp(k, "--test-limit"))
            a->test_limit = strtoll(v, &end, 10);
        else if (!strcmp(k, "--batch"))
            a->batch = strtoll(v, &end, 10);
        else if (!strcmp(k, "--lr"))
            a->lr = strtod(v, &end);
        else if (!strcmp(k, "--threads"))
            a->threads = (int)strtol(v, &end, 10);
        else if (!strcmp(k, "--seed"))
            a->seed = strtoull(v, &end, 10);
        else {
            fprintf(stderr, "cnn_fashion: unknown option %s (see --help)\n", k);
            return -1;
        }
        if (end && *end) {
            fprintf(stderr, "cnn_fashion: %s: not a number: %s\n", k, v);
            return -1;
        }
    }
    if (a->epochs < 1 || a->batch < 1 || a->limit < 0 || a->test_limit < 0 || a->lr < 0 ||
        a->threads < 1) {
        fprintf(stderr, "cnn_fashion: --epochs, --batch, --threads must be >= 1; --limit, "
                        "--test-limit, --lr >= 0\n");
        return -1;
    }
    if (a->lr == 0)
        a->lr = a->sgd ? 0.01 : 0.001;
    return 0;
}

/* Write a synthetic set (ex_cnn_synthetic_images, 28x28) as MNIST-format gzip IDX files in dir. */
static nb_status write_synthetic(const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return nb_set_error(NB_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    const char *prefix[2] = {"train", "t10k"};
    const int64_t n[2] = {600, 200};
    for (int s = 0; s < 2; s++) {
        nb_dataset ds;
        nb_status st = ex_cnn_synthetic_images(n[s], 1, 28, 100 + (uint64_t)s, &ds);
        if (st != NB_OK)
            return st;
        char ip[4096], lp[4096];
        snprintf(ip, sizeof ip, "%s/%s-images-idx3-ubyte.gz", dir, prefix[s]);
        snprintf(lp, sizeof lp, "%s/%s-labels-idx1-ubyte.gz", dir, prefix[s]);
        nb_tensor *img = nb_reshape(ds.x, 3, (int64_t[]){n[s], 28, 28});
        st = img ? nb_idx_save(ip, img, 255) : nb_last_status();
        nb_tensor_free(img);
        if (st == NB_OK)
            st = nb_idx_save(lp, ds.y, 1);
        nb_dataset_deinit(&ds);
        if (st != NB_OK)
            return st;
        printf("wrote %s (%lld synthetic images) and its labels\n", ip, (long long)n[s]);
    }
    return NB_OK;
}

static nb_module *build_net(nb_rng *rng)
{
    const nb_conv_layer_opts pad1 = {.conv = {.padding = NB_PAD_EXPLICIT,
                                              .pad_top = 1,
                                              .pad_bottom = 1,
                                              .pad_left = 1,
                                              .pad_right = 1}};
    return nb_sequential_new(
        10, (nb_module *[]){nb_conv2d_new(1, 32, 3, 3, &pad1, rng), nb_relu_new(),
                            nb_max_pool2d_new(2, 2, NULL), nb_conv2d_new(32, 64, 3, 3, &pad1, rng),
                            nb_relu_new(), nb_max_pool2d_new(2, 2, NULL), nb_flatten_new(),
                            nb_linear_new(64 * 7 * 7, 128, true, rng), nb_relu_new(),
                            nb_linear_new(128, 10, true, rng)});
}

/* The output shape after every layer for one image, in notes 001's terms ("28x28x1 = 784 px ->
 * 32 feature maps of 28x28 = 25.088 px -> ..."). */
/* After training: the first layer's 32 learned 3x3 kernels, and one test image's feature maps
 * after each convolution (+ ReLU), as PNG grids (each image scaled to its own range). */
static nb_status write_feature_pngs(nb_module *net, const nb_dataset *test, const char *out)
{
    char path[4096];
    nb_tensor *k = nb_module_param(net, "0.weight"); /* [32, 1, 3, 3] */
    snprintf(path, sizeof path, "%s_kernels1.png", out);
    const nb_grid_opts g = {.cols = 8,
                            .scale = 8,
                            .padding = 2,
                            .per_image = true,
                            .title = "Layer 1: the 32 learned 3x3 kernels",
                            .caption = "each scaled min (black) to max (white)"};
    nb_status st = k ? nb_png_write_grid(path, k, &g) : NB_ERR_VALUE;
    nb_step *step = st == NB_OK ? nb_step_new() : NULL;
    if (st != NB_OK || !step || (st = nb_step_begin(step)) != NB_OK) {
        nb_step_free(step);
        return st != NB_OK ? st : NB_ERR_NOMEM;
    }
    const bool was = nb_set_grad_enabled(false);
    nb_tensor *h = nb_slice(test->x, 0, 0, 1, 1); /* [1, 1, 28, 28] */
    for (int i = 0, conv = 0; h && i < 5 && st == NB_OK; i++) {
        h = nb_module_forward(nb_module_child_at(net, i), h);
        if (h && (i == 1 || i == 4)) { /* after ReLU 1 and ReLU 2 */
            nb_tensor *maps = nb_reshape(
                h, 4,
                (int64_t[]){nb_tensor_dim(h, 1), 1, nb_tensor_dim(h, 2), nb_tensor_dim(h, 3)});
            snprintf(path, sizeof path, "%s_maps%d.png", out, ++conv);
            char title[64], caption[128];
            snprintf(title, sizeof title, "Feature maps after convolution %d + ReLU", conv);
            snprintf(caption, sizeof caption,
                     "%lld maps of %lldx%lld for the first test image, each scaled to its range",
                     (long long)nb_tensor_dim(h, 1), (long long)nb_tensor_dim(h, 2),
                     (long long)nb_tensor_dim(h, 3));
            st = maps ? nb_png_write_grid(path, maps,
                                          &(nb_grid_opts){.cols = 8,
                                                          .scale = conv == 1 ? 2 : 3,
                                                          .padding = 2,
                                                          .per_image = true,
                                                          .title = title,
                                                          .caption = caption})
                      : nb_last_status();
        }
    }
    if (!h && st == NB_OK)
        st = nb_last_status();
    nb_set_grad_enabled(was);
    nb_step_end(step);
    nb_step_free(step);
    if (st == NB_OK)
        printf("wrote %s_kernels1.png (the 32 learned 3x3 kernels of layer 1), %s_maps1.png and "
               "%s_maps2.png\n(test image 0 after convolution 1: 32 maps 28x28, and after "
               "convolution 2: 64 maps 14x14; notes 001: the first convolution detects\nprimitive "
               "features such as lines or curves, later ones more complex shapes)\n",
               out, out, out);
    return st;
}

static int run(const args *a)
{
    nb_set_num_threads(a->threads);
    ex_dist *dd = NULL;
    if (a->dist && !(dd = ex_dist_start("cnn_fashion")))
        return 1;
    const char *dir = a->synthetic ? a->synthetic : a->data;
    if (a->synthetic && ex_dist_rank(dd) > 0) /* rank 0 writes the synthetic set first */
        ex_dist_barrier(dd);
    if (a->synthetic && ex_dist_rank(dd) == 0 && write_synthetic(a->synthetic) != NB_OK) {
        fprintf(stderr, "cnn_fashion: %s\n", nb_last_error());
        return dd ? ex_dist_finish(dd, 1) : 1;
    }
    if (dd && a->synthetic && ex_dist_rank(dd) == 0)
        ex_dist_barrier(dd);
    nb_load_opts lo_train = {.layout = NB_LAYOUT_NCHW, .max_samples = a->limit};
    nb_load_opts lo_test = {.layout = NB_LAYOUT_NCHW, .max_samples = a->test_limit};
    nb_dataset train = {0}, test = {0};
    nb_status st = dir ? nb_mnist_load(dir, NB_SPLIT_TRAIN, &lo_train, &train)
                       : nb_fashion_mnist_load(a->fashion, NB_SPLIT_TRAIN, &lo_train, &train);
    if (st == NB_OK)
        st = dir ? nb_mnist_load(dir, NB_SPLIT_TEST, &lo_test, &test)
                 : nb_fashion_mnist_load(a->fashion, NB_SPLIT_TEST, &lo_test, &test);
    if (st != NB_OK) {
        fprintf(stderr, "cnn_fashion: %s\n", nb_last_error());
        if (st == NB_ERR_IO)
            fprintf(stderr, "cnn_fashion: no data. Install Fashion-MNIST (apt-get install "
                            "dataset-fashion-mnist), give --fashion DIR or --data DIR, or try "
                            "--synthetic DIR\n");
        nb_dataset_deinit(&train);
        return dd ? ex_dist_finish(dd, 1) : 1;
    }
    printf("data: %s, %lld training and %lld test images of [1, 28, 28]\n",
           a->synthetic ? "synthetic bars"
           : dir        ? dir
                        : "Fashion-MNIST",
           (long long)nb_dataset_size(&train), (long long)nb_dataset_size(&test));

    nb_rng rng = nb_rng_seed(a->seed);
    nb_module *net = build_net(&rng);
    nb_optim *opt = NULL;
    if (net) {
        nb_sgd_opts so = nb_sgd_defaults();
        nb_adam_opts ao = nb_adam_defaults();
        so.lr = ao.lr = a->lr;
        so.momentum = 0.9;
        opt = a->sgd ? nb_sgd_new(net, &so) : nb_adam_new(net, &ao);
    }
    nb_batcher *it = opt ? nb_batcher_new(&train, &(nb_batch_opts){.batch_size = a->batch,
                                                                   .shuffle = true,
                                                                   .seed = a->seed})
                         : NULL;
    nb_step *step = it ? nb_step_new() : NULL;
    nb_curves *curves = step ? nb_curves_new() : NULL;
    int rc = 0;
    if (!curves) {
        fprintf(stderr, "cnn_fashion: setup: %s\n", nb_last_error());
        rc = 1;
        goto done;
    }
    if (dd)
        ex_dist_attach(dd, net, opt, &train, a->batch, a->seed);
    /* every layer's output for one 28x28x1 image, as in notes 001 (32x28x28 = 25,088, ...) */
    if (nb_module_summary_shapes(net, stdout, NB_F32, NB_SHAPE(1, 1, 28, 28)) != NB_OK) {
        fprintf(stderr, "cnn_fashion: shapes: %s\n", nb_last_error());
        rc = 1;
        goto done;
    }
    printf("optimizer: %s, lr %g%s, batch %lld, %d thread(s)\n", nb_optim_name(opt), a->lr,
           a->sgd ? ", momentum 0.9" : "", (long long)a->batch, a->threads);

    double first_loss = NAN, last_loss = NAN, total_time = 0, acc = NAN;
    for (int e = 1; e <= a->epochs; e++) {
        char label[32];
        snprintf(label, sizeof label, "epoch %d/%d", e, a->epochs);
        ex_cnn_epoch r;
        if (dd) {
            ex_dist_epoch de = ex_dist_train_epoch(dd, step, label, e - 1, NULL);
            r = (ex_cnn_epoch){de.mean_loss, de.first_loss, de.train_acc, de.seconds, de.n_samples};
        } else if (ex_cnn_train_epoch(net, opt, it, step, label, &r) != NB_OK) {
            fprintf(stderr, "cnn_fashion: training: %s\n", nb_last_error());
            rc = 1;
            goto done;
        }
        if (e == 1)
            first_loss = r.first_loss;
        last_loss = r.mean_loss;
        total_time += r.seconds;
        acc = ex_dist_rank(dd) == 0 ? ex_cnn_accuracy(net, &test, 500, step) : 0;
        ex_dist_share(dd, &acc, 1); /* rank 0 evaluates */
        printf("epoch %d: loss %.4f, train accuracy %.2f%%, test accuracy %.2f%%, %.1f s "
               "(%.0f images/s)\n",
               e, r.mean_loss, 100 * r.train_acc, 100 * acc, r.seconds,
               (double)r.n_samples / r.seconds);
        fflush(stdout);
        nb_curves_add(curves, "train loss", e, r.mean_loss);
        nb_curves_add(curves, "train accuracy", e, r.train_acc);
        nb_curves_add(curves, "test accuracy", e, acc);
    }
    if (dd)
        ex_dist_report(dd);
    printf("final test accuracy %.2f%% after %d epoch(s), %.1f s per epoch\n", 100 * acc, a->epochs,
           total_time / a->epochs);
    printf("loss: first batch %.4f, last epoch mean %.4f\n", first_loss, last_loss);

    char csv[4096], png[4096];
    snprintf(csv, sizeof csv, "%s_curves.csv", a->out);
    snprintf(png, sizeof png, "%s_curves.png", a->out);
    if (ex_dist_rank(dd) == 0 &&
        (nb_curves_write_csv(curves, csv) != NB_OK ||
         nb_curves_write_png(curves, png,
                             &(nb_plot_opts){.title = "CNN on Fashion-MNIST", .xlabel = "epoch"}) !=
             NB_OK)) {
        fprintf(stderr, "cnn_fashion: %s\n", nb_last_error());
        rc = 1;
        goto done;
    }
    printf("wrote %s and %s\n", csv, png);
    if (write_feature_pngs(net, &test, a->out) != NB_OK) {
        fprintf(stderr, "cnn_fashion: feature maps: %s\n", nb_last_error());
        rc = 1;
        goto done;
    }
    if (a->check) {
        const bool dropped = last_loss < first_loss;
        printf("check: loss dropped from %.4f to %.4f: %s\n", first_loss, last_loss,
               dropped ? "ok" : "FAILED");
        rc = dropped ? 0 : 1;
    }
done:
    nb_curves_free(curves);
    nb_step_free(step);
    nb_batcher_free(it);
    nb_optim_free(opt);
    nb_module_free(net);
    nb_dataset_deinit(&train);
    nb_dataset_deinit(&test);
    return dd ? ex_dist_finish(dd, rc) : rc;
}

int main(int argc, char **argv)
{
    args a;
    if (parse(argc, argv, &a) != 0)
        return 2;
    return run(&a);
}
