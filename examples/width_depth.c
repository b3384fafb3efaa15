/* examples/width_depth.c — width against depth at the same number of parameters (notes 003,
 * "Anchura vs profundidad": a complex logic circuit in only two layers may need exponentially
 * more units; several layers build it from parts).
 *
 * Part 1 is the notes' argument itself, measured: exact n-bit parity circuits of threshold units
 * are built by hand and run with nb_linear + nb_heaviside on all 2^n patterns. Two layers of
 * logic gates (an OR of ANDs, the notes' "circuit in only two layers") need one AND unit per odd
 * pattern, 2^(n-1) units (2,048 for 12 bits); a deep tree of 2-bit XORs needs 2(n-1) units
 * plus one per odd signal passed on, in ceil(log2 n) layers (23 in 4 layers for 12 bits). The table
 * also shows one hidden layer of units that weigh and add (unit k fires when at least k bits are
 * on): n units suffice, so the exponential cost belongs to shallow logic circuits, not to every
 * shallow network.
 *
 * Part 2 trains. The task is n-bit parity (XOR of all bits), the classic compositional function: a
 * deep network can compute it as a chain of 2-bit XORs, a single hidden layer needs about n units
 * placed just right. Both networks get (nearly) the same parameter budget: a deep one
 * n-W-W-W-1 and a wide one n-H-1 with H chosen to match. Each is trained with Adam on all 2^n
 * patterns (labels -1 / +1, tanh units, mean squared error) from --seeds different starts, and
 * the program prints the accuracy reached after --steps steps and the step at which each run
 * first classified every pattern. Writes PREFIX.png: the accuracy of the median run of each.
 *
 * What it measures is honest rather than the hoped-for lesson: at these sizes gradient descent
 * fits all 256 patterns of 8-bit parity faster with the wide network (8-70-1: median 122 steps)
 * than with the deep one (8-16-16-16-1: not within 1500). The notes' argument is about how many
 * units a function needs to be represented at all, which grows exponentially with n for one
 * layer on some circuits; with enough width (here H > n) one layer is also easy to train. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/util.h"
#include "nabla.h"

enum { MAX_BITS = 12, MAX_SEEDS = 16 };

/* Train; acc_curve[k] = accuracy after k * every steps. Returns the first step with 100% (or
 * -1 when never), -2 on an error. */
static int run(nb_module *net, nb_tensor *x, nb_tensor *y, int n, int steps, int every, double lr,
               double *acc_curve)
{
    nb_adam_opts ao = nb_adam_defaults();
    ao.lr = lr;
    nb_optim *o = nb_adam_new(net, &ao);
    nb_step *step = nb_step_new();
    nb_status st = o && step ? NB_OK : NB_ERR_NOMEM;
    int first = -1;
    for (int t = 0; st == NB_OK && t <= steps; t++) {
        if ((st = nb_step_begin(step)) != NB_OK)
            break;
        nb_optim_zero_grad(o);
        nb_tensor *out = nb_module_forward(net, x);
        nb_tensor *l = out ? nb_mse(out, y, NB_REDUCE_MEAN) : NULL;
        st = l ? NB_OK : nb_last_status();
        if (st == NB_OK) {
            int right = 0;
            for (int i = 0; i < n; i++)
                right += (nb_tensor_get(out, i) >= 0) == (nb_tensor_get(y, i) > 0);
            if (right == n && first < 0)
                first = t;
            if (t % every == 0)
                acc_curve[t / every] = (double)right / n;
            if (t < steps && (st = nb_backward(l)) == NB_OK)
                st = nb_optim_update(o);
        }
        nb_step_end(step);
    }
    nb_step_free(step);
    nb_optim_free(o);
    return st == NB_OK ? first : -2;
}

static int cmp_int(const void *a, const void *b)
{
    const int x = *(const int *)a < 0 ? 1 << 30 : *(const int *)a;
    const int y = *(const int *)b < 0 ? 1 << 30 : *(const int *)b;
    return (x > y) - (x < y);
}

/* ---- part 1: how many threshold units represent n-bit parity exactly ----
 * A network of threshold units h = step(W h_prev + b) on 0/1 inputs, built by hand layer by
 * layer, then run with nb_linear + nb_heaviside on all 2^n patterns. */

enum { MAX_LAYERS = 8, MAX_UNITS = 1 << (MAX_BITS - 1) };

typedef struct {
    int n_layers;
    int64_t sizes[MAX_LAYERS + 1];        /* sizes[0] = n inputs, ..., sizes[n_layers] = 1 */
    float *w[MAX_LAYERS], *b[MAX_LAYERS]; /* layer l: [sizes[l + 1], sizes[l]], [sizes[l + 1]] */
} circuit;

static void circuit_free(circuit *c)
{
    for (int l = 0; l < c->n_layers; l++) {
        free(c->w[l]);
        free(c->b[l]);
    }
    c->n_layers = 0;
}

/* Append a zeroed layer of `units` units; false when out of memory or layers. */
static bool add_layer(circuit *c, int64_t units)
{
    const int l = c->n_layers;
    if (l == MAX_LAYERS)
        return false;
    c->w[l] = calloc((size_t)(units * c->sizes[l]), sizeof(float));
    c->b[l] = calloc((size_t)units, sizeof(float));
    c->sizes[l + 1] = units;
    c->n_layers++;
    return c->w[l] && c->b[l];
}

static int64_t circuit_hidden_units(const circuit *c)
{
    int64_t u = 0;
    for (int l = 1; l < c->n_layers; l++)
        u += c->sizes[l];
    return u;
}

static int64_t circuit_params(const circuit *c)
{
    int64_t p = 0;
    for (int l = 0; l < c->n_layers; l++)
        p += (c->sizes[l] + 1) * c->sizes[l + 1];
    return p;
}

/* Two layers of logic, an OR of ANDs: one hidden unit per odd pattern (2^(n-1) of them), each
 * firing only on its pattern. */
static bool build_dnf(circuit *c, int n)
{
    const int64_t odd = (int64_t)1 << (n - 1);
    if (!add_layer(c, odd) || !add_layer(c, 1))
        return false;
    for (int p = 0, u = 0; p < 1 << n; p++) {
        if (__builtin_popcount((unsigned)p) % 2 == 0)
            continue;
        for (int i = 0; i < n; i++)
            c->w[0][u * n + i] = p >> i & 1 ? 1.0f : -1.0f;
        c->b[0][u] = 0.5f - (float)__builtin_popcount((unsigned)p);
        c->w[1][u++] = 1.0f;
    }
    c->b[1][0] = -0.5f;
    return true;
}

/* One hidden layer of weighted sums: unit k fires when at least k bits are on; the output adds
 * them with alternating signs (1 - 1 + 1 ...), which is 1 exactly for an odd count. n units. */
static bool build_counting(circuit *c, int n)
{
    if (!add_layer(c, n) || !add_layer(c, 1))
        return false;
    for (int k = 0; k < n; k++) {
        for (int i = 0; i < n; i++)
            c->w[0][k * n + i] = 1.0f;
        c->b[0][k] = 0.5f - (float)(k + 1);
        c->w[1][k] = k % 2 ? -1.0f : 1.0f;
    }
    c->b[1][0] = -0.5f;
    return true;
}

/* Depth: a tree of 2-bit XORs, each an OR unit minus an AND unit, halving the signals per
 * layer (an odd one out is passed on by one unit); 2(n - 1) units plus pass-throughs in
 * ceil(log2 n) hidden layers. Each signal is a linear combination of the previous layer's
 * units, folded into the next layer's weights. */
static bool build_xor_tree(circuit *c, int n)
{
    static float sig[MAX_BITS][MAX_UNITS]; /* signal j = sig[j] . previous layer's units */
    int n_sig = n;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < n; i++)
            sig[j][i] = i == j ? 1.0f : 0.0f;
    while (n_sig > 1) {
        const int l = c->n_layers, in = (int)c->sizes[l], pairs = n_sig / 2;
        const int units = 2 * pairs + n_sig % 2;
        if (!add_layer(c, units))
            return false;
        float *w = c->w[l], *b = c->b[l];
        for (int p = 0; p < pairs; p++)
            for (int i = 0; i < in; i++)
                w[(2 * p) * in + i] = w[(2 * p + 1) * in + i] = sig[2 * p][i] + sig[2 * p + 1][i];
        for (int p = 0; p < pairs; p++) {
            b[2 * p] = -0.5f;     /* OR: a + b >= 1 */
            b[2 * p + 1] = -1.5f; /* AND: a + b >= 2 */
        }
        if (n_sig % 2) { /* pass the last signal on */
            for (int i = 0; i < in; i++)
                w[(units - 1) * in + i] = sig[n_sig - 1][i];
            b[units - 1] = -0.5f;
        }
        for (int j = 0; j < (n_sig + 1) / 2; j++) /* the new signals, over this layer's units */
            for (int u = 0; u < units; u++)
                sig[j][u] = j < pairs ? (u == 2 * j       ? 1.0f
                                         : u == 2 * j + 1 ? -1.0f
                                                          : 0.0f)
                                      : (u == units - 1 ? 1.0f : 0.0f);
        n_sig = (n_sig + 1) / 2;
    }
    const int l = c->n_layers, in = (int)c->sizes[l];
    if (!add_layer(c, 1))
        return false;
    for (int i = 0; i < in; i++)
        c->w[l][i] = sig[0][i];
    c->b[l][0] = -0.5f;
    return true;
}

/* Fraction of the 2^n patterns whose parity the circuit outputs, or -1 on an error. */
static double circuit_accuracy(const circuit *c, int n)
{
    const int patterns = 1 << n;
    float *xv = malloc(sizeof *xv * (size_t)(patterns * n));
    nb_step *step = nb_step_new();
    double acc = -1;
    if (xv && step && nb_step_begin(step) == NB_OK) {
        for (int p = 0; p < patterns; p++)
            for (int i = 0; i < n; i++)
                xv[p * n + i] = (float)(p >> i & 1);
        nb_tensor *h = nb_tensor_from_data(NB_F32, NB_SHAPE(patterns, n), xv);
        nb_tensor *x = h;
        for (int l = 0; h && l < c->n_layers; l++) {
            nb_tensor *w =
                nb_tensor_from_data(NB_F32, NB_SHAPE(c->sizes[l + 1], c->sizes[l]), c->w[l]);
            nb_tensor *b = nb_tensor_from_data(NB_F32, NB_SHAPE(c->sizes[l + 1]), c->b[l]);
            h = w && b ? nb_heaviside(nb_linear(h, w, b)) : NULL;
            nb_tensor_free(w);
            nb_tensor_free(b);
        }
        int right = 0;
        for (int p = 0; h && p < patterns; p++)
            right += (nb_tensor_get(h, p) > 0.5) == (__builtin_popcount((unsigned)p) % 2 == 1);
        acc = h ? (double)right / patterns : -1;
        nb_tensor_free(x);
        nb_step_end(step);
    }
    nb_step_free(step);
    free(xv);
    return acc;
}

/* The table of part 1 for n = 2 .. bits; returns false unless every circuit is exact. */
static bool print_representations(int bits)
{
    static const char *const KIND[3] = {"2 layers of logic (OR of ANDs)",
                                        "1 hidden layer of weighted sums",
                                        "deep: a tree of 2-bit XORs"};
    bool (*const build[3])(circuit *, int) = {build_dnf, build_counting, build_xor_tree};
    printf("part 1: threshold units that compute n-bit parity exactly, built by hand and run with\n"
           "nb_linear + nb_heaviside on all 2^n patterns (hidden layers, hidden units, weights\n"
           "and biases of the dense layers)\n");
    printf("  %-4s", "");
    for (int k = 0; k < 3; k++)
        printf(k < 2 ? " | %-33s" : " | %s", KIND[k]);
    printf("\n  %-4s", "bits");
    for (int k = 0; k < 3; k++)
        printf(" | %6s %7s %7s %9s", "layers", "units", "params", "accuracy");
    printf("\n");
    bool exact = true;
    for (int n = 2; n <= bits; n++) {
        printf("  %-4d", n);
        for (int k = 0; k < 3; k++) {
            circuit c = {.sizes = {n}};
            const double acc = build[k](&c, n) ? circuit_accuracy(&c, n) : -1;
            exact &= acc == 1.0;
            printf(" | %6d %7lld %7lld %8.1f%%", c.n_layers - 1,
                   (long long)circuit_hidden_units(&c), (long long)circuit_params(&c), 100 * acc);
            circuit_free(&c);
        }
        printf("\n");
    }
    printf("two layers of logic gates need 2^(n-1) hidden units, exponentially many, as the notes\n"
           "say; depth needs 2(n-1) XOR units plus pass-throughs in ceil(log2 n) layers. Units\n"
           "that weigh and add their inputs need only n in one hidden layer: the exponential\n"
           "cost is that of shallow logic circuits.\n\n");
    return exact;
}

static const ex_program PROG = {
    .name = "width_depth",
    .summary = "width vs depth at the same parameter budget on n-bit parity",
    .details = "Reproduces notes 003, \"Anchura vs profundidad\" (two layers may need\n"
               "exponentially more units; depth builds the function from parts), and notes 004,\n"
               "7.1 (deep networks model complex functions with far fewer parameters).\n"
               "n-bit parity (--bits) on all 2^n patterns; a deep n-W-W-W-1 and a wide n-H-1\n"
               "tanh network with about the same number of parameters; --seeds starts each.\n"
               "Part 1 builds exact parity circuits of threshold units by hand for n = 2..bits\n"
               "and runs them on every pattern: two layers of logic (an OR of ANDs) need\n"
               "2^(n-1) units, a tree of XORs 2(n-1) in log2 n layers, one layer of weighted\n"
               "sums n. Part 2 trains both shapes at one budget: parameters, median accuracy\n"
               "and steps to 100%, PREFIX.png. At the default sizes the wide network trains\n"
               "faster (see the source's comment).\n"
               "--check exits 1 unless every hand-built circuit is exact and the two trained\n"
               "parameter counts differ by less than 2%.\n",
};

int main(int argc, char **argv)
{
    int bits = 8, width = 16, steps = 1500, seeds = 5, every = 50;
    double lr = 0.01;
    bool check = false;
    const char *out = "width_depth";
    ex_opt opts[] = {
        {"bits", EX_OPT_INT, &bits, "parity of this many bits (2..12)"},
        {"width", EX_OPT_INT, &width, "units per layer of the deep network"},
        {"steps", EX_OPT_INT, &steps, "Adam steps (full batch)"},
        {"seeds", EX_OPT_INT, &seeds, "starts of each network (1..16)"},
        {"lr", EX_OPT_DOUBLE, &lr, "Adam learning rate"},
        {"out", EX_OPT_STRING, &out, "the picture is written to OUT.png"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless the budgets match within 2%"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (bits < 2 || bits > MAX_BITS || width < 1 || width > 256 || steps < every || seeds < 1 ||
        seeds > MAX_SEEDS || !(lr > 0))
        return ex_usage_error(&PROG,
                              "need --bits 2..%d, --width 1..256, --steps >= %d, "
                              "--seeds 1..%d, --lr > 0",
                              MAX_BITS, every, MAX_SEEDS);

    const bool exact = print_representations(bits);
    const int n = 1 << bits;
    float *xv = malloc(sizeof *xv * (size_t)(n * bits)), *yv = malloc(sizeof *yv * (size_t)n);
    if (!xv || !yv) {
        free(xv);
        free(yv);
        return ex_fail(PROG.name, "memory");
    }
    for (int i = 0; i < n; i++) {
        int ones = 0;
        for (int b = 0; b < bits; b++) {
            const int bit = i >> b & 1;
            xv[i * bits + b] = bit ? 1.0f : -1.0f;
            ones += bit;
        }
        yv[i] = ones % 2 ? 1.0f : -1.0f;
    }
    nb_tensor *x = nb_tensor_from_data(NB_F32, 2, (int64_t[]){n, bits}, xv);
    nb_tensor *y = nb_tensor_from_data(NB_F32, 2, (int64_t[]){n, 1}, yv);
    free(xv);
    free(yv);
    /* deep: bits-W-W-W-1; wide: bits-H-1 with (bits + 2) H + 1 ~ the deep count */
    const int64_t deep_params =
        (int64_t)(bits + 1) * width + 2 * (int64_t)(width + 1) * width + width + 1;
    const int64_t hidden = (deep_params - 1 + (bits + 2) / 2) / (bits + 2);
    const int64_t sizes[2][5] = {{bits, width, width, width, 1}, {bits, hidden, 1, 0, 0}};
    const int n_sizes[2] = {5, 3};
    static const char *const NAMES[2] = {"deep", "wide"};
    const int points = steps / every + 1;
    double *acc = calloc((size_t)(2 * MAX_SEEDS * points), sizeof *acc);
    int first[2][MAX_SEEDS];
    int64_t params[2] = {0, 0};
    nb_status st = x && y && acc ? NB_OK : NB_ERR_NOMEM;
    for (int k = 0; st == NB_OK && k < 2; k++)
        for (int s = 0; st == NB_OK && s < seeds; s++) {
            nb_rng rng = nb_rng_seed((uint64_t)s + 1);
            nb_module *net =
                nb_mlp_new(n_sizes[k], sizes[k], NB_ACT_TANH, NB_ACT_TANH, &rng, NB_F32);
            if (!net) {
                st = nb_last_status();
                break;
            }
            params[k] = nb_module_num_params(net);
            first[k][s] = run(net, x, y, n, steps, every, lr, acc + (k * MAX_SEEDS + s) * points);
            if (first[k][s] == -2)
                st = nb_last_status();
            nb_module_free(net);
        }
    nb_tensor_free(x);
    nb_tensor_free(y);
    if (st != NB_OK) {
        free(acc);
        return ex_fail(PROG.name, "training");
    }
    printf("part 2: trained at the same parameter budget: %d-bit parity, all %d patterns, Adam lr "
           "%g,\n"
           "%d steps, %d starts each\n",
           bits, n, lr, steps, seeds);
    printf("  %-5s %-22s %10s %16s %22s\n", "net", "layers", "parameters", "median accuracy",
           "steps to 100% (median)");
    int median_first[2];
    nb_curves *c = nb_curves_new();
    for (int k = 0; k < 2; k++) {
        int sorted[MAX_SEEDS];
        double finals[MAX_SEEDS];
        for (int s = 0; s < seeds; s++) {
            sorted[s] = first[k][s];
            finals[s] = acc[(k * MAX_SEEDS + s) * points + points - 1];
        }
        qsort(sorted, (size_t)seeds, sizeof *sorted, cmp_int);
        median_first[k] = sorted[seeds / 2];
        /* the run whose first-100% step is the median: its accuracy curve */
        int mid = 0;
        for (int s = 0; s < seeds; s++)
            if (first[k][s] == median_first[k])
                mid = s;
        char layers[64] = "";
        for (int i = 0; i < n_sizes[k]; i++)
            snprintf(layers + strlen(layers), sizeof layers - strlen(layers), "%s%lld",
                     i ? "-" : "", (long long)sizes[k][i]);
        char when[32];
        if (median_first[k] >= 0)
            snprintf(when, sizeof when, "%d", median_first[k]);
        else
            snprintf(when, sizeof when, "not within %d", steps);
        printf("  %-5s %-22s %10lld %15.1f%% %22s\n", NAMES[k], layers, (long long)params[k],
               100 * finals[mid], when);
        for (int p = 0; c && p < points; p++)
            nb_curves_add(c, NAMES[k], p * every, acc[(k * MAX_SEEDS + mid) * points + p]);
    }
    free(acc);
    char path[1024];
    snprintf(path, sizeof path, "%s.png", out);
    nb_plot_opts po = {.title = "parity: deep vs wide at equal parameters",
                       .xlabel = "Adam step",
                       .ylabel = "training accuracy (median run)"};
    st = c ? nb_curves_write_png(c, path, &po) : NB_ERR_NOMEM;
    nb_curves_free(c);
    if (st != NB_OK)
        return ex_fail(PROG.name, "picture");
    printf("wrote %s\n", path);
    const bool deep_first =
        median_first[0] >= 0 && (median_first[1] < 0 || median_first[0] <= median_first[1]);
    printf(
        "at this size the %s network reached 100%% first; the notes' point is the number of\n"
        "units needed to represent a function (part 1), not how fast gradient descent finds it\n",
        deep_first ? "deep" : "wide");
    if (check && !exact) {
        printf("check failed: a hand-built circuit misclassifies some pattern\n");
        return 1;
    }
    if (check && !(llabs(params[0] - params[1]) * 50 < params[0])) {
        printf("check failed: %lld and %lld parameters are not the same budget\n",
               (long long)params[0], (long long)params[1]);
        return 1;
    }
    return 0;
}
