/*
 * test_queue_tree - unit tests for lib/queue_tree: create makes every
 * directory with its mode (and, as root, its owner), check finds a wrong
 * mode, a wrong owner, a missing directory and a symlink in its place,
 * and create repairs them.
 */
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "maincf.h"
#include "queue_tree.h"

static const char *names[] = {"pid", "maildrop", "public", "private", "incoming",
    "active", "deferred", "hold", "corrupt", "bounce", "defer"};

struct fx {
    char dir[64];
    char queue[96];
    struct config *cfg;
    struct queue_owner own;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct buf text = BUF_INIT, err = BUF_INIT;

    snprintf(f->dir, sizeof(f->dir), "/tmp/test_queue_tree.XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->queue, sizeof(f->queue), "%s/queue", f->dir);
    buf_printf(&text, "queue_directory = %s\nmail_owner = postern\nsetgid_group = postdrop\n",
               f->queue);
    f->cfg = config_parse("main.cf", text.data, text.len, &err);
    if (f->cfg == NULL) {
        fprintf(stderr, "%s\n", buf_str(&err));
        return -1;
    }
    buf_free(&text);
    buf_free(&err);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[160];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    config_free(f->cfg);
    free(f);
    return 0;
}

/* Resolve the owner, skipping privileged runs on machines without postern. */
static void resolve(struct fx *f)
{
    struct buf err = BUF_INIT;

    if (geteuid() == 0 && getpwnam("postern") == NULL)
        skip();
    assert_int_equal(queue_owner_resolve(f->cfg, &f->own, &err), 0);
    buf_free(&err);
}

static void create_then_check_is_clean(void **state)
{
    struct fx *f = *state;
    struct buf err = BUF_INIT, problems = BUF_INIT;
    char path[160];
    struct stat st;

    resolve(f);
    assert_int_equal(queue_tree_create(f->cfg, &f->own, &err), 0);
    assert_int_equal(queue_tree_check(f->cfg, &f->own, &problems), 0);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", f->queue, names[i]);
        assert_int_equal(lstat(path, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
    }
    snprintf(path, sizeof(path), "%s/maildrop", f->queue);
    assert_int_equal(lstat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 01730);
    if (f->own.privileged) {
        assert_int_equal(st.st_uid, f->own.mail_uid);
        assert_int_equal(st.st_gid, f->own.setgid_gid);
    }
    /* Creating again is harmless. */
    assert_int_equal(queue_tree_create(f->cfg, &f->own, &err), 0);
    buf_free(&err);
    buf_free(&problems);
}

static void check_finds_and_create_repairs(void **state)
{
    struct fx *f = *state;
    struct buf err = BUF_INIT, problems = BUF_INIT;
    char path[160], want[200];

    resolve(f);
    assert_int_equal(queue_tree_create(f->cfg, &f->own, &err), 0);
    snprintf(path, sizeof(path), "%s/incoming", f->queue);
    assert_int_equal(chmod(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/hold", f->queue);
    assert_int_equal(rmdir(path), 0);
    snprintf(path, sizeof(path), "%s/corrupt", f->queue);
    assert_int_equal(rmdir(path), 0);
    assert_int_equal(symlink("/tmp", path), 0);
    if (f->own.privileged) {
        snprintf(path, sizeof(path), "%s/active", f->queue);
        assert_int_equal(chown(path, 0, 0), 0);
    }

    assert_int_equal(queue_tree_check(f->cfg, &f->own, &problems),
                     f->own.privileged ? 4 : 3);
    snprintf(want, sizeof(want), "%s/incoming: mode 0755, should be 0700\n", f->queue);
    assert_non_null(strstr(buf_str(&problems), want));
    snprintf(want, sizeof(want), "%s/hold: No such file or directory\n", f->queue);
    assert_non_null(strstr(buf_str(&problems), want));
    snprintf(want, sizeof(want), "%s/corrupt: not a directory\n", f->queue);
    assert_non_null(strstr(buf_str(&problems), want));

    /* A symlink where a queue directory belongs is never followed or fixed. */
    assert_int_equal(queue_tree_create(f->cfg, &f->own, &err), -1);
    assert_non_null(strstr(buf_str(&err), "corrupt: not a directory"));
    snprintf(path, sizeof(path), "%s/corrupt", f->queue);
    assert_int_equal(unlink(path), 0);
    buf_reset(&err);
    assert_int_equal(queue_tree_create(f->cfg, &f->own, &err), 0);
    buf_reset(&problems);
    assert_int_equal(queue_tree_check(f->cfg, &f->own, &problems), 0);
    buf_free(&err);
    buf_free(&problems);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(create_then_check_is_clean, setup, teardown),
        cmocka_unit_test_setup_teardown(check_finds_and_create_repairs, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
