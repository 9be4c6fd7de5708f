/*
 * test_dict_lmdb - unit tests for the lmdb: table type (hash:, btree:):
 * build and commit, folding, duplicates in each mode, a rebuilt table
 * seen by a reader that stays open, an uncommitted build leaving the old
 * table, key limits, binary values, in-place update/remove/iterate with
 * map growth, a 100,000-key build, and error reporting.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "dict.h"
#include "log.h"

static char dir[64];
static char spec[128];          /* lmdb:DIR/t */
static char file[128];          /* DIR/t.lmdb */

#define WARN_FOLD (DICT_FLAG_FOLD | DICT_FLAG_DUP_WARN)

static struct dict *open_ok(const char *s, int flags)
{
    struct buf err = BUF_INIT;
    struct dict *d = dict_open(s, flags, NULL, &err);

    if (d == NULL)
        fail_msg("dict_open %s: %s", s, buf_str(&err));
    buf_free(&err);
    return d;
}

static void update_ok(struct dict *d, const char *k, const char *v)
{
    struct buf why = BUF_INIT;
    int rc = dict_update(d, k, v, &why);

    if (rc != 0)
        fail_msg("update %s: %d %s", k, rc, buf_str(&why));
    buf_free(&why);
}

static void commit_ok(struct dict *d)
{
    struct buf why = BUF_INIT;

    if (dict_commit(d, &why) != 0)
        fail_msg("commit: %s", buf_str(&why));
    buf_free(&why);
}

/* Build table spec from pairs k0, v0, k1, v1, ..., NULL. */
static void build(int flags, ...)
{
    struct dict *d = open_ok(spec, flags | DICT_FLAG_CREATE);
    const char *k, *v;
    va_list ap;

    va_start(ap, flags);
    while ((k = va_arg(ap, const char *)) != NULL) {
        v = va_arg(ap, const char *);
        update_ok(d, k, v);
    }
    va_end(ap);
    commit_ok(d);
    dict_close(d);
}

/* Look key up; the value (static buffer) or NULL when not found. */
static const char *get(struct dict *d, const char *key)
{
    static struct buf value = BUF_INIT;
    struct buf why = BUF_INIT;
    int rc = dict_lookup(d, key, &value, &why);

    if (rc == DICT_TEMPFAIL)
        fail_msg("lookup %s: tempfail: %s", key, buf_str(&why));
    buf_free(&why);
    return rc == DICT_FOUND ? buf_str(&value) : NULL;
}

/* Names in dir other than t.lmdb and the source files tests write. */
static int stray_files(void)
{
    DIR *dp = opendir(dir);
    struct dirent *de;
    int n = 0;

    assert_non_null(dp);
    while ((de = readdir(dp)) != NULL)
        if (strstr(de->d_name, ".tmp.") || strstr(de->d_name, "-lock"))
            n++;
    closedir(dp);
    return n;
}

static void test_build_and_lookup(void **state)
{
    struct dict *d = open_ok(spec, WARN_FOLD | DICT_FLAG_CREATE);
    struct buf why = BUF_INIT;

    update_ok(d, "User@Example.COM", "Value With Case");
    update_ok(d, "b", "2");
    assert_int_equal(access(file, F_OK), -1);       /* not visible before commit */
    assert_string_equal(get(d, "user@example.com"), "Value With Case");
    commit_ok(d);
    dict_close(d);
    assert_int_equal(stray_files(), 0);

    d = open_ok(spec, DICT_FLAG_FOLD);
    assert_string_equal(get(d, "USER@example.com"), "Value With Case");
    assert_string_equal(get(d, "b"), "2");
    assert_null(get(d, "c"));
    assert_null(get(d, ""));
    assert_int_equal(dict_update(d, "x", "y", &why), -1);   /* read-only */
    dict_close(d);
    buf_free(&why);
}

static void test_hash_alias(void **state)
{
    char alias[140];
    struct dict *d;

    build(WARN_FOLD, "k", "v", NULL);
    snprintf(alias, sizeof(alias), "hash:%s/t", dir);
    d = open_ok(alias, DICT_FLAG_FOLD);
    assert_string_equal(d->spec, alias);
    assert_string_equal(get(d, "K"), "v");
    dict_close(d);
    snprintf(alias, sizeof(alias), "btree:%s/t", dir);
    d = open_ok(alias, DICT_FLAG_FOLD);
    assert_string_equal(get(d, "k"), "v");
    dict_close(d);
}

/* postmap -f: keys stored and looked up as given. */
static void test_no_fold(void **state)
{
    struct dict *d;

    build(DICT_FLAG_DUP_WARN, "MixedCase", "1", "mixedcase", "2", NULL);
    d = open_ok(spec, 0);
    assert_string_equal(get(d, "MixedCase"), "1");
    assert_string_equal(get(d, "mixedcase"), "2");
    assert_null(get(d, "MIXEDCASE"));
    dict_close(d);
    /* A folding reader of that table folds the key it looks up. */
    d = open_ok(spec, DICT_FLAG_FOLD);
    assert_string_equal(get(d, "MIXEDCASE"), "2");
    dict_close(d);
}

static void test_duplicates(void **state)
{
    static const int modes[] = { DICT_FLAG_DUP_WARN, DICT_FLAG_DUP_IGNORE,
                                 DICT_FLAG_DUP_REPLACE, 0 };
    struct buf why = BUF_INIT;

    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        struct dict *d = open_ok(spec, DICT_FLAG_FOLD | DICT_FLAG_CREATE | modes[i]);
        int rc;

        update_ok(d, "key", "first");
        rc = dict_update(d, "KEY", "second", &why);
        assert_int_equal(rc, modes[i] == DICT_FLAG_DUP_REPLACE ? 0 : 1);
        commit_ok(d);
        dict_close(d);
        d = open_ok(spec, DICT_FLAG_FOLD);
        assert_string_equal(get(d, "key"),
                            modes[i] == DICT_FLAG_DUP_REPLACE ? "second" : "first");
        dict_close(d);

        /* The same on an in-place update. */
        d = open_ok(spec, DICT_FLAG_FOLD | DICT_FLAG_WRITE | modes[i]);
        rc = dict_update(d, "key", "third", &why);
        assert_int_equal(rc, modes[i] == DICT_FLAG_DUP_REPLACE ? 0 : 1);
        commit_ok(d);
        dict_close(d);
        d = open_ok(spec, DICT_FLAG_FOLD);
        assert_string_equal(get(d, "key"), modes[i] == DICT_FLAG_DUP_REPLACE ? "third"
                            : "first");
        dict_close(d);
    }
    buf_free(&why);
}

/* A daemon's open table picks up a rebuild without being reopened. */
static void test_reader_sees_rebuild(void **state)
{
    struct dict *r;

    build(WARN_FOLD, "a", "old", "gone", "x", NULL);
    r = open_ok(spec, DICT_FLAG_FOLD);
    assert_string_equal(get(r, "a"), "old");
    build(WARN_FOLD, "a", "new", "added", "y", NULL);
    sleep(1);                   /* the reader checks at most once a second */
    assert_string_equal(get(r, "a"), "new");
    assert_string_equal(get(r, "added"), "y");
    assert_null(get(r, "gone"));
    dict_close(r);
}

/* A build that is closed without a commit leaves the old table alone. */
static void test_uncommitted_build(void **state)
{
    struct dict *d, *r;

    build(WARN_FOLD, "a", "committed", NULL);
    r = open_ok(spec, DICT_FLAG_FOLD);
    d = open_ok(spec, WARN_FOLD | DICT_FLAG_CREATE);
    update_ok(d, "a", "half-built");
    assert_int_equal(stray_files(), 1);             /* the temporary file */
    dict_close(d);
    assert_int_equal(stray_files(), 0);
    sleep(1);
    assert_string_equal(get(r, "a"), "committed");
    dict_close(r);
    r = open_ok(spec, DICT_FLAG_FOLD);
    assert_string_equal(get(r, "a"), "committed");
    dict_close(r);
}

static void test_huge_key(void **state)
{
    struct dict *d = open_ok(spec, WARN_FOLD | DICT_FLAG_CREATE);
    struct buf why = BUF_INIT;
    char key[5000];

    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = 0;
    assert_int_equal(dict_update(d, key, "v", &why), -1);      /* over DICT_MAX_KEY */
    assert_non_null(strstr(buf_str(&why), "key longer than"));
    buf_reset(&why);
    key[600] = 0;
    assert_int_equal(dict_update(d, key, "v", &why), -1);      /* over LMDB's limit */
    assert_non_null(strstr(buf_str(&why), "lmdb limit"));
    buf_reset(&why);
    assert_int_equal(dict_update(d, "", "v", &why), -1);
    key[511] = 0;
    update_ok(d, key, "longest");
    commit_ok(d);
    dict_close(d);
    d = open_ok(spec, DICT_FLAG_FOLD);
    assert_string_equal(get(d, key), "longest");
    key[511] = 'k';
    assert_null(get(d, key));
    dict_close(d);
    buf_free(&why);
}

/* Values of arbitrary non-NUL bytes, and big ones, come back intact. */
static void test_binary_values(void **state)
{
    enum { N = 200 };
    static char values[N][3000];
    char key[32];
    unsigned seed = 42;
    struct dict *d = open_ok(spec, WARN_FOLD | DICT_FLAG_CREATE);
    struct buf big = BUF_INIT;

    for (int i = 0; i < N; i++) {
        size_t len = (size_t)(i * 13) % (sizeof(values[i]) - 1);

        for (size_t j = 0; j < len; j++) {
            seed = seed * 1103515245u + 12345u;
            values[i][j] = (char)(1 + (seed >> 16) % 255);
        }
        values[i][len] = 0;
        snprintf(key, sizeof(key), "k%d\xff\x01", i);
        update_ok(d, key, values[i]);
    }
    for (int i = 0; i < DICT_MAX_VALUE; i++)
        buf_putc(&big, 'a' + i % 26);
    update_ok(d, "big", buf_str(&big));
    commit_ok(d);
    dict_close(d);
    d = open_ok(spec, DICT_FLAG_FOLD);
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "k%d\xff\x01", i);
        assert_string_equal(get(d, key), values[i]);
    }
    assert_string_equal(get(d, "big"), buf_str(&big));
    dict_close(d);
    buf_free(&big);
}

struct walk {
    int count;
    struct buf keys;
};

static int walk_fn(const char *key, const char *value, void *arg)
{
    struct walk *w = arg;

    w->count++;
    if (w->keys.limit)
        buf_printf(&w->keys, "%s=%s;", key, value);
    return 0;
}

static void test_update_remove_iterate(void **state)
{
    struct buf why = BUF_INIT, value = BUF_INIT;
    struct walk w = { 0, BUF_INIT };
    struct dict *d, *r;

    build(WARN_FOLD, "b", "2", "a", "1", "c", "3", NULL);
    r = open_ok(spec, DICT_FLAG_FOLD);
    d = open_ok(spec, WARN_FOLD | DICT_FLAG_WRITE);
    update_ok(d, "D", "4");
    assert_int_equal(dict_remove(d, "b", &why), DICT_FOUND);
    assert_int_equal(dict_remove(d, "zz", &why), DICT_NOTFOUND);
    assert_int_equal(dict_lookup(d, "d", &value, &why), DICT_FOUND);
    assert_int_equal(dict_iterate(d, walk_fn, &w, &why), 0);
    assert_string_equal(buf_str(&w.keys), "a=1;c=3;d=4;");
    commit_ok(d);
    dict_close(d);
    sleep(1);
    assert_string_equal(get(r, "d"), "4");
    assert_null(get(r, "b"));
    buf_reset(&w.keys);
    assert_int_equal(dict_iterate(r, walk_fn, &w, &why), 0);
    assert_string_equal(buf_str(&w.keys), "a=1;c=3;d=4;");
    dict_close(r);

    /* Changes that are not committed are dropped. */
    d = open_ok(spec, WARN_FOLD | DICT_FLAG_WRITE);
    update_ok(d, "e", "5");
    dict_close(d);
    r = open_ok(spec, DICT_FLAG_FOLD);
    assert_null(get(r, "e"));
    dict_close(r);
    buf_free(&why);
    buf_free(&value);
    buf_free(&w.keys);
}

/* In-place updates that outgrow the map: it grows and the work is redone. */
static void test_update_grows_map(void **state)
{
    struct buf big = BUF_INIT;
    struct walk w = { 0, { NULL, 0, 0, 0 } };
    struct buf why = BUF_INIT;
    struct dict *d;
    char key[32];

    build(WARN_FOLD, "seed", "1", NULL);
    for (int i = 0; i < 100 * 1024; i++)
        buf_putc(&big, 'x');
    d = open_ok(spec, WARN_FOLD | DICT_FLAG_WRITE);
    for (int i = 0; i < 600; i++) {
        snprintf(key, sizeof(key), "key%d", i);
        update_ok(d, key, buf_str(&big));
    }
    assert_int_equal(dict_remove(d, "key7", &why), DICT_FOUND);
    commit_ok(d);
    dict_close(d);
    d = open_ok(spec, DICT_FLAG_FOLD);
    assert_string_equal(get(d, "key599"), buf_str(&big));
    assert_null(get(d, "key7"));
    assert_int_equal(dict_iterate(d, walk_fn, &w, &why), 0);
    assert_int_equal(w.count, 600);
    dict_close(d);
    buf_free(&big);
    buf_free(&why);
}

static void test_100k_keys(void **state)
{
    struct dict *d = open_ok(spec, WARN_FOLD | DICT_FLAG_CREATE);
    struct walk w = { 0, { NULL, 0, 0, 0 } };
    struct buf why = BUF_INIT;
    char key[64], value[64];

    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof(key), "User%d@Example.com", (i * 7919) % 100000);
        snprintf(value, sizeof(value), "value-%d", (i * 7919) % 100000);
        update_ok(d, key, value);
    }
    commit_ok(d);
    dict_close(d);
    d = open_ok(spec, DICT_FLAG_FOLD);
    for (int i = 0; i < 100000; i += 7) {
        snprintf(key, sizeof(key), "user%d@example.com", i);
        snprintf(value, sizeof(value), "value-%d", i);
        assert_string_equal(get(d, key), value);
    }
    assert_null(get(d, "user100000@example.com"));
    assert_int_equal(dict_iterate(d, walk_fn, &w, &why), 0);
    assert_int_equal(w.count, 100000);
    dict_close(d);
    buf_free(&why);
}

static void test_missing_and_broken(void **state)
{
    struct buf err = BUF_INIT, expect = BUF_INIT;
    char other[160];
    struct dict *r;
    FILE *fp;

    snprintf(other, sizeof(other), "lmdb:%s/missing", dir);
    assert_null(dict_open(other, DICT_FLAG_FOLD, NULL, &err));
    buf_printf(&expect, "open %s/missing.lmdb: No such file or directory", dir);
    assert_string_equal(buf_str(&err), buf_str(&expect));

    /* Building in a directory that does not exist fails at open. */
    buf_reset(&err);
    snprintf(other, sizeof(other), "lmdb:%s/nodir/t", dir);
    assert_null(dict_open(other, DICT_FLAG_CREATE, NULL, &err));
    assert_non_null(strstr(buf_str(&err), "No such file or directory"));

    /* A junk file is an open error, not an empty table. */
    snprintf(other, sizeof(other), "%s/junk.lmdb", dir);
    fp = fopen(other, "w");
    fputs("this is not an lmdb file at all, just some text that goes on\n", fp);
    fclose(fp);
    buf_reset(&err);
    snprintf(other, sizeof(other), "lmdb:%s/junk", dir);
    assert_null(dict_open(other, 0, NULL, &err));
    assert_true(err.len > 0);

    /* A reader keeps its table when the new file cannot be opened. */
    build(WARN_FOLD, "a", "1", NULL);
    r = open_ok(spec, DICT_FLAG_FOLD);
    snprintf(other, sizeof(other), "%s/junk.lmdb", dir);
    assert_int_equal(rename(other, file), 0);
    sleep(1);
    assert_string_equal(get(r, "a"), "1");
    dict_close(r);
    buf_free(&err);
    buf_free(&expect);
}

static int setup(void **state)
{
    strcpy(dir, "/tmp/test_dict_lmdb.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(spec, sizeof(spec), "lmdb:%s/t", dir);
    snprintf(file, sizeof(file), "%s/t.lmdb", dir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_and_lookup),
        cmocka_unit_test(test_hash_alias),
        cmocka_unit_test(test_no_fold),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_reader_sees_rebuild),
        cmocka_unit_test(test_uncommitted_build),
        cmocka_unit_test(test_huge_key),
        cmocka_unit_test(test_binary_values),
        cmocka_unit_test(test_update_remove_iterate),
        cmocka_unit_test(test_update_grows_map),
        cmocka_unit_test(test_100k_keys),
        cmocka_unit_test(test_missing_and_broken),
    };

    log_init("test_dict_lmdb");
    return cmocka_run_group_tests(tests, setup, teardown);
}
