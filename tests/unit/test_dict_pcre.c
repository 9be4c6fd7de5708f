/*
 * test_dict_pcre - pcre: tables (lib/dict_pcre.c on lib/pattern_table.c):
 * the PCRE flags as pcre_table(5) documents them, negation, if/endif,
 * $n substitution, syntax errors with file and line, what PCRE2 refuses,
 * and catastrophic backtracking answered quickly with DICT_TEMPFAIL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "dict.h"
#include "log.h"
#include "pattern_table.h"

struct probe {
    const char *key;
    int status;
    const char *value;
};

struct table_case {
    const char *what;
    const char *text;
    struct probe probes[8];
};

static const struct table_case good[] = {
    { "case-insensitive by default, i toggles",
      "/^abc$/i exact\n/^abc$/ folded\n",
      { { "abc", DICT_FOUND, "exact" }, { "ABC", DICT_FOUND, "folded" } } },
    { "perl syntax: lookahead, \\d, lazy",
      "/^(?!owner-)(.*)-outgoing@/ 550 Use $1\n/^friend@(?!my\\.domain)/ 550 no\n"
      "/^(\\d+?)(\\d*)$/ <$1|$2>\n",
      { { "list-outgoing@x", DICT_FOUND, "550 Use list" },
        { "owner-list-outgoing@x", DICT_NOTFOUND, NULL },
        { "friend@other.domain", DICT_FOUND, "550 no" },
        { "friend@my.domain", DICT_NOTFOUND, NULL },
        { "123", DICT_FOUND, "<1|23>" } } },
    { "s is on by default: . matches newline; s turns it off",
      "/^a.b$/s nodot\n/^a.b$/ dot\n",
      { { "a\nb", DICT_FOUND, "dot" }, { "axb", DICT_FOUND, "nodot" } } },
    { "m: ^ after newlines",
      "/^b$/m multi\n",
      { { "a\nb\nc", DICT_FOUND, "multi" }, { "ab", DICT_NOTFOUND, NULL } } },
    { "x: white space in the pattern ignored",
      "/^ a b c $/x extended\n",
      { { "abc", DICT_FOUND, "extended" }, { "a b c", DICT_NOTFOUND, NULL } } },
    { "A: anchored",
      "/b/A anchored\n",
      { { "bc", DICT_FOUND, "anchored" }, { "abc", DICT_NOTFOUND, NULL } } },
    { "E: $ only at the very end",
      "/a$/E endonly\n/a$/ normal\n",
      { { "a\n", DICT_FOUND, "normal" }, { "a", DICT_FOUND, "endonly" } } },
    { "U: ungreedy",
      "/^(a+)/U <$1>\n",
      { { "aaa", DICT_FOUND, "<a>" } } },
    { "X accepted (PCRE2 always rejects unknown escapes)",
      "/^a$/X yes\n",
      { { "A", DICT_FOUND, "yes" } } },
    { "negation, if/endif, if !",
      "if !/^owner-/\n/^(.*)-request$/ req $1\nendif\n!/@/ local\n",
      { { "list-request", DICT_FOUND, "req list" },
        { "owner-x-request", DICT_FOUND, "local" },
        { "a@b", DICT_NOTFOUND, NULL } } },
    { "first match wins, duplicate rules",
      "/a/ 1\n/a/ 2\n/b/ 3\n",
      { { "ab", DICT_FOUND, "1" }, { "b", DICT_FOUND, "3" } } },
    { "${n} $(n) $$ and no re-expansion",
      "/^(\\w+) (\\S+)$/ ${2}x $(1) $$1\n",
      { { "a $1", DICT_FOUND, "$1x a $1" } } },
    { "more groups than used",
      "/^(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)$/ $2\n",
      { { "abcdefghijkl", DICT_FOUND, "b" } } },
};

struct bad_case {
    const char *text;
    int line;
    const char *message;
};

static const struct bad_case bad[] = {
    { "/a/q x\n", 1, "unknown pcre flag \"q\"" },
    { "/a/!/b/ x\n", 1, "unknown pcre flag \"!\"" },
    { "/a(/ x\n", 1, "bad regular expression" },
    { "/\\q/ x\n", 1, "bad regular expression" },
    { "/(*UTF)a/ x\n", 1, "bad regular expression" },
    { "/(a)/ $2\n", 1, "out of range replacement index \"$2\"" },
    { "/(a)/ $10\n", 1, "out of range replacement index \"$10\"" },
    { "/(a)/ $0\n", 1, "out of range replacement index \"0\"" },
    { "!/(a)/ $1\n", 1, "negated pattern" },
    { "/a/\n", 1, "missing result" },
    { "if /a/\n/b/ c\n", 1, "if without a matching endif" },
    { "/a/ b\nendif\n", 2, "endif without a matching if" },
    { "if /a(/\nendif\n", 1, "bad regular expression" },
    { "if /a/\n  /b/ c\nendif\n", 1, "text after the pattern of \"if\"" },
};

static void test_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        const struct table_case *c = &good[i];
        struct buf err = BUF_INIT, value = BUF_INIT, why = BUF_INIT;
        struct dict *d = dict_pcre_open_text("t.pcre", c->text, strlen(c->text), &err);

        if (d == NULL)
            fail_msg("%s: open failed: %s", c->what, buf_str(&err));
        for (const struct probe *p = c->probes; p->key; p++) {
            int rc = dict_lookup(d, p->key, &value, &why);

            if (rc != p->status)
                fail_msg("%s: key \"%s\": status %d, expected %d (%s)", c->what, p->key, rc,
                         p->status, buf_str(&why));
            if (p->value && strcmp(buf_str(&value), p->value) != 0)
                fail_msg("%s: key \"%s\": value \"%s\", expected \"%s\"", c->what, p->key,
                         buf_str(&value), p->value);
        }
        dict_close(d);
        buf_free(&err);
        buf_free(&value);
        buf_free(&why);
    }
}

static void test_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const struct bad_case *c = &bad[i];
        struct buf err = BUF_INIT, want = BUF_INIT;
        struct dict *d = dict_pcre_open_text("bad.pcre", c->text, strlen(c->text), &err);

        if (d != NULL)
            fail_msg("table %zu \"%s\" was accepted", i, c->text);
        buf_printf(&want, "bad.pcre, line %d: ", c->line);
        if (strstr(buf_str(&err), buf_str(&want)) == NULL
            || strstr(buf_str(&err), c->message) == NULL)
            fail_msg("table %zu \"%s\": error \"%s\", expected \"%s...%s\"", i, c->text,
                     buf_str(&err), buf_str(&want), c->message);
        buf_free(&err);
        buf_free(&want);
    }
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Exponential backtracking hits the match limit: TEMPFAIL, quickly. */
static void test_backtracking(void **state)
{
    const char *text = "/^(a+)+$/ never\n/^((a|aa)*)*b$/ never\n/./ later\n";
    const char *text2 = "/^(x+x+)+y$/ y\n/^(\\w+\\s?)*$/ x\n";
    struct buf err = BUF_INIT, value = BUF_INIT, why = BUF_INIT, key = BUF_INIT;
    struct dict *d;
    double t0;

    (void)state;
    d = dict_pcre_open_text("slow.pcre", text, strlen(text), &err);
    assert_non_null(d);
    for (int i = 0; i < 40; i++)
        buf_putc(&key, 'a');
    buf_putc(&key, '!');
    t0 = now();
    assert_int_equal(dict_lookup(d, buf_str(&key), &value, &why), DICT_TEMPFAIL);
    assert_true(now() - t0 < 5.0);
    assert_non_null(strstr(buf_str(&why), "pcre:slow.pcre, line 1: "));
    assert_non_null(strstr(buf_str(&why), "limit"));
    /* A harmless key still works. */
    buf_reset(&why);
    assert_int_equal(dict_lookup(d, "aaa", &value, &why), DICT_FOUND);
    assert_string_equal(buf_str(&value), "never");
    dict_close(d);

    d = dict_pcre_open_text("slow2.pcre", text2, strlen(text2), &err);
    assert_non_null(d);
    buf_reset(&key);
    for (int i = 0; i < 1000; i++)
        buf_puts(&key, "ab ");
    buf_puts(&key, "!");
    t0 = now();
    assert_int_equal(dict_lookup(d, buf_str(&key), &value, &why), DICT_TEMPFAIL);
    assert_true(now() - t0 < 5.0);
    buf_reset(&key);
    for (int i = 0; i < 40; i++)
        buf_putc(&key, 'x');
    buf_puts(&key, "zy");
    assert_int_equal(dict_lookup(d, buf_str(&key), &value, &why), DICT_TEMPFAIL);
    assert_non_null(strstr(buf_str(&why), "slow2.pcre, line 1: "));
    dict_close(d);
    buf_free(&err);
    buf_free(&value);
    buf_free(&why);
    buf_free(&key);
}

static void test_binary(void **state)
{
    static const char nul[] = "/a/ x\n/b\0/ y\n";
    struct buf err = BUF_INIT, junk = BUF_INIT, value = BUF_INIT, why = BUF_INIT;
    struct dict *d;
    unsigned seed = 777;

    (void)state;
    assert_null(dict_pcre_open_text("bin", nul, sizeof(nul) - 1, &err));
    assert_non_null(strstr(buf_str(&err), "bin, line 2: NUL byte"));

    /* Invalid UTF-8 in key and pattern: bytes, not characters. */
    buf_reset(&err);
    d = dict_pcre_open_text("bin", "/\\xff(.)\\xfe/ got $1\n", 21, &err);
    assert_non_null(d);
    assert_int_equal(dict_lookup(d, "\xff\xc3\xfe", &value, &why), DICT_FOUND);
    assert_string_equal(buf_str(&value), "got \xc3");
    dict_close(d);

    for (int round = 0; round < 200; round++) {
        buf_reset(&junk);
        buf_reset(&err);
        for (int i = 0; i < 300; i++) {
            seed = seed * 1103515245u + 12345u;
            buf_putc(&junk, (int)((seed >> 16) & 0xff));
        }
        d = dict_pcre_open_text("junk", junk.data, junk.len, &err);
        if (d) {
            (void)dict_lookup(d, "\x80\x81 key", &value, &why);
            dict_close(d);
        } else {
            assert_non_null(strstr(buf_str(&err), "junk"));
        }
    }
    buf_free(&err);
    buf_free(&junk);
    buf_free(&value);
    buf_free(&why);
}

static void test_dict_open_file(void **state)
{
    char dir[] = "/tmp/test_dict_pcre.XXXXXX";
    struct buf path = BUF_INIT, spec = BUF_INIT, err = BUF_INIT, value = BUF_INIT, why = BUF_INIT;
    struct dict *d;
    FILE *fp;

    (void)state;
    assert_non_null(mkdtemp(dir));
    buf_printf(&path, "%s/access.pcre", dir);
    fp = fopen(buf_str(&path), "w");
    assert_non_null(fp);
    fputs("/^noddy@my\\.domain$/\n  550 This user is a funny one.\n", fp);
    assert_int_equal(fclose(fp), 0);
    buf_printf(&spec, "pcre:%s", buf_str(&path));
    d = dict_open(buf_str(&spec), DICT_FLAG_FOLD, NULL, &err);
    assert_non_null(d);
    assert_int_equal(dict_lookup(d, "noddy@my.domain", &value, &why), DICT_FOUND);
    assert_string_equal(buf_str(&value), "550 This user is a funny one.");
    dict_close(d);
    assert_int_equal(unlink(buf_str(&path)), 0);
    assert_int_equal(rmdir(dir), 0);
    buf_free(&path);
    buf_free(&spec);
    buf_free(&err);
    buf_free(&value);
    buf_free(&why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_backtracking),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_dict_open_file),
    };

    log_init("test_dict_pcre");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
