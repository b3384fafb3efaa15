/* tests/fuzz/fuzz_checkpoint.c — libFuzzer target for the checkpoint reader. A checkpoint ends in
 * an XXH3-64 digest of everything before it, which random bytes almost never match, so the target
 * treats the input as the file without its digest and appends the right one: every mutation then
 * reaches the parser (the digest check itself is covered by tests/nn/test_state.c, which flips
 * every bit of a file). It reads the table of contents, loads a fixed destination list and loads
 * the first listed tensor by name. Everything must load or fail cleanly. */
#include <nabla.h>

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    uint8_t *file = malloc(size + 8);
    if (!file)
        return 0;
    if (size)
        memcpy(file, data, size);
    uint64_t d = nb_digest64(data, size, 0);
    for (int i = 0; i < 8; i++)
        file[size + (size_t)i] = (uint8_t)(d >> (8 * i));
    const char *path = fuzz_write_file(".ckpt", file, size + 8);
    free(file);
    if (!path)
        return 0;

    nb_clear_error();
    nb_checkpoint_toc *toc = nb_checkpoint_read_toc(path);
    assert(toc || (nb_last_status() != NB_OK && nb_last_error()[0]));
    if (toc && toc->count > 0) {
        nb_clear_error();
        nb_tensor *t = nb_checkpoint_load_tensor(path, toc->entries[0].name);
        assert(t || nb_last_status() != NB_OK);
        nb_tensor_free(t);
    }
    nb_checkpoint_toc_free(toc);

    nb_tensor *w = nb_tensor_zeros(NB_F32, 2, (const int64_t[]){2, 3});
    nb_tensor *b = nb_tensor_zeros(NB_F64, 1, (const int64_t[]){3});
    nb_tensor *k = nb_tensor_zeros(NB_I64, 0, NULL);
    if (w && b && k) {
        nb_named_tensor dst[3] = {{"w", w}, {"b", b}, {"step", k}};
        nb_clear_error();
        nb_status st = nb_checkpoint_load(path, dst, 3);
        assert(st == NB_OK || nb_last_status() == st);
    }
    nb_tensor_free(w);
    nb_tensor_free(b);
    nb_tensor_free(k);
    nb_clear_error();
    remove(path);
    return 0;
}
