/* examples/forward_pass_by_hand.c — the forward pass of notes 001 ("Redes Neuronales", the
 * "Ejemplo" slides): x = (0.1, 0.7) through a tanh hidden layer and a linear output layer.
 *
 * The notes give the weights of hidden neuron 1, (bias, x1, x2) = (-0.1, 0.2, 0.2), so
 * u1 = -0.1 + 0.2 * 0.1 + 0.2 * 0.7 = 0.06 and v1 = tanh(0.06) = 0.06; and of output neuron 4,
 * (bias, v1, v2, v3) = (0.2, 0.1, -0.1, -0.1), with the other two hidden outputs v2 = 0.46 and
 * v3 = 0.63, so u4 = 0.2 + 0.1 * 0.06 - 0.1 * 0.46 - 0.1 * 0.63 = 0.097, linear. The network's
 * output is y~ = (0.097, 0.614). The weights of hidden neurons 2 and 3 and of output neuron 5
 * (0.614) are only in the notes' picture: the program takes v2, v3 as the notes print them and
 * says that 0.614 cannot be recomputed from the text. Everything else goes through nabla ops
 * (nb_matmul, nb_tanh) in float64. */
#include <math.h>
#include <stdio.h>

#include "common/cli.h"
#include "common/util.h"
#include "nabla.h"

/* Notes 001, "Ejemplo" slides. */
static const double X[3] = {1.0, 0.1, 0.7};         /* bias input, x1, x2 */
static const double W1[3] = {-0.1, 0.2, 0.2};       /* hidden neuron 1 */
static const double V23[2] = {0.46, 0.63};          /* hidden outputs 2, 3 as printed */
static const double W4[4] = {0.2, 0.1, -0.1, -0.1}; /* output neuron 4: bias, v1, v2, v3 */
static const double NOTES_U1 = 0.06, NOTES_V1 = 0.06, NOTES_U4 = 0.097, NOTES_Y2 = 0.614;

static const ex_program PROG = {
    .name = "forward_pass_by_hand",
    .summary = "forward pass of notes 001's example network: u1 = 0.06, u4 = 0.097",
    .details = "Reproduces notes 001, \"Redes Neuronales\", the Ejemplo slides: x = (0.1, 0.7),\n"
               "hidden tanh neuron 1 with weights (-0.1, 0.2, 0.2), linear output neuron 4 with\n"
               "weights (0.2, 0.1, -0.1, -0.1) over (1, v1, v2, v3), v2 = 0.46, v3 = 0.63 as in\n"
               "the notes. --check compares u1, v1 and u4 with the notes' 0.06, 0.06 and 0.097\n"
               "(to their last digit) and exits 1 on a mismatch. The second output, 0.614,\n"
               "needs weights that are only in the notes' picture.\n",
};

int main(int argc, char **argv)
{
    bool check = false;
    ex_opt opts[] = {{"check", EX_OPT_FLAG, &check, "compare with the notes' numbers"}};
    ex_args_result ar = ex_parse_args(&PROG, opts, 1, argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;

    nb_step *step = nb_step_new();
    if (!step || nb_step_begin(step) != NB_OK)
        return ex_fail(PROG.name, "setup");
    nb_tensor *x = nb_constant(NB_F64, 1, (int64_t[]){3}, 0.0);
    nb_tensor *w1 = nb_constant(NB_F64, 1, (int64_t[]){3}, 0.0);
    nb_tensor *w4 = nb_constant(NB_F64, 1, (int64_t[]){4}, 0.0);
    for (int i = 0; x && w1 && i < 3; i++) {
        nb_tensor_set(x, i, X[i]);
        nb_tensor_set(w1, i, W1[i]);
    }
    for (int i = 0; w4 && i < 4; i++)
        nb_tensor_set(w4, i, W4[i]);
    nb_tensor *u1 = x && w1 ? nb_matmul(w1, x) : NULL; /* u1 = w1 . (1, x1, x2) */
    nb_tensor *v1 = u1 ? nb_tanh(u1) : NULL;
    nb_tensor *h = v1 ? nb_constant(NB_F64, 1, (int64_t[]){4}, 1.0) : NULL; /* (1, v1, v2, v3) */
    if (!h) {
        nb_step_end(step);
        return ex_fail(PROG.name, "hidden layer");
    }
    nb_tensor_set(h, 1, nb_tensor_item(v1));
    nb_tensor_set(h, 2, V23[0]);
    nb_tensor_set(h, 3, V23[1]);
    nb_tensor *u4 = w4 ? nb_matmul(w4, h) : NULL;
    if (!u4) {
        nb_step_end(step);
        return ex_fail(PROG.name, "output layer");
    }

    printf("notes 001, forward pass: x = (%g, %g)\n\n", X[1], X[2]);
    printf("        x1 ----+---> [1 tanh] v1 ---+\n"
           "               |---> [2 tanh] v2 ---+---> [4 linear] y~1\n"
           "        x2 ----+---> [3 tanh] v3 ---+---> [5 linear] y~2\n\n");
    printf("hidden neuron 1: u1 = %g + (%g)(%g) + (%g)(%g) = %.6f   notes %.2f\n", W1[0], W1[1],
           X[1], W1[2], X[2], nb_tensor_item(u1), NOTES_U1);
    printf("                 v1 = tanh(u1) = %.6f                     notes %.2f\n",
           nb_tensor_item(v1), NOTES_V1);
    printf("hidden neurons 2, 3: v2 = %.2f, v3 = %.2f (as printed in the notes; their weights\n"
           "                 are only in the notes' picture)\n",
           V23[0], V23[1]);
    printf("output neuron 4: u4 = %g + (%g)(v1) + (%g)(%.2f) + (%g)(%.2f) = %.6f   notes %.3f\n",
           W4[0], W4[1], W4[2], V23[0], W4[3], V23[1], nb_tensor_item(u4), NOTES_U4);
    printf("                 y~1 = u4 (linear!) = %.6f\n", nb_tensor_item(u4));
    printf("output neuron 5: y~2 = %.3f in the notes; its weights are only in the picture, so it\n"
           "                 is not recomputed here\n",
           NOTES_Y2);
    printf("output y~ = (%.3f, %.3f)\n", nb_tensor_item(u4), NOTES_Y2);

    int failures = 0;
    if (check) {
        printf("\ncomparison with the notes (tolerance: half a unit of the last digit printed)\n");
        failures += !ex_check("u1", nb_tensor_item(u1), NOTES_U1, 0.005);
        failures += !ex_check("v1", nb_tensor_item(v1), NOTES_V1, 0.005);
        failures += !ex_check("u4", nb_tensor_item(u4), NOTES_U4, 0.0005);
        printf("%s\n",
               failures ? "values differ from the notes" : "all values agree with the notes");
    }
    nb_step_end(step);
    nb_step_free(step);
    return failures ? 1 : 0;
}
