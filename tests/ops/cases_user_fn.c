/* tests/ops/cases_user_fn.c — gradient checks of nb_elementwise (an op from a user's function
 * and its derivative), in both derivative forms: from x, and from y = f(x). */
#include <math.h>

#include "support/nbt.h"

static double softsign(double x)
{
    return x / (1 + fabs(x));
}
static double softsign_d(double x, double y)
{
    (void)y;
    return 1 / ((1 + fabs(x)) * (1 + fabs(x)));
}
static double sig(double x)
{
    return 1 / (1 + exp(-x));
}
static double sig_d(double x, double y)
{
    (void)x;
    return y * (1 - y);
}

static const nb_elementwise_def softsign_def = {"softsign", softsign, softsign_d};
static const nb_elementwise_def sig_def = {"sigmoid_from_y", sig, sig_d};

NBT_GRADCASE(user_softsign, nb_elementwise(&softsign_def, in[0]), NBT_IN(-2, 2, 3, 4))
/* the op inside a composition, on a transposed (strided) input */
NBT_GRADCASE(user_sigmoid_strided,
             nb_mul(nb_elementwise(&sig_def, nb_transpose(in[0], 0, 1)), in[1]),
             NBT_IN(-3, 3, 4, 2), NBT_IN(-1, 1, 2, 4))

const nbt_case nbt_cases_user_fn[] = {
    {"user_softsign", NB_OP_ELEMENTWISE, case_user_softsign},
    {"user_sigmoid_strided", NB_OP_ELEMENTWISE, case_user_sigmoid_strided},
    {0},
};
