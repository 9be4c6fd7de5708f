/*
 * delivered_to - find "Delivered-To: ADDR" in a message header block,
 * fed in pieces of any size (the scan behind mail_has_delivered_to(),
 * kept apart so that it can be fuzzed over a plain byte buffer).
 *
 * The header block is the text up to the first empty line (or the first
 * line that is neither a header field nor a continuation); folded fields
 * are joined; field names and the address compare case-insensitively;
 * white space around the value (and one pair of <> around it) is
 * ignored. Memory is bounded: a field longer than DELIVERED_TO_MAX_FIELD
 * bytes cannot match and is skipped.
 */
#ifndef POSTERN_DELIVERED_TO_H
#define POSTERN_DELIVERED_TO_H

#include <stddef.h>

#define DELIVERED_TO_MAX_FIELD 8192

struct delivered_to_scan {
    const char *addr;           /* what we look for (not copied) */
    char field[DELIVERED_TO_MAX_FIELD];     /* the logical field so far */
    size_t len;
    int overflow;               /* field too long: cannot match */
    size_t line_len;            /* bytes of the current physical line */
    int in_field;               /* a field has started */
    int done;                   /* header block over */
    int found;
};

void delivered_to_init(struct delivered_to_scan *s, const char *addr);
/* Feed the next bytes; returns 1 once found, 0 to go on, -1 when the header is over. */
int delivered_to_feed(struct delivered_to_scan *s, const void *data, size_t len);
/* No more input: 1 found, 0 not. */
int delivered_to_finish(struct delivered_to_scan *s);

#endif
