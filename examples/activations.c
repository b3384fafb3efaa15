/* examples/activations.c — the activation functions of notes 001 ("Función de activación":
 * hyperbolic tangent, ReLU, sigmoid, identity) and their derivatives.
 *
 * Every value comes from a nabla op (nb_tanh, nb_relu, nb_sigmoid, the input itself for the
 * identity) and every derivative from nb_backward on the sum of the outputs, so that the
 * gradient of each element is that function's derivative at that element. Beside them the
 * program prints the closed forms (1 - tanh^2, step, s (1 - s), 1) and the largest difference.
 * Writes PREFIX.png (functions) and PREFIX_derivatives.png. */
#include <math.h>
#include <stdio.h>

#include "common/cli.h"
#include "common/util.h"
#include "nabla.h"

enum { N_FN = 4, N_PTS = 161 };
static const char *const NAMES[N_FN] = {"tanh", "ReLU", "sigmoid", "identity"};

static nb_tensor *apply(int f, nb_tensor *x)
{
    switch (f) {
    case 0:
        return nb_tanh(x);
    case 1:
        return nb_relu(x);
    case 2:
        return nb_sigmoid(x);
    default:
        return nb_mul_scalar(x, 1.0);
    }
}

/* The closed-form derivative (ReLU's at 0 taken as 0, as nb_relu's backward). */
static double derivative(int f, double x)
{
    switch (f) {
    case 0:
        return 1 - tanh(x) * tanh(x);
    case 1:
        return x > 0 ? 1 : 0;
    case 2:
        return (1 / (1 + exp(-x))) * (1 - 1 / (1 + exp(-x)));
    default:
        return 1;
    }
}

static const ex_program PROG = {
    .name = "activations",
    .summary = "tanh, ReLU, sigmoid and identity with derivatives from nb_backward",
    .details = "Reproduces notes 001, \"Función de activación\" (the four plotted functions), and\n"
               "notes 004, 7.1 (ReLU in hidden layers). Prints a table at x = -3 .. 3 of each\n"
               "function and its derivative from nb_backward beside the closed form, and writes\n"
               "PREFIX.png and PREFIX_derivatives.png (--out). --check exits 1 if a derivative\n"
               "from nb_backward differs from the closed form by more than 1e-12.\n",
};

int main(int argc, char **argv)
{
    bool check = false;
    const char *out = "activations";
    ex_opt opts[] = {
        {"check", EX_OPT_FLAG, &check, "compare nb_backward's derivatives with the formulas"},
        {"out", EX_OPT_STRING, &out, "prefix of the PNG files"},
    };
    ex_args_result ar = ex_parse_args(&PROG, opts, 2, argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;

    /* x = -4 .. 4 in steps of 0.05; the table shows the integers -3 .. 3 */
    double xs[N_PTS], y[N_FN][N_PTS], dy[N_FN][N_PTS];
    for (int i = 0; i < N_PTS; i++)
        xs[i] = -4.0 + 0.05 * i;
    double worst = 0;
    for (int f = 0; f < N_FN; f++) {
        nb_step *step = nb_step_new();
        nb_tensor *x = nb_tensor_from_data(NB_F64, 1, (int64_t[]){N_PTS}, xs);
        nb_status st = step && x ? nb_tensor_set_requires_grad(x, true) : NB_ERR_NOMEM;
        if (st == NB_OK && (st = nb_step_begin(step)) == NB_OK) {
            nb_tensor *yt = apply(f, x);
            st = yt ? nb_backward(nb_sum_all(yt)) : nb_last_status();
            for (int i = 0; st == NB_OK && i < N_PTS; i++) {
                y[f][i] = nb_tensor_get(yt, i);
                dy[f][i] = nb_tensor_get(nb_tensor_grad(x), i);
                worst = fmax(worst, fabs(dy[f][i] - derivative(f, xs[i])));
            }
            nb_step_end(step);
        }
        nb_tensor_free(x);
        nb_step_free(step);
        if (st != NB_OK)
            return ex_fail(PROG.name, NAMES[f]);
    }

    printf("   x   |  tanh    d/dx    |  ReLU  d/dx  |  sigmoid  d/dx    |  identity d/dx\n");
    for (int i = 20; i < N_PTS - 20; i += 20)
        printf("%5.1f  | %7.4f  %6.4f  | %5.1f  %4.1f  |  %6.4f   %6.4f  |  %5.1f  %4.1f\n", xs[i],
               y[0][i], dy[0][i], y[1][i], dy[1][i], y[2][i], dy[2][i], y[3][i], dy[3][i]);
    printf("derivatives from nb_backward vs closed forms (1 - tanh^2, step, s (1 - s), 1):\n"
           "largest difference over %d points in [-4, 4]: %.3g\n",
           N_PTS, worst);
    printf("note: the sigmoid's slope is at most 0.25 (at 0) and tanh's at most 1: a product of\n"
           "many such factors is what makes gradients vanish in deep sigmoid/tanh networks;\n"
           "ReLU's slope is 1 wherever the unit is active.\n");

    char path[1024];
    for (int d = 0; d < 2; d++) {
        nb_curves *c = nb_curves_new();
        for (int f = 0; c && f < N_FN; f++)
            for (int i = 0; i < N_PTS; i++)
                nb_curves_add(c, NAMES[f], xs[i], d ? dy[f][i] : y[f][i]);
        snprintf(path, sizeof path, "%s%s.png", out, d ? "_derivatives" : "");
        nb_plot_opts po = {.title = d ? "derivatives (from nb_backward)" : "activation functions",
                           .xlabel = "x",
                           .ylabel = d ? "f'(x)" : "f(x)"};
        nb_status st = c ? nb_curves_write_png(c, path, &po) : NB_ERR_NOMEM;
        nb_curves_free(c);
        if (st != NB_OK)
            return ex_fail(PROG.name, "writing the pictures");
        printf("wrote %s\n", path);
    }
    if (check && !(worst <= 1e-12)) {
        printf("check failed: derivatives differ from the closed forms by %.3g\n", worst);
        return 1;
    }
    return 0;
}
