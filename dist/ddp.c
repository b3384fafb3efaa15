/* dist/ddp.c — a data-parallel model: set-up checks, parameter broadcast, bucketed gradient
 * all-reduce overlapped with backward, checkpoints (nabla/dist.h).
 *
 * The model keeps every gradient in one contiguous buffer, in parameter order. Buckets are
 * contiguous ranges of it, built from the LAST parameter backwards (backward finishes the last
 * layers first). During nb_backward the gradient hook counts, per bucket, the parameters whose
 * gradient is final; a bucket whose count reaches zero is ready. Ready buckets are started
 * (MPI_Iallreduce, in place) strictly in bucket order, so every rank issues the same collectives
 * in the same order whatever order its hooks fire in; buckets not ready when backward ends
 * (parameters the loss does not reach) are started then, or by nb_ddp_sync on a rank that ran no
 * backward. Open MPI progresses non-blocking collectives only inside MPI calls, so every hook
 * call also tests the requests in flight. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist_impl.h"
#include "nabla/autograd.h"
#include "nabla/io.h"

#define DEFAULT_BUCKET_BYTES ((size_t)1 << 20)
#define MSG_MAX              512

typedef struct bucket {
    int64_t lo, n;   /* element range of the gradient buffer */
    int first, last; /* parameter index range [first, last] */
    int pending;     /* trainable parameters not final yet in this backward */
} bucket;

struct nb_ddp {
    nb_module *model;
    nb_optim *optim;
    char *pbase, *gbase; /* parameter and gradient buffers */
    int64_t numel;
    size_t esize;
    MPI_Datatype dt;
    int n_params;
    nb_tensor **param; /* buffer order */
    int64_t *off;      /* element offset of each parameter in the buffers */
    int *bucket_of;
    int n_buckets;
    bucket *b;
    MPI_Request *req; /* one per bucket; MPI_REQUEST_NULL when not in flight */
    int next;         /* buckets [0, next) have been started this step */
    bool touched;     /* a hook saw one of our parameters since the last sync */
    bool accumulate, no_overlap;
    nb_status backward_status;
    double share; /* weight of this rank's gradient in the next sync */
    int hook;
    double t_first;
    nb_ddp_stats stats;
};

/* Parameter whose tensor is `t`, or -1. */
static int find_param(const nb_ddp *d, nb_tensor *t)
{
    if (!t || nb_tensor_dtype(t) != nb_tensor_dtype(d->param[0]))
        return -1;
    const char *p = nb_tensor_data(t);
    if (p < d->pbase || p >= d->pbase + (size_t)d->numel * d->esize)
        return -1;
    int64_t off = (int64_t)((size_t)(p - d->pbase) / d->esize);
    int lo = 0, hi = d->n_params - 1;
    while (lo < hi) { /* last parameter with offset <= off */
        int mid = (lo + hi + 1) / 2;
        if (d->off[mid] <= off)
            lo = mid;
        else
            hi = mid - 1;
    }
    for (int i = lo; i >= 0 && d->off[i] == off; i--) /* zero-size parameters share offsets */
        if (d->param[i] == t)
            return i;
    return -1;
}

static void reset_pending(nb_ddp *d)
{
    for (int k = 0; k < d->n_buckets; k++) {
        bucket *bk = &d->b[k];
        bk->pending = 0;
        for (int i = bk->first; i <= bk->last; i++)
            bk->pending += nb_tensor_requires_grad(d->param[i]);
    }
    d->next = 0;
    d->touched = false;
    d->share = 1.0 / nb_dist_world_size();
}

static void scale(nb_ddp *d, const bucket *bk, double s)
{
    if (s == 1.0)
        return;
    if (d->esize == sizeof(float)) {
        float *g = (float *)(void *)d->gbase + bk->lo, f = (float)s;
        for (int64_t i = 0; i < bk->n; i++)
            g[i] *= f;
    } else {
        double *g = (double *)(void *)d->gbase + bk->lo;
        for (int64_t i = 0; i < bk->n; i++)
            g[i] *= s;
    }
}

static void start(nb_ddp *d, int k)
{
    bucket *bk = &d->b[k];
    scale(d, bk, d->share);
    nbi_dist_check(MPI_Iallreduce(MPI_IN_PLACE, d->gbase + (size_t)bk->lo * d->esize, (int)bk->n,
                                  d->dt, MPI_SUM, nbi_dist_comm(), &d->req[k]),
                   "gradient all-reduce");
}

/* Start the ready buckets, in order; `all`: every remaining one. */
static void start_ready(nb_ddp *d, bool all, bool in_backward)
{
    while (d->next < d->n_buckets && (all || d->b[d->next].pending <= 0)) {
        if (in_backward) {
            if (d->t_first == 0)
                d->t_first = nbi_dist_now();
            d->stats.started_in_backward++;
        }
        start(d, d->next++);
    }
}

static void on_ready(nb_tensor *leaf, void *user)
{
    nb_ddp *d = user;
    if (d->accumulate || d->no_overlap)
        return;
    int i = find_param(d, leaf);
    if (i < 0)
        return;
    if (d->next == d->n_buckets && d->touched) {
        /* a second backward before nb_ddp_sync: its gradients would miss the reduction */
        if (d->backward_status == NB_OK)
            d->backward_status = nb_set_error(
                NB_ERR_STATE, "nb_ddp: nb_backward ran twice without nb_ddp_sync between "
                              "(use nb_ddp_set_accumulate for gradient accumulation)");
        return;
    }
    d->touched = true;
    bucket *bk = &d->b[d->bucket_of[i]];
    if (--bk->pending == 0)
        start_ready(d, false, true);
    if (d->next > 0)
        nbi_dist_test(d->req, d->next, "gradient all-reduce"); /* drive MPI's progress */
}

static void on_done(nb_status status, void *user)
{
    nb_ddp *d = user;
    if (!d->touched || d->accumulate || d->no_overlap)
        return;
    if (status != NB_OK) {
        if (d->backward_status == NB_OK)
            d->backward_status = status;
        return;
    }
    start_ready(d, true, true);
    for (int k = 0; k < d->next; k++) {
        int flag = 0;
        nbi_dist_check(MPI_Test(&d->req[k], &flag, MPI_STATUS_IGNORE), "gradient all-reduce");
        d->stats.done_in_backward += flag;
    }
    if (d->t_first > 0)
        d->stats.backward_seconds += nbi_dist_now() - d->t_first;
    d->t_first = 0;
}

/* "'name' f32 [2, 3]" lines for every parameter, then every optimizer state tensor. */
static char *describe(nb_ddp *d, const nb_named_tensor *np, size_t *len)
{
    int ns = d->optim ? nb_optim_named_state(d->optim, NULL, 0) : 0;
    nb_named_tensor *st = ns > 0 ? calloc((size_t)ns, sizeof *st) : NULL;
    if (ns > 0 && (!st || nb_optim_named_state(d->optim, st, ns) != ns)) {
        free(st);
        return NULL;
    }
    size_t cap = 256, used = 0;
    char *s = malloc(cap);
    for (int i = 0; s && i < d->n_params + ns; i++) {
        const nb_named_tensor *e = i < d->n_params ? &np[i] : &st[i - d->n_params];
        char shape[160];
        nb_tensor_shape_str(e->tensor, shape, sizeof shape);
        size_t need = strlen(e->name) + strlen(shape) + 32;
        if (used + need > cap) {
            char *t = realloc(s, cap = 2 * cap + need);
            if (!t) {
                free(s);
                s = NULL;
                break;
            }
            s = t;
        }
        used += (size_t)snprintf(s + used, cap - used, "%s'%s' %s %s\n",
                                 i < d->n_params ? "" : "optimizer state ", e->name,
                                 nb_dtype_name(nb_tensor_dtype(e->tensor)), shape);
    }
    free(st);
    *len = used;
    return s;
}

/* Line i of a descriptor (without its newline) into out, or "nothing" past the end. */
static void nth_line(const char *s, size_t len, int i, char *out, size_t size)
{
    const char *p = s, *end = s + len;
    for (; i > 0 && p < end; i--) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
    }
    if (p >= end) {
        snprintf(out, size, "nothing");
        return;
    }
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    snprintf(out, size, "%.*s", (int)((nl ? nl : end) - p), p);
}

/* Compare the descriptors of all ranks by digest; on a difference, every rank sets the same
 * message naming the first differing line of the lowest differing rank. */
static nb_status check_same_model(const char *desc, size_t len)
{
    int world = nb_dist_world_size();
    uint64_t mine = nb_digest64(desc, len, 0);
    uint64_t *all = calloc((size_t)world, sizeof *all);
    int *lens = calloc((size_t)world, sizeof *lens),
        *displs = calloc((size_t)world, sizeof *displs);
    nb_status st = NB_OK;
    char *texts = NULL;
    if (!all || !lens || !displs) {
        st = nb_set_error(NB_ERR_NOMEM, "nb_ddp_new: out of memory");
        goto out; /* every rank has the same n_params-sized needs: they all fail alike */
    }
    MPI_Request r;
    nbi_dist_check(
        MPI_Iallgather(&mine, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, nbi_dist_comm(), &r),
        "model digest exchange");
    nbi_dist_wait(&r, 1, "model digest exchange (nb_ddp_new)");
    int q = 1;
    while (q < world && all[q] == all[0])
        q++;
    if (q == world)
        goto out;
    /* Differences: exchange the descriptors to name the first one. */
    int mylen = (int)len;
    nbi_dist_check(MPI_Iallgather(&mylen, 1, MPI_INT, lens, 1, MPI_INT, nbi_dist_comm(), &r),
                   "model description exchange");
    nbi_dist_wait(&r, 1, "model description exchange (nb_ddp_new)");
    size_t total = 0;
    for (int p = 0; p < world; p++) {
        displs[p] = (int)total;
        total += (size_t)lens[p];
    }
    texts = malloc(total + 1);
    if (!texts)
        nb_dist_abort("nb_ddp_new: out of memory while comparing the models of the ranks");
    nbi_dist_check(
        MPI_Iallgatherv(desc, mylen, MPI_CHAR, texts, lens, displs, MPI_CHAR, nbi_dist_comm(), &r),
        "model description exchange");
    nbi_dist_wait(&r, 1, "model description exchange (nb_ddp_new)");
    const char *t0 = texts, *tq = texts + displs[q];
    int line = 0;
    char a[MSG_MAX / 2], b[MSG_MAX / 2];
    for (;; line++) {
        nth_line(t0, (size_t)lens[0], line, a, sizeof a);
        nth_line(tq, (size_t)lens[q], line, b, sizeof b);
        if (strcmp(a, b) != 0 || !strcmp(a, "nothing"))
            break;
    }
    st = nb_set_error(NB_ERR_VALUE,
                      "nb_ddp_new: the model differs between ranks: parameter %d is %s on rank 0 "
                      "but %s on rank %d (parameter-list digests %016llx and %016llx)",
                      line, a, b, q, (unsigned long long)all[0], (unsigned long long)all[q]);
out:
    free(all);
    free(lens);
    free(displs);
    free(texts);
    return st;
}

/* Rank 0's parameters and optimizer state to every rank. */
static nb_status broadcast_state(nb_ddp *d)
{
    nb_dist_broadcast(d->pbase, (size_t)d->numel * d->esize, 0);
    int ns = d->optim ? nb_optim_named_state(d->optim, NULL, 0) : 0;
    if (ns <= 0)
        return NB_OK;
    nb_named_tensor *st = calloc((size_t)ns, sizeof *st);
    if (!st || nb_optim_named_state(d->optim, st, ns) != ns) {
        free(st);
        nb_dist_abort("nb_ddp: out of memory while broadcasting the optimizer state");
    }
    for (int i = 0; i < ns; i++)
        nb_dist_broadcast(nb_tensor_data(st[i].tensor),
                          (size_t)nb_tensor_numel(st[i].tensor) *
                              nb_dtype_size(nb_tensor_dtype(st[i].tensor)),
                          0);
    free(st);
    return NB_OK;
}

static nb_status build_buckets(nb_ddp *d, const nb_named_tensor *np, size_t bucket_bytes)
{
    for (int i = 0; i < d->n_params; i++) {
        d->param[i] = np[i].tensor;
        d->off[i] = (int64_t)((size_t)((char *)nb_tensor_data(np[i].tensor) - d->pbase) / d->esize);
    }
    int64_t max_elems = (int64_t)(bucket_bytes / d->esize);
    if (max_elems < 1)
        max_elems = 1;
    d->n_buckets = 0;
    for (int i = d->n_params - 1; i >= 0;) {
        bucket *bk = &d->b[d->n_buckets++];
        bk->last = i;
        int64_t hi = d->off[i] + nb_tensor_numel(d->param[i]);
        do
            d->bucket_of[i] = d->n_buckets - 1;
        while (--i >= 0 && hi - d->off[i] <= max_elems);
        bk->first = i + 1;
        bk->lo = d->off[bk->first];
        bk->n = hi - bk->lo;
        if (bk->n > INT32_MAX)
            return nb_set_error(NB_ERR_VALUE,
                                "nb_ddp_new: parameter '%s' has %lld elements, more than one "
                                "all-reduce can carry",
                                np[bk->first].name, (long long)bk->n);
    }
    for (int k = 0; k < d->n_buckets; k++)
        d->req[k] = MPI_REQUEST_NULL;
    d->stats.buckets = d->n_buckets;
    d->stats.bytes = d->numel * (int64_t)d->esize;
    return NB_OK;
}

void nb_ddp_free(nb_ddp *d)
{
    if (!d)
        return;
    if (d->hook >= 0)
        nb_grad_hook_remove(d->hook);
    if (d->next > 0 && nb_dist_initialized())
        nbi_dist_wait(d->req, d->next, "gradient all-reduce (nb_ddp_free)");
    free(d->param);
    free(d->off);
    free(d->bucket_of);
    free(d->b);
    free(d->req);
    free(d);
}

nb_ddp *nb_ddp_new(nb_module *model, nb_optim *optim, const nb_ddp_opts *opts)
{
    static const char fn[] = "nb_ddp_new";
    if (nbi_dist_require(fn) != NB_OK)
        return NULL;
    nb_tensor *pbuf = model ? nb_module_param_buffer(model) : NULL;
    nb_tensor *gbuf = model ? nb_module_grad_buffer(model) : NULL;
    if (!pbuf || !gbuf) {
        nb_set_error(NB_ERR_VALUE, "%s: %s", fn,
                     model ? "the model has no parameters" : "model is NULL");
        return NULL;
    }
    nb_ddp *d = calloc(1, sizeof *d);
    if (!d) {
        nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
        return NULL;
    }
    d->model = model;
    d->optim = optim;
    d->hook = -1;
    d->pbase = nb_tensor_data(pbuf);
    d->gbase = nb_tensor_data(gbuf);
    d->numel = nb_tensor_numel(pbuf);
    d->esize = nb_dtype_size(nb_tensor_dtype(pbuf));
    d->dt = nb_tensor_dtype(pbuf) == NB_F32 ? MPI_FLOAT : MPI_DOUBLE;
    d->no_overlap = opts && opts->no_overlap;
    size_t bucket_bytes = opts && opts->bucket_bytes ? opts->bucket_bytes : DEFAULT_BUCKET_BYTES;
    if (d->no_overlap)
        bucket_bytes = SIZE_MAX; /* one piece */
    d->n_params = nb_module_named_params(model, NULL, 0);
    size_t count = d->n_params > 0 ? (size_t)d->n_params : 1;
    nb_named_tensor *np = calloc(count, sizeof *np);
    d->param = calloc(count, sizeof *d->param);
    d->off = calloc(count, sizeof *d->off);
    d->bucket_of = calloc(count, sizeof *d->bucket_of);
    d->b = calloc(count, sizeof *d->b);
    d->req = calloc(count, sizeof *d->req);
    size_t len = 0;
    char *desc = NULL;
    nb_status st = NB_OK;
    if (d->n_params < 1 || !np || !d->param || !d->off || !d->bucket_of || !d->b || !d->req ||
        nb_module_named_params(model, np, d->n_params) != d->n_params ||
        !(desc = describe(d, np, &len)))
        st = nb_set_error(NB_ERR_NOMEM, "%s: out of memory", fn);
    /* Collective from here: a rank that failed above still takes part with an empty
     * description, so the others report the difference instead of waiting. */
    if (check_same_model(desc ? desc : "", desc ? len : 0) != NB_OK && st == NB_OK)
        st = nb_last_status();
    if (st == NB_OK)
        st = build_buckets(d, np, bucket_bytes);
    free(desc);
    free(np);
    if (st == NB_OK)
        st = broadcast_state(d);
    if (st == NB_OK) {
        d->hook = nb_grad_hook_add(&(nb_grad_hook){.ready = on_ready, .done = on_done, .user = d});
        if (d->hook < 0)
            st = nb_last_status();
    }
    if (st != NB_OK) {
        nb_ddp_free(d);
        return NULL;
    }
    reset_pending(d);
    return d;
}

nb_status nb_ddp_set_shard(nb_ddp *d, int64_t local, int64_t global)
{
    if (!d || local < 0 || global < 1 || local > global)
        return nb_set_error(NB_ERR_VALUE, "nb_ddp_set_shard: local %lld, global %lld%s",
                            (long long)local, (long long)global, d ? "" : " (NULL nb_ddp)");
    if (d->next > 0)
        return nb_set_error(NB_ERR_STATE,
                            "nb_ddp_set_shard: gradients of this step are being reduced already "
                            "(call it before nb_backward)");
    d->share = (double)local / (double)global;
    return NB_OK;
}

void nb_ddp_set_accumulate(nb_ddp *d, bool accumulate)
{
    if (d)
        d->accumulate = accumulate;
}

nb_status nb_ddp_sync(nb_ddp *d)
{
    if (!d)
        return nb_set_error(NB_ERR_VALUE, "nb_ddp_sync: NULL nb_ddp");
    if (d->backward_status != NB_OK) {
        nb_status st = d->backward_status;
        d->backward_status = NB_OK;
        /* the buckets started this step must still complete (the other ranks take part) */
        start_ready(d, true, false);
        nbi_dist_wait(d->req, d->next, "gradient all-reduce");
        reset_pending(d);
        return nb_set_error(st, "nb_ddp_sync: the last nb_backward on rank %d failed (%s)",
                            nb_dist_rank(), nb_status_name(st));
    }
    start_ready(d, true, false);
    char what[64];
    snprintf(what, sizeof what, "gradient all-reduce (step %lld)", (long long)d->stats.syncs + 1);
    double t0 = nbi_dist_now();
    nbi_dist_wait(d->req, d->n_buckets, what);
    d->stats.wait_seconds += nbi_dist_now() - t0;
    d->stats.syncs++;
    reset_pending(d);
    return NB_OK;
}

nb_status nb_ddp_update(nb_ddp *d)
{
    nb_status st = nb_ddp_sync(d);
    if (st != NB_OK)
        return st;
    if (!d->optim)
        return nb_set_error(NB_ERR_STATE,
                            "nb_ddp_update: the nb_ddp was made without an optimizer");
    return nb_optim_update(d->optim);
}

/* Rank 0's status and message to every rank; returns it (set as the error on the others). */
static nb_status share_status(nb_status st)
{
    struct {
        int status;
        char msg[MSG_MAX];
    } m = {(int)st, ""};
    if (nb_dist_is_main() && st != NB_OK)
        snprintf(m.msg, sizeof m.msg, "%s", nb_last_error());
    nb_dist_broadcast(&m, sizeof m, 0);
    m.msg[MSG_MAX - 1] = '\0';
    if (!nb_dist_is_main() && m.status != NB_OK)
        nb_set_error((nb_status)m.status, "%s (on rank 0)", m.msg);
    return (nb_status)m.status;
}

nb_status nb_ddp_save_checkpoint(nb_ddp *d, const char *path)
{
    if (!d)
        return nb_set_error(NB_ERR_VALUE, "nb_ddp_save_checkpoint: NULL nb_ddp");
    nb_status st = NB_OK;
    if (nb_dist_is_main())
        st = nb_checkpoint_save_model(path, d->model, d->optim);
    return share_status(st);
}

nb_status nb_ddp_load_checkpoint(nb_ddp *d, const char *path)
{
    if (!d)
        return nb_set_error(NB_ERR_VALUE, "nb_ddp_load_checkpoint: NULL nb_ddp");
    nb_status st = NB_OK;
    if (nb_dist_is_main())
        st = nb_checkpoint_load_model(path, d->model, d->optim);
    st = share_status(st);
    return st == NB_OK ? broadcast_state(d) : st;
}

nb_ddp_stats nb_ddp_get_stats(const nb_ddp *d)
{
    return d ? d->stats : (nb_ddp_stats){0};
}
