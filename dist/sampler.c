/* dist/sampler.c — each rank's disjoint shard of every global batch (nabla/dist.h). Needs no
 * communication: every rank computes the same epoch order from the shared seed. */
#include <stdlib.h>
#include <string.h>

#include "dist_impl.h"

struct nb_dist_sampler {
    int64_t n, batch, n_batches;
    bool shuffle;
    uint64_t seed;
    int rank, world;
    int64_t *order; /* this epoch's order of the n samples */
    int64_t epoch;  /* epoch of `order`, -1 before the first */
    nb_rng rng;     /* the shuffling stream after epoch `epoch`'s shuffle */
    int64_t next_epoch, next_index;
};

nb_dist_sampler *nb_dist_sampler_new(int64_t n, const nb_dist_sampler_opts *opts)
{
    static const char fn[] = "nb_dist_sampler_new";
    if (!opts || n < 1 || opts->global_batch < 1) {
        nb_set_error(NB_ERR_VALUE, "%s: n = %lld, global_batch = %lld (both must be >= 1)", fn,
                     (long long)n, opts ? (long long)opts->global_batch : 0LL);
        return NULL;
    }
    int world = opts->world > 0 ? opts->world : nb_dist_world_size();
    int rank = opts->world > 0 ? opts->rank : nb_dist_rank();
    if (rank < 0 || rank >= world) {
        nb_set_error(NB_ERR_VALUE, "%s: rank %d is not in [0, %d)", fn, rank, world);
        return NULL;
    }
    nb_dist_sampler *s = calloc(1, sizeof *s);
    int64_t *order = malloc((size_t)n * sizeof *order);
    if (!s || !order) {
        free(s);
        free(order);
        nb_set_error(NB_ERR_NOMEM, "%s: out of memory (%lld samples)", fn, (long long)n);
        return NULL;
    }
    s->n = n;
    s->batch = opts->global_batch;
    s->n_batches = opts->last == NB_LAST_DROP ? n / s->batch : (n + s->batch - 1) / s->batch;
    s->shuffle = opts->shuffle;
    s->seed = opts->seed;
    s->rank = rank;
    s->world = world;
    s->order = order;
    s->epoch = -1;
    return s;
}

void nb_dist_sampler_free(nb_dist_sampler *s)
{
    if (s) {
        free(s->order);
        free(s);
    }
}

int64_t nb_dist_sampler_num_batches(const nb_dist_sampler *s)
{
    return s ? s->n_batches : 0;
}

/* The order nb_batcher gives epoch `epoch` with the same seed: one stream seeded once, each
 * epoch a shuffle of 0 .. n-1 from it. Moving forward continues the stream; going back (a seek)
 * replays it from the seed. */
static void make_order(nb_dist_sampler *s, int64_t epoch)
{
    if (s->epoch < 0 || epoch < s->epoch) {
        s->rng = nb_rng_seed(s->seed);
        s->epoch = -1;
    }
    for (; s->epoch < epoch; s->epoch++) {
        for (int64_t i = 0; i < s->n; i++)
            s->order[i] = i;
        if (s->shuffle)
            nb_rng_shuffle_i64(&s->rng, s->order, s->n);
    }
}

bool nb_dist_sampler_next(nb_dist_sampler *s, nb_dist_shard *out)
{
    if (!s || !out)
        return false;
    if (s->next_index >= s->n_batches) { /* end of the epoch: the next call starts the next */
        s->next_epoch++;
        s->next_index = 0;
        return false;
    }
    if (s->epoch != s->next_epoch)
        make_order(s, s->next_epoch);
    int64_t b = s->next_index++;
    int64_t lo = b * s->batch, m = s->n - lo < s->batch ? s->n - lo : s->batch;
    /* rank r of K: [r m / K, (r + 1) m / K) — sizes differ by at most one, rank 0's first */
    int64_t from = (int64_t)s->rank * m / s->world, to = ((int64_t)s->rank + 1) * m / s->world;
    *out = (nb_dist_shard){.indices = s->order + lo + from,
                           .size = to - from,
                           .global_size = m,
                           .offset = from,
                           .index = b,
                           .epoch = s->epoch};
    return true;
}

nb_status nb_dist_sampler_seek(nb_dist_sampler *s, int64_t epoch, int64_t index)
{
    if (!s || epoch < 0 || index < 0 || index > s->n_batches)
        return nb_set_error(NB_ERR_VALUE,
                            "nb_dist_sampler_seek: epoch %lld, index %lld (%lld batches per "
                            "epoch)",
                            (long long)epoch, (long long)index, s ? (long long)s->n_batches : 0LL);
    s->next_epoch = epoch;
    s->next_index = index;
    return NB_OK;
}

nb_status nb_dist_shard_gather(const nb_dataset *ds, const nb_dist_shard *shard, nb_tensor **x,
                               nb_tensor **y)
{
    static const char fn[] = "nb_dist_shard_gather";
    if (x)
        *x = NULL;
    if (y)
        *y = NULL;
    if (!ds || !ds->x || !shard || !x || !y)
        return nb_set_error(NB_ERR_VALUE, "%s: NULL argument", fn);
    if (!nb_tensor_is_contiguous(ds->x) || (ds->y && !nb_tensor_is_contiguous(ds->y)))
        return nb_set_error(NB_ERR_VALUE, "%s: the data set's tensors must be contiguous", fn);
    int64_t n = nb_tensor_dim(ds->x, 0);
    for (int64_t i = 0; i < shard->size; i++)
        if (shard->indices[i] < 0 || shard->indices[i] >= n)
            return nb_set_error(NB_ERR_VALUE, "%s: index %lld out of range for %lld samples", fn,
                                (long long)shard->indices[i], (long long)n);
    if (shard->size == 0)
        return NB_OK;
    int ndim = nb_tensor_ndim(ds->x);
    int64_t shape[8];
    if (ndim > 8)
        return nb_set_error(NB_ERR_VALUE, "%s: samples have %d dimensions (at most 8)", fn, ndim);
    memcpy(shape, nb_tensor_shape(ds->x), (size_t)ndim * sizeof *shape);
    size_t row =
        (size_t)(nb_tensor_numel(ds->x) / (n > 0 ? n : 1)) * nb_dtype_size(nb_tensor_dtype(ds->x));
    shape[0] = shard->size;
    *x = nb_tensor_new(nb_tensor_dtype(ds->x), ndim, shape);
    if (ds->y)
        *y = nb_tensor_new(NB_I64, 1, (int64_t[]){shard->size});
    if (!*x || (ds->y && !*y)) {
        nb_tensor_free(*x);
        nb_tensor_free(*y);
        *x = *y = NULL;
        return nb_last_status();
    }
    const char *src = nb_tensor_data(ds->x);
    char *dst = nb_tensor_data(*x);
    for (int64_t i = 0; i < shard->size; i++)
        memcpy(dst + (size_t)i * row, src + (size_t)shard->indices[i] * row, row);
    if (ds->y) {
        const int64_t *ly = nb_tensor_data(ds->y);
        int64_t *oy = nb_tensor_data_i64(*y);
        for (int64_t i = 0; i < shard->size; i++)
            oy[i] = ly[shard->indices[i]];
    }
    return NB_OK;
}
