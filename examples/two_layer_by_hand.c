/* examples/two_layer_by_hand.c — one backpropagation step through a two-layer network, with
 * the gradients from nb_backward set beside the chain-rule formulas written out by hand.
 *
 * Network (float64), bias inputs written as a leading 1:
 *   x~ = (1, x1, x2)                     input with bias
 *   a_j = v_j . x~,  h_j = tanh(a_j)     hidden layer, j = 1, 2      V = [v_1; v_2]  [2, 3]
 *   h~ = (1, h1, h2)                     hidden output with bias
 *   o = w . h~                           linear output neuron        w               [3]
 *   L = (y - o)^2
 * Chain rule, with e = y - o:
 *   dL/do    = -2 e
 *   dL/dw_k  = -2 e h~_k
 *   dL/da_j  = -2 e w_j (1 - h_j^2)      (w_j multiplies h_j; the bias weight w_0 has no a)
 *   dL/dv_jk = dL/da_j x~_k
 * The program computes the gradients twice — nb_backward on the graph, and these formulas in
 * plain C — and reports the largest difference; then it takes one SGD step and shows that the
 * loss went down. */
#include <math.h>
#include <stdio.h>

#include "common/cli.h"
#include "common/util.h"
#include "nabla.h"

static const double X[3] = {1.0, 0.1, 0.7}; /* bias input, x1, x2 */
static const double Y = 0.5;
static const double V_INIT[2][3] = {{0.1, -0.2, 0.3}, {0.5, 0.4, -0.6}};
static const double W_INIT[3] = {0.2, 0.7, -0.5}; /* bias, h1, h2 */

static const ex_program PROG = {
    .name = "two_layer_by_hand",
    .notes = "notes 001 (slides), backpropagation: the two-layer update formulas (delta3, gamma1, "
             "gamma2)",
    .summary = "backpropagation through a 2-2-1 network (tanh hidden, linear output), by hand",
    .details =
        "Input x = (1, 0.1, 0.7) with the bias input first, target y = 0.5.\n"
        "Hidden layer: two tanh neurons, weights (bias, x1, x2) v1 = (0.1, -0.2, 0.3),\n"
        "v2 = (0.5, 0.4, -0.6). Output: one linear neuron, weights (bias, h1, h2) =\n"
        "(0.2, 0.7, -0.5). Loss L = (y - o)^2, one SGD step with rate alpha, float64.\n"
        "Prints the forward pass, every gradient from nb_backward next to the same gradient\n"
        "from the chain-rule formulas, their largest difference, and the updated weights.\n"
        "--check exits with status 1 unless the largest difference is below --tol and the\n"
        "step lowered the loss.\n",
};

/* L = (y - o)^2 for the network above; the hidden pre-activations a [1, 2], the hidden
 * outputs h [1, 2] and the output o [1, 1] are returned too (all in the active step). */
static nb_tensor *forward(nb_tensor *x, nb_tensor *v, nb_tensor *w, nb_tensor *y, nb_tensor **a,
                          nb_tensor **h, nb_tensor **o)
{
    const int64_t one[2] = {1, 1};
    *a = nb_linear(x, v, NULL); /* x~ V^T */
    *h = nb_tanh(*a);
    nb_tensor *parts[2] = {nb_constant(NB_F64, 2, one, 1.0), *h};
    nb_tensor *hb = nb_concat(2, parts, 1); /* [1, 3] = (1, h1, h2) */
    *o = nb_linear(hb, w, NULL);
    nb_tensor_retain_grad(*a); /* intermediates whose gradients are printed after backward */
    nb_tensor_retain_grad(*o);
    return nb_mse(*o, y, NB_REDUCE_SUM);
}

int main(int argc, char **argv)
{
    double alpha = 0.1, tol = 1e-6;
    bool check = false;
    ex_opt opts[] = {
        {"alpha", EX_OPT_DOUBLE, &alpha, "learning rate"},
        {"tol", EX_OPT_DOUBLE, &tol, "largest accepted |autograd - chain rule| for --check"},
        {"check", EX_OPT_FLAG, &check, "exit 1 if the two gradients differ by more than --tol"},
    };
    ex_args_result ar = ex_parse_args(&PROG, opts, 3, argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (!(alpha > 0) || !(tol > 0))
        return ex_usage_error(&PROG, "--alpha and --tol must be > 0 (got %g, %g)", alpha, tol);

    const int64_t sx[2] = {1, 3}, sv[2] = {2, 3}, sw[2] = {1, 3}, sy[2] = {1, 1};
    nb_tensor *x = nb_tensor_from_data(NB_F64, 2, sx, X);
    nb_tensor *y = nb_tensor_full(NB_F64, 2, sy, Y);
    nb_tensor *v = nb_tensor_from_data(NB_F64, 2, sv, V_INIT);
    nb_tensor *w = nb_tensor_from_data(NB_F64, 2, sw, W_INIT);
    nb_step *step = nb_step_new();
    if (!x || !y || !v || !w || !step)
        return ex_fail(PROG.name, "setup");
    nb_tensor_set_requires_grad(v, true);
    nb_tensor_set_requires_grad(w, true);
    nb_tensor *params[2] = {v, w};

    printf("Two-layer network by hand (float64): 2 inputs + bias -> 2 tanh -> 1 linear\n");
    printf("  x~ = (1, %g, %g)   y = %g   alpha = %g   L = (y - o)^2\n", X[1], X[2], Y, alpha);
    printf("  v1 = (%g, %g, %g)   v2 = (%g, %g, %g)   w = (%g, %g, %g)\n\n", V_INIT[0][0],
           V_INIT[0][1], V_INIT[0][2], V_INIT[1][0], V_INIT[1][1], V_INIT[1][2], W_INIT[0],
           W_INIT[1], W_INIT[2]);

    nb_step_begin(step);
    nb_tensor *a, *h, *o;
    nb_tensor *loss = forward(x, v, w, y, &a, &h, &o);
    nb_status st = loss ? nb_backward(loss) : nb_last_status();
    if (st != NB_OK) {
        nb_step_end(step);
        return ex_fail(PROG.name, "forward/backward");
    }

    const double av[2] = {nb_tensor_get(a, 0), nb_tensor_get(a, 1)};
    const double hv[3] = {1.0, nb_tensor_get(h, 0), nb_tensor_get(h, 1)};
    const double ov = nb_tensor_item(o), e = Y - ov, loss_before = nb_tensor_item(loss);
    printf("forward pass\n");
    printf("  a1 = v1 . x~ = %10.6f   h1 = tanh(a1) = %10.6f\n", av[0], hv[1]);
    printf("  a2 = v2 . x~ = %10.6f   h2 = tanh(a2) = %10.6f\n", av[1], hv[2]);
    printf("  o  = w . h~  = %10.6f   e = y - o     = %10.6f\n", ov, e);
    printf("  L  = %.10f\n\n", loss_before);

    /* The chain rule, written out with the forward values above. */
    double dw_hand[3], da_hand[2], dv_hand[2][3];
    const double dl_do = -2.0 * e;
    for (int k = 0; k < 3; k++)
        dw_hand[k] = dl_do * hv[k];
    for (int j = 0; j < 2; j++) {
        da_hand[j] = dl_do * W_INIT[j + 1] * (1.0 - hv[j + 1] * hv[j + 1]);
        for (int k = 0; k < 3; k++)
            dv_hand[j][k] = da_hand[j] * X[k];
    }

    nb_tensor *gv = nb_tensor_grad(v), *gw = nb_tensor_grad(w), *ga = nb_tensor_grad(a);
    double max_diff = 0.0;
    printf("gradients            nb_backward         chain rule          |difference|\n");
    printf("  %-16s %18.12f  %18.12f  %.2e\n", "dL/do", nb_tensor_item(nb_tensor_grad(o)), dl_do,
           fabs(nb_tensor_item(nb_tensor_grad(o)) - dl_do));
    max_diff = fmax(max_diff, fabs(nb_tensor_item(nb_tensor_grad(o)) - dl_do));
    for (int k = 0; k < 3; k++) {
        char name[32];
        snprintf(name, sizeof name, "dL/dw%d", k);
        double g = nb_tensor_get(gw, k), d = fabs(g - dw_hand[k]);
        printf("  %-16s %18.12f  %18.12f  %.2e\n", name, g, dw_hand[k], d);
        max_diff = fmax(max_diff, d);
    }
    for (int j = 0; j < 2; j++) {
        char name[32];
        snprintf(name, sizeof name, "dL/da%d", j + 1);
        double g = nb_tensor_get(ga, j), d = fabs(g - da_hand[j]);
        printf("  %-16s %18.12f  %18.12f  %.2e\n", name, g, da_hand[j], d);
        max_diff = fmax(max_diff, d);
    }
    for (int j = 0; j < 2; j++)
        for (int k = 0; k < 3; k++) {
            char name[32];
            snprintf(name, sizeof name, "dL/dv%d%d", j + 1, k);
            double g = nb_tensor_get(gv, j * 3 + k), d = fabs(g - dv_hand[j][k]);
            printf("  %-16s %18.12f  %18.12f  %.2e\n", name, g, dv_hand[j][k], d);
            max_diff = fmax(max_diff, d);
        }
    printf("max |nb_backward - chain rule| = %.3e\n\n", max_diff);

    st = ex_sgd_step(params, 2, alpha);
    nb_step_end(step);
    if (st != NB_OK)
        return ex_fail(PROG.name, "SGD step");
    printf("after one SGD step (w <- w - alpha * dL/dw)\n");
    for (int j = 0; j < 2; j++)
        printf("  v%d = (%.6f, %.6f, %.6f)\n", j + 1, nb_tensor_get(v, 3 * j),
               nb_tensor_get(v, 3 * j + 1), nb_tensor_get(v, 3 * j + 2));
    printf("  w  = (%.6f, %.6f, %.6f)\n", nb_tensor_get(w, 0), nb_tensor_get(w, 1),
           nb_tensor_get(w, 2));

    /* The same input through the updated network: the step must have lowered the loss. */
    double loss_after = NAN;
    bool grad_was = nb_set_grad_enabled(false);
    nb_step_begin(step);
    nb_tensor *loss2 = forward(x, v, w, y, &a, &h, &o);
    if (loss2)
        loss_after = nb_tensor_item(loss2);
    nb_step_end(step);
    nb_set_grad_enabled(grad_was);
    if (!loss2)
        return ex_fail(PROG.name, "forward after the step");
    printf("  L = %.10f (was %.10f)\n\n", loss_after, loss_before);

    int status = 0;
    if (check) {
        bool ok = max_diff <= tol && loss_after < loss_before;
        printf("check: gradients agree to %.1e (tolerance %.1e), loss %s after the step: %s\n",
               max_diff, tol, loss_after < loss_before ? "decreased" : "did not decrease",
               ok ? "ok" : "MISMATCH");
        status = ok ? 0 : 1;
    }
    nb_step_free(step);
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_tensor_free(v);
    nb_tensor_free(w);
    return status;
}
