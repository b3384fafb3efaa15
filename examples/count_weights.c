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

static const ex_program PROG = {
    .name = "count_weights",
    .summary = "count the weights and biases of a fully connected network",
    .details = "Builds Linear layers of the given widths (input first; default the course's\n"
               "1000 300 100 50 20 5 1) with ReLU between them, and prints each layer's\n"
               "weights, biases and total as the library counts them, the network total and\n"
               "nb_module_summary's table. --check (course network only) compares the total\n"
               "with the exercise's answer 336581 and exits with status 1 on a mismatch.\n",
    .positional = "[WIDTH ...]",
    .max_positional = MAX_SIZES,
};

int main(int argc, char **argv)
{
    bool check = false, no_bias = false;
    uint64_t seed = 1;
    ex_opt opts[] = {
        {"check", EX_OPT_FLAG, &check, "compare the total with the exercise's answer"},
        {"no-bias", EX_OPT_FLAG, &no_bias, "layers without bias terms"},
        {"seed", EX_OPT_U64, &seed, "seed of the parameter initialisation"},
    };
    char *pos[MAX_SIZES];
    int n_pos = 0;
    ex_args_result ar = ex_parse_args(&PROG, opts, 3, argc, argv, pos, &n_pos);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;

    int64_t sizes[MAX_SIZES];
    const int n_sizes = n_pos ? n_pos : 7;
    for (int i = 0; i < n_sizes; i++) {
        if (!n_pos) {
            sizes[i] = COURSE_SIZES[i];
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
