/* data/datasets.c — dataset files: IDX (MNIST, Fashion-MNIST; gzip or raw) and CIFAR-10 binary
 * batches. Every header field is checked against the file before anything is allocated; every
 * problem is reported naming the file. Subsets, splits and normalisation are in data/batches.c. */
#include "io/file_util.h"
#include "nabla/data.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

enum {
    IDX_MAX_DIMS = 4,
    CHUNK = 1 << 16,
    CIFAR_RECORD = 3073,
    CIFAR_PIXELS = 3072,
    /* deflate cannot compress better than about 1032:1; a gzip file claiming more is lying */
    GZIP_MAX_RATIO = 1032,
};

static const char *const FASHION_NAMES[10] = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                              "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                              "Bag",         "Ankle boot"};
static const char *const CIFAR_NAMES[10] = {"airplane", "automobile", "bird",  "cat",  "deer",
                                            "dog",      "frog",       "horse", "ship", "truck"};
static const char *const DIGIT_NAMES[10] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

const char *const *nb_fashion_mnist_class_names(void)
{
    return FASHION_NAMES;
}

const char *const *nb_cifar10_class_names(void)
{
    return CIFAR_NAMES;
}

int64_t nb_dataset_size(const nb_dataset *ds)
{
    return ds && ds->x && nb_tensor_ndim(ds->x) > 0 ? nb_tensor_dim(ds->x, 0) : 0;
}

void nb_dataset_deinit(nb_dataset *ds)
{
    if (!ds)
        return;
    nb_tensor_free(ds->x);
    nb_tensor_free(ds->y);
    memset(ds, 0, sizeof *ds);
}

/* ---- a byte source: raw file or gzip stream, detected by the magic ---- */
typedef struct source {
    const char *fn, *path;
    FILE *fp;
    gzFile gz;
    uint64_t file_size; /* on disk */
} source;

static nb_status source_open(source *s, const char *fn, const char *path, bool allow_gz)
{
    memset(s, 0, sizeof *s);
    s->fn = fn;
    s->path = path;
    int fd = nbi_open_regular(fn, path, &s->file_size);
    if (fd < 0)
        return nb_last_status();
    unsigned char magic[2] = {0, 0};
    ssize_t got;
    do
        got = pread(fd, magic, 2, 0);
    while (got < 0 && errno == EINTR);
    if (got < 0) {
        nb_status st = nb_set_error(NB_ERR_IO, "%s: cannot read %s: %s", fn, path, strerror(errno));
        close(fd);
        return st;
    }
    bool gzip = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    nb_status st = NB_OK;
    if (nbi_ends_with(path, ".gz") && !gzip)
        st = nb_set_error(NB_ERR_FORMAT,
                          "%s: %s: named .gz but is not gzip-compressed (it starts with %s)", fn,
                          path, got == 2 ? "other bytes" : "too few bytes");
    else if (gzip && !allow_gz)
        st = nb_set_error(NB_ERR_FORMAT, "%s: %s: is gzip-compressed: decompress it first", fn,
                          path);
    else if (gzip && !(s->gz = gzdopen(fd, "rb")))
        st = nb_set_error(NB_ERR_NOMEM, "%s: out of memory opening %s", fn, path);
    else if (!gzip && !(s->fp = fdopen(fd, "rb")))
        st = nb_set_error(NB_ERR_IO, "%s: cannot open %s: %s", fn, path, strerror(errno));
    if (st != NB_OK) {
        close(fd);
        return st;
    }
    if (s->gz)
        gzbuffer(s->gz, 1 << 17);
    return NB_OK;
}

/* Read up to n bytes; *got < n means the data ended. Errors (I/O, corrupt gzip) are set. */
static nb_status source_read(source *s, void *buf, size_t n, size_t *got)
{
    *got = 0;
    if (s->fp) {
        *got = fread(buf, 1, n, s->fp);
        if (*got < n && ferror(s->fp))
            return nb_set_error(NB_ERR_IO, "%s: cannot read %s: %s", s->fn, s->path,
                                strerror(errno));
        return NB_OK;
    }
    unsigned char *p = buf;
    while (*got < n) {
        size_t want = n - *got > (1u << 30) ? (1u << 30) : n - *got;
        int r = gzread(s->gz, p + *got, (unsigned)want);
        int errnum = Z_OK;
        const char *msg = gzerror(s->gz, &errnum);
        if (r < 0 || (errnum != Z_OK && errnum != Z_BUF_ERROR)) {
            if (errnum == Z_ERRNO)
                return nb_set_error(NB_ERR_IO, "%s: cannot read %s: %s", s->fn, s->path,
                                    strerror(errno));
            return nb_set_error(NB_ERR_FORMAT, "%s: %s: corrupt gzip data (%s)", s->fn, s->path,
                                msg);
        }
        if (errnum == Z_BUF_ERROR)
            return nb_set_error(NB_ERR_FORMAT,
                                "%s: %s: truncated: the gzip stream ends early (%s) after %zu "
                                "bytes of this read",
                                s->fn, s->path, msg, *got + (size_t)(r > 0 ? r : 0));
        *got += (size_t)r;
        if (r == 0)
            break;
    }
    return NB_OK;
}

static void source_close(source *s)
{
    if (s->fp)
        fclose(s->fp);
    if (s->gz)
        gzclose(s->gz);
    s->fp = NULL;
    s->gz = NULL;
}

/* Bytes the data of a gzip file of this size can at most decompress to. */
static uint64_t gzip_capacity(uint64_t file_size)
{
    return file_size > UINT64_MAX / GZIP_MAX_RATIO ? UINT64_MAX : file_size * GZIP_MAX_RATIO;
}

/* ---- IDX ---- */
typedef struct idx_header {
    int ndims;
    int64_t dims[IDX_MAX_DIMS];
    uint64_t data_bytes; /* product of the dims */
    uint64_t header_bytes;
} idx_header;

static const char *dims_str(int n, const int64_t *d, char *buf, size_t size)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && pos < size; i++) {
        int w = snprintf(buf + pos, size - pos, "%s%" PRId64, i ? " x " : "", d[i]);
        if (w < 0)
            break;
        pos += (size_t)w;
    }
    return buf;
}

static const char *idx_type_name(int code)
{
    switch (code) {
    case 0x08:
        return "unsigned byte";
    case 0x09:
        return "signed byte";
    case 0x0B:
        return "short";
    case 0x0C:
        return "int";
    case 0x0D:
        return "float";
    case 0x0E:
        return "double";
    }
    return NULL;
}

/* Read and check the IDX header: magic, type, ndims in [min_nd, max_nd], dims, and that the
 * data size agrees with the file (raw: exactly; gzip: within what it can hold). */
static nb_status idx_header_read(source *s, int min_nd, int max_nd, idx_header *h)
{
    const char *fn = s->fn, *path = s->path;
    unsigned char b[4 + 4 * 255];
    size_t got;
    nb_status st = source_read(s, b, 4, &got);
    if (st != NB_OK)
        return st;
    if (got < 4)
        return nb_set_error(NB_ERR_FORMAT,
                            "%s: %s: truncated: %zu bytes, too short for an IDX header", fn, path,
                            got);
    if (b[0] != 0 || b[1] != 0)
        return nb_set_error(NB_ERR_FORMAT,
                            "%s: %s: bad magic 0x%02x%02x%02x%02x: not an IDX file (it starts "
                            "with two zero bytes)",
                            fn, path, b[0], b[1], b[2], b[3]);
    const char *tname = idx_type_name(b[2]);
    if (!tname)
        return nb_set_error(NB_ERR_FORMAT, "%s: %s: unknown IDX data type code 0x%02x", fn, path,
                            b[2]);
    if (b[2] != 0x08)
        return nb_set_error(NB_ERR_FORMAT,
                            "%s: %s: IDX data type 0x%02x (%s) is not supported: nabla reads "
                            "unsigned-byte (0x08) files",
                            fn, path, b[2], tname);
    h->ndims = b[3];
    if (h->ndims < min_nd || h->ndims > max_nd) {
        if (min_nd == max_nd)
            return nb_set_error(NB_ERR_FORMAT, "%s: %s: has %d dimensions, expected %d", fn, path,
                                h->ndims, min_nd);
        return nb_set_error(NB_ERR_FORMAT, "%s: %s: has %d dimensions, expected %d to %d", fn, path,
                            h->ndims, min_nd, max_nd);
    }
    st = source_read(s, b + 4, 4 * (size_t)h->ndims, &got);
    if (st != NB_OK)
        return st;
    if (got < 4 * (size_t)h->ndims)
        return nb_set_error(NB_ERR_FORMAT, "%s: %s: truncated in the header (%d dimensions)", fn,
                            path, h->ndims);
    uint64_t total = 1;
    for (int i = 0; i < h->ndims; i++) {
        uint32_t d = nbi_get_u32be(b + 4 + 4 * i);
        if (d == 0)
            return nb_set_error(NB_ERR_FORMAT, "%s: %s: dimension %d is 0", fn, path, i);
        h->dims[i] = d;
        if (total > (UINT64_MAX >> 4) / d) {
            char ds[128];
            return nb_set_error(NB_ERR_FORMAT, "%s: %s: dimensions %s... are too large", fn, path,
                                dims_str(i + 1, h->dims, ds, sizeof ds));
        }
        total *= d;
    }
    h->data_bytes = total;
    h->header_bytes = 4 + 4 * (uint64_t)h->ndims;
    char ds[128];
    dims_str(h->ndims, h->dims, ds, sizeof ds);
    if (s->fp) {
        uint64_t have = s->file_size - h->header_bytes;
        if (have < total)
            return nb_set_error(NB_ERR_FORMAT,
                                "%s: %s: truncated: header says %s (%" PRIu64 " data bytes), file "
                                "has %" PRIu64,
                                fn, path, ds, total, have);
        if (have > total)
            return nb_set_error(NB_ERR_FORMAT,
                                "%s: %s: %" PRIu64 " bytes after the data: header says %s (%" PRIu64
                                " data bytes), file has %" PRIu64,
                                fn, path, have - total, ds, total, have);
    } else if (total > gzip_capacity(s->file_size)) {
        return nb_set_error(NB_ERR_FORMAT,
                            "%s: %s: header says %s (%" PRIu64 " bytes), more than a %" PRIu64
                            "-byte gzip file can hold",
                            fn, path, ds, total, s->file_size);
    }
    return NB_OK;
}

/* Convert n bytes to dtype values (byte * scale; i64: the byte). */
static void convert(const unsigned char *b, size_t n, nb_dtype dtype, double scale, void *out)
{
    if (dtype == NB_F32) {
        float *o = out, sc = (float)scale;
        for (size_t i = 0; i < n; i++)
            o[i] = (float)b[i] * sc;
    } else if (dtype == NB_F64) {
        double *o = out;
        for (size_t i = 0; i < n; i++)
            o[i] = (double)b[i] * scale;
    } else {
        int64_t *o = out;
        for (size_t i = 0; i < n; i++)
            o[i] = b[i];
    }
}

/* Read the data after the header: the first `keep` bytes are converted into out (dtype), the
 * rest is read and dropped; then the data must end exactly. */
static nb_status idx_data_read(source *s, const idx_header *h, uint64_t keep, nb_dtype dtype,
                               double scale, void *out)
{
    unsigned char *buf = nb_malloc(CHUNK);
    if (!buf)
        return nb_set_error(NB_ERR_NOMEM, "%s: out of memory reading %s", s->fn, s->path);
    nb_status st = NB_OK;
    uint64_t done = 0;
    size_t esz = nb_dtype_size(dtype);
    bool raw_rest_known = s->fp != NULL; /* raw files: the size was checked with stat */
    uint64_t want_total = raw_rest_known ? keep : h->data_bytes;
    while (done < want_total) {
        size_t n = want_total - done > CHUNK ? CHUNK : (size_t)(want_total - done), got;
        st = source_read(s, buf, n, &got);
        if (st != NB_OK)
            break;
        if (done < keep) {
            size_t k = keep - done < got ? (size_t)(keep - done) : got;
            convert(buf, k, dtype, scale, (char *)out + done * esz);
        }
        done += got;
        if (got < n) {
            char ds[128];
            st = nb_set_error(NB_ERR_FORMAT,
                              "%s: %s: truncated: header says %s (%" PRIu64
                              " data bytes), data ends after %" PRIu64,
                              s->fn, s->path, dims_str(h->ndims, h->dims, ds, sizeof ds),
                              h->data_bytes, done);
            break;
        }
    }
    if (st == NB_OK && !raw_rest_known) {
        size_t got;
        st = source_read(s, buf, 1, &got);
        if (st == NB_OK && got)
            st =
                nb_set_error(NB_ERR_FORMAT, "%s: %s: more data than the header's %" PRIu64 " bytes",
                             s->fn, s->path, h->data_bytes);
    }
    nb_free(buf);
    return st;
}

/* Read an IDX file: dims checked, first `keep_items` items along dim 0 (0 = all) converted to
 * dtype into a new tensor of shape `out_shape` built by layout. *n_total gets dim 0. */
static nb_tensor *idx_read(const char *fn, const char *path, int min_nd, int max_nd, nb_dtype dtype,
                           double scale, int64_t keep_items, nb_layout layout, int64_t *n_total)
{
    source s;
    if (source_open(&s, fn, path, true) != NB_OK)
        return NULL;
    idx_header h;
    nb_tensor *t = NULL;
    if (idx_header_read(&s, min_nd, max_nd, &h) != NB_OK)
        goto done;
    int64_t n = h.dims[0];
    if (n_total)
        *n_total = n;
    int64_t keep = keep_items > 0 && keep_items < n ? keep_items : n;
    int64_t item = (int64_t)(h.data_bytes / (uint64_t)n);
    int64_t shape[NB_MAX_DIMS];
    int nd = h.ndims;
    memcpy(shape, h.dims, sizeof h.dims);
    shape[0] = keep;
    if (layout == NB_LAYOUT_NCHW && h.ndims == 3) {
        shape[1] = 1;
        shape[2] = h.dims[1];
        shape[3] = h.dims[2];
        nd = 4;
    } else if (layout == NB_LAYOUT_FLAT && h.ndims > 1) {
        shape[1] = item;
        nd = 2;
    }
    t = nb_tensor_new(dtype, nd, shape);
    if (!t)
        goto done;
    if (idx_data_read(&s, &h, (uint64_t)(keep * item), dtype, scale, nb_tensor_data(t)) != NB_OK) {
        nb_tensor_free(t);
        t = NULL;
    }
done:
    source_close(&s);
    return t;
}

nb_tensor *nb_idx_load(const char *path, nb_dtype dtype, double scale)
{
    if (nb_dtype_size(dtype) == 0) {
        nb_set_error(NB_ERR_VALUE, "nb_idx_load: unknown dtype %d", (int)dtype);
        return NULL;
    }
    return idx_read("nb_idx_load", path, 1, IDX_MAX_DIMS, dtype, scale, 0, NB_LAYOUT_DEFAULT, NULL);
}

nb_status nb_idx_save(const char *path, const nb_tensor *t, double scale)
{
    const char *fn = "nb_idx_save";
    if (!t || !path)
        return nb_set_error(NB_ERR_VALUE, "%s: %s is NULL", fn, t ? "path" : "tensor");
    int nd = nb_tensor_ndim(t);
    if (nd < 1 || nd > IDX_MAX_DIMS)
        return nb_set_error(NB_ERR_SHAPE, "%s: %d dims: IDX files hold 1 to %d", fn, nd,
                            IDX_MAX_DIMS);
    unsigned char head[4 + 4 * IDX_MAX_DIMS] = {0, 0, 0x08, (unsigned char)nd};
    for (int i = 0; i < nd; i++) {
        int64_t d = nb_tensor_dim(t, i);
        if (d < 1 || d > (int64_t)UINT32_MAX)
            return nb_set_error(NB_ERR_SHAPE, "%s: dimension %d is %" PRId64 " (IDX: 1 to 2^32-1)",
                                fn, i, d);
        for (int k = 0; k < 4; k++)
            head[4 + 4 * i + k] = (unsigned char)((uint64_t)d >> (24 - 8 * k));
    }
    int64_t numel = nb_tensor_numel(t);
    unsigned char *bytes = nb_malloc((size_t)numel);
    if (!bytes)
        return nb_set_error(NB_ERR_NOMEM, "%s: out of memory writing %s", fn, path);
    for (int64_t i = 0; i < numel; i++) {
        double v = nb_tensor_get(t, i) * scale;
        v = v != v ? 0 : (v < 0 ? 0 : (v > 255 ? 255 : v));
        bytes[i] = (unsigned char)lround(v);
    }
    nb_status st;
    if (nbi_ends_with(path, ".gz")) {
        /* compress into memory, then write atomically like every other writer */
        z_stream z;
        memset(&z, 0, sizeof z);
        size_t cap = (size_t)numel + (size_t)numel / 100 + 1024;
        unsigned char *gz = nb_malloc(cap);
        st = gz ? NB_OK : NB_ERR_NOMEM;
        if (st == NB_OK && deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            st = NB_ERR_NOMEM;
        size_t len = 0;
        if (st == NB_OK) {
            z.next_out = gz;
            z.avail_out = (uInt)cap;
            z.next_in = head;
            z.avail_in = (uInt)(4 + 4 * nd);
            int rc = deflate(&z, Z_NO_FLUSH);
            z.next_in = bytes;
            z.avail_in = (uInt)numel;
            if (rc == Z_OK)
                rc = deflate(&z, Z_FINISH);
            len = cap - z.avail_out;
            deflateEnd(&z);
            if (rc != Z_STREAM_END)
                st = NB_ERR_NOMEM;
        }
        if (st != NB_OK)
            nb_set_error(st, "%s: cannot compress %s", fn, path);
        nbi_atomic_file af;
        if (st == NB_OK)
            st = nbi_atomic_open(&af, fn, path);
        if (st == NB_OK) {
            st = nbi_atomic_write(&af, gz, len);
            st = st == NB_OK ? nbi_atomic_commit(&af) : (nbi_atomic_abort(&af), st);
        }
        nb_free(gz);
    } else {
        nbi_atomic_file af;
        st = nbi_atomic_open(&af, fn, path);
        if (st == NB_OK) {
            st = nbi_atomic_write(&af, head, 4 + 4 * (size_t)nd);
            if (st == NB_OK)
                st = nbi_atomic_write(&af, bytes, (size_t)numel);
            st = st == NB_OK ? nbi_atomic_commit(&af) : (nbi_atomic_abort(&af), st);
        }
    }
    nb_free(bytes);
    return st;
}

static nb_status check_labels(const char *fn, const char *path, const nb_tensor *y,
                              int64_t n_classes)
{
    const int64_t *v = nb_tensor_data_i64((nb_tensor *)(uintptr_t)y);
    for (int64_t i = 0; i < nb_tensor_numel(y); i++)
        if (v[i] < 0 || v[i] >= n_classes)
            return nb_set_error(NB_ERR_FORMAT,
                                "%s: %s: label %" PRId64 " at index %" PRId64
                                " is out of range [0, %" PRId64 ")",
                                fn, path, v[i], i, n_classes);
    return NB_OK;
}

static const nb_load_opts DEFAULT_OPTS = {0};

static nb_status idx_dataset(const char *fn, const char *images, const char *labels,
                             int64_t n_classes, const nb_load_opts *opts, nb_dataset *out)
{
    if (!out)
        return nb_set_error(NB_ERR_VALUE, "%s: out is NULL", fn);
    memset(out, 0, sizeof *out);
    if (!opts)
        opts = &DEFAULT_OPTS;
    if (n_classes <= 0)
        n_classes = 10;
    if (opts->max_samples < 0)
        return nb_set_error(NB_ERR_VALUE, "%s: max_samples %" PRId64 " is negative", fn,
                            opts->max_samples);
    int64_t n_labels = 0, n_images = 0;
    nb_tensor *y =
        idx_read(fn, labels, 1, 1, NB_I64, 1, opts->max_samples, NB_LAYOUT_DEFAULT, &n_labels);
    if (!y)
        return nb_last_status();
    nb_status st = check_labels(fn, labels, y, n_classes);
    if (st != NB_OK) {
        nb_tensor_free(y);
        return st;
    }
    nb_tensor *x = idx_read(fn, images, 2, IDX_MAX_DIMS, NB_F32, opts->raw_values ? 1 : 1.0 / 255,
                            opts->max_samples, opts->layout, &n_images);
    if (x && n_images != n_labels) {
        st = nb_set_error(NB_ERR_FORMAT,
                          "%s: %s has %" PRId64 " labels but %s has %" PRId64 " images", fn, labels,
                          n_labels, images, n_images);
        nb_tensor_free(x);
        x = NULL;
    }
    if (!x) {
        nb_tensor_free(y);
        return nb_last_status();
    }
    out->x = x;
    out->y = y;
    out->n_classes = n_classes;
    return NB_OK;
}

nb_status nb_idx_load_dataset(const char *images_path, const char *labels_path, int64_t n_classes,
                              const nb_load_opts *opts, nb_dataset *out)
{
    return idx_dataset("nb_idx_load_dataset", images_path, labels_path, n_classes, opts, out);
}

/* "<a>/<b>" into out; false when it does not fit. */
static bool path_join(char *out, size_t size, const char *a, const char *b)
{
    int w = snprintf(out, size, "%s/%s", a, b);
    return w >= 0 && (size_t)w < size;
}

/* ---- MNIST-format directories ---- */
typedef struct mnist_kind {
    const char *fn;
    const char *what;   /* "Fashion-MNIST" */
    const char *env;    /* directory variable */
    const char *dflt;   /* default directory or NULL */
    const char *advice; /* how to get the files */
} mnist_kind;

/* Find "<dir>/<prefix>-<kind>" in its usual spellings; false and a message listing them if
 * none exists. */
static bool find_mnist_file(const char *dir, const char *prefix, const char *kind, char *out,
                            size_t size, char *tried, size_t tried_size)
{
    char dotted[64];
    snprintf(dotted, sizeof dotted, "%s", kind); /* images-idx3-ubyte -> images.idx3-ubyte */
    char *dash = strchr(dotted, '-');
    if (dash)
        *dash = '.';
    const char *fmt[4][2] = {{kind, ".gz"}, {kind, ""}, {dotted, ""}, {dotted, ".gz"}};
    size_t pos = 0;
    tried[0] = '\0';
    for (int i = 0; i < 4; i++) {
        snprintf(out, size, "%s/%s-%s%s", dir, prefix, fmt[i][0], fmt[i][1]);
        if (nbi_file_exists(out))
            return true;
        int w = snprintf(tried + pos, tried_size - pos, "%s%s-%s%s", i ? ", " : "", prefix,
                         fmt[i][0], fmt[i][1]);
        if (w > 0 && (size_t)w < tried_size - pos)
            pos += (size_t)w;
    }
    return false;
}

static nb_status mnist_dir_load(const mnist_kind *k, const char *dir, nb_data_split split,
                                const nb_load_opts *opts, nb_dataset *out)
{
    if (!out)
        return nb_set_error(NB_ERR_VALUE, "%s: out is NULL", k->fn);
    memset(out, 0, sizeof *out);
    char from[128] = "";
    if (!dir || !*dir) {
        const char *env = getenv(k->env);
        if (env && *env) {
            dir = env;
            snprintf(from, sizeof from, " (from $%s)", k->env);
        } else if (k->dflt) {
            dir = k->dflt;
            snprintf(from, sizeof from, " (the default; $%s overrides it)", k->env);
        } else {
            return nb_set_error(NB_ERR_IO, "%s: no directory given and $%s is not set; %s", k->fn,
                                k->env, k->advice);
        }
    }
    if (split != NB_SPLIT_TRAIN && split != NB_SPLIT_TEST)
        return nb_set_error(NB_ERR_VALUE, "%s: unknown split %d", k->fn, (int)split);
    const char *prefix = split == NB_SPLIT_TRAIN ? "train" : "t10k";
    char img[4096], lab[4096], tried[512];
    const char *kinds[2] = {"images-idx3-ubyte", "labels-idx1-ubyte"};
    char *paths[2] = {img, lab};
    for (int i = 0; i < 2; i++)
        if (!find_mnist_file(dir, prefix, kinds[i], paths[i], sizeof img, tried, sizeof tried))
            return nb_set_error(NB_ERR_IO, "%s: no %s %s %s in %s%s (looked for %s); %s", k->fn,
                                k->what, prefix, i ? "labels" : "images", dir, from, tried,
                                k->advice);
    nb_status st = idx_dataset(k->fn, img, lab, 10, opts, out);
    return st;
}

nb_status nb_fashion_mnist_load(const char *dir, nb_data_split split, const nb_load_opts *opts,
                                nb_dataset *out)
{
    static const mnist_kind k = {
        "nb_fashion_mnist_load", "Fashion-MNIST", "NB_FASHION_MNIST_DIR",
        NB_FASHION_MNIST_DEFAULT_DIR,
        "install Debian's package (apt-get install dataset-fashion-mnist) or set "
        "NB_FASHION_MNIST_DIR to a directory holding the files"};
    nb_status st = mnist_dir_load(&k, dir, split, opts, out);
    if (st == NB_OK)
        out->class_names = FASHION_NAMES;
    return st;
}

nb_status nb_mnist_load(const char *dir, nb_data_split split, const nb_load_opts *opts,
                        nb_dataset *out)
{
    static const mnist_kind k = {
        "nb_mnist_load", "MNIST", "NB_MNIST_DIR", NULL,
        "put the four MNIST files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
        "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz; gzipped or not) in one directory"};
    nb_status st = mnist_dir_load(&k, dir, split, opts, out);
    if (st == NB_OK)
        out->class_names = DIGIT_NAMES;
    return st;
}

/* ---- CIFAR-10 ---- */

/* Check a batch file's size; *records gets the record count. */
static nb_status cifar_check(const char *fn, const char *path, int64_t *records)
{
    source s;
    nb_status st = source_open(&s, fn, path, false);
    source_close(&s);
    if (st != NB_OK)
        return st;
    if (s.file_size == 0 || s.file_size % CIFAR_RECORD != 0)
        return nb_set_error(NB_ERR_FORMAT,
                            "%s: %s: size %" PRIu64 " is not a positive multiple of the %d-byte "
                            "CIFAR-10 record (truncated or not a CIFAR-10 binary batch)",
                            fn, path, s.file_size, CIFAR_RECORD);
    *records = (int64_t)(s.file_size / CIFAR_RECORD);
    return NB_OK;
}

/* Read every record of path; the first `keep` go to x/y at sample offset `at`. */
static nb_status cifar_read(const char *fn, const char *path, int64_t records, int64_t keep,
                            float scale, float *x, int64_t *y)
{
    source s;
    nb_status st = source_open(&s, fn, path, false);
    if (st != NB_OK)
        return st;
    unsigned char *rec = nb_malloc(CIFAR_RECORD * 64);
    if (!rec) {
        source_close(&s);
        return nb_set_error(NB_ERR_NOMEM, "%s: out of memory reading %s", fn, path);
    }
    for (int64_t i = 0; i < records && st == NB_OK; i += 64) {
        int64_t k = records - i < 64 ? records - i : 64;
        size_t got;
        st = source_read(&s, rec, (size_t)k * CIFAR_RECORD, &got);
        if (st == NB_OK && got < (size_t)k * CIFAR_RECORD)
            st = nb_set_error(NB_ERR_FORMAT, "%s: %s: truncated while reading (file changed?)", fn,
                              path);
        for (int64_t j = 0; j < k && st == NB_OK; j++) {
            const unsigned char *r = rec + j * CIFAR_RECORD;
            if (r[0] > 9) {
                st = nb_set_error(NB_ERR_FORMAT,
                                  "%s: %s: label %d of record %" PRId64 " is out of range [0, 10)",
                                  fn, path, r[0], i + j);
                break;
            }
            if (i + j < keep) {
                y[i + j] = r[0];
                float *o = x + (i + j) * CIFAR_PIXELS;
                for (int p = 0; p < CIFAR_PIXELS; p++)
                    o[p] = (float)r[1 + p] * scale;
            }
        }
    }
    nb_free(rec);
    source_close(&s);
    return st;
}

/* Load the listed batch files into one dataset. */
static nb_status cifar_files(const char *fn, char paths[][4096], int n_files,
                             const nb_load_opts *opts, nb_dataset *out)
{
    if (!out)
        return nb_set_error(NB_ERR_VALUE, "%s: out is NULL", fn);
    memset(out, 0, sizeof *out);
    if (!opts)
        opts = &DEFAULT_OPTS;
    if (opts->max_samples < 0)
        return nb_set_error(NB_ERR_VALUE, "%s: max_samples %" PRId64 " is negative", fn,
                            opts->max_samples);
    int64_t records[8] = {0}, total = 0;
    for (int f = 0; f < n_files; f++) {
        nb_status st = cifar_check(fn, paths[f], &records[f]);
        if (st != NB_OK)
            return st;
        total += records[f];
    }
    int64_t keep = opts->max_samples > 0 && opts->max_samples < total ? opts->max_samples : total;
    int64_t xs[4] = {keep, 3, 32, 32}, flat[2] = {keep, CIFAR_PIXELS};
    nb_tensor *x = opts->layout == NB_LAYOUT_FLAT ? nb_tensor_new(NB_F32, 2, flat)
                                                  : nb_tensor_new(NB_F32, 4, xs);
    nb_tensor *y = x ? nb_tensor_new(NB_I64, 1, xs) : NULL;
    if (!y) {
        nb_tensor_free(x);
        return nb_last_status();
    }
    float scale = opts->raw_values ? 1.0f : 1.0f / 255;
    int64_t at = 0;
    nb_status st = NB_OK;
    for (int f = 0; f < n_files && st == NB_OK; f++) {
        int64_t k = keep - at < records[f] ? keep - at : records[f];
        if (k < 0)
            k = 0;
        st = cifar_read(fn, paths[f], records[f], k, scale,
                        nb_tensor_data_f32(x) + at * CIFAR_PIXELS, nb_tensor_data_i64(y) + at);
        at += k;
    }
    if (st != NB_OK) {
        nb_tensor_free(x);
        nb_tensor_free(y);
        return st;
    }
    out->x = x;
    out->y = y;
    out->n_classes = 10;
    out->class_names = CIFAR_NAMES;
    return NB_OK;
}

nb_status nb_cifar10_load_file(const char *path, const nb_load_opts *opts, nb_dataset *out)
{
    const char *fn = "nb_cifar10_load_file";
    if (!path) {
        if (out)
            memset(out, 0, sizeof *out);
        return nb_set_error(NB_ERR_VALUE, "%s: path is NULL", fn);
    }
    char paths[1][4096];
    snprintf(paths[0], sizeof paths[0], "%s", path);
    return cifar_files(fn, paths, 1, opts, out);
}

nb_status nb_cifar10_load(const char *dir, nb_data_split split, const nb_load_opts *opts,
                          nb_dataset *out)
{
    const char *fn = "nb_cifar10_load";
    if (out)
        memset(out, 0, sizeof *out);
    if (!dir || !*dir)
        return nb_set_error(NB_ERR_VALUE, "%s: no directory given", fn);
    if (split != NB_SPLIT_TRAIN && split != NB_SPLIT_TEST)
        return nb_set_error(NB_ERR_VALUE, "%s: unknown split %d", fn, (int)split);
    const char *first = split == NB_SPLIT_TRAIN ? "data_batch_1.bin" : "test_batch.bin";
    char base[4096], probe[4096];
    if (strlen(dir) > 3000)
        return nb_set_error(NB_ERR_VALUE, "%s: directory name is too long", fn);
    snprintf(base, sizeof base, "%s", dir);
    if (!path_join(probe, sizeof probe, base, first) || !nbi_file_exists(probe)) {
        if (!path_join(base, sizeof base, dir, "cifar-10-batches-bin") ||
            !path_join(probe, sizeof probe, base, first) || !nbi_file_exists(probe))
            return nb_set_error(NB_ERR_IO,
                                "%s: no CIFAR-10 %s files in %s (looked for %s/%s and %s); "
                                "download the binary version (cifar-10-binary.tar.gz) and "
                                "extract it there",
                                fn, split == NB_SPLIT_TRAIN ? "train" : "test", dir, dir, first,
                                probe);
    }
    char paths[5][4096];
    int n = split == NB_SPLIT_TRAIN ? 5 : 1;
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "data_batch_%d.bin", i + 1);
        if (!path_join(paths[i], sizeof paths[i], base,
                       split == NB_SPLIT_TRAIN ? name : "test_batch.bin"))
            return nb_set_error(NB_ERR_VALUE, "%s: directory name is too long", fn);
    }
    return cifar_files(fn, paths, n, opts, out);
}
