/* tests/support/nbt_files.h — file helpers for the I/O tests: whole-file read/write (raw or
 * gzip), fresh temp directories, and generators of small IDX and CIFAR-10 files written byte by
 * byte (independently of the library's own writers, so that readers are tested against the
 * formats themselves). */
#ifndef NABLA_TESTS_NBT_FILES_H
#define NABLA_TESTS_NBT_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whole file into a buffer to free with nbt_free (tests are built with cmocka's allocation
 * checker, which must not see this buffer); NULL if it cannot be read. */
unsigned char *nbt_read_all(const char *path, size_t *size);
void nbt_free(void *p);
/* Write bytes to path (raw); false on failure. */
bool nbt_write_all(const char *path, const void *data, size_t size);
/* Write bytes gzip-compressed (zlib's gzip writer); false on failure. */
bool nbt_write_gz(const char *path, const void *data, size_t size);
/* True when the file exists and holds exactly these bytes. */
bool nbt_file_equals(const char *path, const void *data, size_t size);
/* A new empty directory under $NB_TEST_TMPDIR; returned pointer is static per call. */
const char *nbt_tmp_dir(const char *tag);
/* Number of entries in dir whose name contains `part`. */
int nbt_count_files(const char *dir, const char *part);
/* Remove dir and the regular files directly inside it. */
void nbt_remove_dir(const char *dir);

/* IDX bytes: magic 0 0 `type` `ndims`, big-endian u32 dims, then `data_len` data bytes.
 * Returns a malloc'd buffer of *size bytes. */
unsigned char *nbt_idx_bytes(uint8_t type, int ndims, const uint32_t *dims, const uint8_t *data,
                             size_t data_len, size_t *size);

/* A small MNIST-like set: n images of h x w with labels; image i has pixel (r, c) =
 * (i * 7 + r * 3 + c) % 256 and label i % n_classes. Writes images and labels as IDX, gzipped
 * when gz. */
bool nbt_write_mnist_like(const char *images_path, const char *labels_path, int n, int h, int w,
                          int n_classes, bool gz);
/* The pixel and label nbt_write_mnist_like writes. */
static inline uint8_t nbt_mnist_pixel(int i, int r, int c)
{
    return (uint8_t)((i * 7 + r * 3 + c) % 256);
}

/* A CIFAR-10 binary batch of n records: label (i + label_offset) % 10, channel ch pixel p =
 * (i * 11 + ch * 5 + p) % 256. */
bool nbt_write_cifar(const char *path, int n, int label_offset);
static inline uint8_t nbt_cifar_pixel(int i, int ch, int p)
{
    return (uint8_t)((i * 11 + ch * 5 + p) % 256);
}

#endif
