/* examples/conv_arithmetic.c — convolution arithmetic: output sizes and weight counts of 1-D and
 * 2-D convolutions, stacked layers, an Inception block, 1x1 bottlenecks and an Xception block.
 *
 * Nothing is computed from a formula here: every layer is BUILT (nb_conv1d_new, nb_conv2d_new),
 * run forward on a dummy input to read its output shape, and its weights are counted with
 * nb_module_num_params. The arithmetic behind the numbers:
 *     out = floor((in + pads - dilation * (kernel - 1) - 1) / stride) + 1
 *     weights = out_channels * (in_channels / groups) * kernel area (+ out_channels biases) */
#include <nabla.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: conv_arithmetic [--no-bias] [--help]\n"
               "Build convolution layers and blocks, run each on a dummy input, and print output\n"
               "shapes and weight counts (the library's own count of the real parameters).\n\n"
               "  --no-bias   build every convolution without biases\n"
               "  --help      this text\n");
}

static bool g_bias = true;

static nb_conv_layer_opts conv_opts(int64_t stride, int64_t dilation, nb_padding pad,
                                    int64_t groups)
{
    return (nb_conv_layer_opts){.conv = {.stride_h = stride,
                                         .stride_w = stride,
                                         .dilation_h = dilation,
                                         .dilation_w = dilation,
                                         .padding = pad,
                                         .groups = groups},
                                .no_bias = !g_bias};
}

static nb_module *conv2d(int64_t in, int64_t out, int64_t k, nb_padding pad, int64_t groups,
                         nb_rng *rng)
{
    const nb_conv_layer_opts o = conv_opts(1, 1, pad, groups);
    return nb_conv2d_new(in, out, k, k, &o, rng);
}

/* An Inception-style block: its children run side by side on the same input and their outputs
 * are concatenated along the channel axis. A module kind defined with the public API. */
static nb_tensor *branches_forward(nb_module *m, nb_tensor *x)
{
    nb_tensor *outs[8];
    const int n = nb_module_num_children(m);
    for (int i = 0; i < n && i < 8; i++)
        outs[i] = nb_module_forward(nb_module_child_at(m, i), x);
    return nb_concat(n, outs, 1);
}

static nb_module *branches_new(const char *kind, int n, nb_module *const *children)
{
    nb_module *m = nb_module_new(kind, NB_F32, branches_forward, NULL, NULL);
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "%d", i);
        if (!m) {
            nb_module_free(children[i]);
            continue;
        }
        if (nb_module_add_child(m, name, children[i]) != NB_OK) {
            for (int j = i + 1; j < n; j++)
                nb_module_free(children[j]);
            nb_module_free(m);
            return NULL;
        }
    }
    return m;
}

/* Run m on zeros of `shape`, print "what: in -> out, N weights", return the weight count
 * (-1 on error). With verbose, also print the weights of each child. */
static int64_t report(const char *what, nb_module *m, int ndim, const int64_t *shape, bool verbose)
{
    if (!m)
        return -1;
    nb_tensor *x = nb_constant(NB_F32, ndim, shape, 0.0);
    nb_tensor *y = nb_module_forward(m, x);
    if (!y)
        return -1;
    char xs[64], ys[64];
    const int64_t n = nb_module_num_params(m);
    printf("  %-40s %-18s -> %-18s %6lld weights\n", what, nb_tensor_shape_str(x, xs, sizeof xs),
           nb_tensor_shape_str(y, ys, sizeof ys), (long long)n);
    for (int i = 0; verbose && i < nb_module_num_children(m); i++) {
        nb_module *c = nb_module_child_at(m, i);
        printf("      %-10s %-28s %30s %6lld weights\n", nb_module_kind(c), nb_module_info(c), "",
               (long long)nb_module_num_params(c));
    }
    return n;
}

static int run(void)
{
    nb_rng rng = nb_rng_seed(1);
    int64_t n;

    printf("1-D convolution, 1 channel, 100 inputs:\n");
    const nb_conv_layer_opts o1 = {.conv = {.stride_w = 2, .dilation_w = 2}, .no_bias = !g_bias};
    nb_module *c1 = nb_conv1d_new(1, 1, 4, &o1, &rng);
    n = report("width 4, stride 2, dilation 2", c1, 3, (int64_t[]){1, 1, 100}, false);
    nb_module_free(c1);
    if (n < 0)
        return 1;

    printf("\n2-D convolution on a 100x100 image (1 channel):\n");
    nb_module *c2 = conv2d(1, 5, 4, NB_PAD_VALID, 1, &rng);
    n = report("5 filters of 4x4", c2, 4, (int64_t[]){1, 1, 100, 100}, false);
    nb_module_free(c2);
    if (n < 0)
        return 1;

    printf("\nStacked layers (each one's output is the next one's input):\n");
    const nb_conv_layer_opts s2 = conv_opts(2, 1, NB_PAD_VALID, 1);
    nb_module *stack = nb_sequential_new(4, (nb_module *[]){conv2d(1, 5, 4, NB_PAD_VALID, 1, &rng),
                                                            conv2d(5, 10, 4, NB_PAD_VALID, 1, &rng),
                                                            nb_conv2d_new(10, 20, 4, 4, &s2, &rng),
                                                            nb_max_pool2d_new(2, 2, NULL)});
    n = report("4x4 x5, 4x4 x10, 4x4/2 x20, pool 2", stack, 4, (int64_t[]){1, 1, 100, 100}, true);
    nb_module_free(stack);
    if (n < 0)
        return 1;

    printf("\nInception block on 100x100x5: 6 filters of 4x4 and 5 of 3x3, SAME padding,\n"
           "outputs concatenated on the channel axis:\n");
    nb_module *inc = branches_new("Inception", 2,
                                  (nb_module *[]){conv2d(5, 6, 4, NB_PAD_SAME, 1, &rng),
                                                  conv2d(5, 5, 3, NB_PAD_SAME, 1, &rng)});
    n = report("inception (4x4 x6 | 3x3 x5)", inc, 4, (int64_t[]){1, 5, 100, 100}, true);
    nb_module_free(inc);
    if (n < 0)
        return 1;

    printf("\n1x1 bottleneck on 28x28x64: a 3x3 convolution to 64 channels, directly and\n"
           "after a 1x1 convolution down to 16 channels:\n");
    nb_module *direct = conv2d(64, 64, 3, NB_PAD_SAME, 1, &rng);
    nb_module *bneck =
        nb_sequential_new(2, (nb_module *[]){conv2d(64, 16, 1, NB_PAD_SAME, 1, &rng),
                                             conv2d(16, 64, 3, NB_PAD_SAME, 1, &rng)});
    const int64_t nd = report("3x3 x64", direct, 4, (int64_t[]){1, 64, 28, 28}, false);
    const int64_t nb = report("1x1 x16, then 3x3 x64", bneck, 4, (int64_t[]){1, 64, 28, 28}, true);
    nb_module_free(direct);
    nb_module_free(bneck);
    if (nd < 0 || nb < 0)
        return 1;
    printf("  the bottleneck needs %.1f%% of the weights\n", 100.0 * (double)nb / (double)nd);

    printf("\nInception block with 1x1 bottlenecks on 28x28x64:\n");
    nb_module *incb = branches_new(
        "Inception", 3,
        (nb_module *[]){
            conv2d(64, 16, 1, NB_PAD_SAME, 1, &rng),
            nb_sequential_new(2, (nb_module *[]){conv2d(64, 8, 1, NB_PAD_SAME, 1, &rng),
                                                 conv2d(8, 6, 4, NB_PAD_SAME, 1, &rng)}),
            nb_sequential_new(2, (nb_module *[]){conv2d(64, 8, 1, NB_PAD_SAME, 1, &rng),
                                                 conv2d(8, 5, 3, NB_PAD_SAME, 1, &rng)})});
    n = report("1x1 x16 | 1x1 x8 4x4 x6 | 1x1 x8 3x3 x5", incb, 4, (int64_t[]){1, 64, 28, 28},
               true);
    nb_module_free(incb);
    if (n < 0)
        return 1;

    printf("\nXception block on 100x100x11: a 1x1 convolution to 16 channels, then a depthwise\n"
           "3x3 convolution (groups = 16: one filter per channel), against a full 3x3:\n");
    nb_module *xc = nb_sequential_new(2, (nb_module *[]){conv2d(11, 16, 1, NB_PAD_SAME, 1, &rng),
                                                         conv2d(16, 16, 3, NB_PAD_SAME, 16, &rng)});
    nb_module *full = conv2d(11, 16, 3, NB_PAD_SAME, 1, &rng);
    const int64_t nx = report("1x1 x16, depthwise 3x3", xc, 4, (int64_t[]){1, 11, 100, 100}, true);
    const int64_t nf = report("full 3x3 x16", full, 4, (int64_t[]){1, 11, 100, 100}, false);
    nb_module_free(xc);
    nb_module_free(full);
    if (nx < 0 || nf < 0)
        return 1;
    printf("  the separable block needs %.1f%% of the weights\n", 100.0 * (double)nx / (double)nf);
    return 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--no-bias")) {
            g_bias = false;
            continue;
        }
        fprintf(stderr, "conv_arithmetic: unknown argument %s (see --help)\n", argv[i]);
        return 2;
    }
    printf("Convolution arithmetic (biases %s)\n\n", g_bias ? "included" : "excluded");
    /* the dummy forwards need no gradients; their results live in one step */
    nb_step *step = nb_step_new();
    if (!step || nb_step_begin(step) != NB_OK) {
        fprintf(stderr, "conv_arithmetic: %s\n", nb_last_error());
        return 1;
    }
    nb_set_grad_enabled(false);
    const int rc = run();
    if (rc)
        fprintf(stderr, "conv_arithmetic: %s\n", nb_last_error());
    nb_step_free(step);
    return rc;
}
