/*
 * test_dict_unix - unit tests for unix:passwd.byname and unix:group.byname:
 * the Postfix value shapes, case folding, unknown names, bad table names
 * and refused updates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pwd.h>
#include <grp.h>

#include <cmocka.h>

#include "buf.h"
#include "dict.h"

/* Open a table that must open. */
static struct dict *open_ok(const char *s)
{
    struct buf err = BUF_INIT;
    struct dict *d = dict_open(s, DICT_FLAG_FOLD, NULL, &err);

    if (d == NULL)
        fail_msg("dict_open %s: %s", s, buf_str(&err));
    buf_free(&err);
    return d;
}

/* dict_open must fail with an error that contains want. */
static void open_fails(const char *s, int flags, const char *want)
{
    struct buf err = BUF_INIT;
    struct dict *d = dict_open(s, flags, NULL, &err);

    if (d != NULL)
        fail_msg("dict_open %s succeeded", s);
    if (strstr(buf_str(&err), want) == NULL)
        fail_msg("dict_open %s: error \"%s\" lacks \"%s\"", s, buf_str(&err), want);
    buf_free(&err);
}

/* A user that exists everywhere (root) in the passwd shape. */
static void test_passwd_root(void **state)
{
    struct dict *d = open_ok("unix:passwd.byname");
    struct buf v = BUF_INIT, why = BUF_INIT, want = BUF_INIT;
    struct passwd *pw = getpwnam("root");

    (void)state;
    assert_non_null(pw);
    buf_printf(&want, "root:%s:0:%ld:%s:%s:%s", pw->pw_passwd, (long)pw->pw_gid,
               pw->pw_gecos, pw->pw_dir, pw->pw_shell);
    assert_int_equal(dict_lookup(d, "root", &v, &why), DICT_FOUND);
    assert_string_equal(buf_str(&v), buf_str(&want));
    buf_reset(&v);
    /* folded like every indexed table */
    assert_int_equal(dict_lookup(d, "RooT", &v, &why), DICT_FOUND);
    assert_string_equal(buf_str(&v), buf_str(&want));
    buf_reset(&v);
    assert_int_equal(dict_lookup(d, "no-such-user-postern-test", &v, &why), DICT_NOTFOUND);
    assert_int_equal(dict_lookup(d, "", &v, &why), DICT_NOTFOUND);
    assert_int_equal(dict_lookup(d, "root:x", &v, &why), DICT_NOTFOUND);
    dict_close(d);
    buf_free(&v);
    buf_free(&why);
    buf_free(&want);
}

/* The group shape: name:passwd:gid:members. */
static void test_group_root(void **state)
{
    struct dict *d = open_ok("unix:group.byname");
    struct buf v = BUF_INIT, why = BUF_INIT;
    struct group *gr = getgrgid(0);

    (void)state;
    assert_non_null(gr);
    assert_int_equal(dict_lookup(d, gr->gr_name, &v, &why), DICT_FOUND);
    assert_true(strncmp(buf_str(&v), gr->gr_name, strlen(gr->gr_name)) == 0);
    assert_non_null(strstr(buf_str(&v), ":0:"));
    buf_reset(&v);
    assert_int_equal(dict_lookup(d, "no-such-group-postern-test", &v, &why), DICT_NOTFOUND);
    dict_close(d);
    buf_free(&v);
    buf_free(&why);
}

/* Unknown table names and updates are refused with a clear error. */
static void test_bad_open(void **state)
{
    (void)state;
    open_fails("unix:shadow.byname", 0, "unknown table");
    open_fails("unix:", 0, "missing");
    open_fails("unix:passwd", 0, "unknown table");
    open_fails("unix:passwd.byname", DICT_FLAG_WRITE, "cannot be updated");
    open_fails("unix:group.byname", DICT_FLAG_CREATE, "cannot be updated");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passwd_root),
        cmocka_unit_test(test_group_root),
        cmocka_unit_test(test_bad_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
