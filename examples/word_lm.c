/* examples/word_lm.c — a word-level next-word model: "VOY - A - VISITAR - ?".
 *
 * Notes 001 (recurrent nets) ask "¿Qué letra viene después?" (char_lm) and "¿Qué palabra viene
 * después? VOY - A - VISITAR -". This is the word-level model: sentences from a small Spanish
 * grammar ("mañana voy a visitar a mi abuela", "voy a leer un libro", ...) are tokenized into
 * word ids (nb_tokenizer), each sentence ends with the word "fin" and is post-padded; an
 * Embedding -> LSTM -> Linear over the vocabulary predicts every next word (cross-entropy,
 * Adam). What follows "un" or "a" depends on the verb two or three words back, which the
 * LSTM's state carries and a bigram table (next word from the previous word only) cannot: the
 * program prints both accuracies over the test sentences' words and the model's top three
 * words after "voy a visitar" and other prefixes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "nabla.h"

enum { L = 9, N_VERBS = 4, N_OBJ = 4 }; /* padded sentence length in words */

static const char *const STARTS[] = {"", "hoy ", "mañana ", "luego "};
static const char *const VERBS[N_VERBS] = {"visitar", "comer", "leer", "beber"};
static const char *const OBJECTS[N_VERBS][N_OBJ] = {
    {"a mi abuela", "a mi amigo", "el museo", "la ciudad"},
    {"una manzana", "pan", "la cena", "un bocadillo"},
    {"un libro", "el periodico", "una novela", "un cuento"},
    {"agua", "un cafe", "una limonada", "el zumo"},
};

static const ex_program PROG = {
    .name = "word_lm",
    .notes = "notes 001 (slides), recurrent nets: \"¿Qué palabra viene después? VOY - A - "
             "VISITAR -\" (the next word)",
    .summary = "a word-level LSTM language model: the next word after \"voy a visitar\"",
    .details =
        "Generates --train and --test sentences \"[hoy|mañana|luego] voy a VERB OBJECT fin\"\n"
        "(4 verbs, 4 objects each), tokenizes them (nb_tokenizer; ids by frequency, 0 pads),\n"
        "and trains Embedding --embed -> LSTM --hidden -> Linear over the vocabulary with\n"
        "cross-entropy and Adam (--lr, --steps full-batch steps). Prints the next-word\n"
        "accuracy on the test sentences beside a bigram table's (the most frequent follower of\n"
        "the previous word in the training sentences) and the three most likely next words\n"
        "after a few prefixes, \"voy a visitar\" first. --check exits with status 1 unless the\n"
        "model beats the bigram table (the notes give no number).\n",
};

static int make_sentence(nb_rng *rng, char *buf, size_t size)
{
    int v = (int)nb_rng_below(rng, N_VERBS), o = (int)nb_rng_below(rng, N_OBJ);
    return snprintf(buf, size, "%svoy a %s %s fin", STARTS[nb_rng_below(rng, 4)], VERBS[v],
                    OBJECTS[v][o]);
}

typedef struct model {
    nb_module *embed, *lstm, *head;
} model;

/* logits [N * (L - 1), V] for the inputs ids[:, 0 .. L-2] */
static nb_tensor *logits_of(const model *m, nb_tensor *inputs)
{
    nb_tensor *y = nb_module_forward(m->lstm, nb_module_forward(m->embed, inputs));
    return nb_module_forward(m->head,
                             nb_reshape(y, 2, (int64_t[]){-1, nb_rnn_hidden_size(m->lstm)}));
}

/* inputs [N, L-1] and targets [N * (L-1)] from padded ids [N, L] */
static void split(nb_tensor *ids, nb_tensor **in, nb_tensor **target)
{
    const int64_t n = nb_tensor_dim(ids, 0);
    *in = nb_tensor_zeros(NB_I64, 2, (int64_t[]){n, L - 1});
    *target = nb_tensor_zeros(NB_I64, 1, (int64_t[]){n * (L - 1)});
    if (!*in || !*target)
        return;
    const int64_t *s = nb_tensor_data_i64(ids);
    int64_t *x = nb_tensor_data_i64(*in), *y = nb_tensor_data_i64(*target);
    for (int64_t r = 0; r < n; r++)
        for (int t = 0; t < L - 1; t++) {
            x[r * (L - 1) + t] = s[r * L + t];
            y[r * (L - 1) + t] = s[r * L + t + 1];
        }
}

static int64_t argmax_row(nb_tensor *logits, int64_t row, int64_t v)
{
    int64_t best = -1;
    for (int64_t k = 1; k < v; k++) /* id 0 is padding: never a word */
        if (best < 0 || nb_tensor_get(logits, row * v + k) > nb_tensor_get(logits, row * v + best))
            best = k;
    return best;
}

int main(int argc, char **argv)
{
    int n_train = 400, n_test = 200, embed = 16, hidden = 32, steps = 300;
    double lr = 0.01;
    uint64_t seed = 1;
    bool check = false;
    ex_opt opts[] = {
        {"train", EX_OPT_INT, &n_train, "training sentences"},
        {"test", EX_OPT_INT, &n_test, "test sentences"},
        {"embed", EX_OPT_INT, &embed, "embedding size"},
        {"hidden", EX_OPT_INT, &hidden, "LSTM units"},
        {"steps", EX_OPT_INT, &steps, "full-batch Adam steps"},
        {"lr", EX_OPT_DOUBLE, &lr, "Adam learning rate"},
        {"seed", EX_OPT_U64, &seed, "seed of the sentences and the weights"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless the model beats the bigram table"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof *opts), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (n_train < 1 || n_test < 1 || embed < 1 || hidden < 1 || steps < 0 || !(lr > 0))
        return ex_usage_error(&PROG, "need --train, --test, --embed, --hidden >= 1, --steps >= 0 "
                                     "and --lr > 0");

    nb_rng rng = nb_rng_seed(seed);
    const int n_all = n_train + n_test;
    char(*text)[96] = malloc((size_t)n_all * sizeof *text);
    const char **ptr = malloc((size_t)n_all * sizeof *ptr);
    if (!text || !ptr)
        return 1;
    for (int i = 0; i < n_all; i++) {
        make_sentence(&rng, text[i], sizeof text[i]);
        ptr[i] = text[i];
    }
    nb_tokenizer *tok = nb_tokenizer_new(NULL);
    nb_pad_opts pad = {.maxlen = L, .padding = NB_PAD_POST, .truncating = NB_PAD_POST};
    nb_tensor *tr = NULL, *te = NULL, *x = NULL, *y = NULL, *tx = NULL, *ty = NULL;
    if (tok && nb_tokenizer_fit(tok, n_train, ptr) == NB_OK) {
        tr = nb_tokenizer_encode_padded(tok, n_train, ptr, &pad);
        te = nb_tokenizer_encode_padded(tok, n_test, ptr + n_train, &pad);
    }
    if (tr && te) {
        split(tr, &x, &y);
        split(te, &tx, &ty);
    }
    const int64_t V = nb_tokenizer_vocab_size(tok);
    model m = {nb_embedding_new_ex(V, embed, 0, &rng, NB_F32), nb_lstm_new(embed, hidden, 1, &rng),
               nb_linear_new(hidden, V, true, &rng)};
    nb_module *all = nb_sequential_new(3, (nb_module *[]){m.embed, m.lstm, m.head});
    nb_adam_opts ao = nb_adam_defaults();
    ao.lr = lr;
    nb_optim *opt = all ? nb_adam_new(all, &ao) : NULL;
    nb_step *step = nb_step_new();
    int64_t *bigram = calloc((size_t)(V * V), sizeof *bigram);
    if (!x || !y || !tx || !ty || !opt || !step || !bigram) {
        fprintf(stderr, "word_lm: setup: %s\n", nb_last_error());
        return 1;
    }
    printf("%d training and %d test sentences, vocabulary %lld words (0 pads), e.g.\n", n_train,
           n_test, (long long)V - 1);
    for (int i = 0; i < 3; i++)
        printf("  \"%s\"\n", text[i]);
    printf("Embedding %d -> LSTM %d -> Linear %lld, %lld parameters\n", embed, hidden, (long long)V,
           (long long)nb_module_num_params(all));

    int status = 0;
    for (int s = 1; s <= steps && !status; s++) {
        nb_step_begin(step);
        nb_optim_zero_grad(opt);
        nb_tensor *loss = nb_cross_entropy(logits_of(&m, x), y, NB_REDUCE_MEAN);
        nb_status st = loss ? nb_backward(loss) : nb_last_status();
        if (st == NB_OK)
            st = nb_optim_update(opt);
        if (st == NB_OK && (s == 1 || s % 50 == 0 || s == steps))
            printf("step %4d  loss %.4f nats per word\n", s, nb_tensor_item(loss));
        nb_step_end(step);
        if (st != NB_OK)
            status = fprintf(stderr, "word_lm: %s\n", nb_last_error()) > 0;
    }

    /* bigram table from the training pairs, then both predictors on the test words */
    const int64_t *xs = nb_tensor_data_i64(x), *ys = nb_tensor_data_i64(y);
    for (int64_t k = 0; k < nb_tensor_numel(y); k++)
        if (ys[k])
            bigram[xs[k] * V + ys[k]]++;
    const int64_t *txs = nb_tensor_data_i64(tx), *tys = nb_tensor_data_i64(ty);
    int words = 0, model_ok = 0, bigram_ok = 0;
    bool was = nb_set_grad_enabled(false);
    nb_step_begin(step);
    nb_tensor *lg = status ? NULL : logits_of(&m, tx);
    for (int64_t k = 0; lg && k < nb_tensor_numel(ty); k++) {
        if (!tys[k])
            continue; /* padding */
        int64_t best = 0;
        for (int64_t w = 1; w < V; w++)
            if (bigram[txs[k] * V + w] > bigram[txs[k] * V + best])
                best = w;
        words++;
        bigram_ok += best == tys[k];
        model_ok += argmax_row(lg, k, V) == tys[k];
    }
    nb_step_end(step);
    double acc = words ? (double)model_ok / words : 0, bacc = words ? (double)bigram_ok / words : 0;
    if (!lg)
        status = 1;

    /* the three most likely words after some prefixes */
    const char *prefixes[] = {"voy a visitar", "voy a visitar a", "voy a leer un", "voy a beber un",
                              "hoy voy a"};
    nb_tensor *pid = nb_tokenizer_encode_padded(tok, 5, prefixes, &pad);
    nb_step_begin(step);
    nb_tensor *pl = pid ? logits_of(&m, pid) : NULL;
    printf("\nthe most likely next words:\n");
    for (int i = 0; pl && i < 5; i++) {
        const int64_t n = nb_tokenizer_encode(tok, prefixes[i], NULL, 0);
        nb_tensor *p = nb_softmax(nb_slice(pl, 0, i * L + n - 1, i * L + n, 1), 1); /* [1, V] */
        printf("  %-18s ->", prefixes[i]);
        int64_t used[3] = {-1, -1, -1};
        for (int r = 0; p && r < 3; r++) {
            int64_t best = -1;
            for (int64_t w = 1; w < V; w++)
                if (w != used[0] && w != used[1] &&
                    (best < 0 || nb_tensor_get(p, w) > nb_tensor_get(p, best)))
                    best = w;
            used[r] = best;
            printf("  %s %.2f", nb_tokenizer_word(tok, best), nb_tensor_get(p, best));
        }
        printf("\n");
    }
    nb_step_end(step);
    nb_set_grad_enabled(was);
    printf("\nnext-word accuracy on %d test words: LSTM %.1f%%, bigram table %.1f%%: model %s\n",
           words, 100 * acc, 100 * bacc,
           acc > bacc ? "beats the bigram table" : "does NOT beat the bigram table");
    if (check && !(acc > bacc))
        status = 1;

    nb_tensor *frees[] = {tr, te, x, y, tx, ty, pid};
    for (size_t i = 0; i < sizeof frees / sizeof *frees; i++)
        nb_tensor_free(frees[i]);
    free(bigram);
    nb_step_free(step);
    nb_optim_free(opt);
    nb_module_free(all);
    nb_tokenizer_free(tok);
    free(text);
    free(ptr);
    return status;
}
