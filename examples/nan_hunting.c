/* examples/nan_hunting.c — hunting a NaN: the library's anomaly mode finds the op that first
 * makes a NaN or an infinity. (Not the notes' "anomaly detection", which is ae_anomaly.)
 *
 * Logistic regression on 64 points of a line (label 1 when x > 0), with the binary
 * cross-entropy written out by hand as -mean(y log p + (1 - y) log(1 - p)), p = sigmoid(w x + b).
 * The data are separable, so gradient descent with a large learning rate keeps growing w until
 * float32's sigmoid rounds to exactly 1 for some point: log(1 - p) = log(0) = -inf, and the loss
 * and every gradient after it become inf/NaN.
 *
 * With anomaly mode on (the default here) the library checks every op result and reports the
 * first non-finite one — the op (nb_log), the element and its place on the tape — and the loop
 * stops at that step. With --off the same run just shows the loss turning into inf or NaN, with
 * nothing to say where it came from. */
#include <math.h>
#include <stdio.h>

#include "common/cli.h"
#include "common/util.h"
#include "nabla.h"

enum { N = 64 };

int main(int argc, char **argv)
{
    int steps = 500, every = 25;
    double lr = 20;
    uint64_t seed = 1;
    bool off = false;
    ex_opt opts[] = {
        {"steps", EX_OPT_INT, &steps, "training steps (gradient descent, full batch)"},
        {"every", EX_OPT_INT, &every, "print the loss every this many steps"},
        {"lr", EX_OPT_DOUBLE, &lr, "learning rate (large, so that the weights blow up)"},
        {"seed", EX_OPT_U64, &seed, "seed of the initial weights"},
        {"off", EX_OPT_FLAG, &off, "run without anomaly mode"},
    };
    const ex_program prog = {
        .name = "nan_hunting",
        .notes = "no exercise of the notes: a library demo (finding the op that made a NaN/Inf; "
                 "not the notes' anomaly detection, which is ae_anomaly)",
        .summary = "NaN/Inf hunting: anomaly mode catches a log(0) in a training loop",
        .details =
            "The hand-written cross-entropy takes log(1 - sigmoid(z)); once sigmoid rounds to 1 "
            "that\n"
            "is log(0). Anomaly mode (nb_set_anomaly_mode) reports the op and stops; --off shows\n"
            "the loss going bad. A debugging aid, not an exercise of the notes; for the notes'\n"
            "anomaly detection with an autoencoder see ae_anomaly."};
    ex_args_result pr = ex_parse_args(&prog, opts, 5, argc, argv, NULL, NULL);
    if (pr != EX_ARGS_RUN)
        return pr == EX_ARGS_HELP ? 0 : 2;
    if (steps < 1 || every < 1 || !(lr > 0))
        return ex_usage_error(&prog, "--steps and --every must be >= 1 and --lr > 0");

    float xs[N], ys[N];
    for (int i = 0; i < N; i++) {
        xs[i] = -1.0f + 2.0f * (float)i / (N - 1);
        ys[i] = xs[i] > 0 ? 1.0f : 0.0f;
    }
    nb_rng rng = nb_rng_seed(seed);
    nb_tensor *x = nb_tensor_from_data(NB_F32, 1, (const int64_t[]){N}, xs);
    nb_tensor *y = nb_tensor_from_data(NB_F32, 1, (const int64_t[]){N}, ys);
    nb_tensor *w = nb_tensor_uniform(NB_F32, 1, (const int64_t[]){1}, &rng, -0.1, 0.1);
    nb_tensor *b = nb_tensor_zeros(NB_F32, 1, (const int64_t[]){1});
    nb_step *step = nb_step_new();
    if (!x || !y || !w || !b || !step || nb_tensor_set_requires_grad(w, true) != NB_OK ||
        nb_tensor_set_requires_grad(b, true) != NB_OK)
        return ex_fail("nan_hunting", "setup");
    nb_tensor *params[2] = {w, b};
    nb_set_anomaly_mode(!off);
    printf("logistic regression on %d points, lr %g, anomaly mode %s\n", N, lr, off ? "off" : "on");

    int rc = 0, bad_step = -1;
    for (int it = 1; it <= steps; it++) {
        nb_step_begin(step);
        ex_zero_grads(params, 2);
        nb_tensor *p = nb_sigmoid(nb_add(nb_mul(x, w), b));
        nb_tensor *one_minus_p = nb_add_scalar(nb_neg(p), 1.0);
        nb_tensor *ll = nb_add(nb_mul(y, nb_log(p)),
                               nb_mul(nb_add_scalar(nb_neg(y), 1.0), nb_log(one_minus_p)));
        nb_tensor *loss = nb_neg(nb_mean(ll, -1, false));
        nb_status st = loss ? nb_backward(loss) : nb_last_status();
        double l = loss ? nb_tensor_item(loss) : NAN;
        if (st == NB_OK)
            st = ex_sgd_step(params, 2, lr);
        if (st != NB_OK) {
            printf("anomaly caught at step %d: %s\n", it, nb_last_error());
            printf("  w = %.4g, b = %.4g: sigmoid(w * 1 + b) rounds to %.9g in float32\n",
                   nb_tensor_get(w, 0), nb_tensor_get(b, 0),
                   (double)(1.0f /
                            (1.0f + expf(-(float)(nb_tensor_get(w, 0) + nb_tensor_get(b, 0))))));
            nb_step_end(step);
            bad_step = it;
            break;
        }
        if (!isfinite(l)) {
            printf("step %d: loss is %g and w = %g: something made a non-finite value, but "
                   "without anomaly mode nothing says which op (run without --off)\n",
                   it, l, nb_tensor_get(w, 0));
            nb_step_end(step);
            bad_step = it;
            break;
        }
        if (it % every == 0 || it == 1)
            printf("step %4d  loss %.6g  w %.4g  b %.4g\n", it, l, nb_tensor_get(w, 0),
                   nb_tensor_get(b, 0));
        nb_step_end(step);
    }
    if (bad_step < 0)
        printf("no non-finite value in %d steps (try more --steps or a larger --lr)\n", steps);
    nb_set_anomaly_mode(false);
    nb_step_free(step);
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_tensor_free(w);
    nb_tensor_free(b);
    return rc;
}
