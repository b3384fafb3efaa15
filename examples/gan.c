/* examples/gan.c — a generative adversarial network (Goodfellow et al. 2014) of two MLPs on
 * Fashion-MNIST.
 *
 *   generator      z [N, Z] ~ N(0, I) -> Linear Z->H -> LeakyReLU 0.2 -> Linear H->784 -> sigmoid
 *   discriminator  x [N, 784] -> Linear 784->H -> LeakyReLU 0.2 -> Linear H->1 (logit of "real")
 *
 * Each minibatch makes one discriminator step on
 *     L_D = bce_with_logits(D(x), 1) + bce_with_logits(D(G(z)), 0)     (G(z) detached)
 * and one generator step on the non-saturating loss L_G = bce_with_logits(D(G(z')), 1), with
 * Adam (lr 2e-4, beta1 0.5) for each network and fresh z from a seeded nb_rng (the two steps:
 * nb_alternating_update inside nb_train_epoch). The same 10 fixed codes are decoded after every
 * epoch into one row of PREFIX_progress.png, so the rows show the samples over training;
 * PREFIX_samples.png holds 64 samples at the end, and the losses and D's mean outputs on real and
 * generated images are written as curves.
 *
 * --check compares 500 generated images with the training images: the distance between their
 * mean images must fall below --check-ratio times its value at initialisation, and the spread of
 * the samples (mean per-pixel standard deviation) must stay above a quarter of the data's (no
 * collapse to one image). */
#include <math.h>
#include <stdio.h>

#include "common/cli.h"
#include "common/images.h"
#include "common/unsup.h"
#include "common/util.h"
#include "nabla.h"

static const ex_program PROG = {
    .name = "gan",
    .summary = "generative adversarial network (MLP generator and discriminator) with sample "
               "grids over training",
    .notes = "no exercise of the notes: a model of current research (the notes' generative "
             "models are RBMs: rbm, dbn)",
    .details = "Generator Z-H-784 (sigmoid), discriminator 784-H-1 (logit), LeakyReLU 0.2,\n"
               "Adam lr 2e-4 beta1 0.5 for both, batch 64, non-saturating generator loss.\n"
               "Writes PREFIX_progress.png (10 fixed codes decoded after each epoch, one row\n"
               "per epoch), PREFIX_samples.png (64 samples), PREFIX_curves.csv/.png.\n"
               "Data: Fashion-MNIST (Debian's dataset-fashion-mnist, or --data DIR), or\n"
               "--synthetic. --check: the mean generated image must approach the data's mean\n"
               "image (distance below --check-ratio times the initial one) without collapse\n"
               "(sample spread above a quarter of the data's).\n"
               "Results measured on Fashion-MNIST: examples/README.md.\n",
};

/* RMS distance between the mean images of a [n, 784] and b [m, 784], and the mean per-pixel
 * standard deviation of a. */
static void compare(nb_tensor *a, nb_tensor *b, double *dist, double *spread)
{
    nb_eval_scope sc; /* no gradients; the intermediates are freed at the end */
    nb_eval_begin(&sc, NULL, NULL);
    nb_tensor *d = nb_sub(nb_mean(a, 0, false), nb_mean(b, 0, false));
    *dist = sqrt(nb_tensor_item(nb_mean_all(nb_square(d))));
    *spread = nb_tensor_item(nb_mean_all(nb_std(a, 1, (const int[]){0}, 0, false)));
    nb_eval_end(&sc);
}

static const char *const CURVES[4] = {"D loss", "G loss", "mean D(real)", "mean D(G(z))"};

/* What the two losses need besides their model: the other network, the codes' rng, and this
 * epoch's sums of D's mean outputs. */
typedef struct gan {
    nb_module *gen, *dis;
    nb_rng rng; /* the codes of training */
    int latent;
    double d_real, d_fake;
} gan;

/* The discriminator's loss bce(D(x), 1) + bce(D(G(z)), 0), G(z) detached; adds D's mean outputs
 * to the sums. */
static nb_tensor *d_loss(nb_module *dis, const nb_batch *b, bool train, void *user)
{
    (void)train;
    gan *g = user;
    nb_tensor *z = nb_rand_normal(NB_F32, NB_SHAPE(b->size, g->latent), &g->rng, 0, 1);
    nb_tensor *dr = nb_module_forward(dis, b->x);
    nb_tensor *df = nb_module_forward(dis, nb_detach(nb_module_forward(g->gen, z)));
    g->d_real += nb_tensor_item(nb_mean_all(nb_sigmoid(dr)));
    g->d_fake += nb_tensor_item(nb_mean_all(nb_sigmoid(df)));
    return nb_add(nb_bce_with_logits(dr, nb_ones_like(dr), NB_REDUCE_MEAN),
                  nb_bce_with_logits(df, nb_zeros_like(df), NB_REDUCE_MEAN));
}

/* The generator's non-saturating loss bce(D(G(z')), 1). */
static nb_tensor *g_loss(nb_module *gen, const nb_batch *b, bool train, void *user)
{
    (void)train;
    gan *g = user;
    nb_tensor *z = nb_rand_normal(NB_F32, NB_SHAPE(b->size, g->latent), &g->rng, 0, 1);
    nb_tensor *dg = nb_module_forward(g->dis, nb_module_forward(gen, z));
    return nb_bce_with_logits(dg, nb_ones_like(dg), NB_REDUCE_MEAN);
}

int main(int argc, char **argv)
{
    int latent = 64, hidden = 256, epochs = 10, batch = 64, limit = 0, threads = 2;
    double lr = 2e-4, check_ratio = 0.5;
    uint64_t seed = 1;
    const char *data_dir = NULL, *out = "gan";
    bool synthetic = false, check = false;
    ex_opt opts[] = {
        {"latent", EX_OPT_INT, &latent, "dimensions Z of the generator's input", "1.."},
        {"hidden", EX_OPT_INT, &hidden, "hidden units H of both networks", "1.."},
        {"epochs", EX_OPT_INT, &epochs, "training epochs", "1..100"},
        {"batch", EX_OPT_INT, &batch, "minibatch size", "1.."},
        {"lr", EX_OPT_DOUBLE, &lr, "Adam learning rate of both networks", ">0"},
        {"threads", EX_OPT_INT, &threads, "worker threads", "1.."},
        {"limit", EX_OPT_INT, &limit, "use only the first N training images (0: all)", "0.."},
        {"seed", EX_OPT_U64, &seed, "seed of the initialisation, shuffling and codes"},
        {"data", EX_OPT_STRING, &data_dir, "MNIST-format IDX files in this directory"},
        {"synthetic", EX_OPT_FLAG, &synthetic, "generated images instead of Fashion-MNIST"},
        {"out", EX_OPT_STRING, &out, "prefix of the PNG and CSV files"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless the samples approach the data"},
        {"check-ratio", EX_OPT_DOUBLE, &check_ratio,
         "--check: the final mean-image distance must be below this times the initial one", ">0"},
    };
    const ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;

    nb_set_num_threads(threads);
    ex_images d;
    if (!ex_images_load(PROG.name, data_dir, synthetic, limit, 500, seed, &d))
        return 1;
    printf("data: %s, %lld training images\n", d.source, (long long)nb_dataset_size(&d.train));
    nb_cleanup cl = {0}; /* everything below is freed by nb_cleanup_return, last made first */
    nb_cleanup_add(&cl, &d.train);
    nb_cleanup_add(&cl, &d.test);
    nb_rng init = nb_rng_seed(seed);
    gan g = {.rng = nb_rng_seed(seed + 1), .latent = latent};
    g.gen = nb_cleanup_add(&cl, nb_mlp_new(NB_SHAPE(latent, hidden, 784), NB_ACT_LEAKY_RELU_0_2,
                                           NB_ACT_SIGMOID, &init, NB_F32));
    g.dis = nb_cleanup_add(&cl, nb_mlp_new(NB_SHAPE(784, hidden, 1), NB_ACT_LEAKY_RELU_0_2,
                                           NB_ACT_NONE, &init, NB_F32));
    const nb_adam_opts ao = {.lr = lr, .beta1 = 0.5, .beta2 = 0.999, .eps = 1e-8};
    nb_optim *og = g.gen && g.dis ? nb_cleanup_add(&cl, nb_adam_new(g.gen, &ao)) : NULL;
    nb_optim *od = og ? nb_cleanup_add(&cl, nb_adam_new(g.dis, &ao)) : NULL;
    const nb_batch_opts bo = {
        .batch_size = batch, .shuffle = true, .seed = seed, .last = NB_LAST_DROP};
    nb_batcher *it = nb_cleanup_add(&cl, nb_batcher_new(&d.train, &bo));
    nb_step *step = nb_cleanup_add(&cl, nb_step_new());
    nb_curves *curves = nb_cleanup_add(&cl, nb_curves_new());
    nb_image_rows *rows = nb_cleanup_add(&cl, nb_image_rows_new());
    nb_tensor *real = nb_cleanup_add(&cl, ex_first_rows(&d.train, 500));
    if (!od || !it || !step || !curves || !rows || !real)
        return nb_cleanup_return(&cl, ex_fail(PROG.name, "setup"));
    printf("generator %d -> %d -> 784, discriminator 784 -> %d -> 1 (%lld + %lld parameters); "
           "Adam lr %g, beta1 0.5, batch %d, %d thread(s)\n",
           latent, hidden, hidden, (long long)nb_module_num_params(g.gen),
           (long long)nb_module_num_params(g.dis), lr, batch, threads);
    nb_rng eval_rng = nb_rng_seed(seed + 2), fixed = nb_rng_seed(seed + 3);
    double dist0, spread0, spread_data, unused;
    /* 500 images G(z) from the evaluation codes, before and after training */
    nb_tensor *z =
        nb_cleanup_add(&cl, nb_rand_normal(NB_F32, NB_SHAPE(500, latent), &eval_rng, 0, 1));
    nb_tensor *fake = nb_cleanup_add(&cl, ex_forward_copy(g.gen, z));
    nb_tensor *z_fixed =
        nb_cleanup_add(&cl, nb_tensor_normal(NB_F32, NB_SHAPE(10, latent), &fixed, 0, 1));
    if (!fake || !z_fixed)
        return nb_cleanup_return(&cl, ex_fail(PROG.name, "generating"));
    compare(fake, real, &dist0, &spread0);
    compare(real, real, &unused, &spread_data);
    printf("before training: distance of the mean images %.4f, sample spread %.4f (data %.4f)\n",
           dist0, spread0, spread_data);
    /* the rows G(z_fixed), copied by nb_image_rows_add, are freed at the end */
    nb_status st =
        nb_image_rows_add(rows, nb_cleanup_add(&cl, ex_forward_copy(g.gen, z_fixed)), "start");
    const double t0 = ex_seconds();
    for (int e = 1; e <= epochs && st == NB_OK; e++) {
        nb_alternating alt = {.models = {g.dis, g.gen},
                              .opts = {od, og},
                              .user = &g,
                              .step = step,
                              .losses = {d_loss, g_loss}};
        g.d_real = g.d_fake = 0;
        nb_loop_result r;
        const nb_loop_opts lo = {
            .epoch = e, .epochs = epochs, .update = nb_alternating_update, .user = &alt};
        if (nb_train_epoch(g.gen, NULL, it, step, &lo, &r) != NB_OK)
            return nb_cleanup_return(&cl, ex_fail(PROG.name, "training"));
        const double n = (double)r.batches;
        const double m[4] = {alt.sums[0] / n, alt.sums[1] / n, g.d_real / n, g.d_fake / n};
        printf("epoch %2d: D loss %.3f, G loss %.3f, D(real) %.3f, D(G(z)) %.3f, %.1f s so far\n",
               e, m[0], m[1], m[2], m[3], ex_seconds() - t0);
        fflush(stdout);
        nb_curves_add_scalars(curves, e, 4, CURVES, m);
        st = nb_image_rows_add(rows, nb_cleanup_add(&cl, ex_forward_copy(g.gen, z_fixed)),
                               "epoch %d", e);
    }
    char path[4096], curves_path[4096];
    nb_grid_opts o = {.scale = 2, .padding = 2, .background = 128}; /* cols: one row each */
    o.title = "GAN: the same 10 codes after each epoch";
    o.caption = "generator outputs for fixed z ~ N(0, I)";
    if (st == NB_OK && (st = nb_image_rows_write_png(
                            rows, ex_path(path, sizeof path, out, "_progress.png"), &o)) == NB_OK)
        printf("wrote %s\n", path);
    z = nb_cleanup_add(&cl, nb_rand_normal(NB_F32, NB_SHAPE(500, latent), &eval_rng, 0, 1));
    fake = nb_cleanup_add(&cl, ex_forward_copy(g.gen, z));
    /* the samples' grid: a view of the first 64 */
    nb_tensor *grid = st == NB_OK && fake ? nb_cleanup_add(&cl, nb_slice(fake, 0, 0, 64, 1)) : NULL;
    o.cols = 8;
    o.title = "GAN: 64 samples";
    o.caption = "generator outputs for z ~ N(0, I)";
    if (grid &&
        (st = nb_png_write_grid(ex_path(path, sizeof path, out, "_samples.png"), grid, &o)) ==
            NB_OK &&
        (st = nb_curves_save(
             curves, ex_path(curves_path, sizeof curves_path, out, "_curves"),
             &(nb_plot_opts){.title = "GAN on Fashion-MNIST", .xlabel = "epoch"})) == NB_OK)
        printf("wrote %s and %s.csv\nwrote %s.png\n", path, curves_path, curves_path);
    if (!grid || st != NB_OK)
        return nb_cleanup_return(&cl, ex_fail(PROG.name, "writing the images and curves"));
    double dist, spread;
    compare(fake, real, &dist, &spread);
    printf("after training: distance of the mean images %.4f (%.4f before), sample spread %.4f "
           "(data %.4f), %.1f s\n",
           dist, dist0, spread, spread_data, ex_seconds() - t0);
    int rc = 0;
    if (check) {
        const bool ok = dist < check_ratio * dist0 && spread > 0.25 * spread_data;
        printf("check: distance %.4f < %.2f x %.4f and spread %.4f > 0.25 x %.4f: %s\n", dist,
               check_ratio, dist0, spread, spread_data, ok ? "ok" : "FAILED");
        rc = ok ? 0 : 1;
    }
    return nb_cleanup_return(&cl, rc);
}
