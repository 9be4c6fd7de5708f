/*
 * qmgr_result - record one recipient's result: the log line when qmgr
 * decided it (relay given), the DSN logs (bounce/ID before the done
 * mark, defer/ID, trace/ID for NOTIFY=SUCCESS), and the done mark for
 * sent and bounced recipients. Then the recipient leaves memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "delivery_log.h"
#include "dsn_log.h"
#include "log.h"
#include "mem.h"
#include "qmgr.h"
#include "queue_file.h"

/* Is text "C.X.Y" (C = cls, 1-3 digits each) followed by space or end? */
static size_t dsn_prefix(const char *text, char cls)
{
    const char *p = text;

    if (p[0] != cls || p[1] != '.')
        return 0;
    p += 2;
    for (int part = 0; part < 2; part++) {
        int n = 0;

        while (*p >= '0' && *p <= '9' && n < 4) {
            p++;
            n++;
        }
        if (n == 0 || n > 3)
            return 0;
        if (part == 0) {
            if (*p != '.')
                return 0;
            p++;
        }
    }
    if (*p != 0 && *p != ' ')
        return 0;
    return (size_t)(p - text);
}

/*
 * Split a leading RFC 3463 code of class '2', '4' or '5' off text. Returns
 * its class and fills dsn and *rest; 0 (dsn "cls.0.0", rest = text) if none.
 */
int qmgr_dsn_split(const char *text, char cls, char dsn[16], const char **rest)
{
    static const char classes[] = "245";

    for (const char *c = classes; *c; c++) {
        size_t n = dsn_prefix(text, *c);

        if (n > 0 && n < 16) {
            memcpy(dsn, text, n);
            dsn[n] = 0;
            text += n;
            while (*text == ' ')
                text++;
            *rest = text;
            return *c;
        }
    }
    snprintf(dsn, 16, "%c.0.0", cls);
    *rest = text;
    return 0;
}

/* The log line for a result qmgr decided itself. */
static void log_result(const struct qmgr_rcpt *r, const char *relay, const char *dsn,
                       const char *status, const char *text)
{
    struct delivery_times t;

    memset(&t, 0, sizeof(t));
    t.arrival = r->msg->arrival;
    t.active = r->msg->active;
    delivery_log(r->msg->id, r->address, r->orcpt, relay, &t, dsn, status, text);
}

/* Append an entry for r to KIND/ID. 0 or -1 (logged). */
static int log_entry(const char *kind, const struct qmgr_rcpt *r, const char *action,
                     const char *dsn, const char *text, const char *diag, const char *mta)
{
    struct dsn_entry e;
    struct buf why = BUF_INIT;
    int rc;

    memset(&e, 0, sizeof(e));
    e.rcpt = r->address;
    e.orcpt = r->orcpt;
    e.notify = r->notify;
    e.offset = r->offset;
    e.action = (char *)action;
    snprintf(e.dsn, sizeof(e.dsn), "%s", dsn);
    e.text = (char *)text;
    e.diag = (char *)diag;
    e.mta = (char *)mta;
    e.time = time(NULL);
    if ((rc = dsn_log_append(kind, r->msg->id, &e, &why)) < 0)
        msg_warn("%s: cannot update %s log: %s", r->msg->id, kind, buf_str(&why));
    buf_free(&why);
    return rc;
}

/* Remember a final result for the done mark. */
static void add_unmarked(struct qmgr_message *m, uint64_t offset)
{
    if (m->nunmarked == m->capunmarked) {
        m->capunmarked = m->capunmarked ? 2 * m->capunmarked : 8;
        m->unmarked = xreallocarray(m->unmarked, m->capunmarked, sizeof(*m->unmarked));
    }
    m->unmarked[m->nunmarked++] = offset;
}

/* The recipient has its result: free it and let its message go on. */
static void rcpt_done(struct qmgr_rcpt *r)
{
    struct qmgr_message *m = r->msg;

    if (m->unfinished == 0)
        msg_panic("%s: result for a recipient that was not waiting", m->id);
    m->unfinished--;
    qmgr.nrcpt--;
    free(r->address);
    free(r->orcpt);
    free(r);
    qmgr_message_settle(m);
}

void qmgr_result_sent(struct qmgr_rcpt *r, const char *relay, const char *dsn,
                      const char *text, const char *action, const char *mta)
{
    if (relay)
        log_result(r, relay, dsn, "sent", text);
    if ((r->notify & QF_NOTIFY_SUCCESS)
        && log_entry(DSN_LOG_TRACE, r, action ? action : "delivered", dsn, text,
                     NULL, mta) < 0) {
        /* The success notice asked for could not be recorded: keep the
         * recipient (a second delivery, as in Postfix, not a lost notice). */
        r->msg->any_deferred = 1;
        r->msg->trouble = 1;
    } else {
        add_unmarked(r->msg, r->offset);
    }
    rcpt_done(r);
}

void qmgr_result_bounce(struct qmgr_rcpt *r, const char *relay, const char *dsn,
                        const char *text, const char *diag, const char *mta)
{
    if (relay)
        log_result(r, relay, dsn, "bounced", text);
    if (log_entry(DSN_LOG_BOUNCE, r, "failed", dsn, text, diag, mta) < 0) {
        /* Not recorded: keep the recipient, so the bounce is not lost. */
        r->msg->any_deferred = 1;
        r->msg->trouble = 1;
    } else {
        add_unmarked(r->msg, r->offset);
    }
    rcpt_done(r);
}

void qmgr_result_defer(struct qmgr_rcpt *r, const char *relay, const char *dsn,
                       const char *text, const char *diag, const char *mta)
{
    if (relay)
        log_result(r, relay, dsn, "deferred", text);
    (void)log_entry(DSN_LOG_DEFER, r, "delayed", dsn, text, diag, mta);
    r->msg->any_deferred = 1;
    rcpt_done(r);
}
