/* nabla/seq.h — sequence modules: embeddings, one-hot, recurrent cells (RNN, LSTM, GRU) and the
 * layers that run them over sequences, with state carried across truncated-BPTT chunks.
 *
 * Everything here is an nb_module (see nn.h) built only from public ops, so nb_backward
 * differentiates it, optimizers update it and checkpoints save it like any other module.
 *
 * Cells. One time step, with PyTorch's parameter names, gate order and equations (x: [B, F],
 * h: [B, H], weights uniform in +-1/sqrt(H) as in PyTorch):
 *
 *   RNN:  h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)                      (ReLU on request)
 *   LSTM: i, f, g, o = split(x W_ih^T + b_ih + h W_hh^T + b_hh, 4)         W_ih: [4H, F]
 *         c' = sigmoid(f) * c + sigmoid(i) * tanh(g);  h' = sigmoid(o) * tanh(c')
 *   GRU:  r, z = sigmoid(split(x W_ih^T + b_ih + h W_hh^T + b_hh)[0:2H])   W_ih: [3H, F]
 *         n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn));  h' = (1 - z) * n + z * h
 *
 * Parameters of a cell: "weight_ih" [G*H, F], "weight_hh" [G*H, H], "bias_ih" [G*H],
 * "bias_hh" [G*H] (G = 1, 4, 3), biases only when requested. A layer of L stacked cells has
 * "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", ..., "_l{L-1}" (layer k > 0 reads
 * the hidden states of layer k - 1, so its weight_ih is [G*H, H]).
 *
 * Layers. Input is batch-first x: [B, T, F] for any T >= 1; the graph is built per call, one
 * cell application per step (nothing is unrolled in advance). The output is every hidden state
 * of the last layer, y: [B, T, H] (contiguous), and the last state of every layer,
 * h_n (and c_n for LSTM): [L, B, H].
 *
 *     nb_rng rng = nb_rng_seed(1);
 *     nb_module *lstm = nb_lstm_new(65, 256, 1, &rng);
 *     nb_rnn_state carry = nb_rnn_state_zeros(lstm, batch);   (caller-owned [L, B, H] tensors)
 *     for each chunk of T steps:
 *         nb_step_begin(step);
 *         nb_rnn_state last;
 *         nb_tensor *y = nb_rnn_forward(lstm, x, carry, &last);          (y: [B, T, 256])
 *         ... loss, nb_backward, nb_clip_grad_norm, nb_optim_update ...
 *         nb_rnn_state_copy_into(&carry, last);   (truncated BPTT: values kept, graph cut)
 *         nb_step_end(step);
 *     nb_rnn_state_free(&carry);
 *
 * Bidirectional, stacked, time-major, variable-length (nb_rnn_layer_new, nb_rnn_forward_ex). A
 * layer built with nb_rnn_opts may run each layer in both directions (bidirectional): the
 * reverse direction reads the sequence from its end, and every layer's output is the two
 * directions' hidden states concatenated, [forward | reverse], so layer k > 0 reads D * H
 * features (D = 2 directions, 1 otherwise). Dropout (opts.dropout) applies to each layer's output
 * but the last's, in training mode only, drawing from the layer's own generator (seeded from the
 * rng given at construction). time_major reads x as [T, B, F] and returns y [T, B, D * H].
 * nb_rnn_forward_ex takes lengths[B] (1 <= lengths[b] <= T): steps t >= lengths[b] of sequence
 * b are padding; they neither change its state nor produce output (y is 0 there, as PyTorch's
 * pad_packed_sequence gives, so nothing flows back from them), h_n is each sequence's state at
 * its own last step, and the reverse direction starts at step lengths[b] - 1. This is PyTorch's
 * nn.RNN / nn.LSTM / nn.GRU on a pack_padded_sequence (enforce_sorted=False) unpacked with
 * pad_packed_sequence(total_length=T).
 *
 * Loading PyTorch weights: the layout is PyTorch's one to one. Parameter names and shapes are
 * the state_dict's ("weight_ih_l{k}" [G*H, F_k], "weight_hh_l{k}" [G*H, H], "bias_ih_l{k}",
 * "bias_hh_l{k}" [G*H], and "..._reverse" for the reverse direction; F_0 = input size, F_k =
 * D * H), gates stacked by rows in PyTorch's order (LSTM i, f, g, o; GRU r, z, n), so each
 * tensor copies element for element (nb_module_param + nb_tensor_copy_into). State members are
 * [L * D, B, H] with member l * D + d for layer l, direction d, as PyTorch's h_0 / h_n / c_n.
 * tests/golden_rnn holds PyTorch's results for such layers (scripts/golden_rnn.py).
 *
 * Because the carried state is a copy, each chunk's graph and the arena stay bounded by the
 * chunk length, whatever the number of chunks. Inside one step, nb_rnn_state_detach cuts the
 * graph without copying.
 *
 * Cells and layers build many intermediates, so nb_cell_forward and nb_rnn_forward run only
 * inside an active step (nb_step_begin ... nb_step_end); called without one they report
 * NB_ERR_STATE. nb_module_forward on a cell or layer works anywhere (with no step it runs in a
 * private one and returns a caller-owned copy; see nn.h). With gradients disabled
 * (nb_set_grad_enabled(false)) they record nothing, for evaluation and sampling.
 *
 * Errors name the module and the shapes, e.g.
 *   "nb_rnn_forward: LSTM (65 -> 256, 1 layer): x is [32, 64, 64], expected [B, T, 65]". */
#ifndef NABLA_SEQ_H
#define NABLA_SEQ_H

#include "nabla/nn.h"
#include "nabla/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================================
 * Embedding and one-hot
 * ====================================================================================== */

/* Lookup table "weight" [num_embeddings, dim] initialised N(0, 1) (PyTorch's nn.Embedding).
 * Forward: ids NB_I64 of any shape S -> [S..., dim] (nb_gather_rows: the gradient is
 * scatter-added into the rows used). Ids outside [0, num_embeddings) are NB_ERR_VALUE; float
 * ids are NB_ERR_DTYPE. f32 parameters. Errors -> NULL: NB_ERR_VALUE (sizes < 1, rng NULL),
 * NB_ERR_NOMEM. */
NB_API nb_module *nb_embedding_new(int64_t num_embeddings, int64_t dim, nb_rng *rng);
/* Same with a padding id and dtype. padding_idx in [0, num_embeddings): that row starts at
 * zero, its output is always zero and it receives no gradient (so it stays zero); -1 = none. */
NB_API nb_module *nb_embedding_new_ex(int64_t num_embeddings, int64_t dim, int64_t padding_idx,
                                      nb_rng *rng, nb_dtype dtype);
/* Module with no parameters mapping ids NB_I64 [S...] to one-hot vectors [S..., n_classes] of
 * dtype (nb_one_hot; not recorded). Errors -> NULL: NB_ERR_VALUE (n_classes < 1),
 * NB_ERR_DTYPE. */
NB_API nb_module *nb_one_hot_new(int64_t n_classes, nb_dtype dtype);

/* ======================================================================================
 * Recurrent cells and layers
 * ====================================================================================== */

typedef enum nb_rnn_mode {
    NB_RNN_TANH = 0, /* Elman RNN with tanh */
    NB_RNN_RELU = 1, /* Elman RNN with ReLU */
    NB_LSTM = 2,
    NB_GRU = 3,
} nb_rnn_mode;

/* Recurrent state: h (and c for LSTM; NULL otherwise). [B, H] for a cell, [L, B, H] for a
 * layer. Passed to a forward call, a NULL h (or c) means zeros, unless an error is pending, in
 * which case the call returns NULL (so a failed expression is never silently replaced by
 * zeros). */
typedef struct nb_rnn_state {
    nb_tensor *h;
    nb_tensor *c;
} nb_rnn_state;

/* ---- cells: one time step ----
 * Parameters as described at the top (f32 for the short forms, with biases). Errors -> NULL:
 * NB_ERR_VALUE (sizes < 1, rng NULL, unknown mode), NB_ERR_DTYPE, NB_ERR_NOMEM. */
NB_API nb_module *nb_rnn_cell_new(int64_t input_size, int64_t hidden_size, nb_rng *rng);
NB_API nb_module *nb_lstm_cell_new(int64_t input_size, int64_t hidden_size, nb_rng *rng);
NB_API nb_module *nb_gru_cell_new(int64_t input_size, int64_t hidden_size, nb_rng *rng);
NB_API nb_module *nb_rnn_cell_new_ex(nb_rnn_mode mode, int64_t input_size, int64_t hidden_size,
                                     bool bias, nb_rng *rng, nb_dtype dtype);

/* One step of a cell: x [B, F], state [B, H] (NULL members = zeros) -> the new state (h, and c
 * for LSTM), op results. nb_module_forward(cell, x) is the same from a zero state and returns
 * h. On error both members are NULL and nb_last_error() names the cell and the shapes
 * (NB_ERR_SHAPE, NB_ERR_DTYPE, NB_ERR_VALUE for a non-cell module, NB_ERR_STATE without an
 * active step). */
NB_API nb_rnn_state nb_cell_forward(nb_module *cell, nb_tensor *x, nb_rnn_state state);

/* ---- layers: a cell over a sequence, stacked ----
 * num_layers >= 1. Errors -> NULL as for cells. */
NB_API nb_module *nb_rnn_new(int64_t input_size, int64_t hidden_size, int num_layers, nb_rng *rng);
NB_API nb_module *nb_lstm_new(int64_t input_size, int64_t hidden_size, int num_layers, nb_rng *rng);
NB_API nb_module *nb_gru_new(int64_t input_size, int64_t hidden_size, int num_layers, nb_rng *rng);
NB_API nb_module *nb_rnn_new_ex(nb_rnn_mode mode, int64_t input_size, int64_t hidden_size,
                                int num_layers, bool bias, nb_rng *rng, nb_dtype dtype);

/* Run the layer over x [B, T, F] from `init` ([L, B, H] members; NULL = zeros). Returns the
 * last layer's hidden states y [B, T, H] (an op result); when `last` is not NULL it receives
 * the final state of every layer: h_n (and c_n for LSTM) [L, B, H], op results. (For layers
 * made by nb_rnn_layer_new: x [T, B, F] when time-major, D * H features per step and L * D
 * state members when bidirectional, as nb_rnn_forward_ex.)
 * nb_module_forward(layer, x) is the same from a zero state. Errors -> NULL (and *last zeroed):
 * NB_ERR_SHAPE (x or state shapes), NB_ERR_DTYPE, NB_ERR_VALUE (NULL layer or not a recurrent
 * layer, a c given to a layer other than LSTM), NB_ERR_STATE (no active step). */
NB_API nb_tensor *nb_rnn_forward(nb_module *layer, nb_tensor *x, nb_rnn_state init,
                                 nb_rnn_state *last);

/* Options of nb_rnn_layer_new; a zeroed struct (or NULL) is a one-layer, one-direction tanh RNN
 * with biases, batch-first, f32, as nb_rnn_new(F, H, 1, rng). */
typedef struct nb_rnn_opts {
    nb_rnn_mode mode;   /* NB_RNN_TANH (the zero value), NB_RNN_RELU, NB_LSTM, NB_GRU */
    int num_layers;     /* stacked layers; 0 means 1 */
    bool bidirectional; /* each layer also runs backward in time; outputs [forward | reverse] */
    bool no_bias;       /* true: no bias_ih / bias_hh parameters */
    bool time_major;    /* x [T, B, F] and y [T, B, D * H] (default batch-first [B, T, ...]) */
    double dropout;     /* in [0, 1): on every layer's output but the last's, training mode */
    nb_dtype dtype;     /* parameter dtype: NB_F32 (the zero value) or NB_F64 */
} nb_rnn_opts;

/* A recurrent layer with the options above (parameter names, shapes and initialisation as
 * PyTorch's, described at the top). With the default options the parameters are the same draws
 * as nb_rnn_new_ex's. Errors -> NULL: NB_ERR_VALUE (sizes < 1, num_layers < 0, unknown mode,
 * dropout outside [0, 1), rng NULL), NB_ERR_DTYPE, NB_ERR_NOMEM. */
NB_API nb_module *nb_rnn_layer_new(int64_t input_size, int64_t hidden_size, const nb_rnn_opts *opts,
                                   nb_rng *rng);

/* nb_rnn_forward over a batch of sequences of different lengths: lengths[b] in [1, T] is the
 * number of valid steps of sequence b (NULL: all T). x is [B, T, F] ([T, B, F] time-major), y
 * [B, T, D * H] with zeros at padded steps, init and *last [L * D, B, H] (see the top: padded
 * steps leave the state unchanged, the reverse direction starts at each sequence's last step).
 * Errors as nb_rnn_forward's, and NB_ERR_VALUE naming a length outside [1, T]. */
NB_API nb_tensor *nb_rnn_forward_ex(nb_module *layer, nb_tensor *x, const int64_t *lengths,
                                    nb_rnn_state init, nb_rnn_state *last);

/* Mode, sizes and layer count of a recurrent cell or layer (cells have 1 layer); -1 / false
 * for modules that are not recurrent. */
NB_API int nb_rnn_mode_of(const nb_module *m);
NB_API int64_t nb_rnn_input_size(const nb_module *m);
NB_API int64_t nb_rnn_hidden_size(const nb_module *m);
NB_API int nb_rnn_num_layers(const nb_module *m);
NB_API bool nb_is_rnn_layer(const nb_module *m);
/* 2 for a bidirectional layer, 1 for other layers and cells; -1 for other modules. */
NB_API int nb_rnn_num_directions(const nb_module *m);

/* ---- state helpers for truncated BPTT ---- */
/* Caller-owned zero state for `batch` sequences, shaped for m: [B, H] for a cell, [L * D, B, H] for
 * a layer; c only for LSTM. Never requires grad. Free with nb_rnn_state_free. On error both
 * members are NULL (NB_ERR_VALUE for batch < 1 or a non-recurrent module, NB_ERR_NOMEM). */
NB_API nb_rnn_state nb_rnn_state_zeros(const nb_module *m, int64_t batch);
/* Copy src's values into dst's caller-owned tensors (same shapes): the next chunk starts where
 * this one ended, with no link to this step's graph. Errors: NB_ERR_VALUE (NULL members where
 * the other has one), NB_ERR_SHAPE, NB_ERR_DTYPE. */
NB_API nb_status nb_rnn_state_copy_into(nb_rnn_state *dst, nb_rnn_state src);
/* The same state cut from the graph (nb_detach views; valid until nb_step_end). */
NB_API nb_rnn_state nb_rnn_state_detach(nb_rnn_state s);
/* Set every element of a state to zero (start of a new, unrelated sequence). */
NB_API void nb_rnn_state_reset(nb_rnn_state *s);
/* Free a caller-owned state and set its members to NULL. NULL is a no-op. */
NB_API void nb_rnn_state_free(nb_rnn_state *s);

#ifdef __cplusplus
}
#endif
#endif
