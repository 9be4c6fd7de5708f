/*
 * delivery_log - format and log a recipient's delivery outcome in
 * Postfix's shape (see delivery_log.h).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "delivery_log.h"
#include "log.h"

/* Append a non-negative duration (microseconds) as Postfix prints delays. */
static void format_usec(struct buf *out, long long us)
{
    long long hundredths;

    if (us < 0)
        us = 0;
    if (us >= 9500000) {                    /* 10 s and more: whole seconds */
        buf_printf(out, "%lld", (us + 500000) / 1000000);
        return;
    }
    hundredths = (us + 5000) / 10000;       /* resolution 0.01 s */
    if (hundredths == 0) {
        buf_puts(out, "0");
    } else if (hundredths >= 100) {         /* 1.0 .. 9.9: one decimal */
        long long tenths = (us + 50000) / 100000;

        if (tenths % 10 == 0)
            buf_printf(out, "%lld", tenths / 10);
        else
            buf_printf(out, "%lld.%lld", tenths / 10, tenths % 10);
    } else if (hundredths % 10 == 0) {      /* 0.1 .. 0.9 */
        buf_printf(out, "0.%lld", hundredths / 10);
    } else {                                /* 0.01 .. 0.99 */
        buf_printf(out, "0.%02lld", hundredths);
    }
}

void delivery_log_delta(struct buf *out, const struct timeval *to,
                        const struct timeval *from)
{
    long long us = ((long long)to->tv_sec - (long long)from->tv_sec) * 1000000
        + ((long long)to->tv_usec - (long long)from->tv_usec);

    format_usec(out, us);
}

/* The address an ORCPT names: stored decoded ("rfc822;a+b@x"), used as is. */
static void orcpt_address(const char *orcpt, struct buf *out)
{
    const char *semi = strchr(orcpt, ';');

    buf_puts(out, semi ? semi + 1 : orcpt);
}

/* Has a time stamp been set? */
static int stamped(const struct timeval *tv)
{
    return tv->tv_sec > 0;
}

void delivery_log_format(struct buf *out, const char *queue_id, const char *rcpt,
                         const char *orcpt, const char *relay,
                         const struct delivery_times *t, const struct timeval *now,
                         const char *dsn, const char *status, const char *text)
{
    struct buf orig = BUF_INIT;
    struct timeval zero = {0, 0};
    const struct timeval *a_end, *b_end;

    buf_printf(out, "%s: to=<%s>", queue_id, rcpt);
    if (orcpt && *orcpt) {
        orcpt_address(orcpt, &orig);
        if (orig.len > 0 && strcasecmp(buf_str(&orig), rcpt) != 0)
            buf_printf(out, ", orig_to=<%s>", buf_str(&orig));
    }
    buf_printf(out, ", relay=%s, delay=", relay);
    delivery_log_delta(out, now, &t->arrival);
    buf_puts(out, ", delays=");
    a_end = stamped(&t->active) ? &t->active : now;
    delivery_log_delta(out, a_end, &t->arrival);
    buf_putc(out, '/');
    b_end = stamped(&t->agent_start) ? &t->agent_start : now;
    delivery_log_delta(out, b_end, stamped(&t->active) ? &t->active : b_end);
    buf_putc(out, '/');
    if (stamped(&t->agent_start) && stamped(&t->conn_done)) {
        delivery_log_delta(out, &t->conn_done, &t->agent_start);
        buf_putc(out, '/');
        delivery_log_delta(out, now, &t->conn_done);
    } else if (stamped(&t->agent_start)) {
        delivery_log_delta(out, &zero, &zero);
        buf_putc(out, '/');
        delivery_log_delta(out, now, &t->agent_start);
    } else {
        buf_puts(out, "0/0");
    }
    buf_printf(out, ", dsn=%s, status=%s (%s)", dsn, status, text);
    buf_free(&orig);
}

void delivery_log(const char *queue_id, const char *rcpt, const char *orcpt,
                  const char *relay, const struct delivery_times *t,
                  const char *dsn, const char *status, const char *text)
{
    struct buf line = BUF_INIT;
    struct timeval now;

    gettimeofday(&now, NULL);
    delivery_log_format(&line, queue_id, rcpt, orcpt, relay, t, &now, dsn, status, text);
    msg_info("%s", buf_str(&line));
    buf_free(&line);
}
