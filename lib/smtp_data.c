/*
 * smtp_data - the SMTP DATA state machine (see smtp_data.h).
 *
 * One byte at a time, so a CRLF, a dot or a CR split across two reads is
 * handled exactly like one that arrives whole.
 */
#include <string.h>

#include "smtp_data.h"

enum {
    LINE_START,     /* at the first byte of a line */
    IN_LINE,        /* inside a line */
    SAW_CR,         /* a CR inside a line: LF must follow */
    SAW_DOT,        /* the line so far is "." */
    DOT_CR,         /* the line so far is "." CR */
};

void smtp_data_init(struct smtp_data *sd, enum smtp_data_policy policy,
                    smtp_data_line_fn fn, void *arg)
{
    memset(sd, 0, sizeof(*sd));
    sd->policy = policy;
    sd->fn = fn;
    sd->arg = arg;
    sd->state = LINE_START;
    sd->crlf_before = 1;    /* the DATA command ended with CRLF */
}

/* Hand the buffered piece over; 0, or non-zero if the caller wants to stop. */
static int flush(struct smtp_data *sd, int line_end, int bare)
{
    int rc = sd->fn(sd->chunk, sd->len, line_end, bare, sd->arg);

    sd->len = 0;
    return rc;
}

static int add(struct smtp_data *sd, char c)
{
    if (sd->len == sizeof(sd->chunk) && flush(sd, 0, 0))
        return 1;
    sd->chunk[sd->len++] = c;
    return 0;
}

/* End the current line; crlf says whether a proper CRLF ended it. */
static int end_line(struct smtp_data *sd, int crlf)
{
    if (!crlf)
        sd->bare_count++;
    sd->crlf_before = crlf;
    sd->state = LINE_START;
    return flush(sd, 1, !crlf);
}

enum smtp_data_status smtp_data_feed(struct smtp_data *sd, const char *data, size_t len,
                                     size_t *consumed)
{
    size_t i = 0;
    int stop = 0;

    while (i < len && !stop) {
        char c = data[i];

        switch (sd->state) {
        case LINE_START:
            if (c == '.') {
                sd->state = SAW_DOT;
                i++;
                break;
            }
            sd->state = IN_LINE;
            continue;               /* the same byte, as part of the line */
        case SAW_DOT:
            if (c == '\r') {
                sd->state = DOT_CR;
                i++;
                break;
            }
            if (c == '\n') {        /* ".<LF>": never the end */
                if (sd->policy == SMTP_DATA_REJECT)
                    goto bare;
                stop = add(sd, '.') || end_line(sd, 0);
                i++;
                break;
            }
            sd->state = IN_LINE;    /* a dot-stuffed line: the dot goes */
            continue;
        case DOT_CR:
            if (c == '\n' && sd->crlf_before) {
                *consumed = i + 1;
                sd->state = LINE_START;
                return SMTP_DATA_END;
            }
            if (sd->policy == SMTP_DATA_REJECT && c != '\n')
                goto bare;          /* ".<CR>x" */
            /* <LF>.<CR><LF> or ".<CR>x": a line holding ".", not the end */
            stop = add(sd, '.') || end_line(sd, c == '\n');
            if (c == '\n')
                i++;
            break;
        case IN_LINE:
            if (c == '\r') {
                sd->state = SAW_CR;
            } else if (c == '\n') {
                if (sd->policy == SMTP_DATA_REJECT)
                    goto bare;
                stop = end_line(sd, 0);
            } else {
                stop = add(sd, c);
            }
            i++;
            break;
        case SAW_CR:
            if (c == '\n') {
                stop = end_line(sd, 1);
                i++;
                break;
            }
            if (sd->policy == SMTP_DATA_REJECT)
                goto bare;
            stop = end_line(sd, 0); /* bare CR ends the line; c starts the next */
            break;
        }
    }
    *consumed = i;
    return stop ? SMTP_DATA_ABORTED : SMTP_DATA_MORE;

bare:
    *consumed = i;
    return SMTP_DATA_BARE_NEWLINE;
}
