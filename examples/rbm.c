/* examples/rbm.c — a Bernoulli-Bernoulli restricted Boltzmann machine on Fashion-MNIST,
 * trained by contrastive divergence (CD-k, or persistent CD with --persistent).
 *
 * Pixels are binarised at --binarize (0.5) so that the visible units are binary. Every epoch
 * prints the mean reconstruction error of the training batches, the pseudo-log-likelihood of
 * 1,000 training and 1,000 test images, and the free-energy gap (mean F on the test images minus
 * mean F on the training images: it grows when the model overfits). Writes PREFIX_filters.png
 * (the weights of the first hidden units as images), PREFIX_samples.png (Gibbs chains started
 * at test images: each row is the chains after 0, 1, 10, 100, ... steps) and PREFIX_curves.csv
 * / .png. */
#include <math.h>
#include <stdio.h>

#include "common/cli.h"
#include "common/unsup.h"
#include "nabla.h"

static const ex_program PROG = {
    .name = "rbm",
    .notes = "notes 000 (overview), RBM: forward, reverse (reconstruction); notes 002 (sheet): RBM "
             "/ DBN",
    .summary = "Bernoulli RBM trained by contrastive divergence: filters, samples, PLL",
    .details =
        "Data: Fashion-MNIST (dataset-fashion-mnist); --data DIR reads MNIST-format files from\n"
        "DIR, --synthetic generates images. Pixels become binary at --binarize (a negative\n"
        "value keeps the gray levels, used as probabilities).\n"
        "The update: delta = momentum * delta - lr * (CD gradient + weight_decay * W); the\n"
        "momentum switches from --momentum to --final-momentum after 5 epochs.\n"
        "--check exits with status 1 unless the training pseudo-log-likelihood after training\n"
        "is higher than before and the reconstruction error of the last epoch is below the\n"
        "first epoch's.\n",
};

typedef struct monitor {
    nb_tensor *train, *test; /* up to 1000 rows each */
} monitor;

static int report(nb_module *rbm, const monitor *m, uint64_t seed, double *pll_train,
                  double *pll_test, double *gap)
{
    nb_rng r1 = nb_rng_seed(seed), r2 = nb_rng_seed(seed + 1); /* same coordinates each time */
    *pll_train = nb_rbm_pseudo_log_likelihood(rbm, m->train, &r1);
    *pll_test = nb_rbm_pseudo_log_likelihood(rbm, m->test, &r2);
    *gap = nb_rbm_mean_free_energy(rbm, m->test) - nb_rbm_mean_free_energy(rbm, m->train);
    return isnan(*pll_train) || isnan(*pll_test) || isnan(*gap);
}

/* x >= threshold -> 1, else 0, as a new caller-owned tensor. */
static nb_tensor *binarize(nb_tensor *x, double threshold)
{
    nb_step *s = nb_step_new();
    if (!s)
        return NULL;
    nb_step_begin(s);
    nb_tensor *b = nb_heaviside(nb_add_scalar(x, -threshold));
    nb_tensor *out = b ? nb_tensor_copy(b) : NULL;
    nb_step_end(s);
    nb_step_free(s);
    return out;
}

static bool write_samples(const char *path, nb_module *rbm, nb_tensor *start, int max_steps,
                          uint64_t seed, int *n_rows)
{
    nb_tensor *rows[8] = {0};
    char names[8][32] = {"test image"};
    const char *labels[8] = {names[0]};
    int n = 0;
    rows[n++] = nb_tensor_copy(start);
    nb_rng rng = nb_rng_seed(seed);
    nb_tensor *v = nb_tensor_copy(start);
    int done = 0;
    for (int target = 1; target <= max_steps && n < 8 && v; target *= 10) {
        nb_tensor *next = nb_rbm_gibbs(rbm, v, target - done, false, &rng);
        nb_tensor_free(v);
        v = next;
        done = target;
        snprintf(names[n], sizeof names[n], "%d Gibbs step%s", target, target > 1 ? "s" : "");
        labels[n] = names[n];
        /* show E[v | h] after one more half step: smoother than the binary sample */
        nb_tensor *h = v ? nb_rbm_sample_hidden(rbm, v, &rng) : NULL;
        rows[n++] = h ? nb_rbm_visible_mean(rbm, h) : NULL;
        nb_tensor_free(h);
    }
    bool ok = v != NULL;
    for (int i = 0; i < n; i++)
        ok = ok && rows[i];
    ok = ok && ex_write_rows_png("rbm", path, rows, n, "RBM: Gibbs chains from test images", labels,
                                 "each row after more steps: E[v|h], 0 black .. 1 white");
    for (int i = 0; i < n; i++)
        nb_tensor_free(rows[i]);
    nb_tensor_free(v);
    *n_rows = n;
    return ok;
}

int main(int argc, char **argv)
{
    int hidden = 500, epochs = 10, batch = 64, k = 1, limit = 0, test_limit = 0;
    int gibbs = 1000, samples = 12, filters = 100;
    double lr = 0.1, momentum = 0.5, final_momentum = 0.9, wd = 2e-4, threshold = 0.5;
    uint64_t seed = 1;
    bool persistent = false, synthetic = false, check = false;
    const char *data = NULL, *out = "rbm";
    ex_opt opts[] = {
        {"hidden", EX_OPT_INT, &hidden, "hidden units"},
        {"epochs", EX_OPT_INT, &epochs, "passes over the training images"},
        {"batch", EX_OPT_INT, &batch, "minibatch size"},
        {"k", EX_OPT_INT, &k, "Gibbs steps per update (CD-k)"},
        {"persistent", EX_OPT_FLAG, &persistent, "persistent CD (chains kept across updates)"},
        {"lr", EX_OPT_DOUBLE, &lr, "learning rate"},
        {"momentum", EX_OPT_DOUBLE, &momentum, "momentum for the first 5 epochs"},
        {"final-momentum", EX_OPT_DOUBLE, &final_momentum, "momentum after 5 epochs"},
        {"weight-decay", EX_OPT_DOUBLE, &wd, "L2 weight decay on the weights"},
        {"binarize", EX_OPT_DOUBLE, &threshold, "pixel threshold (< 0: keep gray levels)"},
        {"limit", EX_OPT_INT, &limit, "use only the first N training images (0: all)"},
        {"test-limit", EX_OPT_INT, &test_limit, "use only the first N test images (0: all)"},
        {"data", EX_OPT_STRING, &data, "directory with MNIST-format IDX files"},
        {"synthetic", EX_OPT_FLAG, &synthetic, "generated images instead of a dataset"},
        {"gibbs-steps", EX_OPT_INT, &gibbs, "longest Gibbs chain in the samples PNG"},
        {"samples", EX_OPT_INT, &samples, "chains in the samples PNG"},
        {"filters", EX_OPT_INT, &filters, "hidden units shown in the filters PNG"},
        {"out", EX_OPT_STRING, &out, "prefix of the output files"},
        {"seed", EX_OPT_U64, &seed, "seed of the weights, batches and sampling"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless PLL and reconstruction improve"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (hidden < 1 || epochs < 1 || batch < 1 || k < 1 || limit < 0 || test_limit < 0 ||
        gibbs < 0 || samples < 1 || filters < 1 || !(lr > 0) || wd < 0 || momentum < 0 ||
        momentum >= 1 || final_momentum < 0 || final_momentum >= 1 || threshold >= 1)
        return ex_usage_error(&PROG, "a value is out of range (sizes >= 1, lr > 0, momentum in "
                                     "[0, 1), weight decay >= 0, --binarize < 1)");

    ex_images d;
    if (!ex_images_load(PROG.name, data, synthetic, limit, test_limit, seed, &d))
        return 1;
    int rc = 0;
    nb_module *rbm = NULL;
    nb_rbm_trainer *tr = NULL;
    nb_batcher *it = NULL;
    nb_curves *curves = nb_curves_new();
    monitor mon = {0};
    if (threshold >= 0) {
        nb_tensor *a = binarize(d.train.x, threshold), *b = binarize(d.test.x, threshold);
        if (!a || !b) {
            nb_tensor_free(a);
            nb_tensor_free(b);
            fprintf(stderr, "%s: binarising: %s\n", PROG.name, nb_last_error());
            rc = 1;
            goto done;
        }
        nb_tensor_free(d.train.x);
        nb_tensor_free(d.test.x);
        d.train.x = a;
        d.test.x = b;
    }
    printf("rbm: %s, %lld training and %lld test images, %s\n", d.source,
           (long long)nb_dataset_size(&d.train), (long long)nb_dataset_size(&d.test),
           threshold >= 0 ? "binarised" : "gray levels as probabilities");

    nb_rng rng = nb_rng_seed(seed);
    rbm = nb_rbm_new(784, hidden, NB_RBM_BERNOULLI, &rng);
    if (rbm && nb_rbm_init_visible_bias(rbm, d.train.x) != NB_OK) {
        nb_module_free(rbm);
        rbm = NULL;
    }
    nb_rbm_train_opts o = nb_rbm_train_defaults();
    o.lr = lr;
    o.momentum = momentum;
    o.weight_decay = wd;
    o.k = k;
    o.persistent = persistent;
    o.seed = seed + 7;
    tr = rbm ? nb_rbm_trainer_new(rbm, &o) : NULL;
    it = nb_batcher_new(
        &d.train,
        &(nb_batch_opts){.batch_size = batch, .shuffle = true, .seed = seed, .last = NB_LAST_DROP});
    mon.train = ex_first_rows(&d.train, 1000);
    mon.test = ex_first_rows(&d.test, 1000);
    if (!tr || !it || !curves || !mon.train || !mon.test) {
        fprintf(stderr, "%s: setup: %s\n", PROG.name, nb_last_error());
        rc = 1;
        goto done;
    }
    printf("RBM 784 -> %d, %s-%d, lr %g, momentum %g -> %g, weight decay %g, batch %d\n", hidden,
           persistent ? "PCD" : "CD", k, lr, momentum, final_momentum, wd, batch);

    double pll0, pllt0, gap0, pll = 0, pllt = 0, gap = 0;
    if (report(rbm, &mon, seed, &pll0, &pllt0, &gap0)) {
        fprintf(stderr, "%s: monitoring: %s\n", PROG.name, nb_last_error());
        rc = 1;
        goto done;
    }
    printf("before training: PLL train %.2f  test %.2f\n", pll0, pllt0);
    printf("epoch   recon error   PLL train   PLL test   free-energy gap (test - train)\n");
    double first_recon = NAN, recon = NAN;
    for (int e = 1; e <= epochs; e++) {
        if (e == 6)
            nb_rbm_trainer_set_momentum(tr, final_momentum);
        char label[32];
        snprintf(label, sizeof label, "epoch %d/%d", e, epochs);
        nb_progress *bar = nb_progress_new(label, nb_batcher_num_batches(it), NULL);
        nb_batch b;
        double sum = 0;
        int64_t n = 0;
        while (nb_batcher_next(it, &b)) {
            nb_rbm_update_stats st;
            if (nb_rbm_trainer_update(tr, b.x, &st) != NB_OK) {
                fprintf(stderr, "%s: step: %s\n", PROG.name, nb_last_error());
                rc = 1;
                break;
            }
            sum += st.recon_error;
            n++;
            nb_progress_advance(bar, b.size, st.recon_error);
        }
        nb_progress_finish(bar);
        nb_progress_free(bar);
        if (rc || report(rbm, &mon, seed, &pll, &pllt, &gap)) {
            if (!rc)
                fprintf(stderr, "%s: monitoring: %s\n", PROG.name, nb_last_error());
            rc = 1;
            goto done;
        }
        recon = sum / (double)(n ? n : 1);
        if (e == 1)
            first_recon = recon;
        printf("%3d/%-3d %11.3f  %10.3f  %9.3f  %10.3f\n", e, epochs, recon, pll, pllt, gap);
        nb_curves_add(curves, "recon_error", e, recon);
        nb_curves_add(curves, "neg_pll_train", e, -pll);
        nb_curves_add(curves, "neg_pll_test", e, -pllt);
    }

    char path[1024];
    nb_step *step = nb_step_new();
    nb_status st = step ? NB_OK : nb_last_status();
    if (step) {
        /* weight [784, H]: column j is hidden unit j's filter; show rows of W^T */
        nb_step_begin(step);
        int64_t nf = filters < hidden ? filters : hidden;
        nb_tensor *wt = nb_slice(nb_transpose(nb_module_param(rbm, "weight"), 0, 1), 0, 0, nf, 1);
        nb_grid_opts g = {.scale = 2,
                          .padding = 1,
                          .per_image = true,
                          .height = 28,
                          .width = 28,
                          .title = "RBM filters",
                          .caption = "weights of hidden units 1.. into the 28x28 pixels; "
                                     "each scaled min (black) to max (white)"};
        st = wt ? nb_png_write_grid(ex_path(path, sizeof path, out, "_filters.png"), wt, &g)
                : nb_last_status();
        nb_step_end(step);
        nb_step_free(step);
    }
    if (st != NB_OK) {
        fprintf(stderr, "%s: writing filters: %s\n", PROG.name, nb_last_error());
        rc = 1;
    } else {
        printf("wrote %s (weights of the first %d hidden units)\n", path,
               filters < hidden ? filters : hidden);
    }
    nb_tensor *start = ex_first_rows(&d.test, samples);
    int n_rows = 0;
    if (!start || !write_samples(ex_path(path, sizeof path, out, "_samples.png"), rbm, start, gibbs,
                                 seed + 11, &n_rows)) {
        fprintf(stderr, "%s: samples: %s\n", PROG.name, nb_last_error());
        rc = 1;
    } else {
        printf("wrote %s (rows: test images, then E[v|h] after 1, 10, ... %d Gibbs steps)\n", path,
               gibbs);
    }
    nb_tensor_free(start);
    nb_plot_opts po = {.title = "RBM training", .xlabel = "epoch"};
    if (nb_curves_write_csv(curves, ex_path(path, sizeof path, out, "_curves.csv")) != NB_OK ||
        nb_curves_write_png(curves, ex_path(path, sizeof path, out, "_curves.png"), &po) != NB_OK) {
        fprintf(stderr, "%s: writing curves: %s\n", PROG.name, nb_last_error());
        rc = 1;
    } else {
        printf("wrote %s_curves.png and %s_curves.csv\n", out, out);
    }
    printf("PLL train: %.2f before, %.2f after; reconstruction error: %.3f first epoch, %.3f "
           "last\n",
           pll0, pll, first_recon, recon);
    if (check && !(pll > pll0 && recon < first_recon)) {
        printf("check failed: the pseudo-log-likelihood or the reconstruction did not improve\n");
        rc = 1;
    }
done:
    nb_tensor_free(mon.train);
    nb_tensor_free(mon.test);
    nb_curves_free(curves);
    nb_batcher_free(it);
    nb_rbm_trainer_free(tr);
    nb_module_free(rbm);
    ex_images_free(&d);
    return rc;
}
