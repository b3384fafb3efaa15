/* io/state.c — checkpoints: a list of named tensors in one little-endian file sealed by an
 * XXH3-64 digest (docs/checkpoint-format.md). Saves are atomic; loads are all-or-nothing. */
#include "file_util.h"
#include "nabla/io.h"

#include <inttypes.h>
#include <string.h>

static const unsigned char MAGIC[8] = {0x89, 'N', 'B', 'C', 'K', 'P', 'T', '\n'};
enum {
    HEADER_BYTES = 24, /* magic, version, flags, count */
    DIGEST_BYTES = 8,
    ENTRY_MIN_BYTES = 4 + 1 + 4 + 4, /* name length, 1-byte name, dtype, ndim (scalar) */
};

/* ---- shape strings for messages ---- */
static const char *shape_str(int ndim, const int64_t *shape, char *buf, size_t n)
{
    size_t pos = 0;
    int w = snprintf(buf, n, "[");
    pos = w > 0 ? (size_t)w : 0;
    for (int i = 0; i < ndim && pos < n; i++) {
        w = snprintf(buf + pos, n - pos, "%s%" PRId64, i ? ", " : "", shape[i]);
        if (w < 0)
            break;
        pos += (size_t)w;
    }
    if (pos < n)
        snprintf(buf + pos, n - pos, "]");
    return buf;
}

/* ---- save ---- */
typedef struct writer {
    nbi_atomic_file af;
    nb_digest *dg;
} writer;

static nb_status put(writer *w, const void *p, size_t n)
{
    nb_digest_update(w->dg, p, n);
    return nbi_atomic_write(&w->af, p, n);
}

/* Elements in little-endian order (a copy through a small buffer on big-endian hosts). */
static nb_status put_elems(writer *w, const void *data, size_t numel, size_t size)
{
    if (nbi_host_le())
        return put(w, data, numel * size);
    unsigned char buf[4096];
    const unsigned char *p = data;
    size_t per = sizeof buf / size;
    for (size_t i = 0; i < numel; i += per) {
        size_t k = numel - i < per ? numel - i : per;
        nbi_swap_copy(buf, p + i * size, k, size);
        nb_status st = put(w, buf, k * size);
        if (st != NB_OK)
            return st;
    }
    return NB_OK;
}

static nb_status check_list(const char *fn, const nb_named_tensor *list, int n, const char *role)
{
    if (n < 0)
        return nb_set_error(NB_ERR_VALUE, "%s: tensor count %d is negative", fn, n);
    if (n > NB_CHECKPOINT_MAX_TENSORS)
        return nb_set_error(NB_ERR_VALUE,
                            "%s: %s list has %d tensors, a checkpoint holds at most %d", fn, role,
                            n, NB_CHECKPOINT_MAX_TENSORS);
    if (n > 0 && !list)
        return nb_set_error(NB_ERR_VALUE, "%s: %s list is NULL", fn, role);
    nbi_name_set names;
    if (nbi_name_set_init(&names, (size_t)n) != NB_OK)
        return nb_set_error(NB_ERR_NOMEM, "%s: out of memory checking %d names", fn, n);
    nb_status st = NB_OK;
    for (int i = 0; st == NB_OK && i < n; i++) {
        const char *name = list[i].name;
        size_t len = name ? strlen(name) : 0;
        if (!name || !*name)
            st = nb_set_error(NB_ERR_VALUE, "%s: %s entry %d has %s name", fn, role, i,
                              name ? "an empty" : "a NULL");
        else if (len > NB_CHECKPOINT_MAX_NAME)
            st = nb_set_error(NB_ERR_VALUE, "%s: %s entry %d: name is %zu bytes (at most %d)", fn,
                              role, i, len, NB_CHECKPOINT_MAX_NAME);
        else if (!list[i].tensor)
            st = nb_set_error(NB_ERR_VALUE, "%s: %s tensor '%s' is NULL", fn, role, name);
        else if (!nb_tensor_is_live(list[i].tensor))
            st = nb_set_error(NB_ERR_STATE,
                              "%s: %s tensor '%s' is an op result of a step that has ended", fn,
                              role, name);
        else if (nbi_name_set_add(&names, name, len, i) >= 0)
            st = nb_set_error(NB_ERR_VALUE, "%s: %s lists the name '%s' twice", fn, role, name);
    }
    nbi_name_set_free(&names);
    return st;
}

static nb_status save_entry(writer *w, const nb_named_tensor *e)
{
    nb_tensor *t = e->tensor;
    nb_tensor *tmp = NULL;
    if (!nb_tensor_is_contiguous(t)) {
        tmp = nb_tensor_copy(t);
        if (!tmp)
            return nb_last_status();
        t = tmp;
    }
    size_t name_len = strlen(e->name);
    int ndim = nb_tensor_ndim(t);
    const int64_t *shape = nb_tensor_shape(t);
    unsigned char head[12 + 8 * NB_MAX_DIMS];
    nbi_put_u32le(head, (uint32_t)name_len);
    nb_status st = put(w, head, 4);
    if (st == NB_OK)
        st = put(w, e->name, name_len);
    nbi_put_u32le(head, (uint32_t)nb_tensor_dtype(t));
    nbi_put_u32le(head + 4, (uint32_t)ndim);
    for (int d = 0; d < ndim && d < NB_MAX_DIMS; d++) /* bound stated for gcc's overflow check */
        nbi_put_u64le(head + 8 + 8 * d, (uint64_t)shape[d]);
    if (st == NB_OK)
        st = put(w, head, 8 + 8 * (size_t)ndim);
    if (st == NB_OK)
        st = put_elems(w, nb_tensor_data(t), (size_t)nb_tensor_numel(t),
                       nb_dtype_size(nb_tensor_dtype(t)));
    nb_tensor_free(tmp);
    return st;
}

nb_status nb_checkpoint_save(const char *path, const nb_named_tensor *src, int n)
{
    const char *fn = "nb_checkpoint_save";
    if (!path || !*path)
        return nb_set_error(NB_ERR_VALUE, "%s: path is %s", fn, path ? "empty" : "NULL");
    nb_status st = check_list(fn, src, n, "source");
    if (st != NB_OK)
        return st;
    writer w = {0};
    w.dg = nb_digest_new(0);
    if (!w.dg)
        return nb_set_error(NB_ERR_NOMEM, "%s: out of memory while saving %s", fn, path);
    st = nbi_atomic_open(&w.af, fn, path);
    if (st == NB_OK) {
        unsigned char head[HEADER_BYTES];
        memcpy(head, MAGIC, 8);
        nbi_put_u32le(head + 8, NB_CHECKPOINT_VERSION);
        nbi_put_u32le(head + 12, 0); /* flags */
        nbi_put_u64le(head + 16, (uint64_t)n);
        st = put(&w, head, sizeof head);
    }
    for (int i = 0; st == NB_OK && i < n; i++) {
        st = save_entry(&w, &src[i]);
        if (st == NB_ERR_NOMEM)
            nb_set_error(st, "%s: out of memory while writing tensor '%s' to %s", fn, src[i].name,
                         path);
    }
    if (st == NB_OK) {
        unsigned char tail[DIGEST_BYTES];
        nbi_put_u64le(tail, nb_digest_value(w.dg));
        st = nbi_atomic_write(&w.af, tail, sizeof tail);
    }
    if (st == NB_OK)
        st = nbi_atomic_commit(&w.af);
    else
        nbi_atomic_abort(&w.af);
    nb_digest_free(w.dg);
    return st;
}

/* ---- parsing ---- */
typedef struct entry {
    const char *name; /* points into the file buffer, not NUL-terminated */
    size_t name_len;
    nb_dtype dtype;
    int ndim;
    int64_t shape[NB_MAX_DIMS];
    int64_t numel;
    size_t offset; /* of the data */
    bool used;
} entry;

typedef struct parsed {
    unsigned char *buf;
    size_t size;
    uint32_t version;
    uint64_t digest;
    int64_t count;
    entry *entries;
    nbi_name_set names; /* entry name -> index */
} parsed;

static void parsed_free(parsed *p)
{
    nb_free(p->buf);
    nb_free(p->entries);
    nbi_name_set_free(&p->names);
    memset(p, 0, sizeof *p);
}

/* Read and verify the whole file; on success p holds the buffer and the entry table. */
static nb_status parse_file(const char *fn, const char *path, parsed *p)
{
    memset(p, 0, sizeof *p);
    nb_status st = nbi_read_file(fn, path, &p->buf, &p->size);
    if (st != NB_OK)
        return st;
    const unsigned char *b = p->buf;
    size_t size = p->size;
    if (size < HEADER_BYTES + DIGEST_BYTES) {
        st = nb_set_error(NB_ERR_FORMAT,
                          "%s: %s: truncated: the file is %zu bytes, a checkpoint has at least %d",
                          fn, path, size, HEADER_BYTES + DIGEST_BYTES);
        goto fail;
    }
    if (memcmp(b, MAGIC, 8) != 0) {
        st = nb_set_error(NB_ERR_FORMAT, "%s: %s: not a nabla checkpoint (bad magic)", fn, path);
        goto fail;
    }
    p->version = nbi_get_u32le(b + 8);
    if (p->version != NB_CHECKPOINT_VERSION) {
        st = nb_set_error(NB_ERR_FORMAT,
                          "%s: %s: format version %" PRIu32 " is not supported (this build reads "
                          "version %d)",
                          fn, path, p->version, NB_CHECKPOINT_VERSION);
        goto fail;
    }
    uint64_t stored = nbi_get_u64le(b + size - DIGEST_BYTES);
    uint64_t computed = nb_digest64(b, size - DIGEST_BYTES, 0);
    if (stored != computed) {
        st = nb_set_error(NB_ERR_FORMAT,
                          "%s: %s: digest mismatch (stored %016" PRIx64 ", computed %016" PRIx64
                          "): the file is corrupt or truncated",
                          fn, path, stored, computed);
        goto fail;
    }
    p->digest = stored;
    uint32_t flags = nbi_get_u32le(b + 12);
    if (flags != 0) {
        st = nb_set_error(NB_ERR_FORMAT, "%s: %s: unknown flags 0x%08" PRIx32, fn, path, flags);
        goto fail;
    }
    uint64_t count = nbi_get_u64le(b + 16);
    size_t end = size - DIGEST_BYTES;
    if (count > NB_CHECKPOINT_MAX_TENSORS) {
        st = nb_set_error(NB_ERR_FORMAT,
                          "%s: %s: holds %" PRIu64 " tensors, more than the %d a checkpoint may "
                          "hold",
                          fn, path, count, NB_CHECKPOINT_MAX_TENSORS);
        goto fail;
    }
    if (count > (end - HEADER_BYTES) / ENTRY_MIN_BYTES) {
        st = nb_set_error(NB_ERR_FORMAT, "%s: %s: claims %" PRIu64 " tensors in %zu bytes", fn,
                          path, count, size);
        goto fail;
    }
    p->count = (int64_t)count;
    p->entries = nb_calloc(count ? (size_t)count : 1, sizeof *p->entries);
    if (!p->entries || nbi_name_set_init(&p->names, (size_t)count) != NB_OK) {
        st = nb_set_error(NB_ERR_NOMEM, "%s: %s: out of memory for %" PRIu64 " entries", fn, path,
                          count);
        goto fail;
    }
    size_t pos = HEADER_BYTES;
    for (uint64_t i = 0; i < count; i++) {
        entry *e = &p->entries[i];
        if (end - pos < 4) {
            st = nb_set_error(NB_ERR_FORMAT, "%s: %s: entry %" PRIu64 " is cut off", fn, path, i);
            goto fail;
        }
        uint32_t name_len = nbi_get_u32le(b + pos);
        pos += 4;
        if (name_len == 0 || name_len > NB_CHECKPOINT_MAX_NAME || end - pos < name_len + 8u) {
            st = nb_set_error(NB_ERR_FORMAT, "%s: %s: entry %" PRIu64 " has a bad name length %u",
                              fn, path, i, (unsigned)name_len);
            goto fail;
        }
        e->name = (const char *)b + pos;
        e->name_len = name_len;
        if (memchr(e->name, '\0', name_len)) {
            st = nb_set_error(NB_ERR_FORMAT, "%s: %s: entry %" PRIu64 " has a NUL in its name", fn,
                              path, i);
            goto fail;
        }
        pos += name_len;
        uint32_t dtype = nbi_get_u32le(b + pos), ndim = nbi_get_u32le(b + pos + 4);
        pos += 8;
        if (dtype > NB_I64 || ndim > NB_MAX_DIMS || end - pos < 8u * ndim) {
            st = nb_set_error(NB_ERR_FORMAT,
                              "%s: %s: tensor '%.*s' has a bad dtype (%u) or ndim (%u)", fn, path,
                              (int)name_len, e->name, (unsigned)dtype, (unsigned)ndim);
            goto fail;
        }
        e->dtype = (nb_dtype)dtype;
        e->ndim = (int)ndim;
        /* span: the product with zero dims counted as 1 (what a tensor's strides span, empty or
         * not) must stay within 2^60 like any tensor's; numel <= span */
        uint64_t numel = 1, span = 1;
        bool overflow = false;
        for (uint32_t d = 0; d < ndim; d++) {
            uint64_t dim = nbi_get_u64le(b + pos + 8 * d), k = dim ? dim : 1;
            if (span > ((uint64_t)1 << 60) / k) {
                overflow = true;
            } else {
                span *= k;
                numel *= dim;
            }
            e->shape[d] = (int64_t)dim;
        }
        pos += 8u * ndim;
        size_t esz = nb_dtype_size(e->dtype);
        if (overflow) {
            st = nb_set_error(NB_ERR_FORMAT,
                              "%s: %s: tensor '%.*s' has a shape no tensor can have (its nonzero "
                              "dims multiply past 2^60)",
                              fn, path, (int)name_len, e->name);
            goto fail;
        }
        if (numel > (end - pos) / esz) {
            st = nb_set_error(NB_ERR_FORMAT,
                              "%s: %s: tensor '%.*s' claims more data than the file holds", fn,
                              path, (int)name_len, e->name);
            goto fail;
        }
        e->numel = (int64_t)numel;
        e->offset = pos;
        pos += (size_t)numel * esz;
        if (nbi_name_set_add(&p->names, e->name, name_len, (int64_t)i) >= 0) {
            st = nb_set_error(NB_ERR_FORMAT, "%s: %s: the name '%.*s' appears twice", fn, path,
                              (int)name_len, e->name);
            goto fail;
        }
    }
    if (pos != end) {
        st = nb_set_error(NB_ERR_FORMAT, "%s: %s: %zu unexpected bytes after the last tensor", fn,
                          path, end - pos);
        goto fail;
    }
    return NB_OK;
fail:
    parsed_free(p);
    return st;
}

static entry *find(parsed *p, const char *name)
{
    int64_t i = nbi_name_set_find(&p->names, name, strlen(name));
    return i >= 0 ? &p->entries[i] : NULL;
}

/* Copy an entry's data into host order at dst (contiguous, numel elements). */
static void copy_out(const parsed *p, const entry *e, void *dst)
{
    size_t esz = nb_dtype_size(e->dtype);
    if (nbi_host_le())
        memcpy(dst, p->buf + e->offset, (size_t)e->numel * esz);
    else
        nbi_swap_copy(dst, p->buf + e->offset, (size_t)e->numel, esz);
}

/* ---- load ---- */
nb_status nb_checkpoint_load(const char *path, const nb_named_tensor *dst, int n)
{
    const char *fn = "nb_checkpoint_load";
    nb_status st = check_list(fn, dst, n, "destination");
    if (st != NB_OK)
        return st;
    parsed p;
    st = parse_file(fn, path, &p);
    if (st != NB_OK)
        return st;
    entry **match = nb_calloc(n > 0 ? (size_t)n : 1, sizeof *match);
    nb_tensor **stage = nb_calloc(n > 0 ? (size_t)n : 1, sizeof *stage);
    if (!match || !stage) {
        st = nb_set_error(NB_ERR_NOMEM, "%s: out of memory while loading %s", fn, path);
        goto done;
    }
    /* 1. every destination is in the file with its dtype and shape */
    for (int i = 0; i < n; i++) {
        nb_tensor *t = dst[i].tensor;
        entry *e = find(&p, dst[i].name);
        if (!e) {
            st = nb_set_error(NB_ERR_VALUE,
                              "%s: %s: tensor '%s' is not in the file (it holds %" PRId64
                              " tensors)",
                              fn, path, dst[i].name, p.count);
            goto done;
        }
        int nd = nb_tensor_ndim(t);
        const int64_t *shape = nb_tensor_shape(t);
        bool same_shape = nd == e->ndim;
        for (int d = 0; same_shape && d < nd; d++)
            same_shape = shape[d] == e->shape[d];
        if (!same_shape || nb_tensor_dtype(t) != e->dtype) {
            char a[256], b[256];
            st = nb_set_error(same_shape ? NB_ERR_DTYPE : NB_ERR_SHAPE,
                              "%s: %s: tensor '%s' is %s %s in the file but %s %s in the "
                              "destination",
                              fn, path, dst[i].name, nb_dtype_name(e->dtype),
                              shape_str(e->ndim, e->shape, a, sizeof a),
                              nb_dtype_name(nb_tensor_dtype(t)), shape_str(nd, shape, b, sizeof b));
            goto done;
        }
        e->used = true;
        match[i] = e;
    }
    /* 2. nothing in the file is left over */
    for (int64_t j = 0; j < p.count; j++)
        if (!p.entries[j].used) {
            st = nb_set_error(NB_ERR_VALUE,
                              "%s: %s: the file has tensor '%.*s' that the destination does not "
                              "list",
                              fn, path, (int)p.entries[j].name_len, p.entries[j].name);
            goto done;
        }
    /* 3. staging copies for non-contiguous destinations (the only step that can still fail) */
    for (int i = 0; i < n; i++) {
        nb_tensor *t = dst[i].tensor;
        if (nb_tensor_is_contiguous(t))
            continue;
        stage[i] = nb_tensor_new(match[i]->dtype, match[i]->ndim, match[i]->shape);
        if (!stage[i]) {
            st = nb_last_status();
            goto done;
        }
        copy_out(&p, match[i], nb_tensor_data(stage[i]));
    }
    /* 4. write: nothing below can fail */
    for (int i = 0; i < n; i++) {
        if (stage[i])
            nb_tensor_copy_into(dst[i].tensor, stage[i]);
        else
            copy_out(&p, match[i], nb_tensor_data(dst[i].tensor));
    }
done:
    if (stage)
        for (int i = 0; i < n; i++)
            nb_tensor_free(stage[i]);
    nb_free(stage);
    nb_free(match);
    parsed_free(&p);
    return st;
}

nb_checkpoint_toc *nb_checkpoint_read_toc(const char *path)
{
    const char *fn = "nb_checkpoint_read_toc";
    parsed p;
    if (parse_file(fn, path, &p) != NB_OK)
        return NULL;
    nb_checkpoint_toc *toc = nb_calloc(1, sizeof *toc);
    if (toc)
        toc->entries = nb_calloc(p.count ? (size_t)p.count : 1, sizeof *toc->entries);
    bool ok = toc && toc->entries;
    for (int64_t i = 0; ok && i < p.count; i++) {
        const entry *e = &p.entries[i];
        nb_checkpoint_entry *o = &toc->entries[i];
        o->name = nb_malloc(e->name_len + 1);
        if (!o->name) {
            ok = false;
            break;
        }
        memcpy(o->name, e->name, e->name_len);
        o->name[e->name_len] = '\0';
        o->dtype = e->dtype;
        o->ndim = e->ndim;
        memcpy(o->shape, e->shape, sizeof o->shape);
        o->numel = e->numel;
        o->offset = e->offset;
    }
    if (!ok) {
        if (toc)
            toc->count = p.count;
        nb_checkpoint_toc_free(toc);
        nb_set_error(NB_ERR_NOMEM, "%s: out of memory listing %s", fn, path);
        parsed_free(&p);
        return NULL;
    }
    toc->version = p.version;
    toc->count = p.count;
    toc->file_size = p.size;
    toc->digest = p.digest;
    parsed_free(&p);
    return toc;
}

void nb_checkpoint_toc_free(nb_checkpoint_toc *toc)
{
    if (!toc)
        return;
    if (toc->entries)
        for (int64_t i = 0; i < toc->count; i++)
            nb_free(toc->entries[i].name);
    nb_free(toc->entries);
    nb_free(toc);
}

nb_tensor *nb_checkpoint_load_tensor(const char *path, const char *name)
{
    const char *fn = "nb_checkpoint_load_tensor";
    if (!name) {
        nb_set_error(NB_ERR_VALUE, "%s: name is NULL", fn);
        return NULL;
    }
    parsed p;
    if (parse_file(fn, path, &p) != NB_OK)
        return NULL;
    entry *e = find(&p, name);
    nb_tensor *t = NULL;
    if (!e)
        nb_set_error(NB_ERR_VALUE, "%s: %s: tensor '%s' is not in the file", fn, path, name);
    else if ((t = nb_tensor_new(e->dtype, e->ndim, e->shape)) != NULL)
        copy_out(&p, e, nb_tensor_data(t));
    parsed_free(&p);
    return t;
}
