/* tests/ops/cases_reduce2.c — gradient checks of min, prod, var, std, norm, logsumexp, cumsum,
 * cumprod, and of the values of sort and topk. Inputs are continuous random values (no ties);
 * prod and cumprod are also checked at inputs holding one zero and several zeros (both are
 * polynomials, so central differences are exact there too). */
#include "support/nbt.h"

#include <math.h>

static const int ax1[1] = {1};
static const int ax02[2] = {0, 2};
static const int ax_last2[2] = {-1, 1};

/* x in [-1, 1) kept away from 0 (the kink of |x|). */
#define NBT_IN_NOZERO(...)                                                                         \
    {                                                                                              \
        .ndim = (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), .shape = {__VA_ARGS__}, \
        .lo = -1, .hi = 1, .n_kinks = 1, .kinks = {                                                \
            0                                                                                      \
        }                                                                                          \
    }

NBT_GRADCASE(min_axis1, nb_min(in[0], 1, false), NBT_IN(-1, 1, 3, 4))
NBT_GRADCASE(min_two_axes_keepdim, nb_min_axes(in[0], 2, ax02, true), NBT_IN(-1, 1, 2, 3, 4))
NBT_GRADCASE(prod_axis1, nb_prod(in[0], 1, ax1, false), NBT_IN(-1.5, 1.5, 3, 4))
NBT_GRADCASE(prod_two_axes_keepdim, nb_prod(in[0], 2, ax02, true), NBT_IN(-1.5, 1.5, 2, 3, 2))
NBT_GRADCASE(prod_all, nb_prod(in[0], 0, NULL, false), NBT_IN(0.5, 1.5, 2, 3))
NBT_GRADCASE(var_bessel, nb_var(in[0], 1, ax1, 1, false), NBT_IN(-1, 1, 3, 4))
NBT_GRADCASE(var_population_two_axes, nb_var(in[0], 2, ax_last2, 0, true), NBT_IN(-1, 1, 2, 3, 4))
NBT_GRADCASE(std_bessel, nb_std(in[0], 1, ax1, 1, true), NBT_IN(-1, 1, 3, 4))
NBT_GRADCASE(std_all, nb_std(in[0], 0, NULL, 0, false), NBT_IN(-1, 1, 2, 3, 2))
NBT_GRADCASE(norm_1, nb_norm(in[0], 1, 1, ax1, false), NBT_IN_NOZERO(3, 4))
NBT_GRADCASE(norm_2, nb_norm(in[0], 2, 2, ax02, false), NBT_IN(-1, 1, 2, 3, 4))
NBT_GRADCASE(norm_inf, nb_norm(in[0], INFINITY, 1, ax1, true), NBT_IN_NOZERO(3, 5))
NBT_GRADCASE(norm_3, nb_norm(in[0], 3, 0, NULL, false), NBT_IN_NOZERO(3, 4))
NBT_GRADCASE(norm_half, nb_norm(in[0], 0.5, 1, ax1, false), NBT_IN_NOZERO(3, 4))
NBT_GRADCASE(logsumexp_axis1, nb_logsumexp(in[0], 1, ax1, false), NBT_IN(-3, 3, 3, 4))
NBT_GRADCASE(logsumexp_two_axes, nb_logsumexp(in[0], 2, ax02, true), NBT_IN(-3, 3, 2, 3, 4))
NBT_GRADCASE(cumsum_axis0, nb_cumsum(in[0], 0), NBT_IN(-1, 1, 4, 3))
NBT_GRADCASE(cumsum_last, nb_cumsum(in[0], -1), NBT_IN(-1, 1, 2, 3, 5))
NBT_GRADCASE(cumprod_axis1, nb_cumprod(in[0], 1), NBT_IN(-1.5, 1.5, 2, 5, 3))
NBT_GRADCASE(cumprod_last, nb_cumprod(in[0], -1), NBT_IN(-1.5, 1.5, 3, 4))

static nb_tensor *sort_values(nb_tensor *const *in, int n, void *user)
{
    (void)n, (void)user;
    nb_tensor *v = NULL;
    nb_sort(in[0], 1, true, &v, NULL);
    return v;
}

static nb_tensor *topk_values(nb_tensor *const *in, int n, void *user)
{
    (void)n, (void)user;
    nb_tensor *v = NULL;
    nb_topk(in[0], 2, 0, false, false, &v, NULL);
    return v;
}

static nb_status case_sort_values(void)
{
    const nbt_input spec[] = {NBT_IN(-1, 1, 3, 5)};
    return nbt_check(sort_values, NULL, spec, 1, __LINE__);
}

static nb_status case_topk_values(void)
{
    const nbt_input spec[] = {NBT_IN(-1, 1, 4, 3)};
    return nbt_check(topk_values, NULL, spec, 1, __LINE__);
}

/* Rows of [3, 4] with no zero, one zero and two zeros. */
static const double with_zeros[12] = {0.5, -1.5, 2, 0.75, /**/ 1.25, 0, -0.5, 2, /**/ 0, 3, 0, -2};

static nb_tensor *prod_rows(nb_tensor *const *in, int n, void *user)
{
    (void)n, (void)user;
    return nb_prod(in[0], 1, ax1, false);
}

static nb_tensor *cumprod_rows(nb_tensor *const *in, int n, void *user)
{
    (void)n, (void)user;
    return nb_cumprod(in[0], 1);
}

static nb_status check_with_zeros(nb_gradcheck_fn f)
{
    nb_tensor *x = nb_tensor_from_data(NB_F64, 2, (const int64_t[]){3, 4}, with_zeros);
    nb_status st = nb_tensor_set_requires_grad(x, true);
    if (st == NB_OK)
        st = nbt_check_tensors(f, NULL, &x, 1);
    nb_tensor_free(x);
    return st;
}

static nb_status case_prod_with_zeros(void)
{
    return check_with_zeros(prod_rows);
}

static nb_status case_cumprod_with_zeros(void)
{
    return check_with_zeros(cumprod_rows);
}

const nbt_case nbt_cases_reduce2[] = {
    {"min_axis1", NB_OP_MIN, case_min_axis1},
    {"min_two_axes_keepdim", NB_OP_MIN, case_min_two_axes_keepdim},
    {"prod_axis1", NB_OP_PROD, case_prod_axis1},
    {"prod_two_axes_keepdim", NB_OP_PROD, case_prod_two_axes_keepdim},
    {"prod_all", NB_OP_PROD, case_prod_all},
    {"prod_with_zeros", NB_OP_PROD, case_prod_with_zeros},
    {"var_bessel", NB_OP_VAR, case_var_bessel},
    {"var_population_two_axes", NB_OP_VAR, case_var_population_two_axes},
    {"std_bessel", NB_OP_STD, case_std_bessel},
    {"std_all", NB_OP_STD, case_std_all},
    {"norm_1", NB_OP_NORM, case_norm_1},
    {"norm_2", NB_OP_NORM, case_norm_2},
    {"norm_inf", NB_OP_NORM, case_norm_inf},
    {"norm_3", NB_OP_NORM, case_norm_3},
    {"norm_half", NB_OP_NORM, case_norm_half},
    {"logsumexp_axis1", NB_OP_LOGSUMEXP, case_logsumexp_axis1},
    {"logsumexp_two_axes", NB_OP_LOGSUMEXP, case_logsumexp_two_axes},
    {"cumsum_axis0", NB_OP_CUMSUM, case_cumsum_axis0},
    {"cumsum_last", NB_OP_CUMSUM, case_cumsum_last},
    {"cumprod_axis1", NB_OP_CUMPROD, case_cumprod_axis1},
    {"cumprod_last", NB_OP_CUMPROD, case_cumprod_last},
    {"cumprod_with_zeros", NB_OP_CUMPROD, case_cumprod_with_zeros},
    {"sort_values", NB_OP_GATHER, case_sort_values},
    {"topk_values", NB_OP_GATHER, case_topk_values},
    {0},
};
