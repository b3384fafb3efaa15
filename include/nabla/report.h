/* nabla/report.h — what a training run shows a person: a progress bar, curves (CSV and a PNG
 * line plot) and PNG grids of images (samples, reconstructions, filters), also built row by row.
 *
 *     nb_progress *bar = nb_progress_new("epoch 1", n_batches, NULL);
 *     while (nb_batcher_next(it, &b)) {
 *         ... train ...
 *         nb_progress_advance(bar, b.size, loss);
 *     }
 *     nb_progress_finish(bar);
 *     nb_progress_free(bar);
 *
 * Images are written with libpng; plots are drawn into an RGB buffer with a built-in font. */
#ifndef NABLA_REPORT_H
#define NABLA_REPORT_H

#include "nabla/tensor.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- progress bar ---- */

typedef enum nb_progress_mode {
    NB_PROGRESS_AUTO = 0,  /* redraw in place when the stream is a terminal, else plain lines */
    NB_PROGRESS_TTY = 1,   /* always redraw in place ("\r" + bar) */
    NB_PROGRESS_PLAIN = 2, /* always periodic plain lines (logs, CI) */
    NB_PROGRESS_QUIET = 3, /* print nothing */
} nb_progress_mode;

typedef struct nb_progress_opts {
    FILE *stream;          /* NULL -> stderr */
    nb_progress_mode mode; /* AUTO follows $NB_PROGRESS when set: "plain", "tty", "quiet" */
    int64_t print_every;   /* plain mode: a line every n steps (0 -> about every 10%) */
    double redraw_seconds; /* terminal mode: at most one redraw per interval (0 -> 0.1 s) */
    int width;             /* terminal mode: columns (0 -> the terminal's, else 80) */
    /* Clock in seconds (monotonic); NULL -> the system's. Tests pass a fake clock. */
    double (*clock)(void *user);
    void *clock_user;
} nb_progress_opts;

typedef struct nb_progress nb_progress;

/* New progress bar for `total` steps (0 when unknown: no percentage and no ETA) named `label`
 * (copied; may be NULL). opts may be NULL. NULL on NB_ERR_NOMEM / NB_ERR_VALUE (total < 0). */
NB_API nb_progress *nb_progress_new(const char *label, int64_t total, const nb_progress_opts *opts);
/* One step done that processed `items` samples (for the items/s throughput) with loss `loss`
 * (NaN: none). Shown: steps done/total, percentage, mean loss since the last line, items/s,
 * elapsed time and ETA. */
NB_API void nb_progress_advance(nb_progress *p, int64_t items, double loss);
/* Extra text shown at the end of the line (e.g. "val acc 0.871"); copied; NULL clears it. */
NB_API void nb_progress_note(nb_progress *p, const char *note);
/* Print the final state and a newline (totals: steps, mean loss over the run, items/s, time). */
NB_API void nb_progress_finish(nb_progress *p);
/* Mean loss over every step so far (NaN when no step had a loss). */
NB_API double nb_progress_mean_loss(const nb_progress *p);
NB_API void nb_progress_free(nb_progress *p);

/* Format a duration as "12.3s", "4m05s" or "2h03m" into buf; returns buf. */
NB_API char *nb_format_duration(double seconds, char *buf, size_t size);

/* ---- curves ---- */

typedef struct nb_curves nb_curves;

/* New empty logger; NULL on NB_ERR_NOMEM. */
NB_API nb_curves *nb_curves_new(void);
/* Append the point (x, y) to the series `name` (created on first use; at most 32 series, names
 * up to 63 bytes). x is usually the step or the epoch. Errors: NB_ERR_VALUE, NB_ERR_NOMEM. */
NB_API nb_status nb_curves_add(nb_curves *c, const char *name, double x, double y);
/* Append (x, values[i]) to the series names[i] for i < n: one epoch's several metrics in one
 * call. Stops at the first error (the points before it are kept) and returns it; n = 0 adds
 * nothing. Errors: NB_ERR_VALUE (c NULL, n < 0, names or values NULL with n > 0, and those of
 * nb_curves_add), NB_ERR_NOMEM. */
NB_API nb_status nb_curves_add_scalars(nb_curves *c, double x, int n, const char *const *names,
                                       const double *values);
/* Number of series, and of points in series `name` (0 when absent). */
NB_API int nb_curves_num_series(const nb_curves *c);
NB_API int64_t nb_curves_num_points(const nb_curves *c, const char *name);
/* Last y of series `name` (NaN when absent or empty). */
NB_API double nb_curves_last(const nb_curves *c, const char *name);
/* Write every point as CSV "series,x,y" (a header line, then one line per point in series
 * order). Written atomically. Errors: NB_ERR_IO, NB_ERR_NOMEM. */
NB_API nb_status nb_curves_write_csv(const nb_curves *c, const char *path);

typedef struct nb_plot_opts {
    int width, height;  /* pixels; 0 -> 800 x 500 */
    const char *title;  /* NULL -> none */
    const char *xlabel; /* NULL -> "step" */
    const char *ylabel; /* NULL -> none */
    bool log_y;         /* logarithmic y axis (non-positive values are skipped) */
    /* Comma-separated series to draw ("loss,val_loss"); NULL -> all. */
    const char *series;
} nb_plot_opts;

/* Draw the series as lines (axes, ticks with labels, a legend) and write an RGB PNG.
 * NaN/Inf points are skipped. opts may be NULL. Errors: NB_ERR_VALUE (nothing to draw, bad
 * size), NB_ERR_IO, NB_ERR_NOMEM. */
NB_API nb_status nb_curves_write_png(const nb_curves *c, const char *path,
                                     const nb_plot_opts *opts);
/* Both files of a run's curves: "<prefix>.csv" (nb_curves_write_csv) and "<prefix>.png"
 * (nb_curves_write_png with opts; the PNG is not written when the CSV fails). Errors: NB_ERR_VALUE
 * (NULL curves or prefix, a prefix longer than 4000 bytes), those of the two writers. */
NB_API nb_status nb_curves_save(const nb_curves *c, const char *prefix, const nb_plot_opts *opts);
NB_API void nb_curves_free(nb_curves *c);

/* ---- images ---- */

/* Write 8-bit pixels (channels 1 = gray, 3 = RGB; rows top to bottom, channels interleaved) as
 * a PNG. Written atomically. Errors: NB_ERR_VALUE, NB_ERR_IO, NB_ERR_NOMEM. */
NB_API nb_status nb_png_write(const char *path, int width, int height, int channels,
                              const uint8_t *pixels);

typedef struct nb_grid_opts {
    int cols;           /* images per row; 0 -> ceil(sqrt(N)) */
    int scale;          /* each pixel drawn as scale x scale; 0 -> 1 */
    int padding;        /* pixels between images and around the grid; 0 -> 1, < 0 -> none */
    double lo, hi;      /* value range mapped to 0..255 (lo == hi -> 0 and 1) */
    bool per_image;     /* map each image's own min..max to 0..255 (filters, weights) */
    int height, width;  /* for flat [N, D] input: image size (0 -> square, D = side^2) */
    uint8_t background; /* gray level of the padding */
    /* Annotations (all optional; printable ASCII, other bytes drawn as '?'). With any of them
     * the PNG is RGB on a white frame: the title centred above the grid, each row's label at
     * its left (an axis label, or the legend of what the rows are: "input", "reconstruction"),
     * the caption below (e.g. "columns: 1, 10, 100 Gibbs steps"). Without them the PNG is
     * exactly the bare grid. */
    const char *title;             /* NULL -> none */
    const char *caption;           /* NULL -> none */
    const char *const *row_labels; /* one per grid row (NULL entries: none); NULL -> none */
    int n_row_labels;              /* entries in row_labels; at most the number of grid rows */
} nb_grid_opts;

/* Write images as a grid PNG. images: [N, H, W] or [N, 1, H, W] (gray), [N, 3, H, W] (RGB),
 * or [N, D] with opts height/width (or D a perfect square); f32 or f64, any strides. Values
 * are clamped to the range. opts may be NULL.
 *
 *     nb_grid_opts g = {.cols = 8, .scale = 2, .title = "Reconstructions",
 *                       .row_labels = (const char *[]){"input", "output"}, .n_row_labels = 2,
 *                       .caption = "test images 1-8, after 20 epochs"};
 *     nb_png_write_grid("recon.png", images, &g);
 *
 * Errors: NB_ERR_SHAPE, NB_ERR_DTYPE, NB_ERR_VALUE (also: more row labels than rows, a label
 * wider than 64 characters), NB_ERR_IO, NB_ERR_NOMEM. */
NB_API nb_status nb_png_write_grid(const char *path, const nb_tensor *images,
                                   const nb_grid_opts *opts);

/* ---- rows of images ----
 * A grid built row by row over a run: the same codes decoded after every epoch, test images
 * over their reconstructions. Each row is a set of images with a label at its left.
 *
 *     nb_image_rows *rows = nb_image_rows_new();
 *     nb_image_rows_add(rows, samples, "epoch %d", e);          (after each epoch; copied)
 *     nb_image_rows_write_png(rows, "progress.png", &(nb_grid_opts){.scale = 2,
 *                                                                   .title = "samples"});
 *     nb_image_rows_free(rows);
 */
typedef struct nb_image_rows nb_image_rows;

/* New empty set of rows; NULL on NB_ERR_NOMEM. */
NB_API nb_image_rows *nb_image_rows_new(void);
/* Append a row: images as nb_png_write_grid takes them ([n, H, W], [n, C, H, W] or [n, D]; f32
 * or f64), copied, every row of the first row's shape and dtype; its label printf-formatted from
 * label_fmt (NULL: none; at most 63 characters kept). rows NULL is NB_ERR_VALUE; images NULL (a
 * failed op) keeps its error. Errors: NB_ERR_VALUE, NB_ERR_SHAPE and NB_ERR_DTYPE (a row unlike
 * the first, naming both shapes), NB_ERR_NOMEM. */
NB_API nb_status nb_image_rows_add(nb_image_rows *rows, const nb_tensor *images,
                                   const char *label_fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Number of rows added. */
NB_API int nb_image_rows_count(const nb_image_rows *rows);
/* Write the rows as one grid PNG with nb_png_write_grid: opts as there (NULL: defaults), except
 * that cols is the number of images per row and the row labels are the rows' (opts->cols,
 * row_labels and n_row_labels are not used). Errors: NB_ERR_VALUE (NULL, no rows), those of
 * nb_png_write_grid. */
NB_API nb_status nb_image_rows_write_png(const nb_image_rows *rows, const char *path,
                                         const nb_grid_opts *opts);
/* Free the rows and their copies; NULL is a no-op. */
NB_API void nb_image_rows_free(nb_image_rows *rows);

/* The same in one call for rows at hand: n sets of images (as nb_image_rows_add takes them, all
 * of one shape and dtype) written as the rows of one grid PNG, row i labelled labels[i] (labels
 * NULL or a NULL entry: no label). Test images over their reconstructions:
 *
 *     nb_png_write_rows("recon.png", 2, (const nb_tensor *[]){x, recon},
 *                       (const char *[]){"input", "reconstruction"}, &(nb_grid_opts){.scale = 2});
 *
 * opts as for nb_image_rows_write_png. A NULL images[i] (a failed op) keeps that op's error.
 * Errors: NB_ERR_VALUE (path or images NULL, n < 1), those of nb_image_rows_add (rows unlike
 * row 0) and of nb_png_write_grid. */
NB_API nb_status nb_png_write_rows(const char *path, int n, const nb_tensor *const *images,
                                   const char *const *labels, const nb_grid_opts *opts);

#ifdef __cplusplus
}
#endif
#endif
