/* unsup/autoencoder.c — MLP and autoencoder builders, corruption processes for denoising
 * autoencoders (Vincent et al. 2008) and sparsity penalties for sparse autoencoders (L1, and the
 * KL penalty of Ng's lecture notes); the codes of latent maps. All compositions of public ops and
 * modules. */
#include "unsup_impl.h"

#include <math.h>
#include <string.h>

const char *nb_activation_name(nb_activation act)
{
    switch (act) {
    case NB_ACT_NONE:
        return "none";
    case NB_ACT_RELU:
        return "relu";
    case NB_ACT_SIGMOID:
        return "sigmoid";
    case NB_ACT_TANH:
        return "tanh";
    case NB_ACT_LEAKY_RELU:
        return "leaky_relu";
    case NB_ACT_LEAKY_RELU_0_2:
        return "leaky_relu_0.2";
    }
    return "?";
}

nb_module *nb_activation_new(nb_activation act)
{
    switch (act) {
    case NB_ACT_NONE:
        return nb_identity_new();
    case NB_ACT_RELU:
        return nb_relu_new();
    case NB_ACT_SIGMOID:
        return nb_sigmoid_new();
    case NB_ACT_TANH:
        return nb_tanh_new();
    case NB_ACT_LEAKY_RELU:
        return nb_leaky_relu_new(0.01);
    case NB_ACT_LEAKY_RELU_0_2:
        return nb_leaky_relu_new(0.2);
    }
    nb_set_error(NB_ERR_VALUE, "nb_activation_new: unknown activation %d", (int)act);
    return NULL;
}

static bool valid_act(nb_activation a)
{
    return a >= NB_ACT_NONE && a <= NB_ACT_LEAKY_RELU_0_2;
}

nb_module *nb_mlp_new(int n_sizes, const int64_t *sizes, nb_activation hidden, nb_activation last,
                      nb_rng *rng, nb_dtype dtype)
{
    const char *fn = "nb_mlp_new";
    if (n_sizes < 2 || !sizes) {
        nb_set_error(NB_ERR_VALUE, "%s: need at least 2 sizes, got %d", fn, sizes ? n_sizes : 0);
        return NULL;
    }
    for (int i = 0; i < n_sizes; i++) {
        if (sizes[i] < 1) {
            nb_set_error(NB_ERR_VALUE, "%s: sizes[%d] is %lld, must be >= 1", fn, i,
                         (long long)sizes[i]);
            return NULL;
        }
    }
    if (!valid_act(hidden) || !valid_act(last)) {
        nb_set_error(NB_ERR_VALUE, "%s: unknown activation %d", fn,
                     valid_act(hidden) ? (int)last : (int)hidden);
        return NULL;
    }
    if (!rng) {
        nb_set_error(NB_ERR_VALUE, "%s: rng is NULL", fn);
        return NULL;
    }
    if (dtype != NB_F32 && dtype != NB_F64) {
        nb_set_error(NB_ERR_DTYPE, "%s: dtype must be f32 or f64, got %s", fn,
                     nb_dtype_name(dtype));
        return NULL;
    }
    nb_module *seq = nb_sequential_new(0, NULL);
    if (!seq)
        return NULL;
    for (int i = 0; i + 1 < n_sizes; i++) {
        nb_activation act = i + 2 == n_sizes ? last : hidden;
        if (nb_sequential_append(seq, nb_linear_new_ex(sizes[i], sizes[i + 1], true, rng, dtype)) !=
                NB_OK ||
            (act != NB_ACT_NONE && nb_sequential_append(seq, nb_activation_new(act)) != NB_OK)) {
            nb_module_free(seq);
            return NULL;
        }
    }
    return seq;
}

nb_autoencoder_opts nb_autoencoder_defaults(void)
{
    return (nb_autoencoder_opts){
        .hidden = NB_ACT_RELU, .code = NB_ACT_NONE, .output = NB_ACT_SIGMOID, .dtype = NB_F32};
}

#define AE_KIND "Autoencoder"

static nb_tensor *ae_forward(nb_module *m, nb_tensor *x)
{
    return nb_module_forward(nb_module_child(m, "decoder"),
                             nb_module_forward(nb_module_child(m, "encoder"), x));
}

nb_module *nb_autoencoder_new(int n_sizes, const int64_t *sizes, const nb_autoencoder_opts *opts,
                              nb_rng *rng)
{
    nb_autoencoder_opts o = opts ? *opts : nb_autoencoder_defaults();
    if (n_sizes < 2 || !sizes) {
        nb_set_error(NB_ERR_VALUE, "nb_autoencoder_new: need at least 2 sizes, got %d",
                     sizes ? n_sizes : 0);
        return NULL;
    }
    int64_t rev[64];
    if (n_sizes > (int)(sizeof rev / sizeof rev[0])) {
        nb_set_error(NB_ERR_VALUE, "nb_autoencoder_new: at most 64 sizes, got %d", n_sizes);
        return NULL;
    }
    for (int i = 0; i < n_sizes; i++)
        rev[i] = sizes[n_sizes - 1 - i];
    nb_module *enc = nb_mlp_new(n_sizes, sizes, o.hidden, o.code, rng, o.dtype);
    if (!enc)
        return NULL;
    nb_module *dec = nb_mlp_new(n_sizes, rev, o.hidden, o.output, rng, o.dtype);
    if (!dec) {
        nb_module_free(enc);
        return NULL;
    }
    nb_module *ae = nb_module_new(AE_KIND, o.dtype, ae_forward, NULL, NULL);
    if (!ae) {
        nb_module_free(enc);
        nb_module_free(dec);
        return NULL;
    }
    /* add_child takes ownership of the child even when it fails */
    if (nb_module_add_child(ae, "encoder", enc) != NB_OK) {
        nb_module_free(dec);
        nb_module_free(ae);
        return NULL;
    }
    if (nb_module_add_child(ae, "decoder", dec) != NB_OK) {
        nb_module_free(ae);
        return NULL;
    }
    char info[128];
    int len = snprintf(info, sizeof info, "%lld", (long long)sizes[0]);
    for (int i = 1; i < n_sizes && len > 0 && len < (int)sizeof info; i++)
        len += snprintf(info + len, sizeof info - (size_t)len, "-%lld", (long long)sizes[i]);
    nb_module_set_info(ae, "%s, mirrored", info);
    return ae;
}

static nb_module *ae_child(const char *fn, nb_module *ae, const char *name)
{
    if (!ae || strcmp(nb_module_kind(ae), AE_KIND) != 0) {
        nb_set_error(NB_ERR_VALUE, "%s: module is %s, expected an Autoencoder", fn,
                     ae ? nb_module_kind(ae) : "NULL");
        return NULL;
    }
    return nb_module_child(ae, name);
}

nb_module *nb_autoencoder_encoder(nb_module *ae)
{
    return ae_child("nb_autoencoder_encoder", ae, "encoder");
}

nb_module *nb_autoencoder_decoder(nb_module *ae)
{
    return ae_child("nb_autoencoder_decoder", ae, "decoder");
}

nb_tensor *nb_autoencoder_encode(nb_module *ae, nb_tensor *x)
{
    if (!x)
        return NULL;
    nb_module *enc = ae_child("nb_autoencoder_encode", ae, "encoder");
    return enc ? nb_module_forward(enc, x) : NULL;
}

nb_tensor *nb_autoencoder_decode(nb_module *ae, nb_tensor *code)
{
    if (!code)
        return NULL;
    nb_module *dec = ae_child("nb_autoencoder_decode", ae, "decoder");
    return dec ? nb_module_forward(dec, code) : NULL;
}

/* ---- corruption ---- */

typedef struct corrupt_ctx {
    int kind; /* 0 mask, 1 gaussian, 2 salt and pepper */
    double p, std, lo, hi;
    nb_rng *rng;
} corrupt_ctx;

/* Tensor like x (contiguous, in the step) with element i = gen(i); used for the salt-and-pepper
 * keep mask (keep = true) and replacement values. */
static nb_tensor *salt_pepper(nb_tensor *x, const corrupt_ctx *c)
{
    nb_dtype dt = nb_tensor_dtype(x);
    int nd = nb_tensor_ndim(x);
    const int64_t *shape = nb_tensor_shape(x);
    nb_tensor *keep = nb_constant(dt, nd, shape, 1.0), *repl = nb_constant(dt, nd, shape, 0.0);
    if (!keep || !repl)
        return NULL;
    int64_t n = nb_tensor_numel(x);
    for (int64_t i = 0; i < n; i++) {
        if (nb_rng_uniform(c->rng) < c->p) {
            nb_tensor_set(keep, i, 0.0);
            nb_tensor_set(repl, i, nb_rng_uniform(c->rng) < 0.5 ? c->lo : c->hi);
        }
    }
    return nb_add(nb_mul(x, keep), repl);
}

static nb_tensor *corrupt(nb_module *m, nb_tensor *x, const void *ctx)
{
    (void)m;
    const corrupt_ctx *c = ctx;
    bool was = nb_set_grad_enabled(false);
    nb_tensor *y = NULL;
    nb_dtype dt = nb_tensor_dtype(x);
    int nd = nb_tensor_ndim(x);
    const int64_t *shape = nb_tensor_shape(x);
    if (c->kind == 0) {
        y = nb_mul(x, nb_rand_bernoulli(dt, nd, shape, c->rng, 1.0 - c->p));
    } else if (c->kind == 1) {
        y = nb_add(x, nb_rand_normal(dt, nd, shape, c->rng, 0.0, c->std));
        if (c->lo < c->hi)
            y = nb_clamp(y, c->lo, c->hi);
    } else {
        y = salt_pepper(x, c);
    }
    nb_set_grad_enabled(was);
    return y;
}

static nb_tensor *corrupt_checked(const char *fn, nb_tensor *x, const corrupt_ctx *c)
{
    if (!x)
        return NULL;
    if (!c->rng) {
        nb_set_error(NB_ERR_VALUE, "%s: rng is NULL", fn);
        return NULL;
    }
    if (nb_tensor_dtype(x) != NB_F32 && nb_tensor_dtype(x) != NB_F64) {
        nb_set_error(NB_ERR_DTYPE, "%s: x must be f32 or f64, got %s", fn,
                     nb_dtype_name(nb_tensor_dtype(x)));
        return NULL;
    }
    if (!(c->p >= 0.0 && c->p <= 1.0)) {
        nb_set_error(NB_ERR_VALUE, "%s: p must be in [0, 1], got %g", fn, c->p);
        return NULL;
    }
    if (!(c->std >= 0.0) || isinf(c->std)) {
        nb_set_error(NB_ERR_VALUE, "%s: std must be finite and >= 0, got %g", fn, c->std);
        return NULL;
    }
    return nbi_unsup_call(corrupt, NULL, x, c);
}

nb_tensor *nb_corrupt_mask(nb_tensor *x, double p, nb_rng *rng)
{
    return corrupt_checked("nb_corrupt_mask", x, &(corrupt_ctx){.kind = 0, .p = p, .rng = rng});
}

nb_tensor *nb_corrupt_gaussian(nb_tensor *x, double std, double lo, double hi, nb_rng *rng)
{
    return corrupt_checked("nb_corrupt_gaussian", x,
                           &(corrupt_ctx){.kind = 1, .std = std, .lo = lo, .hi = hi, .rng = rng});
}

nb_tensor *nb_corrupt_salt_pepper(nb_tensor *x, double p, double lo, double hi, nb_rng *rng)
{
    return corrupt_checked("nb_corrupt_salt_pepper", x,
                           &(corrupt_ctx){.kind = 2, .p = p, .lo = lo, .hi = hi, .rng = rng});
}

/* ---- sparsity penalties ---- */

static bool check_code(const char *fn, nb_tensor *h)
{
    if (!h)
        return false;
    if (nb_tensor_ndim(h) != 2 || nb_tensor_dim(h, 0) < 1) {
        char got[96];
        nb_set_error(NB_ERR_SHAPE, "%s: h is %s, expected [batch, units] with batch >= 1", fn,
                     nb_tensor_shape_str(h, got, sizeof got));
        return false;
    }
    return true;
}

static nb_tensor *l1(nb_module *m, nb_tensor *h, const void *ctx)
{
    (void)m, (void)ctx;
    return nb_mul_scalar(nb_sum_all(nb_abs(h)), 1.0 / (double)nb_tensor_dim(h, 0));
}

nb_tensor *nb_sparsity_l1(nb_tensor *h)
{
    if (!check_code("nb_sparsity_l1", h))
        return NULL;
    return nbi_unsup_call(l1, NULL, h, NULL);
}

static nb_tensor *kl(nb_module *m, nb_tensor *h, const void *ctx)
{
    (void)m;
    const double rho = *(const double *)ctx;
    const double k = (double)nb_tensor_dim(h, 1);
    nb_tensor *rh = nb_clamp(nb_mean(h, 0, false), 1e-6, 1.0 - 1e-6);
    /* sum_k rho log rho + (1-rho) log(1-rho) - rho log rh_k - (1-rho) log(1 - rh_k) */
    nb_tensor *a = nb_mul_scalar(nb_sum_all(nb_log(rh)), -rho);
    nb_tensor *b = nb_mul_scalar(nb_sum_all(nb_log(nb_affine(rh, -1.0, 1.0))), -(1.0 - rho));
    return nb_add_scalar(nb_add(a, b), k * (rho * log(rho) + (1.0 - rho) * log(1.0 - rho)));
}

nb_tensor *nb_sparsity_kl(nb_tensor *h, double rho)
{
    if (!check_code("nb_sparsity_kl", h))
        return NULL;
    if (!(rho > 0.0 && rho < 1.0)) {
        nb_set_error(NB_ERR_VALUE, "nb_sparsity_kl: rho must be in (0, 1), got %g", rho);
        return NULL;
    }
    return nbi_unsup_call(kl, NULL, h, &rho);
}

/* ---- latent maps ---- */

nb_tensor *nb_latent_grid(int64_t side, int64_t dim, int x, int y, double p_lo, double p_hi)
{
    if (side < 2 || dim < 2 || x < 0 || x >= dim || y < 0 || y >= dim || x == y ||
        !(p_lo > 0 && p_lo < p_hi && p_hi < 1)) {
        nb_set_error(NB_ERR_VALUE,
                     "nb_latent_grid: need side >= 2, dim >= 2, two different dims x, y in [0, "
                     "dim) and 0 < p_lo < p_hi < 1 (side %lld, dim %lld, x %d, y %d, p %g..%g)",
                     (long long)side, (long long)dim, x, y, p_lo, p_hi);
        return NULL;
    }
    nb_tensor *z = nb_constant(NB_F32, 2, (const int64_t[]){side * side, dim}, 0.0);
    float *zd = z ? nb_tensor_data_f32(z) : NULL;
    const double step = (p_hi - p_lo) / (double)(side - 1);
    for (int64_t i = 0; zd && i < side * side; i++) {
        zd[i * dim + x] = (float)nb_normal_quantile(p_lo + step * (double)(i % side));
        zd[i * dim + y] = (float)nb_normal_quantile(p_hi - step * (double)(i / side));
    }
    return z;
}
