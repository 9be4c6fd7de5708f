/*
 * smtp_data - the SMTP DATA reader: turns the bytes a client sends after
 * "354" into message lines and finds the end of the message, in a way
 * that cannot be smuggled past.
 *
 * The end of data is only <CR><LF>.<CR><LF>: a line holding a single dot,
 * begun after a CRLF (or at the start of the data) and ended by a CRLF.
 * Nothing else ends the message: not <LF>.<LF>, not <CR>.<CR>, not
 * <LF>.<CR><LF>. Bytes after the end belong to the next command
 * (pipelining), never to the message: feed() stops right after it.
 *
 * Bare newlines (an LF not preceded by CR, a CR not followed by LF)
 * follow smtpd_forbid_bare_newline:
 *
 *   SMTP_DATA_REJECT     (yes, reject: the default) feed() returns
 *                        SMTP_DATA_BARE_NEWLINE at the first one; the
 *                        session has lost sync, so smtpd answers
 *                        "521 5.5.2 Error: bare <LF> received" and
 *                        disconnects, like Postfix.
 *   SMTP_DATA_NORMALIZE  (normalize, no) a bare LF or bare CR ends a
 *                        line, as it would for a lenient next hop, so
 *                        postern stores the same lines that hop would
 *                        see; a lone "." line that is not properly
 *                        CRLF-bounded is kept as a line holding ".".
 *
 * Lines are dot-unstuffed (a leading dot is removed) and handed to the
 * caller without their line ending, in chunks of at most
 * SMTP_DATA_CHUNK bytes: a longer line arrives as several calls with
 * line_end 0 and a last one with line_end 1. Memory use is bounded by
 * the chunk size, whatever the client sends.
 */
#ifndef POSTERN_SMTP_DATA_H
#define POSTERN_SMTP_DATA_H

#include <stddef.h>

#define SMTP_DATA_CHUNK 4096

enum smtp_data_policy {
    SMTP_DATA_REJECT,
    SMTP_DATA_NORMALIZE,
};

enum smtp_data_status {
    SMTP_DATA_MORE,             /* all input consumed; the message goes on */
    SMTP_DATA_END,              /* end of data found; *consumed says where */
    SMTP_DATA_BARE_NEWLINE,     /* REJECT policy: a bare LF or CR; stop */
    SMTP_DATA_ABORTED,          /* the line callback asked to stop */
};

/*
 * Called for each piece of the message. line_end is 1 when this piece
 * completes a line. bare is 1 when that line was ended by a bare LF or CR
 * (NORMALIZE policy), for logging. A non-zero return stops feed() with
 * SMTP_DATA_ABORTED (e.g. the message got too big).
 */
typedef int (*smtp_data_line_fn)(const char *data, size_t len, int line_end, int bare,
                                 void *arg);

struct smtp_data {
    enum smtp_data_policy policy;
    smtp_data_line_fn fn;
    void *arg;
    int state;
    int crlf_before;            /* the current line began after CRLF */
    size_t len;
    char chunk[SMTP_DATA_CHUNK];
    unsigned long bare_count;   /* bare newlines seen (NORMALIZE) */
};

void smtp_data_init(struct smtp_data *sd, enum smtp_data_policy policy,
                    smtp_data_line_fn fn, void *arg);

/*
 * Feed len bytes. *consumed is how many were used: all of them for
 * SMTP_DATA_MORE; up to and including the final LF for SMTP_DATA_END
 * (the rest is the client's next command); up to the offending byte for
 * SMTP_DATA_BARE_NEWLINE and SMTP_DATA_ABORTED.
 */
enum smtp_data_status smtp_data_feed(struct smtp_data *sd, const char *data, size_t len,
                                     size_t *consumed);

#endif
