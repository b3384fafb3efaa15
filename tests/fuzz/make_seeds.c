/* tests/fuzz/make_seeds.c — writes the seed corpora of the fuzz targets: small valid files of
 * each format, so that fuzzing starts from inputs that pass the magic and size checks.
 *   make_seeds DIR   -> DIR/idx (raw and gzip IDX), DIR/cifar, DIR/checkpoint, DIR/npy
 * Checkpoint seeds are written without their trailing digest (fuzz_checkpoint appends it). */
#include <nabla.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

static int write_bytes(const char *dir, const char *name, const unsigned char *b, size_t n, int gz)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (gz) {
        gzFile f = gzopen(path, "wb");
        if (!f || gzwrite(f, b, (unsigned)n) != (int)n) {
            if (f)
                gzclose(f);
            return -1;
        }
        return gzclose(f) == Z_OK ? 0 : -1;
    }
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    size_t put = fwrite(b, 1, n, fp);
    return (fclose(fp) == 0 && put == n) ? 0 : -1;
}

/* IDX unsigned-byte file: magic, big-endian dims, bytes (i * 7) % 256. */
static int idx_seed(const char *dir, const char *name, int nd, const uint32_t *dims, int gz)
{
    size_t n = 1;
    for (int i = 0; i < nd; i++)
        n *= dims[i];
    size_t size = 4 + 4 * (size_t)nd + n;
    unsigned char *b = malloc(size);
    if (!b)
        return -1;
    b[0] = 0;
    b[1] = 0;
    b[2] = 0x08;
    b[3] = (unsigned char)nd;
    for (int i = 0; i < nd; i++)
        for (int k = 0; k < 4; k++)
            b[4 + 4 * i + k] = (unsigned char)(dims[i] >> (24 - 8 * k));
    for (size_t i = 0; i < n; i++)
        b[4 + 4 * (size_t)nd + i] = (unsigned char)((i * 7) % 256);
    int r = write_bytes(dir, name, b, size, gz);
    free(b);
    return r;
}

static int cifar_seed(const char *dir, const char *name, int records)
{
    size_t size = (size_t)records * 3073;
    unsigned char *b = malloc(size);
    if (!b)
        return -1;
    for (size_t i = 0; i < size; i++)
        b[i] = (unsigned char)((i * 11) % 256);
    for (int r = 0; r < records; r++)
        b[(size_t)r * 3073] = (unsigned char)(r % 10);
    int res = write_bytes(dir, name, b, size, 0);
    free(b);
    return res;
}

static int checkpoint_seed(const char *dir, const char *name, int which)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.full", dir, name);
    nb_tensor *w = nb_tensor_zeros(NB_F32, 2, (const int64_t[]){2, 3});
    nb_tensor *b = nb_tensor_zeros(NB_F64, 1, (const int64_t[]){3});
    nb_tensor *k = nb_tensor_zeros(NB_I64, 0, NULL);
    int r = -1;
    if (w && b && k) {
        for (int i = 0; i < 6; i++)
            nb_tensor_data_f32(w)[i] = 0.5f * (float)i - 1.0f;
        nb_named_tensor all[3] = {{"w", w}, {"b", b}, {"step", k}};
        nb_named_tensor one[1] = {{"w", w}};
        if (nb_checkpoint_save(path, which ? one : all, which ? 1 : 3) == NB_OK) {
            FILE *fp = fopen(path, "rb");
            unsigned char buf[4096];
            size_t n = fp ? fread(buf, 1, sizeof buf, fp) : 0;
            if (fp)
                fclose(fp);
            if (n > 8)
                r = write_bytes(dir, name, buf, n - 8, 0);
        }
        remove(path);
    }
    nb_tensor_free(w);
    nb_tensor_free(b);
    nb_tensor_free(k);
    return r;
}

static int npy_seed(const char *dir, const char *name, nb_dtype dtype, int ndim,
                    const int64_t *shape)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    nb_tensor *t = nb_tensor_zeros(dtype, ndim, shape);
    int r = t && nb_npy_save(path, t) == NB_OK ? 0 : -1;
    nb_tensor_free(t);
    return r;
}

static int make_dir(const char *base, const char *sub, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", base, sub);
    return (mkdir(out, 0755) == 0 || errno == EEXIST) ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 2 || !strcmp(argv[1], "--help")) {
        fprintf(stderr,
                "usage: %s DIR\n  writes seed corpora to DIR/idx, DIR/cifar, "
                "DIR/checkpoint and DIR/npy\n",
                argv[0]);
        return argc == 2 ? 0 : 2;
    }
    char idx[4096], cifar[4096], ckpt[4096], npy[4096];
    if ((mkdir(argv[1], 0755) != 0 && errno != EEXIST) ||
        make_dir(argv[1], "idx", idx, sizeof idx) ||
        make_dir(argv[1], "cifar", cifar, sizeof cifar) ||
        make_dir(argv[1], "checkpoint", ckpt, sizeof ckpt) ||
        make_dir(argv[1], "npy", npy, sizeof npy)) {
        fprintf(stderr, "make_seeds: cannot create directories under %s\n", argv[1]);
        return 1;
    }
    int bad = 0;
    bad |= idx_seed(idx, "labels-1d", 1, (const uint32_t[]){5}, 0);
    bad |= idx_seed(idx, "images-3d", 3, (const uint32_t[]){2, 3, 4}, 0);
    bad |= idx_seed(idx, "images-3d-gz", 3, (const uint32_t[]){2, 3, 4}, 1);
    bad |= idx_seed(idx, "labels-1d-gz", 1, (const uint32_t[]){7}, 1);
    bad |= idx_seed(idx, "tensor-4d", 4, (const uint32_t[]){1, 2, 2, 2}, 0);
    bad |= cifar_seed(cifar, "one-record", 1);
    bad |= cifar_seed(cifar, "two-records", 2);
    bad |= checkpoint_seed(ckpt, "three-tensors", 0);
    bad |= checkpoint_seed(ckpt, "one-tensor", 1);
    bad |= npy_seed(npy, "f32-2x3.npy", NB_F32, 2, (const int64_t[]){2, 3});
    bad |= npy_seed(npy, "f64-4.npy", NB_F64, 1, (const int64_t[]){4});
    bad |= npy_seed(npy, "i64-scalar.npy", NB_I64, 0, NULL);
    if (bad) {
        fprintf(stderr, "make_seeds: writing a seed failed: %s\n", nb_last_error());
        return 1;
    }
    printf("make_seeds: wrote seeds to %s/{idx,cifar,checkpoint,npy}\n", argv[1]);
    return 0;
}
