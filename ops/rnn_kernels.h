/* ops/rnn_kernels.h — the LSTM and GRU gate math over contiguous runs (ops/rnn.c). Written once
 * over the element type T and included twice by rnn.c (nabla/typed.h): NB_FN(name) is name_f32
 * or name_f64. Every loop is `omp simd` with libmvec's vector exp and tanh (ops/vmath.h). */

/* One run of len units: the four gate blocks zi..zo, the cell state c; writes h' and c'. */
static void NB_FN(lstm_fwd_run)(const T *zi, const T *zf, const T *zg, const T *zo, const T *c,
                                T *restrict h2, T *restrict c2, int64_t len)
{
#pragma omp simd
    for (int64_t j = 0; j < len; j++) {
        const T i = SIGMOID(zi[j]), f = SIGMOID(zf[j]), g = tanh(zg[j]), o = SIGMOID(zo[j]);
        const T cn = f * c[j] + i * g;
        c2[j] = cn;
        h2[j] = o * tanh(cn);
    }
}

/* One run backward: dh, dc the gradients of h' and c'; adds to dz (the four blocks, or NULL) and
 * dcp (or NULL). */
static void NB_FN(lstm_bwd_run)(const T *zi, const T *zf, const T *zg, const T *zo, const T *c,
                                const T *dh, const T *dc, T *dzi, T *dzf, T *dzg, T *dzo,
                                T *restrict dcp, int64_t len)
{
#pragma omp simd
    for (int64_t j = 0; j < len; j++) {
        const T i = SIGMOID(zi[j]), f = SIGMOID(zf[j]), g = tanh(zg[j]), o = SIGMOID(zo[j]);
        const T tc = tanh(f * c[j] + i * g);
        const T dcn = dc[j] + dh[j] * o * (1 - tc * tc); /* through h' = o tanh(c') too */
        if (dzi) {
            dzi[j] += dcn * g * i * (1 - i);
            dzf[j] += dcn * c[j] * f * (1 - f);
            dzg[j] += dcn * i * (1 - g * g);
            dzo[j] += dh[j] * tc * o * (1 - o);
        }
        if (dcp)
            dcp[j] += dcn * f;
    }
}

static nb_status NB_FN(lstm_fwd)(nbi_record *r)
{
    const int axis = ((const cell_attr *)r->attr)->axis;
    const cell_geom g = cell_geometry(r->in[1], axis);
    const T *z = nbi_data(r->in[0]), *c = nbi_data(r->in[1]);
    T *y = nbi_data(r->out);
    const int64_t H = g.H;
    const int nt = nbi_threads_for(r->out->numel * 40);
    NBI_PARALLEL_RANGE(
        g.runs, nt, lo, hi, for (int64_t q = lo; q < hi; q++) {
            NB_FN(lstm_fwd_run)
            (z + run_off(&g, q, 4 * H, 0), z + run_off(&g, q, 4 * H, H),
             z + run_off(&g, q, 4 * H, 2 * H), z + run_off(&g, q, 4 * H, 3 * H),
             c + run_off(&g, q, H, 0), y + run_off(&g, q, 2 * H, 0), y + run_off(&g, q, 2 * H, H),
             g.len);
        });
    return NB_OK;
}

static void NB_FN(lstm_bwd)(nbi_record *r)
{
    const int axis = ((const cell_attr *)r->attr)->axis;
    const cell_geom g = cell_geometry(r->in[1], axis);
    nb_tensor *zt = r->in[0], *ct = r->in[1];
    if (!zt->grad && !ct->grad)
        return;
    const T *z = nbi_data(zt), *c = nbi_data(ct), *dy = nbi_data(r->out->grad);
    T *dz = zt->grad ? nbi_data(zt->grad) : NULL, *dc = ct->grad ? nbi_data(ct->grad) : NULL;
    const int64_t H = g.H;
    const int nt = nbi_threads_for(r->out->numel * 60);
    NBI_PARALLEL_RANGE(
        g.runs, nt, lo, hi, for (int64_t q = lo; q < hi; q++) {
            int64_t o[4];
            for (int k = 0; k < 4; k++)
                o[k] = run_off(&g, q, 4 * H, k * H);
            NB_FN(lstm_bwd_run)
            (z + o[0], z + o[1], z + o[2], z + o[3], c + run_off(&g, q, H, 0),
             dy + run_off(&g, q, 2 * H, 0), dy + run_off(&g, q, 2 * H, H), dz ? dz + o[0] : NULL,
             dz ? dz + o[1] : NULL, dz ? dz + o[2] : NULL, dz ? dz + o[3] : NULL,
             dc ? dc + run_off(&g, q, H, 0) : NULL, g.len);
        });
}

/* One GRU run: xr.. the input side's blocks, hr.. the recurrent side's, h the state, b the
 * recurrent bias of n (or NULL); writes h'. */
static void NB_FN(gru_fwd_run)(const T *xr, const T *xz, const T *xn, const T *hr, const T *hz,
                               const T *hn, const T *h, const T *b, T *restrict y, int64_t len)
{
#pragma omp simd
    for (int64_t j = 0; j < len; j++) {
        const T rg = SIGMOID(xr[j] + hr[j]), zg = SIGMOID(xz[j] + hz[j]);
        const T n = tanh(xn[j] + rg * (hn[j] + (b ? b[j] : (T)0)));
        y[j] = n + zg * (h[j] - n);
    }
}

/* One GRU run backward: dy the gradient of h'; adds to dx (xg's three blocks), dg (hg's), dh,
 * db, each NULL when not wanted. */
static void NB_FN(gru_bwd_run)(const T *xr, const T *xz, const T *xn, const T *hr, const T *hz,
                               const T *hn, const T *h, const T *b, const T *dy, T *dxr, T *dxz,
                               T *dxn, T *dgr, T *dgz, T *dgn, T *dh, T *db, int64_t len)
{
#pragma omp simd
    for (int64_t j = 0; j < len; j++) {
        const T rg = SIGMOID(xr[j] + hr[j]), zg = SIGMOID(xz[j] + hz[j]);
        const T hb = hn[j] + (b ? b[j] : (T)0), n = tanh(xn[j] + rg * hb);
        const T dan = dy[j] * (1 - zg) * (1 - n * n); /* d(pre-activation of n) */
        const T dar = dan * hb * rg * (1 - rg), daz = dy[j] * (h[j] - n) * zg * (1 - zg);
        if (dxr) {
            dxr[j] += dar;
            dxz[j] += daz;
            dxn[j] += dan;
        }
        if (dgr) {
            dgr[j] += dar;
            dgz[j] += daz;
            dgn[j] += dan * rg;
        }
        if (dh)
            dh[j] += dy[j] * zg;
        if (db)
            db[j] += dan * rg;
    }
}

static nb_status NB_FN(gru_fwd)(nbi_record *r)
{
    const int axis = ((const cell_attr *)r->attr)->axis;
    const cell_geom g = cell_geometry(r->in[2], axis);
    const T *x = nbi_data(r->in[0]), *hg = nbi_data(r->in[1]), *h = nbi_data(r->in[2]);
    const T *b = r->n_in > 3 ? nbi_data(r->in[3]) : NULL;
    T *y = nbi_data(r->out);
    const int nt = nbi_threads_for(r->out->numel * 40);
    NBI_PARALLEL_RANGE(
        g.runs, nt, lo, hi, for (int64_t q = lo; q < hi; q++) {
            int64_t o[4];
            gru_offsets(&g, q, o);
            NB_FN(gru_fwd_run)
            (x + o[0], x + o[1], x + o[2], hg + o[0], hg + o[1], hg + o[2], h + o[3],
             b ? b + o[3] : NULL, y + o[3], g.len);
        });
    return NB_OK;
}

static void NB_FN(gru_bwd)(nbi_record *r)
{
    const int axis = ((const cell_attr *)r->attr)->axis;
    const cell_geom g = cell_geometry(r->in[2], axis);
    nb_tensor *bt = r->n_in > 3 ? r->in[3] : NULL;
    const T *x = nbi_data(r->in[0]), *hg = nbi_data(r->in[1]), *h = nbi_data(r->in[2]);
    const T *b = bt ? nbi_data(bt) : NULL, *dy = nbi_data(r->out->grad);
    T *dx = r->in[0]->grad ? nbi_data(r->in[0]->grad) : NULL;
    T *dg = r->in[1]->grad ? nbi_data(r->in[1]->grad) : NULL;
    T *dh = r->in[2]->grad ? nbi_data(r->in[2]->grad) : NULL;
    T *db = bt && bt->grad ? nbi_data(bt->grad) : NULL;
    const int nt = nbi_threads_for(r->out->numel * 60);
    NBI_PARALLEL_RANGE(
        g.runs, nt, lo, hi, for (int64_t q = lo; q < hi; q++) {
            int64_t o[4];
            gru_offsets(&g, q, o);
            NB_FN(gru_bwd_run)
            (x + o[0], x + o[1], x + o[2], hg + o[0], hg + o[1], hg + o[2], h + o[3],
             b ? b + o[3] : NULL, dy + o[3], dx ? dx + o[0] : NULL, dx ? dx + o[1] : NULL,
             dx ? dx + o[2] : NULL, dg ? dg + o[0] : NULL, dg ? dg + o[1] : NULL,
             dg ? dg + o[2] : NULL, dh ? dh + o[3] : NULL, db ? db + o[3] : NULL, g.len);
        });
}
