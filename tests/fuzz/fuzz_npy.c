/* tests/fuzz/fuzz_npy.c — libFuzzer target for the NumPy .npy reader (nb_npy_load). Every input
 * must either load or fail with a status and a message; the sanitizers catch crashes, overflows
 * and leaks. */
#include <nabla.h>

#include <assert.h>
#include <stdio.h>

#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file(".npy", data, size);
    if (!path)
        return 0;
    nb_clear_error();
    nb_tensor *t = nb_npy_load(path);
    assert(t || (nb_last_status() != NB_OK && nb_last_error()[0]));
    nb_tensor_free(t);
    nb_clear_error();
    remove(path);
    return 0;
}
