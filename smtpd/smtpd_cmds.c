/*
 * smtpd_cmds - the SMTP commands: what each one checks, what state it
 * changes and what it answers. Syntax is lib/smtp_cmd's job, policy is
 * lib/smtpd_check's, the message itself is smtpd_data.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"
#include "smtpd.h"

unsigned smtpd_parse_flags(const struct smtpd_session *s)
{
    /* strict_rfc821_envelopes = no (Postfix's default): bare addresses are fine. */
    unsigned flags = SMTP_CMD_ALLOW_BARE;

    if (s->esmtp)
        flags |= SMTP_CMD_EXT_SIZE | SMTP_CMD_EXT_8BITMIME | SMTP_CMD_EXT_SMTPUTF8
                 | SMTP_CMD_EXT_DSN;
    if (s->smtputf8)
        flags |= SMTP_CMD_UTF8_TXN;
    return flags;
}

void smtpd_greeting(struct smtpd_session *s)
{
    smtpd_reply(s, "220 %s", smtpd_par.banner);
}

/* Send a check module's reply and log it. */
static void check_reject(struct smtpd_session *s, const char *stage,
                         const struct smtpd_check_reply *r, const char *rcpt)
{
    int code = r->code;
    const char *enh = r->enh[0] ? r->enh : (r->result == SMTPD_CHECK_DEFER ? "4.7.1" : "5.7.1");

    if (code < 400 || code > 599)
        code = r->result == SMTPD_CHECK_DEFER ? 450 : 554;
    smtpd_reply(s, "%d %s %s", code, enh, r->text[0] ? r->text : "Access denied");
    smtpd_log_reject(s, stage, code, enh, r->text[0] ? r->text : "Access denied", rcpt);
}

static int rejected(enum smtpd_check_result r)
{
    return r == SMTPD_CHECK_REJECT || r == SMTPD_CHECK_DEFER;
}

static void helo_cmd(struct smtpd_session *s, int esmtp)
{
    struct smtpd_check_reply r;

    smtpd_txn_reset(s);
    free(s->helo);
    s->helo = xstrdup(s->cmd.arg ? s->cmd.arg : "");
    s->check.helo = s->helo;
    s->esmtp = esmtp;
    if (!smtpd_par.delay_reject) {
        memset(&r, 0, sizeof(r));
        if (rejected(smtpd_check_helo(smtpd_par.check, &s->check, &r))) {
            check_reject(s, esmtp ? "EHLO" : "HELO", &r, NULL);
            return;
        }
    }
    if (!esmtp) {
        smtpd_reply(s, "250 %s", smtpd_par.myhostname);
        return;
    }
    smtpd_reply(s, "250-%s", smtpd_par.myhostname);
    smtpd_reply(s, "250-PIPELINING");
    if (smtpd_par.message_size_limit > 0)
        smtpd_reply(s, "250-SIZE %llu", (unsigned long long)smtpd_par.message_size_limit);
    else
        smtpd_reply(s, "250-SIZE");
    if (!smtpd_par.disable_vrfy)
        smtpd_reply(s, "250-VRFY");
    smtpd_reply(s, "250-ENHANCEDSTATUSCODES");
    smtpd_reply(s, "250-8BITMIME");
    smtpd_reply(s, "250-DSN");
    smtpd_reply(s, "250-SMTPUTF8");
    smtpd_reply(s, "250 CHUNKING");
}

static void mail_cmd(struct smtpd_session *s)
{
    struct buf ext = BUF_INIT;
    struct smtpd_check_reply r;

    if (s->have_mail) {
        smtpd_reply(s, "503 5.5.1 Error: nested MAIL command");
        return;
    }
    if ((s->cmd.params & SMTP_PARAM_SIZE) && smtpd_par.message_size_limit > 0
        && s->cmd.size > smtpd_par.message_size_limit) {
        smtpd_reply(s, "552 5.3.4 Message size exceeds fixed limit");
        return;
    }
    smtp_addr_format(&ext, &s->cmd.addr);
    free(s->sender);
    s->sender = buf_steal(&ext);
    buf_free(&ext);
    smtpd_check_new_transaction(&s->check);
    s->check.sender = s->sender;
    if (!smtpd_par.delay_reject) {
        memset(&r, 0, sizeof(r));
        if (rejected(smtpd_check_client(smtpd_par.check, &s->check, &r))
            || rejected(smtpd_check_sender(smtpd_par.check, &s->check, &r))) {
            check_reject(s, "MAIL", &r, NULL);
            free(s->sender);
            s->sender = NULL;
            s->check.sender = NULL;
            return;
        }
    }
    s->have_mail = 1;
    s->smtputf8 = s->cmd.smtputf8;
    s->body = s->cmd.body;
    s->ret = s->cmd.ret == SMTP_RET_FULL ? QF_RET_FULL
             : s->cmd.ret == SMTP_RET_HDRS ? QF_RET_HDRS : 0;
    snprintf(s->envid, sizeof(s->envid), "%s", s->cmd.envid);
    smtpd_reply(s, "250 2.1.0 Ok");
}

static unsigned notify_bits(unsigned n)
{
    unsigned q = 0;

    if (n & SMTP_NOTIFY_NEVER)
        q |= QF_NOTIFY_NEVER;
    if (n & SMTP_NOTIFY_SUCCESS)
        q |= QF_NOTIFY_SUCCESS;
    if (n & SMTP_NOTIFY_FAILURE)
        q |= QF_NOTIFY_FAILURE;
    if (n & SMTP_NOTIFY_DELAY)
        q |= QF_NOTIFY_DELAY;
    return q;
}

static void rcpt_cmd(struct smtpd_session *s)
{
    struct buf ext = BUF_INIT, internal = BUF_INIT, orcpt = BUF_INIT;
    struct smtpd_check_reply r;
    struct cleanup_status st;

    if (!s->have_mail) {
        smtpd_reply(s, "503 5.5.1 Error: need MAIL command");
        return;
    }
    if (s->rcpt_count >= smtpd_par.recipient_limit) {
        smtpd_reply(s, "452 4.5.3 Error: too many recipients");
        return;
    }
    smtp_addr_format(&ext, &s->cmd.addr);
    /* The path as sent: the checks see source routes and trailing dots too. */
    s->check.recipient = s->cmd.path;
    memset(&r, 0, sizeof(r));
    if (rejected(smtpd_check_rcpt(smtpd_par.check, &s->check, &r))) {
        check_reject(s, "RCPT", &r, buf_str(&ext));
        goto out;
    }
    if (s->qf == NULL && smtpd_txn_open(s) < 0)
        goto out;
    smtp_addr_internal(&internal, &s->cmd.addr);
    if (s->cmd.params & SMTP_PARAM_ORCPT)
        buf_printf(&orcpt, "%s;%s", s->cmd.orcpt_type, s->cmd.orcpt_addr);
    st = smtpd_txn_rcpt(s, buf_str(&internal),
                        (s->cmd.params & SMTP_PARAM_ORCPT) ? buf_str(&orcpt) : NULL,
                        notify_bits(s->cmd.notify));
    if (st.result != CLEANUP_OK) {
        smtpd_reply(s, "%d %s %s", st.code, st.enh, st.text);
        smtpd_log_reject(s, "RCPT", st.code, st.enh, st.text, buf_str(&ext));
        goto out;
    }
    s->rcpt_count++;
    smtpd_reply(s, "250 2.1.5 Ok");
out:
    s->check.recipient = NULL;
    buf_free(&ext);
    buf_free(&internal);
    buf_free(&orcpt);
}

static void data_cmd(struct smtpd_session *s)
{
    if (!s->have_mail) {
        smtpd_reply(s, "503 5.5.1 Error: need RCPT command");
        return;
    }
    if (s->rcpt_count == 0) {
        smtpd_reply(s, "554 5.5.1 Error: no valid recipients");
        return;
    }
    if (s->bdat_active) {
        smtpd_reply(s, "503 5.5.1 Error: DATA after BDAT");
        return;
    }
    smtpd_data_begin(s);
}

static enum smtpd_counter counter_of(enum smtp_verb v)
{
    switch (v) {
    case SMTP_VERB_HELO: return CNT_HELO;
    case SMTP_VERB_EHLO: return CNT_EHLO;
    case SMTP_VERB_MAIL: return CNT_MAIL;
    case SMTP_VERB_RCPT: return CNT_RCPT;
    case SMTP_VERB_DATA: return CNT_DATA;
    case SMTP_VERB_BDAT: return CNT_BDAT;
    case SMTP_VERB_RSET: return CNT_RSET;
    case SMTP_VERB_NOOP: return CNT_NOOP;
    case SMTP_VERB_QUIT: return CNT_QUIT;
    case SMTP_VERB_VRFY: return CNT_VRFY;
    case SMTP_VERB_HELP: return CNT_HELP;
    case SMTP_VERB_STARTTLS: return CNT_STARTTLS;
    case SMTP_VERB_AUTH: return CNT_AUTH;
    default: return CNT_UNKNOWN;
    }
}

/*
 * RFC 2920: these commands end a pipelined group, and nothing may be
 * pipelined before PIPELINING was announced. Postfix logs a client that
 * sends more anyway (bots do); the commands are still answered in order.
 */
static void check_pipelining(struct smtpd_session *s, int esmtp_before)
{
    size_t pending, n;
    const char *in;
    char next[101];

    if (s->bad_pipelining_logged || s->closing || s->mode != SMTPD_MODE_CMD)
        return;
    switch (s->cmd.verb) {
    case SMTP_VERB_HELO: case SMTP_VERB_EHLO: case SMTP_VERB_QUIT: case SMTP_VERB_NOOP:
    case SMTP_VERB_VRFY: case SMTP_VERB_STARTTLS: case SMTP_VERB_AUTH:
        break;
    default:
        if (esmtp_before)
            return;
    }
    in = smtpd_conn_in(s->conn, &pending);
    if (pending == 0)
        return;
    s->bad_pipelining_logged = 1;
    for (n = 0; n < pending && n < sizeof(next) - 1 && in[n] != '\r' && in[n] != '\n'; n++)
        next[n] = (in[n] >= 0x20 && in[n] < 0x7f) ? in[n] : '?';
    next[n] = 0;
    msg_info("improper command pipelining after %s from %s: %s", s->where, s->namaddr, next);
}

void smtpd_command(struct smtpd_session *s, const char *line, size_t len)
{
    int esmtp_before = s->esmtp;

    enum smtpd_counter cnt;

    if (s->error_count >= smtpd_par.hard_error_limit) {
        msg_info("too many errors after %s from %s", s->where, s->namaddr);
        smtpd_reply(s, "421 4.7.0 %s Error: too many errors", smtpd_par.myhostname);
        smtpd_session_close(s);
        return;
    }
    if (msg_verbose)
        msg_debug("< %s: %.*s", s->namaddr, (int)(len > 200 ? 200 : len), line);
    if (smtp_cmd_parse(&s->cmd, line, len, smtpd_parse_flags(s)) < 0) {
        cnt = counter_of(s->cmd.verb);
        s->where = s->cmd.verb > SMTP_VERB_UNKNOWN ? smtp_verb_name(s->cmd.verb) : "UNKNOWN";
        smtpd_count(s, cnt, 0);
        smtpd_reply(s, "%d %s %s", s->cmd.reply_code, s->cmd.reply_enh, s->cmd.reply_text);
        if (s->cmd.verb == SMTP_VERB_BDAT) {
            /* The chunk size is unknown: the session is out of sync. */
            smtpd_session_close(s);
        }
        return;
    }
    s->where = smtp_verb_name(s->cmd.verb);
    cnt = counter_of(s->cmd.verb);
    s->last_reply = 0;
    switch (s->cmd.verb) {
    case SMTP_VERB_HELO:
        helo_cmd(s, 0);
        break;
    case SMTP_VERB_EHLO:
        helo_cmd(s, 1);
        break;
    case SMTP_VERB_MAIL:
        mail_cmd(s);
        break;
    case SMTP_VERB_RCPT:
        rcpt_cmd(s);
        break;
    case SMTP_VERB_DATA:
        data_cmd(s);
        if (s->mode == SMTPD_MODE_DATA)
            return;             /* counted at the end of the message */
        break;
    case SMTP_VERB_BDAT:
        smtpd_bdat_begin(s);
        return;                 /* counted when the chunk is answered */
    case SMTP_VERB_RSET:
        smtpd_txn_reset(s);
        smtpd_reply(s, "250 2.0.0 Ok");
        break;
    case SMTP_VERB_NOOP:
        smtpd_reply(s, "250 2.0.0 Ok");
        break;
    case SMTP_VERB_QUIT:
        smtpd_count(s, cnt, 1);
        smtpd_reply(s, "221 2.0.0 Bye");
        smtpd_session_close(s);
        return;
    case SMTP_VERB_VRFY:
        if (smtpd_par.disable_vrfy)
            smtpd_reply(s, "502 5.5.1 VRFY command is disabled");
        else
            smtpd_reply(s, "252 2.0.0 %s", s->cmd.arg);
        break;
    case SMTP_VERB_HELP:
        smtpd_reply(s, "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP "
                       "QUIT VRFY HELP");
        break;
    case SMTP_VERB_STARTTLS:
        smtpd_reply(s, "502 5.5.1 Error: command not implemented");
        break;
    case SMTP_VERB_AUTH:
        smtpd_reply(s, "503 5.5.1 Error: authentication not enabled");
        break;
    default:
        smtpd_reply(s, "502 5.5.2 Error: command not recognized");
        break;
    }
    smtpd_count(s, cnt, s->last_reply == '2' || s->last_reply == '3');
    check_pipelining(s, esmtp_before);
}
