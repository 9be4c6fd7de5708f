/*
 * mail_copy - write a queue file's message to a mailbox descriptor with
 * the lines a delivery agent prepends and the mbox quoting (mailbox.h),
 * through a fixed buffer; and the Delivered-To: loop check.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "delivered_to.h"
#include "log.h"
#include "mem.h"
#include "mailbox.h"
#include "safe_file.h"

#define COPY_BUF_SIZE 65536

/* The output side of one copy. */
struct copy_out {
    int fd;
    uint64_t limit;             /* 0: none */
    uint64_t written;
    int error;                  /* errno of the first failure, 0 if none */
    size_t len;
    char last;                  /* last byte written (for the final newline) */
    int quote;                  /* MAIL_COPY_QUOTE */
    size_t match;               /* bytes of "From " matched at a line start */
    int bol;                    /* at the beginning of a line */
    char data[COPY_BUF_SIZE];
};

/* Write out what is buffered. */
static void out_flush(struct copy_out *o)
{
    if (o->error == 0 && o->len > 0 && write_all(o->fd, o->data, o->len) < 0)
        o->error = errno ? errno : EIO;
    o->len = 0;
}

/* Add bytes, within the size limit. */
static void out_put(struct copy_out *o, const char *p, size_t n)
{
    if (o->error || n == 0)
        return;
    if (o->limit > 0 && o->written + n > o->limit) {
        o->error = EFBIG;
        return;
    }
    o->written += n;
    o->last = p[n - 1];
    while (n > 0) {
        size_t room = sizeof(o->data) - o->len, k = n < room ? n : room;

        memcpy(o->data + o->len, p, k);
        o->len += k;
        p += k;
        n -= k;
        if (o->len == sizeof(o->data))
            out_flush(o);
    }
}

/* Add a C string. */
static void out_str(struct copy_out *o, const char *s)
{
    out_put(o, s, strlen(s));
}

/* Message bytes: ">From " quoting at line starts when asked. */
static int copy_content(const void *data, size_t len, void *ctx)
{
    static const char from[] = "From ";
    struct copy_out *o = ctx;
    const char *p = data, *run = p;

    if (!o->quote) {
        out_put(o, p, len);
        return o->error ? 1 : 0;
    }
    for (size_t i = 0; i < len; i++) {
        char c = p[i];

        if (o->bol) {
            if (c == from[o->match]) {
                if (++o->match == sizeof(from) - 1) {
                    out_str(o, ">From ");
                    o->match = 0;
                    o->bol = 0;
                }
                run = p + i + 1;
                continue;
            }
            /* Not "From ": give back what was held, go on normally. */
            out_put(o, from, o->match);
            o->match = 0;
            o->bol = 0;
            run = p + i;
        }
        if (c == '\n') {
            out_put(o, run, (size_t)(p + i + 1 - run));
            run = p + i + 1;
            o->bol = 1;
        }
    }
    if (!o->bol)
        out_put(o, run, (size_t)(p + len - run));
    return o->error ? 1 : 0;
}

/* "From SENDER DATE" with an asctime-style date, as mbox readers expect. */
static void from_line(struct copy_out *o, const char *sender)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;

    localtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
    out_str(o, "From ");
    out_str(o, *sender ? sender : "MAILER-DAEMON");
    out_str(o, " ");
    out_str(o, date);
    out_str(o, "\n");
}

/* Copy the message to fd with the requested extra lines. */
int mail_copy(struct queue_file *qf, int fd, const struct mailbox_opts *opts,
              uint64_t *written, struct buf *why)
{
    struct copy_out *o = xcalloc(1, sizeof(*o));
    const char *sender = opts->sender ? opts->sender : "";
    int rc, err;

    o->fd = fd;
    o->limit = opts->size_limit;
    o->quote = (opts->copy_flags & MAIL_COPY_QUOTE) != 0;
    o->bol = 1;
    o->last = '\n';

    if (opts->copy_flags & MAIL_COPY_FROM_LINE)
        from_line(o, sender);
    if (opts->copy_flags & MAIL_COPY_RETURN_PATH) {
        out_str(o, "Return-Path: <");
        out_str(o, sender);
        out_str(o, ">\n");
    }
    if ((opts->copy_flags & MAIL_COPY_DELIVERED) && opts->delivered_to) {
        out_str(o, "Delivered-To: ");
        out_str(o, opts->delivered_to);
        out_str(o, "\n");
    }
    if (opts->original_to) {
        out_str(o, "X-Original-To: ");
        out_str(o, opts->original_to);
        out_str(o, "\n");
    }
    o->last = '\n';
    rc = queue_file_content_foreach(qf, copy_content, o, why);
    if (rc < 0) {
        if (written)
            *written = o->written;
        if (why->len == 0)
            buf_puts(why, "error reading queue file");
        free(o);
        errno = EIO;
        return -1;
    }
    if (o->match > 0)
        out_put(o, "From ", o->match);      /* a partial "From" at the very end */
    if (o->last != '\n')
        out_str(o, "\n");
    if (opts->copy_flags & MAIL_COPY_BLANK)
        out_str(o, "\n");
    out_flush(o);
    if (written)
        *written = o->written;
    err = o->error;
    free(o);
    if (err) {
        buf_printf(why, "error writing message: %s", err == EFBIG
                   ? "message exceeds mailbox size limit" : strerror(err));
        errno = err;
        return -1;
    }
    return 0;
}

/* Adapter: feed content chunks to the Delivered-To scan until it decides. */
static int scan_chunk(const void *data, size_t len, void *ctx)
{
    int rc = delivered_to_feed(ctx, data, len);

    return rc == 0 ? 0 : (rc > 0 ? 1 : 2);
}

/* Does the header block hold "Delivered-To: addr"? */
int mail_has_delivered_to(struct queue_file *qf, const char *addr, struct buf *why)
{
    struct delivered_to_scan scan;
    int rc;

    delivered_to_init(&scan, addr);
    rc = queue_file_content_foreach(qf, scan_chunk, &scan, why);
    if (rc < 0)
        return -1;
    return delivered_to_finish(&scan);
}
