/* ops/gemm_kernels.h — the packing and the loops around BLIS's micro-kernel for products small
 * enough that BLIS's own driver costs more than their arithmetic (ops/gemm.c). Written once
 * over the element type T and included twice by gemm.c (nabla/typed.h). */

/* Copies a block of `len` rows by kc columns of a matrix whose rows lie `rs` apart and whose
 * columns lie `cs` apart into micro-panels of w rows: panel after panel, each column of a panel
 * w consecutive elements, rows past the block's end zero. A's block is packed with (rs, cs) =
 * (rsa, csa) and w = MR; B's with (csb, rsb) and w = NR (its columns are the panels' rows). */
static void NB_FN(gemm_pack)(int64_t len, int64_t kc, const T *x, int64_t rs, int64_t cs, int64_t w,
                             T *restrict out)
{
    for (int64_t i0 = 0; i0 < len; i0 += w) {
        const int64_t h = len - i0 < w ? len - i0 : w;
        const T *p = x + i0 * rs;
        if (rs == 1) {
            for (int64_t l = 0; l < kc; l++, out += w) {
                for (int64_t i = 0; i < h; i++)
                    out[i] = p[l * cs + i];
                for (int64_t i = h; i < w; i++)
                    out[i] = 0;
            }
        } else {
            if (sizeof(T) == 4) /* out[l w + i] = p[i rs + l cs]: a transposing copy */
                nbi_copy_2d_u32((uint32_t *)out, 1, w, (const uint32_t *)p, rs, cs, h, kc);
            else
                for (int64_t i = 0; i < h; i++)
                    for (int64_t l = 0; l < kc; l++)
                        out[l * w + i] = p[i * rs + l * cs];
            for (int64_t i = h; i < w; i++)
                for (int64_t l = 0; l < kc; l++)
                    out[l * w + i] = 0;
            out += w * kc;
        }
    }
}

/* C = alpha A B + beta C by the blocked loops of BLIS's own algorithm (nc columns of B, kc of
 * the inner dimension, mc rows of A; then MR x NR tiles by the micro-kernel), on the calling
 * thread. ap and bp hold a packed block of A and of B. */
static void NB_FN(gemm_small)(const small_gemm *g, int64_t m, int64_t n, int64_t k, T alpha,
                              const T *a, int64_t rsa, int64_t csa, const T *b, int64_t rsb,
                              int64_t csb, T beta, T *c, int64_t rsc, int64_t csc, T *ap, T *bp)
{
    typedef void (*ukr_fn)(dim_t, dim_t, dim_t, T *, T *, T *, T *, T *, inc_t, inc_t, auxinfo_t *,
                           cntx_t *);
    const ukr_fn ukr = (ukr_fn)g->ukr;
    const int64_t MR = g->mr, NR = g->nr;
    auxinfo_t aux;
    memset(&aux, 0, sizeof aux);
    T one = 1;
    for (int64_t jc = 0; jc < n; jc += g->nc) {
        const int64_t nc = n - jc < g->nc ? n - jc : g->nc;
        for (int64_t pc = 0; pc < k; pc += g->kc) {
            const int64_t kc = k - pc < g->kc ? k - pc : g->kc;
            T *be = pc == 0 ? &beta : &one;
            NB_FN(gemm_pack)(nc, kc, b + pc * rsb + jc * csb, csb, rsb, NR, bp);
            for (int64_t ic = 0; ic < m; ic += g->mc) {
                const int64_t mc = m - ic < g->mc ? m - ic : g->mc;
                NB_FN(gemm_pack)(mc, kc, a + ic * rsa + pc * csa, rsa, csa, MR, ap);
                for (int64_t jr = 0; jr < nc; jr += NR) {
                    T *bj = bp + jr * kc;
                    for (int64_t ir = 0; ir < mc; ir += MR) {
                        T *ai = ap + ir * kc;
                        bli_auxinfo_set_next_a(ir + MR < mc ? ai + MR * kc : ap, &aux);
                        bli_auxinfo_set_next_b(ir + MR < mc || jr + NR >= nc ? bj : bj + NR * kc,
                                               &aux);
                        ukr(mc - ir < MR ? mc - ir : MR, nc - jr < NR ? nc - jr : NR, kc, &alpha,
                            ai, bj, be, c + (ic + ir) * rsc + (jc + jr) * csc, rsc, csc, &aux,
                            g->cntx);
                    }
                }
            }
        }
    }
}

/* C = alpha A B + beta C by the loops of BLIS's small-dimension algorithm without packing (its
 * gemmsup var2m): blocks of nc columns, kc of the inner dimension and mc rows, then one call of
 * the "millikernel" per NR columns, which walks the mc rows itself, reading A, B and C where
 * they are. The storage combination is one the kernel takes as its primary (see gemm_sup in
 * gemm.c); kc is the block BLIS itself would use for it. */
static void NB_FN(gemm_sup)(const sup_gemm *g, void_fp ker, int64_t kcb, int64_t m, int64_t n,
                            int64_t k, T alpha, const T *a, int64_t rsa, int64_t csa, const T *b,
                            int64_t rsb, int64_t csb, T beta, T *c, int64_t rsc, int64_t csc)
{
    typedef void (*ker_fn)(conj_t, conj_t, dim_t, dim_t, dim_t, T *, T *, inc_t, inc_t, T *, inc_t,
                           inc_t, T *, T *, inc_t, inc_t, auxinfo_t *, cntx_t *);
    const ker_fn kf = (ker_fn)ker;
    const int64_t NR = g->nr;
    auxinfo_t aux;
    memset(&aux, 0, sizeof aux);
    bli_auxinfo_set_ps_a(g->mr * rsa, &aux); /* the millikernel's step from one MR panel of A */
    bli_auxinfo_set_ps_b(NR * csb, &aux);
    T one = 1;
    for (int64_t jc = 0; jc < n; jc += g->nc) {
        const int64_t nc = n - jc < g->nc ? n - jc : g->nc;
        /* BLIS lets the last column block run up to nre columns past NR */
        int64_t jr_iter = (nc + NR - 1) / NR, jr_left = nc % NR;
        if (g->nre != 0 && jr_iter > 1 && jr_left != 0 && jr_left <= g->nre)
            jr_iter--, jr_left += NR;
        for (int64_t pc = 0; pc < k; pc += kcb) {
            const int64_t kc = k - pc < kcb ? k - pc : kcb;
            T *be = pc == 0 ? &beta : &one;
            for (int64_t ic = 0; ic < m; ic += g->mc) {
                const int64_t mc = m - ic < g->mc ? m - ic : g->mc;
                for (int64_t j = 0; j < jr_iter; j++) {
                    const int64_t nr = j == jr_iter - 1 && jr_left != 0 ? jr_left : NR;
                    const int64_t jj = jc + j * NR;
                    kf(BLIS_NO_CONJUGATE, BLIS_NO_CONJUGATE, mc, nr, kc, &alpha,
                       (T *)(a + ic * rsa + pc * csa), rsa, csa, (T *)(b + pc * rsb + jj * csb),
                       rsb, csb, be, c + ic * rsc + jj * csc, rsc, csc, &aux, g->cntx);
                }
            }
        }
    }
}

/* C [m, n] (rows rsc apart, columns csc apart) = ct^T + beta C, where ct [n, m] is stored by
 * rows; beta = 0 writes C without reading it (NaN there does not propagate). */
static void NB_FN(add_transposed)(void *cv, int64_t rsc, int64_t csc, const void *ctv, int64_t m,
                                  int64_t n, double beta)
{
    T *const c = cv;
    const T *const ct = ctv;
    const T be = (T)beta;
    for (int64_t i = 0; i < m; i++) {
        T *restrict const row = c + i * rsc;
        if (beta == 0.0)
            for (int64_t j = 0; j < n; j++)
                row[j * csc] = ct[j * m + i];
        else
            for (int64_t j = 0; j < n; j++)
                row[j * csc] = ct[j * m + i] + be * row[j * csc];
    }
}
