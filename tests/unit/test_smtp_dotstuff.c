/*
 * test_smtp_dotstuff - unit tests for lib/smtp_dotstuff.c: LF to CRLF,
 * dot-stuffing, CR handling, long lines, 8-bit detection, and that the
 * result does not depend on how the content is split into pieces.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "smtp_dotstuff.h"

/* Encode in one piece and return the wire form (static buffer). */
static const char *wire(const char *in, size_t len, struct smtp_dotstuff *st)
{
    static struct buf out = BUF_INIT;

    buf_reset(&out);
    smtp_dotstuff_init(st);
    assert_int_equal(smtp_dotstuff_encode(st, in, len, &out), 0);
    assert_int_equal(smtp_dotstuff_finish(st, &out), 0);
    return buf_str(&out);
}

struct case_ {
    const char *in;
    const char *out;
};

static void test_cases(void **state)
{
    static const struct case_ cases[] = {
        {"", ""},
        {"a\n", "a\r\n"},
        {"a", "a\r\n"},
        {"a\nb", "a\r\nb\r\n"},
        {".\n", "..\r\n"},
        {"..\n", "...\r\n"},
        {".a\n.b\n", "..a\r\n..b\r\n"},
        {"a.\n", "a.\r\n"},
        {"a\n.\nb\n", "a\r\n..\r\nb\r\n"},          /* a lone dot never ends DATA */
        {"\n\n", "\r\n\r\n"},
        {"a\r\nb\r\n", "a\r\nb\r\n"},               /* no CR CR LF */
        {"a\rb\n", "a\rb\r\n"},                     /* bare CR kept */
        {"a\r", "a\r\n"},                           /* a last CR ends the line */
        {"\r\n.\r\n", "\r\n..\r\n"},
        {".", "..\r\n"},
    };
    struct smtp_dotstuff st;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(wire(cases[i].in, strlen(cases[i].in), &st), cases[i].out);
}

static void test_split_pieces(void **state)
{
    static const char in[] = "Subject: x\n\n.hidden\r\nline\r\n..\nend";
    struct smtp_dotstuff st;
    struct buf whole = BUF_INIT, parts = BUF_INIT;
    size_t cut, i, len = sizeof(in) - 1;

    (void)state;
    buf_set(&whole, wire(in, len, &st));
    /* every split into two pieces, and byte by byte */
    for (cut = 0; cut <= len; cut++) {
        buf_reset(&parts);
        smtp_dotstuff_init(&st);
        assert_int_equal(smtp_dotstuff_encode(&st, in, cut, &parts), 0);
        assert_int_equal(smtp_dotstuff_encode(&st, in + cut, len - cut, &parts), 0);
        assert_int_equal(smtp_dotstuff_finish(&st, &parts), 0);
        assert_string_equal(buf_str(&parts), buf_str(&whole));
    }
    buf_reset(&parts);
    smtp_dotstuff_init(&st);
    for (i = 0; i < len; i++)
        assert_int_equal(smtp_dotstuff_encode(&st, in + i, 1, &parts), 0);
    assert_int_equal(smtp_dotstuff_finish(&st, &parts), 0);
    assert_string_equal(buf_str(&parts), buf_str(&whole));
    buf_free(&whole);
    buf_free(&parts);
}

/* Longest wire line (without CRLF) and whether every line ends in CRLF. */
static size_t longest_line(const char *s, int *all_crlf)
{
    size_t best = 0;

    *all_crlf = 1;
    while (*s) {
        const char *nl = strstr(s, "\r\n");

        if (nl == NULL) {
            *all_crlf = 0;
            return best;
        }
        if ((size_t)(nl - s) > best)
            best = (size_t)(nl - s);
        s = nl + 2;
    }
    return best;
}

static void test_long_lines(void **state)
{
    static char in[5000];
    struct smtp_dotstuff st;
    const char *out;
    int crlf;

    (void)state;
    memset(in, 'x', sizeof(in));
    out = wire(in, 998, &st);
    assert_int_equal(longest_line(out, &crlf), 998);
    assert_int_equal(st.broken, 0);
    out = wire(in, 999, &st);
    assert_int_equal(longest_line(out, &crlf), 998);
    assert_true(crlf);
    assert_int_equal(st.broken, 1);
    assert_int_equal(strlen(out), 999 + 4);
    out = wire(in, sizeof(in), &st);
    assert_true(longest_line(out, &crlf) <= 998);
    assert_true(crlf);
    assert_int_equal(st.broken, 5);
    /* a piece that starts with a dot after a break is stuffed */
    memset(in, 'x', sizeof(in));
    in[998] = '.';
    out = wire(in, 1000, &st);
    assert_memory_equal(out + 998, "\r\n..x\r\n", 7);
    /* a stuffed dot counts toward the line length */
    in[0] = '.';
    out = wire(in, 998, &st);
    assert_true(longest_line(out, &crlf) <= 998);
    assert_int_equal(st.broken, 1);
    /* CR LF split across a break boundary does not become CR CR LF */
    memset(in, 'x', sizeof(in));
    in[998] = '\r';
    in[999] = '\n';
    out = wire(in, 1000, &st);
    assert_null(strstr(out, "\r\r"));
    assert_int_equal(st.broken, 0);
}

static void test_8bit(void **state)
{
    struct smtp_dotstuff st;

    (void)state;
    wire("plain ascii\n", 12, &st);
    assert_int_equal(st.has_8bit, 0);
    wire("caf\xc3\xa9\n", 6, &st);
    assert_int_equal(st.has_8bit, 1);
}

static void test_output_limit(void **state)
{
    struct smtp_dotstuff st;
    struct buf out;

    (void)state;
    buf_init(&out, 4);
    smtp_dotstuff_init(&st);
    assert_int_equal(smtp_dotstuff_encode(&st, "abcdef\n", 7, &out), -1);
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_split_pieces),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_8bit),
        cmocka_unit_test(test_output_limit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
