/* nn/generate.c — evaluation scopes (evaluation mode, no gradients, one step for everything made)
 * and autoregressive sampling from a language model built on them. */
#include "nabla/autograd.h"
#include "nabla/nn.h"

#include <stdio.h>
#include <string.h>

nb_status nb_eval_begin(nb_eval_scope *s, nb_module *model, nb_step *step)
{
    if (!s)
        return nb_set_error(NB_ERR_VALUE, "nb_eval_begin: the scope is NULL");
    memset(s, 0, sizeof *s);
    if (nb_step_active())
        return nb_set_error(NB_ERR_STATE, "nb_eval_begin: a step is already active (an evaluation "
                                          "scope begins a step of its own: end the other first)");
    nb_step *own = step ? NULL : nb_step_new();
    if (!step && !own)
        return nb_last_status();
    nb_status st = nb_step_begin(step ? step : own);
    if (st != NB_OK) {
        nb_step_free(own);
        return st;
    }
    *s = (nb_eval_scope){.model = model,
                         .step = step ? step : own,
                         .own = own,
                         .was_training = model && nb_module_is_training(model),
                         .grad_enabled = nb_set_grad_enabled(false)};
    if (model)
        nb_module_train(model, false);
    return NB_OK;
}

void nb_eval_end(nb_eval_scope *s)
{
    if (!s || !s->step)
        return;
    nb_step_end(s->step);
    nb_step_free(s->own);
    nb_set_grad_enabled(s->grad_enabled);
    if (s->model)
        nb_module_train(s->model, s->was_training);
    memset(s, 0, sizeof *s);
}

/* The id drawn from the last row of model(window [1, ctx]), or -1 with the error set. */
static int64_t next_id(nb_module *model, nb_tensor *window, const nb_sample_opts *opts, nb_rng *rng)
{
    nb_tensor *logits = nb_module_forward(model, window);
    if (!logits)
        return -1;
    const int64_t V = nb_tensor_dim(logits, nb_tensor_ndim(logits) - 1);
    nb_tensor *rows = nb_reshape(logits, NB_SHAPE(-1, V));
    nb_tensor *id = nb_sample_logits(
        nb_slice(rows, 0, nb_tensor_dim(rows, 0) - 1, nb_tensor_dim(rows, 0), 1), opts, rng);
    return id ? nb_tensor_data_i64(id)[0] : -1;
}

nb_status nb_generate(nb_module *model, const int64_t *prompt, int64_t ctx, int64_t n,
                      const nb_sample_opts *opts, nb_rng *rng, int64_t *out)
{
    if (!model || !prompt || !rng || (!out && n > 0) || ctx < 1 || n < 0 ||
        (opts && opts->num_samples != 0))
        return nb_set_error(NB_ERR_VALUE,
                            "nb_generate: need a model, a prompt of ctx >= 1 ids (ctx = %lld), an "
                            "rng, out for n >= 0 ids (n = %lld) and one draw per id "
                            "(num_samples 0)",
                            (long long)ctx, (long long)n);
    if (nb_step_active())
        return nb_set_error(NB_ERR_STATE, "nb_generate: called inside an active step (it runs a "
                                          "step per id: call it between steps)");
    nb_tensor *window = nb_tensor_new(NB_I64, NB_SHAPE(1, ctx));
    if (!window)
        return nb_last_status();
    int64_t *w = nb_tensor_data_i64(window);
    memcpy(w, prompt, (size_t)ctx * sizeof *w);
    nb_step *step = nb_step_new();
    nb_status st = step ? NB_OK : nb_last_status();
    for (int64_t i = 0; i < n && st == NB_OK; i++) {
        nb_eval_scope sc;
        st = nb_eval_begin(&sc, model, step);
        const int64_t id = st == NB_OK ? next_id(model, window, opts, rng) : -1;
        nb_eval_end(&sc);
        if (id < 0) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", nb_last_error());
            st = nb_last_status();
            nb_clear_error();
            st = nb_set_error(st, "nb_generate: id %lld: %s", (long long)i, msg);
            break;
        }
        out[i] = id;
        memmove(w, w + 1, (size_t)(ctx - 1) * sizeof *w);
        w[ctx - 1] = id;
    }
    nb_step_free(step);
    nb_tensor_free(window);
    return st;
}
