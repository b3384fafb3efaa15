/* report/plot.c — pictures: PNG writing (libpng), line plots of logged curves drawn into an RGB
 * buffer with a built-in 5x7 bitmap font, CSV of the curves, and grids of images. */
#include "io/file_util.h"
#include "nabla/report.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

/* ---- PNG ---- */

/* libpng reports errors by longjmp; everything touched after setjmp is volatile or unchanged. */
static nb_status png_to_file(const char *fn, const char *path, int width, int height, int channels,
                             const uint8_t *pixels)
{
    nbi_atomic_file af;
    nb_status st = nbi_atomic_open(&af, fn, path);
    if (st != NB_OK)
        return st;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        nbi_atomic_abort(&af);
        return nb_set_error(NB_ERR_NOMEM, "%s: out of memory encoding %s", fn, path);
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        nbi_atomic_abort(&af);
        return nb_set_error(NB_ERR_IO, "%s: cannot write PNG %s", fn, path);
    }
    png_init_io(png, af.fp);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
                 channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    size_t stride = (size_t)width * (size_t)channels;
    for (int r = 0; r < height; r++)
        png_write_row(png, (png_const_bytep)(pixels + (size_t)r * stride));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (ferror(af.fp))
        af.failed = true;
    return nbi_atomic_commit(&af);
}

nb_status nb_png_write(const char *path, int width, int height, int channels, const uint8_t *pixels)
{
    const char *fn = "nb_png_write";
    if (!path || !pixels)
        return nb_set_error(NB_ERR_VALUE, "%s: %s is NULL", fn, path ? "pixels" : "path");
    if (width < 1 || height < 1 || width > 1 << 16 || height > 1 << 16)
        return nb_set_error(NB_ERR_VALUE, "%s: size %dx%d out of range [1, 65536]", fn, width,
                            height);
    if (channels != 1 && channels != 3)
        return nb_set_error(NB_ERR_VALUE, "%s: %d channels (1 = gray or 3 = RGB)", fn, channels);
    return png_to_file(fn, path, width, height, channels, pixels);
}

/* ---- canvas and font ---- */
typedef struct canvas {
    int w, h;
    uint8_t *px; /* RGB */
} canvas;

typedef struct rgb {
    uint8_t r, g, b;
} rgb;

static void put(canvas *c, int x, int y, rgb col)
{
    if (x < 0 || y < 0 || x >= c->w || y >= c->h)
        return;
    uint8_t *p = c->px + ((size_t)y * (size_t)c->w + (size_t)x) * 3;
    p[0] = col.r;
    p[1] = col.g;
    p[2] = col.b;
}

static void fill(canvas *c, int x0, int y0, int x1, int y1, rgb col)
{
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            put(c, x, y, col);
}

/* Line from (x0, y0) to (x1, y1), `thick` pixels wide (Bresenham with a square pen). */
static void line(canvas *c, int x0, int y0, int x1, int y1, int thick, rgb col)
{
    int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int err = dx + dy, lo = -(thick - 1) / 2, hi = thick / 2;
    for (int guard = 0; guard < 1 << 20; guard++) {
        for (int a = lo; a <= hi; a++)
            for (int b = lo; b <= hi; b++)
                put(c, x0 + a, y0 + b, col);
        if (x0 == x1 && y0 == y1)
            break;
        int e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            err += dx;
            y0 += sy;
        }
    }
}

/* 5x7 glyphs for ASCII 32..126: one byte per row, bit 4 is the leftmost pixel. */
static const uint8_t FONT[95][7] = {
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, /* space */
    {0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04}, /* ! */
    {0x0a, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00}, /* " */
    {0x0a, 0x1f, 0x0a, 0x0a, 0x0a, 0x1f, 0x0a}, /* # */
    {0x04, 0x0f, 0x14, 0x0e, 0x05, 0x1e, 0x04}, /* $ */
    {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}, /* % */
    {0x0c, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0d}, /* & */
    {0x04, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00}, /* ' */
    {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}, /* ( */
    {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}, /* ) */
    {0x00, 0x04, 0x15, 0x0e, 0x15, 0x04, 0x00}, /* star */
    {0x00, 0x04, 0x04, 0x1f, 0x04, 0x04, 0x00}, /* + */
    {0x00, 0x00, 0x00, 0x00, 0x06, 0x04, 0x08}, /* , */
    {0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00}, /* - */
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c}, /* . */
    {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00}, /* slash */
    {0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e}, /* 0 */
    {0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e}, /* 1 */
    {0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f}, /* 2 */
    {0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e}, /* 3 */
    {0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02}, /* 4 */
    {0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e}, /* 5 */
    {0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e}, /* 6 */
    {0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}, /* 7 */
    {0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e}, /* 8 */
    {0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c}, /* 9 */
    {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00}, /* : */
    {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x04, 0x08}, /* ; */
    {0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02}, /* < */
    {0x00, 0x00, 0x1f, 0x00, 0x1f, 0x00, 0x00}, /* = */
    {0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08}, /* > */
    {0x0e, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04}, /* ? */
    {0x0e, 0x11, 0x01, 0x0d, 0x15, 0x15, 0x0e}, /* @ */
    {0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11}, /* A */
    {0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e}, /* B */
    {0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e}, /* C */
    {0x1c, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1c}, /* D */
    {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f}, /* E */
    {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10}, /* F */
    {0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f}, /* G */
    {0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11}, /* H */
    {0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e}, /* I */
    {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c}, /* J */
    {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}, /* K */
    {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f}, /* L */
    {0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11}, /* M */
    {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}, /* N */
    {0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e}, /* O */
    {0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10}, /* P */
    {0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d}, /* Q */
    {0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11}, /* R */
    {0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e}, /* S */
    {0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}, /* T */
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e}, /* U */
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04}, /* V */
    {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a}, /* W */
    {0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11}, /* X */
    {0x11, 0x11, 0x0a, 0x04, 0x04, 0x04, 0x04}, /* Y */
    {0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f}, /* Z */
    {0x0e, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0e}, /* [ */
    {0x00, 0x10, 0x08, 0x04, 0x02, 0x01, 0x00}, /* backslash */
    {0x0e, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0e}, /* ] */
    {0x04, 0x0a, 0x11, 0x00, 0x00, 0x00, 0x00}, /* ^ */
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f}, /* _ */
    {0x08, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00}, /* ` */
    {0x00, 0x00, 0x0e, 0x01, 0x0f, 0x11, 0x0f}, /* a */
    {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1e}, /* b */
    {0x00, 0x00, 0x0e, 0x10, 0x10, 0x11, 0x0e}, /* c */
    {0x01, 0x01, 0x0d, 0x13, 0x11, 0x11, 0x0f}, /* d */
    {0x00, 0x00, 0x0e, 0x11, 0x1f, 0x10, 0x0e}, /* e */
    {0x06, 0x09, 0x08, 0x1c, 0x08, 0x08, 0x08}, /* f */
    {0x00, 0x0f, 0x11, 0x11, 0x0f, 0x01, 0x0e}, /* g */
    {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11}, /* h */
    {0x04, 0x00, 0x0c, 0x04, 0x04, 0x04, 0x0e}, /* i */
    {0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0c}, /* j */
    {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12}, /* k */
    {0x0c, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e}, /* l */
    {0x00, 0x00, 0x1a, 0x15, 0x15, 0x11, 0x11}, /* m */
    {0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11}, /* n */
    {0x00, 0x00, 0x0e, 0x11, 0x11, 0x11, 0x0e}, /* o */
    {0x00, 0x00, 0x1e, 0x11, 0x1e, 0x10, 0x10}, /* p */
    {0x00, 0x00, 0x0d, 0x13, 0x0f, 0x01, 0x01}, /* q */
    {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10}, /* r */
    {0x00, 0x00, 0x0e, 0x10, 0x0e, 0x01, 0x1e}, /* s */
    {0x08, 0x08, 0x1c, 0x08, 0x08, 0x09, 0x06}, /* t */
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0d}, /* u */
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x0a, 0x04}, /* v */
    {0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0a}, /* w */
    {0x00, 0x00, 0x11, 0x0a, 0x04, 0x0a, 0x11}, /* x */
    {0x00, 0x00, 0x11, 0x11, 0x0f, 0x01, 0x0e}, /* y */
    {0x00, 0x00, 0x1f, 0x02, 0x04, 0x08, 0x1f}, /* z */
    {0x02, 0x04, 0x04, 0x08, 0x04, 0x04, 0x02}, /* { */
    {0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}, /* | */
    {0x08, 0x04, 0x04, 0x02, 0x04, 0x04, 0x08}, /* } */
    {0x00, 0x00, 0x08, 0x15, 0x02, 0x00, 0x00}, /* ~ */
};

enum { GLYPH_W = 6, GLYPH_H = 8 }; /* advance, with one pixel of spacing */

static int text_width(const char *s, int scale)
{
    return (int)strlen(s) * GLYPH_W * scale;
}

/* Text with its top-left corner at (x, y); vertical text runs bottom to top. */
static void text(canvas *c, int x, int y, const char *s, int scale, rgb col, bool vertical)
{
    for (int i = 0; s[i]; i++) {
        int ch = (unsigned char)s[i];
        const uint8_t *g = FONT[ch >= 32 && ch < 127 ? ch - 32 : '?' - 32];
        for (int r = 0; r < 7; r++)
            for (int k = 0; k < 5; k++) {
                if (!(g[r] >> (4 - k) & 1))
                    continue;
                int gx = i * GLYPH_W + k, gy = r;
                for (int a = 0; a < scale; a++)
                    for (int b = 0; b < scale; b++) {
                        if (vertical)
                            put(c, x + gy * scale + b, y - gx * scale - a, col);
                        else
                            put(c, x + gx * scale + a, y + gy * scale + b, col);
                    }
            }
    }
}

/* ---- curves ---- */
enum { MAX_SERIES = 32, NAME_LEN = 64 };

typedef struct series {
    char name[NAME_LEN];
    double *x, *y;
    int64_t n, cap;
} series;

struct nb_curves {
    series s[MAX_SERIES];
    int n;
};

nb_curves *nb_curves_new(void)
{
    nb_curves *c = nb_calloc(1, sizeof *c);
    if (!c)
        nb_set_error(NB_ERR_NOMEM, "nb_curves_new: out of memory");
    return c;
}

void nb_curves_free(nb_curves *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->n; i++) {
        nb_free(c->s[i].x);
        nb_free(c->s[i].y);
    }
    nb_free(c);
}

static series *find_series(const nb_curves *c, const char *name)
{
    for (int i = 0; c && name && i < c->n; i++)
        if (!strcmp(c->s[i].name, name))
            return (series *)(uintptr_t)&c->s[i];
    return NULL;
}

nb_status nb_curves_add(nb_curves *c, const char *name, double x, double y)
{
    const char *fn = "nb_curves_add";
    if (!c || !name || !*name)
        return nb_set_error(NB_ERR_VALUE, "%s: %s", fn, c ? "empty or NULL name" : "c is NULL");
    if (strlen(name) >= NAME_LEN || strchr(name, ',') || strchr(name, '\n'))
        return nb_set_error(NB_ERR_VALUE,
                            "%s: series name '%.80s' is too long or has a comma or newline", fn,
                            name);
    series *s = find_series(c, name);
    if (!s) {
        if (c->n == MAX_SERIES)
            return nb_set_error(NB_ERR_VALUE, "%s: at most %d series (adding '%s')", fn, MAX_SERIES,
                                name);
        s = &c->s[c->n++];
        memset(s, 0, sizeof *s);
        snprintf(s->name, sizeof s->name, "%s", name);
    }
    if (s->n == s->cap) {
        int64_t cap = s->cap ? s->cap * 2 : 64;
        double *nx = nb_realloc(s->x, (size_t)cap * sizeof *nx);
        if (nx)
            s->x = nx;
        double *ny = nx ? nb_realloc(s->y, (size_t)cap * sizeof *ny) : NULL;
        if (ny)
            s->y = ny;
        if (!nx || !ny)
            return nb_set_error(NB_ERR_NOMEM, "%s: out of memory for series '%s'", fn, name);
        s->cap = cap;
    }
    s->x[s->n] = x;
    s->y[s->n] = y;
    s->n++;
    return NB_OK;
}

nb_status nb_curves_add_scalars(nb_curves *c, double x, int n, const char *const *names,
                                const double *values)
{
    if (!c || n < 0 || (n > 0 && (!names || !values)))
        return nb_set_error(NB_ERR_VALUE, "nb_curves_add_scalars: %s",
                            !c      ? "c is NULL"
                            : n < 0 ? "n < 0"
                                    : "names or values is NULL");
    for (int i = 0; i < n; i++) {
        const nb_status st = nb_curves_add(c, names[i], x, values[i]);
        if (st != NB_OK)
            return st;
    }
    return NB_OK;
}

int nb_curves_num_series(const nb_curves *c)
{
    return c ? c->n : 0;
}

int64_t nb_curves_num_points(const nb_curves *c, const char *name)
{
    series *s = find_series(c, name);
    return s ? s->n : 0;
}

double nb_curves_last(const nb_curves *c, const char *name)
{
    series *s = find_series(c, name);
    return s && s->n ? s->y[s->n - 1] : NAN;
}

nb_status nb_curves_write_csv(const nb_curves *c, const char *path)
{
    const char *fn = "nb_curves_write_csv";
    if (!c)
        return nb_set_error(NB_ERR_VALUE, "%s: curves is NULL", fn);
    nbi_atomic_file af;
    nb_status st = nbi_atomic_open(&af, fn, path);
    if (st != NB_OK)
        return st;
    fputs("series,x,y\n", af.fp);
    for (int i = 0; i < c->n; i++)
        for (int64_t k = 0; k < c->s[i].n; k++)
            fprintf(af.fp, "%s,%.10g,%.10g\n", c->s[i].name, c->s[i].x[k], c->s[i].y[k]);
    if (ferror(af.fp)) {
        nbi_atomic_abort(&af);
        return nb_set_error(NB_ERR_IO, "%s: cannot write %s", fn, path);
    }
    return nbi_atomic_commit(&af);
}

/* Is series `name` in the comma-separated list (NULL = all)? */
static bool selected(const char *list, const char *name)
{
    if (!list)
        return true;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && !strncmp(p, name, n))
            return true;
        if (!end)
            break;
        p = end + 1;
    }
    return false;
}

/* Tick step: 1, 2 or 5 times a power of ten giving about `want` intervals over `range`. */
static double nice_step(double range, int want)
{
    double raw = range / want, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

static void tick_label(double v, double step, char *buf, size_t size)
{
    if (fabs(v) < step * 1e-9)
        v = 0;
    snprintf(buf, size, "%.4g", v);
}

static const rgb PALETTE[8] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                               {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {23, 190, 207}};

nb_status nb_curves_write_png(const nb_curves *c, const char *path, const nb_plot_opts *opts)
{
    const char *fn = "nb_curves_write_png";
    if (!c || !path)
        return nb_set_error(NB_ERR_VALUE, "%s: %s is NULL", fn, c ? "path" : "curves");
    nb_plot_opts o = opts ? *opts : (nb_plot_opts){0};
    int W = o.width ? o.width : 800, H = o.height ? o.height : 500;
    if (W < 200 || H < 150 || W > 8192 || H > 8192)
        return nb_set_error(NB_ERR_VALUE, "%s: plot size %dx%d out of range [200x150, 8192^2]", fn,
                            W, H);
    /* data range over the drawn, finite points */
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    int drawn = 0;
    for (int i = 0; i < c->n; i++) {
        if (!selected(o.series, c->s[i].name))
            continue;
        drawn++;
        for (int64_t k = 0; k < c->s[i].n; k++) {
            double x = c->s[i].x[k], y = c->s[i].y[k];
            if (o.log_y)
                y = y > 0 ? log10(y) : NAN;
            if (!isfinite(x) || !isfinite(y))
                continue;
            x0 = fmin(x0, x);
            x1 = fmax(x1, x);
            y0 = fmin(y0, y);
            y1 = fmax(y1, y);
        }
    }
    if (!drawn || !(x0 <= x1))
        return nb_set_error(NB_ERR_VALUE, "%s: no finite points to draw in %s", fn,
                            o.series ? o.series : "any series");
    if (x1 - x0 < 1e-12 * fmax(1, fabs(x0))) {
        x0 -= 0.5;
        x1 += 0.5;
    }
    if (y1 - y0 < 1e-12 * fmax(1, fabs(y0))) {
        y0 -= 0.5;
        y1 += 0.5;
    }
    double ys = o.log_y ? 1 : nice_step(y1 - y0, 5), xs = nice_step(x1 - x0, 6);
    if (o.log_y && y1 - y0 > 10)
        ys = ceil((y1 - y0) / 8);
    y0 = floor(y0 / ys) * ys;
    y1 = ceil(y1 / ys) * ys;

    canvas cv = {W, H, nb_malloc((size_t)W * (size_t)H * 3)};
    if (!cv.px)
        return nb_set_error(NB_ERR_NOMEM, "%s: out of memory for a %dx%d plot", fn, W, H);
    memset(cv.px, 255, (size_t)W * (size_t)H * 3);
    const rgb black = {0, 0, 0}, grid = {225, 225, 225}, gray = {90, 90, 90};
    int L = 78, R = W - 20, T = o.title ? 36 : 16, B = H - 46; /* plot area */
    double sx = (R - L) / (x1 - x0), sy = (B - T) / (y1 - y0);
#define PX(v) (L + (int)lround(((v)-x0) * sx))
#define PY(v) (B - (int)lround(((v)-y0) * sy))
    char buf[64];
    /* grid, ticks and their labels */
    for (double v = ceil(x0 / xs) * xs; v <= x1 + xs * 1e-9; v += xs) {
        int x = PX(v);
        line(&cv, x, T, x, B, 1, grid);
        line(&cv, x, B, x, B + 4, 1, black);
        tick_label(v, xs, buf, sizeof buf);
        text(&cv, x - text_width(buf, 1) / 2, B + 8, buf, 1, black, false);
    }
    for (double v = y0; v <= y1 + ys * 1e-9; v += ys) {
        int y = PY(v);
        line(&cv, L, y, R, y, 1, grid);
        line(&cv, L - 4, y, L, y, 1, black);
        if (o.log_y)
            snprintf(buf, sizeof buf, "%.3g", pow(10, v));
        else
            tick_label(v, ys, buf, sizeof buf);
        text(&cv, L - 8 - text_width(buf, 1), y - 3, buf, 1, black, false);
    }
    line(&cv, L, T, L, B, 1, black);
    line(&cv, L, B, R, B, 1, black);
    /* labels */
    if (o.title)
        text(&cv, (L + R) / 2 - text_width(o.title, 2) / 2, 10, o.title, 2, black, false);
    const char *xl = o.xlabel ? o.xlabel : "step";
    text(&cv, (L + R) / 2 - text_width(xl, 1) / 2, H - 16, xl, 1, gray, false);
    if (o.ylabel || o.log_y) {
        char yl[96];
        snprintf(yl, sizeof yl, "%s%s", o.ylabel ? o.ylabel : "", o.log_y ? " (log)" : "");
        text(&cv, 8, (T + B) / 2 + text_width(yl, 1) / 2, yl, 1, gray, true);
    }
    /* series */
    int legend = 0;
    for (int i = 0; i < c->n; i++) {
        const series *s = &c->s[i];
        if (!selected(o.series, s->name))
            continue;
        rgb col = PALETTE[legend % 8];
        bool have = false;
        int px = 0, py = 0;
        for (int64_t k = 0; k < s->n; k++) {
            double x = s->x[k], y = o.log_y ? (s->y[k] > 0 ? log10(s->y[k]) : NAN) : s->y[k];
            if (!isfinite(x) || !isfinite(y)) {
                have = false; /* a gap */
                continue;
            }
            int qx = PX(x), qy = PY(y);
            if (have)
                line(&cv, px, py, qx, qy, 2, col);
            else if (s->n == 1 || k + 1 == s->n || !isfinite(s->y[k + 1]))
                fill(&cv, qx - 2, qy - 2, qx + 3, qy + 3, col); /* a lone point */
            px = qx;
            py = qy;
            have = true;
        }
        /* legend, top right inside the plot */
        int lx = R - 10 - text_width(s->name, 1) - 26, ly = T + 8 + legend * 14;
        fill(&cv, lx - 4, ly - 3, R - 6, ly + 11, (rgb){255, 255, 255});
        line(&cv, lx, ly + 3, lx + 18, ly + 3, 2, col);
        text(&cv, lx + 24, ly, s->name, 1, black, false);
        legend++;
    }
#undef PX
#undef PY
    nb_status st = png_to_file(fn, path, W, H, 3, cv.px);
    nb_free(cv.px);
    return st;
}

nb_status nb_curves_save(const nb_curves *c, const char *prefix, const nb_plot_opts *opts)
{
    char path[4100];
    if (!c || !prefix || strlen(prefix) > 4000)
        return nb_set_error(NB_ERR_VALUE, "nb_curves_save: %s",
                            !c || !prefix ? "curves or prefix is NULL" : "the prefix is too long");
    snprintf(path, sizeof path, "%s.csv", prefix);
    nb_status st = nb_curves_write_csv(c, path);
    snprintf(path, sizeof path, "%s.png", prefix);
    return st == NB_OK ? nb_curves_write_png(c, path, opts) : st;
}

/* ---- image grids ---- */
enum { GRID_LABEL_MAX = 64, GRID_TEXT_MAX = 256 };

static bool grid_annotated(const nb_grid_opts *o)
{
    return o->title || o->caption || o->n_row_labels > 0;
}

static nb_status grid_check_annotations(const char *fn, const nb_grid_opts *o, int64_t rows)
{
    if (o->n_row_labels < 0 || o->n_row_labels > rows || (o->n_row_labels && !o->row_labels))
        return nb_set_error(NB_ERR_VALUE,
                            "%s: %d row labels for a grid of %" PRId64 " rows (row_labels %s)", fn,
                            o->n_row_labels, rows, o->row_labels ? "set" : "NULL");
    for (int r = 0; r < o->n_row_labels; r++)
        if (o->row_labels[r] && strlen(o->row_labels[r]) > GRID_LABEL_MAX)
            return nb_set_error(NB_ERR_VALUE, "%s: row label %d has %zu characters (at most %d)",
                                fn, r, strlen(o->row_labels[r]), GRID_LABEL_MAX);
    const char *texts[2] = {o->title, o->caption}, *names[2] = {"title", "caption"};
    for (int i = 0; i < 2; i++)
        if (texts[i] && strlen(texts[i]) > GRID_TEXT_MAX)
            return nb_set_error(NB_ERR_VALUE, "%s: %s has %zu characters (at most %d)", fn,
                                names[i], strlen(texts[i]), GRID_TEXT_MAX);
    return NB_OK;
}

/* The grid (W x H, ch channels) on a white RGB frame with the title above, the row labels on
 * the left (row r centred on its images: pad + r * (cell + pad)) and the caption below. */
static nb_status grid_write_annotated(const char *fn, const char *path, const nb_grid_opts *o,
                                      int64_t W, int64_t H, int64_t ch, const uint8_t *px,
                                      int64_t cell, int pad)
{
    int label_w = 0;
    for (int r = 0; r < o->n_row_labels; r++)
        if (o->row_labels[r] && text_width(o->row_labels[r], 1) > label_w)
            label_w = text_width(o->row_labels[r], 1);
    int margin = 6, gx = margin + (label_w ? label_w + 6 : 0);
    int top = o->title ? margin + 2 * GLYPH_H + 6 : margin;
    int bottom = o->caption ? GLYPH_H + 2 * margin : margin;
    int64_t CW = gx + W + margin, CH = top + H + bottom;
    if (o->title && text_width(o->title, 2) + 2 * margin > CW)
        CW = text_width(o->title, 2) + 2 * margin;
    if (o->caption && text_width(o->caption, 1) + 2 * margin > CW)
        CW = text_width(o->caption, 1) + 2 * margin;
    if (CW > 1 << 16 || CH > 1 << 16)
        return nb_set_error(NB_ERR_VALUE,
                            "%s: the annotated grid would be %" PRId64 "x%" PRId64
                            " pixels (at most 65536 a side)",
                            fn, CW, CH);
    gx += (int)((CW - gx - margin - W) / 2); /* centre the grid under a wide title */
    canvas cv = {(int)CW, (int)CH, nb_malloc((size_t)(CW * CH * 3))};
    if (!cv.px)
        return nb_set_error(NB_ERR_NOMEM, "%s: out of memory for a %" PRId64 "x%" PRId64 " grid",
                            fn, CW, CH);
    memset(cv.px, 255, (size_t)(CW * CH * 3));
    for (int64_t y = 0; y < H; y++)
        for (int64_t x = 0; x < W; x++) {
            const uint8_t *s = px + (y * W + x) * ch;
            uint8_t *d = cv.px + ((top + y) * CW + gx + x) * 3;
            for (int k = 0; k < 3; k++)
                d[k] = s[ch == 3 ? k : 0];
        }
    const rgb black = {0, 0, 0}, gray = {60, 60, 60};
    if (o->title)
        text(&cv, (int)(CW - text_width(o->title, 2)) / 2, margin, o->title, 2, black, false);
    for (int r = 0; r < o->n_row_labels; r++)
        if (o->row_labels[r]) {
            int y = top + pad + (int)(r * (cell + pad) + cell / 2) - GLYPH_H / 2;
            text(&cv, gx - 6 - text_width(o->row_labels[r], 1), y, o->row_labels[r], 1, gray,
                 false);
        }
    if (o->caption)
        text(&cv, (int)(CW - text_width(o->caption, 1)) / 2, top + (int)H + margin, o->caption, 1,
             gray, false);
    nb_status st = png_to_file(fn, path, (int)CW, (int)CH, 3, cv.px);
    nb_free(cv.px);
    return st;
}

nb_status nb_png_write_grid(const char *path, const nb_tensor *images, const nb_grid_opts *opts)
{
    const char *fn = "nb_png_write_grid";
    if (!images || !path)
        return nb_set_error(NB_ERR_VALUE, "%s: %s is NULL", fn, images ? "path" : "images");
    nb_grid_opts o = opts ? *opts : (nb_grid_opts){0};
    nb_dtype dt = nb_tensor_dtype(images);
    if (dt != NB_F32 && dt != NB_F64)
        return nb_set_error(NB_ERR_DTYPE, "%s: images must be f32 or f64, got %s", fn,
                            nb_dtype_name(dt));
    int nd = nb_tensor_ndim(images);
    const int64_t *sh = nb_tensor_shape(images);
    int64_t n = nd > 0 ? sh[0] : 0, h = 0, w = 0, ch = 1;
    if (nd == 3) {
        h = sh[1];
        w = sh[2];
    } else if (nd == 4 && (sh[1] == 1 || sh[1] == 3)) {
        ch = sh[1];
        h = sh[2];
        w = sh[3];
    } else if (nd == 2) {
        h = o.height;
        w = o.width;
        if (!h && !w) {
            h = w = (int64_t)llround(sqrt((double)sh[1]));
        } else if (!h && w > 0) {
            h = sh[1] / w;
        } else if (!w && h > 0) {
            w = sh[1] / h;
        }
        if (h * w != sh[1])
            return nb_set_error(NB_ERR_SHAPE,
                                "%s: flat images of %" PRId64
                                " values need height and width (opts) that multiply to it",
                                fn, sh[1]);
    } else {
        char b[128];
        return nb_set_error(NB_ERR_SHAPE,
                            "%s: images must be [N, H, W], [N, 1|3, H, W] or [N, D], got %s", fn,
                            nb_tensor_shape_str(images, b, sizeof b));
    }
    if (n < 1 || h < 1 || w < 1)
        return nb_set_error(NB_ERR_SHAPE, "%s: no images to draw", fn);
    int scale = o.scale > 0 ? o.scale : 1,
        pad = o.padding == 0 ? 1 : (o.padding < 0 ? 0 : o.padding);
    int64_t cols = o.cols > 0 ? o.cols : (int64_t)ceil(sqrt((double)n));
    if (cols > n)
        cols = n;
    int64_t rows = (n + cols - 1) / cols;
    int64_t cw = w * scale, chh = h * scale;
    int64_t W = cols * cw + (cols + 1) * pad, H = rows * chh + (rows + 1) * pad;
    if (W > 1 << 16 || H > 1 << 16)
        return nb_set_error(NB_ERR_VALUE,
                            "%s: the grid would be %" PRId64 "x%" PRId64
                            " pixels (at most 65536 a side)",
                            fn, W, H);
    nb_status st = grid_check_annotations(fn, &o, rows);
    if (st != NB_OK)
        return st;
    double lo = o.lo, hi = o.hi;
    if (lo == hi) {
        lo = 0;
        hi = 1;
    }
    uint8_t *px = nb_malloc((size_t)(W * H * ch));
    if (!px)
        return nb_set_error(NB_ERR_NOMEM, "%s: out of memory for a %" PRId64 "x%" PRId64 " grid",
                            fn, W, H);
    memset(px, o.background, (size_t)(W * H * ch));
    int64_t per = ch * h * w;
    for (int64_t i = 0; i < n; i++) {
        double a = lo, b = hi;
        if (o.per_image) {
            a = INFINITY;
            b = -INFINITY;
            for (int64_t k = 0; k < per; k++) {
                double v = nb_tensor_get(images, i * per + k);
                if (isfinite(v)) {
                    a = fmin(a, v);
                    b = fmax(b, v);
                }
            }
            if (!(a < b)) {
                a = isfinite(a) ? a - 0.5 : 0;
                b = a + 1;
            }
        }
        int64_t ox = pad + (i % cols) * (cw + pad), oy = pad + (i / cols) * (chh + pad);
        for (int64_t c = 0; c < ch; c++)
            for (int64_t y = 0; y < h; y++)
                for (int64_t x = 0; x < w; x++) {
                    double v = nb_tensor_get(images, i * per + (c * h + y) * w + x);
                    double t = (v - a) / (b - a) * 255.0;
                    uint8_t g = (uint8_t)(t != t ? 0 : t < 0 ? 0 : t > 255 ? 255 : lround(t));
                    for (int dy = 0; dy < scale; dy++)
                        for (int dx = 0; dx < scale; dx++) {
                            int64_t X = ox + x * scale + dx, Y = oy + y * scale + dy;
                            px[(Y * W + X) * ch + c] = g;
                        }
                }
    }
    st = grid_annotated(&o) ? grid_write_annotated(fn, path, &o, W, H, ch, px, chh, pad)
                            : png_to_file(fn, path, (int)W, (int)H, (int)ch, px);
    nb_free(px);
    return st;
}
