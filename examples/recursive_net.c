/* examples/recursive_net.c — a recursive network over expression trees.
 *
 * A recursive neural network (Socher et al. 2011; the RNTN of Socher et al. 2013 adds a tensor
 * term) applies ONE small network at every internal node of a tree, bottom-up: a node's vector
 * is computed from its two children's vectors, p = tanh(W_op [a; b] + c_op), and a classifier
 * reads the root's vector. The weights are shared by every node of every tree, so trees of any
 * size and shape use the same few parameters.
 *
 * Here the trees are generated arithmetic expressions over the digits 0..9 with + and -, such
 * as ((3 - 7) + 2), and the task is the sign of the value (negative or positive; expressions that
 * evaluate to 0 are not generated). Leaves are learned digit vectors (nb_gather_rows from a
 * [10, D] table); each operator has its own composition matrix. Each sample has a different
 * tree, so each builds a different graph: with a define-by-run tape the forward pass is a plain
 * recursive C function and nb_backward differentiates whatever it built. A minibatch joins the
 * roots' logits with nb_concat before one cross-entropy.
 *
 * --tensor makes it the RNTN of notes 000 (Socher et al. 2013): each operator also gets a
 * tensor V_op [2D, 2D, D] and a node is p = tanh(x^T V_op^[1:D] x + W_op x + c_op) with
 * x = [a; b], so that the children multiply each other (component k of the tensor term is the
 * bilinear form x^T V^[k] x). V is stored as a [2D, 2D * D] matrix: x V reshaped to [D, 2D],
 * times x, summed over its last axis. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/util.h"
#include "nabla.h"

#define MAX_LEAVES 16
#define MAX_NODES  (2 * MAX_LEAVES - 1)

static const ex_program PROG = {
    .name = "recursive_net",
    .notes = "notes 000 (overview): recursive neural tensor nets (RNTN); notes 002 (sheet): "
             "recursive nets share weights",
    .summary = "one shared network applied over expression trees learns the sign of the value",
    .details =
        "Generates random expressions over the digits 0..9 with + and - (2 to --max-leaves\n"
        "leaves, random shapes; value 0 excluded), --train training and --test test trees, and\n"
        "trains a recursive net: digit vectors of size --dim at the leaves, p = tanh(W_op [a; b]\n"
        "+ c_op) at every internal node (one W per operator, shared by all nodes), a linear\n"
        "classifier on the root, cross-entropy, Adam at --lr, --batch trees per step, --epochs\n"
        "epochs. Prints the loss and accuracy per epoch, the test accuracy per tree size,\n"
        "and a few test expressions with their predictions. --tensor: the RNTN of notes 000,\n"
        "p = tanh(x^T V_op x + W_op x + c_op) with x = [a; b] and a tensor V_op [2D, 2D, D]\n"
        "per operator (4 D^3 more weights each). --check exits with status 1 unless\n"
        "the test accuracy is at least --min-accuracy and beats the majority class by 15 points.\n",
};

/* A tree in an array: leaves have op 0 and a digit; internal nodes op '+' or '-'. */
typedef struct node {
    char op;
    int digit;
    int left, right;
} node;

typedef struct tree {
    node nodes[MAX_NODES];
    int n_nodes, n_leaves, root;
    long value;
} tree;

/* Build a random tree of n leaves in t's node array; returns the index of its root. */
static int grow(tree *t, int n, nb_rng *rng)
{
    const int i = t->n_nodes++;
    if (n == 1) {
        t->nodes[i] = (node){.op = 0, .digit = (int)nb_rng_below(rng, 10), .left = -1, .right = -1};
        return i;
    }
    const int k = 1 + (int)nb_rng_below(rng, (uint64_t)(n - 1)); /* leaves on the left: 1..n-1 */
    const char op = nb_rng_below(rng, 2) ? '+' : '-';
    const int l = grow(t, k, rng);
    const int r = grow(t, n - k, rng);
    t->nodes[i] = (node){.op = op, .digit = -1, .left = l, .right = r};
    return i;
}

static long eval(const tree *t, int i)
{
    const node *nd = &t->nodes[i];
    if (!nd->op)
        return nd->digit;
    const long a = eval(t, nd->left), b = eval(t, nd->right);
    return nd->op == '+' ? a + b : a - b;
}

static void gen_tree(tree *t, int max_leaves, nb_rng *rng)
{
    do {
        t->n_nodes = 0;
        t->n_leaves = 2 + (int)nb_rng_below(rng, (uint64_t)(max_leaves - 1));
        t->root = grow(t, t->n_leaves, rng);
        t->value = eval(t, t->root);
    } while (t->value == 0);
}

static int format_tree(const tree *t, int i, char *buf, int cap)
{
    const node *nd = &t->nodes[i];
    if (!nd->op)
        return snprintf(buf, (size_t)cap, "%d", nd->digit);
    int n = snprintf(buf, (size_t)cap, "(");
    n += format_tree(t, nd->left, buf + n, cap - n);
    n += snprintf(buf + n, (size_t)(cap - n), " %c ", nd->op);
    n += format_tree(t, nd->right, buf + n, cap - n);
    n += snprintf(buf + n, (size_t)(cap - n), ")");
    return n;
}

/* ---- the recursive net: one parameter module, a recursive forward ---- */

static nb_module *treenet_new(int64_t d, bool tensor, nb_rng *rng)
{
    nb_module *m = nb_module_new(tensor ? "RNTN" : "TreeNet", NB_F32, NULL, NULL, NULL);
    if (!m)
        return NULL;
    const char *names[9] = {"leaf",  "w_add", "c_add", "w_sub", "c_sub",
                            "w_out", "c_out", "v_add", "v_sub"};
    const int64_t shapes[9][2] = {{10, d},
                                  {d, 2 * d},
                                  {d, 0},
                                  {d, 2 * d},
                                  {d, 0},
                                  {2, d},
                                  {2, 0},
                                  {2 * d, 2 * d * d},
                                  {2 * d, 2 * d * d}};
    nb_status st = NB_OK;
    for (int k = 0; k < (tensor ? 9 : 7) && st == NB_OK; k++) {
        nb_tensor *p = nb_module_add_param(m, names[k], shapes[k][1] ? 2 : 1, shapes[k]);
        if (!p)
            st = nb_last_status();
        else if (!strcmp(names[k], "leaf"))
            st = nb_init_normal(p, rng, 0.0, 1.0);
        else if (names[k][0] == 'w')
            st = nb_init_xavier_uniform(p, rng, 1.0);
        else if (names[k][0] == 'v') /* small: the net starts close to the plain one */
            st = nb_init_normal(p, rng, 0.0, 0.01);
    }
    if (st != NB_OK) {
        nb_module_free(m);
        return NULL;
    }
    nb_module_set_info(m, "D=%lld%s", (long long)d, tensor ? ", tensor term" : "");
    return m;
}

/* Digits of the leaves of node i's subtree, left to right, appended at ids[*n]. */
static void leaf_ids(const tree *t, int i, int64_t *ids, int *n)
{
    const node *nd = &t->nodes[i];
    if (!nd->op) {
        ids[(*n)++] = nd->digit;
        return;
    }
    leaf_ids(t, nd->left, ids, n);
    leaf_ids(t, nd->right, ids, n);
}

/* Vector [1, D] of node i, built bottom-up; the recursion follows this sample's tree. Leaves
 * take the next row of `leaves` (the digit vectors of the batch's leaves, in the same
 * left-to-right order as leaf_ids). */
static nb_tensor *node_vec(nb_module *net, const tree *t, int i, nb_tensor *leaves, int *next)
{
    const node *nd = &t->nodes[i];
    if (!nd->op) {
        const int r = (*next)++;
        return nb_slice(leaves, 0, r, r + 1, 1); /* [1, D] */
    }
    nb_tensor *kids[2] = {node_vec(net, t, nd->left, leaves, next),
                          node_vec(net, t, nd->right, leaves, next)};
    nb_tensor *ab = nb_concat(2, kids, 1); /* [1, 2D] */
    const bool add = nd->op == '+';
    nb_tensor *u = nb_linear(ab, nb_module_param(net, add ? "w_add" : "w_sub"),
                             nb_module_param(net, add ? "c_add" : "c_sub")); /* [1, D] */
    if (!strcmp(nb_module_kind(net), "RNTN")) { /* component k of x^T V^[k] x, x = [a; b] */
        nb_tensor *v = nb_module_param(net, add ? "v_add" : "v_sub");
        const int64_t d = nb_tensor_dim(ab, 1) / 2;
        nb_tensor *xv = nb_reshape(nb_matmul(ab, v), 2, (int64_t[]){d, 2 * d}); /* [D, 2D] */
        u = nb_add(u, nb_reshape(nb_sum(nb_mul(xv, ab), 1, false), 2, (int64_t[]){1, d}));
    }
    return nb_tanh(u);
}

/* Logits [n, 2] for trees ts[0..n-1]. The leaves' digit ids go into a caller-owned tensor
 * *ids (backward reads it), to be freed after nb_step_end; roots has room for n tensors. */
static nb_tensor *forward_batch(nb_module *net, const tree *const *ts, int n, nb_tensor **roots,
                                nb_tensor **ids)
{
    int64_t buf[MAX_LEAVES * 64];
    int64_t *id = n <= 64 ? buf : malloc((size_t)n * MAX_LEAVES * sizeof *id);
    int n_leaves = 0;
    *ids = NULL;
    if (!id) {
        nb_set_error(NB_ERR_NOMEM, "forward_batch: out of memory");
        return NULL;
    }
    for (int k = 0; k < n; k++)
        leaf_ids(ts[k], ts[k]->root, id, &n_leaves);
    *ids = nb_tensor_from_data(NB_I64, 1, (int64_t[]){n_leaves}, id);
    if (id != buf)
        free(id);
    nb_tensor *leaves = nb_gather_rows(nb_module_param(net, "leaf"), *ids); /* [L, D] */
    int next = 0;
    for (int k = 0; k < n; k++)
        roots[k] = node_vec(net, ts[k], ts[k]->root, leaves, &next);
    return nb_linear(nb_concat(n, roots, 0), nb_module_param(net, "w_out"),
                     nb_module_param(net, "c_out"));
}

static int label_of(const tree *t)
{
    return t->value > 0;
}

/* Accuracy over trees[0..n-1]; per-size counts when correct_by/total_by are given. */
static double accuracy(nb_module *net, nb_step *step, const tree *trees, int n, int *correct_by,
                       int *total_by)
{
    int correct = 0;
    const bool was = nb_set_grad_enabled(false);
    for (int k = 0; k < n; k++) {
        nb_step_begin(step);
        const tree *tp = &trees[k];
        nb_tensor *root, *ids;
        nb_tensor *logits = forward_batch(net, &tp, 1, &root, &ids);
        if (!logits) {
            nb_step_end(step);
            nb_tensor_free(ids);
            nb_set_grad_enabled(was);
            return NAN;
        }
        const int pred = nb_tensor_get(logits, 1) > nb_tensor_get(logits, 0);
        const int ok = pred == label_of(tp);
        correct += ok;
        if (correct_by) {
            correct_by[tp->n_leaves] += ok;
            total_by[tp->n_leaves]++;
        }
        nb_step_end(step);
        nb_tensor_free(ids);
    }
    nb_set_grad_enabled(was);
    return (double)correct / n;
}

int main(int argc, char **argv)
{
    int n_train = 2000, n_test = 500, max_leaves = 6, dim = 16, batch = 16, epochs = 10, show = 5;
    double lr = 0.01, min_acc = 0.85;
    uint64_t seed = 1;
    bool check = false, tensor = false;
    ex_opt opts[] = {
        {"tensor", EX_OPT_FLAG, &tensor, "add the RNTN's tensor term x^T V x at every node"},
        {"train", EX_OPT_INT, &n_train, "training trees"},
        {"test", EX_OPT_INT, &n_test, "test trees"},
        {"max-leaves", EX_OPT_INT, &max_leaves, "largest number of leaves (2..16)"},
        {"dim", EX_OPT_INT, &dim, "size D of the node vectors"},
        {"batch", EX_OPT_INT, &batch, "trees per step"},
        {"epochs", EX_OPT_INT, &epochs, "passes over the training trees"},
        {"lr", EX_OPT_DOUBLE, &lr, "Adam learning rate"},
        {"show", EX_OPT_INT, &show, "test expressions to print with their predictions"},
        {"seed", EX_OPT_U64, &seed, "seed of the trees, the weights and the order"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless the test accuracy is high enough"},
        {"min-accuracy", EX_OPT_DOUBLE, &min_acc, "test accuracy --check requires"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (n_train < 1 || n_test < 1 || max_leaves < 2 || max_leaves > MAX_LEAVES || dim < 1 ||
        batch < 1 || epochs < 1 || lr <= 0 || show < 0)
        return ex_usage_error(&PROG,
                              "need positive --train, --test, --dim, --batch, --epochs, "
                              "--lr, --max-leaves in [2, %d] and --show >= 0",
                              MAX_LEAVES);
    if (batch > n_train)
        batch = n_train;

    tree *trees = malloc((size_t)(n_train + n_test) * sizeof *trees);
    int64_t *order = malloc((size_t)n_train * sizeof *order);
    const tree **bt = malloc((size_t)batch * sizeof *bt);
    nb_tensor **roots = malloc((size_t)batch * sizeof *roots);
    int64_t *labels = malloc((size_t)batch * sizeof *labels);
    nb_rng rng = nb_rng_seed(seed);
    nb_module *net = treenet_new(dim, tensor, &rng);
    nb_adam_opts ao = nb_adam_defaults();
    ao.lr = lr;
    nb_optim *opt = net ? nb_adam_new(net, &ao) : NULL;
    nb_step *step = nb_step_new();
    int status = 0;
    if (!trees || !order || !bt || !roots || !labels || !opt || !step) {
        status = ex_fail(PROG.name, "setup");
        goto done;
    }
    tree *train = trees, *test = trees + n_train;
    int n_pos = 0;
    for (int i = 0; i < n_train + n_test; i++) {
        gen_tree(&trees[i], max_leaves, &rng);
        if (i >= n_train)
            n_pos += label_of(&trees[i]);
    }
    const double majority = fmax(n_pos, n_test - n_pos) / (double)n_test;
    for (int i = 0; i < n_train; i++)
        order[i] = i;

    printf("Recursive net over expression trees: digits 0..9, + and -, 2..%d leaves.\n",
           max_leaves);
    printf("Task: the sign of the value. Every internal node applies the same network,\n"
           "p = tanh(%sW_op [left; right] + c_op), to its children's vectors; a linear classifier\n"
           "reads the root. Each tree builds its own graph on the tape.\n",
           tensor ? "x^T V_op x + " : "");
    printf("%d training and %d test trees (seed %llu); %lld parameters (D = %d); majority class "
           "on the test set: %.1f%%\n\n",
           n_train, n_test, (unsigned long long)seed, (long long)nb_module_num_params(net), dim,
           100 * majority);
    printf("  epoch  train loss  train acc  test acc\n");

    double test_acc = NAN;
    for (int ep = 1; ep <= epochs; ep++) {
        nb_rng_shuffle_i64(&rng, order, n_train);
        double loss_sum = 0;
        int n_batches = 0;
        for (int s = 0; s < n_train; s += batch) {
            const int nb = s + batch <= n_train ? batch : n_train - s;
            for (int k = 0; k < nb; k++) {
                bt[k] = &train[order[s + k]];
                labels[k] = label_of(bt[k]);
            }
            nb_step_begin(step);
            nb_optim_zero_grad(opt);
            nb_tensor *y = nb_tensor_from_data(NB_I64, 1, (int64_t[]){nb}, labels);
            nb_tensor *ids;
            nb_tensor *loss =
                nb_cross_entropy(forward_batch(net, bt, nb, roots, &ids), y, NB_REDUCE_MEAN);
            nb_status st = loss ? nb_backward(loss) : nb_last_status();
            if (st == NB_OK) {
                loss_sum += nb_tensor_item(loss);
                n_batches++;
                st = nb_optim_update(opt);
            }
            nb_step_end(step);
            nb_tensor_free(y);
            nb_tensor_free(ids);
            if (st != NB_OK) {
                status = ex_fail(PROG.name, "training");
                goto done;
            }
        }
        const double train_acc = accuracy(net, step, train, n_train, NULL, NULL);
        test_acc = accuracy(net, step, test, n_test, NULL, NULL);
        printf("  %5d  %10.4f  %8.1f%%  %7.1f%%\n", ep, loss_sum / n_batches, 100 * train_acc,
               100 * test_acc);
    }

    int correct_by[MAX_LEAVES + 1] = {0}, total_by[MAX_LEAVES + 1] = {0};
    accuracy(net, step, test, n_test, correct_by, total_by);
    printf("\n  test accuracy by tree size:\n  leaves  trees  accuracy\n");
    for (int l = 2; l <= max_leaves; l++)
        if (total_by[l])
            printf("  %6d  %5d  %7.1f%%\n", l, total_by[l], 100.0 * correct_by[l] / total_by[l]);

    if (show > 0)
        printf("\n  some test expressions:\n");
    for (int k = 0; k < show && k < n_test; k++) {
        char text[256];
        format_tree(&test[k], test[k].root, text, sizeof text);
        nb_step_begin(step);
        const bool was = nb_set_grad_enabled(false);
        const tree *tp = &test[k];
        nb_tensor *root, *ids;
        nb_tensor *p = nb_softmax(forward_batch(net, &tp, 1, &root, &ids), 1);
        const double p_pos = p ? nb_tensor_get(p, 1) : NAN;
        nb_set_grad_enabled(was);
        nb_step_end(step);
        nb_tensor_free(ids);
        printf("  %-40s = %4ld  P(positive) = %.3f  %s\n", text, tp->value, p_pos,
               (p_pos > 0.5) == (tp->value > 0) ? "right" : "wrong");
    }

    if (check) {
        printf("\n");
        const bool ok = test_acc >= min_acc && test_acc >= majority + 0.15;
        printf("  check test accuracy %.1f%% >= %.1f%% and >= majority %.1f%% + 15 points: %s\n",
               100 * test_acc, 100 * min_acc, 100 * majority, ok ? "ok" : "MISMATCH");
        status = ok ? 0 : 1;
    }

done:
    nb_step_free(step);
    nb_optim_free(opt);
    nb_module_free(net);
    free(trees);
    free(order);
    free(bt);
    free(roots);
    free(labels);
    return status;
}
