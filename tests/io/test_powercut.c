/* tests/io/test_powercut.c — a checkpoint survives being killed mid-save. In each trial a child
 * process saves a few complete checkpoints to one path (each save holds a new version number in
 * every element) and reports each finished save through a pipe; then it starts one more save and
 * is killed in the middle of it at a point the trial chose beforehand:
 *   - at byte b of the file being written (RLIMIT_FSIZE stops the write there; the SIGXFSZ this
 *     raises is turned into SIGKILL), for b from 0 to the file size - 1;
 *   - with every byte written, just before the temp file is renamed over the path;
 *   - just after that rename;
 *   - after the save returned, before it is reported.
 * After the kill the file at the path must load and hold one complete version: the old one when
 * the kill came before the rename, the new one after it — never a mix, never nothing. The kill
 * points are chosen from a seeded generator, not from a clock, so every run makes the same
 * trials whatever the machine's load. (nb_checkpoint_save writes a temp file and renames it over
 * the path; the rename hook below is how the test reaches the points around the rename.) */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/nbt.h"
#include "support/nbt_files.h"

enum { TRIALS = 96, MAX_DONE = 2, ROWS = 64, COLS = 96 };

/* Where the armed save is killed. KILL_AT_BYTE carries the byte offset separately. */
typedef enum kill_point {
    KILL_AT_BYTE = 0,
    KILL_BEFORE_RENAME,
    KILL_AFTER_RENAME,
    KILL_AFTER_SAVE,
} kill_point;

/* "at byte 123", "before the rename", ... into buf. */
static const char *point_str(char *buf, size_t size, kill_point point, int64_t byte)
{
    static const char *const names[] = {"at byte", "before the rename", "after the rename",
                                        "after the save returned"};
    if (point == KILL_AT_BYTE)
        snprintf(buf, size, "%s %lld", names[point], (long long)byte);
    else
        snprintf(buf, size, "%s", names[point]);
    return buf;
}

/* Set in the child for its last save only: the library's rename goes through here. */
static volatile sig_atomic_t rename_kill = -1;

int rename(const char *from, const char *to)
{
    if (rename_kill == KILL_BEFORE_RENAME)
        raise(SIGKILL);
    int rc = renameat(AT_FDCWD, from, AT_FDCWD, to);
    if (rename_kill == KILL_AFTER_RENAME)
        raise(SIGKILL);
    return rc;
}

typedef struct state {
    nb_tensor *w, *k;
    nb_named_tensor list[2];
} state;

static void state_make(state *s)
{
    s->w = nb_tensor_zeros(NB_F32, 2, (const int64_t[]){ROWS, COLS});
    s->k = nb_tensor_zeros(NB_I64, 0, NULL);
    assert_non_null(s->w);
    assert_non_null(s->k);
    s->list[0] = (nb_named_tensor){"w", s->w};
    s->list[1] = (nb_named_tensor){"version", s->k};
}

static void state_free(state *s)
{
    nb_tensor_free(s->w);
    nb_tensor_free(s->k);
}

static void state_set(state *s, int64_t version)
{
    float *w = nb_tensor_data_f32(s->w);
    for (int i = 0; i < ROWS * COLS; i++)
        w[i] = (float)version + (float)i * 1e-3f;
    nb_tensor_data_i64(s->k)[0] = version;
}

/* Version held by s, or -1 when the elements disagree with each other. */
static int64_t state_version(const state *s)
{
    int64_t v = nb_tensor_data_i64(s->k)[0];
    const float *w = nb_tensor_data_f32(s->w);
    for (int i = 0; i < ROWS * COLS; i++)
        if (w[i] != (float)v + (float)i * 1e-3f)
            return -1;
    return v;
}

static void sigxfsz_to_sigkill(int sig)
{
    (void)sig;
    raise(SIGKILL);
}

/* The child: save versions first .. first + n_done - 1, reporting each on fd; then save
 * first + n_done and be killed at `point` (`byte` for KILL_AT_BYTE). Exits 3 if a save fails, 4
 * if the armed save was not killed. */
_Noreturn static void saver(const char *path, int fd, int64_t first, int n_done, kill_point point,
                            int64_t byte)
{
    state s;
    state_make(&s);
    for (int i = 0; i <= n_done; i++) {
        int64_t v = first + i;
        state_set(&s, v);
        if (i == n_done) { /* arm the last save */
            if (point == KILL_AT_BYTE) {
                struct sigaction sa;
                memset(&sa, 0, sizeof sa);
                sa.sa_handler = sigxfsz_to_sigkill;
                sigemptyset(&sa.sa_mask);
                struct rlimit lim = {(rlim_t)byte, (rlim_t)byte};
                if (sigaction(SIGXFSZ, &sa, NULL) != 0 || setrlimit(RLIMIT_FSIZE, &lim) != 0)
                    _exit(5);
            } else {
                rename_kill = (sig_atomic_t)point;
            }
        }
        if (nb_checkpoint_save(path, s.list, 2) != NB_OK)
            _exit(3);
        if (i == n_done && point == KILL_AFTER_SAVE)
            raise(SIGKILL);
        if (write(fd, &v, sizeof v) != (ssize_t)sizeof v)
            _exit(3);
    }
    _exit(4);
}

/* Size of the temp file the killed child `pid` left next to the checkpoint (removing it), or -1
 * when there is none. */
static int64_t take_leftover(const char *dir, pid_t pid)
{
    char part[64];
    snprintf(part, sizeof part, ".tmp-%ld-", (long)pid);
    DIR *d = opendir(dir);
    assert_non_null(d);
    int64_t size = -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strstr(e->d_name, part))
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat sb;
        assert_int_equal(stat(p, &sb), 0);
        assert_int_equal(size, -1); /* one save, one temp file */
        size = (int64_t)sb.st_size;
        assert_int_equal(unlink(p), 0);
    }
    closedir(d);
    return size;
}

static void test_checkpoint_killed_mid_save_always_loads_old_or_new(void **unused)
{
    (void)unused;
    const char *dir = nbt_tmp_dir("powercut");
    char path[4096];
    snprintf(path, sizeof path, "%s/model.ckpt", dir);
    state s, got;
    state_make(&s);
    state_make(&got);
    state_set(&s, 1);
    assert_int_equal(nb_checkpoint_save(path, s.list, 2), NB_OK);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    const int64_t file_size = (int64_t)sb.st_size; /* every version has this size */

    nb_rng rng = nb_rng_seed(2024);
    int64_t last = 1;
    int survived = 0, corrupt = 0, misaimed = 0, kept_old = 0, got_new = 0, mid_write = 0;
    for (int trial = 0; trial < TRIALS; trial++) {
        /* every point outside the write, then bytes 0 and size - 1, then random bytes */
        kill_point point = trial < 3 ? (kill_point)(trial + 1) : KILL_AT_BYTE;
        int64_t byte = trial == 3   ? 0
                       : trial == 4 ? file_size - 1
                                    : (int64_t)nb_rng_below(&rng, (uint64_t)file_size);
        if (trial >= 5 && trial % 8 < 3)
            point = (kill_point)(trial % 8 + 1);
        int n_done = (int)nb_rng_below(&rng, MAX_DONE + 1);
        int64_t first = last + 1;
        char where[64];
        point_str(where, sizeof where, point, byte);

        int fds[2];
        assert_int_equal(pipe(fds), 0);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            saver(path, fds[1], first, n_done, point, byte);
        }
        close(fds[1]);
        int64_t reported = last, v = 0;
        int n_reports = 0;
        while (read(fds[0], &v, sizeof v) == (ssize_t)sizeof v) {
            assert_int_equal(v, first + n_reports);
            reported = v;
            n_reports++;
        }
        close(fds[0]);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
            fail_msg("trial %d (%s): the saver was not killed (status %d: exit %d)", trial, where,
                     status, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        assert_int_equal(n_reports, n_done);

        bool renamed = point == KILL_AFTER_RENAME || point == KILL_AFTER_SAVE;
        int64_t old = reported, fresh = first + n_done;
        nb_status st = nb_checkpoint_load(path, got.list, 2);
        int64_t held = st == NB_OK ? state_version(&got) : -1;
        int64_t want = renamed ? fresh : old;
        if (held != want) {
            corrupt++;
            if (st != NB_OK)
                print_error("trial %d (%s): the file does not load: %s\n", trial, where,
                            nb_last_error());
            else
                print_error("trial %d (%s): the file holds version %lld, expected %lld (old %lld, "
                            "new %lld)\n",
                            trial, where, (long long)held, (long long)want, (long long)old,
                            (long long)fresh);
            nb_clear_error();
        } else {
            survived++;
        }
        kept_old += held == old;
        got_new += held == fresh;

        /* the kill landed where it was aimed */
        int64_t left = take_leftover(dir, pid);
        int64_t want_left = point == KILL_AT_BYTE ? byte : renamed ? -1 : file_size;
        if (left != want_left) {
            misaimed++;
            print_error("trial %d (%s): temp file of %lld bytes left, expected %lld\n", trial,
                        where, (long long)left, (long long)want_left);
        }
        mid_write += point == KILL_AT_BYTE;

        last = held > 0 ? held : fresh;
    }
    print_message("%d kills (%d inside the write): %d survived (old version %d times, new %d "
                  "times), %d corruptions detected\n",
                  TRIALS, mid_write, survived, kept_old, got_new, corrupt);
    assert_int_equal(corrupt, 0);
    assert_int_equal(misaimed, 0);
    assert_int_equal(survived, TRIALS);
    assert_true(kept_old > 0 && got_new > 0);
    assert_int_equal(nbt_count_files(dir, ".tmp-"), 0);
    nbt_remove_dir(dir);
    state_free(&s);
    state_free(&got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checkpoint_killed_mid_save_always_loads_old_or_new),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
