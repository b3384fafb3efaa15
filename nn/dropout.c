/* nn/dropout.c — inverted dropout with the module's own seeded rng. */
#include "nabla/nn.h"

typedef struct {
    double p;
    nb_rng rng;
} dropout_cfg;

/* Training: y = x * mask / (1 - p), mask ~ Bernoulli(1 - p) elementwise (the mask is a
 * constant, so the gradient is dy * mask / (1 - p)). Eval: y = x. */
static nb_tensor *dropout_forward(nb_module *m, nb_tensor *x)
{
    dropout_cfg *c = nb_module_user_data(m);
    if (!nb_module_is_training(m) || c->p == 0.0)
        return x;
    return nb_dropout(x, c->p, &c->rng);
}

nb_module *nb_dropout_new(double p, uint64_t seed)
{
    if (!(p >= 0.0 && p < 1.0)) {
        nb_set_error(NB_ERR_VALUE, "nb_dropout_new: p must be in [0, 1), got %g", p);
        return NULL;
    }
    dropout_cfg *c = nb_malloc(sizeof *c);
    if (!c) {
        nb_set_error(NB_ERR_NOMEM, "nb_dropout_new: out of memory");
        return NULL;
    }
    c->p = p;
    c->rng = nb_rng_seed(seed);
    nb_module *m = nb_module_new("Dropout", NB_F32, dropout_forward, c, nb_free);
    if (m)
        nb_module_set_info(m, "p=%g", p);
    return m;
}
