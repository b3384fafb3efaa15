/* nabla.h — the umbrella header: everything public in one include.
 *
 *   core.h      status, errors, dtypes, threads, seeded rng
 *   tensor.h    tensors: creation, shape, data, gradients
 *   autograd.h  steps (arena + tape), backward, no-grad, gradient checking
 *   ops.h       differentiable operations and losses */
#ifndef NABLA_H
#define NABLA_H

#include "nabla/autograd.h"
#include "nabla/core.h"
#include "nabla/ops.h"
#include "nabla/tensor.h"

#endif
