/* examples/weight_norm.c — weight normalization against plain weights (notes 003, "Técnicas de
 * entrenamiento": weight normalization; Salimans & Kingma 2016).
 *
 * nb_weight_norm rewrites each Linear's weight as w = g * v / ||v|| (one length g per output
 * unit, one direction v), so gradient descent moves the length and the direction separately.
 * The problem: a 1-H-H-1 tanh MLP fits y = sin(3x) on --n points of [-1, 1] by plain SGD for
 * --steps full-batch steps, at each learning rate of --lrs and each initial weight scale of
 * --scales (every weight multiplied by s, found with nb_module_apply by layer kind). In each run
 * the two networks start as the same function (the same rng draws; the weight-normed one starts
 * from g = ||w||). Prints the MSE of each run every --every steps, a table of the final MSEs,
 * and writes PREFIX.png with the curves of the runs from the middle scale.
 *
 * Measured with the defaults (2,000 steps, H = 16): at lr 0.1 plain SGD ends lower (MSE 0.0145,
 * 0.0014, 0.0002 for scales 0.1, 1, 3) than weight norm (0.034, 0.0068, 0.0008); at lr 0.5 the
 * plain network diverges within 60 steps from every scale while the weight-normed one trains
 * (0.026, 0.013, 0.024): the gradient of v is orthogonal to v, so ||v|| only grows and the
 * effective step on the direction, lr * g / ||v||, shrinks by itself — weight norm buys
 * stability at large learning rates, not a better optimum at a good one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/util.h"
#include "nabla.h"

enum { MAX_LIST = 8, MAX_POINTS = 4096 };

/* nb_module_apply callback: multiply a Linear's weight by *s — through weight_g when the layer
 * is weight-normed (the same function as scaling w itself). */
static int scale_linear(nb_module *m, const char *path, int depth, void *s)
{
    (void)path;
    (void)depth;
    if (strcmp(nb_module_kind(m), "Linear"))
        return 0;
    nb_tensor *w = nb_module_param(m, nb_module_has_param(m, "weight_g") ? "weight_g" : "weight");
    if (!w)
        return nb_last_status();
    for (int64_t i = 0; i < nb_tensor_numel(w); i++)
        nb_tensor_set(w, i, *(const double *)s * nb_tensor_get(w, i));
    return 0;
}

/* 1-H-H-1 tanh MLP, weight-normed (dim 0, PyTorch's default) when wn. */
static nb_module *build(int hidden, bool wn, uint64_t seed, double scale)
{
    nb_rng rng = nb_rng_seed(seed);
    const int64_t w[4] = {1, hidden, hidden, 1};
    nb_module *layers[5];
    for (int l = 0, k = 0; l < 3; l++) {
        nb_module *lin = nb_linear_new(w[l], w[l + 1], true, &rng);
        layers[k++] = wn ? nb_weight_norm(lin, "weight", 0) : lin;
        if (l < 2)
            layers[k++] = nb_tanh_new();
    }
    nb_module *net = nb_sequential_new(5, layers);
    if (net && nb_module_apply(net, scale_linear, &scale) != 0) {
        nb_module_free(net);
        return NULL;
    }
    return net;
}

/* MSE of net on (x, y), no gradients. */
static double mse_of(nb_module *net, nb_tensor *x, nb_tensor *y)
{
    nb_tensor *pred = nb_module_forward(net, x); /* no step: a caller-owned result */
    nb_tensor *l = pred ? nb_mse(pred, y, NB_REDUCE_MEAN) : NULL;
    const double v = l ? nb_tensor_item(l) : NAN;
    nb_tensor_free(l);
    nb_tensor_free(pred);
    return v;
}

static const ex_program PROG = {
    .name = "weight_norm",
    .summary = "weight normalization (nb_weight_norm) against plain weights, trained by SGD",
    .notes = "notes 003, \"Técnicas de entrenamiento\": weight normalization "
             "(listed beside dropout and batch normalization)",
    .details = "A 1-H-H-1 tanh MLP fits sin(3x) on [-1, 1] by full-batch SGD, once with plain\n"
               "weights and once with w = g v / ||v|| (nb_weight_norm, PyTorch's weight_norm,\n"
               "dim 0), from the same start, for each learning rate of --lrs and initial\n"
               "weight scale of --scales (every weight times s). Prints the MSE of each run and\n"
               "writes PREFIX.png. With the defaults plain SGD ends lower at lr 0.1 and diverges\n"
               "at lr 0.5, where weight norm still trains (see the source's comment).\n"
               "--check exits 1 unless both networks start from the same MSE in every run (the\n"
               "reparameterisation does not change the function) and, at the largest learning\n"
               "rate, every weight-normed run ends finite below a tenth of its start while some\n"
               "plain run diverges.\n",
};

/* "0.1,1,3" -> values (all > 0); returns their number, 0 on a malformed list. */
static int parse_list(const char *s, double *v, int cap)
{
    int n = 0;
    while (*s && n < cap) {
        char *end;
        v[n] = strtod(s, &end);
        if (end == s || !(v[n] > 0) || (*end && *end != ','))
            return 0;
        n++;
        s = *end ? end + 1 : end;
    }
    return *s ? 0 : n;
}

/* One full-batch SGD step of net; sets *diverged (and clears the error) when SGD refuses a
 * non-finite gradient. */
static nb_status train_step(nb_module *net, nb_optim *opt, nb_step *step, nb_tensor *x,
                            nb_tensor *y, bool *diverged)
{
    nb_status st = nb_step_begin(step);
    if (st != NB_OK)
        return st;
    nb_optim_zero_grad(opt);
    nb_tensor *l = nb_mse(nb_module_forward(net, x), y, NB_REDUCE_MEAN);
    st = l ? nb_backward(l) : nb_last_status();
    if (st == NB_OK && (st = nb_optim_update(opt)) != NB_OK &&
        strstr(nb_last_error(), "NaN or Inf")) {
        *diverged = true;
        nb_clear_error();
        st = NB_OK;
    }
    nb_step_end(step);
    return st;
}

int main(int argc, char **argv)
{
    int n = 64, hidden = 16, steps = 2000, every = 250;
    uint64_t seed = 1;
    const char *lrs_arg = "0.1,0.5", *scales_arg = "0.1,1,3", *out = "weight_norm";
    bool check = false;
    ex_opt opts[] = {
        {"n", EX_OPT_INT, &n, "training points on [-1, 1]"},
        {"hidden", EX_OPT_INT, &hidden, "units per hidden layer"},
        {"steps", EX_OPT_INT, &steps, "SGD steps (full batch)"},
        {"every", EX_OPT_INT, &every, "print the MSEs every this many steps"},
        {"lrs", EX_OPT_STRING, &lrs_arg, "SGD learning rates, comma-separated"},
        {"scales", EX_OPT_STRING, &scales_arg, "initial weight scales, comma-separated"},
        {"seed", EX_OPT_U64, &seed, "initialisation seed (the same for both networks)"},
        {"out", EX_OPT_STRING, &out, "the curves are written to OUT.png"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless the claims above hold"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    double lrs[MAX_LIST], scales[MAX_LIST];
    const int n_lrs = parse_list(lrs_arg, lrs, MAX_LIST);
    const int n_scales = parse_list(scales_arg, scales, MAX_LIST);
    if (n < 2 || n > MAX_POINTS || hidden < 1 || hidden > 1024 || steps < 1 || every < 1 ||
        n_lrs < 1 || n_scales < 1)
        return ex_usage_error(&PROG,
                              "need --n 2..%d, --hidden 1..1024, --steps >= 1, --every >= 1, "
                              "and --lrs, --scales of 1 to %d positive numbers",
                              MAX_POINTS, MAX_LIST);

    nb_tensor *x = nb_tensor_new(NB_F32, NB_SHAPE(n, 1)),
              *y = nb_tensor_new(NB_F32, NB_SHAPE(n, 1));
    for (int i = 0; x && y && i < n; i++) {
        const double xi = -1.0 + 2.0 * i / (n - 1);
        nb_tensor_set(x, i, xi);
        nb_tensor_set(y, i, sin(3.0 * xi));
    }
    nb_curves *curves = nb_curves_new();
    nb_step *step = nb_step_new();
    if (!x || !y || !curves || !step)
        return ex_fail(PROG.name, "setup");

    printf("fit sin(3x) on %d points, MLP 1-%d-%d-1 tanh, plain SGD, %d full-batch steps\n", n,
           hidden, hidden, steps);
    /* per run (learning rate a, scale s) and network k (0 plain, 1 weight norm) */
    double start[MAX_LIST][MAX_LIST][2], final[MAX_LIST][MAX_LIST][2];
    int rc = 0;
    for (int a = 0; a < n_lrs && rc == 0; a++)
        for (int s = 0; s < n_scales && rc == 0; s++) {
            nb_module *net[2] = {build(hidden, false, seed, scales[s]),
                                 build(hidden, true, seed, scales[s])};
            nb_sgd_opts so = nb_sgd_defaults();
            so.lr = lrs[a];
            nb_optim *opt[2] = {net[0] ? nb_sgd_new(net[0], &so) : NULL,
                                net[1] ? nb_sgd_new(net[1], &so) : NULL};
            if (!opt[0] || !opt[1])
                rc = ex_fail(PROG.name, "building the networks");
            if (rc == 0 && a == 0 && s == 0)
                nb_module_summary(net[1], stdout);
            if (rc == 0)
                printf("\nlr %g, initial weights x %g\n%8s  %14s  %14s\n", lrs[a], scales[s],
                       "step", "plain MSE", "weight-norm MSE");
            bool diverged[2] = {false, false};
            for (int t = 0; rc == 0 && t <= steps; t++) {
                const bool shown = t % every == 0 || t % 10 == 0 || t == steps;
                for (int k = 0; shown && k < 2; k++) { /* measured when printed or plotted */
                    const double m = diverged[k] ? NAN : mse_of(net[k], x, y);
                    start[a][s][k] = t == 0 ? m : start[a][s][k];
                    final[a][s][k] = m;
                }
                if (t % every == 0 || t == steps)
                    printf("%8d  %14.6f  %14.6f\n", t, final[a][s][0], final[a][s][1]);
                if (t % 10 == 0 || t == steps) { /* the picture: every 10 steps */
                    for (int k = 0; k < 2; k++) {
                        char name[64];
                        snprintf(name, sizeof name, "%s lr %g x%g", k ? "weight norm" : "plain",
                                 lrs[a], scales[s]);
                        nb_curves_add(curves, name, t, final[a][s][k]);
                    }
                }
                for (int k = 0; t < steps && k < 2 && rc == 0; k++) {
                    if (diverged[k])
                        continue;
                    if (train_step(net[k], opt[k], step, x, y, &diverged[k]) != NB_OK)
                        rc = ex_fail(PROG.name, "training");
                    else if (diverged[k])
                        printf("  the %s network diverged at step %d (a non-finite gradient)\n",
                               k ? "weight-normed" : "plain", t);
                }
            }
            for (int k = 0; k < 2; k++) {
                nb_optim_free(opt[k]);
                nb_module_free(net[k]);
            }
        }
    if (rc == 0) {
        printf("\nfinal MSE (nan: diverged)\n%-6s  %-6s  %14s  %14s\n", "lr", "scale", "plain",
               "weight norm");
        for (int a = 0; a < n_lrs; a++)
            for (int s = 0; s < n_scales; s++)
                printf("%-6g  %-6g  %14.6f  %14.6f\n", lrs[a], scales[s], final[a][s][0],
                       final[a][s][1]);
        char path[1024];
        snprintf(path, sizeof path, "%s.png", out);
        /* the runs from the middle scale (all of them are in the table) */
        char series[512] = "", title[128];
        for (int a = 0; a < n_lrs; a++)
            for (int k = 0; k < 2; k++) {
                size_t len = strlen(series);
                snprintf(series + len, sizeof series - len, "%s%s lr %g x%g", len ? "," : "",
                         k ? "weight norm" : "plain", lrs[a], scales[n_scales / 2]);
            }
        snprintf(title, sizeof title, "SGD on sin(3x), initial weights x%g: plain vs weight norm",
                 scales[n_scales / 2]);
        nb_plot_opts po = {.title = title,
                           .xlabel = "step",
                           .ylabel = "training MSE (a diverged run ends)",
                           .log_y = true,
                           .series = series};
        if (nb_curves_write_png(curves, path, &po) != NB_OK)
            rc = ex_fail(PROG.name, "writing the picture");
        else
            printf("wrote %s\n", path);
    }
    if (rc == 0 && check) {
        bool same = true, wn_trains = true, plain_diverges = false;
        int top = 0;
        for (int a = 1; a < n_lrs; a++)
            top = lrs[a] > lrs[top] ? a : top;
        for (int a = 0; a < n_lrs; a++)
            for (int s = 0; s < n_scales; s++)
                same &= fabs(start[a][s][1] - start[a][s][0]) <= 1e-5 * fmax(1.0, start[a][s][0]);
        for (int s = 0; s < n_scales; s++) {
            wn_trains &= isfinite(final[top][s][1]) && final[top][s][1] < 0.1 * start[top][s][1];
            plain_diverges |= !isfinite(final[top][s][0]);
        }
        printf("check: same start in every run: %s; at lr %g every weight-normed run trains: %s, "
               "some plain run diverges: %s\n",
               same ? "yes" : "no", lrs[top], wn_trains ? "yes" : "no",
               plain_diverges ? "yes" : "no");
        rc = same && wn_trains && plain_diverges ? 0 : 1;
        printf("%s\n", rc ? "MISMATCH" : "match");
    }
    nb_step_free(step);
    nb_curves_free(curves);
    nb_tensor_free(x);
    nb_tensor_free(y);
    return rc;
}
