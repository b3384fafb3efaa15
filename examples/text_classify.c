/* examples/text_classify.c — sentiment of short sentences: word embeddings -> 1-D convolution
 * -> global max-pool -> dense, the course's "Conv1d on text" model.
 *
 * Data. Generated from a seeded rng: sentences of 5 to 14 words mixing neutral words with
 * positive ("great", "enjoyed", ...) and negative ("boring", "awful", ...) ones, where "not"
 * before a sentiment word flips it ("not good" is negative). The label is the sign of the sum
 * (ties are drawn again). Counting positive and negative words, ignoring "not", is therefore
 * not enough: the baseline printed beside the model does exactly that.
 *
 * Model. The tokenizer (include/nabla/text.h) builds the vocabulary from the training
 * sentences (OOV token for unseen words) and turns them into post-padded id rows [N, L]. An
 * Embedding (padding id 0) gives [B, L, E]; a convolution of --filters filters of --kernel
 * words with ReLU scores every window of consecutive words ([B, L - k + 1, F]); the maximum over
 * the windows keeps the strongest match of each filter ([B, F]); a linear layer gives the logit
 * of "positive", trained with binary cross-entropy on logits and Adam. The convolution is a
 * module kind defined here ("TextConv1d": weight [F, E, K], bias [F]) whose forward is
 * nb_conv1d over the words (embedding components as channels), ReLU and nb_global_max_pool
 * (--pool avg: nb_global_avg_pool, the mean over the windows instead of the maximum).
 *
 * --model average is the network of the word-embeddings practice of notes 001
 * (tensorflow.org/text/guide/word_embeddings): Embedding -> GlobalAveragePooling1D (the mean
 * of the word vectors, padding included, as there) -> Dense 16 ReLU -> Dense 1. It sees no
 * word order, so "not" cannot flip the next word: it is printed against the same baseline.
 *
 * --check exits 1 unless the test accuracy beats the word-counting baseline. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "nabla.h"

static const ex_program PROG = {
    .name = "text_classify",
    .notes = "notes 003 (introduction): conv1d over text; notes 001 (slides): the word-embeddings "
             "practice",
    .summary = "sentiment classification: embedding -> conv1d -> global max (or average) pool "
               "-> dense, or the practice's embedding average -> dense",
    .details = "Generates a small sentiment-like data set (with negation), tokenizes it, and\n"
               "trains the model with Adam on binary cross-entropy. Prints the loss and the\n"
               "test accuracy per epoch, the accuracy of a word-counting baseline that ignores\n"
               "negation, and the model's verdict on a few hand-written sentences.\n"
               "--pool max|avg: the pooling over the convolution's windows. --model average:\n"
               "the word-embeddings practice's model (embedding, mean over the words, dense 16\n"
               "ReLU, dense 1), which ignores word order.\n",
};

static const char *const POSITIVE[] = {"good",  "great", "excellent", "wonderful", "enjoyed",
                                       "loved", "fun",   "brilliant", "moving",    "superb"};
static const char *const NEGATIVE[] = {"bad",  "awful", "boring", "terrible", "hated",
                                       "dull", "poor",  "weak",   "messy",    "painful"};
static const char *const NEUTRAL[] = {"the",    "movie", "film",   "was",   "a",     "plot",
                                      "actors", "story", "and",    "it",    "this",  "really",
                                      "very",   "i",     "ending", "music", "quite", "scenes"};
#define N_POS 10
#define N_NEG 10
#define N_NEU 18

/* One sentence into buf; returns its label (1 positive, 0 negative). */
static int make_sentence(nb_rng *rng, char *buf, size_t size)
{
    for (;;) {
        int words = 5 + (int)nb_rng_below(rng, 10), score = 0;
        size_t len = 0;
        buf[0] = '\0';
        for (int w = 0; w < words; w++) {
            double u = nb_rng_uniform(rng);
            const char *word;
            if (u < 0.2 || u >= 0.45) {
                word = NEUTRAL[nb_rng_below(rng, N_NEU)];
            } else {
                bool pos = nb_rng_below(rng, 2) == 0, neg = nb_rng_uniform(rng) < 0.35;
                word =
                    pos ? POSITIVE[nb_rng_below(rng, N_POS)] : NEGATIVE[nb_rng_below(rng, N_NEG)];
                score += (pos ? 1 : -1) * (neg ? -1 : 1);
                if (neg)
                    len += (size_t)snprintf(buf + len, size - len, "%snot", len ? " " : "");
            }
            len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? " " : "", word);
        }
        if (score != 0)
            return score > 0;
    }
}

/* The baseline: +1 per positive word, -1 per negative word, "not" ignored. */
static int count_words(const char *s)
{
    int score = 0;
    char word[32];
    while (*s) {
        size_t n = strcspn(s, " ");
        snprintf(word, sizeof word, "%.*s", (int)(n < 31 ? n : 31), s);
        for (int i = 0; i < N_POS; i++)
            score += !strcmp(word, POSITIVE[i]);
        for (int i = 0; i < N_NEG; i++)
            score -= !strcmp(word, NEGATIVE[i]);
        s += n + (s[n] == ' ');
    }
    return score;
}

/* ---- the convolution over words: a module kind ---- */
typedef struct {
    int64_t dim, filters, kernel;
    bool avg; /* mean over the windows instead of the maximum */
} conv_cfg;

/* x [B, L, E] -> relu(conv) [B, L - K + 1, F] -> max over windows [B, F] */
static nb_tensor *conv_forward(nb_module *m, nb_tensor *x)
{
    const conv_cfg *c = nb_module_user_data(m);
    const int64_t L = nb_tensor_dim(x, 1);
    if (nb_tensor_ndim(x) != 3 || nb_tensor_dim(x, 2) != c->dim || L < c->kernel) {
        char s[64];
        nb_module_error(m, NB_ERR_SHAPE, "input is %s, expected [B, L >= %lld, %lld]",
                        nb_tensor_shape_str(x, s, sizeof s), (long long)c->kernel,
                        (long long)c->dim);
        return NULL;
    }
    /* words are the length axis, embedding components the channels: [B, E, L] */
    nb_tensor *y = nb_conv1d(nb_transpose(x, 1, 2), nb_module_param(m, "weight"),
                             nb_module_param(m, "bias"), NULL); /* [B, F, L - K + 1] */
    return c->avg ? nb_global_avg_pool(nb_relu(y))              /* [B, F] */
                  : nb_global_max_pool(nb_relu(y));
}

/* x [B, L, E] -> the mean word vector [B, E] (Keras' GlobalAveragePooling1D) */
static nb_tensor *word_average_forward(nb_module *m, nb_tensor *x)
{
    (void)m;
    return nb_mean(x, 1, false);
}

static nb_module *conv_new(int64_t dim, int64_t filters, int64_t kernel, bool avg, nb_rng *rng)
{
    conv_cfg *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    *c = (conv_cfg){dim, filters, kernel, avg};
    nb_module *m = nb_module_new("TextConv1d", NB_F32, conv_forward, c, free);
    if (!m)
        return NULL;
    nb_tensor *w = nb_module_add_param(m, "weight", 3, (int64_t[]){filters, dim, kernel});
    nb_tensor *b = nb_module_add_param(m, "bias", 1, (int64_t[]){filters});
    const double bound = 1.0 / sqrt((double)(dim * kernel)); /* PyTorch's Conv1d init */
    if (!w || !b || nb_init_uniform(w, rng, -bound, bound) != NB_OK ||
        nb_init_uniform(b, rng, -bound, bound) != NB_OK) {
        nb_module_free(m);
        return NULL;
    }
    nb_module_set_info(m, "%lld -> %lld, kernel %lld, relu, %s over words", (long long)dim,
                       (long long)filters, (long long)kernel, avg ? "mean" : "max");
    return m;
}

/* Logits [n, 1] for rows `rows` of ids, copied into the caller-owned buf [n, L] (it must live
 * until the step ends: backward reads the ids). */
static nb_tensor *forward_rows(nb_module *net, nb_tensor *ids, const int64_t *rows, int n,
                               nb_tensor *buf)
{
    const int64_t L = nb_tensor_dim(ids, 1);
    const int64_t *src = nb_tensor_data_i64(ids);
    int64_t *dst = nb_tensor_data_i64(buf);
    for (int i = 0; i < n; i++)
        memcpy(dst + i * L, src + rows[i] * L, (size_t)L * sizeof *dst);
    return nb_module_forward(net, buf);
}

static double accuracy(nb_module *net, nb_tensor *ids, const int *labels, int n, nb_step *step)
{
    int64_t *rows = malloc((size_t)n * sizeof *rows);
    nb_tensor *buf = nb_tensor_zeros(NB_I64, 2, (int64_t[]){n, nb_tensor_dim(ids, 1)});
    int correct = 0;
    for (int i = 0; rows && i < n; i++)
        rows[i] = i;
    bool prev = nb_set_grad_enabled(false);
    nb_step_begin(step);
    nb_tensor *logits = rows && buf ? forward_rows(net, ids, rows, n, buf) : NULL;
    for (int i = 0; logits && i < n; i++)
        correct += (nb_tensor_get(logits, i) > 0) == (labels[i] == 1);
    nb_step_end(step);
    nb_set_grad_enabled(prev);
    free(rows);
    nb_tensor_free(buf);
    return logits ? (double)correct / n : NAN;
}

int main(int argc, char **argv)
{
    int n_train = 2000, n_test = 500, maxlen = 20, embed = 16, filters = 32, kernel = 3;
    int batch = 32, epochs = 6;
    double lr = 0.01;
    uint64_t seed = 1;
    bool check = false;
    const char *pool = "max", *model = "conv";
    ex_opt opts[] = {
        {"model", EX_OPT_STRING, &model, "conv (conv1d over words) or average (the practice's)"},
        {"pool", EX_OPT_STRING, &pool, "conv model: max or avg over the windows"},
        {"train", EX_OPT_INT, &n_train, "training sentences"},
        {"test", EX_OPT_INT, &n_test, "test sentences"},
        {"maxlen", EX_OPT_INT, &maxlen, "padded length in words"},
        {"embed", EX_OPT_INT, &embed, "embedding size"},
        {"filters", EX_OPT_INT, &filters, "convolution filters"},
        {"kernel", EX_OPT_INT, &kernel, "words per convolution window (<= 16)"},
        {"batch", EX_OPT_INT, &batch, "sentences per step"},
        {"epochs", EX_OPT_INT, &epochs, "passes over the training sentences"},
        {"lr", EX_OPT_DOUBLE, &lr, "Adam learning rate"},
        {"seed", EX_OPT_U64, &seed, "seed of the data, initialisation and shuffling"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless the model beats the word-count baseline"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof *opts), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (n_train < 1 || n_test < 1 || embed < 1 || filters < 1 || kernel < 1 || kernel > 16 ||
        maxlen < kernel || batch < 1 || epochs < 0 || !(lr > 0))
        return ex_usage_error(&PROG, "sizes must be positive, 1 <= --kernel <= min(16, maxlen)");
    const bool avg = !strcmp(pool, "avg"), bag = !strcmp(model, "average");
    if ((!avg && strcmp(pool, "max")) || (!bag && strcmp(model, "conv")))
        return ex_usage_error(&PROG,
                              "--pool is max or avg (got '%s'), --model conv or average "
                              "(got '%s')",
                              pool, model);

    /* ---- data ---- */
    nb_rng rng = nb_rng_seed(seed);
    const int n_all = n_train + n_test;
    char(*text)[160] = malloc((size_t)n_all * sizeof *text);
    const char **ptr = malloc((size_t)n_all * sizeof *ptr);
    int *labels = malloc((size_t)n_all * sizeof *labels);
    if (!text || !ptr || !labels)
        return 1;
    int n_pos = 0;
    for (int i = 0; i < n_all; i++) {
        labels[i] = make_sentence(&rng, text[i], sizeof text[i]);
        ptr[i] = text[i];
        n_pos += i < n_train && labels[i];
    }
    nb_tokenizer_opts to = nb_tokenizer_defaults();
    to.oov_token = "<OOV>";
    nb_tokenizer *tok = nb_tokenizer_new(&to);
    nb_pad_opts pad = {.maxlen = maxlen, .padding = NB_PAD_POST, .truncating = NB_PAD_POST};
    nb_tensor *train_ids = NULL, *test_ids = NULL;
    if (tok && nb_tokenizer_fit(tok, n_train, ptr) == NB_OK) {
        train_ids = nb_tokenizer_encode_padded(tok, n_train, ptr, &pad);
        test_ids = nb_tokenizer_encode_padded(tok, n_test, ptr + n_train, &pad);
    }
    if (!train_ids || !test_ids) {
        fprintf(stderr, "text_classify: %s\n", nb_last_error());
        return 1;
    }
    printf("data: %d training sentences (%d positive), %d test; vocabulary %lld ids; padded to "
           "%d words\n",
           n_train, n_pos, n_test, (long long)nb_tokenizer_vocab_size(tok), maxlen);
    for (int i = 0; i < 3; i++)
        printf("  %s: \"%s\"\n", labels[i] ? "positive" : "negative", text[i]);
    int base_ok = 0;
    for (int i = n_train; i < n_all; i++)
        base_ok += (count_words(text[i]) > 0) == (labels[i] == 1);
    const double baseline = (double)base_ok / n_test;
    printf("word-count baseline (ignores \"not\"): test accuracy %.1f%%\n", 100 * baseline);

    /* ---- model ---- */
    nb_module *emb = nb_embedding_new_ex(nb_tokenizer_vocab_size(tok), embed, 0, &rng, NB_F32);
    nb_module *net =
        bag ? nb_sequential_new(5, (nb_module *[]){emb,
                                                   nb_module_new("WordAverage", NB_F32,
                                                                 word_average_forward, NULL, NULL),
                                                   nb_linear_new(embed, 16, true, &rng),
                                                   nb_relu_new(), nb_linear_new(16, 1, true, &rng)})
            : nb_sequential_new(3, (nb_module *[]){emb, conv_new(embed, filters, kernel, avg, &rng),
                                                   nb_linear_new(filters, 1, true, &rng)});
    nb_adam_opts ao = nb_adam_defaults();
    ao.lr = lr;
    nb_optim *opt = net ? nb_adam_new(net, &ao) : NULL;
    nb_step *step = nb_step_new();
    int64_t *order = malloc((size_t)n_train * sizeof *order);
    nb_tensor *y = nb_tensor_zeros(NB_F32, 2, (int64_t[]){batch, 1});
    nb_tensor *xb = nb_tensor_zeros(NB_I64, 2, (int64_t[]){batch, maxlen});
    if (!opt || !step || !order || !y || !xb) {
        fprintf(stderr, "text_classify: setup failed: %s\n", nb_last_error());
        return 1;
    }
    nb_module_summary(net, stdout);
    double acc0 = accuracy(net, test_ids, labels + n_train, n_test, step), acc = acc0;
    printf("before training: test accuracy %.1f%%\n", 100 * acc0);
    int status = 0;
    for (int64_t i = 0; i < n_train; i++)
        order[i] = i;
    for (int ep = 1; ep <= epochs && !status; ep++) {
        nb_rng_shuffle_i64(&rng, order, n_train);
        double sum = 0;
        int steps = 0;
        for (int at = 0; at + batch <= n_train; at += batch) {
            for (int i = 0; i < batch; i++)
                nb_tensor_set(y, i, labels[order[at + i]]);
            nb_step_begin(step);
            nb_optim_zero_grad(opt);
            nb_tensor *loss = nb_bce_with_logits(
                forward_rows(net, train_ids, order + at, batch, xb), y, NB_REDUCE_MEAN);
            nb_status st = loss ? nb_backward(loss) : nb_last_status();
            if (st == NB_OK)
                st = nb_optim_update(opt);
            sum += loss ? nb_tensor_item(loss) : NAN;
            nb_step_end(step);
            if (st != NB_OK) {
                fprintf(stderr, "text_classify: %s\n", nb_last_error());
                status = 1;
                break;
            }
            steps++;
        }
        acc = accuracy(net, test_ids, labels + n_train, n_test, step);
        printf("epoch %d/%d  train loss %.4f  test accuracy %.1f%%\n", ep, epochs, sum / steps,
               100 * acc);
        fflush(stdout);
    }

    /* ---- a few hand-written sentences ---- */
    const char *mine[] = {"the movie was not boring", "the plot was not good",
                          "i really enjoyed this film", "awful acting and a dull story"};
    nb_tensor *mids = nb_tokenizer_encode_padded(tok, 4, mine, &pad);
    if (mids && !status) {
        bool prev = nb_set_grad_enabled(false);
        nb_step_begin(step);
        nb_tensor *lg = nb_module_forward(net, mids);
        for (int i = 0; lg && i < 4; i++)
            printf("  p(positive) = %.3f  \"%s\"\n", 1 / (1 + exp(-nb_tensor_get(lg, i))), mine[i]);
        nb_step_end(step);
        nb_set_grad_enabled(prev);
    }
    if (!status) {
        printf("test accuracy %.1f%% (before training %.1f%%), word-count baseline %.1f%%: model "
               "%s\n",
               100 * acc, 100 * acc0, 100 * baseline,
               acc > baseline ? "beats the baseline" : "does NOT beat the baseline");
        if (check && !(acc > baseline))
            status = 1;
    }
    nb_tensor_free(mids);
    nb_tensor_free(y);
    nb_tensor_free(xb);
    free(order);
    nb_step_free(step);
    nb_optim_free(opt);
    nb_module_free(net);
    nb_tensor_free(train_ids);
    nb_tensor_free(test_ids);
    nb_tokenizer_free(tok);
    free(text);
    free(ptr);
    free(labels);
    return status;
}
