/* nn/recurrent.c — RNN, LSTM and GRU cells and the layers that run them over sequences.
 *
 * Only public ops: linear maps, sigmoid, tanh, products and sums; nb_backward differentiates
 * through time with no code here. Gate order, equations and initialisation follow PyTorch
 * (torch.nn.RNN/LSTM/GRU), see include/nabla/seq.h.
 *
 * A layer call builds its graph for the sequence it is given, feature-major inside: the input
 * is read as [T, F, B] (block t is step t's [F, B]: the inputs x[b, t, :] as columns) and each
 * step's state is [H, B], so the products are W @ h with the weights as stored and each step
 * reads (and its gradient writes) one contiguous block; each gate is a block of whole rows: gate
 * slices are contiguous and the activations run on them directly (an LSTM step computes sigmoid
 * only over i, f, o and tanh only over g). With biases the input gets a row of ones and the
 * weights a column holding the biases, so the products add them.
 *
 * RNN and LSTM: each step is one product [W_hh | W_ih | b_ih + b_hh] @ [h; x_t; 1], giving the
 * pre-activation of every gate (x_t: the step's block of the input, read in place).
 * GRU needs W_hn h apart from W_in x (its candidate is tanh(W_in x + b_in + r * (W_hn h +
 * b_hn))): the input side of every step is one batched product [W_ih | b_ih + (b_hr, b_hz, 0)]
 * @ x_t for all t before the loop, [T, 3H, B], and each step adds W_hh h and b_hn to its
 * block. The same for LSTM measured slower: its per-step add of the two sides cost more than the
 * copies of [h; x_t] it saves. A stacked layer's input is the layer below's outputs stacked
 * along time, [T, D * H, B]: whole blocks copied, where the earlier [D * H, T * B] layout
 * scattered every step's rows over the whole buffer (W5's concatenations, forward, 1.8 -> 1.1
 * ms per step).
 * Single-step cells (nb_cell_forward) keep the API's [B, H] orientation. */
#include "nabla/autograd.h"
#include "nabla/seq.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define RNN_MAGIC 0x6e627272u /* marks user_data written by this file */
#define MAX_CAT   64          /* inputs per nb_concat call */

typedef struct {
    uint32_t magic;
    nb_rnn_mode mode;
    int64_t in, hidden;
    int layers, dirs; /* dirs: 2 when bidirectional */
    bool bias, is_layer, time_major;
    double dropout; /* between layers, in training mode */
    nb_rng rng;     /* its draws */
} rnn_cfg;

typedef struct {
    nb_tensor *wih, *whh, *bih, *bhh;
} cell_params;

static int n_gates(nb_rnn_mode mode)
{
    return mode == NB_LSTM ? 4 : mode == NB_GRU ? 3 : 1;
}

static const rnn_cfg *cfg_of(const nb_module *m)
{
    const rnn_cfg *c = m ? nb_module_user_data(m) : NULL;
    return c && c->magic == RNN_MAGIC ? c : NULL;
}

/* "LSTM 'encoder.rnn' (65 -> 256, 1 layer)" */
static const char *describe(const nb_module *m, char *buf, size_t size)
{
    char path[256];
    nb_module_path(m, path, sizeof path);
    snprintf(buf, size, "%s%s%s%s (%s)", nb_module_kind(m), *path ? " '" : "", path,
             *path ? "'" : "", nb_module_info(m));
    return buf;
}

/* Error from fn about module m: "fn: <Kind> '<path>' (<info>): <message>". */
static nb_status rnn_error(const char *fn, const nb_module *m, nb_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static nb_status rnn_error(const char *fn, const nb_module *m, nb_status st, const char *fmt, ...)
{
    char who[384], what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return nb_set_error(st, "%s: %s: %s", fn, describe(m, who, sizeof who), what);
}

static const char *shape_of(const nb_tensor *t, char *buf, size_t size)
{
    return nb_tensor_shape_str(t, buf, size);
}

/* Name of parameter `base` of layer l, direction d (PyTorch's: "weight_ih_l1_reverse"; cells:
 * the plain base). */
static void param_name(char *buf, size_t size, const rnn_cfg *cfg, const char *base, int l, int d)
{
    if (cfg->is_layer)
        snprintf(buf, size, "%s_l%d%s", base, l, d ? "_reverse" : "");
    else
        snprintf(buf, size, "%s", base);
}

/* Parameters of layer l, direction d (cells: l = d = 0). */
static cell_params params_of(nb_module *m, const rnn_cfg *cfg, int l, int d)
{
    cell_params p;
    char name[4][40];
    const char *base[4] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
    for (int k = 0; k < 4; k++)
        param_name(name[k], sizeof name[k], cfg, base[k], l, d);
    p.wih = nb_module_param(m, name[0]);
    p.whh = nb_module_param(m, name[1]);
    p.bih = cfg->bias ? nb_module_param(m, name[2]) : NULL;
    p.bhh = cfg->bias ? nb_module_param(m, name[3]) : NULL;
    return p;
}

/* ---- the cell equations ----
 * xg: input side x W_ih^T + b_ih [B, G*H]; hg: recurrent side h W_hh^T + b_hh [B, G*H] (for
 * RNN/LSTM either side may already hold both biases). Returns the new (h, c). */
static nb_rnn_state cell_math(nb_rnn_mode mode, int64_t H, nb_tensor *xg, nb_tensor *hg,
                              nb_rnn_state s)
{
    nb_rnn_state out = {0};
    switch (mode) {
    case NB_RNN_TANH:
        out.h = nb_tanh(nb_add(xg, hg));
        break;
    case NB_RNN_RELU:
        out.h = nb_relu(nb_add(xg, hg));
        break;
    case NB_LSTM: {
        /* i, f, g, o = split(z, 4); c' = f * c + i * g; h' = o * tanh(c'): one op, [B, 2H] */
        nb_tensor *hc = nb_lstm_cell(nb_add(xg, hg), s.c, 1);
        out.h = nb_slice(hc, 1, 0, H, 1);
        out.c = nb_slice(hc, 1, H, 2 * H, 1);
        break;
    }
    case NB_GRU:
        /* r, z = sigmoid(xg[:, :2H] + hg[:, :2H]); n = tanh(xg_n + r * hg_n) (hg holds b_hn);
         * h' = (1 - z) * n + z * h: one op */
        out.h = nb_gru_cell(xg, hg, s.h, NULL, 1);
        break;
    }
    if (!out.h || (mode == NB_LSTM && !out.c))
        out = (nb_rnn_state){0};
    return out;
}

/* ---- checks shared by cells and layers ---- */

static bool need_step(const char *fn, const nb_module *m)
{
    if (nb_step_active())
        return true;
    rnn_error(fn, m, NB_ERR_STATE,
              "no active step: run recurrent modules between nb_step_begin and nb_step_end");
    return false;
}

/* A state member is [lead..., B, H] where lead is [L] for layers and nothing for cells. */
static bool check_state(const char *fn, const nb_module *m, const rnn_cfg *cfg, const char *what,
                        nb_tensor *t, int64_t B)
{
    if (!t)
        return true;
    const int nd = cfg->is_layer ? 3 : 2;
    bool ok = nb_tensor_ndim(t) == nd && nb_tensor_dim(t, -2) == B &&
              nb_tensor_dim(t, -1) == cfg->hidden &&
              (nd == 2 || nb_tensor_dim(t, 0) == cfg->layers * cfg->dirs);
    char got[96];
    if (!ok) {
        if (cfg->is_layer)
            rnn_error(fn, m, NB_ERR_SHAPE, "%s is %s, expected [%d, %lld, %lld] ([layers%s, B, H])",
                      what, shape_of(t, got, sizeof got), cfg->layers * cfg->dirs, (long long)B,
                      (long long)cfg->hidden, cfg->dirs == 2 ? " * 2 directions" : "");
        else
            rnn_error(fn, m, NB_ERR_SHAPE, "%s is %s, expected [%lld, %lld] ([B, H])", what,
                      shape_of(t, got, sizeof got), (long long)B, (long long)cfg->hidden);
        return false;
    }
    if (nb_tensor_dtype(t) != nb_module_dtype(m)) {
        rnn_error(fn, m, NB_ERR_DTYPE, "%s is %s, parameters are %s", what,
                  nb_dtype_name(nb_tensor_dtype(t)), nb_dtype_name(nb_module_dtype(m)));
        return false;
    }
    return true;
}

static bool check_init(const char *fn, const nb_module *m, const rnn_cfg *cfg, nb_rnn_state s,
                       int64_t B)
{
    if ((!s.h || !s.c) && nb_last_status() != NB_OK)
        return false; /* a NULL from a failed expression: keep its message */
    if (s.c && cfg->mode != NB_LSTM) {
        rnn_error(fn, m, NB_ERR_VALUE, "a cell state c was given, but only LSTM has one");
        return false;
    }
    return check_state(fn, m, cfg, "h", s.h, B) && check_state(fn, m, cfg, "c", s.c, B);
}

static nb_tensor *zeros(const nb_module *m, int64_t B, int64_t H)
{
    return nb_constant(nb_module_dtype(m), 2, (int64_t[]){B, H}, 0.0);
}

/* ---- cells ---- */

nb_rnn_state nb_cell_forward(nb_module *cell, nb_tensor *x, nb_rnn_state state)
{
    const char *fn = "nb_cell_forward";
    const nb_rnn_state fail = {0};
    const rnn_cfg *cfg = cfg_of(cell);
    if (!x) {
        if (nb_last_status() == NB_OK)
            nb_set_error(NB_ERR_VALUE, "%s: x is NULL", fn);
        return fail;
    }
    if (!cfg || cfg->is_layer) {
        nb_set_error(NB_ERR_VALUE, "%s: module is %s, expected an RNNCell, LSTMCell or GRUCell", fn,
                     cell ? nb_module_kind(cell) : "NULL");
        return fail;
    }
    char got[96];
    if (nb_tensor_ndim(x) != 2 || nb_tensor_dim(x, 1) != cfg->in) {
        rnn_error(fn, cell, NB_ERR_SHAPE, "x is %s, expected [B, %lld]",
                  shape_of(x, got, sizeof got), (long long)cfg->in);
        return fail;
    }
    if (nb_tensor_dtype(x) != nb_module_dtype(cell)) {
        rnn_error(fn, cell, NB_ERR_DTYPE, "x is %s, parameters are %s",
                  nb_dtype_name(nb_tensor_dtype(x)), nb_dtype_name(nb_module_dtype(cell)));
        return fail;
    }
    const int64_t B = nb_tensor_dim(x, 0), H = cfg->hidden;
    if (!check_init(fn, cell, cfg, state, B) || !need_step(fn, cell))
        return fail;
    if (!state.h)
        state.h = zeros(cell, B, H);
    if (cfg->mode == NB_LSTM && !state.c)
        state.c = zeros(cell, B, H);
    cell_params p = params_of(cell, cfg, 0, 0);
    return cell_math(cfg->mode, H, nb_linear(x, p.wih, p.bih), nb_linear(state.h, p.whh, p.bhh),
                     state);
}

static nb_tensor *cell_module_forward(nb_module *m, nb_tensor *x)
{
    return nb_cell_forward(m, x, (nb_rnn_state){0}).h;
}

/* ---- layers ---- */

/* nb_concat of any number of inputs: groups of at most MAX_CAT, recursively. */
static nb_tensor *concat_many(int n, nb_tensor **xs, int axis)
{
    if (n <= MAX_CAT)
        return nb_concat(n, xs, axis);
    const int per = (n + MAX_CAT - 1) / MAX_CAT; /* so that at most MAX_CAT groups remain */
    nb_tensor *parts[MAX_CAT];
    int g = 0;
    for (int lo = 0; lo < n; lo += per, g++)
        if (!(parts[g] = concat_many(lo + per <= n ? per : n - lo, xs + lo, axis)))
            return NULL;
    return nb_concat(g, parts, axis);
}

/* Stack n tensors of equal shape along a new axis, for any n: nb_stack of groups of at most
 * MAX_CAT inputs, concatenated along that axis. */
static nb_tensor *stack_many(int n, nb_tensor **xs, int axis)
{
    if (n <= MAX_CAT)
        return nb_stack(n, xs, axis);
    const int n_groups = (n + MAX_CAT - 1) / MAX_CAT;
    nb_tensor **groups = nb_malloc((size_t)n_groups * sizeof *groups);
    if (!groups) {
        nb_set_error(NB_ERR_NOMEM, "nb_rnn_forward: out of memory for %d steps", n);
        return NULL;
    }
    nb_tensor *y = NULL;
    int g = 0;
    for (; g < n_groups; g++) {
        const int lo = g * MAX_CAT, k = n - lo < MAX_CAT ? n - lo : MAX_CAT;
        if (!(groups[g] = nb_stack(k, xs + lo, axis)))
            break;
    }
    if (g == n_groups)
        y = concat_many(n_groups, groups, axis);
    nb_free(groups);
    return y;
}

/* ---- layers: the feature-major step ----
 * Inside a layer every per-step tensor is feature-major, [rows, B] (the transpose of the
 * [B, H] of the API): the recurrent product is W_hh [G*H, H] @ h [H, B], so each gate is a
 * block of whole rows and every gate slice is contiguous (no copies before the activations).
 * xg: the step's input side [G*H, B] (block t of the precomputed [T, G*H, B]; for GRU the
 * r, z rows already hold b_hr, b_hz) or NULL when hg already holds it (RNN, LSTM); hg: the
 * recurrent product; bhn: GRU's b_hn as a dense [H, B] (or NULL). */
static nb_rnn_state step_t(nb_rnn_mode mode, int64_t H, nb_tensor *xg, nb_tensor *hg,
                           nb_tensor *bhn, nb_rnn_state s)
{
    nb_rnn_state out = {0};
    switch (mode) {
    case NB_RNN_TANH:
        out.h = nb_tanh(xg ? nb_add(xg, hg) : hg);
        break;
    case NB_RNN_RELU:
        out.h = nb_relu(xg ? nb_add(xg, hg) : hg);
        break;
    case NB_LSTM: {
        /* z [4H, B]: rows i, f, g, o; one op gives [h'; c'] [2H, B], two row blocks */
        nb_tensor *hc = nb_lstm_cell(xg ? nb_add(xg, hg) : hg, s.c, 0);
        out.h = nb_slice(hc, 0, 0, H, 1);
        out.c = nb_slice(hc, 0, H, 2 * H, 1);
        break;
    }
    case NB_GRU:
        /* r, z = sigmoid(xg[:2H] + hg[:2H]); n = tanh(xg_n + r * (hg_n + b_hn));
         * h' = (1 - z) * n + z * h: one op */
        out.h = nb_gru_cell(xg, hg, s.h, bhn, 0);
        break;
    }
    if (!out.h || (mode == NB_LSTM && !out.c))
        out = (nb_rnn_state){0};
    return out;
}

/* Member k = l * D + d of an initial state ([L * D, B, H]), feature-major [H, B]: the
 * transposed view of init[k], or zeros. */
static nb_tensor *init_t(const nb_module *m, nb_tensor *init, int k, int64_t B, int64_t H)
{
    if (!init)
        return nb_constant(nb_module_dtype(m), 2, (int64_t[]){H, B}, 0.0);
    return nb_transpose(nb_squeeze(nb_slice(init, 0, k, k + 1, 1), 0), 0, 1);
}

/* Checks x [B, T, F] (or [T, B, F] time-major) and the lengths; sets *B, *T. */
static bool check_input(const char *fn, const nb_module *layer, const rnn_cfg *cfg, nb_tensor *x,
                        const int64_t *lengths, int64_t *B, int64_t *T)
{
    char got[96];
    const int bd = cfg->time_major ? 1 : 0, td = 1 - bd;
    if (nb_tensor_ndim(x) != 3 || nb_tensor_dim(x, 2) != cfg->in || nb_tensor_dim(x, td) < 1) {
        rnn_error(fn, layer, NB_ERR_SHAPE, "x is %s, expected %s%lld] (%s, T >= 1)",
                  shape_of(x, got, sizeof got), cfg->time_major ? "[T, B, " : "[B, T, ",
                  (long long)cfg->in, cfg->time_major ? "time-major" : "batch-first");
        return false;
    }
    if (nb_tensor_dtype(x) != nb_module_dtype(layer)) {
        rnn_error(fn, layer, NB_ERR_DTYPE, "x is %s, parameters are %s",
                  nb_dtype_name(nb_tensor_dtype(x)), nb_dtype_name(nb_module_dtype(layer)));
        return false;
    }
    *B = nb_tensor_dim(x, bd);
    *T = nb_tensor_dim(x, td);
    if (*T > INT32_MAX / 4) {
        rnn_error(fn, layer, NB_ERR_SHAPE, "sequence of %lld steps is too long", (long long)*T);
        return false;
    }
    for (int64_t b = 0; lengths && b < *B; b++)
        if (lengths[b] < 1 || lengths[b] > *T) {
            rnn_error(fn, layer, NB_ERR_VALUE, "lengths[%lld] is %lld, expected 1 .. T = %lld",
                      (long long)b, (long long)lengths[b], (long long)*T);
            return false;
        }
    return true;
}

/* Validity mask [T, B] of the steps (1 at t < lengths[b], 0 after), built from constants: each
 * column is ones over its length followed by zeros. */
static nb_tensor *step_mask(nb_dtype dt, const int64_t *lengths, int64_t B, int64_t T,
                            nb_tensor **cols)
{
    for (int64_t b = 0; b < B; b++) {
        nb_tensor *parts[2] = {nb_constant(dt, 2, (int64_t[]){lengths[b], 1}, 1.0),
                               nb_constant(dt, 2, (int64_t[]){T - lengths[b], 1}, 0.0)};
        cols[b] = lengths[b] == T ? parts[0] : nb_concat(2, parts, 0);
        if (!cols[b])
            return NULL;
    }
    return concat_many((int)B, cols, 1);
}

/* One direction of one layer over all steps (backward in time when rev). inp: the layer's input
 * [T, F (+ 1), B]; mask: [T, B] or NULL; steps t < t_full are valid in every sequence. Writes
 * every step's output [H, B] to hs[t] (0 at padded steps) and returns the final state; at a
 * padded step the state is carried unchanged, so the state returned is each sequence's own
 * last one, and the backward direction starts at each sequence's own last step. */
static nb_rnn_state run_direction(const rnn_cfg *cfg, nb_module *layer, cell_params p,
                                  nb_tensor *inp, nb_rnn_state s, nb_tensor *mask, int64_t t_full,
                                  bool rev, int64_t B, int64_t T, nb_tensor **hs)
{
    const nb_rnn_state fail = {0};
    const nb_dtype dt = nb_module_dtype(layer);
    const int64_t H = cfg->hidden, GH = n_gates(cfg->mode) * H;
    /* The input side of every step, with the biases that do not depend on the step: b_ih and
     * b_hh (for GRU only b_hr, b_hz; b_hn stays beside W_hn h because the
     * candidate needs r * (W_hn h + b_hn)). */
    nb_tensor *wih = p.wih, *bhn = NULL, *xg_all = NULL, *w_all = NULL;
    if (p.bih) {
        nb_tensor *b = p.bhh;
        if (cfg->mode == NB_GRU) {
            nb_tensor *parts[2] = {nb_slice(p.bhh, 0, 0, 2 * H, 1),
                                   nb_constant(dt, 1, (int64_t[]){H}, 0.0)};
            b = nb_concat(2, parts, 0);
            /* b_hn as a dense [H, B] block, so each step's add is a dense one */
            bhn = nb_contiguous(
                nb_expand(nb_reshape(nb_slice(p.bhh, 0, 2 * H, 3 * H, 1), 2, (int64_t[]){H, 1}), 2,
                          (int64_t[]){H, B}));
        }
        nb_tensor *cols[2] = {p.wih, nb_reshape(nb_add(p.bih, b), 2, (int64_t[]){GH, 1})};
        wih = nb_concat(2, cols, 1); /* [G*H, in + 1] */
    }
    if (cfg->mode == NB_GRU) {
        /* GRU needs W_hn h apart from W_in x: one product per step, batched, [T, G*H, B]. Each
         * step's block is contiguous and so is its gradient, which the step's slice adds back
         * (as a column block of [G*H, T * B] it was G*H rows of B scattered over the whole
         * buffer, and adding it cost more than the step's products). */
        xg_all = nb_matmul(wih, inp);
    } else {
        /* RNN, LSTM: each step's pre-activation in one product, [W_hh | W_ih | b] @ [h; x_t; 1] */
        nb_tensor *w_parts[2] = {p.whh, wih};
        w_all = nb_concat(2, w_parts, 1); /* [G*H, H + in (+ 1)] */
    }
    nb_tensor *zero = mask ? nb_constant(dt, 2, (int64_t[]){1, 1}, 0.0) : NULL;
    for (int64_t k = 0; k < T; k++) {
        const int64_t t = rev ? T - 1 - k : k;
        nb_rnn_state n;
        if (cfg->mode == NB_GRU) {
            nb_tensor *xg = nb_squeeze(nb_slice(xg_all, 0, t, t + 1, 1), 0);
            n = step_t(cfg->mode, H, xg, nb_matmul(p.whh, s.h), bhn, s);
        } else {
            nb_tensor *hx[2] = {s.h, nb_squeeze(nb_slice(inp, 0, t, t + 1, 1), 0)};
            n = step_t(cfg->mode, H, NULL, nb_matmul(w_all, nb_concat(2, hx, 0)), NULL, s);
        }
        if (!n.h)
            return fail;
        hs[t] = n.h;
        if (mask && t >= t_full) { /* some sequences have ended: keep their state, output 0 */
            nb_tensor *m = nb_slice(mask, 0, t, t + 1, 1); /* [1, B] */
            hs[t] = nb_where(m, n.h, zero);
            n.h = nb_where(m, n.h, s.h);
            if (n.c)
                n.c = nb_where(m, n.c, s.c);
            if (!hs[t] || !n.h || (s.c && !n.c))
                return fail;
        }
        s = n;
    }
    return s;
}

static nb_tensor *layer_forward(const char *fn, nb_module *layer, nb_tensor *x,
                                const int64_t *lengths, nb_rnn_state init, nb_rnn_state *last)
{
    if (last)
        *last = (nb_rnn_state){0};
    rnn_cfg *cfg = layer ? nb_module_user_data(layer) : NULL;
    if (!x) {
        if (nb_last_status() == NB_OK)
            nb_set_error(NB_ERR_VALUE, "%s: x is NULL", fn);
        return NULL;
    }
    if (!cfg_of(layer) || !cfg->is_layer) {
        nb_set_error(NB_ERR_VALUE, "%s: module is %s, expected an RNN, LSTM or GRU layer", fn,
                     layer ? nb_module_kind(layer) : "NULL");
        return NULL;
    }
    int64_t B = 0, T = 0;
    if (!check_input(fn, layer, cfg, x, lengths, &B, &T) || !check_init(fn, layer, cfg, init, B) ||
        !need_step(fn, layer))
        return NULL;
    const int64_t H = cfg->hidden;
    const int D = cfg->dirs, LD = cfg->layers * D;
    int64_t t_full = T; /* steps before t_full are valid in every sequence */
    for (int64_t b = 0; lengths && b < B; b++)
        t_full = lengths[b] < t_full ? lengths[b] : t_full;

    const int64_t n_ptr = (int64_t)(D + 1) * T + 2 * LD + (t_full < T ? B : 0);
    nb_tensor **hs = nb_malloc((size_t)n_ptr * sizeof *hs);
    if (!hs) {
        rnn_error(fn, layer, NB_ERR_NOMEM, "out of memory for %lld steps", (long long)T);
        return NULL;
    }
    nb_tensor **out = hs + (int64_t)D * T; /* per step [D * H, B] */
    nb_tensor **last_h = out + T, **last_c = last_h + LD, **scratch = last_c + LD;
    const nb_dtype dt = nb_module_dtype(layer);
    nb_tensor *mask = t_full < T ? step_mask(dt, lengths, B, T, scratch) : NULL;
    if (t_full < T && !mask)
        goto fail;
    /* Time-major, feature-major input [T, F, B]: block t is step t's [F, B], contiguous once
     * copied, so a step reads (and its gradient writes) one block. With biases each block gets a
     * row of ones and W_ih a column holding the biases, so that one product adds them. */
    nb_tensor *inp = nb_permute(x, cfg->time_major ? (int[]){0, 2, 1} : (int[]){1, 2, 0});
    nb_tensor *y = NULL;
    for (int l = 0; l < cfg->layers; l++) {
        if (cfg->bias) {
            nb_tensor *parts[2] = {inp, nb_constant(dt, 3, (int64_t[]){T, 1, B}, 1.0)};
            inp = nb_concat(2, parts, 1);
        }
        for (int d = 0; d < D; d++) {
            const int k = l * D + d;
            nb_rnn_state s = {.h = init_t(layer, init.h, k, B, H),
                              .c = cfg->mode == NB_LSTM ? init_t(layer, init.c, k, B, H) : NULL};
            s = run_direction(cfg, layer, params_of(layer, cfg, l, d), inp, s, mask, t_full, d == 1,
                              B, T, hs + (int64_t)d * T);
            if (!s.h)
                goto fail;
            last_h[k] = nb_transpose(s.h, 0, 1);
            last_c[k] = s.c ? nb_transpose(s.c, 0, 1) : NULL;
        }
        for (int64_t t = 0; t < T; t++) {
            nb_tensor *pair[2] = {hs[t], D == 2 ? hs[T + t] : NULL};
            if (!(out[t] = D == 2 ? nb_concat(2, pair, 0) : hs[t]))
                goto fail;
        }
        if (l + 1 < cfg->layers) { /* next layer's input: [T, D * H, B] */
            inp = stack_many((int)T, out, 0);
            if (cfg->dropout > 0.0 && nb_module_is_training(layer))
                inp = nb_dropout(inp, cfg->dropout, &cfg->rng);
        } else if (cfg->time_major) { /* [T, B, D * H] from the [D * H, B] outputs */
            y = nb_contiguous(nb_transpose(stack_many((int)T, out, 0), 1, 2));
        } else { /* [B, T, D * H] */
            for (int64_t t = 0; t < T; t++)
                if (!(out[t] = nb_transpose(out[t], 0, 1)))
                    goto fail;
            y = stack_many((int)T, out, 1);
        }
    }
    if (y && last) {
        last->h = stack_many(LD, last_h, 0);
        last->c = cfg->mode == NB_LSTM ? stack_many(LD, last_c, 0) : NULL;
        if (!last->h || (cfg->mode == NB_LSTM && !last->c)) {
            *last = (nb_rnn_state){0};
            y = NULL;
        }
    }
    nb_free(hs);
    return y;
fail:
    nb_free(hs);
    return NULL;
}

nb_tensor *nb_rnn_forward_ex(nb_module *layer, nb_tensor *x, const int64_t *lengths,
                             nb_rnn_state init, nb_rnn_state *last)
{
    return layer_forward("nb_rnn_forward_ex", layer, x, lengths, init, last);
}

nb_tensor *nb_rnn_forward(nb_module *layer, nb_tensor *x, nb_rnn_state init, nb_rnn_state *last)
{
    return layer_forward("nb_rnn_forward", layer, x, NULL, init, last);
}

static nb_tensor *layer_module_forward(nb_module *m, nb_tensor *x)
{
    return nb_rnn_forward(m, x, (nb_rnn_state){0}, NULL);
}

/* ---- construction ---- */

static const char *kind_name(nb_rnn_mode mode, bool layer)
{
    static const char *const names[2][4] = {{"RNNCell", "RNNCell", "LSTMCell", "GRUCell"},
                                            {"RNN", "RNN", "LSTM", "GRU"}};
    return names[layer][mode];
}

static nb_module *make(int64_t in, int64_t hidden, const nb_rnn_opts *o, nb_rng *rng, bool is_layer,
                       const char *fn)
{
    const nb_rnn_mode mode = o->mode;
    const int layers = o->num_layers, dirs = o->bidirectional ? 2 : 1;
    const bool bias = !o->no_bias;
    if ((unsigned)mode > NB_GRU) {
        nb_set_error(NB_ERR_VALUE, "%s: unknown mode %d", fn, (int)mode);
        return NULL;
    }
    if (in < 1 || hidden < 1 || layers < 1 || !rng) {
        nb_set_error(NB_ERR_VALUE,
                     "%s: %s: need input_size, hidden_size, num_layers >= 1 and an rng, got "
                     "%lld, %lld, %d%s",
                     fn, kind_name(mode, is_layer), (long long)in, (long long)hidden, layers,
                     rng ? "" : " and rng NULL");
        return NULL;
    }
    if (!(o->dropout >= 0.0 && o->dropout < 1.0)) {
        nb_set_error(NB_ERR_VALUE, "%s: %s: dropout must be in [0, 1), got %g", fn,
                     kind_name(mode, is_layer), o->dropout);
        return NULL;
    }
    rnn_cfg *cfg = nb_malloc(sizeof *cfg);
    if (!cfg) {
        nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        return NULL;
    }
    *cfg = (rnn_cfg){.magic = RNN_MAGIC,
                     .mode = mode,
                     .in = in,
                     .hidden = hidden,
                     .layers = layers,
                     .dirs = dirs,
                     .bias = bias,
                     .is_layer = is_layer,
                     .time_major = o->time_major,
                     .dropout = o->dropout};
    nb_module *m =
        nb_module_new(kind_name(mode, is_layer), o->dtype,
                      is_layer ? layer_module_forward : cell_module_forward, cfg, nb_free);
    if (!m)
        return NULL;
    const int64_t GH = n_gates(mode) * hidden;
    /* PyTorch's RNNBase.reset_parameters: every weight and bias uniform in +-1/sqrt(H). Parameters
     * are created layer by layer and in a layer direction by direction (weight_ih, weight_hh,
     * bias_ih, bias_hh), then drawn in that order. */
    for (int l = 0; l < layers; l++)
        for (int d = 0; d < dirs; d++) {
            const char *base[4] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
            const int64_t cols[2] = {l == 0 ? in : dirs * hidden, hidden};
            for (int k = 0; k < (bias ? 4 : 2); k++) {
                char name[40];
                param_name(name, sizeof name, cfg, base[k], l, d);
                nb_tensor *t = k < 2 ? nb_module_add_param(m, name, 2, (int64_t[]){GH, cols[k]})
                                     : nb_module_add_param(m, name, 1, (int64_t[]){GH});
                if (!t) {
                    nb_module_free(m);
                    return NULL;
                }
            }
        }
    const double bound = 1.0 / sqrt((double)hidden);
    nb_tensor *all = nb_module_param_buffer(m);
    if (nb_init_uniform(all, rng, -bound, bound) != NB_OK) {
        nb_module_free(m);
        return NULL;
    }
    if (o->dropout > 0.0)
        cfg->rng = nb_rng_seed(nb_rng_u64(rng));
    char layers_txt[32] = "", extra[64] = "";
    if (is_layer)
        snprintf(layers_txt, sizeof layers_txt, ", %d layer%s", layers, layers > 1 ? "s" : "");
    if (o->dropout > 0.0)
        snprintf(extra, sizeof extra, ", dropout %g", o->dropout);
    nb_module_set_info(m, "%lld -> %lld%s%s%s%s%s%s", (long long)in, (long long)hidden, layers_txt,
                       dirs == 2 ? ", bidirectional" : "", mode == NB_RNN_RELU ? ", relu" : "",
                       bias ? "" : ", no bias", o->time_major ? ", time-major" : "", extra);
    return m;
}

static nb_module *make_cell(nb_rnn_mode mode, int64_t in, int64_t hidden, bool bias, nb_rng *rng,
                            nb_dtype dtype)
{
    const nb_rnn_opts o = {.mode = mode, .num_layers = 1, .no_bias = !bias, .dtype = dtype};
    return make(in, hidden, &o, rng, false, "nb_rnn_cell_new");
}

static nb_module *make_layer(nb_rnn_mode mode, int64_t in, int64_t hidden, int layers, bool bias,
                             nb_rng *rng, nb_dtype dtype)
{
    const nb_rnn_opts o = {.mode = mode, .num_layers = layers, .no_bias = !bias, .dtype = dtype};
    return make(in, hidden, &o, rng, true, "nb_rnn_new");
}

nb_module *nb_rnn_cell_new_ex(nb_rnn_mode mode, int64_t input_size, int64_t hidden_size, bool bias,
                              nb_rng *rng, nb_dtype dtype)
{
    return make_cell(mode, input_size, hidden_size, bias, rng, dtype);
}

nb_module *nb_rnn_cell_new(int64_t input_size, int64_t hidden_size, nb_rng *rng)
{
    return make_cell(NB_RNN_TANH, input_size, hidden_size, true, rng, NB_F32);
}

nb_module *nb_lstm_cell_new(int64_t input_size, int64_t hidden_size, nb_rng *rng)
{
    return make_cell(NB_LSTM, input_size, hidden_size, true, rng, NB_F32);
}

nb_module *nb_gru_cell_new(int64_t input_size, int64_t hidden_size, nb_rng *rng)
{
    return make_cell(NB_GRU, input_size, hidden_size, true, rng, NB_F32);
}

nb_module *nb_rnn_new_ex(nb_rnn_mode mode, int64_t input_size, int64_t hidden_size, int num_layers,
                         bool bias, nb_rng *rng, nb_dtype dtype)
{
    return make_layer(mode, input_size, hidden_size, num_layers, bias, rng, dtype);
}

nb_module *nb_rnn_new(int64_t input_size, int64_t hidden_size, int num_layers, nb_rng *rng)
{
    return make_layer(NB_RNN_TANH, input_size, hidden_size, num_layers, true, rng, NB_F32);
}

nb_module *nb_lstm_new(int64_t input_size, int64_t hidden_size, int num_layers, nb_rng *rng)
{
    return make_layer(NB_LSTM, input_size, hidden_size, num_layers, true, rng, NB_F32);
}

nb_module *nb_gru_new(int64_t input_size, int64_t hidden_size, int num_layers, nb_rng *rng)
{
    return make_layer(NB_GRU, input_size, hidden_size, num_layers, true, rng, NB_F32);
}

nb_module *nb_rnn_layer_new(int64_t input_size, int64_t hidden_size, const nb_rnn_opts *opts,
                            nb_rng *rng)
{
    nb_rnn_opts o = opts ? *opts : (nb_rnn_opts){0};
    if (o.num_layers == 0)
        o.num_layers = 1;
    return make(input_size, hidden_size, &o, rng, true, "nb_rnn_layer_new");
}

/* ---- queries ---- */

int nb_rnn_mode_of(const nb_module *m)
{
    const rnn_cfg *c = cfg_of(m);
    return c ? (int)c->mode : -1;
}

int64_t nb_rnn_input_size(const nb_module *m)
{
    const rnn_cfg *c = cfg_of(m);
    return c ? c->in : -1;
}

int64_t nb_rnn_hidden_size(const nb_module *m)
{
    const rnn_cfg *c = cfg_of(m);
    return c ? c->hidden : -1;
}

int nb_rnn_num_layers(const nb_module *m)
{
    const rnn_cfg *c = cfg_of(m);
    return c ? c->layers : -1;
}

int nb_rnn_num_directions(const nb_module *m)
{
    const rnn_cfg *c = cfg_of(m);
    return c ? c->dirs : -1;
}

bool nb_is_rnn_layer(const nb_module *m)
{
    const rnn_cfg *c = cfg_of(m);
    return c && c->is_layer;
}

/* ---- state helpers ---- */

nb_rnn_state nb_rnn_state_zeros(const nb_module *m, int64_t batch)
{
    const rnn_cfg *cfg = cfg_of(m);
    nb_rnn_state s = {0};
    if (!cfg || batch < 1) {
        nb_set_error(NB_ERR_VALUE,
                     "nb_rnn_state_zeros: need a recurrent module and batch >= 1, "
                     "got %s and %lld",
                     m ? nb_module_kind(m) : "NULL", (long long)batch);
        return s;
    }
    const int64_t shape[3] = {cfg->layers * cfg->dirs, batch, cfg->hidden};
    const int nd = cfg->is_layer ? 3 : 2;
    const int64_t *sh = cfg->is_layer ? shape : shape + 1;
    s.h = nb_tensor_zeros(nb_module_dtype(m), nd, sh);
    if (s.h && cfg->mode == NB_LSTM)
        s.c = nb_tensor_zeros(nb_module_dtype(m), nd, sh);
    if (!s.h || (cfg->mode == NB_LSTM && !s.c))
        nb_rnn_state_free(&s);
    return s;
}

static nb_status copy_member(const char *what, nb_tensor *dst, nb_tensor *src)
{
    if (!dst && !src)
        return NB_OK;
    if (!dst || !src)
        return nb_set_error(NB_ERR_VALUE, "nb_rnn_state_copy_into: %s is %s in dst but %s in src",
                            what, dst ? "set" : "NULL", src ? "set" : "NULL");
    char a[96], b[96];
    if (nb_tensor_numel(dst) != nb_tensor_numel(src) || nb_tensor_ndim(dst) != nb_tensor_ndim(src))
        return nb_set_error(NB_ERR_SHAPE, "nb_rnn_state_copy_into: %s: dst is %s, src is %s", what,
                            shape_of(dst, a, sizeof a), shape_of(src, b, sizeof b));
    return nb_tensor_copy_into(dst, src);
}

nb_status nb_rnn_state_copy_into(nb_rnn_state *dst, nb_rnn_state src)
{
    if (!dst)
        return nb_set_error(NB_ERR_VALUE, "nb_rnn_state_copy_into: dst is NULL");
    nb_status st = copy_member("h", dst->h, src.h);
    return st == NB_OK ? copy_member("c", dst->c, src.c) : st;
}

nb_rnn_state nb_rnn_state_detach(nb_rnn_state s)
{
    nb_rnn_state d = {s.h ? nb_detach(s.h) : NULL, s.c ? nb_detach(s.c) : NULL};
    return d;
}

void nb_rnn_state_reset(nb_rnn_state *s)
{
    if (!s)
        return;
    if (s->h)
        nb_tensor_fill(s->h, 0.0);
    if (s->c)
        nb_tensor_fill(s->c, 0.0);
}

void nb_rnn_state_free(nb_rnn_state *s)
{
    if (!s)
        return;
    nb_tensor_free(s->h);
    nb_tensor_free(s->c);
    s->h = s->c = NULL;
}
