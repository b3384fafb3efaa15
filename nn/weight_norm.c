/* nn/weight_norm.c — weight normalization (Salimans & Kingma 2016) as a reparameterisation, with
 * the semantics of PyTorch's torch.nn.utils.weight_norm: parameter `name` becomes name_g and
 * name_v, and `name` is computed from them by ops on every lookup, w = g * v / ||v||, the norm
 * taken over every dim except `dim` (over all dims for dim -1). */
#include "module_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    char g[NB_MODULE_NAME_MAX + 1], v[NB_MODULE_NAME_MAX + 1];
    int dim; /* -1: one norm over the whole tensor */
} weight_norm_cfg;

static nb_tensor *weight_norm_compute(nb_module *m, const void *ctx)
{
    const weight_norm_cfg *cfg = ctx;
    nb_tensor *v = nb_module_param(m, cfg->v), *g = nb_module_param(m, cfg->g);
    const int nd = v ? nb_tensor_ndim(v) : 0;
    int axes[NB_MAX_DIMS], n = 0;
    for (int d = 0; d < nd; d++)
        if (d != cfg->dim)
            axes[n++] = d;
    nb_tensor *norm = n > 0 ? nb_sqrt(nb_sum_axes(nb_mul(v, v), n, axes, true)) : nb_abs(v);
    return nb_mul(v, nb_div(g, norm));
}

/* g = ||w|| over every dim except dim (all dims for -1), off the tape. */
static void init_g(const nb_tensor *w, nb_tensor *g, int dim)
{
    const int64_t numel = nb_tensor_numel(w);
    const int64_t size = dim < 0 ? 1 : nb_tensor_dim(w, dim);
    int64_t inner = 1; /* elements after dim in row-major order */
    for (int d = dim + 1; dim >= 0 && d < nb_tensor_ndim(w); d++)
        inner *= nb_tensor_dim(w, d);
    for (int64_t k = 0; k < size; k++)
        nb_tensor_set(g, k, 0.0);
    for (int64_t i = 0; i < numel; i++) {
        const int64_t k = dim < 0 ? 0 : (i / inner) % size;
        const double x = nb_tensor_get(w, i);
        nb_tensor_set(g, k, nb_tensor_get(g, k) + x * x);
    }
    for (int64_t k = 0; k < size; k++)
        nb_tensor_set(g, k, sqrt(nb_tensor_get(g, k)));
}

nb_module *nb_weight_norm(nb_module *m, const char *name, int dim)
{
    const char *fn = "nb_weight_norm";
    if (!m) {
        nb_set_error(NB_ERR_VALUE, "%s: module is NULL (its constructor failed)", fn);
        return NULL;
    }
    if (nb_module_parent(m)) { /* not ours to free: it belongs to its container */
        nb_set_error(NB_ERR_STATE,
                     "%s: %s '%s' already belongs to a container; apply weight norm before "
                     "adding it",
                     fn, nb_module_kind(m), nb_module_name(m));
        return NULL;
    }
    weight_norm_cfg *cfg = nb_calloc(1, sizeof *cfg);
    nb_tensor *w = NULL;
    nb_status st = cfg ? NB_OK : nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
    if (st == NB_OK && (!name || strlen(name) + 2 > NB_MODULE_NAME_MAX))
        st = nb_set_error(NB_ERR_VALUE, "%s: %s: parameter name \"%s\" is NULL or too long", fn,
                          nb_module_kind(m), name ? name : "(NULL)");
    if (st == NB_OK && !nb_module_has_param(m, name)) {
        nb_module_param(m, name); /* its error lists the module's parameters */
        st = nb_last_status();
    }
    /* a name with a '.' (a descendant's parameter) or one that is already computed */
    if (st == NB_OK &&
        (strchr(name, '.') || !(w = nb_module_param(m, name)) || nb_tensor_grad(w) == NULL))
        st = nb_set_error(NB_ERR_VALUE,
                          "%s: %s: \"%s\" is not a parameter of the module itself (weight-norm "
                          "each layer before building the container)",
                          fn, nb_module_kind(m), name);
    const int nd = w ? nb_tensor_ndim(w) : 0;
    if (st == NB_OK && (dim < -1 || dim >= (nd > 0 ? nd : 1)))
        st = nb_set_error(NB_ERR_VALUE, "%s: %s.%s is %d-D: dim must be in [-1, %d], got %d", fn,
                          nb_module_kind(m), name, nd, (nd > 0 ? nd : 1) - 1, dim);
    if (st == NB_OK) {
        snprintf(cfg->g, sizeof cfg->g, "%s_g", name);
        snprintf(cfg->v, sizeof cfg->v, "%s_v", name);
        cfg->dim = nd > 0 ? dim : -1;
        int64_t gshape[NB_MAX_DIMS];
        for (int d = 0; d < nd; d++)
            gshape[d] = d == cfg->dim ? nb_tensor_dim(w, d) : 1;
        nb_tensor *g = NULL;
        if ((st = nbi_module_rename_param(m, name, cfg->v)) == NB_OK &&
            !(g = nb_module_add_param(m, cfg->g, cfg->dim < 0 ? 0 : nd, gshape)))
            st = nb_last_status();
        if (st == NB_OK) {
            init_g(w, g, cfg->dim); /* w, now name_v, kept its values */
            st = nbi_module_add_computed(m, name, weight_norm_compute, cfg, nb_free);
            cfg = NULL; /* owned by m from here */
        }
    }
    if (st != NB_OK) {
        nb_free(cfg);
        nb_module_free(m);
        return NULL;
    }
    return m;
}
