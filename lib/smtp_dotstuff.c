/*
 * smtp_dotstuff - local-form content to SMTP DATA form: CRLF, dot-stuffing,
 * long lines broken (see smtp_dotstuff.h).
 */
#include "smtp_dotstuff.h"

/* Start a new message. */
void smtp_dotstuff_init(struct smtp_dotstuff *b)
{
    b->col = 0;
    b->pending_cr = 0;
    b->has_8bit = 0;
    b->broken = 0;
}

/* Put one content byte (never LF) on the current line. */
static int put_byte(struct smtp_dotstuff *b, unsigned char c, struct buf *out)
{
    if (b->col >= SMTP_DOTSTUFF_MAX_LINE) {
        if (buf_append(out, "\r\n", 2) < 0)
            return -1;
        b->col = 0;
        b->broken++;
    }
    if (b->col == 0 && c == '.') {
        if (buf_putc(out, '.') < 0)
            return -1;
        b->col++;
    }
    if (c >= 0x80)
        b->has_8bit = 1;
    if (buf_putc(out, c) < 0)
        return -1;
    b->col++;
    return 0;
}

/* Encode a piece of content. */
int smtp_dotstuff_encode(struct smtp_dotstuff *b, const void *data, size_t len, struct buf *out)
{
    const unsigned char *p = data;
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = p[i];

        if (c == '\n') {
            b->pending_cr = 0;
            if (buf_append(out, "\r\n", 2) < 0)
                return -1;
            b->col = 0;
            continue;
        }
        if (b->pending_cr) {
            b->pending_cr = 0;
            if (put_byte(b, '\r', out) < 0)
                return -1;
        }
        if (c == '\r') {
            b->pending_cr = 1;
            continue;
        }
        if (put_byte(b, c, out) < 0)
            return -1;
    }
    return 0;
}

/* End the content with a line ending if it lacks one. */
int smtp_dotstuff_finish(struct smtp_dotstuff *b, struct buf *out)
{
    if (b->pending_cr) {            /* a last CR ends the line */
        b->pending_cr = 0;
        b->col = 1;
    }
    if (b->col > 0) {
        if (buf_append(out, "\r\n", 2) < 0)
            return -1;
        b->col = 0;
    }
    return 0;
}
