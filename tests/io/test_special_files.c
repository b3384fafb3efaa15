/* tests/io/test_special_files.c — every reader of a user path (npy, checkpoints, training
 * checkpoints, IDX, CIFAR-10) refuses what is not a regular file — a FIFO, a directory, a
 * device — with NB_ERR_IO and a message naming the function, the path and what it is, and never
 * blocks on a FIFO that has no writer. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/nbt.h"
#include "support/nbt_files.h"

/* A reader that opens a FIFO for reading without O_NONBLOCK waits forever for a writer. The
 * alarm is a guard, not a measurement: it only fires when a reader is stuck, and then it fails
 * the test with the reader's name instead of hanging the suite. */
static const char *volatile current = "";

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "FAIL: a reader blocked on a FIFO: ";
    ssize_t w = write(2, msg, sizeof msg - 1);
    w = write(2, current, strlen(current));
    w = write(2, "\n", 1);
    (void)w;
    _exit(1);
}

enum { GUARD_SECONDS = 60 };

static void guard(const char *reader)
{
    current = reader;
    signal(SIGALRM, on_alarm);
    alarm(GUARD_SECONDS);
}

static void unguard(void)
{
    alarm(0);
    current = "";
}

/* Every reader on `path`: each fails with NB_ERR_IO, naming itself, the path and `what`. */
static void every_reader_refuses(const char *path, const char *what)
{
    char part[700];
    nb_tensor *t = nb_tensor_zeros(NB_F32, 1, (int64_t[]){2});
    nb_named_tensor list[1] = {{"w", t}};

    guard("nb_npy_load");
    assert_null(nb_npy_load(path));
    unguard();
    snprintf(part, sizeof part, "nb_npy_load: %s is %s, not a regular file", path, what);
    nbt_assert_error(NB_ERR_IO, part);

    guard("nb_checkpoint_load");
    assert_int_equal(nb_checkpoint_load(path, list, 1), NB_ERR_IO);
    unguard();
    snprintf(part, sizeof part, "nb_checkpoint_load: %s is %s, not a regular file", path, what);
    nbt_assert_error(NB_ERR_IO, part);
    assert_float_equal(nb_tensor_get(t, 0), 0, 0);

    guard("nb_checkpoint_read_toc");
    assert_null(nb_checkpoint_read_toc(path));
    unguard();
    nbt_assert_error(NB_ERR_IO, "nb_checkpoint_read_toc: ");

    guard("nb_checkpoint_load_tensor");
    assert_null(nb_checkpoint_load_tensor(path, "w"));
    unguard();
    nbt_assert_error(NB_ERR_IO, "nb_checkpoint_load_tensor: ");

    nb_rng rng = nb_rng_seed(1);
    nb_module *net = nb_linear_new(2, 2, true, &rng);
    assert_non_null(net);
    guard("nb_checkpoint_load_model");
    assert_int_equal(nb_checkpoint_load_model(path, net, NULL), NB_ERR_IO);
    unguard();
    snprintf(part, sizeof part, "%s is %s, not a regular file", path, what);
    nbt_assert_error(NB_ERR_IO, part);
    nb_module_free(net);

    guard("nb_idx_load");
    assert_null(nb_idx_load(path, NB_F32, 1));
    unguard();
    snprintf(part, sizeof part, "nb_idx_load: %s is %s, not a regular file", path, what);
    nbt_assert_error(NB_ERR_IO, part);

    nb_dataset ds;
    guard("nb_idx_load_dataset");
    assert_int_equal(nb_idx_load_dataset(path, path, 10, NULL, &ds), NB_ERR_IO);
    unguard();
    nbt_assert_error(NB_ERR_IO, "nb_idx_load_dataset: ");

    guard("nb_cifar10_load_file");
    assert_int_equal(nb_cifar10_load_file(path, NULL, &ds), NB_ERR_IO);
    unguard();
    snprintf(part, sizeof part, "nb_cifar10_load_file: %s is %s, not a regular file", path, what);
    nbt_assert_error(NB_ERR_IO, part);

    nb_tensor_free(t);
}

static void test_readers_refuse_a_fifo_without_blocking(void **state)
{
    (void)state;
    char dir[512], fifo[600];
    snprintf(dir, sizeof dir, "%s", nbt_tmp_dir("fifo"));
    snprintf(fifo, sizeof fifo, "%s/model.ckpt", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    every_reader_refuses(fifo, "a FIFO");
    unlink(fifo);
    nbt_remove_dir(dir);
}

static void test_readers_refuse_a_directory(void **state)
{
    (void)state;
    char dir[512], sub[600];
    snprintf(dir, sizeof dir, "%s", nbt_tmp_dir("dirpath"));
    snprintf(sub, sizeof sub, "%s/data.npy", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    every_reader_refuses(sub, "a directory");
    rmdir(sub);
    nbt_remove_dir(dir);
}

static void test_readers_refuse_a_device(void **state)
{
    (void)state;
    struct stat sb;
    if (stat("/dev/null", &sb) != 0 || !S_ISCHR(sb.st_mode))
        skip();
    every_reader_refuses("/dev/null", "a character device");
}

static int clear_error(void **state)
{
    (void)state;
    nb_clear_error();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_readers_refuse_a_fifo_without_blocking, clear_error),
        cmocka_unit_test_setup(test_readers_refuse_a_directory, clear_error),
        cmocka_unit_test_setup(test_readers_refuse_a_device, clear_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
