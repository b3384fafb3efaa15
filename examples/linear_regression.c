/* examples/linear_regression.c — salary on age by gradient descent.
 *
 * Data are generated (seeded): ages uniform in [20, 65), salary = 4.51 + 0.036 age + noise with
 * noise ~ N(0, sigma^2). The model salary = b0 + b1 * feature is fitted by full-batch gradient
 * descent on the mean squared error, gradients from nb_backward, in float64.
 *
 * Why scale the feature: with raw ages (mean ~42, mean of age^2 ~1970) the loss surface is a
 * long narrow valley: the Hessian's eigenvalues are ~3900 and ~0.18. A learning rate small
 * enough to be stable along the steep direction (< ~5e-4) removes only ~7e-5 of the error per
 * step along the flat one, which is mostly the intercept: after thousands of steps the fit is
 * still far from 4.51. Standardising z = (age - mean) / sd makes the Hessian 2 I, one learning
 * rate fits both coefficients, and the fit converges in a few dozen steps; the coefficients
 * are then mapped back to ages: slope = b1 / sd, intercept = b0 - b1 * mean / sd. --no-scale shows
 * the slow case. The least-squares solution from the normal equations is printed beside the
 * result to show where gradient descent should end. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/cli.h"
#include "common/util.h"
#include "nabla.h"

static const double TRUE_INTERCEPT = 4.51, TRUE_SLOPE = 0.036;
static const double AGE_LO = 20.0, AGE_HI = 65.0;

static const ex_program PROG = {
    .name = "linear_regression",
    .summary = "salary on age by gradient descent (generated data around 4.51 + 0.036 age)",
    .details =
        "Generates --n (age, salary) pairs from --seed: age uniform in [20, 65), salary =\n"
        "4.51 + 0.036 age + N(0, --noise^2). Fits salary = intercept + slope * age by\n"
        "full-batch gradient descent on the mean squared error (float64, nb_backward),\n"
        "printing the loss and both coefficients (in age units) every --every steps.\n"
        "By default the age is standardised first, which lets one learning rate suit both\n"
        "coefficients; --no-scale fits raw ages and shows how slowly the intercept moves.\n"
        "--lr 0 picks 0.1 (scaled) or 4e-4 (raw, near the largest stable rate).\n"
        "--check exits with status 1 unless |intercept - 4.51| <= --tol-intercept and\n"
        "|slope - 0.036| <= --tol-slope.\n"
        "Reproduces notes 001 (\"Salario = 4.51 + 0.036 Edad\", then the model with a tanh\n"
        "neuron, w0, w1, t0, t1) and 003 (linear regression by gradient descent). Also fits\n"
        "t0 + t1 tanh(w0 + w1 z) and writes --png: the data, both fits and the notes' line.\n",
};

/* Least squares by the normal equations (closed form for one feature). */
static void least_squares(const double *age, const double *sal, int n, double *b0, double *b1)
{
    double ma = 0, ms = 0;
    for (int i = 0; i < n; i++) {
        ma += age[i];
        ms += sal[i];
    }
    ma /= n;
    ms /= n;
    double sxy = 0, sxx = 0;
    for (int i = 0; i < n; i++) {
        sxy += (age[i] - ma) * (sal[i] - ms);
        sxx += (age[i] - ma) * (age[i] - ma);
    }
    *b1 = sxy / sxx;
    *b0 = ms - *b1 * ma;
}

/* Fit salary = t0 + t1 tanh(w0 + w1 z) by full-batch gradient descent; p = (w0, w1, t0, t1)
 * holds the start and receives the result, *mse the final mean squared error. */
static nb_status fit_tanh(const double *age, const double *sal, int n, double mean, double sd,
                          double *p, double *mse)
{
    double *z = malloc((size_t)n * sizeof *z);
    if (!z)
        return NB_ERR_NOMEM;
    double ybar = 0;
    for (int i = 0; i < n; i++) {
        z[i] = (age[i] - mean) / sd;
        ybar += sal[i] / n;
    }
    p[2] = ybar; /* start from the mean salary */
    nb_tensor *x = nb_tensor_from_data(NB_F64, 1, (int64_t[]){n}, z);
    nb_tensor *y = nb_tensor_from_data(NB_F64, 1, (int64_t[]){n}, sal);
    nb_tensor *w[4];
    for (int k = 0; k < 4; k++) {
        w[k] = nb_tensor_from_data(NB_F64, 1, (int64_t[]){1}, &p[k]);
        if (w[k])
            nb_tensor_set_requires_grad(w[k], true);
    }
    nb_step *step = nb_step_new();
    nb_status st = x && y && w[0] && w[1] && w[2] && w[3] && step ? NB_OK : NB_ERR_NOMEM;
    free(z);
    for (int it = 0; st == NB_OK && it < 2000; it++) {
        nb_step_begin(step);
        ex_zero_grads(w, 4);
        nb_tensor *pred = nb_add(nb_mul(nb_tanh(nb_add(nb_mul(x, w[1]), w[0])), w[3]), w[2]);
        nb_tensor *loss = nb_mse(pred, y, NB_REDUCE_MEAN);
        st = loss ? nb_backward(loss) : nb_last_status();
        if (st == NB_OK) {
            *mse = nb_tensor_item(loss);
            st = ex_sgd_step(w, 4, 0.1);
        }
        nb_step_end(step);
    }
    for (int k = 0; k < 4; k++) {
        if (st == NB_OK)
            p[k] = nb_tensor_item(w[k]);
        nb_tensor_free(w[k]);
    }
    nb_step_free(step);
    nb_tensor_free(x);
    nb_tensor_free(y);
    return st;
}

/* The data as points (every 5th sample), the fitted line, the tanh model and the notes' line. */
static nb_status write_png(const char *path, const double *age, const double *sal, int n, double b0,
                           double b1, const double *tw, double mean, double sd)
{
    nb_curves *c = nb_curves_new();
    if (!c)
        return NB_ERR_NOMEM;
    for (int i = 0; i < n; i += 5) { /* lone points: separated by gaps */
        nb_curves_add(c, "data (every 5th)", age[i], sal[i]);
        nb_curves_add(c, "data (every 5th)", NAN, NAN);
    }
    for (int k = 0; k <= 45; k++) {
        const double a = AGE_LO + k, zz = (a - mean) / sd;
        nb_curves_add(c, "gradient descent fit", a, b0 + b1 * a);
        nb_curves_add(c, "tanh model", a, tw[2] + tw[3] * tanh(tw[0] + tw[1] * zz));
        nb_curves_add(c, "notes: 4.51 + 0.036 age", a, TRUE_INTERCEPT + TRUE_SLOPE * a);
    }
    nb_plot_opts po = {.title = "salary against age", .xlabel = "age", .ylabel = "salary"};
    nb_status st = nb_curves_write_png(c, path, &po);
    nb_curves_free(c);
    return st;
}

int main(int argc, char **argv)
{
    int n = 1000, steps = 100, every = 10;
    double lr = 0.0, noise = 0.25, tol_b0 = 0.1, tol_b1 = 0.002;
    uint64_t seed = 42;
    bool no_scale = false, check = false;
    const char *png = "linear_regression.png";
    ex_opt opts[] = {
        {"n", EX_OPT_INT, &n, "number of generated samples"},
        {"steps", EX_OPT_INT, &steps, "gradient-descent steps"},
        {"every", EX_OPT_INT, &every, "print progress every N steps"},
        {"lr", EX_OPT_DOUBLE, &lr, "learning rate; 0 = 0.1 scaled, 4e-4 unscaled"},
        {"noise", EX_OPT_DOUBLE, &noise, "standard deviation of the salary noise"},
        {"seed", EX_OPT_U64, &seed, "seed of the generated data"},
        {"no-scale", EX_OPT_FLAG, &no_scale, "fit raw ages (no standardisation)"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless both coefficients are recovered"},
        {"tol-intercept", EX_OPT_DOUBLE, &tol_b0, "accepted |intercept - 4.51| for --check"},
        {"tol-slope", EX_OPT_DOUBLE, &tol_b1, "accepted |slope - 0.036| for --check"},
        {"png", EX_OPT_STRING, &png, "scatter of the data with the fitted lines"},
    };
    ex_args_result ar = ex_parse_args(&PROG, opts, 11, argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (n < 2 || steps < 1 || every < 1 || lr < 0 || noise < 0 || tol_b0 < 0 || tol_b1 < 0)
        return ex_usage_error(&PROG, "need --n >= 2, --steps/--every >= 1 and non-negative "
                                     "--lr, --noise and tolerances");
    if (lr == 0)
        lr = no_scale ? 4e-4 : 0.1;

    /* Generated data. */
    double *age = malloc((size_t)n * sizeof *age), *sal = malloc((size_t)n * sizeof *sal);
    double *feat = malloc((size_t)n * sizeof *feat);
    if (!age || !sal || !feat) {
        fprintf(stderr, "%s: out of memory for %d samples\n", PROG.name, n);
        free(age);
        free(sal);
        free(feat);
        return 1;
    }
    nb_rng rng = nb_rng_seed(seed);
    double mean = 0, sd = 0;
    for (int i = 0; i < n; i++) {
        age[i] = AGE_LO + (AGE_HI - AGE_LO) * nb_rng_uniform(&rng);
        sal[i] = TRUE_INTERCEPT + TRUE_SLOPE * age[i] + noise * nb_rng_normal(&rng);
        mean += age[i];
    }
    mean /= n;
    for (int i = 0; i < n; i++)
        sd += (age[i] - mean) * (age[i] - mean);
    sd = sqrt(sd / n);
    /* feature = (age - shift) / scale; coefficients map back through shift and scale. */
    const double shift = no_scale ? 0.0 : mean, scale = no_scale ? 1.0 : sd;
    for (int i = 0; i < n; i++)
        feat[i] = (age[i] - shift) / scale;

    const int64_t sn[1] = {n}, s1[1] = {1};
    nb_tensor *x = nb_tensor_from_data(NB_F64, 1, sn, feat);
    nb_tensor *y = nb_tensor_from_data(NB_F64, 1, sn, sal);
    nb_tensor *b0 = nb_tensor_zeros(NB_F64, 1, s1), *b1 = nb_tensor_zeros(NB_F64, 1, s1);
    nb_step *step = nb_step_new();
    free(feat);
    if (!x || !y || !b0 || !b1 || !step) {
        free(age);
        free(sal);
        return ex_fail(PROG.name, "setup");
    }
    nb_tensor_set_requires_grad(b0, true);
    nb_tensor_set_requires_grad(b1, true);
    nb_tensor *params[2] = {b0, b1};

    double ls_b0, ls_b1;
    least_squares(age, sal, n, &ls_b0, &ls_b1);
    printf("salary = %.2f + %.3f age + N(0, %g^2), %d samples, ages in [%g, %g), seed %llu\n",
           TRUE_INTERCEPT, TRUE_SLOPE, noise, n, AGE_LO, AGE_HI, (unsigned long long)seed);
    if (no_scale)
        printf("feature: raw age (mean %.2f, sd %.2f), learning rate %g\n", mean, sd, lr);
    else
        printf("feature: z = (age - %.2f) / %.2f (standardised), learning rate %g\n", mean, sd, lr);
    printf("  step          loss     intercept         slope\n");

    double intercept = 0, slope = 0, loss_v = NAN;
    nb_status st = NB_OK;
    for (int it = 1; it <= steps && st == NB_OK; it++) {
        nb_step_begin(step);
        ex_zero_grads(params, 2);
        nb_tensor *pred = nb_add(nb_mul(x, b1), b0); /* [n] */
        nb_tensor *loss = nb_mse(pred, y, NB_REDUCE_MEAN);
        st = loss ? nb_backward(loss) : nb_last_status();
        if (st == NB_OK) {
            loss_v = nb_tensor_item(loss);
            /* Coefficients in age units, for the parameters this loss was computed at. */
            slope = nb_tensor_item(b1) / scale;
            intercept = nb_tensor_item(b0) - slope * shift;
            if (it == 1 || it % every == 0)
                printf("  %4d  %12.6f  %12.6f  %12.6f\n", it, loss_v, intercept, slope);
            st = ex_sgd_step(params, 2, lr);
        }
        nb_step_end(step);
    }
    if (st != NB_OK) {
        free(age);
        free(sal);
        return ex_fail(PROG.name, "training");
    }
    slope = nb_tensor_item(b1) / scale;
    intercept = nb_tensor_item(b0) - slope * shift;

    printf("\n                        intercept         slope\n");
    printf("  gradient descent   %12.6f  %12.6f   (after %d steps)\n", intercept, slope, steps);
    printf("  least squares      %12.6f  %12.6f   (normal equations)\n", ls_b0, ls_b1);
    printf("  generating line    %12.6f  %12.6f\n", TRUE_INTERCEPT, TRUE_SLOPE);
    printf("  |GD - least squares| = %.2e, %.2e\n", fabs(intercept - ls_b0), fabs(slope - ls_b1));

    /* The notes' second model: salary = t0 + t1 tanh(w0 + w1 z), z the standardised age. */
    double tw[4] = {0, 1, 0, 1}, tanh_mse = NAN;
    if (fit_tanh(age, sal, n, mean, sd, tw, &tanh_mse) != NB_OK) {
        free(age);
        free(sal);
        return ex_fail(PROG.name, "tanh model");
    }
    printf("\nthe notes' tanh model, salary = t0 + t1 tanh(w0 + w1 z), z = (age - %.2f) / %.2f,\n"
           "2000 gradient-descent steps (lr 0.1):\n"
           "  w0 = %.4f, w1 = %.4f, t0 = %.4f, t1 = %.4f, MSE %.6f (the line: %.6f)\n"
           "  on data generated from a line, tanh can only bend towards it; it helps when the\n"
           "  relation itself bends\n",
           mean, sd, tw[0], tw[1], tw[2], tw[3], tanh_mse, loss_v);
    if (write_png(png, age, sal, n, intercept, slope, tw, mean, sd) != NB_OK) {
        free(age);
        free(sal);
        return ex_fail(PROG.name, "writing the picture");
    }
    printf("wrote %s\n", png);

    int status = 0;
    if (check) {
        int failures = 0;
        printf("\n");
        failures += !ex_check("intercept", intercept, TRUE_INTERCEPT, tol_b0);
        failures += !ex_check("slope", slope, TRUE_SLOPE, tol_b1);
        /* Gradient descent must also have reached the minimum of its own loss. */
        failures += !ex_check("intercept vs least squares", intercept, ls_b0, 1e-6);
        failures += !ex_check("slope vs least squares", slope, ls_b1, 1e-6);
        printf("%s\n", failures ? "coefficients not recovered" : "both coefficients recovered");
        status = failures ? 1 : 0;
    }
    nb_step_free(step);
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_tensor_free(b0);
    nb_tensor_free(b1);
    free(age);
    free(sal);
    return status;
}
