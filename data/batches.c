/* data/batches.c — datasets in memory: subsets, seeded train/validation/test splits, class counts,
 * normalisation fitted on one set and applied to others, and the minibatch iterator. */
#include "io/file_util.h"
#include "nabla/data.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

/* Bytes of one sample of x ([N, ...], contiguous). */
static size_t row_bytes(const nb_tensor *x)
{
    int64_t n = nb_tensor_dim(x, 0);
    return n > 0 ? (size_t)(nb_tensor_numel(x) / n) * nb_dtype_size(nb_tensor_dtype(x)) : 0;
}

static void *data_of(const nb_tensor *t)
{
    return nb_tensor_data((nb_tensor *)(uintptr_t)t);
}

/* The dataset is usable: x [N, ...] contiguous, y NULL or i64 [N] contiguous. */
static nb_status check_dataset(const char *fn, const nb_dataset *ds)
{
    if (!ds || !ds->x)
        return nb_set_error(NB_ERR_VALUE, "%s: dataset %s", fn, ds ? "has no samples" : "is NULL");
    if (nb_tensor_ndim(ds->x) < 1 || !nb_tensor_is_contiguous(ds->x))
        return nb_set_error(NB_ERR_SHAPE, "%s: samples must be a contiguous [N, ...] tensor", fn);
    if (ds->y) {
        if (nb_tensor_dtype(ds->y) != NB_I64 || nb_tensor_ndim(ds->y) != 1 ||
            !nb_tensor_is_contiguous(ds->y))
            return nb_set_error(NB_ERR_SHAPE, "%s: labels must be a contiguous i64 [N] tensor", fn);
        if (nb_tensor_dim(ds->y, 0) != nb_tensor_dim(ds->x, 0))
            return nb_set_error(NB_ERR_SHAPE, "%s: %" PRId64 " labels for %" PRId64 " samples", fn,
                                nb_tensor_dim(ds->y, 0), nb_tensor_dim(ds->x, 0));
    }
    return NB_OK;
}

/* New dataset with the rows idx[0..n-1] of src (already checked). */
static nb_status gather(const char *fn, const nb_dataset *src, const int64_t *idx, int64_t n,
                        nb_dataset *out)
{
    memset(out, 0, sizeof *out);
    int64_t shape[NB_MAX_DIMS];
    int nd = nb_tensor_ndim(src->x);
    memcpy(shape, nb_tensor_shape(src->x), (size_t)nd * sizeof *shape);
    shape[0] = n;
    nb_tensor *x = nb_tensor_new(nb_tensor_dtype(src->x), nd, shape);
    nb_tensor *y = x && src->y ? nb_tensor_new(NB_I64, 1, shape) : NULL;
    if (!x || (src->y && !y)) {
        nb_tensor_free(x);
        return nb_last_status() != NB_OK
                   ? nb_last_status()
                   : nb_set_error(NB_ERR_NOMEM, "%s: out of memory for %" PRId64 " samples", fn, n);
    }
    size_t rb = row_bytes(src->x);
    const char *sx = data_of(src->x);
    char *dx = nb_tensor_data(x);
    const int64_t *sy = src->y ? data_of(src->y) : NULL;
    int64_t *dy = y ? nb_tensor_data_i64(y) : NULL;
    for (int64_t i = 0; i < n; i++) {
        memcpy(dx + (size_t)i * rb, sx + (size_t)idx[i] * rb, rb);
        if (dy)
            dy[i] = sy[idx[i]];
    }
    out->x = x;
    out->y = y;
    out->n_classes = src->n_classes;
    out->class_names = src->class_names;
    return NB_OK;
}

nb_status nb_dataset_subset(const nb_dataset *src, const int64_t *idx, int64_t n, nb_dataset *out)
{
    const char *fn = "nb_dataset_subset";
    if (!out)
        return nb_set_error(NB_ERR_VALUE, "%s: out is NULL", fn);
    memset(out, 0, sizeof *out);
    nb_status st = check_dataset(fn, src);
    if (st != NB_OK)
        return st;
    if (n < 0 || (n > 0 && !idx))
        return nb_set_error(NB_ERR_VALUE, "%s: bad index list (n = %" PRId64 ")", fn, n);
    int64_t size = nb_dataset_size(src);
    for (int64_t i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= size)
            return nb_set_error(NB_ERR_VALUE,
                                "%s: index %" PRId64 " (entry %" PRId64
                                ") is out of range [0, %" PRId64 ")",
                                fn, idx[i], i, size);
    return gather(fn, src, idx, n, out);
}

nb_status nb_dataset_split(const nb_dataset *src, double train_frac, double val_frac, uint64_t seed,
                           nb_dataset *train, nb_dataset *val, nb_dataset *test)
{
    const char *fn = "nb_dataset_split";
    nb_dataset *outs[3] = {train, val, test};
    for (int i = 0; i < 3; i++)
        if (outs[i])
            memset(outs[i], 0, sizeof *outs[i]);
    nb_status st = check_dataset(fn, src);
    if (st != NB_OK)
        return st;
    if (train_frac == 0 && val_frac == 0) {
        train_frac = 0.6;
        val_frac = 0.2;
    }
    if (!(train_frac >= 0 && train_frac <= 1 && val_frac >= 0 && val_frac <= 1 &&
          train_frac + val_frac <= 1 + 1e-12))
        return nb_set_error(NB_ERR_VALUE,
                            "%s: fractions train %g and validation %g must be in [0, 1] with a "
                            "sum <= 1",
                            fn, train_frac, val_frac);
    int64_t n = nb_dataset_size(src);
    int64_t n_train = (int64_t)llround((double)n * train_frac);
    int64_t n_val = (int64_t)llround((double)n * val_frac);
    if (n_train > n)
        n_train = n;
    if (n_val > n - n_train)
        n_val = n - n_train;
    int64_t counts[3] = {n_train, n_val, n - n_train - n_val};
    int64_t *perm = nb_malloc((size_t)(n > 0 ? n : 1) * sizeof *perm);
    if (!perm)
        return nb_set_error(NB_ERR_NOMEM, "%s: out of memory for %" PRId64 " indices", fn, n);
    for (int64_t i = 0; i < n; i++)
        perm[i] = i;
    nb_rng rng = nb_rng_seed(seed);
    nb_rng_shuffle_i64(&rng, perm, n);
    int64_t at = 0;
    for (int i = 0; i < 3 && st == NB_OK; i++) {
        if (outs[i])
            st = gather(fn, src, perm + at, counts[i], outs[i]);
        at += counts[i];
    }
    nb_free(perm);
    if (st != NB_OK)
        for (int i = 0; i < 3; i++)
            nb_dataset_deinit(outs[i]);
    return st;
}

nb_status nb_dataset_class_counts(const nb_dataset *ds, int64_t *counts)
{
    const char *fn = "nb_dataset_class_counts";
    nb_status st = check_dataset(fn, ds);
    if (st != NB_OK)
        return st;
    if (!ds->y || ds->n_classes <= 0 || !counts)
        return nb_set_error(NB_ERR_VALUE, "%s: %s", fn,
                            counts ? "the dataset has no labels" : "counts is NULL");
    memset(counts, 0, (size_t)ds->n_classes * sizeof *counts);
    const int64_t *y = data_of(ds->y);
    for (int64_t i = 0; i < nb_tensor_numel(ds->y); i++) {
        if (y[i] < 0 || y[i] >= ds->n_classes)
            return nb_set_error(NB_ERR_VALUE,
                                "%s: label %" PRId64 " at index %" PRId64
                                " is out of range [0, %" PRId64 ")",
                                fn, y[i], i, ds->n_classes);
        counts[y[i]]++;
    }
    return NB_OK;
}

/* ---- normalisation ---- */

/* Layout of x for per-channel work: outer x channels x inner. */
static nb_status norm_layout(const char *fn, const nb_tensor *x, bool per_channel, int64_t *outer,
                             int *channels, int64_t *inner)
{
    if (!x)
        return nb_set_error(NB_ERR_VALUE, "%s: tensor is NULL", fn);
    nb_dtype dt = nb_tensor_dtype(x);
    if (dt != NB_F32 && dt != NB_F64)
        return nb_set_error(NB_ERR_DTYPE, "%s: expects f32 or f64, got %s", fn, nb_dtype_name(dt));
    if (!nb_tensor_is_contiguous(x))
        return nb_set_error(NB_ERR_SHAPE, "%s: tensor must be contiguous", fn);
    int64_t numel = nb_tensor_numel(x);
    if (numel == 0)
        return nb_set_error(NB_ERR_SHAPE, "%s: tensor is empty", fn);
    if (!per_channel) {
        *outer = 1;
        *channels = 1;
        *inner = numel;
        return NB_OK;
    }
    if (nb_tensor_ndim(x) < 2)
        return nb_set_error(NB_ERR_SHAPE,
                            "%s: per-channel statistics need [N, C, ...], got %d dims", fn,
                            nb_tensor_ndim(x));
    int64_t c = nb_tensor_dim(x, 1);
    if (c > NB_NORM_MAX_CHANNELS)
        return nb_set_error(NB_ERR_SHAPE, "%s: %" PRId64 " channels (at most %d)", fn, c,
                            NB_NORM_MAX_CHANNELS);
    *outer = nb_tensor_dim(x, 0);
    *channels = (int)c;
    *inner = numel / (*outer * c);
    return NB_OK;
}

static double elem(const nb_tensor *x, const void *data, int64_t i)
{
    return nb_tensor_dtype(x) == NB_F32 ? ((const float *)data)[i] : ((const double *)data)[i];
}

nb_status nb_norm_fit(const nb_tensor *x, nb_norm_kind kind, bool per_channel, double lo, double hi,
                      nb_norm_stats *out)
{
    const char *fn = "nb_norm_fit";
    if (!out)
        return nb_set_error(NB_ERR_VALUE, "%s: out is NULL", fn);
    memset(out, 0, sizeof *out);
    if (kind != NB_NORM_RANGE && kind != NB_NORM_STANDARD)
        return nb_set_error(NB_ERR_VALUE, "%s: unknown kind %d", fn, (int)kind);
    if (kind == NB_NORM_RANGE && !(lo <= hi))
        return nb_set_error(NB_ERR_VALUE, "%s: range [%g, %g] is empty", fn, lo, hi);
    int64_t outer, inner;
    int C;
    nb_status st = norm_layout(fn, x, per_channel, &outer, &C, &inner);
    if (st != NB_OK)
        return st;
    const void *d = data_of(x);
    out->kind = kind;
    out->channels = C;
    for (int c = 0; c < C; c++) {
        double mn = INFINITY, mx = -INFINITY, sum = 0;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                double v = elem(x, d, (o * C + c) * inner + i);
                mn = v < mn ? v : mn;
                mx = v > mx ? v : mx;
                sum += v;
            }
        double count = (double)(outer * inner), mean = sum / count, ss = 0;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                double v = elem(x, d, (o * C + c) * inner + i) - mean;
                ss += v * v;
            }
        double sd = sqrt(ss / count);
        if (!isfinite(mean) || !isfinite(sd))
            return nb_set_error(NB_ERR_VALUE, "%s: channel %d holds NaN or Inf", fn, c);
        out->min[c] = mn;
        out->max[c] = mx;
        out->mean[c] = mean;
        out->std[c] = sd;
        if (kind == NB_NORM_STANDARD) {
            out->mul[c] = 1.0 / (sd > 0 ? sd : 1.0);
            out->add[c] = -mean * out->mul[c];
        } else {
            out->mul[c] = mx > mn ? (hi - lo) / (mx - mn) : 0.0;
            out->add[c] = lo - mn * out->mul[c];
        }
    }
    return NB_OK;
}

nb_status nb_norm_apply(nb_tensor *x, const nb_norm_stats *s)
{
    const char *fn = "nb_norm_apply";
    if (!s)
        return nb_set_error(NB_ERR_VALUE, "%s: stats is NULL", fn);
    if (s->channels < 1 || s->channels > NB_NORM_MAX_CHANNELS)
        return nb_set_error(NB_ERR_VALUE, "%s: stats have %d channels (not fitted?)", fn,
                            s->channels);
    int64_t outer, inner;
    int C;
    nb_status st = norm_layout(fn, x, s->channels > 1, &outer, &C, &inner);
    if (st != NB_OK)
        return st;
    if (C != s->channels)
        return nb_set_error(NB_ERR_SHAPE, "%s: tensor has %d channels, stats were fitted on %d", fn,
                            C, s->channels);
    for (int c = 0; c < C; c++)
        for (int64_t o = 0; o < outer; o++) {
            int64_t base = (o * C + c) * inner;
            if (nb_tensor_dtype(x) == NB_F32) {
                float *p = nb_tensor_data_f32(x) + base, m = (float)s->mul[c], a = (float)s->add[c];
                for (int64_t i = 0; i < inner; i++)
                    p[i] = p[i] * m + a;
            } else {
                double *p = nb_tensor_data_f64(x) + base;
                for (int64_t i = 0; i < inner; i++)
                    p[i] = p[i] * s->mul[c] + s->add[c];
            }
        }
    return NB_OK;
}

/* ---- minibatches ---- */
struct nb_batcher {
    const nb_dataset *ds;
    nb_batch_opts o;
    int64_t n, per_epoch; /* samples, batches per epoch */
    size_t rb;
    int64_t *perm;
    int64_t pos, index, epoch;
    bool ended;
    nb_rng rng;
    nb_tensor *x_full, *y_full; /* [B, ...] */
    nb_tensor *x_part, *y_part; /* views of the last, smaller batch (or NULL) */
};

static void shuffle_epoch(nb_batcher *it)
{
    for (int64_t i = 0; i < it->n; i++)
        it->perm[i] = i;
    if (it->o.shuffle)
        nb_rng_shuffle_i64(&it->rng, it->perm, it->n);
}

nb_batcher *nb_batcher_new(const nb_dataset *ds, const nb_batch_opts *opts)
{
    const char *fn = "nb_batcher_new";
    if (check_dataset(fn, ds) != NB_OK)
        return NULL;
    if (!opts || opts->batch_size < 1) {
        nb_set_error(NB_ERR_VALUE, "%s: batch_size must be >= 1 (got %" PRId64 ")", fn,
                     opts ? opts->batch_size : 0);
        return NULL;
    }
    int64_t n = nb_dataset_size(ds), B = opts->batch_size;
    if (n == 0) {
        nb_set_error(NB_ERR_VALUE, "%s: the dataset is empty", fn);
        return NULL;
    }
    if (B > n)
        B = n; /* one batch holds everything */
    int64_t rem = n % B;
    if (opts->last == NB_LAST_DROP && n < opts->batch_size) {
        nb_set_error(NB_ERR_VALUE,
                     "%s: batch_size %" PRId64 " exceeds the %" PRId64
                     " samples and the last partial batch is dropped: no batch at all",
                     fn, opts->batch_size, n);
        return NULL;
    }
    nb_batcher *it = nb_calloc(1, sizeof *it);
    if (!it) {
        nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        return NULL;
    }
    it->ds = ds;
    it->o = *opts;
    it->o.batch_size = B;
    it->n = n;
    it->rb = row_bytes(ds->x);
    it->per_epoch = opts->last == NB_LAST_DROP ? n / B : (n + B - 1) / B;
    it->perm = nb_malloc((size_t)n * sizeof *it->perm);
    int nd = nb_tensor_ndim(ds->x);
    int64_t shape[NB_MAX_DIMS];
    memcpy(shape, nb_tensor_shape(ds->x), (size_t)nd * sizeof *shape);
    shape[0] = B;
    it->x_full = it->perm ? nb_tensor_new(nb_tensor_dtype(ds->x), nd, shape) : NULL;
    bool ok = it->x_full != NULL;
    if (ok && ds->y)
        ok = (it->y_full = nb_tensor_new(NB_I64, 1, shape)) != NULL;
    if (ok && rem && opts->last == NB_LAST_KEEP) {
        shape[0] = rem;
        ok = (it->x_part = nb_tensor_view_new(it->x_full, 0, nd, shape)) != NULL;
        if (ok && ds->y)
            ok = (it->y_part = nb_tensor_view_new(it->y_full, 0, 1, shape)) != NULL;
    }
    if (!ok) {
        if (nb_last_status() == NB_OK)
            nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        nb_batcher_free(it);
        return NULL;
    }
    nb_batcher_reset(it);
    return it;
}

void nb_batcher_reset(nb_batcher *it)
{
    if (!it)
        return;
    it->rng = nb_rng_seed(it->o.seed);
    it->pos = it->index = it->epoch = 0;
    it->ended = false;
    shuffle_epoch(it);
}

bool nb_batcher_next(nb_batcher *it, nb_batch *out)
{
    if (!it || !out)
        return false;
    if (it->ended) {
        it->ended = false;
        it->epoch++;
        it->pos = it->index = 0;
        shuffle_epoch(it);
    }
    if (it->index >= it->per_epoch) {
        it->ended = true;
        memset(out, 0, sizeof *out);
        return false;
    }
    int64_t B = it->o.batch_size, size = it->n - it->pos < B ? it->n - it->pos : B;
    const char *sx = data_of(it->ds->x);
    char *dx = nb_tensor_data(it->x_full);
    const int64_t *sy = it->ds->y ? data_of(it->ds->y) : NULL;
    int64_t *dy = it->y_full ? nb_tensor_data_i64(it->y_full) : NULL;
    const int64_t *idx = it->perm + it->pos;
    for (int64_t i = 0; i < size; i++) {
        memcpy(dx + (size_t)i * it->rb, sx + (size_t)idx[i] * it->rb, it->rb);
        if (dy)
            dy[i] = sy[idx[i]];
    }
    bool part = size < B;
    out->x = part ? it->x_part : it->x_full;
    out->y = part ? it->y_part : it->y_full;
    out->size = size;
    out->index = it->index;
    out->epoch = it->epoch;
    out->indices = idx;
    it->pos += size;
    it->index++;
    return true;
}

int64_t nb_batcher_num_batches(const nb_batcher *it)
{
    return it ? it->per_epoch : 0;
}

void nb_batcher_free(nb_batcher *it)
{
    if (!it)
        return;
    nb_tensor_free(it->x_part);
    nb_tensor_free(it->y_part);
    nb_tensor_free(it->x_full);
    nb_tensor_free(it->y_full);
    nb_free(it->perm);
    nb_free(it);
}
