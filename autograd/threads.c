/* autograd/threads.c — the one thread-count knob: nb_set_num_threads, default from
 * NB_NUM_THREADS, else 1. Kernels (the library's loops, BLIS through ops/gemm.c) read it when
 * they run. */
#include "tensor_impl.h"

#include <stdatomic.h>
#include <stdlib.h>

/* Process-wide; atomic so that threads running ops while another reads the default from the
 * environment for the first time do not race (0 = not read yet). */
static _Atomic int n_threads = 0;

static int threads_init(void)
{
    int n = atomic_load_explicit(&n_threads, memory_order_relaxed);
    if (n > 0)
        return n;
    const char *env = getenv("NB_NUM_THREADS");
    int want = env ? atoi(env) : 1;
    want = want < 1 ? 1 : want;
    int expected = 0;
    if (atomic_compare_exchange_strong(&n_threads, &expected, want))
        return want;
    return expected; /* another thread set it first */
}

void nb_set_num_threads(int n)
{
    n = n < 1 ? 1 : n;
    atomic_store(&n_threads, n);
}

int nb_get_num_threads(void)
{
    return threads_init();
}

int nbi_threads(void)
{
    return threads_init();
}

int nbi_threads_for(int64_t work)
{
    int n = threads_init();
    if (n == 1 || work < 32768)
        return 1;
    return n;
}
