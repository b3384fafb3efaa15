/* ops/window.h — sliding-window geometry shared by ops/conv.c and ops/pool.c (internal).
 *
 * A window op sees an [N, C, H, W] input, or [N, C, L] for the 1-D functions, which the geometry
 * and the kernels treat as H = 1. The ops' shape rules resolve the caller's options into a
 * window (SAME turned into numbers), so kernels only ever see explicit padding. */
#ifndef NABLA_OPS_WINDOW_H
#define NABLA_OPS_WINDOW_H

#include "ops/op_def.h"

/* Resolved geometry of a 2-D window: kernel, stride, dilation, pads (top, bottom, left, right)
 * and the output size. */
typedef struct nbi_window {
    int64_t kh, kw, sh, sw, dh, dw;
    int64_t pt, pb, pl, pr;
    int64_t oh, ow;
} nbi_window;

/* Validate a window over an H x W input and resolve its padding. w holds kernel, stride and
 * dilation on entry (already defaulted; checked here to be >= 1); pads[4] = top, bottom, left,
 * right are read for NB_PAD_EXPLICIT. one_d names the width axis "length" in messages;
 * show_dilation adds the dilation to the "output would be 0" message. Errors name fn:
 * NB_ERR_VALUE for bad hyperparameters, NB_ERR_SHAPE when no window fits. */
NBI_FUNC nb_status nbi_window_resolve(const char *fn, bool one_d, bool show_dilation, int64_t H,
                                      int64_t W, nb_padding padding, const int64_t pads[4],
                                      nbi_window *w);

/* Largest column buffer (bytes) a convolution builds at once (per thread); larger batches are
 * processed in chunks of images (ops/conv.c). A variable so that tests can make chunking
 * happen. */
extern NBI_FUNC int64_t nbi_conv_col_budget;

/* Output positions o in [*lo, *hi) (within [0, out)) whose tap o * stride + off lies in
 * [0, in): the part of a row that reads real input rather than padding. */
static inline void nbi_window_span(int64_t out, int64_t in, int64_t stride, int64_t off,
                                   int64_t *lo, int64_t *hi)
{
    int64_t a = off >= 0 ? 0 : (-off + stride - 1) / stride;
    int64_t b = in - 1 - off < 0 ? 0 : (in - 1 - off) / stride + 1;
    a = a < out ? a : out;
    b = b < out ? b : out;
    *lo = a;
    *hi = b > a ? b : a;
}

#endif
