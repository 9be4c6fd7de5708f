/*
 * qmgr_active - the end of a message's pass through active/, once every
 * loaded recipient has a result, in this order:
 *
 *   1. expiry: when some recipients were deferred and the message is
 *      older than maximal_queue_lifetime (bounce_queue_lifetime for the
 *      null sender), each pending recipient bounces with its last defer
 *      reason (defer/ID), and "ID: from=<s>, status=expired, returned to
 *      sender" is logged;
 *   2. bounce/ID exists: the bounce service sends the non-delivery
 *      notice (request=flush);
 *   3. trace/ID exists: the success notice (request=trace);
 *   4. recipients still deferred and the delay-warning time (W record)
 *      has passed: request=warn, then the W record is cleared;
 *   5. nothing pending and nothing went wrong: defer/ID and the queue
 *      file are removed ("ID: removed"); otherwise the done marks are
 *      written and the file goes to deferred/ with its next retry time as
 *      mtime: now + clamp(now - arrival, minimal_backoff_time,
 *      maximal_backoff_time), so the wait doubles from try to try; when
 *      the bounce service could not take a notice, a short retry
 *      (at most a minute) instead. A notice is never dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bounce_proto.h"
#include "dsn_log.h"
#include "log.h"
#include "mem.h"
#include "qmgr.h"
#include "queue_file.h"

#define SHORT_RETRY 60          /* seconds, after a failed notice */

/*
 * Does KIND/ID exist? Only a clear "no such file" is no: when in doubt
 * (EACCES, EIO) the notice is attempted, and the bounce service's own
 * failure keeps the message, rather than the log being left behind.
 */
static int log_exists(const char *kind, const char *id)
{
    char path[64];

    snprintf(path, sizeof(path), "%s/%s", kind, id);
    if (access(path, F_OK) == 0)
        return 1;
    if (errno != ENOENT) {
        msg_warn("%s: %m", path);
        return 1;
    }
    return 0;
}

/* Has this recipient offset a final result that is not marked yet? */
static int is_unmarked(const struct qmgr_message *m, uint64_t offset)
{
    for (size_t i = 0; i < m->nunmarked; i++)
        if (m->unmarked[i] == offset)
            return 1;
    return 0;
}

/* Bounce every pending recipient with its last defer reason. */
static void expire(struct qmgr_message *m)
{
    struct buf why = BUF_INIT;
    struct dsn_log log = {0};
    struct queue_file *qf;
    struct qf_rcpt qr;
    char path[64];
    int corrupt = 0, rc, failed = 0;

    if (dsn_log_read(DSN_LOG_DEFER, m->id, &log, &why) < 0) {
        msg_warn("%s: %s", m->id, buf_str(&why));
        buf_reset(&why);
    }
    dsn_log_latest(&log);
    snprintf(path, sizeof(path), "%s/%s", QMGR_ACTIVE, m->id);
    if (queue_file_open(path, QF_OPEN_RDONLY, &qf, &corrupt, &why) < 0) {
        msg_warn("%s: cannot expire: %s", m->id, buf_str(&why));
        m->trouble = 1;
        dsn_log_free(&log);
        buf_free(&why);
        return;
    }
    queue_file_rcpt_rewind(qf);
    while ((rc = queue_file_rcpt_next(qf, &qr, &why)) == 1) {
        const struct dsn_entry *d = NULL;
        struct dsn_entry e;

        if (qr.done || is_unmarked(m, qr.offset))
            continue;
        for (size_t i = 0; i < log.n; i++)
            if (log.v[i].offset == qr.offset)
                d = &log.v[i];
        memset(&e, 0, sizeof(e));
        e.rcpt = (char *)qr.address;
        e.orcpt = (char *)qr.orcpt;
        e.notify = qr.notify;
        e.offset = qr.offset;
        e.action = (char *)"failed";
        if (d && d->dsn[0] == '4' && d->dsn[1] == '.') {
            snprintf(e.dsn, sizeof(e.dsn), "5%s", d->dsn + 1);
            e.text = d->text;
            e.diag = d->diag;
            e.mta = d->mta;
        } else {
            snprintf(e.dsn, sizeof(e.dsn), "5.4.7");
            e.text = (char *)"delivery time expired";
        }
        e.time = time(NULL);
        buf_reset(&why);
        if (dsn_log_append(DSN_LOG_BOUNCE, m->id, &e, &why) < 0) {
            msg_warn("%s: cannot update bounce log: %s", m->id, buf_str(&why));
            failed = 1;
            continue;
        }
        if (m->nunmarked == m->capunmarked) {
            m->capunmarked = m->capunmarked ? 2 * m->capunmarked : 8;
            m->unmarked = xreallocarray(m->unmarked, m->capunmarked, sizeof(*m->unmarked));
        }
        m->unmarked[m->nunmarked++] = qr.offset;
    }
    if (rc < 0) {
        msg_warn("%s: reading recipients: %s", m->id, buf_str(&why));
        failed = 1;
    }
    queue_file_close(qf);
    dsn_log_free(&log);
    buf_free(&why);
    msg_info("%s: from=<%s>, status=expired, returned to sender", m->id, m->sender);
    if (failed)
        m->trouble = 1;
    else
        m->any_deferred = 0;
}

/* Clear the delay-warning time in the queue file. */
static void clear_warn_time(struct qmgr_message *m)
{
    struct buf why = BUF_INIT;
    struct queue_file *qf = NULL;
    char path[64];
    int corrupt = 0;

    snprintf(path, sizeof(path), "%s/%s", QMGR_ACTIVE, m->id);
    if (queue_file_open(path, QF_OPEN_RDWR, &qf, &corrupt, &why) < 0
        || queue_file_set_warn_time(qf, 0, &why) < 0)
        msg_warn("%s: cannot clear the delay warning time: %s", m->id, buf_str(&why));
    else
        m->warn_time = 0;
    if (qf)
        queue_file_close(qf);
    buf_free(&why);
}

struct notice {
    struct qmgr_message *msg;
    const char *request;
    enum qmgr_finish_state next;
};

/* The bounce service answered (or could not be reached). */
static void on_notice(void *ctx, int status, const struct ipc_record *reply,
                      const char *why)
{
    struct notice *n = ctx;
    struct qmgr_message *m = n->msg;
    const char *st = status == QMGR_IPC_OK ? ipc_get_str(reply, "status") : NULL;
    int ok = st && strcmp(st, BOUNCE_STAT_OK) == 0;

    if (!ok) {
        const char *reason = status == QMGR_IPC_OK ? ipc_get_str(reply, "reason") : why;

        msg_warn("%s: %s notice not sent: %s", m->id, n->request,
                 reason ? reason : "unknown error");
        /* A lost warning is tried again later; a lost bounce or trace keeps the mail. */
        if (strcmp(n->request, BOUNCE_REQ_WARN) != 0) {
            m->trouble = 1;
            n->next = QMGR_FIN_FINAL;
        }
    } else if (strcmp(n->request, BOUNCE_REQ_WARN) == 0) {
        clear_warn_time(m);
    }
    m->fin = n->next;
    free(n);
    qmgr_active_finish(m);
}

/* Ask the bounce service for a notice; the chain goes on in on_notice. */
static void notice(struct qmgr_message *m, const char *request, enum qmgr_finish_state next)
{
    struct notice *n = xcalloc(1, sizeof(*n));
    struct ipc_record rec;

    n->msg = m;
    n->request = request;
    n->next = next;
    m->fin = QMGR_FIN_WAIT;
    ipc_record_init(&rec);
    ipc_add_str(&rec, "request", request);
    ipc_add_str(&rec, "queue_id", m->id);
    ipc_add_str(&rec, "queue_name", QMGR_ACTIVE);
    qmgr_ipc_call(BOUNCE_SOCKET, &rec, (double)qmgr.set.ipc_timeout, on_notice, n);
    ipc_record_free(&rec);
}

/* The next retry time of a message that stays. */
static time_t retry_time(const struct qmgr_message *m, time_t now)
{
    long backoff = (long)(now - m->arrival.tv_sec);

    if (backoff < qmgr.set.min_backoff)
        backoff = qmgr.set.min_backoff;
    if (backoff > qmgr.set.max_backoff)
        backoff = qmgr.set.max_backoff;
    if (m->trouble && backoff > SHORT_RETRY)
        backoff = SHORT_RETRY;
    return now + backoff;
}

/* Remove the message, or move it to deferred/ until its retry time. */
static void final(struct qmgr_message *m)
{
    char from[64], to[64];
    time_t now = time(NULL);

    snprintf(from, sizeof(from), "%s/%s", QMGR_ACTIVE, m->id);
    if (!m->any_deferred && !m->trouble) {
        dsn_log_remove(DSN_LOG_DEFER, m->id);
        if (unlink(from) == 0)
            msg_info("%s: removed", m->id);
        else if (errno != ENOENT)
            msg_warn("%s: remove %s: %m", m->id, from);
    } else {
        struct timespec ts[2];

        qmgr_message_sync_marks(m);
        ts[0].tv_sec = ts[1].tv_sec = retry_time(m, now);
        ts[0].tv_nsec = ts[1].tv_nsec = 0;
        snprintf(to, sizeof(to), "%s/%s", QMGR_DEFERRED, m->id);
        if (utimensat(AT_FDCWD, from, ts, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
            msg_warn("%s: set retry time: %m", from);
        if (rename(from, to) < 0 && errno != ENOENT)
            msg_fatal("%s: move to %s: %m; restarting, so that recovery takes it",
                      from, QMGR_DEFERRED);
    }
    qmgr_message_free(m);
}

/*
 * A file in active/ that qmgr could not take on (unreadable for now):
 * back to deferred/, to be tried again in delay seconds. Scans never look
 * in active/, so leaving it there would strand it until a restart; if
 * even the move fails, exit and let the restart's recovery take it.
 */
void qmgr_active_putback(const char *id, int delay)
{
    char from[512], to[512];
    struct timespec ts[2];

    snprintf(from, sizeof(from), "%s/%s", QMGR_ACTIVE, id);
    snprintf(to, sizeof(to), "%s/%s", QMGR_DEFERRED, id);
    ts[0].tv_sec = ts[1].tv_sec = time(NULL) + delay;
    ts[0].tv_nsec = ts[1].tv_nsec = 0;
    if (utimensat(AT_FDCWD, from, ts, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
        msg_warn("%s: set retry time: %m", from);
    if (rename(from, to) < 0 && errno != ENOENT)
        msg_fatal("%s: move to %s: %m; restarting, so that recovery takes it",
                  from, QMGR_DEFERRED);
}

void qmgr_active_finish(struct qmgr_message *m)
{
    for (;;) {
        switch (m->fin) {
        case QMGR_FIN_NONE:
            m->fin = QMGR_FIN_BOUNCE;
            if (m->any_deferred) {
                long life = *m->sender ? qmgr.set.max_lifetime : qmgr.set.bounce_lifetime;

                if (time(NULL) - m->arrival.tv_sec >= life)
                    expire(m);
            }
            break;
        case QMGR_FIN_BOUNCE:
            if (log_exists(DSN_LOG_BOUNCE, m->id)) {
                notice(m, BOUNCE_REQ_FLUSH, QMGR_FIN_TRACE);
                return;
            }
            m->fin = QMGR_FIN_TRACE;
            break;
        case QMGR_FIN_TRACE:
            if (log_exists(DSN_LOG_TRACE, m->id)) {
                notice(m, BOUNCE_REQ_TRACE, QMGR_FIN_WARN);
                return;
            }
            m->fin = QMGR_FIN_WARN;
            break;
        case QMGR_FIN_WARN:
            if (m->any_deferred && m->warn_time > 0 && time(NULL) >= m->warn_time) {
                notice(m, BOUNCE_REQ_WARN, QMGR_FIN_FINAL);
                return;
            }
            m->fin = QMGR_FIN_FINAL;
            break;
        case QMGR_FIN_FINAL:
            final(m);
            return;
        case QMGR_FIN_WAIT:
            return;
        }
    }
}
