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

/* ---- class-index losses with options: targets NB_I64, class weights constant ---- */
typedef struct class_case {
    bool logits; /* cross-entropy (else NLL of the input as log-probabilities) */
    nb_reduction reduction;
    nb_cross_entropy_opts opts; /* weight is set from input 2 when the case has one */
} class_case;

static nb_tensor *f_class(nb_tensor *const *in, int n, void *u)
{
    const class_case *c = u;
    nb_cross_entropy_opts o = c->opts;
    o.weight = n > 2 ? in[2] : NULL;
    return c->logits ? nb_cross_entropy_ex(in[0], in[1], c->reduction, &o)
                     : nb_nll_ex(in[0], in[1], c->reduction, &o);
}

/* x of shape xs (f64, checked), targets of x's shape without axis 1 (axis 0 when 1-D), and with
 * `weighted` a constant weight in [0.2, 2). */
static nb_status check_class(class_case c, int ndim, const int64_t *xs, const int64_t *targets,
                             bool weighted, uint64_t seed)
{
    int64_t ts[NB_MAX_DIMS];
    const int ca = ndim == 1 ? 0 : 1;
    for (int d = 0, e = 0; d < ndim; d++)
        if (d != ca)
            ts[e++] = xs[d];
    nb_rng rng = nb_rng_seed(seed);
    nb_tensor *in[3] = {nb_tensor_uniform(NB_F64, ndim, xs, &rng, -3, c.logits ? 3 : 0),
                        nb_tensor_from_data(NB_I64, ndim - 1, ts, targets),
                        weighted ? nb_tensor_uniform(NB_F64, 1, &xs[ca], &rng, 0.2, 2) : NULL};
    nb_status st = in[0] && in[1] ? nb_tensor_set_requires_grad(in[0], true) : nb_last_status();
    if (st == NB_OK)
        st = nbt_check_tensors(f_class, &c, in, weighted ? 3 : 2);
    for (int i = 0; i < 3; i++)
        nb_tensor_free(in[i]);
    return st;
}

#define IGNORE(i) .use_ignore_index = true, .ignore_index = (i)

static nb_status case_nll_weight_ignore_mean(void)
{
    const int64_t xs[2] = {5, 4}, t[5] = {1, -100, 0, 3, 3};
    return check_class((class_case){false, NB_REDUCE_MEAN, {IGNORE(-100)}}, 2, xs, t, true, 61);
}

static nb_status case_nll_sum(void)
{
    const int64_t xs[3] = {2, 3, 2}, t[4] = {2, 0, 1, 1};
    return check_class((class_case){false, NB_REDUCE_SUM, {0}}, 3, xs, t, false, 62);
}

static nb_status case_cross_entropy_nd_smooth_weight(void)
{
    const int64_t xs[4] = {2, 3, 2, 2}, t[8] = {0, 2, 1, 1, 2, 0, 0, 1};
    return check_class((class_case){true, NB_REDUCE_MEAN, {IGNORE(1), .label_smoothing = 0.3}}, 4,
                       xs, t, true, 63);
}

static nb_status case_cross_entropy_smooth_none(void)
{
    const int64_t xs[2] = {4, 5}, t[4] = {4, 0, 2, 7};
    return check_class((class_case){true, NB_REDUCE_NONE, {IGNORE(7), .label_smoothing = 0.1}}, 2,
                       xs, t, false, 64);
}

static nb_status case_cross_entropy_unbatched(void)
{
    const int64_t xs[1] = {5}, t[1] = {3};
    return check_class((class_case){true, NB_REDUCE_MEAN, {.label_smoothing = 0.2}}, 1, xs, t, true,
                       65);
}

/* ---- BCE with logits, weights; regression and margin losses ---- */
#define CONST(...)                                                                                 \
    {                                                                                              \
        .ndim = (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), .shape = {__VA_ARGS__}, \
        .lo = -1, .hi = 1, .no_grad = true                                                         \
    }

NBT_GRADCASE(bce_with_logits_pos_weight,
             nb_bce_with_logits_ex(in[0], in[1], NB_REDUCE_MEAN,
                                   &(nb_bce_opts){.pos_weight = in[2]}),
             LOGIT(4, 3), PROB(4, 3), NBT_IN(0.5, 3, 3))
NBT_GRADCASE(bce_with_logits_weights,
             nb_bce_with_logits_ex(in[0], in[1], NB_REDUCE_SUM, &(nb_bce_opts){in[2], in[3]}),
             LOGIT(2, 4), PROB(2, 4), NBT_IN(0.1, 2, 2, 1), NBT_IN(0.5, 3, 4))
NBT_GRADCASE(l1, nb_l1(in[0], in[1], NB_REDUCE_MEAN), PRED(4, 3), PRED(4, 3))
NBT_GRADCASE(smooth_l1, nb_smooth_l1(in[0], in[1], NB_REDUCE_SUM, 0.6), PRED(4, 3), PRED(4, 3))
NBT_GRADCASE(smooth_l1_beta0, nb_smooth_l1(in[0], in[1], NB_REDUCE_NONE, 0), PRED(5), PRED(5))
NBT_GRADCASE(huber, nb_huber(in[0], in[1], NB_REDUCE_MEAN, 0.5), PRED(4, 3), PRED(4, 3))
NBT_GRADCASE(kl_div_batchmean, nb_kl_div(in[0], in[1], NB_REDUCE_BATCHMEAN, false),
             NBT_IN(-3, -0.1, 3, 4), PROB(3, 4))
NBT_GRADCASE(kl_div_log_target, nb_kl_div(in[0], in[1], NB_REDUCE_SUM, true),
             NBT_IN(-3, -0.1, 3, 4), NBT_IN(-3, -0.1, 3, 4))
/* +-1 targets as the sign of a constant input. */
NBT_GRADCASE(hinge_embedding, nb_hinge_embedding(in[0], nb_sign(in[1]), NB_REDUCE_MEAN, 0.5),
             NBT_IN(-2, 2, 4, 3), CONST(4, 3))
NBT_GRADCASE(margin_ranking, nb_margin_ranking(in[0], in[1], nb_sign(in[2]), NB_REDUCE_SUM, 0.2),
             PRED(7), PRED(7), CONST(7))
NBT_GRADCASE(cosine_embedding,
             nb_cosine_embedding(in[0], in[1], nb_sign(in[2]), NB_REDUCE_MEAN, -0.5), PRED(5, 3),
             PRED(5, 3), CONST(5))
NBT_GRADCASE(cosine_embedding_unbatched,
             nb_cosine_embedding(in[0], in[1], nb_affine(in[2], 0, 1), NB_REDUCE_NONE, 0), PRED(4),
             PRED(4), NBT_IN0(0, 1))

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
    {"cross_entropy_mean", NB_OP_NLL, case_cross_entropy_mean},
    {"cross_entropy_sum", NB_OP_NLL, case_cross_entropy_sum},
    {"cross_entropy_none", NB_OP_NLL, case_cross_entropy_none},
    {"cross_entropy_onehot_mean", NB_OP_LOG_SOFTMAX, case_cross_entropy_onehot_mean},
    {"cross_entropy_onehot_sum", NB_OP_LOG_SOFTMAX, case_cross_entropy_onehot_sum},
    {"cross_entropy_onehot_none", NB_OP_LOG_SOFTMAX, case_cross_entropy_onehot_none},
    {"nll_weight_ignore_mean", NB_OP_NLL, case_nll_weight_ignore_mean},
    {"nll_sum", NB_OP_NLL, case_nll_sum},
    {"cross_entropy_nd_smooth_weight", NB_OP_NLL, case_cross_entropy_nd_smooth_weight},
    {"cross_entropy_smooth_none", NB_OP_NLL, case_cross_entropy_smooth_none},
    {"cross_entropy_unbatched", NB_OP_NLL, case_cross_entropy_unbatched},
    {"bce_with_logits_pos_weight", NB_OP_SOFTPLUS, case_bce_with_logits_pos_weight},
    {"bce_with_logits_weights", NB_OP_SOFTPLUS, case_bce_with_logits_weights},
    {"l1", NB_OP_ABS, case_l1},
    {"smooth_l1", NB_OP_CLAMP, case_smooth_l1},
    {"smooth_l1_beta0", NB_OP_ABS, case_smooth_l1_beta0},
    {"huber", NB_OP_CLAMP, case_huber},
    {"kl_div_batchmean", NB_OP_LOG, case_kl_div_batchmean},
    {"kl_div_log_target", NB_OP_EXP, case_kl_div_log_target},
    {"hinge_embedding", NB_OP_RELU, case_hinge_embedding},
    {"margin_ranking", NB_OP_RELU, case_margin_ranking},
    {"cosine_embedding", NB_OP_SQRT, case_cosine_embedding},
    {"cosine_embedding_unbatched", NB_OP_DIV, case_cosine_embedding_unbatched},
    {0},
};
