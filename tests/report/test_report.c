/* tests/report/test_report.c — progress bar (report/progress.c), curves, plots and image grids
 * (report/plot.c). PNG files are read back with libpng and checked pixel by pixel. */
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/nbt.h"
#include "support/nbt_files.h"

/* A PNG read back: width, height, channels (1 or 3) and pixels (malloc'd by the test). */
typedef struct image {
    int w, h, ch;
    uint8_t *px;
} image;

static bool read_png(const char *path, image *img)
{
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&pi, path))
        return false;
    img->w = (int)pi.width;
    img->h = (int)pi.height;
    img->ch = (pi.format & PNG_FORMAT_FLAG_COLOR) ? 3 : 1;
    pi.format = img->ch == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    img->px = malloc(PNG_IMAGE_SIZE(pi));
    bool ok = png_image_finish_read(&pi, NULL, img->px, 0, NULL) != 0;
    png_image_free(&pi);
    return ok;
}

static const uint8_t *pixel(const image *img, int x, int y)
{
    return img->px + ((size_t)y * (size_t)img->w + (size_t)x) * (size_t)img->ch;
}

static void test_png_write_round_trips_through_libpng(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s.png", nbt_tmp_path("rt"));
    uint8_t rgb[7 * 5 * 3];
    for (int i = 0; i < 7 * 5 * 3; i++)
        rgb[i] = (uint8_t)(i * 37 + 11);
    assert_int_equal(nb_png_write(path, 7, 5, 3, rgb), NB_OK);
    image img;
    assert_true(read_png(path, &img));
    assert_int_equal(img.w, 7);
    assert_int_equal(img.h, 5);
    assert_int_equal(img.ch, 3);
    assert_memory_equal(img.px, rgb, sizeof rgb);
    free(img.px);
    assert_int_equal(nb_png_write(path, 7, 5, 2, rgb), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "2 channels");
    assert_int_equal(nb_png_write("/nonexistent/dir/x.png", 7, 5, 3, rgb), NB_ERR_IO);
    nbt_assert_error(NB_ERR_IO, "/nonexistent/dir/x.png");
    remove(path);
}

static void test_grid_places_scales_and_maps_images(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s.png", nbt_tmp_path("grid"));
    /* 5 gray 3x4 images, image i pixel (y, x) = (i * 12 + y * 4 + x) / 59 */
    int64_t shape[3] = {5, 3, 4};
    nb_tensor *t = nb_tensor_new(NB_F32, 3, shape);
    for (int i = 0; i < 60; i++)
        nb_tensor_set(t, i, i / 59.0);
    nb_grid_opts o = {.cols = 3, .scale = 2, .padding = 1, .background = 77};
    assert_int_equal(nb_png_write_grid(path, t, &o), NB_OK);
    image img;
    assert_true(read_png(path, &img));
    assert_int_equal(img.ch, 1);
    assert_int_equal(img.w, 3 * 8 + 4);
    assert_int_equal(img.h, 2 * 6 + 3);
    for (int i = 0; i < 5; i++)
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 4; x++) {
                int ox = 1 + (i % 3) * 9, oy = 1 + (i / 3) * 7;
                uint8_t want = (uint8_t)lround((i * 12 + y * 4 + x) / 59.0 * 255);
                for (int d = 0; d < 4; d++)
                    assert_int_equal(*pixel(&img, ox + 2 * x + d % 2, oy + 2 * y + d / 2), want);
            }
    assert_int_equal(*pixel(&img, 0, 0), 77);          /* padding */
    assert_int_equal(*pixel(&img, img.w - 2, 10), 77); /* the empty sixth cell */
    free(img.px);

    /* per-image range: each image's own min -> 0, max -> 255 */
    o = (nb_grid_opts){.per_image = true, .padding = -1};
    assert_int_equal(nb_png_write_grid(path, t, &o), NB_OK);
    assert_true(read_png(path, &img));
    assert_int_equal(img.w, 3 * 4);
    assert_int_equal(*pixel(&img, 4, 0), 0);   /* image 1, first pixel */
    assert_int_equal(*pixel(&img, 7, 2), 255); /* image 1, last pixel */
    free(img.px);

    /* flat [N, 16] -> 4x4 images; RGB [N, 3, H, W] -> a colour PNG */
    int64_t flat[2] = {2, 16}, chw[4] = {2, 3, 2, 2};
    nb_tensor *f = nb_tensor_full(NB_F64, 2, flat, 0.5);
    assert_int_equal(nb_png_write_grid(path, f, NULL), NB_OK);
    assert_true(read_png(path, &img));
    assert_int_equal(img.w, 2 * 4 + 3);
    assert_int_equal(*pixel(&img, 1, 1), 128);
    free(img.px);
    nb_tensor *c = nb_tensor_new(NB_F32, 4, chw);
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 4; k++)
            nb_tensor_set(c, (i * 3 + 1) * 4 + k, 1.0); /* pure green */
    assert_int_equal(nb_png_write_grid(path, c, NULL), NB_OK);
    assert_true(read_png(path, &img));
    assert_int_equal(img.ch, 3);
    const uint8_t *p = pixel(&img, 1, 1);
    assert_int_equal(p[0], 0);
    assert_int_equal(p[1], 255);
    assert_int_equal(p[2], 0);
    free(img.px);

    /* errors */
    int64_t bad[4] = {2, 2, 2, 2};
    nb_tensor *b = nb_tensor_new(NB_F32, 4, bad);
    assert_int_equal(nb_png_write_grid(path, b, NULL), NB_ERR_SHAPE);
    nbt_assert_error(NB_ERR_SHAPE, "images must be [N, H, W], [N, 1|3, H, W] or [N, D], got [2, "
                                   "2, 2, 2]");
    int64_t odd[2] = {2, 15};
    nb_tensor *od = nb_tensor_new(NB_F32, 2, odd);
    assert_int_equal(nb_png_write_grid(path, od, NULL), NB_ERR_SHAPE);
    nbt_assert_error(NB_ERR_SHAPE, "flat images of 15 values");
    nb_tensor *ids = nb_tensor_new(NB_I64, 3, shape);
    assert_int_equal(nb_png_write_grid(path, ids, NULL), NB_ERR_DTYPE);
    nbt_assert_error(NB_ERR_DTYPE, "got i64");
    nb_tensor *all[] = {t, f, c, b, od, ids};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        nb_tensor_free(all[i]);
    remove(path);
}

static bool is_colour(const uint8_t *p, int r, int g, int b)
{
    return p[0] == r && p[1] == g && p[2] == b;
}

/* Where does `sub` (gray) sit inside `img` (RGB, every channel equal to sub's value)? */
static bool find_subimage(const image *img, const image *sub, int *ox, int *oy)
{
    for (int y0 = 0; y0 + sub->h <= img->h; y0++)
        for (int x0 = 0; x0 + sub->w <= img->w; x0++) {
            bool same = true;
            for (int y = 0; y < sub->h && same; y++)
                for (int x = 0; x < sub->w && same; x++) {
                    const uint8_t *p = pixel(img, x0 + x, y0 + y);
                    uint8_t v = *pixel(sub, x, y);
                    same = p[0] == v && p[1] == v && p[2] == v;
                }
            if (same) {
                *ox = x0;
                *oy = y0;
                return true;
            }
        }
    return false;
}

/* Dark (text) pixels in the rectangle [x0, x1) x [y0, y1) of an RGB image. */
static int dark_pixels(const image *img, int x0, int y0, int x1, int y1)
{
    int n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            n += pixel(img, x, y)[0] < 100;
    return n;
}

static void test_grid_title_row_labels_and_caption(void **state)
{
    (void)state;
    char bare[512], annotated[512];
    snprintf(bare, sizeof bare, "%s.png", nbt_tmp_path("bare"));
    snprintf(annotated, sizeof annotated, "%s.png", nbt_tmp_path("annotated"));
    /* 6 images 4x4 in 2 rows of 3, values 0.5..1 so that no image pixel looks like text */
    int64_t shape[3] = {6, 4, 4};
    nb_tensor *t = nb_tensor_new(NB_F32, 3, shape);
    for (int i = 0; i < 96; i++)
        nb_tensor_set(t, i, 0.5 + 0.5 * (i % 7) / 6.0);
    const char *labels[2] = {"input", NULL};
    nb_grid_opts o = {.cols = 3, .scale = 3, .padding = 2, .background = 200};
    assert_int_equal(nb_png_write_grid(bare, t, &o), NB_OK);
    o.title = "Two rows";
    o.caption = "a caption under the grid";
    o.row_labels = labels;
    o.n_row_labels = 2;
    assert_int_equal(nb_png_write_grid(annotated, t, &o), NB_OK);
    image g, a;
    assert_true(read_png(bare, &g));
    assert_true(read_png(annotated, &a));
    assert_int_equal(g.ch, 1);
    assert_int_equal(a.ch, 3);
    int ox = -1, oy = -1;
    assert_true(find_subimage(&a, &g, &ox, &oy));                 /* the grid itself is unchanged */
    assert_true(dark_pixels(&a, 0, 0, a.w, oy) > 20);             /* the title above */
    assert_true(dark_pixels(&a, 0, oy + g.h, a.w, a.h) > 20);     /* the caption below */
    int row = 3 * 4, first = oy + 2, second = first + row + 2;    /* rows of cells */
    assert_true(dark_pixels(&a, 0, first, ox, first + row) > 10); /* "input" left of row 0 */
    assert_int_equal(dark_pixels(&a, 0, second, ox, second + row), 0); /* row 1: no label */
    /* the title is wider than the grid: the picture widens to hold it (2x glyphs of 6 px) */
    assert_true(a.w >= 8 * 12);
    free(g.px);
    free(a.px);

    /* a label for each of 3 rows, but the grid has 2 */
    const char *three[3] = {"a", "b", "c"};
    o.row_labels = three;
    o.n_row_labels = 3;
    assert_int_equal(nb_png_write_grid(annotated, t, &o), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "3 row labels for a grid of 2 rows");
    o.n_row_labels = 1;
    o.row_labels = NULL;
    assert_int_equal(nb_png_write_grid(annotated, t, &o), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "row_labels NULL");
    char longer[80];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = 0;
    const char *one[1] = {longer};
    o.row_labels = one;
    assert_int_equal(nb_png_write_grid(annotated, t, &o), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "row label 0 has 79 characters (at most 64)");
    nb_tensor_free(t);
    remove(bare);
    remove(annotated);
}

static void test_curves_write_csv_and_a_plot(void **state)
{
    (void)state;
    char csv[512], png[512];
    snprintf(csv, sizeof csv, "%s.csv", nbt_tmp_path("curves"));
    snprintf(png, sizeof png, "%s.png", nbt_tmp_path("curves"));
    nb_curves *c = nb_curves_new();
    for (int s = 0; s < 50; s++)
        assert_int_equal(nb_curves_add(c, "loss", s, 2.0 * exp(-s / 10.0)), NB_OK);
    for (int e = 1; e <= 5; e++)
        assert_int_equal(nb_curves_add(c, "accuracy", e * 10, 0.5 + e * 0.08), NB_OK);
    assert_int_equal(nb_curves_num_series(c), 2);
    assert_int_equal(nb_curves_num_points(c, "loss"), 50);
    assert_int_equal(nb_curves_num_points(c, "none"), 0);
    assert_float_equal(nb_curves_last(c, "accuracy"), 0.9, 1e-12);
    assert_int_equal(nb_curves_add(c, "a,b", 0, 0), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "series name 'a,b'");

    assert_int_equal(nb_curves_write_csv(c, csv), NB_OK);
    size_t size;
    unsigned char *text = nbt_read_all(csv, &size);
    assert_non_null(text);
    const char *head = "series,x,y\nloss,0,2\nloss,1,1.809674836\n";
    assert_memory_equal(text, head, strlen(head));
    const char *tail = "accuracy,50,0.9\n";
    assert_memory_equal(text + size - strlen(tail), tail, strlen(tail));
    int lines = 0;
    for (size_t i = 0; i < size; i++)
        lines += text[i] == '\n';
    assert_int_equal(lines, 1 + 50 + 5);
    nbt_free(text);

    nb_plot_opts o = {.width = 400, .height = 300, .title = "Loss", .ylabel = "value"};
    assert_int_equal(nb_curves_write_png(c, png, &o), NB_OK);
    image img;
    assert_true(read_png(png, &img));
    assert_int_equal(img.w, 400);
    assert_int_equal(img.h, 300);
    assert_int_equal(img.ch, 3);
    assert_true(is_colour(pixel(&img, 0, 0), 255, 255, 255));
    /* the loss line (first colour) falls from left to right; accuracy (second colour) exists */
    int first_x = -1, first_y = 0, last_x = -1, last_y = 0, orange = 0;
    for (int x = 80; x < 300; x++) /* left of the legend */
        for (int y = 40; y < 250; y++) {
            const uint8_t *p = pixel(&img, x, y);
            if (is_colour(p, 31, 119, 180)) {
                if (first_x < 0) {
                    first_x = x;
                    first_y = y;
                }
                last_x = x;
                last_y = y;
            }
            orange += is_colour(p, 255, 127, 14);
        }
    assert_true(first_x >= 0 && last_x > first_x + 100);
    assert_true(first_y < last_y - 100);
    assert_true(orange > 20);
    free(img.px);

    /* only the selected series is drawn */
    o.series = "loss";
    o.log_y = true;
    assert_int_equal(nb_curves_write_png(c, png, &o), NB_OK);
    assert_true(read_png(png, &img));
    orange = 0;
    for (int i = 0; i < img.w * img.h; i++)
        orange += is_colour(img.px + 3 * i, 255, 127, 14);
    assert_int_equal(orange, 0);
    free(img.px);
    o.series = "nothing";
    assert_int_equal(nb_curves_write_png(c, png, &o), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "no finite points to draw in nothing");
    nb_curves_free(c);
    remove(csv);
    remove(png);
}

/* A clock that advances half a second each time it is read. */
static double fake_clock(void *user)
{
    double *t = user;
    double now = *t;
    *t += 0.5;
    return now;
}

static char *read_stream(FILE *f)
{
    long n = ftell(f);
    rewind(f);
    char *s = calloc((size_t)n + 1, 1);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    return s;
}

static void test_curves_add_scalars_adds_one_point_per_series(void **state)
{
    (void)state;
    nb_curves *c = nb_curves_new();
    assert_non_null(c);
    const char *const names[3] = {"D loss", "G loss", "mean D(real)"};
    for (int e = 1; e <= 3; e++)
        assert_int_equal(nb_curves_add_scalars(c, e, 3, names, (const double[]){e, 2.0 * e, 0.5}),
                         NB_OK);
    assert_int_equal(nb_curves_num_series(c), 3);
    assert_int_equal(nb_curves_num_points(c, "G loss"), 3);
    assert_true(nb_curves_last(c, "G loss") == 6.0);
    assert_true(nb_curves_last(c, "mean D(real)") == 0.5);
    assert_int_equal(nb_curves_add_scalars(c, 4, 0, NULL, NULL), NB_OK); /* nothing */
    assert_int_equal(nb_curves_num_points(c, "D loss"), 3);
    assert_int_equal(nb_curves_add_scalars(c, 4, 3, names, NULL), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_curves_add_scalars: names or values is NULL");
    nb_clear_error();
    assert_int_equal(nb_curves_add_scalars(c, 4, -1, names, (const double[]){0}), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "n < 0");
    nb_clear_error();
    assert_int_equal(nb_curves_add_scalars(NULL, 4, 1, names, (const double[]){0}), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "c is NULL");
    nb_clear_error();
    /* the first bad name stops it; the points before it stay */
    const char *const bad[2] = {"D loss", "a,b"};
    assert_int_equal(nb_curves_add_scalars(c, 5, 2, bad, (const double[]){7, 8}), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "comma");
    assert_int_equal(nb_curves_num_points(c, "D loss"), 4);
    assert_int_equal(nb_curves_num_series(c), 3);
    nb_curves_free(c);
}

static void test_progress_plain_lines_show_rate_loss_and_eta(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    double t = 0;
    nb_progress_opts o = {
        .stream = f, .mode = NB_PROGRESS_PLAIN, .clock = fake_clock, .clock_user = &t};
    nb_progress *p = nb_progress_new("train", 20, &o);
    for (int i = 1; i <= 20; i++)
        nb_progress_advance(p, 10, i);
    assert_float_equal(nb_progress_mean_loss(p), 10.5, 1e-12);
    nb_progress_finish(p);
    nb_progress_free(p);
    char *s = read_stream(f);
    /* step 2: 1 s elapsed, 20 items, mean loss of steps 1-2, 18 steps left at 0.5 s each */
    const char *first = "train  2/20  10%  loss 1.5  20 items/s  1.0s  ETA 9.0s\n";
    assert_memory_equal(s, first, strlen(first));
    assert_non_null(strstr(s, "train  4/20  20%  loss 3.5  20 items/s  2.0s  ETA 8.0s\n"));
    const char *last = "train  20/20 100%  mean loss 10.5  19 items/s  10.5s\n";
    assert_non_null(strstr(s, last));
    int lines = 0;
    for (char *q = s; *q; q++)
        lines += *q == '\n';
    assert_int_equal(lines, 9 + 1); /* every 2 steps before the end, then the final line */
    assert_null(strchr(s, '\r'));
    free(s);
    fclose(f);
}

static void test_progress_redraws_in_place_on_a_terminal(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    double t = 0;
    nb_progress_opts o = {
        .stream = f, .mode = NB_PROGRESS_TTY, .width = 90, .clock = fake_clock, .clock_user = &t};
    nb_progress *p = nb_progress_new("epoch 1", 8, &o);
    for (int i = 1; i <= 8; i++) {
        if (i == 5)
            nb_progress_note(p, "val 0.9");
        nb_progress_advance(p, 4, 1.0);
    }
    nb_progress_finish(p);
    nb_progress_free(p);
    char *s = read_stream(f);
    /* one "\r"-prefixed redraw per step (each 0.5 s apart), the final one, one newline */
    int cr = 0, nl = 0;
    for (char *q = s; *q; q++) {
        cr += *q == '\r';
        nl += *q == '\n';
    }
    assert_int_equal(cr, 8 + 1);
    assert_int_equal(nl, 1);
    assert_non_null(strstr(s, "\repoch 1 ["));
    assert_non_null(strstr(s, "] 4/8  50%"));
    assert_non_null(strstr(s, "val 0.9"));
    for (char *q = strchr(s, '\r'); q; q = strchr(q + 1, '\r')) {
        char *end = strpbrk(q + 1, "\r\n");
        assert_true(end - q - 1 <= 89); /* fits the width */
    }
    free(s);
    fclose(f);

    /* quiet prints nothing */
    f = tmpfile();
    p = nb_progress_new("x", 3, &(nb_progress_opts){.stream = f, .mode = NB_PROGRESS_QUIET});
    nb_progress_advance(p, 1, 1);
    nb_progress_finish(p);
    nb_progress_free(p);
    assert_int_equal(ftell(f), 0);
    fclose(f);

    char buf[32];
    assert_string_equal(nb_format_duration(5.3, buf, sizeof buf), "5.3s");
    assert_string_equal(nb_format_duration(125, buf, sizeof buf), "2m05s");
    assert_string_equal(nb_format_duration(7380, buf, sizeof buf), "2h03m");
    assert_string_equal(nb_format_duration(NAN, buf, sizeof buf), "?");
}

static int clear_error(void **state)
{
    (void)state;
    nb_clear_error();
    return 0;
}

static void test_curves_save_writes_the_csv_and_the_plot(void **state)
{
    (void)state;
    char prefix[512], csv[520], png[520];
    snprintf(prefix, sizeof prefix, "%s", nbt_tmp_path("saved"));
    snprintf(csv, sizeof csv, "%s.csv", prefix);
    snprintf(png, sizeof png, "%s.png", prefix);
    nb_curves *c = nb_curves_new();
    for (int e = 1; e <= 3; e++)
        assert_int_equal(nb_curves_add(c, "loss", e, 1.0 / e), NB_OK);
    assert_int_equal(nb_curves_save(c, prefix, &(nb_plot_opts){.width = 320, .height = 200}),
                     NB_OK);
    size_t size;
    unsigned char *text = nbt_read_all(csv, &size);
    assert_non_null(text);
    const char *want = "series,x,y\nloss,1,1\nloss,2,0.5\n";
    assert_memory_equal(text, want, strlen(want));
    nbt_free(text);
    image img;
    assert_true(read_png(png, &img));
    assert_int_equal(img.w, 320);
    free(img.px);
    remove(csv), remove(png);
    /* a CSV that cannot be written: no PNG either */
    char bad[600];
    snprintf(bad, sizeof bad, "%s/no/such/dir/curves", prefix);
    assert_int_equal(nb_curves_save(c, bad, NULL), NB_ERR_IO);
    nb_clear_error();
    assert_int_equal(nb_curves_save(c, NULL, NULL), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "curves or prefix is NULL");
    nb_curves_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_png_write_round_trips_through_libpng, clear_error),
        cmocka_unit_test_setup(test_grid_places_scales_and_maps_images, clear_error),
        cmocka_unit_test_setup(test_grid_title_row_labels_and_caption, clear_error),
        cmocka_unit_test_setup(test_curves_write_csv_and_a_plot, clear_error),
        cmocka_unit_test_setup(test_curves_save_writes_the_csv_and_the_plot, clear_error),
        cmocka_unit_test_setup(test_curves_add_scalars_adds_one_point_per_series, clear_error),
        cmocka_unit_test_setup(test_progress_plain_lines_show_rate_loss_and_eta, clear_error),
        cmocka_unit_test_setup(test_progress_redraws_in_place_on_a_terminal, clear_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
