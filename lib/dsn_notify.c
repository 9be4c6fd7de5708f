/*
 * dsn_notify - write an RFC 3464 delivery status notification into a
 * queue file writer (see dsn_notify.h for the shape).
 *
 * Generated text goes through a small output buffer that is flushed into
 * the writer whenever it grows past one queue file chunk, so even a
 * report about 100000 recipients never sits in memory whole. The
 * original message is copied chunk by chunk from the queue file: a
 * first pass finds out whether the part to be returned holds 8-bit
 * bytes (for Content-Transfer-Encoding), a second pass copies it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dsn_notify.h"
#include "mail_date.h"
#include "mem.h"

#define OUT_FLUSH       65536   /* flush generated text at this size */
#define FOLD_WIDTH      78      /* fold generated lines near this width */

/* Generated text on its way into the writer. */
struct out {
    struct buf b;
    struct queue_file_writer *w;
    int failed;
};

/* Move buffered text into the writer. */
static void out_flush(struct out *o)
{
    if (o->b.len && !o->failed
        && queue_file_put_content(o->w, o->b.data, o->b.len) < 0)
        o->failed = 1;
    buf_reset(&o->b);
}

/* Append a string; flushes when the buffer is big. */
static void out_puts(struct out *o, const char *s)
{
    if (buf_puts(&o->b, s) < 0)
        o->failed = 1;
    if (o->b.len >= OUT_FLUSH)
        out_flush(o);
}

/* Append formatted text. */
static void out_printf(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void out_printf(struct out *o, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (buf_vprintf(&o->b, fmt, ap) < 0)
        o->failed = 1;
    va_end(ap);
    if (o->b.len >= OUT_FLUSH)
        out_flush(o);
}

/* Copy s into dst as printable ASCII on one line (controls and 8-bit -> '?'). */
static void clean_text(struct buf *dst, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '\t' || c == '\r' || c == '\n')
            c = ' ';
        else if (c < 0x20 || c > 0x7e)
            c = '?';
        buf_putc(dst, c);
    }
}

/*
 * Write "prefix" + text as one logical line, folded at spaces near
 * FOLD_WIDTH with continuations indented by four spaces (valid both in
 * the text part and as a folded header field in the status part).
 */
static void out_folded(struct out *o, const char *prefix, const char *text)
{
    struct buf line = BUF_INIT;
    const char *p, *end, *brk;
    size_t col = strlen(prefix), room;

    clean_text(&line, text);
    out_puts(o, prefix);
    p = buf_str(&line);
    end = p + line.len;
    while ((size_t)(end - p) + col > FOLD_WIDTH) {
        room = FOLD_WIDTH > col ? FOLD_WIDTH - col : 0;
        /* Last space within the room, else the first space after it. */
        for (brk = p + room; brk > p && *brk != ' '; brk--)
            ;
        if (brk == p)
            for (brk = p + room; brk < end && *brk != ' '; brk++)
                ;
        if (brk >= end)
            break;
        if (brk > p) {
            buf_append(&o->b, p, (size_t)(brk - p));
            out_puts(o, "\n    ");
            col = 4;
        }
        while (brk < end && *brk == ' ')
            brk++;
        p = brk;
    }
    buf_append(&o->b, p, (size_t)(end - p));
    out_puts(o, "\n");
    buf_free(&line);
}

/* State of a pass over the original's content. */
struct scan {
    struct out *o;              /* NULL: only look for 8-bit bytes */
    int headers_only;
    int at_bol;                 /* at the start of a line */
    int eight_bit;
    int last_nl;                /* the last byte copied was LF */
    uint64_t copied;
};

/* Content callback: copy (or scan) one chunk; 1 ends the walk at the header's end. */
static int scan_chunk(const void *data, size_t len, void *ctx)
{
    struct scan *s = ctx;
    const unsigned char *p = data;
    size_t i, take = len;
    int stop = 0;

    if (s->headers_only) {
        for (i = 0; i < len; i++) {
            if (s->at_bol && p[i] == '\n') {
                take = i;
                stop = 1;
                break;
            }
            s->at_bol = p[i] == '\n';
        }
        if (!stop && s->copied + take > DSN_NOTIFY_MAX_HEADER) {
            take = (size_t)(DSN_NOTIFY_MAX_HEADER - s->copied);
            stop = 1;
        }
    }
    for (i = 0; i < take && !s->eight_bit; i++)
        if (p[i] & 0x80)
            s->eight_bit = 1;
    if (s->o && take) {
        out_flush(s->o);
        if (!s->o->failed && queue_file_put_content(s->o->w, p, take) < 0)
            s->o->failed = 1;
        s->last_nl = p[take - 1] == '\n';
    }
    s->copied += take;
    if (s->o && s->o->failed)
        return -2;
    return stop;
}

/* Walk the part of the original to be returned. -1 on a read error. */
static int walk_original(struct queue_file *orig, struct scan *s, struct buf *why)
{
    s->at_bol = 1;
    s->last_nl = 1;
    s->copied = 0;
    return queue_file_content_foreach(orig, scan_chunk, s, why) == -1 ? -1 : 0;
}

/* The address part of an ORCPT "type;address", or NULL if not rfc822. */
static const char *orcpt_rfc822(const char *orcpt)
{
    if (strncasecmp(orcpt, "rfc822;", 7) != 0)
        return NULL;
    orcpt += 7;
    while (*orcpt == ' ')
        orcpt++;
    return orcpt;
}

/* The message header. */
static void put_header(struct out *o, const struct dsn_notify_opts *opts,
                       const char *boundary, int eight_bit)
{
    struct buf t = BUF_INIT;
    const char *subject;
    struct tm tm;

    switch (opts->kind) {
    case DSN_NOTIFY_DELAY:
        subject = opts->postmaster_copy ? "Postmaster Warning: Delayed Mail"
                  : "Delayed Mail (still being retried)";
        break;
    case DSN_NOTIFY_SUCCESS:
        subject = "Successful Mail Delivery Report";
        break;
    default:
        subject = opts->postmaster_copy ? "Postmaster Copy: Undelivered Mail"
                  : "Undelivered Mail Returned to Sender";
        break;
    }
    out_printf(o, "From: MAILER-DAEMON@%s (Mail Delivery System)\n", opts->myhostname);
    out_printf(o, "Subject: %s\n", subject);
    clean_text(&t, opts->to);
    out_printf(o, "To: %s\n", buf_str(&t));
    out_puts(o, "Auto-Submitted: auto-replied\n");
    out_puts(o, "MIME-Version: 1.0\n");
    out_puts(o, "Content-Type: multipart/report; report-type=delivery-status;\n");
    out_printf(o, "\tboundary=\"%s\"\n", boundary);
    out_printf(o, "Content-Transfer-Encoding: %s\n", eight_bit ? "8bit" : "7bit");
    localtime_r(&opts->now, &tm);
    out_printf(o, "Message-Id: <%04d%02d%02d%02d%02d%02d.%s@%s>\n", tm.tm_year + 1900,
               tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
               opts->new_queue_id, opts->myhostname);
    buf_reset(&t);
    mail_date(&t, opts->now);
    out_printf(o, "Date: %s\n", buf_str(&t));
    out_puts(o, "\nThis is a MIME-encapsulated message.\n\n");
    buf_free(&t);
}

/* The introduction of the human-readable part. */
static void put_intro(struct out *o, const struct dsn_notify_opts *opts)
{
    out_printf(o, "This is the mail system at host %s.\n\n", opts->myhostname);
    if (opts->postmaster_copy) {
        out_puts(o, "Enclosed is the mail delivery report that you requested.\n\n");
    } else if (opts->kind == DSN_NOTIFY_FAILURE) {
        out_puts(o, "I'm sorry to have to inform you that your message could not\n"
                    "be delivered to one or more recipients. It's attached below.\n\n"
                    "For further assistance, please send mail to postmaster.\n\n"
                    "If you do so, please include this problem report. You can\n"
                    "delete your own text from the attached returned message.\n\n");
    } else if (opts->kind == DSN_NOTIFY_DELAY) {
        long hours = opts->warn_after / 3600, days = opts->queue_lifetime / 86400;

        out_puts(o, "####################################################################\n"
                    "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n"
                    "####################################################################\n\n");
        if (opts->warn_after > 0)
            out_printf(o, "Your message could not be delivered for more than %ld hour(s).\n",
                       hours > 0 ? hours : 1);
        else
            out_puts(o, "Your message could not be delivered yet.\n");
        out_printf(o, "It will be retried until it is %ld day(s) old.\n\n",
                   days > 0 ? days : 1);
        out_puts(o, "For further assistance, please send mail to postmaster.\n\n"
                    "If you do so, please include this problem report. You can\n"
                    "delete your own text from the attached returned message.\n\n");
    } else {
        out_puts(o, "Your message was successfully delivered to the destination(s)\n"
                    "listed below. If the message was delivered to mailbox you will\n"
                    "receive no further notifications. Otherwise you may still receive\n"
                    "notifications of mail delivery errors from other systems.\n\n");
    }
    out_puts(o, "                   The mail system\n\n");
}

/* One recipient line of the human-readable part. */
static void put_human_rcpt(struct out *o, const struct dsn_entry *e)
{
    struct buf pre = BUF_INIT;
    const char *orig = orcpt_rfc822(e->orcpt);

    buf_putc(&pre, '<');
    clean_text(&pre, e->rcpt);
    buf_putc(&pre, '>');
    if (orig && *orig && strcasecmp(orig, e->rcpt) != 0) {
        buf_puts(&pre, " (expanded from <");
        clean_text(&pre, orig);
        buf_puts(&pre, ">)");
    }
    buf_puts(&pre, ": ");
    out_folded(o, buf_str(&pre), e->text);
    out_puts(o, "\n");
    buf_free(&pre);
}

/* The per-message fields of the status part. */
static void put_status_message(struct out *o, const struct qf_envelope *env,
                               const struct dsn_notify_opts *opts)
{
    struct buf t = BUF_INIT;

    out_printf(o, "Reporting-MTA: dns; %s\n", opts->myhostname);
    out_printf(o, "X-Postern-Queue-ID: %s\n", env->queue_id);
    clean_text(&t, env->sender);
    out_printf(o, "X-Postern-Sender: rfc822; %s\n", buf_str(&t));
    buf_reset(&t);
    mail_date(&t, env->arrival.tv_sec);
    out_printf(o, "Arrival-Date: %s\n", buf_str(&t));
    if (env->envid) {
        buf_reset(&t);
        clean_text(&t, env->envid);
        out_printf(o, "Original-Envelope-Id: %s\n", buf_str(&t));
    }
    buf_free(&t);
}

/* The per-recipient fields of the status part. */
static void put_status_rcpt(struct out *o, const struct dsn_entry *e,
                            const struct qf_envelope *env,
                            const struct dsn_notify_opts *opts)
{
    struct buf t = BUF_INIT;

    out_puts(o, "\n");
    out_folded(o, "Final-Recipient: rfc822; ", e->rcpt);
    if (e->orcpt && *e->orcpt)
        out_folded(o, "Original-Recipient: ", e->orcpt);
    out_printf(o, "Action: %s\n", e->action);
    out_printf(o, "Status: %s\n", e->dsn);
    if (e->mta && *e->mta)
        out_folded(o, "Remote-MTA: ", e->mta);
    if (e->diag && *e->diag) {
        out_folded(o, "Diagnostic-Code: ", e->diag);
    } else if (e->text && *e->text) {
        buf_puts(&t, "X-Postern; ");
        clean_text(&t, e->text);
        out_folded(o, "Diagnostic-Code: ", buf_str(&t));
    }
    if (opts->kind == DSN_NOTIFY_DELAY && strcmp(e->action, "delayed") == 0) {
        buf_reset(&t);
        mail_date(&t, env->arrival.tv_sec + opts->queue_lifetime);
        out_printf(o, "Will-Retry-Until: %s\n", buf_str(&t));
    }
    buf_free(&t);
}

/* Build and write the notification (see dsn_notify.h). */
int dsn_notify_write(struct queue_file *orig, const struct dsn_entry *v, size_t n,
                     const struct dsn_notify_opts *opts,
                     struct queue_file_writer *w, struct buf *why)
{
    const struct qf_envelope *env = queue_file_envelope(orig);
    struct out o;
    struct scan sc;
    struct buf boundary = BUF_INIT;
    const char *what;
    int full;
    size_t i;

    buf_init(&o.b, OUT_FLUSH * 2 + 4 * FOLD_WIDTH + 2 * QF_MAX_ADDR + 65536);
    o.w = w;
    o.failed = 0;
    buf_printf(&boundary, "%s.%lld/%s", opts->new_queue_id, (long long)opts->now,
               opts->myhostname);
    full = !opts->headers_only && env->ret != QF_RET_HDRS
           && env->size <= opts->size_limit;

    /* Is the part we return 8-bit? (A pass that writes nothing.) */
    memset(&sc, 0, sizeof(sc));
    sc.headers_only = !full;
    if (walk_original(orig, &sc, why) < 0)
        goto fail;

    put_header(&o, opts, buf_str(&boundary), sc.eight_bit);

    out_printf(&o, "--%s\n", buf_str(&boundary));
    out_puts(&o, "Content-Description: Notification\n"
                 "Content-Type: text/plain; charset=us-ascii\n\n");
    put_intro(&o, opts);
    for (i = 0; i < n; i++)
        put_human_rcpt(&o, &v[i]);

    out_printf(&o, "--%s\n", buf_str(&boundary));
    out_puts(&o, "Content-Description: Delivery report\n"
                 "Content-Type: message/delivery-status\n\n");
    put_status_message(&o, env, opts);
    for (i = 0; i < n; i++)
        put_status_rcpt(&o, &v[i], env, opts);
    out_puts(&o, "\n");

    what = opts->kind == DSN_NOTIFY_FAILURE ? "Undelivered"
           : opts->kind == DSN_NOTIFY_DELAY ? "Delayed" : "Delivered";
    out_printf(&o, "--%s\n", buf_str(&boundary));
    out_printf(&o, "Content-Description: %s Message%s\n", what, full ? "" : " Headers");
    out_printf(&o, "Content-Type: %s\n", full ? "message/rfc822" : "text/rfc822-headers");
    out_printf(&o, "Content-Transfer-Encoding: %s\n\n", sc.eight_bit ? "8bit" : "7bit");
    out_flush(&o);
    sc.o = &o;
    if (walk_original(orig, &sc, why) < 0)
        goto fail;
    if (!sc.last_nl)
        out_puts(&o, "\n");
    out_printf(&o, "\n--%s--\n", buf_str(&boundary));
    out_flush(&o);
    if (o.failed) {
        buf_puts(why, "cannot write the notification");
        goto fail;
    }
    buf_free(&o.b);
    buf_free(&boundary);
    return 0;
fail:
    if (o.failed && why->len == 0)
        buf_puts(why, "cannot write the notification");
    buf_free(&o.b);
    buf_free(&boundary);
    return -1;
}
