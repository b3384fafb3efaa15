/* ops/matmul.c — (batched) matrix product through BLIS, with strided operands.
 *
 *   C[b] = A[b] @ B[b]          A: [..., M, K], B: [..., K, N], C: [..., M, N]
 *   dA[b] += dC[b] @ B[b]^T     dB[b] += A[b]^T @ dC[b]
 * Transposes are passed to BLIS as swapped row/column strides, so a transposed view costs no
 * copy. Batch dims broadcast; a broadcast operand's gradient accumulates over the batch
 * (beta = 1), so no reduction pass is needed. */
#include "ops/op_def.h"

#include "autograd/profile.h"

#include <string.h>
#include <tgmath.h>

#include "ops/vmath.h"

typedef struct {
    int nbatch; /* number of batch dims of the output */
    int64_t bshape[NB_MAX_DIMS];
} mm_geom;

static nb_status matmul_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const nb_tensor *a = r->in[0], *b = r->in[1];
    if (a->ndim < 2 || b->ndim < 2)
        return nbi_error(NB_ERR_SHAPE, "nb_matmul: operands need >= 2 dims, a is %s, b is %s",
                         nbi_fmt_shape(a), nbi_fmt_shape(b));
    int64_t M = a->shape[a->ndim - 2], K = a->shape[a->ndim - 1];
    int64_t K2 = b->shape[b->ndim - 2], N = b->shape[b->ndim - 1];
    if (K != K2)
        return nbi_error(NB_ERR_SHAPE, "nb_matmul: inner dimensions differ: a is %s, b is %s",
                         nbi_fmt_shape(a), nbi_fmt_shape(b));
    int na = a->ndim - 2, nb = b->ndim - 2, n = na > nb ? na : nb;
    for (int i = 0; i < n; i++) {
        int ia = i - (n - na), ib = i - (n - nb);
        int64_t da = ia >= 0 ? a->shape[ia] : 1, db = ib >= 0 ? b->shape[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return nbi_error(NB_ERR_SHAPE,
                             "nb_matmul: batch dimensions do not broadcast: a is %s, b is %s",
                             nbi_fmt_shape(a), nbi_fmt_shape(b));
        shape[i] = da == 1 ? db : da;
    }
    shape[n] = M;
    shape[n + 1] = N;
    *ndim = n + 2;
    *dtype = a->dtype;
    return NB_OK;
}

/* Storage offset of batch element `bi` (flat over the output's batch shape) in t, whose batch
 * dims are right-aligned with the output's and broadcast where 1 or missing. */
static int64_t batch_offset(const nb_tensor *t, const nb_tensor *out, int64_t bi)
{
    int nbo = out->ndim - 2, nbt = t->ndim - 2;
    int64_t off = 0;
    for (int d = nbo - 1; d >= 0; d--) {
        int64_t idx = bi % out->shape[d];
        bi /= out->shape[d];
        int td = d - (nbo - nbt);
        if (td >= 0 && t->shape[td] != 1)
            off += idx * t->strides[td];
    }
    return off;
}

/* Row/column strides of a matrix view, normalised so that BLIS accepts size-1 dims. */
static void mat_strides(const nb_tensor *t, int64_t *rs, int64_t *cs)
{
    int64_t rows = t->shape[t->ndim - 2], cols = t->shape[t->ndim - 1];
    *rs = t->strides[t->ndim - 2];
    *cs = t->strides[t->ndim - 1];
    if (rows == 1)
        *rs = *cs * (cols > 0 ? cols : 1);
    if (cols == 1)
        *cs = (*rs == 1 && rows > 1) ? rows : 1;
    if (rows == 1 && cols == 1)
        *rs = 1, *cs = 1;
}

static int64_t n_batch(const nb_tensor *out)
{
    int64_t n = 1;
    for (int d = 0; d < out->ndim - 2; d++)
        n *= out->shape[d];
    return n;
}

static nb_status matmul_forward(nbi_record *r)
{
    const nb_tensor *a = r->in[0], *b = r->in[1];
    nb_tensor *c = r->out;
    const size_t es = nb_dtype_size(c->dtype);
    int64_t M = c->shape[c->ndim - 2], N = c->shape[c->ndim - 1], K = a->shape[a->ndim - 1];
    int64_t rsa, csa, rsb, csb;
    mat_strides(a, &rsa, &csa);
    mat_strides(b, &rsb, &csb);
    const char *pa = nbi_data(a), *pb = nbi_data(b);
    char *pc = nbi_data(c);
    if (K == 0) { /* an empty sum: the output is not zeroed beforehand (NBI_OP_WRITES_ALL) */
        memset(pc, 0, (size_t)c->numel * es);
        return NB_OK;
    }
    for (int64_t bi = 0, nb = n_batch(c); bi < nb; bi++)
        nbi_gemm(c->dtype, M, N, K, 1.0, pa + (size_t)batch_offset(a, c, bi) * es, rsa, csa,
                 pb + (size_t)batch_offset(b, c, bi) * es, rsb, csb, 0.0,
                 pc + (size_t)(bi * M * N) * es, N, 1);
    return NB_OK;
}

/* GEMM beta for the gradient of operand x (numel = its batches * mat elements): 0 writes a fresh
 * gradient. An operand broadcast over the batch gets several products added into one matrix,
 * so a fresh buffer is zeroed and accumulated into instead. */
static double grad_beta(const nb_tensor *x, int64_t nbatch, int64_t mat)
{
    if (!x->grad || !x->grad_fresh)
        return 1.0;
    if (x->numel == nbatch * mat)
        return 0.0;
    memset(nbi_data(x->grad), 0, (size_t)x->numel * nb_dtype_size(x->dtype));
    return 1.0;
}

static void matmul_backward(nbi_record *r)
{
    const nb_tensor *a = r->in[0], *b = r->in[1], *c = r->out;
    const size_t es = nb_dtype_size(c->dtype);
    int64_t M = c->shape[c->ndim - 2], N = c->shape[c->ndim - 1], K = a->shape[a->ndim - 1];
    int64_t rsa, csa, rsb, csb;
    mat_strides(a, &rsa, &csa);
    mat_strides(b, &rsb, &csb);
    const char *pa = nbi_data(a), *pb = nbi_data(b), *pdc = nbi_data(c->grad);
    const int64_t nb = n_batch(c);
    const double ba = grad_beta(a, nb, M * K), bb = grad_beta(b, nb, K * N);
    for (int64_t bi = 0; bi < nb; bi++) {
        const char *dc = pdc + (size_t)(bi * M * N) * es;
        if (a->grad) /* dA [M,K] += dC [M,N] @ B^T [N,K] */
            nbi_gemm(c->dtype, M, K, N, 1.0, dc, N, 1, pb + (size_t)batch_offset(b, c, bi) * es,
                     csb, rsb, ba,
                     (char *)nbi_data(a->grad) + (size_t)batch_offset(a->grad, c, bi) * es, K, 1);
        if (b->grad) /* dB [K,N] += A^T [K,M] @ dC [M,N] */
            nbi_gemm(c->dtype, K, N, M, 1.0, pa + (size_t)batch_offset(a, c, bi) * es, csa, rsa, dc,
                     N, 1, bb,
                     (char *)nbi_data(b->grad) + (size_t)batch_offset(b->grad, c, bi) * es, N, 1);
    }
}

/* 2 M N K per product (per batch); backward: one product per input gradient */
static double matmul_flops(const nbi_record *r, bool backward)
{
    const nb_tensor *a = r->in[0];
    double one = 2.0 * (double)r->out->numel * (double)a->shape[a->ndim - 1];
    return backward ? one * ((r->in[0]->grad != NULL) + (r->in[1]->grad != NULL)) : one;
}

const nbi_op_def nbi_op_matmul = {
    .name = "matmul",
    .api = "nb_matmul",
    .arity = 2,
    .flags = NBI_OP_STRIDED | NBI_OP_WRITES_ALL | NBI_OP_GRAD_ASSIGN,
    .shape = matmul_shape,
    .forward = matmul_forward,
    .backward = matmul_backward,
    .flops = matmul_flops,
};

/* BLIS needs a matrix with a non-zero stride in each dim of size > 1: false for a broadcast
 * view of t's last two dims. */
static bool blis_strides_ok(const nb_tensor *t)
{
    for (int d = t->ndim - 2; d < t->ndim; d++)
        if (d >= 0 && t->strides[d] == 0 && t->shape[d] > 1)
            return false;
    return true;
}

static nb_tensor *blis_ready(nb_tensor *t)
{
    return !t || t->ndim < 2 || blis_strides_ok(t) ? t : nb_contiguous(t);
}

/* 1-D operands as [1, k] / [k, 1] views, broadcast operands made BLIS-ready, the product,
 * and the added unit dims squeezed away. */
static nb_tensor *matmul_composed(nb_tensor *a, nb_tensor *b, bool va, bool vb)
{
    nb_tensor *in[2] = {blis_ready(va ? nb_unsqueeze(a, 0) : a),
                        blis_ready(vb ? nb_unsqueeze(b, 1) : b)};
    nb_tensor *c = nbi_apply(NB_OP_MATMUL, 2, in, NULL);
    if (c && va)
        c = nb_squeeze(c, -2);
    if (c && vb)
        c = nb_squeeze(c, -1);
    return c;
}

nb_tensor *nb_matmul(nb_tensor *a, nb_tensor *b)
{
    if (!a || !b || !nbi_check_live("nb_matmul", a) || !nbi_check_live("nb_matmul", b)) {
        nb_tensor *in[2] = {a, b};
        return nbi_error_pending() ? NULL : nbi_apply(NB_OP_MATMUL, 2, in, NULL);
    }
    bool va = a->ndim == 1, vb = b->ndim == 1;
    if (a->ndim == 0 || b->ndim == 0) {
        nbi_error(NB_ERR_SHAPE, "nb_matmul: operands need >= 1 dim, a is %s, b is %s",
                  nbi_fmt_shape(a), nbi_fmt_shape(b));
        return NULL;
    }
    NBI_RETURN_SCOPED(matmul_composed(a, b, va, vb));
}

/* ---- linear: y = act(x) @ w^T + b + r, one op ----
 *   x: [n, n_in], w: [n_out, n_in], b: [n_out], r: [n, n_out] (b and r optional), y: [n, n_out]
 *   dx += (dy @ w) act'(x),  dw += dy^T @ act(x),  db += column sums of dy,  dr += dy
 * As one op, w's gradient is written by one GEMM straight into w->grad (no transposed view to
 * scatter back) and the bias needs no broadcast view whose gradient is reduced afterwards. With
 * an input activation (nb_linear_ex), act(x) lives only in a temporary: computed in forward for
 * the product, and again in backward for w's gradient, so it costs no memory between the two;
 * a residual r is the product's initial value, so the sum is the only tensor. */
typedef struct {
    int act; /* nb_linear_act */
    bool has_b, has_r;
    const char *fn; /* nb_linear or nb_linear_ex */
} linear_attr;

static nb_status linear_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    const linear_attr *a = r->attr;
    if (r->n_in != 2 + a->has_b + a->has_r)
        return nbi_error(NB_ERR_VALUE, "%s: %d inputs, expected %d", a->fn, r->n_in,
                         2 + a->has_b + a->has_r);
    const nb_tensor *x = r->in[0], *w = r->in[1], *b = a->has_b ? r->in[2] : NULL,
                    *res = a->has_r ? r->in[2 + a->has_b] : NULL;
    if (x->ndim != 2 || w->ndim != 2 || x->shape[1] != w->shape[1])
        return nbi_error(NB_ERR_SHAPE,
                         "%s: x must be [n, n_in] and w [n_out, n_in]: x is %s, w is %s", a->fn,
                         nbi_fmt_shape(x), nbi_fmt_shape(w));
    if (b && (b->ndim != 1 || b->shape[0] != w->shape[0]))
        return nbi_error(NB_ERR_SHAPE, "%s: b must be [n_out] = [%lld], got %s", a->fn,
                         (long long)w->shape[0], nbi_fmt_shape(b));
    if (res && (res->ndim != 2 || res->shape[0] != x->shape[0] || res->shape[1] != w->shape[0]))
        return nbi_error(NB_ERR_SHAPE, "%s: the residual must be [n, n_out] = [%lld, %lld], got %s",
                         a->fn, (long long)x->shape[0], (long long)w->shape[0], nbi_fmt_shape(res));
    *dtype = x->dtype;
    *ndim = 2;
    shape[0] = x->shape[0];
    shape[1] = w->shape[0];
    return NB_OK;
}

#define NB_KERNELS "ops/matmul_kernels.h"
#include "nabla/typed.h"

typedef struct {
    nb_tensor *x, *w, *b, *res;
} linear_in;

static linear_in linear_inputs(const nbi_record *r)
{
    const linear_attr *a = r->attr;
    return (linear_in){r->in[0], r->in[1], a->has_b ? r->in[2] : NULL,
                       a->has_r ? r->in[2 + a->has_b] : NULL};
}

/* act(x) into a temporary (x is contiguous when act is set); NULL on out of memory */
static void *act_temp(const linear_attr *a, const nb_tensor *x, size_t bytes, bool *heap)
{
    void *g = nbi_temp(a->fn, bytes, heap);
    if (g)
        NB_DISPATCH(x->dtype, act_fwd, g, nbi_data(x), x->numel, a->act);
    return g;
}

static nb_status linear_forward(nbi_record *r)
{
    const linear_attr *a = r->attr;
    const linear_in in = linear_inputs(r);
    nb_tensor *y = r->out;
    const int64_t n = in.x->shape[0], k = in.x->shape[1], m = in.w->shape[0];
    const void *bias = in.b ? nbi_data(in.b) : NULL;
    if (in.res)
        NB_DISPATCH(y->dtype, residual_rows, nbi_data(y), bias, nbi_data(in.res), n, m);
    else if (in.b)
        NB_DISPATCH(y->dtype, bias_rows, nbi_data(y), bias, n, m);
    if (k == 0) {
        if (!in.b && !in.res)
            memset(nbi_data(y), 0, (size_t)y->numel * nb_dtype_size(y->dtype));
        return NB_OK;
    }
    int64_t rsx, csx, rsw, csw;
    mat_strides(in.x, &rsx, &csx);
    mat_strides(in.w, &rsw, &csw);
    const void *xa = nbi_data(in.x);
    const size_t gbytes = (size_t)in.x->numel * nb_dtype_size(y->dtype);
    bool heap = false;
    void *g = NULL;
    if (a->act) {
        if (!(g = act_temp(a, in.x, gbytes, &heap)))
            return NB_ERR_NOMEM;
        xa = g, rsx = k, csx = 1;
    }
    /* y [n, m] (+)= act(x) [n, k] @ w^T [k, m] */
    nbi_gemm(y->dtype, n, m, k, 1.0, xa, rsx, csx, nbi_data(in.w), csw, rsw,
             in.b || in.res ? 1.0 : 0.0, nbi_data(y), m, 1);
    if (g)
        nbi_temp_release(g, gbytes, heap);
    return NB_OK;
}

static void linear_backward(nbi_record *r)
{
    const linear_attr *a = r->attr;
    const linear_in in = linear_inputs(r);
    const nb_tensor *y = r->out;
    const int64_t n = in.x->shape[0], k = in.x->shape[1], m = in.w->shape[0];
    const void *dy = nbi_data(y->grad);
    const size_t gbytes = (size_t)in.x->numel * nb_dtype_size(y->dtype);
    int64_t rsx, csx, rsw, csw;
    mat_strides(in.x, &rsx, &csx);
    mat_strides(in.w, &rsw, &csw);
    bool heap;
    if (in.x->grad && !a->act) /* dx [n, k] (+)= dy [n, m] @ w [m, k] */
        nbi_gemm(y->dtype, n, k, m, 1.0, dy, m, 1, nbi_data(in.w), rsw, csw, nbi_grad_beta(in.x),
                 nbi_data(in.x->grad), k, 1);
    if (in.x->grad && a->act && k > 0) {
        /* t = dy @ w (in dx itself when dx is written fresh), then dx (+)= t act'(x) */
        const bool fresh = nbi_grad_beta(in.x) == 0;
        void *t = fresh ? nbi_data(in.x->grad) : nbi_temp(a->fn, gbytes, &heap);
        if (!t)
            return; /* the error is set: nb_backward reports it */
        nbi_gemm(y->dtype, n, k, m, 1.0, dy, m, 1, nbi_data(in.w), rsw, csw, 0.0, t, k, 1);
        NB_DISPATCH(y->dtype, act_grad, nbi_data(in.x->grad), t, nbi_data(in.x), in.x->numel,
                    a->act, fresh);
        if (!fresh)
            nbi_temp_release(t, gbytes, heap);
    }
    if (in.w->grad) { /* dw [m, k] (+)= dy^T [m, n] @ act(x) [n, k] */
        const void *xa = nbi_data(in.x);
        void *g = NULL;
        if (a->act && n > 0 && k > 0) {
            if (!(g = act_temp(a, in.x, gbytes, &heap)))
                return;
            xa = g, rsx = k, csx = 1;
        }
        nbi_gemm(y->dtype, m, k, n, 1.0, dy, 1, m, xa, rsx, csx, nbi_grad_beta(in.w),
                 nbi_data(in.w->grad), k, 1);
        if (g)
            nbi_temp_release(g, gbytes, heap);
    }
    if (in.b && in.b->grad)
        NB_DISPATCH(y->dtype, bias_grad, nbi_data(in.b->grad), dy, n, m, nbi_grad_beta(in.b) != 0);
    if (in.res && in.res->grad) { /* dr (=, or +=) dy, as contiguous's backward */
        if (nbi_grad_beta(in.res) == 0)
            memcpy(nbi_data(in.res->grad), dy, (size_t)y->numel * nb_dtype_size(y->dtype));
        else
            nbi_accumulate(in.res->grad, y->grad);
    }
}

/* act(x) [n, k] @ w^T: 2 n m k, + n m for the bias and for the residual; backward: the same
 * per input gradient */
static double linear_flops(const nbi_record *r, bool backward)
{
    const linear_in in = linear_inputs(r);
    double prod = 2.0 * (double)r->out->numel * (double)in.x->shape[1], add = (double)r->out->numel;
    if (!backward)
        return prod + (in.b ? add : 0) + (in.res ? add : 0);
    return prod * ((in.x->grad != NULL) + (in.w->grad != NULL)) + (in.b && in.b->grad ? add : 0);
}

const nbi_op_def nbi_op_linear = {
    .name = "linear",
    .api = "nb_linear",
    .arity = -1,
    .flags = NBI_OP_STRIDED | NBI_OP_WRITES_ALL | NBI_OP_GRAD_ASSIGN,
    .attr_size = sizeof(linear_attr),
    .shape = linear_shape,
    .forward = linear_forward,
    .backward = linear_backward,
    .flops = linear_flops,
};

/* x and w reach BLIS as strides (a transposed w costs no copy); a broadcast view is made
 * BLIS-ready, x contiguous under an activation (its kernels read it flat), and a strided bias
 * or residual contiguous (their rows are copied whole). */
static nb_tensor *linear_composed(nb_tensor *x, nb_tensor *w, nb_tensor *b, nb_tensor *res,
                                  const linear_attr *a)
{
    nb_tensor *in[4] = {a->act && !nbi_is_contiguous(x) ? nb_contiguous(x) : blis_ready(x),
                        blis_ready(w)};
    int n = 2;
    if (b)
        in[n++] = nbi_is_contiguous(b) ? b : nb_contiguous(b);
    if (res)
        in[n++] = nbi_is_contiguous(res) ? res : nb_contiguous(res);
    return nbi_apply(NB_OP_LINEAR, n, in, a);
}

static nb_tensor *linear_apply(const char *fn, nb_tensor *x, nb_tensor *w, nb_tensor *b,
                               nb_tensor *res, nb_linear_act act)
{
    const linear_attr a = {(int)act, b != NULL, res != NULL, fn};
    nb_tensor *in[4] = {x, w, b ? b : res, res};
    const int n = 2 + (b != NULL) + (res != NULL);
    const bool live = x && w && nbi_check_live(fn, x) && nbi_check_live(fn, w) &&
                      (!b || nbi_check_live(fn, b)) && (!res || nbi_check_live(fn, res));
    if (!live && nbi_error_pending())
        return NULL;
    if (!live || (blis_strides_ok(x) && blis_strides_ok(w) && (!act || nbi_is_contiguous(x)) &&
                  (!b || nbi_is_contiguous(b)) && (!res || nbi_is_contiguous(res))))
        return nbi_apply(NB_OP_LINEAR, n, in, &a); /* nothing to convert */
    NBI_RETURN_SCOPED(linear_composed(x, w, b, res, &a));
}

nb_tensor *nb_linear(nb_tensor *x, nb_tensor *w, nb_tensor *b)
{
    return linear_apply("nb_linear", x, w, b, NULL, NB_LINEAR_ACT_NONE);
}

nb_tensor *nb_linear_ex(nb_tensor *x, nb_tensor *w, nb_tensor *b, nb_tensor *residual,
                        nb_linear_act act)
{
    if (act < NB_LINEAR_ACT_NONE || act > NB_LINEAR_ACT_GELU_TANH) {
        nbi_error(NB_ERR_VALUE, "nb_linear_ex: act must be one of NB_LINEAR_ACT_* (0..3), got %d",
                  (int)act);
        return NULL;
    }
    return linear_apply("nb_linear_ex", x, w, b, residual, act);
}

/* ---- in place: c = alpha a @ b + beta c (records nothing) ---- */

nb_status nb_tensor_addmm(nb_tensor *c, double alpha, const nb_tensor *a, const nb_tensor *b,
                          double beta)
{
    const char *fn = "nb_tensor_addmm";
    if (!c || !a || !b)
        return nbi_error(NB_ERR_VALUE, "%s: %s is NULL", fn, !c ? "c" : !a ? "a" : "b");
    if (!nbi_check_live(fn, c) || !nbi_check_live(fn, a) || !nbi_check_live(fn, b))
        return nb_last_status();
    if (c->dtype != a->dtype || c->dtype != b->dtype || (c->dtype != NB_F32 && c->dtype != NB_F64))
        return nbi_error(NB_ERR_DTYPE, "%s: c, a and b must all be f32 or all f64, got %s, %s, %s",
                         fn, nb_dtype_name(c->dtype), nb_dtype_name(a->dtype),
                         nb_dtype_name(b->dtype));
    if (c->ndim != 2 || a->ndim != 2 || b->ndim != 2 || a->shape[1] != b->shape[0] ||
        c->shape[0] != a->shape[0] || c->shape[1] != b->shape[1])
        return nbi_error(NB_ERR_SHAPE,
                         "%s: need c [m, n], a [m, k], b [k, n]; c is %s, a is %s, b is %s", fn,
                         nbi_fmt_shape(c), nbi_fmt_shape(a), nbi_fmt_shape(b));
    if (!isfinite(alpha) || !isfinite(beta))
        return nbi_error(NB_ERR_VALUE, "%s: alpha and beta must be finite, got %g and %g", fn,
                         alpha, beta);
    if (!blis_strides_ok(c) || !blis_strides_ok(a) || !blis_strides_ok(b))
        return nbi_error(NB_ERR_VALUE,
                         "%s: %s is a broadcast view (a stride-0 dim); pass nb_contiguous of it",
                         fn,
                         !blis_strides_ok(c)   ? "c"
                         : !blis_strides_ok(a) ? "a"
                                               : "b");
    if (c->storage == a->storage || c->storage == b->storage)
        return nbi_error(NB_ERR_VALUE,
                         "%s: c shares storage with %s; the product cannot be written "
                         "over its own operand",
                         fn, c->storage == a->storage ? "a" : "b");
    const int64_t m = c->shape[0], n = c->shape[1], k = a->shape[1];
    if (m == 0 || n == 0)
        return NB_OK;
    if (k == 0 || alpha == 0) /* c = beta c; beta = 0 does not read c */
        return beta == 0 ? nb_tensor_fill(c, 0.0) : nb_tensor_axpby(c, beta, c, 0.0);
    int64_t rsa, csa, rsb, csb, rsc, csc;
    mat_strides(a, &rsa, &csa);
    mat_strides(b, &rsb, &csb);
    mat_strides(c, &rsc, &csc);
    nbi_prof_span sp;
    const bool prof = nbi_profiling();
    if (prof)
        nbi_prof_begin(&sp);
    nbi_gemm(c->dtype, m, n, k, alpha, nbi_data(a), rsa, csa, nbi_data(b), rsb, csb, beta,
             nbi_data(c), rsc, csc);
    if (prof) { /* a row of its own in the profile: "addmm (in place)" */
        static const nbi_op_def kind = {.name = "addmm (in place)"};
        nbi_prof_capture_call(&sp, &kind, 2.0 * (double)m * (double)n * (double)k);
        nbi_prof_end(&sp, false);
    }
    return NB_OK;
}
