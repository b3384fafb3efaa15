/* report/image_rows.c — a grid of images built row by row (nb_image_rows): copies of the rows
 * with their labels, concatenated and written by nb_png_write_grid; nb_png_write_rows, the same
 * in one call for rows at hand. */
#include "nabla/ops.h"
#include "nabla/report.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { LABEL_MAX = 64 };

struct nb_image_rows {
    nb_tensor **images; /* [n] caller-owned copies */
    char (*labels)[LABEL_MAX];
    bool *has_label;
    int n, cap;
};

nb_image_rows *nb_image_rows_new(void)
{
    nb_image_rows *r = nb_malloc(sizeof *r);
    if (!r) {
        nb_set_error(NB_ERR_NOMEM, "nb_image_rows_new: out of memory");
        return NULL;
    }
    memset(r, 0, sizeof *r);
    return r;
}

/* Room for one more row. */
static nb_status grow(nb_image_rows *r)
{
    if (r->n < r->cap)
        return NB_OK;
    const int cap = r->cap ? 2 * r->cap : 8;
    nb_tensor **images = nb_malloc((size_t)cap * sizeof *images);
    char(*labels)[LABEL_MAX] = nb_malloc((size_t)cap * sizeof *labels);
    bool *has = nb_malloc((size_t)cap * sizeof *has);
    if (!images || !labels || !has) {
        nb_free(images), nb_free(labels), nb_free(has);
        return nb_set_error(NB_ERR_NOMEM, "nb_image_rows_add: out of memory for %d rows", cap);
    }
    if (r->n) {
        memcpy(images, r->images, (size_t)r->n * sizeof *images);
        memcpy(labels, r->labels, (size_t)r->n * sizeof *labels);
        memcpy(has, r->has_label, (size_t)r->n * sizeof *has);
    }
    nb_free(r->images), nb_free(r->labels), nb_free(r->has_label);
    r->images = images, r->labels = labels, r->has_label = has, r->cap = cap;
    return NB_OK;
}

nb_status nb_image_rows_add(nb_image_rows *rows, const nb_tensor *images, const char *label_fmt,
                            ...)
{
    const char *fn = "nb_image_rows_add";
    if (!rows)
        return nb_set_error(NB_ERR_VALUE, "%s: rows is NULL", fn);
    if (!images)
        return nb_last_status() != NB_OK ? nb_last_status()
                                         : nb_set_error(NB_ERR_VALUE, "%s: images is NULL", fn);
    if (rows->n > 0) {
        const nb_tensor *first = rows->images[0];
        char a[96], b[96];
        if (nb_tensor_dtype(images) != nb_tensor_dtype(first))
            return nb_set_error(NB_ERR_DTYPE, "%s: row %d has another dtype than row 0", fn,
                                rows->n);
        bool same = nb_tensor_ndim(images) == nb_tensor_ndim(first);
        for (int d = 0; same && d < nb_tensor_ndim(first); d++)
            same = nb_tensor_dim(images, d) == nb_tensor_dim(first, d);
        if (!same)
            return nb_set_error(NB_ERR_SHAPE, "%s: row %d is %s, row 0 %s (every row alike)", fn,
                                rows->n, nb_tensor_shape_str(images, a, sizeof a),
                                nb_tensor_shape_str(first, b, sizeof b));
    }
    nb_status st = grow(rows);
    nb_tensor *copy = st == NB_OK ? nb_tensor_copy(images) : NULL;
    if (!copy)
        return nb_last_status();
    rows->images[rows->n] = copy;
    rows->has_label[rows->n] = label_fmt != NULL;
    rows->labels[rows->n][0] = '\0';
    if (label_fmt) {
        va_list ap;
        va_start(ap, label_fmt);
        vsnprintf(rows->labels[rows->n], LABEL_MAX, label_fmt, ap);
        va_end(ap);
    }
    rows->n++;
    return NB_OK;
}

int nb_image_rows_count(const nb_image_rows *rows)
{
    return rows ? rows->n : 0;
}

nb_status nb_image_rows_write_png(const nb_image_rows *rows, const char *path,
                                  const nb_grid_opts *opts)
{
    if (!rows || !path || rows->n == 0)
        return nb_set_error(NB_ERR_VALUE, "nb_image_rows_write_png: %s",
                            !rows || !path ? "rows or path is NULL" : "no rows to write");
    const char **labels = nb_malloc((size_t)rows->n * sizeof *labels);
    nb_tensor *all = labels ? nb_concat(rows->n, rows->images, 0) : NULL; /* caller-owned */
    nb_status st = all      ? NB_OK
                   : labels ? nb_last_status()
                            : nb_set_error(NB_ERR_NOMEM, "nb_image_rows_write_png: "
                                                         "out of memory");
    if (st == NB_OK) {
        nb_grid_opts o = opts ? *opts : (nb_grid_opts){0};
        o.cols = (int)nb_tensor_dim(rows->images[0], 0);
        bool any = false;
        for (int i = 0; i < rows->n; i++) {
            labels[i] = rows->has_label[i] ? rows->labels[i] : NULL;
            any = any || rows->has_label[i];
        }
        o.row_labels = any ? labels : NULL;
        o.n_row_labels = any ? rows->n : 0;
        st = nb_png_write_grid(path, all, &o);
    }
    nb_tensor_free(all);
    nb_free(labels);
    return st;
}

void nb_image_rows_free(nb_image_rows *rows)
{
    if (!rows)
        return;
    for (int i = 0; i < rows->n; i++)
        nb_tensor_free(rows->images[i]);
    nb_free(rows->images), nb_free(rows->labels), nb_free(rows->has_label);
    nb_free(rows);
}

nb_status nb_png_write_rows(const char *path, int n, const nb_tensor *const *images,
                            const char *const *labels, const nb_grid_opts *opts)
{
    if (!path || !images || n < 1)
        return nb_set_error(NB_ERR_VALUE, "nb_png_write_rows: need a path and n >= 1 rows (n = %d)",
                            n);
    nb_image_rows *rows = nb_image_rows_new();
    nb_status st = rows ? NB_OK : nb_last_status();
    for (int i = 0; i < n && st == NB_OK; i++)
        st = labels && labels[i] ? nb_image_rows_add(rows, images[i], "%s", labels[i])
                                 : nb_image_rows_add(rows, images[i], NULL);
    if (st == NB_OK)
        st = nb_image_rows_write_png(rows, path, opts);
    nb_image_rows_free(rows);
    return st;
}
