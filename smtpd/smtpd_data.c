/*
 * smtpd_data - the message: the queue file and clean-up, DATA and BDAT.
 *
 * The queue file is created (in incoming/, under a temporary name that is
 * never a queue ID) at the first accepted RCPT, which is when the message
 * gets its queue ID, as in Postfix. Content goes line by line through
 * clean-up into the file; at the end, cleanup_finish, queue_file_commit
 * (fsync, rename into incoming/, directory fsync), and only after the
 * commit returned 0 the "250 2.0.0 Ok: queued as ID" reply is queued.
 * Then qmgr is woken up through public/qmgr (ignored if it is not there).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "smtpd.h"
#include "trigger.h"

#define INCOMING_DIR "incoming"
#define HOLD_DIR     "hold"
#define HASH_DEPTH   0

static void set_status(struct cleanup_status *st, enum cleanup_result r, int code,
                       const char *enh, const char *text)
{
    st->result = r;
    st->code = code;
    snprintf(st->enh, sizeof(st->enh), "%s", enh);
    snprintf(st->text, sizeof(st->text), "%s", text);
}

int smtpd_txn_open(struct smtpd_session *s)
{
    struct buf err = BUF_INIT;
    struct cleanup_envelope *env = &s->env;
    struct cleanup_status st;

    memset(&st, 0, sizeof(st));
    if ((s->qf = queue_file_create(INCOMING_DIR, &err)) == NULL) {
        msg_warn("%s: cannot create queue file: %s", s->namaddr, buf_str(&err));
        smtpd_reply(s, "451 4.3.0 Error: queue file write error");
        buf_free(&err);
        return -1;
    }
    buf_free(&err);
    snprintf(s->queue_id, sizeof(s->queue_id), "%s", queue_file_writer_id(s->qf));
    /* In the session, not on the stack: cleanup may refer to it until cleanup_free. */
    memset(env, 0, sizeof(*env));
    env->sender = s->sender ? s->sender : "";
    env->client_name = s->name;
    env->client_addr = s->addr;
    env->helo = s->helo;
    env->protocol = s->esmtp ? "ESMTP" : "SMTP";
    env->envid = s->envid[0] ? s->envid : NULL;
    env->ret = s->ret;
    env->encoding = s->body == SMTP_BODY_8BITMIME ? "8bit"
                    : s->body == SMTP_BODY_7BIT ? "7bit" : NULL;
    s->cm = cleanup_begin(smtpd_par.cleanup, s->qf, env, &st);
    if (s->cm == NULL) {
        msg_warn("%s: cleanup: %s", s->queue_id, st.text);
        smtpd_reply(s, "%d %s %s", st.code ? st.code : 451, st.enh[0] ? st.enh : "4.3.0",
                    st.text[0] ? st.text : "Error: internal error");
        queue_file_abort(s->qf);
        s->qf = NULL;
        s->queue_id[0] = 0;
        return -1;
    }
    msg_info("%s: client=%s", s->queue_id, s->namaddr);
    return 0;
}

struct cleanup_status smtpd_txn_rcpt(struct smtpd_session *s, const char *rcpt,
                                     const char *orcpt, unsigned notify)
{
    return cleanup_rcpt(s->cm, rcpt, orcpt, notify);
}

void smtpd_txn_reset(struct smtpd_session *s)
{
    if (s->cm) {
        cleanup_free(s->cm);
        s->cm = NULL;
    }
    if (s->qf) {
        queue_file_abort(s->qf);
        s->qf = NULL;
    }
    s->queue_id[0] = 0;
    free(s->sender);
    s->sender = NULL;
    s->check.sender = NULL;
    s->check.hold = 0;
    s->check.discard = 0;
    s->have_mail = 0;
    s->smtputf8 = 0;
    s->body = SMTP_BODY_NONE;
    s->ret = 0;
    s->envid[0] = 0;
    s->rcpt_count = 0;
    s->txn_failed = 0;
    s->msg_size = 0;
    s->too_big = 0;
    s->bdat_active = 0;
    s->bdat_last = 0;
    s->bdat_left = 0;
    s->bdat_cr = 0;
    s->bdat_discard = 0;
    buf_reset(&s->bdat_line);
}

/* Note the first failure of the content; later content is dropped. */
static void content_fail(struct smtpd_session *s, const struct cleanup_status *st)
{
    if (s->txn_failed)
        return;
    s->txn_failed = 1;
    s->txn_status = *st;
}

/* One piece of a message line, from DATA or BDAT. */
static int content_line(const char *data, size_t len, int line_end, int bare, void *arg)
{
    struct smtpd_session *s = arg;
    struct cleanup_status st;

    s->msg_size += len + (line_end ? 1 : 0);
    if (smtpd_par.message_size_limit > 0 && s->msg_size > smtpd_par.message_size_limit
        && !s->too_big) {
        s->too_big = 1;
        set_status(&st, CLEANUP_REJECT, 552, "5.3.4", "Error: message file too big");
        content_fail(s, &st);
    }
    if (s->txn_failed)
        return 0;
    st = cleanup_content(s->cm, data, len, line_end);
    if (st.result != CLEANUP_OK)
        content_fail(s, &st);
    return 0;
}

/* End of the message: finish, commit, answer. ok for the counters. */
static int message_end(struct smtpd_session *s, const char *stage)
{
    struct cleanup_status st;
    struct buf err = BUF_INIT;
    const char *dir = INCOMING_DIR;
    char id[QUEUE_ID_SIZE];
    int discard = s->check.discard, hold = s->check.hold;

    snprintf(id, sizeof(id), "%s", s->queue_id);
    if (!s->txn_failed) {
        st = cleanup_finish(s->cm);
        if (st.result != CLEANUP_OK)
            content_fail(s, &st);
    }
    if (s->txn_failed) {
        st = s->txn_status;
        smtpd_log_reject(s, stage, st.code, st.enh, st.text, NULL);
        smtpd_reply(s, "%d %s %s", st.code, st.enh, st.text);
        smtpd_txn_reset(s);
        return 0;
    }
    cleanup_free(s->cm);
    s->cm = NULL;
    if (discard) {
        msg_info("%s: discard: %s from %s; from=<%s> proto=%s helo=<%s>", id, stage,
                 s->namaddr, s->sender ? s->sender : "", s->esmtp ? "ESMTP" : "SMTP",
                 s->helo ? s->helo : "");
        queue_file_abort(s->qf);
        s->qf = NULL;
    } else {
        if (hold)
            dir = HOLD_DIR;
        if (queue_file_commit(s->qf, dir, HASH_DEPTH, &err) < 0) {
            s->qf = NULL;
            msg_warn("%s: queue file commit: %s", id, buf_str(&err));
            smtpd_reply(s, "451 4.3.0 Error: queue file write error");
            buf_free(&err);
            smtpd_txn_reset(s);
            return 0;
        }
        s->qf = NULL;
        buf_free(&err);
    }
    /* Durable: now, and only now, the client may hear about it. */
    smtpd_reply(s, "250 2.0.0 Ok: queued as %s", id);
    smtpd_txn_reset(s);
    if (!discard && !hold)
        trigger_qmgr();
    return 1;
}

/* ---------------------------------------------------------------- DATA */

void smtpd_data_begin(struct smtpd_session *s)
{
    smtp_data_init(&s->data, (enum smtp_data_policy)s->bare_newline_policy, content_line, s);
    s->mode = SMTPD_MODE_DATA;
    s->msg_size = 0;
    smtpd_reply(s, "354 End data with <CR><LF>.<CR><LF>");
    /* The client waits for 354 before it sends the message. */
    if (smtpd_conn_flush(s->conn) < 0)
        msg_debug("%s: write error after DATA", s->namaddr);
}

size_t smtpd_data_input(struct smtpd_session *s, const char *data, size_t len)
{
    size_t used = 0;
    enum smtp_data_status rc = smtp_data_feed(&s->data, data, len, &used);

    switch (rc) {
    case SMTP_DATA_MORE:
    case SMTP_DATA_ABORTED:
        break;
    case SMTP_DATA_END:
        s->mode = SMTPD_MODE_CMD;
        s->where = "END-OF-MESSAGE";
        if (s->data.bare_count)
            msg_info("%s: bare newlines normalized: %lu from %s",
                     s->queue_id, s->data.bare_count, s->namaddr);
        smtpd_count(s, CNT_DATA, message_end(s, "END-OF-MESSAGE"));
        break;
    case SMTP_DATA_BARE_NEWLINE:
        msg_info("disconnect: bare <LF> received from %s after DATA", s->namaddr);
        smtpd_count(s, CNT_DATA, 0);
        smtpd_txn_reset(s);
        s->mode = SMTPD_MODE_CMD;
        smtpd_reply(s, "521 5.5.2 %s: Error: bare <LF> received", smtpd_par.myhostname);
        smtpd_session_close(s);
        break;
    }
    return used;
}

/* ---------------------------------------------------------------- BDAT */

void smtpd_bdat_begin(struct smtpd_session *s)
{
    uint64_t total;
    struct cleanup_status st;

    s->bdat_chunk = s->cmd.bdat_size;
    s->bdat_left = s->cmd.bdat_size;
    s->bdat_last = s->cmd.bdat_last;
    s->bdat_discard = 0;
    s->mode = SMTPD_MODE_BDAT;
    if (!s->have_mail || s->rcpt_count == 0) {
        /* Read and drop the chunk, then say why (RFC 3030 section 3). */
        s->bdat_discard = s->have_mail ? 2 : 1;
        return;
    }
    if (!s->bdat_active) {
        s->bdat_active = 1;
        s->msg_size = 0;
        buf_reset(&s->bdat_line);
        s->bdat_cr = 0;
    }
    total = s->msg_size + s->bdat_chunk;
    if (smtpd_par.message_size_limit > 0 && total > smtpd_par.message_size_limit
        && !s->txn_failed) {
        s->too_big = 1;
        set_status(&st, CLEANUP_REJECT, 552, "5.3.4", "Error: message file too big");
        content_fail(s, &st);
    }
}

/* Hand the pending line to clean-up. */
static void bdat_flush_line(struct smtpd_session *s, int line_end)
{
    content_line(s->bdat_line.data ? s->bdat_line.data : "", s->bdat_line.len, line_end, 0,
                 s);
    buf_reset(&s->bdat_line);
}

/* Chunk content: CRLF (or a bare LF) ends a line; other octets are data. */
static void bdat_content(struct smtpd_session *s, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = data[i];

        if (s->bdat_cr) {
            s->bdat_cr = 0;
            if (c == '\n') {
                bdat_flush_line(s, 1);
                continue;
            }
            if (buf_putc(&s->bdat_line, '\r') < 0) {
                bdat_flush_line(s, 0);
                buf_putc(&s->bdat_line, '\r');
            }
        }
        if (c == '\r') {
            s->bdat_cr = 1;
            continue;
        }
        if (c == '\n') {
            bdat_flush_line(s, 1);
            continue;
        }
        if (buf_putc(&s->bdat_line, c) < 0) {
            bdat_flush_line(s, 0);
            buf_putc(&s->bdat_line, c);
        }
    }
}

size_t smtpd_bdat_input(struct smtpd_session *s, const char *data, size_t len)
{
    size_t n = len < s->bdat_left ? len : (size_t)s->bdat_left;

    if (!s->bdat_discard && !s->txn_failed)
        bdat_content(s, data, n);
    else if (!s->bdat_discard)
        s->msg_size += n;
    s->bdat_left -= n;
    if (s->bdat_left > 0)
        return n;

    /* The whole chunk is in: answer it. */
    s->mode = SMTPD_MODE_CMD;
    s->where = "BDAT";
    if (s->bdat_discard) {
        smtpd_count(s, CNT_BDAT, 0);
        if (s->bdat_discard == 1)
            smtpd_reply(s, "503 5.5.1 Error: need RCPT command");
        else
            smtpd_reply(s, "554 5.5.1 Error: no valid recipients");
        return n;
    }
    if (!s->bdat_last) {
        if (s->txn_failed) {
            smtpd_count(s, CNT_BDAT, 0);
            smtpd_reply(s, "%d %s %s", s->txn_status.code, s->txn_status.enh,
                        s->txn_status.text);
        } else {
            smtpd_count(s, CNT_BDAT, 1);
            smtpd_reply(s, "250 2.0.0 Ok: %llu bytes", (unsigned long long)s->bdat_chunk);
        }
        return n;
    }
    if (!s->txn_failed) {
        if (s->bdat_cr)
            buf_putc(&s->bdat_line, '\r');
        s->bdat_cr = 0;
        if (s->bdat_line.len > 0)
            bdat_flush_line(s, 1);
    }
    smtpd_count(s, CNT_BDAT, message_end(s, "BDAT"));
    return n;
}
