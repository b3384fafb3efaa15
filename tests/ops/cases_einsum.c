/* tests/ops/cases_einsum.c — gradient checks of nb_einsum and nb_outer (ops/einsum.c), which
 * are compositions: the matmul, permute, reshape and sum ops they use are the ones checked. */
#include "support/nbt.h"

static nb_tensor *f_einsum(nb_tensor *const *in, int n, void *user)
{
    (void)n;
    return nb_einsum(user, in[0], in[1]);
}

static nb_status check_einsum(const char *spec, nbt_input a, nbt_input b, uint64_t seed)
{
    const nbt_input in[2] = {a, b};
    return nbt_check(f_einsum, (void *)(uintptr_t)spec, in, 2, seed);
}

static nb_status case_einsum_matmul(void)
{
    return check_einsum("ij,jk->ik", (nbt_input)NBT_IN(-1, 1, 3, 4), (nbt_input)NBT_IN(-1, 1, 4, 2),
                        71);
}

static nb_status case_einsum_batched(void)
{
    return check_einsum("bij,bjk->bik", (nbt_input)NBT_IN(-1, 1, 2, 3, 4),
                        (nbt_input)NBT_IN(-1, 1, 2, 4, 5), 72);
}

/* Attention scores: b is read transposed (no copy). */
static nb_status case_einsum_attention_scores(void)
{
    return check_einsum("bhqd,bhkd->bhqk", (nbt_input)NBT_IN(-1, 1, 2, 2, 3, 4),
                        (nbt_input)NBT_IN(-1, 1, 2, 2, 5, 4), 73);
}

/* Permuted output, a letter summed out of a alone (x), two contracted letters in different
 * orders (j, l), batch letter not first. */
static nb_status case_einsum_general(void)
{
    return check_einsum("jxbil,ljb->bli", (nbt_input)NBT_IN(-1, 1, 3, 2, 2, 4, 2),
                        (nbt_input)NBT_IN(-1, 1, 2, 3, 2), 74);
}

static nb_status case_einsum_outer_and_dot(void)
{
    nb_status st =
        check_einsum("i,j->ij", (nbt_input)NBT_IN(-1, 1, 3), (nbt_input)NBT_IN(-1, 1, 4), 75);
    return st == NB_OK
               ? check_einsum("i,i", (nbt_input)NBT_IN(-1, 1, 5), (nbt_input)NBT_IN(-1, 1, 5), 76)
               : st;
}

static nb_tensor *f_outer(nb_tensor *const *in, int n, void *user)
{
    (void)n, (void)user;
    return nb_outer(in[0], in[1]);
}

static nb_status case_outer(void)
{
    const nbt_input in[2] = {NBT_IN(-1, 1, 3), NBT_IN(-1, 1, 2)};
    return nbt_check(f_outer, NULL, in, 2, 77);
}

const nbt_case nbt_cases_einsum[] = {
    {"einsum_matmul", NB_OP_MATMUL, case_einsum_matmul},
    {"einsum_batched", NB_OP_MATMUL, case_einsum_batched},
    {"einsum_attention_scores", NB_OP_MATMUL, case_einsum_attention_scores},
    {"einsum_general", NB_OP_MATMUL, case_einsum_general},
    {"einsum_outer_and_dot", NB_OP_MATMUL, case_einsum_outer_and_dot},
    {"outer", NB_OP_MUL, case_outer},
    {0},
};
