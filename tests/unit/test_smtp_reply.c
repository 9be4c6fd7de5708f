/*
 * test_smtp_reply - unit tests for lib/smtp_reply.c: single and
 * multi-line replies, enhanced status codes, the one-line form for logs,
 * and every kind of malformed or oversized server input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "smtp_reply.h"

/* Feed NULL-terminated lines; return the last status. */
static enum smtp_reply_status feed(struct smtp_reply *r, const char *const *lines,
                                   const char **why)
{
    enum smtp_reply_status st = SMTP_REPLY_ERROR;

    for (; *lines; lines++) {
        st = smtp_reply_line(r, *lines, strlen(*lines), why);
        if (st != SMTP_REPLY_MORE)
            break;
    }
    return st;
}

static void test_single(void **state)
{
    struct smtp_reply r;
    const char *why = NULL;

    (void)state;
    smtp_reply_init(&r);
    assert_int_equal(smtp_reply_line(&r, "250 2.0.0 Ok: queued as 4XyZ", 28, &why),
                     SMTP_REPLY_DONE);
    assert_int_equal(r.code, 250);
    assert_string_equal(r.enh, "2.0.0");
    assert_int_equal(r.has_enh, 1);
    assert_string_equal(smtp_reply_str(&r), "250 2.0.0 Ok: queued as 4XyZ");
    smtp_reply_reset(&r);
    assert_int_equal(smtp_reply_line(&r, "354 End data with <CR><LF>.<CR><LF>", 35, &why),
                     SMTP_REPLY_DONE);
    assert_int_equal(r.code, 354);
    assert_string_equal(r.enh, "3.0.0");
    assert_int_equal(r.has_enh, 0);
    smtp_reply_reset(&r);
    /* bare code, and a code without text after the space */
    assert_int_equal(smtp_reply_line(&r, "221", 3, &why), SMTP_REPLY_DONE);
    assert_int_equal(r.code, 221);
    assert_string_equal(r.enh, "2.0.0");
    smtp_reply_reset(&r);
    assert_int_equal(smtp_reply_line(&r, "550 ", 4, &why), SMTP_REPLY_DONE);
    assert_string_equal(r.enh, "5.0.0");
    smtp_reply_free(&r);
}

static void test_multiline(void **state)
{
    static const char *const ehlo[] = {
        "250-mx.example.org", "250-PIPELINING", "250-SIZE 10240000", "250-DSN",
        "250 8BITMIME", NULL,
    };
    static const char *const rej[] = {
        "550-5.7.1 first line", "550-5.7.1 second line", "550 5.7.1 last line", NULL,
    };
    struct smtp_reply r;
    struct buf line = BUF_INIT;
    const char *why = NULL;

    (void)state;
    smtp_reply_init(&r);
    assert_int_equal(feed(&r, ehlo, &why), SMTP_REPLY_DONE);
    assert_int_equal(r.code, 250);
    assert_int_equal(r.nlines, 5);
    assert_int_equal(smtp_reply_line_text(&r, 0, &line), 0);
    assert_string_equal(buf_str(&line), "mx.example.org");
    assert_int_equal(smtp_reply_line_text(&r, 2, &line), 0);
    assert_string_equal(buf_str(&line), "SIZE 10240000");
    assert_int_equal(smtp_reply_line_text(&r, 4, &line), 0);
    assert_string_equal(buf_str(&line), "8BITMIME");
    assert_int_equal(smtp_reply_line_text(&r, 5, &line), -1);
    smtp_reply_reset(&r);
    assert_int_equal(feed(&r, rej, &why), SMTP_REPLY_DONE);
    assert_string_equal(r.enh, "5.7.1");
    assert_string_equal(smtp_reply_str(&r),
                        "550-5.7.1 first line 550-5.7.1 second line 550 5.7.1 last line");
    buf_free(&line);
    smtp_reply_free(&r);
}

struct enh_case {
    const char *line;
    const char *enh;
    int has;
};

static void test_enhanced(void **state)
{
    static const struct enh_case cases[] = {
        {"250 2.1.5 Ok", "2.1.5", 1},
        {"550 5.1.1 <bob@x>: user unknown", "5.1.1", 1},
        {"452 4.5.3 Too many recipients", "4.5.3", 1},
        {"550 4.1.1 class mismatch", "5.0.0", 0},
        {"550 5.123.456 wide", "5.123.456", 1},
        {"550 5.1234.1 too wide", "5.0.0", 0},
        {"550 5.1.1234 too wide", "5.0.0", 0},
        {"550 5.1.1x no space", "5.0.0", 0},
        {"550 5.1. truncated", "5.0.0", 0},
        {"550 5..1 empty", "5.0.0", 0},
        {"550 3.1.1 bad class", "5.0.0", 0},
        {"550 5.1.1", "5.1.1", 1},
        {"421 Service not available", "4.0.0", 0},
    };
    struct smtp_reply r;
    const char *why;
    size_t i;

    (void)state;
    smtp_reply_init(&r);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        smtp_reply_reset(&r);
        assert_int_equal(smtp_reply_line(&r, cases[i].line, strlen(cases[i].line), &why),
                         SMTP_REPLY_DONE);
        assert_string_equal(r.enh, cases[i].enh);
        assert_int_equal(r.has_enh, cases[i].has);
    }
    smtp_reply_free(&r);
    /* the parser alone */
    assert_int_equal(smtp_reply_enh_parse("2.0.0", 5), 5);
    assert_int_equal(smtp_reply_enh_parse("2.0.0 x", 7), 5);
    assert_int_equal(smtp_reply_enh_parse("2.0.", 4), 0);
    assert_int_equal(smtp_reply_enh_parse("2.0.0", 3), 0);   /* bounded by len */
    assert_int_equal(smtp_reply_enh_parse("x.0.0", 5), 0);
}

static void test_malformed(void **state)
{
    static const char *const bad_lines[] = {
        "", "2", "25", "abc hello", "2500 x", "250x", "099 zero", "150 one", "650 six",
        "25 x", " 250 x", "250\tx",
    };
    struct smtp_reply r;
    const char *why;
    size_t i;

    (void)state;
    smtp_reply_init(&r);
    for (i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
        smtp_reply_reset(&r);
        why = NULL;
        assert_int_equal(smtp_reply_line(&r, bad_lines[i], strlen(bad_lines[i]), &why),
                         SMTP_REPLY_ERROR);
        assert_non_null(why);
    }
    /* control characters and NUL */
    smtp_reply_reset(&r);
    assert_int_equal(smtp_reply_line(&r, "250 a\0b", 7, &why), SMTP_REPLY_ERROR);
    smtp_reply_reset(&r);
    assert_int_equal(smtp_reply_line(&r, "250 a\rb", 7, &why), SMTP_REPLY_ERROR);
    smtp_reply_reset(&r);
    assert_int_equal(smtp_reply_line(&r, "250 a\x7f", 6, &why), SMTP_REPLY_ERROR);
    smtp_reply_reset(&r);
    assert_int_equal(smtp_reply_line(&r, "250 tab\there", 12, &why), SMTP_REPLY_DONE);
    /* the code changes inside a multi-line reply */
    smtp_reply_reset(&r);
    assert_int_equal(smtp_reply_line(&r, "250-a", 5, &why), SMTP_REPLY_MORE);
    assert_int_equal(smtp_reply_line(&r, "550 b", 5, &why), SMTP_REPLY_ERROR);
    assert_string_equal(why, "reply code changes within a multi-line reply");
    /* feeding after the end */
    smtp_reply_reset(&r);
    assert_int_equal(smtp_reply_line(&r, "250 a", 5, &why), SMTP_REPLY_DONE);
    assert_int_equal(smtp_reply_line(&r, "250 b", 5, &why), SMTP_REPLY_ERROR);
    smtp_reply_free(&r);
}

static void test_bounds(void **state)
{
    static char big[SMTP_REPLY_MAX_LINE + 10];
    struct smtp_reply r;
    const char *why;
    size_t i;
    enum smtp_reply_status st = SMTP_REPLY_MORE;

    (void)state;
    memset(big, 'a', sizeof(big));
    memcpy(big, "250 ", 4);
    smtp_reply_init(&r);
    assert_int_equal(smtp_reply_line(&r, big, SMTP_REPLY_MAX_LINE, &why), SMTP_REPLY_DONE);
    smtp_reply_reset(&r);
    assert_int_equal(smtp_reply_line(&r, big, SMTP_REPLY_MAX_LINE + 1, &why),
                     SMTP_REPLY_ERROR);
    assert_string_equal(why, "reply line too long");
    /* many continuation lines: stops at the line count */
    smtp_reply_reset(&r);
    for (i = 0; i < SMTP_REPLY_MAX_LINES + 5 && st == SMTP_REPLY_MORE; i++)
        st = smtp_reply_line(&r, "250-x", 5, &why);
    assert_int_equal(st, SMTP_REPLY_ERROR);
    assert_string_equal(why, "too many reply lines");
    assert_int_equal(r.nlines, SMTP_REPLY_MAX_LINES);
    /* long continuation lines: stops at the total size */
    smtp_reply_reset(&r);
    big[3] = '-';
    st = SMTP_REPLY_MORE;
    for (i = 0; i < 100 && st == SMTP_REPLY_MORE; i++)
        st = smtp_reply_line(&r, big, 1000, &why);
    assert_int_equal(st, SMTP_REPLY_ERROR);
    assert_string_equal(why, "reply too long");
    assert_true(r.raw.len <= SMTP_REPLY_MAX_TEXT);
    smtp_reply_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single),
        cmocka_unit_test(test_multiline),
        cmocka_unit_test(test_enhanced),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_bounds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
