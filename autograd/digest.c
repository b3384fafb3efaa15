/* autograd/digest.c — 64-bit content digests (XXH3). The only file that talks to xxHash. */
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t's size, to allocate it through nbi_malloc */
#include <xxhash.h>

#include "nabla/io.h"
#include "tensor_impl.h"

#include <stdint.h>

struct nb_digest {
    void *block;         /* what nbi_malloc returned */
    XXH3_state_t *state; /* inside block, 64-byte aligned as XXH3 requires */
};

uint64_t nb_digest64(const void *data, size_t size, uint64_t seed)
{
    static const char empty[1] = {0};
    return XXH3_64bits_withSeed(size ? data : empty, size, seed);
}

nb_digest *nb_digest_new(uint64_t seed)
{
    nb_digest *d = nbi_malloc(sizeof *d);
    void *block = d ? nbi_malloc(sizeof(XXH3_state_t) + 64) : NULL;
    if (!block) {
        nbi_free(d);
        return nbi_oom("nb_digest_new", sizeof(XXH3_state_t) + 64 + sizeof *d);
    }
    uintptr_t p = ((uintptr_t)block + 63) & ~(uintptr_t)63;
    d->block = block;
    d->state = (XXH3_state_t *)p;
    XXH3_INITSTATE(d->state);
    XXH3_64bits_reset_withSeed(d->state, seed);
    return d;
}

void nb_digest_update(nb_digest *d, const void *data, size_t size)
{
    if (d && size)
        XXH3_64bits_update(d->state, data, size);
}

uint64_t nb_digest_value(const nb_digest *d)
{
    return d ? XXH3_64bits_digest(d->state) : 0;
}

void nb_digest_free(nb_digest *d)
{
    if (!d)
        return;
    nbi_free(d->block);
    nbi_free(d);
}
