/*
 * smtp_proto - one SMTP or LMTP conversation with a connected server, as
 * Postfix's smtp(8) holds it: greeting, EHLO (HELO fallback) or LHLO,
 * then MAIL FROM, RCPT TO for every recipient and DATA, pipelined when
 * the server offers PIPELINING; the content streamed from the queue file
 * in CRLF, dot-stuffed form; QUIT. SIZE, 8BITMIME and DSN parameters go
 * out when the server offers them. Every reply and every write has the
 * stage's time limit. Each recipient gets its result here: 2xx sent, 4xx
 * deferred, 5xx bounced, and a lost connection or time-out defers every
 * recipient still without one. A server that greets with our own host
 * name is a mail loop (5.4.6).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "mem.h"
#include "queue_file.h"
#include "smtp.h"
#include "smtp_addr.h"
#include "smtp_dotstuff.h"
#include "smtp_cmd.h"

#define BODY_FLUSH_SIZE (64u * 1024u)

enum stage {
    ST_GREET, ST_HELO, ST_MAIL, ST_RCPT, ST_DATA, ST_BODY, ST_DOT, ST_QUIT,
};

/* What we were doing, for "lost connection with X while ..." texts. */
static const char *stage_text(const struct smtp_session *s, enum stage st)
{
    switch (st) {
    case ST_GREET:
        return "receiving the initial server greeting";
    case ST_HELO:
        return s->set->lmtp ? "performing the LHLO handshake"
            : s->esmtp ? "performing the EHLO handshake" : "performing the HELO handshake";
    case ST_MAIL:
        return "sending MAIL FROM";
    case ST_RCPT:
        return "sending RCPT TO";
    case ST_DATA:
        return "sending DATA command";
    case ST_BODY:
        return "sending message body";
    case ST_DOT:
        return "sending end of data -- message may be sent more than once";
    default:
        return "sending QUIT";
    }
}

/* Why the conversation broke, as Postfix says it; dsn is 4.4.2. */
static void io_failure(struct smtp_session *s, enum stage st, const char *proto_why,
                       char *dsn, struct buf *why)
{
    buf_reset(why);
    strcpy(dsn, "4.4.2");
    if (proto_why)
        buf_printf(why, "conversation with %s failed: %s while %s", s->namaddr, proto_why,
                   stage_text(s, st));
    else if (s->io.error == SMTP_IO_TIMEOUT)
        buf_printf(why, "conversation with %s timed out while %s", s->namaddr,
                   stage_text(s, st));
    else if (s->io.error == SMTP_IO_LONG)
        buf_printf(why, "conversation with %s failed: reply line too long while %s",
                   s->namaddr, stage_text(s, st));
    else
        buf_printf(why, "lost connection with %s while %s", s->namaddr, stage_text(s, st));
}

/* Defer every recipient still without a result because the conversation broke. */
static void defer_rest_io(struct smtp_session *s, enum stage st, const char *proto_why)
{
    char dsn[8];
    struct buf why = BUF_INIT;

    io_failure(s, st, proto_why, dsn, &why);
    deliver_defer_rest(s->req, s->relay, dsn, "%s", buf_str(&why));
    buf_free(&why);
}

/*
 * Read one whole reply into s->reply. 0 on success; -1 on I/O failure
 * (io.error set) and -2 on a malformed reply (*proto_why set).
 */
static int read_reply(struct smtp_session *s, int timeout, const char **proto_why)
{
    smtp_reply_reset(&s->reply);
    for (;;) {
        enum smtp_reply_status st;

        if (smtp_io_read_line(&s->io, &s->line, SMTP_REPLY_MAX_LINE, timeout) < 0)
            return -1;
        st = smtp_reply_line(&s->reply, s->line.data ? s->line.data : "", s->line.len,
                             proto_why);
        if (st == SMTP_REPLY_DONE)
            return 0;
        if (st == SMTP_REPLY_ERROR) {
            s->io.error = SMTP_IO_EOF;  /* no further conversation */
            return -2;
        }
    }
}

/*
 * Send what is queued and read the reply (see read_reply); with
 * defer_on_fail, a failure defers what is left, naming the stage. The
 * reason for a malformed reply goes to *pwhy when asked.
 */
static int chat(struct smtp_session *s, int timeout, enum stage st, int defer_on_fail,
                const char **pwhy)
{
    const char *proto_why = NULL;
    int rc;

    if (smtp_io_flush(&s->io, timeout) < 0)
        rc = -1;
    else
        rc = read_reply(s, timeout, &proto_why);
    if (rc < 0 && defer_on_fail)
        defer_rest_io(s, st, rc == -2 ? proto_why : NULL);
    if (pwhy)
        *pwhy = rc == -2 ? proto_why : NULL;
    return rc;
}

/* Queue a command line. */
static void put_cmd(struct smtp_session *s, const char *cmd)
{
    if (smtp_io_write(&s->io, cmd, strlen(cmd)) < 0 || smtp_io_write(&s->io, "\r\n", 2) < 0)
        msg_panic("smtp: output buffer overflow");
}

/* Give recipient i the result of a non-success reply (or a 2xx one when final). */
static void reply_result(struct smtp_session *s, size_t i, const char *in_reply_to)
{
    struct smtp_reply *r = &s->reply;
    struct buf diag = BUF_INIT;
    int cls = r->code / 100;

    buf_printf(&diag, "smtp; %s", smtp_reply_str(r));
    deliver_set_diag(s->req, i, s->mta, buf_str(&diag));
    if (cls == 2) {
        deliver_sent(s->req, i, s->relay, r->enh, "%s", smtp_reply_str(r));
        if (!s->dsn && (s->req->rcpt[i].notify & QF_NOTIFY_SUCCESS))
            deliver_set_action(s->req, i, "relayed");
    } else if (cls == 5) {
        deliver_bounce(s->req, i, s->relay, r->enh, "host %s said: %s (in reply to %s)",
                       s->namaddr, smtp_reply_str(r), in_reply_to);
    } else {
        deliver_defer(s->req, i, s->relay, cls == 4 ? r->enh : "4.5.0",
                      "host %s said: %s (in reply to %s)", s->namaddr, smtp_reply_str(r),
                      in_reply_to);
    }
    buf_free(&diag);
}

/* The same non-success reply for every recipient still without a result. */
static void reply_result_all(struct smtp_session *s, const char *in_reply_to)
{
    size_t i;

    for (i = 0; i < s->req->nrcpt; i++)
        if (s->req->rcpt[i].result == DELIVER_NONE)
            reply_result(s, i, in_reply_to);
}

/* Send QUIT and wait (briefly bounded) for its reply; errors do not matter. */
static void quit(struct smtp_session *s)
{
    const char *proto_why;

    if (s->io.error)
        return;
    put_cmd(s, "QUIT");
    if (smtp_io_flush(&s->io, s->set->quit_timeout) == 0)
        (void)read_reply(s, s->set->quit_timeout, &proto_why);
}

/* Learn the server's ESMTP features from an EHLO/LHLO reply. */
static void parse_ehlo(struct smtp_session *s)
{
    struct buf line = BUF_INIT;
    size_t i;

    s->esmtp = 1;
    for (i = 1; smtp_reply_line_text(&s->reply, i, &line) == 0; i++) {
        const char *p = buf_str(&line);
        size_t kw = strcspn(p, " =");

        if (kw == 10 && strncasecmp(p, "PIPELINING", kw) == 0)
            s->pipelining = 1;
        else if (kw == 8 && strncasecmp(p, "8BITMIME", kw) == 0)
            s->eightbitmime = 1;
        else if (kw == 3 && strncasecmp(p, "DSN", kw) == 0)
            s->dsn = 1;
        else if (kw == 4 && strncasecmp(p, "SIZE", kw) == 0) {
            const char *n = p + kw;
            unsigned long long v = 0;

            s->size_offered = 1;
            while (*n == ' ' || *n == '=')
                n++;
            for (; isdigit((unsigned char)*n) && v < (1ULL << 60); n++)
                v = v * 10 + (unsigned)(*n - '0');
            s->size_limit = v;
        }
    }
    buf_free(&line);
}

/* Append an address in <> with its local part quoted as needed. */
static void put_path(struct buf *out, const char *addr)
{
    const char *at = strrchr(addr, '@');

    buf_putc(out, '<');
    if (*addr) {
        smtp_addr_quote_local(out, addr, at ? (size_t)(at - addr) : strlen(addr));
        if (at)
            buf_puts(out, at);
    }
    buf_putc(out, '>');
}

/* Queue MAIL FROM with the parameters the server understands. */
static void put_mail(struct smtp_session *s)
{
    const struct qf_envelope *env = s->req->env;
    const char *enc = queue_file_attr(s->req->qf, "encoding");
    struct buf cmd = BUF_INIT;

    buf_puts(&cmd, "MAIL FROM:");
    put_path(&cmd, s->req->sender);
    if (s->size_offered)
        buf_printf(&cmd, " SIZE=%llu", (unsigned long long)env->size);
    if (s->eightbitmime && enc && strcasecmp(enc, "8bit") == 0)
        buf_puts(&cmd, " BODY=8BITMIME");
    if (s->dsn) {
        if (env->ret == QF_RET_FULL || env->ret == QF_RET_HDRS)
            buf_puts(&cmd, env->ret == QF_RET_FULL ? " RET=FULL" : " RET=HDRS");
        if (env->envid && *env->envid) {
            buf_puts(&cmd, " ENVID=");
            smtp_xtext_encode(&cmd, env->envid, strlen(env->envid));
        }
    }
    put_cmd(s, buf_str(&cmd));
    buf_free(&cmd);
}

/* Queue RCPT TO for recipient i. */
static void put_rcpt(struct smtp_session *s, size_t i)
{
    const struct delivery_rcpt *r = &s->req->rcpt[i];
    struct buf cmd = BUF_INIT;

    buf_puts(&cmd, "RCPT TO:");
    put_path(&cmd, r->address);
    if (s->dsn && r->notify) {
        if (r->notify & QF_NOTIFY_NEVER)
            buf_puts(&cmd, " NOTIFY=NEVER");
        else
            buf_printf(&cmd, " NOTIFY=%s%s%s%s%s",
                       r->notify & QF_NOTIFY_SUCCESS ? "SUCCESS" : "",
                       (r->notify & QF_NOTIFY_SUCCESS) && (r->notify & 6) ? "," : "",
                       r->notify & QF_NOTIFY_FAILURE ? "FAILURE" : "",
                       (r->notify & QF_NOTIFY_FAILURE) && (r->notify & QF_NOTIFY_DELAY) ? "," : "",
                       r->notify & QF_NOTIFY_DELAY ? "DELAY" : "");
    }
    if (s->dsn && r->orcpt && *r->orcpt) {
        const char *semi = strchr(r->orcpt, ';');

        if (semi && semi > r->orcpt) {
            struct buf enc = BUF_INIT;
            int bad;

            buf_printf(&enc, " ORCPT=%.*s;", (int)(semi - r->orcpt), r->orcpt);
            if (strncasecmp(r->orcpt, "utf-8;", 6) == 0)
                bad = smtp_utf8addr_encode(&enc, semi + 1, strlen(semi + 1));
            else
                bad = smtp_xtext_encode(&enc, semi + 1, strlen(semi + 1));
            if (bad == 0)
                buf_puts(&cmd, buf_str(&enc));
            buf_free(&enc);
        }
    }
    put_cmd(s, buf_str(&cmd));
    buf_free(&cmd);
}

struct body_ctx {
    struct smtp_session *s;
    struct smtp_dotstuff enc;
    int failed;
};

/* One chunk of queue-file content onto the wire. */
static int body_chunk(const void *data, size_t len, void *ctx)
{
    struct body_ctx *b = ctx;

    if (smtp_dotstuff_encode(&b->enc, data, len, &b->s->io.wbuf) < 0)
        msg_panic("smtp: output buffer overflow");
    if (smtp_io_pending(&b->s->io) >= BODY_FLUSH_SIZE
        && smtp_io_flush(&b->s->io, b->s->set->data_xfer_timeout) < 0) {
        b->failed = 1;
        return 1;
    }
    return 0;
}

/*
 * Send the content and the final dot. 0 on success; -1 when the
 * connection broke or the queue file could not be read (every
 * recipient without a result is then deferred).
 */
static int send_body(struct smtp_session *s)
{
    struct body_ctx b;
    struct buf why = BUF_INIT;
    int rc;

    b.s = s;
    b.failed = 0;
    smtp_dotstuff_init(&b.enc);
    rc = queue_file_content_foreach(s->req->qf, body_chunk, &b, &why);
    if (rc < 0) {
        msg_warn("%s: error reading queue file: %s", s->req->queue_id, buf_str(&why));
        deliver_defer_rest(s->req, s->relay, "4.3.0", "error reading queue file: %s",
                           buf_str(&why));
        s->io.error = SMTP_IO_EOF;      /* never send the dot: drop the connection */
        buf_free(&why);
        return -1;
    }
    buf_free(&why);
    if (b.failed) {
        defer_rest_io(s, ST_BODY, NULL);
        return -1;
    }
    if (smtp_dotstuff_finish(&b.enc, &s->io.wbuf) < 0)
        msg_panic("smtp: output buffer overflow");
    if (b.enc.broken)
        msg_info("%s: %lu line(s) longer than %d octets broken for %s", s->req->queue_id,
                 b.enc.broken, SMTP_DOTSTUFF_MAX_LINE, s->namaddr);
    if (smtp_io_write(&s->io, ".\r\n", 3) < 0)
        msg_panic("smtp: output buffer overflow");
    return 0;
}

/* Is this recipient waiting for the server (no result yet)? */
static int open_rcpt(const struct smtp_session *s, size_t i)
{
    return s->req->rcpt[i].result == DELIVER_NONE;
}

/* Read a reply; on failure defer what is left, naming the stage. */
static int read_or_defer(struct smtp_session *s, int timeout, enum stage st)
{
    const char *proto_why = NULL;
    int rc = read_reply(s, timeout, &proto_why);

    if (rc < 0)
        defer_rest_io(s, st, rc == -2 ? proto_why : NULL);
    return rc;
}

/* MAIL, RCPT, DATA, content and the final replies. */
static void transaction(struct smtp_session *s)
{
    const struct smtp_settings *set = s->set;
    struct delivery_request *req = s->req;
    size_t n = req->nrcpt ? req->nrcpt : 1;
    char *sent = xcalloc(n, 1), *accepted = xcalloc(n, 1);
    size_t i, nacc = 0;
    int mail_ok, pipe = s->pipelining;

    /* MAIL FROM (with every RCPT TO and DATA behind it when pipelining). */
    put_mail(s);
    for (i = 0; pipe && i < req->nrcpt; i++) {
        if (open_rcpt(s, i)) {
            put_rcpt(s, i);
            sent[i] = 1;
        }
    }
    if (pipe)
        put_cmd(s, "DATA");
    if (chat(s, set->mail_timeout, ST_MAIL, 1, NULL) < 0)
        goto out;
    mail_ok = s->reply.code / 100 == 2;
    if (!mail_ok) {
        reply_result_all(s, "MAIL FROM command");
        if (!pipe)
            goto quit;
    }

    /* RCPT TO replies. */
    for (i = 0; i < req->nrcpt; i++) {
        if (pipe) {
            if (!sent[i])
                continue;
            if (read_or_defer(s, set->rcpt_timeout, ST_RCPT) < 0)
                goto out;
        } else {
            if (!open_rcpt(s, i))
                continue;
            put_rcpt(s, i);
            if (chat(s, set->rcpt_timeout, ST_RCPT, 1, NULL) < 0)
                goto out;
        }
        if (!mail_ok)
            continue;
        if (s->reply.code / 100 == 2) {
            accepted[i] = 1;
            nacc++;
        } else {
            reply_result(s, i, "RCPT TO command");
        }
    }

    /* DATA. */
    if (!pipe) {
        if (nacc == 0)
            goto quit;
        put_cmd(s, "DATA");
        if (chat(s, set->data_init_timeout, ST_DATA, 1, NULL) < 0)
            goto out;
    } else if (read_or_defer(s, set->data_init_timeout, ST_DATA) < 0) {
        goto out;
    }
    if (s->reply.code != 354) {
        for (i = 0; i < req->nrcpt; i++) {
            if (!accepted[i])
                continue;
            if (s->reply.code / 100 == 2)   /* "accepted" without the message */
                deliver_defer(req, i, s->relay, "4.5.0",
                              "host %s said: %s (in reply to DATA command): protocol error",
                              s->namaddr, smtp_reply_str(&s->reply));
            else
                reply_result(s, i, "DATA command");
        }
        goto quit;
    }
    if (nacc == 0) {                    /* 354 although nothing was accepted */
        if (smtp_io_write(&s->io, ".\r\n", 3) == 0)
            (void)chat(s, set->data_done_timeout, ST_DOT, 0, NULL);
        goto quit;
    }

    /* Content, the dot, and the reply (LMTP: one per accepted recipient). */
    if (send_body(s) < 0)
        goto out;
    if (smtp_io_flush(&s->io, set->data_xfer_timeout) < 0) {
        defer_rest_io(s, ST_BODY, NULL);
        goto out;
    }
    if (set->lmtp) {
        for (i = 0; i < req->nrcpt; i++) {
            if (!accepted[i])
                continue;
            if (read_or_defer(s, set->data_done_timeout, ST_DOT) < 0)
                goto out;
            reply_result(s, i, "end of DATA command");
        }
    } else {
        if (read_or_defer(s, set->data_done_timeout, ST_DOT) < 0)
            goto out;
        for (i = 0; i < req->nrcpt; i++)
            if (accepted[i])
                reply_result(s, i, "end of DATA command");
    }
quit:
    quit(s);
out:
    free(sent);
    free(accepted);
}

/*
 * SMTP only: does the server's greeting or EHLO reply name this host? Then
 * the mail would come back to us: bounce it as Postfix does (5.4.6).
 */
static int loops_back(struct smtp_session *s)
{
    struct buf text = BUF_INIT;
    const char *me = s->set->myhostname;
    size_t n;
    int loop = 0;

    if (s->set->lmtp || me == NULL || *me == 0 || smtp_reply_line_text(&s->reply, 0, &text) < 0)
        goto out;
    n = strcspn(buf_str(&text), " ");
    if (n == strlen(me) && strncasecmp(buf_str(&text), me, n) == 0) {
        size_t i;

        msg_warn("host %s greeted me with my own hostname %s", s->namaddr, me);
        for (i = 0; i < s->req->nrcpt; i++)
            if (s->req->rcpt[i].result == DELIVER_NONE)
                deliver_bounce(s->req, i, s->relay, "5.4.6", "mail for %s loops back to myself",
                               s->req->nexthop);
        loop = 1;
    }
out:
    buf_free(&text);
    return loop;
}

/* The whole conversation with one server. */
enum smtp_outcome smtp_session_run(struct smtp_session *s, int fd, char *dsn,
                                   struct buf *why)
{
    const struct smtp_settings *set = s->set;
    const char *proto_why = NULL;
    enum smtp_outcome out = SMTP_DONE;
    struct buf cmd = BUF_INIT;
    int rc, cls;

    smtp_io_init(&s->io, fd);
    smtp_reply_init(&s->reply);
    buf_init(&s->line, SMTP_REPLY_MAX_LINE + 2);
    s->esmtp = s->pipelining = s->dsn = s->eightbitmime = s->size_offered = 0;
    s->size_limit = 0;

    /* Greeting. */
    if ((rc = read_reply(s, set->helo_timeout, &proto_why)) < 0) {
        io_failure(s, ST_GREET, rc == -2 ? proto_why : NULL, dsn, why);
        out = SMTP_NEXT;
        goto done;
    }
    if ((cls = s->reply.code / 100) != 2) {
        buf_reset(why);
        buf_printf(why, "host %s refused to talk to me: %s", s->namaddr,
                   smtp_reply_str(&s->reply));
        if (cls == 5 && !set->skip_5xx_greeting) {
            size_t i;

            for (i = 0; i < s->req->nrcpt; i++) {
                struct buf diag = BUF_INIT;

                buf_printf(&diag, "smtp; %s", smtp_reply_str(&s->reply));
                deliver_set_diag(s->req, i, s->mta, buf_str(&diag));
                deliver_bounce(s->req, i, s->relay, s->reply.enh, "%s", buf_str(why));
                buf_free(&diag);
            }
            quit(s);
            goto done;
        }
        strcpy(dsn, cls == 5 || cls == 4 ? s->reply.enh : "4.5.0");
        dsn[0] = '4';
        quit(s);
        out = SMTP_NEXT;
        goto done;
    }

    if (loops_back(s)) {
        quit(s);
        goto done;
    }

    /* EHLO / LHLO, with HELO when EHLO is refused (SMTP). */
    buf_printf(&cmd, "%s %s", set->lmtp ? "LHLO" : "EHLO", set->helo_name);
    put_cmd(s, buf_str(&cmd));
    s->esmtp = 1;
    rc = chat(s, set->helo_timeout, ST_HELO, 0, &proto_why);
    if (rc == 0 && s->reply.code / 100 == 5 && !set->lmtp) {
        s->esmtp = 0;
        buf_reset(&cmd);
        buf_printf(&cmd, "HELO %s", set->helo_name);
        put_cmd(s, buf_str(&cmd));
        rc = chat(s, set->helo_timeout, ST_HELO, 0, &proto_why);
    }
    if (rc < 0) {
        io_failure(s, ST_HELO, proto_why, dsn, why);
        out = SMTP_NEXT;
        goto done;
    }
    if ((cls = s->reply.code / 100) != 2) {
        const char *verb = set->lmtp ? "LHLO command" : s->esmtp ? "EHLO command" : "HELO command";

        if (cls == 5) {
            reply_result_all(s, verb);
            quit(s);
            goto done;
        }
        buf_reset(why);
        buf_printf(why, "host %s said: %s (in reply to %s)", s->namaddr,
                   smtp_reply_str(&s->reply), verb);
        strcpy(dsn, cls == 4 ? s->reply.enh : "4.5.0");
        quit(s);
        out = SMTP_NEXT;
        goto done;
    }
    if (loops_back(s)) {
        quit(s);
        goto done;
    }
    if (s->esmtp)
        parse_ehlo(s);
    deliver_conn_done(s->req);

    /* The server's SIZE limit, before anything is sent. */
    if (s->size_limit > 0 && s->req->env->size > s->size_limit) {
        size_t i;

        for (i = 0; i < s->req->nrcpt; i++)
            if (s->req->rcpt[i].result == DELIVER_NONE)
                deliver_bounce(s->req, i, s->relay, "5.3.4",
                               "message size %llu exceeds size limit %llu of server %s",
                               (unsigned long long)s->req->env->size, s->size_limit,
                               s->namaddr);
        quit(s);
        goto done;
    }
    transaction(s);

done:
    buf_free(&cmd);
    buf_free(&s->line);
    smtp_reply_free(&s->reply);
    smtp_io_close(&s->io);
    return out;
}
