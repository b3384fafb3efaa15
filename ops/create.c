/* ops/create.c — creation: arange, linspace, full, eye and the _like constructors.
 *
 * None of these is recorded or ever requires grad; like nb_constant they are placed as op results
 * are: in the active step's arena, or caller-owned (nb_tensor_free) when no step is active. */
#include "ops/op_def.h"

#include <math.h>

/* dtype must be f32, f64 or (int_ok) i64. */
static bool check_dtype(const char *fn, nb_dtype dtype, bool int_ok)
{
    if (nbi_is_float(dtype) || (int_ok && dtype == NB_I64))
        return true;
    nbi_error(NB_ERR_DTYPE, "%s: dtype must be f32, f64%s, got %s", fn, int_ok ? " or i64" : "",
              nb_dtype_name(dtype));
    return false;
}

/* An i64 tensor holds only integers: v must be one (and within +-2^62). */
static bool check_int(const char *fn, nb_dtype dtype, const char *what, double v)
{
    if (dtype != NB_I64 || (v == floor(v) && fabs(v) <= 0x1p62))
        return true;
    nbi_error(NB_ERR_VALUE, "%s: %s %g is not an integer an i64 tensor can hold", fn, what, v);
    return false;
}

#define NB_KERNELS "ops/create_kernels.h"
#include "nabla/typed.h"

nb_tensor *nb_arange(nb_dtype dtype, double start, double end, double step)
{
    const char *fn = "nb_arange";
    if (!check_dtype(fn, dtype, true))
        return NULL;
    if (!isfinite(start) || !isfinite(end) || !isfinite(step) || step == 0) {
        nbi_error(NB_ERR_VALUE,
                  "%s: start, end and step must be finite and step nonzero: start %g, end %g, "
                  "step %g",
                  fn, start, end, step);
        return NULL;
    }
    if ((end - start) / step < 0) {
        nbi_error(NB_ERR_VALUE, "%s: step %g goes away from end: start %g, end %g", fn, step, start,
                  end);
        return NULL;
    }
    if (!check_int(fn, dtype, "start", start) || !check_int(fn, dtype, "step", step))
        return NULL;
    if (dtype == NB_I64 && !(fabs(start) <= 0x1p53 && fabs(end) <= 0x1p53)) {
        /* so that every value start + i * step is an exact double and no int64 overflows */
        nbi_error(NB_ERR_VALUE, "%s: i64 start and end must be within +-2^53: start %g, end %g", fn,
                  start, end);
        return NULL;
    }
    const double n = ceil((end - start) / step);
    if (!(n <= 0x1p60)) {
        nbi_error(NB_ERR_SHAPE, "%s: too many elements: start %g, end %g, step %g", fn, start, end,
                  step);
        return NULL;
    }
    const int64_t shape[1] = {(int64_t)n};
    nb_tensor *t = nbi_tensor_alloc_uninit(fn, dtype, 1, shape);
    if (!t)
        return NULL;
    if (dtype == NB_I64) {
        int64_t *p = nbi_data(t);
        for (int64_t i = 0; i < t->numel; i++)
            p[i] = (int64_t)(start + (double)i * step);
    } else {
        NB_DISPATCH(dtype, arange_fill, t, start, step);
    }
    return t;
}

nb_tensor *nb_linspace(nb_dtype dtype, double start, double end, int64_t steps)
{
    const char *fn = "nb_linspace";
    if (!check_dtype(fn, dtype, false))
        return NULL;
    if (!isfinite(start) || !isfinite(end) || steps < 0) {
        nbi_error(NB_ERR_VALUE,
                  "%s: start and end must be finite and steps >= 0: start %g, end %g, steps %lld",
                  fn, start, end, (long long)steps);
        return NULL;
    }
    nb_tensor *t = nbi_tensor_alloc_uninit(fn, dtype, 1, &steps);
    if (t)
        NB_DISPATCH(dtype, linspace_fill, t, start, end);
    return t;
}

/* A tensor of value (of any of the three dtypes; an integer for i64). */
static nb_tensor *filled(const char *fn, nb_dtype dtype, int ndim, const int64_t *shape,
                         double value)
{
    if (!check_dtype(fn, dtype, true) || !check_int(fn, dtype, "value", value))
        return NULL;
    nb_tensor *t = nbi_tensor_alloc(fn, dtype, ndim, shape);
    if (t && value != 0)
        nb_tensor_fill(t, value);
    return t;
}

nb_tensor *nb_full(nb_dtype dtype, int ndim, const int64_t *shape, double value)
{
    return filled("nb_full", dtype, ndim, shape, value);
}

nb_tensor *nb_eye(nb_dtype dtype, int64_t n, int64_t m)
{
    const char *fn = "nb_eye";
    if (!check_dtype(fn, dtype, true))
        return NULL;
    if (n < 0 || m < 0) {
        nbi_error(NB_ERR_VALUE, "%s: n and m must be >= 0, got n %lld, m %lld", fn, (long long)n,
                  (long long)m);
        return NULL;
    }
    const int64_t shape[2] = {n, m};
    nb_tensor *t = nbi_tensor_alloc(fn, dtype, 2, shape);
    for (int64_t i = 0; t && i < n && i < m; i++)
        nb_tensor_set(t, i * m + i, 1.0);
    return t;
}

/* ---- _like: x's dtype and shape (x's values are not read; x may be any view) ---- */
static bool check_like(const char *fn, const nb_tensor *x)
{
    if (!x) {
        if (!nbi_error_pending())
            nbi_error(NB_ERR_VALUE, "%s: x is NULL", fn);
        return false;
    }
    return nbi_check_live(fn, x);
}

static nb_tensor *filled_like(const char *fn, const nb_tensor *x, double value)
{
    return check_like(fn, x) ? filled(fn, x->dtype, x->ndim, x->shape, value) : NULL;
}

nb_tensor *nb_full_like(const nb_tensor *x, double value)
{
    return filled_like("nb_full_like", x, value);
}

nb_tensor *nb_zeros_like(const nb_tensor *x)
{
    return filled_like("nb_zeros_like", x, 0.0);
}

nb_tensor *nb_ones_like(const nb_tensor *x)
{
    return filled_like("nb_ones_like", x, 1.0);
}

/* uniform [0, 1) or standard normal draws in x's float dtype and shape */
static nb_tensor *random_like(const char *fn, const nb_tensor *x, nb_rng *rng, bool normal)
{
    if (!check_like(fn, x) || !check_dtype(fn, x->dtype, false))
        return NULL;
    if (!rng) {
        nbi_error(NB_ERR_VALUE, "%s: rng is NULL", fn);
        return NULL;
    }
    return normal ? nb_rand_normal(x->dtype, x->ndim, x->shape, rng, 0.0, 1.0)
                  : nb_rand_uniform(x->dtype, x->ndim, x->shape, rng, 0.0, 1.0);
}

nb_tensor *nb_rand_like(const nb_tensor *x, nb_rng *rng)
{
    return random_like("nb_rand_like", x, rng, false);
}

nb_tensor *nb_randn_like(const nb_tensor *x, nb_rng *rng)
{
    return random_like("nb_randn_like", x, rng, true);
}
