/* examples/sparse_ae.c — a sparse autoencoder: one hidden layer whose code is pushed towards
 * sparsity by a penalty added to the reconstruction error.
 *
 *   KL (default): code = sigmoid(W x + b); penalty sum_k KL(rho || mean activation of unit k)
 *   L1:           code = relu(W x + b);    penalty mean over the batch of sum_k |code_k|
 *   loss = MSE(decoder(code), x) + beta * penalty; Adam
 *
 * Every epoch prints the reconstruction error, the penalty, the mean activation of the code
 * units and the fraction of code values below 0.05 on the test images (run with --beta 0 to
 * see the same numbers without the penalty). Writes PREFIX_filters.png (the encoder's weights of
 * the first units), PREFIX_recon.png and PREFIX_loss.png / .csv. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/cli.h"
#include "common/unsup.h"
#include "nabla.h"

static const ex_program PROG = {
    .name = "sparse_ae",
    .notes = "notes 002 (sheet): N active units being P % of the total (--active, --percent), "
             "sparse autoencoders",
    .summary = "sparse autoencoder with a KL or L1 sparsity penalty on the code",
    .details = "Data as in autoencoder (--data DIR, --synthetic, --limit).\n"
               "--check exits with status 1 unless the test loss fell below --check-ratio times\n"
               "its value before training and, for kl with beta > 0, the mean code activation\n"
               "moved closer to rho than it was before training.\n"
               "--active N --percent P only answers notes 002's question (\"al menos N\n"
               "procesadores activos ... el P% del total\"): ceil(100 N / P) units, and the\n"
               "table for N and P in tens.\n",
};

typedef struct sparsity {
    bool kl;
    double beta, rho;
} sparsity;

static nb_tensor *penalty(nb_tensor *h, const sparsity *s)
{
    return s->kl ? nb_sparsity_kl(h, s->rho) : nb_sparsity_l1(h);
}

static nb_tensor *sparse_loss(nb_module *ae, const nb_batch *b, bool train, void *user)
{
    nb_tensor *x = b->x;
    (void)train;
    const sparsity *s = user;
    nb_tensor *h = nb_autoencoder_encode(ae, x);
    nb_tensor *rec = nb_mse(nb_autoencoder_decode(ae, h), x, NB_REDUCE_MEAN);
    return s->beta > 0 ? nb_add(rec, nb_mul_scalar(penalty(h, s), s->beta)) : rec;
}

typedef struct code_stats {
    double recon, penalty, mean, small;
} code_stats;

/* Reconstruction error, penalty, mean activation and fraction of code values < 0.05 on x. */
static bool stats(nb_module *ae, nb_tensor *x, const sparsity *s, nb_step *step, code_stats *out)
{
    bool was = nb_set_grad_enabled(false);
    nb_step_begin(step);
    nb_tensor *h = nb_autoencoder_encode(ae, x);
    nb_tensor *rec = nb_mse(nb_autoencoder_decode(ae, h), x, NB_REDUCE_MEAN), *pen = penalty(h, s);
    bool ok = rec && pen;
    if (ok) {
        out->recon = nb_tensor_item(rec);
        out->penalty = nb_tensor_item(pen);
        int64_t n = nb_tensor_numel(h), small = 0;
        double sum = 0;
        for (int64_t i = 0; i < n; i++) {
            double v = nb_tensor_get(h, i);
            sum += v;
            small += v < 0.05;
        }
        out->mean = sum / (double)n;
        out->small = (double)small / (double)n;
    }
    nb_step_end(step);
    nb_set_grad_enabled(was);
    return ok;
}

/* Notes 002, "¿Por qué lo de que haya muchos nulos?": at least N active units that are only P %
 * of all units need T >= 100 N / P units, so T = ceil(100 N / P). Prints it for the given N and
 * P, and the sheet's "tens" table. */
static int units_for_active(int n, double p)
{
    if (n < 1 || !(p > 0 && p <= 100)) {
        fprintf(stderr,
                "sparse_ae: --active N needs N >= 1 and --percent P in (0, 100] (got %d, "
                "%g)\n",
                n, p);
        return 2;
    }
    const double total = ceil(100.0 * n / p - 1e-9);
    printf("at least %d active units that are only %g%% of the layer: %.0f units in total\n"
           "(%.0f x %g%% = %.4g >= %d)\n\n",
           n, p, total, total, p, total * p / 100.0, n);
    printf("N and P in tens (notes 002: \"Prueba N y P en decenas\"): total units\n   N \\ P%%");
    for (int pc = 10; pc <= 50; pc += 10)
        printf(" %6d", pc);
    printf("\n");
    for (int a = 10; a <= 50; a += 10) {
        printf("  %4d   ", a);
        for (int pc = 10; pc <= 50; pc += 10)
            printf(" %6.0f", ceil(100.0 * a / pc - 1e-9));
        printf("\n");
    }
    return 0;
}

int main(int argc, char **argv)
{
    int active = 0;
    double percent = 0;
    int hidden = 196, epochs = 10, batch = 64, limit = 0, test_limit = 0, show = 10, filters = 100;
    double lr = 1e-3, beta = -1, rho = 0.05, check_ratio = 0.9;
    uint64_t seed = 1;
    bool synthetic = false, check = false;
    const char *data = NULL, *out = "sparse_ae", *kind = "kl";
    ex_opt opts[] = {
        {"penalty", EX_OPT_STRING, &kind, "sparsity penalty: kl or l1"},
        {"beta", EX_OPT_DOUBLE, &beta, "penalty weight (< 0: 3e-3 for kl, 1e-4 for l1)"},
        {"rho", EX_OPT_DOUBLE, &rho, "target mean activation (kl)"},
        {"hidden", EX_OPT_INT, &hidden, "code units"},
        {"epochs", EX_OPT_INT, &epochs, "passes over the training images"},
        {"batch", EX_OPT_INT, &batch, "minibatch size"},
        {"lr", EX_OPT_DOUBLE, &lr, "Adam learning rate"},
        {"limit", EX_OPT_INT, &limit, "use only the first N training images (0: all)"},
        {"test-limit", EX_OPT_INT, &test_limit, "use only the first N test images (0: all)"},
        {"data", EX_OPT_STRING, &data, "directory with MNIST-format IDX files"},
        {"synthetic", EX_OPT_FLAG, &synthetic, "generated images instead of a dataset"},
        {"show", EX_OPT_INT, &show, "test images in the reconstruction PNG"},
        {"filters", EX_OPT_INT, &filters, "code units shown in the filters PNG"},
        {"out", EX_OPT_STRING, &out, "prefix of the output files"},
        {"seed", EX_OPT_U64, &seed, "seed of the weights and the batch order"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless the loss drops and the code is sparser"},
        {"check-ratio", EX_OPT_DOUBLE, &check_ratio, "required final/initial test-loss ratio"},
        {"active", EX_OPT_INT, &active,
         "002: only print how many units give at least N active at --percent"},
        {"percent", EX_OPT_DOUBLE, &percent, "with --active: the active share P in percent"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (active || percent)
        return units_for_active(active, percent);
    sparsity sp = {.kl = !strcmp(kind, "kl"), .rho = rho};
    if (!sp.kl && strcmp(kind, "l1"))
        return ex_usage_error(&PROG, "--penalty must be kl or l1, got '%s'", kind);
    sp.beta = beta >= 0 ? beta : sp.kl ? 3e-3 : 1e-4;
    if (hidden < 1 || epochs < 1 || batch < 1 || limit < 0 || test_limit < 0 || show < 1 ||
        filters < 1 || !(lr > 0) || !(rho > 0 && rho < 1))
        return ex_usage_error(&PROG, "a value is out of range (sizes >= 1, lr > 0, rho in (0, 1))");

    ex_images d;
    if (!ex_images_load(PROG.name, data, synthetic, limit, test_limit, seed, &d))
        return 1;
    printf("sparse_ae: %s, %lld training and %lld test images\n", d.source,
           (long long)nb_dataset_size(&d.train), (long long)nb_dataset_size(&d.test));
    nb_rng rng = nb_rng_seed(seed);
    nb_autoencoder_opts o = nb_autoencoder_defaults();
    o.code = sp.kl ? NB_ACT_SIGMOID : NB_ACT_RELU;
    nb_module *ae = nb_autoencoder_new(2, (int64_t[]){784, hidden}, &o, &rng);
    nb_adam_opts ao = nb_adam_defaults();
    ao.lr = lr;
    nb_optim *opt = ae ? nb_adam_new(ae, &ao) : NULL;
    nb_batcher *it = nb_batcher_new(
        &d.train, &(nb_batch_opts){.batch_size = batch, .shuffle = true, .seed = seed});
    nb_step *step = nb_step_new();
    nb_curves *curves = nb_curves_new();
    nb_tensor *mon = ex_first_rows(&d.test, 1000);
    int rc = 0;
    if (!ae || !opt || !it || !step || !curves || !mon) {
        fprintf(stderr, "%s: setup: %s\n", PROG.name, nb_last_error());
        rc = 1;
        goto done;
    }
    printf("784 -> %d (%s code) -> 784, penalty %s, beta %g, Adam lr %g, batch %d\n", hidden,
           sp.kl ? "sigmoid" : "relu", kind, sp.beta, lr, batch);
    if (sp.kl)
        printf("KL target mean activation rho = %g\n", rho);
    code_stats c0, c;
    double initial = ex_evaluate(PROG.name, ae, &d.test, 256, step, sparse_loss, &sp);
    if (isnan(initial) || !stats(ae, mon, &sp, step, &c0)) {
        rc = 1;
        goto done;
    }
    printf("before training: test loss %.5f, mean code activation %.4f, code values < 0.05: "
           "%.1f%%\n",
           initial, c0.mean, 100 * c0.small);
    printf("epoch   train loss  test loss   recon MSE   penalty   mean act  < 0.05\n");
    int64_t gstep = 0;
    double test = initial;
    c = c0;
    for (int e = 1; e <= epochs; e++) {
        char label[32];
        snprintf(label, sizeof label, "epoch %d/%d", e, epochs);
        double tr = ex_train_epoch(PROG.name, ae, opt, it, step, sparse_loss, &sp, label, curves,
                                   "train_loss", &gstep);
        test = isnan(tr) ? NAN : ex_evaluate(PROG.name, ae, &d.test, 256, step, sparse_loss, &sp);
        if (isnan(test) || !stats(ae, mon, &sp, step, &c)) {
            rc = 1;
            goto done;
        }
        nb_curves_add(curves, "test_loss", (double)gstep, test);
        printf("%3d/%-3d  %9.5f  %9.5f   %9.5f  %8.4f   %8.4f  %5.1f%%\n", e, epochs, tr, test,
               c.recon, c.penalty, c.mean, 100 * c.small);
    }

    char path[1024];
    nb_step_begin(step);
    int64_t nf = filters < hidden ? filters : hidden;
    nb_tensor *w = nb_slice(nb_module_param(ae, "encoder.0.weight"), 0, 0, nf, 1);
    nb_grid_opts g = {.scale = 2,
                      .padding = 1,
                      .per_image = true,
                      .height = 28,
                      .width = 28,
                      .title = "Sparse autoencoder: encoder filters",
                      .caption = "weights of code units 1.. into the 28x28 pixels; "
                                 "each scaled min (black) to max (white)"};
    nb_status st = w ? nb_png_write_grid(ex_path(path, sizeof path, out, "_filters.png"), w, &g)
                     : NB_ERR_VALUE;
    nb_step_end(step);
    if (st != NB_OK) {
        fprintf(stderr, "%s: filters: %s\n", PROG.name, nb_last_error());
        rc = 1;
    } else {
        printf("wrote %s (encoder weights of the first %lld code units)\n", path, (long long)nf);
    }
    nb_tensor *x = ex_first_rows(&d.test, show), *rec = NULL;
    if (x)
        rec = ex_forward_copy(ae, x);
    if (!rec ||
        !ex_write_rows_png(PROG.name, ex_path(path, sizeof path, out, "_recon.png"),
                           (nb_tensor *[]){x, rec}, 2, "Sparse autoencoder: reconstructions",
                           (const char *const[]){"test image", "reconstruction"},
                           "first test images; pixel values 0 (black) to 1 (white)"))
        rc = 1;
    else
        printf("wrote %s (top: test images, bottom: reconstructions)\n", path);
    nb_tensor_free(x);
    nb_tensor_free(rec);
    nb_plot_opts po = {.title = "sparse autoencoder", .ylabel = "loss", .log_y = true};
    if (nb_curves_write_csv(curves, ex_path(path, sizeof path, out, "_loss.csv")) != NB_OK ||
        nb_curves_write_png(curves, ex_path(path, sizeof path, out, "_loss.png"), &po) != NB_OK) {
        fprintf(stderr, "%s: writing curves: %s\n", PROG.name, nb_last_error());
        rc = 1;
    }
    printf("test loss %.5f -> %.5f; mean code activation %.4f -> %.4f; code values < 0.05: "
           "%.1f%% -> %.1f%%\n",
           initial, test, c0.mean, c.mean, 100 * c0.small, 100 * c.small);
    bool closer = !sp.kl || sp.beta == 0 || fabs(c.mean - rho) < fabs(c0.mean - rho);
    if (check && !(test < check_ratio * initial && closer)) {
        printf("check failed: the loss did not drop enough or the mean activation did not move "
               "towards rho\n");
        rc = 1;
    }
done:
    nb_tensor_free(mon);
    nb_curves_free(curves);
    nb_step_free(step);
    nb_batcher_free(it);
    nb_optim_free(opt);
    nb_module_free(ae);
    ex_images_free(&d);
    return rc;
}
