/* examples/dropout_demo.c — dropout against overfitting (notes 001, "Regularización": dropout
 * switches neurons off at random with a probability; 004: it prevents co-adaptation).
 *
 * An overfitting setting: 30 noisy samples of y = sin(3x) + N(0, 0.3^2) on [-1, 1] and a large
 * MLP 1-200-200-1 (ReLU) trained with Adam on all 30 at once for --steps steps. Without dropout
 * the network follows the noise: its training error falls far below the noise variance while
 * its error on 500 fresh samples rises. With dropout (p = --p after each hidden layer; off at
 * evaluation) the training error stays near the noise level and the test error lower. Prints
 * both every --every steps and writes PREFIX_curves.png (training and test MSE of both) and
 * PREFIX_fit.png (the data, the true function and both fits). */
#include <math.h>
#include <stdio.h>

#include "common/cli.h"
#include "common/util.h"
#include "nabla.h"

enum { N_TRAIN = 30, N_TEST = 500, N_PLOT = 101 };

static nb_module *build(double p, uint64_t seed)
{
    nb_rng rng = nb_rng_seed(seed);
    nb_module *m = nb_sequential_new(0, NULL);
    const int64_t w[4] = {1, 200, 200, 1};
    for (int l = 0; m && l < 3; l++) {
        bool ok = nb_sequential_append(m, nb_linear_new(w[l], w[l + 1], true, &rng)) == NB_OK;
        if (ok && l < 2)
            ok = nb_sequential_append(m, nb_relu_new()) == NB_OK &&
                 (p == 0 ||
                  nb_sequential_append(m, nb_dropout_new(p, seed + 7 + (uint64_t)l)) == NB_OK);
        if (!ok) {
            nb_module_free(m);
            m = NULL;
        }
    }
    return m;
}

/* MSE of m on (x, y) in eval mode, no gradients; out (may be NULL) receives the predictions. */
static double evaluate(nb_module *m, nb_tensor *x, nb_tensor *y, double *out)
{
    nb_step *step = nb_step_new();
    double mse = NAN;
    if (step && nb_step_begin(step) == NB_OK) {
        const bool was = nb_set_grad_enabled(false);
        nb_module_train(m, false);
        nb_tensor *pred = nb_module_forward(m, x);
        nb_tensor *l = pred ? nb_mse(pred, y, NB_REDUCE_MEAN) : NULL;
        if (l) {
            mse = nb_tensor_item(l);
            for (int64_t i = 0; out && i < nb_tensor_numel(pred); i++)
                out[i] = nb_tensor_get(pred, i);
        }
        nb_module_train(m, true);
        nb_set_grad_enabled(was);
        nb_step_end(step);
    }
    nb_step_free(step);
    return mse;
}

static const ex_program PROG = {
    .name = "dropout_demo",
    .summary = "dropout against overfitting: training and test error with and without dropout",
    .details = "Reproduces notes 001, \"Regularización\" (dropout), and 003's training\n"
               "techniques. 30 noisy samples of sin(3x), MLP 1-200-200-1, Adam lr --lr, full\n"
               "batch; prints training and test MSE of the plain and the dropout network every\n"
               "--every steps; writes PREFIX_curves.png and PREFIX_fit.png. --check exits 1\n"
               "unless, at the end, the plain network's test error is above its training error\n"
               "by more than the dropout network's, and dropout's test error is the lower.\n",
};

int main(int argc, char **argv)
{
    int steps = 2000, every = 250;
    double p = 0.5, lr = 3e-3, noise = 0.3;
    uint64_t seed = 1;
    bool check = false;
    const char *out = "dropout_demo";
    ex_opt opts[] = {
        {"p", EX_OPT_DOUBLE, &p, "dropout probability"},
        {"steps", EX_OPT_INT, &steps, "Adam steps"},
        {"every", EX_OPT_INT, &every, "print every N steps"},
        {"lr", EX_OPT_DOUBLE, &lr, "Adam learning rate"},
        {"seed", EX_OPT_U64, &seed, "seed of the data and the weights"},
        {"out", EX_OPT_STRING, &out, "prefix of the PNG files"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless dropout overfits less"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (!(p > 0 && p < 1) || steps < 1 || every < 1 || !(lr > 0))
        return ex_usage_error(&PROG, "need --p in (0, 1), --steps/--every >= 1, --lr > 0");

    static float xs[N_TEST], ys[N_TEST];
    static double fit[2][N_PLOT];
    nb_rng rng = nb_rng_seed(seed);
    float xtr[N_TRAIN], ytr[N_TRAIN];
    for (int i = 0; i < N_TRAIN; i++) {
        xtr[i] = (float)(2 * nb_rng_uniform(&rng) - 1);
        ytr[i] = (float)(sin(3 * xtr[i]) + noise * nb_rng_normal(&rng));
    }
    for (int i = 0; i < N_TEST; i++) {
        xs[i] = (float)(2 * nb_rng_uniform(&rng) - 1);
        ys[i] = (float)(sin(3 * xs[i]) + noise * nb_rng_normal(&rng));
    }
    nb_tensor *x = nb_tensor_from_data(NB_F32, 2, (int64_t[]){N_TRAIN, 1}, xtr);
    nb_tensor *y = nb_tensor_from_data(NB_F32, 2, (int64_t[]){N_TRAIN, 1}, ytr);
    nb_tensor *xt = nb_tensor_from_data(NB_F32, 2, (int64_t[]){N_TEST, 1}, xs);
    nb_tensor *yt = nb_tensor_from_data(NB_F32, 2, (int64_t[]){N_TEST, 1}, ys);
    nb_tensor *xp = nb_tensor_zeros(NB_F32, 2, (int64_t[]){N_PLOT, 1});
    for (int i = 0; xp && i < N_PLOT; i++)
        nb_tensor_set(xp, i, -1 + 2.0 * i / (N_PLOT - 1));
    nb_module *net[2] = {build(0, seed), build(p, seed)};
    nb_optim *opt[2] = {NULL, NULL};
    nb_curves *c = nb_curves_new();
    for (int k = 0; k < 2 && net[k]; k++) {
        nb_adam_opts ao = nb_adam_defaults();
        ao.lr = lr;
        opt[k] = nb_adam_new(net[k], &ao);
    }
    nb_step *step = nb_step_new();
    nb_status st = x && y && xt && yt && xp && opt[0] && opt[1] && c && step ? NB_OK : NB_ERR_NOMEM;
    static const char *const NAMES[2] = {"no dropout", "dropout"};
    double tr[2] = {NAN, NAN}, te[2] = {NAN, NAN};
    if (st == NB_OK)
        printf("30 samples of sin(3x) + N(0, %g^2) (noise variance %.3f), MLP 1-200-200-1, Adam "
               "lr %g\n  step   train: no dropout  dropout   test: no dropout  dropout\n",
               noise, noise * noise, lr);
    for (int t = 1; st == NB_OK && t <= steps; t++) {
        for (int k = 0; k < 2 && st == NB_OK; k++) {
            if ((st = nb_step_begin(step)) != NB_OK)
                break;
            nb_optim_zero_grad(opt[k]);
            nb_tensor *l = nb_mse(nb_module_forward(net[k], x), y, NB_REDUCE_MEAN);
            st = l ? nb_backward(l) : nb_last_status();
            if (st == NB_OK)
                st = nb_optim_update(opt[k]);
            nb_step_end(step);
        }
        if (st != NB_OK || (t % every && t != steps))
            continue;
        for (int k = 0; k < 2; k++) {
            char name[32];
            tr[k] = evaluate(net[k], x, y, NULL);
            te[k] = evaluate(net[k], xt, yt, NULL);
            snprintf(name, sizeof name, "train %s", NAMES[k]);
            nb_curves_add(c, name, t, tr[k]);
            snprintf(name, sizeof name, "test %s", NAMES[k]);
            nb_curves_add(c, name, t, te[k]);
        }
        printf("  %5d          %8.4f  %8.4f            %8.4f  %8.4f\n", t, tr[0], tr[1], te[0],
               te[1]);
    }
    char path[1024];
    if (st == NB_OK) {
        snprintf(path, sizeof path, "%s_curves.png", out);
        nb_plot_opts po = {.title = "dropout against overfitting",
                           .xlabel = "step",
                           .ylabel = "MSE (eval mode)",
                           .log_y = true};
        st = nb_curves_write_png(c, path, &po);
    }
    nb_curves_free(c);
    c = st == NB_OK ? nb_curves_new() : NULL;
    nb_tensor *zero = c ? nb_tensor_zeros(NB_F32, 2, (int64_t[]){N_PLOT, 1}) : NULL;
    for (int k = 0; zero && k < 2; k++)
        evaluate(net[k], xp, zero, fit[k]);
    nb_tensor_free(zero);
    for (int i = 0; c && i < N_TRAIN; i++) {
        nb_curves_add(c, "training samples", xtr[i], ytr[i]);
        nb_curves_add(c, "training samples", NAN, NAN);
    }
    for (int i = 0; c && i < N_PLOT; i++) {
        const double xv = -1 + 2.0 * i / (N_PLOT - 1);
        nb_curves_add(c, "sin(3x)", xv, sin(3 * xv));
        nb_curves_add(c, "no dropout", xv, fit[0][i]);
        nb_curves_add(c, "dropout", xv, fit[1][i]);
    }
    if (c) {
        snprintf(path, sizeof path, "%s_fit.png", out);
        nb_plot_opts po = {.title = "the fits after training", .xlabel = "x", .ylabel = "y"};
        st = nb_curves_write_png(c, path, &po);
    }
    nb_curves_free(c);
    nb_step_free(step);
    for (int k = 0; k < 2; k++) {
        nb_optim_free(opt[k]);
        nb_module_free(net[k]);
    }
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_tensor_free(xt);
    nb_tensor_free(yt);
    nb_tensor_free(xp);
    if (st != NB_OK)
        return ex_fail(PROG.name, "training");
    printf("gap test - train: no dropout %.4f, dropout %.4f\nwrote %s_curves.png and %s_fit.png\n",
           te[0] - tr[0], te[1] - tr[1], out, out);
    if (check && !(te[0] - tr[0] > te[1] - tr[1] && te[1] < te[0])) {
        printf("check failed: dropout did not overfit less\n");
        return 1;
    }
    return 0;
}
