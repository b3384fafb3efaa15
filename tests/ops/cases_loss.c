/* tests/ops/cases_loss.c — gradient checks of every loss under every reduction. Losses are
 * compositions of public ops; these cases check the composition end to end (with respect to
 * the prediction and, where the target is a float tensor, the target too). */
#include "support/nbt.h"

#define PRED(...)  NBT_IN(-1, 1, __VA_ARGS__)
#define PROB(...)  NBT_IN(0.05, 0.95, __VA_ARGS__)
#define LOGIT(...) NBT_IN(-4, 4, __VA_ARGS__)

NBT_GRADCASE(mse_mean, nb_mse(in[0], in[1], NB_REDUCE_MEAN), PRED(4, 3), PRED(4, 3))
NBT_GRADCASE(mse_sum, nb_mse(in[0], in[1], NB_REDUCE_SUM), PRED(4, 3), PRED(4, 3))
NBT_GRADCASE(mse_none, nb_mse(in[0], in[1], NB_REDUCE_NONE), PRED(2, 5), PRED(2, 5))
NBT_GRADCASE(sse, nb_mse(in[0], in[1], NB_REDUCE_SUM), PRED(3, 4), PRED(3, 4))
NBT_GRADCASE(bce_mean, nb_bce(in[0], in[1], NB_REDUCE_MEAN), PROB(4, 3), PROB(4, 3))
NBT_GRADCASE(bce_sum, nb_bce(in[0], in[1], NB_REDUCE_SUM), PROB(4, 3), PROB(4, 3))
NBT_GRADCASE(bce_none, nb_bce(in[0], in[1], NB_REDUCE_NONE), PROB(6), PROB(6))
NBT_GRADCASE(bce_with_logits_mean, nb_bce_with_logits(in[0], in[1], NB_REDUCE_MEAN), LOGIT(4, 3),
             PROB(4, 3))
NBT_GRADCASE(bce_with_logits_sum, nb_bce_with_logits(in[0], in[1], NB_REDUCE_SUM), LOGIT(4, 3),
             PROB(4, 3))
NBT_GRADCASE(bce_with_logits_none, nb_bce_with_logits(in[0], in[1], NB_REDUCE_NONE), LOGIT(7),
             PROB(7))
NBT_GRADCASE(bce_with_logits_large_logits, nb_bce_with_logits(in[0], in[1], NB_REDUCE_SUM),
             NBT_IN(-40, 40, 10), PROB(10))
NBT_GRADCASE(cross_entropy_onehot_mean, nb_cross_entropy_onehot(in[0], in[1], NB_REDUCE_MEAN),
             LOGIT(4, 5), PROB(4, 5))
NBT_GRADCASE(cross_entropy_onehot_sum, nb_cross_entropy_onehot(in[0], in[1], NB_REDUCE_SUM),
             LOGIT(4, 5), PROB(4, 5))
NBT_GRADCASE(cross_entropy_onehot_none, nb_cross_entropy_onehot(in[0], in[1], NB_REDUCE_NONE),
             LOGIT(3, 4), PROB(3, 4))

/* Cross-entropy against class indices: targets are an NB_I64 input. */
static nb_tensor *f_cross_entropy(nb_tensor *const *in, int n, void *u)
{
    (void)n;
    return nb_cross_entropy(in[0], in[1], *(const nb_reduction *)u);
}

static nb_status check_cross_entropy(nb_reduction reduction)
{
    const int64_t ls[2] = {5, 4}, ts[1] = {5}, targets[5] = {1, 3, 0, 3, 2};
    nb_rng rng = nb_rng_seed(51 + (uint64_t)reduction);
    nb_tensor *in[2] = {nb_tensor_uniform(NB_F64, 2, ls, &rng, -4, 4),
                        nb_tensor_from_data(NB_I64, 1, ts, targets)};
    nb_status st = in[0] && in[1] ? nb_tensor_set_requires_grad(in[0], true) : nb_last_status();
    if (st == NB_OK)
        st = nbt_check_tensors(f_cross_entropy, &reduction, in, 2);
    nb_tensor_free(in[0]);
    nb_tensor_free(in[1]);
    return st;
}

static nb_status case_cross_entropy_mean(void)
{
    return check_cross_entropy(NB_REDUCE_MEAN);
}

static nb_status case_cross_entropy_sum(void)
{
    return check_cross_entropy(NB_REDUCE_SUM);
}

static nb_status case_cross_entropy_none(void)
{
    return check_cross_entropy(NB_REDUCE_NONE);
}

const nbt_case nbt_cases_loss[] = {
    {"mse_mean", NB_OP_SQUARE, case_mse_mean},
    {"mse_sum", NB_OP_SQUARE, case_mse_sum},
    {"mse_none", NB_OP_SQUARE, case_mse_none},
    {"sse", NB_OP_SQUARE, case_sse},
    {"bce_mean", NB_OP_LOG, case_bce_mean},
    {"bce_sum", NB_OP_LOG, case_bce_sum},
    {"bce_none", NB_OP_LOG, case_bce_none},
    {"bce_with_logits_mean", NB_OP_SOFTPLUS, case_bce_with_logits_mean},
    {"bce_with_logits_sum", NB_OP_SOFTPLUS, case_bce_with_logits_sum},
    {"bce_with_logits_none", NB_OP_SOFTPLUS, case_bce_with_logits_none},
    {"bce_with_logits_large_logits", NB_OP_SOFTPLUS, case_bce_with_logits_large_logits},
    {"cross_entropy_mean", NB_OP_PICK, case_cross_entropy_mean},
    {"cross_entropy_sum", NB_OP_PICK, case_cross_entropy_sum},
    {"cross_entropy_none", NB_OP_PICK, case_cross_entropy_none},
    {"cross_entropy_onehot_mean", NB_OP_LOG_SOFTMAX, case_cross_entropy_onehot_mean},
    {"cross_entropy_onehot_sum", NB_OP_LOG_SOFTMAX, case_cross_entropy_onehot_sum},
    {"cross_entropy_onehot_none", NB_OP_LOG_SOFTMAX, case_cross_entropy_onehot_none},
    {0},
};
