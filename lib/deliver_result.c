/*
 * deliver_result - the result half of deliver_agent.h: deliver_sent(),
 * deliver_defer(), deliver_bounce() and friends record each recipient's
 * outcome and log it at once in Postfix's shape ("ID: to=<a@b>, relay=R,
 * delay=0.21, delays=0.1/0.01/0/0.1, dsn=2.0.0, status=sent (TEXT)").
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deliver_agent.h"
#include "deliver_proto.h"
#include "delivery_log.h"
#include "log.h"
#include "mem.h"

/* Is dsn "C.X.Y" with class C and 1-3 digit subcodes? */
static int dsn_ok(const char *dsn, char cls)
{
    const char *p = dsn;
    int parts = 0;

    if (dsn == NULL || dsn[0] != cls || dsn[1] != '.')
        return 0;
    p = dsn + 2;
    while (parts < 2) {
        int n = 0;

        while (*p >= '0' && *p <= '9' && n < 3) {
            p++;
            n++;
        }
        if (n == 0)
            return 0;
        parts++;
        if (parts < 2) {
            if (*p != '.')
                return 0;
            p++;
        }
    }
    return *p == 0;
}

/* Write the Postfix-shaped log line for recipient i (delivery_log.h). */
static void log_result(const struct delivery_request *req, size_t i,
                       const char *relay, const char *status)
{
    const struct delivery_rcpt *r = &req->rcpt[i];
    struct delivery_times t;

    t.arrival = req->arrival;
    t.active = req->active;
    t.agent_start = req->agent_start;
    t.conn_done = req->conn_done;
    delivery_log(req->queue_id, r->address, r->orcpt, relay, &t, r->dsn, status, r->text);
}

/* Format fmt/ap into a malloc()ed string of at most DELIVER_MAX_TEXT bytes. */
static char *bounded_text(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static char *bounded_text(const char *fmt, va_list ap)
{
    char *text = xmalloc(DELIVER_MAX_TEXT + 1);

    vsnprintf(text, DELIVER_MAX_TEXT + 1, fmt, ap);
    /* No line breaks in a log line or a reply. */
    for (char *p = text; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return text;
}

/* Shared body of deliver_sent/defer/bounce. */
static void result_v(struct delivery_request *req, size_t i, enum deliver_result res,
                     const char *relay, const char *dsn, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));
static void result_v(struct delivery_request *req, size_t i, enum deliver_result res,
                     const char *relay, const char *dsn, const char *fmt, va_list ap)
{
    static const char cls[] = {0, '2', '4', '5'};
    static const char *const word[] = {NULL, DELIVER_RES_SENT, DELIVER_RES_DEFERRED,
                                       DELIVER_RES_BOUNCED};
    struct delivery_rcpt *r;

    if (i >= req->nrcpt)
        msg_panic("deliver result: recipient %zu of %zu", i, req->nrcpt);
    r = &req->rcpt[i];
    if (r->result != DELIVER_NONE)
        msg_panic("deliver result: second result for <%s>", r->address);
    if (!dsn_ok(dsn, cls[res]))
        msg_panic("deliver result: bad dsn \"%s\" for status %s",
                  dsn ? dsn : "(null)", word[res]);
    r->result = res;
    snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
    free(r->text);
    r->text = bounded_text(fmt, ap);
    log_result(req, i, relay ? relay : "none", word[res]);
}

/* Recipient i was delivered (2.x.x). */
void deliver_sent(struct delivery_request *req, size_t i, const char *relay,
                  const char *dsn, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    result_v(req, i, DELIVER_SENT, relay, dsn, fmt, ap);
    va_end(ap);
}

/* Recipient i must wait and be retried (4.x.x). */
void deliver_defer(struct delivery_request *req, size_t i, const char *relay,
                   const char *dsn, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    result_v(req, i, DELIVER_DEFERRED, relay, dsn, fmt, ap);
    va_end(ap);
}

/* Recipient i failed for good (5.x.x). */
void deliver_bounce(struct delivery_request *req, size_t i, const char *relay,
                    const char *dsn, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    result_v(req, i, DELIVER_BOUNCED, relay, dsn, fmt, ap);
    va_end(ap);
}

/* A copy of s cut to DELIVER_MAX_TEXT bytes, or NULL. */
static char *bounded_copy(const char *s)
{
    return s ? xstrndup(s, DELIVER_MAX_TEXT) : NULL;
}

/* RFC 3464 Remote-MTA and Diagnostic-Code for recipient i. */
void deliver_set_diag(struct delivery_request *req, size_t i,
                      const char *mta, const char *diag)
{
    if (i >= req->nrcpt)
        msg_panic("deliver_set_diag: recipient %zu of %zu", i, req->nrcpt);
    free(req->rcpt[i].mta);
    free(req->rcpt[i].diag);
    req->rcpt[i].mta = bounded_copy(mta);
    req->rcpt[i].diag = bounded_copy(diag);
}

/* RFC 3464 action of a sent recipient. */
void deliver_set_action(struct delivery_request *req, size_t i, const char *action)
{
    if (i >= req->nrcpt || req->rcpt[i].result != DELIVER_SENT)
        msg_panic("deliver_set_action: recipient %zu has not been sent", i);
    if (action && strcmp(action, "relayed") != 0 && strcmp(action, "expanded") != 0
        && strcmp(action, "delivered") != 0)
        msg_panic("deliver_set_action: bad action \"%s\"", action);
    req->rcpt[i].action = action;
}

/* Time stamp the end of connection set-up (delays c/d). */
void deliver_conn_done(struct delivery_request *req)
{
    gettimeofday(&req->conn_done, NULL);
}

/* Defer every recipient that has no result yet. */
void deliver_defer_rest(struct delivery_request *req, const char *relay,
                        const char *dsn, const char *fmt, ...)
{
    va_list ap;

    for (size_t i = 0; i < req->nrcpt; i++) {
        if (req->rcpt[i].result != DELIVER_NONE)
            continue;
        va_start(ap, fmt);
        result_v(req, i, DELIVER_DEFERRED, relay, dsn, fmt, ap);
        va_end(ap);
    }
}
