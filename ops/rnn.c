/* ops/rnn.c — the gate math of an LSTM and a GRU step as one op each (nb_lstm_cell,
 * nb_gru_cell), for the recurrent layers of nn/recurrent.c, which stay compositions: their
 * products are nb_matmul, and each step's elementwise part is one of these ops instead of ten
 * to twelve (slices, sigmoids, tanh, products and sums, each a pass over memory with its own
 * output and tape record, forward and backward).
 *
 *   LSTM: z [.., 4H, ..] (blocks i, f, g, o along `axis`), c [.., H, ..]:
 *         i, f, o = sigmoid, g = tanh of their blocks;  c' = f c + i g;  h' = o tanh(c')
 *         output [.., 2H, ..]: h' then c' along the axis.
 *   GRU:  xg, hg [.., 3H, ..] (blocks r, z, n: the input and the recurrent side), h [.., H, ..],
 *         optional bhn [.., H, ..] (the recurrent bias of n, PyTorch's b_hn):
 *         r = sigmoid(xg_r + hg_r), z = sigmoid(xg_z + hg_z), n = tanh(xg_n + r (hg_n + bhn)),
 *         h' = (1 - z) n + z h;  output [.., H, ..].
 *
 * The gate blocks lie along `axis`: 0 for the layers' feature-major [G*H, B] steps, the last
 * for PyTorch's [B, G*H]. Backward recomputes the gates from the inputs (cheaper than keeping
 * them) and accumulates the gradients of every input. */
#include "ops/op_def.h"

#include <tgmath.h>

#include "ops/vmath.h"

typedef struct {
    int axis; /* resolved: 0 .. ndim - 1 */
} cell_attr;

/* The tensors as [A, rows, Bi] around the gate axis, and the contiguous runs the kernels take:
 * with Bi == 1 one run per a (all H units of a block side by side), else one per (a, unit). */
typedef struct {
    int64_t A, H, Bi, runs, len;
} cell_geom;

static cell_geom cell_geometry(const nb_tensor *h_like, int axis)
{
    cell_geom g = {1, h_like->shape[axis], 1, 0, 0};
    for (int d = 0; d < axis; d++)
        g.A *= h_like->shape[d];
    for (int d = axis + 1; d < h_like->ndim; d++)
        g.Bi *= h_like->shape[d];
    g.runs = g.Bi == 1 ? g.A : g.A * g.H;
    g.len = g.Bi == 1 ? g.H : g.Bi;
    return g;
}

/* Offset of run q in a tensor of R rows along the axis, from its row `row` (a block's first). */
static int64_t run_off(const cell_geom *g, int64_t q, int64_t R, int64_t row)
{
    if (g->Bi == 1)
        return q * R + row;
    return ((q / g->H) * R + row + q % g->H) * g->Bi;
}

/* The offsets of run q in the GRU's tensors: its r, z, n blocks in xg and hg (o[0..2]) and in h,
 * bhn and h' (o[3]). */
static void gru_offsets(const cell_geom *g, int64_t q, int64_t o[4])
{
    for (int k = 0; k < 3; k++)
        o[k] = run_off(g, q, 3 * g->H, k * g->H);
    o[3] = run_off(g, q, g->H, 0);
}

/* Checks that t has `ref`'s shape with `rows` rows along the axis (`what`: "H" or "3H"). */
static nb_status cell_check(const nbi_record *r, const nb_tensor *t, const char *name,
                            const nb_tensor *ref, int axis, int64_t rows, const char *what)
{
    bool ok = t->ndim == ref->ndim && t->shape[axis] == rows;
    for (int d = 0; ok && d < t->ndim; d++)
        ok = d == axis || t->shape[d] == ref->shape[d];
    if (!ok)
        return nbi_error(NB_ERR_SHAPE, "%s: %s is %s, must be %s with %lld (%s) rows along axis %d",
                         r->api, name, nbi_fmt_shape(t), nbi_fmt_shape(ref), (long long)rows, what,
                         axis);
    return NB_OK;
}

/* Shape rule of both: in[0] has G*H rows along the axis; the H-row inputs are checked against
 * it; the output has out_blocks * H rows. */
static nb_status cell_shape(const nbi_record *r, int G, int out_blocks, nb_dtype *dtype, int *ndim,
                            int64_t *shape)
{
    const cell_attr *a = r->attr;
    const nb_tensor *z = r->in[0];
    if (z->ndim < 1 || a->axis < 0 || a->axis >= z->ndim)
        return nbi_error(NB_ERR_SHAPE, "%s: axis %d is out of range for %s", r->api, a->axis,
                         nbi_fmt_shape(z));
    if (z->shape[a->axis] % G)
        return nbi_error(NB_ERR_SHAPE,
                         "%s: %s has %lld rows along axis %d, not %d blocks of equal size", r->api,
                         nbi_fmt_shape(z), (long long)z->shape[a->axis], a->axis, G);
    const int64_t H = z->shape[a->axis] / G;
    static const char *const names[] = {"", "hg", "h", "bhn"};
    for (int i = 1; i < r->n_in; i++) {
        const bool full = G == 3 && i == 1; /* GRU's hg: 3H rows as xg */
        const nb_status st = cell_check(r, r->in[i], G == 4 ? "c" : names[i], z, a->axis,
                                        full ? 3 * H : H, full ? "3H" : "H");
        if (st != NB_OK)
            return st;
    }
    nb_status st = nbi_shape_same(r, dtype, ndim, shape);
    shape[a->axis] = out_blocks * H;
    return st;
}

static nb_status lstm_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    return cell_shape(r, 4, 2, dtype, ndim, shape);
}

static nb_status gru_shape(const nbi_record *r, nb_dtype *dtype, int *ndim, int64_t *shape)
{
    if (r->n_in != 3 && r->n_in != 4)
        return nbi_error(NB_ERR_VALUE, "%s: 3 or 4 inputs (xg, hg, h and optional bhn), got %d",
                         r->api, r->n_in);
    return cell_shape(r, 3, 1, dtype, ndim, shape);
}

#define NB_KERNELS "ops/rnn_kernels.h"
#include "nabla/typed.h"

/* per output element: about 30 flops forward (4 transcendentals counted as one each) */
static double cell_flops(const nbi_record *r, bool backward)
{
    return (double)r->out->numel * (backward ? 30.0 : 15.0);
}

const nbi_op_def nbi_op_lstm_cell = {
    .name = "lstm_cell",
    .api = "nb_lstm_cell",
    .arity = 2,
    .attr_size = sizeof(cell_attr),
    .shape = lstm_shape,
    .forward_f32 = lstm_fwd_f32,
    .forward_f64 = lstm_fwd_f64,
    .backward_f32 = lstm_bwd_f32,
    .backward_f64 = lstm_bwd_f64,
    .flops = cell_flops,
};

const nbi_op_def nbi_op_gru_cell = {
    .name = "gru_cell",
    .api = "nb_gru_cell",
    .arity = -1,
    .attr_size = sizeof(cell_attr),
    .shape = gru_shape,
    .forward_f32 = gru_fwd_f32,
    .forward_f64 = gru_fwd_f64,
    .backward_f32 = gru_bwd_f32,
    .backward_f64 = gru_bwd_f64,
    .flops = cell_flops,
};

/* The axis attribute, negative counted from the end; out of range is left for the shape rule. */
static cell_attr cell_axis(const nb_tensor *t, int axis)
{
    return (cell_attr){.axis = t && axis < 0 ? axis + t->ndim : axis};
}

nb_tensor *nb_lstm_cell(nb_tensor *z, nb_tensor *c, int axis)
{
    const cell_attr a = cell_axis(z, axis);
    return nbi_apply_as(NB_OP_LSTM_CELL, "nb_lstm_cell", (const char *const[]){"z", "c", NULL}, 2,
                        (nb_tensor *[]){z, c}, &a);
}

nb_tensor *nb_gru_cell(nb_tensor *xg, nb_tensor *hg, nb_tensor *h, nb_tensor *bhn, int axis)
{
    const cell_attr a = cell_axis(xg, axis);
    return nbi_apply_as(NB_OP_GRU_CELL, "nb_gru_cell",
                        (const char *const[]){"xg", "hg", "h", "bhn", NULL}, bhn ? 4 : 3,
                        (nb_tensor *[]){xg, hg, h, bhn}, &a);
}
