/* examples/rbm_kl.c — a tiny RBM whose KL divergence from the data can be computed exactly.
 *
 * Notes 000 (overview, "Restricted Boltzmann Machines: ¿Cómo funcionan?") train an RBM in three
 * steps: 1. run an input forward, 2. run it backwards to recover the input, 3. compare with the
 * KL divergence and adjust weights and biases until the backward outputs match the inputs.
 * Steps 1 and 2 are contrastive divergence (nb_rbm_trainer_update: h ~ p(h | v), v' ~ p(v | h)).
 * Step 3's KL divergence, KL(P_data || p_model) = sum_v P(v) log(P(v) / p(v)), needs p(v) =
 * sum_h exp(-E(v, h)) / Z over every state, which only a tiny RBM allows: here 4 visible units
 * (a 2x2 image) and --hidden units, so 2^4 x 2^H joint states, enumerated in plain C from the
 * weights. The data are the four 2x2 bars (two rows, two columns), 1/4 each: near the uniform
 * model of the small initial weights the KL is log 4, and it falls as CD-1 trains. The
 * enumeration's log Z is compared with the library's nb_rbm_log_partition and its KL with -H(P) -
 * nb_rbm_log_likelihood. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/cli.h"
#include "common/util.h"
#include "nabla.h"

enum { V = 4, N_STATES = 1 << V, MAX_HIDDEN = 12, COPIES = 16 };

/* the four 2x2 bars as bit patterns over pixels (0, 1 / 2, 3) = (top left, top right / ...) */
static const int BARS[4][V] = {{1, 1, 0, 0}, {0, 0, 1, 1}, {1, 0, 1, 0}, {0, 1, 0, 1}};

static const ex_program PROG = {
    .name = "rbm_kl",
    .notes = "notes 000 (overview), RBM \"¿Cómo funcionan?\": forward, backward, compare with "
             "the KL divergence (computed exactly for a 4-visible-unit RBM)",
    .summary = "a tiny RBM trained by CD-k, with its exact KL divergence from the data",
    .details =
        "A Bernoulli RBM with 4 visible units (a 2x2 image) and --hidden hidden units learns the\n"
        "four 2x2 bars (1/4 each) by CD-k (lr, momentum 0.5, no weight decay, full batch of the\n"
        "4 bars x 16 copies). Every --every steps it prints KL(P_data || p_model) in nats,\n"
        "computed by enumerating all 2^4 x 2^H states of (v, h) from the weights, and the\n"
        "reconstruction error (forward then backward, the notes' steps 1 and 2). At the end:\n"
        "p_model(v) for the 16 images beside P_data(v), and each bar's reconstruction.\n"
        "--check fails unless the enumeration agrees with nb_rbm_log_partition and\n"
        "nb_rbm_log_likelihood (1e-9), the model's probabilities sum to 1, and training lowered\n"
        "the KL to under a quarter of its start (the notes give no number for this).\n",
};

typedef struct rbm_params {
    int h;
    double w[V][MAX_HIDDEN], b[V], c[MAX_HIDDEN];
} rbm_params;

static void read_params(nb_module *rbm, rbm_params *p)
{
    nb_tensor *w = nb_module_param(rbm, "weight"), *b = nb_module_param(rbm, "visible_bias"),
              *c = nb_module_param(rbm, "hidden_bias");
    for (int i = 0; i < V; i++) {
        p->b[i] = nb_tensor_get(b, i);
        for (int j = 0; j < p->h; j++)
            p->w[i][j] = nb_tensor_get(w, i * p->h + j);
    }
    for (int j = 0; j < p->h; j++)
        p->c[j] = nb_tensor_get(c, j);
}

static int bit(int state, int i)
{
    return state >> i & 1;
}

/* log Z and p_model(v) for the 16 visible states, by summing exp(-E(v, h)) over every (v, h):
 * E(v, h) = -b.v - c.h - v^T W h. */
static double enumerate(const rbm_params *p, double pv[N_STATES])
{
    double logu[N_STATES], mx = -INFINITY;
    for (int v = 0; v < N_STATES; v++) {
        double terms[1 << MAX_HIDDEN], m = -INFINITY;
        for (int h = 0; h < 1 << p->h; h++) {
            double e = 0;
            for (int i = 0; i < V; i++)
                e += p->b[i] * bit(v, i);
            for (int j = 0; j < p->h; j++) {
                if (!bit(h, j))
                    continue;
                e += p->c[j];
                for (int i = 0; i < V; i++)
                    e += p->w[i][j] * bit(v, i);
            }
            terms[h] = e; /* -E(v, h) */
            m = fmax(m, e);
        }
        double s = 0;
        for (int h = 0; h < 1 << p->h; h++)
            s += exp(terms[h] - m);
        logu[v] = m + log(s); /* log sum_h exp(-E(v, h)) = -F(v) */
        mx = fmax(mx, logu[v]);
    }
    double s = 0;
    for (int v = 0; v < N_STATES; v++)
        s += exp(logu[v] - mx);
    double log_z = mx + log(s);
    for (int v = 0; v < N_STATES; v++)
        pv[v] = exp(logu[v] - log_z);
    return log_z;
}

static int pattern_state(const int *pix)
{
    int s = 0;
    for (int i = 0; i < V; i++)
        s |= pix[i] << i;
    return s;
}

/* KL(P_data || p) with P_data = 1/4 on each bar */
static double kl_divergence(const double pv[N_STATES])
{
    double kl = 0;
    for (int k = 0; k < 4; k++)
        kl += 0.25 * log(0.25 / pv[pattern_state(BARS[k])]);
    return kl;
}

static void print_image(int state)
{
    printf("%d%d/%d%d", bit(state, 0), bit(state, 1), bit(state, 2), bit(state, 3));
}

int main(int argc, char **argv)
{
    int hidden = 4, steps = 3000, every = 500, k = 1;
    double lr = 0.1;
    uint64_t seed = 1;
    bool check = false;
    ex_opt opts[] = {
        {"hidden", EX_OPT_INT, &hidden, "hidden units (1-12)"},
        {"steps", EX_OPT_INT, &steps, "CD updates (each on the whole data set)"},
        {"every", EX_OPT_INT, &every, "print the KL every N steps"},
        {"k", EX_OPT_INT, &k, "Gibbs steps of CD-k"},
        {"lr", EX_OPT_DOUBLE, &lr, "learning rate"},
        {"seed", EX_OPT_U64, &seed, "seed of the initial weights and the Gibbs sampling"},
        {"check", EX_OPT_FLAG, &check, "check the enumeration and that the KL fell"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof *opts), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (hidden < 1 || hidden > MAX_HIDDEN || steps < 1 || every < 1 || k < 1 || !(lr > 0))
        return ex_usage_error(&PROG,
                              "need 1 <= hidden <= %d, steps, every, k >= 1 and lr > 0 "
                              "(got hidden %d, steps %d, every %d, k %d, lr %g)",
                              MAX_HIDDEN, hidden, steps, every, k, lr);

    /* the data: each bar COPIES times, as float64 rows */
    double rows[4 * COPIES][V];
    for (int r = 0; r < 4 * COPIES; r++)
        for (int i = 0; i < V; i++)
            rows[r][i] = BARS[r % 4][i];
    nb_tensor *data = nb_tensor_from_data(NB_F64, 2, (int64_t[]){4 * COPIES, V}, rows);
    double bar_rows[4][V];
    for (int r = 0; r < 4; r++)
        for (int i = 0; i < V; i++)
            bar_rows[r][i] = BARS[r][i];
    nb_tensor *bars = nb_tensor_from_data(NB_F64, 2, (int64_t[]){4, V}, bar_rows);
    nb_rng rng = nb_rng_seed(seed);
    nb_module *rbm = nb_rbm_new_ex(V, hidden, NB_RBM_BERNOULLI, &rng, NB_F64);
    nb_rbm_train_opts o = nb_rbm_train_defaults();
    o.lr = lr;
    o.weight_decay = 0;
    o.k = k;
    o.seed = seed + 1;
    nb_rbm_trainer *tr = rbm ? nb_rbm_trainer_new(rbm, &o) : NULL;
    if (!data || !bars || !tr) {
        nb_tensor_free(data);
        nb_tensor_free(bars);
        nb_module_free(rbm);
        return ex_fail(PROG.name, "setup");
    }

    rbm_params p = {.h = hidden};
    double pv[N_STATES];
    read_params(rbm, &p);
    double kl0 = kl_divergence((enumerate(&p, pv), pv)), kl = kl0;
    printf("RBM 4 visible (a 2x2 image) x %d hidden, CD-%d, lr %g, data: the four 2x2 bars, "
           "1/4 each\n",
           hidden, k, lr);
    printf("KL(P_data || p_model) by enumerating all %d x %d states of (v, h); the minimum is 0, "
           "the uniform model gives log 4 = %.4f\n",
           N_STATES, 1 << hidden, log(4.0));
    printf("%6s  %12s  %14s\n", "step", "KL (nats)", "recon error");
    printf("%6d  %12.6f  %14.6f\n", 0, kl0, nb_rbm_reconstruction_error(rbm, data));
    int rc = 0;
    for (int s = 1; s <= steps; s++) {
        nb_rbm_update_stats st;
        if (nb_rbm_trainer_update(tr, data, &st) != NB_OK) {
            rc = ex_fail(PROG.name, "CD step");
            goto done;
        }
        if (s % every == 0 || s == steps) {
            read_params(rbm, &p);
            kl = kl_divergence((enumerate(&p, pv), pv));
            printf("%6d  %12.6f  %14.6f\n", s, kl, st.recon_error);
        }
    }

    read_params(rbm, &p);
    double log_z = enumerate(&p, pv), total = 0;
    kl = kl_divergence(pv);
    printf("\nthe model's distribution over the 16 images (pixels top-left top-right / "
           "bottom-left bottom-right):\n");
    for (int v = 0; v < N_STATES; v++) {
        bool is_bar = false;
        for (int b = 0; b < 4; b++)
            is_bar |= pattern_state(BARS[b]) == v;
        printf("  ");
        print_image(v);
        printf("  P_data %.2f  p_model %.4f\n", is_bar ? 0.25 : 0.0, pv[v]);
        total += pv[v];
    }
    /* forward then backward, the notes' steps 1 and 2, from each bar */
    nb_step *step = nb_step_new();
    nb_tensor *back = NULL;
    if (step) {
        nb_step_begin(step);
        back = nb_rbm_visible_mean(rbm, nb_rbm_hidden_probs(rbm, bars));
    }
    if (!back) {
        rc = ex_fail(PROG.name, "reconstruction");
        if (step)
            nb_step_end(step);
        nb_step_free(step);
        goto done;
    }
    printf("\nforward p(h | v), then backward E[v | h], for each bar:\n");
    for (int b = 0; b < 4; b++) {
        printf("  ");
        print_image(pattern_state(BARS[b]));
        printf("  ->  %.3f %.3f / %.3f %.3f\n", nb_tensor_get(back, b * V),
               nb_tensor_get(back, b * V + 1), nb_tensor_get(back, b * V + 2),
               nb_tensor_get(back, b * V + 3));
    }
    nb_step_end(step);
    nb_step_free(step);

    double lib_log_z = nb_rbm_log_partition(rbm);
    double lib_kl = -log(4.0) - nb_rbm_log_likelihood(rbm, bars); /* -H(P) - E_P[log p] */
    printf("\nlog Z: enumeration %.12f, nb_rbm_log_partition %.12f\n", log_z, lib_log_z);
    printf("KL: enumeration %.12f, -H(P_data) - nb_rbm_log_likelihood %.12f\n", kl, lib_kl);
    printf("KL fell from %.4f to %.4f nats\n", kl0, kl);
    if (check) {
        bool ok = ex_check("log Z (enumeration vs library)", log_z, lib_log_z, 1e-9);
        ok &= ex_check("KL (enumeration vs library)", kl, lib_kl, 1e-9);
        ok &= ex_check("sum of p_model over the 16 images", total, 1.0, 1e-12);
        ok &= ex_check("KL at the end, below a quarter of the start", kl < kl0 / 4 ? 1 : 0, 1, 0);
        printf(ok ? "rbm_kl: checks passed\n" : "rbm_kl: CHECK FAILED\n");
        rc = ok ? 0 : 1;
    }
done:
    nb_rbm_trainer_free(tr);
    nb_module_free(rbm);
    nb_tensor_free(data);
    nb_tensor_free(bars);
    return rc;
}
