/*
 * deliver_agent - the skeleton every delivery agent (local, virtual,
 * smtp/lmtp) runs in: the agent side of deliver_proto.h.
 *
 * deliver_agent_main() runs the daemon skeleton (daemon.h) with one
 * request per connection and one connection at a time per process (the
 * process reports itself busy to master while it delivers, so master
 * starts more processes up to maxproc). For each connection it:
 *
 *   1. reads the request frame (ipc_timeout), checks it, opens
 *      QUEUE_NAME/ID read-only and fills a struct delivery_request with
 *      the envelope and the requested recipients (address, ORCPT,
 *      NOTIFY, offset), in request order;
 *   2. calls the agent's deliver(); the agent gives every recipient a
 *      result with deliver_sent(), deliver_defer() or deliver_bounce(),
 *      each of which also writes the Postfix-shaped log line at once:
 *
 *   ID: to=<bob@example.test>, orig_to=<bob>, relay=local, delay=0.21,
 *       delays=0.1/0.01/0/0.1, dsn=2.0.0, status=sent (delivered to maildir)
 *
 *      (orig_to only when the ORCPT differs from the address; delay is
 *      now - arrival; delays are a = arrival..active, b = active..agent
 *      start, c = agent start..deliver_conn_done() (0 if never called),
 *      d = the rest; numbers printed as Postfix prints them);
 *   3. sends the reply frame: a recipient left without a result is
 *      deferred with "4.3.0 delivery agent gave no result" (and logged),
 *      so nothing is ever silently dropped; then closes the connection.
 *
 * Request-level failures (malformed frame, missing or corrupt queue file)
 * are answered with status=fail and logged as warnings; a corrupt queue
 * file is NOT quarantined by the agent (only qmgr moves queue files).
 */
#ifndef POSTERN_DELIVER_AGENT_H
#define POSTERN_DELIVER_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "maincf.h"
#include "queue_file.h"

enum deliver_result {
    DELIVER_NONE = 0,           /* no result yet */
    DELIVER_SENT,
    DELIVER_DEFERRED,
    DELIVER_BOUNCED,
};

struct delivery_rcpt {
    char *address;              /* from the queue file */
    char *orcpt;                /* "" if none */
    unsigned notify;            /* QF_NOTIFY_* */
    uint64_t offset;            /* of its R record */
    /* Filled by deliver_sent/defer/bounce: */
    enum deliver_result result;
    char dsn[16];               /* "2.0.0" */
    char *text;                 /* reason */
    char *diag;                 /* NULL or "smtp; 550 ..." */
    char *mta;                  /* NULL or "dns; mx.example.org" */
    const char *action;         /* NULL, "relayed" or "expanded" (sent only) */
};

struct delivery_request {
    const char *transport;      /* master.cf service name: "local", "relay" */
    const char *queue_id;
    const char *queue_name;     /* "active" */
    const char *path;           /* "active/ID", relative to queue_directory */
    const char *nexthop;
    const char *sender;         /* "" for <> */
    struct queue_file *qf;      /* open read-only; content for the agent */
    const struct qf_envelope *env;
    struct delivery_rcpt *rcpt;
    size_t nrcpt;
    struct timeval arrival, active, dispatch, agent_start, conn_done;
    int dest_failed;            /* set by the agent: see deliver_proto.h */
};

struct deliver_agent {
    const char *program;        /* "local": log name */
    /* As in daemon.h (optional). */
    void (*pre_jail)(const struct config *cfg);
    void (*post_jail)(const struct config *cfg);
    /*
     * Deliver to every recipient of req, giving each one a result. May
     * block (it has the whole process); must bound every wait itself.
     */
    void (*deliver)(struct delivery_request *req, const struct config *cfg);
};

/* Run the agent; never returns. */
_Noreturn void deliver_agent_main(int argc, char **argv, const struct deliver_agent *agent);

/*
 * Results. relay is the log's relay= field ("local", "virtual",
 * "mx.example.org[192.0.2.1]:25", "none"); dsn is an RFC 3463 code whose
 * class must fit (2 for sent, 4 for deferred, 5 for bounced; a mismatch
 * is a bug and panics); fmt is the reason text. A second result for the
 * same recipient is a bug (panic). Each logs one line at once.
 */
void deliver_sent(struct delivery_request *req, size_t i, const char *relay,
                  const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void deliver_defer(struct delivery_request *req, size_t i, const char *relay,
                   const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void deliver_bounce(struct delivery_request *req, size_t i, const char *relay,
                    const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Optional RFC 3464 details; call before the result (copied). */
void deliver_set_diag(struct delivery_request *req, size_t i,
                      const char *mta, const char *diag);
/* Mark a sent recipient "relayed" or "expanded" (call after deliver_sent). */
void deliver_set_action(struct delivery_request *req, size_t i, const char *action);

/* Connection set-up is over (delays c/d split). */
void deliver_conn_done(struct delivery_request *req);

/* Defer every recipient still without a result (e.g. after a lost peer). */
void deliver_defer_rest(struct delivery_request *req, const char *relay,
                        const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * For tests and tools: handle one request on an already connected fd,
 * exactly as the skeleton does (steps 1-3), with the current directory as
 * queue_directory. Returns 0 when a reply was sent. fd is left open
 * (the caller closes it).
 */
int deliver_agent_serve_fd(int fd, const struct config *cfg,
                           const struct deliver_agent *agent);

#endif
