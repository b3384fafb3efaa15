/* dist/dist_impl.h — internals shared by the files of dist/ (hidden symbols). */
#ifndef NABLA_DIST_IMPL_H
#define NABLA_DIST_IMPL_H

#include <mpi.h>

#include "nabla/dist.h"

/* The data communicator (a duplicate of MPI_COMM_WORLD, errors returned). */
MPI_Comm nbi_dist_comm(void);
/* Wait for n requests under the watchdog; `what` names the wait in messages ("gradient
 * all-reduce (step 3)"). Returns only on success: a failure, a notice from a failed rank or the
 * timeout ends the job with a message. */
void nbi_dist_wait(MPI_Request *reqs, int n, const char *what);
/* Test n requests once (driving MPI's progress) and answer control messages; true when all are
 * complete. Never blocks. */
bool nbi_dist_test(MPI_Request *reqs, int n, const char *what);
/* An MPI call returned rc != MPI_SUCCESS: report it with `what` and end the job. */
void nbi_dist_check(int rc, const char *what);
/* NB_ERR_STATE with a message naming fn when nb_dist_init has not run. */
nb_status nbi_dist_require(const char *fn);
/* Seconds from a monotonic clock. */
double nbi_dist_now(void);

#endif
