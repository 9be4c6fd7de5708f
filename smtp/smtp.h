/*
 * smtp - the outbound SMTP/LMTP client: what its files share.
 *
 * smtp.c          program entry, the per-request loop over addresses
 * smtp_connect.c  connecting with a time limit
 * smtp_proto.c    the conversation: greeting, EHLO/LHLO, MAIL, RCPT, DATA
 * smtp_io.c       line/flush I/O with time limits (TLS-ready)
 */
#ifndef POSTERN_SMTP_SMTP_H
#define POSTERN_SMTP_SMTP_H

#include <stddef.h>

#include "buf.h"
#include "deliver_agent.h"
#include "maincf.h"
#include "smtp_io.h"
#include "smtp_nexthop.h"
#include "smtp_reply.h"

/* Settings for one request, read from smtp_* or lmtp_* parameters. */
struct smtp_settings {
    int lmtp;                   /* speak LMTP */
    const char *helo_name;
    int connect_timeout;        /* 0: the system's (a long fixed limit) */
    int helo_timeout, mail_timeout, rcpt_timeout;
    int data_init_timeout, data_xfer_timeout, data_done_timeout, quit_timeout;
    long mx_address_limit;
    int skip_5xx_greeting;
    const char *myhostname;
    int want_ipv4, want_ipv6;
};

/*
 * Connect to family/addr:port (or a unix path when family is AF_UNIX)
 * within timeout seconds. Returns a non-blocking fd, or -1 with the
 * strerror text in why.
 */
int smtp_connect_addr(int family, const unsigned char *addr, unsigned port,
                      const char *path, int timeout, struct buf *why);

/* One server session: the connection and what is known about the peer. */
struct smtp_session {
    struct smtp_io io;
    const struct smtp_settings *set;
    struct delivery_request *req;
    char host[1026];            /* for texts: name */
    char namaddr[1100];         /* "host[ip]" */
    char relay[1200];           /* "host[ip]:port" */
    char mta[1100];             /* "dns; host" */
    /* ESMTP features */
    int esmtp, pipelining, dsn, eightbitmime, size_offered;
    unsigned long long size_limit;  /* 0: none announced */
    struct smtp_reply reply;
    struct buf line;
};

enum smtp_outcome {
    SMTP_DONE,                  /* every recipient has a result */
    SMTP_NEXT,                  /* this server did not take part: try the next */
};

/*
 * Talk to a connected server (fd is taken over and closed). On
 * SMTP_NEXT no recipient has a result yet; dsn (8 bytes) and why hold
 * the reason, for when no other server does better.
 */
enum smtp_outcome smtp_session_run(struct smtp_session *s, int fd, char *dsn,
                                   struct buf *why);

#endif
