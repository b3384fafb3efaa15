/* examples/playground.c — the TensorFlow playground demo of notes 001 (dataset "circle", tanh,
 * learning rate 0.03) and the decision regions of notes 000 and 003: one layer draws one line,
 * so it separates AND and OR but not XOR or a circle; a tanh hidden layer maps the points into a
 * space z where the classes become linearly separable (notes 001: "La capa intermedia mapea
 * clases no linealmente separables de x en clases linealmente separables en z").
 *
 * For each of the four 2-D data sets (200 points in [-1, 1]^2, labels -1 / +1) it trains a
 * single tanh neuron and a 2-H-1 tanh network (Adam, full batch, mean squared error), prints
 * both accuracies and writes PREFIX_<set>.png: the points of each class and the decision
 * boundary (output 0) of both models. For XOR it also trains a 2-2-1 network and writes
 * PREFIX_xor_z.png: the points in the hidden space z = (z1, z2) with the output layer's line. */
#include <math.h>
#include <stdio.h>

#include "common/cli.h"
#include "common/util.h"
#include "nabla.h"

enum { N = 200, GRID = 60 };
static const char *const SETS[4] = {"circle", "xor", "and", "or"};

static double label_of(int set, double x, double y)
{
    switch (set) {
    case 0:
        return x * x + y * y < 0.5 * 0.5 ? 1 : -1;
    case 1:
        return (x > 0) != (y > 0) ? 1 : -1;
    case 2:
        return x > 0 && y > 0 ? 1 : -1;
    default:
        return x > 0 || y > 0 ? 1 : -1;
    }
}

/* 200 points: the circle set as the playground's (a disc and a ring around it); the logic sets
 * as the gates' four inputs, clusters around (+-0.6, +-0.6) with spread 0.15. */
static void make_set(int set, nb_rng *rng, double *x, double *y)
{
    for (int i = 0; i < N; i++) {
        double a, b;
        if (set == 0) {
            const double r =
                i % 2 ? 0.5 * sqrt(nb_rng_uniform(rng)) * 0.8 : 0.7 + 0.3 * nb_rng_uniform(rng);
            const double t = 2 * 3.14159265358979323846 * nb_rng_uniform(rng);
            a = r * cos(t);
            b = r * sin(t);
        } else {
            a = (i % 2 ? 0.6 : -0.6) + 0.15 * nb_rng_normal(rng);
            b = (i / 2 % 2 ? 0.6 : -0.6) + 0.15 * nb_rng_normal(rng);
        }
        x[2 * i] = a;
        x[2 * i + 1] = b;
        y[i] = label_of(set, a, b);
    }
}

/* Train `net` on (x, y) with Adam; returns the accuracy (sign of the output), -1 on error. */
static double train(nb_module *net, const double *x, const double *y, int epochs, double lr)
{
    nb_adam_opts ao = nb_adam_defaults();
    ao.lr = lr;
    nb_optim *o = nb_adam_new(net, &ao);
    nb_tensor *xt = nb_tensor_from_data(NB_F64, 2, (int64_t[]){N, 2}, x);
    nb_tensor *yt = nb_tensor_from_data(NB_F64, 2, (int64_t[]){N, 1}, y);
    double pred[N], acc = -1;
    if (o && xt && yt && !isnan(ex_fit_mse(net, o, xt, yt, epochs, pred))) {
        int right = 0;
        for (int i = 0; i < N; i++)
            right += (pred[i] >= 0) == (y[i] > 0);
        acc = (double)right / N;
    }
    nb_tensor_free(xt);
    nb_tensor_free(yt);
    nb_optim_free(o);
    return acc;
}

/* net's output on a GRID x GRID grid over [-1.2, 1.2]^2, row-major from (lo, lo). */
static nb_status grid_values(nb_module *net, double *v)
{
    static double pts[GRID * GRID * 2];
    for (int i = 0; i < GRID; i++)
        for (int j = 0; j < GRID; j++) {
            pts[2 * (i * GRID + j)] = -1.2 + 2.4 * j / (GRID - 1);
            pts[2 * (i * GRID + j) + 1] = -1.2 + 2.4 * i / (GRID - 1);
        }
    nb_step *step = nb_step_new();
    nb_tensor *g = nb_tensor_from_data(NB_F64, 2, (int64_t[]){GRID * GRID, 2}, pts);
    nb_status st = step && g ? nb_step_begin(step) : NB_ERR_NOMEM;
    if (st == NB_OK) {
        nb_tensor *out = nb_module_forward(net, g);
        st = out ? NB_OK : nb_last_status();
        for (int k = 0; st == NB_OK && k < GRID * GRID; k++)
            v[k] = nb_tensor_get(out, k);
        nb_step_end(step);
    }
    nb_tensor_free(g);
    nb_step_free(step);
    return st;
}

/* The zero level of v as segments (marching squares, one segment per crossed cell side pair). */
static void add_boundary(nb_curves *c, const char *name, const double *v)
{
    const double h = 2.4 / (GRID - 1);
    for (int i = 0; i + 1 < GRID; i++)
        for (int j = 0; j + 1 < GRID; j++) {
            const double c00 = v[i * GRID + j], c01 = v[i * GRID + j + 1];
            const double c10 = v[(i + 1) * GRID + j], c11 = v[(i + 1) * GRID + j + 1];
            const double x0 = -1.2 + h * j, y0 = -1.2 + h * i;
            double px[4], py[4];
            int n = 0;
            if ((c00 < 0) != (c01 < 0))
                px[n] = x0 + h * c00 / (c00 - c01), py[n++] = y0;
            if ((c10 < 0) != (c11 < 0))
                px[n] = x0 + h * c10 / (c10 - c11), py[n++] = y0 + h;
            if ((c00 < 0) != (c10 < 0))
                px[n] = x0, py[n++] = y0 + h * c00 / (c00 - c10);
            if ((c01 < 0) != (c11 < 0))
                px[n] = x0 + h, py[n++] = y0 + h * c01 / (c01 - c11);
            for (int k = 0; k + 1 < n; k += 2) {
                nb_curves_add(c, name, px[k], py[k]);
                nb_curves_add(c, name, px[k + 1], py[k + 1]);
                nb_curves_add(c, name, NAN, NAN);
            }
        }
}

static void add_points(nb_curves *c, const double *x, const double *y)
{
    for (int i = 0; i < N; i++) {
        const char *name = y[i] > 0 ? "class +1" : "class -1";
        nb_curves_add(c, name, x[2 * i], x[2 * i + 1]);
        nb_curves_add(c, name, NAN, NAN);
    }
}

/* XOR through a 2-2-1 net: the points in z = hidden outputs, and the output layer's line. */
static nb_status xor_z(const double *x, const double *y, int epochs, double lr, uint64_t seed,
                       const char *out, double *acc)
{
    nb_rng rng = nb_rng_seed(seed);
    nb_module *net =
        nb_mlp_new(3, (const int64_t[]){2, 2, 1}, NB_ACT_TANH, NB_ACT_TANH, &rng, NB_F64);
    if (!net)
        return nb_last_status();
    *acc = train(net, x, y, epochs, lr);
    nb_step *step = nb_step_new();
    nb_tensor *xt = nb_tensor_from_data(NB_F64, 2, (int64_t[]){N, 2}, x);
    nb_curves *c = nb_curves_new();
    nb_status st = *acc >= 0 && step && xt && c ? nb_step_begin(step) : NB_ERR_NOMEM;
    if (st == NB_OK) {
        /* children: Linear, Tanh, Linear, Tanh -> z after the first two */
        nb_tensor *z = nb_module_forward(nb_module_child_at(net, 1),
                                         nb_module_forward(nb_module_child_at(net, 0), xt));
        st = z ? NB_OK : nb_last_status();
        for (int i = 0; st == NB_OK && i < N; i++) {
            const char *name = y[i] > 0 ? "class +1" : "class -1";
            nb_curves_add(c, name, nb_tensor_get(z, 2 * i), nb_tensor_get(z, 2 * i + 1));
            nb_curves_add(c, name, NAN, NAN);
        }
        nb_tensor *w = nb_module_param(net, "2.weight"), *b = nb_module_param(net, "2.bias");
        const double t1 = nb_tensor_get(w, 0), t2 = nb_tensor_get(w, 1), t0 = nb_tensor_get(b, 0);
        for (int k = 0; st == NB_OK && k <= 40; k++) { /* t0 + t1 z1 + t2 z2 = 0 */
            const double s = -1.1 + 2.2 * k / 40;
            if (fabs(t2) >= fabs(t1))
                nb_curves_add(c, "output layer: t0 + t.z = 0", s, -(t0 + t1 * s) / t2);
            else
                nb_curves_add(c, "output layer: t0 + t.z = 0", -(t0 + t2 * s) / t1, s);
        }
        nb_step_end(step);
    }
    char path[1024];
    snprintf(path, sizeof path, "%s_xor_z.png", out);
    nb_plot_opts po = {.width = 600,
                       .height = 600,
                       .title = "XOR in the hidden space z of a 2-2-1 net",
                       .xlabel = "z1",
                       .ylabel = "z2"};
    if (st == NB_OK)
        st = nb_curves_write_png(c, path, &po);
    nb_curves_free(c);
    nb_tensor_free(xt);
    nb_step_free(step);
    nb_module_free(net);
    return st;
}

static const ex_program PROG = {
    .name = "playground",
    .summary = "playground demo: circle, XOR, AND, OR with one tanh layer vs a hidden layer",
    .details =
        "Reproduces notes 001's playground demo (circle data, tanh, lr 0.03) and the\n"
        "decision regions of notes 000 (one layer: AND, OR; XOR needs two) and 001/003 (the\n"
        "hidden layer makes the classes linearly separable in z). Writes PREFIX_circle.png,\n"
        "PREFIX_xor.png, PREFIX_and.png, PREFIX_or.png (points and both boundaries) and\n"
        "PREFIX_xor_z.png. --check exits 1 unless the hidden-layer net reaches 95% on all\n"
        "four sets, one layer 95% on AND and OR, and at most 80% on XOR and the circle.\n",
};

int main(int argc, char **argv)
{
    int hidden = 6, epochs = 500;
    double lr = 0.03;
    uint64_t seed = 1;
    bool check = false;
    const char *out = "playground";
    ex_opt opts[] = {
        {"hidden", EX_OPT_INT, &hidden, "tanh units in the hidden layer"},
        {"epochs", EX_OPT_INT, &epochs, "full-batch Adam steps"},
        {"lr", EX_OPT_DOUBLE, &lr, "learning rate (the notes' demo: 0.03)"},
        {"seed", EX_OPT_U64, &seed, "seed of the data and the weights"},
        {"out", EX_OPT_STRING, &out, "prefix of the PNG files"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless the accuracies are as described"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (hidden < 1 || hidden > 64 || epochs < 1 || !(lr > 0 && lr < 1))
        return ex_usage_error(&PROG, "need --hidden in 1..64, --epochs >= 1, --lr in (0, 1)");

    static double x[N * 2], y[N], v[GRID * GRID];
    int bad = 0;
    printf("%d points per set, Adam lr %g, %d full-batch steps, hidden layer of %d tanh units\n", N,
           lr, epochs, hidden);
    printf("  %-7s %16s %22s\n", "set", "one tanh neuron",
           "2-"
           "H"
           "-1 tanh network");
    for (int s = 0; s < 4; s++) {
        nb_rng rng = nb_rng_seed(seed + (uint64_t)s);
        make_set(s, &rng, x, y);
        nb_module *one =
            nb_mlp_new(2, (const int64_t[]){2, 1}, NB_ACT_TANH, NB_ACT_TANH, &rng, NB_F64);
        nb_module *two =
            nb_mlp_new(3, (const int64_t[]){2, hidden, 1}, NB_ACT_TANH, NB_ACT_TANH, &rng, NB_F64);
        const double a1 = one ? train(one, x, y, epochs, lr) : -1;
        const double a2 = two ? train(two, x, y, epochs, lr) : -1;
        nb_curves *c = nb_curves_new();
        nb_status st = a1 >= 0 && a2 >= 0 && c ? NB_OK : NB_ERR_NOMEM;
        if (st == NB_OK) {
            add_points(c, x, y);
            if ((st = grid_values(one, v)) == NB_OK)
                add_boundary(c, "one neuron: boundary", v);
            if (st == NB_OK && (st = grid_values(two, v)) == NB_OK)
                add_boundary(c, "hidden layer: boundary", v);
        }
        char path[1024], title[64];
        snprintf(path, sizeof path, "%s_%s.png", out, SETS[s]);
        snprintf(title, sizeof title, "%s: one tanh neuron vs 2-%d-1", SETS[s], hidden);
        nb_plot_opts po = {
            .width = 600, .height = 600, .title = title, .xlabel = "x1", .ylabel = "x2"};
        if (st == NB_OK)
            st = nb_curves_write_png(c, path, &po);
        nb_curves_free(c);
        nb_module_free(one);
        nb_module_free(two);
        if (st != NB_OK)
            return ex_fail(PROG.name, SETS[s]);
        printf("  %-7s %15.1f%% %21.1f%%   wrote %s\n", SETS[s], 100 * a1, 100 * a2, path);
        const bool linear = s >= 2;
        bad += a2 < 0.95 || (linear ? a1 < 0.95 : a1 > 0.8);
    }
    double acc_z = 0;
    nb_rng rng = nb_rng_seed(seed + 1);
    make_set(1, &rng, x, y);
    if (xor_z(x, y, epochs * 4, lr, seed, out, &acc_z) != NB_OK)
        return ex_fail(PROG.name, "xor in z");
    printf("XOR with a 2-2-1 net: %.1f%%; wrote %s_xor_z.png (the points in the hidden space\n"
           "z, where one line, the output layer's, separates the classes)\n",
           100 * acc_z, out);
    if (check && bad) {
        printf("check failed: %d set(s) not as described\n", bad);
        return 1;
    }
    return 0;
}
