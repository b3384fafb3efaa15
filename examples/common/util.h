/* examples/common/util.h — small helpers shared by the example programs: a plain SGD update of
 * caller-owned parameters, printing tensors, checking computed values against expected ones,
 * reporting library errors. Built only on the public API (nabla.h). */
#ifndef NABLA_EXAMPLES_UTIL_H
#define NABLA_EXAMPLES_UTIL_H

#include <stdbool.h>

#include "nabla.h"

/* p <- p - lr * grad(p) for each of the n parameters. Parameters must be caller-owned,
 * contiguous float32 or float64 tensors; one without a gradient yet is left alone. Runs outside
 * the tape (plain loops over nb_tensor_data_f32/f64). Returns NB_ERR_VALUE for a NULL or
 * non-contiguous parameter and NB_ERR_DTYPE for an integer one, with a message on stderr. */
nb_status ex_sgd_step(nb_tensor *const *params, int n, double lr);

/* Zero the gradients of n parameters (those without a gradient are skipped). */
void ex_zero_grads(nb_tensor *const *params, int n);

/* Print "<indent><name> = [v0, v1, ...]" with each value formatted by fmt (a printf
 * conversion for a double, e.g. "%.4f"); any strides, any dtype. */
void ex_print_tensor(const char *indent, const char *name, const nb_tensor *t, const char *fmt);

/* One line "  check <what>: <got> vs expected <want> (|diff| <= tol) ok|MISMATCH" on stdout;
 * true when |got - want| <= tol (false for NaN). */
bool ex_check(const char *what, double got, double want, double tol);

/* Full-batch training with the mean squared error: `steps` steps of optimizer o on
 * mse(net(x), y), then net(x) once more, copied into out[0 .. numel - 1] (out may be NULL).
 * Returns the MSE of that last pass, or NaN (with the library's error set) on a failure. */
double ex_fit_mse(nb_module *net, nb_optim *o, nb_tensor *x, nb_tensor *y, int steps, double *out);

/* Print "<prog>: <what>: <nb_last_error()>" to stderr and return 1 (the exit status). */
int ex_fail(const char *prog, const char *what);

#endif
