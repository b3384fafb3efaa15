/* nabla/cleanup.h — a list of objects to free together, last registered first freed: the frees
 * at the end of a program and on each of its error exits, written once.
 *
 *     nb_cleanup cl = {0};
 *     nb_module *net = nb_cleanup_add(&cl, nb_mlp_new(3, sizes, NB_ACT_RELU, NB_ACT_NONE, &rng,
 *                                                     NB_F32));
 *     nb_optim *opt = nb_cleanup_add(&cl, nb_adam_new(net, NULL));
 *     nb_step *step = nb_cleanup_add(&cl, nb_step_new());
 *     if (!net || !opt || !step)
 *         return nb_cleanup_return(&cl, 1);        (frees what was made, returns 1)
 *     ... train; an error: return nb_cleanup_return(&cl, 1);
 *     return nb_cleanup_return(&cl, 0);
 *
 * nb_cleanup_add registers any object of the library with its own free function (chosen by the
 * pointer's type: nb_tensor_free for an nb_tensor *, nb_module_free for an nb_module *,
 * nb_dataset_deinit for an nb_dataset *, ...) and returns the object, so construction and
 * registration are one expression; a NULL object (a failed constructor) is not registered and
 * its error stays pending for the caller's check. Objects of other types go through
 * nb_cleanup_push with a function of their own. A list is used by one thread. */
#ifndef NABLA_CLEANUP_H
#define NABLA_CLEANUP_H

#include "nabla/autograd.h"
#include "nabla/data.h"
#include "nabla/io.h"
#include "nabla/nn.h"
#include "nabla/optim.h"
#include "nabla/report.h"
#include "nabla/seq.h"
#include "nabla/tensor.h"
#include "nabla/text.h"
#include "nabla/unsup.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Frees (or deinitialises) the object ptr. */
typedef void (*nb_cleanup_fn)(void *ptr);

typedef struct nb_cleanup_entry {
    nb_cleanup_fn fn;
    void *ptr;
} nb_cleanup_entry;

/* The list. `nb_cleanup cl = {0};` is an empty list; it owns its entries array until
 * nb_cleanup_run. */
typedef struct nb_cleanup {
    nb_cleanup_entry *entries;
    int n, cap;
} nb_cleanup;

/* Register fn(ptr) to run at nb_cleanup_run and return ptr. ptr NULL: nothing is registered and
 * NULL is returned with no error of its own (a failed constructor's error stays pending). When
 * ptr cannot be registered (c or fn NULL: NB_ERR_VALUE; no memory for the entry: NB_ERR_NOMEM)
 * fn(ptr) runs at once (when fn is not NULL) and NULL is returned, so the caller's NULL check
 * sees the failure and nothing leaks. */
NB_API void *nb_cleanup_push(nb_cleanup *c, nb_cleanup_fn fn, void *ptr);
/* Run every registered function, the last registered first, then empty the list (it may be used
 * again). c NULL is a no-op. */
NB_API void nb_cleanup_run(nb_cleanup *c);
/* nb_cleanup_run(c), then return status: `return nb_cleanup_return(&cl, 1);` leaves main (or a
 * function) after freeing everything it made. */
NB_API int nb_cleanup_return(nb_cleanup *c, int status);

/* ---- nb_cleanup_add(c, obj): nb_cleanup_push with obj's own free function ---- */
#ifndef __cplusplus
#define NBI_CLEANUP_FREE(T, f)                                                                     \
    static inline void nbi_cleanup_##f(void *p)                                                    \
    {                                                                                              \
        f((T *)p);                                                                                 \
    }
NBI_CLEANUP_FREE(nb_tensor, nb_tensor_free)
NBI_CLEANUP_FREE(nb_module, nb_module_free)
NBI_CLEANUP_FREE(nb_optim, nb_optim_free)
NBI_CLEANUP_FREE(nb_step, nb_step_free)
NBI_CLEANUP_FREE(nb_dataset, nb_dataset_deinit)
NBI_CLEANUP_FREE(nb_batcher, nb_batcher_free)
NBI_CLEANUP_FREE(nb_progress, nb_progress_free)
NBI_CLEANUP_FREE(nb_curves, nb_curves_free)
NBI_CLEANUP_FREE(nb_image_rows, nb_image_rows_free)
NBI_CLEANUP_FREE(nb_digest, nb_digest_free)
NBI_CLEANUP_FREE(nb_checkpoint_toc, nb_checkpoint_toc_free)
NBI_CLEANUP_FREE(nb_rnn_state, nb_rnn_state_free)
NBI_CLEANUP_FREE(nb_tokenizer, nb_tokenizer_free)
NBI_CLEANUP_FREE(nb_rbm_trainer, nb_rbm_trainer_free)
#undef NBI_CLEANUP_FREE

/* Register obj (a pointer to one of the types below) with its free function; returns obj as a
 * void * (NULL when it is NULL or could not be registered, see nb_cleanup_push). obj is
 * evaluated once. Another pointer type does not compile. */
#define nb_cleanup_add(c, obj)                                                                     \
    nb_cleanup_push((c),                                                                           \
                    _Generic((obj), nb_tensor *                                                    \
                             : nbi_cleanup_nb_tensor_free, nb_module *                             \
                             : nbi_cleanup_nb_module_free, nb_optim *                              \
                             : nbi_cleanup_nb_optim_free, nb_step *                                \
                             : nbi_cleanup_nb_step_free, nb_dataset *                              \
                             : nbi_cleanup_nb_dataset_deinit, nb_batcher *                         \
                             : nbi_cleanup_nb_batcher_free, nb_progress *                          \
                             : nbi_cleanup_nb_progress_free, nb_curves *                           \
                             : nbi_cleanup_nb_curves_free, nb_image_rows *                         \
                             : nbi_cleanup_nb_image_rows_free, nb_digest *                         \
                             : nbi_cleanup_nb_digest_free, nb_checkpoint_toc *                     \
                             : nbi_cleanup_nb_checkpoint_toc_free, nb_rnn_state *                  \
                             : nbi_cleanup_nb_rnn_state_free, nb_tokenizer *                       \
                             : nbi_cleanup_nb_tokenizer_free, nb_rbm_trainer *                     \
                             : nbi_cleanup_nb_rbm_trainer_free),                                   \
                    (obj))
#endif

#ifdef __cplusplus
}
#endif
#endif
