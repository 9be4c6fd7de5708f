/*
 * dsn_log - the per-message logs of delivery results that notifications
 * are built from, as Postfix keeps them in bounce/ and defer/:
 *
 *   bounce/ID   recipients that failed for good (one entry each), written
 *               by qmgr before it marks them done; read by the bounce
 *               service to build the non-delivery notification, which
 *               removes the file once that notification is queued.
 *   defer/ID    the latest temporary failure of recipients still pending
 *               (appended; a later entry for the same recipient offset
 *               supersedes an earlier one); read for delay warnings, for
 *               expiry (the last reason is what the sender is told) and
 *               by postqueue -p for the "(reason)" line; removed by qmgr
 *               when the message leaves the queue.
 *   trace/ID    successful deliveries of recipients that asked for
 *               NOTIFY=SUCCESS; read by bounce for the success DSN.
 *
 * (paths relative to queue_directory; hash depth 0.)
 *
 * FORMAT. A sequence of ipc_frame.h frames, one per entry, each with:
 *
 *   rcpt=ADDRESS  orcpt=ORCPT  notify=N  offset=N     the recipient
 *   action=failed|delayed|delivered|relayed|expanded  RFC 3464 Action
 *   dsn=X.Y.Z     text=REASON   [diag=..]  [mta=..]   as in deliver_proto.h
 *   time=SEC                                          when it happened
 *
 * An append is one write() of one whole frame with O_APPEND followed by
 * fsync (so a crash leaves at most a torn last entry); under an flock,
 * an append first cuts off such a torn tail, so later entries stay
 * readable. The reader takes entries in order and stops at the first
 * frame that does not decode: a torn tail is ignored (and counted), never
 * fatal; a frame that decodes but is no valid entry is skipped (and
 * counted). A file is read up to
 * DSN_LOG_MAX_BYTES and DSN_LOG_MAX_ENTRIES; beyond that the rest is
 * ignored and reported through the result.
 */
#ifndef POSTERN_DSN_LOG_H
#define POSTERN_DSN_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

#define DSN_LOG_MAX_BYTES   (64 * 1024 * 1024)
#define DSN_LOG_MAX_ENTRIES 100000

#define DSN_LOG_BOUNCE  "bounce"
#define DSN_LOG_DEFER   "defer"
#define DSN_LOG_TRACE   "trace"

struct dsn_entry {
    char *rcpt;
    char *orcpt;                /* "" if none */
    unsigned notify;            /* QF_NOTIFY_* */
    uint64_t offset;            /* of the recipient's R record */
    char *action;               /* "failed", "delayed", "delivered", ... */
    char dsn[16];
    char *text;
    char *diag;                 /* NULL if none */
    char *mta;                  /* NULL if none */
    time_t time;
};

struct dsn_log {
    struct dsn_entry *v;
    size_t n;
    int truncated;              /* a torn or over-limit tail was ignored */
};

/*
 * Append one entry to KIND/QUEUE_ID under the current directory (the
 * queue directory), creating it mode 0600; durable on return (fsync).
 * 0, or -1 with why.
 */
int dsn_log_append(const char *kind, const char *queue_id,
                   const struct dsn_entry *e, struct buf *why);

/* Read KIND/QUEUE_ID. 0 (log filled; n may be 0), 1 when the file does
 * not exist (log empty), -1 on an I/O error with why. */
int dsn_log_read(const char *kind, const char *queue_id, struct dsn_log *log,
                 struct buf *why);

/* The same from memory (tests, fuzzing). Always succeeds. */
void dsn_log_parse(const void *data, size_t len, struct dsn_log *log);

/* For defer logs: keep only the last entry per offset, in first-seen order. */
void dsn_log_latest(struct dsn_log *log);

void dsn_log_free(struct dsn_log *log);

/* Remove KIND/QUEUE_ID; 0 also when it did not exist. */
int dsn_log_remove(const char *kind, const char *queue_id);

#endif
