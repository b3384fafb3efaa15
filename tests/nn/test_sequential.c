/* tests/nn/test_sequential.c — nn/sequential.c: forward with and without an active step;
 * nb_container_new: named children, the default and a custom forward, ownership on errors;
 * nb_child_forward. */
#include "support/nbt.h"

#include <math.h>
#include <string.h>

static nb_module *small_net(nb_rng *rng)
{
    return nb_sequential_new(4, (nb_module *[]){nb_linear_new(3, 5, true, rng), nb_relu_new(),
                                                nb_identity_new(), nb_linear_new(5, 2, true, rng)});
}

/* With no step, intermediates are freed by the container (LSAN checks nothing leaks) and the
 * result equals the forward inside a step. */
static void test_forward_without_step_frees_intermediates_and_matches(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(5);
    nb_module *net = small_net(&rng);
    assert_non_null(net);
    int64_t s[2] = {4, 3};
    nb_tensor *x = nb_tensor_uniform(NB_F32, 2, s, &rng, -1, 1);
    nb_tensor *y = nb_module_forward(net, x); /* caller-owned */
    assert_non_null(y);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *y2 = nb_module_forward(net, x);
    assert_true(nb_tensor_allclose(y, y2, 0, 0));
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_module_free(net);
}

/* The input is never freed, even when the first layer returns it unchanged. */
static void test_forward_without_step_keeps_the_input(void **state)
{
    (void)state;
    nb_module *net = nb_sequential_new(2, (nb_module *[]){nb_identity_new(), nb_relu_new()});
    int64_t s[1] = {3};
    nb_tensor *x = nb_tensor_full(NB_F32, 1, s, -1.0);
    nb_tensor *y = nb_module_forward(net, x);
    assert_non_null(y);
    assert_float_equal(nb_tensor_get(y, 0), 0.0, 0);
    assert_float_equal(nb_tensor_get(x, 0), -1.0, 0);
    nb_tensor_free(y);
    nb_tensor_free(x);
    nb_module_free(net);
}

/* A custom forward: the sum of the two children's outputs. */
static nb_tensor *sum_forward(nb_module *m, nb_tensor *x)
{
    return nb_add(nb_module_forward(nb_module_child(m, "a"), x),
                  nb_module_forward(nb_module_child(m, "b"), x));
}

static int n_freed;
static void count_free(void *user)
{
    (void)user;
    n_freed++;
}

static void test_container_names_children_and_forwards(void **state)
{
    (void)state;
    nb_rng r1 = nb_rng_seed(5), r2 = nb_rng_seed(5);
    /* NULL forward: the children in order, the same as a Sequential of the same layers */
    nb_module *c = nb_container_new(
        "Pair", NULL, NULL, NULL, 2,
        (nb_named_module[]){{"fc", nb_linear_new(3, 4, true, &r1)}, {"act", nb_tanh_new()}});
    nb_module *s =
        nb_sequential_new(2, (nb_module *[]){nb_linear_new(3, 4, true, &r2), nb_tanh_new()});
    assert_non_null(c);
    assert_non_null(s);
    assert_string_equal(nb_module_kind(c), "Pair");
    assert_int_equal(nb_module_num_children(c), 2);
    assert_string_equal(nb_module_name(nb_module_child_at(c, 1)), "act");
    assert_true(nb_module_has_param(c, "fc.weight"));
    assert_int_equal(nb_module_num_params(c), 16);
    nb_tensor *x = nb_tensor_uniform(NB_F32, 2, (int64_t[]){2, 3}, &r1, -1, 1);
    nb_tensor *yc = nb_module_forward(c, x), *ys = nb_module_forward(s, x);
    assert_non_null(yc);
    assert_true(nb_tensor_allclose(yc, ys, 0, 0));
    nb_tensor_free(yc), nb_tensor_free(ys);
    nb_module_free(c), nb_module_free(s);
    /* A custom forward and user data (freed with the module), f64 children: f64 parameters */
    int tag = 0;
    n_freed = 0;
    c = nb_container_new("Sum", sum_forward, &tag, count_free, 2,
                         (nb_named_module[]){{"a", nb_linear_new_ex(3, 3, false, &r1, NB_F64)},
                                             {"b", nb_identity_new()}});
    assert_non_null(c);
    assert_ptr_equal(nb_module_user_data(c), &tag);
    assert_int_equal(nb_module_dtype(c), NB_F64);
    nb_tensor *x64 = nb_tensor_uniform(NB_F64, 2, (int64_t[]){1, 3}, &r1, -1, 1);
    nb_tensor *y = nb_module_forward(c, x64);
    nb_tensor *w = nb_module_param(c, "a.weight");
    double want = nb_tensor_get(x64, 0);
    for (int j = 0; j < 3; j++)
        want += nb_tensor_get(w, j) * nb_tensor_get(x64, j);
    assert_true(fabs(nb_tensor_get(y, 0) - want) < 1e-12);
    nb_tensor_free(y), nb_tensor_free(x64), nb_tensor_free(x);
    nb_module_free(c);
    assert_int_equal(n_freed, 1);
    /* No children at all */
    c = nb_container_new("Empty", NULL, NULL, NULL, 0, NULL);
    assert_non_null(c);
    assert_int_equal(nb_module_num_children(c), 0);
    nb_module_free(c);
}

/* On every error every child and the user data are freed (LSAN checks that nothing leaks). */
static void test_container_errors_free_everything(void **state)
{
    (void)state;
    nb_rng rng = nb_rng_seed(1);
    nb_clear_error();
    n_freed = 0;
    /* a failed constructor: named, its message kept */
    nb_module *c = nb_container_new("Net", NULL, &n_freed, count_free, 3,
                                    (nb_named_module[]){{"fc", nb_linear_new(3, 4, true, &rng)},
                                                        {"bad", nb_linear_new(0, 4, true, &rng)},
                                                        {"act", nb_relu_new()}});
    assert_null(c);
    assert_int_equal(nb_last_status(), NB_ERR_VALUE);
    assert_non_null(strstr(nb_last_error(), "nb_linear_new"));
    assert_int_equal(n_freed, 1);
    nb_clear_error();
    c = nb_container_new("Net", NULL, &n_freed, count_free, 2,
                         (nb_named_module[]){{"fc", nb_linear_new(3, 4, true, &rng)}, {"x", NULL}});
    assert_null(c);
    assert_non_null(strstr(nb_last_error(), "nb_container_new: child 1 \"x\" is NULL"));
    assert_int_equal(n_freed, 2);
    nb_clear_error();
    /* a repeated name, a name with '.', mixed dtypes: the children added so far are freed too */
    c = nb_container_new("Net", NULL, &n_freed, count_free, 3,
                         (nb_named_module[]){{"fc", nb_linear_new(3, 4, true, &rng)},
                                             {"fc", nb_relu_new()},
                                             {"out", nb_linear_new(4, 2, true, &rng)}});
    assert_null(c);
    assert_non_null(strstr(nb_last_error(), "already used"));
    assert_int_equal(n_freed, 3);
    nb_clear_error();
    c = nb_container_new("Net", NULL, NULL, NULL, 1, (nb_named_module[]){{"a.b", nb_relu_new()}});
    assert_null(c);
    nb_clear_error();
    c = nb_container_new("Net", NULL, NULL, NULL, 2,
                         (nb_named_module[]){{"a", nb_linear_new(3, 4, true, &rng)},
                                             {"b", nb_linear_new_ex(4, 2, true, &rng, NB_F64)}});
    assert_null(c);
    assert_int_equal(nb_last_status(), NB_ERR_DTYPE);
    nb_clear_error();
    /* a bad kind (user data freed by nb_module_new), bad counts */
    c = nb_container_new("", NULL, &n_freed, count_free, 1,
                         (nb_named_module[]){{"a", nb_relu_new()}});
    assert_null(c);
    assert_int_equal(n_freed, 4);
    nb_clear_error();
    assert_null(nb_container_new("Net", NULL, &n_freed, count_free, -1, NULL));
    assert_null(nb_container_new("Net", NULL, &n_freed, count_free, 2, NULL));
    assert_int_equal(n_freed, 6);
    nb_clear_error();
    /* a module that already has a parent is not freed (its container owns it) */
    nb_module *seq = nb_sequential_new(1, (nb_module *[]){nb_relu_new()});
    c = nb_container_new(
        "Net", NULL, NULL, NULL, 2,
        (nb_named_module[]){{"a", nb_tanh_new()}, {"b", nb_module_child_at(seq, 0)}});
    assert_null(c);
    assert_int_equal(nb_last_status(), NB_ERR_STATE);
    assert_int_equal(nb_module_num_children(seq), 1);
    nb_module_free(seq);
    nb_clear_error();
}

/* The sum of the children's outputs through nb_child_forward; "missing" names no child. */
static nb_tensor *sum_by_name(nb_module *m, nb_tensor *x)
{
    return nb_add(nb_child_forward(m, "a", x), nb_child_forward(m, "b", x));
}

static nb_tensor *call_missing(nb_module *m, nb_tensor *x)
{
    return nb_relu(nb_child_forward(m, "missing", x));
}

static void test_child_forward_calls_a_child_by_name(void **state)
{
    (void)state;
    nb_rng r1 = nb_rng_seed(5), r2 = nb_rng_seed(5);
    nb_module *by_name = nb_container_new(
        "Sum", sum_by_name, NULL, NULL, 2,
        (nb_named_module[]){{"a", nb_linear_new(3, 3, false, &r1)}, {"b", nb_tanh_new()}});
    nb_module *by_hand = nb_container_new(
        "Sum", sum_forward, NULL, NULL, 2,
        (nb_named_module[]){{"a", nb_linear_new(3, 3, false, &r2)}, {"b", nb_tanh_new()}});
    nb_tensor *x = nb_tensor_uniform(NB_F32, NB_SHAPE(2, 3), &r1, -1, 1);
    nb_tensor *y1 = nb_module_forward(by_name, x), *y2 = nb_module_forward(by_hand, x);
    assert_non_null(y1);
    assert_true(nb_tensor_allclose(y1, y2, 0, 0));
    nb_tensor *y3 = nb_child_forward(by_name, "b", x); /* a child on its own */
    assert_float_equal(nb_tensor_get(y3, 0), tanh(nb_tensor_get(x, 0)), 1e-6);
    nb_tensor_free(y1), nb_tensor_free(y2), nb_tensor_free(y3);
    /* a missing child: NULL with nb_module_child's message, kept through the ops */
    nb_module *bad = nb_container_new("Bad", call_missing, NULL, NULL, 1,
                                      (nb_named_module[]){{"a", nb_tanh_new()}});
    assert_null(nb_module_forward(bad, x));
    assert_non_null(strstr(nb_last_error(), "has no child \"missing\"; it has children a"));
    nb_clear_error();
    assert_null(nb_child_forward(by_name, "a", NULL));
    nb_clear_error();
    nb_tensor_free(x);
    nb_module_free(by_name), nb_module_free(by_hand), nb_module_free(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_without_step_frees_intermediates_and_matches),
        cmocka_unit_test(test_forward_without_step_keeps_the_input),
        cmocka_unit_test(test_container_names_children_and_forwards),
        cmocka_unit_test(test_container_errors_free_everything),
        cmocka_unit_test(test_child_forward_calls_a_child_by_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
