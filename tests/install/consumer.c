/* A researcher's own program, built against an installed nabla (pkg-config, find_package). */
#include <nabla.h>
#include <nabla/typed.h> /* installed too: NB_DISPATCH calls name_f32 or name_f64 by dtype */
#include <stdio.h>

/* The first element of a float tensor, per dtype. */
static void first_f32(nb_tensor *t, double *v)
{
    *v = nb_tensor_data_f32(t)[0];
}
static void first_f64(nb_tensor *t, double *v)
{
    *v = nb_tensor_data_f64(t)[0];
}

int main(void)
{
    int64_t shape[1] = {3};
    double v[3] = {1.0, 2.0, 3.0};
    nb_tensor *x = nb_tensor_from_data(NB_F64, 1, shape, v);
    nb_tensor_set_requires_grad(x, true);
    nb_step *step = nb_step_new();
    nb_step_begin(step);
    nb_tensor *loss = nb_sum_all(nb_square(x)); /* d/dx sum(x^2) = 2x */
    nb_status st = nb_backward(loss);
    double g = nb_tensor_get(nb_tensor_grad(x), 2);
    nb_step_end(step);
    nb_step_free(step);
    double x0 = 0;
    NB_DISPATCH(nb_tensor_dtype(x), first, x, &x0);
    nb_tensor_free(x);
    printf("grad %g\n", g);
    return st == NB_OK && g == 6.0 && x0 == 1.0 ? 0 : 1;
}
