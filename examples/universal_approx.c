/* examples/universal_approx.c — one hidden layer of tanh units approximates a 1-D function.
 *
 * The universal approximation theorem (Cybenko 1989, Hornik 1991) says that a network with one
 * hidden layer of sigmoid-like units and a linear output can approximate any continuous function
 * on a closed interval as closely as wanted, given enough hidden units. This program makes it
 * visible: it fits f(x) = sin(3x) + 0.3 x^2 on [-2, 2] with Linear(1, H) -> tanh ->
 * Linear(H, 1) for several hidden sizes H (default 1, 3, 10, 50), trained with Adam on the mean
 * squared error, and prints the final error of each size on the training points and on a dense
 * grid between them. Each tanh unit contributes one smooth step; f has four turning points on
 * the interval, so one unit gives a single S-curve, three follow part of the shape, and ten or
 * more trace it closely. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/cli.h"
#include "common/util.h"
#include "nabla.h"

#define MAX_SIZES 8
static const double X_LO = -2.0, X_HI = 2.0;

static const ex_program PROG = {
    .name = "universal_approx",
    .notes = "notes 001 (slides), MLP section: universal approximation with tanh",
    .summary = "one hidden tanh layer fits sin(3x) + 0.3 x^2 for growing hidden sizes",
    .positional = "[H ...]",
    .max_positional = MAX_SIZES,
    .details =
        "Fits f(x) = sin(3x) + 0.3 x^2 on [-2, 2] from --n points drawn uniformly (seeded) with\n"
        "Linear(1, H) -> tanh -> Linear(H, 1), full-batch Adam on the mean squared error, once\n"
        "per hidden size H (positional arguments; default 1 3 10 50, at most 8 sizes). Prints\n"
        "the MSE on the training points and on 401 evenly spaced points of [-2, 2] for each H.\n"
        "--check exits with status 1 unless the grid MSE falls with every larger H and the\n"
        "largest H ends below --max-mse.\n",
};

static double target_fn(double x)
{
    return sin(3.0 * x) + 0.3 * x * x;
}

/* Mean squared error of net on (x, y), evaluated without recording. */
static double eval_mse(nb_module *net, nb_step *step, nb_tensor *x, nb_tensor *y)
{
    nb_step_begin(step);
    bool was = nb_set_grad_enabled(false);
    nb_tensor *loss = nb_mse(nb_module_forward(net, x), y, NB_REDUCE_MEAN);
    double v = loss ? nb_tensor_item(loss) : NAN;
    nb_set_grad_enabled(was);
    nb_step_end(step);
    return v;
}

/* The fit of net on the grid as the series "H=<h>". */
static nb_status add_fit(nb_curves *curves, nb_module *net, nb_step *step, nb_tensor *x_grid, int h)
{
    char name[32];
    snprintf(name, sizeof name, "H=%d", h);
    nb_step_begin(step);
    const bool was = nb_set_grad_enabled(false);
    nb_tensor *pred = nb_module_forward(net, x_grid);
    nb_set_grad_enabled(was);
    nb_status st = pred ? NB_OK : nb_last_status();
    for (int64_t i = 0; st == NB_OK && i < nb_tensor_numel(pred); i++)
        st = nb_curves_add(curves, name, nb_tensor_get(x_grid, i), nb_tensor_get(pred, i));
    nb_step_end(step);
    return st;
}

int main(int argc, char **argv)
{
    int n = 200, steps = 3000, every = 0;
    double lr = 0.003, max_mse = 0.01;
    uint64_t seed = 1;
    bool check = false;
    const char *out = "universal_approx";
    ex_opt opts[] = {
        {"n", EX_OPT_INT, &n, "number of training points"},
        {"steps", EX_OPT_INT, &steps, "Adam steps per hidden size"},
        {"every", EX_OPT_INT, &every, "print the training loss every N steps (0: only the end)"},
        {"lr", EX_OPT_DOUBLE, &lr, "Adam learning rate"},
        {"seed", EX_OPT_U64, &seed, "seed of the data and the initial weights"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless the error falls with H (see below)"},
        {"max-mse", EX_OPT_DOUBLE, &max_mse, "grid MSE the largest H must reach for --check"},
        {"out", EX_OPT_STRING, &out, "prefix of the CSV and PNG files of the fits"},
    };
    char *pos[MAX_SIZES];
    int n_pos = 0;
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, pos, &n_pos);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (n < 2 || steps < 1 || every < 0 || lr <= 0 || max_mse <= 0)
        return ex_usage_error(&PROG, "need --n >= 2, --steps >= 1, --every >= 0, --lr > 0 and "
                                     "--max-mse > 0");
    int sizes[MAX_SIZES] = {1, 3, 10, 50};
    int n_sizes = 4;
    if (n_pos > 0) {
        n_sizes = n_pos;
        for (int i = 0; i < n_pos; i++) {
            char *end = NULL;
            long h = strtol(pos[i], &end, 10);
            if (!end || *end || h < 1 || h > 100000)
                return ex_usage_error(&PROG, "hidden size '%s' is not an integer in [1, 100000]",
                                      pos[i]);
            sizes[i] = (int)h;
        }
    }

    /* Data: training points uniform in [-2, 2), and an evenly spaced grid for the fit. */
    enum { GRID = 401 };
    float *buf = malloc(((size_t)n * 2 + GRID * 2) * sizeof *buf);
    if (!buf) {
        fprintf(stderr, "%s: out of memory for %d points\n", PROG.name, n);
        return 1;
    }
    float *xs = buf, *ys = buf + n, *xg = buf + 2 * n, *yg = xg + GRID;
    nb_rng rng = nb_rng_seed(seed);
    double y_mean = 0, y_var = 0;
    for (int i = 0; i < n; i++) {
        xs[i] = (float)(X_LO + (X_HI - X_LO) * nb_rng_uniform(&rng));
        ys[i] = (float)target_fn(xs[i]);
    }
    for (int i = 0; i < GRID; i++) {
        xg[i] = (float)(X_LO + (X_HI - X_LO) * i / (GRID - 1));
        yg[i] = (float)target_fn(xg[i]);
        y_mean += yg[i];
    }
    y_mean /= GRID;
    for (int i = 0; i < GRID; i++)
        y_var += (yg[i] - y_mean) * (yg[i] - y_mean);
    y_var /= GRID;

    nb_tensor *x = nb_tensor_from_data(NB_F32, 2, (int64_t[]){n, 1}, xs);
    nb_tensor *y = nb_tensor_from_data(NB_F32, 2, (int64_t[]){n, 1}, ys);
    nb_tensor *x_grid = nb_tensor_from_data(NB_F32, 2, (int64_t[]){GRID, 1}, xg);
    nb_tensor *y_grid = nb_tensor_from_data(NB_F32, 2, (int64_t[]){GRID, 1}, yg);
    nb_step *step = nb_step_new();
    nb_curves *curves = nb_curves_new();
    for (int i = 0; curves && i < GRID; i++)
        nb_curves_add(curves, "f(x)", xg[i], yg[i]);
    free(buf);
    int status = 0;
    if (!x || !y || !x_grid || !y_grid || !step || !curves) {
        status = ex_fail(PROG.name, "setup");
        goto done;
    }

    printf("Universal approximation: f(x) = sin(3x) + 0.3 x^2 on [%g, %g]\n", X_LO, X_HI);
    printf("model: Linear(1, H) -> tanh -> Linear(H, 1); %d training points (seed %llu), "
           "Adam lr %g, %d full-batch steps\n",
           n, (unsigned long long)seed, lr, steps);
    printf("Each tanh unit adds one smooth step to the output; more units, finer shape.\n");
    printf("For scale: predicting the mean everywhere gives MSE %.4f on the grid.\n\n", y_var);

    double grid_mse[MAX_SIZES], train_mse[MAX_SIZES];
    int64_t n_params[MAX_SIZES];
    for (int s = 0; s < n_sizes; s++) {
        const int h = sizes[s];
        nb_rng init = nb_rng_seed(seed * 1000003u + (uint64_t)h);
        nb_module *net =
            nb_sequential_new(3, (nb_module *[]){nb_linear_new(1, h, true, &init), nb_tanh_new(),
                                                 nb_linear_new(h, 1, true, &init)});
        nb_adam_opts ao = nb_adam_defaults();
        ao.lr = lr;
        nb_optim *opt = net ? nb_adam_new(net, &ao) : NULL;
        if (!opt) {
            nb_module_free(net);
            status = ex_fail(PROG.name, "building the network");
            goto done;
        }
        n_params[s] = nb_module_num_params(net);
        nb_status st = NB_OK;
        for (int it = 1; it <= steps && st == NB_OK; it++) {
            nb_step_begin(step);
            nb_optim_zero_grad(opt);
            nb_tensor *loss = nb_mse(nb_module_forward(net, x), y, NB_REDUCE_MEAN);
            st = loss ? nb_backward(loss) : nb_last_status();
            if (st == NB_OK && every > 0 && (it == 1 || it % every == 0))
                printf("  H=%-3d step %5d  train MSE %.6f\n", h, it, nb_tensor_item(loss));
            if (st == NB_OK)
                st = nb_optim_update(opt);
            nb_step_end(step);
        }
        if (st == NB_OK) {
            train_mse[s] = eval_mse(net, step, x, y);
            grid_mse[s] = eval_mse(net, step, x_grid, y_grid);
            if (add_fit(curves, net, step, x_grid, h) != NB_OK)
                grid_mse[s] = NAN;
        }
        nb_optim_free(opt);
        nb_module_free(net);
        if (st != NB_OK || isnan(grid_mse[s])) {
            status = ex_fail(PROG.name, "training");
            goto done;
        }
    }

    printf("  hidden units  parameters   train MSE    grid MSE\n");
    for (int s = 0; s < n_sizes; s++)
        printf("  H=%-10d  %10lld  %10.6f  %10.6f\n", sizes[s], (long long)n_params[s],
               train_mse[s], grid_mse[s]);

    char csv[512], png[512];
    snprintf(csv, sizeof csv, "%s.csv", out);
    snprintf(png, sizeof png, "%s.png", out);
    const nb_plot_opts po = {
        .title = "sin(3x) + 0.3 x^2 and one-hidden-layer tanh fits", .xlabel = "x", .ylabel = "y"};
    if (nb_curves_write_csv(curves, csv) != NB_OK ||
        nb_curves_write_png(curves, png, &po) != NB_OK) {
        status = ex_fail(PROG.name, "writing the plot");
        goto done;
    }
    printf("\n  wrote %s and %s (f and each fit on the grid)\n", csv, png);

    if (check) {
        int failures = 0;
        printf("\n");
        for (int s = 1; s < n_sizes; s++) {
            const bool ok = grid_mse[s] < grid_mse[s - 1];
            printf("  check grid MSE H=%d (%.6f) < H=%d (%.6f) %s\n", sizes[s], grid_mse[s],
                   sizes[s - 1], grid_mse[s - 1], ok ? "ok" : "MISMATCH");
            failures += !ok;
        }
        const bool ok = grid_mse[n_sizes - 1] <= max_mse;
        printf("  check grid MSE H=%d (%.6f) <= %g %s\n", sizes[n_sizes - 1], grid_mse[n_sizes - 1],
               max_mse, ok ? "ok" : "MISMATCH");
        failures += !ok;
        printf("%s\n", failures ? "the error does not fall as expected"
                                : "the error falls with every larger hidden layer");
        status = failures ? 1 : 0;
    }

done:
    nb_curves_free(curves);
    nb_step_free(step);
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_tensor_free(x_grid);
    nb_tensor_free(y_grid);
    return status;
}
