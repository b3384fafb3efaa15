/* ops/remap.c — ops whose every output element is one input element picked by a map per axis
 * (or a constant): flip, roll, repeat/tile and padding with a mode (constant, reflect,
 * replicate, circular). One forward and one backward serve them all:
 *
 *   y[o_0, ..., o_n] = x[s_0(o_0), ..., s_n(o_n)]   (or the pad value when some s_d is outside)
 *   dx[s(o)] += dy[o]                                (a map hitting one x element many times —
 *                                                     repeat, reflect/replicate/circular pads —
 *                                                     sums its gradient)
 *
 * Each op's attribute keeps the arguments as the caller gave them; `plan_of` validates them
 * (the shape rule reports its errors) and turns them into the per-axis maps. */
#include "ops/op_def.h"

#include <string.h>

enum { REMAP_FLIP, REMAP_ROLL, REMAP_REPEAT, REMAP_PAD };

typedef struct {
    int n;                      /* number of axes / shifts / repeats / pad pairs */
    int axes[NB_MAX_DIMS];      /* flip, roll */
    int64_t v[2 * NB_MAX_DIMS]; /* roll: shifts; repeat: repeats; pad: before/after pairs */
    nb_pad_mode mode;           /* pad */
    double value;               /* constant pad */
    bool tile;                  /* repeat: called as nb_tile (fewer repeats than dims allowed) */
} remap_attr;

/* Per output axis d of an ndim-dim output over x (x's dims are the last x->ndim): the kind of
 * map, x's size n[d] (1 for a leading axis x lacks), and its parameters p, q. */
typedef struct {
    int kind, ndim, lead;
    int64_t n[NB_MAX_DIMS], p[NB_MAX_DIMS], q[NB_MAX_DIMS], out[NB_MAX_DIMS];
    nb_pad_mode mode;
    double value;
} plan;

static int kind_of(const nbi_record *r)
{
    return r->id == NB_OP_FLIP     ? REMAP_FLIP
           : r->id == NB_OP_ROLL   ? REMAP_ROLL
           : r->id == NB_OP_REPEAT ? REMAP_REPEAT
                                   : REMAP_PAD;
}

/* Normalised, distinct axes into `hit` (hit[d] = position in the list + 1), or an error. */
static nb_status axes_of(const char *fn, const remap_attr *a, int ndim, int *hit)
{
    memset(hit, 0, sizeof(int) * NB_MAX_DIMS);
    if (a->n < 0 || a->n > ndim)
        return nbi_error(NB_ERR_VALUE, "%s: %d axes given for a %d-dim tensor", fn, a->n, ndim);
    for (int i = 0; i < a->n; i++) {
        int ax = nbi_axis(fn, a->axes[i], ndim);
        if (ax < 0)
            return nb_last_status();
        if (hit[ax])
            return nbi_error(NB_ERR_VALUE, "%s: axis %d is given twice (as %d and %d)", fn, ax,
                             a->axes[hit[ax] - 1], a->axes[i]);
        hit[ax] = i + 1;
    }
    return NB_OK;
}

static nb_status pad_plan(const char *fn, const remap_attr *a, const nb_tensor *x, plan *p)
{
    static const char *const names[] = {"constant", "reflect", "replicate", "circular"};
    if ((unsigned)a->mode > NB_PAD_CIRCULAR)
        return nbi_error(NB_ERR_VALUE, "%s: unknown padding mode %d", fn, (int)a->mode);
    if (a->n < 1 || a->n > x->ndim)
        return nbi_error(NB_ERR_SHAPE, "%s: pads for %d axes given, x is %s (1 to ndim axes)", fn,
                         a->n, nbi_fmt_shape(x));
    for (int k = 0; k < a->n; k++) {
        const int d = x->ndim - a->n + k;
        const int64_t lo = a->v[2 * k], hi = a->v[2 * k + 1], n = x->shape[d];
        if (lo < 0 || hi < 0 || lo > INT32_MAX || hi > INT32_MAX)
            return nbi_error(NB_ERR_VALUE,
                             "%s: pads must be in [0, 2^31), got %lld and %lld on "
                             "axis %d",
                             fn, (long long)lo, (long long)hi, d);
        const bool reflect = a->mode == NB_PAD_REFLECT, circular = a->mode == NB_PAD_CIRCULAR;
        if ((reflect && (lo >= n || hi >= n)) || (circular && (lo > n || hi > n)) ||
            (a->mode == NB_PAD_REPLICATE && n == 0 && lo + hi > 0))
            return nbi_error(NB_ERR_VALUE,
                             "%s: %s padding needs each pad %s the size of axis %d: pads %lld "
                             "and %lld, x is %s",
                             fn, names[a->mode],
                             reflect    ? "smaller than"
                             : circular ? "at most"
                                        : "nonzero only with",
                             d, (long long)lo, (long long)hi, nbi_fmt_shape(x));
        p->p[d] = lo;
        p->q[d] = hi;
        p->out[d] = lo + n + hi;
    }
    p->mode = a->mode;
    p->value = a->value;
    return NB_OK;
}

/* Validate r's attribute against its input and fill the plan (errors name the op's function). */
static nb_status plan_of(const nbi_record *r, plan *p)
{
    const remap_attr *a = r->attr;
    const nb_tensor *x = r->in[0];
    const char *fn = a->tile ? "nb_tile" : r->def->api;
    memset(p, 0, sizeof *p);
    p->kind = kind_of(r);
    p->ndim = x->ndim;
    if (p->kind == REMAP_REPEAT) {
        if (a->n < 0 || a->n > NB_MAX_DIMS || (!a->tile && a->n < x->ndim))
            return nbi_error(NB_ERR_VALUE,
                             "%s: %d repeats for x %s (from its ndim to %d; nb_tile accepts "
                             "fewer)",
                             fn, a->n, nbi_fmt_shape(x), NB_MAX_DIMS);
        p->ndim = a->n > x->ndim ? a->n : x->ndim;
    }
    p->lead = p->ndim - x->ndim;
    for (int d = 0; d < p->ndim; d++) {
        p->n[d] = d < p->lead ? 1 : x->shape[d - p->lead];
        p->out[d] = p->n[d];
    }
    int hit[NB_MAX_DIMS];
    switch (p->kind) {
    case REMAP_FLIP:
        if (axes_of(fn, a, x->ndim, hit) != NB_OK)
            return nb_last_status();
        for (int d = 0; d < x->ndim; d++)
            p->p[d] = hit[d] != 0;
        break;
    case REMAP_ROLL:
        if (axes_of(fn, a, x->ndim, hit) != NB_OK)
            return nb_last_status();
        for (int d = 0; d < x->ndim; d++) {
            const int64_t n = x->shape[d], s = hit[d] ? a->v[hit[d] - 1] : 0;
            p->p[d] = n ? ((s % n) + n) % n : 0; /* y[o] = x[o - shift mod n] */
        }
        break;
    case REMAP_REPEAT: {
        const int pre = p->ndim - a->n; /* repeats apply to the last a->n output axes */
        for (int d = 0; d < p->ndim; d++) {
            const int64_t k = d < pre ? 1 : a->v[d - pre];
            if (k < 0)
                return nbi_error(NB_ERR_VALUE, "%s: repeats[%d] = %lld is negative", fn, d - pre,
                                 (long long)k);
            if (!nbi_mul_overflow(p->n[d], k, &p->out[d]))
                return nbi_error(NB_ERR_SHAPE,
                                 "%s: axis %d of %lld repeated %lld times "
                                 "overflows",
                                 fn, d, (long long)p->n[d], (long long)k);
        }
        int64_t numel;
        return nbi_check_shape(fn, p->ndim, p->out, &numel);
    }
    default:
        return pad_plan(fn, a, x, p);
    }
    return NB_OK;
}

static nb_status remap_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    plan p;
    if (plan_of(r, &p) != NB_OK)
        return nb_last_status();
    *dtype = r->in[0]->dtype;
    *ndim = p.ndim;
    memcpy(shape, p.out, sizeof p.out);
    return NB_OK;
}

/* x's coordinate on axis d for output coordinate o, or -1 outside x (constant padding). */
static int64_t source(const plan *p, int d, int64_t o)
{
    const int64_t n = p->n[d];
    switch (p->kind) {
    case REMAP_FLIP:
        return p->p[d] ? n - 1 - o : o;
    case REMAP_ROLL:
        return o >= p->p[d] ? o - p->p[d] : o - p->p[d] + n;
    case REMAP_REPEAT:
        return o % n;
    default: {
        const int64_t i = o - p->p[d];
        if (i >= 0 && i < n)
            return i;
        switch (p->mode) {
        case NB_PAD_REFLECT: /* pads < n: one reflection, the edge not repeated */
            return i < 0 ? -i : 2 * (n - 1) - i;
        case NB_PAD_REPLICATE:
            return i < 0 ? 0 : n - 1;
        case NB_PAD_CIRCULAR: /* pads <= n: one wrap */
            return i < 0 ? i + n : i - n;
        default:
            return -1;
        }
    }
    }
}

/* Per output axis, the offset into x (contiguous) of each output coordinate, or -1: tables of
 * sum(out) entries in `tab`, axis d's starting at tab + at[d]. */
static void fill_tables(const plan *p, const nb_tensor *x, int64_t *tab, int64_t *at)
{
    int64_t xs[NB_MAX_DIMS], pos = 0;
    nbi_contiguous_strides(x->ndim, x->shape, xs);
    for (int d = 0; d < p->ndim; d++) {
        at[d] = pos;
        const int64_t stride = d < p->lead ? 0 : xs[d - p->lead];
        for (int64_t o = 0; o < p->out[d]; o++) {
            const int64_t s = source(p, d, o);
            tab[pos++] = s < 0 ? -1 : s * stride;
        }
    }
}

#define NB_KERNELS "ops/remap_kernels.h"
#include "nabla/typed.h"

/* Run the walk for r: forward into r->out, or backward into x's gradient. */
static nb_status remap_run(nbi_record *r, bool backward)
{
    const nb_tensor *x = r->in[0];
    plan p;
    if (plan_of(r, &p) != NB_OK)
        return nb_last_status();
    if (r->out->numel == 0)
        return NB_OK;
    int64_t total = 0, at[NB_MAX_DIMS];
    for (int d = 0; d < p.ndim; d++)
        total += p.out[d];
    bool heap;
    int64_t *tab = nbi_work_alloc(r->def->api, (size_t)(total ? total : 1) * sizeof *tab, &heap);
    if (!tab)
        return NB_ERR_NOMEM;
    fill_tables(&p, x, tab, at);
    if (backward)
        NB_DISPATCH(x->dtype, remap_walk, &p, tab, at, nbi_data(x->grad), nbi_data(r->out->grad),
                    true);
    else
        NB_DISPATCH(x->dtype, remap_walk, &p, tab, at, nbi_data(x), nbi_data(r->out), false);
    if (heap)
        nbi_free(tab);
    return NB_OK;
}

static nb_status remap_forward(nbi_record *r)
{
    return remap_run(r, false);
}

static void remap_backward(nbi_record *r)
{
    if (r->in[0]->grad)
        (void)remap_run(r, true);
}

#define REMAP_OP(sym, api_)                                                                        \
    const nbi_op_def nbi_op_##sym = {                                                              \
        .name = #sym,                                                                              \
        .api = api_,                                                                               \
        .arity = 1,                                                                                \
        .flags = NBI_OP_WRITES_ALL,                                                                \
        .attr_size = sizeof(remap_attr),                                                           \
        .shape = remap_shape,                                                                      \
        .forward = remap_forward,                                                                  \
        .backward = remap_backward,                                                                \
    };
REMAP_OP(flip, "nb_flip")
REMAP_OP(roll, "nb_roll")
REMAP_OP(repeat, "nb_repeat")
REMAP_OP(pad_mode, "nb_pad")

/* Copy n axes (and n values, 2n for pads) into a; false (error set) when n is out of range. */
static bool pack(const char *fn, remap_attr *a, int n, const int *axes, const int64_t *v, int nv)
{
    if (n < 0 || n > NB_MAX_DIMS || (n && ((nv && !v) || (axes == NULL && nv == 0)))) {
        nbi_error(NB_ERR_VALUE, "%s: bad count %d (0 to %d) or NULL array", fn, n, NB_MAX_DIMS);
        return false;
    }
    a->n = n;
    for (int i = 0; i < n; i++) {
        if (axes)
            a->axes[i] = axes[i];
        for (int k = 0; k < nv; k++)
            a->v[nv * i + k] = v[nv * i + k];
    }
    return true;
}

nb_tensor *nb_flip(nb_tensor *x, int n_axes, const int *axes)
{
    remap_attr a = {0};
    if (!pack("nb_flip", &a, n_axes, axes, NULL, 0))
        return NULL;
    return nbi_apply(NB_OP_FLIP, 1, &x, &a);
}

nb_tensor *nb_roll(nb_tensor *x, int n, const int64_t *shifts, const int *axes)
{
    if (!axes) { /* roll the flattened tensor, then restore the shape */
        if (n != 1) {
            nbi_error(NB_ERR_VALUE, "nb_roll: without axes exactly one shift is taken, got %d", n);
            return NULL;
        }
        if (!x) {
            if (!nbi_error_pending())
                nbi_error(NB_ERR_VALUE, "nb_roll: input is NULL");
            return NULL;
        }
        if (!nbi_check_live("nb_roll", x))
            return NULL;
        const int64_t flat = x->numel;
        const int zero = 0;
        nb_tensor *f = nb_reshape(x, 1, &flat), *rolled = nb_roll(f, 1, shifts, &zero);
        nb_tensor *y = nb_reshape(rolled, x->ndim, x->shape);
        nb_tensor_free(f); /* without a step these are ours; arena tensors are ignored */
        nb_tensor_free(rolled);
        return y;
    }
    remap_attr a = {0};
    if (!pack("nb_roll", &a, n, axes, shifts, 1))
        return NULL;
    return nbi_apply(NB_OP_ROLL, 1, &x, &a);
}

static nb_tensor *repeat_apply(nb_tensor *x, int n, const int64_t *repeats, bool tile)
{
    remap_attr a = {.tile = tile};
    if (!pack(tile ? "nb_tile" : "nb_repeat", &a, n, NULL, repeats, 1))
        return NULL;
    return nbi_apply(NB_OP_REPEAT, 1, &x, &a);
}

nb_tensor *nb_repeat(nb_tensor *x, int n, const int64_t *repeats)
{
    return repeat_apply(x, n, repeats, false);
}

nb_tensor *nb_tile(nb_tensor *x, int n, const int64_t *repeats)
{
    return repeat_apply(x, n, repeats, true);
}

nb_tensor *nb_pad(nb_tensor *x, int n_axes, const int64_t *pads, nb_pad_mode mode, double value)
{
    remap_attr a = {.mode = mode, .value = value};
    if (!pack("nb_pad", &a, n_axes, NULL, pads, 2))
        return NULL;
    return nbi_apply(NB_OP_PAD_MODE, 1, &x, &a);
}
