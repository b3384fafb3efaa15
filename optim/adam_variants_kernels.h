/* optim/adam_variants_kernels.h — the update loops of NAdam, RAdam and Adamax.
 * Written once over the element type T and included twice by adam_variants.c (nabla/typed.h):
 * NB_FN(name) is name_f32 or name_f64. */

static void NB_FN(nadam)(const nb_optim *o, nbi_optim_group *gr, nbi_optim_param *e, int64_t t)
{
    NBI_OPTIM_PTRS(T, e, gr);
    (void)o;
    const nb_nadam_opts *h = &gr->hp.nadam;
    if (gr->mu_t > t || gr->mu_t < 0) { /* never: the group's step only grows */
        gr->mu_t = 0;
        gr->mu_product = 1.0;
    }
    for (; gr->mu_t < t; gr->mu_t++)
        gr->mu_product *= nadam_mu(h, gr->mu_t + 1);
    const double mu = nadam_mu(h, t), mu_next = nadam_mu(h, t + 1);
    const double prod = gr->mu_product, prod_next = prod * mu * mu_next;
    const T b1 = (T)h->beta1, b2 = (T)h->beta2, eps = (T)h->eps, wd = (T)h->weight_decay;
    const T bc2 = (T)(1.0 - pow(h->beta2, (double)t));
    const T c1 = (T)(-lr * (1. - mu) / (1. - prod));
    const T c2 = (T)(-lr * mu_next / (1. - prod_next));
    NBI_OPTIM_LOOP(n)
    {
        const T d = g[i] + wd * p[i];
        s0[i] = b1 * s0[i] + (1 - b1) * d;
        s1[i] = b2 * s1[i] + (1 - b2) * (d * d);
        const T den = sqrt(s1[i] / bc2) + eps;
        p[i] += c1 * (d / den);
        p[i] += c2 * (s0[i] / den);
    }
}

/* ---- RAdam ----  d = g + wd p; m = b1 m + (1-b1) d; v = b2 v + (1-b2) d^2
 *   rho_inf = 2 / (1 - b2) - 1; rho_t = rho_inf - 2 t b2^t / (1 - b2^t)
 *   rho_t > 5: p -= m / (1 - b1^t) * lr * sqrt(1 - b2^t) / (sqrt(v) + eps) * r(rho_t)
 *   otherwise: p -= m / (1 - b1^t) * lr */
static void NB_FN(radam)(const nb_optim *o, nbi_optim_group *gr, nbi_optim_param *e, int64_t t)
{
    NBI_OPTIM_PTRS(T, e, gr);
    (void)o;
    const nb_radam_opts *h = &gr->hp.radam;
    const double bc1 = 1 - pow(h->beta1, (double)t), bc2 = 1 - pow(h->beta2, (double)t);
    const double rho_inf = 2 / (1 - h->beta2) - 1;
    const double rho_t = rho_inf - 2 * (double)t * pow(h->beta2, (double)t) / bc2;
    const bool rectify = rho_t > 5.;
    const double rect =
        rectify
            ? sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            : 0.0;
    const T b1 = (T)h->beta1, b2 = (T)h->beta2, eps = (T)h->eps, wd = (T)h->weight_decay;
    const T tbc1 = (T)bc1, sbc2 = (T)sqrt(bc2), eta = (T)lr, r = (T)rect;
    if (rectify) {
        NBI_OPTIM_LOOP(n)
        {
            const T d = g[i] + wd * p[i];
            s0[i] = b1 * s0[i] + (1 - b1) * d;
            s1[i] = b2 * s1[i] + (1 - b2) * (d * d);
            p[i] -= s0[i] / tbc1 * eta * (sbc2 / (sqrt(s1[i]) + eps)) * r;
        }
    } else {
        NBI_OPTIM_LOOP(n)
        {
            const T d = g[i] + wd * p[i];
            s0[i] = b1 * s0[i] + (1 - b1) * d;
            s1[i] = b2 * s1[i] + (1 - b2) * (d * d);
            p[i] -= s0[i] / tbc1 * eta;
        }
    }
}

/* ---- Adamax ----  d = g + wd p; m = b1 m + (1-b1) d; u = max(b2 u, |d| + eps);
 *                   p -= lr / (1 - b1^t) * m / u */
static void NB_FN(adamax)(const nb_optim *o, nbi_optim_group *gr, nbi_optim_param *e, int64_t t)
{
    NBI_OPTIM_PTRS(T, e, gr);
    (void)o;
    const nb_adamax_opts *h = &gr->hp.adamax;
    const T b1 = (T)h->beta1, b2 = (T)h->beta2, eps = (T)h->eps, wd = (T)h->weight_decay;
    const T clr = (T)(lr / (1 - pow(h->beta1, (double)t)));
    NBI_OPTIM_LOOP(n)
    {
        const T d = g[i] + wd * p[i];
        s0[i] = b1 * s0[i] + (1 - b1) * d;
        const T a = b2 * s1[i], b = fabs(d) + eps;
        s1[i] = a > b ? a : b;
        p[i] -= clr * (s0[i] / s1[i]);
    }
}
