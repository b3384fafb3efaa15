/* examples/autoencoder.c — the course's stacked autoencoder on Fashion-MNIST.
 *
 *   encoder 784-128-64-36-18-9 (ReLU between layers, linear 9-d code)
 *   decoder 9-18-36-64-128-784 (ReLU between layers, sigmoid output)
 *   loss: mean squared error between the image and its reconstruction; Adam; batch 32
 *
 * The course trains with Adam at lr 1e-1 and weight_decay 1e-8 (--lr 1e-1 --weight-decay 1e-8
 * reproduces it: at that step size the network usually collapses to predicting an average
 * image, which is the lesson); the default lr 1e-3 learns recognisable reconstructions.
 * Writes PREFIX_recon.png (test images above their reconstructions), PREFIX_loss.png and
 * PREFIX_loss.csv (training loss per step, test loss per epoch). */
#include <math.h>
#include <stdio.h>

#include "common/cli.h"
#include "common/unsup.h"
#include "nabla.h"

static const ex_program PROG = {
    .name = "autoencoder",
    .summary = "stacked autoencoder 784-128-64-36-18-9 (mirrored decoder) trained with Adam",
    .details =
        "Data: Fashion-MNIST from Debian's dataset-fashion-mnist package; --data DIR reads\n"
        "MNIST-format files (train-images-idx3-ubyte[.gz], ...) from DIR instead, --synthetic\n"
        "generates images (no files needed). --limit / --test-limit keep the first N images.\n"
        "Prints the test loss before training and the train/test loss after every epoch.\n"
        "The course's settings are --lr 1e-1 --weight-decay 1e-8 (20 epochs, batch 32).\n"
        "--check exits with status 1 unless the final test loss is below --check-ratio times\n"
        "the test loss before training.\n",
};

int main(int argc, char **argv)
{
    int epochs = 20, batch = 32, limit = 0, test_limit = 0, show = 10;
    double lr = 1e-3, wd = 0.0, check_ratio = 0.9;
    uint64_t seed = 1;
    bool synthetic = false, check = false;
    const char *data = NULL, *out = "autoencoder";
    ex_opt opts[] = {
        {"epochs", EX_OPT_INT, &epochs, "passes over the training images"},
        {"batch", EX_OPT_INT, &batch, "minibatch size"},
        {"lr", EX_OPT_DOUBLE, &lr, "Adam learning rate (the course uses 1e-1)"},
        {"weight-decay", EX_OPT_DOUBLE, &wd, "Adam L2 weight decay (the course uses 1e-8)"},
        {"limit", EX_OPT_INT, &limit, "use only the first N training images (0: all)"},
        {"test-limit", EX_OPT_INT, &test_limit, "use only the first N test images (0: all)"},
        {"data", EX_OPT_STRING, &data, "directory with MNIST-format IDX files"},
        {"synthetic", EX_OPT_FLAG, &synthetic, "generated images instead of a dataset"},
        {"show", EX_OPT_INT, &show, "test images in the reconstruction PNG"},
        {"out", EX_OPT_STRING, &out, "prefix of the output files"},
        {"seed", EX_OPT_U64, &seed, "seed of the weights and the batch order"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless the test loss drops"},
        {"check-ratio", EX_OPT_DOUBLE, &check_ratio, "required final/initial test-loss ratio"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (epochs < 1 || batch < 1 || limit < 0 || test_limit < 0 || show < 1 || !(lr > 0) || wd < 0)
        return ex_usage_error(&PROG, "need --epochs/--batch/--show >= 1, --limit/--test-limit "
                                     ">= 0, --lr > 0, --weight-decay >= 0");

    ex_images d;
    if (!ex_images_load(PROG.name, data, synthetic, limit, test_limit, seed, &d))
        return 1;
    printf("autoencoder: %s, %lld training and %lld test images\n", d.source,
           (long long)nb_dataset_size(&d.train), (long long)nb_dataset_size(&d.test));

    nb_rng rng = nb_rng_seed(seed);
    const int64_t sizes[6] = {784, 128, 64, 36, 18, 9};
    nb_module *ae = nb_autoencoder_new(6, sizes, NULL, &rng);
    nb_adam_opts ao = nb_adam_defaults();
    ao.lr = lr;
    ao.weight_decay = wd;
    nb_optim *opt = ae ? nb_adam_new(ae, &ao) : NULL;
    nb_batcher *it = nb_batcher_new(
        &d.train, &(nb_batch_opts){.batch_size = batch, .shuffle = true, .seed = seed});
    nb_step *step = nb_step_new();
    nb_curves *curves = nb_curves_new();
    int rc = 0;
    if (!ae || !opt || !it || !step || !curves) {
        fprintf(stderr, "%s: setup: %s\n", PROG.name, nb_last_error());
        rc = 1;
        goto done;
    }
    nb_module_summary(ae, stdout);
    printf("Adam lr %g, weight decay %g, batch %d, %d epochs, seed %llu\n", lr, wd, batch, epochs,
           (unsigned long long)seed);

    double initial = ex_evaluate(PROG.name, ae, &d.test, 256, step, ex_loss_mse, NULL);
    if (isnan(initial)) {
        rc = 1;
        goto done;
    }
    printf("test loss before training %.5f\n", initial);
    int64_t gstep = 0;
    double test_loss = initial;
    nb_curves_add(curves, "test_loss", 0.0, initial);
    for (int e = 1; e <= epochs; e++) {
        char label[32];
        snprintf(label, sizeof label, "epoch %d/%d", e, epochs);
        nb_progress *bar = nb_progress_new(label, nb_batcher_num_batches(it), NULL);
        double train_loss = ex_train_epoch(PROG.name, ae, opt, it, step, ex_loss_mse, NULL, bar,
                                           curves, "train_loss", &gstep);
        nb_progress_finish(bar);
        nb_progress_free(bar);
        if (isnan(train_loss)) {
            rc = 1;
            goto done;
        }
        test_loss = ex_evaluate(PROG.name, ae, &d.test, 256, step, ex_loss_mse, NULL);
        if (isnan(test_loss)) {
            rc = 1;
            goto done;
        }
        nb_curves_add(curves, "test_loss", (double)gstep, test_loss);
        printf("epoch %3d/%d  train loss %.5f  test loss %.5f\n", e, epochs, train_loss, test_loss);
    }

    /* Reconstructions of the first test images. */
    char path[1024];
    nb_tensor *x = ex_first_rows(&d.test, show);
    nb_tensor *rec = x ? ex_forward_copy(ae, x) : NULL;
    if (!x || !rec ||
        !ex_write_rows_png(PROG.name, ex_path(path, sizeof path, out, "_recon.png"),
                           (nb_tensor *[]){x, rec}, 2))
        rc = 1;
    else
        printf("wrote %s (top: test images, bottom: reconstructions)\n", path);
    nb_tensor_free(x);
    nb_tensor_free(rec);
    nb_plot_opts po = {
        .title = "stacked autoencoder", .xlabel = "step", .ylabel = "MSE", .log_y = true};
    if (nb_curves_write_csv(curves, ex_path(path, sizeof path, out, "_loss.csv")) != NB_OK ||
        nb_curves_write_png(curves, ex_path(path, sizeof path, out, "_loss.png"), &po) != NB_OK) {
        fprintf(stderr, "%s: writing curves: %s\n", PROG.name, nb_last_error());
        rc = 1;
    } else {
        printf("wrote %s_loss.png and %s_loss.csv\n", out, out);
    }
    printf("test loss: %.5f before training, %.5f after %d epochs (ratio %.3f)\n", initial,
           test_loss, epochs, test_loss / initial);
    if (check && !(test_loss < check_ratio * initial)) {
        printf("check failed: the test loss did not drop below %.2f x its initial value\n",
               check_ratio);
        rc = 1;
    }
done:
    nb_curves_free(curves);
    nb_step_free(step);
    nb_batcher_free(it);
    nb_optim_free(opt);
    nb_module_free(ae);
    ex_images_free(&d);
    return rc;
}
