/* examples/tokenizer_demo.c — words to ids: the course's four sentences through the word
 * tokenizer (include/nabla/text.h).
 *
 * The vocabulary is built from the sentences: lower-cased words, punctuation dropped, ids by
 * descending count and then first appearance, starting at 1 (0 is the padding id). Then the
 * sentences become rows of ids, padded (before, to the longest, by default) into one NB_I64
 * matrix, and new sentences are encoded with an out-of-vocabulary token. --check compares the
 * vocabulary and the padded matrix with the course's answers and exits 1 on a mismatch. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/cli.h"
#include "nabla.h"

static const char *const SENTENCES[4] = {
    "Today is a sunny day",
    "Today is a rainy day",
    "Is it sunny today?",
    "I really enjoyed walking in the snow today",
};

/* The notes' answers (001, "Embeddings" slides). "TOKENIZAR": the first three sentences, no
 * OOV token. "PADDING": all four sentences with the OOV token at id 1 (so every word id is one
 * higher than in "TOKENIZAR"), then pre-padded with 0 to the longest sentence. */
static const char *const NOTES_VOCAB3 =
    "{'today': 1, 'is': 2, 'a': 3, 'sunny': 4, 'day': 5, 'rainy': 6, 'it': 7}";
static const int64_t NOTES_SEQ3[3][5] = {{1, 2, 3, 4, 5}, {1, 2, 3, 6, 5}, {2, 7, 4, 1, -1}};
static const int64_t NOTES_SEQ4[4][8] = {{2, 3, 4, 5, 6, -1, -1, -1},
                                         {2, 3, 4, 7, 6, -1, -1, -1},
                                         {3, 8, 5, 2, -1, -1, -1, -1},
                                         {9, 10, 11, 12, 13, 14, 15, 2}};
static const int64_t NOTES_PADDED[4][8] = {{0, 0, 0, 2, 3, 4, 5, 6},
                                           {0, 0, 0, 2, 3, 4, 7, 6},
                                           {0, 0, 0, 0, 3, 8, 5, 2},
                                           {9, 10, 11, 12, 13, 14, 15, 2}};

static const ex_program PROG = {
    .name = "tokenizer_demo",
    .summary = "word tokenizer: vocabulary, id sequences and padding of the course's sentences",
    .details =
        "Reproduces notes 001, \"Embeddings\": TOKENIZAR (the first three sentences, no OOV\n"
        "token: vocabulary and id sequences) and PADDING (all four sentences with the OOV token\n"
        "'<OOV>' at id 1, the id sequences and the pre-padded matrix). Then encodes unseen\n"
        "sentences. --maxlen, --post and --truncate-post change the padding of the PADDING part.\n"
        "--check compares the vocabulary, the sequences and the matrix with the notes' (the\n"
        "matrix only with the default padding) and exits 1 on a mismatch.\n",
};

static void print_matrix(nb_tensor *ids)
{
    const int64_t n = nb_tensor_dim(ids, 0), L = nb_tensor_dim(ids, 1);
    for (int64_t i = 0; i < n; i++) {
        printf("  [");
        for (int64_t j = 0; j < L; j++)
            printf("%s%2lld", j ? " " : "", (long long)nb_tensor_get(ids, i * L + j));
        printf("]\n");
    }
}

/* Print each sentence as ids, beside the notes' row; true when every row matches. `notes` rows
 * are `width` long and end at the first -1. */
static bool print_sequences(const nb_tokenizer *tok, int n, const int64_t *notes, int width)
{
    bool ok = true;
    for (int i = 0; i < n; i++) {
        int64_t ids[16];
        int64_t len = nb_tokenizer_encode(tok, SENTENCES[i], ids, 16);
        const int64_t *want = notes + (size_t)i * (size_t)width;
        int want_len = 0;
        while (want_len < width && want[want_len] >= 0)
            want_len++;
        bool row_ok = len == want_len;
        char mine[96] = "", theirs[96] = "";
        size_t pm = 0, pt = 0;
        for (int64_t j = 0; j < len && j < 16; j++) {
            pm += (size_t)snprintf(mine + pm, sizeof mine - pm, "%s%lld", j ? ", " : "",
                                   (long long)ids[j]);
            row_ok = row_ok && j < want_len && ids[j] == want[j];
        }
        for (int j = 0; j < want_len; j++)
            pt += (size_t)snprintf(theirs + pt, sizeof theirs - pt, "%s%lld", j ? ", " : "",
                                   (long long)want[j]);
        printf("  [%s]%*s notes: [%s]%s\n", mine, (int)(28 - strlen(mine)), "", theirs,
               row_ok ? "" : "   <- differs");
        ok = ok && row_ok;
    }
    return ok;
}

static bool vocab_matches(const nb_tokenizer *tok, const char *notes)
{
    char vocab[512];
    FILE *mem = fmemopen(vocab, sizeof vocab, "w");
    if (!mem)
        return false;
    nb_tokenizer_print_vocab(tok, mem);
    fclose(mem);
    vocab[strcspn(vocab, "\n")] = '\0';
    return !strcmp(vocab, notes);
}

static nb_tokenizer *fit(int n, const char *oov)
{
    nb_tokenizer_opts o = nb_tokenizer_defaults();
    o.oov_token = oov;
    nb_tokenizer *tok = nb_tokenizer_new(&o);
    if (tok && nb_tokenizer_fit(tok, n, SENTENCES) == NB_OK)
        return tok;
    fprintf(stderr, "tokenizer_demo: %s\n", nb_last_error());
    nb_tokenizer_free(tok);
    return NULL;
}

/* Notes 001, "Embeddings": one-hot columns for Gato / Perro / Caballo, 950 animals or 10,000
 * words, against a small embedding. An embedding lookup is the one-hot row times a weight
 * matrix: checked here on the notes' column Gato, Perro, Gato, Caballo. Returns false on an
 * error. */
static bool embeddings(void)
{
    printf("\nnotes 001, Embeddings: one-hot size vs embedding size (dimension 16)\n");
    printf("  %-22s %10s %22s\n", "variable", "one-hot", "embedding parameters");
    const struct {
        const char *what;
        int64_t n;
    } cases[3] = {
        {"Gato/Perro/Caballo", 3}, {"950 animals", 950}, {"10.000-word vocabulary", 10000}};
    nb_rng rng = nb_rng_seed(1);
    for (int i = 0; i < 3; i++) {
        nb_module *e = nb_embedding_new(cases[i].n, 16, &rng);
        if (!e)
            return false;
        printf("  %-22s %10lld %22lld   (each value: %lld numbers, mostly 0 -> 16)\n",
               cases[i].what, (long long)cases[i].n, (long long)nb_module_num_params(e),
               (long long)cases[i].n);
        nb_module_free(e);
    }
    /* the notes' column: Gato, Perro, Gato, Caballo -> ids 0, 1, 0, 2 */
    nb_module *e = nb_embedding_new(3, 4, &rng);
    nb_step *step = nb_step_new();
    bool ok = e && step && nb_step_begin(step) == NB_OK;
    if (ok) {
        nb_tensor *ids = nb_tensor_from_data(NB_I64, 1, (int64_t[]){4}, (int64_t[]){0, 1, 0, 2});
        nb_tensor *oh = ids ? nb_one_hot(ids, 3, NB_F32) : NULL;
        nb_tensor *via_lookup = ids ? nb_module_forward(e, ids) : NULL;
        nb_tensor *via_matmul = oh ? nb_matmul(oh, nb_module_param(e, "weight")) : NULL;
        ok = via_lookup && via_matmul;
        double diff = 0;
        for (int i = 0; ok && i < 16; i++)
            diff = fmax(diff, fabs(nb_tensor_get(via_lookup, i) - nb_tensor_get(via_matmul, i)));
        if (ok) {
            printf("  one-hot of Gato, Perro, Gato, Caballo (the notes' table):\n");
            for (int r = 0; r < 4; r++)
                printf("    [%g %g %g]\n", nb_tensor_get(oh, 3 * r), nb_tensor_get(oh, 3 * r + 1),
                       nb_tensor_get(oh, 3 * r + 2));
            printf("  embedding lookup = one-hot x weight matrix: max |difference| = %g\n", diff);
        }
        nb_tensor_free(ids);
        nb_step_end(step);
    }
    nb_step_free(step);
    nb_module_free(e);
    return ok;
}

int main(int argc, char **argv)
{
    int maxlen = 0;
    bool post = false, truncate_post = false, check = false;
    ex_opt opts[] = {
        {"maxlen", EX_OPT_INT, &maxlen, "row length (0: the longest sentence)"},
        {"post", EX_OPT_FLAG, &post, "pad after the words instead of before"},
        {"truncate-post", EX_OPT_FLAG, &truncate_post, "cut long sentences at the end"},
        {"check", EX_OPT_FLAG, &check, "compare with the notes' vocabulary, sequences and matrix"},
    };
    ex_args_result ar = ex_parse_args(&PROG, opts, 4, argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (maxlen < 0)
        return ex_usage_error(&PROG, "--maxlen must be >= 0");

    /* 001 "TOKENIZAR": three sentences, no OOV token. */
    nb_tokenizer *tok3 = fit(3, NULL);
    nb_tokenizer *tok = fit(4, "<OOV>");
    if (!tok3 || !tok) {
        nb_tokenizer_free(tok3);
        nb_tokenizer_free(tok);
        return 1;
    }
    printf("notes 001, TOKENIZAR: the first three sentences, no OOV token\n");
    for (int i = 0; i < 3; i++)
        printf("  \"%s\"\n", SENTENCES[i]);
    printf("word index (%lld words; id 0 is padding):\n  ",
           (long long)nb_tokenizer_vocab_size(tok3) - 1);
    nb_tokenizer_print_vocab(tok3, stdout);
    printf("  notes: %s\n", NOTES_VOCAB3);
    bool vocab3_ok = vocab_matches(tok3, NOTES_VOCAB3);
    printf("sequences:\n");
    bool seq3_ok = print_sequences(tok3, 3, &NOTES_SEQ3[0][0], 5);

    /* 001 "PADDING": four sentences; the notes' ids start at 2 because the OOV token is 1. */
    printf("\nnotes 001, PADDING: all four sentences, OOV token '<OOV>' = 1 (every word id one\n"
           "higher than above: the notes' tokenizer was made with an OOV token)\n");
    for (int i = 0; i < 4; i++)
        printf("  \"%s\"\n", SENTENCES[i]);
    printf("word index (%lld entries with <OOV>; id 0 is padding):\n  ",
           (long long)nb_tokenizer_vocab_size(tok) - 1);
    nb_tokenizer_print_vocab(tok, stdout);
    printf("sequences:\n");
    bool seq4_ok = print_sequences(tok, 4, &NOTES_SEQ4[0][0], 8);

    nb_pad_opts pad = nb_pad_defaults();
    pad.maxlen = maxlen;
    pad.padding = post ? NB_PAD_POST : NB_PAD_PRE;
    pad.truncating = truncate_post ? NB_PAD_POST : NB_PAD_PRE;
    nb_tensor *padded = nb_tokenizer_encode_padded(tok, 4, SENTENCES, &pad);
    if (!padded) {
        fprintf(stderr, "tokenizer_demo: %s\n", nb_last_error());
        nb_tokenizer_free(tok3);
        nb_tokenizer_free(tok);
        return 1;
    }
    char shape[32];
    printf("\npadded (%s padding, %s truncation, %s, i64):\n", post ? "post" : "pre",
           truncate_post ? "post" : "pre", nb_tensor_shape_str(padded, shape, sizeof shape));
    print_matrix(padded);
    const bool default_pad = !maxlen && !post && !truncate_post;
    bool matrix_ok = default_pad && nb_tensor_dim(padded, 0) == 4 && nb_tensor_dim(padded, 1) == 8;
    for (int i = 0; matrix_ok && i < 4; i++)
        for (int j = 0; j < 8; j++)
            matrix_ok =
                matrix_ok && (int64_t)nb_tensor_get(padded, i * 8 + j) == NOTES_PADDED[i][j];
    if (default_pad) {
        printf("notes:\n");
        for (int i = 0; i < 4; i++) {
            printf("  [");
            for (int j = 0; j < 8; j++)
                printf("%s%2lld", j ? " " : "", (long long)NOTES_PADDED[i][j]);
            printf("]\n");
        }
    }

    /* unseen words map to the OOV token */
    const char *const unseen[2] = {"today is a snowy day", "my dog enjoyed the sunny walk"};
    nb_tensor *u =
        nb_tokenizer_encode_padded(tok, 2, unseen, &(nb_pad_opts){.padding = NB_PAD_POST});
    if (!u) {
        fprintf(stderr, "tokenizer_demo: %s\n", nb_last_error());
    } else {
        printf("\nunseen sentences (unknown words become <OOV> = 1):\n");
        for (int i = 0; i < 2; i++)
            printf("  \"%s\"\n", unseen[i]);
        print_matrix(u);
        int64_t row[8];
        for (int j = 0; j < nb_tensor_dim(u, 1) && j < 8; j++)
            row[j] = (int64_t)nb_tensor_get(u, nb_tensor_dim(u, 1) + j);
        char back[128];
        nb_tokenizer_decode(tok, row, nb_tensor_dim(u, 1), back, sizeof back);
        printf("  decoded row 2: \"%s\"\n", back);
    }

    int status = u && embeddings() ? 0 : 1;
    if (check) {
        printf("\ncheck against the notes: TOKENIZAR vocabulary %s, sequences %s; PADDING "
               "sequences %s, padded matrix %s\n",
               vocab3_ok ? "matches" : "MISMATCH", seq3_ok ? "match" : "MISMATCH",
               seq4_ok ? "match" : "MISMATCH",
               matrix_ok     ? "matches"
               : default_pad ? "MISMATCH"
                             : "not checked (custom padding)");
        if (!vocab3_ok || !seq3_ok || !seq4_ok || !matrix_ok)
            status = 1;
    }
    nb_tensor_free(u);
    nb_tensor_free(padded);
    nb_tokenizer_free(tok3);
    nb_tokenizer_free(tok);
    return status;
}
