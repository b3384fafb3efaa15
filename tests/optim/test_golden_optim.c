/* tests/optim/test_golden_optim.c — NAdam, RAdam and Adamax trajectories, one-cycle and
 * ReduceLROnPlateau rate sequences against PyTorch's (tests/optim/golden/, written by
 * scripts/golden_optim.py with torch 1.13): parameters in float64 within 1e-10, rates within
 * 1e-12. Every case runs two parameter groups with different options. */
#include "optim_problem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_ROWS = 64, MAX_COLS = 8 };

typedef struct {
    int rows, cols;
    double v[MAX_ROWS][MAX_COLS];
} table;

/* tests/optim/golden/<name>.txt: '#' lines, then rows of numbers ("nan" allowed). */
static table read_golden(const char *name)
{
    char path[4096];
    const char *here = __FILE__, *slash = strrchr(here, '/');
    snprintf(path, sizeof path, "%.*s/golden/%s.txt", (int)(slash ? slash - here : 1),
             slash ? here : ".", name);
    FILE *f = fopen(path, "r");
    if (!f)
        fprintf(stderr, "cannot open %s\n", path);
    assert_non_null(f);
    table t = {0};
    char line[2048];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        assert_true(t.rows < MAX_ROWS);
        int c = 0;
        char *s = line, *end;
        for (double x = strtod(s, &end); end != s; x = strtod(s, &end)) {
            assert_true(c < MAX_COLS);
            t.v[t.rows][c++] = x;
            s = end;
        }
        assert_true(t.rows == 0 || c == t.cols);
        t.cols = c;
        t.rows++;
    }
    fclose(f);
    assert_true(t.rows > 0);
    return t;
}

static void expect_close(double got, double want, double tol, const char *what, int row, int col)
{
    const bool ok = isnan(want) ? isnan(got) : fabs(got - want) <= tol;
    if (!ok)
        fprintf(stderr, "%s row %d column %d: got %.17g, PyTorch %.17g\n", what, row, col, got,
                want);
    assert_true(ok);
}

/* ---- optimizers ---- */

/* Two f64 parameters w1, w2 starting at QP0; w1 in group 0 (the constructor's), w2 in group 1
 * (lr 0.05, betas 0.8/0.99, eps 1e-6, weight decay 0.1, and `extra`). 10 updates with gradient
 * a w + b; after each, both against the golden row. */
static void check_optimizer(const char *name, nb_optim *o, nb_optim_group_opts g1)
{
    assert_non_null(o);
    nb_module *m = nb_module_new("Pair", NB_F64, NULL, NULL, NULL);
    nb_tensor *w[2] = {nb_module_add_param(m, "w1", 1, (int64_t[]){QN}),
                       nb_module_add_param(m, "w2", 1, (int64_t[]){QN})};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < QN; i++)
            nb_tensor_set(w[k], i, QP0[i]);
    g1.lr = 0.05;
    g1.beta1 = 0.8;
    g1.beta2 = 0.99;
    g1.eps = 1e-6;
    g1.weight_decay = 0.1;
    assert_int_equal(nb_optim_add_param(o, "w1", w[0]), NB_OK);
    assert_int_equal(nb_optim_add_group(o, NULL, NULL, &g1), 1);
    assert_int_equal(nb_optim_add_group_param(o, 1, "w2", w[1]), NB_OK);
    const table t = read_golden(name);
    assert_int_equal(t.cols, 2 * QN);
    for (int r = 0; r < t.rows; r++) {
        for (int k = 0; k < 2; k++)
            for (int i = 0; i < QN; i++)
                nb_tensor_set(nb_tensor_grad(w[k]), i, quad_grad(i, nb_tensor_get(w[k], i)));
        assert_int_equal(nb_optim_update(o), NB_OK);
        for (int k = 0; k < 2; k++)
            for (int i = 0; i < QN; i++)
                expect_close(nb_tensor_get(w[k], i), t.v[r][k * QN + i], 1e-10, name, r,
                             k * QN + i);
    }
    /* the parameters really moved, differently per group */
    assert_true(fabs(nb_tensor_get(w[0], 0) - nb_tensor_get(w[1], 0)) > 1e-3);
    nb_optim_free(o);
    nb_module_free(m);
}

static void test_nadam_matches_pytorch(void **state)
{
    (void)state;
    nb_nadam_opts h = nb_nadam_defaults();
    h.lr = 0.1;
    nb_optim_group_opts g1 = nb_optim_group_defaults();
    g1.momentum_decay = 0.01;
    check_optimizer("nadam", nb_nadam_new(NULL, &h), g1);
}

static void test_radam_matches_pytorch_in_both_regimes(void **state)
{
    (void)state;
    /* with beta2 0.999 (group 0) and 0.99 (group 1) steps 1-5 take the unrectified branch and
     * steps 6-10 the rectified one */
    nb_radam_opts h = nb_radam_defaults();
    h.lr = 0.1;
    check_optimizer("radam", nb_radam_new(NULL, &h), nb_optim_group_defaults());
}

static void test_adamax_matches_pytorch(void **state)
{
    (void)state;
    nb_adamax_opts h = nb_adamax_defaults();
    h.lr = 0.1;
    check_optimizer("adamax", nb_adamax_new(NULL, &h), nb_optim_group_defaults());
}

/* ---- schedules ---- */

/* An optimizer over two tiny parameters, group 0 with rate lr0 and group 1 with lr1. */
typedef struct {
    nb_module *m;
    nb_optim *o;
} two_groups;

static two_groups make_two_groups(nb_optim *o, double lr1)
{
    two_groups g = {nb_module_new("Two", NB_F64, NULL, NULL, NULL), o};
    assert_non_null(o);
    nb_tensor *a = nb_module_add_param(g.m, "a", 1, (int64_t[]){2});
    nb_tensor *b = nb_module_add_param(g.m, "b", 1, (int64_t[]){2});
    nb_optim_group_opts go = nb_optim_group_defaults();
    go.lr = lr1;
    assert_int_equal(nb_optim_add_param(o, "a", a), NB_OK);
    assert_int_equal(nb_optim_add_group(o, NULL, NULL, &go), 1);
    assert_int_equal(nb_optim_add_group_param(o, 1, "b", b), NB_OK);
    return g;
}

static void free_two_groups(two_groups *g)
{
    nb_optim_free(g->o);
    nb_module_free(g->m);
}

/* Apply s at every step: lr0 lr1 (and momentum0 momentum1) against the golden rows. */
static void check_cycle(const char *name, two_groups g, const nb_lr_schedule *s,
                        const char *momentum)
{
    const table t = read_golden(name);
    assert_int_equal(t.cols, 4);
    assert_int_equal(t.rows, s->total_steps);
    for (int r = 0; r < t.rows; r++) {
        assert_int_equal(nb_optim_apply_schedule(g.o, s, r), NB_OK);
        for (int k = 0; k < 2; k++) {
            expect_close(nb_optim_get_group_option(g.o, k, "lr"), t.v[r][k], 1e-12, name, r, k);
            expect_close(nb_optim_get_group_option(g.o, k, momentum), t.v[r][2 + k], 1e-12, name, r,
                         2 + k);
        }
        /* group 0's rate is also the schedule's own value at base_lr = group 0's initial rate */
        expect_close(nb_lr_at(s, r), t.v[r][0], 1e-12, name, r, 0);
        expect_close(nb_lr_momentum_at(s, r), t.v[r][2], 1e-12, name, r, 2);
    }
}

static void test_one_cycle_cosine_matches_pytorch(void **state)
{
    (void)state;
    /* max_lr per group = the groups' rates, 0.1 and 0.02; SGD momentum cycled */
    nb_sgd_opts h = {.lr = 0.1, .momentum = 0.9};
    two_groups g = make_two_groups(nb_sgd_new(NULL, &h), 0.02);
    nb_lr_schedule s = nb_lr_one_cycle(0.1, 25);
    check_cycle("one_cycle_cos", g, &s, "momentum");
    free_two_groups(&g);
}

static void test_one_cycle_linear_three_phase_matches_pytorch(void **state)
{
    (void)state;
    nb_adam_opts h = nb_adam_defaults();
    h.lr = 0.2;
    two_groups g = make_two_groups(nb_adam_new(NULL, &h), 0.05);
    nb_lr_schedule s = nb_lr_one_cycle(0.2, 20);
    s.pct_start = 0.25;
    s.anneal_linear = true;
    s.three_phase = true;
    s.div_factor = 10;
    s.final_div_factor = 100;
    s.base_momentum = 0.8;
    s.max_momentum = 0.9;
    check_cycle("one_cycle_linear_three", g, &s, "beta1");
    free_two_groups(&g);
}

/* Observe the golden metrics: lr0 lr1 after each against the rows. */
static void check_plateau(const char *name, nb_lr_plateau p)
{
    nb_sgd_opts h = {.lr = 0.1};
    two_groups g = make_two_groups(nb_sgd_new(NULL, &h), 0.05);
    const table t = read_golden(name);
    assert_int_equal(t.cols, 3);
    int reductions = 0;
    for (int r = 0; r < t.rows; r++) {
        const double before = nb_optim_get_group_option(g.o, 0, "lr");
        assert_int_equal(nb_lr_plateau_observe(&p, g.o, t.v[r][0]), NB_OK);
        reductions += nb_optim_get_group_option(g.o, 0, "lr") < before;
        for (int k = 0; k < 2; k++)
            expect_close(nb_optim_get_group_option(g.o, k, "lr"), t.v[r][1 + k], 1e-12, name, r,
                         1 + k);
    }
    assert_true(reductions >= 2); /* the sequence does exercise the rule */
    free_two_groups(&g);
}

static void test_plateau_min_relative_matches_pytorch(void **state)
{
    (void)state;
    nb_lr_plateau p = nb_lr_plateau_defaults();
    p.factor = 0.5;
    p.patience = 2;
    p.threshold = 0.01;
    p.cooldown = 1;
    p.min_lr = 0.004;
    check_plateau("plateau_min_rel", p);
}

static void test_plateau_max_absolute_matches_pytorch(void **state)
{
    (void)state;
    nb_lr_plateau p = nb_lr_plateau_defaults();
    p.maximize = true;
    p.factor = 0.3;
    p.patience = 1;
    p.threshold = 0.02;
    p.threshold_abs = true;
    p.cooldown = 2;
    p.eps = 1e-3;
    check_plateau("plateau_max_abs", p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nadam_matches_pytorch),
        cmocka_unit_test(test_radam_matches_pytorch_in_both_regimes),
        cmocka_unit_test(test_adamax_matches_pytorch),
        cmocka_unit_test(test_one_cycle_cosine_matches_pytorch),
        cmocka_unit_test(test_one_cycle_linear_three_phase_matches_pytorch),
        cmocka_unit_test(test_plateau_min_relative_matches_pytorch),
        cmocka_unit_test(test_plateau_max_absolute_matches_pytorch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
