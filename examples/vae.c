/* examples/vae.c — a variational autoencoder (Kingma & Welling 2014) on Fashion-MNIST.
 *
 *   encoder  x [N, 784] -> Linear 784->H -> ReLU -> Linear H->2Z -> (mu, log sigma^2) [N, Z] each
 *   sample   z = mu + exp(log sigma^2 / 2) * eps,  eps ~ N(0, I) from a seeded nb_rng
 *            (the reparameterisation trick: z is a differentiable function of mu and sigma)
 *   decoder  z -> Linear Z->H -> ReLU -> Linear H->784 -> logits of p(x | z)
 *
 * Likelihood: a Bernoulli per pixel whose "outcome" is the grey value in [0, 1] itself (the
 * usual VAE loss on Fashion-MNIST, not binarised images), so
 *     -log p(x | z) = sum over the 784 pixels of bce_with_logits(logit, x)
 * and the KL term against the prior N(0, I) is in closed form:
 *     KL(q(z | x) || p(z)) = -1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2).
 * The loss is the negative ELBO = reconstruction + KL, in nats per image (summed over pixels
 * and latent dimensions, averaged over the images); the test value is a one-sample estimate
 * with a fixed seed, so it is the same number at every evaluation of the same weights.
 *
 * Writes PREFIX_recon.png (test images and their reconstructions: the decoder's pixel means at
 * z = mu), PREFIX_samples.png (pixel means decoded from z ~ N(0, I)), PREFIX_latent_map.png (a
 * 15 x 15 grid of codes at the prior's quantiles 0.05 .. 0.95, decoded: with --latent 2 the
 * whole latent space; otherwise a 2-D slice through the two dimensions with the largest mean
 * KL on the test set, the others held at 0), and the curves as CSV and PNG. */
#include <stdio.h>

#include "common/cli.h"
#include "common/images.h"
#include "common/unsup.h"
#include "common/util.h"
#include "nabla.h"

static const ex_program PROG = {
    .name = "vae",
    .summary = "variational autoencoder: reparameterisation trick, negative ELBO in nats, "
               "samples from the prior and a 2-D latent map",
    .notes = "no exercise of the notes: a model of current research (the notes' autoencoders "
             "are deterministic: autoencoder, denoising_ae, sparse_ae)",
    .details =
        "Encoder 784-H-2Z (mu and log variance), decoder Z-H-784 (logits), Adam, batch 100.\n"
        "Likelihood: Bernoulli on the pixel intensities in [0, 1] (binary cross-entropy with\n"
        "the grey values as targets, summed over the 784 pixels); prior N(0, I).\n"
        "Reports the negative ELBO (reconstruction + KL) in nats per image on the test set.\n"
        "Latent map: with --latent 2 the whole 2-D latent space; with more dimensions a 2-D\n"
        "slice through the two most used ones (largest mean KL), the others at 0.\n"
        "Results measured on Fashion-MNIST: examples/README.md.\n"
        "Data: Fashion-MNIST (Debian's dataset-fashion-mnist, or --data DIR), or --synthetic.\n"
        "--check exits 1 unless the test negative ELBO after training is below --check-ratio\n"
        "times its value before training.\n",
};

/* What the loss function needs besides the model: the rng of eps, and the last KL term. */
typedef struct vae_state {
    nb_rng train_rng; /* eps while training: advances from batch to batch */
    nb_rng eval_rng;  /* eps while evaluating: reseeded before every evaluation */
    double kl_sum;    /* evaluation: KL part of the losses, summed over the images */
} vae_state;

/* q(z | x): ml[0] = mu and ml[1] = log sigma^2 [N, Z], the two halves of the encoder's output */
static bool encode(nb_module *vae, nb_tensor *x, nb_tensor *ml[2])
{
    return nb_split(nb_child_forward(vae, "encoder", x), 1, 2, ml) == NB_OK;
}

/* The module's forward: the reconstruction (pixel means) at z = mu. */
static nb_tensor *vae_forward(nb_module *m, nb_tensor *x)
{
    nb_tensor *ml[2];
    return encode(m, x, ml) ? nb_sigmoid(nb_child_forward(m, "decoder", ml[0])) : NULL;
}

/* Negative ELBO per image (mean over the batch) with one reparameterised sample per image: the
 * nb_batch_loss_fn of training and evaluation. */
static nb_tensor *neg_elbo(nb_module *vae, const nb_batch *b, bool train, void *user)
{
    vae_state *s = user;
    nb_tensor *ml[2];
    if (!encode(vae, b->x, ml))
        return NULL;
    nb_tensor *z = nb_gaussian_rsample(ml[0], ml[1], train ? &s->train_rng : &s->eval_rng);
    nb_tensor *rec = nb_bce_with_logits(nb_child_forward(vae, "decoder", z), b->x, NB_REDUCE_SUM);
    nb_tensor *kl = nb_gaussian_kl(ml[0], ml[1], NB_REDUCE_SUM);
    if (!kl || !rec)
        return NULL;
    s->kl_sum += train ? 0 : nb_tensor_item(kl);
    return nb_mul_scalar(nb_add(rec, kl), 1.0 / (double)b->size);
}

/* Test negative ELBO (nats per image) with the evaluation noise reseeded: the same weights give
 * the same number. *kl gets the KL part. */
static double test_neg_elbo(nb_module *vae, const nb_dataset *test, nb_step *step, vae_state *s,
                            uint64_t seed, double *kl)
{
    s->eval_rng = nb_rng_seed(seed + 7);
    s->kl_sum = 0;
    nb_loop_result r;
    const nb_loop_opts lo = {.loss = neg_elbo, .user = s, .batch_size = 500};
    if (nb_evaluate(vae, test, step, &lo, &r) != NB_OK)
        fprintf(stderr, "%s: %s\n", PROG.name, nb_last_error());
    *kl = s->kl_sum / (double)nb_dataset_size(test);
    return r.loss;
}

/* Encoder 784-H-2Z and decoder Z-H-784: Linear, ReLU, Linear each. */
static nb_module *vae_new(int64_t hidden, int latent, nb_rng *rng)
{
    nb_module *m = nb_container_new(
        "VAE", vae_forward, NULL, NULL, 2,
        (nb_named_module[]){{"encoder", nb_mlp_new(3, (int64_t[]){784, hidden, 2 * latent},
                                                   NB_ACT_RELU, NB_ACT_NONE, rng, NB_F32)},
                            {"decoder", nb_mlp_new(3, (int64_t[]){latent, hidden, 784}, NB_ACT_RELU,
                                                   NB_ACT_NONE, rng, NB_F32)}});
    /* a NULL m keeps the constructor's error */
    nb_module_set_info(m, "784 -> %lld -> 2 x %d | %d -> %lld -> 784", (long long)hidden, latent,
                       latent, (long long)hidden);
    return m;
}

/* The two latent dimensions with the largest mean KL over the test images (the most used), in
 * the caller's evaluation scope. */
static void most_used_dims(nb_module *vae, const nb_dataset *test, int latent, int dims[2])
{
    nb_tensor *ml[2], *kl = NULL, *top = NULL;
    if (encode(vae, test->x, ml))
        kl = nb_mean(nb_gaussian_kl(ml[0], ml[1], NB_REDUCE_NONE), 0, false);
    if (kl && nb_topk(kl, 2, 0, true, true, NULL, &top) == NB_OK) {
        dims[0] = (int)nb_tensor_get(top, 0), dims[1] = (int)nb_tensor_get(top, 1);
        printf("mean KL per latent dimension on the test set (nats):");
        for (int j = 0; j < latent; j++)
            printf(" %.2f", nb_tensor_get(kl, j));
        printf("\n");
    }
}

/* The reconstructions, the samples from the prior and the latent map, in one evaluation scope;
 * each PNG written is named on stdout. */
static nb_status write_pngs(nb_module *vae, const nb_dataset *test, int latent, uint64_t seed,
                            const char *out)
{
    char path[4096], title[128], caption[160];
    nb_eval_scope sc;
    nb_status st = nb_eval_begin(&sc, vae, NULL);
    nb_tensor *x = nb_slice(test->x, 0, 0, 12, 1); /* the first 12 test images */
    nb_grid_opts o = {.scale = 2, .padding = 2, .background = 128};
    o.title = "VAE: test images and their reconstructions";
    o.caption = "reconstruction: decoder pixel means at z = mu(x)";
    if (st == NB_OK &&
        (st = nb_png_write_rows(ex_path(path, sizeof path, out, "_recon.png"), 2,
                                (const nb_tensor *[]){x, nb_module_forward(vae, x)},
                                (const char *[]){"input", "reconstruction"}, &o)) == NB_OK)
        printf("wrote %s\n", path);
    nb_rng rng = nb_rng_seed(seed + 99); /* 64 samples from the prior */
    nb_tensor *samples = nb_sigmoid(
        nb_child_forward(vae, "decoder", nb_rand_normal(NB_F32, NB_SHAPE(64, latent), &rng, 0, 1)));
    o.cols = 8;
    o.title = "VAE: 64 samples from the prior";
    o.caption = "z ~ N(0, I), decoder pixel means";
    if (st == NB_OK && (st = nb_png_write_grid(ex_path(path, sizeof path, out, "_samples.png"),
                                               samples, &o)) == NB_OK)
        printf("wrote %s\n", path);
    int dims[2] = {0, 1}; /* latent map: 15 x 15 codes at the prior's quantiles, up = larger */
    if (st == NB_OK && latent > 2)
        most_used_dims(vae, test, latent, dims);
    if (latent == 2)
        snprintf(title, sizeof title, "VAE latent space (2-D model): decoded grid");
    else
        snprintf(title, sizeof title, "VAE latent slice: dims %d and %d of %d", dims[0], dims[1],
                 latent);
    snprintf(caption, sizeof caption, "x: z%d, y: z%d at N(0,1) quantiles 0.05..0.95%s", dims[0],
             dims[1], latent > 2 ? "; other dims 0" : "");
    o = (nb_grid_opts){.cols = 15, .scale = 2, .padding = 1, .title = title, .caption = caption};
    nb_tensor *z = nb_latent_grid(15, latent, dims[0], dims[1], 0.05, 0.95);
    if (st == NB_OK &&
        (st = nb_png_write_grid(ex_path(path, sizeof path, out, "_latent_map.png"),
                                nb_sigmoid(nb_child_forward(vae, "decoder", z)), &o)) == NB_OK)
        printf("wrote %s (%s)\n", path,
               latent == 2 ? "the whole 2-D latent space of the model"
                           : "a 2-D slice through the two most used latent dimensions");
    nb_eval_end(&sc);
    return st;
}

int main(int argc, char **argv)
{
    int latent = 10, hidden = 400, epochs = 10, batch = 100, limit = 0, test_limit = 0;
    int threads = 2;
    double lr = 1e-3, check_ratio = 0.8;
    uint64_t seed = 1;
    const char *data_dir = NULL, *out = "vae";
    bool synthetic = false, check = false;
    ex_opt opts[] = {
        {"latent", EX_OPT_INT, &latent, "latent dimensions Z (2: the map is the whole space)",
         "2..256"},
        {"hidden", EX_OPT_INT, &hidden, "hidden units H of the encoder and the decoder", "1.."},
        {"epochs", EX_OPT_INT, &epochs, "training epochs", "1.."},
        {"batch", EX_OPT_INT, &batch, "minibatch size", "1.."},
        {"lr", EX_OPT_DOUBLE, &lr, "Adam learning rate", ">0"},
        {"threads", EX_OPT_INT, &threads, "worker threads", "1.."},
        {"limit", EX_OPT_INT, &limit, "use only the first N training images (0: all)", "0.."},
        {"test-limit", EX_OPT_INT, &test_limit, "use only the first N test images (0: all)", "0.."},
        {"seed", EX_OPT_U64, &seed, "seed of the initialisation, shuffling and eps"},
        {"data", EX_OPT_STRING, &data_dir, "MNIST-format IDX files in this directory"},
        {"synthetic", EX_OPT_FLAG, &synthetic, "generated images instead of Fashion-MNIST"},
        {"out", EX_OPT_STRING, &out, "prefix of the PNG and CSV files"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless the test -ELBO improved"},
        {"check-ratio", EX_OPT_DOUBLE, &check_ratio,
         "--check: the final test -ELBO must be below this times the initial one", ">0"},
    };
    const ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    nb_set_num_threads(threads);
    ex_images d;
    if (!ex_images_load(PROG.name, data_dir, synthetic, limit, test_limit, seed, &d))
        return 1;
    printf("data: %s, %lld training and %lld test images\n", d.source,
           (long long)nb_dataset_size(&d.train), (long long)nb_dataset_size(&d.test));
    nb_cleanup cl = {0}; /* everything below is freed by nb_cleanup_return, last made first */
    nb_cleanup_add(&cl, &d.train);
    nb_cleanup_add(&cl, &d.test);
    vae_state s = {.train_rng = nb_rng_seed(seed + 1)};
    nb_rng init = nb_rng_seed(seed);
    nb_module *vae = nb_cleanup_add(&cl, vae_new(hidden, latent, &init));
    const nb_adam_opts ao = {.lr = lr, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    nb_optim *opt = vae ? nb_cleanup_add(&cl, nb_adam_new(vae, &ao)) : NULL;
    const nb_batch_opts bo = {.batch_size = batch, .shuffle = true, .seed = seed};
    nb_batcher *it = nb_cleanup_add(&cl, nb_batcher_new(&d.train, &bo));
    nb_step *step = nb_cleanup_add(&cl, nb_step_new());
    nb_curves *curves = nb_cleanup_add(&cl, nb_curves_new());
    if (!opt || !it || !step || !curves)
        return nb_cleanup_return(&cl, ex_fail(PROG.name, "setup"));
    nb_module_summary(vae, stdout);
    printf("Adam lr %g, batch %d, latent dimensions %d, %d thread(s); likelihood: Bernoulli on "
           "the pixel intensities; eps from nb_rng seed %llu\n",
           lr, batch, latent, threads, (unsigned long long)(seed + 1));
    double kl;
    const double before = test_neg_elbo(vae, &d.test, step, &s, seed, &kl);
    printf("test negative ELBO before training: %.2f nats per image (KL %.2f)\n", before, kl);
    double after = before;
    const double t0 = ex_seconds();
    for (int e = 1; e <= epochs; e++) {
        nb_loop_result r;
        const nb_loop_opts lo = {.loss = neg_elbo, .user = &s, .epoch = e, .epochs = epochs};
        if (nb_train_epoch(vae, opt, it, step, &lo, &r) != NB_OK)
            return nb_cleanup_return(&cl, ex_fail(PROG.name, "training"));
        after = test_neg_elbo(vae, &d.test, step, &s, seed, &kl);
        printf("epoch %2d: train -ELBO %.2f, test -ELBO %.2f nats per image (reconstruction "
               "%.2f + KL %.2f), %.1f s so far\n",
               e, r.loss, after, after - kl, kl, ex_seconds() - t0);
        fflush(stdout);
        nb_curves_add(curves, "train -ELBO", e, r.loss);
        nb_curves_add(curves, "test -ELBO", e, after);
    }
    printf("test negative ELBO: %.2f nats per image after %d epoch(s) (%.2f before), %.1f s\n",
           after, epochs, before, ex_seconds() - t0);
    char path[4096];
    if (nb_curves_save(curves, ex_path(path, sizeof path, out, "_curves"),
                       &(nb_plot_opts){.title = "VAE: negative ELBO (nats per image)",
                                       .xlabel = "epoch"}) != NB_OK)
        return nb_cleanup_return(&cl, ex_fail(PROG.name, "curves"));
    printf("wrote %s.csv and %s.png\n", path, path);
    int rc = 0;
    if (write_pngs(vae, &d.test, latent, seed, out) != NB_OK)
        rc = ex_fail(PROG.name, "writing the images");
    else if (check) {
        const bool ok = after < check_ratio * before;
        printf("check: test -ELBO %.2f < %.2f x %.2f: %s\n", after, check_ratio, before,
               ok ? "ok" : "FAILED");
        rc = ok ? 0 : 1;
    }
    return nb_cleanup_return(&cl, rc);
}
