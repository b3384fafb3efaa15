/* tests/dist/dist_test.h — helpers of the data-parallel tests (MPI programs run under mpirun). */
#ifndef NABLA_DIST_TEST_H
#define NABLA_DIST_TEST_H

#include <nabla.h>
#include <nabla/dist.h>

/* On failure: print where and why, then stop every rank (nb_dist_abort): the test fails. */
#define DT_CHECK(cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond))                                                                               \
            dt_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                                       \
    } while (0)
__attribute__((noreturn, format(printf, 4, 5))) void
dt_fail(const char *file, int line, const char *cond, const char *fmt, ...);

typedef enum { DT_MLP, DT_CNN } dt_kind;

/* A small classifier (3 classes) built from `seed`; `wider` changes one layer's shape (for
 * the model-mismatch test). */
nb_module *dt_model(dt_kind kind, uint64_t seed, bool wider);
/* n labelled samples for `kind` ([n, 12] or [n, 1, 6, 6] f32, labels in [0, 3)). */
nb_status dt_data(dt_kind kind, int64_t n, uint64_t seed, nb_dataset *out);
/* SGD with momentum (MLP) or Adam (CNN) over net. */
nb_optim *dt_optim(dt_kind kind, nb_module *net);
/* Train `steps` global batches read from `smp` (continuing across epochs): with ddp (its
 * optimizer), or alone with opt when ddp is NULL. */
nb_status dt_train(nb_module *net, nb_optim *opt, nb_ddp *ddp, const nb_dataset *ds,
                   nb_dist_sampler *smp, int steps);
/* Largest |a - b| over the two models' parameters (same architecture). */
double dt_max_diff(nb_module *a, nb_module *b);
/* Digest of the model's parameter bytes. */
uint64_t dt_param_digest(nb_module *m);
/* Temporary directory of the tests ($NB_TEST_TMPDIR, else /tmp). */
const char *dt_tmpdir(void);

#endif
