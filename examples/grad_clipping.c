/* examples/grad_clipping.c — gradient clipping keeps an exploding recurrent net trainable.
 *
 * A vanilla recurrent net h_t = act(W_x x_t + W_h h_{t-1} + b), y = w_o . h_T + b_o reads
 * sequences of T numbers and learns to output their mean. Backpropagation through time multiplies
 * the gradient by W_h^T diag(act') once per step, so when W_h's largest eigenvalue is above 1
 * the gradient of the early steps grows like its T-th power (Pascanu, Mikolov & Bengio 2013, "On
 * the difficulty of training recurrent neural networks"). With W_h near that edge and a learning
 * rate that is a little too high, one step of plain SGD pushes W_h over it, the next gradient is
 * far larger, and the loss overflows to Inf/NaN within a few steps.
 *
 * The same net, from the same initial weights, is trained three times:
 *   none    plain SGD: the loss explodes; the run stops when the loss or the gradient norm is not
 *           finite (nb_clip_grad_norm reports NB_ERR_VALUE), when nb_optim_update refuses a
 *           non-finite gradient (NB_ERR_VALUE), or when the loss passes 1e6;
 *   value   every gradient element clamped to [-c, c] (nb_clip_grad_value);
 *   norm    the whole gradient rescaled to global L2 norm <= c when larger
 *           (nb_clip_grad_norm, which also returns the norm before clipping).
 * Clipping bounds the size of each step (at most lr * c per element, or lr * c in L2 norm), so
 * a huge gradient can no longer throw the weights far away; the direction is kept (norm) or
 * roughly kept (value), and the loss falls. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/util.h"
#include "nabla.h"

static const ex_program PROG = {
    .name = "grad_clipping",
    .notes = "notes 000 (overview) and 003, training deep nets: exploding and vanishing gradients "
             "in recurrent nets",
    .summary = "clipping by value and by norm stabilises a recurrent net whose loss explodes",
    .details =
        "Trains h_t = act(W_x x_t + W_h h_{t-1} + b), y = w_o . h_T + b_o (--hidden units,\n"
        "--activation linear or tanh) to output the mean of --len inputs uniform in [-1, 1],\n"
        "full-batch SGD over --n sequences at --lr, with W_h drawn from N(0, (--gain/sqrt(H))^2)\n"
        "so that backpropagation through time amplifies the gradient. Three runs from the same\n"
        "weights: no clipping, clipping by value (--clip-value) and by global norm\n"
        "(--clip-norm). Prints the loss and gradient norm (before clipping) every --every steps\n"
        "and how each run ended. --check exits with status 1 unless the unclipped run diverges\n"
        "(non-finite loss or gradient, or loss above 1e6) and both clipped runs stay finite and\n"
        "end below a tenth of their initial loss.\n",
};

typedef enum { ACT_LINEAR, ACT_TANH } activation;

typedef struct run_result {
    const char *name;
    bool diverged;
    int diverged_at; /* step at which divergence was detected */
    char why[160];
    double first_loss, last_loss, max_grad_norm;
} run_result;

/* Recurrent net: parameters "w_x" [H, 1], "w_h" [H, H], "b" [H], "w_o" [1, H], "b_o" [1]. */
static nb_module *rnn_new(int64_t h, double gain, nb_rng *rng)
{
    nb_module *m = nb_module_new("RNN", NB_F32, NULL, NULL, NULL);
    if (!m)
        return NULL;
    nb_tensor *wx = nb_module_add_param(m, "w_x", 2, (int64_t[]){h, 1});
    nb_tensor *wh = wx ? nb_module_add_param(m, "w_h", 2, (int64_t[]){h, h}) : NULL;
    nb_tensor *b = wh ? nb_module_add_param(m, "b", 1, (int64_t[]){h}) : NULL;
    nb_tensor *wo = b ? nb_module_add_param(m, "w_o", 2, (int64_t[]){1, h}) : NULL;
    nb_tensor *bo = wo ? nb_module_add_param(m, "b_o", 1, (int64_t[]){1}) : NULL;
    if (!bo || nb_init_uniform(wx, rng, -1.0, 1.0) != NB_OK ||
        nb_init_normal(wh, rng, 0.0, gain / sqrt((double)h)) != NB_OK ||
        nb_init_uniform(wo, rng, -1.0 / sqrt((double)h), 1.0 / sqrt((double)h)) != NB_OK) {
        nb_module_free(m);
        return NULL;
    }
    nb_module_set_info(m, "1 -> %lld -> 1", (long long)h);
    return m;
}

/* x: [N, T] -> y: [N, 1]. */
static nb_tensor *rnn_forward(nb_module *m, nb_tensor *x, activation act)
{
    nb_tensor *wx = nb_module_param(m, "w_x"), *wh = nb_module_param(m, "w_h");
    nb_tensor *b = nb_module_param(m, "b"), *wo = nb_module_param(m, "w_o");
    nb_tensor *bo = nb_module_param(m, "b_o");
    const int64_t n = nb_tensor_dim(x, 0), t_len = nb_tensor_dim(x, 1);
    nb_tensor *h = nb_constant(NB_F32, 2, (int64_t[]){n, nb_tensor_dim(wh, 0)}, 0.0);
    for (int64_t t = 0; t < t_len; t++) {
        nb_tensor *xt = nb_slice(x, 1, t, t + 1, 1); /* [N, 1] */
        nb_tensor *pre = nb_add(nb_linear(xt, wx, b), nb_linear(h, wh, NULL));
        h = act == ACT_TANH ? nb_tanh(pre) : pre;
    }
    return nb_linear(h, wo, bo);
}

typedef enum { CLIP_NONE, CLIP_VALUE, CLIP_NORM } clip_kind;

static nb_status train(nb_curves *curves, const char *series, nb_module *net, nb_tensor *x,
                       nb_tensor *y, activation act, clip_kind clip, double clip_at, double lr,
                       int steps, int every, run_result *r)
{
    nb_sgd_opts so = nb_sgd_defaults();
    so.lr = lr;
    nb_optim *opt = nb_sgd_new(net, &so);
    nb_step *step = nb_step_new();
    if (!opt || !step) {
        nb_optim_free(opt);
        nb_step_free(step);
        return nb_last_status();
    }
    r->diverged = false;
    r->diverged_at = -1;
    r->why[0] = 0;
    r->first_loss = r->last_loss = NAN;
    r->max_grad_norm = 0;
    printf("%s:\n   step          loss   grad norm\n", r->name);
    nb_status st = NB_OK;
    for (int it = 0; it < steps && st == NB_OK && !r->diverged; it++) {
        nb_step_begin(step);
        nb_optim_zero_grad(opt);
        nb_tensor *loss = nb_mse(rnn_forward(net, x, act), y, NB_REDUCE_MEAN);
        st = loss ? nb_backward(loss) : nb_last_status();
        if (st == NB_OK) {
            const double l = nb_tensor_item(loss);
            if (it == 0)
                r->first_loss = l;
            r->last_loss = l;
            if (isfinite(l))
                nb_curves_add(curves, series, it, l);
            /* The norm before clipping; nb_clip_grad_norm with an infinite bound only measures
             * (and reports a non-finite norm as NB_ERR_VALUE, which we turn into "diverged"). */
            double gnorm = nb_clip_grad_norm(net, clip == CLIP_NORM ? clip_at : INFINITY);
            if (!isfinite(gnorm) || !isfinite(l) || l > 1e6) {
                r->diverged = true;
                r->diverged_at = it;
                snprintf(r->why, sizeof r->why, "%s",
                         !isfinite(l) ? "loss is not finite"
                         : l > 1e6    ? "loss above 1e6"
                                      : nb_last_error());
                nb_clear_error();
            } else {
                r->max_grad_norm = fmax(r->max_grad_norm, gnorm);
                if (clip == CLIP_VALUE)
                    st = nb_clip_grad_value(net, clip_at);
                if (st == NB_OK)
                    st = nb_optim_update(opt);
                if (st == NB_ERR_VALUE) { /* a non-finite gradient: the library refuses */
                    r->diverged = true;
                    r->diverged_at = it;
                    snprintf(r->why, sizeof r->why, "%s", nb_last_error());
                    nb_clear_error();
                    st = NB_OK;
                }
            }
            if (r->diverged || it < 5 || it % every == 0 || it == steps - 1)
                printf("  %5d  %12.6g  %10.4g\n", it, l, gnorm);
        }
        nb_step_end(step);
    }
    if (r->diverged)
        printf("   -> diverged at step %d: %s\n\n", r->diverged_at, r->why);
    else if (st == NB_OK)
        printf("   -> finite throughout; loss %.6g -> %.6g, largest gradient norm %.4g\n\n",
               r->first_loss, r->last_loss, r->max_grad_norm);
    nb_optim_free(opt);
    nb_step_free(step);
    return st;
}

int main(int argc, char **argv)
{
    int n = 64, len = 30, hidden = 32, steps = 200, every = 20;
    double gain = 1.0, lr = 0.01, clip_value = 0.1, clip_norm = 1.0;
    uint64_t seed = 1;
    const char *act_name = "linear", *out = "grad_clipping";
    bool check = false;
    ex_opt opts[] = {
        {"n", EX_OPT_INT, &n, "training sequences (one full batch)"},
        {"len", EX_OPT_INT, &len, "sequence length T"},
        {"hidden", EX_OPT_INT, &hidden, "hidden units H"},
        {"activation", EX_OPT_STRING, &act_name, "linear or tanh"},
        {"gain", EX_OPT_DOUBLE, &gain, "W_h ~ N(0, (gain / sqrt(H))^2)"},
        {"lr", EX_OPT_DOUBLE, &lr, "SGD learning rate"},
        {"steps", EX_OPT_INT, &steps, "SGD steps per run"},
        {"every", EX_OPT_INT, &every, "print every N steps"},
        {"clip-value", EX_OPT_DOUBLE, &clip_value, "bound c of clipping by value"},
        {"clip-norm", EX_OPT_DOUBLE, &clip_norm, "bound c of clipping by norm"},
        {"seed", EX_OPT_U64, &seed, "seed of the data and the weights"},
        {"out", EX_OPT_STRING, &out, "prefix of the CSV and PNG files of the losses"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless only the unclipped run diverges"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    activation act;
    if (!strcmp(act_name, "linear"))
        act = ACT_LINEAR;
    else if (!strcmp(act_name, "tanh"))
        act = ACT_TANH;
    else
        return ex_usage_error(&PROG, "--activation must be linear or tanh, not '%s'", act_name);
    if (n < 1 || len < 1 || hidden < 1 || steps < 1 || every < 1 || gain <= 0 || lr <= 0 ||
        clip_value <= 0 || clip_norm <= 0)
        return ex_usage_error(&PROG, "need positive --n, --len, --hidden, --steps, --every, "
                                     "--gain, --lr and clipping bounds");

    /* Data: inputs uniform in [-1, 1], target their mean. */
    float *xs = malloc((size_t)n * (size_t)len * sizeof *xs), *ys = malloc((size_t)n * sizeof *ys);
    if (!xs || !ys) {
        free(xs);
        free(ys);
        fprintf(stderr, "%s: out of memory\n", PROG.name);
        return 1;
    }
    nb_rng rng = nb_rng_seed(seed);
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int t = 0; t < len; t++) {
            xs[(size_t)i * len + t] = (float)(2 * nb_rng_uniform(&rng) - 1);
            s += xs[(size_t)i * len + t];
        }
        ys[i] = (float)(s / len);
    }
    nb_tensor *x = nb_tensor_from_data(NB_F32, 2, (int64_t[]){n, len}, xs);
    nb_tensor *y = nb_tensor_from_data(NB_F32, 2, (int64_t[]){n, 1}, ys);
    free(xs);
    free(ys);
    nb_module *net = rnn_new(hidden, gain, &rng);
    nb_curves *curves = nb_curves_new();
    /* The initial weights, restored before each run so the three start alike. */
    nb_tensor *init = net ? nb_tensor_copy(nb_module_param_buffer(net)) : NULL;
    int status = 0;
    if (!x || !y || !net || !init || !curves) {
        status = ex_fail(PROG.name, "setup");
        goto done;
    }

    printf("Recurrent net h_t = %s, y = w_o . h_T + b_o, H = %d,\n"
           "learning the mean of %d inputs; W_h ~ N(0, (%g/sqrt(H))^2), SGD lr %g, %d sequences.\n"
           "Backpropagation through time multiplies the gradient by W_h^T once per step: once an\n"
           "update pushes W_h's largest eigenvalue above 1, h_T and the gradient grow like its\n"
           "%d-th power, the next step is larger still, and plain SGD overflows. Clipping bounds\n"
           "each step, so one bad gradient cannot throw the weights away.\n\n",
           act == ACT_TANH ? "tanh(W_x x_t + W_h h_(t-1) + b)"
                           : "W_x x_t + W_h h_(t-1) + b (linear)",
           hidden, len, gain, lr, n, len);

    run_result res[3] = {{.name = "no clipping"}, {.name = NULL}, {.name = NULL}};
    const char *series[3] = {"no clipping", "clip by value", "clip by norm"};
    char name_value[64], name_norm[64];
    snprintf(name_value, sizeof name_value, "clip by value (each element to [-%g, %g])", clip_value,
             clip_value);
    snprintf(name_norm, sizeof name_norm, "clip by norm (global L2 norm <= %g)", clip_norm);
    res[1].name = name_value;
    res[2].name = name_norm;
    const clip_kind kinds[3] = {CLIP_NONE, CLIP_VALUE, CLIP_NORM};
    const double bounds[3] = {0, clip_value, clip_norm};
    for (int k = 0; k < 3; k++) {
        if (nb_tensor_copy_into(nb_module_param_buffer(net), init) != NB_OK ||
            train(curves, series[k], net, x, y, act, kinds[k], bounds[k], lr, steps, every,
                  &res[k]) != NB_OK) {
            status = ex_fail(PROG.name, "training");
            goto done;
        }
    }

    printf("  %-44s %-10s %12s %12s\n", "run", "outcome", "first loss", "last loss");
    for (int k = 0; k < 3; k++) {
        char outcome[32];
        if (res[k].diverged)
            snprintf(outcome, sizeof outcome, "diverged@%d", res[k].diverged_at);
        else
            snprintf(outcome, sizeof outcome, "finite");
        printf("  %-44s %-10s %12.6g %12.6g\n", res[k].name, outcome, res[k].first_loss,
               res[k].last_loss);
    }

    char csv[512], png[512];
    snprintf(csv, sizeof csv, "%s.csv", out);
    snprintf(png, sizeof png, "%s.png", out);
    const nb_plot_opts po = {.title = "training loss with and without gradient clipping",
                             .xlabel = "SGD step",
                             .ylabel = "loss",
                             .log_y = true};
    if (nb_curves_write_csv(curves, csv) != NB_OK ||
        nb_curves_write_png(curves, png, &po) != NB_OK) {
        status = ex_fail(PROG.name, "writing the plot");
        goto done;
    }
    printf("\n  wrote %s and %s (finite losses only)\n", csv, png);

    if (check) {
        int failures = 0;
        printf("\n");
        printf("  check unclipped run diverges: %s\n", res[0].diverged ? "ok" : "MISMATCH");
        failures += !res[0].diverged;
        for (int k = 1; k < 3; k++) {
            const bool ok = !res[k].diverged && isfinite(res[k].last_loss) &&
                            res[k].last_loss < 0.1 * res[k].first_loss;
            printf("  check %s stays finite and ends below a tenth of its first loss: %s\n",
                   k == 1 ? "clipping by value" : "clipping by norm", ok ? "ok" : "MISMATCH");
            failures += !ok;
        }
        printf("%s\n", failures ? "clipping did not behave as expected"
                                : "only the unclipped run diverged");
        status = failures ? 1 : 0;
    }

done:
    nb_curves_free(curves);
    nb_tensor_free(init);
    nb_module_free(net);
    nb_tensor_free(x);
    nb_tensor_free(y);
    return status;
}
