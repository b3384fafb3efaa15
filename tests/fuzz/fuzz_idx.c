/* tests/fuzz/fuzz_idx.c — libFuzzer target for the IDX reader (raw and gzip, detected by the
 * magic): nb_idx_load as f32 and i64, and nb_idx_load_dataset with the input as both the image
 * file and the label file. Every input must either load or fail with a status and a message;
 * the sanitizers catch crashes, overflows and leaks. */
#include <nabla.h>

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file(".idx", data, size);
    if (!path)
        return 0;
    nb_clear_error();
    nb_tensor *t = nb_idx_load(path, NB_F32, 1.0 / 255);
    assert(t || (nb_last_status() != NB_OK && nb_last_error()[0]));
    nb_tensor_free(t);
    nb_clear_error();
    t = nb_idx_load(path, NB_I64, 1.0);
    assert(t || nb_last_status() != NB_OK);
    nb_tensor_free(t);

    nb_clear_error();
    nb_dataset ds;
    nb_load_opts opts = {.layout = NB_LAYOUT_FLAT, .max_samples = 3};
    nb_status st = nb_idx_load_dataset(path, path, 256, &opts, &ds);
    assert(st == NB_OK || nb_last_status() == st);
    if (st == NB_OK)
        nb_dataset_deinit(&ds);
    nb_clear_error();
    remove(path);
    return 0;
}
