/* tests/fuzz/fuzz_cifar.c — libFuzzer target for the CIFAR-10 binary batch reader
 * (nb_cifar10_load_file) in its three layouts. Every input must either load or fail with a
 * status and a message; the sanitizers catch crashes, overflows and leaks. */
#include <nabla.h>

#include <assert.h>
#include <stdio.h>

#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file(".bin", data, size);
    if (!path)
        return 0;
    nb_layout layout = size ? (nb_layout)(data[size - 1] % 3) : NB_LAYOUT_DEFAULT;
    nb_load_opts opts = {.layout = layout, .max_samples = size % 2 ? 1 : 0};
    nb_dataset ds;
    nb_clear_error();
    nb_status st = nb_cifar10_load_file(path, &opts, &ds);
    assert(st == NB_OK || (nb_last_status() == st && nb_last_error()[0]));
    if (st == NB_OK) {
        assert(nb_dataset_size(&ds) >= 1);
        nb_dataset_deinit(&ds);
    }
    nb_clear_error();
    remove(path);
    return 0;
}
