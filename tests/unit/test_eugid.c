/*
 * test_eugid - unit tests for lib/eugid.c: switching the effective
 * identity for one delivery and back (files made meanwhile belong to the
 * recipient), the unprivileged rules, and dropping identity for good in
 * a child. The root-only cases are skipped when not run as root.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "eugid.h"

#define TEST_UID 4242
#define TEST_GID 4343

static void test_set_restore(void **state)
{
    char dir[] = "/tmp/test_eugid.XXXXXX", path[64];
    struct stat st;
    gid_t groups[8];
    int fd;

    (void)state;
    if (!eugid_privileged()) {
        /* Our own uid is fine, another is not. */
        assert_int_equal(eugid_set(geteuid(), 0), 0);
        assert_int_equal(eugid_set(geteuid() + 1, 0), -1);
        assert_int_equal(errno, EPERM);
        eugid_restore();
        skip();
    }
    assert_non_null(mkdtemp(dir));
    assert_int_equal(chmod(dir, 0777), 0);
    snprintf(path, sizeof(path), "%s/f", dir);

    assert_int_equal(eugid_set(TEST_UID, TEST_GID), 0);
    assert_int_equal(geteuid(), TEST_UID);
    assert_int_equal(getegid(), TEST_GID);
    assert_int_equal(getgroups(8, groups), 1);
    assert_int_equal(groups[0], TEST_GID);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    close(fd);
    /* Root's powers are gone meanwhile. */
    assert_int_equal(open("/etc/shadow", O_RDONLY), -1);
    eugid_restore();

    assert_int_equal(geteuid(), 0);
    assert_int_equal(getegid(), getgid());
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_uid, TEST_UID);
    assert_int_equal(st.st_gid, TEST_GID);
    unlink(path);
    rmdir(dir);
}

static void test_drop_forever(void **state)
{
    pid_t pid;
    int status;

    (void)state;
    if (!eugid_privileged()) {
        assert_int_equal(eugid_drop_forever(getuid() + 1, getgid()), -1);
        skip();
    }
    if ((pid = fork()) == 0) {
        /* From a switched identity too, as the agents call it. */
        if (eugid_set(TEST_UID, TEST_GID) < 0 || eugid_drop_forever(TEST_UID, TEST_GID) < 0)
            _exit(1);
        if (getuid() != TEST_UID || geteuid() != TEST_UID || getgid() != TEST_GID)
            _exit(2);
        if (seteuid(0) == 0 || setuid(0) == 0)
            _exit(3);
        _exit(0);
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(geteuid(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_restore),
        cmocka_unit_test(test_drop_forever),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
