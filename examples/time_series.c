/* examples/time_series.c — predict the next value of a noisy sum of sines with an LSTM.
 *
 * The series is x(t) = sin(2 pi t / 40) + 0.5 sin(2 pi t / 15 + 1) + 0.25 sin(2 pi t / 7 + 2)
 * + noise, t = 0 .. n-1, noise normal(0, --noise) from a seeded rng. The first 80% of the
 * points train, the rest test. The model reads a window of the --window previous values
 * ([B, window, 1]), runs an LSTM (or GRU) over it and maps the last hidden state to the next
 * value with a linear layer; it trains on random windows with the mean squared error and Adam
 * with gradient clipping.
 *
 * On the test points every prediction uses the true previous values (one step ahead). The
 * test MSE is compared with the naive forecast "the next value equals the last one", and with
 * the noise variance, the error even a perfect model of the sines would make. Predictions and
 * truth are written as CSV (--csv) and plotted as a PNG (--png, nb_curves_write_png).
 * --check exits 1 unless the model beats the naive forecast. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "nabla.h"

static const ex_program PROG = {
    .name = "time_series",
    .notes = "notes 000 (overview): recurrent nets for time series; notes 001 (slides): LSTM",
    .summary = "one-step-ahead forecasting of a noisy sum of sines with an LSTM",
    .details = "Trains on random windows of the first 80% of the series, then predicts every\n"
               "test point from the true window before it and reports the test MSE against\n"
               "the naive last-value forecast. Writes t,truth,prediction,naive rows to --csv\n"
               "and plots prediction and truth over the test points to --png.\n",
};

static double clean_signal(double t)
{
    const double tau = 6.283185307179586;
    return sin(tau * t / 40.0) + 0.5 * sin(tau * t / 15.0 + 1.0) + 0.25 * sin(tau * t / 7.0 + 2.0);
}

typedef struct model {
    nb_module *net; /* children rnn, head */
} model;

static nb_module *model_new(bool gru, int hidden, nb_rng *rng)
{
    nb_module *m = nb_module_new("Forecaster", NB_F32, NULL, NULL, NULL);
    if (!m)
        return NULL;
    nb_module *rnn = gru ? nb_gru_new(1, hidden, 1, rng) : nb_lstm_new(1, hidden, 1, rng);
    if (nb_module_add_child(m, "rnn", rnn) != NB_OK ||
        nb_module_add_child(m, "head", nb_linear_new(hidden, 1, true, rng)) != NB_OK) {
        nb_module_free(m);
        return NULL;
    }
    return m;
}

/* x [B, W, 1] -> prediction [B, 1] from the last hidden state. */
static nb_tensor *model_forward(nb_module *m, nb_tensor *x)
{
    nb_rnn_state last;
    if (!nb_rnn_forward(nb_module_child(m, "rnn"), x, (nb_rnn_state){0}, &last))
        return NULL;
    return nb_module_forward(nb_module_child(m, "head"), nb_squeeze(last.h, 0));
}

/* Windows ending before targets[i]: x[i, w, 0] = series[targets[i] - W + w], y[i] = series[t]. */
static void fill(const double *series, const int64_t *targets, int n, int W, nb_tensor *x,
                 nb_tensor *y)
{
    float *xd = nb_tensor_data_f32(x), *yd = nb_tensor_data_f32(y);
    for (int i = 0; i < n; i++) {
        for (int w = 0; w < W; w++)
            xd[i * W + w] = (float)series[targets[i] - W + w];
        yd[i] = (float)series[targets[i]];
    }
}

/* One-step-ahead predictions for every target in [from, to); returns the MSE. */
static double predict(nb_module *m, const double *series, int64_t from, int64_t to, int W,
                      nb_step *step, double *pred)
{
    const int n = (int)(to - from);
    int64_t *targets = malloc((size_t)n * sizeof *targets);
    nb_tensor *x = nb_tensor_zeros(NB_F32, 3, (int64_t[]){n, W, 1});
    nb_tensor *y = nb_tensor_zeros(NB_F32, 2, (int64_t[]){n, 1});
    double mse = NAN;
    if (targets && x && y) {
        for (int i = 0; i < n; i++)
            targets[i] = from + i;
        fill(series, targets, n, W, x, y);
        bool prev = nb_set_grad_enabled(false);
        nb_step_begin(step);
        nb_tensor *p = model_forward(m, x);
        if (p) {
            mse = 0;
            for (int i = 0; i < n; i++) {
                pred[i] = nb_tensor_get(p, i);
                mse += (pred[i] - series[from + i]) * (pred[i] - series[from + i]) / n;
            }
        }
        nb_step_end(step);
        nb_set_grad_enabled(prev);
    }
    free(targets);
    nb_tensor_free(x);
    nb_tensor_free(y);
    return mse;
}

int main(int argc, char **argv)
{
    int n = 1500, window = 24, hidden = 32, batch = 32, steps = 800, every = 100;
    double lr = 0.01, noise = 0.1, clip = 1.0;
    uint64_t seed = 1;
    const char *cell = "lstm", *csv = "time_series.csv", *png = "time_series.png";
    bool check = false;
    ex_opt opts[] = {
        {"points", EX_OPT_INT, &n, "length of the series"},
        {"window", EX_OPT_INT, &window, "past values the model reads"},
        {"hidden", EX_OPT_INT, &hidden, "hidden units"},
        {"cell", EX_OPT_STRING, &cell, "recurrent cell: lstm or gru"},
        {"batch", EX_OPT_INT, &batch, "windows per training step"},
        {"steps", EX_OPT_INT, &steps, "training steps"},
        {"every", EX_OPT_INT, &every, "report every N steps"},
        {"lr", EX_OPT_DOUBLE, &lr, "Adam learning rate"},
        {"clip", EX_OPT_DOUBLE, &clip, "gradient-norm clipping threshold"},
        {"noise", EX_OPT_DOUBLE, &noise, "standard deviation of the noise"},
        {"seed", EX_OPT_U64, &seed, "seed of the noise, initialisation and batches"},
        {"csv", EX_OPT_STRING, &csv, "where to write t,truth,prediction,naive"},
        {"png", EX_OPT_STRING, &png, "where to plot prediction vs truth"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless the model beats the naive forecast"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof *opts), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    const bool gru = !strcmp(cell, "gru");
    if (!gru && strcmp(cell, "lstm"))
        return ex_usage_error(&PROG, "--cell must be lstm or gru, got '%s'", cell);
    if (window < 1 || hidden < 1 || batch < 1 || steps < 0 || every < 1 || !(lr > 0) ||
        !(clip > 0) || noise < 0)
        return ex_usage_error(&PROG, "sizes, --every and rates must be positive");
    const int64_t n_train = n - n / 5;
    if (n_train - window < 2 || n - n_train < 2)
        return ex_usage_error(&PROG, "--points %d is too short for --window %d", n, window);

    nb_rng rng = nb_rng_seed(seed);
    double *series = malloc((size_t)n * sizeof *series);
    double *pred = malloc((size_t)n * sizeof *pred);
    int64_t *targets = malloc((size_t)batch * sizeof *targets);
    nb_module *net = model_new(gru, hidden, &rng);
    nb_adam_opts ao = nb_adam_defaults();
    ao.lr = lr;
    nb_optim *opt = net ? nb_adam_new(net, &ao) : NULL;
    nb_step *step = nb_step_new();
    nb_tensor *x = nb_tensor_zeros(NB_F32, 3, (int64_t[]){batch, window, 1});
    nb_tensor *y = nb_tensor_zeros(NB_F32, 2, (int64_t[]){batch, 1});
    if (!series || !pred || !targets || !opt || !step || !x || !y) {
        fprintf(stderr, "time_series: setup failed: %s\n", nb_last_error());
        return 1;
    }
    for (int64_t t = 0; t < n; t++)
        series[t] = clean_signal((double)t) + noise * nb_rng_normal(&rng);

    /* baselines on the test points */
    double naive = 0;
    for (int64_t t = n_train; t < n; t++)
        naive += (series[t - 1] - series[t]) * (series[t - 1] - series[t]) / (double)(n - n_train);
    printf("series: %d points (%lld train, %lld test), noise std %g; model: %s %d -> linear 1, "
           "window %d\n",
           n, (long long)n_train, (long long)(n - n_train), noise, gru ? "GRU" : "LSTM", hidden,
           window);
    printf("naive forecast (next = last) test MSE %.5f; noise variance %.5f\n", naive,
           noise * noise);

    double test0 = predict(net, series, n_train, n, window, step, pred + n_train);
    printf("before training: test MSE %.5f\n", test0);
    double run = 0, first_loss = NAN, test = test0;
    int run_n = 0, status = 0;
    for (int it = 1; it <= steps; it++) {
        for (int i = 0; i < batch; i++)
            targets[i] = window + (int64_t)nb_rng_below(&rng, (uint64_t)(n_train - window));
        fill(series, targets, batch, window, x, y);
        nb_step_begin(step);
        nb_optim_zero_grad(opt);
        nb_tensor *loss = nb_mse(model_forward(net, x), y, NB_REDUCE_MEAN);
        nb_status st = loss ? nb_backward(loss) : nb_last_status();
        if (st == NB_OK) {
            nb_clip_grad_norm(net, clip);
            st = nb_optim_update(opt);
        }
        double l = loss ? nb_tensor_item(loss) : NAN;
        nb_step_end(step);
        if (st != NB_OK) {
            fprintf(stderr, "time_series: step %d: %s\n", it, nb_last_error());
            status = 1;
            break;
        }
        if (it == 1)
            first_loss = l;
        run += l;
        run_n++;
        if (it % every == 0 || it == steps) {
            test = predict(net, series, n_train, n, window, step, pred + n_train);
            printf("step %4d/%d  train MSE %.5f  test MSE %.5f\n", it, steps, run / run_n, test);
            fflush(stdout);
            run = 0;
            run_n = 0;
        }
    }
    if (!status) {
        printf("test MSE %.5f vs naive %.5f (%.2fx lower), noise variance %.5f; first batch loss "
               "%.5f\n",
               test, naive, naive / test, noise * noise, first_loss);
        printf("model %s the naive forecast\n", test < naive ? "beats" : "does NOT beat");
        if (check && !(test < naive))
            status = 1;
        FILE *f = fopen(csv, "w");
        if (!f) {
            fprintf(stderr, "time_series: cannot write '%s'\n", csv);
            status = 1;
        } else {
            fprintf(f, "t,truth,prediction,naive\n");
            for (int64_t t = n_train; t < n; t++)
                fprintf(f, "%lld,%.6f,%.6f,%.6f\n", (long long)t, series[t], pred[t],
                        series[t - 1]);
            if (fclose(f) != 0) {
                fprintf(stderr, "time_series: error writing '%s'\n", csv);
                status = 1;
            } else {
                printf("wrote %s (test points: t, truth, prediction, naive)\n", csv);
            }
        }
    }
    if (!status) {
        nb_curves *cv = nb_curves_new();
        nb_status st = cv ? NB_OK : NB_ERR_NOMEM;
        for (int64_t t = n_train; t < n && st == NB_OK; t++) {
            st = nb_curves_add(cv, "truth", (double)t, series[t]);
            if (st == NB_OK)
                st = nb_curves_add(cv, "prediction", (double)t, pred[t]);
        }
        char title[128];
        snprintf(title, sizeof title, "%s one-step forecast: test MSE %.4f (naive %.4f)",
                 gru ? "GRU" : "LSTM", test, naive);
        nb_plot_opts po = {.title = title, .xlabel = "t", .ylabel = "value"};
        if (st == NB_OK)
            st = nb_curves_write_png(cv, png, &po);
        if (st != NB_OK) {
            fprintf(stderr, "time_series: plot: %s\n", nb_last_error());
            status = 1;
        } else {
            printf("wrote %s (prediction and truth on the test points)\n", png);
        }
        nb_curves_free(cv);
    }
    free(series);
    free(pred);
    free(targets);
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_step_free(step);
    nb_optim_free(opt);
    nb_module_free(net);
    return status;
}
