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
#include <strings.h>

#include "deliver_agent.h"
#include "deliver_proto.h"
#include "log.h"
#include "mem.h"

#define DELAY_SIG_DIGITS 2      /* significant digits of a small delay */
#define DELAY_MAX_DIGITS 2      /* decimals at most (delay_logging_resolution_limit) */

/* ------------------------------------------------------------ delays */

/* Append t (seconds + microseconds) the way Postfix logs delays. */
static void format_delay(struct buf *out, long sec, long usec)
{
    long res, width = 1;

    for (int i = 0; i < DELAY_SIG_DIGITS; i++)
        width *= 10;
    if (sec < 0 || usec < 0)
        sec = usec = 0;
    /* Resolution in microseconds: two significant digits, at most 2 decimals. */
    if (sec > 0) {
        long n = 1;

        while (sec >= n && n <= width / 10)
            n *= 10;
        res = (1000000 / width) * n;
    } else {
        res = 1000000;
        for (int i = 0; i < DELAY_MAX_DIGITS; i++)
            res /= 10;
        while (usec >= width * res)
            res *= 10;
    }
    if (res > 1) {
        usec += res / 2;
        if (usec >= 1000000) {
            sec++;
            usec -= 1000000;
        }
    }
    buf_printf(out, "%ld", sec);
    if (usec >= res) {
        long rem = usec;

        buf_putc(out, '.');
        for (long place = 100000; rem >= res && place > 0; place /= 10) {
            buf_putc(out, (int)('0' + rem / place));
            rem %= place;
        }
    }
}

/* Append to - from (clamped at 0) as a Postfix delay. */
static void format_delta(struct buf *out, const struct timeval *to,
                         const struct timeval *from)
{
    long sec = (long)(to->tv_sec - from->tv_sec);
    long usec = (long)(to->tv_usec - from->tv_usec);

    while (usec < 0) {
        usec += 1000000;
        sec--;
    }
    if (sec < 0)
        sec = usec = 0;
    format_delay(out, sec, usec);
}

/* ------------------------------------------------------------ results */

/* The address an ORCPT names ("rfc822;a+2Bb@x" -> "a+b@x"), into out. */
static void orcpt_address(const char *orcpt, struct buf *out)
{
    const char *semi = strchr(orcpt, ';');
    const char *p = semi ? semi + 1 : orcpt;

    buf_reset(out);
    for (; *p; p++) {
        int hi, lo;

        if (*p == '+' && p[1] && p[2]
            && sscanf((char[3]){p[1], p[2], 0}, "%1x%1x", &hi, &lo) == 2) {
            buf_putc(out, hi * 16 + lo);
            p += 2;
        } else {
            buf_putc(out, *p);
        }
    }
}

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

/* Write the Postfix-shaped log line for recipient i. */
static void log_result(const struct delivery_request *req, size_t i,
                       const char *relay, const char *status)
{
    const struct delivery_rcpt *r = &req->rcpt[i];
    struct buf line = BUF_INIT, orig = BUF_INIT;
    struct timeval now;

    gettimeofday(&now, NULL);
    buf_printf(&line, "%s: to=<%s>", req->queue_id, r->address);
    if (r->orcpt && *r->orcpt) {
        orcpt_address(r->orcpt, &orig);
        if (orig.len > 0 && strcasecmp(buf_str(&orig), r->address) != 0)
            buf_printf(&line, ", orig_to=<%s>", buf_str(&orig));
    }
    buf_printf(&line, ", relay=%s, delay=", relay);
    format_delta(&line, &now, &req->arrival);
    buf_puts(&line, ", delays=");
    format_delta(&line, &req->active, &req->arrival);
    buf_putc(&line, '/');
    format_delta(&line, &req->agent_start, &req->active);
    buf_putc(&line, '/');
    if (req->conn_done.tv_sec > 0) {
        format_delta(&line, &req->conn_done, &req->agent_start);
        buf_putc(&line, '/');
        format_delta(&line, &now, &req->conn_done);
    } else {
        buf_puts(&line, "0/");
        format_delta(&line, &now, &req->agent_start);
    }
    buf_printf(&line, ", dsn=%s, status=%s (%s)", r->dsn, status, r->text);
    msg_info("%s", buf_str(&line));
    buf_free(&line);
    buf_free(&orig);
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

void deliver_sent(struct delivery_request *req, size_t i, const char *relay,
                  const char *dsn, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    result_v(req, i, DELIVER_SENT, relay, dsn, fmt, ap);
    va_end(ap);
}

void deliver_defer(struct delivery_request *req, size_t i, const char *relay,
                   const char *dsn, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    result_v(req, i, DELIVER_DEFERRED, relay, dsn, fmt, ap);
    va_end(ap);
}

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

void deliver_set_action(struct delivery_request *req, size_t i, const char *action)
{
    if (i >= req->nrcpt || req->rcpt[i].result != DELIVER_SENT)
        msg_panic("deliver_set_action: recipient %zu has not been sent", i);
    if (action && strcmp(action, "relayed") != 0 && strcmp(action, "expanded") != 0
        && strcmp(action, "delivered") != 0)
        msg_panic("deliver_set_action: bad action \"%s\"", action);
    req->rcpt[i].action = action;
}

void deliver_conn_done(struct delivery_request *req)
{
    gettimeofday(&req->conn_done, NULL);
}

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
