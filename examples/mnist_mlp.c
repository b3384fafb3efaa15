/* examples/mnist_mlp.c — the classic: a multilayer perceptron 784-512-256-10 with ReLU, trained
 * with minibatch SGD with momentum on cross-entropy, on Fashion-MNIST (or any MNIST-format set).
 * Shows a progress bar per epoch, the test accuracy after each epoch, and writes the curves as
 * CSV and PNG. Checkpoints at each epoch end and resumes from them exactly.
 *
 *   mnist_mlp                              5 epochs on Fashion-MNIST (dataset-fashion-mnist)
 *   mnist_mlp --data DIR                   MNIST digits (or any MNIST-format files) in DIR
 *   mnist_mlp --checkpoint m.ckpt          save after every epoch ...
 *   mnist_mlp --checkpoint m.ckpt --resume ... and continue from it later
 *   mpirun -np 2 mnist_mlp --dist          data-parallel over 2 processes (nabla/dist.h): the
 *                                          same batches and results as one process */
#include "common/cli.h"
#include "common/dist_train.h"
#include "common/images.h"
#include <nabla.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const PROG = "mnist_mlp";

static nb_module *build_mlp(uint64_t seed)
{
    nb_rng rng = nb_rng_seed(seed);
    return nb_sequential_new(5, (nb_module *[]){nb_linear_new(784, 512, true, &rng), nb_relu_new(),
                                                nb_linear_new(512, 256, true, &rng), nb_relu_new(),
                                                nb_linear_new(256, 10, true, &rng)});
}

static void out_path(char *buf, size_t n, const char *dir, const char *file)
{
    snprintf(buf, n, "%s/%s", dir, file);
}

int main(int argc, char **argv)
{
    int epochs = 5, batch = 128, threads = 1, limit = 0;
    double lr = 0.05, momentum = 0.9, min_accuracy = 0;
    uint64_t seed = 1;
    const char *data = NULL, *checkpoint = NULL, *out_dir = ".";
    bool resume = false, check = false, synthetic = false, dist = false;
    ex_opt opts[] = {
        {"epochs", EX_OPT_INT, &epochs, "number of epochs (in all, counting resumed ones)"},
        {"lr", EX_OPT_DOUBLE, &lr, "learning rate"},
        {"momentum", EX_OPT_DOUBLE, &momentum, "SGD momentum"},
        {"batch", EX_OPT_INT, &batch, "minibatch size"},
        {"data", EX_OPT_STRING, &data, "directory of MNIST-format files (default: Fashion-MNIST)"},
        {"synthetic", EX_OPT_FLAG, &synthetic,
         "train on generated images (1000 training, 300 test; no files needed)"},
        {"limit", EX_OPT_INT, &limit, "train on the first N samples only (0: all)"},
        {"threads", EX_OPT_INT, &threads, "threads for the matrix products"},
        {"seed", EX_OPT_U64, &seed, "seed of the initialisation and the shuffling"},
        {"checkpoint", EX_OPT_STRING, &checkpoint, "save model and optimizer here every epoch"},
        {"resume", EX_OPT_FLAG, &resume, "continue from --checkpoint"},
        {"out-dir", EX_OPT_STRING, &out_dir,
         "where mnist_mlp_curve.csv and mnist_mlp_curve.png go"},
        {"check", EX_OPT_FLAG, &check,
         "exit with status 1 unless the training loss fell from the first to the last epoch "
         "and the final test accuracy is at least --min-accuracy"},
        {"min-accuracy", EX_OPT_DOUBLE, &min_accuracy, "for --check: lowest test accuracy (%)"},
        {"dist", EX_OPT_FLAG, &dist,
         "data-parallel over the processes of mpirun (--batch is the global batch); rank 0 "
         "prints and writes the files"},
    };
    const ex_program prog = {
        .name = PROG,
        .notes = "notes 001 (slides): the MNIST practical; notes 004 (notebook): funnel-shaped "
                 "hidden layers, ReLU, softmax output",
        .summary = "a 784-512-256-10 ReLU MLP trained with SGD + momentum on Fashion-MNIST",
        .details =
            "Fashion-MNIST is read from $NB_FASHION_MNIST_DIR, else " NB_FASHION_MNIST_DEFAULT_DIR
            "\n(Debian: apt-get install dataset-fashion-mnist). Each epoch prints\n"
            "\"epoch N: train loss X, test accuracy Y%\" and its time; the curves go to\n"
            "OUT-DIR/mnist_mlp_curve.csv and .png.\n",
    };
    ex_args_result r =
        ex_parse_args(&prog, opts, (int)(sizeof opts / sizeof *opts), argc, argv, NULL, NULL);
    if (r != EX_ARGS_RUN)
        return r == EX_ARGS_HELP ? 0 : 2;
    if (epochs < 1 || batch < 1 || threads < 1 || limit < 0 || lr <= 0 || momentum < 0)
        return ex_usage_error(&prog, "--epochs, --batch, --threads must be >= 1, --limit >= 0, "
                                     "--lr > 0, --momentum >= 0");
    if (resume && !checkpoint)
        return ex_usage_error(&prog, "--resume needs --checkpoint PATH");
    if (data && synthetic)
        return ex_usage_error(&prog, "--data and --synthetic exclude each other");
    nb_set_num_threads(threads);
    ex_dist *dd = NULL;
    if (dist && !(dd = ex_dist_start(PROG)))
        return 1;

    nb_dataset train, test;
    const ex_data_opts dopts = ex_data_rows(data, synthetic, limit, seed);
    if (ex_load_images(PROG, &dopts, &train, &test, NULL, 0) != NB_OK)
        return dd ? ex_dist_finish(dd, 1) : 1;

    int rc = 0;
    nb_module *net = build_mlp(seed);
    nb_sgd_opts so = nb_sgd_defaults();
    so.lr = lr;
    so.momentum = momentum;
    nb_optim *opt = net ? nb_sgd_new(net, &so) : NULL;
    nb_batcher *it = nb_batcher_new(
        &train, &(nb_batch_opts){.batch_size = batch, .shuffle = true, .seed = seed});
    nb_step *step = nb_step_new();
    nb_curves *curves = nb_curves_new();
    if (!net || !opt || !it || !step || !curves) {
        fprintf(stderr, "%s: setting up: %s\n", PROG, nb_last_error());
        rc = 1;
        goto done;
    }
    if (dd)
        ex_dist_attach(dd, net, opt, &train, batch, seed);
    nb_module_summary(net, stdout);
    printf("SGD: lr %g, momentum %g, batch %d, %lld batches per epoch, %d thread%s\n", lr, momentum,
           batch, (long long)nb_batcher_num_batches(it), threads, threads > 1 ? "s" : "");
    printf("GEMM: %s\n", nb_blas_info());

    int first_epoch = 0;
    if (resume) {
        if ((dd ? ex_dist_load(dd, checkpoint) : nb_checkpoint_load_model(checkpoint, net, opt)) !=
            NB_OK) {
            fprintf(stderr, "%s: cannot resume: %s\n", PROG, nb_last_error());
            rc = 1;
            goto done;
        }
        int64_t steps = nb_optim_update_count(opt), per_epoch = nb_batcher_num_batches(it);
        if (steps % per_epoch != 0) {
            fprintf(stderr,
                    "%s: %s holds %lld steps, not a whole number of epochs of %lld batches "
                    "(another --batch or --limit?)\n",
                    PROG, checkpoint, (long long)steps, (long long)per_epoch);
            rc = 1;
            goto done;
        }
        first_epoch = (int)(steps / per_epoch);
        /* replay the shuffles of the epochs already done, so the run continues exactly */
        nb_batch b;
        for (int e = 0; e < first_epoch; e++)
            while (nb_batcher_next(it, &b))
                ;
        printf("resumed from %s after %d epoch%s\n", checkpoint, first_epoch,
               first_epoch == 1 ? "" : "s");
    }

    double first_loss = NAN, last_loss = NAN, accuracy = NAN;
    for (int epoch = first_epoch; epoch < epochs; epoch++) {
        char label[32];
        snprintf(label, sizeof label, "epoch %d/%d", epoch + 1, epochs);
        nb_loop_result tr, te;
        if (dd)
            tr = ex_dist_train_epoch(dd, step, label, epoch, curves);
        else if (nb_train_epoch(
                     net, opt, it, step,
                     &(nb_loop_opts){.label = label, .curves = curves, .curve_x0 = epoch},
                     &tr) != NB_OK)
            tr.loss = NAN;
        const double loss = tr.loss, t_train = tr.seconds;
        double test_loss, eval[3] = {1, 0, 0}; /* {ok, accuracy, loss}: rank 0 evaluates */
        if (!isnan(loss) && !(dd && ex_dist_rank(dd) > 0)) {
            eval[0] = nb_evaluate(net, &test, step, NULL, &te) == NB_OK;
            eval[1] = te.accuracy;
            eval[2] = te.loss;
        }
        ex_dist_share(dd, eval, 3);
        accuracy = eval[1];
        test_loss = eval[2];
        if (isnan(loss) || !eval[0]) {
            fprintf(stderr, "%s: %s\n", PROG, nb_last_error());
            rc = 1;
            goto done;
        }
        char took[32], took_train[32];
        printf("epoch %d: train loss %.4f, test accuracy %.2f%% (test loss %.4f; %s, training "
               "%s)\n",
               epoch + 1, loss, 100 * accuracy, test_loss,
               nb_format_duration(t_train + te.seconds, took, sizeof took),
               nb_format_duration(t_train, took_train, sizeof took_train));
        fflush(stdout);
        if (isnan(first_loss))
            first_loss = loss;
        last_loss = loss;
        nb_curves_add(curves, "train_loss", epoch + 1, loss);
        nb_curves_add(curves, "test_loss", epoch + 1, test_loss);
        nb_curves_add(curves, "test_accuracy", epoch + 1, accuracy);
        if (checkpoint) {
            if ((dd ? ex_dist_save(dd, checkpoint)
                    : nb_checkpoint_save_model(checkpoint, net, opt)) != NB_OK) {
                fprintf(stderr, "%s: saving the checkpoint: %s\n", PROG, nb_last_error());
                rc = 1;
                goto done;
            }
            printf("  saved %s\n", checkpoint);
        }
    }

    if (dd)
        ex_dist_report(dd);
    if (nb_curves_num_points(curves, "train_loss") > 0) {
        char csv[4096], png[4096];
        out_path(csv, sizeof csv, out_dir, "mnist_mlp_curve.csv");
        out_path(png, sizeof png, out_dir, "mnist_mlp_curve.png");
        nb_plot_opts po = {.title = "mnist_mlp: 784-512-256-10, SGD + momentum", .xlabel = "epoch"};
        if (ex_dist_rank(dd) == 0 && (nb_curves_write_csv(curves, csv) != NB_OK ||
                                      nb_curves_write_png(curves, png, &po) != NB_OK)) {
            fprintf(stderr, "%s: writing the curves: %s\n", PROG, nb_last_error());
            rc = 1;
            goto done;
        }
        printf("wrote %s and %s\n", csv, png);
        printf("final test accuracy %.2f%%\n", 100 * accuracy);
    } else {
        printf("nothing to do: the checkpoint already has %d epochs (raise --epochs)\n",
               first_epoch);
    }
    if (check) {
        bool fell = nb_curves_num_points(curves, "train_loss") >= 2 && last_loss < first_loss;
        bool acc_ok = !(100 * accuracy < min_accuracy) && !isnan(accuracy);
        printf("check: training loss %.4f -> %.4f %s; test accuracy %.2f%% >= %.2f%% %s\n",
               first_loss, last_loss, fell ? "fell" : "DID NOT FALL", 100 * accuracy, min_accuracy,
               acc_ok ? "ok" : "FAILED");
        if (!fell || !acc_ok)
            rc = 1;
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
