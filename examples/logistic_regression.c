/* examples/logistic_regression.c — logistic regression by maximum likelihood.
 *
 * Generated data (seeded): two Gaussian clouds in the plane (class 0 around (-1, -1), class 1
 * around (1.5, 1.5), unit variance). With the bias input first, x~ = (1, x1, x2), the model is
 *     h = sigmoid(x~ . w)
 * and the loss is the negative log-likelihood
 *     L(w) = -sum_i [ y_i log h_i + (1 - y_i) log(1 - h_i) ],
 * built from nb_sigmoid and nb_log. Its gradient is known in closed form,
 *     dL/dw = sum_i x~_i (h_i - y_i) = X~^T (h - y),
 * so at every step the program computes that sum in plain C beside the gradient nb_backward
 * gives and keeps the largest difference. Gradient descent then uses the nb_backward gradient,
 * with step lr / n (the loss is a sum over the n samples). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/cli.h"
#include "common/util.h"
#include "nabla.h"

static const double CENTER[2][2] = {{-1.0, -1.0}, {1.5, 1.5}};

static const ex_program PROG = {
    .name = "logistic_regression",
    .notes = "notes 003 (introduction): logistic regression, grad J = sum x (h - y)",
    .summary = "logistic regression: sigmoid + log-likelihood, gradient checked against "
               "sum x (h - y)",
    .details = "Generates --n points from --seed, half of class 0 around (-1, -1) and half of\n"
               "class 1 around (1.5, 1.5), unit variance. Fits h = sigmoid(w0 + w1 x1 + w2 x2) by\n"
               "gradient descent on the negative log-likelihood (float64). At every step the\n"
               "gradient from nb_backward is compared with sum_i x~_i (h_i - y_i); the largest\n"
               "difference is printed with the loss and the accuracy every --every steps.\n"
               "--check exits with status 1 unless that difference stays <= --tol and the final\n"
               "accuracy is >= --min-accuracy.\n",
};

int main(int argc, char **argv)
{
    int n = 400, steps = 200, every = 20;
    double lr = 1.0, tol = 1e-9, min_acc = 0.9;
    uint64_t seed = 3;
    bool check = false;
    ex_opt opts[] = {
        {"n", EX_OPT_INT, &n, "number of generated points (half per class)"},
        {"steps", EX_OPT_INT, &steps, "gradient-descent steps"},
        {"every", EX_OPT_INT, &every, "print progress every N steps"},
        {"lr", EX_OPT_DOUBLE, &lr, "learning rate (the step is lr / n times the gradient)"},
        {"seed", EX_OPT_U64, &seed, "seed of the data and the initial weights"},
        {"tol", EX_OPT_DOUBLE, &tol, "largest accepted |nb_backward - X^T(h - y)| for --check"},
        {"min-accuracy", EX_OPT_DOUBLE, &min_acc, "smallest accepted accuracy for --check"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless gradients agree and accuracy is reached"},
    };
    ex_args_result ar = ex_parse_args(&PROG, opts, 8, argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (n < 2 || steps < 1 || every < 1 || !(lr > 0) || !(tol > 0))
        return ex_usage_error(&PROG, "need --n >= 2, --steps/--every >= 1, --lr > 0, --tol > 0");

    /* Generated data: rows x~ = (1, x1, x2) [n, 3], labels [n, 1]. */
    double *xt = malloc((size_t)n * 3 * sizeof *xt), *lab = malloc((size_t)n * sizeof *lab);
    if (!xt || !lab) {
        fprintf(stderr, "%s: out of memory for %d points\n", PROG.name, n);
        free(xt);
        free(lab);
        return 1;
    }
    nb_rng rng = nb_rng_seed(seed);
    for (int i = 0; i < n; i++) {
        int c = i % 2;
        lab[i] = c;
        xt[3 * i] = 1.0;
        xt[3 * i + 1] = CENTER[c][0] + nb_rng_normal(&rng);
        xt[3 * i + 2] = CENTER[c][1] + nb_rng_normal(&rng);
    }
    const int64_t sx[2] = {n, 3}, sy[2] = {n, 1}, sw[2] = {3, 1};
    nb_tensor *x = nb_tensor_from_data(NB_F64, 2, sx, xt);
    nb_tensor *y = nb_tensor_from_data(NB_F64, 2, sy, lab);
    nb_tensor *w = nb_tensor_normal(NB_F64, 2, sw, &rng, 0.0, 0.5);
    nb_step *step = nb_step_new();
    if (!x || !y || !w || !step) {
        free(xt);
        free(lab);
        return ex_fail(PROG.name, "setup");
    }
    nb_tensor_set_requires_grad(w, true);

    printf("logistic regression: %d points, class 0 around (%g, %g), class 1 around (%g, %g)\n", n,
           CENTER[0][0], CENTER[0][1], CENTER[1][0], CENTER[1][1]);
    printf("  h = sigmoid(x~ . w), L = -sum [y log h + (1-y) log(1-h)], lr %g (step lr/n), seed "
           "%llu\n",
           lr, (unsigned long long)seed);
    printf("  initial w = (%.4f, %.4f, %.4f)\n", nb_tensor_get(w, 0), nb_tensor_get(w, 1),
           nb_tensor_get(w, 2));
    printf("  step    mean -log-lik  accuracy   max |nb_backward - X^T(h-y)|\n");

    double max_diff = 0.0, accuracy = 0.0;
    nb_status st = NB_OK;
    for (int it = 1; it <= steps && st == NB_OK; it++) {
        nb_step_begin(step);
        nb_tensor_zero_grad(w);
        nb_tensor *h = nb_sigmoid(nb_matmul(x, w)); /* [n, 1] */
        nb_tensor *ll = nb_add(nb_mul(y, nb_log(h)),
                               nb_mul(nb_affine(y, -1.0, 1.0), nb_log(nb_affine(h, -1.0, 1.0))));
        nb_tensor *loss = nb_neg(nb_sum_all(ll));
        st = loss ? nb_backward(loss) : nb_last_status();
        if (st == NB_OK) {
            /* The closed form, from the current weights, in plain C. */
            const double w0 = nb_tensor_get(w, 0), w1 = nb_tensor_get(w, 1),
                         w2 = nb_tensor_get(w, 2);
            double g[3] = {0, 0, 0};
            int correct = 0;
            for (int i = 0; i < n; i++) {
                const double *xi = xt + 3 * i;
                double hi = 1.0 / (1.0 + exp(-(w0 * xi[0] + w1 * xi[1] + w2 * xi[2])));
                for (int k = 0; k < 3; k++)
                    g[k] += xi[k] * (hi - lab[i]);
                correct += (nb_tensor_get(h, i) >= 0.5) == (lab[i] >= 0.5);
            }
            nb_tensor *gw = nb_tensor_grad(w);
            double diff = 0.0;
            for (int k = 0; k < 3; k++)
                diff = fmax(diff, fabs(nb_tensor_get(gw, k) - g[k]));
            max_diff = fmax(max_diff, diff);
            accuracy = (double)correct / n;
            if (it == 1 || it % every == 0)
                printf("  %4d  %14.6f  %7.2f%%   %.3e\n", it, nb_tensor_item(loss) / n,
                       100.0 * accuracy, diff);
            st = ex_sgd_step(&w, 1, lr / n);
        }
        nb_step_end(step);
    }
    free(xt);
    free(lab);
    if (st != NB_OK)
        return ex_fail(PROG.name, "training");

    /* Accuracy of the final weights. */
    nb_step_begin(step);
    nb_tensor *pred = nb_heaviside(nb_matmul(x, w)); /* h >= 0.5  <=>  x~ . w >= 0 */
    nb_tensor *n_wrong = nb_sum_all(nb_abs(nb_sub(pred, y)));
    if (n_wrong)
        accuracy = 1.0 - nb_tensor_item(n_wrong) / n;
    nb_step_end(step);
    if (!n_wrong)
        return ex_fail(PROG.name, "evaluation");

    printf("final w = (%.4f, %.4f, %.4f), accuracy %.2f%%\n", nb_tensor_get(w, 0),
           nb_tensor_get(w, 1), nb_tensor_get(w, 2), 100.0 * accuracy);
    printf("max |nb_backward - sum x(h - y)| over all %d steps = %.3e\n", steps, max_diff);

    int status = 0;
    if (check) {
        bool ok_grad = max_diff <= tol, ok_acc = accuracy >= min_acc;
        printf("\ncheck: gradient matches sum x(h - y) (<= %.1e) %s, accuracy >= %.0f%% %s\n", tol,
               ok_grad ? "ok" : "FAILED", 100.0 * min_acc, ok_acc ? "ok" : "FAILED");
        status = ok_grad && ok_acc ? 0 : 1;
    }
    nb_step_free(step);
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_tensor_free(w);
    return status;
}
