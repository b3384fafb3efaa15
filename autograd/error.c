/* autograd/error.c — per-thread last error, the allocation funnel (with fault injection),
 * the internal assert, status and dtype names. */
#include "tensor_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local nb_status last_status = NB_OK;
static _Thread_local char last_msg[1024];
static _Thread_local long alloc_count = 0;
static _Thread_local long fail_at = 0; /* absolute alloc count that fails; 0 = never */

const char *nb_last_error(void)
{
    return last_status == NB_OK ? "" : last_msg;
}

nb_status nb_last_status(void)
{
    return last_status;
}

void nb_clear_error(void)
{
    last_status = NB_OK;
    last_msg[0] = '\0';
}

bool nbi_error_pending(void)
{
    return last_status != NB_OK;
}

nb_status nbi_error(nb_status status, const char *fmt, ...)
{
    if (last_status != NB_OK)
        return status; /* keep the first message */
    last_status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_msg, sizeof last_msg, fmt, ap);
    va_end(ap);
    return status;
}

nb_status nb_set_error(nb_status status, const char *fmt, ...)
{
    if (last_status != NB_OK || status == NB_OK)
        return status;
    last_status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_msg, sizeof last_msg, fmt ? fmt : "", ap);
    va_end(ap);
    return status;
}

_Noreturn void nbi_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "nabla: internal error: assertion '%s' failed at %s:%d\n", expr, file, line);
    abort();
}

const char *nb_status_name(nb_status status)
{
    switch (status) {
    case NB_OK:
        return "ok";
    case NB_ERR_SHAPE:
        return "shape error";
    case NB_ERR_DTYPE:
        return "dtype error";
    case NB_ERR_VALUE:
        return "value error";
    case NB_ERR_NOMEM:
        return "out of memory";
    case NB_ERR_IO:
        return "I/O error";
    case NB_ERR_FORMAT:
        return "format error";
    case NB_ERR_STATE:
        return "state error";
    }
    return "unknown error";
}

size_t nb_dtype_size(nb_dtype dtype)
{
    switch (dtype) {
    case NB_F32:
        return 4;
    case NB_F64:
        return 8;
    case NB_I64:
        return 8;
    }
    return 0;
}

const char *nb_dtype_name(nb_dtype dtype)
{
    switch (dtype) {
    case NB_F32:
        return "f32";
    case NB_F64:
        return "f64";
    case NB_I64:
        return "i64";
    }
    return "?";
}

/* ---- allocation funnel ---- */
void nb_debug_fail_alloc_after(long n)
{
    fail_at = n > 0 ? alloc_count + n : 0;
}

long nb_debug_alloc_count(void)
{
    return alloc_count;
}

static bool should_fail(void)
{
    alloc_count++;
    if (fail_at != 0 && alloc_count == fail_at) {
        fail_at = 0;
        return true;
    }
    return false;
}

void *nbi_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *nbi_calloc(size_t count, size_t size)
{
    if (should_fail())
        return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *nbi_calloc_aligned(size_t bytes)
{
    if (should_fail())
        return NULL;
    const size_t n = bytes ? (bytes + 63) & ~(size_t)63 : 64;
    if (n < bytes) /* overflow */
        return NULL;
    void *p = aligned_alloc(64, n);
    if (p)
        memset(p, 0, n);
    return p;
}

void *nbi_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

void nbi_free(void *p)
{
    free(p);
}

void *nb_malloc(size_t size)
{
    return nbi_malloc(size);
}

void *nb_calloc(size_t count, size_t size)
{
    return nbi_calloc(count, size);
}

void *nb_realloc(void *p, size_t size)
{
    return nbi_realloc(p, size);
}

void nb_free(void *p)
{
    nbi_free(p);
}

void *nbi_oom(const char *fn, size_t bytes)
{
    nbi_error(NB_ERR_NOMEM, "%s: out of memory allocating %zu bytes", fn, bytes);
    return NULL;
}

bool nbi_mul_overflow(int64_t a, int64_t b, int64_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}
