/* tests/ops/test_golden_compare.c — nabla's ops against PyTorch's values: the fixtures under
 * tests/golden/ (written by scripts/golden_ops.py, listed in tests/golden/MANIFEST) hold each
 * case's inputs, output, a cotangent and the input gradients it gives. Every case runs in f64
 * (forward and backward within 1e-10 relative) and in f32 (forward within 1e-5, the inputs
 * rounded to f32). A fixture without a line in GOLDEN_OPS below fails, and so does a line
 * without a fixture.
 *
 * Adding an op: a Case(...) line in scripts/golden_ops.py, run it, and one X(name, expr) line
 * here computing the same with nabla from in[0], in[1], ... (f64 or f32 as `dt`). */
#include "support/nbt.h"

#include <math.h>
#include <stdio.h>

/* nb_sort's values; nb_topk's sorted values, or (want_values false) its indices. */
static nb_tensor *sorted_values(nb_tensor *x, int axis, bool descending)
{
    nb_tensor *v = NULL;
    nb_sort(x, axis, descending, &v, NULL);
    return v;
}

static nb_tensor *topk_out(nb_tensor *x, int64_t k, int axis, bool largest, bool want_values)
{
    nb_tensor *v = NULL, *i = NULL;
    nb_topk(x, k, axis, largest, true, want_values ? &v : NULL, want_values ? NULL : &i);
    return want_values ? v : i;
}

#define GOLDEN_OPS(X)                                                                              \
    X(eq, nb_eq(in[0], in[1]))                                                                     \
    X(ne, nb_ne(in[0], in[1]))                                                                     \
    X(lt, nb_lt(in[0], in[1]))                                                                     \
    X(le, nb_le(in[0], in[1]))                                                                     \
    X(gt, nb_gt(in[0], in[1]))                                                                     \
    X(ge, nb_ge(in[0], in[1]))                                                                     \
    X(eq_i64, nb_eq(in[0], in[1]))                                                                 \
    X(logical_and, nb_logical_and(in[0], in[1]))                                                   \
    X(logical_or, nb_logical_or(in[0], in[1]))                                                     \
    X(logical_xor, nb_logical_xor(in[0], in[1]))                                                   \
    X(logical_not, nb_logical_not(in[0]))                                                          \
    X(isnan, nb_isnan(in[0]))                                                                      \
    X(isfinite, nb_isfinite(in[0]))                                                                \
    X(where, nb_where(in[0], in[1], in[2]))                                                        \
    X(where_broadcast, nb_where(in[0], in[1], in[2]))                                              \
    X(masked_fill, nb_masked_fill(in[0], in[1], -INFINITY))                                        \
    X(masked_fill_value, nb_masked_fill(in[0], in[1], 2.5))                                        \
    X(tril, nb_tril(in[0], 0))                                                                     \
    X(tril_k1, nb_tril(in[0], 1))                                                                  \
    X(tril_km2, nb_tril(in[0], -2))                                                                \
    X(triu, nb_triu(in[0], 0))                                                                     \
    X(triu_k2, nb_triu(in[0], 2))                                                                  \
    X(triu_km1, nb_triu(in[0], -1))                                                                \
    X(sin, nb_sin(in[0]))                                                                          \
    X(cos, nb_cos(in[0]))                                                                          \
    X(log1p, nb_log1p(in[0]))                                                                      \
    X(expm1, nb_expm1(in[0]))                                                                      \
    X(erf, nb_erf(in[0]))                                                                          \
    X(gelu, nb_gelu(in[0], NB_GELU_EXACT))                                                         \
    X(gelu_tanh, nb_gelu(in[0], NB_GELU_TANH))                                                     \
    X(silu, nb_silu(in[0]))                                                                        \
    X(mish, nb_mish(in[0]))                                                                        \
    X(softplus, nb_softplus(in[0]))                                                                \
    X(elu, nb_elu(in[0], 0.7))                                                                     \
    X(selu, nb_selu(in[0]))                                                                        \
    X(hardtanh, nb_hardtanh(in[0], -0.5, 1.25))                                                    \
    X(softsign, nb_softsign(in[0]))                                                                \
    X(rsqrt, nb_rsqrt(in[0]))                                                                      \
    X(reciprocal, nb_reciprocal(in[0]))                                                            \
    X(sign, nb_sign(in[0]))                                                                        \
    X(floor, nb_floor(in[0]))                                                                      \
    X(ceil, nb_ceil(in[0]))                                                                        \
    X(round, nb_round(in[0]))                                                                      \
    X(round_special, nb_round(in[0]))                                                              \
    X(floor_special, nb_floor(in[0]))                                                              \
    X(ceil_special, nb_ceil(in[0]))                                                                \
    X(pow, nb_pow(in[0], in[1]))                                                                   \
    X(pow_broadcast_base, nb_pow(in[0], in[1]))                                                    \
    X(pow_special, nb_pow(in[0], in[1]))                                                           \
    X(arange, nb_arange(dt, 0.5, 2.45, 0.1))                                                       \
    X(arange_down, nb_arange(dt, 2, -3, -0.75))                                                    \
    X(linspace, nb_linspace(dt, -1.5, 2.25, 7))                                                    \
    X(linspace_8, nb_linspace(dt, 0, 1, 8))                                                        \
    X(eye, nb_eye(dt, 3, 4))                                                                       \
    X(full, nb_full(dt, NB_SHAPE(2, 3), -0.3))                                                     \
    X(gather, nb_gather(in[0], 1, in[1]))                                                          \
    X(gather_axis0, nb_gather(in[0], 0, in[1]))                                                    \
    X(scatter_add, nb_scatter_add(in[0], 0, in[1], in[2]))                                         \
    X(index_select, nb_index_select(in[0], 0, in[1]))                                              \
    X(index_add, nb_index_add(in[0], 1, in[1], in[2], -0.5))                                       \
    X(masked_select, nb_masked_select(in[0], in[1]))                                               \
    X(masked_select_row, nb_masked_select(in[0], in[1]))                                           \
    X(flip, nb_flip(in[0], 2, ((const int[]){0, 2})))                                              \
    X(roll, nb_roll(in[0], 2, ((const int64_t[]){2, -1}), ((const int[]){1, 0})))                  \
    X(roll_flat, nb_roll(in[0], 1, ((const int64_t[]){4}), NULL))                                  \
    X(repeat, nb_repeat(in[0], 3, ((const int64_t[]){2, 1, 3})))                                   \
    X(tile, nb_tile(in[0], 1, ((const int64_t[]){2})))                                             \
    X(pad_constant, nb_pad(in[0], 2, ((const int64_t[]){0, 3, 1, 2}), NB_PAD_CONSTANT, 0.7))       \
    X(pad_reflect, nb_pad(in[0], 2, ((const int64_t[]){2, 0, 3, 1}), NB_PAD_REFLECT, 0))           \
    X(pad_replicate, nb_pad(in[0], 2, ((const int64_t[]){1, 4, 2, 3}), NB_PAD_REPLICATE, 0))       \
    X(pad_circular, nb_pad(in[0], 2, ((const int64_t[]){3, 2, 4, 1}), NB_PAD_CIRCULAR, 0))         \
    X(einsum_matmul, nb_einsum("ij,jk->ik", in[0], in[1]))                                         \
    X(einsum_bmm, nb_einsum("bij,bjk->bik", in[0], in[1]))                                         \
    X(einsum_attention, nb_einsum("bhqd,bhkd->bhqk", in[0], in[1]))                                \
    X(einsum_general, nb_einsum("jxbil,ljb->bli", in[0], in[1]))                                   \
    X(outer, nb_outer(in[0], in[1]))                                                               \
    X(nll, nb_nll(in[0], in[1], NB_REDUCE_MEAN))                                                   \
    X(nll_weight_ignore_nd, nb_nll_ex(in[0], in[1], NB_REDUCE_MEAN, &CE_OPTS(in[2], -1, 0)))       \
    X(cross_entropy_nd, nb_cross_entropy(in[0], in[1], NB_REDUCE_MEAN))                            \
    X(cross_entropy_options,                                                                       \
      nb_cross_entropy_ex(in[0], in[1], NB_REDUCE_MEAN, &CE_OPTS(in[2], -1, 0.2)))                 \
    X(cross_entropy_smooth_nd_sum,                                                                 \
      nb_cross_entropy_ex(in[0], in[1], NB_REDUCE_SUM, &CE_OPTS(NULL, -1, 0.35)))                  \
    X(cross_entropy_weight_none,                                                                   \
      nb_cross_entropy_ex(in[0], in[1], NB_REDUCE_NONE, &CE_OPTS(in[2], -100, 0)))                 \
    X(bce_with_logits_pos_weight,                                                                  \
      nb_bce_with_logits_ex(in[0], in[1], NB_REDUCE_MEAN, &(nb_bce_opts){.pos_weight = in[2]}))    \
    X(bce_with_logits_weights_sum,                                                                 \
      nb_bce_with_logits_ex(in[0], in[1], NB_REDUCE_SUM, &(nb_bce_opts){in[2], in[3]}))            \
    X(l1, nb_l1(in[0], in[1], NB_REDUCE_MEAN))                                                     \
    X(smooth_l1, nb_smooth_l1(in[0], in[1], NB_REDUCE_NONE, 0.8))                                  \
    X(huber, nb_huber(in[0], in[1], NB_REDUCE_SUM, 0.7))                                           \
    X(kl_div_batchmean, nb_kl_div(in[0], in[1], NB_REDUCE_BATCHMEAN, false))                       \
    X(kl_div_log_target, nb_kl_div(in[0], in[1], NB_REDUCE_NONE, true))                            \
    X(hinge_embedding, nb_hinge_embedding(in[0], PLUS_MINUS(in[1]), NB_REDUCE_NONE, 0.6))          \
    X(margin_ranking, nb_margin_ranking(in[0], in[1], PLUS_MINUS(in[2]), NB_REDUCE_MEAN, 0.3))     \
    X(cosine_embedding, nb_cosine_embedding(in[0], in[1], PLUS_MINUS(in[2]), NB_REDUCE_NONE, 0.1)) \
    X(min, nb_min(in[0], 1, false))                                                                \
    X(amin_axes, nb_min_axes(in[0], 2, ((const int[]){0, 2}), true))                               \
    X(argmin, nb_argmin(in[0], 2))                                                                 \
    X(prod, nb_prod(in[0], 1, ((const int[]){1}), false))                                          \
    X(prod_zeros, nb_prod(nb_mul(in[0], in[1]), 1, ((const int[]){1}), false))                     \
    X(var, nb_var(in[0], 1, ((const int[]){1}), 1, false))                                         \
    X(var_population, nb_var(in[0], 2, ((const int[]){0, 2}), 0, true))                            \
    X(std, nb_std(in[0], 1, ((const int[]){0}), 1, false))                                         \
    X(std_all, nb_std(in[0], 0, NULL, 1, true))                                                    \
    X(norm_1, nb_norm(in[0], 1, 1, ((const int[]){1}), false))                                     \
    X(norm_2, nb_norm(in[0], 2, 1, ((const int[]){1}), false))                                     \
    X(norm_inf, nb_norm(in[0], INFINITY, 1, ((const int[]){0}), true))                             \
    X(norm_3, nb_norm(in[0], 3, 2, ((const int[]){0, 2}), false))                                  \
    X(norm_half_all, nb_norm(in[0], 0.5, 0, NULL, true))                                           \
    X(logsumexp, nb_logsumexp(in[0], 1, ((const int[]){1}), false))                                \
    X(logsumexp_axes, nb_logsumexp(in[0], 2, ((const int[]){0, 2}), true))                         \
    X(logsumexp_special, nb_logsumexp(in[0], 1, ((const int[]){1}), false))                        \
    X(any, nb_any(in[0], 1, ((const int[]){1}), false))                                            \
    X(all, nb_all(in[0], 1, ((const int[]){0}), true))                                             \
    X(cumsum, nb_cumsum(in[0], 1))                                                                 \
    X(cumprod, nb_cumprod(in[0], 0))                                                               \
    X(cumprod_zeros, nb_cumprod(nb_mul(in[0], in[1]), 1))                                          \
    X(sort, sorted_values(in[0], 1, false))                                                        \
    X(sort_descending, sorted_values(in[0], 0, true))                                              \
    X(argsort, nb_argsort(in[0], 1, false))                                                        \
    X(argsort_ties, nb_argsort(in[0], 1, false))                                                   \
    X(argsort_ties_descending, nb_argsort(in[0], 1, true))                                         \
    X(topk, topk_out(in[0], 2, 1, true, true))                                                     \
    X(topk_smallest, topk_out(in[0], 3, 0, false, true))                                           \
    X(topk_indices, topk_out(in[0], 4, 1, true, false))

/* Class-loss options (weight, ignore_index, label_smoothing), and +-1 targets from 0/1 masks. */
#define CE_OPTS(w, ignore, eps)                                                                    \
    (nb_cross_entropy_opts)                                                                        \
    {                                                                                              \
        .weight = (w), .use_ignore_index = true, .ignore_index = (ignore),                         \
        .label_smoothing = (eps)                                                                   \
    }
#define PLUS_MINUS(m) nb_affine((m), 2.0, -1.0)

typedef nb_tensor *(*golden_fn)(nb_tensor *const *in, nb_dtype dt);

#define DEFINE_GOLDEN(name, EXPR)                                                                  \
    static nb_tensor *golden_##name(nb_tensor *const *in, nb_dtype dt)                             \
    {                                                                                              \
        (void)in, (void)dt;                                                                        \
        return (EXPR);                                                                             \
    }
GOLDEN_OPS(DEFINE_GOLDEN)

static const struct {
    const char *name;
    golden_fn fn;
} golden_ops[] = {
#define GOLDEN_ENTRY(name, EXPR) {#name, golden_##name},
    GOLDEN_OPS(GOLDEN_ENTRY)
#undef GOLDEN_ENTRY
};
#define N_GOLDEN (sizeof golden_ops / sizeof golden_ops[0])

#define MAX_IN 8

/* tests/golden, next to this file's folder (NB_GOLDEN_DIR overrides). */
static const char *golden_dir(void)
{
    static char dir[4096];
    const char *env = getenv("NB_GOLDEN_DIR");
    if (env)
        return env;
    snprintf(dir, sizeof dir, "%s", __FILE__);
    char *slash = strrchr(dir, '/'); /* .../tests/ops/test_golden_compare.c */
    if (slash)
        *slash = '\0';
    slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    strncat(dir, "/golden", sizeof dir - strlen(dir) - 1);
    return dir;
}

static nb_tensor *load(const char *name, const char *file)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s/%s", golden_dir(), name, file);
    nb_tensor *t = nb_npy_load(path);
    if (!t)
        print_error("%s: %s\n", path, nb_last_error());
    assert_non_null(t);
    return t;
}

/* got vs want (same shape; NaN matches NaN, equal infinities match): |g - w| <= rtol|w| + atol. */
static void compare(const char *name, const char *what, const nb_tensor *got, const nb_tensor *want,
                    double rtol, double atol)
{
    if (!got)
        print_error("%s %s: %s\n", name, what, nb_last_error());
    assert_non_null(got);
    char gs[128], ws[128];
    nb_tensor_shape_str(got, gs, sizeof gs);
    nb_tensor_shape_str(want, ws, sizeof ws);
    if (strcmp(gs, ws) != 0) {
        print_error("%s %s: shape %s, PyTorch's is %s\n", name, what, gs, ws);
        fail();
    }
    for (int64_t i = 0; i < nb_tensor_numel(want); i++) {
        const double g = nb_tensor_get(got, i), w = nb_tensor_get(want, i);
        if (g == w || (isnan(g) && isnan(w)) || fabs(g - w) <= rtol * fabs(w) + atol)
            continue;
        print_error("%s %s[%lld]: %.17g, PyTorch %.17g (rtol %g)\n", name, what, (long long)i, g, w,
                    rtol);
        fail();
    }
}

typedef struct golden_case {
    char name[128];
    int n_in;
    bool grad[MAX_IN];
} golden_case;

/* One manifest line "name n_inputs grads" (grads "0,2" or "-"); false at a comment or blank. */
static bool parse_line(const char *line, golden_case *c)
{
    char grads[64];
    memset(c, 0, sizeof *c);
    if (line[0] == '#' || sscanf(line, "%127s %d %63s", c->name, &c->n_in, grads) != 3)
        return false;
    assert_true(c->n_in >= 0 && c->n_in <= MAX_IN);
    for (const char *p = grads; *p && *p != '-'; p++)
        if (*p >= '0' && *p <= '9')
            c->grad[*p - '0'] = true;
    return true;
}

static void run_case(const golden_case *c, golden_fn fn)
{
    nb_tensor *in[MAX_IN] = {0}, *in32[MAX_IN] = {0};
    char file[32];
    bool any_grad = false;
    for (int i = 0; i < c->n_in; i++) {
        snprintf(file, sizeof file, "in%d.npy", i);
        in[i] = load(c->name, file);
        if (c->grad[i]) {
            assert_int_equal(nb_tensor_set_requires_grad(in[i], true), NB_OK);
            any_grad = true;
        }
        in32[i] = nb_tensor_dtype(in[i]) == NB_F64 ? nb_tensor_to_dtype(in[i], NB_F32)
                                                   : nb_tensor_copy(in[i]);
    }
    nb_tensor *out = load(c->name, "out.npy");

    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y = fn(in, NB_F64);
    compare(c->name, "f64 forward", y, out, 1e-10, 1e-300);
    if (any_grad) {
        nb_tensor *dout = load(c->name, "dout.npy");
        assert_int_equal(nb_backward_ex(y, dout), NB_OK);
        for (int i = 0; i < c->n_in; i++) {
            if (!c->grad[i])
                continue;
            snprintf(file, sizeof file, "grad%d.npy", i);
            nb_tensor *g = load(c->name, file);
            compare(c->name, file, nb_tensor_grad(in[i]), g, 1e-10, 1e-300);
            nb_tensor_free(g);
        }
        nb_tensor_free(dout);
    }
    nb_step_end(step);

    nb_step_begin(step);
    compare(c->name, "f32 forward", fn(in32, NB_F32), out, 1e-5, 1e-6);
    nb_step_end(step);
    nb_step_free(step);

    nb_tensor_free(out);
    for (int i = 0; i < c->n_in; i++) {
        nb_tensor_free(in[i]);
        nb_tensor_free(in32[i]);
    }
}

static void test_ops_match_pytorch_fixtures(void **state)
{
    (void)state;
    char path[4200];
    snprintf(path, sizeof path, "%s/MANIFEST", golden_dir());
    FILE *f = fopen(path, "r");
    if (!f)
        print_error("cannot open %s (run scripts/golden_ops.py)\n", path);
    assert_non_null(f);
    bool used[N_GOLDEN] = {false};
    int n_cases = 0, missing = 0;
    char line[512];
    golden_case c;
    while (fgets(line, sizeof line, f)) {
        if (!parse_line(line, &c))
            continue;
        size_t k = 0;
        while (k < N_GOLDEN && strcmp(golden_ops[k].name, c.name) != 0)
            k++;
        if (k == N_GOLDEN) {
            print_error("fixture %s has no line in GOLDEN_OPS\n", c.name);
            missing++;
            continue;
        }
        used[k] = true;
        run_case(&c, golden_ops[k].fn);
        n_cases++;
    }
    fclose(f);
    for (size_t k = 0; k < N_GOLDEN; k++)
        if (!used[k]) {
            print_error("GOLDEN_OPS line %s has no fixture (run scripts/golden_ops.py)\n",
                        golden_ops[k].name);
            missing++;
        }
    assert_int_equal(missing, 0);
    assert_int_equal(n_cases, (int)N_GOLDEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ops_match_pytorch_fixtures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
