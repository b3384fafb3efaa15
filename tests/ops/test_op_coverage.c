/* tests/ops/test_op_coverage.c — every differentiable op in the op table must have its backward
 * exercised by at least one passing gradient-check case. Runs every case of every family and
 * counts, per op, the backward calls made by the passing ones. */
#include "support/nbt.h"

#include <stdio.h>
#include <string.h>

static void test_every_differentiable_op_has_a_passing_gradcheck(void **state)
{
    (void)state;
    bool covered[NB_OP_COUNT] = {false};
    int failed = 0;
    for (int t = 0; nbt_case_tables[t]; t++) {
        for (const nbt_case *c = nbt_case_tables[t]; c->name; c++) {
            long before[NB_OP_COUNT];
            memcpy(before, nbi_op_backward_calls, sizeof before);
            nb_status st = c->run();
            if (st != NB_OK) {
                fprintf(stderr, "case %s failed: %s\n", c->name, nb_last_error());
                nb_clear_error();
                failed++;
                continue;
            }
            for (int op = 0; op < NB_OP_COUNT; op++)
                if (nbi_op_backward_calls[op] > before[op])
                    covered[op] = true;
            if (!covered[c->op]) {
                fprintf(stderr, "case %s claims op %s but never ran its backward\n", c->name,
                        nbi_op_name(c->op));
                failed++;
            }
        }
    }
    int missing = 0;
    for (int op = 0; op < NB_OP_COUNT; op++) {
        const nbi_op_def *d = nbi_op_table[op];
        if ((d->flags & NBI_OP_NONDIFF) || !nbi_has_backward(d))
            continue;
        if (!covered[op]) {
            fprintf(stderr, "op %s (%s) has no passing gradient check\n", d->name, d->api);
            missing++;
        }
    }
    assert_int_equal(failed, 0);
    assert_int_equal(missing, 0);
}

static void test_op_table_is_complete(void **state)
{
    (void)state;
    for (int op = 0; op < NB_OP_COUNT; op++) {
        const nbi_op_def *d = nbi_op_table[op];
        assert_non_null(d);
        assert_non_null(d->name);
        assert_non_null(d->api);
        assert_non_null(d->shape);
        /* a view, or forward or the typed pair forward_f32 / forward_f64 (one kind); the same
         * for backward */
        assert_true(d->view || !d->forward != !(d->forward_f32 && d->forward_f64));
        assert_true(!d->forward_f32 == !d->forward_f64 && !d->backward_f32 == !d->backward_f64);
        assert_false(d->backward && d->backward_f32);
        assert_true((d->flags & NBI_OP_NONDIFF) || nbi_has_backward(d));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_op_table_is_complete),
        cmocka_unit_test(test_every_differentiable_op_has_a_passing_gradcheck),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
