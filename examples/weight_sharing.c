/* examples/weight_sharing.c — a layer where half the units share the weights of the other half.
 *
 * The layer has M units over an input of D values, seen as two halves (two positions of a
 * signal, two halves of an image row) of D/2 values each. Units 0 .. M/2-1 (group A) read the
 * first half, units M/2 .. M-1 (group B) the second half. Three ways to wire it:
 *
 *   fully connected        every unit reads all D inputs          D M + M parameters
 *   two groups, unshared   each group has its own weights         2 (D/2 M/2 + M/2)
 *   two groups, shared     group B reuses group A's weights       D/2 M/2 + M/2
 *
 * Sharing is what a convolution does: the same detector applied at every position. Here it is
 * built with a real shared tensor: one weight [M/2, D/2] and one bias [M/2], each passed to two
 * nb_linear calls whose results are concatenated. Because the tensor is used twice, backward
 * adds both uses' contributions into its one gradient: dL/dW = dL/dW|A + dL/dW|B. The program
 * checks this against an unshared copy (two separate tensors holding the same values): its two
 * gradients must add up to the shared one. Every count comes from the modules' parameters. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/cli.h"
#include "common/util.h"
#include "nabla.h"

static const ex_program PROG = {
    .name = "weight_sharing",
    .notes =
        "notes 002 (sheet): half the units of each layer share weights; notes 004: shared weights",
    .summary = "count the parameters of a layer whose two unit groups share weights",
    .details =
        "A layer of --units M units over --inputs D values: group A (M/2 units) reads the first\n"
        "D/2 inputs, group B the last D/2. Builds it three ways with f64 modules (fully\n"
        "connected, two groups with their own weights, two groups sharing one weight tensor)\n"
        "and prints each parameter count as the library reports it, with the expected\n"
        "formula. Then runs one forward/backward pass on a random batch of --batch samples\n"
        "through the shared layer and through an unshared copy with equal values, and compares\n"
        "the shared gradient with the sum of the copy's two gradients.\n"
        "--check exits with status 1 unless every count matches its formula, the outputs agree\n"
        "and the gradient identity holds within --tol.\n",
};

/* ---- two unit groups over the two input halves ---- */

typedef struct {
    int64_t half_in; /* D / 2 */
} halves_cfg;

/* x [N, D] -> (x[:, :D/2], x[:, D/2:]), after checking the width. */
static bool split_input(nb_module *m, nb_tensor *x, nb_tensor **left, nb_tensor **right)
{
    const halves_cfg *cfg = nb_module_user_data(m);
    if (nb_tensor_ndim(x) != 2 || nb_tensor_dim(x, 1) != 2 * cfg->half_in) {
        char xs[64];
        nb_module_error(m, NB_ERR_SHAPE, "input is %s, expected [N, %lld]",
                        nb_tensor_shape_str(x, xs, sizeof xs), (long long)(2 * cfg->half_in));
        return false;
    }
    *left = nb_slice(x, 1, 0, cfg->half_in, 1);
    *right = nb_slice(x, 1, cfg->half_in, 2 * cfg->half_in, 1);
    return true;
}

/* Shared: one weight and one bias, each used by both groups. */
static nb_tensor *shared_forward(nb_module *m, nb_tensor *x)
{
    nb_tensor *left, *right;
    if (!split_input(m, x, &left, &right))
        return NULL;
    nb_tensor *w = nb_module_param(m, "weight"), *b = nb_module_param(m, "bias");
    nb_tensor *groups[2] = {nb_linear(left, w, b), nb_linear(right, w, b)}; /* same w, b */
    return nb_concat(2, groups, 1);
}

/* Unshared: children "a" and "b", one Linear per group. */
static nb_tensor *unshared_forward(nb_module *m, nb_tensor *x)
{
    nb_tensor *left, *right;
    if (!split_input(m, x, &left, &right))
        return NULL;
    nb_tensor *groups[2] = {nb_module_forward(nb_module_child(m, "a"), left),
                            nb_module_forward(nb_module_child(m, "b"), right)};
    return nb_concat(2, groups, 1);
}

static nb_module *halves_new(bool shared, int64_t d, int64_t m_units, nb_rng *rng)
{
    halves_cfg *cfg = malloc(sizeof *cfg);
    if (!cfg) {
        nb_set_error(NB_ERR_NOMEM, "halves_new: out of memory");
        return NULL;
    }
    cfg->half_in = d / 2;
    nb_module *m = nb_module_new(shared ? "SharedGroups" : "Groups", NB_F64,
                                 shared ? shared_forward : unshared_forward, cfg, free);
    if (!m)
        return NULL;
    const int64_t h = m_units / 2;
    nb_status st = NB_OK;
    if (shared) {
        nb_tensor *w = nb_module_add_param(m, "weight", 2, (int64_t[]){h, d / 2});
        nb_tensor *b = w ? nb_module_add_param(m, "bias", 1, (int64_t[]){h}) : NULL;
        const double bound = 1.0 / sqrt((double)(d / 2));
        st = (w && b) ? nb_init_uniform(w, rng, -bound, bound) : nb_last_status();
        if (st == NB_OK)
            st = nb_init_uniform(b, rng, -bound, bound);
    } else {
        st = nb_module_add_child(m, "a", nb_linear_new_ex(d / 2, h, true, rng, NB_F64));
        if (st == NB_OK)
            st = nb_module_add_child(m, "b", nb_linear_new_ex(d / 2, h, true, rng, NB_F64));
    }
    if (st != NB_OK) {
        nb_module_free(m);
        return NULL;
    }
    nb_module_set_info(m, "%lld -> %lld", (long long)d, (long long)m_units);
    return m;
}

/* Largest |a - b| over two tensors of the same numel. */
static double max_abs_diff(const nb_tensor *a, const nb_tensor *b)
{
    double worst = 0;
    for (int64_t i = 0; i < nb_tensor_numel(a); i++)
        worst = fmax(worst, fabs(nb_tensor_get(a, i) - nb_tensor_get(b, i)));
    return worst;
}

static bool count_line(const char *what, int64_t got, const char *formula, int64_t want)
{
    const bool ok = got == want;
    printf("  %-24s %8lld   %-26s = %8lld  %s\n", what, (long long)got, formula, (long long)want,
           ok ? "ok" : "MISMATCH");
    return ok;
}

int main(int argc, char **argv)
{
    int d = 100, m_units = 20, batch = 8;
    double tol = 1e-12;
    uint64_t seed = 1;
    bool check = false, summary = false;
    ex_opt opts[] = {
        {"inputs", EX_OPT_INT, &d, "D: inputs of the layer (even; two halves)"},
        {"units", EX_OPT_INT, &m_units, "M: units of the layer (even; two groups)"},
        {"batch", EX_OPT_INT, &batch, "samples in the gradient comparison"},
        {"seed", EX_OPT_U64, &seed, "seed of the weights and the batch"},
        {"tol", EX_OPT_DOUBLE, &tol, "accepted gradient difference for --check"},
        {"summary", EX_OPT_FLAG, &summary, "also print nb_module_summary of each layer"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless counts and gradients are as expected"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (d < 2 || d % 2 || m_units < 2 || m_units % 2 || batch < 1 || tol < 0)
        return ex_usage_error(&PROG, "need even --inputs and --units >= 2, --batch >= 1, "
                                     "--tol >= 0");

    nb_rng rng = nb_rng_seed(seed);
    nb_module *full = nb_linear_new_ex(d, m_units, true, &rng, NB_F64);
    nb_module *split = halves_new(false, d, m_units, &rng);
    nb_module *shared = halves_new(true, d, m_units, &rng);
    nb_step *step = nb_step_new();
    nb_tensor *x = nb_tensor_normal(NB_F64, 2, (int64_t[]){batch, d}, &rng, 0, 1);
    nb_tensor *t = nb_tensor_normal(NB_F64, 2, (int64_t[]){batch, m_units}, &rng, 0, 1);
    int status = 0;
    if (!full || !split || !shared || !step || !x || !t) {
        status = ex_fail(PROG.name, "setup");
        goto done;
    }

    const int64_t D = d, M = m_units, H = M / 2;
    printf("A layer of M = %lld units over D = %lld inputs. Group A (%lld units) reads inputs\n"
           "0..%lld, group B (%lld units) reads inputs %lld..%lld. Sharing: group B applies group "
           "A's\nweights to its own half, like a convolution applying one filter at two "
           "positions.\n\n",
           (long long)M, (long long)D, (long long)H, (long long)(D / 2 - 1), (long long)H,
           (long long)(D / 2), (long long)(D - 1));
    printf("  %-24s %8s   %-26s   %8s\n", "layer", "library", "formula", "expected");
    int failures = 0;
    failures += !count_line("fully connected", nb_module_num_params(full), "D*M + M", D * M + M);
    failures += !count_line("two groups, unshared", nb_module_num_params(split),
                            "2 * (D/2 * M/2 + M/2)", 2 * (D / 2 * H + H));
    failures += !count_line("two groups, shared", nb_module_num_params(shared), "D/2 * M/2 + M/2",
                            D / 2 * H + H);
    printf("  parameter tensors: fully connected %d, unshared %d, shared %d\n",
           nb_module_num_param_tensors(full), nb_module_num_param_tensors(split),
           nb_module_num_param_tensors(shared));
    printf("  sharing halves the unshared layer's parameters; the fully connected layer has\n"
           "  %.1fx as many as the shared one.\n\n",
           (double)nb_module_num_params(full) / (double)nb_module_num_params(shared));
    if (summary) {
        nb_module_summary(full, stdout);
        nb_module_summary(split, stdout);
        nb_module_summary(shared, stdout);
        printf("\n");
    }

    /* The unshared copy starts from the shared values in both groups. */
    nb_tensor *sw = nb_module_param(shared, "weight"), *sb = nb_module_param(shared, "bias");
    nb_tensor *aw = nb_module_param(split, "a.weight"), *ab = nb_module_param(split, "a.bias");
    nb_tensor *bw = nb_module_param(split, "b.weight"), *bb = nb_module_param(split, "b.bias");
    if (nb_tensor_copy_into(aw, sw) != NB_OK || nb_tensor_copy_into(bw, sw) != NB_OK ||
        nb_tensor_copy_into(ab, sb) != NB_OK || nb_tensor_copy_into(bb, sb) != NB_OK) {
        status = ex_fail(PROG.name, "copying the shared weights");
        goto done;
    }
    nb_module_zero_grad(shared);
    nb_module_zero_grad(split);
    nb_step_begin(step);
    nb_tensor *y_shared = nb_module_forward(shared, x);
    nb_tensor *y_split = nb_module_forward(split, x);
    nb_tensor *l_shared = nb_mse(y_shared, t, NB_REDUCE_MEAN),
              *l_split = nb_mse(y_split, t, NB_REDUCE_MEAN);
    nb_status st = l_shared && l_split ? nb_backward(l_shared) : nb_last_status();
    if (st == NB_OK)
        st = nb_backward(l_split);
    double out_diff = NAN;
    if (st == NB_OK)
        out_diff = max_abs_diff(y_shared, y_split);
    printf("One batch of %d samples, L = MSE to random targets (float64):\n", batch);
    if (st == NB_OK)
        printf("  loss shared %.12f, unshared copy %.12f, largest output difference %.2e\n",
               nb_tensor_item(l_shared), nb_tensor_item(l_split), out_diff);
    nb_step_end(step);
    if (st != NB_OK) {
        status = ex_fail(PROG.name, "forward/backward");
        goto done;
    }

    /* dL/dW (shared) against dL/dW_A + dL/dW_B (unshared), and the same for the bias. */
    nb_tensor *gw_sum = nb_add(nb_tensor_grad(aw), nb_tensor_grad(bw)); /* no step: ours */
    nb_tensor *gb_sum = nb_add(nb_tensor_grad(ab), nb_tensor_grad(bb));
    if (!gw_sum || !gb_sum) {
        nb_tensor_free(gw_sum);
        nb_tensor_free(gb_sum);
        status = ex_fail(PROG.name, "adding gradients");
        goto done;
    }
    const double dw = max_abs_diff(nb_tensor_grad(sw), gw_sum);
    const double db = max_abs_diff(nb_tensor_grad(sb), gb_sum);
    const double dw_a = max_abs_diff(nb_tensor_grad(sw), nb_tensor_grad(aw));
    printf("  |dL/dW shared - (dL/dW_A + dL/dW_B)|  max %.2e   (weight [%lld, %lld])\n", dw,
           (long long)H, (long long)(D / 2));
    printf("  |dL/db shared - (dL/db_A + dL/db_B)|  max %.2e   (bias [%lld])\n", db, (long long)H);
    printf("  for contrast, |dL/dW shared - dL/dW_A| max %.2e: one use alone is not the gradient\n",
           dw_a);
    printf("  dL/dW[0, 0]: shared %+.6f = A %+.6f + B %+.6f\n",
           nb_tensor_get(nb_tensor_grad(sw), 0), nb_tensor_get(nb_tensor_grad(aw), 0),
           nb_tensor_get(nb_tensor_grad(bw), 0));
    nb_tensor_free(gw_sum);
    nb_tensor_free(gb_sum);

    if (check) {
        printf("\n");
        failures += !ex_check("outputs shared vs copy", out_diff, 0.0, tol);
        failures += !ex_check("weight gradient identity", dw, 0.0, tol);
        failures += !ex_check("bias gradient identity", db, 0.0, tol);
        const bool distinct = dw_a > 1e3 * tol;
        printf("  check one use alone differs from the shared gradient: %s\n",
               distinct ? "ok" : "MISMATCH");
        failures += !distinct;
        printf("%s\n", failures ? "sharing does not behave as expected"
                                : "counts match and the shared gradient is the sum of both uses");
        status = failures ? 1 : 0;
    }

done:
    nb_tensor_free(x);
    nb_tensor_free(t);
    nb_step_free(step);
    nb_module_free(full);
    nb_module_free(split);
    nb_module_free(shared);
    return status;
}
