/* tests/autograd/test_arena.c — autograd/arena.c (internal): allocations are zeroed and
 * 64-byte aligned, reset reuses the memory, and a step that needed several chunks leaves one
 * chunk of its high-water size behind. */
#include "support/nbt.h"

#include <stdint.h>

static void test_allocations_are_zeroed_and_64_byte_aligned(void **state)
{
    (void)state;
    nbi_arena *a = nbi_arena_new();
    assert_non_null(a);
    const size_t sizes[6] = {1, 7, 64, 100, 4096, 3 << 20}; /* the last one needs a new chunk */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 6; i++) {
            unsigned char *p = nbi_arena_alloc(a, sizes[i]);
            assert_non_null(p);
            assert_int_equal((uintptr_t)p % 64, 0);
            for (size_t k = 0; k < sizes[i]; k++)
                assert_int_equal(p[k], 0);
            p[0] = 0xFF; /* dirty it: the next round must see zeros again */
            p[sizes[i] - 1] = 0xFF;
        }
        nbi_arena_reset(a, round == 0);
    }
    nbi_arena_free(a);
}

static void test_reset_reuses_memory(void **state)
{
    (void)state;
    nbi_arena *a = nbi_arena_new();
    void *first = nbi_arena_alloc(a, 1000);
    nbi_arena_alloc(a, 5000);
    size_t cap = nbi_arena_capacity(a);
    long allocs = nb_debug_alloc_count();
    nbi_arena_reset(a, false);
    assert_ptr_equal(nbi_arena_alloc(a, 1000), first);
    assert_int_equal(nbi_arena_capacity(a), cap);
    assert_int_equal(nb_debug_alloc_count(), allocs);
    nbi_arena_free(a);
}

static void test_several_chunks_merge_into_one_of_the_high_water_size(void **state)
{
    (void)state;
    nbi_arena *a = nbi_arena_new();
    const size_t mb = (size_t)1 << 20;
    for (int i = 0; i < 5; i++) /* 5 x 0.75 MB: several chunks */
        assert_non_null(nbi_arena_alloc(a, 3 * mb / 4));
    assert_true(nbi_arena_capacity(a) >= 4 * mb);
    nbi_arena_reset(a, true);
    size_t cap = nbi_arena_capacity(a);
    assert_int_equal(cap, 5 * (3 * mb / 4));
    long allocs = nb_debug_alloc_count();
    for (int step = 0; step < 3; step++) { /* the same step again fits without allocating */
        for (int i = 0; i < 5; i++)
            assert_non_null(nbi_arena_alloc(a, 3 * mb / 4));
        nbi_arena_reset(a, true);
    }
    assert_int_equal(nb_debug_alloc_count(), allocs);
    assert_int_equal(nbi_arena_capacity(a), cap);
    nbi_arena_free(a);
    nbi_arena_reset(NULL, false);
    nbi_arena_free(NULL);
    assert_int_equal(nbi_arena_capacity(NULL), 0);
}

/* Op results made in a step are 64-byte aligned too (they come from the arena). */
static void test_step_tensors_are_aligned(void **state)
{
    (void)state;
    const int64_t s[1] = {3};
    nb_tensor *x = nb_tensor_full(NB_F32, 1, s, 1);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    for (int i = 0; i < 4; i++)
        assert_int_equal((uintptr_t)nb_tensor_data(nb_exp(x)) % 64, 0);
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allocations_are_zeroed_and_64_byte_aligned),
        cmocka_unit_test(test_reset_reuses_memory),
        cmocka_unit_test(test_several_chunks_merge_into_one_of_the_high_water_size),
        cmocka_unit_test(test_step_tensors_are_aligned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
