/*
 * fuzz_smtp_reply - libFuzzer target for lib/smtp_reply.c.
 *
 * Input: server output, split into lines at LF (a CR before the LF is
 * dropped, as the client's reader does). Lines are fed to the parser,
 * which starts a new reply after each complete or failed one. A
 * complete reply must have a code of 200..599, an enhanced code of its
 * class, lines that can be read back, and a log form no longer than the
 * text bound.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "smtp_reply.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

/* Check a complete reply's invariants. */
static void check_done(const struct smtp_reply *r)
{
    struct buf line = BUF_INIT;
    size_t i, enh_len;

    CHECK(r->code >= 200 && r->code <= 599);
    CHECK(r->enh[0] - '0' == r->code / 100);
    enh_len = strlen(r->enh);
    if (r->code / 100 == 3)                 /* no RFC 3463 class 3: the default */
        CHECK(strcmp(r->enh, "3.0.0") == 0 && !r->has_enh);
    else
        CHECK(smtp_reply_enh_parse(r->enh, enh_len) == enh_len);
    CHECK(r->nlines >= 1 && r->nlines <= SMTP_REPLY_MAX_LINES);
    CHECK(strlen(smtp_reply_str(r)) <= SMTP_REPLY_MAX_TEXT);
    for (i = 0; i < r->nlines; i++) {
        CHECK(smtp_reply_line_text(r, i, &line) == 0);
        CHECK(memchr(line.data ? line.data : "", '\n', line.len) == NULL);
    }
    CHECK(smtp_reply_line_text(r, r->nlines, &line) == -1);
    buf_free(&line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct smtp_reply r;
    const char *p = (const char *)data, *end = p + size;

    smtp_reply_init(&r);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *why = NULL;
        enum smtp_reply_status st;

        if (len > 0 && p[len - 1] == '\r')
            len--;
        st = smtp_reply_line(&r, p, len, &why);
        if (st == SMTP_REPLY_DONE)
            check_done(&r);
        if (st == SMTP_REPLY_ERROR)
            CHECK(why != NULL);
        if (st != SMTP_REPLY_MORE)
            smtp_reply_reset(&r);
        p = nl ? nl + 1 : end;
    }
    smtp_reply_free(&r);
    return 0;
}
