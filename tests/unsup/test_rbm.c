/* tests/unsup/test_rbm.c — unsup/rbm.c: free energy and conditionals against enumeration of every
 * state of a tiny RBM, contrastive-divergence gradients against the formula evaluated here with
 * plain loops, the trainer's momentum update, exact log-likelihood rising under training, the
 * monitoring numbers and the error paths. */
#include "support/nbt.h"

#include <math.h>
#include <string.h>

enum { V = 4, H = 3 };

/* A tiny f64 RBM with every parameter uniform in [-1, 1] (zero biases would hide bugs). */
static nb_module *tiny_rbm(nb_rbm_visible vis, uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    nb_module *m = nb_rbm_new_ex(V, H, vis, &r, NB_F64);
    assert_non_null(m);
    assert_int_equal(nb_init_uniform(nb_module_param(m, "weight"), &r, -1, 1), NB_OK);
    assert_int_equal(nb_init_uniform(nb_module_param(m, "visible_bias"), &r, -1, 1), NB_OK);
    assert_int_equal(nb_init_uniform(nb_module_param(m, "hidden_bias"), &r, -1, 1), NB_OK);
    return m;
}

/* Parameters copied out as plain arrays. */
typedef struct params {
    double w[V * H], b[V], c[H];
} params;

static params read_params(nb_module *m)
{
    params p;
    for (int i = 0; i < V * H; i++)
        p.w[i] = nb_tensor_get(nb_module_param(m, "weight"), i);
    for (int i = 0; i < V; i++)
        p.b[i] = nb_tensor_get(nb_module_param(m, "visible_bias"), i);
    for (int j = 0; j < H; j++)
        p.c[j] = nb_tensor_get(nb_module_param(m, "hidden_bias"), j);
    return p;
}

static void bits(unsigned s, int n, double *out)
{
    for (int i = 0; i < n; i++)
        out[i] = (s >> i) & 1u;
}

/* E(v, h) = -b.v - c.h - v W h (Bernoulli) or |v - b|^2 / 2 - c.h - v W h (Gaussian). */
static double energy(const params *p, bool gaussian, const double *v, const double *h)
{
    double e = 0.0;
    for (int i = 0; i < V; i++)
        e += gaussian ? 0.5 * (v[i] - p->b[i]) * (v[i] - p->b[i]) : -p->b[i] * v[i];
    for (int j = 0; j < H; j++)
        e -= p->c[j] * h[j];
    for (int i = 0; i < V; i++)
        for (int j = 0; j < H; j++)
            e -= v[i] * p->w[i * H + j] * h[j];
    return e;
}

/* F(v) = -log sum_h exp(-E(v, h)) by enumerating the 2^H hidden states. */
static double free_energy_enum(const params *p, bool gaussian, const double *v)
{
    double z = 0.0, h[H];
    for (unsigned s = 0; s < (1u << H); s++) {
        bits(s, H, h);
        z += exp(-energy(p, gaussian, v, h));
    }
    return -log(z);
}

/* log Z = log sum_{v,h} exp(-E) over all 2^(V+H) states. */
static double log_partition_enum(const params *p)
{
    double z = 0.0, v[V], h[H];
    for (unsigned sv = 0; sv < (1u << V); sv++)
        for (unsigned sh = 0; sh < (1u << H); sh++) {
            bits(sv, V, v);
            bits(sh, H, h);
            z += exp(-energy(p, false, v, h));
        }
    return log(z);
}

static double sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

/* Mean exact log-likelihood of n binary rows. */
static double log_likelihood_enum(const params *p, const double *data, int n)
{
    double ll = 0.0, logz = log_partition_enum(p);
    for (int r = 0; r < n; r++)
        ll += -free_energy_enum(p, false, data + r * V) - logz;
    return ll / n;
}

/* Every visible state as the rows of a [16, 4] f64 tensor. */
static nb_tensor *all_visible_states(void)
{
    double d[(1 << V) * V];
    for (unsigned s = 0; s < (1u << V); s++)
        bits(s, V, d + s * V);
    return nb_tensor_from_data(NB_F64, 2, (int64_t[]){1 << V, V}, d);
}

static void test_free_energy_matches_enumeration_bernoulli(void **state)
{
    (void)state;
    nb_module *m = tiny_rbm(NB_RBM_BERNOULLI, 1);
    params p = read_params(m);
    nb_tensor *vs = all_visible_states();
    nb_tensor *f = nb_rbm_free_energy(m, vs);
    assert_non_null(f);
    assert_int_equal(nb_tensor_ndim(f), 1);
    assert_int_equal(nb_tensor_dim(f, 0), 1 << V);
    for (int s = 0; s < (1 << V); s++)
        assert_float_equal(nb_tensor_get(f, s),
                           free_energy_enum(&p, false, nb_tensor_data_f64(vs) + s * V), 1e-12);
    nb_tensor_free(f);
    nb_tensor_free(vs);
    nb_module_free(m);
}

static void test_free_energy_matches_enumeration_gaussian(void **state)
{
    (void)state;
    nb_module *m = tiny_rbm(NB_RBM_GAUSSIAN, 2);
    params p = read_params(m);
    nb_rng r = nb_rng_seed(5);
    nb_tensor *vs = nb_tensor_normal(NB_F64, 2, (int64_t[]){6, V}, &r, 0.0, 1.5);
    nb_tensor *f = nb_rbm_free_energy(m, vs);
    assert_non_null(f);
    for (int s = 0; s < 6; s++)
        assert_float_equal(nb_tensor_get(f, s),
                           free_energy_enum(&p, true, nb_tensor_data_f64(vs) + s * V), 1e-12);
    nb_tensor_free(f);
    nb_tensor_free(vs);
    nb_module_free(m);
}

/* p(h_j = 1 | v) = sum_{h: h_j = 1} exp(-E(v, h)) / sum_h exp(-E(v, h)). */
static void test_hidden_probs_match_enumeration(void **state)
{
    (void)state;
    for (int g = 0; g < 2; g++) {
        nb_module *m = tiny_rbm(g ? NB_RBM_GAUSSIAN : NB_RBM_BERNOULLI, 3 + (uint64_t)g);
        params p = read_params(m);
        nb_tensor *vs = all_visible_states();
        nb_tensor *ph = nb_rbm_hidden_probs(m, vs);
        assert_non_null(ph);
        assert_int_equal(nb_tensor_dim(ph, 1), H);
        for (int s = 0; s < (1 << V); s++) {
            const double *v = nb_tensor_data_f64(vs) + s * V;
            double z = 0.0, on[H] = {0}, h[H];
            for (unsigned sh = 0; sh < (1u << H); sh++) {
                bits(sh, H, h);
                double w = exp(-energy(&p, g, v, h));
                z += w;
                for (int j = 0; j < H; j++)
                    on[j] += h[j] * w;
            }
            for (int j = 0; j < H; j++)
                assert_float_equal(nb_tensor_get(ph, s * H + j), on[j] / z, 1e-12);
        }
        nb_tensor_free(ph);
        nb_tensor_free(vs);
        nb_module_free(m);
    }
}

/* p(v_i = 1 | h) = sum_{v: v_i = 1} exp(-E(v, h)) / sum_v exp(-E(v, h)). */
static void test_visible_probs_match_enumeration(void **state)
{
    (void)state;
    nb_module *m = tiny_rbm(NB_RBM_BERNOULLI, 4);
    params p = read_params(m);
    double hd[(1 << H) * H];
    for (unsigned s = 0; s < (1u << H); s++)
        bits(s, H, hd + s * H);
    nb_tensor *hs = nb_tensor_from_data(NB_F64, 2, (int64_t[]){1 << H, H}, hd);
    nb_tensor *pv = nb_rbm_visible_mean(m, hs);
    assert_non_null(pv);
    for (int s = 0; s < (1 << H); s++) {
        double z = 0.0, on[V] = {0}, v[V];
        for (unsigned sv = 0; sv < (1u << V); sv++) {
            bits(sv, V, v);
            double w = exp(-energy(&p, false, v, hd + s * H));
            z += w;
            for (int i = 0; i < V; i++)
                on[i] += v[i] * w;
        }
        for (int i = 0; i < V; i++)
            assert_float_equal(nb_tensor_get(pv, s * V + i), on[i] / z, 1e-12);
    }
    nb_tensor_free(pv);
    nb_tensor_free(hs);
    nb_module_free(m);
}

/* Gaussian visible units: E[v | h] = b + W h. */
static void test_gaussian_visible_mean_is_linear(void **state)
{
    (void)state;
    nb_module *m = tiny_rbm(NB_RBM_GAUSSIAN, 6);
    params p = read_params(m);
    double hd[H] = {1, 0, 1};
    nb_tensor *h = nb_tensor_from_data(NB_F64, 2, (int64_t[]){1, H}, hd);
    nb_tensor *mean = nb_rbm_visible_mean(m, h);
    assert_non_null(mean);
    for (int i = 0; i < V; i++) {
        double want = p.b[i];
        for (int j = 0; j < H; j++)
            want += p.w[i * H + j] * hd[j];
        assert_float_equal(nb_tensor_get(mean, i), want, 1e-12);
    }
    nb_tensor_free(mean);
    nb_tensor_free(h);
    nb_module_free(m);
}

enum { B = 5 };

static nb_tensor *binary_batch(int rows, uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    return nb_rand_bernoulli(NB_F64, 2, (int64_t[]){rows, V}, &r, 0.5);
}

/* Expected CD gradients from data rows v0 (n0 of them) and negative rows vk (nk), computed with
 * loops: dW = -(v0^T p(h|v0) / n0 - vk^T p(h|vk) / nk), and the biases alike. */
static void cd_formula(const params *p, const double *v0, int n0, const double *vk, int nk,
                       double *dw, double *db, double *dc)
{
    memset(dw, 0, sizeof(double) * V * H);
    memset(db, 0, sizeof(double) * V);
    memset(dc, 0, sizeof(double) * H);
    for (int phase = 0; phase < 2; phase++) {
        const double *vv = phase ? vk : v0;
        int n = phase ? nk : n0;
        double sign = phase ? 1.0 / nk : -1.0 / n0;
        for (int r = 0; r < n; r++) {
            const double *v = vv + r * V;
            for (int j = 0; j < H; j++) {
                double a = p->c[j];
                for (int i = 0; i < V; i++)
                    a += v[i] * p->w[i * H + j];
                double ph = sigmoid(a);
                dc[j] += sign * ph;
                for (int i = 0; i < V; i++)
                    dw[i * H + j] += sign * v[i] * ph;
            }
            for (int i = 0; i < V; i++)
                db[i] += sign * v[i];
        }
    }
}

static void assert_grads(nb_module *m, const double *dw, const double *db, const double *dc)
{
    for (int i = 0; i < V * H; i++)
        assert_float_equal(nb_tensor_get(nb_tensor_grad(nb_module_param(m, "weight")), i), dw[i],
                           1e-12);
    for (int i = 0; i < V; i++)
        assert_float_equal(nb_tensor_get(nb_tensor_grad(nb_module_param(m, "visible_bias")), i),
                           db[i], 1e-12);
    for (int j = 0; j < H; j++)
        assert_float_equal(nb_tensor_get(nb_tensor_grad(nb_module_param(m, "hidden_bias")), j),
                           dc[j], 1e-12);
}

static void assert_binary(nb_tensor *t)
{
    for (int64_t i = 0; i < nb_tensor_numel(t); i++) {
        double x = nb_tensor_get(t, i);
        assert_true(x == 0.0 || x == 1.0);
    }
}

static void test_cd1_gradient_matches_formula(void **state)
{
    (void)state;
    nb_module *m = tiny_rbm(NB_RBM_BERNOULLI, 7);
    params p = read_params(m);
    nb_tensor *v0 = binary_batch(B, 8);
    nb_tensor *neg = nb_tensor_zeros(NB_F64, 2, (int64_t[]){B, V});
    nb_rng r = nb_rng_seed(9);
    nb_module_zero_grad(m);
    assert_int_equal(nb_rbm_cd_grad(m, v0, 1, NULL, &r, neg), NB_OK);
    assert_binary(neg);
    double dw[V * H], db[V], dc[H];
    cd_formula(&p, nb_tensor_data_f64(v0), B, nb_tensor_data_f64(neg), B, dw, db, dc);
    assert_grads(m, dw, db, dc);
    /* Gradients accumulate like nb_backward: a second call with the same samples doubles them. */
    nb_rng r2 = nb_rng_seed(9);
    assert_int_equal(nb_rbm_cd_grad(m, v0, 1, NULL, &r2, neg), NB_OK);
    for (int i = 0; i < V * H; i++)
        dw[i] *= 2;
    for (int i = 0; i < V; i++)
        db[i] *= 2;
    for (int j = 0; j < H; j++)
        dc[j] *= 2;
    assert_grads(m, dw, db, dc);
    nb_tensor_free(neg);
    nb_tensor_free(v0);
    nb_module_free(m);
}

static void test_cdk_is_seeded_and_differs_from_cd1(void **state)
{
    (void)state;
    nb_module *m = tiny_rbm(NB_RBM_BERNOULLI, 10);
    nb_tensor *v0 = binary_batch(64, 11);
    nb_tensor *n1 = nb_tensor_zeros(NB_F64, 2, (int64_t[]){64, V});
    nb_tensor *n2 = nb_tensor_zeros(NB_F64, 2, (int64_t[]){64, V});
    nb_tensor *n3 = nb_tensor_zeros(NB_F64, 2, (int64_t[]){64, V});
    nb_rng a = nb_rng_seed(12), b = nb_rng_seed(12), c = nb_rng_seed(12);
    assert_int_equal(nb_rbm_cd_grad(m, v0, 5, NULL, &a, n1), NB_OK);
    assert_int_equal(nb_rbm_cd_grad(m, v0, 5, NULL, &b, n2), NB_OK);
    assert_int_equal(nb_rbm_cd_grad(m, v0, 1, NULL, &c, n3), NB_OK);
    assert_true(nb_tensor_allclose(n1, n2, 0, 0));
    assert_false(nb_tensor_allclose(n1, n3, 0, 0));
    nb_tensor_free(n1);
    nb_tensor_free(n2);
    nb_tensor_free(n3);
    nb_tensor_free(v0);
    nb_module_free(m);
}

/* Persistent CD: the negative statistics come from the M chains (normalised by M, not B) and
 * the chain tensor is replaced by the chains' new state. */
static void test_pcd_gradient_uses_and_advances_the_chains(void **state)
{
    (void)state;
    nb_module *m = tiny_rbm(NB_RBM_BERNOULLI, 13);
    params p = read_params(m);
    nb_tensor *v0 = binary_batch(B, 14);
    nb_tensor *chain = binary_batch(7, 15);
    nb_tensor *neg = nb_tensor_zeros(NB_F64, 2, (int64_t[]){7, V});
    nb_rng r = nb_rng_seed(16);
    nb_module_zero_grad(m);
    assert_int_equal(nb_rbm_cd_grad(m, v0, 2, chain, &r, neg), NB_OK);
    assert_true(nb_tensor_allclose(chain, neg, 0, 0));
    assert_binary(chain);
    double dw[V * H], db[V], dc[H];
    cd_formula(&p, nb_tensor_data_f64(v0), B, nb_tensor_data_f64(neg), 7, dw, db, dc);
    assert_grads(m, dw, db, dc);
    nb_tensor_free(neg);
    nb_tensor_free(chain);
    nb_tensor_free(v0);
    nb_module_free(m);
}

static void test_cd_grad_skips_frozen_parameters(void **state)
{
    (void)state;
    nb_module *m = tiny_rbm(NB_RBM_BERNOULLI, 17);
    nb_tensor *v0 = binary_batch(B, 18);
    nb_rng r = nb_rng_seed(19);
    nb_module_zero_grad(m);
    assert_int_equal(nb_module_set_requires_grad(m, false), NB_OK);
    assert_int_equal(nb_rbm_cd_grad(m, v0, 1, NULL, &r, NULL), NB_OK);
    nb_tensor *g = nb_module_grad_buffer(m);
    for (int64_t i = 0; i < nb_tensor_numel(g); i++)
        assert_true(nb_tensor_get(g, i) == 0.0);
    nb_tensor_free(v0);
    nb_module_free(m);
}

/* The trainer's update, replayed here: same seed -> same samples -> grads from nb_rbm_cd_grad
 * on a twin RBM; delta = mu * delta - lr * (g + wd * W) (no decay on biases); p += delta. */
static void test_trainer_applies_momentum_and_weight_decay(void **state)
{
    (void)state;
    nb_module *m = tiny_rbm(NB_RBM_BERNOULLI, 20), *twin = tiny_rbm(NB_RBM_BERNOULLI, 20);
    nb_tensor *v0 = binary_batch(B, 21);
    nb_rbm_train_opts o = nb_rbm_train_defaults();
    o.lr = 0.3;
    o.momentum = 0.7;
    o.weight_decay = 0.05;
    o.seed = 22;
    nb_rbm_trainer *tr = nb_rbm_trainer_new(m, &o);
    assert_non_null(tr);
    nb_rng r = nb_rng_seed(22);
    nb_tensor *buf = nb_module_param_buffer(twin);
    const int64_t n = nb_tensor_numel(buf);
    assert_int_equal(n, V * H + V + H);
    double delta[V * H + V + H] = {0};
    for (int step = 0; step < 3; step++) {
        nb_rbm_update_stats st = {0};
        double recon = nb_rbm_reconstruction_error(m, v0); /* of the parameters before the step */
        assert_int_equal(nb_rbm_trainer_update(tr, v0, &st), NB_OK);
        assert_float_equal(st.recon_error, recon, 1e-12);
        nb_module_zero_grad(twin);
        assert_int_equal(nb_rbm_cd_grad(twin, v0, 1, NULL, &r, NULL), NB_OK);
        double *pw = nb_tensor_data_f64(buf), *g = nb_tensor_data_f64(nb_module_grad_buffer(twin));
        for (int64_t i = 0; i < n; i++) {
            double wd = i < V * H ? o.weight_decay : 0.0; /* weight comes first in the buffer */
            delta[i] = o.momentum * delta[i] - o.lr * (g[i] + wd * pw[i]);
            pw[i] += delta[i];
        }
        assert_true(nb_tensor_allclose(nb_module_param_buffer(m), buf, 1e-12, 1e-12));
    }
    nb_rbm_trainer_free(tr);
    nb_tensor_free(v0);
    nb_module_free(twin);
    nb_module_free(m);
}

/* Two modes and a neighbour of each. */
static const double patterns[6 * V] = {1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0,
                                       0, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1, 1};

static void test_exact_log_likelihood_increases_under_cd_training(void **state)
{
    (void)state;
    for (int persistent = 0; persistent < 2; persistent++) {
        nb_rng r = nb_rng_seed(23);
        nb_module *m = nb_rbm_new_ex(V, H, NB_RBM_BERNOULLI, &r, NB_F64);
        nb_tensor *data = nb_tensor_from_data(NB_F64, 2, (int64_t[]){6, V}, patterns);
        params p0 = read_params(m);
        double before = log_likelihood_enum(&p0, patterns, 6);
        /* the library's exact value agrees with the enumeration here */
        assert_float_equal(nb_rbm_log_likelihood(m, data), before, 1e-9);
        nb_rbm_train_opts o = nb_rbm_train_defaults();
        o.lr = 0.1;
        o.weight_decay = 0.0;
        o.persistent = persistent;
        o.n_chains = persistent ? 20 : 0;
        nb_rbm_trainer *tr = nb_rbm_trainer_new(m, &o);
        for (int it = 0; it < 400; it++)
            assert_int_equal(nb_rbm_trainer_update(tr, data, NULL), NB_OK);
        params p1 = read_params(m);
        double after = log_likelihood_enum(&p1, patterns, 6);
        assert_float_equal(nb_rbm_log_likelihood(m, data), after, 1e-9);
        /* log(1/16) = -2.77 for the uniform model; the data has 4 distinct rows, so the
         * optimum is -1.33 (entropy of the empirical distribution). */
        assert_true(before < -2.7);
        assert_true(after > before + 0.6);
        nb_rbm_trainer_free(tr);
        nb_tensor_free(data);
        nb_module_free(m);
    }
}

/* Library log Z enumerates the smaller layer: here the visible one (V = 3 < H = 5). */
static void test_log_partition_matches_full_enumeration(void **state)
{
    (void)state;
    enum { v3 = 3, h5 = 5 };
    nb_rng r = nb_rng_seed(24);
    nb_module *m = nb_rbm_new_ex(v3, h5, NB_RBM_BERNOULLI, &r, NB_F64);
    nb_init_uniform(nb_module_param(m, "weight"), &r, -2, 2);
    nb_init_uniform(nb_module_param(m, "visible_bias"), &r, -1, 1);
    nb_init_uniform(nb_module_param(m, "hidden_bias"), &r, -1, 1);
    double z = 0.0;
    for (unsigned sv = 0; sv < (1u << v3); sv++)
        for (unsigned sh = 0; sh < (1u << h5); sh++) {
            double e = 0.0;
            for (int i = 0; i < v3; i++) {
                double vi = (sv >> i) & 1u;
                e -= vi * nb_tensor_get(nb_module_param(m, "visible_bias"), i);
                for (int j = 0; j < h5; j++)
                    e -= vi * ((sh >> j) & 1u) *
                         nb_tensor_get(nb_module_param(m, "weight"), i * h5 + j);
            }
            for (int j = 0; j < h5; j++)
                e -= ((sh >> j) & 1u) * nb_tensor_get(nb_module_param(m, "hidden_bias"), j);
            z += exp(-e);
        }
    assert_float_equal(nb_rbm_log_partition(m), log(z), 1e-10);
    nb_module_free(m);
}

/* The stochastic PLL replayed: the same rng picks one coordinate per row (nb_rng_below). */
static void test_pseudo_log_likelihood_matches_formula(void **state)
{
    (void)state;
    nb_module *m = tiny_rbm(NB_RBM_BERNOULLI, 25);
    params p = read_params(m);
    nb_tensor *v = binary_batch(9, 26);
    nb_rng r = nb_rng_seed(27), replay = nb_rng_seed(27);
    double got = nb_rbm_pseudo_log_likelihood(m, v, &r);
    double want = 0.0;
    for (int b = 0; b < 9; b++) {
        double row[V];
        memcpy(row, nb_tensor_data_f64(v) + b * V, sizeof row);
        double f = free_energy_enum(&p, false, row);
        int i = (int)nb_rng_below(&replay, V);
        row[i] = 1.0 - row[i];
        want += V * log(sigmoid(free_energy_enum(&p, false, row) - f));
    }
    assert_float_equal(got, want / 9, 1e-10);
    assert_true(got < 0.0);
    nb_tensor_free(v);
    nb_module_free(m);
}

static void test_reconstruction_error_matches_formula(void **state)
{
    (void)state;
    nb_module *m = tiny_rbm(NB_RBM_BERNOULLI, 28);
    params p = read_params(m);
    nb_tensor *v = binary_batch(B, 29);
    double want = 0.0;
    for (int b = 0; b < B; b++) {
        const double *x = nb_tensor_data_f64(v) + b * V;
        double ph[H];
        for (int j = 0; j < H; j++) {
            double a = p.c[j];
            for (int i = 0; i < V; i++)
                a += x[i] * p.w[i * H + j];
            ph[j] = sigmoid(a);
        }
        for (int i = 0; i < V; i++) {
            double a = p.b[i];
            for (int j = 0; j < H; j++)
                a += p.w[i * H + j] * ph[j];
            want += (x[i] - sigmoid(a)) * (x[i] - sigmoid(a));
        }
    }
    assert_float_equal(nb_rbm_reconstruction_error(m, v), want / B, 1e-12);
    double mf = 0.0;
    for (int b = 0; b < B; b++)
        mf += free_energy_enum(&p, false, nb_tensor_data_f64(v) + b * V);
    assert_float_equal(nb_rbm_mean_free_energy(m, v), mf / B, 1e-12);
    nb_tensor_free(v);
    nb_module_free(m);
}

static void test_gibbs_sampling_is_seeded_and_binary(void **state)
{
    (void)state;
    nb_module *m = tiny_rbm(NB_RBM_BERNOULLI, 30);
    nb_tensor *v = binary_batch(8, 31);
    nb_rng a = nb_rng_seed(32), b = nb_rng_seed(32);
    nb_tensor *s1 = nb_rbm_gibbs(m, v, 3, false, &a), *s2 = nb_rbm_gibbs(m, v, 3, false, &b);
    assert_non_null(s1);
    assert_true(nb_tensor_allclose(s1, s2, 0, 0));
    assert_binary(s1);
    nb_tensor *s0 = nb_rbm_gibbs(m, v, 0, false, &a); /* zero steps: the input */
    assert_true(nb_tensor_allclose(s0, v, 0, 0));
    nb_tensor *mean = nb_rbm_gibbs(m, v, 2, true, &a); /* probabilities, in (0, 1) */
    for (int64_t i = 0; i < nb_tensor_numel(mean); i++)
        assert_true(nb_tensor_get(mean, i) > 0.0 && nb_tensor_get(mean, i) < 1.0);
    nb_tensor *h = nb_rbm_sample_hidden(m, v, &a);
    assert_int_equal(nb_tensor_dim(h, 1), H);
    assert_binary(h);
    nb_tensor *vs = nb_rbm_sample_visible(m, h, &a);
    assert_int_equal(nb_tensor_dim(vs, 1), V);
    assert_binary(vs);
    nb_tensor_free(vs);
    nb_tensor_free(h);
    nb_tensor_free(mean);
    nb_tensor_free(s0);
    nb_tensor_free(s1);
    nb_tensor_free(s2);
    nb_tensor_free(v);
    nb_module_free(m);
}

/* Inside a step the functions are ops: results in the arena, nothing leaks, and the free
 * energy is differentiable (gradient w.r.t. the weights checked against -v^T p(h|v)). */
static void test_free_energy_gradient_inside_a_step(void **state)
{
    (void)state;
    nb_module *m = tiny_rbm(NB_RBM_BERNOULLI, 33);
    params p = read_params(m);
    nb_tensor *v = binary_batch(B, 34);
    nb_step *st = nb_step_new();
    nb_step_begin(st);
    nb_module_zero_grad(m);
    nb_tensor *f = nb_sum_all(nb_rbm_free_energy(m, v));
    assert_int_equal(nb_backward(f), NB_OK);
    nb_step_end(st);
    nb_step_free(st);
    double dw[V * H] = {0};
    for (int b = 0; b < B; b++) {
        const double *x = nb_tensor_data_f64(v) + b * V;
        for (int j = 0; j < H; j++) {
            double a = p.c[j];
            for (int i = 0; i < V; i++)
                a += x[i] * p.w[i * H + j];
            for (int i = 0; i < V; i++)
                dw[i * H + j] -= x[i] * sigmoid(a);
        }
    }
    for (int i = 0; i < V * H; i++)
        assert_float_equal(nb_tensor_get(nb_tensor_grad(nb_module_param(m, "weight")), i), dw[i],
                           1e-12);
    nb_tensor_free(v);
    nb_module_free(m);
}

static void test_rbm_module_forward_is_hidden_probs(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(35);
    nb_module *m = nb_rbm_new(6, 2, NB_RBM_BERNOULLI, &r);
    assert_true(nb_is_rbm(m));
    assert_string_equal(nb_module_kind(m), "RBM");
    assert_int_equal(nb_module_num_params(m), 6 * 2 + 6 + 2);
    assert_int_equal(nb_rbm_num_visible(m), 6);
    assert_int_equal(nb_rbm_num_hidden(m), 2);
    assert_int_equal(nb_module_dtype(m), NB_F32);
    nb_tensor *x = nb_tensor_uniform(NB_F32, 2, (int64_t[]){3, 6}, &r, 0, 1);
    nb_tensor *a = nb_module_forward(m, x), *b = nb_rbm_hidden_probs(m, x);
    assert_true(nb_tensor_allclose(a, b, 0, 0));
    nb_tensor_free(a);
    nb_tensor_free(b);
    nb_tensor_free(x);
    nb_module_free(m);
}

static void test_init_visible_bias_uses_log_odds(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(36);
    nb_module *m = nb_rbm_new_ex(2, 2, NB_RBM_BERNOULLI, &r, NB_F64);
    const double d[8] = {1, 0, 1, 0, 1, 0, 0, 0}; /* column means 0.75, 0 */
    nb_tensor *x = nb_tensor_from_data(NB_F64, 2, (int64_t[]){4, 2}, d);
    assert_int_equal(nb_rbm_init_visible_bias(m, x), NB_OK);
    assert_float_equal(nb_tensor_get(nb_module_param(m, "visible_bias"), 0), log(3.0), 1e-12);
    assert_float_equal(nb_tensor_get(nb_module_param(m, "visible_bias"), 1), log(0.01 / 0.99),
                       1e-12);
    nb_tensor_free(x);
    nb_module_free(m);
}

/* ---- errors ---- */

static void test_rbm_new_rejects_bad_arguments(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(1);
    assert_null(nb_rbm_new(0, 3, NB_RBM_BERNOULLI, &r));
    nbt_assert_error(NB_ERR_VALUE, "nb_rbm_new: sizes must be >= 1, got 0 visible, 3 hidden");
    assert_null(nb_rbm_new(3, 3, (nb_rbm_visible)7, &r));
    nbt_assert_error(NB_ERR_VALUE, "unknown visible unit type 7");
    assert_null(nb_rbm_new(3, 3, NB_RBM_BERNOULLI, NULL));
    nbt_assert_error(NB_ERR_VALUE, "nb_rbm_new: rng is NULL");
}

static void test_rbm_functions_reject_wrong_widths_and_dtypes(void **state)
{
    (void)state;
    nb_module *m = tiny_rbm(NB_RBM_BERNOULLI, 37);
    nb_tensor *x5 = nb_tensor_zeros(NB_F64, 2, (int64_t[]){2, 5});
    nb_tensor *x32 = nb_tensor_zeros(NB_F32, 2, (int64_t[]){2, V});
    assert_null(nb_rbm_hidden_probs(m, x5));
    nbt_assert_error(NB_ERR_SHAPE, "nb_rbm_hidden_probs: v is [2, 5], expected [batch, 4]");
    assert_null(nb_rbm_visible_mean(m, x5));
    nbt_assert_error(NB_ERR_SHAPE, "nb_rbm_visible_mean: h is [2, 5], expected [batch, 3]");
    assert_null(nb_rbm_free_energy(m, x32));
    nbt_assert_error(NB_ERR_DTYPE, "nb_rbm_free_energy: v is f32 but the RBM's parameters are f64");
    assert_null(nb_module_forward(m, x5));
    nbt_assert_error(NB_ERR_SHAPE, "RBM");
    nb_tensor_free(x5);
    nb_tensor_free(x32);
    nb_module_free(m);
}

static void test_cd_grad_rejects_bad_arguments(void **state)
{
    (void)state;
    nb_module *m = tiny_rbm(NB_RBM_BERNOULLI, 38);
    nb_tensor *v0 = binary_batch(B, 39);
    nb_tensor *neg = nb_tensor_zeros(NB_F64, 2, (int64_t[]){B + 1, V});
    nb_rng r = nb_rng_seed(40);
    assert_int_equal(nb_rbm_cd_grad(m, v0, 0, NULL, &r, NULL), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_rbm_cd_grad: k must be >= 1, got 0");
    assert_int_equal(nb_rbm_cd_grad(m, v0, 1, NULL, NULL, NULL), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_rbm_cd_grad: rng is NULL");
    assert_int_equal(nb_rbm_cd_grad(m, v0, 1, NULL, &r, neg), NB_ERR_SHAPE);
    nbt_assert_error(NB_ERR_SHAPE, "nb_rbm_cd_grad: negative is [6, 4], expected [5, 4]");
    nb_module *lin = nb_linear_new(4, 3, true, &r);
    assert_int_equal(nb_rbm_cd_grad(lin, v0, 1, NULL, &r, NULL), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_rbm_cd_grad: module is Linear, expected an RBM");
    nb_module_free(lin);
    nb_tensor_free(neg);
    nb_tensor_free(v0);
    nb_module_free(m);
}

static void test_trainer_rejects_bad_options(void **state)
{
    (void)state;
    nb_module *m = tiny_rbm(NB_RBM_BERNOULLI, 41);
    nb_rbm_train_opts o = nb_rbm_train_defaults();
    o.momentum = 1.0;
    assert_null(nb_rbm_trainer_new(m, &o));
    nbt_assert_error(NB_ERR_VALUE, "nb_rbm_trainer_new: momentum must be in [0, 1), got 1");
    o = nb_rbm_train_defaults();
    o.lr = -1;
    assert_null(nb_rbm_trainer_new(m, &o));
    nbt_assert_error(NB_ERR_VALUE, "lr must be a finite value >= 0, got -1");
    o = nb_rbm_train_defaults();
    o.k = 0;
    assert_null(nb_rbm_trainer_new(m, &o));
    nbt_assert_error(NB_ERR_VALUE, "k >= 1");
    nb_module_free(m);
}

static void test_exact_quantities_refuse_what_they_cannot_compute(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(42);
    nb_module *big = nb_rbm_new(30, 30, NB_RBM_BERNOULLI, &r);
    assert_true(isnan(nb_rbm_log_partition(big)));
    nbt_assert_error(NB_ERR_VALUE, "2^30 states are too many to enumerate");
    nb_module *g = tiny_rbm(NB_RBM_GAUSSIAN, 43);
    nb_tensor *v = binary_batch(2, 44);
    assert_true(isnan(nb_rbm_pseudo_log_likelihood(g, v, &r)));
    nbt_assert_error(NB_ERR_STATE, "Bernoulli visible units only");
    nb_tensor_free(v);
    nb_module_free(g);
    nb_module_free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_free_energy_matches_enumeration_bernoulli),
        cmocka_unit_test(test_free_energy_matches_enumeration_gaussian),
        cmocka_unit_test(test_hidden_probs_match_enumeration),
        cmocka_unit_test(test_visible_probs_match_enumeration),
        cmocka_unit_test(test_gaussian_visible_mean_is_linear),
        cmocka_unit_test(test_cd1_gradient_matches_formula),
        cmocka_unit_test(test_cdk_is_seeded_and_differs_from_cd1),
        cmocka_unit_test(test_pcd_gradient_uses_and_advances_the_chains),
        cmocka_unit_test(test_cd_grad_skips_frozen_parameters),
        cmocka_unit_test(test_trainer_applies_momentum_and_weight_decay),
        cmocka_unit_test(test_exact_log_likelihood_increases_under_cd_training),
        cmocka_unit_test(test_log_partition_matches_full_enumeration),
        cmocka_unit_test(test_pseudo_log_likelihood_matches_formula),
        cmocka_unit_test(test_reconstruction_error_matches_formula),
        cmocka_unit_test(test_gibbs_sampling_is_seeded_and_binary),
        cmocka_unit_test(test_free_energy_gradient_inside_a_step),
        cmocka_unit_test(test_rbm_module_forward_is_hidden_probs),
        cmocka_unit_test(test_init_visible_bias_uses_log_odds),
        cmocka_unit_test(test_rbm_new_rejects_bad_arguments),
        cmocka_unit_test(test_rbm_functions_reject_wrong_widths_and_dtypes),
        cmocka_unit_test(test_cd_grad_rejects_bad_arguments),
        cmocka_unit_test(test_trainer_rejects_bad_options),
        cmocka_unit_test(test_exact_quantities_refuse_what_they_cannot_compute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
