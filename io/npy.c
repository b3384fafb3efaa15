/* io/npy.c — NumPy .npy export and import (format 1.0 written; 1.0, 2.0 and 3.0 read). */
#include "file_util.h"
#include "nabla/io.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char NPY_MAGIC[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

static const char *descr_of(nb_dtype dtype)
{
    switch (dtype) {
    case NB_F32:
        return "<f4";
    case NB_F64:
        return "<f8";
    case NB_I64:
        return "<i8";
    }
    return NULL;
}

nb_status nb_npy_save(const char *path, const nb_tensor *t)
{
    const char *fn = "nb_npy_save";
    if (!t)
        return nb_set_error(NB_ERR_VALUE, "%s: tensor is NULL", fn);
    if (!nb_tensor_is_live(t))
        return nb_set_error(NB_ERR_STATE,
                            "%s: the tensor is an op result of a step that has ended (nothing "
                            "written to %s)",
                            fn, path ? path : "(null)");
    nb_dtype dtype = nb_tensor_dtype(t);
    int ndim = nb_tensor_ndim(t);
    const int64_t *shape = nb_tensor_shape(t);
    /* dict, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } */
    char dict[512];
    int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                       descr_of(dtype));
    for (int d = 0; d < ndim; d++)
        len += snprintf(dict + len, sizeof dict - (size_t)len, "%" PRId64 "%s", shape[d],
                        ndim == 1 ? "," : (d + 1 < ndim ? ", " : ""));
    len += snprintf(dict + len, sizeof dict - (size_t)len, "), }");
    /* pad with spaces and a final newline so that data starts at a multiple of 64 bytes */
    size_t total = 10 + (size_t)len + 1;
    size_t padded = (total + 63) / 64 * 64;
    unsigned char head[10 + sizeof dict + 64];
    memcpy(head, NPY_MAGIC, 6);
    head[6] = 1;
    head[7] = 0;
    size_t hlen = padded - 10;
    head[8] = (unsigned char)(hlen & 0xff);
    head[9] = (unsigned char)(hlen >> 8);
    memcpy(head + 10, dict, (size_t)len);
    memset(head + 10 + len, ' ', padded - 10 - (size_t)len - 1);
    head[padded - 1] = '\n';

    nb_tensor *tmp = NULL;
    const nb_tensor *src = t;
    if (!nb_tensor_is_contiguous(t)) {
        tmp = nb_tensor_copy(t);
        if (!tmp)
            return nb_last_status();
        src = tmp;
    }
    nbi_atomic_file af;
    nb_status st = nbi_atomic_open(&af, fn, path);
    if (st == NB_OK)
        st = nbi_atomic_write(&af, head, padded);
    size_t esz = nb_dtype_size(dtype), numel = (size_t)nb_tensor_numel(src);
    const unsigned char *data = nb_tensor_data((nb_tensor *)(uintptr_t)src);
    if (st == NB_OK && nbi_host_le()) {
        st = nbi_atomic_write(&af, data, numel * esz);
    } else if (st == NB_OK) {
        unsigned char buf[4096];
        for (size_t i = 0; st == NB_OK && i < numel; i += sizeof buf / esz) {
            size_t k = numel - i < sizeof buf / esz ? numel - i : sizeof buf / esz;
            nbi_swap_copy(buf, data + i * esz, k, esz);
            st = nbi_atomic_write(&af, buf, k * esz);
        }
    }
    if (st == NB_OK)
        st = nbi_atomic_commit(&af);
    else
        nbi_atomic_abort(&af);
    nb_tensor_free(tmp);
    return st;
}

/* ---- reading: a small parser for the header dict ---- */
static const char *skip_space(const char *p)
{
    while (*p && isspace((unsigned char)*p))
        p++;
    return p;
}

/* Position just after "'key':" in the dict (spaces skipped), NULL if absent. */
static const char *find_key(const char *dict, const char *key)
{
    size_t n = strlen(key);
    for (const char *p = strchr(dict, '\''); p; p = strchr(p + 1, '\'')) {
        if (!strncmp(p + 1, key, n) && p[n + 1] == '\'') {
            const char *q = skip_space(p + n + 2);
            return *q == ':' ? skip_space(q + 1) : NULL;
        }
    }
    return NULL;
}

nb_tensor *nb_npy_load(const char *path)
{
    const char *fn = "nb_npy_load";
    unsigned char *buf;
    size_t size;
    if (nbi_read_file(fn, path, &buf, &size) != NB_OK)
        return NULL;
    nb_tensor *t = NULL;
    char *dict = NULL;
    if (size < 10 || memcmp(buf, NPY_MAGIC, 6) != 0) {
        nb_set_error(NB_ERR_FORMAT, "%s: %s: not a .npy file (bad magic)", fn, path);
        goto done;
    }
    int major = buf[6];
    size_t hlen, hstart;
    if (major == 1) {
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
        hstart = 10;
    } else if ((major == 2 || major == 3) && size >= 12) {
        hlen = nbi_get_u32le(buf + 8);
        hstart = 12;
    } else {
        nb_set_error(NB_ERR_FORMAT, "%s: %s: .npy format version %d.%d is not supported", fn, path,
                     major, buf[7]);
        goto done;
    }
    if (hlen > size - hstart) {
        nb_set_error(NB_ERR_FORMAT, "%s: %s: truncated header (%zu of %zu bytes)", fn, path,
                     size - hstart, hlen);
        goto done;
    }
    dict = nb_malloc(hlen + 1);
    if (!dict) {
        nb_set_error(NB_ERR_NOMEM, "%s: out of memory reading %s", fn, path);
        goto done;
    }
    memcpy(dict, buf + hstart, hlen);
    dict[hlen] = '\0';
    if (strlen(dict) != hlen) {
        nb_set_error(NB_ERR_FORMAT, "%s: %s: header contains a NUL byte", fn, path);
        goto done;
    }
    /* descr */
    const char *v = find_key(dict, "descr");
    char descr[8] = {0};
    if (v && (*v == '\'' || *v == '"')) {
        const char *end = strchr(v + 1, *v);
        if (end && end - v - 1 < (ptrdiff_t)sizeof descr)
            memcpy(descr, v + 1, (size_t)(end - v - 1));
    }
    nb_dtype dtype;
    bool big = descr[0] == '>';
    if ((descr[0] == '<' || descr[0] == '>' || descr[0] == '=') && !strcmp(descr + 1, "f4"))
        dtype = NB_F32;
    else if ((descr[0] == '<' || descr[0] == '>' || descr[0] == '=') && !strcmp(descr + 1, "f8"))
        dtype = NB_F64;
    else if ((descr[0] == '<' || descr[0] == '>' || descr[0] == '=') && !strcmp(descr + 1, "i8"))
        dtype = NB_I64;
    else {
        nb_set_error(NB_ERR_FORMAT,
                     "%s: %s: dtype '%s' is not supported (nabla reads '<f4', '<f8', '<i8')", fn,
                     path, v ? descr : "(missing)");
        goto done;
    }
    bool swap = descr[0] == '=' ? false : big == nbi_host_le();
    /* fortran_order */
    v = find_key(dict, "fortran_order");
    if (!v || (strncmp(v, "False", 5) != 0 && strncmp(v, "True", 4) != 0)) {
        nb_set_error(NB_ERR_FORMAT, "%s: %s: header has no valid 'fortran_order'", fn, path);
        goto done;
    }
    if (v[0] == 'T') {
        nb_set_error(NB_ERR_FORMAT, "%s: %s: Fortran-order arrays are not supported", fn, path);
        goto done;
    }
    /* shape */
    v = find_key(dict, "shape");
    int ndim = 0;
    int64_t shape[NB_MAX_DIMS];
    if (!v || *v != '(') {
        nb_set_error(NB_ERR_FORMAT, "%s: %s: header has no valid 'shape'", fn, path);
        goto done;
    }
    v = skip_space(v + 1);
    while (*v != ')') {
        if (!isdigit((unsigned char)*v) || ndim == NB_MAX_DIMS) {
            nb_set_error(NB_ERR_FORMAT, "%s: %s: bad or too long shape in header (at most %d dims)",
                         fn, path, NB_MAX_DIMS);
            goto done;
        }
        char *end;
        unsigned long long d = strtoull(v, &end, 10);
        if (d > ((unsigned long long)1 << 60)) {
            nb_set_error(NB_ERR_FORMAT, "%s: %s: dimension %llu is too large", fn, path, d);
            goto done;
        }
        shape[ndim++] = (int64_t)d;
        v = skip_space(end);
        if (*v == ',')
            v = skip_space(v + 1);
        else if (*v != ')') {
            nb_set_error(NB_ERR_FORMAT, "%s: %s: bad shape in header", fn, path);
            goto done;
        }
    }
    /* The shape must be one a tensor can have: the product of its dims, zero dims counted as 1
     * (what the strides of even an empty tensor span), at most 2^60. Then the data size must
     * match the shape exactly. */
    size_t esz = nb_dtype_size(dtype), avail = size - hstart - hlen;
    uint64_t numel = 1, span = 1;
    bool too_large = false;
    for (int d = 0; d < ndim; d++) {
        uint64_t k = shape[d] ? (uint64_t)shape[d] : 1;
        too_large = too_large || span > ((uint64_t)1 << 60) / k;
        span = too_large ? span : span * k;
        numel *= too_large ? 1 : (uint64_t)shape[d];
    }
    if (too_large || numel * esz != avail) {
        char sh[200];
        int pos = 0;
        for (int d = 0; d < ndim && pos < 180; d++)
            pos +=
                snprintf(sh + pos, sizeof sh - (size_t)pos, "%s%" PRId64, d ? ", " : "", shape[d]);
        sh[pos] = '\0';
        if (too_large)
            nb_set_error(NB_ERR_FORMAT,
                         "%s: %s: shape (%s) is too large (its nonzero dims multiply past 2^60)",
                         fn, path, sh);
        else
            nb_set_error(NB_ERR_FORMAT,
                         "%s: %s: shape (%s) needs %" PRIu64 " data bytes but the file has %zu", fn,
                         path, sh, numel * esz, avail);
        goto done;
    }
    t = nb_tensor_new(dtype, ndim, shape);
    if (t) {
        if (swap)
            nbi_swap_copy(nb_tensor_data(t), buf + hstart + hlen, (size_t)numel, esz);
        else
            memcpy(nb_tensor_data(t), buf + hstart + hlen, avail);
    }
done:
    nb_free(dict);
    nb_free(buf);
    return t;
}
