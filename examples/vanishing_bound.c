/* examples/vanishing_bound.c — notes 002, "Problemas de ajuste": "Gradientes. Extiende a 5 capas
 * el caso de 2. Da cotas razonables".
 *
 * The sheet's two-layer chain rule, for E = sum_k (y_sk - c_k)^2 and tanh units,
 *     dE/dp_ij = (sum_k 2 (y_sk - c_k) (1 - y_sk^2) p_ski) (1 - y_i^2) y_j,
 * extends to L layers as delta_L = 2 (y_L - c) * (1 - y_L^2), delta_l = (1 - y_l^2) *
 * (W_{l+1}^T delta_{l+1}) and dE/dW_l = delta_l y_{l-1}^T. Taking norms,
 *     ||dE/dW_l|| <= ||y_{l-1}|| ||delta_L|| prod_{m=l}^{L-1} max_i(1 - y_{m,i}^2) ||W_{m+1}||
 * (the "tight" bound, from the network's own activations), and since 1 - y^2 <= 1,
 *     ||dE/dW_l|| <= 2 ||y_L - c|| ||y_{l-1}|| prod_{m=l+1}^{L} ||W_m||     (the "simple" one).
 * Each layer further down multiplies by one more factor max(1 - y^2) ||W||: below 1 the gradient
 * vanishes geometrically with depth, above 1 it can explode. The program builds a 5-layer tanh
 * network (nb_mlp_new), measures ||dE/dW_l|| with nb_backward on one sample, and prints both
 * bounds beside it (Frobenius norms). --scale multiplies every weight, to see both regimes. */
#include <math.h>
#include <stdio.h>

#include "common/cli.h"
#include "common/util.h"
#include "nabla.h"

enum { L = 5, MAXW = 64 };

static const ex_program PROG = {
    .name = "vanishing_bound",
    .summary = "notes 002: the 2-layer gradient extended to 5 tanh layers, with bounds",
    .details = "Reproduces notes 002, \"Problemas de ajuste\" (extend the 2-layer gradient to 5\n"
               "layers and give reasonable bounds). A 5-layer tanh network --inputs -> --width x4\n"
               "-> 1, E = (y - c)^2 on one sample; prints per layer the measured ||dE/dW|| from\n"
               "nb_backward, the tight and the simple bound, and the factor max(1 - y^2) ||W||\n"
               "each layer multiplies by. --scale multiplies all weights. --check exits 1 if a\n"
               "measured norm exceeds its tight bound (which would make it no bound).\n",
};

static double norm(const double *v, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += v[i] * v[i];
    return sqrt(s);
}

int main(int argc, char **argv)
{
    int inputs = 10, width = 8;
    double scale = 1.0, target = 0.5;
    uint64_t seed = 1;
    bool check = false;
    ex_opt opts[] = {
        {"inputs", EX_OPT_INT, &inputs, "input size (1..64)"},
        {"width", EX_OPT_INT, &width, "units in each of the 4 hidden layers (1..64)"},
        {"scale", EX_OPT_DOUBLE, &scale, "multiply every weight by this"},
        {"target", EX_OPT_DOUBLE, &target, "the target c"},
        {"seed", EX_OPT_U64, &seed, "seed of the weights and the input"},
        {"check", EX_OPT_FLAG, &check, "exit 1 if a measured norm exceeds its bound"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (inputs < 1 || inputs > MAXW || width < 1 || width > MAXW || !isfinite(scale) ||
        !isfinite(target))
        return ex_usage_error(&PROG, "need --inputs and --width in 1..%d, finite --scale", MAXW);

    const int64_t sizes[L + 1] = {inputs, width, width, width, width, 1};
    nb_rng rng = nb_rng_seed(seed);
    nb_module *net = nb_mlp_new(L + 1, sizes, NB_ACT_TANH, NB_ACT_TANH, &rng, NB_F64);
    nb_tensor *x = nb_tensor_zeros(NB_F64, 2, (int64_t[]){1, inputs});
    nb_step *step = nb_step_new();
    if (!net || !x || !step)
        return ex_fail(PROG.name, "setup");
    for (int i = 0; i < inputs; i++)
        nb_tensor_set(x, i, nb_rng_uniform(&rng) * 2 - 1);
    nb_tensor *w[L], *b[L];
    for (int l = 0; l < L; l++) {
        char name[32];
        snprintf(name, sizeof name, "%d.weight", 2 * l);
        w[l] = nb_module_param(net, name);
        snprintf(name, sizeof name, "%d.bias", 2 * l);
        b[l] = nb_module_param(net, name);
        for (int64_t i = 0; w[l] && i < nb_tensor_numel(w[l]); i++)
            nb_tensor_set(w[l], i, scale * nb_tensor_get(w[l], i));
    }

    /* the forward pass in plain C: y[0] = x, y[l] = tanh(W_l y[l-1] + b_l) */
    double y[L + 1][MAXW], wn[L];
    for (int i = 0; i < inputs; i++)
        y[0][i] = nb_tensor_get(x, i);
    for (int l = 0; l < L; l++) {
        const int n_in = (int)sizes[l], n_out = (int)sizes[l + 1];
        double sq = 0;
        for (int o = 0; o < n_out; o++) {
            double a = nb_tensor_get(b[l], o);
            for (int i = 0; i < n_in; i++) {
                const double wv = nb_tensor_get(w[l], o * n_in + i);
                a += wv * y[l][i];
                sq += wv * wv;
            }
            y[l + 1][o] = tanh(a);
        }
        wn[l] = sqrt(sq);
    }
    double slope[L + 1]; /* max_i (1 - y_{l,i}^2) */
    for (int l = 1; l <= L; l++) {
        slope[l] = 0;
        for (int i = 0; i < sizes[l]; i++)
            slope[l] = fmax(slope[l], 1 - y[l][i] * y[l][i]);
    }
    const double err = y[L][0] - target;
    const double delta_l = fabs(2 * err * (1 - y[L][0] * y[L][0]));

    /* measured with nb_backward */
    double measured[L];
    nb_status st = nb_step_begin(step);
    nb_tensor *out = st == NB_OK ? nb_module_forward(net, x) : NULL;
    nb_tensor *e = out ? nb_add_scalar(out, -target) : NULL;
    nb_module_zero_grad(net);
    st = e ? nb_backward(nb_sum_all(nb_mul(e, e))) : nb_last_status();
    for (int l = 0; st == NB_OK && l < L; l++) {
        nb_tensor *g = nb_tensor_grad(w[l]);
        double s = 0;
        for (int64_t i = 0; i < nb_tensor_numel(g); i++)
            s += nb_tensor_get(g, i) * nb_tensor_get(g, i);
        measured[l] = sqrt(s);
    }
    nb_step_end(step);
    if (st != NB_OK)
        return ex_fail(PROG.name, "backward");

    printf("5-layer tanh network %d-%d-%d-%d-%d-1, weights x%g, one sample, E = (y - %g)^2 = "
           "%.6g\n\n",
           inputs, width, width, width, width, scale, target, err * err);
    printf("layer  ||W||     max(1-y^2)  ||dE/dW|| measured  tight bound   simple bound\n");
    int violations = 0;
    for (int l = 0; l < L; l++) {
        double tight = norm(y[l], (int)sizes[l]) * delta_l;
        double simple = 2 * fabs(err) * norm(y[l], (int)sizes[l]);
        for (int m = l + 1; m < L; m++) {
            tight *= slope[m] * wn[m];
            simple *= wn[m];
        }
        violations += measured[l] > tight * (1 + 1e-9);
        printf("%3d    %8.4f  %8.4f    %14.6e    %12.6e  %12.6e\n", l + 1, wn[l], slope[l + 1],
               measured[l], tight, simple);
    }
    printf("\nfactor per layer going down, max(1 - y^2) ||W||: ");
    for (int m = L - 1; m >= 1; m--)
        printf("%s%.3f", m == L - 1 ? "" : ", ", slope[m] * wn[m]);
    printf("\nlayer 1 / layer 5 measured: %.3e. With every factor below 1 the bound shrinks\n"
           "geometrically with depth (vanishing gradient); above 1 it grows (exploding).\n",
           measured[0] / measured[L - 1]);
    nb_tensor_free(x);
    nb_step_free(step);
    nb_module_free(net);
    if (check && violations) {
        printf("check failed: %d measured norm(s) above the bound\n", violations);
        return 1;
    }
    return 0;
}
