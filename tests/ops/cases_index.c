/* tests/ops/cases_index.c — gradient checks of pick and gather_rows (the index input is NB_I64
 * and never differentiated; repeated indices must scatter-add). */
#include "support/nbt.h"

/* Runs the check on x (f64, requires grad) with the index tensor ids as input 1. */
static nb_status check_with_ids(nb_gradcheck_fn f, int ndim, const int64_t *shape, uint64_t seed,
                                int ids_ndim, const int64_t *ids_shape, const int64_t *ids)
{
    nb_rng rng = nb_rng_seed(seed);
    nb_tensor *in[2] = {nb_tensor_uniform(NB_F64, ndim, shape, &rng, -1, 1),
                        nb_tensor_from_data(NB_I64, ids_ndim, ids_shape, ids)};
    nb_status st = in[0] && in[1] ? nb_tensor_set_requires_grad(in[0], true) : nb_last_status();
    if (st == NB_OK)
        st = nbt_check_tensors(f, NULL, in, 2);
    nb_tensor_free(in[0]);
    nb_tensor_free(in[1]);
    return st;
}

static nb_tensor *f_pick(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    return nb_pick(in[0], in[1]);
}

static nb_status case_pick(void)
{
    const int64_t xs[2] = {5, 4}, is[1] = {5}, ids[5] = {3, 0, 2, 3, 1};
    return check_with_ids(f_pick, 2, xs, 41, 1, is, ids);
}

/* pick of a transposed view: the engine makes x contiguous first. */
static nb_tensor *f_pick_transposed(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    return nb_pick(nb_transpose(in[0], 0, 1), in[1]);
}

static nb_status case_pick_of_transposed_view(void)
{
    const int64_t xs[2] = {3, 4}, is[1] = {4}, ids[4] = {2, 2, 0, 1};
    return check_with_ids(f_pick_transposed, 2, xs, 42, 1, is, ids);
}

static nb_tensor *f_gather(nb_tensor *const *in, int n, void *u)
{
    (void)n, (void)u;
    return nb_gather_rows(in[0], in[1]);
}

/* Row 2 is used three times and row 4 never: its gradient must be 3 dy sums and 0. */
static nb_status case_gather_rows_repeated_ids(void)
{
    const int64_t ts[2] = {5, 3}, is[1] = {6}, ids[6] = {2, 0, 2, 1, 2, 3};
    return check_with_ids(f_gather, 2, ts, 43, 1, is, ids);
}

static nb_status case_gather_rows_2d_ids(void)
{
    const int64_t ts[2] = {4, 2}, is[2] = {2, 3}, ids[6] = {3, 1, 3, 0, 0, 2};
    return check_with_ids(f_gather, 2, ts, 44, 2, is, ids);
}

const nbt_case nbt_cases_index[] = {
    {"pick", NB_OP_PICK, case_pick},
    {"pick_of_transposed_view", NB_OP_PICK, case_pick_of_transposed_view},
    {"gather_rows_repeated_ids", NB_OP_GATHER_ROWS, case_gather_rows_repeated_ids},
    {"gather_rows_2d_ids", NB_OP_GATHER_ROWS, case_gather_rows_2d_ids},
    {0},
};
