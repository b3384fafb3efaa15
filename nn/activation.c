/* nn/activation.c — parameter-free modules: activations, softmax, identity, flatten. */
#include "nabla/nn.h"

#include <stdio.h>

typedef enum {
    RELU,
    LEAKY_RELU,
    SIGMOID,
    TANH,
    SOFTPLUS,
    SOFTMAX,
    LOG_SOFTMAX,
    IDENTITY,
    FLATTEN
} act_kind;

typedef struct {
    act_kind kind;
    double slope; /* LEAKY_RELU */
    int axis;     /* SOFTMAX, LOG_SOFTMAX */
} act_cfg;

static nb_tensor *act_forward(nb_module *m, nb_tensor *x)
{
    const act_cfg *c = nb_module_user_data(m);
    switch (c->kind) {
    case RELU:
        return nb_relu(x);
    case LEAKY_RELU:
        return nb_leaky_relu(x, c->slope);
    case SIGMOID:
        return nb_sigmoid(x);
    case TANH:
        return nb_tanh(x);
    case SOFTPLUS:
        return nb_softplus(x);
    case SOFTMAX:
        return nb_softmax(x, c->axis);
    case LOG_SOFTMAX:
        return nb_log_softmax(x, c->axis);
    case IDENTITY:
        return x;
    case FLATTEN:
        if (nb_tensor_ndim(x) < 1) {
            nb_module_error(m, NB_ERR_SHAPE, "input is a scalar, expected [batch, ...]");
            return NULL;
        }
        return nb_tensor_ndim(x) == 2 ? x : nb_flatten(x);
    }
    return NULL;
}

static nb_module *act_new(const char *kind, act_cfg cfg)
{
    act_cfg *c = nb_malloc(sizeof *c);
    if (!c) {
        nb_set_error(NB_ERR_NOMEM, "nb_%s_new: out of memory", kind);
        return NULL;
    }
    *c = cfg;
    return nb_module_new(kind, NB_F32, act_forward, c, nb_free);
}

nb_module *nb_relu_new(void)
{
    return act_new("ReLU", (act_cfg){.kind = RELU});
}

nb_module *nb_leaky_relu_new(double slope)
{
    nb_module *m = act_new("LeakyReLU", (act_cfg){.kind = LEAKY_RELU, .slope = slope});
    if (m)
        nb_module_set_info(m, "slope=%g", slope);
    return m;
}

nb_module *nb_sigmoid_new(void)
{
    return act_new("Sigmoid", (act_cfg){.kind = SIGMOID});
}

nb_module *nb_tanh_new(void)
{
    return act_new("Tanh", (act_cfg){.kind = TANH});
}

nb_module *nb_softplus_new(void)
{
    return act_new("Softplus", (act_cfg){.kind = SOFTPLUS});
}

nb_module *nb_softmax_new(int axis)
{
    nb_module *m = act_new("Softmax", (act_cfg){.kind = SOFTMAX, .axis = axis});
    if (m)
        nb_module_set_info(m, "axis=%d", axis);
    return m;
}

nb_module *nb_log_softmax_new(int axis)
{
    nb_module *m = act_new("LogSoftmax", (act_cfg){.kind = LOG_SOFTMAX, .axis = axis});
    if (m)
        nb_module_set_info(m, "axis=%d", axis);
    return m;
}

nb_module *nb_identity_new(void)
{
    return act_new("Identity", (act_cfg){.kind = IDENTITY});
}

nb_module *nb_flatten_new(void)
{
    return act_new("Flatten", (act_cfg){.kind = FLATTEN});
}
