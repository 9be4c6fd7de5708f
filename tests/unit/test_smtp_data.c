/*
 * test_smtp_data - the DATA reader: end of data only at CRLF.CRLF, every
 * smuggling variant refused (REJECT) or kept inside the message
 * (NORMALIZE), dot-unstuffing, pipelined commands left unread, long lines
 * in chunks, and the same result however the input is split into reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "smtp_data.h"

struct out {
    struct buf text;            /* lines joined as "line|" ("line~|" if bare-ended) */
    int stop_after;             /* abort after this many lines (0: never) */
    int lines;
};

static int collect(const char *data, size_t len, int line_end, int bare, void *arg)
{
    struct out *o = arg;

    buf_append(&o->text, data, len);
    if (line_end) {
        buf_puts(&o->text, bare ? "~|" : "|");
        if (o->stop_after && ++o->lines >= o->stop_after)
            return 1;
    }
    return 0;
}

struct result {
    enum smtp_data_status status;
    size_t consumed;
    char text[512];
};

/* Feed input in pieces of at most step bytes (0: all at once). */
static struct result run(enum smtp_data_policy policy, const char *input, size_t len,
                         size_t step)
{
    struct smtp_data sd;
    struct out o = {BUF_INIT, 0, 0};
    struct result r = {SMTP_DATA_MORE, 0, ""};
    size_t off = 0, used;

    smtp_data_init(&sd, policy, collect, &o);
    while (off < len) {
        size_t n = step && step < len - off ? step : len - off;

        r.status = smtp_data_feed(&sd, input + off, n, &used);
        off += used;
        if (r.status != SMTP_DATA_MORE)
            break;
    }
    r.consumed = off;
    snprintf(r.text, sizeof(r.text), "%s", buf_str(&o.text));
    buf_free(&o.text);
    return r;
}

struct data_case {
    const char *name;
    enum smtp_data_policy policy;
    const char *input;
    enum smtp_data_status status;
    const char *lines;
    const char *rest;           /* what is left for the next command */
};

#define R SMTP_DATA_REJECT
#define N SMTP_DATA_NORMALIZE
#define END SMTP_DATA_END
#define MORE SMTP_DATA_MORE
#define BARE SMTP_DATA_BARE_NEWLINE

static const struct data_case cases[] = {
    {"empty message", R, ".\r\n", END, "", ""},
    {"two lines", R, "a\r\nb\r\n.\r\n", END, "a|b|", ""},
    {"empty line kept", R, "a\r\n\r\nb\r\n.\r\n", END, "a||b|", ""},
    {"dot-stuffing removed", R, "..\r\n..x\r\n.y\r\n.\r\n", END, ".|.x|y|", ""},
    {"pipelined commands stay out", R, "a\r\n.\r\nQUIT\r\n", END, "a|", "QUIT\r\n"},
    {"pipelined second message", R, "a\r\n.\r\nMAIL FROM:<x@y>\r\nRCPT TO:<z@w>\r\n", END,
     "a|", "MAIL FROM:<x@y>\r\nRCPT TO:<z@w>\r\n"},
    {"not yet ended", R, "a\r\nb", MORE, "a|", ""},
    {"dot inside a line", R, "a.\r\n.\r\n", END, "a.|", ""},
    {"dot then text then end", R, ". \r\n.\r\n", END, " |", ""},
    /* Smuggling: each must be refused outright by default. */
    {"bare LF in a line", R, "a\nb\r\n.\r\n", BARE, "", ""},
    {"LF.LF", R, "a\r\n\n.\n", BARE, "a|", ""},
    {"LF.CRLF", R, "a\n.\r\n", BARE, "", ""},
    {"CR.CR", R, "a\r.\r", BARE, "", ""},
    {"CRLF.LF", R, "a\r\n.\nMAIL FROM:<x@y>\r\n", BARE, "a|", ""},
    {"CRLF.CR", R, "a\r\n.\rMAIL FROM:<x@y>\r\n", BARE, "a|", ""},
    {"bare CR in a line", R, "a\rb\r\n.\r\n", BARE, "", ""},
    /* NORMALIZE: the same inputs never end the message early. */
    {"normalize bare LF", N, "a\nb\r\n.\r\n", END, "a~|b|", ""},
    {"normalize LF.LF is not the end", N, "a\r\n\n.\nX\r\n.\r\n", END, "a|~|.~|X|", ""},
    {"normalize LF.CRLF is not the end", N, "a\n.\r\nMAIL FROM:<x@y>\r\n.\r\n", END,
     "a~|.|MAIL FROM:<x@y>|", ""},
    {"normalize CR.CR", N, "a\r.\rb\r\n.\r\n", END, "a~|.~|b|", ""},
    {"normalize CRLF.CR", N, "a\r\n.\rb\r\n.\r\n", END, "a|.~|b|", ""},
    {"normalize bare CR in a line", N, "a\rb\r\n.\r\n", END, "a~|b|", ""},
};

static void table(void **state)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct data_case *c = &cases[i];
        size_t len = strlen(c->input);

        for (size_t step = 0; step <= len; step++) {
            struct result r = run(c->policy, c->input, len, step);

            if (r.status != c->status || strcmp(r.text, c->lines) != 0
                || (c->status == END && strcmp(c->input + r.consumed, c->rest) != 0)) {
                print_error("case \"%s\" (reads of %zu): status %d lines \"%s\" rest \"%s\"\n",
                            c->name, step, r.status, r.text, c->input + r.consumed);
                fail();
            }
        }
    }
}

static void long_lines_arrive_in_chunks(void **state)
{
    static char input[3 * SMTP_DATA_CHUNK + 16];
    struct smtp_data sd;
    struct out o = {BUF_INIT, 0, 0};
    size_t used, n = 3 * SMTP_DATA_CHUNK + 5;

    memset(input, 'x', n);
    memcpy(input + n, "\r\n.\r\n", 5);
    smtp_data_init(&sd, SMTP_DATA_REJECT, collect, &o);
    assert_int_equal(smtp_data_feed(&sd, input, n + 5, &used), SMTP_DATA_END);
    assert_int_equal(used, n + 5);
    assert_int_equal(o.text.len, n + 1);        /* the text and one "|" */
    assert_int_equal(o.text.data[n], '|');
    buf_free(&o.text);
}

static void callback_can_stop(void **state)
{
    struct smtp_data sd;
    struct out o = {BUF_INIT, 2, 0};
    const char *input = "a\r\nb\r\nc\r\n.\r\n";
    size_t used;

    smtp_data_init(&sd, SMTP_DATA_REJECT, collect, &o);
    assert_int_equal(smtp_data_feed(&sd, input, strlen(input), &used), SMTP_DATA_ABORTED);
    assert_string_equal(buf_str(&o.text), "a|b|");
    buf_free(&o.text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table),
        cmocka_unit_test(long_lines_arrive_in_chunks),
        cmocka_unit_test(callback_can_stop),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
