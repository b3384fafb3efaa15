/* examples/count_weights.c — "count the weights": build the fully connected network
 * 1000-300-100-50-20-5-1 (ReLU between layers) from real Linear modules and let the library
 * count its parameters: per layer (weights and biases) and in total. Every number printed comes
 * from the modules' parameter tensors (nb_module_num_params, nb_tensor_numel), not from a
 * formula; --check compares the total with the exercise's answer, 336,581. */
#include <stdio.h>
#include <stdlib.h>

#include "common/cli.h"
#include "common/util.h"
#include "nabla.h"

#define MAX_SIZES 32

static const int64_t COURSE_SIZES[7] = {1000, 300, 100, 50, 20, 5, 1};
/* The exercise's answer: 1000*300+300 + 300*100+100 + 100*50+50 + 50*20+20 + 20*5+5 + 5*1+1. */
static const int64_t COURSE_TOTAL = 336581;

/* Notes 004, 7.3: a 1000x1000 image with 3 channels into a layer of 1000 units. */
static const int64_t NOTES_004_SIZES[2] = {3000000, 1000};
static const int64_t NOTES_004_CLAIM = 1000000000; /* "10^9 pesos", a slip: 3 channels */
/* Notes 002, sharing: half (rounded down) of each layer's units share one weight vector, so a
 * layer of n units has n - n/2 + 1 distinct vectors (n when n/2 is 0). Worked by hand for the
 * course network: 151*1001 + 51*301 + 26*101 + 11*51 + 4*21 + 1*6. */
static const int64_t COURSE_SHARED_TOTAL = 169779;

static const ex_program PROG = {
    .name = "count_weights",
    .notes = "notes 002 (sheet): weights of 1000-300-100-50-20-5-1 and with shared halves; notes "
             "004: the 1000x1000x3 image into 1000 units",
    .summary = "count the weights and biases of a fully connected network",
    .details = "Builds Linear layers of the given widths (input first; default the course's\n"
               "1000 300 100 50 20 5 1) with ReLU between them, and prints each layer's\n"
               "weights, biases and total as the library counts them, the network total and\n"
               "nb_module_summary's table. --check (course network only) compares the total\n"
               "with the exercise's answer 336581 and exits with status 1 on a mismatch.\n"
               "Notes 002 (\"Dimension\" and \"Problemas de generalizacion\"): --shared-halves\n"
               "counts the same network when half the units of each layer share one weight\n"
               "vector (with --check: 169779). Notes 004, 7.3: --formula alone counts a\n"
               "1000x1000x3 image into 1000 units without building it (3 000 001 000; the notes\n"
               "say 10^9, a slip: 3 channels). --formula WIDTH ... counts any widths.\n",
    .positional = "[WIDTH ...]",
    .max_positional = MAX_SIZES,
};

/* Count by formula (nothing is built: the 004 case would need 12 GB of float32). */
static int count_by_formula(int n, const int64_t *sizes, bool bias, bool shared, bool image_case,
                            bool check)
{
    printf("%s:", shared ? "formula, half of each layer's units sharing one weight vector"
                         : "formula, every unit with its own weights");
    for (int l = 0; l < n; l++)
        printf("%s%lld", l ? "-" : " ", (long long)sizes[l]);
    printf(" (%s)\n\n%-8s %-18s %16s %14s\n", bias ? "with biases" : "no biases", "layer", "shape",
           "distinct vectors", "parameters");
    int64_t total = 0;
    for (int l = 0; l + 1 < n; l++) {
        const int64_t out = sizes[l + 1], half = shared ? out / 2 : 0;
        const int64_t vectors = out - half + (half > 0);
        const int64_t params = vectors * (sizes[l] + (bias ? 1 : 0));
        char shape[48];
        snprintf(shape, sizeof shape, "%lld -> %lld", (long long)sizes[l], (long long)out);
        printf("%-8d %-18s %16lld %14lld\n", l + 1, shape, (long long)vectors, (long long)params);
        total += params;
    }
    printf("\ntotal parameters: %lld\n", (long long)total);
    if (image_case)
        printf("notes 004 say 10^9 weights for this layer: that is 10^6 pixels x 10^3 units, one\n"
               "channel; with 3 channels the weights are 3 x 10^9 = %lld (plus %lld biases)\n",
               (long long)(sizes[0] * sizes[1]), (long long)(bias ? sizes[1] : 0));
    if (!check)
        return 0;
    const int64_t want = image_case ? 3 * NOTES_004_CLAIM + (bias ? 1000 : 0) : COURSE_SHARED_TOTAL;
    const bool ok = total == want && (image_case || (shared && bias && n == 7));
    printf("\ncheck: total %lld, worked by hand %lld: %s\n", (long long)total, (long long)want,
           ok ? "match" : "MISMATCH");
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    bool check = false, no_bias = false, shared = false, formula = false;
    uint64_t seed = 1;
    ex_opt opts[] = {
        {"check", EX_OPT_FLAG, &check, "compare the total with the exercise's answer"},
        {"no-bias", EX_OPT_FLAG, &no_bias, "layers without bias terms"},
        {"seed", EX_OPT_U64, &seed, "seed of the parameter initialisation"},
        {"shared-halves", EX_OPT_FLAG, &shared, "002: half the units of each layer share weights"},
        {"formula", EX_OPT_FLAG, &formula,
         "count by formula, without building (default: 004's 1000x1000x3 image -> 1000)"},
    };
    char *pos[MAX_SIZES];
    int n_pos = 0;
    ex_args_result ar = ex_parse_args(&PROG, opts, 5, argc, argv, pos, &n_pos);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;

    int64_t sizes[MAX_SIZES];
    const bool image_case = formula && !n_pos;
    const int n_sizes = n_pos ? n_pos : image_case ? 2 : 7;
    for (int i = 0; i < n_sizes; i++) {
        if (!n_pos) {
            sizes[i] = image_case ? NOTES_004_SIZES[i] : COURSE_SIZES[i];
            continue;
        }
        char *end = NULL;
        long long v = strtoll(pos[i], &end, 10);
        if (end == pos[i] || *end || v < 1)
            return ex_usage_error(&PROG, "width '%s' is not a positive integer", pos[i]);
        sizes[i] = v;
    }
    if (n_sizes < 2)
        return ex_usage_error(&PROG, "give at least two widths (inputs and outputs)");
    if (check && (n_pos || no_bias))
        return ex_usage_error(&PROG, "--check counts the course network: no WIDTH, no --no-bias");
    if (formula || shared)
        return count_by_formula(n_sizes, sizes, !no_bias, shared, image_case, check);

    /* Linear, ReLU, Linear, ReLU, ..., Linear */
    nb_rng rng = nb_rng_seed(seed);
    nb_module *net = nb_sequential_new(0, NULL);
    for (int l = 0; net && l + 1 < n_sizes; l++) {
        if (nb_sequential_append(net, nb_linear_new(sizes[l], sizes[l + 1], !no_bias, &rng)) !=
                NB_OK ||
            (l + 2 < n_sizes && nb_sequential_append(net, nb_relu_new()) != NB_OK)) {
            nb_module_free(net);
            net = NULL;
        }
    }
    if (!net)
        return ex_fail(PROG.name, "building the network");

    printf("network:");
    for (int l = 0; l < n_sizes; l++)
        printf("%s%lld", l ? "-" : " ", (long long)sizes[l]);
    printf(" (%s, ReLU between layers)\n\n", no_bias ? "no biases" : "with biases");
    printf("%-8s %-14s %10s %10s %10s\n", "layer", "shape", "weights", "biases", "total");
    int layer = 0;
    for (int i = 0; i < nb_module_num_children(net); i++) {
        nb_module *m = nb_module_child_at(net, i);
        if (nb_module_num_params(m) == 0)
            continue; /* ReLU */
        nb_tensor *w = nb_module_param(m, "weight");
        nb_tensor *b = nb_module_has_param(m, "bias") ? nb_module_param(m, "bias") : NULL;
        char shape[48];
        snprintf(shape, sizeof shape, "%lld -> %lld", (long long)nb_tensor_dim(w, 1),
                 (long long)nb_tensor_dim(w, 0));
        printf("%-8d %-14s %10lld %10lld %10lld\n", ++layer, shape, (long long)nb_tensor_numel(w),
               (long long)(b ? nb_tensor_numel(b) : 0), (long long)nb_module_num_params(m));
    }
    const int64_t total = nb_module_num_params(net);
    printf("\ntotal parameters: %lld\n\n", (long long)total);
    nb_module_summary(net, stdout);
    nb_module_free(net);

    if (check) {
        const bool ok = total == COURSE_TOTAL;
        printf("\ncheck: library total %lld, exercise answer %lld: %s\n", (long long)total,
               (long long)COURSE_TOTAL, ok ? "match" : "MISMATCH");
        return ok ? 0 : 1;
    }
    return 0;
}
