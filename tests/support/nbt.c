/* tests/support/nbt.c — gradient-check helpers, case runner, temp paths. */
#include "support/nbt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

nb_status nbt_check_tensors(nb_gradcheck_fn f, void *user, nb_tensor *const *in, int n)
{
    nb_gradcheck_opts o = {.atol = 1e-7, .rtol = 1e-5, .seed = 42};
    nb_gradcheck_report rep;
    nb_status st = nb_gradcheck(f, user, in, n, &o, &rep);
    if (st != NB_OK) {
        fprintf(stderr, "gradcheck failed: %s\n", nb_last_error());
        for (int i = 0; i < n; i++)
            fprintf(stderr, "  input %d: max abs err %.3g, max rel err %.3g\n", i,
                    rep.max_abs_err[i], rep.max_rel_err[i]);
    }
    return st;
}

nb_status nbt_check(nb_gradcheck_fn f, void *user, const nbt_input *spec, int n, uint64_t seed)
{
    nb_tensor *in[NB_GRADCHECK_MAX_INPUTS] = {0};
    nb_rng rng = nb_rng_seed(seed ? seed : 7);
    nb_status st = NB_OK;
    for (int i = 0; i < n && st == NB_OK; i++) {
        in[i] =
            nb_tensor_uniform(NB_F64, spec[i].ndim, spec[i].shape, &rng, spec[i].lo, spec[i].hi);
        if (!in[i]) {
            st = nb_last_status();
            break;
        }
        double *v = nb_tensor_data_f64(in[i]);
        for (int64_t j = 0; j < nb_tensor_numel(in[i]); j++)
            for (int k = 0; k < spec[i].n_kinks; k++)
                if (fabs(v[j] - spec[i].kinks[k]) < NBT_KINK_GAP)
                    v[j] = spec[i].kinks[k] + (v[j] >= spec[i].kinks[k] ? 1 : -1) * NBT_KINK_GAP;
        if (!spec[i].no_grad)
            st = nb_tensor_set_requires_grad(in[i], true);
    }
    if (st == NB_OK)
        st = nbt_check_tensors(f, user, in, n);
    for (int i = 0; i < n; i++)
        nb_tensor_free(in[i]);
    return st;
}

static void run_one(void **state)
{
    const nbt_case *c = *state;
    nb_status st = c->run();
    if (st != NB_OK)
        fprintf(stderr, "case %s: %s\n", c->name, nb_last_error());
    nb_clear_error();
    assert_int_equal(st, NB_OK);
}

int nbt_run_cases(const char *group, const nbt_case *cases)
{
    int n = 0;
    while (cases[n].name)
        n++;
    struct CMUnitTest *tests = calloc((size_t)n, sizeof *tests);
    for (int i = 0; i < n; i++) {
        tests[i].name = cases[i].name;
        tests[i].test_func = run_one;
        tests[i].initial_state = (void *)(uintptr_t)&cases[i];
    }
    int rc = _cmocka_run_group_tests(group, tests, (size_t)n, NULL, NULL);
    free(tests);
    return rc;
}

nb_tensor *nbt_uniform(nb_dtype dtype, int ndim, const int64_t *shape, uint64_t seed, double lo,
                       double hi)
{
    nb_rng rng = nb_rng_seed(seed);
    nb_tensor *t = nb_tensor_uniform(dtype, ndim, shape, &rng, lo, hi);
    assert_non_null(t);
    return t;
}

nb_tensor *nbt_ids(int ndim, const int64_t *shape, const int64_t *ids)
{
    nb_tensor *t = nb_tensor_from_data(NB_I64, ndim, shape, ids);
    assert_non_null(t);
    return t;
}

void nbt_assert_values(const nb_tensor *t, const double *ref, double tol)
{
    assert_non_null(t);
    for (int64_t i = 0; i < nb_tensor_numel(t); i++) {
        double v = nb_tensor_get(t, i);
        if (!(fabs(v - ref[i]) <= tol * fmax(1.0, fabs(ref[i])))) {
            if (isnan(v) && isnan(ref[i]))
                continue;
            print_error("element %lld: got %.17g, expected %.17g (tol %g)\n", (long long)i, v,
                        ref[i], tol);
            fail();
        }
    }
}

void nbt_assert_finite(const nb_tensor *t)
{
    assert_non_null(t);
    for (int64_t i = 0; i < nb_tensor_numel(t); i++) {
        double v = nb_tensor_get(t, i);
        if (!isfinite(v)) {
            print_error("element %lld is %g\n", (long long)i, v);
            fail();
        }
    }
}

void nbt_assert_error_at(nb_status status, const char *part, const char *file, int line)
{
    nb_status got = nb_last_status();
    const char *msg = nb_last_error();
    if (got != status || !strstr(msg, part)) {
        print_error("expected %s containing \"%s\"\n     got %s: \"%s\"\n", nb_status_name(status),
                    part, nb_status_name(got), msg);
        _fail(file, line);
    }
    nb_clear_error();
}

const char *nbt_tmp_path(const char *tag)
{
    static char buf[512];
    static int counter = 0;
    const char *dir = getenv("NB_TEST_TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    snprintf(buf, sizeof buf, "%s/%s-%d-%d", dir, tag, (int)getpid(), counter++);
    return buf;
}

int nbt_end_active_step(void **state)
{
    (void)state;
    if (nb_step_active())
        nb_step_end(nb_step_active());
    nb_clear_error();
    return 0;
}
