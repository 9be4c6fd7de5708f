/*
 * test_dict_regexp - regexp: tables (lib/dict_regexp.c, lib/pattern_table.c,
 * lib/logical_line.c): rule syntax, flags, negation, if/endif, $n
 * substitution and its limits, first match wins, every syntax error with
 * file and line, huge lines, binary junk, and dict_open() on a real file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dict.h"
#include "log.h"
#include "pattern_table.h"

/* One lookup: key, expected status, expected value (when found). */
struct probe {
    const char *key;
    int status;
    const char *value;
};

/* A table and what lookups in it answer. */
struct table_case {
    const char *what;
    const char *text;
    struct probe probes[8];
};

static const struct table_case good[] = {
    { "plain match, case-insensitive by default",
      "/^postmaster@/ OK\n",
      { { "postmaster@example.com", DICT_FOUND, "OK" },
        { "PostMaster@Example.COM", DICT_FOUND, "OK" },
        { "user@example.com", DICT_NOTFOUND, NULL } } },
    { "i flag makes it case-sensitive",
      "/^abc$/i yes\n",
      { { "abc", DICT_FOUND, "yes" }, { "ABC", DICT_NOTFOUND, NULL } } },
    { "ii toggles twice",
      "/^abc$/ii yes\n",
      { { "ABC", DICT_FOUND, "yes" } } },
    { "first match wins; duplicates and overlaps",
      "/^a/ first\n/^ab/ second\n/^a/ duplicate\n/b$/ third\n",
      { { "abc", DICT_FOUND, "first" }, { "a", DICT_FOUND, "first" },
        { "xb", DICT_FOUND, "third" }, { "zz", DICT_NOTFOUND, NULL } } },
    { "substitution $1 ${2} $(1) and $$",
      "/^(.*)-outgoing@(.*)$/ 550 Use ${1}@${2} instead $$5 $(1)x\n",
      { { "list-outgoing@example.org", DICT_FOUND,
          "550 Use list@example.org instead $5 listx" } } },
    { "unset and empty groups substitute nothing",
      "/^(a)|(b)$/ [$1][$2]\n/^x(y*)z$/ <$1>\n",
      { { "b", DICT_FOUND, "[][b]" }, { "a", DICT_FOUND, "[a][]" },
        { "xz", DICT_FOUND, "<>" } } },
    { "matched text is never re-expanded",
      "/^(.*)$/ got $1\n",
      { { "$1 and ${2} and $$", DICT_FOUND, "got $1 and ${2} and $$" } } },
    { "negated pattern",
      "!/^owner-/ not an owner\n",
      { { "owner-list", DICT_NOTFOUND, NULL }, { "list", DICT_FOUND, "not an owner" } } },
    { "double negation and space after !",
      "!! /^a/ yes\n",
      { { "abc", DICT_FOUND, "yes" }, { "b", DICT_NOTFOUND, NULL } } },
    { "/pat1/!/pat2/: pat1 and not pat2",
      "/^(.*)-outgoing@/!/^owner-/ use $1\n",
      { { "list-outgoing@x", DICT_FOUND, "use list" },
        { "owner-list-outgoing@x", DICT_NOTFOUND, NULL } } },
    { "if/endif and if !/re/, nested",
      "if /@example\\.com$/\n"
      "if !/^owner-/\n"
      "/^(.*)-outgoing@/ 550 use $1\n"
      "endif\n"
      "/^post/ OK\n"
      "endif\n"
      "/./ default\n",
      { { "list-outgoing@example.com", DICT_FOUND, "550 use list" },
        { "owner-list-outgoing@example.com", DICT_FOUND, "default" },
        { "postmaster@example.com", DICT_FOUND, "OK" },
        { "postmaster@example.org", DICT_FOUND, "default" },
        { "", DICT_NOTFOUND, NULL } } },
    { "IF and ENDIF in capitals, if/re/ without a space",
      "IF/^a/\n/b/ ab\nENDIF\n/b/ b\n",
      { { "ab", DICT_FOUND, "ab" }, { "xb", DICT_FOUND, "b" } } },
    { "other delimiters and an escaped delimiter",
      "~^[[:alnum:]+/]{6,}$~ base64\n%a\\%b% pct\n|x\\|y| bar\n#a# comment\n",
      { { "abc+/def", DICT_FOUND, "base64" }, { "a%b", DICT_FOUND, "pct" },
        { "x|y", DICT_FOUND, "bar" } } },
    { "pattern with white space, continuation lines, comments",
      "# comment\n\n/^a b$/ first\n  part\n   # indented comment\n\tand more\n",
      { { "a b", DICT_FOUND, "first  part\tand more" } } },
    { "x flag gives basic syntax: + is literal",
      "/^a+$/x literal\n/^a+$/ extended\n",
      { { "a+", DICT_FOUND, "literal" }, { "aaa", DICT_FOUND, "extended" } } },
    { "m flag: ^ matches after a newline",
      "/^b/m multi\n/^b/ single\n",
      { { "a\nb", DICT_FOUND, "multi" } } },
    { "without m, . matches a newline",
      "/^a.b$/ dot\n",
      { { "a\nb", DICT_FOUND, "dot" } } },
    { "CRLF line ends",
      "/^a$/ yes\r\n/^b$/ no\r\n",
      { { "a", DICT_FOUND, "yes" }, { "b", DICT_FOUND, "no" } } },
    { "empty table",
      "# nothing\n\n   \n",
      { { "anything", DICT_NOTFOUND, NULL } } },
    { "two-digit group",
      "/(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)/ $11$10$1\n",
      { { "abcdefghijk", DICT_FOUND, "kja" } } },
    { "moderate repetition counts are fine",
      "/^a{1,1000}b{2,}(c{3}){10}$/ ok\n",
      { { "aabbcccccccccccccccccccccccccccccc", DICT_FOUND, "ok" } } },
};

/* A bad table: the error must name the line and contain text. */
struct bad_case {
    const char *text;
    int line;
    const char *message;
};

static const struct bad_case bad[] = {
    { "/a/ ok\nif /b/\n/c/ x\n", 2, "if without a matching endif" },
    { "/a/ ok\nendif\n", 2, "endif without a matching if" },
    { "if /a/\nendif\nendif\n", 3, "endif without a matching if" },
    { "/a/q x\n", 1, "unknown regexp flag \"q\"" },
    { "/a/s x\n", 1, "unknown regexp flag \"s\"" },
    { "/a(/ x\n", 1, "bad regular expression" },
    { "/[a/ x\n", 1, "bad regular expression" },
    { "/(a)/ $10\n", 1, "out of range replacement index \"$10\"" },
    { "/(a)/ $2\n", 1, "out of range replacement index \"$2\"" },
    { "/a/ $1\n", 1, "out of range replacement index \"$1\"" },
    { "/(a)/ $0\n", 1, "out of range replacement index \"0\"" },
    { "/(a)/ $100\n", 1, "out of range replacement index \"100\"" },
    { "/(a)/ $1st\n", 1, "non-numeric replacement index \"1st\"" },
    { "/(a)/ ${x}\n", 1, "non-numeric replacement index \"x\"" },
    { "/(a)/ cost $\n", 1, "empty $ reference" },
    { "/(a)/ cost $ 5\n", 1, "empty $ reference" },
    { "/(a)/ ${1\n", 1, "unbalanced \"{\"" },
    { "/a/\n", 1, "missing result" },
    { "/a/   \n", 1, "missing result" },
    { "!/(a)/ $1\n", 1, "negated pattern" },
    { "/a x\n", 1, "no closing pattern delimiter \"/\"" },
    { "/a\\/ x\n", 1, "no closing pattern delimiter" },
    { "!\n", 1, "missing pattern" },
    { "aaa bbb\n", 1, "unrecognized line" },
    { "ifx /a/\nendif\n", 1, "unrecognized line" },
    { "if /a/ x\nendif\n", 1, "text after the pattern of \"if\"" },
    { "if /a/\nendif x\n", 2, "text after \"endif\"" },
    { "if\nendif\n", 1, "missing pattern" },
    { " /a/ b\n", 1, "must not start with white space" },
    { "/a/!/b/!/c/ x\n", 1, "unexpected \"!\"" },
    { "/a/b/ x\n", 1, "unknown regexp flag \"b\"" },
    { "\\a\\ x\n", 1, "bad pattern delimiter" },
    { "/((a{100}){100}){100}/ x\n", 1, "too complex" },
    { "/^a+++++++++++++++++++++++++++++++/ x\n", 1, "too complex" },
    /* Found by the fuzzer: a few stacked operators after "?" made regcomp exhaust memory. */
    { "/0+2!A?+++++++++++++++/ x\n", 1, "too complex" },
    { "/a*{2}+/ x\n", 1, "too complex" },
    { "/x/ ok\n/^a\\+\\+\\+\\+\\+\\+\\+\\+\\+\\+\\+\\+\\+\\+\\+\\+\\+\\+\\+/x y\n", 2, "too complex" },
};

static void test_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        const struct table_case *c = &good[i];
        struct buf err = BUF_INIT, value = BUF_INIT, why = BUF_INIT;
        struct dict *d = dict_regexp_open_text("t.regexp", c->text, strlen(c->text), &err);

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
        struct dict *d = dict_regexp_open_text("bad.regexp", c->text, strlen(c->text), &err);

        if (d != NULL)
            fail_msg("table %zu \"%s\" was accepted", i, c->text);
        buf_printf(&want, "bad.regexp, line %d: ", c->line);
        if (strstr(buf_str(&err), buf_str(&want)) == NULL
            || strstr(buf_str(&err), c->message) == NULL)
            fail_msg("table %zu \"%s\": error \"%s\", expected \"%s...%s\"", i, c->text,
                     buf_str(&err), buf_str(&want), c->message);
        buf_free(&err);
        buf_free(&want);
    }
}

/* Every error is reported, not only the first. */
static void test_all_errors(void **state)
{
    const char *text = "/a/q x\n/ok/ fine\n/b(/ y\nendif\n/c/\n";
    struct buf err = BUF_INIT;

    (void)state;
    assert_null(dict_regexp_open_text("f", text, strlen(text), &err));
    assert_non_null(strstr(buf_str(&err), "f, line 1: "));
    assert_non_null(strstr(buf_str(&err), "f, line 3: "));
    assert_non_null(strstr(buf_str(&err), "f, line 4: "));
    assert_non_null(strstr(buf_str(&err), "f, line 5: "));
    assert_null(strstr(buf_str(&err), "line 2"));
    buf_free(&err);
}

/* A logical line over the limit is an error; a long one under it works. */
static void test_huge_lines(void **state)
{
    struct buf text = BUF_INIT, err = BUF_INIT, value = BUF_INIT, why = BUF_INIT;
    struct dict *d;

    (void)state;
    buf_puts(&text, "/^x$/ ");
    for (size_t i = 0; i < PTAB_MAX_LINE; i++)
        buf_putc(&text, 'v');
    buf_puts(&text, "\n/^y$/ ok\n");
    assert_null(dict_regexp_open_text("huge", buf_str(&text), text.len, &err));
    assert_non_null(strstr(buf_str(&err), "huge, line 1: logical line longer than"));
    assert_null(strstr(buf_str(&err), "line 2"));

    /* The same through continuation lines. */
    buf_reset(&text);
    buf_reset(&err);
    buf_puts(&text, "/^x$/ a\n");
    for (size_t i = 0; i < 2000; i++) {
        buf_puts(&text, " ");
        for (size_t j = 0; j < 1000; j++)
            buf_putc(&text, 'c');
        buf_puts(&text, "\n");
    }
    assert_null(dict_regexp_open_text("huge", buf_str(&text), text.len, &err));
    assert_non_null(strstr(buf_str(&err), "huge, line 1: logical line longer than"));

    /* 512 KiB of literal result is fine. */
    buf_reset(&text);
    buf_reset(&err);
    buf_puts(&text, "/^x$/ ");
    for (size_t i = 0; i < 512 * 1024; i++)
        buf_putc(&text, 'v');
    d = dict_regexp_open_text("big", buf_str(&text), text.len, &err);
    assert_non_null(d);
    assert_int_equal(dict_lookup(d, "x", &value, &why), DICT_FOUND);
    assert_int_equal(value.len, 512 * 1024);
    dict_close(d);
    buf_free(&text);
    buf_free(&err);
    buf_free(&value);
    buf_free(&why);
}

/* Many $n could expand past DICT_MAX_VALUE: refused at open. */
static void test_expansion_bound(void **state)
{
    struct buf text = BUF_INIT, err = BUF_INIT, value = BUF_INIT, why = BUF_INIT, key = BUF_INIT;
    struct dict *d;
    size_t refs = DICT_MAX_VALUE / DICT_MAX_KEY;

    (void)state;
    buf_puts(&text, "/^(.*)$/ ");
    for (size_t i = 0; i < refs + 1; i++)
        buf_puts(&text, "$1");
    assert_null(dict_regexp_open_text("exp", buf_str(&text), text.len, &err));
    assert_non_null(strstr(buf_str(&err), "may expand to more than"));

    /* Exactly at the bound: accepted, and the longest key fits. */
    buf_reset(&text);
    buf_reset(&err);
    buf_puts(&text, "/^(.*)$/ ");
    for (size_t i = 0; i < refs; i++)
        buf_puts(&text, "$1");
    d = dict_regexp_open_text("exp", buf_str(&text), text.len, &err);
    assert_non_null(d);
    for (size_t i = 0; i < DICT_MAX_KEY; i++)
        buf_putc(&key, 'k');
    assert_int_equal(dict_lookup(d, buf_str(&key), &value, &why), DICT_FOUND);
    assert_int_equal(value.len, refs * DICT_MAX_KEY);
    /* A key over DICT_MAX_KEY is refused before the table sees it. */
    buf_putc(&key, 'k');
    assert_int_equal(dict_lookup(d, buf_str(&key), &value, &why), DICT_NOTFOUND);
    dict_close(d);
    buf_free(&text);
    buf_free(&err);
    buf_free(&value);
    buf_free(&why);
    buf_free(&key);
}

/* NUL bytes are errors; other binary junk parses or fails cleanly. */
static void test_binary(void **state)
{
    static const char nul[] = "/a/ x\n/b\0/ y\n/c/ z\n";
    struct buf err = BUF_INIT, junk = BUF_INIT, value = BUF_INIT, why = BUF_INIT;
    struct dict *d;
    unsigned seed = 12345;

    (void)state;
    assert_null(dict_regexp_open_text("bin", nul, sizeof(nul) - 1, &err));
    assert_non_null(strstr(buf_str(&err), "bin, line 2: NUL byte"));

    /* High-bit bytes in pattern, result and key. */
    buf_reset(&err);
    d = dict_regexp_open_text("bin", "/\xc3\xa9t\xe9/ \xff\xfe\n",
                              strlen("/\xc3\xa9t\xe9/ \xff\xfe\n"), &err);
    assert_non_null(d);
    assert_int_equal(dict_lookup(d, "x\xc3\xa9t\xe9y", &value, &why), DICT_FOUND);
    assert_string_equal(buf_str(&value), "\xff\xfe");
    assert_int_equal(dict_lookup(d, "\x01\x02\x7f\x80", &value, &why), DICT_NOTFOUND);
    dict_close(d);

    /* Random bytes: never a crash; errors name a line. */
    for (int round = 0; round < 200; round++) {
        buf_reset(&junk);
        buf_reset(&err);
        for (int i = 0; i < 300; i++) {
            seed = seed * 1103515245u + 12345u;
            buf_putc(&junk, (int)((seed >> 16) & 0xff));
        }
        d = dict_regexp_open_text("junk", junk.data, junk.len, &err);
        if (d) {
            (void)dict_lookup(d, "some key", &value, &why);
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

/* Through dict_open() on a file, and a missing file. */
static void test_dict_open_file(void **state)
{
    char dir[] = "/tmp/test_dict_regexp.XXXXXX";
    struct buf path = BUF_INIT, spec = BUF_INIT, err = BUF_INIT, value = BUF_INIT, why = BUF_INIT;
    struct dict *d;
    FILE *fp;

    (void)state;
    assert_non_null(mkdtemp(dir));
    buf_printf(&path, "%s/header_checks", dir);
    fp = fopen(buf_str(&path), "w");
    assert_non_null(fp);
    fputs("/^Subject: make money fast/ REJECT\n/^From: (.*)$/ PREPEND X-From: $1\n", fp);
    assert_int_equal(fclose(fp), 0);

    buf_printf(&spec, "regexp:%s", buf_str(&path));
    d = dict_open(buf_str(&spec), DICT_FLAG_FOLD, NULL, &err);
    assert_non_null(d);
    assert_string_equal(d->spec, buf_str(&spec));
    assert_int_equal(dict_lookup(d, "Subject: MAKE MONEY FAST now", &value, &why), DICT_FOUND);
    assert_string_equal(buf_str(&value), "REJECT");
    /* A pattern table does not fold the key: the case survives in $1. */
    assert_int_equal(dict_lookup(d, "From: Alice <A@X>", &value, &why), DICT_FOUND);
    assert_string_equal(buf_str(&value), "PREPEND X-From: Alice <A@X>");
    assert_int_equal(dict_lookup(d, "To: bob", &value, &why), DICT_NOTFOUND);
    dict_close(d);

    /* Not updatable. */
    buf_reset(&err);
    assert_null(dict_open(buf_str(&spec), DICT_FLAG_CREATE, NULL, &err));
    assert_non_null(strstr(buf_str(&err), "cannot be updated"));

    buf_reset(&err);
    assert_int_equal(unlink(buf_str(&path)), 0);
    assert_null(dict_open(buf_str(&spec), 0, NULL, &err));
    assert_non_null(strstr(buf_str(&err), "No such file"));
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
        cmocka_unit_test(test_all_errors),
        cmocka_unit_test(test_huge_lines),
        cmocka_unit_test(test_expansion_bound),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_dict_open_file),
    };

    log_init("test_dict_regexp");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
