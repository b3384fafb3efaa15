/* tests/ops/test_einsum.c — nb_einsum and nb_outer (ops/einsum.c): forward values against naive
 * loops for the common contractions, strided operands, no operand copy for the GEMM shapes, the
 * spec errors, and the gradient checks of tests/ops/cases_einsum.c. */
#include "support/nbt.h"

#include <stdio.h>

extern const nbt_case nbt_cases_einsum[];

/* Naive reference: y[out letters] = sum over the other letters of a[..] * b[..]. */
static void reference(const char *la, const nb_tensor *a, const char *lb, const nb_tensor *b,
                      const char *lo, double *y)
{
    char all[32] = {0};
    int64_t size[128] = {0};
    int n = 0;
    for (int k = 0; k < 2; k++) {
        const char *l = k ? lb : la;
        const nb_tensor *t = k ? b : a;
        for (int d = 0; l[d]; d++) {
            if (!size[(int)l[d]])
                all[n++] = l[d];
            size[(int)l[d]] = nb_tensor_dim(t, d);
        }
    }
    int64_t out_numel = 1;
    for (const char *c = lo; *c; c++)
        out_numel *= size[(int)*c];
    for (int64_t i = 0; i < out_numel; i++)
        y[i] = 0;
    int64_t v[128] = {0}, total = 1;
    for (int i = 0; i < n; i++)
        total *= size[(int)all[i]];
    for (int64_t it = 0; it < total; it++) {
        for (int64_t i = n - 1, r = it; i >= 0; i--) {
            v[(int)all[i]] = r % size[(int)all[i]];
            r /= size[(int)all[i]];
        }
        int64_t fa = 0, fb = 0, fo = 0;
        for (const char *c = la; *c; c++)
            fa = fa * size[(int)*c] + v[(int)*c];
        for (const char *c = lb; *c; c++)
            fb = fb * size[(int)*c] + v[(int)*c];
        for (const char *c = lo; *c; c++)
            fo = fo * size[(int)*c] + v[(int)*c];
        y[fo] += nb_tensor_get(a, fa) * nb_tensor_get(b, fb);
    }
}

static void check_spec(const char *spec, const char *la, const char *lb, const char *lo, int nda,
                       const int64_t *sa, int ndb, const int64_t *sb)
{
    for (int k = 0; k < 2; k++) {
        const nb_dtype dt = k ? NB_F64 : NB_F32;
        nb_tensor *a = nbt_uniform(dt, nda, sa, 3, -1, 1), *b = nbt_uniform(dt, ndb, sb, 4, -1, 1);
        nb_tensor *y = nb_einsum(spec, a, b);
        if (!y)
            fail_msg("%s: %s", spec, nb_last_error());
        assert_int_equal(nb_tensor_ndim(y), (int)strlen(lo));
        double ref[256];
        reference(la, a, lb, b, lo, ref);
        nbt_assert_values(y, ref, dt == NB_F64 ? 1e-14 : 1e-5);
        nb_tensor_free(y);
        nb_tensor_free(a);
        nb_tensor_free(b);
    }
}

static void test_einsum_matches_naive_sums(void **state)
{
    (void)state;
    const int64_t s34[2] = {3, 4}, s45[2] = {4, 5}, s234[3] = {2, 3, 4}, s245[3] = {2, 4, 5};
    check_spec("ij,jk->ik", "ij", "jk", "ik", 2, s34, 2, s45);
    check_spec("bij,bjk->bik", "bij", "bjk", "bik", 3, s234, 3, s245);
    const int64_t q[4] = {2, 2, 3, 4}, kk[4] = {2, 2, 5, 4};
    check_spec("bhqd,bhkd->bhqk", "bhqd", "bhkd", "bhqk", 4, q, 4, kk);
    const int64_t s3[1] = {3}, s4[1] = {4};
    check_spec("i,j->ij", "i", "j", "ij", 1, s3, 1, s4);
    check_spec("i,i->", "i", "i", "", 1, s4, 1, s4);
    check_spec("ij,kj", "ij", "kj", "ik", 2, s34, 2, s34); /* implicit output */
    check_spec("ij,jk->ki", "ij", "jk", "ki", 2, s34, 2, s45);
    const int64_t g[5] = {3, 2, 2, 4, 2}, h[3] = {2, 3, 2};
    check_spec("jxbil,ljb->bli", "jxbil", "ljb", "bli", 5, g, 3, h);
    check_spec(" i j , j k -> i k ", "ij", "jk", "ik", 2, s34, 2, s45);
}

/* Transposed views as operands: read through their strides. */
static void test_einsum_reads_strided_operands(void **state)
{
    (void)state;
    const int64_t s43[2] = {4, 3}, s54[2] = {5, 4};
    nb_tensor *a = nbt_uniform(NB_F64, 2, s43, 5, -1, 1),
              *b = nbt_uniform(NB_F64, 2, s54, 6, -1, 1);
    nb_tensor *at = nb_transpose(a, 0, 1), *bt = nb_transpose(b, 0, 1); /* [3, 4], [4, 5] */
    nb_tensor *y = nb_einsum("ij,jk->ik", at, bt);
    assert_non_null(y);
    double ref[15];
    reference("ij", at, "jk", bt, "ik", ref);
    nbt_assert_values(y, ref, 1e-14);
    nb_tensor *all[] = {y, at, bt, a, b};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nb_tensor_free(all[i]);
}

/* The GEMM-shaped specs record matmul and views only: no contiguous copy of an operand. */
static void test_einsum_gemm_specs_copy_no_operand(void **state)
{
    (void)state;
    const char *specs[] = {"ij,jk->ik", "bij,bjk->bik", "bhqd,bhkd->bhqk", "ij,kj->ik",
                           "ji,jk->ik"};
    const int64_t shapes[][2][4] = {{{3, 4}, {4, 5}},
                                    {{2, 3, 4}, {2, 4, 5}},
                                    {{2, 2, 3, 4}, {2, 2, 5, 4}},
                                    {{3, 4}, {5, 4}},
                                    {{4, 3}, {4, 5}}};
    const int nd[] = {2, 3, 4, 2, 2};
    nb_step *step = nb_step_new();
    for (int i = 0; i < 5; i++) {
        assert_int_equal(nb_step_begin(step), NB_OK);
        nb_tensor *a = nbt_uniform(NB_F64, nd[i], shapes[i][0], 7, -1, 1);
        nb_tensor *b = nbt_uniform(NB_F64, nd[i], shapes[i][1], 8, -1, 1);
        assert_int_equal(nb_tensor_set_requires_grad(a, true), NB_OK);
        assert_int_equal(nb_tensor_set_requires_grad(b, true), NB_OK);
        const long before = nbi_op_backward_calls[NB_OP_CONTIGUOUS];
        nb_tensor *y = nb_einsum(specs[i], a, b);
        assert_non_null(y);
        assert_int_equal(nb_backward(nb_sum_all(y)), NB_OK);
        if (nbi_op_backward_calls[NB_OP_CONTIGUOUS] != before)
            fail_msg("%s copied an operand", specs[i]);
        nb_step_end(step);
        nb_tensor_free(a);
        nb_tensor_free(b);
    }
    nb_step_free(step);
}

static void test_outer_multiplies_every_pair(void **state)
{
    (void)state;
    const double av[3] = {1, -2, 0.5}, bv[2] = {3, 4};
    const int64_t s3[1] = {3}, s2[1] = {2};
    nb_tensor *a = nb_tensor_from_data(NB_F64, 1, s3, av),
              *b = nb_tensor_from_data(NB_F64, 1, s2, bv);
    nb_tensor *y = nb_outer(a, b);
    const double ref[6] = {3, 4, -6, -8, 1.5, 2};
    assert_int_equal(nb_tensor_dim(y, 0), 3);
    nbt_assert_values(y, ref, 0);
    assert_null(nb_outer(y, b));
    nbt_assert_error(NB_ERR_SHAPE, "nb_outer: a and b must be 1-D, a is [3, 2], b is [2]");
    nb_tensor_free(y);
    nb_tensor_free(a);
    nb_tensor_free(b);
}

static void test_einsum_rejects_bad_specs(void **state)
{
    (void)state;
    const int64_t s34[2] = {3, 4}, s45[2] = {4, 5}, s3[1] = {3};
    nb_tensor *a = nbt_uniform(NB_F32, 2, s34, 1, -1, 1),
              *b = nbt_uniform(NB_F32, 2, s45, 2, -1, 1);
    nb_tensor *v = nbt_uniform(NB_F32, 1, s3, 2, -1, 1);
    const struct {
        const char *spec;
        nb_tensor *b;
        nb_status st;
        const char *msg;
    } bad[] = {
        {"i1,jk->ik", b, NB_ERR_VALUE,
         "nb_einsum: unknown character '1' at position 1 of \"i1,jk->ik\""},
        {"ij,jk->i$", b, NB_ERR_VALUE, "unknown character '$' at position 8"},
        {"ij->ji", b, NB_ERR_VALUE, "\"ij->ji\" names one operand; nb_einsum takes two"},
        {"ij,jk,kl->il", b, NB_ERR_VALUE, "names more than two operands"},
        {"...j,jk->...k", b, NB_ERR_VALUE, "ellipsis ('...') is not supported"},
        {"ii,jk->ik", b, NB_ERR_VALUE, "letter 'i' repeats in operand a of \"ii,jk->ik\""},
        {"ij,jk->iki", b, NB_ERR_VALUE, "output letter 'i' repeats in \"ij,jk->iki\""},
        {"ij,jk->iz", b, NB_ERR_VALUE, "output letter 'z' of \"ij,jk->iz\" is in neither operand"},
        {"ij,jk=>ik", b, NB_ERR_VALUE, "unknown character '=' at position 5"},
        {"ij,jk-ik", b, NB_ERR_VALUE, "expected \"->\" at position 5"},
        {"ij,ik->jk", b, NB_ERR_SHAPE,
         "size mismatch for letter 'i' in \"ij,ik->jk\": 3 in a (dim 0), 4 in b (dim 0)"},
        {"ijk,jk->ik", b, NB_ERR_SHAPE, "\"ijk,jk->ik\" gives a 3 letters (\"ijk\"), a is [3, 4]"},
        {"ij,j->i", v, NB_ERR_SHAPE,
         "size mismatch for letter 'j' in \"ij,j->i\": 4 in a (dim 1), 3 in b (dim 0)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_null(nb_einsum(bad[i].spec, a, bad[i].b));
        nbt_assert_error(bad[i].st, bad[i].msg);
    }
    assert_null(nb_einsum(NULL, a, b));
    nbt_assert_error(NB_ERR_VALUE, "nb_einsum: spec is NULL");
    nb_tensor_free(a);
    nb_tensor_free(b);
    nb_tensor_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_einsum_matches_naive_sums),
        cmocka_unit_test(test_einsum_reads_strided_operands),
        cmocka_unit_test(test_einsum_gemm_specs_copy_no_operand),
        cmocka_unit_test(test_outer_multiplies_every_pair),
        cmocka_unit_test(test_einsum_rejects_bad_specs),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    return rc | nbt_run_cases("einsum gradient checks", nbt_cases_einsum);
}
