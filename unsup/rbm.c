/* unsup/rbm.c — restricted Boltzmann machines: the module, up/down passes and Gibbs sampling as
 * compositions of public ops, the free energy, contrastive divergence (CD-k and persistent CD),
 * the momentum / weight-decay trainer and the monitoring numbers (reconstruction error,
 * pseudo-log-likelihood, exact log-likelihood of small models).
 *
 * CD is not backpropagation: the gradient estimate (positive minus negative statistics) is
 * computed with ops in no-grad mode and written into the parameters' gradient buffers, where any
 * optimizer, or nb_rbm_trainer's classic update, applies it off the tape. */
#include "unsup_impl.h"

#include <math.h>
#include <string.h>

#define RBM_KIND "RBM"

typedef struct rbm_cfg {
    nb_rbm_visible visible;
    int64_t n_visible, n_hidden;
} rbm_cfg;

static const rbm_cfg *cfg_of(const nb_module *m)
{
    if (!m || strcmp(nb_module_kind(m), RBM_KIND) != 0)
        return NULL;
    return nb_module_user_data(m);
}

bool nb_is_rbm(const nb_module *m)
{
    return cfg_of(m) != NULL;
}

int64_t nb_rbm_num_visible(const nb_module *rbm)
{
    const rbm_cfg *c = cfg_of(rbm);
    return c ? c->n_visible : -1;
}

int64_t nb_rbm_num_hidden(const nb_module *rbm)
{
    const rbm_cfg *c = cfg_of(rbm);
    return c ? c->n_hidden : -1;
}

nb_rbm_visible nb_rbm_visible_type(const nb_module *rbm)
{
    const rbm_cfg *c = cfg_of(rbm);
    return c ? c->visible : NB_RBM_BERNOULLI;
}

/* The config of an RBM argument, or NULL after reporting "fn: not an RBM". */
static const rbm_cfg *need_rbm(const char *fn, const nb_module *m)
{
    const rbm_cfg *c = cfg_of(m);
    if (!c)
        nb_set_error(NB_ERR_VALUE, "%s: module is %s, expected an RBM (nb_rbm_new)", fn,
                     m ? nb_module_kind(m) : "NULL");
    return c;
}

/* Check that t is [*, n] (2-D) with the RBM's dtype; `what` names the argument. NULL t (an
 * earlier failure) is refused without a new message. */
static bool check_rows(const char *fn, const nb_module *m, const nb_tensor *t, const char *what,
                       int64_t n)
{
    if (!t) {
        if (nb_last_status() == NB_OK)
            nb_set_error(NB_ERR_VALUE, "%s: %s is NULL", fn, what);
        return false;
    }
    char got[96];
    if (nb_tensor_ndim(t) != 2 || nb_tensor_dim(t, 1) != n) {
        nb_set_error(NB_ERR_SHAPE, "%s: %s is %s, expected [batch, %lld]", fn, what,
                     nb_tensor_shape_str(t, got, sizeof got), (long long)n);
        return false;
    }
    if (nb_tensor_dtype(t) != nb_module_dtype(m)) {
        nb_set_error(NB_ERR_DTYPE, "%s: %s is %s but the RBM's parameters are %s", fn, what,
                     nb_dtype_name(nb_tensor_dtype(t)), nb_dtype_name(nb_module_dtype(m)));
        return false;
    }
    return true;
}

/* ---- construction ---- */

static nb_tensor *hidden_probs(nb_module *rbm, nb_tensor *v, const void *ctx);

static nb_tensor *rbm_forward(nb_module *m, nb_tensor *v)
{
    const rbm_cfg *c = cfg_of(m);
    char got[96];
    if (nb_tensor_ndim(v) != 2 || nb_tensor_dim(v, 1) != c->n_visible) {
        nb_module_error(m, NB_ERR_SHAPE, "input is %s, expected [batch, %lld]",
                        nb_tensor_shape_str(v, got, sizeof got), (long long)c->n_visible);
        return NULL;
    }
    return nbi_unsup_call(hidden_probs, m, v, NULL);
}

nb_module *nb_rbm_new_ex(int64_t n_visible, int64_t n_hidden, nb_rbm_visible visible, nb_rng *rng,
                         nb_dtype dtype)
{
    const char *fn = "nb_rbm_new";
    if (n_visible < 1 || n_hidden < 1) {
        nb_set_error(NB_ERR_VALUE, "%s: sizes must be >= 1, got %lld visible, %lld hidden", fn,
                     (long long)n_visible, (long long)n_hidden);
        return NULL;
    }
    if (visible != NB_RBM_BERNOULLI && visible != NB_RBM_GAUSSIAN) {
        nb_set_error(NB_ERR_VALUE, "%s: unknown visible unit type %d", fn, (int)visible);
        return NULL;
    }
    if (!rng) {
        nb_set_error(NB_ERR_VALUE, "%s: rng is NULL", fn);
        return NULL;
    }
    rbm_cfg *c = nb_malloc(sizeof *c);
    if (!c) {
        nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        return NULL;
    }
    *c = (rbm_cfg){.visible = visible, .n_visible = n_visible, .n_hidden = n_hidden};
    nb_module *m = nb_module_new(RBM_KIND, dtype, rbm_forward, c, nb_free);
    if (!m)
        return NULL;
    nb_tensor *w = nb_module_add_param(m, "weight", 2, (int64_t[]){n_visible, n_hidden});
    nb_tensor *b = nb_module_add_param(m, "visible_bias", 1, (int64_t[]){n_visible});
    nb_tensor *h = nb_module_add_param(m, "hidden_bias", 1, (int64_t[]){n_hidden});
    /* Biases stay zero (nb_module_add_param zero-fills). */
    if (!w || !b || !h || nb_init_normal(nb_module_param(m, "weight"), rng, 0.0, 0.01) != NB_OK) {
        nb_module_free(m);
        return NULL;
    }
    nb_module_set_info(m, "%lld %s -> %lld binary", (long long)n_visible,
                       visible == NB_RBM_GAUSSIAN ? "gaussian" : "binary", (long long)n_hidden);
    return m;
}

nb_module *nb_rbm_new(int64_t n_visible, int64_t n_hidden, nb_rbm_visible visible, nb_rng *rng)
{
    return nb_rbm_new_ex(n_visible, n_hidden, visible, rng, NB_F32);
}

/* ---- up / down passes ----
 * Each public function checks its arguments and runs its composition through nbi_unsup_call,
 * so that with no active step the intermediates stay in a private step. */

static nb_tensor *hidden_probs(nb_module *rbm, nb_tensor *v, const void *ctx)
{
    (void)ctx;
    /* v @ weight + c as one nb_linear on weight's transposed view [H, V] (read as strides) */
    return nb_sigmoid(nb_linear(v, nb_transpose(nb_module_param(rbm, "weight"), 0, 1),
                                nb_module_param(rbm, "hidden_bias")));
}

static nb_tensor *visible_mean(nb_module *rbm, nb_tensor *h, const void *ctx)
{
    (void)ctx;
    /* nb_linear computes h @ weight^T + b with weight [V, H]: the down pass with no copy. */
    nb_tensor *a =
        nb_linear(h, nb_module_param(rbm, "weight"), nb_module_param(rbm, "visible_bias"));
    return cfg_of(rbm)->visible == NB_RBM_GAUSSIAN ? a : nb_sigmoid(a);
}

/* v ~ p(v | h) given E[v | h]. */
static nb_tensor *sample_from_mean(const nb_module *rbm, nb_tensor *mean, nb_rng *rng)
{
    if (!mean)
        return NULL;
    if (cfg_of(rbm)->visible == NB_RBM_BERNOULLI)
        return nb_sample_bernoulli(mean, rng);
    return nb_add(mean,
                  nb_rand_normal(nb_tensor_dtype(mean), 2, nb_tensor_shape(mean), rng, 0.0, 1.0));
}

static bool need_rng(const char *fn, nb_rng *rng)
{
    if (!rng)
        nb_set_error(NB_ERR_VALUE, "%s: rng is NULL", fn);
    return rng != NULL;
}

/* The checks of the one-tensor functions below: an RBM, and x [*, n] of its dtype, where n is
 * the visible size (hidden == false) or the hidden size. NULL x yields false silently. */
static bool check_pass(const char *fn, const nb_module *rbm, const nb_tensor *x, const char *what,
                       bool hidden)
{
    if (!x)
        return false;
    const rbm_cfg *c = need_rbm(fn, rbm);
    return c && check_rows(fn, rbm, x, what, hidden ? c->n_hidden : c->n_visible);
}

nb_tensor *nb_rbm_hidden_probs(nb_module *rbm, nb_tensor *v)
{
    if (!check_pass("nb_rbm_hidden_probs", rbm, v, "v", false))
        return NULL;
    return nbi_unsup_call(hidden_probs, rbm, v, NULL);
}

nb_tensor *nb_rbm_visible_mean(nb_module *rbm, nb_tensor *h)
{
    if (!check_pass("nb_rbm_visible_mean", rbm, h, "h", true))
        return NULL;
    return nbi_unsup_call(visible_mean, rbm, h, NULL);
}

typedef struct gibbs_ctx {
    nb_rng *rng;
    int k;
    bool mean;
} gibbs_ctx;

static nb_tensor *sample_hidden(nb_module *rbm, nb_tensor *v, const void *ctx)
{
    const gibbs_ctx *g = ctx;
    bool was = nb_set_grad_enabled(false);
    nb_tensor *h = nb_sample_bernoulli(hidden_probs(rbm, v, NULL), g->rng);
    nb_set_grad_enabled(was);
    return h;
}

static nb_tensor *sample_visible(nb_module *rbm, nb_tensor *h, const void *ctx)
{
    const gibbs_ctx *g = ctx;
    bool was = nb_set_grad_enabled(false);
    nb_tensor *v = sample_from_mean(rbm, visible_mean(rbm, h, NULL), g->rng);
    nb_set_grad_enabled(was);
    return v;
}

static nb_tensor *gibbs(nb_module *rbm, nb_tensor *v, const void *ctx)
{
    const gibbs_ctx *g = ctx;
    bool was = nb_set_grad_enabled(false);
    nb_tensor *cur = nb_detach(v);
    for (int s = 0; s < g->k && cur; s++) {
        nb_tensor *h = sample_hidden(rbm, cur, ctx);
        nb_tensor *vm = visible_mean(rbm, h, NULL);
        cur = (g->mean && s == g->k - 1) ? vm : sample_from_mean(rbm, vm, g->rng);
    }
    nb_set_grad_enabled(was);
    return cur;
}

nb_tensor *nb_rbm_sample_hidden(nb_module *rbm, nb_tensor *v, nb_rng *rng)
{
    const char *fn = "nb_rbm_sample_hidden";
    if (!check_pass(fn, rbm, v, "v", false) || !need_rng(fn, rng))
        return NULL;
    return nbi_unsup_call(sample_hidden, rbm, v, &(gibbs_ctx){.rng = rng});
}

nb_tensor *nb_rbm_sample_visible(nb_module *rbm, nb_tensor *h, nb_rng *rng)
{
    const char *fn = "nb_rbm_sample_visible";
    if (!check_pass(fn, rbm, h, "h", true) || !need_rng(fn, rng))
        return NULL;
    return nbi_unsup_call(sample_visible, rbm, h, &(gibbs_ctx){.rng = rng});
}

nb_tensor *nb_rbm_gibbs(nb_module *rbm, nb_tensor *v, int k, bool mean, nb_rng *rng)
{
    const char *fn = "nb_rbm_gibbs";
    if (!check_pass(fn, rbm, v, "v", false) || !need_rng(fn, rng))
        return NULL;
    if (k < 0) {
        nb_set_error(NB_ERR_VALUE, "%s: k must be >= 0, got %d", fn, k);
        return NULL;
    }
    return nbi_unsup_call(gibbs, rbm, v, &(gibbs_ctx){.rng = rng, .k = k, .mean = mean});
}

static nb_tensor *free_energy(nb_module *rbm, nb_tensor *v, const void *ctx)
{
    (void)ctx;
    nb_tensor *w = nb_module_param(rbm, "weight"), *b = nb_module_param(rbm, "visible_bias");
    nb_tensor *hid =
        nb_sum(nb_softplus(nb_add(nb_matmul(v, w), nb_module_param(rbm, "hidden_bias"))), 1, false);
    if (cfg_of(rbm)->visible == NB_RBM_BERNOULLI) /* -b.v - sum softplus */
        return nb_sub(nb_neg(nb_matmul(v, b)), hid);
    return nb_sub(nb_mul_scalar(nb_sum(nb_square(nb_sub(v, b)), 1, false), 0.5), hid);
}

nb_tensor *nb_rbm_free_energy(nb_module *rbm, nb_tensor *v)
{
    if (!check_pass("nb_rbm_free_energy", rbm, v, "v", false))
        return NULL;
    return nbi_unsup_call(free_energy, rbm, v, NULL);
}

nb_status nb_rbm_init_visible_bias(nb_module *rbm, nb_tensor *v)
{
    const char *fn = "nb_rbm_init_visible_bias";
    const rbm_cfg *c = need_rbm(fn, rbm);
    if (!c || !check_rows(fn, rbm, v, "v", c->n_visible))
        return nb_last_status();
    int64_t n = nb_tensor_dim(v, 0);
    if (n < 1)
        return nb_set_error(NB_ERR_SHAPE, "%s: v has no rows", fn);
    nb_tensor *b = nb_module_param(rbm, "visible_bias");
    nbi_scope sc;
    if (nbi_scope_begin(&sc, NULL) != NB_OK)
        return nb_last_status();
    nb_tensor *mean = nb_mean(v, 0, false); /* [V] */
    for (int64_t i = 0; mean && i < c->n_visible; i++) {
        double p = nb_tensor_get(mean, i);
        if (c->visible == NB_RBM_BERNOULLI) {
            p = p < 0.01 ? 0.01 : p > 0.99 ? 0.99 : p;
            nb_tensor_set(b, i, log(p / (1.0 - p)));
        } else {
            nb_tensor_set(b, i, p);
        }
    }
    nbi_scope_end(&sc, NULL);
    if (!mean)
        return nb_last_status();
    return NB_OK;
}

/* ---- contrastive divergence ---- */

/* Add a bias's CD statistics into the gradient of parameter `name` (if it requires grad):
 * grad += neg / m - pos / b. */
static nb_status add_stat(nb_module *rbm, const char *name, nb_tensor *pos, double nb,
                          nb_tensor *neg, double nm)
{
    nb_tensor *p = nb_module_param(rbm, name);
    if (!nb_tensor_requires_grad(p) || !nb_tensor_grad(p))
        return NB_OK;
    nb_status st = nb_tensor_axpby(nb_tensor_grad(p), -1.0 / nb, pos, 1.0);
    return st == NB_OK ? nb_tensor_axpby(nb_tensor_grad(p), 1.0 / nm, neg, 1.0) : st;
}

/* The weight's: grad += vk^T phk / m - v0^T ph0 / b, two products straight into the gradient
 * (nb_tensor_addmm), with no [V, H] statistics of their own. */
static nb_status add_weight_stat(nb_module *rbm, nb_tensor *v0, nb_tensor *ph0, double nb,
                                 nb_tensor *vk, nb_tensor *phk, double nm)
{
    nb_tensor *p = nb_module_param(rbm, "weight");
    if (!nb_tensor_requires_grad(p) || !nb_tensor_grad(p))
        return NB_OK;
    nb_status st = nb_tensor_addmm(nb_tensor_grad(p), -1.0 / nb, nb_transpose(v0, 0, 1), ph0, 1.0);
    return st == NB_OK
               ? nb_tensor_addmm(nb_tensor_grad(p), 1.0 / nm, nb_transpose(vk, 0, 1), phk, 1.0)
               : st;
}

/* Mean over the batch of the squared-error row sums |v - r|^2 (v, r [B, V]) as a number. */
static double mean_row_sse(nb_tensor *v, nb_tensor *r)
{
    nb_tensor *s = nb_mul_scalar(nb_sum_all(nb_square(nb_sub(v, r))), 1.0 / nb_tensor_dim(v, 0));
    return s ? nb_tensor_item(s) : NAN;
}

/* CD core, inside a no-grad scope. recon (may be NULL) receives the mean-field reconstruction
 * error of v0. */
static nb_status cd_core(const char *fn, nb_module *rbm, nb_tensor *v0, int k, nb_tensor *chain,
                         nb_rng *rng, nb_tensor *negative, double *recon)
{
    int64_t B = nb_tensor_dim(v0, 0);
    nb_tensor *ph0 = hidden_probs(rbm, v0, NULL);
    /* Start of the negative chains: h ~ p(h | v0) (CD) or h ~ p(h | chain) (PCD). */
    nb_tensor *h = nb_sample_bernoulli(chain ? hidden_probs(rbm, chain, NULL) : ph0, rng);
    nb_tensor *vk = NULL, *phk = NULL;
    for (int s = 0; s < k && h; s++) {
        vk = sample_from_mean(rbm, visible_mean(rbm, h, NULL), rng);
        phk = hidden_probs(rbm, vk, NULL);
        if (s + 1 < k)
            h = nb_sample_bernoulli(phk, rng);
    }
    if (!ph0 || !phk)
        return nb_last_status();
    int64_t M = nb_tensor_dim(vk, 0);
    nb_tensor *pos_b = nb_sum(v0, 0, false), *neg_b = nb_sum(vk, 0, false);
    nb_tensor *pos_c = nb_sum(ph0, 0, false), *neg_c = nb_sum(phk, 0, false);
    double err = recon ? mean_row_sse(v0, visible_mean(rbm, ph0, NULL)) : 0.0;
    if (!pos_b || !neg_b || !pos_c || !neg_c || (recon && isnan(err)))
        return nb_last_status() != NB_OK
                   ? nb_last_status()
                   : nb_set_error(NB_ERR_VALUE, "%s: reconstruction error is NaN", fn);
    if (negative && nb_tensor_copy_into(negative, vk) != NB_OK)
        return nb_last_status();
    if (chain && nb_tensor_copy_into(chain, vk) != NB_OK)
        return nb_last_status();
    nb_status st = add_weight_stat(rbm, v0, ph0, (double)B, vk, phk, (double)M);
    if (st == NB_OK)
        st = add_stat(rbm, "visible_bias", pos_b, (double)B, neg_b, (double)M);
    if (st == NB_OK)
        st = add_stat(rbm, "hidden_bias", pos_c, (double)B, neg_c, (double)M);
    if (st != NB_OK)
        return st;
    if (recon)
        *recon = err;
    return NB_OK;
}

/* Argument checks shared by nb_rbm_cd_grad and the trainer. */
static bool check_cd_args(const char *fn, nb_module *rbm, nb_tensor *v0, int k, nb_tensor *chain,
                          nb_rng *rng, nb_tensor *negative)
{
    const rbm_cfg *c = need_rbm(fn, rbm);
    if (!c || !check_rows(fn, rbm, v0, "v0", c->n_visible) || !need_rng(fn, rng))
        return false;
    if (nb_tensor_dim(v0, 0) < 1) {
        nb_set_error(NB_ERR_SHAPE, "%s: v0 has no rows", fn);
        return false;
    }
    if (k < 1) {
        nb_set_error(NB_ERR_VALUE, "%s: k must be >= 1, got %d", fn, k);
        return false;
    }
    if (chain &&
        (!check_rows(fn, rbm, chain, "chain", c->n_visible) || nb_tensor_dim(chain, 0) < 1)) {
        if (nb_last_status() == NB_OK)
            nb_set_error(NB_ERR_SHAPE, "%s: chain has no rows", fn);
        return false;
    }
    if (negative) {
        int64_t m = chain ? nb_tensor_dim(chain, 0) : nb_tensor_dim(v0, 0);
        char got[96];
        if (!check_rows(fn, rbm, negative, "negative", c->n_visible))
            return false;
        if (nb_tensor_dim(negative, 0) != m) {
            nb_set_error(NB_ERR_SHAPE, "%s: negative is %s, expected [%lld, %lld]", fn,
                         nb_tensor_shape_str(negative, got, sizeof got), (long long)m,
                         (long long)c->n_visible);
            return false;
        }
    }
    return true;
}

nb_status nb_rbm_cd_grad(nb_module *rbm, nb_tensor *v0, int k, nb_tensor *chain, nb_rng *rng,
                         nb_tensor *negative)
{
    const char *fn = "nb_rbm_cd_grad";
    if (!check_cd_args(fn, rbm, v0, k, chain, rng, negative))
        return nb_last_status();
    nbi_scope s;
    if (nbi_scope_begin(&s, NULL) != NB_OK)
        return nb_last_status();
    nb_status st = cd_core(fn, rbm, v0, k, chain, rng, negative, NULL);
    nbi_scope_end(&s, NULL);
    return st;
}

/* ---- trainer ---- */

#define RBM_NPARAM 3
static const char *const param_names[RBM_NPARAM] = {"weight", "visible_bias", "hidden_bias"};

struct nb_rbm_trainer {
    nb_module *rbm;
    nb_rbm_train_opts opts;
    nb_rng rng;
    nb_tensor *delta[RBM_NPARAM]; /* momentum buffers, caller-owned by the trainer */
    nb_tensor *chains;            /* persistent CD, made at the first step */
    nb_step *step;                /* used when the caller has no active step */
};

nb_rbm_train_opts nb_rbm_train_defaults(void)
{
    return (nb_rbm_train_opts){.lr = 0.1,
                               .momentum = 0.5,
                               .weight_decay = 2e-4,
                               .k = 1,
                               .persistent = false,
                               .n_chains = 0,
                               .seed = 1};
}

static nb_status check_lr(const char *fn, double lr)
{
    if (!(lr >= 0.0) || isinf(lr))
        return nb_set_error(NB_ERR_VALUE, "%s: lr must be a finite value >= 0, got %g", fn, lr);
    return NB_OK;
}

static nb_status check_momentum(const char *fn, double momentum)
{
    if (!(momentum >= 0.0 && momentum < 1.0))
        return nb_set_error(NB_ERR_VALUE, "%s: momentum must be in [0, 1), got %g", fn, momentum);
    return NB_OK;
}

nb_rbm_trainer *nb_rbm_trainer_new(nb_module *rbm, const nb_rbm_train_opts *opts)
{
    const char *fn = "nb_rbm_trainer_new";
    nb_rbm_train_opts o = opts ? *opts : nb_rbm_train_defaults();
    if (!need_rbm(fn, rbm) || check_lr(fn, o.lr) != NB_OK ||
        check_momentum(fn, o.momentum) != NB_OK)
        return NULL;
    if (!(o.weight_decay >= 0.0) || isinf(o.weight_decay) || o.k < 1 || o.n_chains < 0) {
        nb_set_error(NB_ERR_VALUE,
                     "%s: need weight_decay >= 0, k >= 1, n_chains >= 0; got %g, %d, %lld", fn,
                     o.weight_decay, o.k, (long long)o.n_chains);
        return NULL;
    }
    nb_rbm_trainer *tr = nb_calloc(1, sizeof *tr);
    if (!tr) {
        nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        return NULL;
    }
    tr->rbm = rbm;
    tr->opts = o;
    tr->rng = nb_rng_seed(o.seed);
    for (int i = 0; i < RBM_NPARAM; i++) {
        nb_tensor *p = nb_module_param(rbm, param_names[i]);
        tr->delta[i] = nb_tensor_zeros(nb_tensor_dtype(p), nb_tensor_ndim(p), nb_tensor_shape(p));
        if (!tr->delta[i]) {
            nb_rbm_trainer_free(tr);
            return NULL;
        }
    }
    return tr;
}

/* Persistent chains at the first step: row m is row m % B of the first batch. */
static nb_status make_chains(nb_rbm_trainer *tr, nb_tensor *v0)
{
    int64_t B = nb_tensor_dim(v0, 0), V = nb_tensor_dim(v0, 1);
    int64_t M = tr->opts.n_chains > 0 ? tr->opts.n_chains : B;
    tr->chains = nb_tensor_new(nb_tensor_dtype(v0), 2, (int64_t[]){M, V});
    if (!tr->chains)
        return nb_last_status();
    for (int64_t m = 0; m < M; m++)
        for (int64_t i = 0; i < V; i++)
            nb_tensor_set(tr->chains, m * V + i, nb_tensor_get(v0, (m % B) * V + i));
    return NB_OK;
}

#define NB_KERNELS "rbm_kernels.h"
#include "nabla/typed.h"

static void apply_update(nb_rbm_trainer *tr)
{
    for (int i = 0; i < RBM_NPARAM; i++) {
        nb_tensor *p = nb_module_param(tr->rbm, param_names[i]), *d = tr->delta[i];
        if (!nb_tensor_requires_grad(p) || !nb_tensor_grad(p))
            continue;
        const double mu = tr->opts.momentum, lr = tr->opts.lr;
        const double wd = i == 0 ? tr->opts.weight_decay : 0.0; /* no decay on biases */
        NB_DISPATCH(nb_tensor_dtype(p), rbm_step, p, d, mu, lr, wd);
    }
}

nb_status nb_rbm_trainer_update(nb_rbm_trainer *tr, nb_tensor *v0, nb_rbm_update_stats *stats)
{
    const char *fn = "nb_rbm_trainer_update";
    if (!tr)
        return nb_set_error(NB_ERR_VALUE, "%s: trainer is NULL", fn);
    if (!check_cd_args(fn, tr->rbm, v0, tr->opts.k, tr->chains, &tr->rng, NULL))
        return nb_last_status();
    if (tr->opts.persistent && !tr->chains && make_chains(tr, v0) != NB_OK)
        return nb_last_status();
    if (!tr->step && !nb_step_active() && !(tr->step = nb_step_new()))
        return nb_last_status();
    nbi_scope s;
    if (nbi_scope_begin(&s, tr->step) != NB_OK)
        return nb_last_status();
    nb_module_zero_grad(tr->rbm);
    double recon = NAN;
    nb_status st = cd_core(fn, tr->rbm, v0, tr->opts.k, tr->opts.persistent ? tr->chains : NULL,
                           &tr->rng, NULL, stats ? &recon : NULL);
    nbi_scope_end(&s, tr->step);
    if (st != NB_OK)
        return st;
    apply_update(tr);
    if (stats)
        stats->recon_error = recon;
    return NB_OK;
}

nb_status nb_rbm_trainer_set_lr(nb_rbm_trainer *tr, double lr)
{
    if (!tr)
        return nb_set_error(NB_ERR_VALUE, "nb_rbm_trainer_set_lr: trainer is NULL");
    if (check_lr("nb_rbm_trainer_set_lr", lr) != NB_OK)
        return nb_last_status();
    tr->opts.lr = lr;
    return NB_OK;
}

nb_status nb_rbm_trainer_set_momentum(nb_rbm_trainer *tr, double momentum)
{
    if (!tr)
        return nb_set_error(NB_ERR_VALUE, "nb_rbm_trainer_set_momentum: trainer is NULL");
    if (check_momentum("nb_rbm_trainer_set_momentum", momentum) != NB_OK)
        return nb_last_status();
    tr->opts.momentum = momentum;
    return NB_OK;
}

nb_tensor *nb_rbm_trainer_chains(nb_rbm_trainer *tr)
{
    return tr ? tr->chains : NULL;
}

void nb_rbm_trainer_free(nb_rbm_trainer *tr)
{
    if (!tr)
        return;
    for (int i = 0; i < RBM_NPARAM; i++)
        nb_tensor_free(tr->delta[i]);
    nb_tensor_free(tr->chains);
    nb_step_free(tr->step);
    nb_free(tr);
}

/* ---- monitoring ---- */

double nb_rbm_reconstruction_error(nb_module *rbm, nb_tensor *v)
{
    const char *fn = "nb_rbm_reconstruction_error";
    const rbm_cfg *c = need_rbm(fn, rbm);
    if (!c || !check_rows(fn, rbm, v, "v", c->n_visible))
        return NAN;
    nbi_scope s;
    if (nbi_scope_begin(&s, NULL) != NB_OK)
        return NAN;
    double err = mean_row_sse(v, visible_mean(rbm, hidden_probs(rbm, v, NULL), NULL));
    nbi_scope_end(&s, NULL);
    return err;
}

double nb_rbm_mean_free_energy(nb_module *rbm, nb_tensor *v)
{
    const char *fn = "nb_rbm_mean_free_energy";
    const rbm_cfg *c = need_rbm(fn, rbm);
    if (!c || !check_rows(fn, rbm, v, "v", c->n_visible))
        return NAN;
    nbi_scope s;
    if (nbi_scope_begin(&s, NULL) != NB_OK)
        return NAN;
    nb_tensor *f = nb_mean_all(free_energy(rbm, v, NULL));
    double r = f ? nb_tensor_item(f) : NAN;
    nbi_scope_end(&s, NULL);
    return r;
}

double nb_rbm_pseudo_log_likelihood(nb_module *rbm, nb_tensor *v, nb_rng *rng)
{
    const char *fn = "nb_rbm_pseudo_log_likelihood";
    const rbm_cfg *c = need_rbm(fn, rbm);
    if (!c || !check_rows(fn, rbm, v, "v", c->n_visible) || !need_rng(fn, rng))
        return NAN;
    if (c->visible != NB_RBM_BERNOULLI) {
        nb_set_error(NB_ERR_STATE, "%s: defined for Bernoulli visible units only", fn);
        return NAN;
    }
    nbi_scope s;
    if (nbi_scope_begin(&s, NULL) != NB_OK)
        return NAN;
    int64_t B = nb_tensor_dim(v, 0), V = c->n_visible;
    /* One-hot rows marking the flipped coordinate; v' = v + flip * (1 - 2v). */
    nb_tensor *flip = nb_constant(nb_tensor_dtype(v), 2, (int64_t[]){B, V}, 0.0);
    double r = NAN;
    if (flip) {
        for (int64_t b = 0; b < B; b++)
            nb_tensor_set(flip, b * V + (int64_t)nb_rng_below(rng, (uint64_t)V), 1.0);
        nb_tensor *vf = nb_add(v, nb_mul(flip, nb_affine(v, -2.0, 1.0)));
        nb_tensor *gap = nb_sub(free_energy(rbm, v, NULL), free_energy(rbm, vf, NULL));
        /* V * log sigmoid(F(v') - F(v)) = -V * softplus(F(v) - F(v')) */
        nb_tensor *pll = nb_mul_scalar(nb_mean_all(nb_softplus(gap)), -(double)V);
        r = pll ? nb_tensor_item(pll) : NAN;
    }
    nbi_scope_end(&s, NULL);
    return r;
}

#define RBM_MAX_ENUM 24

/* log(exp(a) + exp(b)) without overflow. */
static double log_add(double a, double b)
{
    if (a == -INFINITY)
        return b;
    double m = a > b ? a : b;
    return m + log1p(exp(-fabs(a - b)));
}

static double softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

double nb_rbm_log_partition(nb_module *rbm)
{
    const char *fn = "nb_rbm_log_partition";
    const rbm_cfg *c = need_rbm(fn, rbm);
    if (!c)
        return NAN;
    if (c->visible != NB_RBM_BERNOULLI) {
        nb_set_error(NB_ERR_VALUE, "%s: defined for Bernoulli visible units only", fn);
        return NAN;
    }
    const int64_t V = c->n_visible, H = c->n_hidden;
    const bool over_h = H <= V; /* enumerate the smaller layer */
    const int64_t n_enum = over_h ? H : V, n_other = over_h ? V : H;
    if (n_enum > RBM_MAX_ENUM) {
        nb_set_error(NB_ERR_VALUE, "%s: 2^%lld states are too many to enumerate (at most 2^%d)", fn,
                     (long long)n_enum, RBM_MAX_ENUM);
        return NAN;
    }
    nb_tensor *w = nb_tensor_to_dtype(nb_module_param(rbm, "weight"), NB_F64);
    nb_tensor *b = nb_tensor_to_dtype(nb_module_param(rbm, "visible_bias"), NB_F64);
    nb_tensor *hb = nb_tensor_to_dtype(nb_module_param(rbm, "hidden_bias"), NB_F64);
    double *act = nb_malloc((size_t)n_other * sizeof *act);
    double logz = NAN;
    if (w && b && hb && act) {
        const double *W = nb_tensor_data_f64(w); /* [V, H] */
        const double *bias_enum = nb_tensor_data_f64(over_h ? hb : b);
        const double *bias_other = nb_tensor_data_f64(over_h ? b : hb);
        logz = -INFINITY;
        /* log Z = logsumexp_s [ bias_enum . s + sum_o softplus(bias_other_o + (W s)_o) ] */
        for (uint64_t s = 0; s < ((uint64_t)1 << n_enum); s++) {
            double e = 0.0;
            for (int64_t o = 0; o < n_other; o++)
                act[o] = bias_other[o];
            for (int64_t j = 0; j < n_enum; j++) {
                if (!((s >> j) & 1))
                    continue;
                e += bias_enum[j];
                for (int64_t o = 0; o < n_other; o++)
                    act[o] += over_h ? W[o * H + j] : W[j * H + o];
            }
            for (int64_t o = 0; o < n_other; o++)
                e += softplus(act[o]);
            logz = log_add(logz, e);
        }
    } else {
        nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
    }
    nb_free(act);
    nb_tensor_free(w);
    nb_tensor_free(b);
    nb_tensor_free(hb);
    return logz;
}

double nb_rbm_log_likelihood(nb_module *rbm, nb_tensor *v)
{
    const char *fn = "nb_rbm_log_likelihood";
    const rbm_cfg *c = need_rbm(fn, rbm);
    if (!c || !check_rows(fn, rbm, v, "v", c->n_visible))
        return NAN;
    double logz = nb_rbm_log_partition(rbm);
    if (isnan(logz))
        return NAN;
    double f = nb_rbm_mean_free_energy(rbm, v);
    return -f - logz;
}
