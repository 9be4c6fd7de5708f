/*
 * smtp_dotstuff - turn message content in local form (LF line endings,
 * dot-unstuffed, as queue files hold it) into SMTP DATA form: CRLF line
 * endings, a '.' doubled at the start of a line (RFC 5321 4.5.2), and no
 * line longer than SMTP_DOTSTUFF_MAX_LINE octets (a longer line is broken
 * with CRLF; the piece that follows is a line of its own and is
 * dot-stuffed like any other).
 *
 * The encoder is a streaming state machine: feed the content in pieces
 * of any size and it appends the wire form to a buffer, so a message is
 * never held whole in memory. A CR just before an LF is taken as part of
 * the line ending (no CR CR LF goes out), and so is a CR that ends the
 * content; any other CR goes out as it is.
 * smtp_dotstuff_finish() ends an unterminated last line with CRLF; the
 * caller then sends ".\r\n".
 */
#ifndef POSTERN_SMTP_DOTSTUFF_H
#define POSTERN_SMTP_DOTSTUFF_H

#include <stddef.h>

#include "buf.h"

#define SMTP_DOTSTUFF_MAX_LINE 998          /* octets before CRLF (RFC 5321) */

struct smtp_dotstuff {
    size_t col;                 /* octets on the current wire line */
    int pending_cr;             /* a CR waits for the next byte */
    int has_8bit;               /* some byte >= 0x80 was seen */
    unsigned long broken;       /* lines that had to be broken */
};

void smtp_dotstuff_init(struct smtp_dotstuff *b);
/* Encode len bytes; -1 if out hit its limit (out is then unspecified). */
int smtp_dotstuff_encode(struct smtp_dotstuff *b, const void *data, size_t len, struct buf *out);
/* End the content: a last line without LF gets CRLF. */
int smtp_dotstuff_finish(struct smtp_dotstuff *b, struct buf *out);

#endif
