/* examples/grid_search.c — hyperparameter grid search with a train / validation / test split.
 *
 * The training images are shuffled and cut 60/20/20 (nb_dataset_split) into a training set, a
 * validation set and a test set. For every combination of learning rate x batch size x hidden
 * size an MLP 784 -> H -> 10 (ReLU, SGD with momentum 0.9) is trained on the training part for
 * --epochs epochs and scored on the validation part. The combination with the best validation
 * accuracy wins, and only the winner is evaluated on the test part: the test set plays no role
 * in the choice, so its accuracy is an honest estimate for new data. (Choosing by test accuracy
 * would make the reported number optimistic, since the best of many noisy scores is biased
 * upwards.) Every run goes to a CSV file; the table is printed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/images.h"
#include "common/util.h"
#include "nabla.h"

#define MAX_VALUES 8

static const ex_program PROG = {
    .name = "grid_search",
    .notes = "notes 001 (slides), hyper-parameters: grid search (done in Keras in the notes) on a "
             "60 / 20 / 20 split",
    .summary = "learning rate x batch size x hidden size, chosen on validation accuracy",
    .details =
        "Splits the training images 60/20/20 (seed --seed) into train / validation / test,\n"
        "trains an MLP 784 -> H -> 10 (ReLU, SGD momentum 0.9) for every combination of\n"
        "--lrs, --batches and --hiddens (comma-separated lists, at most 8 values each) for\n"
        "--epochs epochs, picks the best validation accuracy and reports the winner's test\n"
        "accuracy. Writes one CSV row per run to --csv.\n"
        "Data: Fashion-MNIST (Debian's dataset-fashion-mnist, or --data DIR; --limit\n"
        "limits the images used), or --synthetic generated images.\n"
        "--check exits with status 1 unless every run finished, the CSV has one row per run\n"
        "and the winner's test accuracy is at least --min-accuracy.\n",
};

/* "0.01,0.1" -> values; false on a malformed list. */
static bool parse_list(const char *s, double *v, int *n)
{
    *n = 0;
    while (*s) {
        char *end = NULL;
        const double x = strtod(s, &end);
        if (end == s || !(x > 0) || !isfinite(x) || *n == MAX_VALUES)
            return false;
        v[(*n)++] = x;
        if (*end == ',')
            end++;
        else if (*end)
            return false;
        s = end;
    }
    return *n > 0;
}

typedef struct config {
    double lr;
    int64_t batch, hidden;
    double train_loss, val_acc;
    double seconds;
} config;

/* Train one configuration; the returned module is the caller's. */
static nb_module *train_config(config *c, const nb_dataset *train, int epochs, uint64_t seed)
{
    nb_rng rng = nb_rng_seed(seed);
    nb_module *net = nb_sequential_new(
        3, (nb_module *[]){nb_linear_new(784, c->hidden, true, &rng), nb_relu_new(),
                           nb_linear_new(c->hidden, 10, true, &rng)});
    nb_sgd_opts so = nb_sgd_defaults();
    so.lr = c->lr;
    so.momentum = 0.9;
    nb_optim *opt = net ? nb_sgd_new(net, &so) : NULL;
    nb_step *step = nb_step_new();
    nb_batcher *it = nb_batcher_new(
        train, &(nb_batch_opts){.batch_size = c->batch, .shuffle = true, .seed = seed});
    nb_status st = (opt && step && it) ? NB_OK : nb_last_status();
    nb_loop_result r = {.loss = NAN};
    for (int ep = 0; ep < epochs && st == NB_OK; ep++)
        st = nb_train_epoch(net, opt, it, step, NULL, &r);
    /* A diverged run (a NaN loss, or NaN gradients refused by the optimizer) is a result, not a
     * failure. */
    c->train_loss = r.loss;
    if (st == NB_ERR_VALUE) {
        nb_clear_error();
        c->train_loss = NAN;
        st = NB_OK;
    }
    nb_batcher_free(it);
    nb_step_free(step);
    nb_optim_free(opt);
    if (st != NB_OK) {
        nb_module_free(net);
        return NULL;
    }
    return net;
}

int main(int argc, char **argv)
{
    int epochs = 2, max_samples = 0, n_synth = 2000;
    double min_acc = 0.5;
    uint64_t seed = 1;
    const char *lrs = "0.01,0.1", *batches = "32,128", *hiddens = "32,128";
    const char *data_dir = NULL, *csv = "grid_search.csv";
    bool synthetic = false, check = false;
    ex_opt opts[] = {
        {"lrs", EX_OPT_STRING, &lrs, "learning rates to try"},
        {"batches", EX_OPT_STRING, &batches, "batch sizes to try"},
        {"hiddens", EX_OPT_STRING, &hiddens, "hidden sizes to try"},
        {"epochs", EX_OPT_INT, &epochs, "epochs per run"},
        {"data", EX_OPT_STRING, &data_dir, "Fashion-MNIST directory (default: Debian's)"},
        {"synthetic", EX_OPT_FLAG, &synthetic, "generated images instead of Fashion-MNIST"},
        {"limit", EX_OPT_INT, &max_samples,
         "use at most N training images (0: all); with --synthetic: generate N (0: 2000)"},
        {"csv", EX_OPT_STRING, &csv, "CSV file with one row per run"},
        {"seed", EX_OPT_U64, &seed, "seed of the split, the weights and the batches"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless the search completed (see below)"},
        {"min-accuracy", EX_OPT_DOUBLE, &min_acc, "test accuracy of the winner for --check"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (synthetic && max_samples > 0) /* --limit: how many to generate */
        n_synth = max_samples;
    double lr_v[MAX_VALUES], batch_v[MAX_VALUES], hidden_v[MAX_VALUES];
    int n_lr, n_batch, n_hidden;
    if (!parse_list(lrs, lr_v, &n_lr) || !parse_list(batches, batch_v, &n_batch) ||
        !parse_list(hiddens, hidden_v, &n_hidden))
        return ex_usage_error(&PROG,
                              "--lrs, --batches and --hiddens take 1 to %d positive "
                              "numbers separated by commas",
                              MAX_VALUES);
    for (int i = 0; i < n_batch; i++)
        if (batch_v[i] != floor(batch_v[i]))
            return ex_usage_error(&PROG, "batch size %g is not an integer", batch_v[i]);
    for (int i = 0; i < n_hidden; i++)
        if (hidden_v[i] != floor(hidden_v[i]))
            return ex_usage_error(&PROG, "hidden size %g is not an integer", hidden_v[i]);
    if (epochs < 1 || max_samples < 0 || n_synth < 20)
        return ex_usage_error(&PROG,
                              "need --epochs >= 1, --limit >= 0, --limit (with --synthetic) >= 20");

    /* Only the training file is used: it is cut 60/20/20. */
    nb_dataset all, unused, train, val, test;
    memset(&train, 0, sizeof train);
    memset(&val, 0, sizeof val);
    memset(&test, 0, sizeof test);
    if (ex_load_images(PROG.name,
                       &(ex_data_opts){.dir = data_dir,
                                       .synthetic = synthetic,
                                       .limit = synthetic ? n_synth : max_samples,
                                       .test_limit = synthetic ? 1 : max_samples,
                                       .seed = seed,
                                       .layout = NB_LAYOUT_FLAT},
                       &all, &unused, NULL, 0) != NB_OK)
        return 1;
    nb_dataset_deinit(&unused);
    const int n_runs = n_lr * n_batch * n_hidden;
    config *runs = calloc((size_t)n_runs, sizeof *runs);
    FILE *f = NULL;
    nb_module *best_net = NULL;
    int status = 0;
    if (!runs || nb_dataset_split(&all, 0.6, 0.2, seed, &train, &val, &test) != NB_OK) {
        status = ex_fail(PROG.name, "splitting");
        goto done;
    }
    printf("split 60/20/20 (seed %llu): %lld training, %lld validation, %lld test images\n",
           (unsigned long long)seed, (long long)nb_dataset_size(&train),
           (long long)nb_dataset_size(&val), (long long)nb_dataset_size(&test));
    printf("grid: %d learning rates x %d batch sizes x %d hidden sizes = %d runs of %d epoch%s\n"
           "(MLP 784 -> H -> 10, ReLU, SGD momentum 0.9). The winner is chosen on validation\n"
           "accuracy; the test set is used once, for the winner only.\n\n",
           n_lr, n_batch, n_hidden, n_runs, epochs, epochs == 1 ? "" : "s");

    f = fopen(csv, "w");
    if (!f) {
        fprintf(stderr, "%s: cannot write %s\n", PROG.name, csv);
        status = 1;
        goto done;
    }
    fprintf(f, "lr,batch_size,hidden,train_loss,val_accuracy\n");
    printf("  run        lr  batch  hidden  train loss  val acc\n");
    int best = -1, k = 0, rows = 0;
    for (int i = 0; i < n_lr; i++)
        for (int j = 0; j < n_batch; j++)
            for (int h = 0; h < n_hidden; h++, k++) {
                config *c = &runs[k];
                *c = (config){
                    .lr = lr_v[i], .batch = (int64_t)batch_v[j], .hidden = (int64_t)hidden_v[h]};
                nb_module *net = train_config(c, &train, epochs, seed + 1);
                if (!net) {
                    status = ex_fail(PROG.name, "training");
                    goto done;
                }
                c->val_acc = isnan(c->train_loss) ? 0.0 : ex_classifier_accuracy(net, &val, 1000);
                printf("  %3d  %8g  %5lld  %6lld  %10.4f  %6.2f%%\n", k + 1, c->lr,
                       (long long)c->batch, (long long)c->hidden, c->train_loss, 100 * c->val_acc);
                fflush(stdout);
                rows += fprintf(f, "%g,%lld,%lld,%.6f,%.6f\n", c->lr, (long long)c->batch,
                                (long long)c->hidden, c->train_loss, c->val_acc) > 0;
                if (best < 0 || c->val_acc > runs[best].val_acc) {
                    best = k;
                    nb_module_free(best_net);
                    best_net = net;
                } else {
                    nb_module_free(net);
                }
            }
    const bool csv_ok = fclose(f) == 0;
    f = NULL;
    const double test_acc = ex_classifier_accuracy(best_net, &test, 1000);
    nb_module_free(best_net);
    best_net = NULL;
    const config *w = &runs[best];
    printf("\nwinner (best validation accuracy): lr %g, batch %lld, hidden %lld: validation "
           "%.2f%%\n",
           w->lr, (long long)w->batch, (long long)w->hidden, 100 * w->val_acc);
    printf("its test accuracy (the test set's only use): %.2f%%\n", 100 * test_acc);
    printf("wrote %s (%d rows)\n", csv, rows);

    if (check) {
        int failures = 0;
        printf("\n");
        const bool all_rows = csv_ok && rows == n_runs;
        printf("  check %d runs, %d CSV rows: %s\n", n_runs, rows, all_rows ? "ok" : "MISMATCH");
        failures += !all_rows;
        const bool acc_ok = test_acc >= min_acc;
        printf("  check winner's test accuracy %.2f%% >= %.2f%%: %s\n", 100 * test_acc,
               100 * min_acc, acc_ok ? "ok" : "MISMATCH");
        failures += !acc_ok;
        printf("%s\n", failures ? "the search did not complete as expected" : "search complete");
        status = failures ? 1 : 0;
    }

done:
    if (f)
        fclose(f);
    nb_module_free(best_net);
    free(runs);
    nb_dataset_deinit(&all);
    nb_dataset_deinit(&train);
    nb_dataset_deinit(&val);
    nb_dataset_deinit(&test);
    return status;
}
