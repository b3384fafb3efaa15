/* tests/autograd/test_profile.c — the profiler (nabla/profile.h): exact call counts per op kind
 * for a known graph, output bytes and FLOPs, a trace that parses as JSON with the expected
 * spans, clear errors for nested or misplaced use, and one profile per thread. Timings are
 * never asserted. */
#include "support/nbt.h"

#include <jansson.h>
#include <pthread.h>
#include <string.h>

static nb_tensor *leaf(int ndim, const int64_t *shape, double v)
{
    nb_tensor *t = nb_tensor_full(NB_F32, ndim, shape, v);
    nb_tensor_set_requires_grad(t, true);
    return t;
}

static const nb_profile_entry *find(const nb_profile_entry *e, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(e[i].name, name) == 0)
            return &e[i];
    return NULL;
}

/* steps x: loss = sum(tanh(tanh(tanh(x))) + b), x [4, 3], b [3] broadcast (one expand). */
static void run_graph(nb_tensor *x, nb_tensor *b, int steps)
{
    nb_step *s = nb_step_new();
    for (int k = 0; k < steps; k++) {
        assert_int_equal(nb_step_begin(s), NB_OK);
        nb_tensor *h = x;
        for (int i = 0; i < 3; i++)
            h = nb_tanh(h);
        nb_tensor *loss = nb_sum_all(nb_add(h, b));
        assert_int_equal(nb_backward(loss), NB_OK);
        nb_step_end(s);
    }
    nb_step_free(s);
}

static void test_counts_bytes_and_flops_are_exact(void **state)
{
    (void)state;
    nb_tensor *x = leaf(2, (const int64_t[]){4, 3}, 0.5), *b = leaf(1, (const int64_t[]){3}, 0.1);
    run_graph(x, b, 1); /* not profiled: nothing is recorded */
    assert_int_equal(nb_profile_start(NULL), NB_OK);
    assert_true(nb_profile_running());
    run_graph(x, b, 2);
    assert_int_equal(nb_profile_stop(), NB_OK);
    assert_false(nb_profile_running());

    nb_profile_entry e[64];
    int n = nb_profile_entries(e, 64);
    assert_true(n >= 4 && n <= 64);
    const nb_profile_entry *t = find(e, n, "tanh"), *a = find(e, n, "add"),
                           *x2 = find(e, n, "expand"), *s = find(e, n, "sum");
    assert_non_null(t);
    assert_non_null(a);
    assert_non_null(x2);
    assert_non_null(s);
    assert_int_equal(t->calls, 6);
    assert_int_equal(t->backward_calls, 6);
    assert_int_equal(a->calls, 2);
    assert_int_equal(a->backward_calls, 2);
    assert_int_equal(x2->calls, 2); /* b broadcast to [4, 3], once per step */
    assert_int_equal(x2->backward_calls, 2);
    assert_int_equal(s->calls, 2);
    assert_int_equal(s->backward_calls, 2);
    assert_int_equal(t->bytes, 6 * 12 * (int64_t)sizeof(float));
    assert_int_equal(x2->bytes, 0); /* a view allocates nothing */
    assert_true(t->flops == 6 * 12.0);
    assert_true(t->backward_flops == 6 * 12.0);
    /* add's backward: the gradients of h [4, 3] and of the expanded b [4, 3] */
    assert_true(a->backward_flops == 2 * 24.0);
    /* sorted by total time, largest first: the order is that of the whole nanoseconds, and
     * the sums of their conversions to ms may round either way for two equal totals (a
     * nanosecond is 1e-6 ms) */
    for (int i = 1; i < n; i++)
        assert_true(e[i - 1].forward_ms + e[i - 1].backward_ms >=
                    e[i].forward_ms + e[i].backward_ms - 1e-7);
    /* fewer slots than kinds: the count is still the total */
    assert_int_equal(nb_profile_entries(e, 1), n);
    assert_int_equal(nb_profile_entries(NULL, 0), n);

    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(nb_profile_print(f), NB_OK);
    rewind(f);
    char buf[8192];
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    buf[got] = 0;
    fclose(f);
    assert_non_null(strstr(buf, "tanh"));
    assert_non_null(strstr(buf, "2 steps"));

    nb_profile_clear();
    assert_int_equal(nb_profile_entries(e, 64), -1);
    nb_clear_error();
    nb_tensor_free(x);
    nb_tensor_free(b);
}

static void test_matmul_and_conv_report_their_flops(void **state)
{
    (void)state;
    nb_tensor *a = leaf(2, (const int64_t[]){2, 3}, 0.5),
              *w = leaf(2, (const int64_t[]){3, 5}, 0.2);
    nb_tensor *x = leaf(4, (const int64_t[]){1, 2, 5, 5}, 0.5);
    nb_tensor *k = leaf(4, (const int64_t[]){4, 2, 3, 3}, 0.1);
    nb_step *s = nb_step_new();
    assert_int_equal(nb_profile_start(NULL), NB_OK);
    assert_int_equal(nb_step_begin(s), NB_OK);
    nb_tensor *m = nb_matmul(a, w); /* [2, 5] */
    nb_tensor *c =
        nb_conv2d(x, k, NULL, &(nb_conv_opts){.padding = NB_PAD_SAME}); /* [1, 4, 5, 5] */
    nb_tensor *loss = nb_add(nb_sum_all(m), nb_sum_all(c));
    assert_int_equal(nb_backward(loss), NB_OK);
    nb_step_end(s);
    assert_int_equal(nb_profile_stop(), NB_OK);
    nb_profile_entry e[64];
    int n = nb_profile_entries(e, 64);
    const nb_profile_entry *pm = find(e, n, "matmul"), *pc = find(e, n, "conv2d");
    assert_non_null(pm);
    assert_non_null(pc);
    assert_true(pm->flops == 2.0 * 2 * 5 * 3);
    assert_true(pm->backward_flops == 2 * 2.0 * 2 * 5 * 3); /* da and dw */
    assert_true(pc->flops == 2.0 * (4 * 5 * 5) * (2 * 3 * 3));
    assert_true(pc->backward_flops == 2 * 2.0 * (4 * 5 * 5) * (2 * 3 * 3));
    nb_profile_clear();
    nb_step_free(s);
    nb_tensor_free(a);
    nb_tensor_free(w);
    nb_tensor_free(x);
    nb_tensor_free(k);
}

/* A user's op whose name needs escaping in JSON. */
static nb_status quote_forward(nb_op_ctx *c)
{
    nb_tensor *x = nb_op_input(c, 0), *y = nb_op_output(c);
    for (int64_t i = 0; i < nb_tensor_numel(x); i++)
        nb_tensor_set(y, i, 2 * nb_tensor_get(x, i));
    return NB_OK;
}
static void quote_backward(nb_op_ctx *c)
{
    nb_tensor *g = nb_op_grad_input(c, 0), *gy = nb_op_grad_output(c);
    for (int64_t i = 0; i < nb_tensor_numel(g); i++)
        nb_tensor_set(g, i, nb_tensor_get(g, i) + 2 * nb_tensor_get(gy, i));
}
static const nb_op_def quote_op = {.name = "my \"twice\"\\op",
                                   .api = "my_twice",
                                   .arity = 1,
                                   .shape = nb_op_shape_same,
                                   .forward = quote_forward,
                                   .backward = quote_backward};

static int count_events(json_t *events, const char *name, const char *cat)
{
    int n = 0;
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev)
    {
        const char *nm = json_string_value(json_object_get(ev, "name"));
        const char *ct = json_string_value(json_object_get(ev, "cat"));
        if (nm && ct && strcmp(nm, name) == 0 && strcmp(ct, cat) == 0)
            n++;
    }
    return n;
}

/* In-place library calls that are not ops (no tape) have rows of their own: an optimizer
 * written by hand shows where its time goes. */
static void test_in_place_calls_have_rows(void **state)
{
    (void)state;
    nb_tensor *c = leaf(2, (const int64_t[]){4, 6}, 0.5),
              *a = leaf(2, (const int64_t[]){4, 3}, 0.2);
    nb_tensor *b = leaf(2, (const int64_t[]){3, 6}, 0.1);
    assert_int_equal(nb_profile_start(NULL), NB_OK);
    assert_int_equal(nb_tensor_addmm(c, 0.5, a, b, 0.9), NB_OK);
    assert_int_equal(nb_tensor_axpby(c, 1.0, c, 1.0), NB_OK);
    assert_int_equal(nb_tensor_axpby(c, 2.0, c, 0.0), NB_OK);
    assert_int_equal(nb_profile_stop(), NB_OK);
    nb_profile_entry e[8];
    int n = nb_profile_entries(e, 8);
    const nb_profile_entry *pm = find(e, n, "addmm (in place)"),
                           *pa = find(e, n, "axpby (in place)");
    assert_non_null(pm);
    assert_non_null(pa);
    assert_int_equal(pm->calls, 1);
    assert_true(pm->flops == 2.0 * 4 * 6 * 3);
    assert_int_equal(pa->calls, 2);
    assert_true(pa->flops == 24.0 * 3 + 24.0 * 1);
    assert_int_equal(pm->bytes, 0);
    nb_profile_clear();
    nb_tensor_free(c);
    nb_tensor_free(a);
    nb_tensor_free(b);
}

static void test_trace_is_valid_json_with_op_and_phase_spans(void **state)
{
    (void)state;
    nb_tensor *x = leaf(2, (const int64_t[]){4, 3}, 0.5), *b = leaf(1, (const int64_t[]){3}, 0.1);
    assert_int_equal(nb_profile_start(NULL), NB_OK);
    run_graph(x, b, 2);
    nb_step *s = nb_step_new();
    assert_int_equal(nb_step_begin(s), NB_OK);
    nb_tensor *y = nb_op_apply(&quote_op, 1, &x, NULL);
    assert_int_equal(nb_backward(nb_sum_all(y)), NB_OK);
    nb_step_end(s);
    nb_step_free(s);
    assert_int_equal(nb_profile_stop(), NB_OK);

    const char *path = nbt_tmp_path("trace");
    assert_int_equal(nb_profile_write_trace(path), NB_OK);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root)
        fail_msg("trace is not valid JSON: %s at line %d", err.text, err.line);
    json_t *events = json_object_get(root, "traceEvents");
    assert_true(json_is_array(events));
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev)
    {
        assert_true(json_is_object(ev));
        assert_true(json_is_string(json_object_get(ev, "name")));
        const char *ph = json_string_value(json_object_get(ev, "ph"));
        assert_non_null(ph);
        if (strcmp(ph, "X") == 0) {
            assert_true(json_is_number(json_object_get(ev, "ts")));
            assert_true(json_number_value(json_object_get(ev, "ts")) >= 0);
            assert_true(json_number_value(json_object_get(ev, "dur")) >= 0);
            assert_true(json_is_integer(json_object_get(ev, "pid")));
            assert_true(json_is_integer(json_object_get(ev, "tid")));
        } else {
            assert_string_equal(ph, "M");
        }
    }
    assert_int_equal(count_events(events, "tanh", "op.forward"), 6);
    assert_int_equal(count_events(events, "tanh", "op.backward"), 6);
    assert_int_equal(count_events(events, "my \"twice\"\\op", "op.forward"), 1);
    assert_int_equal(count_events(events, "my \"twice\"\\op", "op.backward"), 1);
    assert_int_equal(count_events(events, "step", "step"), 3);
    assert_int_equal(count_events(events, "forward", "phase"), 3);
    assert_int_equal(count_events(events, "backward", "phase"), 3);
    assert_int_equal(count_events(events, "update", "phase"), 3);
    json_decref(root);
    nb_profile_clear();
    nb_tensor_free(x);
    nb_tensor_free(b);
}

static void test_a_full_trace_buffer_drops_events_but_keeps_counts(void **state)
{
    (void)state;
    nb_tensor *x = leaf(2, (const int64_t[]){4, 3}, 0.5), *b = leaf(1, (const int64_t[]){3}, 0.1);
    assert_int_equal(nb_profile_start(&(nb_profile_options){.max_events = 5}), NB_OK);
    run_graph(x, b, 2);
    assert_int_equal(nb_profile_stop(), NB_OK);
    nb_profile_entry e[64];
    int n = nb_profile_entries(e, 64);
    assert_int_equal(find(e, n, "tanh")->calls, 6);
    const char *path = nbt_tmp_path("trace_small");
    assert_int_equal(nb_profile_write_trace(path), NB_OK);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    assert_non_null(root);
    assert_int_equal(json_array_size(json_object_get(root, "traceEvents")), 1 + 5);
    assert_true(json_integer_value(
                    json_object_get(json_object_get(root, "otherData"), "dropped_events")) > 0);
    json_decref(root);
    nb_profile_clear();
    nb_tensor_free(x);
    nb_tensor_free(b);
}

/* A user's op that tries to stop the profiler from inside its forward. */
static nb_status stop_status;
static char stop_message[256];
static nb_status stopper_forward(nb_op_ctx *c)
{
    stop_status = nb_profile_stop();
    snprintf(stop_message, sizeof stop_message, "%s", nb_last_error());
    nb_clear_error();
    return quote_forward(c);
}
static const nb_op_def stopper_op = {.name = "stopper",
                                     .api = "stopper",
                                     .arity = 1,
                                     .shape = nb_op_shape_same,
                                     .forward = stopper_forward,
                                     .backward = quote_backward};

static void test_nested_and_misplaced_use_give_clear_errors(void **state)
{
    (void)state;
    nb_profile_clear();
    nb_clear_error();
    assert_int_equal(nb_profile_stop(), NB_ERR_STATE);
    assert_non_null(strstr(nb_last_error(), "nb_profile_stop: the profiler is not running"));
    nb_clear_error();
    assert_int_equal(nb_profile_entries(NULL, 0), -1);
    assert_non_null(strstr(nb_last_error(), "nb_profile_entries: no profile"));
    nb_clear_error();
    assert_int_equal(nb_profile_print(stdout), NB_ERR_STATE);
    nb_clear_error();
    assert_int_equal(nb_profile_write_trace("unused.json"), NB_ERR_STATE);

    assert_int_equal(nb_profile_start(NULL), NB_OK);
    nb_clear_error();
    assert_int_equal(nb_profile_start(NULL), NB_ERR_STATE);
    assert_non_null(strstr(nb_last_error(), "nb_profile_start: the profiler is already running"));
    nb_clear_error();
    assert_int_equal(nb_profile_print(stdout), NB_ERR_STATE);
    assert_non_null(strstr(nb_last_error(), "still running"));
    nb_clear_error();
    assert_int_equal(nb_profile_entries(NULL, 0), -1);
    nb_clear_error();
    assert_int_equal(nb_profile_start(&(nb_profile_options){.max_events = -1}), NB_ERR_STATE);
    nb_clear_error();

    nb_tensor *x = leaf(2, (const int64_t[]){2, 2}, 1.0);
    nb_tensor *y = nb_op_apply(&stopper_op, 1, &x, NULL);
    assert_non_null(y);
    assert_int_equal(stop_status, NB_ERR_STATE);
    assert_non_null(strstr(stop_message, "inside an op"));
    assert_true(nb_profile_running()); /* the refused stop changed nothing */
    assert_int_equal(nb_profile_stop(), NB_OK);
    nb_profile_entry e[8];
    int n = nb_profile_entries(e, 8);
    assert_int_equal(find(e, n, "stopper")->calls, 1);

    nb_profile_clear();
    nb_clear_error();
    assert_int_equal(nb_profile_start(&(nb_profile_options){.max_events = -1}), NB_ERR_VALUE);
    assert_non_null(strstr(nb_last_error(), "max_events must be >= 0, got -1"));
    assert_false(nb_profile_running());
    nb_clear_error();
    assert_int_equal(nb_profile_print(NULL), NB_ERR_VALUE);
    nb_clear_error();
    nb_tensor_free(y);
    nb_tensor_free(x);
}

/* The profiler is per thread: another thread's ops are not in this thread's profile, and it
 * can profile itself at the same time. */
static void *other_thread(void *arg)
{
    int64_t *calls = arg;
    nb_tensor *x = nb_tensor_full(NB_F32, 1, (const int64_t[]){3}, 0.5);
    calls[0] = nb_profile_running();
    for (int i = 0; i < 5; i++)
        nb_tensor_free(nb_tanh(x));
    nb_profile_start(NULL);
    for (int i = 0; i < 2; i++)
        nb_tensor_free(nb_tanh(x));
    nb_profile_stop();
    nb_profile_entry e[8];
    int n = nb_profile_entries(e, 8);
    calls[1] = n == 1 ? e[0].calls : -1;
    nb_profile_clear();
    nb_tensor_free(x);
    return NULL;
}

static void test_each_thread_has_its_own_profile(void **state)
{
    (void)state;
    nb_tensor *x = nb_tensor_full(NB_F32, 1, (const int64_t[]){3}, 0.5);
    assert_int_equal(nb_profile_start(NULL), NB_OK);
    int64_t calls[2] = {-1, -1};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, other_thread, calls), 0);
    pthread_join(th, NULL);
    nb_tensor_free(nb_tanh(x));
    assert_int_equal(nb_profile_stop(), NB_OK);
    assert_int_equal(calls[0], 0);
    assert_int_equal(calls[1], 2);
    nb_profile_entry e[8];
    int n = nb_profile_entries(e, 8);
    assert_int_equal(n, 1);
    assert_string_equal(e[0].name, "tanh");
    assert_int_equal(e[0].calls, 1);
    nb_profile_clear();
    nb_tensor_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_bytes_and_flops_are_exact),
        cmocka_unit_test(test_matmul_and_conv_report_their_flops),
        cmocka_unit_test(test_in_place_calls_have_rows),
        cmocka_unit_test(test_trace_is_valid_json_with_op_and_phase_spans),
        cmocka_unit_test(test_a_full_trace_buffer_drops_events_but_keeps_counts),
        cmocka_unit_test(test_nested_and_misplaced_use_give_clear_errors),
        cmocka_unit_test(test_each_thread_has_its_own_profile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
