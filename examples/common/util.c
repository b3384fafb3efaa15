/* examples/common/util.c — SGD update, printing and checking helpers for the examples. */
#include "common/util.h"

#include <math.h>
#include <stdio.h>

nb_status ex_sgd_step(nb_tensor *const *params, int n, double lr)
{
    for (int i = 0; i < n; i++) {
        nb_tensor *p = params[i];
        if (!p || !nb_tensor_is_contiguous(p)) {
            fprintf(stderr, "ex_sgd_step: parameter %d is %s\n", i, p ? "not contiguous" : "NULL");
            return NB_ERR_VALUE;
        }
        nb_tensor *g = nb_tensor_grad(p);
        if (!g)
            continue;
        const int64_t n_el = nb_tensor_numel(p);
        if (nb_tensor_dtype(p) == NB_F64) {
            double *w = nb_tensor_data_f64(p);
            const double *dw = nb_tensor_data_f64(g);
            for (int64_t k = 0; k < n_el; k++)
                w[k] -= lr * dw[k];
        } else if (nb_tensor_dtype(p) == NB_F32) {
            float *w = nb_tensor_data_f32(p);
            const float *dw = nb_tensor_data_f32(g);
            for (int64_t k = 0; k < n_el; k++)
                w[k] -= (float)lr * dw[k];
        } else {
            fprintf(stderr, "ex_sgd_step: parameter %d is %s, not a float tensor\n", i,
                    nb_dtype_name(nb_tensor_dtype(p)));
            return NB_ERR_DTYPE;
        }
    }
    return NB_OK;
}

void ex_zero_grads(nb_tensor *const *params, int n)
{
    for (int i = 0; i < n; i++)
        nb_tensor_zero_grad(params[i]);
}

void ex_print_tensor(const char *indent, const char *name, const nb_tensor *t, const char *fmt)
{
    printf("%s%s = [", indent, name);
    const int64_t n = nb_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) {
        if (i)
            printf(", ");
        printf(fmt, nb_tensor_get(t, i));
    }
    printf("]\n");
}

bool ex_check(const char *what, double got, double want, double tol)
{
    const double diff = fabs(got - want);
    const bool ok = diff <= tol; /* false for NaN */
    printf("  check %-28s %.10g vs expected %.10g (|diff| %.2e <= %.1e) %s\n", what, got, want,
           diff, tol, ok ? "ok" : "MISMATCH");
    return ok;
}

int ex_fail(const char *prog, const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", prog, what, nb_last_error());
    return 1;
}

double ex_fit_mse(nb_module *net, nb_optim *o, nb_tensor *x, nb_tensor *y, int steps, double *out)
{
    nb_step *step = nb_step_new();
    nb_status st = step ? NB_OK : NB_ERR_NOMEM;
    double mse = NAN;
    for (int t = 0; st == NB_OK && t <= steps; t++) {
        if ((st = nb_step_begin(step)) != NB_OK)
            break;
        nb_optim_zero_grad(o);
        nb_tensor *pred = nb_module_forward(net, x);
        nb_tensor *l = pred ? nb_mse(pred, y, NB_REDUCE_MEAN) : NULL;
        st = l ? NB_OK : nb_last_status();
        if (st == NB_OK && t == steps) {
            mse = nb_tensor_item(l);
            for (int64_t i = 0; out && i < nb_tensor_numel(pred); i++)
                out[i] = nb_tensor_get(pred, i);
        } else if (st == NB_OK && (st = nb_backward(l)) == NB_OK) {
            st = nb_optim_update(o);
        }
        nb_step_end(step);
    }
    nb_step_free(step);
    return st == NB_OK ? mse : NAN;
}
