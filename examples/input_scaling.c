/* examples/input_scaling.c — why inputs are scaled, and how categories are encoded.
 *
 * Part 1, the course's case: a linear unit y = w1 x1 + w2 x2 with w1 = w2 = 0.3 sees x1 = 1.2
 * and x2 = 3500. For any loss, dL/dwi = dL/dy * xi, so the gradient of w2 is x2 / x1 ~ 2900
 * times that of w1: one learning rate cannot suit both weights.
 *
 * Part 2, the consequence: a linear model with an intercept is fitted by full-batch gradient
 * descent on generated data whose two features have those scales, once on raw inputs and once
 * on standardised ones (z = (x - mean) / sd, statistics of the training data). Each run uses
 * the largest safe learning rate of its own loss, 1 / lambda_max of the Hessian
 * H = 2/N sum x~ x~^T (x~ = (1, x1, x2)); the number of steps gradient descent needs grows with
 * the condition number lambda_max / lambda_min, which is ~10^8 for raw inputs and ~1 for
 * standardised ones. The program prints both spectra and the steps each run needs to come
 * within 10% of the least-squares loss.
 *
 * Part 3: a categorical column (Red / Yellow / Green) becomes three 0/1 columns (nb_one_hot),
 * so that no order or distance between the colours is implied. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/util.h"
#include "nabla.h"

static const ex_program PROG = {
    .name = "input_scaling",
    .notes = "notes 001 (slides), normalisation (w = 0.3, x1 = 1.2, x2 = 3500) and the one-hot "
             "colour table",
    .summary = "gradients on unscaled inputs, raw vs standardised training, one-hot encoding",
    .details =
        "1. Gradient of each weight of y = w1 x1 + w2 x2 (w1 = w2 = --w) at x1 = --x1,\n"
        "   x2 = --x2 for the squared error to --target, from nb_backward; their ratio is x2 / "
        "x1.\n"
        "2. Generates --n samples (seed --seed): x1 uniform in [0.5, 2), x2 uniform in\n"
        "   [2000, 5000), y = 0.5 + 1.5 x1 + 0.002 x2 + N(0, 0.1^2), and fits y = b + w . x by\n"
        "   full-batch gradient descent on the mean squared error, on raw and on standardised\n"
        "   inputs, each at learning rate 1 / lambda_max of its own Hessian, for --steps steps.\n"
        "   Reports the step at which each loss first comes within --tol (relative) of the\n"
        "   least-squares minimum.\n"
        "3. Prints a Red/Yellow/Green column and its one-hot encoding.\n"
        "--check exits with status 1 unless the gradient ratio equals x2 / x1 (1e-9 relative),\n"
        "the standardised run reaches the target and the raw run does not (or needs more than\n"
        "10 times as many steps).\n",
};

enum { NF = 3 }; /* intercept + two features */

/* Eigenvalues of a symmetric 3x3 matrix by cyclic Jacobi rotations (a is overwritten). */
static void eig_sym3(double a[NF][NF], double ev[NF])
{
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0;
        for (int p = 0; p < NF; p++)
            for (int q = p + 1; q < NF; q++)
                off += a[p][q] * a[p][q];
        if (off < 1e-30 * (a[0][0] * a[0][0] + a[1][1] * a[1][1] + a[2][2] * a[2][2]))
            break;
        for (int p = 0; p < NF; p++)
            for (int q = p + 1; q < NF; q++) {
                if (a[p][q] == 0)
                    continue;
                const double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                const double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                const double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < NF; k++) { /* columns p, q */
                    const double akp = a[k][p], akq = a[k][q];
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for (int k = 0; k < NF; k++) { /* rows p, q */
                    const double apk = a[p][k], aqk = a[q][k];
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
            }
    }
    for (int i = 0; i < NF; i++)
        ev[i] = a[i][i];
}

/* Solve the 3x3 system m z = r by Gaussian elimination with partial pivoting (m, r overwritten). */
static void solve3(double m[NF][NF], double r[NF], double z[NF])
{
    for (int c = 0; c < NF; c++) {
        int piv = c;
        for (int i = c + 1; i < NF; i++)
            if (fabs(m[i][c]) > fabs(m[piv][c]))
                piv = i;
        for (int k = 0; k < NF; k++) {
            const double t = m[c][k];
            m[c][k] = m[piv][k];
            m[piv][k] = t;
        }
        const double t = r[c];
        r[c] = r[piv];
        r[piv] = t;
        for (int i = c + 1; i < NF; i++) {
            const double f = m[i][c] / m[c][c];
            for (int k = c; k < NF; k++)
                m[i][k] -= f * m[c][k];
            r[i] -= f * r[c];
        }
    }
    for (int i = NF - 1; i >= 0; i--) {
        double s = r[i];
        for (int k = i + 1; k < NF; k++)
            s -= m[i][k] * z[k];
        z[i] = s / m[i][i];
    }
}

/* Part 1: gradients of the course's unit, from nb_backward. Returns the ratio dL/dw2 / dL/dw1
 * (NaN on error). */
static double course_gradients(double w0, double x1v, double x2v, double target)
{
    nb_tensor *w = nb_tensor_full(NB_F64, 1, (int64_t[]){2}, w0);
    nb_tensor *x = nb_tensor_from_data(NB_F64, 1, (int64_t[]){2}, (double[]){x1v, x2v});
    nb_tensor *t = nb_tensor_full(NB_F64, 0, NULL, target);
    nb_step *step = nb_step_new();
    double ratio = NAN;
    if (w && x && t && step && nb_tensor_set_requires_grad(w, true) == NB_OK) {
        nb_step_begin(step);
        nb_tensor *y = nb_sum_all(nb_mul(w, x));
        nb_tensor *loss = nb_square(nb_sub(y, t));
        if (loss && nb_backward(loss) == NB_OK) {
            nb_tensor *g = nb_tensor_grad(w);
            const double g1 = nb_tensor_get(g, 0), g2 = nb_tensor_get(g, 1);
            ratio = g2 / g1;
            printf("1. One linear unit, y = w1 x1 + w2 x2, loss L = (y - %g)^2\n", target);
            printf("   w1 = w2 = %g, x1 = %g, x2 = %g  ->  y = %.4f, L = %.4f\n", w0, x1v, x2v,
                   nb_tensor_item(y), nb_tensor_item(loss));
            printf("   dL/dw1 = 2 (y - t) x1 = %14.4f\n", g1);
            printf("   dL/dw2 = 2 (y - t) x2 = %14.4f\n", g2);
            printf("   ratio dL/dw2 / dL/dw1 = %.6f  (= x2 / x1 = %.6f)\n", ratio, x2v / x1v);
            printf(
                "   A step of 0.001 would move w2 by %.4g and w1 by only %.4g: the large\n"
                "   input decides the step; the small one is ignored (or the step diverges).\n\n",
                0.001 * g2, 0.001 * g1);
        }
        nb_step_end(step);
    }
    nb_step_free(step);
    nb_tensor_free(w);
    nb_tensor_free(x);
    nb_tensor_free(t);
    return ratio;
}

typedef struct fit_result {
    double lambda_max, lambda_min;
    double lr;
    int steps_to_target; /* -1 when not reached */
    double final_loss;
} fit_result;

/* Part 2: gradient descent on features f [n, 2] (already transformed), y [n]. */
static nb_status fit(const char *label, const double *f, const double *y, int n, int steps,
                     int every, double target_loss, fit_result *res)
{
    /* Hessian of the MSE: 2/N sum x~ x~^T. */
    double hmat[NF][NF] = {{0}};
    for (int i = 0; i < n; i++) {
        const double xt[NF] = {1.0, f[2 * i], f[2 * i + 1]};
        for (int p = 0; p < NF; p++)
            for (int q = 0; q < NF; q++)
                hmat[p][q] += 2.0 * xt[p] * xt[q] / n;
    }
    double ev[NF];
    eig_sym3(hmat, ev);
    res->lambda_max = fmax(ev[0], fmax(ev[1], ev[2]));
    res->lambda_min = fmin(ev[0], fmin(ev[1], ev[2]));
    res->lr = 1.0 / res->lambda_max;
    res->steps_to_target = -1;
    res->final_loss = NAN;

    nb_tensor *x = nb_tensor_from_data(NB_F64, 2, (int64_t[]){n, 2}, f);
    nb_tensor *yt = nb_tensor_from_data(NB_F64, 1, (int64_t[]){n}, y);
    nb_tensor *w = nb_tensor_zeros(NB_F64, 1, (int64_t[]){2});
    nb_tensor *b = nb_tensor_zeros(NB_F64, 0, NULL);
    nb_step *step = nb_step_new();
    nb_status st = (x && yt && w && b && step) ? NB_OK : nb_last_status();
    if (st == NB_OK)
        st = nb_tensor_set_requires_grad(w, true);
    if (st == NB_OK)
        st = nb_tensor_set_requires_grad(b, true);
    nb_tensor *params[2] = {w, b};
    printf("   %s: Hessian eigenvalues %.4g .. %.4g, condition number %.3g\n"
           "   %*s  learning rate 1 / lambda_max = %.3g\n",
           label, res->lambda_min, res->lambda_max, res->lambda_max / res->lambda_min,
           (int)strlen(label), "", res->lr);
    for (int it = 1; it <= steps && st == NB_OK; it++) {
        nb_step_begin(step);
        ex_zero_grads(params, 2);
        nb_tensor *loss = nb_mse(nb_add(nb_matmul(x, w), b), yt, NB_REDUCE_MEAN);
        st = loss ? nb_backward(loss) : nb_last_status();
        if (st == NB_OK) {
            const double l = nb_tensor_item(loss);
            res->final_loss = l;
            if (res->steps_to_target < 0 && l <= target_loss)
                res->steps_to_target = it - 1; /* loss at the start of step it: it - 1 updates */
            if (every > 0 && (it - 1) % every == 0)
                printf("     step %6d  loss %.6f\n", it - 1, l);
            st = ex_sgd_step(params, 2, res->lr);
        }
        nb_step_end(step);
    }
    nb_step_free(step);
    nb_tensor_free(x);
    nb_tensor_free(yt);
    nb_tensor_free(w);
    nb_tensor_free(b);
    return st;
}

/* Part 3: one-hot encoding of a categorical column. */
static nb_status one_hot_table(void)
{
    static const char *const names[3] = {"Red", "Yellow", "Green"};
    /* Notes 001, "Normalizacion de variables": the column Red, Red, Yellow, Green, Yellow. */
    const int64_t column[5] = {0, 0, 1, 2, 1};
    nb_tensor *ids = nb_tensor_from_data(NB_I64, 1, (int64_t[]){5}, column);
    nb_tensor *oh = nb_one_hot(ids, 3, NB_F32); /* no step: caller-owned */
    nb_status st = oh ? NB_OK : nb_last_status();
    if (st == NB_OK) {
        printf("3. One-hot encoding of notes 001's colour column (nb_one_hot)\n");
        printf("   Coding the colours as 0, 1, 2 would tell a linear model that Yellow lies\n"
               "   between Red and Green and that Green is twice Yellow. One 0/1 column per\n"
               "   category implies no order: each colour gets its own weight.\n\n");
        printf("   %-8s | %5s %7s %6s\n", "colour", names[0], names[1], names[2]);
        printf("   ---------+---------------------\n");
        for (int i = 0; i < 5; i++) {
            printf("   %-8s |", names[column[i]]);
            for (int c = 0; c < 3; c++)
                printf(" %*.0f", c == 0 ? 5 : c == 1 ? 7 : 6, nb_tensor_get(oh, i * 3 + c));
            printf("\n");
        }
    }
    nb_tensor_free(ids);
    nb_tensor_free(oh);
    return st;
}

int main(int argc, char **argv)
{
    int n = 500, steps = 1000, every = 0;
    double w0 = 0.3, x1v = 1.2, x2v = 3500, target = 1.0, tol = 0.1;
    uint64_t seed = 5;
    bool check = false;
    ex_opt opts[] = {
        {"w", EX_OPT_DOUBLE, &w0, "part 1: both weights"},
        {"x1", EX_OPT_DOUBLE, &x1v, "part 1: the small input"},
        {"x2", EX_OPT_DOUBLE, &x2v, "part 1: the large input"},
        {"target", EX_OPT_DOUBLE, &target, "part 1: target of the squared error"},
        {"n", EX_OPT_INT, &n, "part 2: number of generated samples"},
        {"steps", EX_OPT_INT, &steps, "part 2: gradient-descent steps per run"},
        {"every", EX_OPT_INT, &every, "part 2: print the loss every N steps (0: never)"},
        {"tol", EX_OPT_DOUBLE, &tol, "part 2: target = (1 + tol) x least-squares loss"},
        {"seed", EX_OPT_U64, &seed, "part 2: seed of the generated data"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless the results are as explained"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (n < 10 || steps < 1 || every < 0 || tol <= 0 || x1v == 0)
        return ex_usage_error(&PROG, "need --n >= 10, --steps >= 1, --every >= 0, --tol > 0 "
                                     "and --x1 != 0");

    const double ratio = course_gradients(w0, x1v, x2v, target);
    if (isnan(ratio))
        return ex_fail(PROG.name, "part 1");

    /* Part 2 data. */
    double *raw = malloc((size_t)n * 2 * sizeof *raw), *std = malloc((size_t)n * 2 * sizeof *std);
    double *y = malloc((size_t)n * sizeof *y);
    if (!raw || !std || !y) {
        free(raw);
        free(std);
        free(y);
        fprintf(stderr, "%s: out of memory for %d samples\n", PROG.name, n);
        return 1;
    }
    nb_rng rng = nb_rng_seed(seed);
    double mean[2] = {0, 0}, sd[2] = {0, 0};
    for (int i = 0; i < n; i++) {
        raw[2 * i] = 0.5 + 1.5 * nb_rng_uniform(&rng);
        raw[2 * i + 1] = 2000 + 3000 * nb_rng_uniform(&rng);
        y[i] = 0.5 + 1.5 * raw[2 * i] + 0.002 * raw[2 * i + 1] + 0.1 * nb_rng_normal(&rng);
        mean[0] += raw[2 * i] / n;
        mean[1] += raw[2 * i + 1] / n;
    }
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 2; k++)
            sd[k] += (raw[2 * i + k] - mean[k]) * (raw[2 * i + k] - mean[k]) / n;
    for (int k = 0; k < 2; k++)
        sd[k] = sqrt(sd[k]);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 2; k++)
            std[2 * i + k] = (raw[2 * i + k] - mean[k]) / sd[k];

    /* Least-squares minimum of the MSE (the same for both: standardising is an invertible
     * affine map of the features, and the model has an intercept). */
    double m[NF][NF] = {{0}}, r[NF] = {0}, z[NF];
    for (int i = 0; i < n; i++) {
        const double xt[NF] = {1.0, raw[2 * i], raw[2 * i + 1]};
        for (int p = 0; p < NF; p++) {
            for (int q = 0; q < NF; q++)
                m[p][q] += xt[p] * xt[q];
            r[p] += xt[p] * y[i];
        }
    }
    solve3(m, r, z);
    double ls_loss = 0;
    for (int i = 0; i < n; i++) {
        const double e = z[0] + z[1] * raw[2 * i] + z[2] * raw[2 * i + 1] - y[i];
        ls_loss += e * e / n;
    }
    const double target_loss = (1 + tol) * ls_loss;
    printf("2. Linear regression y = b + w1 x1 + w2 x2 on %d generated samples (seed %llu)\n", n,
           (unsigned long long)seed);
    printf("   x1 in [0.5, 2) (mean %.3f, sd %.3f), x2 in [2000, 5000) (mean %.1f, sd %.1f)\n",
           mean[0], sd[0], mean[1], sd[1]);
    printf("   least-squares loss %.6f; target: loss <= %.6f (within %g%%), %d steps allowed\n",
           ls_loss, target_loss, 100 * tol, steps);

    fit_result fr_raw, fr_std;
    nb_status st = fit("raw inputs         ", raw, y, n, steps, every, target_loss, &fr_raw);
    if (st == NB_OK)
        st = fit("standardised inputs", std, y, n, steps, every, target_loss, &fr_std);
    free(raw);
    free(std);
    free(y);
    if (st != NB_OK)
        return ex_fail(PROG.name, "part 2");

    printf("\n   %-20s %10s %14s %14s\n", "inputs", "lr", "final loss", "steps to target");
    const fit_result *fr[2] = {&fr_raw, &fr_std};
    const char *lab[2] = {"raw", "standardised"};
    for (int k = 0; k < 2; k++) {
        char reached[32];
        if (fr[k]->steps_to_target >= 0)
            snprintf(reached, sizeof reached, "%d", fr[k]->steps_to_target);
        else
            snprintf(reached, sizeof reached, "not in %d", steps);
        printf("   %-20s %10.3g %14.6f %14s\n", lab[k], fr[k]->lr, fr[k]->final_loss, reached);
    }
    printf("   Gradient descent needs about condition-number many steps: along the flattest\n"
           "   direction each step removes only lambda_min / lambda_max of the error.\n");
    if (fr_raw.steps_to_target < 0 && fr_raw.final_loss > target_loss) {
        /* The excess loss along the slowest direction shrinks by (1 - 1/kappa)^2 per step. */
        const double kappa = fr_raw.lambda_max / fr_raw.lambda_min;
        const double more =
            0.5 * kappa * log((fr_raw.final_loss - ls_loss) / (target_loss - ls_loss));
        printf(
            "   The raw run would need roughly kappa/2 * ln(excess now / excess allowed) = %.2g\n"
            "   more steps.\n",
            more);
    }
    printf("\n");

    if (one_hot_table() != NB_OK)
        return ex_fail(PROG.name, "part 3");

    int status = 0;
    if (check) {
        int failures = 0;
        printf("\n");
        failures += !ex_check("gradient ratio / (x2 / x1)", ratio / (x2v / x1v), 1.0, 1e-9);
        const bool std_ok = fr_std.steps_to_target >= 0;
        const bool raw_slow =
            fr_raw.steps_to_target < 0 || fr_raw.steps_to_target > 10 * fr_std.steps_to_target;
        printf("  check standardised run reaches the target: %s\n", std_ok ? "ok" : "MISMATCH");
        printf("  check raw run misses it or needs > 10x the steps: %s\n",
               raw_slow ? "ok" : "MISMATCH");
        failures += !std_ok + !raw_slow;
        printf("%s\n", failures ? "results differ from the explanation" : "scaling matters");
        status = failures ? 1 : 0;
    }
    return status;
}
