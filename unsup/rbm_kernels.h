/* unsup/rbm_kernels.h — the RBM trainer's parameter update.
 * Written once over the element type T and included twice by rbm.c (nabla/typed.h):
 * NB_FN(name) is name_f32 or name_f64. */

/* delta <- momentum * delta - lr * (grad + decay * p);  p <- p + delta. */
static void NB_FN(rbm_step)(nb_tensor *param, nb_tensor *delta, double mu, double lr, double wd)
{
    T *p = nb_tensor_data(param), *g = nb_tensor_data(nb_tensor_grad(param));
    T *d = nb_tensor_data(delta);
    const T mu_ = (T)mu, lr_ = (T)lr, wd_ = (T)wd;
    const int64_t n = nb_tensor_numel(param);
    for (int64_t j = 0; j < n; j++) {
        d[j] = mu_ * d[j] - lr_ * (g[j] + wd_ * p[j]);
        p[j] += d[j];
    }
}
