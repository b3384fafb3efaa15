/* examples/denoising_ae.c — a denoising autoencoder (Vincent et al. 2008): the input is
 * corrupted (masking noise, Gaussian noise or salt-and-pepper), the target is the clean image.
 *
 *   784 -> 256 -> 64 -> 256 -> 784, ReLU inside, sigmoid output, MSE(model(corrupt(x)), x), Adam
 *
 * After each epoch it prints the denoising error on test images corrupted with a fixed seed
 * beside the error of the corrupted images themselves (a model that returned its input would
 * score that). Writes PREFIX_denoise.png (rows: clean, corrupted, denoised) and the loss curves
 * PREFIX_loss.png / .csv. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/cli.h"
#include "common/unsup.h"
#include "nabla.h"

static const ex_program PROG = {
    .name = "denoising_ae",
    .notes = "notes 000 (overview) and 001 (slides), autoencoders: removing noise (\"limpieza de "
             "imágenes\")",
    .summary = "denoising autoencoder: corrupted input, clean target",
    .details =
        "--noise mask: each pixel set to 0 with probability --level; gaussian: add N(0,\n"
        "level^2) and clamp to [0, 1]; saltpepper: each pixel set to 0 or 1 with probability\n"
        "--level. Data as in autoencoder (--data DIR, --synthetic, --limit).\n"
        "--check exits with status 1 unless the test denoising error fell below --check-ratio\n"
        "times its value before training.\n",
};

typedef struct noise {
    int kind; /* 0 mask, 1 gaussian, 2 salt and pepper */
    double level;
    nb_rng rng, eval_seed_rng;
    bool fixed; /* evaluation: reseed so every evaluation sees the same corruption */
} noise;

static nb_tensor *corrupt(nb_tensor *x, noise *n, nb_rng *rng)
{
    switch (n->kind) {
    case 0:
        return nb_corrupt_mask(x, n->level, rng);
    case 1:
        return nb_corrupt_gaussian(x, n->level, 0.0, 1.0, rng);
    default:
        return nb_corrupt_salt_pepper(x, n->level, 0.0, 1.0, rng);
    }
}

/* Training: a fresh corruption per batch. Evaluation: the eval rng (reset by the caller). */
static nb_tensor *denoise_loss(nb_module *model, const nb_batch *b, bool train, void *user)
{
    nb_tensor *x = b->x;
    noise *n = user;
    nb_tensor *xc = corrupt(x, n, train ? &n->rng : &n->eval_seed_rng);
    return nb_mse(nb_module_forward(model, xc), x, NB_REDUCE_MEAN);
}

/* The error of the corrupted input itself, MSE(corrupt(x), x). */
static nb_tensor *identity_loss(nb_module *model, const nb_batch *b, bool train, void *user)
{
    nb_tensor *x = b->x;
    (void)model, (void)train;
    noise *n = user;
    return nb_mse(corrupt(x, n, &n->eval_seed_rng), x, NB_REDUCE_MEAN);
}

int main(int argc, char **argv)
{
    int epochs = 10, batch = 64, limit = 0, test_limit = 0, show = 10;
    double lr = 1e-3, level = 0.3, check_ratio = 0.9;
    uint64_t seed = 1;
    bool synthetic = false, check = false;
    const char *data = NULL, *out = "denoising_ae", *kind = "mask";
    ex_opt opts[] = {
        {"noise", EX_OPT_STRING, &kind, "corruption: mask, gaussian or saltpepper"},
        {"level", EX_OPT_DOUBLE, &level, "probability (mask, saltpepper) or std (gaussian)"},
        {"epochs", EX_OPT_INT, &epochs, "passes over the training images"},
        {"batch", EX_OPT_INT, &batch, "minibatch size"},
        {"lr", EX_OPT_DOUBLE, &lr, "Adam learning rate"},
        {"limit", EX_OPT_INT, &limit, "use only the first N training images (0: all)"},
        {"test-limit", EX_OPT_INT, &test_limit, "use only the first N test images (0: all)"},
        {"data", EX_OPT_STRING, &data, "directory with MNIST-format IDX files"},
        {"synthetic", EX_OPT_FLAG, &synthetic, "generated images instead of a dataset"},
        {"show", EX_OPT_INT, &show, "test images in the PNG"},
        {"out", EX_OPT_STRING, &out, "prefix of the output files"},
        {"seed", EX_OPT_U64, &seed, "seed of weights, batches and noise"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless the test denoising error drops"},
        {"check-ratio", EX_OPT_DOUBLE, &check_ratio, "required final/initial error ratio"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    noise nz = {.level = level, .rng = nb_rng_seed(seed + 1)};
    if (!strcmp(kind, "mask"))
        nz.kind = 0;
    else if (!strcmp(kind, "gaussian"))
        nz.kind = 1;
    else if (!strcmp(kind, "saltpepper"))
        nz.kind = 2;
    else
        return ex_usage_error(&PROG, "--noise must be mask, gaussian or saltpepper, got '%s'",
                              kind);
    if (epochs < 1 || batch < 1 || limit < 0 || test_limit < 0 || show < 1 || !(lr > 0) ||
        !(level >= 0) || (nz.kind != 1 && level > 1))
        return ex_usage_error(&PROG, "a value is out of range (--level: a probability in [0, 1] "
                                     "for mask and saltpepper, a std >= 0 for gaussian)");

    ex_images d;
    if (!ex_images_load(PROG.name, data, synthetic, limit, test_limit, seed, &d))
        return 1;
    printf("denoising_ae: %s, %lld training and %lld test images, noise %s at %g\n", d.source,
           (long long)nb_dataset_size(&d.train), (long long)nb_dataset_size(&d.test), kind, level);
    nb_rng rng = nb_rng_seed(seed);
    nb_module *ae = nb_autoencoder_new(3, (int64_t[]){784, 256, 64}, NULL, &rng);
    nb_adam_opts ao = nb_adam_defaults();
    ao.lr = lr;
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
    const uint64_t eval_seed = seed + 1000;
    nz.eval_seed_rng = nb_rng_seed(eval_seed);
    double noisy = ex_evaluate(PROG.name, ae, &d.test, 256, step, identity_loss, &nz);
    nz.eval_seed_rng = nb_rng_seed(eval_seed);
    double initial = ex_evaluate(PROG.name, ae, &d.test, 256, step, denoise_loss, &nz);
    if (isnan(noisy) || isnan(initial)) {
        rc = 1;
        goto done;
    }
    printf("test MSE of the corrupted images themselves: %.5f\n", noisy);
    printf("test denoising MSE before training %.5f\n", initial);
    int64_t gstep = 0;
    double test = initial;
    for (int e = 1; e <= epochs; e++) {
        char label[32];
        snprintf(label, sizeof label, "epoch %d/%d", e, epochs);
        double tr = ex_train_epoch(PROG.name, ae, opt, it, step, denoise_loss, &nz, label, curves,
                                   "train_loss", &gstep);
        nz.eval_seed_rng = nb_rng_seed(eval_seed);
        test = isnan(tr) ? NAN : ex_evaluate(PROG.name, ae, &d.test, 256, step, denoise_loss, &nz);
        if (isnan(test)) {
            rc = 1;
            goto done;
        }
        nb_curves_add(curves, "test_loss", (double)gstep, test);
        printf("epoch %3d/%d  train loss %.5f  test denoising MSE %.5f  (corrupted input %.5f)\n",
               e, epochs, tr, test, noisy);
    }

    char path[1024];
    nb_tensor *x = ex_first_rows(&d.test, show), *xc = NULL, *rec = NULL;
    if (x) {
        nb_rng r = nb_rng_seed(eval_seed);
        xc = corrupt(x, &nz, &r); /* no step: caller-owned */
        rec = ex_forward_copy(ae, xc);
    }
    if (!rec ||
        !ex_write_rows_png(PROG.name, ex_path(path, sizeof path, out, "_denoise.png"),
                           (nb_tensor *[]){x, xc, rec}, 3, "Denoising autoencoder",
                           (const char *const[]){"clean", "corrupted", "denoised"},
                           "the network sees the corrupted row, is trained towards the clean one"))
        rc = 1;
    else
        printf("wrote %s (rows: clean, corrupted, denoised)\n", path);
    nb_tensor_free(x);
    nb_tensor_free(xc);
    nb_tensor_free(rec);
    nb_plot_opts po = {.title = "denoising autoencoder", .ylabel = "MSE", .log_y = true};
    if (nb_curves_write_csv(curves, ex_path(path, sizeof path, out, "_loss.csv")) != NB_OK ||
        nb_curves_write_png(curves, ex_path(path, sizeof path, out, "_loss.png"), &po) != NB_OK) {
        fprintf(stderr, "%s: writing curves: %s\n", PROG.name, nb_last_error());
        rc = 1;
    }
    printf("test denoising MSE: %.5f before training, %.5f after %d epochs (corrupted input "
           "%.5f)\n",
           initial, test, epochs, noisy);
    if (check && !(test < check_ratio * initial)) {
        printf("check failed: the denoising error did not drop below %.2f x its initial value\n",
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
