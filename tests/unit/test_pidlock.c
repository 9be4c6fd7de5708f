/*
 * test_pidlock - unit tests for lib/pidlock: the lock, not the file's
 * content, says who runs; a stale file is taken over; a second locker
 * learns the holder's pid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "pidlock.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/test_pidlock.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/master.pid", dir);
    return 0;
}

static int teardown(void **state)
{
    unlink(path);
    rmdir(dir);
    return 0;
}

static void no_file_means_nobody(void **state)
{
    assert_int_equal(pidlock_holder(path), 0);
}

static void stale_file_is_taken_over(void **state)
{
    FILE *fp = fopen(path, "w");
    struct buf err = BUF_INIT;
    int status, sync[2], done[2];
    pid_t child;
    char c;

    /* A pid that lies: nobody holds the lock. */
    fputs("999999\n", fp);
    fclose(fp);
    assert_int_equal(pidlock_holder(path), 0);

    assert_int_equal(pipe(sync), 0);
    assert_int_equal(pipe(done), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        /* The child takes the lock, says so, and holds it until told. */
        if (pidlock_acquire(path, &err) != 0)
            _exit(1);
        if (write(sync[1], "k", 1) != 1 || read(done[0], &c, 1) != 1)
            _exit(2);
        _exit(0);
    }
    assert_int_equal(read(sync[0], &c, 1), 1);
    assert_int_equal(pidlock_holder(path), child);
    /* A second locker is refused and told who holds it. */
    assert_int_equal(pidlock_acquire(path, &err), child);
    assert_int_equal(write(done[1], "x", 1), 1);
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* The holder is gone: the lock is free again. */
    assert_int_equal(pidlock_holder(path), 0);
    buf_free(&err);
    close(sync[0]); close(sync[1]); close(done[0]); close(done[1]);
}

static void unwritable_place_is_an_error(void **state)
{
    struct buf err = BUF_INIT;

    assert_int_equal(pidlock_acquire("/nonexistent/dir/master.pid", &err), -1);
    assert_non_null(strstr(buf_str(&err), "/nonexistent/dir/master.pid"));
    buf_free(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_file_means_nobody),
        cmocka_unit_test(stale_file_is_taken_over),
        cmocka_unit_test(unwritable_place_is_an_error),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
