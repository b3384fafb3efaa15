/* examples/cifar_cnn.c — the CIFAR-10 convolutional network of the course:
 *
 *   [N, 3, 32, 32] -> Conv2d 3->32 3x3 pad 1 -> ReLU -> Dropout 0.3
 *                  -> Conv2d 32->32 3x3 pad 1 -> ReLU -> MaxPool 2     -> [N, 32, 16, 16]
 *                  -> Flatten 8192 -> Linear 512 -> ReLU -> Dropout 0.5 -> Linear 10
 *
 * trained with cross-entropy and SGD (lr 0.001, momentum 0.9) on minibatches of 32, printing
 * "Epoch N: model accuracy X%" (test accuracy) after each epoch. Reads the binary version of
 * CIFAR-10 (data_batch_1.bin .. data_batch_5.bin, test_batch.bin) from --data DIR; --synthetic
 * trains on generated 32x32 colour images instead. */
#include <nabla.h>

#include "common/cli.h"
#include "common/images.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct args {
    const char *data, *out;
    bool synthetic, check;
    int limit, test_limit, batch, epochs, threads;
    double lr, momentum;
    uint64_t seed;
} args;

static const ex_program PROG = {
    .name = "cifar_cnn",
    .notes = "notes 004, 7.4.5: the CIFAR-10 CNN (lr 0.001, momentum 0.9, batch 32, n_epochs = 20)",
    .summary = "the course's CIFAR-10 CNN (conv 32, dropout 0.3, conv 32, max pool, FC 512, "
               "dropout 0.5, FC 10) trained with SGD, with the test accuracy after each epoch",
    .details = "Needs --data DIR (the CIFAR-10 binary version: DIR or DIR/cifar-10-batches-bin\n"
               "holds data_batch_1.bin .. data_batch_5.bin and test_batch.bin) or --synthetic.\n"
               "The notes' test loader reads the training split (DataLoader(trainset, ...)), a\n"
               "slip: here the accuracy is measured on the real test images (test_batch.bin).\n",
};

/* 0: run; else the exit status (0 after --help, 2 after a usage error). */
static int parse(int argc, char **argv, args *a, bool *stop)
{
    *a = (args){.out = "cifar_cnn",
                .batch = 32,
                .epochs = 20,
                .threads = 2,
                .lr = 0.001,
                .momentum = 0.9,
                .seed = 1};
    ex_opt opts[] = {
        {"data", EX_OPT_STRING, &a->data, "directory of the CIFAR-10 binary version"},
        {"synthetic", EX_OPT_FLAG, &a->synthetic,
         "train on generated 32x32 colour images (10 bar orientations): 512 training and 256 "
         "test images unless --limit says"},
        {"epochs", EX_OPT_INT, &a->epochs, "training epochs (20, as the notes)"},
        {"limit", EX_OPT_INT, &a->limit, "use only the first N training images (0: all)"},
        {"test-limit", EX_OPT_INT, &a->test_limit, "use only the first N test images (0: all)"},
        {"batch", EX_OPT_INT, &a->batch, "minibatch size"},
        {"lr", EX_OPT_DOUBLE, &a->lr, "learning rate"},
        {"momentum", EX_OPT_DOUBLE, &a->momentum, "SGD momentum"},
        {"threads", EX_OPT_INT, &a->threads, "worker threads"},
        {"seed", EX_OPT_U64, &a->seed, "seed of the initialisation, dropout and shuffling"},
        {"out", EX_OPT_STRING, &a->out, "write OUT_curves.csv and OUT_curves.png"},
        {"check", EX_OPT_FLAG, &a->check,
         "exit 1 unless the mean loss of the last epoch is below the loss of the first batch"},
    };
    *stop = true;
    ex_args_result r =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof *opts), argc, argv, NULL, NULL);
    if (r != EX_ARGS_RUN)
        return r == EX_ARGS_HELP ? 0 : 2;
    if (a->epochs < 1 || a->batch < 1 || a->limit < 0 || a->test_limit < 0 || !(a->lr > 0) ||
        !(a->momentum >= 0) || a->threads < 1)
        return ex_usage_error(&PROG, "--epochs, --batch, --threads must be >= 1, --lr > 0, "
                                     "--momentum, --limit and --test-limit >= 0");
    *stop = false;
    return 0;
}

static nb_module *build_net(nb_rng *rng, uint64_t seed)
{
    const nb_conv_layer_opts pad1 = {.conv = {.padding = NB_PAD_EXPLICIT,
                                              .pad_top = 1,
                                              .pad_bottom = 1,
                                              .pad_left = 1,
                                              .pad_right = 1}};
    return nb_sequential_new(
        11, (nb_module *[]){nb_conv2d_new(3, 32, 3, 3, &pad1, rng), nb_relu_new(),
                            nb_dropout_new(0.3, seed + 1), nb_conv2d_new(32, 32, 3, 3, &pad1, rng),
                            nb_relu_new(), nb_max_pool2d_new(2, 2, NULL), nb_flatten_new(),
                            nb_linear_new(32 * 16 * 16, 512, true, rng), nb_relu_new(),
                            nb_dropout_new(0.5, seed + 2), nb_linear_new(512, 10, true, rng)});
}

static int load(const args *a, nb_dataset *train, nb_dataset *test)
{
    if (a->synthetic) {
        const int64_t ntr = a->limit ? a->limit : 512, nte = a->test_limit ? a->test_limit : 256;
        if (ex_synthetic_images(ntr, 3, 32, a->seed + 100, NB_LAYOUT_NCHW, train) != NB_OK ||
            ex_synthetic_images(nte, 3, 32, a->seed + 200, NB_LAYOUT_NCHW, test) != NB_OK) {
            fprintf(stderr, "cifar_cnn: %s\n", nb_last_error());
            return 1;
        }
        return 0;
    }
    if (!a->data) {
        fprintf(stderr,
                "cifar_cnn: no data given. Download the CIFAR-10 binary version\n"
                "  (cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html),\n"
                "  unpack it and pass --data DIR, where DIR (or DIR/cifar-10-batches-bin) holds\n"
                "  data_batch_1.bin .. data_batch_5.bin and test_batch.bin.\n"
                "  Or run on generated images with --synthetic.\n");
        return 1;
    }
    nb_load_opts lt = {.layout = NB_LAYOUT_NCHW, .max_samples = a->limit};
    nb_load_opts le = {.layout = NB_LAYOUT_NCHW, .max_samples = a->test_limit};
    nb_status st = nb_cifar10_load(a->data, NB_SPLIT_TRAIN, &lt, train);
    if (st == NB_OK)
        st = nb_cifar10_load(a->data, NB_SPLIT_TEST, &le, test);
    if (st != NB_OK) {
        fprintf(stderr, "cifar_cnn: %s\n", nb_last_error());
        if (st == NB_ERR_IO)
            fprintf(stderr,
                    "cifar_cnn: put the CIFAR-10 binary version (data_batch_1.bin .. "
                    "data_batch_5.bin, test_batch.bin) in %s, or use --synthetic\n",
                    a->data);
        nb_dataset_deinit(train);
        return 1;
    }
    return 0;
}

static int run(const args *a)
{
    nb_set_num_threads(a->threads);
    nb_dataset train = {0}, test = {0};
    if (load(a, &train, &test) != 0)
        return 1;
    printf("data: %s, %lld training and %lld test images of [3, 32, 32]\n",
           a->synthetic ? "synthetic colour bars" : a->data, (long long)nb_dataset_size(&train),
           (long long)nb_dataset_size(&test));
    nb_rng rng = nb_rng_seed(a->seed);
    nb_module *net = build_net(&rng, a->seed);
    nb_sgd_opts so = nb_sgd_defaults();
    so.lr = a->lr;
    so.momentum = a->momentum;
    nb_optim *opt = net ? nb_sgd_new(net, &so) : NULL;
    nb_batcher *it = opt ? nb_batcher_new(&train, &(nb_batch_opts){.batch_size = a->batch,
                                                                   .shuffle = true,
                                                                   .seed = a->seed})
                         : NULL;
    nb_step *step = it ? nb_step_new() : NULL;
    nb_curves *curves = step ? nb_curves_new() : NULL;
    int rc = 0;
    if (!curves) {
        fprintf(stderr, "cifar_cnn: setup: %s\n", nb_last_error());
        rc = 1;
        goto done;
    }
    nb_module_summary(net, stdout);
    printf("SGD, lr %g, momentum %g, batch %lld, %d epoch(s), %d thread(s)\n", a->lr, a->momentum,
           (long long)a->batch, a->epochs, a->threads);
    double first_loss = NAN, last_loss = NAN, acc = NAN, total = 0;
    for (int e = 1; e <= a->epochs; e++) {
        char label[32];
        snprintf(label, sizeof label, "epoch %d/%d", e, a->epochs);
        nb_loop_result r, te;
        if (nb_train_epoch(net, opt, it, step, &(nb_loop_opts){.label = label}, &r) != NB_OK ||
            nb_evaluate(net, &test, step, &(nb_loop_opts){.batch_size = 250}, &te) != NB_OK) {
            fprintf(stderr, "cifar_cnn: training: %s\n", nb_last_error());
            rc = 1;
            goto done;
        }
        if (e == 1)
            first_loss = r.first_loss;
        last_loss = r.loss;
        total += r.seconds;
        acc = te.accuracy;
        printf("Epoch %d: model accuracy %.2f%%  (loss %.4f, train accuracy %.2f%%, %.1f s)\n", e,
               100 * acc, r.loss, 100 * r.accuracy, r.seconds);
        fflush(stdout);
        nb_curves_add(curves, "train loss", e, r.loss);
        nb_curves_add(curves, "test accuracy", e, acc);
    }
    printf("final: model accuracy %.2f%%, %.1f s per epoch; loss from %.4f (first batch) to %.4f "
           "(last epoch)\n",
           100 * acc, total / a->epochs, first_loss, last_loss);
    char csv[4096], png[4096];
    snprintf(csv, sizeof csv, "%s_curves.csv", a->out);
    snprintf(png, sizeof png, "%s_curves.png", a->out);
    if (nb_curves_write_csv(curves, csv) != NB_OK ||
        nb_curves_write_png(curves, png,
                            &(nb_plot_opts){.title = "CIFAR-10 CNN", .xlabel = "epoch"}) != NB_OK) {
        fprintf(stderr, "cifar_cnn: %s\n", nb_last_error());
        rc = 1;
        goto done;
    }
    printf("wrote %s and %s\n", csv, png);
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
    return rc;
}

int main(int argc, char **argv)
{
    args a;
    bool stop;
    const int rc = parse(argc, argv, &a, &stop);
    return stop ? rc : run(&a);
}
