/* tests/support/nbt_files.c — file helpers and small dataset generators for the I/O tests. */
#include "support/nbt_files.h"
#include "support/nbt.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

unsigned char *nbt_read_all(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    size_t cap = 4096, n = 0;
    unsigned char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, fp)) > 0) {
        n += got;
        if (n == cap) {
            unsigned char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(fp);
    *size = n;
    return buf;
}

void nbt_free(void *p)
{
    free(p);
}

bool nbt_write_all(const char *path, const void *data, size_t size)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return false;
    bool ok = fwrite(data, 1, size, fp) == size;
    return fclose(fp) == 0 && ok;
}

bool nbt_write_gz(const char *path, const void *data, size_t size)
{
    gzFile gz = gzopen(path, "wb6");
    if (!gz)
        return false;
    bool ok = size == 0 || gzwrite(gz, data, (unsigned)size) == (int)size;
    return gzclose(gz) == Z_OK && ok;
}

bool nbt_file_equals(const char *path, const void *data, size_t size)
{
    size_t n;
    unsigned char *buf = nbt_read_all(path, &n);
    bool eq = buf && n == size && memcmp(buf, data, size) == 0;
    free(buf);
    return eq;
}

const char *nbt_tmp_dir(const char *tag)
{
    static char dir[512];
    snprintf(dir, sizeof dir, "%s", nbt_tmp_path(tag));
    if (mkdir(dir, 0777) != 0)
        return NULL;
    return dir;
}

int nbt_count_files(const char *dir, const char *part)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, part))
            n++;
    closedir(d);
    return n;
}

void nbt_remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[1024];
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

unsigned char *nbt_idx_bytes(uint8_t type, int ndims, const uint32_t *dims, const uint8_t *data,
                             size_t data_len, size_t *size)
{
    size_t n = 4 + 4 * (size_t)ndims + data_len;
    unsigned char *b = malloc(n ? n : 1);
    if (!b)
        return NULL;
    b[0] = 0;
    b[1] = 0;
    b[2] = type;
    b[3] = (uint8_t)ndims;
    for (int i = 0; i < ndims; i++) {
        b[4 + 4 * i] = (uint8_t)(dims[i] >> 24);
        b[5 + 4 * i] = (uint8_t)(dims[i] >> 16);
        b[6 + 4 * i] = (uint8_t)(dims[i] >> 8);
        b[7 + 4 * i] = (uint8_t)dims[i];
    }
    if (data_len)
        memcpy(b + 4 + 4 * ndims, data, data_len);
    *size = n;
    return b;
}

static bool write_bytes(const char *path, const void *data, size_t size, bool gz)
{
    return gz ? nbt_write_gz(path, data, size) : nbt_write_all(path, data, size);
}

bool nbt_write_mnist_like(const char *images_path, const char *labels_path, int n, int h, int w,
                          int n_classes, bool gz)
{
    size_t npix = (size_t)n * (size_t)h * (size_t)w;
    uint8_t *pix = malloc(npix ? npix : 1), *lab = malloc(n ? (size_t)n : 1);
    if (!pix || !lab) {
        free(pix);
        free(lab);
        return false;
    }
    for (int i = 0; i < n; i++) {
        lab[i] = (uint8_t)(i % n_classes);
        for (int r = 0; r < h; r++)
            for (int c = 0; c < w; c++)
                pix[((size_t)i * (size_t)h + (size_t)r) * (size_t)w + (size_t)c] =
                    nbt_mnist_pixel(i, r, c);
    }
    uint32_t idims[3] = {(uint32_t)n, (uint32_t)h, (uint32_t)w}, ldims[1] = {(uint32_t)n};
    size_t isz, lsz;
    unsigned char *ib = nbt_idx_bytes(0x08, 3, idims, pix, npix, &isz);
    unsigned char *lb = nbt_idx_bytes(0x08, 1, ldims, lab, (size_t)n, &lsz);
    bool ok =
        ib && lb && write_bytes(images_path, ib, isz, gz) && write_bytes(labels_path, lb, lsz, gz);
    free(ib);
    free(lb);
    free(pix);
    free(lab);
    return ok;
}

bool nbt_write_cifar(const char *path, int n, int label_offset)
{
    size_t rec = 3073, size = rec * (size_t)n;
    uint8_t *b = malloc(size ? size : 1);
    if (!b)
        return false;
    for (int i = 0; i < n; i++) {
        uint8_t *r = b + rec * (size_t)i;
        r[0] = (uint8_t)((i + label_offset) % 10);
        for (int ch = 0; ch < 3; ch++)
            for (int p = 0; p < 1024; p++)
                r[1 + ch * 1024 + p] = nbt_cifar_pixel(i, ch, p);
    }
    bool ok = nbt_write_all(path, b, size);
    free(b);
    return ok;
}
