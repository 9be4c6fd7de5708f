/*
 * qmgr - the queue manager's shared state and the interfaces between its
 * modules.
 *
 * THE QUEUE STATE MACHINE (only qmgr moves files between these):
 *
 *   incoming/ID --scan--> active/ID     (rename; at most
 *   deferred/ID --scan--> active/ID      qmgr_message_active_limit in active/)
 *   active/ID   --done--> removed        (no pending recipient; bounce and
 *                                         trace notices handed to bounce first)
 *   active/ID   --some deferred--> deferred/ID, mtime = next retry time
 *   active/ID   --start-up--> incoming/ID (crash recovery: a message that
 *                                         was active when qmgr stopped)
 *   hold/ is never touched.
 *
 * In memory a message in active/ holds at most a slice of its pending
 * recipients (all messages together at most qmgr_message_recipient_limit).
 * Each recipient is resolved to a transport and next hop and waits in that
 * destination's queue until a delivery request carries it to the agent on
 * private/TRANSPORT. Every recipient ends in exactly one result: sent or
 * bounced (marked done in the queue file; bounced ones logged to bounce/ID
 * first) or deferred (logged to defer/ID, left pending).
 *
 * Modules: qmgr.c (service, triggers, timers), qmgr_scan.c (directory
 * scans and moves into active/), qmgr_message.c (loading recipient
 * slices), qmgr_assign.c (recipients to destination queues, qmgr-internal
 * transports), qmgr_transport.c (transports, destinations, limits),
 * qmgr_schedule.c (which request goes next), qmgr_deliver.c (requests to
 * agents and their replies), qmgr_result.c (recording results),
 * qmgr_active.c (a message's end: expiry, bounce, trace, warning, removal
 * or deferral), qmgr_ipc.c (non-blocking one-request conversations).
 */
#ifndef POSTERN_QMGR_H
#define POSTERN_QMGR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

#include "buf.h"
#include "events.h"
#include "ipc_frame.h"
#include "maincf.h"
#include "queue_id.h"
#include "resolve.h"

#define QMGR_INCOMING   "incoming"
#define QMGR_ACTIVE     "active"
#define QMGR_DEFERRED   "deferred"
#define QMGR_CORRUPT    "corrupt"

/* Settings read once at start. */
struct qmgr_settings {
    long active_limit;          /* qmgr_message_active_limit */
    long rcpt_limit;            /* qmgr_message_recipient_limit */
    long queue_run_delay;
    long min_backoff, max_backoff;
    long max_lifetime, bounce_lifetime;
    long transport_retry_time;
    long daemon_timeout, ipc_timeout;
    long default_dest_concurrency, default_dest_rcpt_limit;
    long initial_concurrency, default_process_limit;
};

struct qmgr_message;
struct qmgr_queue;

/* One recipient in memory. */
struct qmgr_rcpt {
    struct qmgr_message *msg;
    char *address;
    char *orcpt;                /* "" if none */
    unsigned notify;
    uint64_t offset;            /* of its R record */
};

enum qmgr_finish_state {
    QMGR_FIN_NONE = 0,          /* still working */
    QMGR_FIN_BOUNCE,            /* next: hand bounce/ID to bounce */
    QMGR_FIN_TRACE,             /* next: trace/ID */
    QMGR_FIN_WARN,              /* next: delay warning */
    QMGR_FIN_FINAL,             /* next: remove or defer */
    QMGR_FIN_WAIT,              /* a bounce request is in flight */
};

/* One message in active/. */
struct qmgr_message {
    char id[QUEUE_ID_SIZE];
    char *sender;               /* "" for <> */
    struct timeval arrival, active;
    time_t warn_time;
    size_t nrcpt;               /* recipients in the file */
    size_t next_index;          /* first recipient not yet loaded */
    int more;                   /* recipients left to load */
    size_t unfinished;          /* loaded recipients without a result */
    int any_deferred;           /* a recipient was deferred in this pass */
    int trouble;                /* something could not be recorded: retry soon */
    uint64_t *unmarked;         /* final results not yet marked done */
    size_t nunmarked, capunmarked;
    enum qmgr_finish_state fin;
    int waiting;                /* on the list of messages waiting for a slice */
    int settle_pending;         /* settle_now() is on its way */
    struct qmgr_message *prev, *next;       /* all active messages */
    struct qmgr_message *wait_next;
};

/* Recipients of one message for one destination, in arrival order. */
struct qmgr_entry {
    struct qmgr_message *msg;
    struct qmgr_rcpt **rcpt;
    size_t n, cap;
    struct qmgr_entry *next;
};

struct qmgr_transport;

/* One destination (transport + next hop; + recipient when its limit is 1). */
struct qmgr_queue {
    struct qmgr_transport *transport;
    char *key;
    char *nexthop;
    struct qmgr_entry *head, *tail;
    int busy;                   /* requests in flight */
    int window;                 /* concurrency allowed now */
    time_t throttle_until;      /* dest_failed: defer new mail until then */
    char throttle_dsn[16];
    char *throttle_text;
    struct qmgr_queue *next;
};

struct qmgr_transport {
    char *name;
    int dest_limit;             /* TRANSPORT_destination_concurrency_limit */
    int rcpt_limit;             /* per request; TRANSPORT_destination_recipient_limit */
    int initial;                /* TRANSPORT_initial_destination_concurrency */
    int proc_limit;             /* master.cf maxproc or default_process_limit */
    int busy;
    time_t dead_until;          /* connect failed: defer until then */
    char *dead_text;
    struct qmgr_queue *queues;
    struct qmgr_transport *next;
};

/* The queue manager's state (qmgr.c). */
struct qmgr_state {
    const struct config *cfg;
    struct evloop *loop;
    struct qmgr_settings set;
    struct resolver *resolver;
    struct qmgr_message *messages;          /* active, in memory */
    long nmessages;
    long nrcpt;                             /* recipients in memory */
    struct qmgr_message *wait_head, *wait_tail;
    struct qmgr_transport *transports;
    int retiring;
};

extern struct qmgr_state qmgr;

/* qmgr_scan.c */
void qmgr_recover_active(void);
void qmgr_scan_request(int incoming, int deferred, int flush);
void qmgr_scan_run(void);

/* qmgr_message.c */
/* Take active/ID into memory and load its first recipients. NULL if unreadable. */
struct qmgr_message *qmgr_message_open(const char *id);
/* Load the next slice of recipients (from qf if not NULL; it is closed). */
struct queue_file;
void qmgr_message_load(struct qmgr_message *m, struct queue_file *qf);
void qmgr_message_settle(struct qmgr_message *m);
void qmgr_message_sync_marks(struct qmgr_message *m);
void qmgr_message_free(struct qmgr_message *m);
void qmgr_message_wake_waiting(void);

/* qmgr_assign.c */
void qmgr_assign(struct qmgr_rcpt *r);

/* qmgr_transport.c */
void qmgr_transport_init(const struct config *cfg);
struct qmgr_transport *qmgr_transport_find(const char *name);
struct qmgr_queue *qmgr_queue_find(struct qmgr_transport *t, const char *nexthop,
                                   const char *address);
void qmgr_queue_append(struct qmgr_queue *q, struct qmgr_rcpt *r);
void qmgr_transport_dead(struct qmgr_transport *t, const char *text);
void qmgr_queue_throttle(struct qmgr_queue *q, const char *dsn, const char *text);
void qmgr_transport_flush_dead(void);
void qmgr_queue_gc(struct qmgr_transport *t);

/* qmgr_schedule.c */
void qmgr_schedule(void);

/* qmgr_deliver.c */
void qmgr_deliver(struct qmgr_queue *q, struct qmgr_entry *e, size_t n);

/* qmgr_result.c: relay is the log's relay= field, NULL when the agent logged it. */
void qmgr_result_sent(struct qmgr_rcpt *r, const char *relay, const char *dsn,
                      const char *text, const char *action, const char *mta);
void qmgr_result_bounce(struct qmgr_rcpt *r, const char *relay, const char *dsn,
                        const char *text, const char *diag, const char *mta);
void qmgr_result_defer(struct qmgr_rcpt *r, const char *relay, const char *dsn,
                       const char *text, const char *diag, const char *mta);
int qmgr_dsn_split(const char *text, char cls, char dsn[16], const char **rest);

/* qmgr_active.c */
void qmgr_active_finish(struct qmgr_message *m);
/* Move an unreadable active/ID back to deferred/, retried after delay seconds. */
void qmgr_active_putback(const char *id, int delay);

/* qmgr_ipc.c: one request, one reply over a UNIX socket, never blocking. */
#define QMGR_IPC_OK         0
#define QMGR_IPC_NOCONNECT  1   /* no such service (why) */
#define QMGR_IPC_FAIL       2   /* connected, but no valid reply (why) */
typedef void (*qmgr_ipc_cb)(void *ctx, int status, const struct ipc_record *reply,
                            const char *why);
void qmgr_ipc_call(const char *path, const struct ipc_record *req, double timeout,
                   qmgr_ipc_cb cb, void *ctx);

#endif
