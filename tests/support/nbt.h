/* tests/support/nbt.h — shared test helpers: cmocka includes, gradient-check cases, temp files.
 *
 * Gradient-check cases: each op family has tests/ops/cases_<family>.c defining
 *     const nbt_case nbt_cases_<family>[] = { {...}, ..., {0} };
 * and one line in tests/support/cases.c. A case builds its inputs, runs nb_gradcheck on an
 * expression that uses the op, and returns the status. The family's test file runs its cases
 * (nbt_run_cases); tests/ops/test_op_coverage.c runs every case and fails if any differentiable
 * op in the op table had its backward exercised by no passing case. */
#ifndef NABLA_TESTS_NBT_H
#define NABLA_TESTS_NBT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h> /* before cmocka.h, which redefines malloc and free under UNIT_TESTING */
#include <string.h>

#include <cmocka.h>

#include "nabla.h"
#include "ops/op_def.h"

typedef struct nbt_case {
    const char *name;       /* "tanh", "matmul_batched_broadcast", ... */
    nb_op_id op;            /* the op the case is about (others it uses are covered too) */
    nb_status (*run)(void); /* NB_OK when the gradient check passes */
} nbt_case;

/* Every family's case table, NULL-terminated (tests/support/cases.c). */
extern const nbt_case *const nbt_case_tables[];

/* An input for nbt_check: shape and value range; values are uniform in [lo, hi) from a fixed
 * seed. Keep them off kinks (relu/abs at 0, clamp at its bounds): a value closer than
 * NBT_KINK_GAP to one of kinks[0..n_kinks) is moved NBT_KINK_GAP away from it. */
typedef struct nbt_input {
    int ndim;
    int64_t shape[NB_MAX_DIMS];
    double lo, hi;
    bool no_grad; /* a constant input: not checked */
    int n_kinks;
    double kinks[2];
} nbt_input;

#define NBT_KINK_GAP 0.05

/* nbt_input of shape (dims...) with values in [lo, hi): NBT_IN(-1, 1, 4, 3) is [4, 3]. */
#define NBT_IN(lo_, hi_, ...)                                                                      \
    {                                                                                              \
        .ndim = (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), .shape = {__VA_ARGS__}, \
        .lo = (lo_), .hi = (hi_)                                                                   \
    }
/* A 0-dim (scalar) input. */
#define NBT_IN0(lo_, hi_)                                                                          \
    {                                                                                              \
        .ndim = 0, .lo = (lo_), .hi = (hi_)                                                        \
    }

/* NBT_GRADCASE(name, expr, inputs...) defines `case_<name>`, an nbt_case run function that
 * checks the gradient of `expr` (written with in[0], in[1], ...) for the given nbt_inputs. */
#define NBT_GRADCASE(name, EXPR, ...)                                                              \
    static nb_tensor *f_##name(nb_tensor *const *in, int n_in, void *user)                         \
    {                                                                                              \
        (void)n_in, (void)user;                                                                    \
        return (EXPR);                                                                             \
    }                                                                                              \
    static nb_status case_##name(void)                                                             \
    {                                                                                              \
        const nbt_input spec[] = {__VA_ARGS__};                                                    \
        return nbt_check(f_##name, NULL, spec, (int)(sizeof spec / sizeof spec[0]), __LINE__);     \
    }

/* Build f64 inputs from specs, run nb_gradcheck(f) with 1e-7 abs / 1e-5 rel, print the report
 * on failure, free everything. seed varies the values. */
nb_status nbt_check(nb_gradcheck_fn f, void *user, const nbt_input *spec, int n, uint64_t seed);

/* Like nbt_check but the caller made the inputs (e.g. i64 indices) and set requires_grad on the
 * ones to check. Frees nothing. */
nb_status nbt_check_tensors(nb_gradcheck_fn f, void *user, nb_tensor *const *in, int n);

/* Run the cases of one table as cmocka tests; returns the cmocka result. */
int nbt_run_cases(const char *group, const nbt_case *cases);

/* Caller-owned tensor of `dtype` and shape with values uniform in [lo, hi) from `seed`. */
nb_tensor *nbt_uniform(nb_dtype dtype, int ndim, const int64_t *shape, uint64_t seed, double lo,
                       double hi);
/* Caller-owned NB_I64 tensor holding `ids`. */
nb_tensor *nbt_ids(int ndim, const int64_t *shape, const int64_t *ids);
/* Assert that t (any strides) holds ref[0..numel) within |t - ref| <= tol * max(1, |ref|);
 * names the first differing flat index on failure. */
void nbt_assert_values(const nb_tensor *t, const double *ref, double tol);
/* Assert that every element of t is finite. */
void nbt_assert_finite(const nb_tensor *t);

/* Path of a fresh temp file name under $NB_TEST_TMPDIR (or /tmp): "<dir>/<tag>-<pid>-<n>".
 * Returned pointer is static per call (copy it if you need several). */
const char *nbt_tmp_path(const char *tag);

/* Assert that the last error has `status` and its message contains `part`; clears it. On
 * failure prints the actual status and message. */
#define nbt_assert_error(status, part) nbt_assert_error_at((status), (part), __FILE__, __LINE__)
void nbt_assert_error_at(nb_status status, const char *part, const char *file, int line);

/* cmocka teardown: ends a step a failed test left active and clears the error, so that the
 * next test starts clean. */
int nbt_end_active_step(void **state);

#endif
