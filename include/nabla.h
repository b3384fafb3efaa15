/* nabla.h — the umbrella header: everything public in one include.
 *
 *   core.h      status, errors, dtypes, threads, seeded rng
 *   tensor.h    tensors: creation, shape, data, gradients
 *   autograd.h  steps (arena + tape), backward, no-grad, gradient checking
 *   cleanup.h   a list of objects freed together (program exits), nb_cleanup_add
 *   ops.h       differentiable operations and losses
 *   nn.h        modules: parameters in one buffer, layers, activations, containers, init
 *   conv_layers.h  convolution, pooling, batch/layer normalisation and Dropout2d modules
 *   optim.h     optimizers, gradient clipping, learning-rate schedules
 *   data.h      datasets (MNIST/Fashion-MNIST IDX, CIFAR-10), splits, normalisation, batches
 *   io.h        checkpoints of named tensors, .npy files, XXH3 digests
 *   report.h    progress bar, curve logger (CSV + PNG plot), PNG image grids
 *   unsup.h     autoencoders, RBMs (contrastive divergence), deep belief nets
 *   seq.h       embeddings, recurrent cells and layers (RNN, LSTM, GRU), truncated BPTT state
 *   text.h      word tokenizer, sequence padding and masks
 * Not included: nabla/dist.h (data-parallel training over MPI), which lives in its own library,
 * libnabla-dist, so that libnabla does not depend on MPI (docs/distributed.md). */
#ifndef NABLA_H
#define NABLA_H

#include "nabla/autograd.h"
#include "nabla/cleanup.h"
#include "nabla/conv_layers.h"
#include "nabla/core.h"
#include "nabla/data.h"
#include "nabla/io.h"
#include "nabla/nn.h"
#include "nabla/op.h"
#include "nabla/ops.h"
#include "nabla/optim.h"
#include "nabla/profile.h"
#include "nabla/report.h"
#include "nabla/seq.h"
#include "nabla/tensor.h"
#include "nabla/text.h"
#include "nabla/train.h"
#include "nabla/transformer.h"
#include "nabla/unsup.h"

#endif
