/*
 * smtpd - internal interfaces between the SMTP server's modules.
 *
 *   smtpd.c          the service: configuration, start-up, new connections
 *   smtpd_conn.c     the connection object: every byte in and out goes
 *                    through it (bounded buffers, timeouts; TLS hooks here)
 *   smtpd_session.c  one session: input loop, pipelining, error limits,
 *                    timeouts, start and end
 *   smtpd_cmds.c     the SMTP commands (EHLO ... QUIT)
 *   smtpd_data.c     the message: queue file, clean-up, DATA and BDAT
 *   smtpd_reply.c    replies, command counters and Postfix-shaped log lines
 *   smtpd_peer.c     the client: name, address, connections per client
 */
#ifndef POSTERN_SMTPD_H
#define POSTERN_SMTPD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cleanup.h"
#include "events.h"
#include "maincf.h"
#include "queue_file.h"
#include "smtp_cmd.h"
#include "smtp_data.h"
#include "smtpd_check.h"

struct event_base;
struct dict;

/* ------------------------------------------------------------ settings */

struct smtpd_params {
    const struct config *cfg;
    const char *myhostname;
    const char *banner;
    size_t line_length_limit;
    long recipient_limit;
    uint64_t message_size_limit;        /* 0: none */
    long timeout;                       /* seconds */
    long soft_error_limit;
    long hard_error_limit;
    long error_sleep;                   /* seconds */
    long conn_count_limit;              /* 0: none */
    int disable_vrfy;
    int delay_reject;
    enum smtp_data_policy bare_newline; /* SMTP_DATA_REJECT or NORMALIZE */
    struct cleanup *cleanup;
    struct smtpd_check *check;
    struct dict *bare_newline_exclusions;  /* NULL: use mynetworks, or none */
    int bare_newline_excl_mynetworks;
};

extern struct smtpd_params smtpd_par;

/* ---------------------------------------------------------- connection */

struct smtpd_conn;

struct smtpd_conn_cb {
    void (*readable)(void *arg);        /* new input in the buffer, or EOF/error */
    void (*drained)(void *arg);         /* every queued reply was written */
    void (*timeout)(void *arg, int writing);
    void *arg;
};

struct smtpd_conn *smtpd_conn_new(struct event_base *base, int fd, size_t in_cap,
                                  size_t out_limit, long timeout,
                                  const struct smtpd_conn_cb *cb);
void smtpd_conn_free(struct smtpd_conn *c);
/* Read what is available into the input buffer: >0 bytes, 0 EOF, -1 error, -2 try later. */
ssize_t smtpd_conn_fill(struct smtpd_conn *c);
/* The unread input. */
const char *smtpd_conn_in(const struct smtpd_conn *c, size_t *len);
void smtpd_conn_consume(struct smtpd_conn *c, size_t n);
size_t smtpd_conn_in_space(const struct smtpd_conn *c);
/* Queue output; -1 if the output buffer limit is reached. */
int smtpd_conn_put(struct smtpd_conn *c, const char *data, size_t len);
size_t smtpd_conn_out_pending(const struct smtpd_conn *c);
/* Write what is queued: 0 all written, 1 the rest waits for the socket, -1 error. */
int smtpd_conn_flush(struct smtpd_conn *c);
/* Watch (1) or ignore (0) the socket for input, with the read timeout. */
void smtpd_conn_want_read(struct smtpd_conn *c, int on);
int smtpd_conn_fd(const struct smtpd_conn *c);

/* ------------------------------------------------------------- session */

enum smtpd_mode {
    SMTPD_MODE_CMD,         /* reading command lines */
    SMTPD_MODE_SKIP,        /* discarding the rest of an over-long line */
    SMTPD_MODE_DATA,        /* reading DATA content */
    SMTPD_MODE_BDAT,        /* reading a BDAT chunk */
};

/* Command counters for the disconnect line, in Postfix's order. */
enum smtpd_counter {
    CNT_HELO, CNT_EHLO, CNT_STARTTLS, CNT_AUTH, CNT_MAIL, CNT_RCPT, CNT_DATA,
    CNT_BDAT, CNT_RSET, CNT_NOOP, CNT_VRFY, CNT_ETRN, CNT_QUIT, CNT_HELP,
    CNT_UNKNOWN, CNT_MAX
};

struct smtpd_session {
    struct evloop *loop;
    struct smtpd_conn *conn;
    struct ev_watch *delay_timer;
    enum smtpd_mode mode;
    int closing;                /* disconnect once the replies are written */
    int paused;                 /* soft-error delay in progress */
    int freed_guard;            /* inside the input loop */
    int dead;                   /* free once the input loop unwinds */
    long error_count;
    char last_reply;            /* first digit of the last reply line */
    int bare_newline_policy;    /* enum smtp_data_policy for this client */

    /* Client. */
    char addr[64];
    char name[256];
    char port[16];
    char namaddr[330];          /* "name[addr]" */

    /* Session state. */
    char *helo;
    int esmtp;                  /* EHLO given: extensions on */
    int bad_pipelining_logged;  /* "improper command pipelining" said once */
    const char *where;          /* last command, for "timeout after X" */
    unsigned cnt_total[CNT_MAX], cnt_ok[CNT_MAX];
    struct smtp_cmd cmd;
    struct smtpd_check_state check;

    /* Transaction. */
    int have_mail;
    char *sender;               /* external form, "" for <> */
    int smtputf8;
    enum smtp_body body;
    int ret;
    char envid[SMTP_ENVID_MAX + 1];
    long rcpt_count;            /* accepted */
    struct queue_file_writer *qf;
    struct cleanup_msg *cm;
    struct cleanup_envelope env;    /* cleanup keeps a pointer to it */
    char queue_id[QUEUE_ID_SIZE];
    struct cleanup_status txn_status;   /* first content error */
    int txn_failed;
    uint64_t msg_size;
    int too_big;
    struct smtp_data data;
    /* BDAT */
    int bdat_active;            /* a BDAT transaction is in progress */
    int bdat_last;
    uint64_t bdat_left;         /* octets of the current chunk still to read */
    uint64_t bdat_chunk;        /* size of the current chunk */
    int bdat_cr;                /* chunk ended on a CR whose LF may follow */
    struct buf bdat_line;       /* partial line across chunks */
    int bdat_discard;           /* read and drop the chunk */
};

void smtpd_session_start(int fd, struct evloop *loop);
/* Stop reading, write what is queued, then close. */
void smtpd_session_close(struct smtpd_session *s);
/* Pause input for seconds (soft error limit). */
void smtpd_session_delay(struct smtpd_session *s, long seconds);

/* ------------------------------------------------------------ commands */

/* Handle one command line (no line ending). */
void smtpd_command(struct smtpd_session *s, const char *line, size_t len);
void smtpd_greeting(struct smtpd_session *s);
unsigned smtpd_parse_flags(const struct smtpd_session *s);

/* ---------------------------------------------------------------- data */

/* Open the queue file and clean-up at the first accepted RCPT. 0 or -1 (reply sent). */
int smtpd_txn_open(struct smtpd_session *s);
/* Add an accepted recipient to the open transaction. */
struct cleanup_status smtpd_txn_rcpt(struct smtpd_session *s, const char *rcpt,
                                     const char *orcpt, unsigned notify);
/* Forget the transaction (RSET, HELO, QUIT, errors). */
void smtpd_txn_reset(struct smtpd_session *s);
void smtpd_data_begin(struct smtpd_session *s);
/* Feed DATA bytes; returns bytes consumed (the session may change mode or close). */
size_t smtpd_data_input(struct smtpd_session *s, const char *data, size_t len);
void smtpd_bdat_begin(struct smtpd_session *s);
size_t smtpd_bdat_input(struct smtpd_session *s, const char *data, size_t len);

/* --------------------------------------------------------------- reply */

void smtpd_reply(struct smtpd_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Count a command for the disconnect line; ok is 1 when it succeeded. */
void smtpd_count(struct smtpd_session *s, enum smtpd_counter which, int ok);
/* The disconnect log line. */
void smtpd_log_disconnect(struct smtpd_session *s);
/* "QUEUEID: reject: RCPT from name[addr]: CODE ENH TEXT; from=<> to=<> proto=ESMTP helo=<>" */
void smtpd_log_reject(struct smtpd_session *s, const char *stage, int code,
                      const char *enh, const char *text, const char *rcpt);

/* ---------------------------------------------------------------- peer */

/* Fill addr, name, port, namaddr from the socket. */
void smtpd_peer_init(struct smtpd_session *s, int fd);
/* Count a session from addr; 0 ok, or the number of sessions it already has
 * when that is at the limit (the new one is not counted). */
long smtpd_peer_enter(const char *addr);
void smtpd_peer_leave(const char *addr);
int smtpd_peer_in_mynetworks(const char *addr);
/* Does this client get bare newlines normalized (exclusions) or rejected? */
enum smtp_data_policy smtpd_peer_bare_newline_policy(const char *addr);

#endif
