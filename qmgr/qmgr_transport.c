/*
 * qmgr_transport - transports and their destinations (queues), with
 * their limits:
 *
 *   TRANSPORT_destination_concurrency_limit   requests in flight per
 *       destination (default_destination_concurrency_limit)
 *   TRANSPORT_initial_destination_concurrency where that starts
 *       (initial_destination_concurrency); it grows by one per request
 *       that did not find the destination failed
 *   TRANSPORT_destination_recipient_limit     recipients per request
 *       (default_destination_recipient_limit; 0: up to DELIVER_MAX_RCPT).
 *       When it is 1 the destination is the recipient itself, as in
 *       Postfix (local: one delivery per user at a time, in parallel
 *       for different users)
 *   master.cf maxproc of the service          requests in flight per
 *       transport (default_process_limit when master.cf cannot be read)
 *
 * A bad per-transport value is warned about and the default used. A
 * transport whose socket cannot be reached is dead for
 * transport_retry_time; a destination an agent reported failed
 * (dest_failed) is throttled for minimal_backoff_time. Either way the
 * mail waiting for it is deferred at once with the same reason, and so
 * is new mail for it until the time is up (or a flush).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deliver_proto.h"
#include "dict.h"
#include "log.h"
#include "mastercf.h"
#include "mem.h"
#include "numparse.h"
#include "qmgr.h"

#define NO_PROC_LIMIT 1000      /* maxproc 0 ("no limit") */

struct proc_limit {
    char *name;
    int maxproc;
};

static struct proc_limit *procs;
static size_t nprocs;
static int have_mastercf;

void qmgr_transport_init(const struct config *cfg)
{
    struct buf path = BUF_INIT, err = BUF_INIT;
    struct mastercf *mcf;

    buf_printf(&path, "%s/master.cf", config_dir(cfg));
    if ((mcf = mastercf_load(buf_str(&path), cfg, &err)) == NULL) {
        msg_warn("%s; using default_process_limit for every transport", buf_str(&err));
    } else {
        have_mastercf = 1;
        for (int i = 0; i < mcf->count; i++) {
            const struct service_def *s = &mcf->services[i];

            if (s->type != SERVICE_UNIX)
                continue;
            procs = xreallocarray(procs, nprocs + 1, sizeof(*procs));
            procs[nprocs].name = xstrdup(s->name);
            procs[nprocs].maxproc = s->maxproc > 0 ? s->maxproc : NO_PROC_LIMIT;
            nprocs++;
        }
        mastercf_free(mcf);
    }
    buf_free(&path);
    buf_free(&err);
}

/* TRANSPORT_SUFFIX from main.cf, checked, else the default. */
static long transport_long(const char *transport, const char *suffix, long dflt,
                           long min)
{
    struct buf name = BUF_INIT, val = BUF_INIT, err = BUF_INIT;
    const char *raw;
    long v = dflt;

    buf_printf(&name, "%s_%s", transport, suffix);
    if ((raw = config_raw(qmgr.cfg, buf_str(&name))) != NULL && *raw) {
        if (config_expand(qmgr.cfg, raw, &val, &err) < 0
            || parse_long(buf_str(&val), min, INT_MAX, &v) < 0) {
            msg_warn("%s: bad value \"%s\" (want a number >= %ld): using %ld",
                     buf_str(&name), raw, min, dflt);
            v = dflt;
        }
    }
    buf_free(&name);
    buf_free(&val);
    buf_free(&err);
    return v;
}

/* The maxproc of the master.cf service a transport names. */
static int proc_limit_of(const char *name)
{
    for (size_t i = 0; i < nprocs; i++)
        if (strcmp(procs[i].name, name) == 0)
            return procs[i].maxproc;
    return (int)qmgr.set.default_process_limit;
}

struct qmgr_transport *qmgr_transport_find(const char *name)
{
    struct qmgr_transport *t;
    const struct qmgr_settings *s = &qmgr.set;

    for (t = qmgr.transports; t; t = t->next)
        if (strcmp(t->name, name) == 0)
            return t;
    t = xcalloc(1, sizeof(*t));
    t->name = xstrdup(name);
    t->dest_limit = (int)transport_long(name, "destination_concurrency_limit",
                                        s->default_dest_concurrency, 1);
    t->initial = (int)transport_long(name, "initial_destination_concurrency",
                                     s->initial_concurrency, 1);
    if (t->initial > t->dest_limit)
        t->initial = t->dest_limit;
    t->rcpt_limit = (int)transport_long(name, "destination_recipient_limit",
                                        s->default_dest_rcpt_limit, 0);
    if (t->rcpt_limit == 0 || t->rcpt_limit > DELIVER_MAX_RCPT)
        t->rcpt_limit = DELIVER_MAX_RCPT;
    t->proc_limit = have_mastercf ? proc_limit_of(name) : (int)s->default_process_limit;
    t->next = qmgr.transports;
    qmgr.transports = t;
    msg_debug("transport %s: concurrency %d..%d, %d recipients per request, "
              "%d processes", name, t->initial, t->dest_limit, t->rcpt_limit,
              t->proc_limit);
    return t;
}

struct qmgr_queue *qmgr_queue_find(struct qmgr_transport *t, const char *nexthop,
                                   const char *address)
{
    struct buf key = BUF_INIT;
    struct qmgr_queue *q;

    buf_puts(&key, nexthop);
    if (t->rcpt_limit == 1) {
        char *a = xstrdup(address);

        dict_fold(a);
        buf_putc(&key, '\n');
        buf_puts(&key, a);
        free(a);
    }
    for (q = t->queues; q; q = q->next)
        if (strcmp(q->key, buf_str(&key)) == 0)
            break;
    if (q == NULL) {
        q = xcalloc(1, sizeof(*q));
        q->transport = t;
        q->key = buf_steal(&key);
        q->nexthop = xstrdup(nexthop);
        q->window = t->initial;
        q->next = t->queues;
        t->queues = q;
    }
    buf_free(&key);
    return q;
}

void qmgr_queue_append(struct qmgr_queue *q, struct qmgr_rcpt *r)
{
    struct qmgr_entry *e = q->tail;

    if (e == NULL || e->msg != r->msg) {
        e = xcalloc(1, sizeof(*e));
        e->msg = r->msg;
        if (q->tail)
            q->tail->next = e;
        else
            q->head = e;
        q->tail = e;
    }
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 4;
        e->rcpt = xreallocarray(e->rcpt, e->cap, sizeof(*e->rcpt));
    }
    e->rcpt[e->n++] = r;
}

/* Defer everything waiting in a queue, with one reason. */
static void queue_defer_all(struct qmgr_queue *q, const char *dsn, const char *text)
{
    struct qmgr_entry *e;

    while ((e = q->head) != NULL) {
        q->head = e->next;
        if (q->head == NULL)
            q->tail = NULL;
        for (size_t i = 0; i < e->n; i++)
            qmgr_result_defer(e->rcpt[i], "none", dsn, text, NULL, NULL);
        free(e->rcpt);
        free(e);
    }
}

void qmgr_transport_dead(struct qmgr_transport *t, const char *text)
{
    t->dead_until = time(NULL) + qmgr.set.transport_retry_time;
    free(t->dead_text);
    t->dead_text = xstrdup(text);
    for (struct qmgr_queue *q = t->queues; q; q = q->next)
        queue_defer_all(q, "4.3.0", text);
}

void qmgr_queue_throttle(struct qmgr_queue *q, const char *dsn, const char *text)
{
    q->throttle_until = time(NULL) + qmgr.set.min_backoff;
    snprintf(q->throttle_dsn, sizeof(q->throttle_dsn), "%s", dsn);
    free(q->throttle_text);
    q->throttle_text = xstrdup(text);
    q->window = q->transport->initial;
    queue_defer_all(q, q->throttle_dsn, text);
}

void qmgr_transport_flush_dead(void)
{
    for (struct qmgr_transport *t = qmgr.transports; t; t = t->next) {
        t->dead_until = 0;
        for (struct qmgr_queue *q = t->queues; q; q = q->next)
            q->throttle_until = 0;
    }
}

void qmgr_queue_gc(struct qmgr_transport *t)
{
    struct qmgr_queue **pp = &t->queues;
    time_t now = time(NULL);

    while (*pp) {
        struct qmgr_queue *q = *pp;

        if (q->head == NULL && q->busy == 0 && q->throttle_until <= now) {
            *pp = q->next;
            free(q->key);
            free(q->nexthop);
            free(q->throttle_text);
            free(q);
        } else {
            pp = &q->next;
        }
    }
}
