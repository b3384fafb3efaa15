/* tests/nn/test_alloc_sweep.c — out-of-memory at every allocation of a whole training step and
 * of a checkpoint save + load: for N = 1, 2, ... the N-th library allocation fails; every run
 * must report NB_ERR_NOMEM (never crash, never leak: the ASan build checks), and the next normal
 * step on the same objects must work. The sweep ends at the first N past the last allocation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/nbt.h"
#include "support/nbt_files.h"

enum { N_OUT = 3, MAX_SWEEP = 100000 };

/* Sizes of the MLP and its batch. The small one fits the arena's first chunk; the large one makes
 * the arena grow several times in the middle of the forward and backward passes. */
typedef struct sizes {
    int64_t batch, n_in, hidden;
} sizes;
static const sizes SMALL = {6, 5, 7}, LARGE = {256, 64, 512};

typedef struct trainer {
    sizes z;
    nb_module *net;
    nb_optim *opt;
    nb_step *step;
    nb_tensor *x, *y;
} trainer;

static nb_module *mlp(sizes z, uint64_t seed)
{
    nb_rng r = nb_rng_seed(seed);
    nb_module *m[3] = {nb_linear_new(z.n_in, z.hidden, true, &r), nb_relu_new(),
                       nb_linear_new(z.hidden, N_OUT, true, &r)};
    return nb_sequential_new(3, m); /* owns m[] in every case, NULL entries included */
}

static nb_optim *make_optim(nb_module *net, bool adam)
{
    if (adam) {
        nb_adam_opts o = nb_adam_defaults();
        o.lr = 0.01;
        return nb_adam_new(net, &o);
    }
    nb_sgd_opts o = nb_sgd_defaults();
    o.lr = 0.05;
    o.momentum = 0.9;
    return nb_sgd_new(net, &o);
}

/* Everything a training loop holds; false (NB_ERR_NOMEM pending, nothing leaked) on failure. */
static bool trainer_init(trainer *t, sizes z, bool adam)
{
    memset(t, 0, sizeof *t);
    t->z = z;
    nb_rng r = nb_rng_seed(99);
    t->net = mlp(z, 7);
    t->opt = t->net ? make_optim(t->net, adam) : NULL;
    t->step = t->opt ? nb_step_new() : NULL;
    t->x = t->step ? nb_tensor_uniform(NB_F32, 2, (const int64_t[]){z.batch, z.n_in}, &r, -1, 1)
                   : NULL;
    t->y = t->x ? nb_tensor_new(NB_I64, 1, (const int64_t[]){z.batch}) : NULL;
    if (!t->y) {
        nb_tensor_free(t->x);
        nb_step_free(t->step);
        nb_optim_free(t->opt);
        nb_module_free(t->net);
        return false;
    }
    for (int64_t i = 0; i < z.batch; i++)
        nb_tensor_data_i64(t->y)[i] = i % N_OUT;
    return true;
}

static void trainer_deinit(trainer *t)
{
    nb_tensor_free(t->x);
    nb_tensor_free(t->y);
    nb_step_free(t->step);
    nb_optim_free(t->opt);
    nb_module_free(t->net);
}

/* One training step; returns the first error of the step (NB_OK when all went well). */
static long allocs_before_end; /* library allocations of the last step up to nb_step_end */
static nb_status train_step(trainer *t, double *loss_out)
{
    long c0 = nb_debug_alloc_count();
    nb_status st = nb_step_begin(t->step);
    if (st != NB_OK)
        return st;
    nb_optim_zero_grad(t->opt);
    nb_tensor *loss = nb_cross_entropy(nb_module_forward(t->net, t->x), t->y, NB_REDUCE_MEAN);
    st = loss ? nb_backward(loss) : nb_last_status();
    if (st == NB_OK)
        st = nb_optim_update(t->opt);
    if (loss_out)
        *loss_out = loss ? nb_tensor_item(loss) : NAN;
    if (st == NB_OK)
        st = nb_last_status(); /* an error swallowed on the way still counts */
    allocs_before_end = nb_debug_alloc_count() - c0;
    /* nb_step_end may merge the arena's chunks into one; when that allocation fails it keeps
     * the chunks it has, which is not an error */
    nb_step_end(t->step);
    return st;
}

static void sweep_first_step(sizes z, bool adam)
{
    long n;
    for (n = 1; n < MAX_SWEEP; n++) {
        trainer t;
        assert_true(trainer_init(&t, z, adam));
        nb_debug_fail_alloc_after(n);
        nb_status st = train_step(&t, NULL);
        long made = allocs_before_end;
        nb_debug_fail_alloc_after(0);
        if (st == NB_OK) {
            /* the step made fewer than n allocations (the failure never fired): done */
            if (made >= n)
                fail_msg("fail point %ld of %ld allocations: the step succeeded anyway", n, made);
            trainer_deinit(&t);
            break;
        }
        if (st != NB_ERR_NOMEM)
            fail_msg("fail point %ld: status %s (%s), expected out of memory", n,
                     nb_status_name(st), nb_last_error());
        nb_clear_error();
        /* the same objects train normally afterwards */
        double l1, l2;
        assert_int_equal(train_step(&t, &l1), NB_OK);
        assert_int_equal(train_step(&t, &l2), NB_OK);
        assert_true(isfinite(l1) && isfinite(l2));
        trainer_deinit(&t);
    }
    /* the first step allocates at least the arena's first chunk and the tape */
    assert_true(n > 2 && n < MAX_SWEEP);
    print_message("%s, batch %lld: first training step swept over %ld allocation points\n",
                  adam ? "adam" : "sgd", (long long)z.batch, n - 1);

    /* steady state: after warm-up a step makes no library allocation at all */
    trainer t;
    assert_true(trainer_init(&t, z, adam));
    assert_int_equal(train_step(&t, NULL), NB_OK);
    assert_int_equal(train_step(&t, NULL), NB_OK);
    long c0 = nb_debug_alloc_count();
    assert_int_equal(train_step(&t, NULL), NB_OK);
    assert_int_equal(nb_debug_alloc_count() - c0, 0);
    trainer_deinit(&t);
}

static void test_every_allocation_failure_in_a_first_sgd_step_is_reported(void **state)
{
    (void)state;
    sweep_first_step(SMALL, false);
    sweep_first_step(LARGE, false);
}

static void test_every_allocation_failure_in_a_first_adam_step_is_reported(void **state)
{
    (void)state;
    sweep_first_step(SMALL, true);
    sweep_first_step(LARGE, true);
}

static void test_every_allocation_failure_while_building_is_reported(void **state)
{
    (void)state;
    long n;
    for (n = 1; n < MAX_SWEEP; n++) {
        trainer t;
        long c0 = nb_debug_alloc_count();
        nb_debug_fail_alloc_after(n);
        bool ok = trainer_init(&t, SMALL, true);
        long made = nb_debug_alloc_count() - c0;
        nb_debug_fail_alloc_after(0);
        if (ok) {
            assert_true(made < n);
            assert_int_equal(nb_last_status(), NB_OK);
            trainer_deinit(&t);
            break;
        }
        nbt_assert_error(NB_ERR_NOMEM, "");
    }
    assert_true(n > 5 && n < MAX_SWEEP);
    print_message("building the MLP, Adam and a step: swept over %ld allocation points\n", n - 1);
}

/* Checkpoint of the model's parameters and the optimizer's state. */
static int collect(trainer *t, nb_named_tensor *list, int cap)
{
    int np = nb_module_named_params(t->net, list, cap);
    int ns = nb_optim_named_state(t->opt, list + np, cap - np);
    assert_true(np + ns <= cap);
    return np + ns;
}

static void test_every_allocation_failure_in_checkpoint_save_and_load_is_reported(void **state)
{
    (void)state;
    trainer t;
    assert_true(trainer_init(&t, SMALL, true));
    assert_int_equal(train_step(&t, NULL), NB_OK);
    nb_named_tensor list[32];
    int n_list = collect(&t, list, 32);
    char path[512], ref[512];
    snprintf(path, sizeof path, "%s", nbt_tmp_path("sweep.ckpt"));
    snprintf(ref, sizeof ref, "%s", nbt_tmp_path("sweep-ref.ckpt"));
    assert_int_equal(nb_checkpoint_save(ref, list, n_list), NB_OK);
    size_t ref_size;
    unsigned char *ref_bytes = nbt_read_all(ref, &ref_size);
    assert_non_null(ref_bytes);

    /* save: the file at `path` is either absent (nothing saved yet) or complete */
    long n_save, n_load;
    for (n_save = 1; n_save < MAX_SWEEP; n_save++) {
        remove(path);
        long c0 = nb_debug_alloc_count();
        nb_debug_fail_alloc_after(n_save);
        nb_status st = nb_checkpoint_save(path, list, n_list);
        long made = nb_debug_alloc_count() - c0;
        nb_debug_fail_alloc_after(0);
        if (st == NB_OK) {
            assert_true(made < n_save);
            break;
        }
        nbt_assert_error(NB_ERR_NOMEM, "");
        assert_null(fopen(path, "rb")); /* nothing, not a partial file */
    }
    assert_true(nbt_file_equals(path, ref_bytes, ref_size));

    /* load into the live objects after one more step: a failed load changes nothing */
    assert_int_equal(train_step(&t, NULL), NB_OK);
    for (n_load = 1; n_load < MAX_SWEEP; n_load++) {
        nb_tensor *before[32];
        for (int i = 0; i < n_list; i++)
            before[i] = nb_tensor_copy(list[i].tensor);
        long c0 = nb_debug_alloc_count();
        nb_debug_fail_alloc_after(n_load);
        nb_status st = nb_checkpoint_load(path, list, n_list);
        long made = nb_debug_alloc_count() - c0;
        nb_debug_fail_alloc_after(0);
        if (st == NB_OK)
            assert_true(made < n_load);
        if (st != NB_OK) {
            nbt_assert_error(NB_ERR_NOMEM, "");
            for (int i = 0; i < n_list; i++)
                assert_memory_equal(nb_tensor_data(before[i]), nb_tensor_data(list[i].tensor),
                                    (size_t)nb_tensor_numel(before[i]) *
                                        nb_dtype_size(nb_tensor_dtype(before[i])));
        }
        for (int i = 0; i < n_list; i++)
            nb_tensor_free(before[i]);
        if (st == NB_OK)
            break;
        /* training continues normally after the failed load */
        assert_int_equal(train_step(&t, NULL), NB_OK);
    }
    assert_true(n_save > 1 && n_save < MAX_SWEEP);
    assert_true(n_load > 1 && n_load < MAX_SWEEP);
    /* the loaded state is the saved one: saving again gives the same bytes */
    assert_int_equal(nb_checkpoint_save(path, list, n_list), NB_OK);
    assert_true(nbt_file_equals(path, ref_bytes, ref_size));
    print_message("checkpoint: save swept over %ld, load over %ld allocation points\n", n_save - 1,
                  n_load - 1);
    nbt_free(ref_bytes);
    remove(path);
    remove(ref);
    trainer_deinit(&t);
}

static int reset(void **state)
{
    (void)state;
    nb_clear_error();
    nb_debug_fail_alloc_after(0);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_every_allocation_failure_while_building_is_reported, reset),
        cmocka_unit_test_setup(test_every_allocation_failure_in_a_first_sgd_step_is_reported,
                               reset),
        cmocka_unit_test_setup(test_every_allocation_failure_in_a_first_adam_step_is_reported,
                               reset),
        cmocka_unit_test_setup(
            test_every_allocation_failure_in_checkpoint_save_and_load_is_reported, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
