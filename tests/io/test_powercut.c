/* tests/io/test_powercut.c — a checkpoint survives being killed mid-save. A child process saves
 * checkpoints to one path in a loop (each save holds a new version number in every element) and
 * is killed with SIGKILL after a short random delay (seeded); after each kill the file at the
 * path must load and hold one complete version — the old or a new one, never a mix and never
 * nothing. (nb_checkpoint_save writes a temp file and renames it over the path.) */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support/nbt.h"
#include "support/nbt_files.h"

enum { KILLS = 200, ROWS = 64, COLS = 96 };

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

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* The child: save versions first, first + 1, ... until killed. */
_Noreturn static void saver(const char *path, int64_t first)
{
    state s;
    state_make(&s);
    for (int64_t v = first;; v++) {
        state_set(&s, v);
        if (nb_checkpoint_save(path, s.list, 2) != NB_OK)
            _exit(3);
    }
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

    nb_rng rng = nb_rng_seed(2024);
    int64_t last = 1, changed = 0;
    for (int kill_no = 0; kill_no < KILLS; kill_no++) {
        int64_t first = last + 1;
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            saver(path, first);
        /* 0 to 4 ms: lands before, during and between saves */
        sleep_us((long)nb_rng_below(&rng, 4000));
        assert_int_equal(kill(pid, SIGKILL), 0);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
            fail_msg("kill %d: the saver ended by itself (status %d)", kill_no, status);

        nb_status st = nb_checkpoint_load(path, got.list, 2);
        if (st != NB_OK)
            fail_msg("kill %d (after %lld): the checkpoint does not load: %s", kill_no,
                     (long long)last, nb_last_error());
        int64_t v = state_version(&got);
        if (v != last && (v < first))
            fail_msg("kill %d: file holds version %lld, expected %lld or >= %lld", kill_no,
                     (long long)v, (long long)last, (long long)first);
        changed += v != last;
        last = v;
    }
    /* the saves did land between kills (else the test would prove nothing) */
    assert_true(changed > KILLS / 10);
    int leftovers = nbt_count_files(dir, ".tmp-");
    print_message("%d kills: the file changed %lld times, always loadable; %d temp files left by "
                  "killed saves\n",
                  KILLS, (long long)changed, leftovers);
    nbt_remove_dir(dir);
    nb_tensor_free(s.w);
    nb_tensor_free(s.k);
    nb_tensor_free(got.w);
    nb_tensor_free(got.k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checkpoint_killed_mid_save_always_loads_old_or_new),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
