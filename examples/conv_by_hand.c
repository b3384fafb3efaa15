/* examples/conv_by_hand.c — convolution by hand: the classic 6x6 edge-detection exercise and a
 * vertical edge computed with nb_conv2d and printed in full, VALID vs SAME output sizes, and
 * six classic 3x3 image kernels (identity, sharpen, box blur, Gaussian blur, Sobel, emboss)
 * applied to a Fashion-MNIST item, written as a PNG grid.
 *
 * Deep-learning "convolution" is a cross-correlation: the kernel slides over the image without
 * being flipped, and each output is the sum of the elementwise products under the window. */
#include <nabla.h>

#include "common/cli.h"
#include "common/images.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct args {
    const char *data, *out;
    bool synthetic, course, check;
    int item;
} args;

/* 0: run; else the exit status (0 after --help, 2 after a usage error). */
static int parse(int argc, char **argv, args *a, bool *stop)
{
    static const ex_program prog = {
        .name = "conv_by_hand",
        .notes = "notes 001 (slides), CNN section: the 5x5 image * vertical kernel (top-left 6), "
                 "the 6x6 question, VALID/SAME, pooling; notes 003: the 5x5 CNN slide; notes "
                 "004: the 2x2 kernel on 4x4",
        .summary = "convolution by hand with nb_conv2d: an edge-detection exercise, VALID vs SAME "
                   "sizes, the notes' matrices, and classic image kernels on a Fashion-MNIST item",
        .details =
            "--course prints only the notes' matrices: 001's 5x5 image (top-left 6) and 6x6\n"
            "question, 003's 5x5 image, 004's 2x2 kernel on a 4x4 matrix, two channels\n"
            "summed, 2x2 max / average pooling, 001's 28x28x1 example.\n",
    };
    *a = (args){.out = "conv_by_hand"};
    ex_opt opts[] = {
        {"data", EX_OPT_STRING, &a->data, "MNIST-format files in DIR (default: Fashion-MNIST)"},
        {"synthetic", EX_OPT_FLAG, &a->synthetic, "filter a generated 28x28 image (no files)"},
        {"item", EX_OPT_INT, &a->item, "which test image to filter"},
        {"out", EX_OPT_STRING, &a->out, "write OUT_kernels.png"},
        {"course", EX_OPT_FLAG, &a->course, "only the notes' matrices"},
        {"check", EX_OPT_FLAG, &a->check, "compare with the notes' numbers; exit 1 if they differ"},
    };
    *stop = true;
    ex_args_result r =
        ex_parse_args(&prog, opts, (int)(sizeof opts / sizeof *opts), argc, argv, NULL, NULL);
    if (r != EX_ARGS_RUN)
        return r == EX_ARGS_HELP ? 0 : 2;
    if (a->item < 0)
        return ex_usage_error(&prog, "--item must be >= 0, got %d", a->item);
    *stop = false;
    return 0;
}

static void print_matrix(const char *title, const nb_tensor *t)
{
    const int64_t h = nb_tensor_dim(t, -2), w = nb_tensor_dim(t, -1);
    printf("%s (%lldx%lld):\n", title, (long long)h, (long long)w);
    for (int64_t i = 0; i < h; i++) {
        printf("   ");
        for (int64_t j = 0; j < w; j++)
            printf(" %5g", nb_tensor_get(t, i * w + j));
        printf("\n");
    }
}

/* image [h, w] * kernel [3, 3] with nb_conv2d (padding per `pad`), printed. Returns the
 * output [1, 1, oh, ow] (in the active step) or NULL. */
static nb_tensor *convolve(const char *title, int64_t h, int64_t w, const double *img,
                           const double *kernel, nb_padding pad)
{
    nb_tensor *x = nb_tensor_from_data(NB_F64, 4, (int64_t[]){1, 1, h, w}, img);
    nb_tensor *k = nb_tensor_from_data(NB_F64, 4, (int64_t[]){1, 1, 3, 3}, kernel);
    nb_tensor *y = nb_conv2d(x, k, NULL, &(nb_conv_opts){.padding = pad});
    if (y) {
        print_matrix("  image", x);
        print_matrix("  kernel", k);
        print_matrix(title, y);
    }
    nb_tensor_free(x);
    nb_tensor_free(k);
    return y;
}

static const double VERTICAL[9] = {1, 0, -1, 1, 0, -1, 1, 0, -1};

static int exercises(void)
{
    printf("1. The classic 6x6 edge-detection exercise, vertical-edge kernel, no padding:\n");
    static const double img6[36] = {3, 0, 1, 2, 7, 4, 1, 5, 8, 9, 3, 1, 2, 7, 2, 5, 1, 3,
                                    0, 1, 3, 1, 7, 8, 4, 2, 1, 6, 2, 8, 2, 4, 5, 2, 3, 9};
    nb_tensor *y = convolve("  output = image * kernel", 6, 6, img6, VERTICAL, NB_PAD_VALID);
    if (!y)
        return 1;
    printf("  top-left: 3*1 + 1*1 + 2*1 - 1*1 - 8*1 - 2*1 = %g\n\n", nb_tensor_get(y, 0));

    printf("2. A vertical edge (bright left half, dark right half):\n");
    double edge5[25], edge6[36];
    for (int i = 0; i < 25; i++)
        edge5[i] = i % 5 < 3 ? 10 : 0;
    for (int i = 0; i < 36; i++)
        edge6[i] = i % 6 < 3 ? 10 : 0;
    if (!convolve("  output (5x5 image)", 5, 5, edge5, VERTICAL, NB_PAD_VALID) ||
        !convolve("  output (6x6 image)", 6, 6, edge6, VERTICAL, NB_PAD_VALID))
        return 1;
    printf("  the 30s mark where the edge is: each window straddling it sums 3 * (10 - 0)\n\n");

    printf("3. VALID vs SAME padding, 5x5 input and a 3x3 kernel:\n");
    const nb_padding modes[2] = {NB_PAD_VALID, NB_PAD_SAME};
    const char *names[2] = {"VALID", "SAME"};
    for (int m = 0; m < 2; m++) {
        int64_t p0 = 0, p1 = 0;
        const int64_t formula = nb_conv_output_size(5, 3, 1, 1, modes[m], &p0, &p1);
        nb_tensor *o = nb_conv2d(nb_constant(NB_F64, 4, (int64_t[]){1, 1, 5, 5}, 1.0),
                                 nb_constant(NB_F64, 4, (int64_t[]){1, 1, 3, 3}, 1.0), NULL,
                                 &(nb_conv_opts){.padding = modes[m]});
        if (!o)
            return 1;
        printf("  %-5s: output %lldx%lld (padding %lld before, %lld after; formula gives %lld)\n",
               names[m], (long long)nb_tensor_dim(o, 2), (long long)nb_tensor_dim(o, 3),
               (long long)p0, (long long)p1, (long long)formula);
    }
    printf("\n");
    return 0;
}

/* ---- the notes' matrices (--course) ---- */

static int check_value(bool check, const char *what, double got, double notes)
{
    if (!check)
        return 0;
    const bool ok = got == notes;
    printf("  check %-44s %g, expected %g: %s\n", what, got, notes, ok ? "ok" : "MISMATCH");
    return !ok;
}

/* The 2x2 windows of a [1, 1, 4, 4] tensor by hand: max or mean. */
static double window2(const nb_tensor *t, int i, int j, bool max)
{
    double m = -INFINITY, sum = 0;
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) {
            const double v = nb_tensor_get(t, (2 * i + a) * 4 + 2 * j + b);
            m = fmax(m, v);
            sum += v;
        }
    return max ? m : sum / 4;
}

/* Returns the number of mismatches with the notes (0 without --check), or -1 on an error. */
static int notes_exercises(bool check)
{
    int bad = 0;
    printf("N1. Notes 001 (CNN, worked convolution): 5x5 image * vertical-edge kernel, VALID:\n");
    static const double img5[25] = {7, 2, 3, 3, 8, 4, 5, 3, 8, 4, 3, 3, 2,
                                    8, 4, 2, 8, 7, 2, 7, 5, 4, 4, 5, 4};
    nb_tensor *y = convolve("  output", 5, 5, img5, VERTICAL, NB_PAD_VALID);
    if (!y)
        return -1;
    printf("  top-left: (7 + 4 + 3) * 1 + (2 + 5 + 3) * 0 + (3 + 3 + 2) * (-1) = %g; the notes\n"
           "  write the last column's factor as +1 but their sum, 6, is the one with -1\n",
           nb_tensor_get(y, 0));
    bad += check_value(check, "001 top-left", nb_tensor_get(y, 0), 6);
    bad +=
        check_value(check, "001 VALID size D - N + 1 = 5 - 3 + 1", (double)nb_tensor_dim(y, 2), 3);

    printf("\nN2. Notes 001 question (\"Original image 6x6\"); the kernel is only in the notes'\n"
           "picture, taken here as the vertical-edge kernel of the worked example:\n");
    static const double q6[36] = {3, 1, 1, 2, 8, 4, 1, 0, 7, 3, 2, 6, 2, 3, 5, 1, 1, 3,
                                  1, 4, 1, 2, 6, 5, 3, 2, 1, 3, 7, 2, 9, 2, 6, 2, 5, 1};
    nb_tensor *q = convolve("  output", 6, 6, q6, VERTICAL, NB_PAD_VALID);
    if (!q)
        return -1;
    bad +=
        check_value(check, "6x6 question: output size 6 - 3 + 1", (double)nb_tensor_dim(q, 2), 4);

    printf("\nN3. Notes 003 (\"Image\" of the CNN slide) with the same kernel:\n");
    static const double img3[25] = {2, 4, 9, 1, 4, 2, 1, 4, 4, 6, 1, 1, 2,
                                    9, 2, 7, 3, 5, 1, 3, 2, 3, 4, 8, 5};
    if (!convolve("  output", 5, 5, img3, VERTICAL, NB_PAD_VALID))
        return -1;

    printf("\nN4. Notes 004, 7.3.1: a 2x2 kernel on a 4x4 matrix gives a 3x3 matrix (the notes'\n"
           "values are only in a picture; here 1..16 and the kernel [[1, 0], [0, -1]]):\n");
    double m16[16];
    for (int i = 0; i < 16; i++)
        m16[i] = i + 1;
    nb_tensor *x4 = nb_tensor_from_data(NB_F64, 4, (int64_t[]){1, 1, 4, 4}, m16);
    nb_tensor *k2 =
        nb_tensor_from_data(NB_F64, 4, (int64_t[]){1, 1, 2, 2}, (const double[]){1, 0, 0, -1});
    nb_tensor *y4 = x4 && k2 ? nb_conv2d(x4, k2, NULL, NULL) : NULL;
    nb_tensor_free(x4);
    nb_tensor_free(k2);
    if (!y4)
        return -1;
    print_matrix("  output", y4);
    bad += check_value(check, "004 2x2 on 4x4: output rows", (double)nb_tensor_dim(y4, 2), 3);
    bad += check_value(check, "004 2x2 on 4x4: output columns", (double)nb_tensor_dim(y4, 3), 3);

    printf("\nN5. Notes 001/004: with several channels each kernel slice filters its channel and\n"
           "the results are summed. Two channels: 001's 5x5 image and 003's, kernels vertical\n"
           "and its transpose:\n");
    double two[50], kern[18];
    memcpy(two, img5, sizeof img5);
    memcpy(two + 25, img3, sizeof img3);
    for (int i = 0; i < 9; i++) {
        kern[i] = VERTICAL[i];
        kern[9 + i] = VERTICAL[(i % 3) * 3 + i / 3];
    }
    nb_tensor *x2 = nb_tensor_from_data(NB_F64, 4, (int64_t[]){1, 2, 5, 5}, two);
    nb_tensor *w2 = nb_tensor_from_data(NB_F64, 4, (int64_t[]){1, 2, 3, 3}, kern);
    nb_tensor *both = x2 && w2 ? nb_conv2d(x2, w2, NULL, NULL) : NULL;
    nb_tensor *c0 = convolve("  channel 1 alone", 5, 5, img5, kern, NB_PAD_VALID);
    nb_tensor *c1 = convolve("  channel 2 alone", 5, 5, img3, kern + 9, NB_PAD_VALID);
    nb_tensor_free(x2);
    nb_tensor_free(w2);
    if (!both || !c0 || !c1)
        return -1;
    print_matrix("  nb_conv2d over both channels", both);
    double diff = 0;
    for (int i = 0; i < 9; i++)
        diff = fmax(diff,
                    fabs(nb_tensor_get(both, i) - (nb_tensor_get(c0, i) + nb_tensor_get(c1, i))));
    printf("  max |two-channel conv - (channel 1 + channel 2)| = %g\n", diff);
    bad += check_value(check, "sum of the channels = nb_conv2d", diff, 0);

    printf("\nN6. 2x2 pooling (notes 000 and 001) of the N2 output, by hand and by the library:\n");
    nb_tensor *mp = nb_max_pool2d(q, 2, 2, NULL), *ap = nb_avg_pool2d(q, 2, 2, NULL);
    if (!mp || !ap)
        return -1;
    print_matrix("  max pooling 2x2 (nb_max_pool2d)", mp);
    print_matrix("  average pooling 2x2 (nb_avg_pool2d)", ap);
    double pool_diff = 0;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            pool_diff =
                fmax(pool_diff, fmax(fabs(nb_tensor_get(mp, i * 2 + j) - window2(q, i, j, true)),
                                     fabs(nb_tensor_get(ap, i * 2 + j) - window2(q, i, j, false))));
    printf("  max |library - by hand (max of 4, sum of 4 / 4)| = %g\n", pool_diff);
    bad += check_value(check, "pooling by hand = library", pool_diff, 0);

    printf("\nN7. Notes 001's example: a 28x28x1 image, 32 kernels 3x3 (SAME) and ReLU, then\n"
           "max pooling 2x2:\n");
    nb_tensor *img = nb_constant(NB_F64, 4, (int64_t[]){1, 1, 28, 28}, 1.0);
    nb_tensor *k32 = nb_constant(NB_F64, 4, (int64_t[]){32, 1, 3, 3}, 1.0);
    nb_tensor *fm = nb_relu(nb_conv2d(img, k32, NULL, &(nb_conv_opts){.padding = NB_PAD_SAME}));
    nb_tensor *pooled = fm ? nb_max_pool2d(fm, 2, 2, NULL) : NULL;
    if (!pooled)
        return -1;
    printf("  input 28x28x1 = %lld px -> 32 maps %lldx%lld = %lld px -> pooled %lldx%lld x32 = "
           "%lld px\n",
           (long long)nb_tensor_numel(img), (long long)nb_tensor_dim(fm, 2),
           (long long)nb_tensor_dim(fm, 3), (long long)nb_tensor_numel(fm),
           (long long)nb_tensor_dim(pooled, 2), (long long)nb_tensor_dim(pooled, 3),
           (long long)nb_tensor_numel(pooled));
    bad += check_value(check, "001: 784 px", (double)nb_tensor_numel(img), 784);
    bad +=
        check_value(check, "001: 32 feature maps = 25.088 px", (double)nb_tensor_numel(fm), 25088);
    bad += check_value(check, "001: after pooling 6.272 px", (double)nb_tensor_numel(pooled), 6272);
    printf("\n");
    return bad;
}

typedef struct named_kernel {
    const char *name;
    double k[9];
} named_kernel;

static const named_kernel KERNELS[] = {
    {"identity", {0, 0, 0, 0, 1, 0, 0, 0, 0}},
    {"sharpen", {0, -1, 0, -1, 5, -1, 0, -1, 0}},
    {"box blur", {1 / 9., 1 / 9., 1 / 9., 1 / 9., 1 / 9., 1 / 9., 1 / 9., 1 / 9., 1 / 9.}},
    {"Gaussian blur",
     {1 / 16., 2 / 16., 1 / 16., 2 / 16., 4 / 16., 2 / 16., 1 / 16., 2 / 16., 1 / 16.}},
    {"Sobel x", {-1, 0, 1, -2, 0, 2, -1, 0, 1}},
    {"Sobel y", {-1, -2, -1, 0, 0, 0, 1, 2, 1}},
    {"emboss", {-2, -1, 0, -1, 1, 1, 0, 1, 2}},
};
#define N_KERNELS ((int)(sizeof KERNELS / sizeof KERNELS[0]))

static int filters(const args *a)
{
    nb_dataset ds = {0};
    nb_status st;
    const char *what;
    nb_dataset unused;
    const ex_data_opts dopts = {.dir = a->data,
                                .synthetic = a->synthetic,
                                .limit = 1,
                                .test_limit = a->item + 1,
                                .seed = 7,
                                .layout = NB_LAYOUT_NCHW,
                                .quiet = true};
    st = ex_load_images("conv_by_hand", &dopts, &unused, &ds, NULL, 0);
    nb_dataset_deinit(&unused);
    if (st != NB_OK)
        return 1;
    what = a->synthetic ? "a synthetic bar image"
           : a->data    ? "test item"
                        : "Fashion-MNIST test item";
    if (a->item >= nb_dataset_size(&ds)) {
        fprintf(stderr, "conv_by_hand: --item %lld: the set has %lld images\n", (long long)a->item,
                (long long)nb_dataset_size(&ds));
        nb_dataset_deinit(&ds);
        return 2;
    }
    /* the item as [1, 1, 28, 28] f64, the 7 kernels as one conv2d with 7 output channels */
    nb_tensor *x32 = nb_slice(ds.x, 0, a->item, a->item + 1, 1);
    nb_tensor *x = x32 ? nb_tensor_to_dtype(x32, NB_F64) : NULL;
    double kw[N_KERNELS * 9];
    for (int i = 0; i < N_KERNELS; i++)
        memcpy(kw + 9 * i, KERNELS[i].k, sizeof KERNELS[i].k);
    nb_tensor *w = nb_tensor_from_data(NB_F64, 4, (int64_t[]){N_KERNELS, 1, 3, 3}, kw);
    nb_tensor *y = x && w ? nb_conv2d(x, w, NULL, &(nb_conv_opts){.padding = NB_PAD_SAME}) : NULL;
    int rc = 0;
    if (!y) {
        rc = 1;
        fprintf(stderr, "conv_by_hand: %s\n", nb_last_error());
        goto done;
    }
    printf(
        "4. Seven 3x3 kernels on %s %lld%s%s (28x28, SAME padding -> 28x28):\n", what,
        (long long)a->item, ds.class_names ? ", class " : "",
        ds.class_names
            ? ds.class_names[nb_tensor_get(ds.y, a->item) >= 0 ? (int)nb_tensor_get(ds.y, a->item)
                                                               : 0]
            : "");
    printf("  %-14s %10s %10s %10s\n", "kernel", "min", "max", "sum");
    for (int k = -1; k < N_KERNELS; k++) {
        double mn = INFINITY, mx = -INFINITY, sum = 0;
        for (int64_t i = 0; i < 784; i++) {
            const double v = k < 0 ? nb_tensor_get(x, i) : nb_tensor_get(y, k * 784 + i);
            mn = fmin(mn, v);
            mx = fmax(mx, v);
            sum += v;
        }
        printf("  %-14s %10.4f %10.4f %10.4f\n", k < 0 ? "(input)" : KERNELS[k].name, mn, mx, sum);
    }
    double id_err = 0;
    for (int64_t i = 0; i < 784; i++)
        id_err = fmax(id_err, fabs(nb_tensor_get(y, i) - nb_tensor_get(x, i)));
    printf("  identity reproduces the input: max |difference| = %g\n", id_err);

    /* grid: the input, then each filtered image, each scaled to its own min..max */
    nb_tensor *parts[1 + N_KERNELS];
    parts[0] = x;
    nb_tensor *ys = nb_reshape(y, 4, (int64_t[]){N_KERNELS, 1, 28, 28});
    for (int k = 0; k < N_KERNELS; k++)
        parts[1 + k] = nb_slice(ys, 0, k, k + 1, 1);
    nb_tensor *grid = nb_concat(1 + N_KERNELS, parts, 0);
    char png[4096];
    snprintf(png, sizeof png, "%s_kernels.png", a->out);
    char caption[256] = "left to right: input", *end = caption + strlen(caption);
    for (int k = 0; k < N_KERNELS; k++)
        end += snprintf(end, sizeof caption - (size_t)(end - caption), ", %s", KERNELS[k].name);
    st = grid ? nb_png_write_grid(png, grid,
                                  &(nb_grid_opts){.cols = 4,
                                                  .scale = 4,
                                                  .padding = 4,
                                                  .per_image = true,
                                                  .title = "3x3 kernels on one image",
                                                  .row_labels = (const char *const[]){"1-4", "5-8"},
                                                  .n_row_labels = 2,
                                                  .caption = caption})
              : nb_last_status();
    for (int k = 0; k < N_KERNELS; k++)
        nb_tensor_free(parts[1 + k]);
    nb_tensor_free(ys);
    nb_tensor_free(grid);
    if (st != NB_OK) {
        fprintf(stderr, "conv_by_hand: %s\n", nb_last_error());
        rc = 1;
        goto done;
    }
    printf("wrote %s (input, identity, sharpen, box blur, Gaussian blur, Sobel x, Sobel y, "
           "emboss)\n",
           png);
done:
    nb_tensor_free(y);
    nb_tensor_free(w);
    nb_tensor_free(x);
    nb_tensor_free(x32);
    nb_dataset_deinit(&ds);
    return rc;
}

int main(int argc, char **argv)
{
    args a;
    bool stop;
    const int prc = parse(argc, argv, &a, &stop);
    if (stop)
        return prc;
    /* every op result of the exercises lives in one step, freed at the end */
    nb_step *step = nb_step_new();
    if (!step || nb_step_begin(step) != NB_OK)
        return 1;
    int rc = a.course ? 0 : exercises();
    int bad = rc ? 0 : notes_exercises(a.check);
    nb_step_end(step);
    nb_step_free(step);
    if (rc || bad < 0) {
        fprintf(stderr, "conv_by_hand: %s\n", nb_last_error());
        return 1;
    }
    if (a.check)
        printf("%s\n\n",
               bad ? "some values differ from the notes" : "all values agree with the notes");
    if (bad)
        return 1;
    return a.course ? 0 : filters(&a);
}
