/* examples/autoencoder.c — the course's stacked autoencoder on Fashion-MNIST.
 *
 *   encoder 784-128-64-36-18-9 (ReLU between layers, linear 9-d code)
 *   decoder 9-18-36-64-128-784 (ReLU between layers, sigmoid output)
 *   loss: mean squared error between the image and its reconstruction; Adam; batch 32
 *
 * The course trains with Adam at lr 1e-1 and weight_decay 1e-8 (notes 004, 7.2; --lr 1e-1
 * --weight-decay 1e-8 reproduces it). At that step size the network collapses: every
 * reconstruction becomes the same average image. The program detects this after training:
 * the reconstructions of different test images barely differ, and the test MSE equals the
 * pixel variance of the test images (the MSE of answering their mean image for all of them).
 * It then says so and names the setting that avoids it; the default lr 1e-3 learns
 * recognisable reconstructions.
 * Writes PREFIX_recon.png (test images above their reconstructions), PREFIX_loss.png and
 * PREFIX_loss.csv (training loss per step, test loss per epoch). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        "Reproduces notes 004, 7.2 (the stacked autoencoder of the PyTorch code). The notes'\n"
        "settings are --lr 1e-1 --weight-decay 1e-8 (20 epochs, batch 32); with them the\n"
        "network collapses to one average image for every input, which the program detects\n"
        "and reports after training (the default --lr 1e-3 avoids it).\n"
        "--sizes A,B,... prints, without training, the plan of notes 002 (\"Plantea esquema\n"
        "para 6 entradas y capa de 4 procesadores\", \"el proceso para la red de 5 capas\n"
        "ocultas\"): the stacked autoencoder and its layer-wise pretraining stages.\n"
        "--check exits with status 1 if the network collapsed or the final test loss is not\n"
        "below --check-ratio times the test loss before training.\n",
};

/* Mean over the 784 pixels of each pixel's variance across the rows of x [N, 784]: the MSE of
 * answering the mean row for every row. */
static double pixel_variance(nb_tensor *x)
{
    const int64_t n = nb_tensor_dim(x, 0), p = nb_tensor_dim(x, 1);
    const float *v = nb_tensor_data_f32(x);
    double total = 0.0;
    for (int64_t j = 0; j < p; j++) {
        double mean = 0.0, sq = 0.0;
        for (int64_t i = 0; i < n; i++)
            mean += v[i * p + j];
        mean /= (double)n;
        for (int64_t i = 0; i < n; i++)
            sq += (v[i * p + j] - mean) * (v[i * p + j] - mean);
        total += sq / (double)n;
    }
    return total / (double)p;
}

/* Below this fraction of the images' own spread, the reconstructions count as one image. */
#define COLLAPSE_SPREAD 0.01

/* A layer output whose variance across images is below this is constant: zero, up to the last
 * bits of a sigmoid saturated at 1 (float's spacing there is 6e-8, a variance of ~1e-15). */
#define CONSTANT_VARIANCE 1e-12

/* Pass x through the encoder's and decoder's layers one by one and find the first layer whose
 * output is the same for every row of x (a ReLU layer with all units at 0, or a sigmoid
 * saturated at 0 or 1): nothing before it reaches the output, and no gradient flows back
 * through it, so training cannot undo it. Writes its name ("encoder.7") and kind to `where`
 * and returns its width; 0 when no layer is constant, -1 on an error. */
static int64_t find_constant_layer(nb_module *ae, nb_tensor *x, char *where, size_t size)
{
    nb_module *halves[2] = {nb_autoencoder_encoder(ae), nb_autoencoder_decoder(ae)};
    nb_tensor *h = nb_tensor_copy(x);
    int64_t width = 0;
    for (int k = 0; k < 2 && h && !width; k++)
        for (int c = 0; c < nb_module_num_children(halves[k]) && h && !width; c++) {
            nb_module *layer = nb_module_child_at(halves[k], c);
            nb_tensor *next = ex_forward_copy(layer, h);
            nb_tensor_free(h);
            h = next;
            if (h && pixel_variance(h) < CONSTANT_VARIANCE) {
                snprintf(where, size, "%s.%d (%s)", k ? "decoder" : "encoder", c,
                         nb_module_kind(layer));
                width = nb_tensor_dim(h, 1);
            }
        }
    if (!h)
        return -1;
    nb_tensor_free(h);
    return width;
}

/* After training: do the reconstructions of different test images differ? If they barely do,
 * the network answers one image whatever the input, and its MSE is (at least) the pixel variance
 * of the images. Prints what it found and why; returns 1 on a collapse, 0 otherwise, -1 on an
 * error. */
static int report_collapse(const nb_dataset *test, nb_module *ae, double test_loss, double lr)
{
    nb_tensor *x = ex_first_rows(test, nb_dataset_size(test));
    nb_tensor *rec = x ? ex_forward_copy(ae, x) : NULL;
    char where[64] = "";
    int64_t dead = rec ? find_constant_layer(ae, x, where, sizeof where) : -1;
    if (dead < 0 || !nb_tensor_data_f32(x) || !nb_tensor_data_f32(rec)) {
        fprintf(stderr, "autoencoder: collapse check: %s\n", nb_last_error());
        nb_tensor_free(x);
        nb_tensor_free(rec);
        return -1;
    }
    const double var_x = pixel_variance(x), spread = pixel_variance(rec);
    nb_tensor_free(x);
    nb_tensor_free(rec);
    printf("pixel variance of the test images %.5f (the MSE of answering their mean image);\n"
           "spread of the reconstructions across test images %.5f (%.1f%% of it)\n",
           var_x, spread, 100.0 * spread / var_x);
    if (!(spread < COLLAPSE_SPREAD * var_x))
        return 0;
    const double ratio = test_loss / var_x;
    printf("COLLAPSE: every reconstruction is (nearly) the same image whatever the input.\n");
    if (ratio < 1.1)
        printf("It is the average image: the test MSE %.5f equals the pixel variance %.5f of the\n"
               "test images (ratio %.3f), the error of answering their mean for all of them.\n",
               test_loss, var_x, ratio);
    else
        printf("It is not even the average image: the test MSE %.5f is %.2f times the pixel\n"
               "variance %.5f of the test images, the error of answering their mean.\n",
               test_loss, ratio, var_x);
    if (dead)
        printf("Cause: the %lld outputs of layer %s are the same for every test image (ReLU\n"
               "units all at 0, or a sigmoid saturated at 0 or 1), so the layers after it see a\n"
               "constant and no gradient flows back through it: training cannot recover. Adam's\n"
               "steps at lr %g were too large; train with --lr 1e-3 (the default) to get a\n"
               "reconstruction of each image.\n",
               (long long)dead, where, lr);
    else
        printf("No layer's output is constant, so the network has not yet learned to use its\n"
               "input: it learns the average image first. Train longer (--epochs) or on more\n"
               "images.\n");
    return 1;
}

/* --sizes: the stacked autoencoder of these widths and its layer-wise pretraining stages, each
 * a real module whose parameters the library counts. Exit status as main's. */
static int print_plan(const char *list)
{
    int64_t sizes[16];
    int n = 0;
    for (const char *p = list; *p && n < 16;) {
        char *end = NULL;
        long long v = strtoll(p, &end, 10);
        if (end == p || v < 1 || (*end && *end != ','))
            break;
        sizes[n++] = v;
        p = *end ? end + 1 : end;
        if (!*p && *end)
            n = 0; /* a trailing comma */
    }
    if (n < 2 || strspn(list, "0123456789,") != strlen(list)) {
        fprintf(stderr,
                "autoencoder: --sizes wants at least two positive widths A,B,... (got "
                "'%s')\n",
                list);
        return 2;
    }
    nb_rng rng = nb_rng_seed(1);
    nb_module *whole = nb_autoencoder_new(n, sizes, NULL, &rng);
    if (!whole) {
        fprintf(stderr, "autoencoder: %s\n", nb_last_error());
        return 1;
    }
    printf("plan for %s (notes 002, Autocodificadores)\n\nthe stacked autoencoder:\n  ", list);
    for (int i = 0; i < 2 * n - 1; i++)
        printf("%s%lld", i ? " - " : "", (long long)sizes[i < n ? i : 2 * n - 2 - i]);
    printf("   (%lld parameters: encoder %lld, decoder %lld)\n",
           (long long)nb_module_num_params(whole),
           (long long)nb_module_num_params(nb_autoencoder_encoder(whole)),
           (long long)nb_module_num_params(nb_autoencoder_decoder(whole)));
    nb_module_free(whole);
    printf(
        "\nlayer-wise pretraining: stage k trains a one-hidden-layer autoencoder on the code of\n"
        "the (frozen) stages below it, input perhaps corrupted, target the clean input; its\n"
        "encoder becomes layer k of the encoder, its decoder the mirrored decoder layer:\n");
    for (int k = 0; k + 1 < n; k++) {
        nb_module *stage = nb_autoencoder_new(2, sizes + k, NULL, &rng);
        if (!stage) {
            fprintf(stderr, "autoencoder: %s\n", nb_last_error());
            return 1;
        }
        printf("  stage %d: %lld - %lld - %lld on %s   %lld parameters\n", k + 1,
               (long long)sizes[k], (long long)sizes[k + 1], (long long)sizes[k],
               k ? "the code of the stages below" : "the inputs",
               (long long)nb_module_num_params(stage));
        nb_module_free(stage);
    }
    printf("then all layers are fine-tuned together (the encoder, or the encoder and a classifier\n"
           "on top, by stochastic gradient descent)\n");
    return 0;
}

int main(int argc, char **argv)
{
    int epochs = 20, batch = 32, limit = 0, test_limit = 0, show = 10;
    double lr = 1e-3, wd = 0.0, check_ratio = 0.9;
    uint64_t seed = 1;
    bool synthetic = false, check = false;
    const char *data = NULL, *out = "autoencoder", *plan = NULL;
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
        {"sizes", EX_OPT_STRING, &plan,
         "only print the plan for widths A,B,... (002: 6,4 or 1000,300,100,50,20,5)"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (plan)
        return print_plan(plan);
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
        double train_loss = ex_train_epoch(PROG.name, ae, opt, it, step, ex_loss_mse, NULL, label,
                                           curves, "train_loss", &gstep);
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
                           (nb_tensor *[]){x, rec}, 2, "Autoencoder 784-9-784: reconstructions",
                           (const char *const[]){"test image", "reconstruction"},
                           "first test images; pixel values 0 (black) to 1 (white)"))
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
    int collapse = report_collapse(&d.test, ae, test_loss, lr);
    if (collapse < 0) {
        rc = 1;
    } else if (check && collapse) {
        printf("check failed: the network collapsed to one output image\n");
        rc = 1;
    }
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
