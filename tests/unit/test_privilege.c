/*
 * test_privilege - unit tests for lib/privilege. Each privilege change
 * happens in a forked child that reports through its exit status (0 =
 * all checks passed, otherwise the number of the check that failed), so
 * the test process itself keeps its privileges. The root-only checks are
 * skipped when the tests do not run as root.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "privilege.h"

#define NOBODY 65534

/* Run fn in a child; its exit status (0 = success). */
static int run_child(int (*fn)(void *), void *arg)
{
    int status;
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0)
        _exit(fn(arg));
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status))
        fail_msg("child died with signal %d", WTERMSIG(status));
    return WEXITSTATUS(status);
}

/* Are all capability sets of this process empty? */
static int caps_empty(void)
{
    cap_t now = cap_get_proc(), none = cap_init();
    int empty = now && none && cap_compare(now, none) == 0;

    cap_free(now);
    cap_free(none);
    return empty;
}

/* Child: drop to nobody inside dir and check everything. */
static int child_drop(void *arg)
{
    const char *dir = arg;
    struct buf err;
    gid_t groups[4];

    buf_init(&err, 0);
    if (priv_drop(NOBODY, NOBODY, dir, &err) < 0) {
        fprintf(stderr, "priv_drop: %s\n", buf_str(&err));
        return 1;
    }
    if (getuid() != NOBODY || geteuid() != NOBODY)
        return 2;
    if (getgid() != NOBODY || getegid() != NOBODY)
        return 3;
    if (getgroups(4, groups) != 1 || groups[0] != NOBODY)
        return 4;
    if (!caps_empty())
        return 5;
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
        return 6;
    if (access("/marker", F_OK) != 0)           /* "/" is now dir */
        return 7;
    if (access("/proc/self/status", F_OK) == 0)  /* the old root is gone */
        return 8;
    if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0)
        return 9;
    if (chroot("/") == 0)
        return 10;
    if (prctl(PR_CAPBSET_READ, CAP_SETUID, 0, 0, 0) != 0)
        return 11;
    {
        char cwd[16];

        if (getcwd(cwd, sizeof(cwd)) == NULL || strcmp(cwd, "/") != 0)
            return 12;
    }
    return 0;
}

static void test_drop_as_root(void **state)
{
    char dir[] = "/tmp/test_privilege.XXXXXX";
    struct buf marker;
    int fd;

    if (geteuid() != 0)
        skip();
    assert_non_null(mkdtemp(dir));
    assert_int_equal(chmod(dir, 0755), 0);
    buf_init(&marker, 0);
    buf_printf(&marker, "%s/marker", dir);
    fd = open(buf_str(&marker), O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(run_child(child_drop, dir), 0);
    unlink(buf_str(&marker));
    rmdir(dir);
    buf_free(&marker);
}

/* Child: drop without chroot. */
static int child_drop_no_chroot(void *arg)
{
    struct buf err;

    buf_init(&err, 0);
    if (priv_drop(NOBODY, NOBODY, NULL, &err) < 0)
        return 1;
    if (getuid() != NOBODY || !caps_empty())
        return 2;
    if (access("/proc/self/status", F_OK) != 0)    /* same root as before */
        return 3;
    return 0;
}

static void test_drop_without_chroot(void **state)
{
    if (geteuid() != 0)
        skip();
    assert_int_equal(run_child(child_drop_no_chroot, NULL), 0);
}

/* Child: priv_drop must refuse uid 0 and a missing chroot directory. */
static int child_refusals(void *arg)
{
    struct buf err;

    buf_init(&err, 0);
    if (priv_drop(0, 0, NULL, &err) == 0 || strstr(buf_str(&err), "uid 0") == NULL)
        return 1;
    buf_reset(&err);
    if (priv_drop(NOBODY, NOBODY, "/nonexistent/dir", &err) == 0
        || strstr(buf_str(&err), "chroot /nonexistent/dir") == NULL)
        return 2;
    if (getuid() != 0)          /* nothing was changed */
        return 3;
    return 0;
}

static void test_drop_refusals(void **state)
{
    if (geteuid() != 0)
        skip();
    assert_int_equal(run_child(child_refusals, NULL), 0);
}

/* Child: root that cleared its capabilities can no longer chroot. */
static int child_clear_caps(void *arg)
{
    struct buf err;

    buf_init(&err, 0);
    if (priv_clear_caps(&err) < 0)
        return 1;
    if (!caps_empty())
        return 2;
    if (chroot("/") == 0 || errno != EPERM)
        return 3;
    return 0;
}

static void test_clear_caps(void **state)
{
    if (geteuid() != 0)
        skip();
    assert_int_equal(run_child(child_clear_caps, NULL), 0);
}

/* Child: a process that is not root only gets NO_NEW_PRIVS. */
static int child_unprivileged(void *arg)
{
    struct buf err;
    uid_t before;

    buf_init(&err, 0);
    if (geteuid() == 0) {       /* become an ordinary user first */
        if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
            return 10;
    }
    before = getuid();
    if (priv_drop(before + 1, before + 1, "/nonexistent", &err) < 0)
        return 1;
    if (getuid() != before)
        return 2;
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
        return 3;
    if (access("/proc/self/status", F_OK) != 0)    /* no chroot happened */
        return 4;
    return 0;
}

static void test_drop_unprivileged(void **state)
{
    assert_int_equal(run_child(child_unprivileged, NULL), 0);
}

/* Child: priv_no_new_privs alone. */
static int child_nnp(void *arg)
{
    struct buf err;

    buf_init(&err, 0);
    if (priv_no_new_privs(&err) < 0)
        return 1;
    return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 2;
}

static void test_no_new_privs(void **state)
{
    assert_int_equal(run_child(child_nnp, NULL), 0);
}

static void test_lookup_user(void **state)
{
    struct buf err;
    uid_t uid = 1;
    gid_t gid = 1;

    buf_init(&err, 0);
    assert_int_equal(priv_lookup_user("root", &uid, &gid, &err), 0);
    assert_int_equal(uid, 0);
    assert_int_equal(gid, 0);
    assert_int_equal(err.len, 0);
    uid = 42;
    assert_int_equal(priv_lookup_user("no_such_user_postern_xyz", &uid, &gid, &err), -1);
    assert_int_equal(uid, 42);
    assert_non_null(strstr(buf_str(&err), "unknown user: no_such_user_postern_xyz"));
    buf_reset(&err);
    assert_int_equal(priv_lookup_user("", &uid, &gid, &err), -1);
    buf_free(&err);
}

static void test_lookup_group(void **state)
{
    struct buf err;
    gid_t gid = 1;

    buf_init(&err, 0);
    assert_int_equal(priv_lookup_group("root", &gid, &err), 0);
    assert_int_equal(gid, 0);
    gid = 42;
    assert_int_equal(priv_lookup_group("no_such_group_postern_xyz", &gid, &err), -1);
    assert_int_equal(gid, 42);
    assert_non_null(strstr(buf_str(&err), "unknown group: no_such_group_postern_xyz"));
    buf_free(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drop_as_root),
        cmocka_unit_test(test_drop_without_chroot),
        cmocka_unit_test(test_drop_refusals),
        cmocka_unit_test(test_clear_caps),
        cmocka_unit_test(test_drop_unprivileged),
        cmocka_unit_test(test_no_new_privs),
        cmocka_unit_test(test_lookup_user),
        cmocka_unit_test(test_lookup_group),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
