/* examples/optimizers.c — the optimizers of notes 001 ("Entrenamiento batch": gradient descent,
 * stochastic and mini-batch gradient descent, momentum, Nesterov, Adagrad, AdaDelta, Adam, ...)
 * side by side, all from include/nabla/optim.h.
 *
 * Part 1, a valley: f(x, y) = 0.1 x^2 + 2 y^2 (curvatures 0.2 and 4: a long, narrow valley),
 * from (-4, 1.5), 100 steps of each optimizer on the point itself. Plain gradient descent must
 * keep its step below 2/4 (the steep direction) and runs here at 0.4, near that limit; momentum
 * and Nesterov (0.9) take smaller steps that build up speed along the valley and overshoot
 * across it; Adagrad, RMSprop and Adam scale each coordinate by its own gradient history, so
 * both directions move alike. Prints f after 10, 30 and 100 steps and writes PREFIX_valley.png
 * (contours and every trajectory).
 *
 * Part 2, a small network: an MLP 2-16-1 (tanh) fitted to y = sin(pi x1) x2 + noise on 512
 * points, mean squared error. First plain SGD with batch 1 (stochastic), 32 (mini-batch) and
 * 512 (full batch: gradient descent), same learning rate and epochs: the loss per epoch and
 * the number of updates. Then every optimizer with batch 32 (NAdam, RAdam and Adamax in the
 * tables only). Writes PREFIX_batch.png and PREFIX_network.png (loss per epoch). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/util.h"
#include "nabla.h"

#define EX_PI 3.14159265358979323846

/* The plots have eight colours: the first N_PLOT optimizers are drawn, all are in the tables. */
enum { N_OPT = 11, N_PLOT = 8, N_DATA = 512, VALLEY_STEPS = 100 };

static const char *const OPT_NAMES[N_OPT] = {"GD/SGD",   "momentum", "Nesterov", "Adagrad",
                                             "AdaDelta", "RMSprop",  "Adam",     "AdamW",
                                             "NAdam",    "RAdam",    "Adamax"};

/* Optimizer k over `module` (or, with module NULL, over the tensor p), with a learning rate
 * suited to the problem (the valley or the network). */
static nb_optim *make_optim(int k, nb_module *module, nb_tensor *p, bool valley)
{
    nb_optim *o = NULL;
    if (k <= 2) {
        nb_sgd_opts so = nb_sgd_defaults();
        so.lr = valley ? (k ? 0.05 : 0.4) : (k ? 0.02 : 0.1);
        so.momentum = k ? 0.9 : 0;
        so.nesterov = k == 2;
        o = nb_sgd_new(module, &so);
    } else if (k == 3) {
        nb_adagrad_opts ao = nb_adagrad_defaults();
        ao.lr = valley ? 1.0 : 0.05;
        o = nb_adagrad_new(module, &ao);
    } else if (k == 4) {
        nb_adadelta_opts ad = nb_adadelta_defaults();
        o = nb_adadelta_new(module, &ad);
    } else if (k == 5) {
        nb_rmsprop_opts ro = nb_rmsprop_defaults();
        ro.lr = valley ? 0.1 : 0.005;
        o = nb_rmsprop_new(module, &ro);
    } else if (k <= 7) {
        nb_adam_opts ao = k == 6 ? nb_adam_defaults() : nb_adamw_defaults();
        ao.lr = valley ? 0.3 : 0.01;
        o = k == 6 ? nb_adam_new(module, &ao) : nb_adamw_new(module, &ao);
    } else if (k == 8) {
        nb_nadam_opts no = nb_nadam_defaults();
        no.lr = valley ? 0.3 : 0.01;
        o = nb_nadam_new(module, &no);
    } else if (k == 9) {
        nb_radam_opts ro = nb_radam_defaults();
        ro.lr = valley ? 0.3 : 0.01;
        o = nb_radam_new(module, &ro);
    } else {
        nb_adamax_opts mo = nb_adamax_defaults();
        mo.lr = valley ? 0.3 : 0.02;
        o = nb_adamax_new(module, &mo);
    }
    if (o && p && nb_optim_add_param(o, "p", p) != NB_OK) {
        nb_optim_free(o);
        o = NULL;
    }
    return o;
}

static double valley_f(double x, double y)
{
    return 0.1 * x * x + 2 * y * y;
}

/* Part 1. Returns the number of optimizers that did not lower f, or -1 on an error. */
static int valley(const char *out)
{
    nb_curves *c = nb_curves_new();
    if (!c)
        return -1;
    for (int k = 1; k <= 5; k++) { /* contours f = 0.1 x^2 + 2 y^2 = level */
        const double level = 0.35 * k * k;
        for (int a = 0; a <= 72; a++)
            nb_curves_add(c, "contours of f", sqrt(level / 0.1) * cos(a * EX_PI / 36),
                          sqrt(level / 2) * sin(a * EX_PI / 36));
        nb_curves_add(c, "contours of f", NAN, NAN);
    }
    printf("Part 1: f(x, y) = 0.1 x^2 + 2 y^2 from (-4, 1.5), f = %.4f\n", valley_f(-4, 1.5));
    printf("  %-9s %-22s %10s %10s %10s\n", "optimizer", "settings", "f @ 10", "f @ 30", "f @ 100");
    int worse = 0;
    for (int k = 0; k < N_OPT; k++) {
        nb_tensor *p = nb_tensor_from_data(NB_F64, 1, (int64_t[]){2}, (double[]){-4.0, 1.5});
        nb_step *step = nb_step_new();
        nb_optim *o = p && nb_tensor_set_requires_grad(p, true) == NB_OK
                          ? make_optim(k, NULL, p, true)
                          : NULL;
        double f_at[3] = {0};
        nb_status st = o && step ? NB_OK : NB_ERR_NOMEM;
        for (int t = 0; st == NB_OK && t <= VALLEY_STEPS; t++) {
            const double x = nb_tensor_get(p, 0), y = nb_tensor_get(p, 1);
            nb_curves_add(c, OPT_NAMES[k], x, y);
            if (t == 10 || t == 30 || t == 100)
                f_at[t == 10 ? 0 : t == 30 ? 1 : 2] = valley_f(x, y);
            if (t == VALLEY_STEPS || (st = nb_step_begin(step)) != NB_OK)
                break;
            nb_optim_zero_grad(o);
            /* f = sum(coef * p^2), coef = (0.1, 2) */
            nb_tensor *coef = nb_constant(NB_F64, 1, (int64_t[]){2}, 0.1);
            if (coef)
                nb_tensor_set(coef, 1, 2.0);
            nb_tensor *f = coef ? nb_sum_all(nb_mul(coef, nb_mul(p, p))) : NULL;
            st = f ? nb_backward(f) : nb_last_status();
            if (st == NB_OK)
                st = nb_optim_update(o);
            nb_step_end(step);
        }
        char settings[64];
        snprintf(settings, sizeof settings, "%s lr %g", nb_optim_name(o), nb_optim_get_lr(o));
        if (st == NB_OK)
            printf("  %-9s %-22s %10.3e %10.3e %10.3e\n", OPT_NAMES[k], settings, f_at[0], f_at[1],
                   f_at[2]);
        worse += st == NB_OK && !(f_at[2] < valley_f(-4, 1.5));
        nb_optim_free(o);
        nb_step_free(step);
        nb_tensor_free(p);
        if (st != NB_OK) {
            nb_curves_free(c);
            return -1;
        }
    }
    char path[1024];
    snprintf(path, sizeof path, "%s_valley.png", out);
    nb_plot_opts po = {.width = 900,
                       .height = 500,
                       .title = "100 steps on f = 0.1 x^2 + 2 y^2",
                       .xlabel = "x",
                       .ylabel = "y",
                       /* eight colours: AdamW, on Adam's path here, is left out */
                       .series = "contours of f,GD/SGD,momentum,Nesterov,Adagrad,AdaDelta,"
                                 "RMSprop,Adam"};
    nb_status st = nb_curves_write_png(c, path, &po);
    nb_curves_free(c);
    if (st != NB_OK)
        return -1;
    printf("  (momentum 0.9 for momentum and Nesterov; AdaDelta with its default lr 1, rho 0.9,\n"
           "  eps 1e-6 starts with steps of about sqrt(eps) = 1e-3 and is still slow here)\n");
    printf("  wrote %s\n  (AdamW, on Adam's path, and NAdam, RAdam, Adamax are left out: the plot "
           "has eight colours)\n\n",
           path);
    return worse;
}

typedef struct data {
    double x[N_DATA][2], y[N_DATA];
} data;

/* One run of the network with optimizer k and batch size `batch`; the mean training loss of
 * every epoch goes to loss[0 .. epochs] (loss[0]: before training). */
static nb_status train(const data *d, int k, int batch, int epochs, double lr_sgd, uint64_t seed,
                       double *loss, int64_t *updates)
{
    nb_rng rng = nb_rng_seed(seed);
    nb_module *net =
        nb_mlp_new(3, (const int64_t[]){2, 16, 1}, NB_ACT_TANH, NB_ACT_NONE, &rng, NB_F64);
    nb_optim *o = net ? make_optim(k, net, NULL, false) : NULL;
    nb_step *step = nb_step_new();
    int perm[N_DATA];
    double bx[N_DATA * 2], by[N_DATA];
    nb_status st = net && o && step ? NB_OK : NB_ERR_NOMEM;
    if (st == NB_OK && k == 0)
        st = nb_optim_set_lr(o, lr_sgd);
    for (int i = 0; i < N_DATA; i++)
        perm[i] = i;
    *updates = 0;
    for (int e = 0; st == NB_OK && e <= epochs; e++) {
        const bool eval = e == 0; /* epoch 0: the loss before training, no update */
        double sum = 0;
        for (int i = N_DATA - 1; i > 0 && !eval; i--) { /* shuffle */
            const int j = (int)nb_rng_below(&rng, (uint64_t)(i + 1)), t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        for (int b0 = 0; st == NB_OK && b0 < N_DATA; b0 += batch) {
            const int n = b0 + batch <= N_DATA ? batch : N_DATA - b0;
            for (int i = 0; i < n; i++) {
                bx[2 * i] = d->x[perm[b0 + i]][0];
                bx[2 * i + 1] = d->x[perm[b0 + i]][1];
                by[i] = d->y[perm[b0 + i]];
            }
            if ((st = nb_step_begin(step)) != NB_OK)
                break;
            nb_optim_zero_grad(o);
            nb_tensor *xt = nb_tensor_from_data(NB_F64, 2, (int64_t[]){n, 2}, bx);
            nb_tensor *yt = nb_tensor_from_data(NB_F64, 2, (int64_t[]){n, 1}, by);
            nb_tensor *l = xt && yt ? nb_mse(nb_module_forward(net, xt), yt, NB_REDUCE_MEAN) : NULL;
            st = l ? NB_OK : nb_last_status();
            if (st == NB_OK) {
                sum += nb_tensor_item(l) * n;
                if (!eval && (st = nb_backward(l)) == NB_OK && (st = nb_optim_update(o)) == NB_OK)
                    ++*updates;
            }
            nb_step_end(step);
            nb_tensor_free(xt);
            nb_tensor_free(yt);
        }
        loss[e] = sum / N_DATA;
    }
    nb_step_free(step);
    nb_optim_free(o);
    nb_module_free(net);
    return st;
}

static nb_status write_curves(const char *path, const char *title, int n, const char *const *names,
                              const double *loss, int epochs)
{
    nb_curves *c = nb_curves_new();
    for (int k = 0; c && k < n; k++)
        for (int e = 0; e <= epochs; e++)
            nb_curves_add(c, names[k], e, loss[k * (epochs + 1) + e]);
    nb_plot_opts po = {.title = title, .xlabel = "epoch", .ylabel = "training MSE", .log_y = true};
    nb_status st = c ? nb_curves_write_png(c, path, &po) : NB_ERR_NOMEM;
    nb_curves_free(c);
    return st;
}

static const ex_program PROG = {
    .name = "optimizers",
    .summary = "GD, SGD, mini-batch, momentum, Nesterov, Adagrad, AdaDelta, RMSprop, Adam, AdamW, "
               "NAdam, RAdam, Adamax",
    .details = "Reproduces notes 001, \"Entrenamiento batch\" (batch size 1 / mini-batch / full\n"
               "batch, and the list of optimizers). Part 1: 100 steps of each optimizer on the\n"
               "valley f = 0.1 x^2 + 2 y^2 (table and PREFIX_valley.png with the trajectories).\n"
               "Part 2: an MLP 2-16-1 fitted to 512 points, SGD with batch 1, 32 and 512, then\n"
               "every optimizer with batch 32 (tables, PREFIX_batch.png, PREFIX_network.png).\n"
               "--check exits 1 unless every optimizer lowers f and the network's loss.\n",
};

int main(int argc, char **argv)
{
    int epochs = 20;
    uint64_t seed = 1;
    bool check = false;
    const char *out = "optimizers";
    ex_opt opts[] = {
        {"epochs", EX_OPT_INT, &epochs, "epochs of part 2"},
        {"seed", EX_OPT_U64, &seed, "seed of the data, the weights and the batch order"},
        {"out", EX_OPT_STRING, &out, "prefix of the PNG files"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless every optimizer lowers the loss"},
    };
    ex_args_result ar = ex_parse_args(&PROG, opts, 4, argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (epochs < 1 || epochs > 1000)
        return ex_usage_error(&PROG, "--epochs must be in 1..1000, got %d", epochs);

    int bad = valley(out);
    if (bad < 0)
        return ex_fail(PROG.name, "part 1");

    static data d;
    nb_rng rng = nb_rng_seed(seed);
    for (int i = 0; i < N_DATA; i++) {
        d.x[i][0] = 2 * nb_rng_uniform(&rng) - 1;
        d.x[i][1] = 2 * nb_rng_uniform(&rng) - 1;
        d.y[i] = sin(EX_PI * d.x[i][0]) * d.x[i][1] + 0.05 * nb_rng_normal(&rng);
    }
    double *loss = malloc(sizeof *loss * (size_t)(N_OPT * (epochs + 1)));
    if (!loss)
        return ex_fail(PROG.name, "memory");
    char path[1024];

    printf("Part 2: MLP 2-16-1 (tanh), y = sin(pi x1) x2 + noise, %d points, %d epochs\n", N_DATA,
           epochs);
    printf("  plain SGD, lr 0.1, by batch size:\n  %-26s %8s %12s %12s\n", "", "updates",
           "MSE epoch 1", "MSE last");
    static const int BATCHES[3] = {1, 32, N_DATA};
    static const char *const BATCH_NAMES[3] = {"batch 1 (stochastic)", "batch 32 (mini-batch)",
                                               "batch 512 (full: GD)"};
    nb_status st = NB_OK;
    for (int b = 0; st == NB_OK && b < 3; b++) {
        int64_t updates = 0;
        double *l = loss + b * (epochs + 1);
        st = train(&d, 0, BATCHES[b], epochs, 0.1, seed, l, &updates);
        if (st == NB_OK)
            printf("  %-26s %8lld %12.5f %12.5f\n", BATCH_NAMES[b], (long long)updates, l[1],
                   l[epochs]);
        bad += st == NB_OK && !(l[epochs] < l[0]);
    }
    snprintf(path, sizeof path, "%s_batch.png", out);
    if (st == NB_OK)
        st = write_curves(path, "SGD lr 0.1: batch 1 vs 32 vs 512", 3, BATCH_NAMES, loss, epochs);
    if (st == NB_OK)
        printf("  wrote %s\n  every optimizer, batch 32:\n  %-9s %12s %12s\n", path, "optimizer",
               "MSE epoch 1", "MSE last");
    for (int k = 0; st == NB_OK && k < N_OPT; k++) {
        int64_t updates = 0;
        double *l = loss + k * (epochs + 1);
        st = train(&d, k, 32, epochs, 0.1, seed, l, &updates);
        if (st == NB_OK)
            printf("  %-9s %12.5f %12.5f\n", OPT_NAMES[k], l[1], l[epochs]);
        bad += st == NB_OK && !(l[epochs] < l[0]);
    }
    snprintf(path, sizeof path, "%s_network.png", out);
    if (st == NB_OK)
        st = write_curves(path, "MLP 2-16-1: optimizers with batch 32", N_PLOT, OPT_NAMES, loss,
                          epochs);
    free(loss);
    if (st != NB_OK)
        return ex_fail(PROG.name, "part 2");
    printf("  wrote %s\n", path);
    if (check && bad) {
        printf("check failed: %d run(s) did not lower the loss\n", bad);
        return 1;
    }
    return 0;
}
