/*
 * qmgr_schedule - which delivery request goes next: round robin over the
 * destinations of each transport, one request per destination per round,
 * while the destination is under its concurrency window and the
 * transport under its process limit. Requests take the recipients of
 * one message at a time, at most the transport's recipient limit.
 */
#include "log.h"
#include "qmgr.h"

void qmgr_schedule(void)
{
    static int running;
    time_t now = time(NULL);

    if (running)
        return;
    running = 1;
    for (struct qmgr_transport *t = qmgr.transports; t; t = t->next) {
        int progress = 1;

        if (t->dead_until > now)
            continue;
        while (progress && t->busy < t->proc_limit) {
            progress = 0;
            for (struct qmgr_queue *q = t->queues; q && t->busy < t->proc_limit;
                 q = q->next) {
                struct qmgr_entry *e = q->head;

                if (e == NULL || q->busy >= q->window || q->throttle_until > now)
                    continue;
                qmgr_deliver(q, e, e->n < (size_t)t->rcpt_limit ? e->n
                             : (size_t)t->rcpt_limit);
                progress = 1;
            }
        }
        qmgr_queue_gc(t);
    }
    running = 0;
}
