/* nn/embedding.c — the Embedding lookup table (nb_gather_rows) and the OneHot module. */
#include "nabla/seq.h"
#include "nabla/text.h"

#include <stdio.h>

typedef struct {
    int64_t num, dim, padding_idx;
} embedding_cfg;

static bool check_ids(nb_module *m, nb_tensor *ids)
{
    if (nb_tensor_dtype(ids) != NB_I64) {
        char s[96];
        nb_module_error(m, NB_ERR_DTYPE, "ids must be i64 token ids, got %s %s",
                        nb_dtype_name(nb_tensor_dtype(ids)), nb_tensor_shape_str(ids, s, sizeof s));
        return false;
    }
    if (nb_tensor_ndim(ids) + 1 > NB_MAX_DIMS) {
        char s[96];
        nb_module_error(m, NB_ERR_SHAPE, "ids is %s: at most %d dims",
                        nb_tensor_shape_str(ids, s, sizeof s), NB_MAX_DIMS - 1);
        return false;
    }
    return true;
}

static nb_tensor *embedding_forward(nb_module *m, nb_tensor *ids)
{
    const embedding_cfg *cfg = nb_module_user_data(m);
    if (!check_ids(m, ids))
        return NULL;
    nb_tensor *y = nb_gather_rows(nb_module_param(m, "weight"), ids);
    if (!y || cfg->padding_idx < 0)
        return y;
    /* Zero the padding positions: the product also stops their gradient, so the padding row
     * is never updated (PyTorch's padding_idx). */
    nb_tensor *mask = nb_padding_mask(ids, cfg->padding_idx, nb_module_dtype(m));
    return nb_mul(y, nb_unsqueeze(mask, -1));
}

nb_module *nb_embedding_new_ex(int64_t num_embeddings, int64_t dim, int64_t padding_idx,
                               nb_rng *rng, nb_dtype dtype)
{
    const char *fn = "nb_embedding_new";
    if (num_embeddings < 1 || dim < 1 || !rng) {
        nb_set_error(NB_ERR_VALUE, "%s: need num_embeddings, dim >= 1 and an rng, got %lld, %lld%s",
                     fn, (long long)num_embeddings, (long long)dim, rng ? "" : " and rng NULL");
        return NULL;
    }
    if (padding_idx < -1 || padding_idx >= num_embeddings) {
        nb_set_error(NB_ERR_VALUE, "%s: padding_idx must be -1 (none) or in [0, %lld), got %lld",
                     fn, (long long)num_embeddings, (long long)padding_idx);
        return NULL;
    }
    embedding_cfg *cfg = nb_malloc(sizeof *cfg);
    if (!cfg) {
        nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        return NULL;
    }
    *cfg = (embedding_cfg){num_embeddings, dim, padding_idx};
    nb_module *m = nb_module_new("Embedding", dtype, embedding_forward, cfg, nb_free);
    if (!m)
        return NULL;
    nb_tensor *w = nb_module_add_param(m, "weight", 2, (int64_t[]){num_embeddings, dim});
    if (!w || nb_init_normal(w, rng, 0.0, 1.0) != NB_OK) { /* PyTorch: N(0, 1) */
        nb_module_free(m);
        return NULL;
    }
    for (int64_t d = 0; padding_idx >= 0 && d < dim; d++)
        nb_tensor_set(w, padding_idx * dim + d, 0.0);
    if (padding_idx >= 0)
        nb_module_set_info(m, "%lld x %lld, padding_idx=%lld", (long long)num_embeddings,
                           (long long)dim, (long long)padding_idx);
    else
        nb_module_set_info(m, "%lld x %lld", (long long)num_embeddings, (long long)dim);
    return m;
}

nb_module *nb_embedding_new(int64_t num_embeddings, int64_t dim, nb_rng *rng)
{
    return nb_embedding_new_ex(num_embeddings, dim, -1, rng, NB_F32);
}

/* ---- one-hot ---- */
typedef struct {
    int64_t n_classes;
    nb_dtype dtype;
} one_hot_cfg;

static nb_tensor *one_hot_forward(nb_module *m, nb_tensor *ids)
{
    const one_hot_cfg *cfg = nb_module_user_data(m);
    if (!check_ids(m, ids))
        return NULL;
    return nb_one_hot(ids, cfg->n_classes, cfg->dtype);
}

nb_module *nb_one_hot_new(int64_t n_classes, nb_dtype dtype)
{
    if (n_classes < 1) {
        nb_set_error(NB_ERR_VALUE, "nb_one_hot_new: n_classes must be >= 1, got %lld",
                     (long long)n_classes);
        return NULL;
    }
    if (dtype != NB_F32 && dtype != NB_F64) {
        nb_set_error(NB_ERR_DTYPE, "nb_one_hot_new: dtype must be f32 or f64, got %s",
                     nb_dtype_name(dtype));
        return NULL;
    }
    one_hot_cfg *cfg = nb_malloc(sizeof *cfg);
    if (!cfg) {
        nb_set_error(NB_ERR_NOMEM, "nb_one_hot_new: out of memory");
        return NULL;
    }
    *cfg = (one_hot_cfg){n_classes, dtype};
    nb_module *m = nb_module_new("OneHot", dtype, one_hot_forward, cfg, nb_free);
    if (m)
        nb_module_set_info(m, "%lld classes", (long long)n_classes);
    return m;
}
