/* nn/linear.c — the fully connected layer y = x @ weight^T + bias, on inputs [*, n_in].
 *
 * Also the reference for writing a module kind: settings in user_data, parameters added with
 * nb_module_add_param, initialised in the constructor, forward built from public ops. */
#include "nabla/nn.h"

#include <math.h>
#include <stdio.h>

typedef struct {
    int64_t n_in, n_out;
} linear_cfg;

static nb_tensor *linear_forward(nb_module *m, nb_tensor *x)
{
    const linear_cfg *cfg = nb_module_user_data(m);
    nb_tensor *w = nb_module_param(m, "weight");
    nb_tensor *b = nb_module_has_param(m, "bias") ? nb_module_param(m, "bias") : NULL;
    const int nd = nb_tensor_ndim(x);
    if (nd < 1 || nb_tensor_dim(x, -1) != cfg->n_in) {
        char xs[96], ws[64];
        nb_module_error(m, NB_ERR_SHAPE, "input is %s, expected [*, %lld] (weight is %s)",
                        nb_tensor_shape_str(x, xs, sizeof xs), (long long)cfg->n_in,
                        nb_tensor_shape_str(w, ws, sizeof ws));
        return NULL;
    }
    if (nd == 2)
        return nb_linear(x, w, b);
    /* [*, n_in] -> [rows, n_in] -> [rows, n_out] -> [*, n_out] */
    const int64_t flat[2] = {-1, cfg->n_in};
    nb_tensor *y = nb_linear(nb_reshape(x, 2, flat), w, b);
    int64_t shape[NB_MAX_DIMS];
    for (int d = 0; d < nd - 1; d++)
        shape[d] = nb_tensor_dim(x, d);
    shape[nd - 1] = cfg->n_out;
    return nb_reshape(y, nd, shape);
}

nb_module *nb_linear_new_ex(int64_t n_in, int64_t n_out, bool bias, nb_rng *rng, nb_dtype dtype)
{
    if (n_in < 1 || n_out < 1 || !rng) {
        nb_set_error(NB_ERR_VALUE,
                     "nb_linear_new: need n_in, n_out >= 1 and an rng, got %lld, %lld%s",
                     (long long)n_in, (long long)n_out, rng ? "" : " and rng NULL");
        return NULL;
    }
    linear_cfg *cfg = nb_malloc(sizeof *cfg);
    if (!cfg) {
        nb_set_error(NB_ERR_NOMEM, "nb_linear_new: out of memory");
        return NULL;
    }
    cfg->n_in = n_in;
    cfg->n_out = n_out;
    nb_module *m = nb_module_new("Linear", dtype, linear_forward, cfg, nb_free);
    if (!m)
        return NULL;
    const int64_t wshape[2] = {n_out, n_in}, bshape[1] = {n_out};
    nb_tensor *w = nb_module_add_param(m, "weight", 2, wshape);
    nb_tensor *b = bias && w ? nb_module_add_param(m, "bias", 1, bshape) : NULL;
    /* PyTorch's nn.Linear.reset_parameters: Kaiming-uniform with a = sqrt(5), which works out
     * to uniform in +-1/sqrt(fan_in); the bias uses the same bound. */
    const double bound = 1.0 / sqrt((double)n_in);
    if (!w || (bias && !b) || nb_init_kaiming_uniform(w, rng, sqrt(5.0), NB_FAN_IN) != NB_OK ||
        (b && nb_init_uniform(b, rng, -bound, bound) != NB_OK)) {
        nb_module_free(m);
        return NULL;
    }
    nb_module_set_info(m, "%lld -> %lld%s", (long long)n_in, (long long)n_out,
                       bias ? "" : ", no bias");
    return m;
}

nb_module *nb_linear_new(int64_t n_in, int64_t n_out, bool bias, nb_rng *rng)
{
    return nb_linear_new_ex(n_in, n_out, bias, rng, NB_F32);
}
