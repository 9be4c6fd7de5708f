/*
 * dsn_notify - build a delivery status notification (RFC 3464) in the
 * shape Postfix's bounce daemon writes it, straight into a queue file
 * writer:
 *
 *   From: MAILER-DAEMON@$myhostname (Mail Delivery System)
 *   Subject: Undelivered Mail Returned to Sender | Delayed Mail (still
 *            being retried) | Successful Mail Delivery Report
 *            (postmaster copies: "Postmaster Copy: Undelivered Mail",
 *            "Postmaster Warning: Delayed Mail")
 *   To, Auto-Submitted: auto-replied, MIME-Version, Content-Type:
 *   multipart/report; report-type=delivery-status, Message-Id, Date
 *
 *   part 1  text/plain: the human-readable report and one line per
 *           recipient "<rcpt>: reason"
 *   part 2  message/delivery-status: Reporting-MTA, X-Postern-Queue-ID,
 *           X-Postern-Sender, Arrival-Date, [Original-Envelope-Id], then
 *           per recipient Final-Recipient, [Original-Recipient], Action,
 *           Status, [Remote-MTA], Diagnostic-Code, [Will-Retry-Until]
 *   part 3  the original: message/rfc822 when it is returned whole (RET
 *           FULL or not given, and at most size_limit bytes, and not
 *           headers_only), else its header as text/rfc822-headers
 *
 * The content is written in local form (LF line endings). The original
 * is streamed from the queue file; it is never held in memory. Texts that
 * come from the logs (reasons, diagnostics) are cleaned to printable
 * ASCII on one line before they go into the message.
 */
#ifndef POSTERN_DSN_NOTIFY_H
#define POSTERN_DSN_NOTIFY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "dsn_log.h"
#include "queue_file.h"

enum dsn_notify_kind {
    DSN_NOTIFY_FAILURE,         /* non-delivery: bounce/ID */
    DSN_NOTIFY_DELAY,           /* delay warning: defer/ID */
    DSN_NOTIFY_SUCCESS,         /* NOTIFY=SUCCESS: trace/ID */
};

struct dsn_notify_opts {
    enum dsn_notify_kind kind;
    const char *myhostname;     /* Reporting-MTA, From, Message-Id */
    const char *to;             /* To: header (the notification's recipient) */
    const char *new_queue_id;   /* the notification's own ID (Message-Id, boundary) */
    time_t now;                 /* Date */
    uint64_t size_limit;        /* bounce_size_limit */
    int postmaster_copy;        /* postmaster template */
    int headers_only;           /* return only the original's header */
    long warn_after;            /* delays: delay_warning_time, seconds */
    long queue_lifetime;        /* delays: maximal_queue_lifetime, seconds */
};

/* Largest original header returned as text/rfc822-headers. */
#define DSN_NOTIFY_MAX_HEADER   (1024 * 1024)

/*
 * Write the notification's content (headers and body) about the message
 * in orig and the n entries in v into w (whose envelope the caller
 * writes). 0, or -1 with why (orig unreadable, w failed).
 */
int dsn_notify_write(struct queue_file *orig, const struct dsn_entry *v, size_t n,
                     const struct dsn_notify_opts *opts,
                     struct queue_file_writer *w, struct buf *why);

#endif
