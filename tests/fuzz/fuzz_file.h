/* tests/fuzz/fuzz_file.h — shared by the fuzz targets: the loaders read paths, so each input is
 * written to a per-process scratch file (under $TMPDIR, else /tmp) before the loader runs. */
#ifndef NABLA_TESTS_FUZZ_FILE_H
#define NABLA_TESTS_FUZZ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Write data to a scratch file whose name ends in `suffix` and return its path (static storage,
 * the same path on every call with the same suffix); NULL when the file cannot be written. */
static inline const char *fuzz_write_file(const char *suffix, const uint8_t *data, size_t size)
{
    static char path[4096];
    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/nabla-fuzz-%ld%s", dir && *dir ? dir : "/tmp", (long)getpid(),
             suffix);
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return NULL;
    int ok = size == 0 || fwrite(data, 1, size, fp) == size;
    ok = (fclose(fp) == 0) && ok;
    return ok ? path : NULL;
}

#endif
