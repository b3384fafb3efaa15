/* tests/nn/test_golden_rnn.c — nabla's recurrent layers against PyTorch's nn.RNN / LSTM / GRU on
 * the same weights: the fixtures under tests/golden_rnn/ (scripts/golden_rnn.py, listed in its
 * MANIFEST) are bidirectional and stacked layers, batch-first and time-major, on packed
 * variable-length batches. Every PyTorch parameter is copied by its own name into the nabla
 * layer (the layout is the same, see include/nabla/seq.h); the output, the final state and the
 * gradients of sum(y * gy) + sum(h_n * g_h) (+ sum(c_n * g_c)) with respect to every parameter,
 * the input and the initial state must match within 1e-10 (float64). */
#include "support/nbt.h"

#include <math.h>
#include <stdio.h>

#define TOL 1e-10

/* path of tests/golden_rnn/<rel>: ../golden_rnn beside this file's folder (tests/nn). */
static const char *fixture_path(char *buf, size_t size, const char *rel)
{
    const char *slash = strrchr(__FILE__, '/');
    const int dir_len = slash ? (int)(slash - __FILE__) : 1;
    snprintf(buf, size, "%.*s/../golden_rnn/%s", dir_len, slash ? __FILE__ : ".", rel);
    return buf;
}

static nb_tensor *load(const char *name, const char *file)
{
    char rel[256], path[4400];
    snprintf(rel, sizeof rel, "%s/%s.npy", name, file);
    nb_tensor *t = nb_npy_load(fixture_path(path, sizeof path, rel));
    if (!t)
        print_error("%s: %s\n", path, nb_last_error());
    assert_non_null(t);
    return t;
}

/* got vs want: same shape, |g - w| <= TOL (1 + |w|); prints both when they differ. */
static void compare(const char *name, const char *what, nb_tensor *got, const nb_tensor *want)
{
    if (!got)
        print_error("%s %s: %s\n", name, what, nb_last_error());
    assert_non_null(got);
    if (nb_tensor_allclose(got, want, TOL, TOL))
        return;
    print_error("%s %s differs from PyTorch's by more than %g:\n", name, what, TOL);
    nb_tensor_print(got, "nabla", 64);
    nb_tensor_print(want, "PyTorch", 64);
    fail();
}

static void compare_file(const char *name, const char *file, nb_tensor *got)
{
    nb_tensor *want = load(name, file);
    compare(name, file, got, want);
    nb_tensor_free(want);
}

typedef struct rnn_case {
    char name[128], mode[16];
    int layers, bidir, batch_first, bias, in, hidden, packed, has_init;
} rnn_case;

static bool parse_line(const char *line, rnn_case *c)
{
    memset(c, 0, sizeof *c);
    return line[0] != '#' && sscanf(line, "%127s %15s %d %d %d %d %d %d %d %d", c->name, c->mode,
                                    &c->layers, &c->bidir, &c->batch_first, &c->bias, &c->in,
                                    &c->hidden, &c->packed, &c->has_init) == 10;
}

static nb_rnn_mode mode_of(const char *s)
{
    if (strcmp(s, "lstm") == 0)
        return NB_LSTM;
    if (strcmp(s, "gru") == 0)
        return NB_GRU;
    if (strcmp(s, "rnn_relu") == 0)
        return NB_RNN_RELU;
    assert_string_equal(s, "rnn_tanh");
    return NB_RNN_TANH;
}

/* sum(t * g) with g loaded from file. */
static nb_tensor *dot(const char *name, const char *file, nb_tensor *t, nb_tensor **keep)
{
    *keep = load(name, file);
    return nb_sum_all(nb_mul(t, *keep));
}

static void run_case(const rnn_case *c)
{
    const nb_rnn_mode mode = mode_of(c->mode);
    nb_rng rng = nb_rng_seed(1);
    const nb_rnn_opts opts = {.mode = mode,
                              .num_layers = c->layers,
                              .bidirectional = c->bidir != 0,
                              .no_bias = !c->bias,
                              .time_major = !c->batch_first,
                              .dtype = NB_F64};
    nb_module *m = nb_rnn_layer_new(c->in, c->hidden, &opts, &rng);
    assert_non_null(m);
    /* Same parameter set as PyTorch's: every nabla parameter has a fixture of its name, and
     * the counts agree (PyTorch: layers * directions * (4 with biases, 2 without)). */
    const int n = nb_module_num_param_tensors(m);
    assert_int_equal(n, c->layers * (c->bidir ? 2 : 1) * (c->bias ? 4 : 2));
    nb_named_tensor params[32];
    assert_int_equal(nb_module_named_params(m, params, 32), n);
    for (int i = 0; i < n; i++) {
        nb_tensor *w = load(c->name, params[i].name);
        assert_int_equal(nb_tensor_copy_into(params[i].tensor, w), NB_OK);
        nb_tensor_free(w);
    }

    nb_tensor *x = load(c->name, "x"), *lengths = c->packed ? load(c->name, "lengths") : NULL;
    nb_tensor *h0 = c->has_init ? load(c->name, "h0") : NULL;
    nb_tensor *c0 = c->has_init && mode == NB_LSTM ? load(c->name, "c0") : NULL;
    assert_int_equal(nb_tensor_set_requires_grad(x, true), NB_OK);
    if (h0)
        assert_int_equal(nb_tensor_set_requires_grad(h0, true), NB_OK);
    if (c0)
        assert_int_equal(nb_tensor_set_requires_grad(c0, true), NB_OK);

    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_rnn_state last;
    nb_tensor *y = nb_rnn_forward_ex(m, x, lengths ? nb_tensor_data_i64(lengths) : NULL,
                                     (nb_rnn_state){h0, c0}, &last);
    compare_file(c->name, "y", y);
    compare_file(c->name, "hn", last.h);
    if (mode == NB_LSTM)
        compare_file(c->name, "cn", last.c);
    else
        assert_null(last.c);

    nb_tensor *gy, *gh, *gc = NULL;
    nb_tensor *loss = nb_add(dot(c->name, "gy", y, &gy), dot(c->name, "ghn", last.h, &gh));
    if (mode == NB_LSTM)
        loss = nb_add(loss, dot(c->name, "gcn", last.c, &gc));
    assert_int_equal(nb_backward(loss), NB_OK);
    for (int i = 0; i < n; i++) {
        char file[64];
        snprintf(file, sizeof file, "grad_%s", params[i].name);
        compare_file(c->name, file, nb_tensor_grad(params[i].tensor));
    }
    compare_file(c->name, "dx", nb_tensor_grad(x));
    if (h0)
        compare_file(c->name, "dh0", nb_tensor_grad(h0));
    if (c0)
        compare_file(c->name, "dc0", nb_tensor_grad(c0));
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(gy);
    nb_tensor_free(gh);
    nb_tensor_free(gc);
    nb_tensor_free(x);
    nb_tensor_free(lengths);
    nb_tensor_free(h0);
    nb_tensor_free(c0);
    nb_module_free(m);
}

static void test_layers_match_pytorch_fixtures(void **state)
{
    (void)state;
    char path[4400];
    FILE *f = fopen(fixture_path(path, sizeof path, "MANIFEST"), "r");
    if (!f)
        print_error("cannot open %s\n", path);
    assert_non_null(f);
    char line[512];
    int n_cases = 0, n_packed = 0, n_time_major = 0, n_bidir = 0;
    while (fgets(line, sizeof line, f)) {
        rnn_case c;
        if (!parse_line(line, &c))
            continue;
        run_case(&c);
        n_cases++;
        n_packed += c.packed;
        n_time_major += !c.batch_first;
        n_bidir += c.bidir;
    }
    fclose(f);
    /* the fixtures cover what they are for: every mode, packed batches, both layouts */
    assert_true(n_cases >= 6);
    assert_true(n_packed >= 4 && n_time_major >= 2 && n_bidir >= 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layers_match_pytorch_fixtures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
