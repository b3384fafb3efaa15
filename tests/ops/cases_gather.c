/* tests/ops/cases_gather.c — gradient checks of ops/gather.c (gather, scatter, scatter_add,
 * index_select, index_add, masked_select, unequal split) and ops/remap.c (flip, roll,
 * repeat/tile, padding modes). Index tensors are NB_I64 and never differentiated; repeated
 * indices must accumulate. */
#include "support/nbt.h"

/* f64 x (and src when src_ndim > 0), both requiring grad, with the index tensor as input 1:
 * in = {x, index, src}. */
static nb_status check_indexed(nb_gradcheck_fn f, void *user, int ndim, const int64_t *xs,
                               int ids_ndim, const int64_t *is, const int64_t *ids, int src_ndim,
                               const int64_t *ss, uint64_t seed)
{
    nb_rng rng = nb_rng_seed(seed);
    nb_tensor *in[3] = {nb_tensor_uniform(NB_F64, ndim, xs, &rng, -1, 1),
                        nb_tensor_from_data(NB_I64, ids_ndim, is, ids),
                        src_ndim ? nb_tensor_uniform(NB_F64, src_ndim, ss, &rng, -1, 1) : NULL};
    const int n = src_ndim ? 3 : 2;
    nb_status st = in[0] && in[1] && (!src_ndim || in[2]) ? NB_OK : nb_last_status();
    if (st == NB_OK)
        st = nb_tensor_set_requires_grad(in[0], true);
    if (st == NB_OK && src_ndim)
        st = nb_tensor_set_requires_grad(in[2], true);
    if (st == NB_OK)
        st = nbt_check_tensors(f, user, in, n);
    for (int i = 0; i < 3; i++)
        nb_tensor_free(in[i]);
    return st;
}

static int axis_of(void *user)
{
    return (int)(intptr_t)user;
}

static nb_tensor *f_gather(nb_tensor *const *in, int n, void *user)
{
    (void)n;
    return nb_gather(in[0], axis_of(user), in[1]);
}

/* Along axis 1 of [3, 4]: x[0, 2] is picked three times, x[1, 0] twice, and some never. */
static nb_status case_gather_repeated_indices(void)
{
    const int64_t xs[2] = {3, 4}, is[2] = {2, 3}, ids[6] = {2, 2, 2, 0, 0, 3};
    return check_indexed(f_gather, (void *)1, 2, xs, 2, is, ids, 0, NULL, 51);
}

/* Along axis 0 of a 3-D x, with an index smaller than x in the other dims. */
static nb_status case_gather_axis0_3d(void)
{
    const int64_t xs[3] = {3, 2, 3}, is[3] = {2, 2, 2}, ids[8] = {2, 0, 1, 1, 0, 0, 2, 1};
    return check_indexed(f_gather, (void *)0, 3, xs, 3, is, ids, 0, NULL, 52);
}

static nb_tensor *f_scatter(nb_tensor *const *in, int n, void *user)
{
    (void)n;
    return nb_scatter(in[0], axis_of(user), in[1], in[2]);
}

static nb_tensor *f_scatter_add(nb_tensor *const *in, int n, void *user)
{
    (void)n;
    return nb_scatter_add(in[0], axis_of(user), in[1], in[2]);
}

/* Distinct indices per row (scatter's result with a repeat depends on write order only, its
 * gradient does not): x is [3, 5], src [2, 3] larger than index [2, 2]. */
static nb_status case_scatter_into_rows(void)
{
    const int64_t xs[2] = {3, 5}, is[2] = {2, 2}, ids[4] = {4, 1, 0, 3}, ss[2] = {2, 3};
    return check_indexed(f_scatter, (void *)1, 2, xs, 2, is, ids, 2, ss, 53);
}

/* Repeated indices: written positions of x get no gradient, every src element gets dy there. */
static nb_status case_scatter_repeated_indices(void)
{
    const int64_t xs[2] = {4, 2}, is[2] = {3, 2}, ids[6] = {1, 3, 1, 3, 0, 3}, ss[2] = {3, 2};
    return check_indexed(f_scatter, (void *)0, 2, xs, 2, is, ids, 2, ss, 54);
}

static nb_status case_scatter_add_repeated_indices(void)
{
    const int64_t xs[2] = {4, 3}, is[2] = {2, 3}, ids[6] = {3, 3, 0, 3, 1, 0}, ss[2] = {2, 3};
    return check_indexed(f_scatter_add, (void *)0, 2, xs, 2, is, ids, 2, ss, 55);
}

static nb_tensor *f_index_select(nb_tensor *const *in, int n, void *user)
{
    (void)n;
    return nb_index_select(in[0], axis_of(user), in[1]);
}

static nb_status case_index_select_repeated(void)
{
    const int64_t xs[3] = {2, 4, 3}, is[1] = {5}, ids[5] = {3, 0, 3, 3, 1};
    return check_indexed(f_index_select, (void *)1, 3, xs, 1, is, ids, 0, NULL, 56);
}

static nb_tensor *f_index_add(nb_tensor *const *in, int n, void *user)
{
    (void)n;
    return nb_index_add(in[0], axis_of(user), in[1], in[2], -1.5);
}

static nb_status case_index_add_repeated(void)
{
    const int64_t xs[3] = {2, 3, 2}, is[1] = {4}, ids[4] = {2, 0, 2, 2}, ss[3] = {2, 4, 2};
    return check_indexed(f_index_add, (void *)-2, 3, xs, 1, is, ids, 3, ss, 57);
}

static nb_tensor *f_masked_select(nb_tensor *const *in, int n, void *user)
{
    (void)n, (void)user;
    return nb_masked_select(in[0], in[1]);
}

/* An i64 mask of x's shape. */
static nb_status case_masked_select(void)
{
    const int64_t xs[2] = {3, 4}, mask[12] = {1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1};
    return check_indexed(f_masked_select, NULL, 2, xs, 2, xs, mask, 0, NULL, 58);
}

/* A float mask broadcast along the rows. */
static nb_tensor *f_masked_select_float_row(nb_tensor *const *in, int n, void *user)
{
    (void)n, (void)user;
    const double m[4] = {0, 1, 1, 0};
    const int64_t ms[1] = {4};
    nb_tensor *mask = nb_tensor_from_data(NB_F64, 1, ms, m);
    nb_tensor *y = nb_masked_select(in[0], mask);
    nb_tensor_free(mask);
    return y;
}

static nb_status case_masked_select_float_broadcast(void)
{
    const nbt_input x = NBT_IN(-1, 1, 3, 4);
    return nbt_check(f_masked_select_float_row, NULL, &x, 1, 59);
}

/* Unequal parts (3, 0, 2) of axis 1, recombined with different weights. */
static nb_tensor *f_split_sizes(nb_tensor *const *in, int n, void *user)
{
    (void)n, (void)user;
    const int64_t sizes[3] = {3, 0, 2};
    nb_tensor *p[3];
    if (nb_split_sizes(in[0], 1, 3, sizes, p) != NB_OK)
        return NULL;
    nb_tensor *y = nb_add(nb_sum(p[0], 1, false), nb_mul_scalar(nb_sum(p[2], 1, false), 3.0));
    return y;
}

static nb_status case_split_sizes(void)
{
    const nbt_input x = NBT_IN(-1, 1, 2, 5);
    return nbt_check(f_split_sizes, NULL, &x, 1, 60);
}

/* ---- ops/remap.c ---- */
static nb_tensor *f_flip(nb_tensor *const *in, int n, void *user)
{
    (void)n, (void)user;
    const int axes[2] = {0, -1};
    return nb_flip(in[0], 2, axes);
}

static nb_status case_flip(void)
{
    const nbt_input x = NBT_IN(-1, 1, 3, 2, 4);
    return nbt_check(f_flip, NULL, &x, 1, 61);
}

static nb_tensor *f_roll(nb_tensor *const *in, int n, void *user)
{
    (void)n, (void)user;
    const int64_t shifts[2] = {-4, 2};
    const int axes[2] = {1, 0};
    return nb_roll(in[0], 2, shifts, axes);
}

static nb_status case_roll(void)
{
    const nbt_input x = NBT_IN(-1, 1, 3, 5);
    return nbt_check(f_roll, NULL, &x, 1, 62);
}

static nb_tensor *f_roll_flat(nb_tensor *const *in, int n, void *user)
{
    (void)n, (void)user;
    const int64_t shift = 7;
    return nb_roll(in[0], 1, &shift, NULL);
}

static nb_status case_roll_flattened(void)
{
    const nbt_input x = NBT_IN(-1, 1, 2, 3);
    return nbt_check(f_roll_flat, NULL, &x, 1, 63);
}

/* Each element is copied 2 * 3 * 2 times: its gradient sums them. */
static nb_tensor *f_repeat(nb_tensor *const *in, int n, void *user)
{
    (void)n, (void)user;
    const int64_t reps[3] = {2, 3, 2};
    return nb_repeat(in[0], 3, reps);
}

static nb_status case_repeat_new_leading_axis(void)
{
    const nbt_input x = NBT_IN(-1, 1, 2, 3);
    return nbt_check(f_repeat, NULL, &x, 1, 64);
}

static nb_tensor *f_tile(nb_tensor *const *in, int n, void *user)
{
    (void)n, (void)user;
    const int64_t reps[1] = {3};
    return nb_tile(in[0], 1, reps);
}

static nb_status case_tile_fewer_repeats(void)
{
    const nbt_input x = NBT_IN(-1, 1, 2, 2);
    return nbt_check(f_tile, NULL, &x, 1, 65);
}

static nb_tensor *f_pad(nb_tensor *const *in, int n, void *user)
{
    (void)n;
    /* the widest pads each mode takes on a [.., 3, 4] input */
    const nb_pad_mode mode = (nb_pad_mode)(intptr_t)user;
    const int64_t pads[4][4] = {{1, 2, 0, 3}, {2, 1, 3, 2}, {3, 2, 1, 5}, {3, 2, 4, 1}};
    return nb_pad(in[0], 2, pads[mode], mode, 0.25);
}

static nb_status check_pad(nb_pad_mode mode, uint64_t seed)
{
    const nbt_input x = NBT_IN(-1, 1, 2, 3, 4);
    return nbt_check(f_pad, (void *)(intptr_t)mode, &x, 1, seed);
}

static nb_status case_pad_constant(void)
{
    return check_pad(NB_PAD_CONSTANT, 66);
}

static nb_status case_pad_reflect(void)
{
    return check_pad(NB_PAD_REFLECT, 67);
}

static nb_status case_pad_replicate(void)
{
    return check_pad(NB_PAD_REPLICATE, 68);
}

static nb_status case_pad_circular(void)
{
    return check_pad(NB_PAD_CIRCULAR, 69);
}

const nbt_case nbt_cases_gather[] = {
    {"gather_repeated_indices", NB_OP_GATHER, case_gather_repeated_indices},
    {"gather_axis0_3d", NB_OP_GATHER, case_gather_axis0_3d},
    {"scatter_into_rows", NB_OP_SCATTER, case_scatter_into_rows},
    {"scatter_repeated_indices", NB_OP_SCATTER, case_scatter_repeated_indices},
    {"scatter_add_repeated_indices", NB_OP_SCATTER_ADD, case_scatter_add_repeated_indices},
    {"index_select_repeated", NB_OP_INDEX_SELECT, case_index_select_repeated},
    {"index_add_repeated", NB_OP_INDEX_ADD, case_index_add_repeated},
    {"masked_select", NB_OP_MASKED_SELECT, case_masked_select},
    {"masked_select_float_broadcast", NB_OP_MASKED_SELECT, case_masked_select_float_broadcast},
    {"split_sizes", NB_OP_SLICE, case_split_sizes},
    {"flip", NB_OP_FLIP, case_flip},
    {"roll", NB_OP_ROLL, case_roll},
    {"roll_flattened", NB_OP_ROLL, case_roll_flattened},
    {"repeat_new_leading_axis", NB_OP_REPEAT, case_repeat_new_leading_axis},
    {"tile_fewer_repeats", NB_OP_REPEAT, case_tile_fewer_repeats},
    {"pad_constant", NB_OP_PAD_MODE, case_pad_constant},
    {"pad_reflect", NB_OP_PAD_MODE, case_pad_reflect},
    {"pad_replicate", NB_OP_PAD_MODE, case_pad_replicate},
    {"pad_circular", NB_OP_PAD_MODE, case_pad_circular},
    {0},
};
