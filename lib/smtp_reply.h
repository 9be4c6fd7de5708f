/*
 * smtp_reply - parse the replies an SMTP or LMTP server sends to our
 * client (RFC 5321 section 4.2, RFC 3463 enhanced status codes).
 *
 * A reply is one or more lines "DDD-text" ending with one "DDD text"
 * (or a bare "DDD"), all with the same three-digit code whose first digit
 * is 2..5. The client feeds the parser one line at a time (without its
 * CRLF); the parser says when the reply is complete. Everything is
 * bounded: a line longer than SMTP_REPLY_MAX_LINE, more than
 * SMTP_REPLY_MAX_LINES lines or more than SMTP_REPLY_MAX_TEXT bytes in
 * all, a line without a valid code, a code that changes within a reply,
 * or a NUL or other control byte (TAB excepted) is a protocol error.
 *
 * The enhanced status code is taken from the last line (as Postfix does)
 * when it is "C.S.D" with C equal to the reply's first digit; otherwise
 * the default "C.0.0" is used and has_enh is 0 (so a 3xx reply, for which
 * RFC 3463 has no class, always carries "3.0.0").
 */
#ifndef POSTERN_SMTP_REPLY_H
#define POSTERN_SMTP_REPLY_H

#include <stddef.h>

#include "buf.h"

#define SMTP_REPLY_MAX_LINE  2048       /* bytes, one line without CRLF */
#define SMTP_REPLY_MAX_LINES 200
#define SMTP_REPLY_MAX_TEXT  16384      /* bytes, all lines together */
#define SMTP_REPLY_ENH_SIZE  12         /* "5.123.123" + NUL, rounded */

enum smtp_reply_status {
    SMTP_REPLY_MORE = 0,        /* a continuation line: feed the next one */
    SMTP_REPLY_DONE = 1,        /* the reply is complete */
    SMTP_REPLY_ERROR = -1,      /* malformed: *why says how */
};

struct smtp_reply {
    int code;                   /* 250; 0 while nothing was parsed */
    char enh[SMTP_REPLY_ENH_SIZE];  /* "2.0.0" */
    int has_enh;                /* the server sent enh itself */
    size_t nlines;
    struct buf raw;             /* whole lines, joined by ' ' */
    struct buf text;            /* text after "DDD-" of each line, joined by '\n' */
    int done;
};

void smtp_reply_init(struct smtp_reply *r);
void smtp_reply_free(struct smtp_reply *r);
/* Forget the last reply, ready for the next one. */
void smtp_reply_reset(struct smtp_reply *r);

/*
 * Feed one line (no CR or LF; len bytes, may hold anything). After DONE
 * or ERROR, call smtp_reply_reset() before the next reply.
 */
enum smtp_reply_status smtp_reply_line(struct smtp_reply *r, const char *line,
                                       size_t len, const char **why);

/* Text of line i (0-based) without its "DDD-" prefix into out; -1 past the end. */
int smtp_reply_line_text(const struct smtp_reply *r, size_t i, struct buf *out);

/*
 * The reply as one line for logs and DSN diagnostics, as Postfix shows
 * it: every whole line, joined by a space ("550-5.7.1 a 550 5.7.1 b").
 */
const char *smtp_reply_str(const struct smtp_reply *r);

/*
 * Parse an RFC 3463 code "C.S.D" at the start of text (C 2, 4 or 5; S and
 * D 1-3 digits) followed by a space or the end. Returns its length, or 0.
 */
size_t smtp_reply_enh_parse(const char *text, size_t len);

#endif
