/* examples/linear_collapse.c — notes 001, "Redes de dos capas": if all neurons are linear, the
 * network is identical to a single layer: u = W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2).
 *
 * Part 1 builds two random linear layers (nb_linear_new), multiplies their weights into one
 * layer and shows both give the same outputs on random inputs (up to rounding). Part 2 trains a
 * 2-8-1 network on XOR twice with the same start and the same gradient descent: with a linear
 * hidden layer it can do no better than one line (at most 3 of 4 points, loss 0.25, the least-
 * squares optimum of a single layer), with a tanh hidden layer it learns XOR. */
#include <math.h>
#include <stdio.h>

#include "common/cli.h"
#include "common/util.h"
#include "nabla.h"

static const ex_program PROG = {
    .name = "linear_collapse",
    .summary = "stacked linear layers collapse into one layer and cannot learn XOR",
    .details =
        "Reproduces notes 001, \"Dimensionando las Redes Neuronales\": with linear neurons\n"
        "a two-layer network is a single layer (u = W2 W1 x), and the hidden layer must be\n"
        "tanh. Part 1: the product of two random layers equals the stack. Part 2: a 2-8-1\n"
        "net on XOR, linear vs tanh hidden layer, same start and steps. --check exits 1\n"
        "unless the two agree to float32 rounding (1e-5) and only the tanh net learns XOR.\n",
};

static const double XOR_X[8] = {0, 0, 0, 1, 1, 0, 1, 1}, XOR_Y[4] = {0, 1, 1, 0};

/* Train 2-8-1 (hidden activation tanh or none) on XOR; returns points right (-1 on error) and
 * the final mean squared error in *mse. */
static int xor_run(bool tanh_hidden, int steps, double lr, uint64_t seed, double *mse)
{
    nb_rng rng = nb_rng_seed(seed);
    nb_module *net = nb_mlp_new(3, (const int64_t[]){2, 8, 1},
                                tanh_hidden ? NB_ACT_TANH : NB_ACT_NONE, NB_ACT_NONE, &rng, NB_F64);
    nb_sgd_opts so = nb_sgd_defaults();
    so.lr = lr;
    nb_optim *o = net ? nb_sgd_new(net, &so) : NULL;
    nb_tensor *x = nb_tensor_from_data(NB_F64, 2, (int64_t[]){4, 2}, XOR_X);
    nb_tensor *y = nb_tensor_from_data(NB_F64, 2, (int64_t[]){4, 1}, XOR_Y);
    double out[4];
    int right = -1;
    if (o && x && y && !isnan(*mse = ex_fit_mse(net, o, x, y, steps, out))) {
        right = 0;
        for (int i = 0; i < 4; i++)
            right += (out[i] >= 0.5) == (XOR_Y[i] > 0.5);
    }
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_optim_free(o);
    nb_module_free(net);
    return right;
}

int main(int argc, char **argv)
{
    int steps = 2000;
    double lr = 0.1;
    uint64_t seed = 1;
    bool check = false;
    ex_opt opts[] = {
        {"steps", EX_OPT_INT, &steps, "gradient-descent steps on XOR"},
        {"lr", EX_OPT_DOUBLE, &lr, "learning rate"},
        {"seed", EX_OPT_U64, &seed, "seed of the weights"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless the collapse and the XOR results hold"},
    };
    ex_args_result ar = ex_parse_args(&PROG, opts, 4, argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (steps < 1 || !(lr > 0 && lr < 10))
        return ex_usage_error(&PROG, "need --steps >= 1 and --lr in (0, 10)");

    /* Part 1: two random layers 3 -> 5 -> 2 against their product. */
    nb_rng rng = nb_rng_seed(seed);
    nb_module *l1 = nb_linear_new(3, 5, true, &rng), *l2 = nb_linear_new(5, 2, true, &rng);
    nb_step *step = nb_step_new();
    if (!l1 || !l2 || !step || nb_step_begin(step) != NB_OK)
        return ex_fail(PROG.name, "setup");
    nb_tensor *w1 = nb_module_param(l1, "weight"), *b1 = nb_module_param(l1, "bias");
    nb_tensor *w2 = nb_module_param(l2, "weight"), *b2 = nb_module_param(l2, "bias");
    nb_tensor *x = nb_tensor_zeros(NB_F32, 2, (int64_t[]){6, 3});
    for (int i = 0; x && i < 18; i++)
        nb_tensor_set(x, i, 4 * nb_rng_uniform(&rng) - 2);
    nb_tensor *stacked = x ? nb_module_forward(l2, nb_module_forward(l1, x)) : NULL;
    /* one layer: W = W2 W1 [2, 3], b = W2 b1 + b2 [2] */
    nb_tensor *w = nb_matmul(w2, w1);
    nb_tensor *b = nb_add(nb_matmul(w2, b1), b2);
    nb_tensor *single = w && b && x ? nb_add(nb_matmul(x, nb_transpose(w, 0, 1)), b) : NULL;
    if (!stacked || !single) {
        nb_step_end(step);
        return ex_fail(PROG.name, "part 1");
    }
    double diff = 0, scale = 0;
    for (int i = 0; i < 12; i++) {
        diff = fmax(diff, fabs(nb_tensor_get(stacked, i) - nb_tensor_get(single, i)));
        scale = fmax(scale, fabs(nb_tensor_get(stacked, i)));
    }
    printf("Part 1: Linear(3 -> 5) then Linear(5 -> 2), no activation, against one layer\n"
           "W = W2 W1 (2x3), b = W2 b1 + b2, on 6 random inputs:\n");
    ex_print_tensor("  ", "W2 W1", w, "%.4f");
    printf("  outputs up to %.3f in size; largest |stacked - single| = %.2e (float32 rounding)\n",
           scale, diff);
    nb_step_end(step);
    nb_step_free(step);
    nb_module_free(l1);
    nb_module_free(l2);
    nb_tensor_free(x);

    /* Part 2: XOR. */
    double mse_lin = 0, mse_tanh = 0;
    const int right_lin = xor_run(false, steps, lr, seed, &mse_lin);
    const int right_tanh = xor_run(true, steps, lr, seed, &mse_tanh);
    if (right_lin < 0 || right_tanh < 0)
        return ex_fail(PROG.name, "part 2");
    printf("\nPart 2: XOR with a 2-8-1 network, %d gradient-descent steps, lr %g, seed %llu\n",
           steps, lr, (unsigned long long)seed);
    printf("  hidden layer linear: %d of 4 right, MSE %.4f (one layer's best: 0.25, outputs 0.5)\n",
           right_lin, mse_lin);
    printf("  hidden layer tanh:   %d of 4 right, MSE %.4f\n", right_tanh, mse_tanh);
    if (check) {
        const bool ok =
            diff <= 1e-5 * fmax(1, scale) && right_lin <= 3 && mse_lin > 0.2 && right_tanh == 4;
        printf("%s\n", ok ? "check: the stack is one layer, and only the tanh net learns XOR"
                          : "check failed");
        return ok ? 0 : 1;
    }
    return 0;
}
