/*
 * test_table_source - unit tests for lib/table_source: Postfix's
 * "key value" source format and its nasty cases (continuation at the
 * start, comments inside a continued entry, CRLF, NUL bytes, a key with
 * no value, lines over the limit, binary junk, trailing white space, an
 * empty file), from memory and from files (streamed in chunks).
 */
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
#include "log.h"
#include "table_source.h"

/* Entries seen, as "line:key=value\n" lines. */
struct got {
    struct buf out;
    int count;
    int stop_after;             /* 0: never stop */
};

static int collect(const char *key, const char *value, int line, void *arg)
{
    struct got *g = arg;

    buf_printf(&g->out, "%d:%s=%s\n", line, key, value);
    g->count++;
    return g->stop_after && g->count >= g->stop_after;
}

/* Parse text; return the error count; entries in g, errors in err. */
static int parse(const char *text, size_t len, struct got *g, struct buf *err)
{
    buf_init(&g->out, 0);
    g->count = 0;
    buf_init(err, 0);
    return table_source_parse("src", text, len, collect, g, err);
}

static void free_got(struct got *g, struct buf *err)
{
    buf_free(&g->out);
    buf_free(err);
}

#define PARSE(text) parse((text), sizeof(text) - 1, &g, &err)

static void test_basic(void **state)
{
    struct got g = { 0 };
    struct buf err;
    int rc = PARSE("# comment\n"
                   "\n"
                   "key1 value1\n"
                   "key2\t  value with  spaces  \n"
                   "   # indented comment\n"
                   "user@example.com  other@example.net\n");

    assert_int_equal(rc, 0);
    assert_string_equal(buf_str(&g.out), "3:key1=value1\n"
                        "4:key2=value with  spaces\n"
                        "6:user@example.com=other@example.net\n");
    assert_string_equal(buf_str(&err), "");
    free_got(&g, &err);
}

static void test_continuation(void **state)
{
    struct got g = { 0 };
    struct buf err;
    int rc = PARSE("key first\n"
                   "   second  \n"
                   "\tthird\n"
                   "next one\n");

    assert_int_equal(rc, 0);
    assert_string_equal(buf_str(&g.out), "1:key=first second third\n4:next=one\n");
    free_got(&g, &err);
}

/* The value may start on a continuation line. */
static void test_value_on_continuation(void **state)
{
    struct got g = { 0 };
    struct buf err;
    int rc = PARSE("key\n  value\n");

    assert_int_equal(rc, 0);
    assert_string_equal(buf_str(&g.out), "1:key=value\n");
    free_got(&g, &err);
}

static void test_continuation_at_start(void **state)
{
    struct got g = { 0 };
    struct buf err;
    int rc = PARSE("  orphan value\n"
                   "  another orphan\n"
                   "key value\n");

    assert_int_equal(rc, 1);    /* one error for the run of orphans */
    assert_string_equal(buf_str(&g.out), "3:key=value\n");
    assert_non_null(strstr(buf_str(&err), "src, line 1: continuation line"));
    free_got(&g, &err);
}

static void test_comment_inside_continuation(void **state)
{
    struct got g = { 0 };
    struct buf err;
    int rc = PARSE("key a\n"
                   "# a comment in the middle\n"
                   "\n"
                   "   b\n"
                   "  # indented comment\n"
                   "  c\n");

    assert_int_equal(rc, 0);
    assert_string_equal(buf_str(&g.out), "1:key=a b c\n");
    free_got(&g, &err);
}

static void test_crlf(void **state)
{
    struct got g = { 0 };
    struct buf err;
    int rc = PARSE("key value\r\n"
                   "k2 v2\r\n"
                   "  more\r\n"
                   "\r\n"
                   "#c\r\n");

    assert_int_equal(rc, 0);
    assert_string_equal(buf_str(&g.out), "1:key=value\n2:k2=v2 more\n");
    free_got(&g, &err);
}

static void test_nul_byte(void **state)
{
    struct got g = { 0 };
    struct buf err;
    int rc = PARSE("a 1\n"
                   "b x\0y\n"
                   "  continued\n"
                   "c 3\n"
                   "d 4\n"
                   "  cont\0inued\n");

    assert_int_equal(rc, 2);
    assert_string_equal(buf_str(&g.out), "1:a=1\n4:c=3\n");
    assert_string_equal(buf_str(&err), "src, line 2: NUL byte in line\n"
                        "src, line 6: NUL byte in line\n");
    free_got(&g, &err);
}

static void test_key_without_value(void **state)
{
    struct got g = { 0 };
    struct buf err;
    int rc = PARSE("lonely\n"
                   "ok value\n"
                   "trailing   \t \n"
                   "last");

    assert_int_equal(rc, 3);
    assert_string_equal(buf_str(&g.out), "2:ok=value\n");
    assert_string_equal(buf_str(&err),
                        "src, line 1: expected format: key whitespace value\n"
                        "src, line 3: expected format: key whitespace value\n"
                        "src, line 4: expected format: key whitespace value\n");
    free_got(&g, &err);
}

/* A line over the limit is one error; the entries around it survive. */
static void test_huge_line(void **state)
{
    size_t big = TABLE_SOURCE_MAX_LINE + 10;
    struct buf text;
    struct got g = { 0 };
    struct buf err;
    int rc;

    buf_init(&text, 4 * TABLE_SOURCE_MAX_LINE);
    buf_puts(&text, "a 1\nhuge ");
    for (size_t i = 0; i < big; i++)
        buf_putc(&text, 'x');
    buf_puts(&text, "\n  continued\nb 2\n");
    rc = parse(text.data, text.len, &g, &err);
    assert_int_equal(rc, 1);
    assert_string_equal(buf_str(&g.out), "1:a=1\n4:b=2\n");
    assert_non_null(strstr(buf_str(&err), "src, line 2: line longer than"));
    free_got(&g, &err);

    /* Lines each under the limit that join into an entry over it. */
    buf_reset(&text);
    buf_puts(&text, "k ");
    for (int j = 0; j < 3; j++) {
        for (size_t i = 0; i < TABLE_SOURCE_MAX_LINE / 2; i++)
            buf_putc(&text, 'y');
        buf_puts(&text, "\n ");
    }
    buf_puts(&text, "\nz 1\n");
    rc = parse(text.data, text.len, &g, &err);
    assert_int_equal(rc, 1);
    assert_string_equal(buf_str(&g.out), "5:z=1\n");
    assert_non_null(strstr(buf_str(&err), "src, line 1: entry longer than"));
    free_got(&g, &err);
    buf_free(&text);
}

static void test_binary_junk(void **state)
{
    unsigned char junk[4096];
    struct got g = { 0 };
    struct buf err;
    unsigned seed = 12345;

    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof(junk); i++) {
            seed = seed * 1103515245u + 12345u;
            junk[i] = (unsigned char)(seed >> 16);
        }
        (void)parse((const char *)junk, sizeof(junk), &g, &err);
        free_got(&g, &err);
    }
    /* High bytes and control characters other than NUL are data. */
    (void)PARSE("k\x01\xff v\xc3\xa9\x7f\n");
    assert_string_equal(buf_str(&g.out), "1:k\x01\xff=v\xc3\xa9\x7f\n");
    free_got(&g, &err);
}

static void test_trailing_white_space(void **state)
{
    struct got g = { 0 };
    struct buf err;
    int rc = PARSE("key   value  \t\v\f \n"
                   "  \t \n"
                   "k2 v2 \t");

    assert_int_equal(rc, 0);
    assert_string_equal(buf_str(&g.out), "1:key=value\n3:k2=v2\n");
    free_got(&g, &err);
}

static void test_empty(void **state)
{
    struct got g = { 0 };
    struct buf err;

    assert_int_equal(parse("", 0, &g, &err), 0);
    assert_int_equal(g.count, 0);
    free_got(&g, &err);
    assert_int_equal(PARSE("\n\n   \n# only comments\n"), 0);
    assert_int_equal(g.count, 0);
    free_got(&g, &err);
}

/* All errors are reported, each with its line; the messages are bounded. */
static void test_many_errors(void **state)
{
    struct buf text;
    struct got g = { 0 };
    struct buf err;
    int rc;

    buf_init(&text, 0);
    for (int i = 0; i < 500; i++)
        buf_puts(&text, "novalue\nk v\n");
    rc = parse(text.data, text.len, &g, &err);
    assert_int_equal(rc, 500);
    assert_int_equal(g.count, 500);
    assert_non_null(strstr(buf_str(&err), "src, line 1: "));
    assert_non_null(strstr(buf_str(&err), "src, line 199: "));
    assert_non_null(strstr(buf_str(&err), "src: 400 more errors not shown\n"));
    free_got(&g, &err);
    buf_free(&text);
}

static void test_callback_stops(void **state)
{
    struct got g = { 0 };
    struct buf err;
    int rc;

    buf_init(&g.out, 0);
    buf_init(&err, 0);
    g.stop_after = 2;
    rc = table_source_parse("src", "a 1\nb 2\nc 3\nbad\n", 16, collect, &g, &err);
    assert_int_equal(rc, 0);
    assert_int_equal(g.count, 2);
    free_got(&g, &err);
}

/* ---------------------------------------------------------------- files */

static char dir[64];

static const char *write_file(const char *name, const char *data, size_t len)
{
    static char path[128];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
    return path;
}

static int read_src(const char *path, size_t limit, struct got *g, struct buf *err)
{
    buf_init(&g->out, 0);
    g->count = 0;
    buf_init(err, 0);
    return table_source_read(path, limit, collect, g, err);
}

static void test_read_file(void **state)
{
    struct got g = { 0 };
    struct buf err;
    const char *text = "a 1\n  more\n\nb 2\nnovalue\nc 3";
    const char *path = write_file("plain", text, strlen(text));
    char expect[256];

    assert_int_equal(read_src(path, 0, &g, &err), 1);
    assert_string_equal(buf_str(&g.out), "1:a=1 more\n4:b=2\n6:c=3\n");
    snprintf(expect, sizeof(expect), "%s, line 5: expected format: key whitespace value\n",
             path);
    assert_string_equal(buf_str(&err), expect);
    free_got(&g, &err);

    /* Too big for the limit. */
    assert_int_equal(read_src(path, 5, &g, &err), 1);
    assert_non_null(strstr(buf_str(&err), "file larger than 5 bytes"));
    free_got(&g, &err);

    /* Empty file. */
    path = write_file("empty", "", 0);
    assert_int_equal(read_src(path, 0, &g, &err), 0);
    assert_int_equal(g.count, 0);
    free_got(&g, &err);
}

static void test_read_missing(void **state)
{
    struct got g = { 0 };
    struct buf err;
    char path[128], expect[256];

    snprintf(path, sizeof(path), "%s/nonexistent", dir);
    assert_int_equal(read_src(path, 0, &g, &err), 1);
    snprintf(expect, sizeof(expect), "open %s: No such file or directory\n", path);
    assert_string_equal(buf_str(&err), expect);
    free_got(&g, &err);
    assert_int_equal(read_src(dir, 0, &g, &err), 1);
    assert_non_null(strstr(buf_str(&err), "Is a directory"));
    free_got(&g, &err);
}

/* Lines that cross the read chunks, a huge line, and CRLF, streamed. */
static void test_read_streamed(void **state)
{
    struct buf text, expect;
    struct got g = { 0 };
    struct buf err;
    const char *path;
    int line = 0, rc;

    buf_init(&text, 8 * TABLE_SOURCE_MAX_LINE);
    buf_init(&expect, 8 * TABLE_SOURCE_MAX_LINE);
    for (int i = 0; i < 30000; i++) {
        buf_printf(&text, "user%d@example.com value%d\r\n", i, i);
        buf_printf(&expect, "%d:user%d@example.com=value%d\n", ++line, i, i);
    }
    /* A 600 KB value crosses several 256 KB chunks. */
    buf_puts(&text, "long ");
    buf_puts(&expect, "");
    buf_printf(&expect, "%d:long=", ++line);
    for (int i = 0; i < 600 * 1024; i++) {
        buf_putc(&text, 'v');
        buf_putc(&expect, 'v');
    }
    buf_puts(&text, "\n");
    buf_puts(&expect, "\n");
    /* A line over the limit. */
    line++;
    buf_puts(&text, "huge ");
    for (size_t i = 0; i < TABLE_SOURCE_MAX_LINE + 100; i++)
        buf_putc(&text, 'h');
    buf_puts(&text, "\n  continued\nafter huge\n");
    line += 2;
    buf_printf(&expect, "%d:after=huge\n", line);
    path = write_file("big", text.data, text.len);
    rc = read_src(path, 0, &g, &err);
    assert_int_equal(rc, 1);
    assert_true(g.out.len == expect.len);
    assert_memory_equal(g.out.data, expect.data, expect.len);
    assert_non_null(strstr(buf_str(&err), ", line 30002: line longer than"));
    free_got(&g, &err);
    /* Ending inside a huge line. */
    buf_reset(&text);
    buf_puts(&text, "a b\nhuge ");
    for (size_t i = 0; i < TABLE_SOURCE_MAX_LINE + 100; i++)
        buf_putc(&text, 'h');
    path = write_file("bigend", text.data, text.len);
    assert_int_equal(read_src(path, 0, &g, &err), 1);
    assert_string_equal(buf_str(&g.out), "1:a=b\n");
    free_got(&g, &err);
    buf_free(&text);
    buf_free(&expect);
}

static int setup(void **state)
{
    strcpy(dir, "/tmp/test_table_source.XXXXXX");
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
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_continuation),
        cmocka_unit_test(test_value_on_continuation),
        cmocka_unit_test(test_continuation_at_start),
        cmocka_unit_test(test_comment_inside_continuation),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_key_without_value),
        cmocka_unit_test(test_huge_line),
        cmocka_unit_test(test_binary_junk),
        cmocka_unit_test(test_trailing_white_space),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_many_errors),
        cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_read_file),
        cmocka_unit_test(test_read_missing),
        cmocka_unit_test(test_read_streamed),
    };

    log_init("test_table_source");
    return cmocka_run_group_tests(tests, setup, teardown);
}
