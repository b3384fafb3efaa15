/* tests/optim/optim_problem.h — the tiny problem the optimizer tests share.
 *
 * L(p) = 1/2 sum(a * p^2) + sum(b * p) over a parameter p of QN elements held by a module, so
 * dL/dp = a * p + b and the minimum is p* = -b / a. Each optimizer test runs the optimizer on it
 * through the real autograd path and compares with the update formulas evaluated directly in
 * double precision on the same gradients. */
#ifndef NABLA_TESTS_OPTIM_PROBLEM_H
#define NABLA_TESTS_OPTIM_PROBLEM_H

#include "support/nbt.h"

#include <math.h>

#define QN 4
static const double QA[QN] = {1.0, 2.0, 0.5, 3.0};
static const double QB[QN] = {0.3, -1.0, 0.8, -0.2};
static const double QP0[QN] = {1.0, -0.5, 2.0, 0.25};

typedef struct {
    nb_module *m;
    nb_tensor *p, *a, *b;
    nb_step *step;
} quad;

static inline quad quad_new(nb_dtype dt)
{
    quad q = {0};
    q.m = nb_module_new("Quadratic", dt, NULL, NULL, NULL);
    q.p = nb_module_add_param(q.m, "w", 1, (int64_t[]){QN});
    const int64_t s[1] = {QN};
    q.a = nb_tensor_from_data(NB_F64, 1, s, QA);
    q.b = nb_tensor_from_data(NB_F64, 1, s, QB);
    if (dt == NB_F32) {
        nb_tensor *a32 = nb_tensor_to_dtype(q.a, NB_F32), *b32 = nb_tensor_to_dtype(q.b, NB_F32);
        nb_tensor_free(q.a);
        nb_tensor_free(q.b);
        q.a = a32;
        q.b = b32;
    }
    for (int i = 0; i < QN; i++)
        nb_tensor_set(q.p, i, QP0[i]);
    q.step = nb_step_new();
    return q;
}

/* Current loss value (no recording). */
static inline double quad_loss(const quad *q)
{
    double L = 0;
    for (int i = 0; i < QN; i++) {
        double p = nb_tensor_get(q->p, i);
        L += 0.5 * QA[i] * p * p + QB[i] * p;
    }
    return L;
}

/* One training step: zero grads, L, backward, optimizer step. */
static inline nb_status quad_step(quad *q, nb_optim *o)
{
    nb_step_begin(q->step);
    nb_optim_zero_grad(o);
    nb_tensor *L = nb_add(nb_mul_scalar(nb_sum_all(nb_mul(q->a, nb_square(q->p))), 0.5),
                          nb_sum_all(nb_mul(q->b, q->p)));
    nb_status st = L ? nb_backward(L) : nb_last_status();
    if (st == NB_OK)
        st = nb_optim_update(o);
    nb_step_end(q->step);
    return st;
}

static inline void quad_free(quad *q)
{
    nb_module_free(q->m);
    nb_tensor_free(q->a);
    nb_tensor_free(q->b);
    nb_step_free(q->step);
}

/* The gradient at p (the reference computations use it). */
static inline double quad_grad(int i, double p)
{
    return QA[i] * p + QB[i];
}

/* A reference optimizer: advances p (QN values) by one step t (1-based), keeping its own
 * state in st (zero-initialised by the caller, 3 x QN values). */
typedef void (*ref_step_fn)(const void *opts, double *p, double st[3][QN], int64_t t);

/* Run the optimizer 3 steps and compare p after each with the reference, within tol. */
static inline void expect_three_steps(nb_optim *o, quad *q, ref_step_fn ref, const void *opts,
                                      double st0, double tol)
{
    double p[QN], st[3][QN];
    for (int i = 0; i < QN; i++) {
        p[i] = QP0[i];
        st[0][i] = st0; /* e.g. Adagrad's initial accumulator */
        st[1][i] = st[2][i] = 0;
    }
    for (int64_t t = 1; t <= 3; t++) {
        assert_int_equal(quad_step(q, o), NB_OK);
        ref(opts, p, st, t);
        for (int i = 0; i < QN; i++) {
            if (fabs(nb_tensor_get(q->p, i) - p[i]) > tol)
                fprintf(stderr, "%s step %lld element %d: got %.17g, expected %.17g\n",
                        nb_optim_name(o), (long long)t, i, nb_tensor_get(q->p, i), p[i]);
            assert_true(fabs(nb_tensor_get(q->p, i) - p[i]) <= tol);
        }
        /* the parameter really moved */
        assert_true(fabs(p[0] - QP0[0]) > 0 || fabs(p[1] - QP0[1]) > 0);
    }
    assert_int_equal(nb_optim_update_count(o), 3);
}

/* Run `steps` steps and check p reached the minimum -b/a within tol. */
static inline void expect_minimises(nb_optim *o, quad *q, int steps, double tol)
{
    const double start = quad_loss(q);
    for (int s = 0; s < steps; s++)
        assert_int_equal(quad_step(q, o), NB_OK);
    for (int i = 0; i < QN; i++) {
        const double err = fabs(nb_tensor_get(q->p, i) + QB[i] / QA[i]);
        if (err > tol)
            fprintf(stderr, "%s: element %d is %.9g, minimum at %.9g\n", nb_optim_name(o), i,
                    nb_tensor_get(q->p, i), -QB[i] / QA[i]);
        assert_true(err <= tol);
    }
    assert_true(quad_loss(q) < start);
}

#endif
