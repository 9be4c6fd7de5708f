/*
 * test_dict_simple - unit tests for the in-memory table types:
 * texthash: (a source file read at open), inline:{...} and static:,
 * including bad syntax, duplicates, folding and iteration.
 */
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

static struct dict *open_ok(const char *s, int flags)
{
    struct buf err = BUF_INIT;
    struct dict *d = dict_open(s, flags, NULL, &err);

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

static const char *get(struct dict *d, const char *key)
{
    static struct buf value = BUF_INIT;
    struct buf why = BUF_INIT;
    int rc = dict_lookup(d, key, &value, &why);

    assert_int_not_equal(rc, DICT_TEMPFAIL);
    buf_free(&why);
    return rc == DICT_FOUND ? buf_str(&value) : NULL;
}

static int walk_fn(const char *key, const char *value, void *arg)
{
    buf_printf(arg, "%s=%s;", key, value);
    return 0;
}

static const char *walk(struct dict *d)
{
    static struct buf out = BUF_INIT;
    struct buf why = BUF_INIT;

    buf_reset(&out);
    assert_int_equal(dict_iterate(d, walk_fn, &out, &why), 0);
    buf_free(&why);
    return buf_str(&out);
}

static const char *write_src(const char *name, const char *text)
{
    static char path[128];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    return path;
}

/* ------------------------------------------------------------- texthash */

static void test_texthash(void **state)
{
    char spec[160];
    struct dict *d;

    snprintf(spec, sizeof(spec), "texthash:%s",
             write_src("th", "# aliases\nUser@Example.com  local\n"
                       "b  two\n  words\nB duplicate\n"));
    d = open_ok(spec, DICT_FLAG_FOLD);
    assert_string_equal(d->spec, spec);
    assert_string_equal(get(d, "user@EXAMPLE.com"), "local");
    assert_string_equal(get(d, "b"), "two words");   /* first wins */
    assert_null(get(d, "c"));
    assert_string_equal(walk(d), "user@example.com=local;b=two words;");
    dict_close(d);

    /* Without folding, B and b are different keys. */
    d = open_ok(spec, 0);
    assert_string_equal(get(d, "B"), "duplicate");
    assert_null(get(d, "user@example.com"));
    dict_close(d);
}

static void test_texthash_errors(void **state)
{
    char spec[160], want[160];

    snprintf(spec, sizeof(spec), "texthash:%s", write_src("bad", "ok 1\nnovalue\n  \nx y\n"));
    snprintf(want, sizeof(want), "%s/bad, line 2: expected format", dir);
    open_fails(spec, DICT_FLAG_FOLD, want);
    snprintf(spec, sizeof(spec), "texthash:%s/absent", dir);
    open_fails(spec, DICT_FLAG_FOLD, "No such file or directory");
    snprintf(spec, sizeof(spec), "texthash:%s", write_src("ok", "a b\n"));
    open_fails(spec, DICT_FLAG_CREATE, "cannot be updated");
}

static void test_texthash_empty_and_big(void **state)
{
    char spec[160], key[32], value[32];
    struct buf text = BUF_INIT;
    struct dict *d;

    snprintf(spec, sizeof(spec), "texthash:%s", write_src("empty", ""));
    d = open_ok(spec, DICT_FLAG_FOLD);
    assert_null(get(d, "anything"));
    assert_string_equal(walk(d), "");
    dict_close(d);

    for (int i = 0; i < 20000; i++)
        buf_printf(&text, "key%d value%d\n", i, i);
    snprintf(spec, sizeof(spec), "texthash:%s", write_src("big", buf_str(&text)));
    d = open_ok(spec, DICT_FLAG_FOLD);
    for (int i = 0; i < 20000; i += 3) {
        snprintf(key, sizeof(key), "KEY%d", i);
        snprintf(value, sizeof(value), "value%d", i);
        assert_string_equal(get(d, key), value);
    }
    dict_close(d);
    buf_free(&text);
}

/* --------------------------------------------------------------- inline */

static void test_inline(void **state)
{
    struct dict *d = open_ok("inline:{a=1, B=2 c=3,,{ d = text with spaces, commas }}",
                             DICT_FLAG_FOLD);

    assert_string_equal(get(d, "a"), "1");
    assert_string_equal(get(d, "b"), "2");
    assert_string_equal(get(d, "C"), "3");
    assert_string_equal(get(d, "d"), "text with spaces, commas");
    assert_null(get(d, "e"));
    assert_string_equal(walk(d), "a=1;b=2;c=3;d=text with spaces, commas;");
    dict_close(d);

    d = open_ok("inline:{ x=, Y=keep }", 0);
    assert_string_equal(get(d, "x"), "");
    assert_string_equal(get(d, "Y"), "keep");
    assert_null(get(d, "y"));
    dict_close(d);

    /* Duplicates: the first wins. */
    d = open_ok("inline:{k=first, K=second}", DICT_FLAG_FOLD);
    assert_string_equal(get(d, "k"), "first");
    dict_close(d);
}

static void test_inline_bad_syntax(void **state)
{
    open_fails("inline:a=1", 0, "inline:a=1: syntax error");
    open_fails("inline:{a=1", 0, "inline:{a=1: syntax error");
    open_fails("inline:{a=1}}", 0, "syntax error");
    open_fails("inline:{a=1} junk", 0, "syntax error");
    open_fails("inline:{novalue}", 0, "expected \"key=value\", got \"novalue\"");
    open_fails("inline:{=1}", 0, "missing key");
    open_fails("inline:{}", 0, "no entries");
    open_fails("inline:{ , }", 0, "no entries");
    open_fails("inline:{{a=1}x}", 0, "text after");
    open_fails("inline:{a=1, {b=2}", 0, "syntax error");
    open_fails("inline:{a=1}", DICT_FLAG_WRITE, "cannot be updated");
}

/* --------------------------------------------------------------- static */

static void test_static(void **state)
{
    struct buf why = BUF_INIT;
    struct dict *d = open_ok("static:OK", DICT_FLAG_FOLD);

    assert_string_equal(get(d, "anything"), "OK");
    assert_string_equal(get(d, ""), "OK");
    assert_int_equal(dict_iterate(d, walk_fn, NULL, &why), -1);
    dict_close(d);
    d = open_ok("static:{ value with spaces }", 0);
    assert_string_equal(get(d, "x"), "value with spaces");
    dict_close(d);
    d = open_ok("static:{}", 0);
    assert_string_equal(get(d, "x"), "");
    dict_close(d);
    open_fails("static:{unclosed", 0, "missing '}'");
    open_fails("static:{a}b", 0, "text after");
    open_fails("static:", 0, "table name is missing");
    buf_free(&why);
}

static int setup(void **state)
{
    strcpy(dir, "/tmp/test_dict_simple.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
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
        cmocka_unit_test(test_texthash),
        cmocka_unit_test(test_texthash_errors),
        cmocka_unit_test(test_texthash_empty_and_big),
        cmocka_unit_test(test_inline),
        cmocka_unit_test(test_inline_bad_syntax),
        cmocka_unit_test(test_static),
    };

    log_init("test_dict_simple");
    return cmocka_run_group_tests(tests, setup, teardown);
}
