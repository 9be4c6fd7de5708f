/*
 * sendmail_bs - SMTP on standard input and output (see sendmail_bs.h).
 *
 * A small, strict SMTP server for one local client: commands are parsed
 * by smtp_cmd (lines may end in CRLF or LF: this is a pipe, not the
 * network), the message is read by the same DATA reader as smtpd's
 * (smtp_data), with LF alone taken as CRLF since this is a local pipe,
 * bounded by line_length_limit, smtpd_recipient_limit and
 * message_size_limit, and kept in a temporary file until it is handed to
 * postdrop. The 250 after DATA is sent only once postdrop has committed
 * the maildrop file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "mem.h"
#include "sendmail_bs.h"
#include "smtp_addr.h"
#include "smtp_cmd.h"
#include "smtp_data.h"

struct bs {
    const struct config *cfg;
    char in[8192];              /* standard input, buffered */
    size_t len, pos;
    int eof;
    char *sender;               /* NULL: no MAIL yet */
    char **rcpt;
    size_t nrcpt;
    FILE *msg;
    uint64_t size;
    int too_big;
};

static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void reply(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputs("\r\n", stdout);
    fflush(stdout);
}

/* Refill the input buffer; 0 at end of input. */
static int fill(struct bs *b)
{
    ssize_t n;

    if (b->pos > 0) {
        memmove(b->in, b->in + b->pos, b->len - b->pos);
        b->len -= b->pos;
        b->pos = 0;
    }
    if (b->eof || b->len == sizeof(b->in))
        return b->len > 0;
    do
        n = read(0, b->in + b->len, sizeof(b->in) - b->len);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        b->eof = 1;
    else
        b->len += (size_t)n;
    return b->len > 0;
}

/*
 * Next command line (without CRLF or LF) into line; -1 at end of input.
 * A line over the limit is skipped to its end and given back empty with
 * *too_long set.
 */
static int read_line(struct bs *b, struct buf *line, size_t limit, int *too_long)
{
    buf_reset(line);
    *too_long = 0;
    for (;;) {
        char *nl = memchr(b->in + b->pos, '\n', b->len - b->pos);
        size_t n = nl ? (size_t)(nl - (b->in + b->pos)) : b->len - b->pos;

        if (!*too_long && (line->len + n > limit || buf_append(line, b->in + b->pos, n) < 0)) {
            *too_long = 1;
            buf_reset(line);
        }
        b->pos += n + (nl != NULL);
        if (nl) {
            if (line->len > 0 && line->data[line->len - 1] == '\r')
                buf_truncate(line, line->len - 1);
            return 0;
        }
        if (!fill(b))
            return line->len > 0 || *too_long ? 0 : -1;
    }
}

static int store_line(const char *data, size_t len, int line_end, int bare, void *arg)
{
    struct bs *b = arg;

    b->size += len + (size_t)line_end;
    if (b->size > config_size(b->cfg, "message_size_limit") && config_size(b->cfg, "message_size_limit") > 0)
        b->too_big = 1;
    if (b->too_big)
        return 0;           /* keep reading to the end, store nothing more */
    if (fwrite(data, 1, len, b->msg) != len || (line_end && putc('\n', b->msg) == EOF))
        return 1;
    return 0;
}

static void reset(struct bs *b)
{
    free(b->sender);
    b->sender = NULL;
    for (size_t i = 0; i < b->nrcpt; i++)
        free(b->rcpt[i]);
    free(b->rcpt);
    b->rcpt = NULL;
    b->nrcpt = 0;
}

/* DATA: read the message, hand it over, answer. -1 at end of input. */
static int do_data(struct bs *b, sendmail_bs_submit_fn submit, void *arg)
{
    struct smtp_data sd;
    enum smtp_data_status st = SMTP_DATA_MORE;
    size_t used;
    int prev_cr = 1;            /* the DATA line's own line end */

    if ((b->msg = tmpfile()) == NULL) {
        reply("451 4.3.0 Error: cannot create a temporary file");
        return 0;
    }
    b->size = 0;
    b->too_big = 0;
    reply("354 End data with <CR><LF>.<CR><LF>");
    smtp_data_init(&sd, SMTP_DATA_NORMALIZE, store_line, b);
    /*
     * A local program may end lines with LF alone; on this pipe (not the
     * network, so nothing to smuggle past) a bare LF counts as CRLF, so
     * "." on a line of its own ends the message either way.
     */
    while (st == SMTP_DATA_MORE) {
        char c;

        if (b->pos == b->len && !fill(b))
            break;
        c = b->in[b->pos++];
        if (c == '\n' && !prev_cr)
            st = smtp_data_feed(&sd, "\r\n", 2, &used);
        else
            st = smtp_data_feed(&sd, &c, 1, &used);
        prev_cr = (c == '\r');
    }
    if (st == SMTP_DATA_MORE) {                 /* end of input inside the message */
        fclose(b->msg);
        b->msg = NULL;
        return -1;
    }
    if (st != SMTP_DATA_END || fflush(b->msg) == EOF)
        reply("451 4.3.0 Error: cannot store the message");
    else if (b->too_big)
        reply("552 5.3.4 Error: message file too big");
    else if (rewind(b->msg), submit(arg, b->sender, b->rcpt, b->nrcpt, b->msg) != 0)
        reply("451 4.3.0 Error: queue file write error");
    else
        reply("250 2.0.0 Ok: queued");
    fclose(b->msg);
    b->msg = NULL;
    reset(b);
    return 0;
}

/* The internal form of a parsed MAIL/RCPT address. */
static char *internal(const struct smtp_cmd *cmd)
{
    struct buf out = BUF_INIT;

    smtp_addr_internal(&out, &cmd->addr);
    return buf_steal(&out);
}

int sendmail_bs(const struct config *cfg, sendmail_bs_submit_fn submit, void *arg)
{
    struct bs b;
    struct buf line = BUF_INIT;
    struct smtp_cmd cmd;
    const char *host = config_str(cfg, "myhostname");
    size_t limit = (size_t)config_int(cfg, "line_length_limit");
    long max_rcpt = config_int(cfg, "smtpd_recipient_limit");
    unsigned flags = SMTP_CMD_EXT_8BITMIME;
    int too_long;

    memset(&b, 0, sizeof(b));
    b.cfg = cfg;
    buf_init(&line, limit + 16);
    reply("220 %s ESMTP postern", host);
    while (read_line(&b, &line, limit, &too_long) == 0) {
        if (too_long) {
            reply("500 5.5.0 Error: line too long");
            continue;
        }
        smtp_cmd_init(&cmd);
        if (smtp_cmd_parse(&cmd, line.data ? line.data : "", line.len, flags) < 0) {
            reply("%d %s Error: %s", cmd.reply_code, cmd.reply_enh, cmd.reply_text);
            smtp_cmd_free(&cmd);
            continue;
        }
        switch (cmd.verb) {
        case SMTP_VERB_EHLO:
            reset(&b);
            reply("250-%s\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES", host);
            break;
        case SMTP_VERB_HELO:
            reset(&b);
            reply("250 %s", host);
            break;
        case SMTP_VERB_MAIL:
            if (b.sender) {
                reply("503 5.5.1 Error: nested MAIL command");
            } else {
                b.sender = internal(&cmd);
                reply("250 2.1.0 Ok");
            }
            break;
        case SMTP_VERB_RCPT:
            if (b.sender == NULL) {
                reply("503 5.5.1 Error: need MAIL command");
            } else if ((long)b.nrcpt >= max_rcpt) {
                reply("452 4.5.3 Error: too many recipients");
            } else {
                b.rcpt = xreallocarray(b.rcpt, b.nrcpt + 1, sizeof(*b.rcpt));
                b.rcpt[b.nrcpt++] = internal(&cmd);
                reply("250 2.1.5 Ok");
            }
            break;
        case SMTP_VERB_DATA:
            if (b.nrcpt == 0) {
                reply(b.sender ? "554 5.5.1 Error: no valid recipients"
                      : "503 5.5.1 Error: need RCPT command");
                break;
            }
            if (do_data(&b, submit, arg) < 0) {
                smtp_cmd_free(&cmd);
                goto lost;
            }
            break;
        case SMTP_VERB_RSET:
            reset(&b);
            reply("250 2.0.0 Ok");
            break;
        case SMTP_VERB_NOOP:
            reply("250 2.0.0 Ok");
            break;
        case SMTP_VERB_VRFY:
            reply("252 2.0.0 Send mail, and postern will try its best");
            break;
        case SMTP_VERB_HELP:
            reply("214 2.0.0 See RFC 5321");
            break;
        case SMTP_VERB_QUIT:
            reply("221 2.0.0 Bye");
            smtp_cmd_free(&cmd);
            reset(&b);
            buf_free(&line);
            return 0;
        default:
            reply("502 5.5.1 Error: command not implemented");
            break;
        }
        smtp_cmd_free(&cmd);
    }
lost:
    /* End of input without QUIT: nothing half-done is queued. */
    reset(&b);
    buf_free(&line);
    return 0;
}
