/* tests/nn/test_generate.c — evaluation scopes and autoregressive sampling (nn/generate.c). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "support/nbt.h"

enum { V = 5 };

/* A "language model" that predicts id + 1 (mod V) after id: an embedding whose row i is a
 * logit of 20 at i + 1 and 0 elsewhere, so ids [1, T] give logits [1, T, V]. */
static nb_module *successor_model(void)
{
    nb_rng rng = nb_rng_seed(1);
    nb_module *m = nb_embedding_new(V, V, &rng);
    assert_non_null(m);
    nb_tensor *w = nb_module_param(m, "weight");
    for (int i = 0; i < V; i++)
        for (int j = 0; j < V; j++)
            nb_tensor_set(w, i * V + j, j == (i + 1) % V ? 20.0 : 0.0);
    return m;
}

static void test_eval_scope_switches_mode_and_gradients_and_restores_them(void **state)
{
    (void)state;
    nb_module *m = successor_model();
    assert_true(nb_module_is_training(m));
    nb_eval_scope sc;
    assert_int_equal(nb_eval_begin(&sc, m, NULL), NB_OK);
    assert_false(nb_module_is_training(m));
    assert_false(nb_is_grad_enabled());
    assert_non_null(nb_step_active());
    nb_tensor *x = nb_arange(NB_I64, 0, 3, 1); /* lives in the scope's step */
    nb_tensor *y = nb_module_forward(m, x);
    assert_non_null(y);
    assert_false(nb_tensor_requires_grad(y));
    assert_int_equal(nb_eval_begin(&(nb_eval_scope){0}, m, NULL), NB_ERR_STATE);
    assert_non_null(strstr(nb_last_error(), "a step is already active"));
    nb_clear_error();
    nb_eval_end(&sc);
    assert_null(nb_step_active());
    assert_true(nb_module_is_training(m));
    assert_true(nb_is_grad_enabled());
    nb_eval_end(&sc); /* a second end is a no-op */
    /* a given step is begun and ended, not freed; a NULL model only switches gradients */
    nb_step *step = nb_step_new();
    assert_int_equal(nb_eval_begin(&sc, NULL, step), NB_OK);
    assert_ptr_equal(nb_step_active(), step);
    nb_eval_end(&sc);
    assert_null(nb_step_active());
    nb_step_free(step);
    assert_int_equal(nb_eval_begin(NULL, m, NULL), NB_ERR_VALUE);
    nb_clear_error();
    nb_module_free(m);
}

static void test_generate_follows_the_model_and_slides_the_context(void **state)
{
    (void)state;
    nb_module *m = successor_model();
    nb_rng rng = nb_rng_seed(2);
    nb_sample_opts o = NB_SAMPLE_DEFAULTS;
    o.top_k = 1; /* the most likely id every time */
    const int64_t prompt[3] = {4, 0, 1};
    int64_t out[7] = {0};
    assert_int_equal(nb_generate(m, prompt, 3, 7, &o, &rng, out), NB_OK);
    for (int i = 0; i < 7; i++) /* each id follows the one drawn before: the window slides */
        assert_int_equal(out[i], (2 + i) % V);
    assert_true(nb_module_is_training(m));
    assert_true(nb_is_grad_enabled());
    assert_null(nb_step_active());
    /* with sampling, the same seed gives the same ids */
    int64_t a[20], b[20];
    nb_rng r1 = nb_rng_seed(5), r2 = nb_rng_seed(5);
    nb_tensor *w = nb_module_param(m, "weight");
    for (int i = 0; i < V * V; i++)
        nb_tensor_set(w, i, 0.0); /* uniform logits */
    assert_int_equal(nb_generate(m, prompt, 2, 20, NULL, &r1, a), NB_OK);
    assert_int_equal(nb_generate(m, prompt, 2, 20, NULL, &r2, b), NB_OK);
    assert_memory_equal(a, b, sizeof a);
    nb_module_free(m);
}

static void test_generate_reports_errors(void **state)
{
    (void)state;
    nb_module *m = successor_model();
    nb_rng rng = nb_rng_seed(2);
    const int64_t bad_prompt[2] = {1, 9}; /* 9 is outside the embedding's 5 rows */
    int64_t out[3] = {-1, -1, -1};
    assert_int_not_equal(nb_generate(m, bad_prompt, 2, 3, NULL, &rng, out), NB_OK);
    assert_non_null(strstr(nb_last_error(), "nb_generate: id 0: "));
    assert_int_equal(out[0], -1);
    assert_true(nb_module_is_training(m));
    assert_true(nb_is_grad_enabled());
    nb_clear_error();
    const int64_t prompt[2] = {1, 2};
    assert_int_equal(nb_generate(m, prompt, 0, 3, NULL, &rng, out), NB_ERR_VALUE);
    assert_non_null(strstr(nb_last_error(), "ctx >= 1"));
    nb_clear_error();
    assert_int_equal(nb_generate(m, prompt, 2, 3, NULL, NULL, out), NB_ERR_VALUE);
    nb_clear_error();
    nb_sample_opts o = NB_SAMPLE_DEFAULTS;
    o.num_samples = 2;
    assert_int_equal(nb_generate(m, prompt, 2, 3, &o, &rng, out), NB_ERR_VALUE);
    nb_clear_error();
    o = (nb_sample_opts)NB_SAMPLE_DEFAULTS;
    o.temperature = -1; /* refused by nb_sample_logits */
    assert_int_equal(nb_generate(m, prompt, 2, 3, &o, &rng, out), NB_ERR_VALUE);
    assert_non_null(strstr(nb_last_error(), "nb_generate: id 0: "));
    nb_clear_error();
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    assert_int_equal(nb_generate(m, prompt, 2, 3, NULL, &rng, out), NB_ERR_STATE);
    nb_clear_error();
    nb_step_end(step);
    nb_step_free(step);
    nb_module_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eval_scope_switches_mode_and_gradients_and_restores_them),
        cmocka_unit_test(test_generate_follows_the_model_and_slides_the_context),
        cmocka_unit_test(test_generate_reports_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
