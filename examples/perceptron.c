/* examples/perceptron.c — Rosenblatt's perceptron, trained online on separable data.
 *
 * Generated data (seeded): points uniform in [-1, 1]^2, labelled 1 on one side of the line
 * 0.2 + x1 - 0.8 x2 = 0 and 0 on the other; points closer to the line than --margin are
 * dropped, so the two classes are separated by a gap. With the bias input written first,
 * x~ = (1, x1, x2), the perceptron predicts step(w . x~) (nb_heaviside: 1 where >= 0) and after
 * each sample applies the online rule
 *     w <- w + lr (y - step(w . x~)) x~
 * which changes w only on a mistake. Training stops after the first epoch without a mistake.
 * Novikoff's theorem bounds the number of updates by (R / gamma)^2, where R is the largest
 * |x~| and gamma the margin of the generating line; the program prints both numbers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/cli.h"
#include "common/util.h"
#include "nabla.h"

static const double W_TRUE[3] = {0.2, 1.0, -0.8}; /* bias, x1, x2 of the generating line */

static const ex_program PROG = {
    .name = "perceptron",
    .notes = "notes 003 (introduction): the perceptron and its online rule",
    .summary = "the perceptron online rule on linearly separable generated data",
    .details =
        "Generates --n points in [-1, 1]^2 from --seed, labelled by the side of the line\n"
        "0.2 + x1 - 0.8 x2 = 0, keeping only points at distance >= --margin from it.\n"
        "Starting from w = 0, each epoch visits the points in a new random order and applies\n"
        "w <- w + lr (y - step(w . x~)) x~, with step = nb_heaviside and x~ = (1, x1, x2).\n"
        "Prints the mistakes per epoch, the epochs taken until an epoch has none, the\n"
        "learned line, and Novikoff's bound (R / gamma)^2 on the number of updates.\n"
        "--check exits with status 1 unless training converged within --max-epochs, the\n"
        "final w classifies every point correctly and the updates respect the bound.\n",
};

/* Distance-scaled score of x~ against the generating line: (w* . x~) / |w*_1,2|. */
static double true_score(const double *xt)
{
    double s = W_TRUE[0] * xt[0] + W_TRUE[1] * xt[1] + W_TRUE[2] * xt[2];
    return s / hypot(W_TRUE[1], W_TRUE[2]);
}

int main(int argc, char **argv)
{
    int n = 200, max_epochs = 100;
    double lr = 1.0, margin = 0.05;
    uint64_t seed = 7;
    bool check = false;
    ex_opt opts[] = {
        {"n", EX_OPT_INT, &n, "number of generated points"},
        {"margin", EX_OPT_DOUBLE, &margin, "smallest distance of a point to the line"},
        {"lr", EX_OPT_DOUBLE, &lr, "learning rate of the online rule"},
        {"max-epochs", EX_OPT_INT, &max_epochs, "give up after this many epochs"},
        {"seed", EX_OPT_U64, &seed, "seed of the data and the visiting order"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless training converged"},
    };
    ex_args_result ar = ex_parse_args(&PROG, opts, 6, argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (n < 1 || max_epochs < 1 || !(lr > 0) || !(margin > 0 && margin < 0.5))
        return ex_usage_error(&PROG, "need --n, --max-epochs >= 1, --lr > 0, --margin in "
                                     "(0, 0.5)");

    /* Generated, separable data: x~ rows [n, 3] and labels [n, 1]. */
    double *xt = malloc((size_t)n * 3 * sizeof *xt), *lab = malloc((size_t)n * sizeof *lab);
    int64_t *order = malloc((size_t)n * sizeof *order);
    if (!xt || !lab || !order) {
        fprintf(stderr, "%s: out of memory for %d points\n", PROG.name, n);
        free(xt);
        free(lab);
        free(order);
        return 1;
    }
    nb_rng rng = nb_rng_seed(seed);
    double r_max = 0, gamma = INFINITY;
    int n_pos = 0;
    for (int i = 0; i < n;) {
        double *p = xt + 3 * i;
        p[0] = 1.0;
        p[1] = 2.0 * nb_rng_uniform(&rng) - 1.0;
        p[2] = 2.0 * nb_rng_uniform(&rng) - 1.0;
        double s = true_score(p);
        if (fabs(s) < margin)
            continue; /* too close to the line: draw again */
        lab[i] = s >= 0 ? 1.0 : 0.0;
        n_pos += s >= 0;
        r_max = fmax(r_max, sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]));
        /* Margin of the unit vector w* / |w*| in the augmented space (Novikoff's gamma). */
        double norm = sqrt(W_TRUE[0] * W_TRUE[0] + W_TRUE[1] * W_TRUE[1] + W_TRUE[2] * W_TRUE[2]);
        double g = fabs(W_TRUE[0] * p[0] + W_TRUE[1] * p[1] + W_TRUE[2] * p[2]) / norm;
        gamma = fmin(gamma, g);
        order[i] = i;
        i++;
    }
    const double bound = (r_max / gamma) * (r_max / gamma);

    const int64_t sx[2] = {n, 3}, sy[2] = {n, 1}, sw[2] = {1, 3};
    nb_tensor *x = nb_tensor_from_data(NB_F64, 2, sx, xt);
    nb_tensor *y = nb_tensor_from_data(NB_F64, 2, sy, lab);
    nb_tensor *w = nb_tensor_zeros(NB_F64, 2, sw);
    nb_step *step = nb_step_new();
    free(xt);
    free(lab);
    if (!x || !y || !w || !step) {
        free(order);
        return ex_fail(PROG.name, "setup");
    }

    printf("perceptron: %d points (%d labelled 1), margin %g to the line 0.2 + x1 - 0.8 x2 = 0\n",
           n, n_pos, margin);
    printf("  lr %g, seed %llu, w starts at 0; Novikoff: updates <= (R/gamma)^2 = (%.3f/%.4f)^2 "
           "= %.0f\n",
           lr, (unsigned long long)seed, r_max, gamma, bound);

    int epochs = 0, updates = 0, mistakes = -1;
    nb_status st = NB_OK;
    while (mistakes != 0 && epochs < max_epochs && st == NB_OK) {
        epochs++;
        mistakes = 0;
        nb_rng_shuffle_i64(&rng, order, n);
        nb_step_begin(step);
        for (int k = 0; k < n && st == NB_OK; k++) {
            int64_t i = order[k];
            nb_tensor *xi = nb_slice(x, 0, i, i + 1, 1); /* [1, 3] */
            nb_tensor *yi = nb_slice(y, 0, i, i + 1, 1); /* [1, 1] */
            nb_tensor *pred = nb_heaviside(nb_linear(xi, w, NULL));
            nb_tensor *err = nb_sub(yi, pred); /* -1, 0 or 1 */
            nb_tensor *w_new = nb_add(w, nb_mul_scalar(nb_mul(err, xi), lr));
            st = w_new ? nb_tensor_copy_into(w, w_new) : nb_last_status();
            if (st == NB_OK && nb_tensor_item(err) != 0.0) {
                mistakes++;
                updates++;
            }
        }
        nb_step_end(step);
        printf("  epoch %3d  mistakes %3d  w = (%+.4f, %+.4f, %+.4f)\n", epochs, mistakes,
               nb_tensor_get(w, 0), nb_tensor_get(w, 1), nb_tensor_get(w, 2));
    }
    free(order);
    if (st != NB_OK)
        return ex_fail(PROG.name, "training");

    /* Every point with the final weights, in one batch. */
    int wrong = -1;
    nb_step_begin(step);
    nb_tensor *pred = nb_heaviside(nb_linear(x, w, NULL)); /* [n, 1] */
    nb_tensor *n_wrong = nb_sum_all(nb_abs(nb_sub(pred, y)));
    if (n_wrong)
        wrong = (int)nb_tensor_item(n_wrong);
    nb_step_end(step);
    if (wrong < 0)
        return ex_fail(PROG.name, "evaluation");

    const bool converged = mistakes == 0;
    if (converged)
        printf("converged after %d epochs (the last one without a mistake), %d updates (bound "
               "%.0f)\n",
               epochs, updates, bound);
    else
        printf("not converged after %d epochs (%d updates)\n", epochs, updates);
    double w0 = nb_tensor_get(w, 0), w1 = nb_tensor_get(w, 1), w2 = nb_tensor_get(w, 2);
    printf("learned line:    %.4f %+.4f x1 %+.4f x2 = 0\n", w0, w1, w2);
    printf("  divided by %.4f: %.4f + x1 %+.4f x2 = 0   (generating line: 0.2 + x1 - 0.8 x2 = 0)\n",
           w1, w0 / w1, w2 / w1);
    printf("misclassified points with the final w: %d of %d\n", wrong, n);

    int status = 0;
    if (check) {
        bool ok = converged && wrong == 0 && updates <= bound;
        printf("\ncheck: converged %s, 0 misclassified %s, updates <= bound %s\n",
               converged ? "ok" : "FAILED", wrong == 0 ? "ok" : "FAILED",
               updates <= bound ? "ok" : "FAILED");
        status = ok ? 0 : 1;
    }
    nb_step_free(step);
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_tensor_free(w);
    return status;
}
