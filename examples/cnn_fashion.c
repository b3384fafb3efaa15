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
 *   cnn_fashion --synthetic         generated images (no files needed)
 *   mpirun -np 2 cnn_fashion --dist data-parallel over 2 processes (nabla/dist.h): the same
 *                                   batches and results as one process
 *   cnn_fashion --target-accuracy 0.9 --epochs 10 --order-out order.npy
 *                                   time to accuracy: stop after the first epoch whose test
 *                                   accuracy reaches 90 %, print the seconds it took, and write
 *                                   every epoch's batch order for bench/twins/cnn_fashion.py */
#include <nabla.h>

#include "common/cli.h"
#include "common/dist_train.h"
#include "common/images.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct args {
    const char *data, *out, *order_out, *init_out;
    int limit, test_limit, batch, epochs, threads;
    double lr, target;
    bool synthetic, sgd, check, dist;
    uint64_t seed;
} args;

static const ex_program PROG = {
    .name = "cnn_fashion",
    .notes = "notes 001 (slides), CNN section: 28x28x1 -> 32 maps (25,088) -> pooled 6,272, and "
             "\"the first layer finds lines\"",
    .summary = "a small CNN (conv 32 - pool - conv 64 - pool - FC 128 - FC 10) on Fashion-MNIST, "
               "with the test accuracy after each epoch",
    .details =
        "Fashion-MNIST is read from $NB_FASHION_MNIST_DIR, else " NB_FASHION_MNIST_DEFAULT_DIR
        "\n(Debian: apt-get install dataset-fashion-mnist). Writes OUT_curves.csv/.png,\n"
        "OUT_kernels1.png and OUT_maps1/2.png. Under mpirun with --dist: the same batches\n"
        "and results as one process.\n"
        "\n"
        "Time to accuracy: with --target-accuracy A the test set is evaluated after each epoch\n"
        "(as always) and training stops after the first epoch whose test accuracy is >= A\n"
        "(--epochs is then the maximum; exit status 1 when it is not reached). The line\n"
        "\"target: ... in S s\" gives the wall-clock seconds from the start of the run (before\n"
        "the data is read) to the end of that evaluation: reading and scaling the data, the\n"
        "initialisation, training and every evaluation, all but process start-up and writing\n"
        "--order-out; the next line splits it into reading the data, training and evaluating.\n"
        "--order-out FILE writes the shuffled order of the training images of every epoch\n"
        "(the order the batches are cut from, 64 at a time by default) as a NumPy int64 array\n"
        "[epochs, N] (.npy): row e is epoch e+1's order of the indices 0..N-1. --init-out DIR\n"
        "writes the initial weights, one .npy per parameter, for the twin's --init-in (also\n"
        "not timed).\n",
};

/* 0: run; else the exit status (0 after --help, 2 after a usage error). */
static int parse(int argc, char **argv, args *a, bool *stop)
{
    *a = (args){.out = "cnn_fashion", .batch = 64, .epochs = 3, .threads = 2, .seed = 1};
    ex_opt opts[] = {
        {"data", EX_OPT_STRING, &a->data, "MNIST-format files in DIR (default: Fashion-MNIST)"},
        {"synthetic", EX_OPT_FLAG, &a->synthetic,
         "train on generated images (600 training, 200 test; no files needed)"},
        {"epochs", EX_OPT_INT, &a->epochs, "training epochs"},
        {"limit", EX_OPT_INT, &a->limit, "use only the first N training images (0: all)"},
        {"test-limit", EX_OPT_INT, &a->test_limit, "use only the first N test images (0: all)"},
        {"batch", EX_OPT_INT, &a->batch, "minibatch size"},
        {"lr", EX_OPT_DOUBLE, &a->lr, "learning rate (0: 0.001 for Adam, 0.01 for --sgd)"},
        {"sgd", EX_OPT_FLAG, &a->sgd, "SGD with momentum 0.9 instead of Adam"},
        {"threads", EX_OPT_INT, &a->threads, "worker threads"},
        {"seed", EX_OPT_U64, &a->seed, "seed of the initialisation and the shuffling"},
        {"out", EX_OPT_STRING, &a->out, "prefix of the files written"},
        {"check", EX_OPT_FLAG, &a->check,
         "exit 1 unless the mean loss of the last epoch is below the loss of the first batch"},
        {"dist", EX_OPT_FLAG, &a->dist,
         "data-parallel over the processes of mpirun (nabla/dist.h; --batch is the global "
         "batch); rank 0 prints and writes files"},
        {"target-accuracy", EX_OPT_DOUBLE, &a->target,
         "stop after the first epoch whose test accuracy is >= this fraction (e.g. 0.9) and "
         "print the seconds to reach it; --epochs is the maximum (0: off)"},
        {"order-out", EX_OPT_STRING, &a->order_out,
         "write each epoch's shuffled training order as an int64 .npy [epochs, N]"},
        {"init-out", EX_OPT_STRING, &a->init_out,
         "write the initial parameters to DIR/<name>.npy (an existing directory; names as "
         "PyTorch's nn.Sequential: 0.weight, ..., 9.bias)"},
    };
    *stop = true;
    ex_args_result r =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof *opts), argc, argv, NULL, NULL);
    if (r != EX_ARGS_RUN)
        return r == EX_ARGS_HELP ? 0 : 2;
    if (a->epochs < 1 || a->batch < 1 || a->limit < 0 || a->test_limit < 0 || a->lr < 0 ||
        a->threads < 1 || a->target < 0 || a->target > 1)
        return ex_usage_error(&PROG, "--epochs, --batch, --threads must be >= 1; --limit, "
                                     "--test-limit, --lr >= 0; --target-accuracy in [0, 1]");
    if (a->data && a->synthetic)
        return ex_usage_error(&PROG, "--data and --synthetic exclude each other");
    if (a->lr == 0)
        a->lr = a->sgd ? 0.01 : 0.001;
    *stop = false;
    return 0;
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

/* Every epoch's order of the n training images, as the training batcher (same seed) reads them:
 * the batch indices of a batcher with the same options over a stand-in dataset of n one-value
 * samples, written as an int64 .npy [epochs, n]. */
static nb_status write_order(const char *path, int64_t n, int epochs, const nb_batch_opts *bo)
{
    nb_tensor *t = nb_tensor_new(NB_I64, 2, (int64_t[]){epochs, n});
    nb_dataset stand_in = {.x = nb_tensor_zeros(NB_F32, 2, (int64_t[]){n, 1})};
    nb_batcher *it = t && stand_in.x ? nb_batcher_new(&stand_in, bo) : NULL;
    nb_status st = it ? NB_OK : nb_last_status();
    int64_t *v = it ? nb_tensor_data_i64(t) : NULL, at = 0;
    nb_batch b;
    for (int e = 0; st == NB_OK && e < epochs; e++) {
        while (nb_batcher_next(it, &b) && at + b.size <= (int64_t)(e + 1) * n) {
            memcpy(v + at, b.indices, (size_t)b.size * sizeof *v);
            at += b.size;
        }
        if (at != (int64_t)(e + 1) * n) {
            nb_set_error(NB_ERR_STATE, "write_order: epoch %d has %lld images, not %lld", e + 1,
                         (long long)(at - (int64_t)e * n), (long long)n);
            st = NB_ERR_STATE;
        }
    }
    if (st == NB_OK)
        st = nb_npy_save(path, t);
    nb_batcher_free(it);
    nb_dataset_deinit(&stand_in);
    nb_tensor_free(t);
    return st;
}

/* Every parameter of net as dir/<dotted name>.npy. */
static nb_status write_init(nb_module *net, const char *dir)
{
    nb_named_tensor ps[16];
    const int n = nb_module_named_params(net, ps, 16);
    if (n < 0 || n > 16)
        return n < 0 ? nb_last_status() : nb_set_error(NB_ERR_STATE, "%d parameters", n);
    for (int i = 0; i < n; i++) {
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s.npy", dir, ps[i].name) >= (int)sizeof path)
            return nb_set_error(NB_ERR_VALUE, "the path %s/... is too long", dir);
        const nb_status st = nb_npy_save(path, ps[i].tensor);
        if (st != NB_OK)
            return st;
    }
    return NB_OK;
}

static int run(const args *a)
{
    const double t_start = ex_seconds(); /* time to accuracy: from here, before the data */
    double t_excluded = 0;               /* writing --order-out and --init-out */
    nb_set_num_threads(a->threads);
    ex_dist *dd = NULL;
    if (a->dist && !(dd = ex_dist_start("cnn_fashion")))
        return 1;
    nb_dataset train = {0}, test = {0};
    const ex_data_opts dopts = {.dir = a->data,
                                .synthetic = a->synthetic,
                                .limit = a->limit,
                                .test_limit = a->test_limit,
                                .n_train = 600,
                                .n_test = 200,
                                .seed = 100,
                                .layout = NB_LAYOUT_NCHW};
    if (ex_load_images("cnn_fashion", &dopts, &train, &test, NULL, 0) != NB_OK)
        return dd ? ex_dist_finish(dd, 1) : 1;
    const double t_data = ex_seconds() - t_start;

    if (a->order_out && ex_dist_rank(dd) == 0) {
        const double t0 = ex_seconds();
        const int64_t n = nb_tensor_dim(train.x, 0);
        const nb_batch_opts bo = {.batch_size = a->batch, .shuffle = true, .seed = a->seed};
        if (write_order(a->order_out, n, a->epochs, &bo) != NB_OK) {
            fprintf(stderr, "cnn_fashion: --order-out %s: %s\n", a->order_out, nb_last_error());
            nb_dataset_deinit(&train);
            nb_dataset_deinit(&test);
            return dd ? ex_dist_finish(dd, 1) : 1;
        }
        printf("wrote %s: the order of the %lld training images in each of %d epoch(s), int64 "
               "[%d, %lld]\n",
               a->order_out, (long long)n, a->epochs, a->epochs, (long long)n);
        t_excluded = ex_seconds() - t0;
    }
    nb_rng rng = nb_rng_seed(a->seed);
    nb_module *net = build_net(&rng);
    if (net && a->init_out && ex_dist_rank(dd) == 0) {
        const double t0 = ex_seconds();
        if (write_init(net, a->init_out) != NB_OK) {
            fprintf(stderr, "cnn_fashion: --init-out %s: %s\n", a->init_out, nb_last_error());
            nb_module_free(net);
            nb_dataset_deinit(&train);
            nb_dataset_deinit(&test);
            return dd ? ex_dist_finish(dd, 1) : 1;
        }
        printf("wrote the initial parameters to %s/<name>.npy\n", a->init_out);
        t_excluded += ex_seconds() - t0;
    }
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

    double first_loss = NAN, last_loss = NAN, total_time = 0, eval_time = 0, acc = NAN;
    int epochs = 0;
    bool reached = false;
    for (int e = 1; e <= a->epochs && !reached; e++) {
        char label[32];
        snprintf(label, sizeof label, "epoch %d/%d", e, a->epochs);
        nb_loop_result r, te = {.accuracy = 0};
        if (dd) {
            r = ex_dist_train_epoch(dd, step, label, e - 1, NULL);
        } else if (nb_train_epoch(net, opt, it, step, &(nb_loop_opts){.label = label}, &r) !=
                   NB_OK) {
            fprintf(stderr, "cnn_fashion: training: %s\n", nb_last_error());
            rc = 1;
            goto done;
        }
        if (e == 1)
            first_loss = r.first_loss;
        last_loss = r.loss;
        total_time += r.seconds;
        if (ex_dist_rank(dd) == 0 &&
            nb_evaluate(net, &test, step, &(nb_loop_opts){.batch_size = 500}, &te) != NB_OK) {
            fprintf(stderr, "cnn_fashion: evaluation: %s\n", nb_last_error());
            rc = 1;
            goto done;
        }
        acc = te.accuracy;
        eval_time += te.seconds;
        ex_dist_share(dd, &acc, 1); /* rank 0 evaluates */
        printf("epoch %d: loss %.4f, train accuracy %.2f%%, test accuracy %.2f%%, %.1f s "
               "(%.0f images/s)\n",
               e, r.loss, 100 * r.accuracy, 100 * acc, r.seconds, (double)r.samples / r.seconds);
        fflush(stdout);
        nb_curves_add(curves, "train loss", e, r.loss);
        nb_curves_add(curves, "train accuracy", e, r.accuracy);
        nb_curves_add(curves, "test accuracy", e, acc);
        epochs = e;
        if (a->target > 0 && acc >= a->target) {
            reached = true;
            printf("target: test accuracy %.2f%% >= %.2f%% after epoch %d in %.2f s (from "
                   "before reading the data to the end of that evaluation; %.2f s writing the "
                   "order and initial weights excluded)\n",
                   100 * acc, 100 * a->target, e, ex_seconds() - t_start - t_excluded, t_excluded);
            printf("target: of which %.2f s reading the data, %.2f s training, %.2f s evaluating\n",
                   t_data, total_time, eval_time);
            fflush(stdout);
        }
    }
    if (a->target > 0 && !reached)
        printf("target: test accuracy %.2f%% not reached in %d epoch(s) (last %.2f%%)\n",
               100 * a->target, a->epochs, 100 * acc);
    if (dd)
        ex_dist_report(dd);
    printf("final test accuracy %.2f%% after %d epoch(s), %.1f s per epoch\n", 100 * acc, epochs,
           total_time / epochs);
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
    if (a->target > 0 && !reached)
        rc = 1;
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
    bool stop;
    const int rc = parse(argc, argv, &a, &stop);
    return stop ? rc : run(&a);
}
