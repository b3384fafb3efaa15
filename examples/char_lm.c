/* examples/char_lm.c — a character-level language model: embedding -> LSTM (or GRU) -> linear,
 * trained with truncated backpropagation through time on any text file.
 *
 * The text is split 90/10 into training and validation characters. Training runs `batch`
 * parallel streams through the training text, `seq` characters at a time: each step predicts
 * every next character of its chunk (cross-entropy over all seq * batch positions), and the
 * recurrent state is carried to the next chunk as a copy (nb_rnn_state_copy_into), so the
 * gradient is truncated at chunk boundaries while the model still reads the text as one long
 * sequence. Adam with gradient-norm clipping updates the parameters.
 *
 * A progress bar on stderr (characters per second, ETA) follows each block of --every steps;
 * after each block it prints the training loss per character in nats and in bits, the
 * validation loss (the whole validation text, state carried, no gradient) and a sample drawn
 * from the model with a seeded rng. --check exits with status 1 unless the validation loss fell
 * below its value before training. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cli.h"
#include "nabla.h"

static const ex_program PROG = {
    .name = "char_lm",
    .notes = "notes 001 (slides), recurrent nets: \"¿Qué letra viene después?\" (next letter), "
             "LSTM and GRU; notes 002 (sheet): the LSTM block's four sets of inputs",
    .summary = "character-level language model (LSTM or GRU) trained with truncated BPTT",
    .details =
        "Reads --text (default /usr/share/common-licenses/GPL-3, present on every Debian\n"
        "system), builds the vocabulary of its bytes, and trains embedding -> recurrent layers\n"
        "-> linear with Adam and gradient clipping, --seq characters per step in --batch\n"
        "parallel streams, carrying the state across steps. Loss is per character: nats and\n"
        "bits (nats / ln 2). Samples start from the first character of the text.\n",
};

typedef struct corpus {
    int64_t *ids; /* [n] character ids */
    int64_t n, n_train;
    int vocab;
    unsigned char chars[256]; /* id -> byte */
} corpus;

static int load_corpus(const char *path, corpus *c)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "char_lm: cannot open text '%s'\n", path);
        return 1;
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            unsigned char *nb = realloc(buf, cap *= 2);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    bool err = ferror(f);
    fclose(f);
    if (!buf || err || n < 64) {
        fprintf(stderr, "char_lm: '%s': %s\n", path,
                !buf  ? "out of memory"
                : err ? "read error"
                      : "fewer than 64 characters");
        free(buf);
        return 1;
    }
    int id_of[256];
    bool seen[256] = {false};
    for (size_t i = 0; i < n; i++)
        seen[buf[i]] = true;
    c->vocab = 0;
    for (int ch = 0; ch < 256; ch++) {
        id_of[ch] = c->vocab;
        if (seen[ch])
            c->chars[c->vocab++] = (unsigned char)ch;
    }
    c->ids = malloc(n * sizeof *c->ids);
    if (!c->ids) {
        free(buf);
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        c->ids[i] = id_of[buf[i]];
    c->n = (int64_t)n;
    c->n_train = c->n - c->n / 10;
    free(buf);
    return 0;
}

/* ---- the model: a container with children embed, rnn, head ---- */
static nb_module *model_new(int vocab, int embed, int hidden, int layers, bool gru, nb_rng *rng)
{
    nb_module *m = nb_module_new("CharLM", NB_F32, NULL, NULL, NULL);
    if (!m)
        return NULL;
    nb_module *rnn =
        gru ? nb_gru_new(embed, hidden, layers, rng) : nb_lstm_new(embed, hidden, layers, rng);
    if (nb_module_add_child(m, "embed", nb_embedding_new(vocab, embed, rng)) != NB_OK ||
        nb_module_add_child(m, "rnn", rnn) != NB_OK ||
        nb_module_add_child(m, "head", nb_linear_new(hidden, vocab, true, rng)) != NB_OK) {
        nb_module_free(m);
        return NULL;
    }
    return m;
}

/* logits [B * T, V] for ids [B, T]; the final state goes to *last. */
static nb_tensor *model_forward(nb_module *m, nb_tensor *ids, nb_rnn_state init, nb_rnn_state *last)
{
    nb_module *rnn = nb_module_child(m, "rnn");
    nb_tensor *y =
        nb_rnn_forward(rnn, nb_module_forward(nb_module_child(m, "embed"), ids), init, last);
    const int64_t flat[2] = {-1, nb_rnn_hidden_size(rnn)};
    return nb_module_forward(nb_module_child(m, "head"), nb_reshape(y, 2, flat));
}

/* Fill x [B, T] and targets [B * T] from B streams over ids[lo, hi), each stream at offset pos
 * of its own segment. */
static void fill_batch(const corpus *c, int64_t lo, int64_t hi, int B, int T, int64_t pos,
                       nb_tensor *x, nb_tensor *y)
{
    const int64_t seg = (hi - lo) / B;
    int64_t *xd = nb_tensor_data_i64(x), *yd = nb_tensor_data_i64(y);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int64_t at = lo + b * seg + pos + t;
            xd[b * T + t] = c->ids[at];
            yd[b * T + t] = c->ids[at + 1];
        }
}

/* Mean cross-entropy (nats per character) over the validation text: B streams, T at a time,
 * state carried, no gradient. */
static double evaluate(nb_module *m, const corpus *c, int B, int T, nb_step *step)
{
    const int64_t seg = (c->n - c->n_train) / B;
    if (seg < 2)
        return NAN;
    nb_rnn_state carry = nb_rnn_state_zeros(nb_module_child(m, "rnn"), B);
    nb_tensor *x = nb_tensor_zeros(NB_I64, 2, (int64_t[]){B, T});
    nb_tensor *y = nb_tensor_zeros(NB_I64, 1, (int64_t[]){(int64_t)B * T});
    double sum = 0;
    int64_t count = 0;
    bool prev = nb_set_grad_enabled(false);
    for (int64_t pos = 0; pos + T + 1 <= seg; pos += T) {
        fill_batch(c, c->n_train, c->n, B, T, pos, x, y);
        nb_step_begin(step);
        nb_rnn_state last;
        nb_tensor *loss = nb_cross_entropy(model_forward(m, x, carry, &last), y, NB_REDUCE_SUM);
        if (loss) {
            sum += nb_tensor_item(loss);
            count += (int64_t)B * T;
            nb_rnn_state_copy_into(&carry, last);
        }
        nb_step_end(step);
        if (!loss)
            break;
    }
    nb_set_grad_enabled(prev);
    nb_rnn_state_free(&carry);
    nb_tensor_free(x);
    nb_tensor_free(y);
    return count ? sum / (double)count : NAN;
}

/* Draw n characters from the model, starting from character id `start`, with temperature. */
static void sample(nb_module *m, const corpus *c, int64_t start, int n, double temperature,
                   nb_rng *rng, nb_step *step, char *out)
{
    nb_rnn_state carry = nb_rnn_state_zeros(nb_module_child(m, "rnn"), 1);
    nb_tensor *x = nb_tensor_zeros(NB_I64, 2, (int64_t[]){1, 1});
    double *p = malloc((size_t)c->vocab * sizeof *p);
    int64_t cur = start;
    bool prev = nb_set_grad_enabled(false);
    for (int i = 0; i < n && p; i++) {
        nb_tensor_set(x, 0, (double)cur);
        nb_step_begin(step);
        nb_rnn_state last;
        nb_tensor *logits = model_forward(m, x, carry, &last);
        if (!logits) {
            nb_step_end(step);
            break;
        }
        double mx = -INFINITY, z = 0;
        for (int k = 0; k < c->vocab; k++)
            mx = fmax(mx, nb_tensor_get(logits, k) / temperature);
        for (int k = 0; k < c->vocab; k++)
            z += p[k] = exp(nb_tensor_get(logits, k) / temperature - mx);
        nb_rnn_state_copy_into(&carry, last);
        nb_step_end(step);
        double u = nb_rng_uniform(rng) * z;
        int k = 0;
        while (k < c->vocab - 1 && (u -= p[k]) > 0)
            k++;
        cur = k;
        out[i] = (char)c->chars[k];
    }
    out[n] = '\0';
    nb_set_grad_enabled(prev);
    free(p);
    nb_tensor_free(x);
    nb_rnn_state_free(&carry);
}

static void print_sample(const char *s)
{
    printf("    | ");
    for (; *s; s++) {
        if (*s == '\n')
            printf("\n    | ");
        else
            putchar((unsigned char)*s >= 32 || *s == '\t' ? *s : '?');
    }
    printf("\n");
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    int hidden = 128, layers = 1, seq = 64, batch = 32, steps = 400, every = 100, embed = 64;
    int sample_len = 200;
    double lr = 3e-3, clip = 5.0, temperature = 0.8;
    uint64_t seed = 1;
    const char *text = "/usr/share/common-licenses/GPL-3", *cell = "lstm";
    bool check = false;
    ex_opt opts[] = {
        {"text", EX_OPT_STRING, &text, "text file to learn"},
        {"cell", EX_OPT_STRING, &cell, "recurrent cell: lstm or gru"},
        {"hidden", EX_OPT_INT, &hidden, "hidden units per layer"},
        {"layers", EX_OPT_INT, &layers, "stacked recurrent layers"},
        {"embed", EX_OPT_INT, &embed, "embedding size"},
        {"seq", EX_OPT_INT, &seq, "characters per step (truncated-BPTT length)"},
        {"batch", EX_OPT_INT, &batch, "parallel streams"},
        {"steps", EX_OPT_INT, &steps, "training steps"},
        {"lr", EX_OPT_DOUBLE, &lr, "Adam learning rate"},
        {"clip", EX_OPT_DOUBLE, &clip, "gradient-norm clipping threshold"},
        {"every", EX_OPT_INT, &every, "report and sample every N steps"},
        {"sample", EX_OPT_INT, &sample_len, "characters per sample (0: no samples)"},
        {"temperature", EX_OPT_DOUBLE, &temperature, "sampling temperature"},
        {"seed", EX_OPT_U64, &seed, "seed of initialisation and sampling"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless the validation loss dropped"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof *opts), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    const bool gru = !strcmp(cell, "gru");
    if (!gru && strcmp(cell, "lstm"))
        return ex_usage_error(&PROG, "--cell must be lstm or gru, got '%s'", cell);
    if (hidden < 1 || layers < 1 || embed < 1 || seq < 1 || batch < 1 || steps < 0 || every < 1 ||
        sample_len < 0 || !(lr > 0) || !(clip > 0) || !(temperature > 0))
        return ex_usage_error(&PROG, "sizes, --every and rates must be positive");

    corpus c;
    if (load_corpus(text, &c))
        return 1;
    const int64_t seg = c.n_train / batch;
    if (seg < seq + 2) {
        free(c.ids);
        return ex_usage_error(&PROG, "the text is too short for %d streams of %d characters", batch,
                              seq);
    }
    printf("text: %s, %lld characters (%lld training, %lld validation), vocabulary %d\n", text,
           (long long)c.n, (long long)c.n_train, (long long)(c.n - c.n_train), c.vocab);

    nb_rng rng = nb_rng_seed(seed);
    nb_module *net = model_new(c.vocab, embed, hidden, layers, gru, &rng);
    nb_adam_opts ao = nb_adam_defaults();
    ao.lr = lr;
    nb_optim *opt = net ? nb_adam_new(net, &ao) : NULL;
    nb_step *step = nb_step_new();
    nb_module *rnn = net ? nb_module_child(net, "rnn") : NULL;
    nb_rnn_state carry = rnn ? nb_rnn_state_zeros(rnn, batch) : (nb_rnn_state){0};
    nb_tensor *x = nb_tensor_zeros(NB_I64, 2, (int64_t[]){batch, seq});
    nb_tensor *y = nb_tensor_zeros(NB_I64, 1, (int64_t[]){(int64_t)batch * seq});
    char *smp = malloc((size_t)sample_len + 1);
    if (!opt || !step || !carry.h || !x || !y || !smp) {
        fprintf(stderr, "char_lm: setup failed: %s\n", nb_last_error());
        return 1;
    }
    nb_module_summary(net, stdout);
    /* Notes 002, "memoria de largo y corto plazo": each block has four sets of inputs. */
    nb_tensor *w_ih = nb_module_param(net, "rnn.weight_ih_l0");
    const int gates = gru ? 3 : 4;
    if (w_ih)
        printf("%s: weight_ih_l0 has %lld rows = %d gates (%s) x %d hidden units\n",
               gru ? "GRU" : "LSTM", (long long)nb_tensor_dim(w_ih, 0), gates,
               gru ? "reset, update, new" : "input, forget, cell, output", hidden);
    printf("model: embedding %d -> %s %d x %d layer%s -> linear %d; Adam lr %g, clip %g; "
           "%d streams x %d characters per step\n",
           embed, gru ? "GRU" : "LSTM", hidden, layers, layers > 1 ? "s" : "", c.vocab, lr, clip,
           batch, seq);

    const double uniform = log((double)c.vocab);
    const double val0 = evaluate(net, &c, batch, seq, step);
    printf("before training: val loss %.4f nats/char (%.3f bits/char); uniform guess %.4f\n", val0,
           val0 / log(2.0), uniform);
    fflush(stdout);

    nb_rng sample_rng = nb_rng_seed(seed ^ 0x5a5a5a5aull);
    int64_t pos = 0;
    double run_loss = 0, val = val0, secs = 0;
    int run_n = 0, status = 0;
    nb_progress *bar = NULL;
    for (int it = 1; it <= steps; it++) {
        if (!bar) { /* one bar (on stderr) per reporting block */
            char label[48];
            int last = it + every - 1 < steps ? it + every - 1 : steps;
            snprintf(label, sizeof label, "steps %d-%d", it, last);
            bar = nb_progress_new(label, last - it + 1, NULL);
        }
        if (pos + seq + 1 > seg) { /* end of the streams: start over from a zero state */
            pos = 0;
            nb_rnn_state_reset(&carry);
        }
        fill_batch(&c, 0, c.n_train, batch, seq, pos, x, y);
        pos += seq;
        double t0 = now_seconds();
        nb_step_begin(step);
        nb_optim_zero_grad(opt);
        nb_rnn_state last;
        nb_tensor *loss = nb_cross_entropy(model_forward(net, x, carry, &last), y, NB_REDUCE_MEAN);
        nb_status st = loss ? nb_backward(loss) : nb_last_status();
        if (st == NB_OK) {
            nb_clip_grad_norm(net, clip);
            st = nb_optim_update(opt);
        }
        if (st == NB_OK)
            st = nb_rnn_state_copy_into(&carry, last); /* truncated BPTT: keep values only */
        double l = loss ? nb_tensor_item(loss) : NAN;
        nb_step_end(step);
        secs += now_seconds() - t0;
        if (st != NB_OK) {
            fprintf(stderr, "char_lm: step %d: %s\n", it, nb_last_error());
            status = 1;
            break;
        }
        run_loss += l;
        run_n++;
        nb_progress_advance(bar, (int64_t)batch * seq, l);
        if (it % every == 0 || it == steps) {
            nb_progress_finish(bar);
            nb_progress_free(bar);
            bar = NULL;
            val = evaluate(net, &c, batch, seq, step);
            printf("step %5d/%d  loss %.4f nats/char (%.3f bits/char)  val %.4f (%.3f bits/char)"
                   "  %.1f ms/step\n",
                   it, steps, run_loss / run_n, run_loss / run_n / log(2.0), val, val / log(2.0),
                   1e3 * secs / it);
            if (sample_len > 0) {
                sample(net, &c, c.ids[0], sample_len, temperature, &sample_rng, step, smp);
                print_sample(smp);
            }
            fflush(stdout);
            run_loss = 0;
            run_n = 0;
        }
    }
    nb_progress_free(bar);
    if (!status) {
        printf("validation loss: %.4f -> %.4f nats/char (%.3f -> %.3f bits/char), %s\n", val0, val,
               val0 / log(2.0), val / log(2.0), val < val0 ? "dropped" : "did not drop");
        if (check && !(val < val0))
            status = 1;
    }
    free(smp);
    free(c.ids);
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_rnn_state_free(&carry);
    nb_step_free(step);
    nb_optim_free(opt);
    nb_module_free(net);
    return status;
}
