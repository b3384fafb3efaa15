/* examples/embedding_projector.c — learn word embeddings and export them for a projector.
 *
 * A generated corpus of short sentences ("two red cats run to the river") uses 30 words in five
 * groups (numbers, colours, animals, verbs, places); each sentence slot takes a word of one
 * group. A skip-gram model (Mikolov et al. 2013) learns a vector per word: nb_embedding_new
 * maps a word to its vector, a linear layer scores every word of the vocabulary as a neighbour
 * within --window positions, and cross-entropy trains both. Words of one group appear in the
 * same contexts, so their vectors end up close together, which the program measures (the
 * nearest neighbour by cosine similarity is in the same group for most words).
 *
 * The vectors are written in the format of the TensorFlow Embedding Projector
 * (projector.tensorflow.org, "Load"): PREFIX_vectors.tsv holds one row per word with --dim
 * tab-separated numbers, PREFIX_metadata.tsv a header "word<TAB>group" and one row per word in
 * the same order. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/util.h"
#include "nabla.h"

enum { GROUPS = 5, PER_GROUP = 6, VOCAB = GROUPS * PER_GROUP + 3, SLOTS = 8 };

static const char *const GROUP_NAMES[GROUPS] = {"number", "colour", "animal", "verb", "place"};
static const char *const WORDS[VOCAB] = {
    "one",   "two",    "three", "four",  "five",   "six",    /* numbers */
    "red",   "green",  "blue",  "black", "white",  "yellow", /* colours */
    "cats",  "dogs",   "cows",  "birds", "horses", "sheep",  /* animals */
    "run",   "walk",   "jump",  "swim",  "fly",    "crawl",  /* verbs */
    "river", "forest", "city",  "farm",  "field",  "hill",   /* places */
    "to",    "the",    "."};                                 /* function words */

/* Group of word w, or -1 for a function word. */
static int group_of(int w)
{
    return w < GROUPS * PER_GROUP ? w / PER_GROUP : -1;
}

static const ex_program PROG = {
    .name = "embedding_projector",
    .notes = "notes 001 (slides), embeddings: word2vec and the projector",
    .summary = "train word embeddings on a generated corpus and export them as TSV for a projector",
    .details =
        "Generates --sentences sentences \"<number> <colour> <animal> <verb> to the <place> .\"\n"
        "(30 content words in 5 groups), trains a skip-gram model (embedding of size --dim,\n"
        "linear scores over the vocabulary, cross-entropy; pairs within --window positions,\n"
        "Adam at --lr, --steps steps of --batch pairs) and prints, for every content word, its\n"
        "nearest neighbour by cosine similarity. Writes PREFIX_vectors.tsv (one row of --dim\n"
        "numbers per word) and PREFIX_metadata.tsv (header word<TAB>group, one row per word),\n"
        "which the TensorFlow Embedding Projector and similar tools load (--out PREFIX).\n"
        "--check exits with status 1 unless the files have the expected shape and the nearest\n"
        "neighbour of at least --min-same of the content words is in the same group.\n",
};

/* Rows and tab-separated columns of a TSV file; false when it cannot be read or rows differ. */
static bool tsv_shape(const char *path, int *rows, int *cols)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    int c, n_cols = 1, first = -1;
    bool ok = true, empty_line = true;
    *rows = 0;
    while ((c = fgetc(f)) != EOF) {
        if (c == '\t')
            n_cols++;
        if (c == '\n') {
            if (first < 0)
                first = n_cols;
            else if (n_cols != first)
                ok = false;
            (*rows)++;
            n_cols = 1;
            empty_line = true;
        } else {
            empty_line = false;
        }
    }
    if (!empty_line)
        ok = false; /* last line without a newline */
    fclose(f);
    *cols = first;
    return ok && first > 0;
}

int main(int argc, char **argv)
{
    int n_sent = 2000, dim = 8, window = 2, steps = 1500, batch = 128;
    double lr = 0.01, min_same = 0.8;
    uint64_t seed = 1;
    const char *out = "embedding_projector";
    bool check = false;
    ex_opt opts[] = {
        {"sentences", EX_OPT_INT, &n_sent, "generated sentences"},
        {"dim", EX_OPT_INT, &dim, "embedding size"},
        {"window", EX_OPT_INT, &window, "context positions on each side"},
        {"steps", EX_OPT_INT, &steps, "Adam steps"},
        {"batch", EX_OPT_INT, &batch, "(word, context) pairs per step"},
        {"lr", EX_OPT_DOUBLE, &lr, "Adam learning rate"},
        {"out", EX_OPT_STRING, &out, "prefix of the two TSV files"},
        {"seed", EX_OPT_U64, &seed, "seed of the corpus, the weights and the batches"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless files and neighbours are as expected"},
        {"min-same", EX_OPT_DOUBLE, &min_same, "fraction of same-group nearest neighbours"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (n_sent < 1 || dim < 1 || window < 1 || window >= SLOTS || steps < 1 || batch < 1 ||
        lr <= 0 || min_same < 0 || min_same > 1)
        return ex_usage_error(&PROG,
                              "need positive --sentences, --dim, --steps, --batch, --lr, "
                              "--window in [1, %d], --min-same in [0, 1]",
                              SLOTS - 1);

    /* Corpus: every sentence has the same 8 slots; pairs (centre, context) within the window. */
    nb_rng rng = nb_rng_seed(seed);
    const int64_t max_pairs = (int64_t)n_sent * SLOTS * 2 * window;
    int64_t *centre = malloc((size_t)max_pairs * sizeof *centre);
    int64_t *context = malloc((size_t)max_pairs * sizeof *context);
    int64_t *bx = malloc((size_t)batch * sizeof *bx), *by = malloc((size_t)batch * sizeof *by);
    nb_module *emb = nb_embedding_new(VOCAB, dim, &rng);
    nb_module *net =
        emb ? nb_sequential_new(2, (nb_module *[]){emb, nb_linear_new(dim, VOCAB, true, &rng)})
            : NULL;
    nb_adam_opts ao = nb_adam_defaults();
    ao.lr = lr;
    nb_optim *opt = net ? nb_adam_new(net, &ao) : NULL;
    nb_step *step = nb_step_new();
    int status = 0;
    if (!centre || !context || !bx || !by || !opt || !step) {
        status = ex_fail(PROG.name, "setup");
        goto done;
    }
    int64_t n_pairs = 0;
    char example[128] = "";
    for (int s = 0; s < n_sent; s++) {
        int sent[SLOTS];
        for (int g = 0; g < 4; g++)
            sent[g] = g * PER_GROUP + (int)nb_rng_below(&rng, PER_GROUP);
        sent[4] = VOCAB - 3; /* to */
        sent[5] = VOCAB - 2; /* the */
        sent[6] = 4 * PER_GROUP + (int)nb_rng_below(&rng, PER_GROUP);
        sent[7] = VOCAB - 1; /* . */
        if (s == 0)
            for (int k = 0; k < SLOTS; k++)
                snprintf(example + strlen(example), sizeof example - strlen(example), "%s%s",
                         k ? " " : "", WORDS[sent[k]]);
        for (int i = 0; i < SLOTS; i++)
            for (int j = i - window; j <= i + window; j++)
                if (j >= 0 && j < SLOTS && j != i) {
                    centre[n_pairs] = sent[i];
                    context[n_pairs++] = sent[j];
                }
    }
    printf("Word embeddings by skip-gram on a generated corpus: %d sentences like \"%s\",\n"
           "%lld (word, context) pairs within %d positions, vocabulary %d, vectors of size %d.\n"
           "Words of one group share their contexts, so their vectors should cluster.\n\n",
           n_sent, example, (long long)n_pairs, window, VOCAB, dim);

    double window_loss = 0;
    for (int it = 1; it <= steps; it++) {
        for (int k = 0; k < batch; k++) {
            const int64_t p = (int64_t)nb_rng_below(&rng, (uint64_t)n_pairs);
            bx[k] = centre[p];
            by[k] = context[p];
        }
        nb_tensor *x = nb_tensor_from_data(NB_I64, 1, (int64_t[]){batch}, bx);
        nb_tensor *y = nb_tensor_from_data(NB_I64, 1, (int64_t[]){batch}, by);
        nb_step_begin(step);
        nb_optim_zero_grad(opt);
        nb_tensor *loss = nb_cross_entropy(nb_module_forward(net, x), y, NB_REDUCE_MEAN);
        nb_status st = loss ? nb_backward(loss) : nb_last_status();
        if (st == NB_OK) {
            window_loss += nb_tensor_item(loss);
            st = nb_optim_update(opt);
        }
        nb_step_end(step);
        nb_tensor_free(x);
        nb_tensor_free(y);
        if (st != NB_OK) {
            status = ex_fail(PROG.name, "training");
            goto done;
        }
        const int every = steps >= 5 ? steps / 5 : 1;
        if (it % every == 0) {
            printf("  step %5d  mean loss %.4f\n", it, window_loss / every);
            window_loss = 0;
        }
    }
    printf("  (a perfect model still has loss > 0: a context slot allows 6 equally likely "
           "words)\n\n");

    /* Nearest neighbours by cosine similarity among the content words. */
    nb_tensor *w = nb_module_param(net, "0.weight"); /* [VOCAB, dim] */
    const float *e = nb_tensor_data_f32(w);
    double norm[VOCAB];
    for (int a = 0; a < VOCAB; a++) {
        double s = 0;
        for (int d = 0; d < dim; d++)
            s += (double)e[a * dim + d] * e[a * dim + d];
        norm[a] = sqrt(s) + 1e-12;
    }
    int same = 0;
    const int n_content = GROUPS * PER_GROUP;
    printf("  word     group    nearest (cosine)\n");
    for (int a = 0; a < n_content; a++) {
        int best = -1;
        double best_cos = -2;
        for (int b = 0; b < n_content; b++) {
            if (b == a)
                continue;
            double dot = 0;
            for (int d = 0; d < dim; d++)
                dot += (double)e[a * dim + d] * e[b * dim + d];
            const double c = dot / (norm[a] * norm[b]);
            if (c > best_cos) {
                best_cos = c;
                best = b;
            }
        }
        same += group_of(best) == group_of(a);
        printf("  %-8s %-8s %-8s (%.3f)%s\n", WORDS[a], GROUP_NAMES[group_of(a)], WORDS[best],
               best_cos, group_of(best) == group_of(a) ? "" : "   other group");
    }
    const double frac_same = (double)same / n_content;
    printf("\n  nearest neighbour in the same group: %d of %d words (%.0f%%; a random vector "
           "would\n  give about %.0f%%)\n",
           same, n_content, 100 * frac_same, 100.0 * (PER_GROUP - 1) / (n_content - 1));

    /* The projector files. */
    char vec_path[512], meta_path[512];
    snprintf(vec_path, sizeof vec_path, "%s_vectors.tsv", out);
    snprintf(meta_path, sizeof meta_path, "%s_metadata.tsv", out);
    FILE *fv = fopen(vec_path, "w"), *fm = fopen(meta_path, "w");
    bool wrote = fv && fm;
    if (wrote) {
        fprintf(fm, "word\tgroup\n");
        for (int a = 0; a < VOCAB; a++) {
            for (int d = 0; d < dim; d++)
                fprintf(fv, "%s%.6g", d ? "\t" : "", (double)e[a * dim + d]);
            fprintf(fv, "\n");
            fprintf(fm, "%s\t%s\n", WORDS[a],
                    group_of(a) >= 0 ? GROUP_NAMES[group_of(a)] : "other");
        }
    }
    if (fv && fclose(fv) != 0)
        wrote = false;
    if (fm && fclose(fm) != 0)
        wrote = false;
    if (!wrote) {
        fprintf(stderr, "%s: cannot write %s / %s\n", PROG.name, vec_path, meta_path);
        status = 1;
        goto done;
    }
    printf("  wrote %s (%d rows x %d columns) and %s (header + %d rows)\n", vec_path, VOCAB, dim,
           meta_path, VOCAB);
    printf("  load both in the TensorFlow Embedding Projector (Load -> vectors, metadata)\n");

    if (check) {
        int failures = 0, rows = 0, cols = 0;
        printf("\n");
        const bool v_ok = tsv_shape(vec_path, &rows, &cols) && rows == VOCAB && cols == dim;
        printf("  check %s: %d rows x %d columns (want %d x %d): %s\n", vec_path, rows, cols, VOCAB,
               dim, v_ok ? "ok" : "MISMATCH");
        const bool m_ok = tsv_shape(meta_path, &rows, &cols) && rows == VOCAB + 1 && cols == 2;
        printf("  check %s: %d rows x %d columns (want %d x 2): %s\n", meta_path, rows, cols,
               VOCAB + 1, m_ok ? "ok" : "MISMATCH");
        const bool n_ok = frac_same >= min_same;
        printf("  check same-group nearest neighbours %.0f%% >= %.0f%%: %s\n", 100 * frac_same,
               100 * min_same, n_ok ? "ok" : "MISMATCH");
        failures = !v_ok + !m_ok + !n_ok;
        printf("%s\n", failures ? "the export is not as expected" : "embeddings exported");
        status = failures ? 1 : 0;
    }

done:
    nb_step_free(step);
    nb_optim_free(opt);
    nb_module_free(net);
    free(centre);
    free(context);
    free(bx);
    free(by);
    return status;
}
