/* autograd/arena.c — the step arena: bump allocation in chunks, reset all at once.
 *
 * After a step that needed several chunks, reset() replaces them by one chunk as large as the
 * high-water mark, so a training loop in steady state allocates nothing. Debug builds
 * (NB_DEBUG_POISON) fill freed memory with 0xA5 so a stale pointer shows up as garbage. */
#include "tensor_impl.h"

#include <string.h>
#ifdef __GLIBC__
#include <malloc.h> /* malloc_trim */
#endif

#define ALIGN     64
#define MIN_CHUNK ((size_t)1 << 20)

/* A chunk is one allocation: this header, then `size` usable bytes starting at `data`, the
 * first ALIGN-aligned address after the header (malloc only guarantees 16-byte alignment, so
 * the allocation has ALIGN spare bytes). */
typedef struct chunk {
    struct chunk *next;
    size_t size, used;
    unsigned char *data;
} chunk;

struct nbi_arena {
    chunk *head;       /* current chunk (newest) */
    size_t total;      /* bytes in all chunks */
    size_t used_total; /* bytes handed out since reset */
    size_t high_water;
};

nbi_arena *nbi_arena_new(void)
{
    nbi_arena *a = nbi_calloc(1, sizeof *a);
    return a ? a : nbi_oom("nb_step_new", sizeof *a);
}

static chunk *chunk_new(size_t size)
{
    if (size > SIZE_MAX - sizeof(chunk) - ALIGN)
        return NULL;
    chunk *c = nbi_malloc(sizeof(chunk) + ALIGN + size);
    if (!c)
        return NULL;
    uintptr_t start = (uintptr_t)(c + 1);
    c->data = (unsigned char *)(c + 1) + ((ALIGN - start % ALIGN) % ALIGN);
    c->next = NULL;
    c->size = size;
    c->used = 0;
    return c;
}

void *nbi_arena_alloc_uninit(nbi_arena *a, size_t bytes)
{
    size_t need = (bytes + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (need < bytes)
        return NULL;
    chunk *c = a->head;
    if (!c || c->size - c->used < need) {
        size_t size = a->total > MIN_CHUNK ? a->total : MIN_CHUNK;
        if (size < need)
            size = need;
        chunk *n = chunk_new(size);
        if (!n)
            return NULL;
        n->next = c;
        a->head = c = n;
        a->total += size;
    }
    void *p = c->data + c->used;
    c->used += need;
    a->used_total += need;
    if (a->used_total > a->high_water)
        a->high_water = a->used_total;
#ifdef NB_DEBUG_POISON
    memset(p, 0xFF, bytes); /* NaN in every float: reading before writing shows */
#endif
    return p;
}

void *nbi_arena_alloc(nbi_arena *a, size_t bytes)
{
    void *p = nbi_arena_alloc_uninit(a, bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

bool nbi_arena_release_top(nbi_arena *a, void *p, size_t bytes)
{
    const size_t need = (bytes + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    chunk *c = a ? a->head : NULL;
    if (!c || !p || need > c->used || (unsigned char *)p != c->data + c->used - need)
        return false;
    c->used -= need;
    a->used_total -= need;
    return true;
}

void nbi_arena_reset(nbi_arena *a, bool poison)
{
    if (!a)
        return;
    if (a->head && a->head->next) {
        /* several chunks: replace by one of the high-water size */
        for (chunk *c = a->head; c;) {
            chunk *n = c->next;
            nbi_free(c);
            c = n;
        }
        a->head = NULL;
        a->total = 0;
#ifdef __GLIBC__
        /* The smaller chunks came from the heap, where glibc keeps freed memory resident: give
         * it back before the big chunk is mapped, or the process holds both (this happens once,
         * when a step outgrows the arena). */
        malloc_trim(0);
#endif
        chunk *one = chunk_new(a->high_water);
        if (one) { /* on failure the next alloc simply grows again */
            a->head = one;
            a->total = one->size;
        }
    } else if (a->head) {
        if (poison)
            memset(a->head->data, 0xA5, a->head->used);
        a->head->used = 0;
    }
    a->used_total = 0;
}

size_t nbi_arena_capacity(const nbi_arena *a)
{
    return a ? a->total : 0;
}

void nbi_arena_free(nbi_arena *a)
{
    if (!a)
        return;
    for (chunk *c = a->head; c;) {
        chunk *n = c->next;
        nbi_free(c);
        c = n;
    }
    nbi_free(a);
}
