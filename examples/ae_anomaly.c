/* examples/ae_anomaly.c — anomaly detection with an autoencoder (notes 001, "Autoencoders:
 * aplicaciones: detección de anomalías").
 *
 * An autoencoder is trained on the training images of nine classes only; the tenth class
 * (--anomaly-class) is never seen. Every test image is then scored by its reconstruction error
 * (mean squared error over its pixels): images like the training ones are reconstructed well,
 * the unseen class badly. Ranking the test images by that score separates the classes; the ROC
 * AUC is the probability that an image of the unseen class scores higher than one of the nine
 * others (1 = perfect ranking, 0.5 = chance), computed by counting pairs (Mann-Whitney).
 * Writes PREFIX_most.png and PREFIX_least.png (the most / least anomalous test images above
 * their reconstructions) and PREFIX_loss.png/.csv. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/cli.h"
#include "common/unsup.h"
#include "nabla.h"

static const ex_program PROG = {
    .name = "ae_anomaly",
    .notes = "notes 001 (slides), autoencoders: the application \"detección de anomalías\"",
    .summary = "anomaly detection: an autoencoder trained on nine classes ranks the tenth",
    .details =
        "Reproduces the \"deteccion de anomalias\" application of autoencoders (notes 001,\n"
        "Autoencoders; the notes give no numbers). Autoencoder 784-128-32 (ReLU, sigmoid output),\n"
        "MSE, Adam, trained on the training images whose class is not --anomaly-class. Every\n"
        "test image is scored by its reconstruction error; prints the mean score per class and\n"
        "the ROC AUC of the unseen class against the others, and writes the most and least\n"
        "anomalous test images. Data as the other autoencoder programs: Fashion-MNIST by\n"
        "default, --data DIR (MNIST-format files), --synthetic. --check exits 1 unless the AUC\n"
        "is at least --min-auc.\n",
};

typedef struct scored {
    double score;
    int64_t index;
    int anomalous;
} scored;

static int by_score(const void *a, const void *b)
{
    double x = ((const scored *)a)->score, y = ((const scored *)b)->score;
    return (x > y) - (x < y);
}

/* ROC AUC of the scores for "anomalous" against the rest: the fraction of (anomalous, normal)
 * pairs ranked the right way, ties counted half. s must be sorted by ascending score. */
static double roc_auc(const scored *s, int64_t n)
{
    double pairs_right = 0.0;
    int64_t normals_below = 0, n_anom = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i, tie_normals = 0, tie_anom = 0;
        while (j < n && s[j].score == s[i].score) {
            tie_anom += s[j].anomalous;
            tie_normals += !s[j].anomalous;
            j++;
        }
        pairs_right += (double)tie_anom * ((double)normals_below + 0.5 * (double)tie_normals);
        normals_below += tie_normals;
        n_anom += tie_anom;
        i = j;
    }
    return pairs_right / ((double)n_anom * (double)normals_below);
}

/* Rows idx[0..k-1] of ds.x and their reconstructions as one PNG (inputs above outputs). */
static bool write_rows(const nb_dataset *ds, nb_module *ae, const scored *s, int k,
                       const char *path, const char *title, const char *caption)
{
    int64_t idx[64];
    for (int i = 0; i < k; i++)
        idx[i] = s[i].index;
    nb_dataset sub;
    if (nb_dataset_subset(ds, idx, k, &sub) != NB_OK)
        return false;
    nb_tensor *rec = ex_forward_copy(ae, sub.x);
    bool ok =
        rec && ex_write_rows_png(PROG.name, path, (nb_tensor *[]){sub.x, rec}, 2, title,
                                 (const char *const[]){"test image", "reconstruction"}, caption);
    nb_tensor_free(rec);
    nb_dataset_deinit(&sub);
    return ok;
}

int main(int argc, char **argv)
{
    int epochs = 5, batch = 64, limit = 0, test_limit = 0, code = 32, anomaly = 1, show = 10;
    double lr = 1e-3, min_auc = 0.8;
    uint64_t seed = 1;
    bool synthetic = false, check = false;
    const char *data = NULL, *out = "ae_anomaly";
    ex_opt opts[] = {
        {"anomaly-class", EX_OPT_INT, &anomaly, "class left out of training (0..9)"},
        {"epochs", EX_OPT_INT, &epochs, "passes over the training images"},
        {"batch", EX_OPT_INT, &batch, "minibatch size"},
        {"lr", EX_OPT_DOUBLE, &lr, "Adam learning rate"},
        {"code", EX_OPT_INT, &code, "code size (784-128-CODE)"},
        {"limit", EX_OPT_INT, &limit, "use only the first N training images (0: all)"},
        {"test-limit", EX_OPT_INT, &test_limit, "use only the first N test images (0: all)"},
        {"data", EX_OPT_STRING, &data, "directory with MNIST-format IDX files"},
        {"synthetic", EX_OPT_FLAG, &synthetic, "generated images instead of a dataset"},
        {"show", EX_OPT_INT, &show, "images in each PNG (most / least anomalous)"},
        {"out", EX_OPT_STRING, &out, "prefix of the output files"},
        {"seed", EX_OPT_U64, &seed, "seed of the weights and the batch order"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless the AUC reaches --min-auc"},
        {"min-auc", EX_OPT_DOUBLE, &min_auc, "AUC required by --check"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (epochs < 1 || batch < 1 || limit < 0 || test_limit < 0 || code < 1 || !(lr > 0) ||
        anomaly < 0 || anomaly > 9 || show < 1 || show > 64)
        return ex_usage_error(&PROG, "need --epochs/--batch/--code >= 1, --limit/--test-limit "
                                     ">= 0, --lr > 0, --anomaly-class in 0..9, --show in 1..64");

    ex_images d;
    if (!ex_images_load(PROG.name, data, synthetic, limit, test_limit, seed, &d))
        return 1;
    const int64_t n_train = nb_dataset_size(&d.train), n_test = nb_dataset_size(&d.test);
    int64_t *keep = malloc(sizeof *keep * (size_t)n_train);
    scored *s = malloc(sizeof *s * (size_t)n_test);
    int64_t n_keep = 0;
    for (int64_t i = 0; keep && i < n_train; i++)
        if ((int)nb_tensor_get(d.train.y, i) != anomaly)
            keep[n_keep++] = i;
    nb_dataset normal = {0};
    nb_rng rng = nb_rng_seed(seed);
    nb_module *ae = NULL;
    nb_optim *opt = NULL;
    nb_batcher *it = NULL;
    nb_step *step = nb_step_new();
    nb_curves *curves = nb_curves_new();
    int rc = 1;
    if (!keep || !s || !step || !curves || nb_dataset_subset(&d.train, keep, n_keep, &normal))
        goto fail;
    const char *const *names = d.train.class_names;
    printf("ae_anomaly: %s\n", d.source);
    printf("training on %lld of %lld training images (every class but %d%s%s%s); scoring %lld "
           "test images\n",
           (long long)n_keep, (long long)n_train, anomaly, names ? " \"" : "",
           names ? names[anomaly] : "", names ? "\"" : "", (long long)n_test);

    ae = nb_autoencoder_new(3, (const int64_t[]){784, 128, code}, NULL, &rng);
    nb_adam_opts ao = nb_adam_defaults();
    ao.lr = lr;
    opt = ae ? nb_adam_new(ae, &ao) : NULL;
    it = nb_batcher_new(&normal,
                        &(nb_batch_opts){.batch_size = batch, .shuffle = true, .seed = seed});
    if (!ae || !opt || !it)
        goto fail;
    int64_t gstep = 0;
    for (int e = 1; e <= epochs; e++) {
        double loss = ex_train_epoch(PROG.name, ae, opt, it, step, ex_loss_mse, NULL, NULL, curves,
                                     "train MSE (nine classes)", &gstep);
        if (isnan(loss)) {
            rc = 1;
            goto done;
        }
        printf("epoch %2d/%d  train loss %.5f\n", e, epochs, loss);
    }

    /* Score every test image by its own reconstruction error. */
    nb_tensor *rec = ex_forward_copy(ae, d.test.x);
    if (!rec)
        goto fail;
    double class_sum[10] = {0};
    int64_t class_n[10] = {0};
    for (int64_t i = 0; i < n_test; i++) {
        double err = 0.0;
        for (int64_t p = 0; p < 784; p++) {
            double diff = nb_tensor_get(rec, i * 784 + p) - nb_tensor_get(d.test.x, i * 784 + p);
            err += diff * diff;
        }
        int c = (int)nb_tensor_get(d.test.y, i);
        s[i] = (scored){err / 784.0, i, c == anomaly};
        class_sum[c] += s[i].score;
        class_n[c]++;
    }
    nb_tensor_free(rec);
    printf("\nmean reconstruction error (MSE) of the test images per class:\n");
    for (int c = 0; c < 10; c++)
        if (class_n[c])
            printf("  class %d %-12s %8.5f%s\n", c, names ? names[c] : "",
                   class_sum[c] / (double)class_n[c], c == anomaly ? "   <- never trained on" : "");
    qsort(s, (size_t)n_test, sizeof *s, by_score);
    if (!class_n[anomaly] || class_n[anomaly] == n_test) {
        fprintf(stderr, "ae_anomaly: the test images must include class %d and others\n", anomaly);
        goto done;
    }
    const double auc = roc_auc(s, n_test);
    printf("\nROC AUC of class %d against the others, ranked by reconstruction error: %.4f\n"
           "(1 = every unseen-class image scores above every other image, 0.5 = chance)\n",
           anomaly, auc);
    int k = (int)(show < n_test ? show : n_test), anom_top = 0;
    for (int i = 0; i < k; i++)
        anom_top += s[n_test - 1 - i].anomalous;
    printf("of the %d most anomalous test images, %d are of class %d\n", k, anom_top, anomaly);

    char path[1024];
    scored top[64];
    for (int i = 0; i < k; i++)
        top[i] = s[n_test - 1 - i];
    char caption[128];
    snprintf(caption, sizeof caption, "autoencoder trained without class %d; ranked by MSE",
             anomaly);
    if (!write_rows(&d.test, ae, top, k, ex_path(path, sizeof path, out, "_most.png"),
                    "Most anomalous test images", caption) ||
        !write_rows(&d.test, ae, s, k, ex_path(path, sizeof path, out, "_least.png"),
                    "Least anomalous test images", caption))
        goto fail;
    printf("wrote %s_most.png and %s_least.png (top: test images, bottom: reconstructions)\n", out,
           out);
    nb_plot_opts po = {.title = "autoencoder trained on nine classes",
                       .xlabel = "step",
                       .ylabel = "MSE",
                       .log_y = true};
    if (nb_curves_write_csv(curves, ex_path(path, sizeof path, out, "_loss.csv")) != NB_OK ||
        nb_curves_write_png(curves, ex_path(path, sizeof path, out, "_loss.png"), &po) != NB_OK)
        goto fail;
    printf("wrote %s_loss.png and %s_loss.csv\n", out, out);
    rc = 0;
    if (check && !(auc >= min_auc)) {
        printf("check failed: AUC %.4f below %.2f\n", auc, min_auc);
        rc = 1;
    }
    goto done;
fail:
    fprintf(stderr, "ae_anomaly: %s\n", nb_last_error());
done:
    nb_curves_free(curves);
    nb_step_free(step);
    nb_batcher_free(it);
    nb_optim_free(opt);
    nb_module_free(ae);
    nb_dataset_deinit(&normal);
    free(s);
    free(keep);
    ex_images_free(&d);
    return rc;
}
