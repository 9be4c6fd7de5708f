/*
 * test_dict_cidr - cidr: tables (lib/dict_cidr.c): IPv4 and IPv6
 * networks, bare addresses, [] forms, negation (same family only),
 * if/endif, first match wins, IPv6 edge cases (::ffff:1.2.3.4, zone ids,
 * /0, /129), host bits, errors with file and line, keys that are not
 * addresses, binary junk, and dict_open() on a file.
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

struct probe {
    const char *key;
    int status;
    const char *value;
};

struct table_case {
    const char *what;
    const char *text;
    struct probe probes[10];
};

static const struct table_case good[] = {
    { "the cidr_table(5) example: first match wins",
      "192.168.1.1             OK\n192.168.0.0/16          REJECT\n",
      { { "192.168.1.1", DICT_FOUND, "OK" }, { "192.168.1.2", DICT_FOUND, "REJECT" },
        { "192.169.0.1", DICT_NOTFOUND, NULL } } },
    { "duplicates and overlaps: the first one answers",
      "10.0.0.0/8 wide\n10.1.0.0/16 narrow\n10.0.0.0/8 dup\n",
      { { "10.1.2.3", DICT_FOUND, "wide" } } },
    { "/0 matches its own family only",
      "0.0.0.0/0 any4\n::/0 any6\n",
      { { "1.2.3.4", DICT_FOUND, "any4" }, { "2001:db8::1", DICT_FOUND, "any6" },
        { "::ffff:1.2.3.4", DICT_FOUND, "any6" } } },
    { "IPv6 forms: [addr]/len, [addr/len], addr/len, bare, [bare]",
      "[::1]/128 a\n[2001:db8::/32] b\nfe80::/10 c\n2001:db9::5 d\n[2001:dba::7] e\n",
      { { "::1", DICT_FOUND, "a" }, { "2001:db8:ffff::1", DICT_FOUND, "b" },
        { "fe80::1", DICT_FOUND, "c" }, { "2001:db9::5", DICT_FOUND, "d" },
        { "2001:DB9:0:0::5", DICT_FOUND, "d" }, { "2001:dba::7", DICT_FOUND, "e" },
        { "2001:db9::6", DICT_NOTFOUND, NULL } } },
    { "IPv4-mapped IPv6 is IPv6, as in Postfix",
      "1.2.3.0/24 v4\n::ffff:1.2.3.0/120 mapped\n",
      { { "1.2.3.4", DICT_FOUND, "v4" }, { "::ffff:1.2.3.4", DICT_FOUND, "mapped" },
        { "::FFFF:1.2.3.200", DICT_FOUND, "mapped" } } },
    { "keys that are not addresses are not found",
      "0.0.0.0/0 any4\n::/0 any6\n",
      { { "fe80::1%eth0", DICT_NOTFOUND, NULL }, { "[1.2.3.4]", DICT_NOTFOUND, NULL },
        { "1.2.3", DICT_NOTFOUND, NULL }, { "1.2.3.4 ", DICT_NOTFOUND, NULL },
        { "01.2.3.4", DICT_NOTFOUND, NULL }, { "example.com", DICT_NOTFOUND, NULL },
        { "", DICT_NOTFOUND, NULL }, { "1.2.3.256", DICT_NOTFOUND, NULL },
        { ":::", DICT_NOTFOUND, NULL } } },
    { "negation applies within the family only",
      "!10.0.0.0/8 outside\n!!192.168.0.0/16 double\n",
      { { "10.1.1.1", DICT_NOTFOUND, NULL }, { "11.1.1.1", DICT_FOUND, "outside" },
        { "2001:db8::1", DICT_NOTFOUND, NULL } } },
    { "if/endif, if !, nested; an if of the other family skips its block",
      "if 10.0.0.0/8\nif !10.1.0.0/16\n10.0.0.0/8 ten-not-one\nendif\n10.1.2.0/24 ten-one-two\n"
      "endif\nif ::/0\n0.0.0.0/0 never\nendif\n0.0.0.0/0 rest\n",
      { { "10.2.0.1", DICT_FOUND, "ten-not-one" },
        { "10.1.2.3", DICT_FOUND, "ten-one-two" },
        { "10.1.3.3", DICT_FOUND, "rest" },
        { "8.8.8.8", DICT_FOUND, "rest" },
        { "::1", DICT_NOTFOUND, NULL } } },
    { "IF/ENDIF in capitals, /32 and /128, prefix with a leading zero",
      "IF 1.2.3.4/32\n1.2.3.4 host\nENDIF\n::2/128 six\n5.0.0.0/08 five\n",
      { { "1.2.3.4", DICT_FOUND, "host" }, { "::2", DICT_FOUND, "six" },
        { "5.9.9.9", DICT_FOUND, "five" } } },
    { "results with spaces, continuation lines, comments, CRLF",
      "# comment\n1.1.1.1 550 go\r\n  away # not a comment\n\n  # a comment\n",
      { { "1.1.1.1", DICT_FOUND, "550 go  away # not a comment" } } },
};

struct bad_case {
    const char *text;
    int line;
    const char *message;
};

static const struct bad_case bad[] = {
    { "1.2.3.4/24 x\n", 1, "non-null host address bits in \"1.2.3.4/24\", perhaps you should"
      " use \"1.2.3.0/24\" instead" },
    { "ok 1\n", 1, "bad IPv4 address" },
    { "::1/129 x\n", 1, "is more than 128" },
    { "1.2.3.4/33 x\n", 1, "is more than 32" },
    { "1.2.3.0/ x\n", 1, "bad prefix length" },
    { "1.2.3.0/-1 x\n", 1, "bad prefix length" },
    { "1.2.3.0/2x x\n", 1, "bad prefix length" },
    { "1.2.3.0/99999999999999999999999 x\n", 1, "is more than 32" },
    { "2001:db8::1/32 x\n", 1, "non-null host address bits" },
    { "fe80::1%eth0 x\n", 1, "bad IPv6 address" },
    { "fe80::%eth0/64 x\n", 1, "bad IPv6 address" },
    { "1.2.3.4\n", 1, "no lookup result" },
    { "1.2.3.4 x\n[::1 y\n", 2, "missing \"]\"" },
    { "[::1]x y\n", 1, "garbage after" },
    { "! x\n", 1, "missing address pattern" },
    { "if 1.2.3.0/24\n1.2.3.4 x\n", 1, "if without a matching endif" },
    { "endif\n", 1, "endif without a matching if" },
    { "if 1.2.3.0/24 junk\nendif\n", 1, "text after the network of \"if\"" },
    { "if 1.2.3.0/24\nendif junk\nendif\n", 2, "text after \"endif\"" },
    { "if 1.2.3.4/24\nendif\n", 1, "non-null host address bits" },
    { " 1.2.3.4 x\n", 1, "must not start with white space" },
    { "1.2.3.4 a\n1.2.3.4/40 b\n256.1.1.1 c\n", 3, "bad IPv4 address" },
};

static void test_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        const struct table_case *c = &good[i];
        struct buf err = BUF_INIT, value = BUF_INIT, why = BUF_INIT;
        struct dict *d = dict_cidr_open_text("t.cidr", c->text, strlen(c->text), &err);

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
        struct dict *d = dict_cidr_open_text("bad.cidr", c->text, strlen(c->text), &err);

        if (d != NULL)
            fail_msg("table %zu \"%s\" was accepted", i, c->text);
        buf_printf(&want, "bad.cidr, line %d: ", c->line);
        if (strstr(buf_str(&err), buf_str(&want)) == NULL
            || strstr(buf_str(&err), c->message) == NULL)
            fail_msg("table %zu \"%s\": error \"%s\", expected \"%s...%s\"", i, c->text,
                     buf_str(&err), buf_str(&want), c->message);
        buf_free(&err);
        buf_free(&want);
    }
}

/* All errors are listed, and a flood of them is capped. */
static void test_many_errors(void **state)
{
    struct buf text = BUF_INIT, err = BUF_INIT;

    (void)state;
    for (int i = 0; i < 1000; i++)
        buf_puts(&text, "bad x\n");
    assert_null(dict_cidr_open_text("many", buf_str(&text), text.len, &err));
    assert_non_null(strstr(buf_str(&err), "many, line 1: "));
    assert_non_null(strstr(buf_str(&err), "many, line 100: "));
    assert_null(strstr(buf_str(&err), "many, line 101: "));
    assert_non_null(strstr(buf_str(&err), "the rest are not listed"));
    buf_free(&text);
    buf_free(&err);
}

static void test_binary_and_huge(void **state)
{
    static const char nul[] = "1.2.3.4 x\0y\n";
    struct buf err = BUF_INIT, junk = BUF_INIT, value = BUF_INIT, why = BUF_INIT;
    struct dict *d;
    unsigned seed = 99;

    (void)state;
    assert_null(dict_cidr_open_text("bin", nul, sizeof(nul) - 1, &err));
    assert_non_null(strstr(buf_str(&err), "bin, line 1: NUL byte"));
    for (int round = 0; round < 300; round++) {
        buf_reset(&junk);
        buf_reset(&err);
        for (int i = 0; i < 200; i++) {
            seed = seed * 1103515245u + 12345u;
            buf_putc(&junk, "0123456789abcdef:./[]! \n\xff"[(seed >> 16) % 24]);
        }
        d = dict_cidr_open_text("junk", junk.data, junk.len, &err);
        if (d) {
            (void)dict_lookup(d, "1.2.3.4", &value, &why);
            (void)dict_lookup(d, "::1", &value, &why);
            dict_close(d);
        }
    }
    /* A huge result within the line limit is kept whole. */
    buf_reset(&junk);
    buf_reset(&err);
    buf_puts(&junk, "::/0 ");
    for (int i = 0; i < 600000; i++)
        buf_putc(&junk, 'r');
    d = dict_cidr_open_text("big", junk.data, junk.len, &err);
    assert_non_null(d);
    assert_int_equal(dict_lookup(d, "::", &value, &why), DICT_FOUND);
    assert_int_equal(value.len, 600000);
    dict_close(d);
    buf_free(&err);
    buf_free(&junk);
    buf_free(&value);
    buf_free(&why);
}

static void test_dict_open_file(void **state)
{
    char dir[] = "/tmp/test_dict_cidr.XXXXXX";
    struct buf path = BUF_INIT, spec = BUF_INIT, err = BUF_INIT, value = BUF_INIT, why = BUF_INIT;
    struct dict *d;
    FILE *fp;

    (void)state;
    assert_non_null(mkdtemp(dir));
    buf_printf(&path, "%s/client.cidr", dir);
    fp = fopen(buf_str(&path), "w");
    assert_non_null(fp);
    fputs("192.168.1.1 OK\n192.168.0.0/16 REJECT\n2001:db8::/32 DUNNO\n", fp);
    assert_int_equal(fclose(fp), 0);
    buf_printf(&spec, "cidr:%s", buf_str(&path));
    d = dict_open(buf_str(&spec), DICT_FLAG_FOLD, NULL, &err);
    assert_non_null(d);
    assert_int_equal(dict_lookup(d, "192.168.3.3", &value, &why), DICT_FOUND);
    assert_string_equal(buf_str(&value), "REJECT");
    assert_int_equal(dict_lookup(d, "2001:DB8::1", &value, &why), DICT_FOUND);
    assert_string_equal(buf_str(&value), "DUNNO");
    dict_close(d);
    assert_int_equal(unlink(buf_str(&path)), 0);
    buf_reset(&err);
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
        cmocka_unit_test(test_many_errors),
        cmocka_unit_test(test_binary_and_huge),
        cmocka_unit_test(test_dict_open_file),
    };

    log_init("test_dict_cidr");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
