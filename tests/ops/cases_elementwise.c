/* tests/ops/cases_elementwise.c — gradient checks of the unary and binary elementwise ops. */
#include "support/nbt.h"

static nb_tensor *f_tanh(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    return nb_tanh(in[0]);
}

static nb_status case_tanh(void)
{
    const nbt_input x = {.ndim = 3, .shape = {2, 3, 5}, .lo = -3.0, .hi = 3.0};
    return nbt_check(f_tanh, NULL, &x, 1, 1);
}

static nb_tensor *f_add(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    return nb_add(in[0], in[1]);
}

/* b broadcasts over a's rows: exercises expand's backward too. */
static nb_status case_add_broadcast(void)
{
    const nbt_input in[2] = {{.ndim = 2, .shape = {4, 3}, .lo = -1, .hi = 1},
                             {.ndim = 1, .shape = {3}, .lo = -1, .hi = 1}};
    return nbt_check(f_add, NULL, in, 2, 2);
}

const nbt_case nbt_cases_elementwise[] = {
    {"tanh", NB_OP_TANH, case_tanh},
    {"add_broadcast", NB_OP_ADD, case_add_broadcast},
    {0},
};
