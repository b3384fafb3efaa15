/* examples/softmax_regression.c — softmax regression on Fashion-MNIST: one Linear layer
 * 784 -> 10 (a linear classifier) trained with minibatch SGD + momentum on cross-entropy. The
 * baseline the MLP in mnist_mlp is measured against.
 *
 *   softmax_regression                 5 epochs on Fashion-MNIST (dataset-fashion-mnist)
 *   softmax_regression --data DIR      MNIST-format files in DIR */
#include "common/cli.h"
#include "common/images.h"
#include <nabla.h>

#include <math.h>
#include <stdio.h>

static const char *const PROG = "softmax_regression";

int main(int argc, char **argv)
{
    int epochs = 5, batch = 128, threads = 1, limit = 0;
    double lr = 0.01, momentum = 0.9, min_accuracy = 0;
    uint64_t seed = 1;
    const char *data = NULL;
    bool check = false, synthetic = false;
    ex_opt opts[] = {
        {"epochs", EX_OPT_INT, &epochs, "number of epochs"},
        {"lr", EX_OPT_DOUBLE, &lr, "learning rate"},
        {"momentum", EX_OPT_DOUBLE, &momentum, "SGD momentum"},
        {"batch", EX_OPT_INT, &batch, "minibatch size"},
        {"data", EX_OPT_STRING, &data, "directory of MNIST-format files (default: Fashion-MNIST)"},
        {"synthetic", EX_OPT_FLAG, &synthetic,
         "train on generated images (1000 training, 300 test; no files needed)"},
        {"limit", EX_OPT_INT, &limit, "train on the first N samples only (0: all)"},
        {"threads", EX_OPT_INT, &threads, "threads for the matrix products"},
        {"seed", EX_OPT_U64, &seed, "seed of the initialisation and the shuffling"},
        {"check", EX_OPT_FLAG, &check,
         "exit with status 1 unless the training loss fell from the first to the last epoch "
         "and the final test accuracy is at least --min-accuracy"},
        {"min-accuracy", EX_OPT_DOUBLE, &min_accuracy, "for --check: lowest test accuracy (%)"},
    };
    const ex_program prog = {
        .name = PROG,
        .notes = "notes 003 (introduction): softmax regression (3n weights for 3 classes)",
        .summary = "softmax regression (one Linear 784 -> 10) on Fashion-MNIST",
        .details =
            "Fashion-MNIST is read from $NB_FASHION_MNIST_DIR, else " NB_FASHION_MNIST_DEFAULT_DIR
            "\n(Debian: apt-get install dataset-fashion-mnist). Each epoch prints\n"
            "\"epoch N: train loss X, test accuracy Y%\" and its time.\n",
    };
    ex_args_result r =
        ex_parse_args(&prog, opts, (int)(sizeof opts / sizeof *opts), argc, argv, NULL, NULL);
    if (r != EX_ARGS_RUN)
        return r == EX_ARGS_HELP ? 0 : 2;
    if (epochs < 1 || batch < 1 || threads < 1 || limit < 0 || lr <= 0 || momentum < 0)
        return ex_usage_error(&prog, "--epochs, --batch, --threads must be >= 1, --limit >= 0, "
                                     "--lr > 0, --momentum >= 0");
    if (data && synthetic)
        return ex_usage_error(&prog, "--data and --synthetic exclude each other");
    nb_set_num_threads(threads);

    nb_dataset train, test;
    const ex_data_opts dopts = ex_data_rows(data, synthetic, limit, seed);
    if (ex_load_images(PROG, &dopts, &train, &test, NULL, 0) != NB_OK)
        return 1;
    int rc = 0;

    nb_rng rng = nb_rng_seed(seed);
    nb_module *net = nb_linear_new(784, 10, true, &rng);
    nb_sgd_opts so = nb_sgd_defaults();
    so.lr = lr;
    so.momentum = momentum;
    nb_optim *opt = net ? nb_sgd_new(net, &so) : NULL;
    nb_batcher *it = nb_batcher_new(
        &train, &(nb_batch_opts){.batch_size = batch, .shuffle = true, .seed = seed});
    nb_step *step = nb_step_new();
    if (!net || !opt || !it || !step) {
        fprintf(stderr, "%s: setting up: %s\n", PROG, nb_last_error());
        rc = 1;
        goto done;
    }
    printf("model: Linear 784 -> 10 (%lld weights); SGD lr %g, momentum %g, batch %d\n",
           (long long)nb_module_num_params(net), lr, momentum, batch);

    double first_loss = NAN, last_loss = NAN, accuracy = NAN;
    for (int epoch = 0; epoch < epochs; epoch++) {
        char label[32], took[32];
        snprintf(label, sizeof label, "epoch %d/%d", epoch + 1, epochs);
        nb_loop_result tr, te;
        if (nb_train_epoch(net, opt, it, step, &(nb_loop_opts){.label = label}, &tr) != NB_OK ||
            nb_evaluate(net, &test, step, NULL, &te) != NB_OK) {
            fprintf(stderr, "%s: %s\n", PROG, nb_last_error());
            rc = 1;
            goto done;
        }
        const double loss = tr.loss, test_loss = te.loss;
        accuracy = te.accuracy;
        printf("epoch %d: train loss %.4f, test accuracy %.2f%% (test loss %.4f; %s)\n", epoch + 1,
               loss, 100 * accuracy, test_loss,
               nb_format_duration(tr.seconds + te.seconds, took, sizeof took));
        fflush(stdout);
        if (epoch == 0)
            first_loss = loss;
        last_loss = loss;
    }
    printf("final test accuracy %.2f%%\n", 100 * accuracy);
    if (check) {
        bool fell = epochs >= 2 && last_loss < first_loss;
        bool acc_ok = !isnan(accuracy) && !(100 * accuracy < min_accuracy);
        printf("check: training loss %.4f -> %.4f %s; test accuracy %.2f%% >= %.2f%% %s\n",
               first_loss, last_loss, fell ? "fell" : "DID NOT FALL", 100 * accuracy, min_accuracy,
               acc_ok ? "ok" : "FAILED");
        if (!fell || !acc_ok)
            rc = 1;
    }
done:
    nb_step_free(step);
    nb_batcher_free(it);
    nb_optim_free(opt);
    nb_module_free(net);
    nb_dataset_deinit(&train);
    nb_dataset_deinit(&test);
    return rc;
}
