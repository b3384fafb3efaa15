/* data/augment.c — random changes of training images (nb_augment_images): shifts with zeros
 * moving in (a crop of the zero-padded image) and left-right flips. */
#include "nabla/data.h"
#include "nabla/ops.h"

/* One image's channels [C, H, W] moved by (dy, dx) and, with flip, mirrored: dst = src at
 * (r - dy, k - dx), the column read from the mirrored side when flipped; 0 outside. */
#define SHIFT_FLIP(T)                                                                              \
    static void shift_flip_##T(const T *src, T *dst, int64_t C, int64_t H, int64_t W, int64_t dy,  \
                               int64_t dx, bool flip)                                              \
    {                                                                                              \
        for (int64_t c = 0; c < C; c++, src += H * W, dst += H * W)                                \
            for (int64_t r = 0; r < H; r++)                                                        \
                for (int64_t k = 0; k < W; k++) {                                                  \
                    const int64_t sr = r - dy, sk0 = k - dx, sk = flip ? W - 1 - sk0 : sk0;        \
                    dst[r * W + k] =                                                               \
                        sr >= 0 && sr < H && sk0 >= 0 && sk0 < W ? src[sr * W + sk] : (T)0;        \
                }                                                                                  \
    }
SHIFT_FLIP(float)
SHIFT_FLIP(double)

nb_tensor *nb_augment_images(nb_tensor *x, nb_augment_opts *opts)
{
    const char *fn = "nb_augment_images";
    if (!x || !opts || opts->shift < 0 || opts->shift > 64) {
        if (!x && nb_last_status() != NB_OK)
            return NULL;
        nb_set_error(NB_ERR_VALUE, "%s: need images, opts and a shift in 0..64 (shift %d)", fn,
                     opts ? opts->shift : 0);
        return NULL;
    }
    const int nd = nb_tensor_ndim(x);
    const nb_dtype dt = nb_tensor_dtype(x);
    if (nd != 3 && nd != 4) {
        nb_set_error(NB_ERR_SHAPE, "%s: images must be [N, H, W] or [N, C, H, W], got %d dims", fn,
                     nd);
        return NULL;
    }
    if (dt != NB_F32 && dt != NB_F64) {
        nb_set_error(NB_ERR_DTYPE, "%s: images must be f32 or f64", fn);
        return NULL;
    }
    const int64_t N = nb_tensor_dim(x, 0), C = nd == 4 ? nb_tensor_dim(x, 1) : 1;
    const int64_t H = nb_tensor_dim(x, nd - 2), W = nb_tensor_dim(x, nd - 1);
    nb_tensor *copy = nb_tensor_is_contiguous(x) ? NULL : nb_tensor_copy(x); /* caller-owned */
    nb_tensor *src = copy ? copy : x;
    nb_tensor *out = nb_tensor_is_contiguous(src) ? nb_constant(dt, nd, nb_tensor_shape(x), 0.0)
                                                  : NULL; /* NULL: the copy failed */
    const uint64_t range = (uint64_t)(2 * opts->shift + 1);
    for (int64_t i = 0; out && i < N; i++) {
        const int64_t dy = (int64_t)nb_rng_below(&opts->rng, range) - opts->shift;
        const int64_t dx = (int64_t)nb_rng_below(&opts->rng, range) - opts->shift;
        const bool flip = opts->hflip && nb_rng_below(&opts->rng, 2) == 1;
        if (dt == NB_F32)
            shift_flip_float(nb_tensor_data_f32(src) + i * C * H * W,
                             nb_tensor_data_f32(out) + i * C * H * W, C, H, W, dy, dx, flip);
        else
            shift_flip_double(nb_tensor_data_f64(src) + i * C * H * W,
                              nb_tensor_data_f64(out) + i * C * H * W, C, H, W, dy, dx, flip);
    }
    nb_tensor_free(copy);
    return out;
}
