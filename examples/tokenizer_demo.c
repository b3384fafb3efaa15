/* examples/tokenizer_demo.c — words to ids: the course's four sentences through the word
 * tokenizer (include/nabla/text.h).
 *
 * The vocabulary is built from the sentences: lower-cased words, punctuation dropped, ids by
 * descending count and then first appearance, starting at 1 (0 is the padding id). Then the
 * sentences become rows of ids, padded (before, to the longest, by default) into one NB_I64
 * matrix, and new sentences are encoded with an out-of-vocabulary token. --check compares the
 * vocabulary and the padded matrix with the course's answers and exits 1 on a mismatch. */
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

/* The course's answers. */
static const char *const COURSE_VOCAB =
    "{'today': 1, 'is': 2, 'a': 3, 'sunny': 4, 'day': 5, 'rainy': 6, 'it': 7, 'i': 8, "
    "'really': 9, 'enjoyed': 10, 'walking': 11, 'in': 12, 'the': 13, 'snow': 14}";
static const int64_t COURSE_PADDED[4][8] = {{0, 0, 0, 1, 2, 3, 4, 5},
                                            {0, 0, 0, 1, 2, 3, 6, 5},
                                            {0, 0, 0, 0, 2, 7, 4, 1},
                                            {8, 9, 10, 11, 12, 13, 14, 1}};

static const ex_program PROG = {
    .name = "tokenizer_demo",
    .summary = "word tokenizer: vocabulary, id sequences and padding of the course's sentences",
    .details = "Prints the vocabulary, each sentence as ids, and the padded id matrix (default:\n"
               "pre-padding to the longest sentence with id 0), then encodes unseen sentences\n"
               "with the OOV token '<OOV>'. --maxlen, --post and --truncate-post change the\n"
               "padding. --check (default padding only) compares the vocabulary and the matrix\n"
               "with the course's answers.\n",
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

int main(int argc, char **argv)
{
    int maxlen = 0;
    bool post = false, truncate_post = false, check = false;
    ex_opt opts[] = {
        {"maxlen", EX_OPT_INT, &maxlen, "row length (0: the longest sentence)"},
        {"post", EX_OPT_FLAG, &post, "pad after the words instead of before"},
        {"truncate-post", EX_OPT_FLAG, &truncate_post, "cut long sentences at the end"},
        {"check", EX_OPT_FLAG, &check, "compare with the course's vocabulary and matrix"},
    };
    ex_args_result ar = ex_parse_args(&PROG, opts, 4, argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (maxlen < 0)
        return ex_usage_error(&PROG, "--maxlen must be >= 0");

    nb_tokenizer *tok = nb_tokenizer_new(NULL);
    if (!tok || nb_tokenizer_fit(tok, 4, SENTENCES) != NB_OK) {
        fprintf(stderr, "tokenizer_demo: %s\n", nb_last_error());
        nb_tokenizer_free(tok);
        return 1;
    }
    printf("sentences:\n");
    for (int i = 0; i < 4; i++)
        printf("  \"%s\"\n", SENTENCES[i]);
    printf("\nword index (%lld words; id 0 is padding):\n  ",
           (long long)nb_tokenizer_vocab_size(tok) - 1);
    nb_tokenizer_print_vocab(tok, stdout);

    printf("\nsequences:\n");
    for (int i = 0; i < 4; i++) {
        int64_t ids[16];
        int64_t n = nb_tokenizer_encode(tok, SENTENCES[i], ids, 16);
        printf("  [");
        for (int64_t j = 0; j < n && j < 16; j++)
            printf("%s%lld", j ? ", " : "", (long long)ids[j]);
        printf("]\n");
    }

    nb_pad_opts pad = nb_pad_defaults();
    pad.maxlen = maxlen;
    pad.padding = post ? NB_PAD_POST : NB_PAD_PRE;
    pad.truncating = truncate_post ? NB_PAD_POST : NB_PAD_PRE;
    nb_tensor *padded = nb_tokenizer_encode_padded(tok, 4, SENTENCES, &pad);
    if (!padded) {
        fprintf(stderr, "tokenizer_demo: %s\n", nb_last_error());
        nb_tokenizer_free(tok);
        return 1;
    }
    char shape[32];
    printf("\npadded (%s padding, %s truncation, %s, i64):\n", post ? "post" : "pre",
           truncate_post ? "post" : "pre", nb_tensor_shape_str(padded, shape, sizeof shape));
    print_matrix(padded);

    /* unseen words with an OOV token */
    nb_tokenizer_opts oo = nb_tokenizer_defaults();
    oo.oov_token = "<OOV>";
    nb_tokenizer *tok2 = nb_tokenizer_new(&oo);
    const char *const unseen[2] = {"today is a snowy day", "my dog enjoyed the sunny walk"};
    nb_tensor *u = NULL;
    if (tok2 && nb_tokenizer_fit(tok2, 4, SENTENCES) == NB_OK)
        u = nb_tokenizer_encode_padded(tok2, 2, unseen, &(nb_pad_opts){.padding = NB_PAD_POST});
    if (!u) {
        fprintf(stderr, "tokenizer_demo: %s\n", nb_last_error());
    } else {
        printf("\nwith an OOV token:\n  ");
        nb_tokenizer_print_vocab(tok2, stdout);
        for (int i = 0; i < 2; i++)
            printf("  \"%s\"\n", unseen[i]);
        print_matrix(u);
        int64_t row[8];
        for (int j = 0; j < nb_tensor_dim(u, 1) && j < 8; j++)
            row[j] = (int64_t)nb_tensor_get(u, nb_tensor_dim(u, 1) + j);
        char back[128];
        nb_tokenizer_decode(tok2, row, nb_tensor_dim(u, 1), back, sizeof back);
        printf("  decoded row 2: \"%s\"\n", back);
    }

    int status = u ? 0 : 1;
    if (check) {
        bool default_pad = !maxlen && !post && !truncate_post;
        char vocab[512];
        FILE *mem = fmemopen(vocab, sizeof vocab, "w");
        nb_tokenizer_print_vocab(tok, mem);
        fclose(mem);
        vocab[strcspn(vocab, "\n")] = '\0';
        bool vocab_ok = !strcmp(vocab, COURSE_VOCAB);
        bool matrix_ok =
            default_pad && nb_tensor_dim(padded, 0) == 4 && nb_tensor_dim(padded, 1) == 8;
        for (int i = 0; matrix_ok && i < 4; i++)
            for (int j = 0; j < 8; j++)
                matrix_ok =
                    matrix_ok && (int64_t)nb_tensor_get(padded, i * 8 + j) == COURSE_PADDED[i][j];
        printf("\ncheck: vocabulary %s, padded matrix %s\n", vocab_ok ? "matches" : "MISMATCH",
               matrix_ok     ? "matches"
               : default_pad ? "MISMATCH"
                             : "not checked (custom padding)");
        if (!vocab_ok || !matrix_ok)
            status = 1;
    }
    nb_tensor_free(u);
    nb_tensor_free(padded);
    nb_tokenizer_free(tok2);
    nb_tokenizer_free(tok);
    return status;
}
