/* optim/sgd_kernels.h — the SGD update loop.
 * Written once over the element type T and included twice by sgd.c (nabla/typed.h):
 * NB_FN(name) is name_f32 or name_f64. */

/*   d = g + wd * p
 *   momentum: b = d at t = 1, else mu * b + (1 - dampening) * d;  d = nesterov ? d + mu * b : b
 *   p -= lr * d */
static void NB_FN(sgd)(T *restrict p, const T *restrict g, T *restrict b, int64_t n,
                       const nb_sgd_opts *h, bool first, double lr)
{
    const T wd = (T)h->weight_decay, mu = (T)h->momentum, keep = (T)(1.0 - h->dampening);
    const T eta = (T)lr;
    if (!b) {
        NBI_OPTIM_LOOP(n) p[i] -= eta * (g[i] + wd * p[i]);
    } else if (first) {
        const bool nag = h->nesterov;
        NBI_OPTIM_LOOP(n)
        {
            const T d = g[i] + wd * p[i];
            b[i] = d;
            p[i] -= eta * (nag ? d + mu * d : d);
        }
    } else {
        const bool nag = h->nesterov;
        NBI_OPTIM_LOOP(n)
        {
            const T d = g[i] + wd * p[i];
            const T nb = mu * b[i] + keep * d;
            b[i] = nb;
            p[i] -= eta * (nag ? d + mu * nb : nb);
        }
    }
}
