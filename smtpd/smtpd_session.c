/*
 * smtpd_session - one SMTP session: the input loop, pipelining, error
 * limits, timeouts, and the start and end of a session.
 *
 * Pipelining as Postfix does it: every command already in the input
 * buffer is answered in order, replies are collected, and they are
 * written when the buffer holds no complete command any more (just
 * before the session would wait for input). Bytes that follow the end of
 * DATA or a BDAT chunk stay in the buffer and are read as the next
 * commands, never as message text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "mem.h"
#include "smtpd.h"

#define OUT_HIGH_WATER  (64 * 1024)     /* stop answering until the client reads */
#define OUT_LIMIT       (1024 * 1024)
#define IN_MIN_CAP      (32 * 1024)

static void session_process(struct smtpd_session *s);

static void session_free(struct smtpd_session *s)
{
    if (s->freed_guard) {
        s->dead = 1;
        return;
    }
    ev_cancel(s->delay_timer);
    /* A message cut off: its DATA or BDAT did not succeed. */
    if (s->mode == SMTPD_MODE_DATA)
        smtpd_count(s, CNT_DATA, 0);
    else if (s->mode == SMTPD_MODE_BDAT)
        smtpd_count(s, CNT_BDAT, 0);
    smtpd_txn_reset(s);
    smtpd_log_disconnect(s);
    smtpd_peer_leave(s->addr);
    smtpd_conn_free(s->conn);
    smtp_cmd_free(&s->cmd);
    smtpd_check_state_free(&s->check);
    buf_free(&s->bdat_line);
    free(s->helo);
    free(s);
    daemon_session_end();
}

/* "DATA (1234 bytes)" while a message is coming in, else the last command. */
static const char *where(struct smtpd_session *s, char *out, size_t len)
{
    if (s->mode == SMTPD_MODE_DATA || s->mode == SMTPD_MODE_BDAT) {
        snprintf(out, len, "%s (%llu bytes)", s->mode == SMTPD_MODE_DATA ? "DATA" : "BDAT",
                 (unsigned long long)s->msg_size);
        return out;
    }
    return s->where;
}

static void lost_connection(struct smtpd_session *s)
{
    char w[64];

    msg_info("lost connection after %s from %s", where(s, w, sizeof(w)), s->namaddr);
    session_free(s);
}

void smtpd_session_close(struct smtpd_session *s)
{
    int rc;

    s->closing = 1;
    smtpd_conn_want_read(s->conn, 0);
    rc = smtpd_conn_flush(s->conn);
    if (rc != 1)
        session_free(s);
    /* else: on_drained frees it */
}

static void on_delay_done(void *arg)
{
    struct smtpd_session *s = arg;

    s->delay_timer = NULL;
    s->paused = 0;
    session_process(s);
}

void smtpd_session_delay(struct smtpd_session *s, long seconds)
{
    if (seconds <= 0 || s->paused)
        return;
    s->paused = 1;
    smtpd_conn_want_read(s->conn, 0);
    s->delay_timer = ev_timer(s->loop, (double)seconds, on_delay_done, s);
}

/* Is the command line at in (ending at lf, or not ended yet) over line_length_limit? */
static int line_too_long(const char *in, size_t len, const char *lf)
{
    size_t n = lf ? (size_t)(lf - in) : len;

    /* The CR of CRLF does not count (nor a last CR whose LF is on its way). */
    if (n > 0 && in[n - 1] == '\r')
        n--;
    return n > smtpd_par.line_length_limit;
}

/*
 * Do one step of work on the input buffer. Returns 1 when something was
 * consumed (or the session changed state), 0 when more input is needed.
 */
static int session_step(struct smtpd_session *s)
{
    size_t len, used;
    const char *in = smtpd_conn_in(s->conn, &len);
    const char *lf;

    switch (s->mode) {
    case SMTPD_MODE_SKIP:
        if ((lf = memchr(in, '\n', len)) == NULL) {
            smtpd_conn_consume(s->conn, len);
            return 0;
        }
        smtpd_conn_consume(s->conn, (size_t)(lf - in) + 1);
        s->mode = SMTPD_MODE_CMD;
        return 1;

    case SMTPD_MODE_CMD:
        if (len == 0)
            return 0;
        lf = memchr(in, '\n', len);
        if (line_too_long(in, len, lf)) {
            /* Postfix: refuse the line, go on after its end. */
            if (s->error_count >= smtpd_par.hard_error_limit) {
                smtpd_command(s, "", 0);    /* says 421 and hangs up */
                return 1;
            }
            msg_info("%s: line too long (more than %zu bytes) from %s",
                     s->queue_id[0] ? s->queue_id : "NOQUEUE",
                     smtpd_par.line_length_limit, s->namaddr);
            smtpd_reply(s, "500 5.5.0 Error: line too long");    /* counts an error */
            smtpd_count(s, CNT_UNKNOWN, 0);
            if (lf) {
                smtpd_conn_consume(s->conn, (size_t)(lf - in) + 1);
            } else {
                smtpd_conn_consume(s->conn, len);
                s->mode = SMTPD_MODE_SKIP;
            }
            return 1;
        }
        if (lf == NULL)
            return 0;
        used = (size_t)(lf - in) + 1;
        {
            size_t llen = (size_t)(lf - in);
            int bare = !(llen > 0 && in[llen - 1] == '\r');
            char *line;

            if (!bare)
                llen--;
            if (bare && s->bare_newline_policy == SMTP_DATA_REJECT) {
                smtpd_conn_consume(s->conn, used);
                msg_info("disconnect: bare <LF> received from %s after %s",
                         s->namaddr, s->where);
                smtpd_reply(s, "521 5.5.2 %s: Error: bare <LF> received",
                            smtpd_par.myhostname);
                smtpd_session_close(s);
                return 1;
            }
            line = xmalloc(llen + 1);
            memcpy(line, in, llen);
            line[llen] = 0;
            smtpd_conn_consume(s->conn, used);
            smtpd_command(s, line, llen);
            free(line);
        }
        return 1;

    case SMTPD_MODE_DATA:
        if (len == 0)
            return 0;
        used = smtpd_data_input(s, in, len);
        if (!s->dead && !s->closing)
            smtpd_conn_consume(s->conn, used);
        return s->mode != SMTPD_MODE_DATA || s->closing || s->dead;

    case SMTPD_MODE_BDAT:
        if (len == 0 && s->bdat_left > 0)
            return 0;
        used = smtpd_bdat_input(s, in, len);
        if (!s->dead && !s->closing)
            smtpd_conn_consume(s->conn, used);
        return 1;
    }
    return 0;
}

static void session_process(struct smtpd_session *s)
{
    s->freed_guard = 1;
    while (!s->dead && !s->closing && !s->paused) {
        if (smtpd_conn_out_pending(s->conn) > OUT_HIGH_WATER) {
            int rc = smtpd_conn_flush(s->conn);

            if (rc < 0) {
                s->freed_guard = 0;
                lost_connection(s);
                return;
            }
            if (rc == 1) {
                /* The client does not read its replies: wait for it. */
                smtpd_conn_want_read(s->conn, 0);
                break;
            }
        }
        if (!session_step(s)) {
            /* Need more input: send the replies, then wait. */
            if (smtpd_conn_flush(s->conn) < 0) {
                s->freed_guard = 0;
                lost_connection(s);
                return;
            }
            smtpd_conn_want_read(s->conn, 1);
            break;
        }
    }
    s->freed_guard = 0;
    if (s->dead) {
        s->dead = 0;
        session_free(s);
    }
}

static void on_readable(void *arg)
{
    struct smtpd_session *s = arg;
    ssize_t n = smtpd_conn_fill(s->conn);

    if (n == -2) {
        if (smtpd_conn_in_space(s->conn) == 0) {
            /* Buffer full: the loop must make room; stop reading until it does. */
            smtpd_conn_want_read(s->conn, 0);
            session_process(s);
        }
        return;
    }
    if (n <= 0) {
        lost_connection(s);
        return;
    }
    session_process(s);
}

static void on_drained(void *arg)
{
    struct smtpd_session *s = arg;

    if (s->closing) {
        session_free(s);
        return;
    }
    session_process(s);
}

static void on_timeout(void *arg, int writing)
{
    struct smtpd_session *s = arg;
    char w[64];

    msg_info("timeout after %s from %s", where(s, w, sizeof(w)), s->namaddr);
    if (!writing) {
        smtpd_reply(s, "421 4.4.2 %s Error: timeout exceeded", smtpd_par.myhostname);
        /* One try: a client that does not read gets no second chance. */
        smtpd_conn_flush(s->conn);
    }
    session_free(s);
}

void smtpd_session_start(int fd, struct evloop *loop)
{
    struct smtpd_session *s = xcalloc(1, sizeof(*s));
    struct smtpd_conn_cb cb = {on_readable, on_drained, on_timeout, s};
    size_t in_cap = smtpd_par.line_length_limit * 2 + 2;
    long in_use;

    if (in_cap < IN_MIN_CAP)
        in_cap = IN_MIN_CAP;
    s->loop = loop;
    s->where = "CONNECT";
    smtp_cmd_init(&s->cmd);
    buf_init(&s->bdat_line, SMTP_DATA_CHUNK);
    s->conn = smtpd_conn_new(evloop_base(loop), fd, in_cap, OUT_LIMIT, smtpd_par.timeout,
                             &cb);
    daemon_session_begin();
    smtpd_peer_init(s, fd);
    s->check.client_addr = s->addr;
    s->check.client_name = s->name;
    s->bare_newline_policy = smtpd_peer_bare_newline_policy(s->addr);
    msg_info("connect from %s", s->namaddr);
    if ((in_use = smtpd_peer_enter(s->addr)) > 0) {
        msg_warn("Connection concurrency limit exceeded: %ld from %s for service %s",
                 in_use + 1, s->namaddr, daemon_service_name());
        smtpd_reply(s, "421 4.7.0 %s Error: too many connections from %s",
                    smtpd_par.myhostname, s->addr);
        s->addr[0] = 0;         /* not counted: do not uncount */
        smtpd_session_close(s);
        return;
    }
    smtpd_greeting(s);
    if (s->closing)
        return;
    session_process(s);
}
