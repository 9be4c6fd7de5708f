/*
 * qmgr_deliver - one delivery request to an agent (lib/deliver_proto.h)
 * and its reply: each recipient gets the agent's result; a request that
 * got no valid reply defers its recipients ("unknown delivery status");
 * a transport whose socket cannot be reached is dead for a while; a
 * reply with dest_failed=1 throttles the destination.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deliver_proto.h"
#include "log.h"
#include "mem.h"
#include "qmgr.h"

struct qmgr_request {
    struct qmgr_queue *queue;
    struct qmgr_message *msg;
    struct qmgr_rcpt **rcpt;
    size_t n;
};

/* Microseconds since the epoch. */
static long long usec_of(const struct timeval *tv)
{
    return (long long)tv->tv_sec * 1000000 + tv->tv_usec;
}

/* Defer every recipient of the request, logged by qmgr. */
static void defer_all(struct qmgr_request *rq, const char *dsn, const char *text)
{
    for (size_t i = 0; i < rq->n; i++)
        qmgr_result_defer(rq->rcpt[i], "none", dsn, text, NULL, NULL);
}

/* The reply's value NAME_I, or NULL. */
static const char *get_i(const struct ipc_record *rec, const char *name, size_t i)
{
    char key[IPC_MAX_NAME + 1];

    snprintf(key, sizeof(key), "%s_%zu", name, i);
    return ipc_get_str(rec, key);
}

/* Apply a status=ok reply; returns whether the destination failed. */
static int apply_results(struct qmgr_request *rq, const struct ipc_record *rec,
                         char fail_dsn[16], struct buf *fail_text)
{
    long dest_failed = 0;

    (void)ipc_get_long(rec, "dest_failed", &dest_failed);
    for (size_t i = 0; i < rq->n; i++) {
        const char *res = get_i(rec, "result", i), *dsn = get_i(rec, "dsn", i);
        const char *text = get_i(rec, "text", i), *diag = get_i(rec, "diag", i);
        const char *mta = get_i(rec, "mta", i), *action = get_i(rec, "action", i);
        char code[16];
        const char *rest;
        char want;

        if (res == NULL || (strcmp(res, DELIVER_RES_SENT) != 0
                            && strcmp(res, DELIVER_RES_BOUNCED) != 0
                            && strcmp(res, DELIVER_RES_DEFERRED) != 0)) {
            /* The agent gave no result: it logged nothing either. */
            qmgr_result_defer(rq->rcpt[i], "none", "4.3.0", "unknown delivery status",
                              NULL, NULL);
            continue;
        }
        want = strcmp(res, DELIVER_RES_SENT) == 0 ? '2'
            : strcmp(res, DELIVER_RES_BOUNCED) == 0 ? '5' : '4';
        if (dsn == NULL || qmgr_dsn_split(dsn, want, code, &rest) != want || *rest)
            snprintf(code, sizeof(code), "%c.0.0", want);
        if (text == NULL)
            text = want == '2' ? "delivered" : "delivery failed";
        if (want == '2') {
            qmgr_result_sent(rq->rcpt[i], NULL, code, text, action, mta);
        } else if (want == '5') {
            qmgr_result_bounce(rq->rcpt[i], NULL, code, text, diag, mta);
        } else {
            if (fail_text->len == 0) {
                snprintf(fail_dsn, 16, "%s", code);
                buf_puts(fail_text, text);
            }
            qmgr_result_defer(rq->rcpt[i], NULL, code, text, diag, mta);
        }
    }
    return dest_failed == 1;
}

/* The agent's answer (or why there is none). */
static void on_reply(void *ctx, int status, const struct ipc_record *reply, const char *why)
{
    struct qmgr_request *rq = ctx;
    struct qmgr_queue *q = rq->queue;
    struct qmgr_transport *t = q->transport;
    struct buf text = BUF_INIT;
    char dsn[16] = "4.4.1";
    const char *st;

    q->busy--;
    t->busy--;
    if (status == QMGR_IPC_NOCONNECT) {
        buf_printf(&text, "delivery temporarily suspended: connect to transport "
                   "private/%s: %s", t->name, strchr(why, ':') ? strrchr(why, ':') + 2 : why);
        defer_all(rq, "4.3.0", buf_str(&text));
        qmgr_transport_dead(t, buf_str(&text));
    } else if (status != QMGR_IPC_OK) {
        msg_warn("%s: transport %s: %s", rq->msg->id, t->name, why);
        defer_all(rq, "4.3.0", "unknown delivery status");
    } else if ((st = ipc_get_str(reply, "status")) == NULL
               || strcmp(st, DELIVER_STAT_OK) != 0) {
        const char *reason = ipc_get_str(reply, "reason");

        buf_printf(&text, "%s", reason && *reason ? reason : "unknown delivery status");
        defer_all(rq, "4.3.0", buf_str(&text));
    } else if (apply_results(rq, reply, dsn, &text)) {
        qmgr_queue_throttle(q, dsn, text.len ? buf_str(&text) : "destination failed");
    } else if (q->window < t->dest_limit) {
        q->window++;
    }
    /* A message with more work ahead keeps its progress on disk now. */
    if (rq->msg->unfinished > 0 || rq->msg->more)
        qmgr_message_sync_marks(rq->msg);
    free(rq->rcpt);
    free(rq);
    buf_free(&text);
    qmgr_schedule();
}

void qmgr_deliver(struct qmgr_queue *q, struct qmgr_entry *e, size_t n)
{
    struct qmgr_request *rq = xcalloc(1, sizeof(*rq));
    struct qmgr_message *m = e->msg;
    struct ipc_record rec;
    struct timeval now;
    struct buf path = BUF_INIT;
    char key[IPC_MAX_NAME + 1];

    rq->queue = q;
    rq->msg = m;
    rq->n = n;
    rq->rcpt = xcalloc(n, sizeof(*rq->rcpt));
    memcpy(rq->rcpt, e->rcpt, n * sizeof(*rq->rcpt));
    memmove(e->rcpt, e->rcpt + n, (e->n - n) * sizeof(*e->rcpt));
    e->n -= n;
    if (e->n == 0) {
        q->head = e->next;
        if (q->head == NULL)
            q->tail = NULL;
        free(e->rcpt);
        free(e);
    }
    q->busy++;
    q->transport->busy++;

    gettimeofday(&now, NULL);
    ipc_record_init(&rec);
    ipc_add_str(&rec, "request", DELIVER_REQ_DELIVER);
    ipc_add_str(&rec, "queue_id", m->id);
    ipc_add_str(&rec, "queue_name", QMGR_ACTIVE);
    ipc_add_str(&rec, "nexthop", q->nexthop);
    ipc_add_str(&rec, "sender", m->sender);
    snprintf(key, sizeof(key), "%lld", usec_of(&m->arrival));
    ipc_add_str(&rec, "arrival", key);
    snprintf(key, sizeof(key), "%lld", usec_of(&m->active));
    ipc_add_str(&rec, "active", key);
    snprintf(key, sizeof(key), "%lld", usec_of(&now));
    ipc_add_str(&rec, "dispatch", key);
    ipc_add_long(&rec, "rcpt_count", (long)n);
    for (size_t i = 0; i < n; i++) {
        char val[32];

        snprintf(key, sizeof(key), "rcpt_%zu", i);
        snprintf(val, sizeof(val), "%llu", (unsigned long long)rq->rcpt[i]->offset);
        ipc_add_str(&rec, key, val);
    }
    buf_printf(&path, "private/%s", q->transport->name);
    qmgr_ipc_call(buf_str(&path), &rec, (double)qmgr.set.daemon_timeout, on_reply, rq);
    ipc_record_free(&rec);
    buf_free(&path);
}
