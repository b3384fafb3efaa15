/* examples/conv_arithmetic.c — the convolution questions of the "Redes profundas" exercise
 * sheet (notes 002), answered in the sheet's order, one numbered answer per question.
 *
 * Nothing is taken from a formula alone: every layer is BUILT (nb_conv1d_new, nb_conv2d_new),
 * run forward on a dummy input to read its output shape, and its weights are counted with
 * nb_module_num_params. The sheet asks without giving answers; the expected values printed
 * beside each answer (and compared by --check) were worked out by hand from the sheet's own
 * formula, in the sheet's words "paso" = dilation and "salto" = stride:
 *     L_out = floor((L_in - paso * (ancho - 1) - 1) / salto + 1)
 *     weights = filters * (channels in * kernel area + 1 bias)
 * With --in and the other size options it answers the same two questions (output size and
 * weights) for one layer of any size, for the questions whose sizes are only in the sheet's
 * figures. */
#include <nabla.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"

static const ex_program PROG = {
    .name = "conv_arithmetic",
    .notes = "notes 002 (sheet), convolution questions Q1-Q16 (widths, strides, dilation, weight "
             "counts, Inception, Xception)",
    .summary = "notes 002 exercise sheet: output sizes and weight counts of convolutions",
    .details =
        "Answers the convolution questions of notes 002 (\"Redes profundas\") in the sheet's\n"
        "order, Q1..Q16, each from a real layer: stride/dilation/width on 100 inputs, the\n"
        "alternating chain, 100x100 images, the 5-4-3-2-1 stack in compact notation, padding\n"
        "for even widths, Inception blocks with and without 1x1x3 bottlenecks, and Xception.\n"
        "--check compares every answer with the value worked out by hand from the sheet's\n"
        "formula and exits 1 on a mismatch. --in N (with --width, --stride, --dilation,\n"
        "--filters, --channels, --dims 1|2) answers for one layer of your own sizes instead.\n",
};

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

/* Run m on zeros of `shape`, then free m; the output shape goes to out (up to 4 dims). Returns
 * the weight count, -1 on an error. */
static int64_t measure(nb_module *m, int ndim, const int64_t *shape, int64_t *out)
{
    nb_tensor *y = m ? nb_module_forward(m, nb_constant(NB_F32, ndim, shape, 0.0)) : NULL;
    for (int i = 0; y && i < nb_tensor_ndim(y) && i < 4; i++)
        out[i] = nb_tensor_dim(y, i);
    const int64_t n = y ? nb_module_num_params(m) : -1;
    nb_module_free(m);
    return n;
}

static int g_failures;

/* One answer beside the value worked out by hand (with or without biases). */
static void answer(const char *what, int64_t got, int64_t by_hand_bias, int64_t by_hand_no_bias,
                   bool check)
{
    const int64_t want = g_bias ? by_hand_bias : by_hand_no_bias;
    const bool ok = got == want;
    printf("      %-52s %8lld   (by hand: %lld)%s\n", what, (long long)got, (long long)want,
           check ? (ok ? " ok" : " MISMATCH") : "");
    if (check && !ok)
        g_failures++;
}

static nb_module *conv1d(int64_t in, int64_t out, int64_t width, int64_t stride, int64_t dil,
                         nb_rng *rng)
{
    const nb_conv_layer_opts o = {.conv = {.stride_w = stride, .dilation_w = dil},
                                  .no_bias = !g_bias};
    return nb_conv1d_new(in, out, width, &o, rng);
}

/* Length after one width-4 layer of 1-D convolution: normal (stride 1) or reducing (stride 4). */
static int64_t chain_step(int64_t len, bool reducing, nb_rng *rng)
{
    int64_t out[4] = {0};
    if (len < 4)
        return 0;
    nb_module *c = conv1d(1, 1, 4, reducing ? 4 : 1, 1, rng);
    const int64_t n = measure(c, 3, (int64_t[]){1, 1, len}, out);
    return n < 0 ? -1 : out[2];
}

static int sheet(bool check)
{
    nb_rng rng = nb_rng_seed(1);
    int64_t o[4] = {0}, n;

    printf("Q1  \"paso 2, salto 2 y ancho 4\" (dilation 2, stride 2, width 4), 100 inputs, 4\n"
           "    processors in the layer: how many weights?\n");
    nb_module *c = conv1d(1, 4, 4, 2, 2, &rng);
    n = measure(c, 3, (int64_t[]){1, 1, 100}, o);
    if (n < 0)
        return 1;
    answer("weights of the layer (4 x (4 + 1 bias))", n, 20, 16, check);
    printf("Q2  check the layer's output length: floor((100 - 2*3 - 1) / 2 + 1)\n");
    answer("outputs per processor", o[2], 47, 47, check);

    printf("Q3  the two cases for width 4, 100 inputs\n");
    answer("salto = paso = 1: 100 - 3", chain_step(100, false, &rng), 97, 97, check);
    answer("paso = 1, salto = ancho = 4: floor(100 / 4)", chain_step(100, true, &rng), 25, 25,
           check);

    printf(
        "Q4  alternating the two layers from 100 inputs, how many layers to one output?\n      ");
    int64_t len = 100, layers = 0, conv_before_10 = 0;
    printf("100");
    while (len >= 4) {
        len = chain_step(len, layers % 2 == 1, &rng);
        if (len < 0)
            return 1;
        layers++;
        printf(" -> %lld", (long long)len);
        if (!conv_before_10 && len <= 10)
            conv_before_10 = layers;
    }
    printf("\n      after %lld layers %lld outputs are left, fewer than the width 4: a last layer\n"
           "      must cover all %lld of them (width %lld) to leave one output\n",
           (long long)layers, (long long)len, (long long)len, (long long)len);
    answer("width-4 layers", layers, 5, 5, check);
    answer("layers to one output, the last of width 2", layers + (len > 1), 6, 6, check);
    printf("Q5  switching to a dense layer once 10 or fewer variables are left\n");
    answer("convolutional layers (100, 97, 24, 21, then 5)", conv_before_10, 4, 4, check);

    printf("Q6  100x100 input, salto = paso = 1, ancho 4: output size?\n");
    nb_module *c2 = conv2d(1, 5, 4, NB_PAD_VALID, 1, &rng);
    n = measure(c2, 4, (int64_t[]){1, 1, 100, 100}, o);
    if (n < 0)
        return 1;
    answer("output height (and width)", o[2], 97, 97, check);
    printf("Q7  5 processors in that layer: how many weights?\n");
    answer("weights (5 x (16 + 1))", n, 85, 80, check);

    printf(
        "Q8  a second layer of one processor, width 4, over the 5 maps: its weights and output\n");
    nb_module *c3 = conv2d(5, 1, 4, NB_PAD_VALID, 1, &rng);
    n = measure(c3, 4, (int64_t[]){1, 5, 97, 97}, o);
    if (n < 0)
        return 1;
    answer("weights of the processor (4 x 4 x 5 + 1)", n, 81, 80, check);
    answer("output height (and width)", o[2], 94, 94, check);

    printf("Q9  five layers of width 4 with 5, 4, 3, 2 and 1 processors: output and weights\n");
    printf("Q10 in compact notation, with the output sizes:\n      100x100x1");
    int64_t total = 0, side = 100;
    for (int64_t f = 5, ch = 1; f >= 1; ch = f, f--) {
        nb_module *l = conv2d(ch, f, 4, NB_PAD_VALID, 1, &rng);
        n = measure(l, 4, (int64_t[]){1, ch, side, side}, o);
        if (n < 0)
            return 1;
        total += n;
        side = o[2];
        printf(" -[4x4x%lld, %lld]-> %lldx%lldx%lld", (long long)ch, (long long)f, (long long)o[2],
               (long long)o[3], (long long)o[1]);
        if (f == 3)
            printf("\n      ");
    }
    printf("\n");
    answer("output height (and width), 1 channel", side, 85, 85, check);
    answer("weights (85 + 324 + 195 + 98 + 33)", total, 735, 720, check);

    printf("Q11 padding so that the output keeps the input size (stride 1), per width:\n");
    for (int64_t w = 2; w <= 5; w++) {
        int64_t p0 = 0, p1 = 0;
        nb_conv_output_size(100, w, 1, 1, NB_PAD_SAME, &p0, &p1);
        printf("      width %lld: %lld before, %lld after (total width - 1 = %lld)\n", (long long)w,
               (long long)p0, (long long)p1, (long long)(w - 1));
        if (w == 4) {
            answer("width 4: zeros before", p0, 1, 1, check);
            answer("width 4: zeros after", p1, 2, 2, check);
        }
    }

    printf("Q12 100x100x1 input, an Inception block of 6 processors of width 4 and 5 of width 3\n"
           "    (padded, concatenated): output size?\n");
    nb_module *inc = branches_new("Inception", 2,
                                  (nb_module *[]){conv2d(1, 6, 4, NB_PAD_SAME, 1, &rng),
                                                  conv2d(1, 5, 3, NB_PAD_SAME, 1, &rng)});
    n = measure(inc, 4, (int64_t[]){1, 1, 100, 100}, o);
    if (n < 0)
        return 1;
    printf("      output %lldx%lldx%lld\n", (long long)o[2], (long long)o[3], (long long)o[1]);
    answer("output channels", o[1], 11, 11, check);
    answer("weights (6 x 17 + 5 x 10)", n, 152, 141, check);

    printf("Q13 the second layer with the same structure, on the 11 channels: weights?\n");
    inc = branches_new("Inception", 2,
                       (nb_module *[]){conv2d(11, 6, 4, NB_PAD_SAME, 1, &rng),
                                       conv2d(11, 5, 3, NB_PAD_SAME, 1, &rng)});
    n = measure(inc, 4, (int64_t[]){1, 11, 100, 100}, o);
    if (n < 0)
        return 1;
    answer("weights (6 x (16 x 11 + 1) + 5 x (9 x 11 + 1))", n, 1562, 1551, check);

    printf("Q14 a 1x1x3 block in the second layer: 3 processors of 1x1 over the 11 channels\n");
    nb_module *b3 = conv2d(11, 3, 1, NB_PAD_VALID, 1, &rng);
    n = measure(b3, 4, (int64_t[]){1, 11, 100, 100}, o);
    if (n < 0)
        return 1;
    printf("      output %lldx%lldx%lld: each output pixel mixes the 11 values of one input "
           "pixel\n",
           (long long)o[2], (long long)o[3], (long long)o[1]);
    answer("weights (3 x (11 + 1))", n, 36, 33, check);

    printf("Q15 one such 1x1x3 block before each of the two blocks: weights of the second layer\n");
    inc = branches_new(
        "Inception", 2,
        (nb_module *[]){
            nb_sequential_new(2, (nb_module *[]){conv2d(11, 3, 1, NB_PAD_VALID, 1, &rng),
                                                 conv2d(3, 6, 4, NB_PAD_SAME, 1, &rng)}),
            nb_sequential_new(2, (nb_module *[]){conv2d(11, 3, 1, NB_PAD_VALID, 1, &rng),
                                                 conv2d(3, 5, 3, NB_PAD_SAME, 1, &rng)})});
    n = measure(inc, 4, (int64_t[]){1, 11, 100, 100}, o);
    if (n < 0)
        return 1;
    answer("weights (2 x 36 + 6 x (16 x 3 + 1) + 5 x (9 x 3 + 1))", n, 506, 489, check);

    printf("Q16 Xception: a 1x1x6 block, then width 3 on each of its outputs separately\n");
    nb_module *xc = nb_sequential_new(2, (nb_module *[]){conv2d(11, 6, 1, NB_PAD_VALID, 1, &rng),
                                                         conv2d(6, 6, 3, NB_PAD_SAME, 6, &rng)});
    n = measure(xc, 4, (int64_t[]){1, 11, 100, 100}, o);
    if (n < 0)
        return 1;
    printf("      output %lldx%lldx%lld\n", (long long)o[2], (long long)o[3], (long long)o[1]);
    answer("output channels", o[1], 6, 6, check);
    answer("weights (6 x (11 + 1) + 6 x (9 + 1))", n, 132, 120, check);
    return 0;
}

/* One layer of the caller's sizes (the figure-only questions). */
static int one_layer(int dims, int64_t in, int64_t width, int64_t stride, int64_t dil,
                     int64_t filters, int64_t channels)
{
    nb_rng rng = nb_rng_seed(1);
    int64_t o[4] = {0};
    nb_conv_layer_opts lo = {.conv = {.stride_w = stride, .dilation_w = dil}, .no_bias = !g_bias};
    if (dims == 2)
        lo.conv.stride_h = stride, lo.conv.dilation_h = dil;
    nb_module *m = dims == 1 ? nb_conv1d_new(channels, filters, width, &lo, &rng)
                             : nb_conv2d_new(channels, filters, width, width, &lo, &rng);
    const int64_t n = dims == 1 ? measure(m, 3, (int64_t[]){1, channels, in}, o)
                                : measure(m, 4, (int64_t[]){1, channels, in, in}, o);
    if (n < 0)
        return 1;
    printf("%d-D layer: %lld input%s x%lld channels, width %lld, stride (salto) %lld, dilation "
           "(paso) %lld, %lld filters\n",
           dims, (long long)in, dims == 2 ? " per side" : "s", (long long)channels,
           (long long)width, (long long)stride, (long long)dil, (long long)filters);
    if (dims == 1)
        printf("  output %lld values x%lld filters, %lld weights%s\n", (long long)o[2],
               (long long)filters, (long long)n, g_bias ? " (biases included)" : "");
    else
        printf("  output %lldx%lldx%lld, %lld weights%s\n", (long long)o[2], (long long)o[3],
               (long long)filters, (long long)n, g_bias ? " (biases included)" : "");
    return 0;
}

int main(int argc, char **argv)
{
    bool no_bias = false, check = false;
    int dims = 1, in = 0, width = 4, stride = 1, dilation = 1, filters = 1, channels = 1;
    ex_opt opts[] = {
        {"no-bias", EX_OPT_FLAG, &no_bias, "build every convolution without biases"},
        {"check", EX_OPT_FLAG, &check, "compare every answer with the value worked by hand"},
        {"in", EX_OPT_INT, &in, "one layer of your own: inputs (per side for --dims 2)"},
        {"dims", EX_OPT_INT, &dims, "with --in: 1 (sequence) or 2 (square image)"},
        {"width", EX_OPT_INT, &width, "with --in: kernel width (ancho)"},
        {"stride", EX_OPT_INT, &stride, "with --in: stride (salto)"},
        {"dilation", EX_OPT_INT, &dilation, "with --in: dilation (paso)"},
        {"filters", EX_OPT_INT, &filters, "with --in: processors (filters)"},
        {"channels", EX_OPT_INT, &channels, "with --in: input channels"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (in < 0 || (dims != 1 && dims != 2) || width < 1 || stride < 1 || dilation < 1 ||
        filters < 1 || channels < 1)
        return ex_usage_error(&PROG, "need --in >= 0, --dims 1 or 2, and --width, --stride, "
                                     "--dilation, --filters, --channels >= 1");
    g_bias = !no_bias;
    /* the dummy forwards need no gradients; their results live in one step */
    nb_step *step = nb_step_new();
    if (!step || nb_step_begin(step) != NB_OK) {
        fprintf(stderr, "conv_arithmetic: %s\n", nb_last_error());
        return 1;
    }
    nb_set_grad_enabled(false);
    int rc;
    if (in > 0) {
        rc = one_layer(dims, in, width, stride, dilation, filters, channels);
    } else {
        printf("Notes 002, convolution questions (biases %s)\n\n",
               g_bias ? "included" : "excluded");
        rc = sheet(check);
    }
    if (rc)
        fprintf(stderr, "conv_arithmetic: %s\n", nb_last_error());
    else if (check && in == 0)
        printf("\n%s\n", g_failures ? "some answers differ from the values worked by hand"
                                    : "all answers agree with the values worked by hand");
    nb_step_end(step);
    nb_step_free(step);
    return rc ? rc : g_failures ? 1 : 0;
}
