/* io/file_util.c — atomic file replacement, whole-file reads, path helpers for nn/. */
#include "file_util.h"
#include "nabla/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static _Thread_local unsigned tmp_counter = 0;

/* The pid in "<base>.tmp-<pid>-<n>" when `name` is a temp file for the target named base, else 0
 * (0 is no process; kill(0) would mean the process group). */
static pid_t temp_file_pid(const char *name, const char *base, size_t base_len)
{
    if (strncmp(name, base, base_len) != 0 || strncmp(name + base_len, ".tmp-", 5) != 0)
        return 0;
    const char *p = name + base_len + 5;
    long long pid = 0;
    for (; *p >= '0' && *p <= '9'; p++)
        if ((pid = pid * 10 + (*p - '0')) > INT_MAX)
            return 0;
    if (*p++ != '-' || !(*p >= '0' && *p <= '9'))
        return 0;
    while (*p >= '0' && *p <= '9')
        p++;
    return *p ? 0 : (pid_t)pid;
}

/* Remove the temp files of `path` ("<path>.tmp-<pid>-<n>") whose writer no longer runs: a save
 * killed mid-write leaves its temp file, and the next save of the same path removes it. A temp
 * file is removed only when kill(pid, 0) says no such process (ESRCH); this process's own and
 * those of running writers stay. `dir` is the directory part of path (scratch space reused by
 * the caller). Best effort: a directory that cannot be read is left alone. */
static void remove_dead_temp_files(const char *dir, const char *path)
{
    const char *base = nbi_basename(path);
    size_t base_len = strlen(base);
    DIR *d = base_len ? opendir(dir) : NULL;
    if (!d)
        return;
    const pid_t self = getpid();
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        pid_t pid = temp_file_pid(e->d_name, base, base_len);
        if (pid > 0 && pid != self && kill(pid, 0) != 0 && errno == ESRCH)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

/* Directory part of path ("." when none) into out (room for strlen(path) + 2 bytes). */
static void dir_into(const char *path, char *out)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        memcpy(out, ".", 2);
        return;
    }
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    memcpy(out, path, n);
    out[n] = '\0';
}

nb_status nbi_atomic_open(nbi_atomic_file *af, const char *fn, const char *path)
{
    memset(af, 0, sizeof *af);
    af->fn = fn;
    af->path = path;
    if (!path || !*path)
        return nb_set_error(NB_ERR_VALUE, "%s: path is %s", fn, path ? "empty" : "NULL");
    size_t len = strlen(path) + 64;
    af->tmp = nb_malloc(len);
    if (!af->tmp)
        return nb_set_error(NB_ERR_NOMEM, "%s: out of memory for the temp name of %s", fn, path);
    dir_into(path, af->tmp);
    remove_dead_temp_files(af->tmp, path);
    int fd = -1;
    for (int attempt = 0; attempt < 1000 && fd < 0; attempt++) {
        snprintf(af->tmp, len, "%s.tmp-%ld-%u", path, (long)getpid(), tmp_counter++);
        fd = open(af->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        nb_status st = nb_set_error(NB_ERR_IO, "%s: cannot create a temp file next to %s: %s", fn,
                                    path, strerror(errno));
        nb_free(af->tmp);
        af->tmp = NULL;
        return st;
    }
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        nb_status st = nb_set_error(NB_ERR_IO, "%s: cannot open temp file %s: %s", fn, af->tmp,
                                    strerror(errno));
        close(fd);
        nbi_atomic_abort(af);
        return st;
    }
    return NB_OK;
}

nb_status nbi_atomic_write(nbi_atomic_file *af, const void *data, size_t n)
{
    if (af->failed)
        return NB_ERR_IO;
    if (n == 0)
        return NB_OK;
    if (fwrite(data, 1, n, af->fp) != n) {
        af->failed = true;
        return nb_set_error(NB_ERR_IO, "%s: cannot write %s (temp file for %s): %s", af->fn,
                            af->tmp, af->path, strerror(errno));
    }
    return NB_OK;
}

/* Directory part of path ("." when none), nb_malloc'd. */
static char *dir_of(const char *path)
{
    char *d = nb_malloc(strlen(path) + 2);
    if (d)
        dir_into(path, d);
    return d;
}

nb_status nbi_atomic_commit(nbi_atomic_file *af)
{
    if (af->failed || !af->fp) {
        nbi_atomic_abort(af);
        return nb_set_error(NB_ERR_IO, "%s: write to %s failed", af->fn, af->path);
    }
    const char *what = NULL;
    if (fflush(af->fp) != 0)
        what = "flush";
    else if (fsync(fileno(af->fp)) != 0)
        what = "sync";
    if (what) {
        nb_status st = nb_set_error(NB_ERR_IO, "%s: cannot %s %s (temp file for %s): %s", af->fn,
                                    what, af->tmp, af->path, strerror(errno));
        nbi_atomic_abort(af);
        return st;
    }
    int rc = fclose(af->fp);
    af->fp = NULL;
    if (rc != 0) {
        nb_status st = nb_set_error(NB_ERR_IO, "%s: cannot close %s (temp file for %s): %s", af->fn,
                                    af->tmp, af->path, strerror(errno));
        nbi_atomic_abort(af);
        return st;
    }
    char *dir = dir_of(af->path); /* before the rename: after it, failing is no longer clean */
    if (!dir) {
        nbi_atomic_abort(af);
        return nb_set_error(NB_ERR_NOMEM, "%s: out of memory while saving %s", af->fn, af->path);
    }
    if (rename(af->tmp, af->path) != 0) {
        nb_status st = nb_set_error(NB_ERR_IO, "%s: cannot rename %s to %s: %s", af->fn, af->tmp,
                                    af->path, strerror(errno));
        nb_free(dir);
        nbi_atomic_abort(af);
        return st;
    }
    nb_free(af->tmp);
    af->tmp = NULL;
    /* Make the rename itself durable. Some file systems refuse fsync on a directory (EINVAL);
     * the data is already safe then, so only a real I/O error is reported. */
    nb_status st = NB_OK;
    int dfd = open(dir, O_RDONLY | O_CLOEXEC);
    if (dfd >= 0) {
        if (fsync(dfd) != 0 && errno == EIO)
            st = nb_set_error(NB_ERR_IO, "%s: cannot sync directory %s after writing %s: %s",
                              af->fn, dir, af->path, strerror(errno));
        close(dfd);
    }
    nb_free(dir);
    return st;
}

void nbi_atomic_abort(nbi_atomic_file *af)
{
    if (af->fp) {
        fclose(af->fp);
        af->fp = NULL;
    }
    if (af->tmp) {
        unlink(af->tmp);
        nb_free(af->tmp);
        af->tmp = NULL;
    }
}

/* "a FIFO", "a directory", ... for a file that is not regular. */
static const char *kind_of(mode_t mode)
{
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "a special file";
}

static int refuse_kind(const char *fn, const char *path, mode_t mode)
{
    nb_set_error(NB_ERR_IO, "%s: %s is %s, not a regular file", fn, path, kind_of(mode));
    return -1;
}

int nbi_open_regular(const char *fn, const char *path, uint64_t *size)
{
    if (!path) {
        nb_set_error(NB_ERR_VALUE, "%s: path is NULL", fn);
        return -1;
    }
    struct stat sb;
    if (stat(path, &sb) != 0) {
        nb_set_error(NB_ERR_IO, "%s: cannot open %s: %s", fn, path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(sb.st_mode))
        return refuse_kind(fn, path, sb.st_mode);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        nb_set_error(NB_ERR_IO, "%s: cannot open %s: %s", fn, path, strerror(errno));
        return -1;
    }
    int flags;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (flags = fcntl(fd, F_GETFL)) < 0 ||
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        int err = errno;
        bool regular = S_ISREG(sb.st_mode);
        close(fd);
        if (!regular)
            return refuse_kind(fn, path, sb.st_mode);
        nb_set_error(NB_ERR_IO, "%s: cannot open %s: %s", fn, path, strerror(err));
        return -1;
    }
    *size = (uint64_t)sb.st_size;
    return fd;
}

FILE *nbi_fopen_regular(const char *fn, const char *path, uint64_t *size)
{
    int fd = nbi_open_regular(fn, path, size);
    if (fd < 0)
        return NULL;
    FILE *fp = fdopen(fd, "rb");
    if (!fp) {
        nb_set_error(errno == ENOMEM ? NB_ERR_NOMEM : NB_ERR_IO, "%s: cannot open %s: %s", fn, path,
                     strerror(errno));
        close(fd);
    }
    return fp;
}

nb_status nbi_read_file(const char *fn, const char *path, unsigned char **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    uint64_t file_size;
    FILE *fp = nbi_fopen_regular(fn, path, &file_size);
    if (!fp)
        return nb_last_status();
    if (file_size >= (uint64_t)SIZE_MAX) {
        fclose(fp);
        return nb_set_error(NB_ERR_NOMEM, "%s: %s is too large to read", fn, path);
    }
    size_t n = (size_t)file_size;
    unsigned char *buf = nb_malloc(n + 1);
    if (!buf) {
        fclose(fp);
        return nb_set_error(NB_ERR_NOMEM, "%s: out of memory reading %s (%zu bytes)", fn, path, n);
    }
    size_t got = fread(buf, 1, n, fp);
    int err = ferror(fp);
    fclose(fp);
    if (got != n || err) {
        nb_free(buf);
        return nb_set_error(NB_ERR_IO, "%s: cannot read %s: read %zu of %zu bytes", fn, path, got,
                            n);
    }
    buf[n] = '\0';
    *data = buf;
    *size = n;
    return NB_OK;
}

nb_status nbi_name_set_init(nbi_name_set *s, size_t n)
{
    memset(s, 0, sizeof *s);
    size_t cap = 16;
    while (cap < 2 * n && cap <= SIZE_MAX / 4 / sizeof *s->slots)
        cap *= 2;
    if (cap < 2 * n)
        return NB_ERR_NOMEM;
    s->slots = nb_calloc(cap, sizeof *s->slots);
    if (!s->slots)
        return NB_ERR_NOMEM;
    s->mask = cap - 1;
    /* The seed only has to be unknown to whoever wrote the names: the clock, the process and
     * where the table landed in memory. */
    struct timespec ts = {0, 0};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t mix[4] = {(uint64_t)ts.tv_sec, (uint64_t)ts.tv_nsec, (uint64_t)getpid(),
                       (uint64_t)(uintptr_t)s->slots};
    s->seed = nb_digest64(mix, sizeof mix, 0);
    return NB_OK;
}

/* Slot holding name, or the empty slot where it would go. */
static nbi_name_slot *name_slot(const nbi_name_set *s, const char *name, size_t len)
{
    size_t i = (size_t)nb_digest64(name, len, s->seed) & s->mask;
    while (s->slots[i].name && (s->slots[i].len != len || memcmp(s->slots[i].name, name, len) != 0))
        i = (i + 1) & s->mask;
    return &s->slots[i];
}

int64_t nbi_name_set_add(nbi_name_set *s, const char *name, size_t len, int64_t value)
{
    nbi_name_slot *slot = name_slot(s, name, len);
    if (slot->name)
        return slot->value;
    *slot = (nbi_name_slot){.name = name, .len = len, .value = value};
    return -1;
}

int64_t nbi_name_set_find(const nbi_name_set *s, const char *name, size_t len)
{
    const nbi_name_slot *slot = name_slot(s, name, len);
    return slot->name ? slot->value : -1;
}

void nbi_name_set_free(nbi_name_set *s)
{
    nb_free(s->slots);
    memset(s, 0, sizeof *s);
}

bool nbi_file_exists(const char *path)
{
    struct stat sb;
    return path && stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

bool nbi_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

const char *nbi_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}
