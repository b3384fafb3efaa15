/* examples/vanishing_gradients.c — early layers of a deep sigmoid net barely learn.
 *
 * Backpropagation multiplies the gradient, layer by layer from the output down, by W^T and by
 * the activation's derivative. The sigmoid's derivative is at most 1/4 (at 0) and much smaller
 * once a unit saturates, so through ten sigmoid layers the gradient that reaches the first
 * layer is orders of magnitude smaller than at the last one: the early layers barely update.
 * ReLU's derivative is exactly 1 wherever the unit is active, so with He initialisation the
 * gradient keeps its size through depth.
 *
 * Batch normalisation (Ioffe & Szegedy 2015) before each sigmoid keeps its inputs near 0, where
 * sigmoid' is largest, and rescales each layer's signal, so the gradient reaches the early
 * layers again even with the sigmoid.
 *
 * The program builds the same deep MLP (--layers Linear layers of --width units) three times:
 * with sigmoid, with ReLU, and with BatchNorm1d + sigmoid between the layers, each with its usual
 * initialisation (Xavier for sigmoid, He for ReLU; biases 0), and prints the norm of dL/dW for
 * every layer on one fixed batch at initialisation and after --steps SGD steps, plus the ratio
 * first/last layer. It writes the norms as CSV and plots them (log scale) as a PNG. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/images.h"
#include "common/util.h"
#include "nabla.h"

#define MAX_LAYERS 32

static const ex_program PROG = {
    .name = "vanishing_gradients",
    .notes = "notes 000 (overview), 003 and 004: the vanishing gradient; notes 002 (sheet): batch "
             "normalisation",
    .summary = "gradient norm per layer of a deep sigmoid MLP vs ReLU and batch norm",
    .details =
        "Builds a --layers-layer MLP (784 -> --width -> ... -> 10) with sigmoid, ReLU or\n"
        "BatchNorm1d + sigmoid between the Linear layers (Xavier / He initialisation), measures "
        "||dL/dW|| of every layer on a\n"
        "fixed batch of --probe training images at initialisation and after --steps SGD steps\n"
        "(batch --batch, --lr, momentum 0.9), prints both tables with the ratio first/last\n"
        "layer and the test accuracy, and writes PREFIX.csv and PREFIX.png (--out PREFIX).\n"
        "Data: Fashion-MNIST (Debian's dataset-fashion-mnist, or --data DIR), or --synthetic\n"
        "generated images.\n"
        "--check exits with status 1 unless, at initialisation and after training, the\n"
        "first/last ratio of the sigmoid net is below --max-ratio times those of the other two.\n",
};

typedef struct act_run {
    const char *name;
    int n_lin;
    double init_norm[MAX_LAYERS], after_norm[MAX_LAYERS];
    double first_loss, last_loss, test_acc;
} act_run;

typedef enum { NET_SIGMOID, NET_RELU, NET_SIGMOID_BN } net_kind;

static nb_module *deep_mlp(int layers, int64_t width, net_kind kind, nb_rng *rng)
{
    nb_module *net = nb_sequential_new(0, NULL);
    for (int l = 0; net && l < layers; l++) {
        const int64_t n_in = l == 0 ? 784 : width, n_out = l == layers - 1 ? 10 : width;
        nb_module *lin = nb_linear_new(n_in, n_out, true, rng);
        nb_tensor *w = lin ? nb_module_param(lin, "weight") : NULL;
        nb_status st = w ? NB_OK : nb_last_status();
        if (st == NB_OK)
            st = kind == NET_RELU ? nb_init_kaiming_normal(w, rng, 0.0, NB_FAN_IN)
                                  : nb_init_xavier_normal(w, rng, 1.0);
        if (st == NB_OK)
            st = nb_init_zeros(nb_module_param(lin, "bias"));
        if (st != NB_OK) {
            nb_module_free(lin);
            nb_module_free(net);
            return NULL;
        }
        if (nb_sequential_append(net, lin) != NB_OK ||
            (l + 1 < layers && kind == NET_SIGMOID_BN &&
             nb_sequential_append(net, nb_batch_norm1d_new(n_out, NULL)) != NB_OK) ||
            (l + 1 < layers &&
             nb_sequential_append(net, kind == NET_RELU ? nb_relu_new() : nb_sigmoid_new()) !=
                 NB_OK)) {
            nb_module_free(net);
            return NULL;
        }
    }
    return net;
}

/* ||dL/dW|| of every Linear layer's weight for the loss on (x, y). */
static nb_status grad_norms(nb_module *net, nb_step *step, nb_tensor *x, nb_tensor *y,
                            double *norms, int *n_lin)
{
    nb_step_begin(step);
    nb_module_zero_grad(net);
    nb_tensor *loss = nb_cross_entropy(nb_module_forward(net, x), y, NB_REDUCE_MEAN);
    nb_status st = loss ? nb_backward(loss) : nb_last_status();
    nb_step_end(step);
    if (st != NB_OK)
        return st;
    *n_lin = 0;
    for (int i = 0; i < nb_module_num_children(net); i++) {
        nb_module *c = nb_module_child_at(net, i);
        if (strcmp(nb_module_kind(c), "Linear"))
            continue;
        nb_tensor *g = nb_tensor_grad(nb_module_param(c, "weight"));
        double s = 0;
        for (int64_t k = 0; g && k < nb_tensor_numel(g); k++)
            s += nb_tensor_get(g, k) * nb_tensor_get(g, k);
        norms[(*n_lin)++] = sqrt(s);
    }
    nb_module_zero_grad(net);
    return NB_OK;
}

static nb_status run(act_run *r, net_kind kind, int layers, int64_t width, const nb_dataset *train,
                     const nb_dataset *test, nb_tensor *px, nb_tensor *py, int steps, int64_t batch,
                     double lr, uint64_t seed)
{
    nb_rng rng = nb_rng_seed(seed);
    nb_module *net = deep_mlp(layers, width, kind, &rng);
    nb_sgd_opts so = nb_sgd_defaults();
    so.lr = lr;
    so.momentum = 0.9;
    nb_optim *opt = net ? nb_sgd_new(net, &so) : NULL;
    nb_step *step = nb_step_new();
    nb_batcher *it = nb_batcher_new(
        train, &(nb_batch_opts){
                   .batch_size = batch, .shuffle = true, .seed = seed + 7, .last = NB_LAST_DROP});
    nb_status st = (opt && step && it) ? NB_OK : nb_last_status();
    if (st == NB_OK)
        st = grad_norms(net, step, px, py, r->init_norm, &r->n_lin);
    r->first_loss = r->last_loss = NAN;
    double window = 0;
    int in_window = 0;
    for (int s = 0; s < steps && st == NB_OK; s++) {
        nb_batch b;
        if (!nb_batcher_next(it, &b) && !nb_batcher_next(it, &b)) {
            st = nb_set_error(NB_ERR_VALUE, "vanishing_gradients: no training batch");
            break;
        }
        nb_step_begin(step);
        nb_optim_zero_grad(opt);
        nb_tensor *loss =
            nb_cross_entropy(nb_module_forward(net, nb_flatten(b.x)), b.y, NB_REDUCE_MEAN);
        st = loss ? nb_backward(loss) : nb_last_status();
        if (st == NB_OK) {
            const double l = nb_tensor_item(loss);
            if (s == 0)
                r->first_loss = l;
            window += l;
            in_window++;
            st = nb_optim_update(opt);
        }
        nb_step_end(step);
        if (st == NB_OK && (in_window == 50 || s == steps - 1)) {
            printf("  %-7s step %5d  mean loss of the last %d batches %.4f\n", r->name, s + 1,
                   in_window, window / in_window);
            r->last_loss = window / in_window;
            window = 0;
            in_window = 0;
        }
    }
    int n_after = 0;
    if (st == NB_OK)
        st = grad_norms(net, step, px, py, r->after_norm, &n_after);
    if (st == NB_OK)
        r->test_acc = ex_classifier_accuracy(net, test, 500);
    nb_batcher_free(it);
    nb_step_free(step);
    nb_optim_free(opt);
    nb_module_free(net);
    return st;
}

static void print_table(const char *title, const act_run *runs, int n, bool after)
{
    printf("\n%s\n  layer", title);
    for (int k = 0; k < n; k++)
        printf("  %14s", runs[k].name);
    printf("\n");
    for (int l = 0; l < runs[0].n_lin; l++) {
        printf("  %5d", l + 1);
        for (int k = 0; k < n; k++)
            printf("  %14.4e", (after ? runs[k].after_norm : runs[k].init_norm)[l]);
        printf("\n");
    }
    printf("  first/last");
    for (int k = 0; k < n; k++) {
        const double *v = after ? runs[k].after_norm : runs[k].init_norm;
        printf("  %*.3e", k ? 14 : 9, v[0] / v[runs[k].n_lin - 1]);
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    int layers = 10, width = 64, steps = 300, batch = 64, probe = 256, max_samples = 0;
    int n_synth = 2000;
    double lr = 0.01, max_ratio = 0.01;
    uint64_t seed = 1;
    const char *data_dir = NULL, *out = "vanishing_gradients";
    bool synthetic = false, check = false;
    ex_opt opts[] = {
        {"layers", EX_OPT_INT, &layers, "Linear layers (2..32)"},
        {"width", EX_OPT_INT, &width, "units per hidden layer"},
        {"steps", EX_OPT_INT, &steps, "SGD steps before the second measurement"},
        {"batch", EX_OPT_INT, &batch, "training batch size"},
        {"lr", EX_OPT_DOUBLE, &lr, "SGD learning rate (momentum 0.9)"},
        {"probe", EX_OPT_INT, &probe, "training images in the measuring batch"},
        {"data", EX_OPT_STRING, &data_dir, "Fashion-MNIST directory (default: Debian's)"},
        {"synthetic", EX_OPT_FLAG, &synthetic, "generated images instead of Fashion-MNIST"},
        {"limit", EX_OPT_INT, &max_samples,
         "use at most N images per split (0: all); with --synthetic: generate N training images "
         "and a quarter as many test images (0: 2000)"},
        {"out", EX_OPT_STRING, &out, "prefix of the CSV and PNG files"},
        {"seed", EX_OPT_U64, &seed, "seed of the weights and the batch order"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless sigmoid's ratio is far below ReLU's"},
        {"max-ratio", EX_OPT_DOUBLE, &max_ratio, "required sigmoid/ReLU ratio of ratios"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (synthetic && max_samples > 0) /* --limit: how many to generate */
        n_synth = max_samples;
    if (layers < 2 || layers > MAX_LAYERS || width < 1 || steps < 0 || batch < 1 || probe < 1 ||
        lr <= 0 || max_samples < 0 || n_synth < 10 || max_ratio <= 0)
        return ex_usage_error(&PROG,
                              "need --layers in [2, %d], positive --width, --batch, "
                              "--probe, --lr, --max-ratio, --steps >= 0, "
                              "--limit (with --synthetic) >= 10",
                              MAX_LAYERS);

    nb_dataset train, test;
    if (ex_load_images(PROG.name,
                       &(ex_data_opts){.dir = data_dir,
                                       .synthetic = synthetic,
                                       .limit = synthetic ? n_synth : max_samples,
                                       .test_limit = synthetic ? n_synth / 4 : max_samples,
                                       .seed = seed,
                                       .layout = NB_LAYOUT_FLAT},
                       &train, &test, NULL, 0) != NB_OK)
        return 1;
    int status = 0;
    nb_tensor *px = NULL, *py = NULL;
    nb_curves *curves = nb_curves_new();
    if (probe > nb_dataset_size(&train))
        probe = (int)nb_dataset_size(&train);
    px = nb_tensor_view_new(train.x, 0, 2, (int64_t[]){probe, 784});
    py = nb_tensor_view_new(train.y, 0, 1, (int64_t[]){probe});
    if (!px || !py || !curves) {
        status = ex_fail(PROG.name, "setup");
        goto done;
    }

    printf(
        "A %d-layer MLP 784 -> %d -> ... -> 10, once with sigmoid (Xavier init) and once with\n"
        "ReLU (He init) between the layers. Backprop multiplies the gradient by sigmoid' <= 1/4\n"
        "per layer, so the first layers of the sigmoid net get a tiny gradient and barely\n"
        "learn; ReLU passes it on unchanged where units are active, and batch norm before each\n"
        "sigmoid keeps it in its steep middle. SGD lr %g, momentum 0.9, batch %d, %d steps;\n"
        "||dL/dW|| measured on the first %d training images.\n\n",
        layers, width, lr, batch, steps, probe);

    act_run runs[3] = {{.name = "sigmoid"}, {.name = "ReLU"}, {.name = "BN + sigmoid"}};
    const net_kind kinds[3] = {NET_SIGMOID, NET_RELU, NET_SIGMOID_BN};
    for (int k = 0; k < 3; k++)
        if (run(&runs[k], kinds[k], layers, width, &train, &test, px, py, steps, batch, lr, seed) !=
            NB_OK) {
            status = ex_fail(PROG.name, "training");
            goto done;
        }
    const act_run *sig = &runs[0], *rel = &runs[1], *bn = &runs[2];
    print_table("||dL/dW|| per layer at initialisation (layer 1 reads the image):", runs, 3, false);
    char title[96];
    snprintf(title, sizeof title, "||dL/dW|| per layer after %d steps:", steps);
    print_table(title, runs, 3, true);
    printf("\n  test accuracy after %d steps: sigmoid %.1f%%, ReLU %.1f%%, BN + sigmoid %.1f%%\n",
           steps, 100 * sig->test_acc, 100 * rel->test_acc, 100 * bn->test_acc);

    /* Files: one series per net and moment, x = layer. */
    for (int k = 0; k < 3; k++) {
        char at_init[48], after[48];
        snprintf(at_init, sizeof at_init, "%s at init", runs[k].name);
        snprintf(after, sizeof after, "%s after %d steps", runs[k].name, steps);
        for (int l = 0; l < runs[k].n_lin; l++) {
            nb_curves_add(curves, at_init, l + 1, runs[k].init_norm[l]);
            nb_curves_add(curves, after, l + 1, runs[k].after_norm[l]);
        }
    }
    char csv[512], png[512];
    snprintf(csv, sizeof csv, "%s.csv", out);
    snprintf(png, sizeof png, "%s.png", out);
    const nb_plot_opts po = {.title = "gradient norm ||dL/dW|| per layer",
                             .xlabel = "layer (1 = input side)",
                             .ylabel = "||dL/dW||",
                             .log_y = true};
    if (nb_curves_write_csv(curves, csv) != NB_OK ||
        nb_curves_write_png(curves, png, &po) != NB_OK) {
        status = ex_fail(PROG.name, "writing the files");
        goto done;
    }
    printf("  wrote %s and %s\n", csv, png);

    if (check) {
        int failures = 0;
        printf("\n");
        for (int k = 0; k < 2; k++) {
            const double *a = k ? sig->after_norm : sig->init_norm;
            const double *b = k ? rel->after_norm : rel->init_norm;
            const double *c = k ? bn->after_norm : bn->init_norm;
            const double rs = a[0] / a[sig->n_lin - 1], rr = b[0] / b[rel->n_lin - 1];
            const double rb = c[0] / c[bn->n_lin - 1];
            const bool ok = rs < max_ratio * rr, ok_bn = rs < max_ratio * rb;
            printf("  check %s: sigmoid first/last %.3e < %g x ReLU's %.3e: %s\n",
                   k ? "after training" : "at initialisation", rs, max_ratio, rr,
                   ok ? "ok" : "MISMATCH");
            printf("  check %s: sigmoid first/last %.3e < %g x BN + sigmoid's %.3e: %s\n",
                   k ? "after training" : "at initialisation", rs, max_ratio, rb,
                   ok_bn ? "ok" : "MISMATCH");
            failures += !ok + !ok_bn;
        }
        printf("%s\n", failures ? "the gradients do not vanish as expected"
                                : "the sigmoid net's early layers get far smaller gradients");
        status = failures ? 1 : 0;
    }

done:
    nb_curves_free(curves);
    nb_tensor_free(px);
    nb_tensor_free(py);
    nb_dataset_deinit(&train);
    nb_dataset_deinit(&test);
    return status;
}
