/* examples/count_weights.c — "count the weights": build the fully connected network
 * 1000-300-100-50-20-5-1 from real modules and let the library count its parameters, per layer
 * (weights and biases) and in total. The counts come from the modules' parameter tensors, not
 * from a formula. */
#include <nabla.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LAYERS 32

static void usage(const char *prog)
{
    printf("usage: %s [--sizes N0,N1,...] [--no-bias] [--seed S]\n"
           "Builds a fully connected network (Linear layers with ReLU between them) and prints\n"
           "the number of weights and biases of each layer and the total.\n"
           "  --sizes   layer widths, input first (default 1000,300,100,50,20,5,1)\n"
           "  --no-bias layers without bias terms\n"
           "  --seed    seed of the parameter initialisation (default 1)\n",
           prog);
}

/* Parse "a,b,c" into sizes; returns the count or -1. */
static int parse_sizes(const char *s, int64_t *sizes)
{
    int n = 0;
    while (*s && n < MAX_LAYERS) {
        char *end;
        long long v = strtoll(s, &end, 10);
        if (end == s || v < 1 || (*end != ',' && *end != '\0'))
            return -1;
        sizes[n++] = v;
        s = *end == ',' ? end + 1 : end;
    }
    return n >= 2 && !*s ? n : -1;
}

int main(int argc, char **argv)
{
    int64_t sizes[MAX_LAYERS] = {1000, 300, 100, 50, 20, 5, 1};
    int n_sizes = 7;
    bool bias = true;
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(argv[0]);
            return 0;
        } else if (!strcmp(argv[i], "--sizes") && i + 1 < argc) {
            if ((n_sizes = parse_sizes(argv[++i], sizes)) < 0) {
                fprintf(stderr, "count_weights: --sizes needs at least two positive integers "
                                "separated by commas\n");
                return 2;
            }
        } else if (!strcmp(argv[i], "--no-bias")) {
            bias = false;
        } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "count_weights: unknown argument '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }

    /* Linear, ReLU, Linear, ReLU, ..., Linear */
    nb_rng rng = nb_rng_seed(seed);
    nb_module *net = nb_sequential_new(0, NULL);
    for (int l = 0; net && l + 1 < n_sizes; l++) {
        if (nb_sequential_append(net, nb_linear_new(sizes[l], sizes[l + 1], bias, &rng)) != NB_OK ||
            (l + 2 < n_sizes && nb_sequential_append(net, nb_relu_new()) != NB_OK)) {
            nb_module_free(net);
            net = NULL;
        }
    }
    if (!net) {
        fprintf(stderr, "count_weights: %s\n", nb_last_error());
        return 1;
    }

    printf("network:");
    for (int l = 0; l < n_sizes; l++)
        printf("%s%lld", l ? "-" : " ", (long long)sizes[l]);
    printf(" (%s)\n\n", bias ? "with biases" : "no biases");
    printf("%-8s %-14s %10s %10s %10s\n", "layer", "shape", "weights", "biases", "total");
    int layer = 0;
    for (int i = 0; i < nb_module_num_children(net); i++) {
        nb_module *m = nb_module_child_at(net, i);
        if (nb_module_num_params(m) == 0)
            continue;
        nb_tensor *w = nb_module_param(m, "weight"), *b = nb_module_param(m, "bias");
        char shape[32];
        snprintf(shape, sizeof shape, "%lld -> %lld", (long long)nb_tensor_dim(w, 1),
                 (long long)nb_tensor_dim(w, 0));
        printf("%-8d %-14s %10lld %10lld %10lld\n", ++layer, shape, (long long)nb_tensor_numel(w),
               (long long)(b ? nb_tensor_numel(b) : 0), (long long)nb_module_num_params(m));
    }
    printf("\ntotal parameters: %lld\n\n", (long long)nb_module_num_params(net));
    nb_module_summary(net, stdout);
    nb_module_free(net);
    return 0;
}
