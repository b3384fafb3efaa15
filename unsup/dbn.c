/* unsup/dbn.c — deep belief nets: hidden features of a whole data set (the input of the next RBM in
 * greedy layer-wise pretraining) and the conversion of a stack of RBMs into an MLP for
 * discriminative fine-tuning (Hinton, Osindero & Teh 2006; Hinton & Salakhutdinov 2006). */
#include "unsup_impl.h"

nb_tensor *nb_rbm_transform(nb_module *rbm, nb_tensor *x, int64_t batch_size)
{
    const char *fn = "nb_rbm_transform";
    if (!nb_is_rbm(rbm)) {
        nb_set_error(NB_ERR_VALUE, "%s: module is %s, expected an RBM (nb_rbm_new)", fn,
                     rbm ? nb_module_kind(rbm) : "NULL");
        return NULL;
    }
    if (!x) {
        nb_set_error(NB_ERR_VALUE, "%s: x is NULL", fn);
        return NULL;
    }
    if (batch_size < 0) {
        nb_set_error(NB_ERR_VALUE, "%s: batch_size must be >= 0, got %lld", fn,
                     (long long)batch_size);
        return NULL;
    }
    const int64_t V = nb_rbm_num_visible(rbm), H = nb_rbm_num_hidden(rbm);
    char got[96];
    if (nb_tensor_ndim(x) != 2 || nb_tensor_dim(x, 1) != V) {
        nb_set_error(NB_ERR_SHAPE, "%s: x is %s, expected [N, %lld]", fn,
                     nb_tensor_shape_str(x, got, sizeof got), (long long)V);
        return NULL;
    }
    if (nb_tensor_dtype(x) != nb_module_dtype(rbm)) {
        nb_set_error(NB_ERR_DTYPE, "%s: x is %s but the RBM's parameters are %s", fn,
                     nb_dtype_name(nb_tensor_dtype(x)), nb_dtype_name(nb_module_dtype(rbm)));
        return NULL;
    }
    const int64_t N = nb_tensor_dim(x, 0), bs = batch_size ? batch_size : 256;
    nb_tensor *out = nb_tensor_new(nb_tensor_dtype(x), 2, (int64_t[]){N, H});
    if (!out)
        return NULL;
    nb_step *own = NULL;
    if (!nb_step_active() && !(own = nb_step_new())) {
        nb_tensor_free(out);
        return NULL;
    }
    for (int64_t s = 0; s < N; s += bs) {
        int64_t e = s + bs < N ? s + bs : N;
        nbi_scope sc;
        if (nbi_scope_begin(&sc, own) != NB_OK)
            break;
        nb_tensor *p = nb_rbm_hidden_probs(rbm, nb_slice(x, 0, s, e, 1));
        nb_tensor *dst = p ? nb_tensor_view_new(out, s * H, 2, (int64_t[]){e - s, H}) : NULL;
        nb_status st = dst ? nb_tensor_copy_into(dst, p) : nb_last_status();
        nb_tensor_free(dst);
        nbi_scope_end(&sc, own);
        if (st != NB_OK) {
            nb_tensor_free(out);
            out = NULL;
            break;
        }
    }
    nb_step_free(own);
    return out;
}

/* Copy src (any strides) into the module parameter dst; both caller-visible tensors. */
static nb_status copy_param(nb_tensor *dst, nb_tensor *src)
{
    return dst && src ? nb_tensor_copy_into(dst, src) : NB_ERR_VALUE;
}

nb_module *nb_rbm_to_linear(nb_module *rbm)
{
    const char *fn = "nb_rbm_to_linear";
    if (!nb_is_rbm(rbm)) {
        nb_set_error(NB_ERR_VALUE, "%s: module is %s, expected an RBM (nb_rbm_new)", fn,
                     rbm ? nb_module_kind(rbm) : "NULL");
        return NULL;
    }
    const int64_t V = nb_rbm_num_visible(rbm), H = nb_rbm_num_hidden(rbm);
    nb_rng unused = nb_rng_seed(0); /* every value is overwritten below */
    nb_module *lin = nb_linear_new_ex(V, H, true, &unused, nb_module_dtype(rbm));
    if (!lin)
        return NULL;
    /* weight [H, V] = W^T, copied from a transposed view of the RBM's weight (caller-owned with
     * no active step, in the arena otherwise; nb_tensor_free handles both). */
    bool was = nb_set_grad_enabled(false);
    nb_tensor *wt = nb_transpose(nb_module_param(rbm, "weight"), 0, 1);
    nb_set_grad_enabled(was);
    nb_status st = copy_param(nb_module_param(lin, "weight"), wt);
    if (st == NB_OK)
        st = copy_param(nb_module_param(lin, "bias"), nb_module_param(rbm, "hidden_bias"));
    nb_tensor_free(wt); /* no-op for an arena view */
    if (st != NB_OK) {
        if (nb_last_status() == NB_OK)
            nb_set_error(st, "%s: could not copy the RBM's parameters", fn);
        nb_module_free(lin);
        return NULL;
    }
    nb_module_set_info(lin, "%lld -> %lld, from RBM", (long long)V, (long long)H);
    return lin;
}

nb_module *nb_dbn_to_mlp(int n, nb_module *const *rbms, int64_t n_classes, nb_rng *rng)
{
    const char *fn = "nb_dbn_to_mlp";
    if (n < 1 || !rbms) {
        nb_set_error(NB_ERR_VALUE, "%s: need at least one RBM, got %d", fn, rbms ? n : 0);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        if (!nb_is_rbm(rbms[i])) {
            nb_set_error(NB_ERR_VALUE, "%s: rbms[%d] is %s, expected an RBM", fn, i,
                         rbms[i] ? nb_module_kind(rbms[i]) : "NULL");
            return NULL;
        }
        if (i > 0 && nb_rbm_num_visible(rbms[i]) != nb_rbm_num_hidden(rbms[i - 1])) {
            nb_set_error(NB_ERR_SHAPE,
                         "%s: rbms[%d] has %lld visible units but rbms[%d] has %lld hidden units",
                         fn, i, (long long)nb_rbm_num_visible(rbms[i]), i - 1,
                         (long long)nb_rbm_num_hidden(rbms[i - 1]));
            return NULL;
        }
        if (nb_module_dtype(rbms[i]) != nb_module_dtype(rbms[0])) {
            nb_set_error(NB_ERR_DTYPE, "%s: rbms[%d] is %s, rbms[0] is %s", fn, i,
                         nb_dtype_name(nb_module_dtype(rbms[i])),
                         nb_dtype_name(nb_module_dtype(rbms[0])));
            return NULL;
        }
    }
    if (n_classes < 0 || (n_classes > 0 && !rng)) {
        nb_set_error(NB_ERR_VALUE, "%s: need n_classes >= 0 and an rng for the classifier", fn);
        return NULL;
    }
    nb_module *seq = nb_sequential_new(0, NULL);
    if (!seq)
        return NULL;
    for (int i = 0; i < n; i++) {
        if (nb_sequential_append(seq, nb_rbm_to_linear(rbms[i])) != NB_OK ||
            nb_sequential_append(seq, nb_sigmoid_new()) != NB_OK) {
            nb_module_free(seq);
            return NULL;
        }
    }
    if (n_classes > 0 &&
        nb_sequential_append(seq, nb_linear_new_ex(nb_rbm_num_hidden(rbms[n - 1]), n_classes, true,
                                                   rng, nb_module_dtype(rbms[0]))) != NB_OK) {
        nb_module_free(seq);
        return NULL;
    }
    return seq;
}
