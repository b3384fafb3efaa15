/* tests/nn/test_module_walk.c — nb_module_apply (pre-order walk with names, depth and early
 * stop, custom containers included) and the summary tables of nn/module.c: containers listed,
 * output shapes for a given input in the notes' notation, no state change, no leak. */
#include "support/nbt.h"

#include <string.h>

#include "nabla/conv_layers.h"
#include "nabla/seq.h"

/* A custom container: y = x + body(x), with the body as child "body". */
static nb_tensor *residual_forward(nb_module *m, nb_tensor *x)
{
    return nb_add(x, nb_module_forward(nb_module_child(m, "body"), x));
}

static nb_module *residual_new(nb_module *body)
{
    nb_module *m = nb_module_new("Residual", NB_F32, residual_forward, NULL, NULL);
    if (!m) {
        nb_module_free(body);
        return NULL;
    }
    if (nb_module_add_child(m, "body", body) != NB_OK) {
        nb_module_free(m);
        return NULL;
    }
    return m;
}

/* 4 -> Residual(Sequential(Linear 4->4, Tanh)) -> Linear 4->2 */
static nb_module *net_with_custom_container(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    nb_module *body =
        nb_sequential_new(2, (nb_module *[]){nb_linear_new(4, 4, true, &r), nb_tanh_new()});
    return nb_sequential_new(2, (nb_module *[]){residual_new(body), nb_linear_new(4, 2, true, &r)});
}

typedef struct {
    char log[512];
    int stop_at; /* stop (return 7) on this visit; -1 never */
    int visits;
} walk_log;

static int log_visit(nb_module *m, const char *path, int depth, void *ctx)
{
    walk_log *w = ctx;
    size_t n = strlen(w->log);
    snprintf(w->log + n, sizeof w->log - n, "%s[%s:%s:%d]", n ? " " : "", path, nb_module_kind(m),
             depth);
    return w->visits++ == w->stop_at ? 7 : 0;
}

static void test_apply_visits_every_module_in_pre_order_with_names_and_depths(void **state)
{
    (void)state;
    nb_module *net = net_with_custom_container(1);
    assert_non_null(net);
    walk_log w = {.stop_at = -1};
    assert_int_equal(nb_module_apply(net, log_visit, &w), 0);
    assert_string_equal(w.log, "[:Sequential:0] [0:Residual:1] [0.body:Sequential:2] "
                               "[0.body.0:Linear:3] [0.body.1:Tanh:3] [1:Linear:1]");
    /* paths are relative to the walk's root */
    walk_log sub = {.stop_at = -1};
    assert_int_equal(nb_module_apply(nb_module_child(net, "0"), log_visit, &sub), 0);
    assert_string_equal(sub.log, "[:Residual:0] [body:Sequential:1] [body.0:Linear:2] "
                                 "[body.1:Tanh:2]");
    nb_module_free(net);
}

static void test_apply_stops_at_the_first_non_zero_return_and_returns_it(void **state)
{
    (void)state;
    nb_module *net = net_with_custom_container(2);
    walk_log w = {.stop_at = 3};
    assert_int_equal(nb_module_apply(net, log_visit, &w), 7);
    assert_int_equal(w.visits, 4);
    assert_string_equal(w.log,
                        "[:Sequential:0] [0:Residual:1] [0.body:Sequential:2] [0.body.0:Linear:3]");
    nb_module_free(net);
}

static int init_linear_weights(nb_module *m, const char *path, int depth, void *ctx)
{
    (void)path;
    (void)depth;
    if (strcmp(nb_module_kind(m), "Linear"))
        return 0;
    nb_status st = nb_init_constant(nb_module_param(m, "weight"), *(double *)ctx);
    return st != NB_OK ? st : nb_init_zeros(nb_module_param(m, "bias"));
}

static void test_apply_initialises_by_layer_type(void **state)
{
    (void)state;
    nb_module *net = net_with_custom_container(3);
    double v = 0.25;
    assert_int_equal(nb_module_apply(net, init_linear_weights, &v), NB_OK);
    nb_named_tensor np[8];
    int n = nb_module_named_params(net, np, 8);
    assert_int_equal(n, 4);
    for (int i = 0; i < n; i++) {
        const bool is_w = strstr(np[i].name, "weight") != NULL;
        for (int64_t k = 0; k < nb_tensor_numel(np[i].tensor); k++)
            assert_true(nb_tensor_get(np[i].tensor, k) == (is_w ? 0.25 : 0.0));
    }
    nb_module_free(net);
}

static void test_apply_rejects_null_arguments(void **state)
{
    (void)state;
    nb_module *net = net_with_custom_container(4);
    assert_int_equal(nb_module_apply(NULL, log_visit, NULL), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_module_apply: module is NULL");
    assert_int_equal(nb_module_apply(net, NULL, NULL), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_module_apply: fn is NULL");
    nb_module_free(net);
}

/* The printed text of a summary, from a tmpfile. */
static char *capture(nb_module *m, int ndim, const int64_t *shape, nb_dtype dtype, nb_status *st)
{
    static char text[8192];
    FILE *f = tmpfile();
    assert_non_null(f);
    if (ndim < 0)
        nb_module_summary(m, f);
    else
        *st = nb_module_summary_shapes(m, f, dtype, ndim, shape);
    rewind(f);
    size_t len = fread(text, 1, sizeof text - 1, f);
    text[len] = '\0';
    fclose(f);
    return text;
}

static void test_summary_lists_custom_containers_with_subtree_totals(void **state)
{
    (void)state;
    nb_module *net = net_with_custom_container(5);
    const char *text = capture(net, -1, NULL, NB_F32, NULL);
    /* 4*4+4 and 4*2+2 parameters; containers show their subtree totals */
    assert_string_equal(text,
                        "Sequential\n"
                        "  layer           type            parameters  shapes\n"
                        "  (root)          Sequential            (30)\n"
                        "    0             Residual              (20)\n"
                        "      0.body      Sequential            (20)\n"
                        "        0.body.0  Linear(4 -> 4)          20  weight [4, 4], bias [4]\n"
                        "        0.body.1  Tanh                     0\n"
                        "    1             Linear(4 -> 2)          10  weight [2, 4], bias [2]\n"
                        "  total parameters: 30 (trainable: 30, f32)\n");
    nb_module_free(net);
}

/* Conv2d 1->4 3x3 same -> ReLU -> MaxPool 2 -> Flatten -> Linear 64->3, for 1x8x8 images. */
static nb_module *small_cnn(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    return nb_sequential_new(
        5, (nb_module *[]){
               nb_conv2d_new(1, 4, 3, 3, &(nb_conv_layer_opts){.conv.padding = NB_PAD_SAME}, &r),
               nb_relu_new(), nb_max_pool2d_new(2, 2, NULL), nb_flatten_new(),
               nb_linear_new(64, 3, true, &r)});
}

static void test_summary_shapes_of_a_small_cnn_in_the_notes_notation(void **state)
{
    (void)state;
    nb_module *net = small_cnn(6);
    assert_non_null(net);
    nb_status st = NB_ERR_STATE;
    const char *text = capture(net, NB_SHAPE(2, 1, 8, 8), NB_F32, &st);
    assert_int_equal(st, NB_OK);
    /* 1*4*3*3+4 = 40 and 64*3+3 = 195 parameters; 8x8 kept by "same", halved by the pool */
    assert_string_equal(
        text,
        "Sequential for input [2, 1, 8, 8] (per sample 1x8x8 = 64; the batch dim is left out "
        "below)\n"
        "  layer   type                        output       parameters  shapes\n"
        "  (root)  Sequential                  3                 (235)\n"
        "    0     Conv2d(1 -> 4, 3x3, same)   4x8x8 = 256          40  weight [4, 1, 3, 3], bias "
        "[4]\n"
        "    1     ReLU                        4x8x8 = 256           0\n"
        "    2     MaxPool2d(2x2, stride 2x2)  4x4x4 = 64            0\n"
        "    3     Flatten                     64                    0\n"
        "    4     Linear(64 -> 3)             3                   195  weight [3, 64], bias [3]\n"
        "  total parameters: 235 (trainable: 235, f32)\n");
    nb_module_free(net);
}

/* y = body(body(x)): a child reached twice per forward. */
static nb_tensor *twice_forward(nb_module *m, nb_tensor *x)
{
    nb_module *body = nb_module_child(m, "body");
    return nb_module_forward(body, nb_module_forward(body, x));
}

static nb_module *twice_new(nb_module *body)
{
    nb_module *m = nb_module_new("Twice", NB_F32, twice_forward, NULL, NULL);
    if (!m) {
        nb_module_free(body);
        return NULL;
    }
    return nb_module_add_child(m, "body", body) == NB_OK ? m : (nb_module_free(m), NULL);
}

/* 4 -> Linear 6 -> BatchNorm1d -> Twice(Linear 6->6) -> Dropout -> Linear 2 */
static nb_module *mlp_with_state(uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    return nb_sequential_new(
        5, (nb_module *[]){nb_linear_new(4, 6, true, &r), nb_batch_norm1d_new(6, NULL),
                           twice_new(nb_linear_new(6, 6, true, &r)), nb_dropout_new(0.5, 9),
                           nb_linear_new(6, 2, true, &r)});
}

static void test_summary_shapes_of_an_mlp_and_repeated_calls(void **state)
{
    (void)state;
    nb_module *net = mlp_with_state(7);
    assert_non_null(net);
    nb_module_train(nb_module_child(net, "3"), false); /* a mixed state, restored as it was */
    nb_status st = NB_ERR_STATE;
    const char *text = capture(net, NB_SHAPE(5, 4), NB_F32, &st);
    assert_int_equal(st, NB_OK);
    assert_string_equal(
        text,
        "Sequential for input [5, 4] (per sample 4; the batch dim is left out below)\n"
        "  layer       type                                     output       parameters  shapes\n"
        "  (root)      Sequential                               2                  (98)\n"
        "    0         Linear(4 -> 6)                           6                    30  weight "
        "[6, 4], bias [6]\n"
        "    1         BatchNorm1d(6, eps 1e-05, momentum 0.1)  6                    12  weight "
        "[6], bias [6]\n"
        "    2         Twice                                    6                  (42)\n"
        "      2.body  Linear(6 -> 6)                           6 (2 calls)          42  weight "
        "[6, 6], bias [6]\n"
        "    3         Dropout(p=0.5)                           6                     0\n"
        "    4         Linear(6 -> 2)                           2                    14  weight "
        "[2, 6], bias [2]\n"
        "  total parameters: 98 (trainable: 98, f32)\n");
    /* the forward ran in eval mode: BatchNorm's running variance kept its initial 1 */
    nb_tensor *rv = nb_module_buffer(net, "1.running_var");
    for (int64_t k = 0; k < 6; k++)
        assert_true(nb_tensor_get(rv, k) == 1.0);
    assert_true(nb_module_is_training(net));
    assert_true(nb_module_is_training(nb_module_child(net, "2.body")));
    assert_false(nb_module_is_training(nb_module_child(net, "3")));
    nb_module_free(net);
}

static void test_summary_shapes_reports_a_failing_forward_and_prints_nothing(void **state)
{
    (void)state;
    nb_module *net = mlp_with_state(8);
    nb_status st = NB_OK;
    const char *text = capture(net, NB_SHAPE(5, 3), NB_F32, &st);
    assert_int_equal(st, NB_ERR_SHAPE);
    nbt_assert_error(NB_ERR_SHAPE, "Linear '0' (4 -> 6): input is [5, 3], expected [*, 4]");
    assert_string_equal(text, "");
    assert_true(nb_module_is_training(nb_module_child(net, "1")));
    text = capture(net, NB_SHAPE(5, 0), NB_F32, &st);
    assert_int_equal(st, NB_ERR_SHAPE);
    nbt_assert_error(NB_ERR_SHAPE, "nb_module_summary_shapes: Sequential: input dim 1 is 0");
    assert_int_equal(nb_module_summary_shapes(NULL, stdout, NB_F32, NB_SHAPE(1)), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "nb_module_summary_shapes: module is NULL");
    nb_module_free(net);
}

static void test_summary_shapes_inside_a_step_uses_it_and_records_no_gradient(void **state)
{
    (void)state;
    nb_module *net = small_cnn(10);
    nb_step *step = nb_step_new();
    assert_int_equal(nb_step_begin(step), NB_OK);
    nb_status st = NB_ERR_STATE;
    capture(net, NB_SHAPE(1, 1, 8, 8), NB_F32, &st);
    assert_int_equal(st, NB_OK);
    assert_int_equal(nb_step_tape_length(step), 0);
    assert_true(nb_step_active() == step);
    /* a network whose first module returns a view of the input, and token ids as input */
    nb_rng r = nb_rng_seed(11);
    nb_module *emb =
        nb_sequential_new(3, (nb_module *[]){nb_embedding_new(10, 4, &r), nb_flatten_new(),
                                             nb_linear_new(12, 2, true, &r)});
    const char *text = capture(emb, NB_SHAPE(2, 3), NB_I64, &st);
    assert_int_equal(st, NB_OK);
    assert_non_null(strstr(text, "Embedding"));
    assert_non_null(strstr(text, "3x4 = 12"));
    nb_step_end(step);
    nb_step_free(step);
    nb_module_free(emb);
    nb_module_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apply_visits_every_module_in_pre_order_with_names_and_depths),
        cmocka_unit_test(test_apply_stops_at_the_first_non_zero_return_and_returns_it),
        cmocka_unit_test(test_apply_initialises_by_layer_type),
        cmocka_unit_test(test_apply_rejects_null_arguments),
        cmocka_unit_test(test_summary_lists_custom_containers_with_subtree_totals),
        cmocka_unit_test(test_summary_shapes_of_a_small_cnn_in_the_notes_notation),
        cmocka_unit_test(test_summary_shapes_of_an_mlp_and_repeated_calls),
        cmocka_unit_test(test_summary_shapes_reports_a_failing_forward_and_prints_nothing),
        cmocka_unit_test(test_summary_shapes_inside_a_step_uses_it_and_records_no_gradient),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
