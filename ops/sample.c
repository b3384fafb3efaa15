/* ops/sample.c — drawing class ids: categorical sampling from logits with temperature, top-k and
 * top-p (nucleus) filtering, and multinomial sampling with or without replacement. Not
 * differentiable: results are NB_I64 tensors placed like op results (the step's arena, or
 * caller-owned without a step). Randomness comes only from the caller's nb_rng, one
 * nb_rng_uniform per draw, rows in order, so a seed fixes every draw. */
#include "ops/op_def.h"

#include <math.h>
#include <stdlib.h>

/* One class of a row: its (scaled) logit or weight, and its id. */
typedef struct {
    double v;
    int64_t id;
} entry;

/* Largest value first; equal values by id, so the order (and the draws) never depends on qsort. */
static int by_value_desc(const void *pa, const void *pb)
{
    const entry *a = pa, *b = pb;
    if (a->v != b->v)
        return a->v > b->v ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

/* The index j in [0, n) with p[0] + ... + p[j-1] <= u < p[0] + ... + p[j] for u uniform in
 * [0, total): class j with probability p[j] / total. Only a positive p[j] raises the running
 * sum past u, so a class of probability 0 is never drawn; when rounding leaves u past the sum,
 * the last positive one is. */
static int64_t draw(const entry *p, int64_t n, double total, nb_rng *rng)
{
    const double u = nb_rng_uniform(rng) * total;
    double acc = 0;
    int64_t last = 0;
    for (int64_t j = 0; j < n; j++) {
        if (p[j].v > 0)
            last = j;
        if ((acc += p[j].v) > u)
            return j;
    }
    return last;
}

/* [N, C] or [C] (rows = 1) in fn's terms; sets *rows and *C. */
static bool check_rows(const char *fn, const char *what, const nb_tensor *x, int64_t *rows,
                       int64_t *C)
{
    if (!x) {
        if (!nbi_error_pending())
            nbi_error(NB_ERR_VALUE, "%s: %s is NULL", fn, what);
        return false;
    }
    if (!nbi_check_live(fn, x))
        return false;
    if (!nbi_is_float(x->dtype)) {
        nbi_error(NB_ERR_DTYPE, "%s: %s must be f32 or f64, got %s", fn, what,
                  nb_dtype_name(x->dtype));
        return false;
    }
    if (x->ndim < 1 || x->ndim > 2 || x->shape[x->ndim - 1] < 1) {
        nbi_error(NB_ERR_SHAPE, "%s: %s must be [N, C] or [C] with C >= 1, got %s", fn, what,
                  nbi_fmt_shape(x));
        return false;
    }
    *rows = x->ndim == 2 ? x->shape[0] : 1;
    *C = x->shape[x->ndim - 1];
    return true;
}

/* The i64 result: [rows, k] (or [k] for a 1-D input); with k = 0, one draw per row and no draws
 * axis ([N], or [] for a 1-D input). */
static nb_tensor *alloc_ids(const char *fn, const nb_tensor *x, int64_t k)
{
    int64_t shape[2] = {x->shape[0], k};
    const int nd = (x->ndim == 2) + (k > 0);
    return nbi_tensor_alloc(fn, NB_I64, nd, x->ndim == 2 ? shape : shape + 1);
}

/* Row n of logits, scaled: e[c] = ((l[c] - max) / temperature, c) sorted largest first, after
 * checking that no logit is NaN or +inf and that one is finite. Returns the number of finite
 * entries (those that can be drawn), or -1 with the error set. */
static int64_t scaled_row(const char *fn, const nb_tensor *x, int64_t n, int64_t C, double T,
                          entry *e)
{
    double max = -INFINITY;
    for (int64_t c = 0; c < C; c++) {
        const double l = nb_tensor_get(x, n * C + c);
        if (isnan(l) || l == INFINITY) {
            nbi_error(NB_ERR_VALUE, "%s: logit %g at [%lld, %lld] (row, class) is not allowed", fn,
                      l, (long long)n, (long long)c);
            return -1;
        }
        e[c] = (entry){l, c};
        max = l > max ? l : max;
    }
    if (max == -INFINITY) {
        nbi_error(NB_ERR_VALUE, "%s: every logit of row %lld is -inf", fn, (long long)n);
        return -1;
    }
    int64_t finite = 0;
    for (int64_t c = 0; c < C; c++) {
        e[c].v = (e[c].v - max) / T; /* <= 0, so nothing overflows however small T is */
        finite += e[c].v > -INFINITY;
    }
    qsort(e, (size_t)C, sizeof *e, by_value_desc);
    return finite;
}

/* Filter a sorted row (largest first) of n drawable entries and turn values into probabilities
 * (unnormalised, in place); returns how many stay, their total in *total. */
static int64_t filter_row(entry *e, int64_t n, const nb_sample_opts *o, double *total)
{
    int64_t keep = o->top_k < n ? o->top_k : n;
    while (keep < n && e[keep].v == e[keep - 1].v) /* ties with the k-th largest stay */
        keep++;
    double sum = 0;
    for (int64_t j = 0; j < keep; j++)
        sum += e[j].v = exp(e[j].v);
    if (o->top_p < 1.0) { /* the shortest prefix whose mass reaches top_p */
        double acc = 0;
        for (int64_t j = 0; j < keep; j++)
            if ((acc += e[j].v) >= o->top_p * sum) {
                keep = j + 1;
                sum = acc;
                break;
            }
    }
    *total = sum;
    return keep;
}

static bool check_sample_opts(const char *fn, const nb_sample_opts *o)
{
    if (!(o->temperature > 0 && o->temperature < INFINITY))
        nbi_error(NB_ERR_VALUE, "%s: temperature must be finite and > 0, got %g", fn,
                  o->temperature);
    else if (o->top_k < 1)
        nbi_error(NB_ERR_VALUE, "%s: top_k must be >= 1, got %lld (INT64_MAX keeps every class)",
                  fn, (long long)o->top_k);
    else if (!(o->top_p > 0 && o->top_p <= 1))
        nbi_error(NB_ERR_VALUE, "%s: top_p must be in (0, 1], got %g", fn, o->top_p);
    else if (o->num_samples < 0)
        nbi_error(NB_ERR_VALUE, "%s: num_samples must be >= 0, got %lld", fn,
                  (long long)o->num_samples);
    else
        return true;
    return false;
}

nb_tensor *nb_sample_logits(nb_tensor *logits, const nb_sample_opts *opts, nb_rng *rng)
{
    const char *fn = "nb_sample_logits";
    const nb_sample_opts o = opts ? *opts : (nb_sample_opts)NB_SAMPLE_DEFAULTS;
    int64_t rows, C;
    if (!check_rows(fn, "logits", logits, &rows, &C) || !check_sample_opts(fn, &o))
        return NULL;
    if (!rng) {
        nbi_error(NB_ERR_VALUE, "%s: rng is NULL", fn);
        return NULL;
    }
    entry *e = nbi_malloc((size_t)C * sizeof *e);
    nb_tensor *out = e ? alloc_ids(fn, logits, o.num_samples) : NULL;
    if (!e)
        nbi_error(NB_ERR_NOMEM, "%s: out of memory for a row of %lld classes", fn, (long long)C);
    const int64_t k = o.num_samples ? o.num_samples : 1;
    for (int64_t n = 0; out && n < rows; n++) {
        const int64_t finite = scaled_row(fn, logits, n, C, o.temperature, e);
        if (finite < 0) {
            nb_tensor_free(out);
            out = NULL;
            break;
        }
        double total;
        const int64_t kept = filter_row(e, finite, &o, &total);
        int64_t *ids = (int64_t *)nbi_data(out) + n * k;
        for (int64_t s = 0; s < k; s++)
            ids[s] = e[draw(e, kept, total, rng)].id;
    }
    nbi_free(e);
    return out;
}

/* Row n of weights as entries in class order, after checking that each weight is finite and
 * >= 0. Returns the number of positive weights, or -1 with the error set. */
static int64_t weight_row(const char *fn, const nb_tensor *w, int64_t n, int64_t C, entry *e)
{
    int64_t positive = 0;
    for (int64_t c = 0; c < C; c++) {
        const double v = nb_tensor_get(w, n * C + c);
        if (!(v >= 0 && v < INFINITY)) {
            nbi_error(NB_ERR_VALUE,
                      "%s: weight %g at [%lld, %lld] (row, class) must be finite and >= 0", fn, v,
                      (long long)n, (long long)c);
            return -1;
        }
        e[c] = (entry){v, c};
        positive += v > 0;
    }
    return positive;
}

nb_tensor *nb_multinomial(nb_tensor *weights, int64_t num_samples, bool replacement, nb_rng *rng)
{
    const char *fn = "nb_multinomial";
    int64_t rows, C;
    if (!check_rows(fn, "weights", weights, &rows, &C))
        return NULL;
    if (num_samples < 1 || !rng) {
        if (!rng)
            nbi_error(NB_ERR_VALUE, "%s: rng is NULL", fn);
        else
            nbi_error(NB_ERR_VALUE, "%s: num_samples must be >= 1, got %lld", fn,
                      (long long)num_samples);
        return NULL;
    }
    entry *e = nbi_malloc((size_t)C * sizeof *e);
    nb_tensor *out = e ? alloc_ids(fn, weights, num_samples) : NULL;
    if (!e)
        nbi_error(NB_ERR_NOMEM, "%s: out of memory for a row of %lld classes", fn, (long long)C);
    for (int64_t n = 0; out && n < rows; n++) {
        const int64_t positive = weight_row(fn, weights, n, C, e);
        if (positive <= 0 || (!replacement && positive < num_samples)) {
            if (positive == 0)
                nbi_error(NB_ERR_VALUE, "%s: row %lld has no positive weight", fn, (long long)n);
            else if (positive > 0)
                nbi_error(NB_ERR_VALUE,
                          "%s: cannot draw %lld without replacement from row %lld, which has %lld "
                          "positive weights",
                          fn, (long long)num_samples, (long long)n, (long long)positive);
            nb_tensor_free(out);
            out = NULL;
            break;
        }
        int64_t *ids = (int64_t *)nbi_data(out) + n * num_samples;
        for (int64_t s = 0; s < num_samples; s++) {
            double total = 0; /* summed afresh: no drift from subtracting drawn weights */
            for (int64_t c = 0; c < C; c++)
                total += e[c].v;
            const int64_t j = draw(e, C, total, rng);
            ids[s] = e[j].id;
            if (!replacement)
                e[j].v = 0; /* drawn: never again */
        }
    }
    nbi_free(e);
    return out;
}
