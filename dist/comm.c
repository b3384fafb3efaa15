/* dist/comm.c — processes, watched waits, failure notices, small collectives (nabla/dist.h).
 *
 * Two duplicates of MPI_COMM_WORLD, both with MPI_ERRORS_RETURN: `comm` carries the data
 * (gradients, parameters, metrics), `ctl` the control messages of the watchdog:
 *   NOTICE  a rank that gives up tells the others why (they stop naming it)
 *   ACK     ... and they acknowledge, so it knows they have printed before it aborts the job
 *   PING    a rank whose wait timed out asks every peer whether it is alive;
 *   PONG    a peer that is itself waiting in this library answers.
 * Every wait of the library is a loop of MPI_Testall that also serves `ctl`, so a rank that waits
 * answers pings and hears notices, and the loop itself enforces the timeout: no thread needed,
 * and MPI is only ever called from the initialising thread (MPI_THREAD_FUNNELED). */
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dist_impl.h"

enum { TAG_NOTICE = 1, TAG_ACK, TAG_PING, TAG_PONG };
#define NOTICE_MAX      512
#define DEFAULT_TIMEOUT 600.0
#define GRACE_MAX       2.0 /* seconds to wait for answers to pings and notices */

static bool g_init, g_own_mpi, g_aborting;
static int g_rank, g_world = 1;
static MPI_Comm g_comm = MPI_COMM_NULL, g_ctl = MPI_COMM_NULL;
static double g_timeout; /* 0: not resolved yet */
static int *g_pong;      /* g_pong[p] = last ping sequence rank p answered */
static int g_ping_seq;
static char g_term_msg[200];

double nbi_dist_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double timeout(void)
{
    if (g_timeout <= 0) {
        const char *env = getenv("NB_DIST_TIMEOUT");
        char *end = NULL;
        double t = env ? strtod(env, &end) : 0;
        g_timeout = env && end != env && t > 0 ? t : DEFAULT_TIMEOUT;
    }
    return g_timeout;
}

double nb_dist_set_timeout(double seconds)
{
    double prev = timeout();
    if (seconds > 0)
        g_timeout = seconds;
    return prev;
}

static void say(const char *msg)
{
    fprintf(stderr, "nb_dist: rank %d of %d: %s\n", g_rank, g_world, msg);
    fflush(stderr);
}

/* Print and end the whole job. */
__attribute__((noreturn)) static void stop(const char *msg, int code)
{
    g_aborting = true;
    say(msg);
    if (g_init)
        MPI_Abort(MPI_COMM_WORLD, code);
    _exit(code);
}

__attribute__((format(printf, 2, 3), noreturn)) static void stopf(int code, const char *fmt, ...)
{
    char msg[NOTICE_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    stop(msg, code);
}

void nbi_dist_check(int rc, const char *what)
{
    if (rc == MPI_SUCCESS)
        return;
    char err[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, err, &len) != MPI_SUCCESS)
        snprintf(err, sizeof err, "error code %d", rc);
    stopf(1, "%s: MPI error: %s (a peer rank probably failed); aborting the job", what, err);
}

/* Serve the control communicator: answer pings, record pongs, stop on a notice. */
static void serve_ctl(void)
{
    for (;;) {
        int flag = 0;
        MPI_Status st;
        nbi_dist_check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, g_ctl, &flag, &st), "control probe");
        if (!flag)
            return;
        int src = st.MPI_SOURCE;
        if (st.MPI_TAG == TAG_NOTICE) {
            char msg[NOTICE_MAX];
            nbi_dist_check(
                MPI_Recv(msg, NOTICE_MAX, MPI_CHAR, src, TAG_NOTICE, g_ctl, MPI_STATUS_IGNORE),
                "receiving a failure notice");
            msg[NOTICE_MAX - 1] = '\0';
            int one = 1;
            MPI_Send(&one, 1, MPI_INT, src, TAG_ACK, g_ctl);
            if (!g_aborting)
                stopf(1, "stopping: rank %d failed: %s", src, msg);
        } else {
            int seq = 0;
            nbi_dist_check(MPI_Recv(&seq, 1, MPI_INT, src, st.MPI_TAG, g_ctl, MPI_STATUS_IGNORE),
                           "receiving a control message");
            if (st.MPI_TAG == TAG_PING)
                nbi_dist_check(MPI_Send(&seq, 1, MPI_INT, src, TAG_PONG, g_ctl),
                               "answering a ping");
            else if (st.MPI_TAG == TAG_PONG && g_pong)
                g_pong[src] = seq;
        }
    }
}

/* How long a wait yields the core between tests before it sleeps between them. */
#define YIELD_SECONDS 0.05

static void pause_briefly(void)
{
    nanosleep(&(struct timespec){.tv_nsec = 20000}, NULL);
}

/* A wait has lasted the timeout: find which ranks do not answer, say so, end the job. */
__attribute__((noreturn)) static void timed_out(const char *what, double waited)
{
    int seq = ++g_ping_seq;
    for (int p = 0; p < g_world; p++) {
        if (p == g_rank)
            continue;
        MPI_Request r;
        if (MPI_Isend(&seq, 1, MPI_INT, p, TAG_PING, g_ctl, &r) == MPI_SUCCESS)
            MPI_Request_free(&r);
    }
    double grace = timeout() < GRACE_MAX ? timeout() : GRACE_MAX;
    double end = nbi_dist_now() + grace;
    int missing = 0;
    do {
        serve_ctl();
        pause_briefly();
        missing = 0;
        for (int p = 0; p < g_world; p++)
            missing += p != g_rank && g_pong[p] != seq;
    } while (missing > 0 && nbi_dist_now() < end);
    if (missing == 0)
        stopf(2,
              "%s waited %.1f s (the timeout) while every rank is alive and waiting: the ranks "
              "wait in different collectives (one skipped or added a step); aborting the job",
              what, waited);
    char list[256] = "";
    size_t used = 0;
    for (int p = 0; p < g_world && used + 16 < sizeof list; p++)
        if (p != g_rank && g_pong[p] != seq)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%d", used ? ", " : "", p);
    stopf(2,
          "%s waited %.1f s (the timeout); no answer from rank%s %s: failed, killed or stuck; "
          "aborting the job",
          what, waited, missing > 1 ? "s" : "", list);
}

bool nbi_dist_test(MPI_Request *reqs, int n, const char *what)
{
    int flag = 0;
    nbi_dist_check(MPI_Testall(n, reqs, &flag, MPI_STATUSES_IGNORE), what);
    if (!flag)
        serve_ctl();
    return flag != 0;
}

void nbi_dist_wait(MPI_Request *reqs, int n, const char *what)
{
    double start = nbi_dist_now(), limit = timeout(), waited = 0;
    for (long spin = 0;; spin++) {
        if (nbi_dist_test(reqs, n, what))
            return;
        /* Open MPI advances a non-blocking collective only inside MPI calls, one fragment at a
         * time: sleeping between tests caps a large all-reduce at a fragment per sleep (16 MiB
         * on 2 ranks took 40 ms instead of 6). So: spin, then yield the core (other ranks on it
         * run, the test comes back at once when none waits), and sleep between tests only
         * once the wait is long (a peer still computing or stuck). */
        if (spin >= 200)
            waited < YIELD_SECONDS ? (void)sched_yield() : pause_briefly();
        if ((spin & 63) == 0) {
            waited = nbi_dist_now() - start;
            if (waited > limit)
                timed_out(what, waited);
        }
    }
}

MPI_Comm nbi_dist_comm(void)
{
    return g_comm;
}

nb_status nbi_dist_require(const char *fn)
{
    if (g_init)
        return NB_OK;
    return nb_set_error(NB_ERR_STATE, "%s: nb_dist_init has not been called", fn);
}

void nb_dist_abort(const char *message)
{
    if (!message)
        message = "nb_dist_abort";
    if (!g_init || g_aborting) {
        fprintf(stderr, "nb_dist: %s\n", message);
        _exit(1);
    }
    g_aborting = true;
    say(message);
    char msg[NOTICE_MAX];
    snprintf(msg, sizeof msg, "%s", message);
    int peers = 0;
    for (int p = 0; p < g_world; p++) {
        if (p == g_rank)
            continue;
        MPI_Request r;
        if (MPI_Isend(msg, (int)strlen(msg) + 1, MPI_CHAR, p, TAG_NOTICE, g_ctl, &r) ==
            MPI_SUCCESS) {
            MPI_Request_free(&r);
            peers++;
        }
    }
    /* Wait (briefly) for the peers to acknowledge: they have printed their message then. */
    double end = nbi_dist_now() + (timeout() < GRACE_MAX ? timeout() : GRACE_MAX);
    for (int acks = 0; acks < peers && nbi_dist_now() < end;) {
        int flag = 0;
        MPI_Status st;
        if (MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, g_ctl, &flag, &st) != MPI_SUCCESS)
            break;
        if (!flag) {
            pause_briefly();
            continue;
        }
        char buf[NOTICE_MAX];
        MPI_Recv(buf, NOTICE_MAX, MPI_CHAR, st.MPI_SOURCE, st.MPI_TAG, g_ctl, MPI_STATUS_IGNORE);
        if (st.MPI_TAG == TAG_ACK)
            acks++;
        else if (st.MPI_TAG == TAG_NOTICE) { /* another rank gave up too: acknowledge it */
            int one = 1;
            MPI_Send(&one, 1, MPI_INT, st.MPI_SOURCE, TAG_ACK, g_ctl);
        } else if (st.MPI_TAG == TAG_PING) {
            MPI_Send(buf, 1, MPI_INT, st.MPI_SOURCE, TAG_PONG, g_ctl);
        }
    }
    MPI_Abort(MPI_COMM_WORLD, 1);
    _exit(1);
}

/* An exit without nb_dist_finalize (main returned after an error, exit(1) somewhere) would leave
 * the other ranks waiting: tell them. */
static void at_exit(void)
{
    if (!g_init || g_aborting)
        return;
    char msg[NOTICE_MAX];
    if (nb_last_status() != NB_OK)
        snprintf(msg, sizeof msg, "exited without nb_dist_finalize; last error: %s",
                 nb_last_error());
    else
        snprintf(msg, sizeof msg, "exited without nb_dist_finalize");
    nb_dist_abort(msg);
}

static void on_sigterm(int sig)
{
    ssize_t w = write(STDERR_FILENO, g_term_msg, strlen(g_term_msg));
    (void)w;
    signal(sig, SIG_DFL);
    raise(sig);
}

nb_status nb_dist_init(int *argc, char ***argv)
{
    if (g_init)
        return NB_OK;
    int inited = 0, finalized = 0;
    MPI_Initialized(&inited);
    MPI_Finalized(&finalized);
    if (finalized)
        return nb_set_error(NB_ERR_STATE, "nb_dist_init: MPI has been finalised already");
    if (!inited) {
        int provided = 0;
        if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
            return nb_set_error(NB_ERR_STATE, "nb_dist_init: MPI_Init_thread failed");
        g_own_mpi = true;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    if (MPI_Comm_dup(MPI_COMM_WORLD, &g_comm) != MPI_SUCCESS ||
        MPI_Comm_dup(MPI_COMM_WORLD, &g_ctl) != MPI_SUCCESS)
        return nb_set_error(NB_ERR_STATE, "nb_dist_init: MPI_Comm_dup failed");
    MPI_Comm_rank(g_comm, &g_rank);
    MPI_Comm_size(g_comm, &g_world);
    g_pong = calloc((size_t)g_world, sizeof *g_pong);
    if (!g_pong)
        return nb_set_error(NB_ERR_NOMEM, "nb_dist_init: out of memory");
    if (g_rank != 0)
        setenv("NB_PROGRESS", "quiet", 0);
    static bool registered;
    if (!registered && atexit(at_exit) == 0)
        registered = true;
    snprintf(g_term_msg, sizeof g_term_msg,
             "nb_dist: rank %d of %d: terminated (SIGTERM): the launcher ended the job, "
             "usually because another rank failed (mpirun names it)\n",
             g_rank, g_world);
    struct sigaction old;
    if (sigaction(SIGTERM, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
        signal(SIGTERM, on_sigterm);
    g_init = true;
    timeout();
    return NB_OK;
}

nb_status nb_dist_finalize(void)
{
    if (!g_init)
        return NB_OK;
    nb_status st = nb_dist_barrier();
    g_init = false;
    MPI_Comm_free(&g_ctl);
    MPI_Comm_free(&g_comm);
    free(g_pong);
    g_pong = NULL;
    if (g_own_mpi)
        MPI_Finalize();
    g_rank = 0;
    g_world = 1;
    return st;
}

bool nb_dist_initialized(void)
{
    return g_init;
}

int nb_dist_rank(void)
{
    return g_rank;
}

int nb_dist_world_size(void)
{
    return g_world;
}

bool nb_dist_is_main(void)
{
    return g_rank == 0;
}

nb_status nb_dist_barrier(void)
{
    if (nbi_dist_require("nb_dist_barrier") != NB_OK)
        return nb_last_status();
    MPI_Request r;
    nbi_dist_check(MPI_Ibarrier(g_comm, &r), "barrier");
    nbi_dist_wait(&r, 1, "barrier");
    return NB_OK;
}

nb_status nb_dist_allreduce_sum(double *values, int n)
{
    if (nbi_dist_require("nb_dist_allreduce_sum") != NB_OK)
        return nb_last_status();
    if (n < 0 || (!values && n > 0))
        return nb_set_error(NB_ERR_VALUE, "nb_dist_allreduce_sum: values %p, n = %d",
                            (void *)values, n);
    if (n == 0)
        return NB_OK;
    MPI_Request r;
    nbi_dist_check(MPI_Iallreduce(MPI_IN_PLACE, values, n, MPI_DOUBLE, MPI_SUM, g_comm, &r),
                   "metric all-reduce");
    nbi_dist_wait(&r, 1, "metric all-reduce");
    return NB_OK;
}

nb_status nb_dist_broadcast(void *data, size_t size, int root)
{
    if (nbi_dist_require("nb_dist_broadcast") != NB_OK)
        return nb_last_status();
    if (root < 0 || root >= g_world || (!data && size > 0))
        return nb_set_error(NB_ERR_VALUE,
                            "nb_dist_broadcast: root %d (world size %d), data %p, size %zu", root,
                            g_world, data, size);
    const size_t chunk = (size_t)1 << 30;
    for (size_t off = 0; off < size; off += chunk) {
        size_t len = size - off < chunk ? size - off : chunk;
        MPI_Request r;
        nbi_dist_check(MPI_Ibcast((char *)data + off, (int)len, MPI_BYTE, root, g_comm, &r),
                       "broadcast");
        nbi_dist_wait(&r, 1, "broadcast");
    }
    return NB_OK;
}
