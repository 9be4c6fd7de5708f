/*
 * qmgr_assign - send a recipient on its way: resolve it (lib/resolve.h),
 * then either decide it here (the error:, retry: and discard: transports,
 * a dead transport, a throttled destination, a resolver failure; each
 * logged by qmgr with relay=none) or put it in its destination's queue
 * for an agent.
 *
 *   discard:TEXT   sent, dsn 2.0.0, "TEXT" (default "discarded")
 *   error:TEXT     bounced; a leading 5.X.Y in TEXT is the DSN (default
 *                  5.0.0), a leading 4.X.Y defers instead
 *   retry:TEXT     deferred; a leading 4.X.Y is the DSN (default 4.0.0)
 */
#include <string.h>
#include <time.h>

#include "log.h"
#include "qmgr.h"

/* error:, retry: and discard: */
static int internal_transport(struct qmgr_rcpt *r, const struct resolved *res)
{
    char dsn[16];
    const char *text;
    int cls;

    if (strcmp(res->transport, "discard") == 0) {
        qmgr_result_sent(r, "none", "2.0.0", *res->nexthop ? res->nexthop : "discarded",
                         NULL, NULL);
        return 1;
    }
    if (strcmp(res->transport, "error") == 0) {
        cls = qmgr_dsn_split(res->nexthop, '5', dsn, &text);
        if (*text == 0)
            text = "unknown mail transport error";
        if (cls == '4')
            qmgr_result_defer(r, "none", dsn, text, NULL, NULL);
        else {
            if (cls == '2')
                memcpy(dsn, "5.0.0", 6);
            qmgr_result_bounce(r, "none", dsn, text, NULL, NULL);
        }
        return 1;
    }
    if (strcmp(res->transport, "retry") == 0) {
        cls = qmgr_dsn_split(res->nexthop, '4', dsn, &text);
        if (cls != 0 && cls != '4')
            memcpy(dsn, "4.0.0", 6);
        qmgr_result_defer(r, "none", dsn, *text ? text : "delivery temporarily suspended",
                          NULL, NULL);
        return 1;
    }
    return 0;
}

void qmgr_assign(struct qmgr_rcpt *r)
{
    struct buf why = BUF_INIT;
    struct resolved res;
    struct qmgr_transport *t;
    struct qmgr_queue *q;
    time_t now = time(NULL);

    if (resolve_addr(qmgr.resolver, r->address, &res, &why) < 0) {
        msg_warn("%s: resolve <%s>: %s", r->msg->id, r->address, buf_str(&why));
        qmgr_result_defer(r, "none", "4.3.0", "address resolver failure", NULL, NULL);
    } else if (!internal_transport(r, &res)) {
        t = qmgr_transport_find(res.transport);
        if (t->dead_until > now) {
            qmgr_result_defer(r, "none", "4.3.0", t->dead_text, NULL, NULL);
        } else {
            q = qmgr_queue_find(t, res.nexthop, r->address);
            if (q->throttle_until > now)
                qmgr_result_defer(r, "none", q->throttle_dsn, q->throttle_text, NULL, NULL);
            else
                qmgr_queue_append(q, r);
        }
    }
    buf_free(&why);
}
