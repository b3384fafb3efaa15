/* ops/einsum.c — two-operand Einstein summation and the outer product, composed from public
 * ops (no backward code of their own).
 *
 * Every two-operand contraction is one (batched) GEMM once its letters are sorted into classes:
 *   batch  B  in a, b and the output      contracted K  in a and b, not in the output
 *   rows   M  in a and the output only    columns    N  in b and the output only
 *   letters in one operand and not in the output are summed out of it first.
 * a is viewed as [B, M, K] (or [B, K, M] transposed), b as [B, K, N] (or [B, N, K] transposed),
 * nb_matmul gives [B, M, N], and a reshape and a permute (views) give the output's order. The
 * layouts and letter orders are chosen so that the permuted operands are dense whenever that is
 * possible: their reshapes are then views and BLIS reads the transposed ones through strides
 * (no copy). Otherwise nb_reshape copies the operand once — the general path.
 *
 * Without an active step every intermediate is a heap tensor of this function: each one is
 * freed once the next exists (nb_tensor_free ignores arena tensors; views keep their storage). */
#include "ops/op_def.h"

#include <stdio.h>
#include <string.h>

#define FN "nb_einsum"

typedef struct {
    char a[NB_MAX_DIMS + 1], b[NB_MAX_DIMS + 1], out[2 * NB_MAX_DIMS + 1];
    int64_t size[128]; /* by letter; 0 when unused */
} spec_t;

static bool is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Read the letters of one term of spec from *p up to a ',' or '-' or the end, into dst (at most
 * max letters). */
static nb_status term(const char *spec, const char **p, char *dst, int max, const char *which)
{
    int n = 0;
    for (; **p && **p != ',' && **p != '-'; (*p)++) {
        const char c = **p;
        if (c == ' ')
            continue;
        if (c == '.')
            return nbi_error(NB_ERR_VALUE, FN ": ellipsis ('...') is not supported: \"%s\"", spec);
        if (!is_letter(c))
            return nbi_error(NB_ERR_VALUE,
                             FN ": unknown character '%c' at position %d of \"%s\" (letters a-z, "
                                "A-Z only)",
                             c, (int)(*p - spec), spec);
        if (memchr(dst, c, (size_t)n) && max > NB_MAX_DIMS)
            return nbi_error(NB_ERR_VALUE, FN ": output letter '%c' repeats in \"%s\"", c, spec);
        if (memchr(dst, c, (size_t)n))
            return nbi_error(NB_ERR_VALUE,
                             FN ": letter '%c' repeats in %s of \"%s\" (diagonals and traces are "
                                "not supported)",
                             c, which, spec);
        if (n == max)
            return nbi_error(NB_ERR_VALUE, FN ": %s of \"%s\" has more than %d letters", which,
                             spec, max);
        dst[n++] = c;
    }
    dst[n] = '\0';
    return NB_OK;
}

/* Letters of operand t: as many as its dims, each letter one size across both operands. */
static nb_status bind(const char *spec, const char *letters, const nb_tensor *t, const char *name,
                      spec_t *s, int64_t *from_dim, char *from_op)
{
    const int n = (int)strlen(letters);
    if (n != t->ndim)
        return nbi_error(NB_ERR_SHAPE, FN ": \"%s\" gives %s %d letters (\"%s\"), %s is %s", spec,
                         name, n, letters, name, nbi_fmt_shape(t));
    for (int d = 0; d < n; d++) {
        const int c = letters[d];
        if (s->size[c] && s->size[c] - 1 != t->shape[d])
            return nbi_error(NB_ERR_SHAPE,
                             FN ": size mismatch for letter '%c' in \"%s\": %lld in %c (dim %lld), "
                                "%lld in %s (dim %d)",
                             c, spec, (long long)(s->size[c] - 1), from_op[c],
                             (long long)from_dim[c], (long long)t->shape[d], name, d);
        s->size[c] = t->shape[d] + 1; /* +1: 0 marks an unused letter */
        from_dim[c] = d;
        from_op[c] = name[0];
    }
    return NB_OK;
}

static nb_status parse(const char *spec, const nb_tensor *a, const nb_tensor *b, spec_t *s)
{
    memset(s, 0, sizeof *s);
    const char *p = spec;
    if (term(spec, &p, s->a, NB_MAX_DIMS, "operand a") != NB_OK)
        return nb_last_status();
    if (*p != ',')
        return nbi_error(NB_ERR_VALUE,
                         FN ": \"%s\" names one operand; nb_einsum takes two (\"ij,jk->ik\"); "
                            "for one-operand sums and permutations use nb_sum_axes / nb_permute",
                         spec);
    p++;
    if (term(spec, &p, s->b, NB_MAX_DIMS, "operand b") != NB_OK)
        return nb_last_status();
    if (*p == ',')
        return nbi_error(NB_ERR_VALUE, FN ": \"%s\" names more than two operands", spec);
    const bool arrow = *p == '-';
    if (arrow) {
        if (p[1] != '>')
            return nbi_error(NB_ERR_VALUE, FN ": expected \"->\" at position %d of \"%s\"",
                             (int)(p - spec), spec);
        p += 2;
        if (term(spec, &p, s->out, 2 * NB_MAX_DIMS, "the output") != NB_OK)
            return nb_last_status();
        if (*p)
            return nbi_error(NB_ERR_VALUE, FN ": unexpected '%c' at position %d of \"%s\"", *p,
                             (int)(p - spec), spec);
    }
    int64_t from_dim[128] = {0};
    char from_op[128] = {0};
    if (bind(spec, s->a, a, "a", s, from_dim, from_op) != NB_OK ||
        bind(spec, s->b, b, "b", s, from_dim, from_op) != NB_OK)
        return nb_last_status();
    if (!arrow) { /* implicit output: letters used once, in ASCII order (NumPy, PyTorch) */
        int n = 0;
        for (int c = 'A'; c <= 'z'; c++)
            if (s->size[c] && !!strchr(s->a, c) + !!strchr(s->b, c) == 1)
                s->out[n++] = (char)c;
        s->out[n] = '\0';
    }
    for (const char *o = s->out; *o; o++)
        if (!strchr(s->a, *o) && !strchr(s->b, *o))
            return nbi_error(NB_ERR_VALUE,
                             FN ": output letter '%c' of \"%s\" is in neither operand", *o, spec);
    if ((int)strlen(s->out) > NB_MAX_DIMS)
        return nbi_error(NB_ERR_SHAPE, FN ": the output of \"%s\" has %d dims (at most %d)", spec,
                         (int)strlen(s->out), NB_MAX_DIMS);
    return NB_OK;
}

/* t replaced by next: frees t unless it is the caller's (keep). */
static nb_tensor *then(nb_tensor *next, nb_tensor *t, const nb_tensor *keep)
{
    if (t != keep)
        nb_tensor_free(t);
    return next;
}

/* Sum out of t (letters `l`) the letters in neither `other` nor `out`; updates l. */
static nb_tensor *sum_unused(nb_tensor *t, char *l, const char *other, const char *out,
                             const nb_tensor *keep)
{
    int axes[NB_MAX_DIMS], n = 0, k = 0;
    for (int d = 0; l[d]; d++) {
        if (!strchr(other, l[d]) && !strchr(out, l[d]))
            axes[n++] = d;
        else
            l[k++] = l[d];
    }
    l[k] = '\0';
    return n ? then(nb_sum_axes(t, n, axes, false), t, keep) : t;
}

/* Letters of `from` that are (in_other: also / else: not) in `other`, and (in_out) in out. */
static void pick(const char *from, const char *other, bool in_other, const char *out, bool in_out,
                 char *dst)
{
    int n = 0;
    for (const char *c = from; *c; c++)
        if (!!strchr(other, *c) == in_other && !!strchr(out, *c) == in_out)
            dst[n++] = *c;
    dst[n] = '\0';
}

/* Permutation of t (letters l) into the letter order g0 g1 g2, and whether the permuted view
 * is dense (so that reshaping it is a view). */
static bool order(const nb_tensor *t, const char *l, const char *g0, const char *g1, const char *g2,
                  int *perm)
{
    char want[3 * NB_MAX_DIMS + 1];
    snprintf(want, sizeof want, "%s%s%s", g0, g1, g2);
    int n = 0;
    for (const char *c = want; *c; c++)
        perm[n++] = (int)(strchr(l, *c) - l);
    int64_t expect = 1;
    for (int d = n - 1; d >= 0; d--) {
        const int64_t len = t->shape[perm[d]];
        if (len != 1 && t->strides[perm[d]] != expect)
            return false;
        expect *= len;
    }
    return true;
}

static int64_t extent(const spec_t *s, const char *letters)
{
    int64_t n = 1;
    for (const char *c = letters; *c; c++)
        n *= s->size[(int)*c] - 1;
    return n;
}

static bool is_identity(const int *perm, int n)
{
    for (int i = 0; i < n; i++)
        if (perm[i] != i)
            return false;
    return true;
}

/* t (letters l) as a 3-D [B, R, C] (or 2-D [R, C] without batch letters) matrix stack, from its
 * letters in order batch, r, c — or batch, c, r and transposed back when `swap`. */
static nb_tensor *as_matrix(nb_tensor *t, const char *l, const spec_t *s, const char *batch,
                            const char *r, const char *c, bool swap, const nb_tensor *keep)
{
    int perm[NB_MAX_DIMS];
    order(t, l, batch, swap ? c : r, swap ? r : c, perm);
    if (!is_identity(perm, t->ndim))
        t = then(nb_permute(t, perm), t, keep);
    const int nb = batch[0] ? 1 : 0;
    const int64_t shape[3] = {extent(s, batch), extent(s, swap ? c : r), extent(s, swap ? r : c)};
    t = then(nb_reshape(t, 2 + nb, shape + 1 - nb), t, keep);
    return swap ? then(nb_transpose(t, -2, -1), t, keep) : t;
}

nb_tensor *nb_einsum(const char *spec, nb_tensor *a, nb_tensor *b)
{
    if (!a || !b || !spec) {
        if (!nbi_error_pending())
            nbi_error(NB_ERR_VALUE, FN ": %s is NULL", !spec ? "spec" : !a ? "a" : "b");
        return NULL;
    }
    if (!nbi_check_live(FN, a) || !nbi_check_live(FN, b))
        return NULL;
    spec_t s;
    if (parse(spec, a, b, &s) != NB_OK)
        return NULL;
    char la[NB_MAX_DIMS + 1], lb[NB_MAX_DIMS + 1];
    memcpy(la, s.a, sizeof la);
    memcpy(lb, s.b, sizeof lb);
    nb_tensor *ta = sum_unused(a, la, lb, s.out, a), *tb = sum_unused(b, lb, la, s.out, b);
    if (!ta || !tb) {
        then(NULL, ta, a);
        then(NULL, tb, b);
        return NULL;
    }
    char batch_a[NB_MAX_DIMS + 1], batch_b[NB_MAX_DIMS + 1], k_a[NB_MAX_DIMS + 1],
        k_b[NB_MAX_DIMS + 1], m[NB_MAX_DIMS + 1], n[NB_MAX_DIMS + 1];
    pick(la, lb, true, s.out, true, batch_a);
    pick(lb, la, true, s.out, true, batch_b);
    pick(la, lb, true, s.out, false, k_a);
    pick(lb, la, true, s.out, false, k_b);
    pick(la, lb, false, s.out, true, m);
    pick(lb, la, false, s.out, true, n);
    /* The letter orders and layouts with the fewest operands to copy (first one on ties). */
    int best = 0, best_cost = 3;
    for (int choice = 0; choice < 16 && best_cost > 0; choice++) {
        const char *bt = choice & 1 ? batch_b : batch_a, *k = choice & 2 ? k_b : k_a;
        int perm[NB_MAX_DIMS];
        const int cost = !order(ta, la, bt, choice & 4 ? k : m, choice & 4 ? m : k, perm) +
                         !order(tb, lb, bt, choice & 8 ? n : k, choice & 8 ? k : n, perm);
        if (cost < best_cost) {
            best = choice;
            best_cost = cost;
        }
    }
    const char *bt = best & 1 ? batch_b : batch_a, *k = best & 2 ? k_b : k_a;
    ta = as_matrix(ta, la, &s, bt, m, k, best & 4, a);
    tb = ta ? as_matrix(tb, lb, &s, bt, k, n, best & 8, b) : then(NULL, tb, b);
    nb_tensor *y = ta && tb ? nb_matmul(ta, tb) : NULL;
    then(NULL, ta, a);
    then(NULL, tb, b);
    if (!y)
        return NULL;
    /* [B, M, N] -> [batch..., m..., n...] -> the output's order */
    char got[3 * NB_MAX_DIMS + 1];
    snprintf(got, sizeof got, "%s%s%s", bt, m, n);
    const int nd = (int)strlen(got);
    int64_t shape[NB_MAX_DIMS];
    int perm[NB_MAX_DIMS];
    for (int d = 0; d < nd; d++) {
        shape[d] = s.size[(int)got[d]] - 1;
        perm[d] = (int)(strchr(got, s.out[d]) - got);
    }
    y = then(nb_reshape(y, nd, shape), y, NULL);
    return y && !is_identity(perm, nd) ? then(nb_permute(y, perm), y, NULL) : y;
}

nb_tensor *nb_outer(nb_tensor *a, nb_tensor *b)
{
    if (!a || !b) {
        if (!nbi_error_pending())
            nbi_error(NB_ERR_VALUE, "nb_outer: %s is NULL", a ? "b" : "a");
        return NULL;
    }
    if (!nbi_check_live("nb_outer", a) || !nbi_check_live("nb_outer", b))
        return NULL;
    if (a->ndim != 1 || b->ndim != 1) {
        nbi_error(NB_ERR_SHAPE, "nb_outer: a and b must be 1-D, a is %s, b is %s", nbi_fmt_shape(a),
                  nbi_fmt_shape(b));
        return NULL;
    }
    const int64_t col[2] = {a->shape[0], 1}, row[2] = {1, b->shape[0]};
    nb_tensor *ac = nb_reshape(a, 2, col), *br = nb_reshape(b, 2, row);
    nb_tensor *y = nb_mul(ac, br);
    nb_tensor_free(ac);
    nb_tensor_free(br);
    return y;
}
