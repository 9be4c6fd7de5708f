/*
 * smtpd_reply - replies to the client, command counters, and the log
 * lines in Postfix's shapes:
 *
 *   connect from NAME[ADDR]                        (smtpd_session.c)
 *   QUEUEID: client=NAME[ADDR]                     (smtpd_data.c)
 *   NOQUEUE: reject: RCPT from NAME[ADDR]: 554 5.7.1 <x@y>: Relay access
 *       denied; from=<a@b> to=<x@y> proto=ESMTP helo=<h>
 *   disconnect from NAME[ADDR] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "smtpd.h"

#define REPLY_MAX 1024

void smtpd_reply(struct smtpd_session *s, const char *fmt, ...)
{
    char line[REPLY_MAX + 2];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, REPLY_MAX, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= REPLY_MAX)
        n = REPLY_MAX - 1;
    /* Replies never carry a line break from client data. */
    for (int i = 0; i < n; i++)
        if (line[i] == '\r' || line[i] == '\n')
            line[i] = ' ';
    if (msg_verbose)
        msg_debug("> %s: %.*s", s->namaddr, n, line);
    s->last_reply = line[0];
    line[n++] = '\r';
    line[n++] = '\n';
    if (smtpd_conn_put(s->conn, line, (size_t)n) < 0) {
        msg_warn("%s: too many unread replies; disconnecting", s->namaddr);
        smtpd_session_close(s);
        return;
    }
    /* The last line of an error reply counts as an error (Postfix: error_count). */
    if ((line[0] == '4' || line[0] == '5') && n >= 5 && line[3] == ' '
        && strncmp(line, "421", 3) != 0 && strncmp(line, "521", 3) != 0) {
        s->error_count++;
        if (smtpd_par.soft_error_limit >= 0 && s->error_count >= smtpd_par.soft_error_limit)
            smtpd_session_delay(s, smtpd_par.error_sleep);
    }
}

void smtpd_count(struct smtpd_session *s, enum smtpd_counter which, int ok)
{
    s->cnt_total[which]++;
    if (ok)
        s->cnt_ok[which]++;
}

void smtpd_log_disconnect(struct smtpd_session *s)
{
    static const char *const names[CNT_MAX] = {
        "helo", "ehlo", "starttls", "auth", "mail", "rcpt", "data", "bdat",
        "rset", "noop", "vrfy", "etrn", "quit", "help", "unknown",
    };
    char line[512];
    size_t len = 0;
    unsigned total = 0, ok = 0;

    for (int i = 0; i < CNT_MAX; i++) {
        if (s->cnt_total[i] == 0)
            continue;
        total += s->cnt_total[i];
        ok += s->cnt_ok[i];
        if (s->cnt_ok[i] == s->cnt_total[i])
            len += (size_t)snprintf(line + len, sizeof(line) - len, " %s=%u", names[i],
                                    s->cnt_ok[i]);
        else
            len += (size_t)snprintf(line + len, sizeof(line) - len, " %s=%u/%u", names[i],
                                    s->cnt_ok[i], s->cnt_total[i]);
        if (len >= sizeof(line))
            len = sizeof(line) - 1;
    }
    if (ok == total)
        snprintf(line + len, sizeof(line) - len, " commands=%u", total);
    else
        snprintf(line + len, sizeof(line) - len, " commands=%u/%u", ok, total);
    msg_info("disconnect from %s%s", s->namaddr, line);
}

void smtpd_log_reject(struct smtpd_session *s, const char *stage, int code,
                      const char *enh, const char *text, const char *rcpt)
{
    char extra[1024];
    size_t len;

    len = (size_t)snprintf(extra, sizeof(extra), "from=<%s>", s->sender ? s->sender : "");
    if (rcpt && len < sizeof(extra))
        len += (size_t)snprintf(extra + len, sizeof(extra) - len, " to=<%s>", rcpt);
    if (len < sizeof(extra))
        len += (size_t)snprintf(extra + len, sizeof(extra) - len, " proto=%s",
                                s->esmtp ? "ESMTP" : "SMTP");
    if (s->helo && len < sizeof(extra))
        snprintf(extra + len, sizeof(extra) - len, " helo=<%s>", s->helo);
    msg_info("%s: reject: %s from %s: %d %s %s; %s",
             s->queue_id[0] ? s->queue_id : "NOQUEUE", stage, s->namaddr, code, enh,
             text, extra);
}
