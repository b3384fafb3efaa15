/* tests/data/test_batches.c — datasets in memory (data/batches.c): subsets, seeded splits, class
 * counts, normalisation and the minibatch iterator. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/nbt.h"

/* n samples of shape [n, 2, 3]: sample i holds i * 10 + k in element k; label i % 4. */
static void make_dataset(nb_dataset *ds, int64_t n)
{
    int64_t shape[3] = {n, 2, 3};
    ds->x = nb_tensor_new(NB_F32, 3, shape);
    ds->y = nb_tensor_new(NB_I64, 1, shape);
    ds->n_classes = 4;
    ds->class_names = NULL;
    for (int64_t i = 0; i < n; i++) {
        for (int k = 0; k < 6; k++)
            nb_tensor_set(ds->x, i * 6 + k, (double)(i * 10 + k));
        nb_tensor_set(ds->y, i, (double)(i % 4));
    }
}

/* Sample index a row holds (checks that the whole row and its label belong together). */
static int64_t row_id(nb_tensor *x, nb_tensor *y, int64_t r)
{
    const float *p = nb_tensor_data_f32(x) + r * 6;
    int64_t id = (int64_t)p[0] / 10;
    for (int k = 0; k < 6; k++)
        assert_float_equal(p[k], id * 10 + k, 0);
    if (y)
        assert_int_equal(nb_tensor_data_i64(y)[r], id % 4);
    return id;
}

static void test_split_partitions_every_sample_once_and_is_seeded(void **state)
{
    (void)state;
    nb_dataset all = {0};
    make_dataset(&all, 50);
    nb_dataset tr, va, te;
    assert_int_equal(nb_dataset_split(&all, 0, 0, 7, &tr, &va, &te), NB_OK);
    assert_int_equal(nb_dataset_size(&tr), 30);
    assert_int_equal(nb_dataset_size(&va), 10);
    assert_int_equal(nb_dataset_size(&te), 10);
    int seen[50] = {0};
    nb_dataset *parts[3] = {&tr, &va, &te};
    for (int p = 0; p < 3; p++) {
        assert_int_equal(parts[p]->n_classes, 4);
        for (int64_t r = 0; r < nb_dataset_size(parts[p]); r++)
            seen[row_id(parts[p]->x, parts[p]->y, r)]++;
    }
    for (int i = 0; i < 50; i++)
        assert_int_equal(seen[i], 1);
    /* shuffled: the train part is not simply the first 30 */
    int in_order = 0;
    for (int64_t r = 0; r < 30; r++)
        in_order += row_id(tr.x, tr.y, r) == r;
    assert_true(in_order < 30);

    /* same seed -> same split; another seed -> another split */
    nb_dataset tr2, tr3;
    assert_int_equal(nb_dataset_split(&all, 0, 0, 7, &tr2, NULL, NULL), NB_OK);
    assert_true(nb_tensor_allclose(tr.x, tr2.x, 0, 0));
    assert_int_equal(nb_dataset_split(&all, 0, 0, 8, &tr3, NULL, NULL), NB_OK);
    assert_false(nb_tensor_allclose(tr.x, tr3.x, 0, 0));

    /* custom fractions; the test part may be empty */
    nb_dataset a, b, c;
    assert_int_equal(nb_dataset_split(&all, 0.5, 0.5, 1, &a, &b, &c), NB_OK);
    assert_int_equal(nb_dataset_size(&a), 25);
    assert_int_equal(nb_dataset_size(&b), 25);
    assert_int_equal(nb_dataset_size(&c), 0);
    nb_dataset_deinit(&a);
    nb_dataset_deinit(&b);
    nb_dataset_deinit(&c);
    assert_int_equal(nb_dataset_split(&all, 0.8, 0.3, 1, &a, &b, &c), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "fractions train 0.8 and validation 0.3");
    assert_null(a.x);

    nb_dataset *free_me[] = {&all, &tr, &va, &te, &tr2, &tr3};
    for (size_t i = 0; i < sizeof free_me / sizeof *free_me; i++)
        nb_dataset_deinit(free_me[i]);
}

static void test_subset_and_class_counts(void **state)
{
    (void)state;
    nb_dataset all = {0}, sub;
    make_dataset(&all, 10);
    const int64_t idx[4] = {9, 0, 9, 3};
    assert_int_equal(nb_dataset_subset(&all, idx, 4, &sub), NB_OK);
    for (int r = 0; r < 4; r++)
        assert_int_equal(row_id(sub.x, sub.y, r), idx[r]);
    int64_t counts[4];
    assert_int_equal(nb_dataset_class_counts(&sub, counts), NB_OK);
    const int64_t want[4] = {1, 2, 0, 1}; /* labels 1, 0, 1, 3 */
    assert_memory_equal(counts, want, sizeof want);
    nb_dataset_deinit(&sub);
    const int64_t bad[2] = {0, 10};
    assert_int_equal(nb_dataset_subset(&all, bad, 2, &sub), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "index 10 (entry 1) is out of range [0, 10)");
    nb_dataset_deinit(&all);
}

static void test_standardisation_uses_the_training_statistics(void **state)
{
    (void)state;
    nb_rng r = nb_rng_seed(3);
    int64_t shape[4] = {40, 3, 2, 2};
    nb_tensor *train = nb_tensor_normal(NB_F32, 4, shape, &r, 5, 2);
    nb_tensor *test = nb_tensor_normal(NB_F32, 4, shape, &r, 5, 2);
    nb_tensor *test_before = nb_tensor_copy(test);
    nb_norm_stats s;
    assert_int_equal(nb_norm_fit(train, NB_NORM_STANDARD, false, 0, 0, &s), NB_OK);
    assert_int_equal(s.channels, 1);
    assert_float_equal(s.mean[0], 5, 0.3);
    assert_float_equal(s.std[0], 2, 0.3);
    assert_int_equal(nb_norm_apply(train, &s), NB_OK);
    assert_int_equal(nb_norm_apply(test, &s), NB_OK);
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < nb_tensor_numel(train); i++) {
        double v = nb_tensor_get(train, i);
        sum += v;
        sq += v * v;
    }
    double n = (double)nb_tensor_numel(train);
    assert_float_equal(sum / n, 0, 1e-5);
    assert_float_equal(sqrt(sq / n - (sum / n) * (sum / n)), 1, 1e-5);
    for (int64_t i = 0; i < nb_tensor_numel(test); i++) /* the train statistics, not its own */
        assert_float_equal(nb_tensor_get(test, i),
                           (nb_tensor_get(test_before, i) - s.mean[0]) / s.std[0], 1e-5);

    /* per channel: each of the 3 channels gets its own mean 0 */
    nb_tensor *img = nb_tensor_new(NB_F64, 4, shape);
    for (int64_t i = 0; i < nb_tensor_numel(img); i++)
        nb_tensor_set(img, i, (double)((i / 4) % 3) * 100 + (double)(i % 7));
    assert_int_equal(nb_norm_fit(img, NB_NORM_STANDARD, true, 0, 0, &s), NB_OK);
    assert_int_equal(s.channels, 3);
    assert_true(s.mean[2] > s.mean[1] + 90);
    assert_int_equal(nb_norm_apply(img, &s), NB_OK);
    for (int c = 0; c < 3; c++) {
        double m = 0;
        for (int64_t o = 0; o < 40; o++)
            for (int k = 0; k < 4; k++)
                m += nb_tensor_get(img, (o * 3 + c) * 4 + k);
        assert_float_equal(m / 160, 0, 1e-9);
    }
    nb_tensor_free(img);
    nb_tensor_free(train);
    nb_tensor_free(test);
    nb_tensor_free(test_before);
}

static void test_range_normalisation_maps_min_and_max(void **state)
{
    (void)state;
    int64_t shape[1] = {5};
    nb_tensor *x = nb_tensor_new(NB_F32, 1, shape);
    const double v[5] = {2, 4, 6, 8, 10};
    for (int i = 0; i < 5; i++)
        nb_tensor_set(x, i, v[i]);
    nb_norm_stats s;
    assert_int_equal(nb_norm_fit(x, NB_NORM_RANGE, false, -1, 1, &s), NB_OK);
    assert_float_equal(s.min[0], 2, 0);
    assert_float_equal(s.max[0], 10, 0);
    assert_int_equal(nb_norm_apply(x, &s), NB_OK);
    for (int i = 0; i < 5; i++)
        assert_float_equal(nb_tensor_get(x, i), -1 + 0.5 * i, 1e-6);
    /* errors */
    nb_tensor *ids = nb_tensor_new(NB_I64, 1, shape);
    assert_int_equal(nb_norm_fit(ids, NB_NORM_STANDARD, false, 0, 0, &s), NB_ERR_DTYPE);
    nbt_assert_error(NB_ERR_DTYPE, "nb_norm_fit: expects f32 or f64, got i64");
    assert_int_equal(nb_norm_fit(x, NB_NORM_RANGE, false, 1, -1, &s), NB_ERR_VALUE);
    nbt_assert_error(NB_ERR_VALUE, "range [1, -1] is empty");
    assert_int_equal(nb_norm_fit(x, NB_NORM_STANDARD, true, 0, 0, &s), NB_ERR_SHAPE);
    nbt_assert_error(NB_ERR_SHAPE, "per-channel statistics need [N, C, ...]");
    nb_tensor_free(ids);
    nb_tensor_free(x);
}

/* Run one epoch; returns the visit count per sample and checks the batch contents. */
static int64_t run_epoch(nb_batcher *it, int64_t n, int *seen, int64_t *sizes, int64_t *order)
{
    nb_batch b;
    int64_t batches = 0, pos = 0;
    memset(seen, 0, (size_t)n * sizeof *seen);
    while (nb_batcher_next(it, &b)) {
        assert_int_equal(b.index, batches);
        assert_int_equal(nb_tensor_dim(b.x, 0), b.size);
        assert_int_equal(nb_tensor_dim(b.y, 0), b.size);
        assert_int_equal(nb_tensor_dim(b.x, 2), 3);
        for (int64_t r = 0; r < b.size; r++) {
            int64_t id = row_id(b.x, b.y, r);
            assert_int_equal(id, b.indices[r]);
            seen[id]++;
            if (order)
                order[pos] = id;
            pos++;
        }
        if (sizes)
            sizes[batches] = b.size;
        batches++;
    }
    return batches;
}

static void test_batches_cover_every_sample_once_per_epoch(void **state)
{
    (void)state;
    nb_dataset ds = {0};
    make_dataset(&ds, 23);
    nb_batcher *it =
        nb_batcher_new(&ds, &(nb_batch_opts){.batch_size = 5, .shuffle = true, .seed = 11});
    assert_non_null(it);
    assert_int_equal(nb_batcher_num_batches(it), 5);
    int seen[23];
    int64_t sizes[8], order[3][23];
    for (int e = 0; e < 3; e++) {
        assert_int_equal(run_epoch(it, 23, seen, sizes, order[e]), 5);
        for (int i = 0; i < 23; i++)
            assert_int_equal(seen[i], 1);
        const int64_t want[5] = {5, 5, 5, 5, 3};
        assert_memory_equal(sizes, want, sizeof want);
    }
    /* each epoch is reshuffled */
    assert_true(memcmp(order[0], order[1], sizeof order[0]) != 0);
    assert_true(memcmp(order[1], order[2], sizeof order[0]) != 0);

    /* the same seed replays the same epochs; reset goes back to the first one */
    nb_batcher *again =
        nb_batcher_new(&ds, &(nb_batch_opts){.batch_size = 5, .shuffle = true, .seed = 11});
    int64_t replay[23];
    for (int e = 0; e < 3; e++) {
        run_epoch(again, 23, seen, NULL, replay);
        assert_memory_equal(replay, order[e], sizeof replay);
    }
    nb_batcher_reset(it);
    run_epoch(it, 23, seen, NULL, replay);
    assert_memory_equal(replay, order[0], sizeof replay);
    nb_batcher_free(again);
    nb_batcher_free(it);

    /* another seed, another order; no shuffle keeps the dataset order */
    it = nb_batcher_new(&ds, &(nb_batch_opts){.batch_size = 5, .shuffle = true, .seed = 12});
    run_epoch(it, 23, seen, NULL, replay);
    assert_true(memcmp(replay, order[0], sizeof replay) != 0);
    nb_batcher_free(it);
    it = nb_batcher_new(&ds, &(nb_batch_opts){.batch_size = 4});
    run_epoch(it, 23, seen, NULL, replay);
    for (int i = 0; i < 23; i++)
        assert_int_equal(replay[i], i);
    nb_batcher_free(it);
    nb_dataset_deinit(&ds);
}

static void test_batches_can_drop_the_last_partial_batch(void **state)
{
    (void)state;
    nb_dataset ds = {0};
    make_dataset(&ds, 23);
    nb_batcher *it = nb_batcher_new(
        &ds, &(nb_batch_opts){.batch_size = 5, .shuffle = true, .seed = 2, .last = NB_LAST_DROP});
    assert_int_equal(nb_batcher_num_batches(it), 4);
    int seen[23];
    int64_t sizes[8];
    for (int e = 0; e < 2; e++) {
        assert_int_equal(run_epoch(it, 23, seen, sizes, NULL), 4);
        int total = 0;
        for (int i = 0; i < 23; i++) {
            assert_true(seen[i] <= 1);
            total += seen[i];
        }
        assert_int_equal(total, 20);
        for (int b = 0; b < 4; b++)
            assert_int_equal(sizes[b], 5);
    }
    nb_batcher_free(it);
    /* errors */
    assert_null(nb_batcher_new(&ds, &(nb_batch_opts){.batch_size = 0}));
    nbt_assert_error(NB_ERR_VALUE, "nb_batcher_new: batch_size must be >= 1 (got 0)");
    assert_null(nb_batcher_new(&ds, &(nb_batch_opts){.batch_size = 30, .last = NB_LAST_DROP}));
    nbt_assert_error(NB_ERR_VALUE, "no batch at all");
    /* a batch larger than the dataset with KEEP: one batch of everything */
    it = nb_batcher_new(&ds, &(nb_batch_opts){.batch_size = 30});
    assert_int_equal(nb_batcher_num_batches(it), 1);
    assert_int_equal(run_epoch(it, 23, seen, sizes, NULL), 1);
    assert_int_equal(sizes[0], 23);
    nb_batcher_free(it);
    nb_dataset_deinit(&ds);
}

static void test_batches_of_an_unlabelled_dataset(void **state)
{
    (void)state;
    nb_dataset ds = {0};
    make_dataset(&ds, 6);
    nb_tensor_free(ds.y);
    ds.y = NULL;
    nb_batcher *it = nb_batcher_new(&ds, &(nb_batch_opts){.batch_size = 4, .shuffle = true});
    nb_batch b;
    int64_t total = 0;
    while (nb_batcher_next(it, &b)) {
        assert_null(b.y);
        for (int64_t r = 0; r < b.size; r++)
            row_id(b.x, NULL, r);
        total += b.size;
    }
    assert_int_equal(total, 6);
    nb_batcher_free(it);
    nb_dataset_deinit(&ds);
}

static int clear_error(void **state)
{
    (void)state;
    nb_clear_error();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_split_partitions_every_sample_once_and_is_seeded, clear_error),
        cmocka_unit_test_setup(test_subset_and_class_counts, clear_error),
        cmocka_unit_test_setup(test_standardisation_uses_the_training_statistics, clear_error),
        cmocka_unit_test_setup(test_range_normalisation_maps_min_and_max, clear_error),
        cmocka_unit_test_setup(test_batches_cover_every_sample_once_per_epoch, clear_error),
        cmocka_unit_test_setup(test_batches_can_drop_the_last_partial_batch, clear_error),
        cmocka_unit_test_setup(test_batches_of_an_unlabelled_dataset, clear_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
